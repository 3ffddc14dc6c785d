"""Search pages and APIs (issue 4), a feature (web/feature.py) included before /arxiv/{path}
and /venue/{path}.

/search?query=...              both branches: arXiv and venue papers in one ranking (the top
                               search box's default)
/arxiv/search?query=...        arXiv's papers only, as on papers.cool (&sort=date,
                               &mode=keyword|semantic, &page=N, &highlight=1 marks the query
                               words on the page)
/venue/search?query=...        conference papers only (every source but arXiv)
<any of these>/feed?query=...  Atom, newest first: watch a query for new papers
/api/search?query=...          JSON (&branch=arxiv|venue keeps to one; both by default)
/arxiv/related/<id>            the [REL] list (?fragment=1: the inline part the button loads)
/arxiv/related/<id>/feed       the same as Atom
/api/related/<id>              JSON
POST /api/taste                the ❤ order of a listing for the reader's keywords and clicks

Every search output says what it found and what it could not read: a paper found by meaning
only is "similar" (a label on its card and data-match="semantic", `"similar": true` in the
JSON, the category "similar" in a feed), the total counts matches and similar papers alike
whatever the sort, and a filter, sort or number that could not be read is a notice on the page,
a `warnings` entry in the JSON and a note in the feed's subtitle.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote, urlencode

from anyio import CapacityLimiter, to_thread
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from markupsafe import Markup
from pydantic import AfterValidator, BaseModel, Field, StringConstraints
from starlette.concurrency import run_in_threadpool

from coolpapers.records import Paper
from coolpapers.search import textindex
from coolpapers.search.keyword import Snippet, engine_for
from coolpapers.search.query import shown
from coolpapers.search.service import Result, Results, Searcher
from coolpapers.sources import registry
from coolpapers.sources.base import BadId
from coolpapers.web import views
from coolpapers.web.api import PaperOut
from coolpapers.web.cache import Page, page_headers
from coolpapers.web.edge import Clean
from coolpapers.web.feature import Builtin, Parts
from coolpapers.web.render import esc, marked

if TYPE_CHECKING:
    from coolpapers.web.app import Site
    from coolpapers.web.search_pool import Answer

# Snippets of the results being rendered, for the card panel (cards are rendered by the
# shared macro, which only passes the paper along).
# The keywords of the cards being rendered, looked up once per page (Site.prefetch).
_keywords: contextvars.ContextVar[dict[str, list[str]] | None] = contextvars.ContextVar(
    "search_keywords", default=None
)
_snippets: contextvars.ContextVar[dict[str, Snippet] | None] = contextvars.ContextVar(
    "search_snippets", default=None
)
# How each result of the page being rendered was found (Result.source), for its card's
# data-match attribute and its "similar" label.
_matches: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "search_matches", default=None
)
SIMILAR_TITLE = "Similar in meaning to the query; it does not contain the query's words"


# An id as a page sends it (2309.16354, hep-th/9901001v2): ids are never longer.
_Id = Annotated[Clean, StringConstraints(max_length=64)]
# A preference keyword is a phrase matched in order: a long one costs time per word (a 200 kB
# "keyword" held a worker 36 s on SQLite and overflowed PostgreSQL's stack), and a longer
# phrase matches nothing anyway. Cut, not refused: the reader's other keywords still count.
KEYWORD_CHARS = 100
_Keyword = Annotated[Clean, AfterValidator(lambda k: k[:KEYWORD_CHARS])]


class _Error(BaseModel):
    error: str


class TasteRequest(BaseModel):
    ids: list[_Id] = Field(default_factory=list, max_length=5000)
    keywords: list[_Keyword] = Field(default_factory=list, max_length=200)
    clicked: list[_Id] = Field(default_factory=list, max_length=1000)


# What the search routes read from the query (they read it leniently: a bad number is the
# default), for the OpenAPI description.
def _params(*names: tuple[str, str]) -> dict[str, Any]:
    return {
        "parameters": [
            {
                "name": n,
                "in": "query",
                "required": False,
                "schema": {"type": "string"},
                "description": d,
            }
            for n, d in names
        ]
    }


_SEARCH = (
    ("query", "the query (see the query language on the search page); also `q`"),
    ("q", "the query, as papers.cool's links name it"),
    ("sort", "relevance | date"),
    ("mode", "hybrid | keyword | semantic"),
    ("page", "1-based page of results"),
    ("show", "results per page, 1-200"),
    ("from", "first day (YYYY, YYYY-MM or YYYY-MM-DD)"),
    ("to", "last day, inclusive"),
    ("branch", "arxiv | venue: one branch only (the API; both by default)"),
)
# The search pages of each scope: (path, branch, what the page calls its papers)
SCOPES = (
    ("/search", None, "papers"),
    ("/arxiv/search", "arxiv", "arXiv papers"),
    ("/venue/search", "venue", "conference papers"),
)
HTML = {"text/html": {"schema": {"type": "string"}}}
ATOM = {"application/atom+xml": {"schema": {"type": "string"}}}
NOT_FOUND_HTML = {404: {"description": "Not a paper id, or no such paper here", "content": HTML}}


def _int(raw: str | None, default: int, lo: int, hi: int) -> int:
    try:
        return min(max(int(raw or default), lo), hi)
    except ValueError:
        return default


def search_args(q: Any, **kw: Any) -> tuple[str, dict[str, Any]]:
    """Searcher.search's arguments for a search route's query parameters (read leniently:
    a bad number is the default)."""
    return q.get("query", "") or q.get("q", ""), {
        "sort": q.get("sort", "relevance"),
        "page": _int(q.get("page"), 1, 1, 1_000_000),
        "mode": q.get("mode", "hybrid"),
        "since": q.get("from"),
        "until": q.get("to"),
        **kw,
    }


def _number_warnings(q: Any) -> list[str]:
    """A notice for each of page= and show= that is not a whole number (the default is used)."""
    out = []
    for name, default in (("page", "page 1 is shown"), ("show", "the usual number is shown")):
        raw = q.get(name)
        if raw:
            try:
                int(raw)
            except ValueError:
                out.append(f"{name}={shown(raw)} is not a whole number; {default}.")
    return out


class SearchResultOut(PaperOut):
    """A paper found by a search: the JSON API's paper, and what the search says of it."""

    # Times end in "Z" here, as the search API has always written them (PaperOut's own are
    # naive): they are naive UTC in the store, made aware below.
    score: float = Field(description="the ranking's score (higher first)")
    match: str = Field(description="the ranking that found it: keyword | semantic | both")
    similar: bool = Field(
        description="found by meaning only (match: semantic): it does not match the query's "
        "words; false for a paper that matches them"
    )
    keywords: list[str]
    snippet_html: str | None = Field(description="the abstract, query words in <mark>")
    title_html: str | None = Field(description="the title, query words in <mark>")


class SearchOut(BaseModel):
    """A page of results, or (`redirect` set, no other field) where a pasted id leads."""

    query: str
    redirect: str | None = Field(None, description="a pasted arXiv id or URL: its papers' page")
    sort: str | None = Field(None, description="relevance | date")
    mode: str | None = Field(None, description="hybrid | keyword | semantic")
    page: int | None = None
    per_page: int | None = None
    total: int | None = Field(None, description="matched + similar; the same for every sort")
    exact: bool | None = Field(
        None,
        description="false: more papers match than were counted (10,000): `total` and "
        '`matched` are lower bounds ("more than")',
    )
    matched: int | None = Field(None, description="papers that match the query's words")
    similar: int | None = Field(
        None, description="papers found by meaning only (hybrid and semantic rankings)"
    )
    warnings: list[str] = Field(
        default_factory=list,
        description="what of the request was not searched as written: a filter that could "
        "not be read, an unknown sort or mode",
    )
    results: list[SearchResultOut]


class RelatedOut(BaseModel):
    id: str
    keywords: list[str] = Field(description="the paper's own keywords")
    results: list[SearchResultOut]


def _utc(t: datetime | None) -> datetime | None:
    return t.replace(tzinfo=UTC) if t is not None else None


def _result_json(r: Result, keywords: list[str]) -> dict[str, Any]:
    p = r.paper
    out = SearchResultOut(
        **{
            **PaperOut.of(p).model_dump(),
            "published": _utc(p.published),
            "updated": _utc(p.updated),
        },
        score=r.score,
        match=r.source,
        similar=r.similar,
        keywords=keywords,
        snippet_html=str(marked(r.snippet.abstract)) if r.snippet else None,
        title_html=str(marked(r.snippet.title)) if r.snippet else None,
    )
    return out.model_dump(mode="json")


def build(site: Site) -> Parts:
    # A search and its page run in one of a few threads (COOLPAPERS_SEARCH_THREADS), not in
    # any of the 40 of the shared pool: threads contending for the GIL cost CPU and answers.
    # Each SQLite statement, numpy or index call lets go of the GIL, and with another search
    # waiting, every such call is a hand-over between threads. SQLite 70k, wrk -c32 on new
    # URLs (bench/search_http.py): 40 threads p99 1.08 s, 54 pages/s; 4 threads 0.68 s, 62
    # pages/s (stop 24); 1 thread 16-22 ms of the worker's CPU a page against 21-28 with 4,
    # interleaved runs of one hour (stop 30). The event loop's own thread is worse still
    # (p99 6-7 s: a search never yields to the loop). PostgreSQL, 2 workers: 1, 2 and 4
    # threads within the noise; 2, so that one search's Python runs while another waits.
    searching = CapacityLimiter(site.settings.searches_at_once)
    searcher = Searcher(
        site.store,
        semantic=site.settings.search_semantic,
        keyword=engine_for(site.store, site.settings),
        # beside the text index: one HNSW build for all workers and restarts
        vectors_saved=textindex.directory(site.store, site.settings),
    )
    site.search = searcher
    per_page = site.settings.search_per_page

    def rel_button(p: Paper) -> Markup:
        pid = esc(p.id)
        return Markup(
            f'<a id="rel-{pid}" class="title-rel notranslate" href="/arxiv/related/{pid}" '
            f'data-paper="{pid}" title="Related papers">[REL]</a>'
        )

    def similar_label(p: Paper) -> Markup:
        # only on a search page, only for the papers found by meaning alone
        if (_matches.get() or {}).get(p.id) != "semantic":
            return Markup("")
        return Markup(
            f'<span class="match-similar notranslate" title="{esc(SIMILAR_TITLE)}">similar</span>'
        )

    def match_attr(p: Paper) -> Markup:
        how = (_matches.get() or {}).get(p.id)
        return Markup(f' data-match="{esc(how)}"') if how else Markup("")

    def snippet_panel(p: Paper) -> Markup:
        s = (_snippets.get() or {}).get(p.id)
        if not s or "\x02" not in s.abstract:
            return Markup("")
        return Markup('<p class="snippet">') + marked(s.abstract) + Markup("</p>")

    def prefetch_keywords(papers: Sequence[Paper]) -> None:
        ids = [p.id for p in papers]
        got = searcher.keywords(ids)
        _keywords.set({i: got.get(i, []) for i in ids})

    def keywords_attr(p: Paper) -> Markup:
        known = _keywords.get()
        if known is not None and p.id in known:
            kws = known[p.id]
        else:  # a card rendered without a prefetch (a page of its own): one lookup
            kws = searcher.keywords([p.id]).get(p.id, [])
        return Markup(f' keywords="{esc(", ".join(kws))}"') if kws else Markup("")

    r = APIRouter()

    def cache_key(path: str, q: Any, seq: int) -> str:
        """A search answer is the same bytes for every reader until the data changes (the
        page cache's generation) or the vectors it was made with catch up (their `seq`):
        kept under the parameters it reads, so a popular query costs one search."""
        params = sorted((k, q.get(k)) for k in _KEYS if k in q)
        return f"search:{path}?{urlencode(params)}#{seq}"

    def vectors_seq() -> int:
        vectors = searcher._vectors  # not loaded by asking: a keyword-only site has none
        return vectors.seq if vectors else 0

    # What each search route answers, by its path: bytes (a page, kept by the page cache)
    # or a Response that is not kept (a redirect)
    answers: dict[str, Callable[[Any], bytes | Response]] = {}

    def search_answer(path: str, q: Any) -> Answer:
        """The answer to the search route `path` for the query `q`, made in this thread
        with one connection for its ~12 reads, and its gzip: in one of this process's
        search threads or in a search process (web/search_pool.py)."""
        seq = vectors_seq()  # before: a page made as the vectors catch up is of the older
        with site.store.reading():
            body = answers[path](q)
        if isinstance(body, bytes):
            return seq, Page.make(body, _MEDIA.get(path, HTML_MEDIA))
        return seq, body

    site.search_answer = search_answer

    async def ask_searcher(name: str, *args: Any, **kw: Any) -> Any:
        """`searcher.<name>(...)` for a route: in a search process where this web process
        has them (web/search_pool.py: it then loads no vectors of its own), else in a
        thread."""
        pool = site.search_pool
        if pool is not None:
            return await pool.call(name, *args, **kw)
        return await run_in_threadpool(getattr(searcher, name), *args, **kw)

    async def cached(request: Request, path: str) -> Response:
        """The cached answer of this request, else a new one, kept. Made in one call to a
        search thread (a hop to another thread is one more hand-over of the GIL under load)
        or, where the site has them, by a search process."""
        q = request.query_params
        pool = site.search_pool
        page = site.cache.lookup(cache_key(path, q, pool.seq if pool else vectors_seq()))
        if page is None:
            if pool is not None:
                seq, got = await pool.answer(path, q.multi_items())
            else:
                seq, got = await to_thread.run_sync(search_answer, path, q, limiter=searching)
            if not isinstance(got, Page):
                return got
            page = site.cache.keep(cache_key(path, q, seq), got)
        return _respond(page, request)

    def run(q: Any, **kw: Any) -> Results:
        query, kw = search_args(q, **kw)
        res = searcher.search(query, **kw)
        res.warnings += _number_warnings(q)
        return res

    def page_html(
        res: Results, params: dict[str, str], highlight: bool, path: str, what: str
    ) -> bytes:
        # none with &highlight=1: the whole abstract is marked (search.js), and the search
        # made no snippet (search_page's `make`)
        snips = {it.paper.id: it.snippet for it in res.items if it.snippet}
        token = _snippets.set(snips)
        how = _matches.set({it.paper.id: it.source for it in res.items})
        # every feature's card additions for the whole page at once (keywords, venues)
        site._prefetch([it.paper for it in res.items])
        try:

            def link(page: int) -> str:
                return path + "?" + urlencode({**params, "page": str(page)})

            # the same query in each scope: the switch between the branches
            same = urlencode({k: v for k, v in params.items() if k != "page"})
            scopes = [(p, w, p == path, f"{p}?{same}") for p, _, w in SCOPES]
            return site.html(
                "search.html",
                R=res,
                start=(res.page - 1) * res.per_page + 1,
                words=" ".join(res.parsed.words()),
                highlight=highlight,
                link=link,
                feed=f"{path}/feed?" + urlencode(_feed_params(res)),
                action=path,
                scopes=scopes,
                what=what,
                similar_title=SIMILAR_TITLE,
            )
        finally:
            _matches.reset(how)
            _snippets.reset(token)

    def scope_routes(path: str, branch: str | None, what: str) -> None:
        """The page and the feed of one scope (see SCOPES)."""

        @r.get(
            path,
            response_class=HTMLResponse,
            responses={302: {"description": "A pasted paper id or URL: to its papers"}},
            openapi_extra=_params(*_SEARCH, ("highlight", "1: mark the query's words")),
            name=f"search_page{path.replace('/', '_')}",
        )
        async def search_page(request: Request) -> Response:
            return await cached(request, path)

        def page_answer(q: Any) -> bytes | Response:
            show = _int(q.get("show"), per_page, 1, 200)
            params = {k: v for k, v in q.items() if k != "page"}
            highlight = q.get("highlight") == "1"
            # the page shows the abstract's snippet only (snippet_panel), and none where the
            # whole abstract is marked (&highlight=1)
            res = run(q, per_page=show, branch=branch, snippets=not highlight, titles=False)
            if res.redirect:
                return RedirectResponse(res.redirect, 302)
            return page_html(res, params, highlight, path, what)

        answers[path] = page_answer

        @r.get(
            f"{path}/feed",
            response_class=Response,
            responses={200: {"description": "Atom, newest first", "content": ATOM}},
            openapi_extra=_params(*_SEARCH[:2], _SEARCH[3], *_SEARCH[6:]),
            name=f"search_feed{path.replace('/', '_')}",
        )
        async def search_feed(request: Request) -> Response:
            q = dict(request.query_params)
            q["sort"] = "date"
            query, kw = search_args(q, per_page=50, snippets=False, branch=branch)
            res = await ask_searcher("search", query, **kw)
            res.warnings += _number_warnings(q)
            # the feed changed when its newest entry did: a stable stamp for a stable result
            # (the store's last change, for an empty feed)
            stamps = [t for it in res.items if (t := it.paper.updated or it.paper.published)]
            ids = [it.paper.id for it in res.items]
            days = await run_in_threadpool(site.store.first_days, ids) if ids else {}
            stamps += [datetime(d.year, d.month, d.day) for d in days.values()]
            if stamps:
                now = views.atom_time(max(stamps))
            else:
                now = await run_in_threadpool(site.changed_at)
            body = await run_in_threadpool(
                site.html,
                "feed.xml",
                base=site.base,
                path=request.url.path + "?" + urlencode(_feed_params(res)),
                html_path=f"{path}?" + urlencode({**_feed_params(res), "sort": "date"}),
                title=f"{res.query} · Cool Papers search",
                subtitle=_feed_subtitle(res, what),
                updated=now,
                # a similar paper is labelled as such: its entry's category and content
                items=[
                    views.FeedItem(it.paper, group="similar" if it.similar else None)
                    for it in res.items
                ],
                entry_time=lambda p: (p.updated.isoformat() + "Z") if p.updated else now,
            )
            return Response(body, media_type="application/atom+xml; charset=utf-8")

    for path, branch, what in SCOPES:
        scope_routes(path, branch, what)

    @r.get(
        "/api/search",
        openapi_extra=_params(*_SEARCH),
        responses={200: {"model": SearchOut, "description": "Results, or a redirect"}},
    )
    async def search_api(request: Request) -> Response:
        return await cached(request, "/api/search")

    def api_answer(q: Any) -> bytes | Response:
        show = _int(q.get("show"), per_page, 1, 200)
        res = run(q, per_page=show, branch=q.get("branch"))
        if res.redirect:
            return JSONResponse({"query": res.query, "redirect": res.redirect, "results": []})
        kws = searcher.keywords([it.paper.id for it in res.items])
        return JSONResponse(
            {
                "query": res.query,
                "sort": res.sort,
                "mode": res.mode,
                "page": res.page,
                "per_page": res.per_page,
                "total": res.total,
                "exact": res.exact,
                "matched": res.matched,
                "similar": res.similar,
                "warnings": res.warnings,
                "results": [_result_json(it, kws.get(it.paper.id, [])) for it in res.items],
            }
        ).body

    answers["/api/search"] = api_answer

    def _pid(raw: str) -> str:
        try:
            return registry.key(raw)
        except BadId as e:
            raise views.NotFound(f"{raw!r} is not a paper id.") from e

    async def related_of(raw: str) -> tuple[Paper, list[Result]] | HTMLResponse:
        """The paper `raw` names and its related papers, or the 404 page to answer."""
        try:
            pid = _pid(raw)
        except views.NotFound as e:
            return HTMLResponse(site.html("notfound.html", message=str(e), suggestions=[]), 404)
        found = await run_in_threadpool(site.store.papers, [pid])
        if pid not in found:
            msg = f"No paper {pid} here."
            return HTMLResponse(site.html("notfound.html", message=msg, suggestions=[]), 404)
        return found[pid], await ask_searcher("related", pid)

    # before the page's route, whose {raw:path} would take "<id>/feed" for an id
    @r.get(
        "/arxiv/related/{raw:path}/feed",
        response_class=Response,
        responses={200: {"description": "Atom", "content": ATOM}, **NOT_FOUND_HTML},
    )
    async def related_feed(raw: str) -> Response:
        got = await related_of(raw)
        if isinstance(got, HTMLResponse):
            return got
        paper, items = got
        body = await run_in_threadpool(
            site.papers_feed,
            f"/arxiv/related/{paper.id}/feed",
            f"/arxiv/related/{paper.id}",
            f"Related to {paper.title} · Cool Papers",
            f"Papers related to arXiv:{paper.id}",
            [it.paper for it in items],
        )
        return Response(body, media_type="application/atom+xml; charset=utf-8")

    @r.get(
        "/arxiv/related/{raw:path}",
        response_class=HTMLResponse,
        responses=NOT_FOUND_HTML,
        openapi_extra=_params(("fragment", "1: only the list the [REL] button shows")),
    )
    async def related_page(raw: str, request: Request) -> Response:
        got = await related_of(raw)
        if isinstance(got, HTMLResponse):
            return got
        paper, items = got
        fragment = request.query_params.get("fragment") == "1"
        template = "_related.html" if fragment else "related.html"

        def render() -> bytes:
            # in the thread that renders: the prefetched additions live in its context
            site._prefetch([paper, *[it.paper for it in items]])
            return site.html(template, paper=paper, items=items)

        body = await run_in_threadpool(render)
        return HTMLResponse(body)

    @r.get(
        "/api/related/{raw:path}",
        responses={
            200: {"model": RelatedOut, "description": "Its related papers"},
            404: {"description": "Not a paper id", "model": _Error},
        },
    )
    async def related_api(raw: str) -> Response:
        try:
            pid = _pid(raw)
        except views.NotFound as e:
            return JSONResponse({"error": str(e)}, 404)
        items = await ask_searcher("related", pid)
        kws = await run_in_threadpool(searcher.keywords, [pid, *[i.paper.id for i in items]])
        return JSONResponse(
            {
                "id": pid,
                "keywords": kws.get(pid, []),
                "results": [_result_json(i, kws.get(i.paper.id, [])) for i in items],
            }
        )

    @r.post("/api/taste")
    async def taste_api(body: TasteRequest) -> Response:
        order = await ask_searcher("taste", body.ids, body.keywords, body.clicked)
        return JSONResponse({"order": [{"id": pid, "score": s} for pid, s in order]})

    @r.get("/api/keywords")
    async def keywords_api(
        wanted: Annotated[str, Query(alias="ids", description="a,b,c (at most 500)")] = "",
    ) -> Response:
        # ids are never longer than 64 characters: a longer one is nobody's, so not looked up
        wanted = [i for i in wanted.split(",") if i and len(i) <= 64][:500]
        return JSONResponse(await run_in_threadpool(searcher.keywords, wanted))

    return Parts(
        r,
        card_buttons=[rel_button, similar_label],
        card_panels=[snippet_panel],
        card_attrs=[keywords_attr, match_attr],
        # how a card matched this query: the rest of a card is the same on every page
        per_page=[similar_label, snippet_panel, match_attr],
        prefetch=prefetch_keywords,
    )


def _feed_params(res: Results) -> dict[str, str]:
    """The query of a page's feed: its words and, when not the default, its ranking (the feed
    lists the same papers as the page, newest first)."""
    return {"query": res.query, **({"mode": res.mode} if res.mode != "hybrid" else {})}


def _respond(page: Page, request: Request) -> Response:
    """A cached answer, gzipped when the client takes it."""
    body, headers = page_headers(page, request.headers.get("accept-encoding", ""))
    return Response(body, headers={k.decode(): v.decode() for k, v in headers})


# the parameters a search answer reads (cache_key): the rest (&utm_source=...) share one entry
HTML_MEDIA = "text/html; charset=utf-8"
_MEDIA = {"/api/search": "application/json"}
_KEYS = ("query", "q", "sort", "mode", "page", "show", "from", "to", "highlight", "branch")


def _feed_subtitle(res: Results, what: str) -> str:
    counts = f"{res.total} in all" if res.exact else f"more than {res.total:,}"
    if res.similar:
        counts += f" ({res.matched} match the words, {res.similar} similar in meaning)"
    notes = "".join(f" Note: {w}" for w in res.warnings)
    return f"Newest {what} matching {res.query!r}: {counts}.{notes}"


FEATURE = Builtin("search", build)


def search_url(query: str) -> str:
    return "/arxiv/search?query=" + quote(query)
