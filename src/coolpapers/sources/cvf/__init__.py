"""The Computer Vision Foundation's open access proceedings (https://openaccess.thecvf.com/):
CVPR, ICCV, WACV (and ECCV 2018, ACCV, workshops), a source of the Venue branch.

- `ids`: CVF ids (a paper page's base name) in every written form, and links built from them
- `bibtex`: BibTeX in CVF's own export style

Papers come from paperlists files (sources/paperlists), never from CVF's pages: there is no
fetcher, and `pace` only paces what reads its PDFs (the FAQ). Keys are `<name>@CVF`.
Cheap to import: registry loads it for every id it parses.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from coolpapers.sources.base import BadId, Links, Pace
from coolpapers.sources.cvf import ids
from coolpapers.sources.cvf.ids import SITE
from coolpapers.sources.venue import VenueSource

if TYPE_CHECKING:
    from coolpapers.records import Paper

PACE = Pace(
    key="cvf.pace",
    name="CVF open access",
    interval=1.0,  # a static site; one request a second is polite
    hosts=frozenset({"openaccess.thecvf.com"}),
)


class CvfSource(VenueSource):
    """CVF open access as a `Source`: public ids `<page name>@CVF`."""

    key = "cvf"
    name = "CVF Open Access"
    ids = ids
    pace = PACE
    homepage = f"{SITE}/"
    # CVF's site states no licence for its metadata (nor do the paperlists files): no credit.
    credit: str | None = None
    category_scheme: str | None = None

    def id_links(self, local: str, version: int | str | None = None) -> Links:
        try:
            page, pdf = ids.build_links(local)
        except BadId:
            return Links(page=f"{SITE}/", pdf=None, html=None)
        return Links(page=page, pdf=pdf, html=None)

    def cite(self, local: str, version: int | str | None = None) -> str:
        return f"CVF {self.local(local)}"

    def author_url(self, name: str) -> str | None:
        return None  # CVF's site has no author pages nor a name search

    def approx_published(self, paper: Paper) -> datetime | None:
        try:
            return datetime(ids.parse(paper.id).year, 1, 1)  # the year in the name
        except BadId:
            return None

    def bibtex(self, paper: Paper) -> str:
        from coolpapers.sources.cvf.bibtex import bibtex

        return bibtex(paper)


SOURCE = CvfSource()
