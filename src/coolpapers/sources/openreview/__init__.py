"""OpenReview (https://openreview.net/): the conferences that review in the open (ICLR,
NeurIPS, ICML, COLM, CoRL, TMLR...), a source of the Venue branch.

- `ids`: forum ids in every written form (`<forum>@OpenReview`, forum and PDF URLs)
- `api`: a client of its API v2 (token or login), and the harvest of a venue's accepted
  papers, page by page, resumable (`coolpapers harvest --venue ICLR.cc/2025/Conference`)
- `editions`: venue ids and decisions -> collection, edition, group of the venue listings
- `bibtex`: BibTeX as OpenReview exports it

Papers come from harvests only (the API refuses anonymous requests): there is no fetcher, a
page view never asks OpenReview. Keys are `<forum>@OpenReview`. Cheap to import: registry
loads it for every id it parses.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from coolpapers.sources.base import Links, Pace
from coolpapers.sources.openreview import ids
from coolpapers.sources.openreview.ids import SITE
from coolpapers.sources.venue import VenueSource

if TYPE_CHECKING:
    from typing import Unpack

    from coolpapers.config import Settings
    from coolpapers.records import Paper
    from coolpapers.sources.http import Options, PacedClient
    from coolpapers.store import Store

PACE = Pace(
    key="openreview.pace",
    name="OpenReview",
    # OpenReview publishes no request rate, but its API answers 429 past its own limit and
    # now challenges clients it finds abusive. One request a second is far below what its
    # own Python client does (unpaced, concurrent pages), costs a harvest nothing (a venue
    # is a few pages of 1,000 notes: ICLR 2025's ~3,700 papers take 4 requests), and is the
    # rate of a person opening the PDFs the FAQ reads from openreview.net.
    interval=1.0,
    hosts=frozenset({"openreview.net", "api.openreview.net", "api2.openreview.net"}),
)


class OpenReviewSource(VenueSource):
    """OpenReview as a `Source`: public ids `<forum>@OpenReview`."""

    key = "openreview"
    name = "OpenReview"
    ids = ids
    pace = PACE
    homepage = f"{SITE}/"
    # OpenReview's terms ask for no attribution line; each paper carries its own licence
    # (Paper.license, from the note).
    credit: str | None = None
    category_scheme: str | None = None

    def links(self, paper: Paper) -> Links:
        links = self.id_links(paper.id)
        if "pdf" in paper.extra:
            # stored by the harvest only where the note's PDF is not the forum's usual one:
            # an address of its own, or None where the note has no PDF
            pdf = paper.extra["pdf"]
            if isinstance(pdf, str) and pdf.startswith("/"):
                pdf = SITE + pdf
            links = Links(links.page, pdf if isinstance(pdf, str) and pdf else None, None)
        return links

    def id_links(self, local: str, version: int | str | None = None) -> Links:
        forum = self.local(local)
        return Links(page=f"{SITE}/forum?id={forum}", pdf=f"{SITE}/pdf?id={forum}", html=None)

    def cite(self, local: str, version: int | str | None = None) -> str:
        return f"OpenReview {self.local(local)}"

    def author_url(self, name: str) -> str | None:
        # Profiles are keyed by tilde ids (~First_Last1), which a name does not tell apart;
        # the notes' authorids would, but papers keep names only: none.
        return None

    def approx_published(self, paper: Paper) -> datetime | None:
        # The harvest dates every paper (pdate, else cdate); a paper without either: the
        # first of January of the edition its venue id names.
        venueid = paper.extra.get("venueid")
        if isinstance(venueid, str):
            from coolpapers.sources.openreview.editions import edition_of

            year = edition_of(venueid)
            if year:
                return datetime(int(year), 1, 1)
        return None

    def client(
        self, store: Store | None, settings: Settings, **options: Unpack[Options]
    ) -> PacedClient:
        """The client of what the FAQ fetches from OpenReview: a paper's PDF. With an API
        token in the settings, `openreview.net/pdf?id=<forum>` is asked of the API's
        documented `/pdf?id=` (api-v2-openapi.yml: getPdf) with the token, since OpenReview
        challenges anonymous scripted clients; without one, of the site, as a browser
        would (a 403 then makes the FAQ read the abstract). The token goes to the API's
        host only, never to where a redirect leads."""
        import httpx  # here: the package stays cheap to import (see above)

        from coolpapers.sources.http import PacedClient

        token = (settings.openreview_token or "").strip().removeprefix("Bearer ").strip()
        if not token:
            return PacedClient(store, settings, PACE, **options)
        api = settings.openreview_api.rstrip("/")
        client = PacedClient(store, settings, PACE, mirrors={SITE: api}, **options)
        api_host = httpx.URL(api).host

        def bearer(request: httpx.Request) -> None:
            if request.url.host == api_host:
                request.headers["Authorization"] = f"Bearer {token}"

        client.http.event_hooks["request"].append(bearer)
        return client

    def bibtex(self, paper: Paper) -> str:
        from coolpapers.sources.openreview.bibtex import bibtex

        return bibtex(paper)


SOURCE = OpenReviewSource()
