"""The IJCAI proceedings (https://www.ijcai.org/proceedings/), a source of the Venue branch.

- `ids`: IJCAI ids (`<number>@<year>`) in every written form, and the links they tell
- `bibtex`: BibTeX in IJCAI's own export style

Papers come from paperlists files (sources/paperlists), never from IJCAI's pages: there is no
fetcher, and `pace` only paces what reads its PDFs (the FAQ). Keys are `<num>@<year>@IJCAI`.
Cheap to import: registry loads it for every id it parses.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from coolpapers.sources.base import BadId, Links, Pace
from coolpapers.sources.ijcai import ids
from coolpapers.sources.ijcai.ids import SITE
from coolpapers.sources.venue import VenueSource

if TYPE_CHECKING:
    from coolpapers.records import Paper

PACE = Pace(
    key="ijcai.pace",
    name="IJCAI",
    interval=1.0,  # a small organisation's site; one request a second is polite
    hosts=frozenset({"ijcai.org"}),  # `covers` drops the www.
)


class IjcaiSource(VenueSource):
    """IJCAI's proceedings as a `Source`: public ids `<num>@<year>@IJCAI`."""

    key = "ijcai"
    name = "IJCAI"
    ids = ids
    pace = PACE
    homepage = f"{SITE}/proceedings/"
    credit: str | None = None  # no licence stated for the metadata
    category_scheme: str | None = None

    def id_links(self, local: str, version: int | str | None = None) -> Links:
        try:
            page, pdf = ids.build_links(local)
        except BadId:
            return Links(page=self.homepage, pdf=None, html=None)
        return Links(page=page, pdf=pdf, html=None)

    def cite(self, local: str, version: int | str | None = None) -> str:
        try:
            sid = ids.parse(local)
        except BadId:
            return f"IJCAI {local}"
        return f"IJCAI {sid.year} paper {sid.number}"

    def author_url(self, name: str) -> str | None:
        return None  # IJCAI's proceedings have no author pages

    def approx_published(self, paper: Paper) -> datetime | None:
        try:
            return datetime(ids.parse(paper.id).year, 1, 1)
        except BadId:
            return None

    def bibtex(self, paper: Paper) -> str:
        from coolpapers.sources.ijcai.bibtex import bibtex

        return bibtex(paper)


SOURCE = IjcaiSource()
