"""Plain records that flow from `sources/` into `store/`.

Sources parse arXiv's formats into these and never touch SQL; the store owns identity
(the arXiv id without version) and upserts, so re-running any ingestion is idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import IntEnum


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
    """One arXiv paper at its latest known version. `categories` has the primary first."""

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
class Batch:
    """What one unit of ingestion (a file chunk, a feed, an OAI page) produced."""

    papers: list[Paper] = field(default_factory=list)
    announcements: list[Announcement] = field(default_factory=list)
    skipped: int = 0
