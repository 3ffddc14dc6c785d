"""The Venue branch: conference papers by edition, papers.cool's /venue URLs.

/venue                          every venue with its editions and paper counts
/venue/ACL.2024                 an edition (?group=Long, ?status=all, ?show=N)
/venue/ACL.2024,NAACL.2024      several editions, groups prefixed by edition
/venue/ACL                      302 to the latest edition of ACL (/venue/ACL.2024)
/venue/latest                   302 to the edition added last
/venue/<spec>/more              the next cards of a long edition (progressive rendering)
/venue/<spec>/feed              Atom of the papers (/venue/ACL/feed: whatever edition is latest)
/venue/latest/feed              Atom of editions as they are added here, newest first
/venue/<id>[,<id>...]           papers by id (2024.acl-long.1@ACL); arXiv ids go to /arxiv/

Editions are read through store/venues.VenueListings; the page models are venue_views.
The cards are the arXiv cards (web/card_html.py); what a card shows of venues (its placements,
"ACL.2024 - Long", its other versions, its authors' affiliations) is looked up here once per
page (`VenueCards.prefetch`, a Site.prefetch hook), never one query per card.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams

from coolpapers.records import Paper
from coolpapers.sources import registry
from coolpapers.sources.base import BadId, Source, SourceId
from coolpapers.store import Store
from coolpapers.store import venues as store_venues
from coolpapers.store.venues import Edition, VenueListings
from coolpapers.web import venue_views
from coolpapers.web.venue_views import STATUS_ALL, STATUSES, VenuePage
from coolpapers.web.views import FeedItem, NotFound, atom_time, number

if TYPE_CHECKING:
    from coolpapers.web.app import Site

HTML = "text/html; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
LATEST_FEED_SIZE = 50  # editions in /venue/latest/feed
MAX_GROUP = 200  # characters of ?group=: no source names a group longer


# ---- what a path names ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ids:
    """Papers by id: each part's source and parsed id, as written."""

    ids: tuple[tuple[Source, SourceId], ...]

    @property
    def venue(self) -> bool:
        """Whether any is a venue source's (a source with '@Suffix' ids): /venue shows them;
        a list of arXiv ids only belongs to /arxiv."""
        return any(s.suffix is not None for s, _ in self.ids)


@dataclass(frozen=True, slots=True)
class Names:
    """Editions ("ACL.2024") or collections ("ACL"), as written."""

    parts: tuple[str, ...]


def _split(spec: str) -> list[str]:
    return [p for p in re.split(r"[,\s]+", spec.strip()) if p]


def parse(spec: str) -> Ids | Names:
    """What `spec` (the path after /venue/) names: papers by id or editions; never both.
    Syntax only, no store: page_key asks it for every GET. NotFound says what is wrong."""
    parts = _split(spec)
    if not parts:
        raise NotFound("No venue named: /venue lists them all.", [("/venue", "all venues")])
    ids: list[tuple[Source, SourceId]] = []
    names: list[str] = []
    for part in parts:
        try:
            ids.append(registry.parse(part))
        except BadId as e:
            suffix = part.rpartition("@")[2].lower()
            if "@" in part and any((s.suffix or "").lower() == suffix for s in _sources()):
                raise NotFound(f"{e}.") from e  # a venue source's id, spelled wrong
            names.append(part)
    if ids and names:
        shown = ", ".join(str(i) for _, i in ids)
        raise NotFound(
            f"{spec!r} mixes paper ids ({shown}) and venues ({', '.join(names)}): a page lists "
            "either papers by id or the papers of venues.",
            [
                (f"/venue/{_q(','.join(str(i) for _, i in ids))}", shown),
                (f"/venue/{_q(','.join(names))}", ", ".join(names)),
            ],
        )
    return Ids(tuple(ids)) if ids else Names(tuple(names))


def _sources() -> tuple[Source, ...]:
    return registry.all_sources()


def _q(path: str) -> str:
    """A spec in a URL path: ids and names keep their '@', ',', '.', ':' and '/'."""
    return quote(path, safe="/,@:")


def public(ids: Ids) -> tuple[list[str], dict[str, int | str], str]:
    """The keys of `ids` (each once, as first asked), the versions asked for, and the
    canonical path spelling (public ids with their versions)."""
    first: dict[str, tuple[Source, SourceId]] = {}
    for source, sid in ids.ids:
        first.setdefault(source.format_id(sid.id), (source, sid))
    versions = {k: sid.version for k, (_, sid) in first.items() if sid.version is not None}
    canonical = ",".join(s.format_id(sid.id, sid.version) for s, sid in first.values())
    return list(first), versions, canonical


def from_arxiv(path: str) -> str | None:
    """Where /arxiv/<path> belongs when it names a venue paper (or a list with one): the
    /venue path (a /feed of them too); None for anything else."""
    if "@" not in path:  # every venue source's public id ends in '@Suffix'
        return None
    head, _, tail = path.rpartition("/")
    feed = tail == "feed" and bool(head)
    try:
        ids = parse(head if feed else path)
    except NotFound:
        return None
    if not isinstance(ids, Ids) or not ids.venue:
        return None
    return f"/venue/{_q(public(ids)[2])}" + ("/feed" if feed else "")


def path_of(p: Paper) -> str:
    """The page of a paper here: /arxiv/<id> for arXiv's (bare ids), /venue/<key> for a venue
    source's."""
    try:
        suffix = registry.get(p.source).suffix
    except KeyError:  # a source no longer installed: its key still says which branch
        suffix = "@" if "@" in p.id else None
    return f"/venue/{p.id}" if suffix is not None else f"/arxiv/{p.id}"


# ---- parameters, read once for the page and its cache key (app.page_key) ----------------------


def _group(raw: str | None) -> str | None:
    if raw is None or raw == "":
        return None
    if len(raw) > MAX_GROUP:
        raise NotFound(f"Bad group: over {MAX_GROUP} characters.")
    return raw


def _status(raw: str | None) -> str | None:
    """None: accepted papers only (the default); "all": rejected and withdrawn ones too."""
    if raw is None or raw == "" or raw == "accepted":
        return None
    if raw == STATUS_ALL:
        return STATUS_ALL
    raise NotFound(f"Bad status {raw!r}: use {' or '.join(STATUSES)}.")


def page_args(q: QueryParams) -> dict[str, Any]:
    show = number(q.get("show"), "show")
    return {
        "show": None if show is None else max(1, show),
        "group": _group(q.get("group")),
        "status": _status(q.get("status")),
    }


def feed_args(q: QueryParams) -> dict[str, Any]:
    return {"group": _group(q.get("group")), "status": _status(q.get("status"))}


def more_args(q: QueryParams) -> dict[str, Any]:
    return {
        **feed_args(q),
        "offset": max(0, number(q.get("offset"), "offset") or 0),
        "limit": max(1, min(number(q.get("limit"), "limit") or 100, 1000)),
    }


def key_args(rest: str, q: QueryParams) -> dict[str, Any] | None:
    """The parameters the page at /venue/<rest> reads, for its cache key; None: no cached page
    (a redirect). NotFound for parameters it rejects."""
    if rest.endswith("/"):
        return None  # redirected to the path without the slash
    if rest in ("", "latest/feed"):
        return {}
    if rest == "latest":
        return None  # a redirect to the newest edition
    head, _, tail = rest.rpartition("/")
    if tail in ("feed", "more") and head:
        spec = parse(head)
        if tail == "more":
            if isinstance(spec, Ids):
                return None
            return more_args(q)
        return {} if isinstance(spec, Ids) else feed_args(q)
    return {} if isinstance(parse(rest), Ids) else page_args(q)


# ---- what cards show of venues, looked up once per page ---------------------------------------


@dataclass(frozen=True, slots=True)
class Author:
    name: str
    url: str | None  # their papers at the source
    affiliation: str | None
    mark: int | None  # the number of their affiliation in the card's list


@dataclass(frozen=True, slots=True)
class CardVenue:
    """A card's venue parts: its placements ("ACL.2024 - Long", linking the edition's
    group), its other versions (label, href) and its authors' affiliations."""

    placements: list[tuple[str, str]]
    also: list[tuple[str, str]]
    affiliations: list[str]  # distinct, in order of first appearance: mark n is [n - 1]
    authors: list[Author]

    @property
    def numbered(self) -> bool:
        """Whether authors carry numbers into the list (not when one affiliation is all's)."""
        return any(a.mark for a in self.authors)


@dataclass(frozen=True, slots=True)
class _Known:
    keys: frozenset[str]  # the cards of the page
    placements: dict[str, list[tuple[str, str, str]]]  # of the cards and their other versions
    linked: dict[str, list[str]]


_known: ContextVar[_Known | None] = ContextVar("venue_cards", default=None)


def placement(collection: str, edition: str, group: str) -> tuple[str, str]:
    """papers.cool's subject of a venue paper, "ACL.2024 - Long" (just "TACL.2024" for an
    edition with no groups), and the page of that group of the edition."""
    name = store_venues.edition_name(collection, edition)
    if not group:
        return name, f"/venue/{quote(name, safe='')}"
    return f"{name} - {group}", f"/venue/{quote(name, safe='')}?group={quote(group, safe='')}"


class VenueCards:
    """Looks up the venue parts of a page's cards in two queries (other versions, then the
    placements of the cards and of those versions), and builds each card's from them."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _load(self, keys: Sequence[str]) -> _Known:
        linked = store_venues.linked(self.store, keys)
        others = sorted({o for v in linked.values() for o in v}.difference(keys))
        places = store_venues.placements(self.store, [*keys, *others])
        return _Known(frozenset(keys), places, linked)

    def prefetch(self, papers: Sequence[Paper]) -> None:
        """A Site.prefetch hook: the page's cards, before they are rendered (the same thread,
        so the same context: run_in_threadpool copies one per call, nothing leaks across)."""
        _known.set(self._load(list(dict.fromkeys(p.id for p in papers))))

    def __call__(self, p: Paper, author_urls: Callable[[str], str | None]) -> CardVenue:
        known = _known.get()
        if known is None or p.id not in known.keys:
            # a card rendered without the page's prefetch (a page that does not call the
            # hooks): its own two small queries, correct if not as quick
            known = self._load([p.id])
        return card_venue(p, known, author_urls)


def card_venue(
    p: Paper, known: _Known | None, author_urls: Callable[[str], str | None]
) -> CardVenue:
    places = known.placements.get(p.id, []) if known else []
    also: list[tuple[str, str]] = []
    for other in known.linked.get(p.id, []) if known else []:
        also.append(_version(other, known.placements.get(other, []) if known else []))
    affs, authors = _affiliations(p, author_urls)
    return CardVenue([placement(*x) for x in places], also, affs, authors)


def _version(key: str, places: list[tuple[str, str, str]]) -> tuple[str, str]:
    """How a card names another version of its paper: arXiv's as "arXiv:2402.12345", a venue
    paper by where it is listed ("ACL.2024 - Long"), else as its source cites it."""
    try:
        source, sid = registry.parse(key)
    except BadId:
        return key, f"/venue/{_q(key)}"
    if source.suffix is None:
        return source.cite(sid.id), f"/arxiv/{_q(key)}"
    label = placement(*places[0])[0] if places else source.cite(sid.id)
    return label, f"/venue/{_q(key)}"


def _affiliations(
    p: Paper, author_urls: Callable[[str], str | None]
) -> tuple[list[str], list[Author]]:
    """The card's authors with their affiliations (papers.extra's list, aligned with the
    authors; None where unknown) and the distinct affiliations, numbered in order. Marks only
    where they tell authors apart: one affiliation for all is said once, with no numbers."""
    raw = p.extra.get("affiliations") if p.extra else None
    if not isinstance(raw, list) or len(raw) != len(p.authors):
        # none known, or a list that no longer lines up with the names (never guess)
        return [], [Author(a, author_urls(a), None, None) for a in p.authors]
    affs = [a.strip() if isinstance(a, str) and a.strip() else None for a in raw]
    distinct = list(dict.fromkeys(a for a in affs if a))
    numbered = len(distinct) > 1 or (len(distinct) == 1 and None in affs)
    index = {a: i + 1 for i, a in enumerate(distinct)}
    authors = [
        Author(a, author_urls(a), aff, index[aff] if aff and numbered else None)
        for a, aff in zip(p.authors, affs, strict=True)
    ]
    return distinct, authors


# ---- pages ----------------------------------------------------------------------------------


def listing_page(
    site: Site, eds: list[Edition], show: int | None, group: str | None, status: str | None
) -> bytes:
    n = site.settings.page_size if show is None else max(1, show)
    V = venue_views.page(site.store, eds, group, status == STATUS_ALL, 0, n)
    site._prefetch([x.paper for x in V.items])
    return site.html("venue.html", V=V, shown=min(n, V.total))


def more(
    site: Site, eds: list[Edition], group: str | None, status: str | None, offset: int, limit: int
) -> bytes:
    V = venue_views.page(site.store, eds, group, status == STATUS_ALL, offset, limit)
    prev = V.entries[offset - 1][1] if 0 < offset <= V.total else None
    site._prefetch([x.paper for x in V.items])
    macro = site.env.get_template("_card.html").module.venue_cards  # type: ignore[attr-defined]
    return str(macro(V.items, offset + 1, _group_at(V, prev))).encode()


def _group_at(V: VenuePage, index: int | None) -> str | None:
    """The anchor of the group of the entry before /more's first card, so that its cards
    repeat no heading."""
    return V.all_groups[index].anchor if index is not None else None


def feed(
    site: Site,
    eds: list[Edition],
    group: str | None,
    status: str | None,
    path: str,
    html_path: str,
) -> bytes:
    V = venue_views.page(site.store, eds, group, status == STATUS_ALL)
    newest = max((e.added for e in eds), default=None)
    stamp = atom_time(newest) if newest else site.changed_at()
    return site.html(
        "feed.xml",
        base=site.base,
        path=path,
        html_path=html_path,
        title=f"{V.title} · Cool Papers",
        subtitle=f"{V.title}: {V.total} papers",
        updated=stamp,
        # each entry's group in full ("ACL.2024 - Long"): a reader mixes it with other feeds
        items=[
            FeedItem(
                it.paper,
                group=venue_views.group_label(it.group.edition, it.group.name, True),
                status=it.status,
            )
            for it in V.items
        ],
        entry_time=lambda p: (
            atom_time(p.updated or p.published) if (p.updated or p.published) else stamp
        ),
    )


def latest_feed(site: Site) -> bytes:
    """Editions as they are added here, newest first, one entry each (not their papers: an
    edition arrives with hundreds or thousands at once, which would bury a reader's feed;
    each entry links the edition's page and its own feed of papers)."""
    eds = sorted(VenueListings(site.store).all(), key=lambda e: e.added, reverse=True)
    eds = [e for e in eds if e.listed][:LATEST_FEED_SIZE]
    return site.html(
        "venue_latest.xml",
        base=site.base,
        editions=eds,
        updated=atom_time(eds[0].added) if eds else site.changed_at(),
        stamp=atom_time,
        quote=quote,
    )


def _latest_added(store: Store) -> Edition | None:
    eds = [e for e in VenueListings(store).all() if e.listed]
    return max(eds, key=lambda e: e.added) if eds else None


# ---- routes ---------------------------------------------------------------------------------

Cached = Callable[[Request, Callable[[], bytes], str], Awaitable[Response]]


def routes(site: Site, cached: Cached, not_found: Callable[[NotFound], HTMLResponse]) -> APIRouter:
    r = APIRouter()

    def index_body() -> bytes:
        return site.html("venue_index.html", C=venue_views.collections(site.store))

    @r.get("/venue", response_class=HTMLResponse, include_in_schema=False)
    @r.get("/venue/", response_class=HTMLResponse)
    async def venue_index(request: Request) -> Response:
        """Every venue with its editions and paper counts, newest first."""
        return await cached(request, index_body, HTML)

    @r.get("/venue/{path:path}", response_class=HTMLResponse, responses=RESPONSES)
    async def venue(path: str, request: Request) -> Response:
        """An edition or several (?group=, ?status=all, ?show=), its /feed or /more, papers
        by id, or /venue/latest/feed."""
        q = request.query_params
        query = request.scope["query_string"].decode("latin-1")

        def go(target: str, status: int) -> Response:
            return RedirectResponse(target + (f"?{query}" if query else ""), status)

        try:
            if path.endswith("/"):
                return go(f"/venue/{_q(path.rstrip('/'))}" if path.strip("/") else "/venue", 301)
            if path == "latest/feed":
                return await cached(request, lambda: latest_feed(site), ATOM)
            if path == "latest":
                newest = _latest_added(site.store)
                if newest is None:
                    raise NotFound("No venue papers here yet.", [("/venue", "all venues")])
                return go(f"/venue/{_q(newest.name)}", 302)
            head, _, tail = path.rpartition("/")
            sub = tail if tail in ("feed", "more") and head else ""
            spec_text = head if sub else path
            spec = parse(spec_text)
            if isinstance(spec, Ids):
                keys, versions, canonical = public(spec)
                if not spec.venue:  # arXiv's papers have their own branch
                    return go(f"/arxiv/{_q(canonical)}" + (f"/{sub}" if sub else ""), 301)
                if canonical != spec_text:
                    return go(f"/venue/{_q(canonical)}" + (f"/{sub}" if sub else ""), 301)
                if sub == "more":
                    raise NotFound("/more is for venue editions, not papers by id.")
                if sub == "feed":
                    return await cached(request, lambda: _ids_feed(site, keys, canonical), ATOM)
                fallback = fallback_path(q.get("else"))
                if fallback and not await run_in_threadpool(site.store.papers, keys):
                    # the extension's "else": the instance lacks the paper, so the page it
                    # would have opened before (the arXiv version, a title search). 302: the
                    # paper may be imported later
                    return RedirectResponse(fallback, 302)
                return await cached(
                    request, lambda: site.papers_page(keys, versions, branch="venue"), HTML
                )
            eds, canonical_parts = venue_views.resolve(site.store, list(spec.parts))
            spelled = ",".join(canonical_parts)
            if spelled != spec_text:  # case, duplicates, separators: one URL per page
                return go(f"/venue/{_q(spelled)}" + (f"/{sub}" if sub else ""), 301)
            names = ",".join(e.name for e in eds)
            if sub == "feed":
                # a collection's feed is rendered in place, not redirected: it follows the
                # collection to its next edition
                a = feed_args(q)
                return await cached(
                    request,
                    lambda: feed(
                        site,
                        eds,
                        a["group"],
                        a["status"],
                        f"/venue/{_q(spelled)}/feed",
                        f"/venue/{_q(spelled)}",
                    ),
                    ATOM,
                )
            if names != spelled:
                # a collection ("ACL"): its latest edition, by a temporary redirect (the
                # latest changes); edition pages have one URL each, their /more and
                # ?group= links stay on that edition, and one cached copy serves both
                return go(f"/venue/{_q(names)}" + (f"/{sub}" if sub else ""), 302)
            if sub == "more":
                m = more_args(q)
                return await cached(
                    request,
                    lambda: more(site, eds, m["group"], m["status"], m["offset"], m["limit"]),
                    HTML,
                )
            a = page_args(q)
            return await cached(
                request, lambda: listing_page(site, eds, a["show"], a["group"], a["status"]), HTML
            )
        except NotFound as e:
            return not_found(e)

    return r


_FALLBACKS = ("/arxiv/", "/search", "/venue/")


def fallback_path(raw: str | None) -> str | None:
    """`?else=` of a papers-by-id page: where to go when none of its papers is here (the
    browser extension sends the page it opened before venue pages existed). Only a path of
    this site's own pages: never another host (`//x`, `/\\x`, a scheme), no control
    characters; None for anything else, and the page answers as without it."""
    if not raw or len(raw) > 2000 or not raw.startswith(_FALLBACKS):
        return None
    if (
        raw.startswith(("//", "/\\"))
        or "://" in raw
        or any(ord(c) < 32 or c == "\x7f" for c in raw)
    ):
        return None
    return raw


def _ids_feed(site: Site, keys: list[str], canonical: str) -> bytes:
    found = site.store.papers(keys)
    papers = [found[k] for k in keys if k in found]
    return site.papers_feed(
        f"/venue/{_q(canonical)}/feed",
        f"/venue/{_q(canonical)}",
        f"{len(papers)} papers · Cool Papers",
        ", ".join(keys),
        papers,
    )


HTML_CONTENT = {"text/html": {"schema": {"type": "string"}}}
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The page; /feed is Atom",
        "content": {**HTML_CONTENT, "application/atom+xml": {"schema": {"type": "string"}}},
    },
    301: {"description": "To the canonical spelling; arXiv ids to /arxiv/"},
    302: {"description": "A collection (/venue/ACL) or `latest`: to the latest edition"},
    404: {"description": "No such venue, edition, group or paper; the page says why",
          "content": HTML_CONTENT},
}  # fmt: skip


# ---- citation metadata (<head> of a one-paper page) -------------------------------------------

_ENTRY_TYPE = re.compile(r"^\s*@(\w+)\s*\{")
_PAGES = re.compile(r"^\s*(\w+)\s*(?:-+|–)\s*(\w+)\s*$")


def citation_meta(p: Paper) -> list[tuple[str, str]]:
    """Google Scholar's citation_* tags of a paper, which Zotero's Connector ("Embedded
    Metadata") reads on a page no site translator claims (a self-hosted instance's), as it
    does on the publishers' own pages: a venue paper saved from here is a conference paper
    (or a journal article, where its source's BibTeX entry is an @article) with its
    proceedings, date, pages and PDF; an arXiv paper a preprint with its arXiv id."""
    source = registry.get(p.source)
    out = [("citation_title", p.title)]
    out += [("citation_author", a) for a in p.authors]
    if p.published is not None:
        out.append(("citation_publication_date", p.published.strftime("%Y/%m/%d")))
    elif (t := source.approx_published(p)) is not None:
        out.append(("citation_publication_date", str(t.year)))  # a year, not a made-up day
    if source.suffix is None:
        out.append(("citation_arxiv_id", p.id))
    elif p.journal_ref:
        m = _ENTRY_TYPE.match(source.bibtex(p))
        journal = m is not None and m.group(1).lower() == "article"
        out.append(("citation_journal_title" if journal else "citation_conference_title",
                    p.journal_ref))  # fmt: skip
    if p.doi:
        out.append(("citation_doi", p.doi))
    pages = p.extra.get("pages") if p.extra else None
    if isinstance(pages, str) and (m := _PAGES.match(pages)):
        out += [("citation_firstpage", m.group(1)), ("citation_lastpage", m.group(2))]
    publisher = p.extra.get("publisher") if p.extra else None
    if isinstance(publisher, str) and publisher:
        out.append(("citation_publisher", publisher))
    pdf = source.links(p).pdf
    if pdf:
        out.append(("citation_pdf_url", pdf))
    return out
