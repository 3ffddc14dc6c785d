"""The ACL Anthology (https://aclanthology.org/): conference and journal papers of
computational linguistics, the first source of the Venue branch.

- `ids`: Anthology ids in every written form (`2024.acl-long.1`, `P17-1001`, its URLs)
- `anthology`: its data files (`data/xml/<collection>.xml[.gz]`) -> papers and venue listings
- `bibtex`: BibTeX in the Anthology's export style

Papers come from the Anthology's data files, never from its pages: there is no fetcher, and
`pace` only paces what reads its PDFs (the FAQ). Keys are `<anthology id>@ACL`.
Cheap to import: registry loads it for every id it parses.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from coolpapers.sources.acl import ids
from coolpapers.sources.acl.ids import SITE
from coolpapers.sources.base import BadId, Links, Pace
from coolpapers.sources.venue import VenueSource

if TYPE_CHECKING:
    from coolpapers.records import Paper

PACE = Pace(
    key="aclanthology.pace",
    name="ACL Anthology",
    interval=1.0,  # a static site behind a CDN; one request a second is polite
    hosts=frozenset({"aclanthology.org"}),
)


class AclSource(VenueSource):
    """The ACL Anthology as a `Source`: public ids `<anthology id>@ACL`."""

    key = "acl"
    name = "ACL Anthology"
    ids = ids
    pace = PACE
    homepage = f"{SITE}/"
    # The Anthology's materials (its metadata included) are CC BY 4.0 since 2016, which asks
    # for attribution and the licence: the footer names the Anthology and links it.
    credit: str | None = "CC BY 4.0"
    category_scheme: str | None = None

    def links(self, paper: Paper) -> Links:
        # `<id>.pdf` is always the latest revision: no version in the stored paper's links
        return self.id_links(paper.id)

    def id_links(self, local: str, version: int | str | None = None) -> Links:
        at = self.local(local)
        pdf = f"{at}v{version}" if version else at
        return Links(page=f"{SITE}/{at}/", pdf=f"{SITE}/{pdf}.pdf", html=None)

    def cite(self, local: str, version: int | str | None = None) -> str:
        at = self.local(local)
        return f"ACL Anthology {at}v{version}" if version else f"ACL Anthology {at}"

    def author_url(self, name: str) -> str | None:
        # The Anthology's people pages are keyed by its own person ids (which names do not
        # tell apart) and it documents no name search: none.
        return None

    def approx_published(self, paper: Paper) -> datetime | None:
        # A volume with no month (journals: TACL): the year its id was minted in.
        try:
            year = ids.year(ids.local_of(paper.id))
        except BadId:
            return None
        return datetime(year, 1, 1) if year else None

    def bibtex(self, paper: Paper) -> str:
        from coolpapers.sources.acl.bibtex import bibtex

        return bibtex(paper)


SOURCE = AclSource()
