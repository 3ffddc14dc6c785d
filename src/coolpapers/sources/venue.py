"""What every conference source shares (the Venue branch: ACL Anthology, PMLR, OpenReview,
CVF, IJCAI, AAAI), as a base class their `Source`s extend: papers come from the venue's
files or a harvest, never from a page view; they are listed in the store's venue listings;
and the page and PDF URLs a record carried win over those built from its id.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, ClassVar

from coolpapers.sources.base import BadId, Fetcher, Links, SourceId

if TYPE_CHECKING:
    from coolpapers.config import Settings
    from coolpapers.records import Paper
    from coolpapers.store.store import Store
    from coolpapers.store.venues import VenueListings


class VenueSource:
    """Defaults for a conference source; a subclass sets the `Source` attributes (key, name,
    pace, homepage, credit) and `ids`, its ids module, and overrides what differs.

    `ids` is what every venue source's ids module provides: `SUFFIX`, `parse(text)`,
    `format_id(local, version)` and `local_of(text)` (a local id from any accepted form)."""

    key: str
    ids: ClassVar[ModuleType]
    credit: str | None = None
    category_scheme: str | None = None  # venues have no category scheme of arXiv's kind

    @property
    def suffix(self) -> str | None:
        return str(self.ids.SUFFIX)

    def parse_id(self, text: str) -> SourceId:
        return self.ids.parse(text)  # type: ignore[no-any-return]

    def format_id(self, local: str, version: int | str | None = None) -> str:
        return str(self.ids.format_id(local, version))

    def local(self, text: str) -> str:
        """A local id from a local id or a key (pages pass a Paper's `id`, its key)."""
        try:
            return str(self.ids.local_of(text))
        except BadId:
            return text.strip().removesuffix(f"@{self.ids.SUFFIX}")

    def id_links(self, local: str, version: int | str | None = None) -> Links:
        raise NotImplementedError

    def links(self, paper: Paper) -> Links:
        """The stored `page` / `pdf` (extra) where the record had them (a workshop's folder,
        a CDN copy: what the id cannot tell), else those of the id."""
        built = self.id_links(paper.id)
        page, pdf = paper.extra.get("page"), paper.extra.get("pdf")
        return Links(
            page=page if isinstance(page, str) and page else built.page,
            pdf=pdf if isinstance(pdf, str) and pdf else built.pdf,
            html=None,
        )

    def fetcher(self, store: Store, settings: Settings) -> Fetcher | None:
        return None  # imported from the venue's files or harvested, never on a page view

    def listings(self, store: Store) -> VenueListings:
        from coolpapers.store.venues import VenueListings

        return VenueListings(store, self.key)
