"""The Proceedings of the AAAI Conference on Artificial Intelligence, on AAAI's OJS site
(https://ojs.aaai.org/index.php/AAAI), a source of the Venue branch.

- `ids`: AAAI ids (the OJS article number) in every written form
- `bibtex`: BibTeX in the OJS site's own export style

Papers come from paperlists files (sources/paperlists), never from AAAI's pages: there is no
fetcher, and `pace` only paces what reads its PDFs (the FAQ). Keys are `<article id>@AAAI`.
A paper's page is its OJS article page; its PDF is the one its record names (on AAAI's CDN),
kept in `extra["pdf"]`: OJS's own download address needs a galley number that no id tells,
so an id alone has no PDF link. Cheap to import: registry loads it for every id it parses.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from coolpapers.sources.aaai import ids
from coolpapers.sources.aaai.ids import OJS
from coolpapers.sources.base import BadId, Links, Pace
from coolpapers.sources.venue import VenueSource

if TYPE_CHECKING:
    from coolpapers.records import Paper

PACE = Pace(
    key="aaai.pace",
    name="AAAI",
    interval=1.0,  # an OJS site and its CDN; one request a second is polite
    hosts=frozenset({"ojs.aaai.org", "cdn.aaai.org", "aaai.org"}),
)


class AaaiSource(VenueSource):
    """AAAI's proceedings as a `Source`: public ids `<article id>@AAAI`."""

    key = "aaai"
    name = "AAAI"
    ids = ids
    pace = PACE
    homepage = OJS
    credit: str | None = None  # no licence stated for the metadata
    category_scheme: str | None = None

    def id_links(self, local: str, version: int | str | None = None) -> Links:
        try:
            return Links(page=ids.page(ids.local_of(local)), pdf=None, html=None)
        except BadId:
            return Links(page=OJS, pdf=None, html=None)

    def cite(self, local: str, version: int | str | None = None) -> str:
        try:
            return f"AAAI article {ids.local_of(local)}"
        except BadId:
            return f"AAAI {local}"

    def author_url(self, name: str) -> str | None:
        return None  # OJS has a search, but no stable list of an author's papers

    def approx_published(self, paper: Paper) -> datetime | None:
        # the year of the DOI's volume (v36 -> 2022); the id itself tells none
        vol = ids.volume_of(paper.doi) if paper.doi else None
        return datetime(ids.year_of_volume(vol[0]), 1, 1) if vol else None

    def bibtex(self, paper: Paper) -> str:
        from coolpapers.sources.aaai.bibtex import bibtex

        return bibtex(paper)


SOURCE = AaaiSource()
