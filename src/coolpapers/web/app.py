"""The web application: papers.cool's URLs and page structure, rendered on the server.

/                          categories with names and counts, the reader's picker
/arxiv/<categories>        a day's listing  (?date=YYYY-MM-DD, ?show=N)
/arxiv/<categories>/feed   the same as Atom
/arxiv/<categories>/more   the next cards of a long day (progressive rendering)
/arxiv/<id>[,<id>...]      papers by id (fetched from arXiv on demand)
/arxiv                     the arXiv branch's page, which is / (a redirect)
/api/docs                  the JSON API's Swagger UI, its assets served from the package
/favicon.ico               the site's icon (also /static/favicon.svg, which pages link)
/venue/...                 conference papers by edition, and by id (web/venue.py)
and the routes of the features (web/feature.py): the FAQ, search, the JSON API.

Feeds link to COOLPAPERS_BASE_URL, never to the Host a client sent (pages are cached and shared).
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urlsplit

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException as StarletteHTTPException

from coolpapers.config import Settings, get_settings
from coolpapers.records import Paper
from coolpapers.sources import registry
from coolpapers.sources.arxiv import taxonomy
from coolpapers.sources.base import BadId, Fetcher, Links, Source
from coolpapers.store import Listed, Store
from coolpapers.store.listings import Listings
from coolpapers.store.venues import VenueListings
from coolpapers.web import diagnose, edge, feature, render, spec, venue, venue_views, views
from coolpapers.web.cache import Page, PageCache, PageCacheMiddleware, page_headers
from coolpapers.web.card_html import CardBody
from coolpapers.web.cards import Cards
from coolpapers.web.lookup import Lookup
from coolpapers.web.search_pool import SearchFailed, unavailable
from coolpapers.web.views import FeedItem

if TYPE_CHECKING:  # the features' services, set on the site by their features
    from coolpapers.llm.service import FaqService
    from coolpapers.search.service import Searcher
    from coolpapers.web.search_pool import Answer, SearchPool

HERE = Path(__file__).parent
# Swagger UI for /api/docs, copied from npm's swagger-ui-dist by `make assets` (as KaTeX is):
# FastAPI's default loads it from a CDN, which leaves the page blank without internet.
SWAGGER = "/static/vendor/swagger-ui"
FAVICON = "/static/favicon.svg"
# How long the 404 page's examples (web/views.examples) are kept before the store is asked
# again: a harvest adds days, and a burst of 404s (a crawler) must not query it each time.
EXAMPLES_TTL = 300.0


class _Pending(views.NotFound):
    """A papers page that must wait for arXiv: answered 503 with Retry-After, not cached."""

    def __init__(self, body: bytes, retry_after: int) -> None:
        super().__init__("arXiv is busy")
        self.body, self.retry_after = body, retry_after


def source_of(p: Paper) -> Source:
    return registry.get(p.source)


def links(p: Paper, version: int | None = None) -> Links:
    """The paper's links at the source; at `version` when a reader asked for another one."""
    source = registry.get(p.source)
    if version and version != p.version:
        return source.id_links(p.id, version)
    return source.links(p)


@cache
def host(source: Source) -> str:
    """The host of a source's front page, as pages name it ("arXiv:2309.16354 on arxiv.org")."""
    return urlsplit(source.homepage).hostname or source.homepage


def id_page(public_id: str) -> tuple[str, str]:
    """The page at its source of an id no Paper is at hand for (one not found), and how to
    title a link to it ("arXiv:2309.16354 on <arXiv's host>")."""
    source, sid = registry.parse(public_id)
    title = f"{source.cite(sid.id, sid.version)} on {host(source)}"
    return source.id_links(sid.id, sid.version).page, title


_EPOCH = datetime(1970, 1, 1)


@dataclass(frozen=True, slots=True)
class CardLinks:
    """Everything a card takes from its paper's source, found in one call per card: a call
    from a template costs more than the work, and there are a dozen links on a card."""

    page: str
    pdf: str | None
    html: str | None
    cite: str  # "arXiv:2309.16354v2"
    host: str  # "arxiv.org"
    time: int | None  # undated_ms
    shown: list[venue.Author]  # name, link to their papers at the source, affiliation
    hidden: list[venue.Author]  # past MAX_AUTHORS, behind "Show all"
    path: str  # the paper's page here: /arxiv/<id>, /venue/<key>
    venue: venue.CardVenue  # "ACL.2024 - Long", its other versions, affiliations


def card_links(
    p: Paper, want: int | str | None = None, venues: venue.VenueCards | None = None
) -> CardLinks:
    """A card's links; at version `want` when the reader asked for one (2309.16354v1).
    `venues`: the site's, which looks up what the card shows of venues (a Site passes it;
    without one, only what the page prefetched and the paper itself tell)."""
    source = registry.get(p.source)
    at = links(p, want)  # type: ignore[arg-type]
    url = source.author_url
    v = venues(p, url) if venues is not None else venue.card_venue(p, None, url)
    n = views.MAX_AUTHORS  # as views.authors_split cuts them
    return CardLinks(
        at.page,
        at.pdf,
        at.html,
        source.cite(p.id, want or p.version),
        host(source),
        undated_ms(p),
        v.authors[:n],
        v.authors[n:],
        venue.path_of(p),
        v,
    )


def undated_ms(p: Paper) -> int | None:
    """A paper without a publish time: its source's stand-in, in the milliseconds of JS's
    Date, for the reader's sort by publish time (a card's `data-time`)."""
    if p.published is not None:
        return None
    t = registry.get(p.source).approx_published(p)
    return None if t is None else (t - _EPOCH) // timedelta(milliseconds=1)


def make_env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
        # The templates ship with the package: no stat of each file at each render to see
        # whether it changed (a restart of `serve` picks up an edit).
        auto_reload=False,
    )
    env.filters["tex"] = render.tex
    env.filters["linked"] = render.linked
    env.filters["paragraphs"] = render.paragraphs
    env.globals.update(
        authors_split=views.authors_split,
        subjects=views.subjects,
        fmt_date=views.fmt_date,
        fmt_time=views.fmt_time,
        fmt_stamp=views.fmt_stamp,
        fmt_clock=views.fmt_clock,
        announced_at=views.announced_at,
        kind_label=views.kind_label,
        # Where papers link to: every URL of a source comes from the source (sources/).
        source_of=source_of,
        links=links,
        host=host,
        card_links=card_links,
        paper_path=venue.path_of,
        citation_meta=venue.citation_meta,
        id_page=id_page,
        undated_ms=undated_ms,
        sources=registry.all_sources,
        group_label=lambda k: views.GROUPS[k],
        category_name=taxonomy.name,
        # Features add to a card (feature.install): callables (Paper) -> Markup, e.g. the
        # [FAQ] button and panel.
        card_buttons=[],
        card_panels=[],
        card_attrs=[],  # callables (Paper) -> Markup of attributes on div.paper (keywords)
    )
    # a card as rendered before it is kept (a Site keeps it: web/cards.py)
    env.globals["card_body"] = CardBody(env.globals)
    return env


class Site:
    """Everything a request needs, built once per worker process."""

    # Set by their features (web/faq.py, web/search.py), for tests and other features.
    faq: FaqService
    search: Searcher
    # A search route's answer made in this thread (web/search.py), and the processes that
    # make them where this web process has some (web/search_pool.py; serve_app)
    search_answer: Callable[[str, Any], Answer]
    search_pool: SearchPool | None = None

    def __init__(self, store: Store, settings: Settings, fetcher: Fetcher | None = None) -> None:
        self.store = store
        self.settings = settings
        # Papers by key, from the store or their sources: pages, API and FAQ alike. `fetcher`
        # (tests) stands in for every source's.
        self.lookup = Lookup(store, settings, fetcher)
        # arXiv's listings (a category set on an announcement day), read through the one
        # listing interface (store/listings.py) by pages, feeds and the API.
        self.days: Listings[date] = _listings(store, "arxiv")
        self.env = make_env()
        # Pages without a listing day (search, related) date their cards by first announcement.
        self.env.globals["first_days"] = store.first_days
        # The footer credits the sources whose metadata this instance shows: arXiv's, and each
        # venue source with an edition here (not every source the code knows)
        self.env.globals["sources"] = self.sources_shown
        self.cache = PageCache(
            store, ttl=settings.page_cache_ttl, max_bytes=settings.page_cache_bytes
        )
        # Every card of every page (the templates' `card`), kept per paper and generation
        self.cards = Cards(
            lambda: self.env.globals["card_body"],
            self.cache.generation,
            settings.card_cache_bytes,
        )
        self.env.globals["card"] = self.cards
        # Absolute links (feeds) start with this, whatever Host a request names.
        self.base = settings.base_url.rstrip("/")
        # Features look up what their card additions need for a whole page at once (e.g. the
        # search feature's keywords), not one query per card: called with the page's papers.
        self.prefetch: list[feature.Prefetch] = []
        # What cards show of venues ("ACL.2024 - Long", an arXiv version, affiliations), for
        # every page's cards: the first hook, so features find it done.
        self.venue_cards = venue.VenueCards(store)
        self.prefetch.append(self.venue_cards.prefetch)
        self.env.globals["card_links"] = self.card_links
        # The 404 page's examples, whoever renders it (features and the venue branch too)
        self.env.globals["examples"] = self.examples
        self._examples: tuple[float, views.Examples] | None = None
        self._sources: tuple[str, list[Source]] | None = None  # (generation, sources_shown)

    def examples(self) -> views.Examples:
        """Listings and papers this instance has, for the 404 page (kept EXAMPLES_TTL s)."""
        now = time.monotonic()
        if self._examples is None or now - self._examples[0] > EXAMPLES_TTL:
            self._examples = (now, views.examples(self.days, self.store))
        return self._examples[1]

    def card_links(self, p: Paper, want: int | str | None = None) -> CardLinks:
        return card_links(p, want, self.venue_cards)

    def sources_shown(self) -> list[Source]:
        """The footer's credits, read again only when the store's data changed: every page
        renders them, and the editions' query cost a search page about 1 ms of its ~15 ms
        of rendering (py-spy, bench/search_http.py's queries). The generation is the page
        cache's (read from the store at most once per its ttl), as the pages' own."""
        gen = self.cache.generation()
        kept = self._sources
        if kept is None or kept[0] != gen:
            keys = {"arxiv"} | {e.source for e in VenueListings(self.store).all()}
            kept = self._sources = (gen, [s for s in registry.all_sources() if s.key in keys])
        return kept[1]

    def changed_at(self) -> str:
        """The Atom time of the store's last data change: an empty feed's <updated>. The feed
        could only have changed then, and two readers a second apart get the same bytes
        (a clock stamp made them differ). Now, only for a store never written."""
        return views.atom_time(_parse_generation(self.store.generation()))

    def _prefetch(self, papers: Sequence[Paper]) -> None:
        for f in self.prefetch:
            f(papers)

    def html(self, template: str, **ctx: Any) -> bytes:
        out = self.env.get_template(template).render(**ctx)
        if template.endswith(".xml"):  # every feed, whoever renders it (search.py too)
            out = render.xml_safe(out)
        return out.encode()

    def listing_page(self, cats: spec.CategorySet, day: date | None, show: int | None) -> bytes:
        n = self.settings.page_size if show is None else max(1, show)
        with self.store.reading():  # one connection for its reads (Store.reading)
            L = views.listing(self.days, self.store, cats, day, 0, n)
            self._prefetch([x.paper for x in L.items])
            return self.html("listing.html", L=L, shown=min(n, L.total))

    def more(self, cats: spec.CategorySet, day: date, offset: int, limit: int) -> bytes:
        offset, limit = max(0, offset), max(1, limit)  # a negative slice would repeat cards
        L = views.listing(self.days, self.store, cats, day, offset, limit)
        prev_kind = L.entries[offset - 1][1] if 0 < offset <= L.total else None
        self._prefetch([x.paper for x in L.items])
        macro = self.env.get_template("_card.html").module.cards  # type: ignore[attr-defined]
        return str(macro(L.items, offset + 1, L.day, prev_kind)).encode()

    def feed(self, cats: spec.CategorySet, day: date | None) -> bytes:
        L = views.listing(self.days, self.store, cats, day)
        stamp = views.atom_time(views.announced_at(L.day)) if L.day else self.changed_at()
        first = self.store.first_days([x.paper.id for x in L.items])
        # a dated feed is a feed of its own: its id and self link say which day
        dated = f"?date={day.isoformat()}" if day else ""
        return self.html(
            "feed.xml",
            base=self.base,
            path=f"/arxiv/{cats.canonical}/feed{dated}",
            html_path=f"/arxiv/{cats.canonical}{dated}",
            title=f"{L.title} · Cool Papers",
            subtitle=f"arXiv listing of {views.fmt_date(L.day) or 'no day yet'}: {L.total} papers",
            updated=stamp,
            items=L.items,
            entry_time=lambda p: (p.updated.isoformat() + "Z") if p.updated else stamp,
            entry_published=lambda p: _published(p, first.get(p.id)),
        )

    def papers_feed(
        self, path: str, html_path: str, title: str, subtitle: str, papers: list[Paper]
    ) -> bytes:
        """Atom of papers not from one listing day (by id, related): each dated by its latest
        version where its source said, else by its first announcement here (daily files carry
        no time: 1970 was every such entry's date), else by its source's stand-in."""
        first = self.store.first_days([p.id for p in papers])
        times = {p.id: views.paper_time(p, first.get(p.id)) for p in papers}
        stamp = max((t for t in times.values() if t is not None), default=None)
        # a feed with no dated entry (none at all): the store's last change, as an empty
        # listing's feed is
        updated = views.atom_time(stamp) if stamp else self.changed_at()

        def entry_time(p: Paper) -> str:
            t = times.get(p.id)
            return views.atom_time(t) if t else updated

        return self.html(
            "feed.xml",
            base=self.base,
            path=path,
            html_path=html_path,
            title=title,
            subtitle=subtitle,
            updated=updated,
            items=[FeedItem(p) for p in papers],
            entry_time=entry_time,
            entry_published=lambda p: _published(p, first.get(p.id)),
        )

    def papers_page(
        self,
        wanted: Sequence[str],
        versions: dict[str, int | str] | None = None,
        branch: str = "arxiv",
    ) -> bytes:
        """Papers by id; `versions`: the version asked for, where one was (2309.16354v1).
        `branch`: the path they were asked under ("arxiv", "venue"), which names the page's
        body (clients read it: the Zotero translator saves a venue's papers as conference
        papers) and its feed."""
        got = self.lookup(wanted)
        found = got.found
        if got.pending:
            body = self.env.get_template("pending.html").render(
                items=[found[i] for i in wanted if i in found],
                pending=got.pending,
                missing=got.missing,
                reason=got.reason,
                retry=got.retry,
                body_id=branch,
            )
            raise _Pending(body.encode(), got.retry)
        if not found:
            raise _missing(got.missing, got.fetching)
        self._prefetch(list(found.values()))
        return self.html(
            "papers.html",
            items=[found[i] for i in wanted if i in found],
            missing=got.missing,
            fetching=got.fetching,
            versions=versions or {},
            days=self.store.first_days(list(found)),
            branch=branch,
            body_id=branch,
        )


def _missing(missing: Sequence[str], fetching: bool) -> views.NotFound:
    """A 404 for ids that no page can show, true to why: with fetching off, their source (arXiv,
    a venue's) was not asked."""
    links = [id_page(i) for i in missing]
    names = ", ".join(missing)
    where = " or ".join(dict.fromkeys(_source_name(i) for i in missing))
    if fetching:
        return views.NotFound(f"No paper {names} on {where}.", links)
    return views.NotFound(
        f"{names} {'is' if len(missing) == 1 else 'are'} not in this instance's store "
        f"(it does not fetch papers from {where} on demand).",
        links,
    )


def _source_name(key: str) -> str:
    """arXiv's name is the one pages always said; a venue source's is long ("ACL Anthology")."""
    try:
        return registry.source_of(key).name
    except BadId:
        return "its source"


def _respond(page: Page, request: Request) -> Response:
    body, headers = page_headers(page, request.headers.get("accept-encoding", ""))
    return Response(body, headers={k.decode(): v.decode() for k, v in headers})


def _parse_generation(gen: str) -> datetime:
    """The store's generation is the ISO time of its last write (naive UTC out); a store
    never written, or a key of another form, reads as now."""
    try:
        t = datetime.fromisoformat(gen)
    except ValueError:
        t = datetime.now(UTC)
    return t.astimezone(UTC).replace(tzinfo=None) if t.tzinfo else t


def _published(p: Paper, first: date | None) -> str | None:
    """An entry's Atom <published>: its first version's time where known, else when it was
    first announced here (`first`, its first listing day); None: no <published>."""
    if p.published:
        return views.atom_time(p.published)
    return views.atom_time(views.announced_at(first, p.source)) if first else None


def _date(raw: str | None) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError as e:
        raise views.NotFound(f"Bad date {raw!r}: use YYYY-MM-DD, e.g. 2025-03-18.") from e


ALL = views.ALL
_int = views.number


# The parameters each kind of cached page reads, read once here for the page and its cache key.


def _listing_args(q: QueryParams) -> dict[str, Any]:
    show = _int(q.get("show"), "show")
    return {"date": _date(q.get("date")), "show": None if show is None else max(1, show)}


def _feed_args(q: QueryParams) -> dict[str, Any]:
    return {"date": _date(q.get("date"))}


def _more_args(q: QueryParams) -> dict[str, Any]:
    return {
        "date": _date(q.get("date")),
        "offset": max(0, _int(q.get("offset"), "offset") or 0),
        "limit": max(1, min(_int(q.get("limit"), "limit") or 100, 1000)),
    }


@lru_cache(maxsize=4096)  # asked on every GET before routing: a hit costs 0.1 us, not 20
def page_key(path: str, query: bytes) -> str | None:
    """The page cache's key for a GET: the path and the parameters that page reads, as it reads
    them (the last of a repeated one, as request.query_params does; dates and numbers parsed),
    so that unknown parameters and other spellings share one entry. None: not a cached page,
    or parameters it rejects (a 404, never cached). Both the cache middleware, before routing,
    and the routes, before storing, ask this one function: they cannot disagree."""
    if path == "/":
        args: dict[str, Any] = {}
    elif path.startswith("/arxiv/"):
        rest = path.removeprefix("/arxiv/")
        head, _, tail = rest.rpartition("/")
        q = QueryParams(query.decode("latin-1"))
        try:
            if tail == "feed" and head:
                args = _feed_args(q)
            elif tail == "more" and head:
                args = _more_args(q)
            elif isinstance(spec.parse(rest), spec.IdList):
                args = {}  # papers by id: the path says it all
            else:
                args = _listing_args(q)
        except (views.NotFound, spec.BadSpec):
            return None
    elif path == "/venue" or path.startswith("/venue/"):
        try:
            venue_args = venue.key_args(
                path.removeprefix("/venue").removeprefix("/"), QueryParams(query.decode("latin-1"))
            )
        except views.NotFound:
            return None
        if venue_args is None:
            return None
        args = venue_args
    else:
        return None
    return path + "?" + urlencode(sorted((k, str(v)) for k, v in args.items() if v is not None))


def serve_app() -> FastAPI:
    """Each `coolpapers serve` worker's app: create_app's, with everything built so far
    frozen out of the garbage collector's reach (gc.freeze). A full collection walks every
    object it tracks: with the app's modules, templates and store it took 45-51 ms, three
    times in 600 new searches, and the search it landed on waited (SQLite 70k: a p99 of
    70-120 ms where p50 is 11-20). Frozen objects are never walked again; this app lives
    as long as the worker, so nothing frozen was garbage to free. Only for serve: a test
    process builds many apps and must free them.

    The worker's vectors (and their HNSW, search/vectors.py) start loading at once, in the
    background: the first reader of each worker waited for them otherwise, ~1 s at 70k
    papers on PostgreSQL (a p99 of 1.04 s in a bench run) and ~15 s at 1M."""
    app = create_app()
    site = app.state.site
    processes = site.settings.processes_for_search(workers=1)  # the CLI says when more
    if processes and hasattr(site, "search_answer"):
        from coolpapers.web.search_pool import SearchPool

        # new search answers in processes of their own (web/search_pool.py): they load
        # their own vectors; this process's load only if [REL] or ❤ asks for them
        site.search_pool = SearchPool(site.settings, processes)
    else:
        searcher = getattr(site, "search", None)
        if searcher is not None and searcher.semantic:
            threading.Thread(target=lambda: searcher.vectors, name="vectors", daemon=True).start()
    gc.collect()
    gc.freeze()
    return app


def create_app(
    settings: Settings | None = None,
    store: Store | None = None,
    fetcher: Fetcher | None = None,
    features: Sequence[feature.Feature] | None = None,
) -> FastAPI:
    """`fetcher`: stands in for every source's (tests); `features`: the built-in ones when
    None."""
    settings = settings or get_settings()
    store = store or Store.open(settings.database_url)
    site = Site(store, settings, fetcher)
    # edge.RESPONSES: what the edge middleware may answer, documented on every operation
    # /api/docs is served below, with Swagger UI from the package (FastAPI's takes a CDN's)
    app = FastAPI(title="coolpapers", docs_url=None, redoc_url=None, responses=edge.RESPONSES)
    app.state.site = site
    app.add_exception_handler(RequestValidationError, edge.validation_error)
    # a search process died with the question twice (web/search_pool.py): a 503, not a 500
    app.add_exception_handler(SearchFailed, unavailable)
    # the last added runs first: the edge cleans the query before the cache keys on it
    app.add_middleware(PageCacheMiddleware, cache=site.cache, key=page_key)
    app.add_middleware(edge.EdgeMiddleware)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    def not_found(e: views.NotFound) -> HTMLResponse:
        if isinstance(e, _Pending):
            headers = {"Retry-After": str(e.retry_after), "Cache-Control": "no-store"}
            return HTMLResponse(e.body, status_code=503, headers=headers)
        body = site.html("notfound.html", message=str(e), suggestions=e.suggestions)
        return HTMLResponse(body, status_code=404)

    async def no_route(request: Request, exc: Exception) -> Response:
        """A path no route takes is answered with the site's own 404 page (its examples, the
        header's search box), not `{"detail":"Not Found"}`: a reader typed or followed it.
        The JSON API's paths (and the static files', not pages) keep FastAPI's JSON."""
        if not isinstance(exc, StarletteHTTPException):  # registered for those only
            raise exc
        path = request.scope["path"]
        if exc.status_code == 404 and not path.startswith(("/api/", "/static/")):
            shown = path if len(path) <= 200 else path[:200] + "…"
            return not_found(views.NotFound(f"There is no page at {shown}."))
        return await http_exception_handler(request, exc)

    app.add_exception_handler(StarletteHTTPException, no_route)

    favicon = (HERE / "static" / "favicon.svg").read_bytes()

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon_ico() -> Response:
        """Browsers ask for /favicon.ico where a page names no icon (JSON, feeds): the SVG
        that pages link, which every current browser takes by its type."""
        return Response(
            favicon, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"}
        )

    @app.get("/api/docs", include_in_schema=False)
    async def api_docs() -> HTMLResponse:
        """Swagger UI over /openapi.json, from the package: it works offline."""
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="coolpapers API",
            swagger_js_url=f"{SWAGGER}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER}/swagger-ui.css",
            swagger_favicon_url=FAVICON,
            # no badge from swagger.io's online validator: nothing on this page leaves the site
            swagger_ui_parameters={"validatorUrl": None},
        )

    async def cached(request: Request, render_: Callable[[], bytes], media: str) -> Response:
        key = page_key(request.scope["path"], request.scope["query_string"])
        page = site.cache.lookup(key) if key is not None else None
        if page is None:

            def work() -> Page:
                # the page and its store (gzip) in one thread call: each hop costs under load
                body = render_()
                if key is None:
                    return Page.make(body, media)
                return site.cache.store_page(key, body, media)

            try:
                page = await run_in_threadpool(work)
            except views.NotFound as e:
                return not_found(e)
        return _respond(page, request)

    # Features (the FAQ, search, the API) are included here, BEFORE the catch-all
    # /arxiv/{path} below, so that /arxiv/kimi and /arxiv/search reach them.
    feature.install(app, site, feature.builtin() if features is None else features)

    @app.get("/", response_class=HTMLResponse)
    async def home(request: Request) -> Response:
        return await cached(
            request,
            lambda: site.html(
                "home.html",
                H=views.home(site.days, store),
                C=venue_views.collections(store),
                watch=site.settings.watch,
            ),
            "text/html; charset=utf-8",
        )

    # The Venue branch (web/venue.py): its own paths, none under /arxiv/.
    app.include_router(venue.routes(site, cached, not_found))

    @app.get("/arxiv", include_in_schema=False)
    async def arxiv_branch() -> Response:
        """The arXiv branch's own page is the home page (its archives and categories), as the
        header's "arXiv" link says; /arxiv/ (an empty spec) is sent there too, below."""
        return RedirectResponse("/", 301)

    @app.get(
        "/arxiv/{path:path}",
        response_class=HTMLResponse,
        responses=ARXIV_RESPONSES,
        openapi_extra={"parameters": ARXIV_PARAMETERS},
    )
    async def arxiv(path: str, request: Request) -> Response:
        """A listing (categories), papers by id, or a listing's /feed (Atom) or /more."""
        q = request.query_params
        if not path.strip(" /"):
            return RedirectResponse("/", 301)
        moved = venue.from_arxiv(path)
        if moved is not None:  # a venue paper's id: its page is /venue/<id>
            query = request.scope["query_string"].decode("latin-1")
            return RedirectResponse(moved + (f"?{query}" if query else ""), 301)
        # /arxiv/<spec>/feed and /arxiv/<spec>/more; an old-style id also has a '/'.
        head, _, tail = path.rpartition("/")
        try:
            if tail in ("feed", "more") and head:
                try:
                    parsed = _parse(head)
                except diagnose.Moved as m:
                    return _moved(f"{m.path}/{tail}", request)
                if not isinstance(parsed, spec.CategorySet):
                    raise views.NotFound("Feeds and pages are for category listings.")
                if tail == "feed":
                    day = _feed_args(q)["date"]
                    return await cached(
                        request,
                        lambda: site.feed(parsed, day),
                        "application/atom+xml; charset=utf-8",
                    )
                more = _more_args(q)
                if more["date"] is None:
                    raise views.NotFound("`more` needs ?date=YYYY-MM-DD.")
                return await cached(
                    request,
                    lambda: site.more(parsed, more["date"], more["offset"], more["limit"]),
                    "text/html; charset=utf-8",
                )
            try:
                parsed = _parse(path)
            except diagnose.Moved as m:
                return _moved(m.path, request)
            if isinstance(parsed, spec.IdList):
                # one card per paper: /arxiv/X,X and /arxiv/X,Xv2 show X once, as first asked
                first = {a.id: a for a in reversed(parsed.ids)}
                asked = [first[i] for i in dict.fromkeys(a.id for a in parsed.ids)]
                wanted = [a.id for a in asked]
                versions = {a.id: a.version for a in asked if a.version}
                canonical = ",".join(str(a) for a in asked)
                if canonical != path:
                    return RedirectResponse(f"/arxiv/{quote(canonical, safe='/,')}", 301)
                return await cached(
                    request,
                    lambda: site.papers_page(wanted, versions),
                    "text/html; charset=utf-8",
                )
            if parsed.canonical != path and "," not in path:
                # aliases (cs.NA -> math.NA) and spellings resolve to one URL per listing
                target = f"/arxiv/{parsed.canonical}"
                return RedirectResponse(target + (f"?{q}" if q else ""), 301)
            args = _listing_args(q)
            return await cached(
                request,
                lambda: site.listing_page(parsed, args["date"], args["show"]),
                "text/html; charset=utf-8",
            )
        except views.NotFound as e:
            return not_found(e)

    return app


HTML = {"text/html": {"schema": {"type": "string"}}}
ATOM = {"application/atom+xml": {"schema": {"type": "string"}}}
ARXIV_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The page; a listing's /feed is Atom", "content": {**HTML, **ATOM}},
    301: {"description": "To the canonical spelling of the path"},
    404: {"description": "Not a listing or a paper here; the page says why", "content": HTML},
    503: {"description": "Papers being fetched from arXiv (Retry-After)", "content": HTML},
}
ARXIV_PARAMETERS = [
    {"name": n, "in": "query", "required": False, "schema": {"type": "string"}, "description": d}
    for n, d in [
        ("date", "YYYY-MM-DD: the listing day (listings, feeds, /more)"),
        ("show", "cards in the first response of a listing: a number or `all`"),
        ("offset", "/more: cards to skip"),
        ("limit", "/more: cards to send (at most 1000)"),
    ]
]


def _listings(store: Store, source: str) -> Listings[Any]:
    listings = registry.get(source).listings(store)
    if listings is None:
        raise ValueError(f"source {source!r} lists no papers")
    return listings


def _parse(path: str) -> spec.CategorySet | spec.IdList:
    """What `path` names; raises diagnose.Moved for codes in the wrong case, else NotFound."""
    try:
        return spec.parse(path)
    except spec.BadSpec as e:
        fixed = diagnose.moved(path)
        if fixed is not None:
            raise diagnose.Moved(fixed) from e
        raise diagnose.explain(path, e) from e


def _moved(path: str, request: Request) -> Response:
    q = request.scope["query_string"].decode("latin-1")
    return RedirectResponse(f"/arxiv/{quote(path, safe='/,+')}" + (f"?{q}" if q else ""), 301)


__all__ = ["Listed", "Site", "create_app"]
