"""arXiv: the first source, and the model of one.

- `ids`, `taxonomy`: arXiv's identifiers in all their forms; its categories and aliases
- `client`: the paced client at arXiv's pace (1 request / 3 s across processes, 1 connection)
- `rss`: announcement feeds (RSS 2.0 and Atom) -> papers + announcements
- `oai`: OAI-PMH ListRecords (arXiv, arXivRaw) -> papers
- `api`: the export API (id_list) -> papers
- `harvest`: idempotent, resumable runs over those (feeds, completeness, OAI, on-demand ids)
- `schedule`: arXiv's announcement schedule and the watch loop
- `ondemand`: ids a reader asks for that the store lacks, fetched while the page waits
- `files`: the Kaggle snapshot and daily JSON lines

This module stays cheap to import (the web imports it for every id it parses): the
harvesting modules are imported only when a method needs them.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Unpack
from urllib.parse import quote

from coolpapers.sources.arxiv.ids import NEW_STYLE, ArxivId, has_html, parse
from coolpapers.sources.base import Fetcher, Links, Pace

if TYPE_CHECKING:
    from coolpapers.config import Settings
    from coolpapers.records import Paper
    from coolpapers.sources.arxiv.client import ArxivClient
    from coolpapers.sources.http import Options
    from coolpapers.store.listings import DayListings
    from coolpapers.store.store import Store

# The state row of arXiv's pace; the key predates the registry and running deployments
# keep their pace under it.
PACE_KEY = "arxiv.pace"
PACE = Pace(
    key=PACE_KEY,
    name="arXiv",
    interval=3.0,  # arXiv's terms; `arxiv_min_interval` in the settings
    hosts=frozenset({"arxiv.org", "export.arxiv.org", "rss.arxiv.org", "oaipmh.arxiv.org"}),
)
SITE = "https://arxiv.org"
# Where arXiv serves what harvesting reads: the defaults of the `arxiv_*_url` settings, which
# tests point at a replay server.
RSS_URL = "https://rss.arxiv.org"
OAI_URL = "https://oaipmh.arxiv.org/oai"
API_URL = "https://export.arxiv.org/api/query"
PDF_URL = f"{SITE}/pdf"


class ArxivSource:
    """arXiv as a `Source`: bare ids (`2309.16354v2`, `hep-th/9901001`)."""

    key = "arxiv"
    name = "arXiv"
    suffix: str | None = None
    pace = PACE
    homepage = f"{SITE}/"
    credit: str | None = "thank you to arXiv for use of its open access interoperability"
    category_scheme: str | None = "http://arxiv.org/schemas/atom"

    def parse_id(self, text: str) -> ArxivId:
        return parse(text)

    def format_id(self, local: str, version: int | str | None = None) -> str:
        return f"{local}v{version}" if version else local

    def links(self, paper: Paper) -> Links:
        return self.id_links(paper.id, paper.version)

    def id_links(self, local: str, version: int | str | None = None) -> Links:
        at = self.format_id(local, version)
        return Links(
            page=f"{SITE}/abs/{at}",
            pdf=f"{PDF_URL}/{at}",
            html=f"{SITE}/html/{at}" if has_html(local) else None,
        )

    def cite(self, local: str, version: int | str | None = None) -> str:
        return f"arXiv:{self.format_id(local, version)}"

    def author_url(self, name: str) -> str | None:
        return _author_url(name)

    def approx_published(self, paper: Paper) -> datetime | None:
        # The month, plus the order of submission as milliseconds: the order within the
        # month is kept, and no paper moves past a dated one of another month. A new-style id
        # is two digits of year, two of month, then that order.
        m = NEW_STYLE.match(paper.id)
        if m is None:
            return None
        yy, mm = int(m["yymm"][:2]), int(m["yymm"][2:])
        if not 1 <= mm <= 12:
            return None
        return datetime(2000 + yy, mm, 1) + timedelta(milliseconds=int(m["num"]))

    def bibtex(self, paper: Paper) -> str:
        return bibtex(paper)

    def fetcher(self, store: Store, settings: Settings) -> Fetcher:
        # Lazy: on-demand fetching pulls in the client and every harvesting module.
        from coolpapers.sources.arxiv.ondemand import OnDemand

        return OnDemand(store, settings)

    def listings(self, store: Store) -> DayListings:
        # arXiv's announcement tables are the store's own (they came first)
        from coolpapers.store.listings import DayListings

        return DayListings(store)

    def client(
        self, store: Store | None, settings: Settings, **options: Unpack[Options]
    ) -> ArxivClient:
        """The client `sources.http.Clients` makes for arXiv's hosts: arXiv's pace from the
        settings, and its PDFs fetched from `arxiv_pdf_url` when that is set (a mirror; tests
        aim it at a replay server), so `links()` stays the public address."""
        from coolpapers.sources.arxiv.client import ArxivClient

        mirrors = {PDF_URL: settings.arxiv_pdf_url, **options.pop("mirrors", {})}
        return ArxivClient(store, settings, mirrors=mirrors, **options)


def bibtex(paper: Paper) -> str:
    """arXiv's own BibTeX export: an @misc with eprint/archivePrefix/primaryClass, keyed
    `<first author's last name><year><first word of 4+ letters of the title>`. What the
    reader's [Copy] button puts on the clipboard (GET /api/papers/<id>/bibtex)."""
    title = " ".join(paper.title.split())
    authors = list(dict.fromkeys(a.strip() for a in paper.authors))
    last = re.split(r"\s+", (authors[0] if authors else "") or "anon")[-1]
    last = re.sub(r"[^A-Za-z]", "", unicodedata.normalize("NFKD", last)).lower()
    word = re.search(r"[a-z]{4,}", title.lower())
    year = _year(paper)
    lines = [
        f"@misc{{{last}{year}{word.group() if word else ''},",
        f"      title={{{title}}},",
        f"      author={{{' and '.join(authors)}}},",
        f"      year={{{year}}},",
        f"      eprint={{{paper.id}}},",
        "      archivePrefix={arXiv},",
    ]
    if paper.primary:
        lines.append(f"      primaryClass={{{paper.primary}}},")
    lines += [f"      url={{{SITE}/abs/{paper.id}}},", "}"]
    return "\n".join(lines)


def _year(paper: Paper) -> str:
    """The year of the first version; without it (daily files carry none), a new-style id's."""
    if paper.published is not None:
        return str(paper.published.year)
    return f"20{paper.id[:2]}" if NEW_STYLE.match(paper.id) else ""


SOURCE = ArxivSource()


@lru_cache(maxsize=1 << 16)
def _author_url(name: str) -> str:
    """arXiv's search for an author. Kept per name: a new card links every author (a page of
    new search results, 25 cards, quoted ~150 names, 3 % of its Python), and names recur."""
    return f"{SITE}/search/?searchtype=author&query={quote(name, safe='/')}"
