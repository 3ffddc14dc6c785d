"""Which venue papers are also on arXiv: the two versions of one work, linked both ways
(store/venues.py `paper_links`), so the venue card links its arXiv version and the arXiv
card shows "ACL.2024 - Long".

Three kinds of evidence, strongest first (each pair keeps the strongest that found it):
- `source`: the venue's own record names the arXiv id (paperlists' `arxiv`, in `extra`);
- `doi`: both carry the same DOI (arXiv's metadata has the published version's DOI);
- `title`: the same normalised title (letters and digits, accents folded, case ignored)
  and the same family name of the first author. Titles alone would link the dozens of
  "Attention is not enough"-style titles two works share; the first author's family name
  tells nearly all of those apart, and a title of fewer than four words is never matched
  on its own.
Only pairs whose two papers are both stored are linked: a link leads to a page here.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field

from coolpapers.sources.arxiv import ids as arxiv_ids
from coolpapers.sources.base import BadId
from coolpapers.store import Store
from coolpapers.store.venues import link

log = logging.getLogger("coolpapers.sources")

_NOT_WORD = re.compile(r"[^a-z0-9]+")
_MATH = re.compile(r"\$[^$]*\$")
MIN_TITLE_WORDS = 4
STRENGTH = {"source": 3, "doi": 2, "title": 1}


def norm_title(title: str) -> str:
    """ "Attention Is All You Need!" -> "attention is all you need"; math dropped (one file
    writes $\\ell_1$, another ℓ1), accents folded."""
    text = unicodedata.normalize("NFKD", _MATH.sub(" ", title))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return " ".join(_NOT_WORD.split(text)).strip()


def family(author: str) -> str:
    """The family name of a "Given Family" name, folded: its last word ("Marneffe" of
    "Marie-Catherine de Marneffe"), "" for none."""
    words = norm_title(author).split()
    return words[-1] if words else ""


@dataclass
class LinkReport:
    venue_papers: int = 0
    pairs: dict[str, int] = field(default_factory=dict)  # how -> pairs found

    @property
    def linked(self) -> int:
        return sum(self.pairs.values())


def find(store: Store) -> Iterator[tuple[str, str, str]]:
    """(venue key, arXiv key, how) for every pair found in the store, strongest evidence
    first for each venue paper. Reads every venue paper, then streams arXiv's papers once."""
    venue: dict[str, tuple[str, str, str | None, str | None]] = {}  # key -> title, fam, doi, ax
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT id, title, authors, doi, extra FROM papers WHERE source <> 'arxiv'"
        )
        for key, title, authors, doi, extra in rows:
            first = _first_author(authors)
            venue[key] = (norm_title(title), family(first), _doi(doi), _arxiv(extra))
    if not venue:
        return
    by_title: dict[str, list[str]] = {}
    by_doi: dict[str, list[str]] = {}
    by_arxiv: dict[str, list[str]] = {}
    for key, (t, _, doi, ax) in venue.items():
        if len(t.split()) >= MIN_TITLE_WORDS:
            by_title.setdefault(t, []).append(key)
        if doi:
            by_doi.setdefault(doi, []).append(key)
        if ax:
            by_arxiv.setdefault(ax, []).append(key)
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT id, title, authors, doi FROM papers WHERE source = 'arxiv'"
        )
        for key, title, authors, doi in rows:
            for v in by_arxiv.get(key, ()):
                yield v, key, "source"
            d = _doi(doi)
            for v in by_doi.get(d, ()) if d else ():
                yield v, key, "doi"
            t = norm_title(title)
            matches = by_title.get(t)
            if matches:
                fam = family(_first_author(authors))
                for v in matches:
                    if fam and venue[v][1] == fam:
                        yield v, key, "title"


def link_versions(store: Store) -> LinkReport:
    """Find every pair (see `find`) and store it; idempotent. Returns what was found."""
    best: dict[tuple[str, str], str] = {}
    for v, a, how in find(store):
        old = best.get((v, a))
        if old is None or STRENGTH[how] > STRENGTH[old]:
            best[(v, a)] = how
    link(store, [(v, a, how) for (v, a), how in best.items()])
    report = LinkReport()
    with store.engine.connect() as conn:
        report.venue_papers = int(
            conn.exec_driver_sql("SELECT count(*) FROM papers WHERE source <> 'arxiv'").scalar()
            or 0
        )
    for how in best.values():
        report.pairs[how] = report.pairs.get(how, 0) + 1
    return report


def _first_author(authors_json: str) -> str:
    # the stored JSON array's first name, without decoding thousands of names: '["A B", ...'
    if not authors_json.startswith('["'):
        return ""
    end = authors_json.find('"', 2)
    while end > 0 and authors_json[end - 1] == "\\":
        end = authors_json.find('"', end + 1)
    return authors_json[2:end] if end > 0 else ""


def _doi(doi: str | None) -> str | None:
    if not doi:
        return None
    d = doi.strip().lower().removeprefix("https://doi.org/").removeprefix("doi:")
    return d.split()[0] if d else None


def _arxiv(extra: str | None) -> str | None:
    """The arXiv key a venue record names in its extra (JSON text), if any."""
    if not extra or '"arxiv"' not in extra:
        return None
    value = json.loads(extra).get("arxiv")
    if not isinstance(value, str) or not value:
        return None
    try:
        return arxiv_ids.parse(value).id
    except BadId:
        return None
