"""BibTeX for an OpenReview paper: the note's own `_bibtex` when the harvest stored it
(extra["bibtex"]), else an entry written the way OpenReview writes its own.

OpenReview's style, as its exports in ../shared/data/venues/paperlists show (colm2025,
corl2025, iclr2018: 1,621 entries):

    @inproceedings{
    song2025bearcubs,
    title={{BEARCUBS}: A benchmark for computer-using web agents},
    author={Yixiao Song and Katherine Thai and Chau Minh Pham},
    booktitle={Second Conference on Language Modeling},
    year={2025},
    url={https://openreview.net/forum?id=0JzWiigkUy}
    }

- the key: the first author's last word, ASCII-folded and lowercased (letters and hyphens:
  `gx-chen`, `surina` for Šurina), the year, the first title word's letters
  (`impactdriven`, `bigchartsr`); 1,610 of those 1,621 keys come out equal (the rest:
  names whose last word is not the family name, `C.` of "Zachary C. Lipton");
- the title with every run of two or more capitals braced (`{LLM}s`, `La{VA}-Man`), and
  LaTeX's specials and typographic quotes and dashes written as OpenReview writes them;
- names as the note gives them ("First Last"), joined by " and ";
- booktitle: the venue's full name where known (see `BOOKTITLES`), else the venue as the
  note names it without its decision ("ICLR 2025"); OpenReview's own names carry an ordinal
  that changes every year ("Second Conference on Language Modeling"): only the stored
  `_bibtex` has it exactly.
"""

from __future__ import annotations

import re
import unicodedata

from coolpapers.records import Paper
from coolpapers.sources.openreview import ids
from coolpapers.sources.openreview.editions import collection_of, edition_of, venue_name

# Full names of the venues OpenReview's own entries name, without the yearly ordinal.
BOOKTITLES = {
    "ICLR": "International Conference on Learning Representations",
    "NeurIPS": "Annual Conference on Neural Information Processing Systems",
    "ICML": "International Conference on Machine Learning",
    "COLM": "Conference on Language Modeling",
    "CoRL": "Conference on Robot Learning",
    "UAI": "Conference on Uncertainty in Artificial Intelligence",
    "MIDL": "Medical Imaging with Deep Learning",
    "AISTATS": "International Conference on Artificial Intelligence and Statistics",
}
# Journals on OpenReview: @article{..., journal=...}.
JOURNALS = {"TMLR": "Transactions on Machine Learning Research"}

_CAPITALS = re.compile(r"[A-Z]{2,}")
_LATEX = {
    "&": r"\&", "%": r"\%", "#": r"\#", "$": r"\$", "_": r"\_",
    "‘": r"{\textquoteleft}", "’": r"{\textquoteright}",
    "“": r"{\textquotedblleft}", "”": r"{\textquotedblright}",
    "–": r"{\textendash}", "—": r"{\textemdash}", "~": r"{\textasciitilde}",
}  # fmt: skip
_ASCII = str.maketrans({"ß": "ss", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "æ": "ae",
                        "Æ": "AE", "œ": "oe", "Œ": "OE", "đ": "d", "Đ": "D", "ı": "i"})  # fmt: skip


def bibtex(paper: Paper) -> str:
    own = paper.extra.get("bibtex")
    if isinstance(own, str) and own.strip():
        return own.strip()
    forum = ids.local_of(paper.id)
    year = _year(paper)
    collection = _collection(paper)
    journal = JOURNALS.get(collection)
    fields = [("title", _title(paper.title))]
    fields.append(("author", " and ".join(paper.authors) if paper.authors else "Anonymous"))
    if journal:
        fields.append(("journal", journal))
    else:
        fields.append(("booktitle", BOOKTITLES.get(collection) or _venue_name(paper)))
    if year:
        fields.append(("year", year))
    fields.append(("url", f"{ids.SITE}/forum?id={forum}"))
    kind = "article" if journal else "inproceedings"
    body = ",\n".join(f"{k}={{{v}}}" for k, v in fields)
    return f"@{kind}{{\n{key(paper.authors, year, paper.title)},\n{body}\n}}"


def key(authors: list[str], year: str, title: str) -> str:
    """OpenReview's key: the first author's last word, the year, the first title word."""
    words = authors[0].split() if authors else []
    last = re.sub(r"[^a-z-]", "", _fold(words[-1]).lower()) if words else "anonymous"
    first = title.split()[0] if title.split() else ""
    return f"{last or 'anonymous'}{year}{re.sub(r'[^a-z]', '', _fold(first).lower())}"


def _fold(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.translate(_ASCII))
    return folded.encode("ascii", "ignore").decode()


def _title(title: str) -> str:
    out = "".join(_LATEX.get(c, c) for c in " ".join(title.split()))
    return _CAPITALS.sub(lambda m: f"{{{m.group()}}}", out)


def _year(paper: Paper) -> str:
    venueid = paper.extra.get("venueid")
    year = edition_of(venueid) if isinstance(venueid, str) else ""
    return year or (str(paper.published.year) if paper.published else "")


def _collection(paper: Paper) -> str:
    venueid = paper.extra.get("venueid")
    return collection_of(venueid) if isinstance(venueid, str) and venueid else ""


def _venue_name(paper: Paper) -> str:
    venue = paper.extra.get("venue") or paper.journal_ref
    return venue_name(venue) if isinstance(venue, str) and venue.strip() else ids.SUFFIX
