"""The JSON API (described at /openapi.json, browsable at /api/docs) and the Atom feed of ids.

GET /api/listing/{spec}?date=&offset=&limit=   a day's listing: day, groups, entries with papers
GET /api/papers/{id}                           one paper (any source's id, in any form;
                                               fetched on demand; 503 + Retry-After while
                                               its source cannot answer)
GET /api/papers/{id}/bibtex                    its BibTeX entry, from its source (text/plain)
GET /api/papers?ids=a,b                        several papers, in the order asked
GET /arxiv/{id},{id}/feed                      an Atom feed of papers by id (a starred list)

The FAQ's routes (/api/papers/{id}/faq, /api/counters) and search's (/api/search) live with
their features; this router is included after theirs, so their longer paths win.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.convertors import Convertor, register_url_convertor

from coolpapers.records import Paper
from coolpapers.sources import registry
from coolpapers.sources.arxiv import ids
from coolpapers.sources.base import BadId
from coolpapers.web import spec, texts, views
from coolpapers.web.feature import Builtin, Parts
from coolpapers.web.lookup import Found

if TYPE_CHECKING:
    from coolpapers.web.app import Site

MAX_IDS = 200
MAX_OFFSET = 1_000_000  # no day is longer; past it SQL's integers overflow (a 500)
ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
# /arxiv/<ids>/feed is arXiv's path (like web/spec.py): routed by the shape of arXiv's ids
_ONE_ID = rf"(?:arxiv:)?{ids.PATTERN}"


class IdListConvertor(Convertor[str]):
    """A comma-separated list of arXiv ids in a path, never a category set: lets
    /arxiv/<ids>/feed be routed here while /arxiv/<categories>/feed stays with the app."""

    regex = rf"{_ONE_ID}(?:,{_ONE_ID})*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("arxivids", IdListConvertor())


class TldrOut(BaseModel):
    text: str = Field(description="one sentence, written by the model")
    model: str
    prompt_version: str


class PaperOut(BaseModel):
    id: str = Field(description="arXiv id without version", examples=["2309.16354"])
    version: int | None = Field(description="latest known version")
    title: str
    authors: list[str]
    abstract: str
    categories: list[str] = Field(description="primary category first")
    comments: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    license: str | None = None
    published: datetime | None = Field(description="first version, UTC")
    updated: datetime | None = Field(description="latest version, UTC")
    url: str = Field(description="this paper's page on this instance")
    source: str = Field(description="the source it comes from", examples=["arxiv"])
    abs_url: str = Field(description="its page at the source (at the latest known version)")
    pdf_url: str | None = Field(description="its PDF at the source")
    html_url: str | None = Field(description="its full text as HTML at the source, if any")
    tldr: TldrOut | None = Field(
        default=None, description="its TL;DR where one is kept (written by the LLM)"
    )

    @classmethod
    def of(cls, p: Paper, tldr: dict[str, str] | None = None) -> PaperOut:
        links = registry.get(p.source).links(p)
        return cls(
            id=p.id,
            version=p.version,
            title=p.title,
            authors=p.authors,
            abstract=p.abstract,
            categories=p.categories,
            comments=p.comments,
            journal_ref=p.journal_ref,
            doi=p.doi,
            license=p.license,
            published=p.published,
            updated=p.updated,
            url=f"/arxiv/{p.id}",
            source=p.source,
            abs_url=links.page,
            pdf_url=links.pdf,
            html_url=links.html,
            tldr=TldrOut(**tldr) if tldr else None,
        )


class GroupOut(BaseModel):
    kind: str = Field(description="new | cross | replace | replace-cross")
    label: str
    count: int
    start: int = Field(description="1-based number of the group's first entry")


class EntryOut(BaseModel):
    n: int = Field(description="1-based number on the day's page")
    kind: str
    paper: PaperOut


class ListingOut(BaseModel):
    spec: str = Field(description="canonical category set, e.g. cs.AI+cs.LG-cs.CY")
    title: str
    categories: list[str]
    excluded: list[str]
    day: date | None = Field(description="the day shown; null: no announcement that day")
    requested: date | None = Field(description="the date asked for, when it had no announcement")
    previous: date | None
    next: date | None
    total: int
    offset: int
    groups: list[GroupOut]
    entries: list[EntryOut]


class Error(BaseModel):
    detail: str


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the HTTPException answers of a route (their body: {"detail"})."""
    return {c: {"model": Error, "description": "What was wrong"} for c in codes}


class PapersOut(BaseModel):
    papers: list[PaperOut]
    missing: list[str] = Field(description="ids asked for and not found")


def _ids(raw: str) -> list[str]:
    out: list[str] = []
    for part in re.split(r"[,\s]+", raw):
        if not part:
            continue
        try:
            out.append(registry.key(part))
        except BadId as e:
            raise HTTPException(400, str(e)) from e
    if not out:
        raise HTTPException(400, "no paper id given")
    if len(out) > MAX_IDS:
        raise HTTPException(400, f"at most {MAX_IDS} ids at once")
    return list(dict.fromkeys(out))


def _pending(got: Found) -> HTTPException:
    """Nothing to answer yet: the source could not be asked now (busy, paced, down)."""
    return HTTPException(503, got.message, headers={"Retry-After": str(got.retry)})


def build(site: Site) -> Parts:
    r = APIRouter()

    def tldrs(papers: list[Paper]) -> dict[str, dict[str, str]]:
        """The kept TL;DRs of these papers (the texts feature's, when installed)."""
        return texts.tldr_json(getattr(site, "texts", None), [p.id for p in papers])

    def one(raw: str) -> Paper:
        """The one paper a path names: 400 for several or none, 404 when there is no such,
        503 while its source cannot be asked."""
        want = _ids(raw)
        if len(want) != 1:
            raise HTTPException(400, "one id here; use /api/papers?ids= for several")
        got = site.lookup(want)
        if want[0] in got.found:
            return got.found[want[0]]
        if got.pending:
            raise _pending(got)
        raise HTTPException(404, f"no paper {want[0]}")

    @r.get(
        "/api/listing/{spec_:path}", tags=["api"], response_model=ListingOut, responses=_errors(404)
    )
    def listing(
        spec_: str,
        date_: Annotated[date | None, Query(alias="date", description="YYYY-MM-DD")] = None,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
        limit: Annotated[int | None, Query(ge=1, le=2000)] = None,
    ) -> ListingOut:
        """A day's listing of a category set (papers.cool syntax), the latest day by default."""
        try:
            parsed = spec.parse(spec_)
        except spec.BadSpec as e:
            raise HTTPException(404, str(e)) from e
        if not isinstance(parsed, spec.CategorySet):
            raise HTTPException(404, "a listing is of categories; use /api/papers?ids= for ids")
        L = views.listing(site.days, site.store, parsed, date_, offset, limit)
        tl = tldrs([it.paper for it in L.items])
        return ListingOut(
            spec=parsed.canonical,
            title=L.title,
            categories=list(parsed.include),
            excluded=list(parsed.exclude),
            day=L.day,
            requested=L.requested,
            previous=L.previous,
            next=L.next,
            total=L.total,
            offset=offset,
            groups=[
                GroupOut(kind=g.kind.label, label=g.label, count=g.count, start=g.start)
                for g in L.groups
            ],
            entries=[
                EntryOut(
                    n=offset + i + 1,
                    kind=it.kind.label,
                    paper=PaperOut.of(it.paper, tl.get(it.paper.id)),
                )
                for i, it in enumerate(L.items)
            ],
        )

    @r.get("/api/papers", tags=["api"], response_model=PapersOut, responses=_errors(400, 503))
    def papers(wanted: Annotated[str, Query(alias="ids", description="a,b,c")]) -> PapersOut:
        """Several papers by id, in the order asked; unknown ids are listed in `missing`.
        503 (Retry-After) when none is found yet and some wait for their source."""
        want = _ids(wanted)
        got = site.lookup(want)
        if not got.found and got.pending:
            raise _pending(got)
        found = got.found
        tl = tldrs(list(found.values()))
        return PapersOut(
            papers=[PaperOut.of(found[i], tl.get(i)) for i in want if i in found],
            missing=[i for i in want if i not in found],
        )

    # Before /api/papers/{paper_id:path}, whose path would take "<id>/bibtex" as an id.
    @r.get(
        "/api/papers/{paper_id:path}/bibtex",
        tags=["api"],
        response_class=PlainTextResponse,
        responses={
            200: {
                "description": "BibTeX",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            },
            # JSON like every error here, not the route's text/plain
            **{c: {"description": "What was wrong", "content": ERROR} for c in (400, 404, 503)},
        },
    )
    def paper_bibtex(paper_id: str) -> PlainTextResponse:
        """A paper's BibTeX entry, as its source exports it (the reader's [Copy])."""
        p = one(paper_id)
        # A paper's entry changes only with a new version: an hour of caching is harmless.
        return PlainTextResponse(
            registry.get(p.source).bibtex(p), headers={"Cache-Control": "public, max-age=3600"}
        )

    @r.get(
        "/api/papers/{paper_id:path}",
        tags=["api"],
        response_model=PaperOut,
        responses=_errors(400, 404, 503),
    )
    def paper(paper_id: str) -> PaperOut:
        """One paper; old-style ids keep their slash (/api/papers/hep-th/9901001)."""
        p = one(paper_id)
        return PaperOut.of(p, tldrs([p]).get(p.id))

    @r.get(
        "/arxiv/{wanted:arxivids}/feed",
        tags=["feeds"],
        response_class=Response,
        responses={
            200: {"description": "Atom", "content": {"application/atom+xml": {}}},
            404: {"description": "Not an arXiv id", "content": {"text/html": {}}},
        },
    )
    async def ids_feed(wanted: str) -> Response:
        """Atom feed of papers by id, e.g. an exported list of starred papers."""
        try:
            # the path only looks like ids (9999.99999, 2309.1234): say which is not one
            want = list(dict.fromkeys(registry.key(i) for i in wanted.split(",")))[:MAX_IDS]
        except BadId as e:
            body = site.html("notfound.html", message=f"{e}.", suggestions=[])
            return HTMLResponse(body, status_code=404)
        found = await run_in_threadpool(site.store.papers, want)
        papers = [found[i] for i in want if i in found]
        body = await run_in_threadpool(
            site.papers_feed,
            "/arxiv/" + ",".join(want) + "/feed",
            "/arxiv/" + ",".join(want),
            f"{len(papers)} papers · Cool Papers",
            ", ".join(want),
            papers,
        )
        return Response(body, media_type="application/atom+xml; charset=utf-8")

    return Parts(r)


FEATURE = Builtin("api", build)
