"""PMLR, the Proceedings of Machine Learning Research (https://proceedings.mlr.press/):
ICML, COLT, AISTATS, UAI, CoRL and many more conferences' proceedings, one volume each.

- `ids`: PMLR ids in every written form (`aamand26a@v336@PMLR`, `v336/aamand26a`, its URLs)
- `volume`: a volume's Jekyll site (`_config.yml`, `_posts/*.md`) -> papers and venue listings
- `bibfile`: a volume's BibTeX (the organisers' file, or PMLR's export) -> the same papers
- `bibtex`: BibTeX in PMLR's export style

Papers come from the volumes' files (github.com/mlresearch/v<N>), never from its pages: there
is no fetcher, and `pace` only paces what reads its PDFs (the FAQ). Keys are
`<paper>@<volume>@PMLR`. Cheap to import: registry loads it for every id it parses.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from coolpapers.sources.base import BadId, Links, Pace
from coolpapers.sources.pmlr import ids
from coolpapers.sources.pmlr.ids import SITE
from coolpapers.sources.venue import VenueSource

if TYPE_CHECKING:
    from coolpapers.records import Paper

PACE = Pace(
    key="pmlr.pace",
    name="PMLR",
    interval=1.0,  # GitHub Pages behind a CDN; one request a second is polite
    hosts=frozenset({"proceedings.mlr.press"}),
)


class PmlrSource(VenueSource):
    """PMLR as a `Source`: public ids `<paper>@<volume>@PMLR`."""

    key = "pmlr"
    name = "PMLR"
    ids = ids
    pace = PACE
    homepage = f"{SITE}/"
    # PMLR's site is said to license its metadata CC BY 4.0, but nothing in the volume files
    # or ../shared states a licence for them (the volume repositories carry none), so no
    # credit is claimed until one can be cited.
    credit: str | None = None
    category_scheme: str | None = None

    def links(self, paper: Paper) -> Links:
        at = self.local(paper.id)
        pdf = paper.extra.get("pdf")  # recent volumes link the copy in their repository
        return Links(
            page=ids.page_url(at),
            pdf=pdf if isinstance(pdf, str) and pdf else ids.pdf_url(at),
            html=None,
        )

    def id_links(self, local: str, version: int | str | None = None) -> Links:
        at = self.local(local)  # PMLR has no versions: a corrected PDF replaces the old one
        return Links(page=ids.page_url(at), pdf=ids.pdf_url(at), html=None)

    def cite(self, local: str, version: int | str | None = None) -> str:
        paper, vol = ids.split(self.local(local))
        return f"PMLR {vol} {paper}"

    def author_url(self, name: str) -> str | None:
        return None  # PMLR has no author pages nor a documented name search

    def approx_published(self, paper: Paper) -> datetime | None:
        # The year the paper's id was minted for (`aamand26a`: 2026).
        try:
            year = ids.year(paper.id)
        except BadId:
            return None
        return datetime(year, 1, 1) if year else None

    def bibtex(self, paper: Paper) -> str:
        from coolpapers.sources.pmlr.bibtex import bibtex

        return bibtex(paper)

    def local(self, text: str) -> str:
        """A local id from a local id or a key; BadId for neither (no address can be built
        without a volume)."""
        return ids.local_of(text)


SOURCE = PmlrSource()
