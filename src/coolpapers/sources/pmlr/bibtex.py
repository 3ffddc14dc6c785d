"""BibTeX for a PMLR paper, in PMLR's own export style (a paper page's "Cite this Paper").

PMLR writes `@InProceedings{pmlr-v336-aamand26a,` then `title`, `author`, `booktitle`,
`pages`, `year`, `editor`, `volume`, `series`, `month` (the conference's days: "29 Jun--03
Jul"), `publisher`, `pdf`, `url`, `abstract`, each on its own line as `  name = \\t {value}`
(`author` and `publisher` aligned with spaces instead), and `}` alone. Title, authors and
editors are as the volume wrote them in TeX (`{DDPM} Score Matching`, `B{\\l}asiok,
Jaros{\\l}aw`): the reader keeps those in `extra` where the stored fields would not give them
back; otherwise they are rebuilt from the stored title and "Given Family" names.
"""

from __future__ import annotations

import re

from coolpapers.records import Paper
from coolpapers.sources.pmlr import ids

SERIES = "Proceedings of Machine Learning Research"
PUBLISHER = "PMLR"
_PARTICLE = re.compile(r"^[a-z]")  # van, de, von: part of the family name, as BibTeX reads it


def bibtex(paper: Paper) -> str:
    local = ids.local_of(paper.id)
    paper_id, vol = ids.split(local)
    extra = paper.extra
    year = _text(extra.get("year")) or (
        str(paper.published.year) if paper.published else str(ids.year(local) or "")
    )
    editors = extra.get("editors")
    editor = _text(extra.get("bibtex_editor")) or (
        names([str(e) for e in editors]) if isinstance(editors, list) else ""
    )
    fields: list[tuple[str, str]] = [
        ("title", _text(extra.get("tex_title")) or paper.title),
        ("author", _text(extra.get("bibtex_author")) or names(paper.authors)),
        ("booktitle", paper.journal_ref or ""),
        ("pages", _text(extra.get("pages"))),
        ("year", year),
        ("editor", editor),
        ("volume", vol[1:] if vol.startswith("v") else vol.upper()),
        ("series", SERIES),
        ("month", _text(extra.get("month"))),
        ("publisher", PUBLISHER),
        ("pdf", _text(extra.get("pdf")) or ids.pdf_url(local)),
        ("url", ids.page_url(local)),
        ("abstract", paper.abstract),
    ]
    lines = [f"{_LABEL.get(k) or _label(k)}{{{v}}}" for k, v in fields if v]
    key = _text(extra.get("bibkey")) or f"pmlr-{vol}-{paper_id}"
    return f"@InProceedings{{{key},\n" + ",\n".join(lines) + "\n}"


_LABEL = {"author": "  author =       ", "publisher": "  publisher =    "}


def _label(name: str) -> str:
    return f"  {name} = \t "


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def split_name(name: str) -> tuple[str, str]:
    """("Given", "Family") of a "Given Family" name: the last word and the lowercase
    particles before it (van, de, von) are the family name, as BibTeX splits such a name."""
    words = name.split()
    if len(words) <= 1:
        return "", name.strip()
    i = len(words) - 1
    while i > 1 and _PARTICLE.match(words[i - 1]):
        i -= 1
    return " ".join(words[:i]), " ".join(words[i:])


def names(people: list[str]) -> str:
    """ "Family, Given and ..." of "Given Family" names, as a BibTeX author field."""
    out = []
    for name in people:
        given, family = split_name(name)
        out.append(f"{family}, {given}" if given else family)
    return " and ".join(out)
