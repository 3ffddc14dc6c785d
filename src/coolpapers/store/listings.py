"""How a source lists its papers: the one interface that listing pages, feeds and batch jobs
read, whatever the source.

A source lists papers in *editions* of *collections*, each edition split into *groups* in a
fixed order. arXiv lists a category's papers on each announcement day (the edition, a date)
as new submissions, cross-lists and replacements (the groups); a conference lists a year's
papers (`ACL.2024`) as Long, Short, Findings... (store/venues.py, for every venue source).
Pages and feeds ask a `Listings` for editions and entries and never read its tables, so a
source with its own listing tables adds its own `Listings` (its Source's `listings(store)`)
and reuses the pages.

The contract for whoever writes listings: keep `papers.first_listed` / `last_listed`, the
first and latest day a paper was listed (`Store.write` does it for arXiv's announcements).
The search index dates papers by the first, the FAQ's queue puts the latest first, and so
neither knows any source's listing tables.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Protocol, TypeVar

from coolpapers.records import Kind

if TYPE_CHECKING:
    from coolpapers.store.store import Store

E = TypeVar("E", bound=Hashable)  # an edition: arXiv's date, a venue's "2024"

# (paper key, group): the group is an index into `Listings.groups`, in page order
Entry = tuple[str, int]


class Listings(Protocol[E]):
    """The editions and entries of one source's listings."""

    def groups(self, edition: E) -> Sequence[str]:
        """The groups of `edition`, in the order a page shows them (an Entry's group indexes
        it): arXiv's announce types on every day; a venue edition's own (Long, Short...)."""
        ...

    def editions(self, collections: Sequence[str] | None = None) -> list[E]:
        """The editions in which any of `collections` (None: any at all) listed a paper,
        oldest first."""
        ...

    def entries(self, include: Sequence[str], exclude: Sequence[str], edition: E) -> list[Entry]:
        """The papers of `edition` listed in any of `include` and in none of `exclude` (what a
        reader picked within it: arXiv's categories; a venue edition's groups, none meaning
        all), in page order: by group, then the source's own order within a group. Light: a
        page loads full rows only for the cards it shows."""
        ...

    def sizes(self) -> dict[str, int]:
        """Papers per collection over all editions (first listings only), for the home page."""
        ...


class DayListings:
    """arXiv's listings: a category (collection) on an announcement day (edition), grouped by
    announce type. Read from `announcements` and `day_counts` through the store."""

    GROUPS: Sequence[str] = tuple(k.label for k in Kind)

    def __init__(self, store: Store) -> None:
        self.store = store

    def groups(self, edition: date) -> Sequence[str]:
        return self.GROUPS

    def editions(self, collections: Sequence[str] | None = None) -> list[date]:
        return self.store.all_days() if collections is None else self.store.days(collections)

    def entries(
        self, include: Sequence[str], exclude: Sequence[str], edition: date
    ) -> list[tuple[str, Kind]]:
        # Kind is an IntEnum in page order: each entry's group is its index in `groups`
        return self.store.listing_entries(include, exclude, edition)

    def sizes(self) -> dict[str, int]:
        return self.store.category_counts()
