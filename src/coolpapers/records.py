"""Plain records that flow from `sources/` into `store/`.

Sources parse their formats into these and never touch SQL; the store upserts by the paper's
key (`Paper.id`), so re-running any ingestion is idempotent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import IntEnum
from typing import Any


class Kind(IntEnum):
    """arXiv's announce types, in the order a listing page shows them."""

    NEW = 0
    CROSS = 1
    REPLACE = 2
    REPLACE_CROSS = 3

    @classmethod
    def parse(cls, text: str) -> Kind:
        """`new`, `cross`, `replace`, `replace-cross` as written in `arxiv:announce_type`."""
        return cls[text.strip().upper().replace("-", "_")]

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", "-")


@dataclass(slots=True)
class Paper:
    """One paper at its latest known version. `id` is its key: the public id without
    version, which names its source (arXiv's bare `2309.16354`; `2024.acl-long.1@ACL`; see
    sources/registry.key). `version`: arXiv's vN; None where the source has no numbered
    versions (a revision's date is then `updated`). `categories` has the primary first."""

    id: str
    title: str
    abstract: str
    authors: list[str]
    categories: list[str]
    version: int | None = None
    comments: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    license: str | None = None
    published: datetime | None = None  # first version, UTC
    updated: datetime | None = None  # latest version, UTC
    # The key of the source it comes from (`sources.registry`), which builds its links and
    # BibTeX; stored beside the paper (papers.source).
    source: str = "arxiv"
    # What the source knows that has no column (papers.extra, JSON): per-author
    # `affiliations`, `pages`, the source's own `bibkey` or `bibtex`, a `pdf` or `page` URL
    # its id does not tell, `arxiv` (the arXiv id of the same paper), `github`, `openreview`.
    # Plain JSON values only. An update with an empty `extra` keeps the stored one.
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def primary(self) -> str:
        return self.categories[0] if self.categories else ""


@dataclass(slots=True)
class Announcement:
    """A paper listed on an arXiv announcement day in one category."""

    day: date
    category: str
    paper_id: str
    kind: Kind


@dataclass(slots=True)
class Listing:
    """A paper listed in an edition of a venue's collection, in one of its groups: ACL's 2024
    edition lists `2024.acl-long.1@ACL` under "Long" (its volume), first. The venue
    counterpart of arXiv's `Announcement` (store/listings.py says how pages read both)."""

    collection: str  # the venue as papers.cool names it: "ACL", "ICML", "NeurIPS"
    edition: str  # "2024"
    group: str  # "Long", "Findings", "Oral", a PMLR section; "" when the venue has none
    paper_id: str  # the paper's key
    rank: int  # its place in the group, from 1, as the source orders them
    day: date | None = None  # when the edition was held or published, if known
    status: str = ""  # "Reject", "Withdraw", ... where a list keeps those too; "" = accepted


@dataclass(slots=True)
class Batch:
    """What one unit of ingestion (a file chunk, a feed, an OAI page) produced."""

    papers: list[Paper] = field(default_factory=list)
    announcements: list[Announcement] = field(default_factory=list)
    skipped: int = 0
    # Venue listings: the store keeps them from the Venue step of issue 13 on.
    listings: list[Listing] = field(default_factory=list)


# ---- the edge: every record is cleaned and bounded here on its way into the store ----------
#
# Limits far above anything arXiv itself publishes, so a real record is never cut, yet low
# enough that hostile or broken input (a 10 MB title from a file) cannot stall what reads the
# store after it (search indexing, rendering). Measured on the real data in ../shared/data
# (70k daily records, the Kaggle sample): titles <= 239 characters, abstracts <= 3,488 (arXiv's
# form now caps them at 1,920), comments <= 431, author names <= 512 (a broken collector's
# list of names run together), 3,303 authors (arXiv's largest papers, ATLAS and CMS, list
# about 5,200, some 100k characters), 8 categories.
MAX_TITLE = 1_000
MAX_ABSTRACT = 10_000
MAX_FIELD = 2_000  # comments, journal_ref, doi, license: one line each
MAX_AUTHOR = 1_000  # one name
MAX_AUTHORS = 10_000  # names per paper
MAX_AUTHORS_CHARS = 200_000  # all names together
MAX_CATEGORIES = 50

# C0 controls but tab and newline (abstracts keep their paragraph breaks; texmarkup.unwrap
# and oneline have already turned every other line break into a space), DEL, C1 controls
# (mis-decoded cp1252, never text), and lone surrogates (unencodable: UTF-8 refuses them).
# PostgreSQL refuses NUL outright, and would abort a whole batch for one; SQLite would store
# it and pages would carry it. Cleaned here, both engines store the same text.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_ASCII = bytes([*range(0x09), *range(0x0B, 0x20), 0x7F])


def _has_control(text: str) -> bool:
    # Every record of every import passes here: the quick way for ASCII text (97% of real
    # abstracts; isascii is O(1)), 4x faster than the regular expression's scan.
    if text.isascii():
        raw = text.encode("ascii")
        return len(raw.translate(None, _CONTROL_ASCII)) != len(raw)
    return _CONTROL.search(text) is not None


def _clean_text(text: str, limit: int, what: str, notes: list[str]) -> str:
    if _has_control(text):
        n = len(text)
        text = _CONTROL.sub("", text)
        notes.append(f"{what}: {n - len(text)} control characters removed")
    if len(text) > limit:
        notes.append(f"{what}: {len(text):,} characters cut to {limit:,}")
        text = text[: limit - 1].rstrip() + "…"  # the ellipsis says it was cut
    return text


def _clean_opt(text: str | None, limit: int, what: str, notes: list[str]) -> str | None:
    return (_clean_text(text, limit, what, notes) or None) if text else text


def _clean_authors(authors: list[str], notes: list[str]) -> list[str]:
    if len(authors) > MAX_AUTHORS:
        notes.append(f"authors: {len(authors):,} names cut to {MAX_AUTHORS:,}")
        authors = authors[:MAX_AUTHORS]
    budget = MAX_AUTHORS_CHARS
    kept: list[str] = []
    fixed: list[str] = []  # one note for all names: a hostile list may have thousands
    for i, name in enumerate(authors):
        name = _clean_text(name, MAX_AUTHOR, f"author {i + 1}", fixed)
        budget -= len(name)
        if budget < 0:
            left = len(authors) - i
            notes.append(f"authors: {left:,} names left out past {MAX_AUTHORS_CHARS:,} characters")
            break
        if name:  # a name of control characters only is no name
            kept.append(name)
    if fixed:
        notes.append(f"{len(fixed)} author names cleaned or cut ({fixed[0]}, ...)")
    return kept


def clean(paper: Paper) -> list[str]:
    """Clean and bound `paper` in place (see the limits above): control characters removed,
    fields too long cut, each with a note (the paper's id first) for the caller to log. The
    store applies it to every record it writes, whatever the source (Rows.of)."""
    notes: list[str] = []
    paper.title = _clean_text(paper.title, MAX_TITLE, "title", notes)
    paper.abstract = _clean_text(paper.abstract, MAX_ABSTRACT, "abstract", notes)
    authors = paper.authors
    # one look at all names (a paper has a few, some have thousands): nearly always clean
    if authors and (
        len(authors) > MAX_AUTHORS
        or max(map(len, authors)) > MAX_AUTHOR
        or _has_control(joined := "\n".join(authors))
        or len(joined) > MAX_AUTHORS_CHARS
        or not all(authors)
    ):
        paper.authors = _clean_authors(authors, notes)
    if len(paper.categories) > MAX_CATEGORIES:
        notes.append(f"categories: {len(paper.categories)} cut to {MAX_CATEGORIES}")
        paper.categories = paper.categories[:MAX_CATEGORIES]
    paper.comments = _clean_opt(paper.comments, MAX_FIELD, "comments", notes)
    paper.journal_ref = _clean_opt(paper.journal_ref, MAX_FIELD, "journal_ref", notes)
    paper.doi = _clean_opt(paper.doi, MAX_FIELD, "doi", notes)
    paper.license = _clean_opt(paper.license, MAX_FIELD, "license", notes)
    return [f"{paper.id}: {n}" for n in notes]
