"""Which venue papers are also on arXiv: the two versions of one work, linked both ways
(store/venues.py `paper_links`), so the venue card links its arXiv version and the arXiv
card shows "ACL.2024 - Long".

Four kinds of evidence, strongest first (each pair keeps the strongest that found it):
- `source`: the venue's own record names the arXiv id (paperlists' `arxiv`, in `extra`);
- `doi`: both carry the same DOI (arXiv's metadata has the published version's DOI);
- `title`: the same normalised title (letters and digits, accents folded, case ignored)
  and the same family name of the first author. Titles alone would link the dozens of
  "Attention is not enough"-style titles two works share; the first author's family name
  tells nearly all of those apart, and a title of fewer than four words is never matched
  on its own.
- `similar`: a title edited between versions (a word or two changed, a subtitle added:
  word-set Jaccard >= 0.7) by the same people (at least half of the shorter author list's
  family names, and two of them when both lists have two or more), and when both titles
  start with a name ("EasyEdit: ...", "EasyEdit2: ..."), the same name: a lab's sequel
  shares its words and its people. What the exact rule missed on the shared data (19 of
  277 pairs; bench/venue.py).
Only pairs whose two papers are both stored are linked: a link leads to a page here.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from coolpapers.sources.arxiv import ids as arxiv_ids
from coolpapers.sources.base import BadId
from coolpapers.store import Store
from coolpapers.store.venues import link

log = logging.getLogger("coolpapers.sources")

_NOT_WORD = re.compile(r"[^a-z0-9]+")
_MATH = re.compile(r"\$[^$]*\$")
MIN_TITLE_WORDS = 4
STRENGTH = {"source": 4, "doi": 3, "title": 2, "similar": 1}
SIMILAR = 0.7  # word-set Jaccard of two titles for `similar`
RARE = 50  # a title word in at most this many venue titles finds candidates


def norm_title(title: str) -> str:
    """ "Attention Is All You Need!" -> "attention is all you need"; math dropped (one file
    writes $\\ell_1$, another ℓ1), accents folded."""
    text = unicodedata.normalize("NFKD", _MATH.sub(" ", title))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return " ".join(_NOT_WORD.split(text)).strip()


def head(title: str) -> str:
    """The name a title starts with, normalised ("easyedit2" of "EasyEdit2: An Easy-to-use
    ..."): the words before its first colon, when there are at most four; "" for none."""
    before, colon, _ = title.partition(":")
    if not colon:
        return ""
    name = norm_title(before)
    return name if 0 < len(name.split()) <= 4 else ""


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


def find(store: Store, arxiv_since: datetime | None = None) -> Iterator[tuple[str, str, str]]:
    """(venue key, arXiv key, how) for every pair found in the store, strongest evidence
    first for each venue paper. Reads every venue paper, then streams arXiv's papers once."""
    venue: dict[str, tuple[str, str, str | None, str | None]] = {}  # key -> title, fam, doi, ax
    people: dict[str, set[str]] = {}  # key -> every author's family name
    heads: dict[str, str] = {}  # key -> the name its title starts with, if any
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT id, title, authors, doi, extra FROM papers WHERE source <> 'arxiv'"
        )
        for key, title, authors, doi, extra in rows:
            first = _first_author(authors)
            venue[key] = (norm_title(title), family(first), _doi(doi), _arxiv(extra))
            people[key] = _families(authors)
            heads[key] = head(title)
    if not venue:
        return
    similar = _WordIndex({k: v[0] for k, v in venue.items()})
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
    sql = "SELECT id, title, authors, doi FROM papers WHERE source = 'arxiv'"
    params: tuple[object, ...] = ()
    if arxiv_since is not None:  # only arXiv papers stored since (a daily import's)
        sql += " AND ingested >= ?"
        params = (arxiv_since,)
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(store._sql(sql), params)
        for key, title, authors, doi in rows:
            for v in by_arxiv.get(key, ()):
                yield v, key, "source"
            d = _doi(doi)
            for v in by_doi.get(d, ()) if d else ():
                yield v, key, "doi"
            t = norm_title(title)
            matches = by_title.get(t)
            fam = family(_first_author(authors)) if matches else ""
            for v in matches or ():
                if fam and venue[v][1] == fam:
                    yield v, key, "title"
            near = similar.near(t)
            if near:
                theirs, name = _families(authors), head(title)
                for v in near:
                    if _other_name(name, heads[v]):
                        continue  # two systems of one lab: EasyEdit and EasyEdit2
                    if _same_people(people[v], theirs):
                        yield v, key, "similar"


def link_versions(store: Store, arxiv_since: datetime | None = None) -> LinkReport:
    """Find every pair (see `find`) and store it; idempotent. Returns what was found.
    `arxiv_since`: compare only the arXiv papers stored since then (an import that brought
    no venue papers need not read every arXiv paper again)."""
    best: dict[tuple[str, str], str] = {}
    for v, a, how in find(store, arxiv_since):
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


class _WordIndex:
    """Venue titles by their rarer words, to find the titles near an arXiv title quickly:
    only titles sharing two rare words with it are compared (word-set Jaccard)."""

    def __init__(self, titles: dict[str, str]) -> None:
        self.words = {k: frozenset(t.split()) for k, t in titles.items()}
        df: dict[str, int] = {}
        for ws in self.words.values():
            for w in ws:
                df[w] = df.get(w, 0) + 1
        self.index: dict[str, list[str]] = {}
        for k, ws in self.words.items():
            if len(ws) < MIN_TITLE_WORDS:
                continue
            for w in ws:
                if len(w) > 2 and df[w] <= RARE:
                    self.index.setdefault(w, []).append(k)

    def near(self, title: str) -> list[str]:
        ws = set(title.split())
        if len(ws) < MIN_TITLE_WORDS:
            return []
        hits: dict[str, int] = {}
        for w in ws:
            for k in self.index.get(w, ()):
                hits[k] = hits.get(k, 0) + 1
        out = []
        for k, n in hits.items():
            if n < 2:
                continue
            theirs = self.words[k]
            if len(ws & theirs) / len(ws | theirs) >= SIMILAR:
                out.append(k)
        return out


def _other_name(a: str, b: str) -> bool:
    """Whether two title heads name different things: not when either is missing, equal
    but for a plural ("EvalAgent", "EvalAgents"), or one's words within the other's (math
    dropped from one: "SAEs $\\textit{Can}$ Improve" -> "saes improve")."""
    if not a or not b or a.rstrip("s") == b.rstrip("s"):
        return False
    wa, wb = set(a.split()), set(b.split())
    return not (wa <= wb or wb <= wa)


def _families(authors_json: str) -> set[str]:
    try:
        names = json.loads(authors_json)
    except ValueError:
        return set()
    return {f for n in names if isinstance(n, str) and (f := family(n))}


def _same_people(a: set[str], b: set[str]) -> bool:
    """At least half of the shorter list's family names in the other, and two of them when
    both lists have two or more."""
    if not a or not b:
        return False
    shared = len(a & b)
    need = max(1, -(-min(len(a), len(b)) // 2))
    return shared >= need and (shared >= 2 or min(len(a), len(b)) < 2)


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
