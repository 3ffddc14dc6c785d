"""arXiv's paced client: the generic one (`sources.http`) at arXiv's pace.

arXiv's terms allow one request every 3 seconds over a single connection, for all machines
of a user together, on all its hosts (export, rss, oaipmh, arxiv.org): one pace for them all.
A deployment sets the interval and retries through its settings (`arxiv_min_interval`,
`arxiv_max_retries`); tests shorten them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Unpack

from coolpapers.config import Settings, get_settings
from coolpapers.sources.arxiv import PACE
from coolpapers.sources.http import Options, PacedClient

if TYPE_CHECKING:
    from coolpapers.store.store import Store


class ArxivClient(PacedClient):
    """A `PacedClient` of arXiv's pace, with the interval and retries from `settings`."""

    def __init__(
        self,
        store: Store | None = None,
        settings: Settings | None = None,
        **options: Unpack[Options],
    ) -> None:
        settings = settings or get_settings()
        pace = replace(PACE, interval=settings.arxiv_min_interval)
        super().__init__(store, settings, pace, max_retries=settings.arxiv_max_retries, **options)
