"""What every conference source shares (the Venue branch: ACL Anthology, PMLR, OpenReview,
CVF, IJCAI, AAAI), as a base class their `Source`s extend: papers come from the venue's
files or a harvest, never from a page view; they are listed in the store's venue listings;
and the page and PDF URLs a record carried win over those built from its id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from coolpapers.sources.base import Fetcher, Links

if TYPE_CHECKING:
    from coolpapers.config import Settings
    from coolpapers.records import Paper
    from coolpapers.store.store import Store
    from coolpapers.store.venues import VenueListings


class VenueSource:
    """Defaults for a conference source; a subclass sets the `Source` attributes (key, name,
    suffix, pace, homepage, credit) and its ids, and overrides what differs."""

    key: str
    credit: str | None = None
    category_scheme: str | None = None  # venues have no category scheme of arXiv's kind

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
