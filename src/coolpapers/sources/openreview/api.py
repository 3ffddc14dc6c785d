"""OpenReview's API v2 (docs/openreview/api-v2-openapi.yml) and the harvest of a venue's
accepted papers, for `coolpapers harvest --venue ICLR.cc/2025/Conference`.

Authentication. OpenReview refuses anonymous requests since 2026 (HTTP 403, error name
`ChallengeRequired`). A token from the settings (`openreview_token`) is sent as
`Authorization: Bearer <token>`, as OpenReview's own Python client sends it; else, with
`openreview_username` and `openreview_password`, the client logs in first (`POST /login`
with `{"id", "password"}` -> `{"token", "user"}`). A refusal (401, 403) is an `AuthRequired`
that says which settings to set, raised at once: never retried, since asking again without
credentials only gets the same answer (and looks like the abuse the challenge is for). A
login token expires (an hour by default): a 401 in the middle of a harvest logs in once more.

Accepted papers. "Accepted submissions use the original venue id" in `content.venueid`
(docs/openreview/how-to-get-all-notes-for-submissions-reviews-rebuttals-etc.md), so a venue
is `GET /notes?content.venueid=<venue id>&limit=1000&offset=N`, 1,000 being the most the
API returns at once (what openreview-py's `get_all_notes` pages by), sorted by submission
number (`sort=number:asc`) so that offsets stay put between requests. The last page is the
one shorter than the limit (and past the response's `count`, where it gives one).

Each page is one `VenueBatch`: its papers (`<forum>@OpenReview`), their venue listings
(editions.py: collection, edition and group of each; rank = the paper's place in its group
in that order, counted across pages), and the checkpoint to store with it: the next offset
and the ranks given so far, so that a killed harvest resumes at the page after the last one
stored, ranks continuing (`run_harvest`). A finished harvest stores `done`; running it again
harvests the venue afresh (decisions and camera-ready versions change), from offset 0.

Every request goes through a `PacedClient` of the source's pace (sources/http.py): paced
across processes, Retry-After honoured on 429 and 503, retried on 5xx and dropped
connections, timed out. Only harvests use this module: pages never ask OpenReview.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Self, Unpack

import httpx

from coolpapers.config import Settings
from coolpapers.records import Batch, Listing, Paper
from coolpapers.sources.http import FetchError, Options, PacedClient, retry_after_seconds
from coolpapers.sources.openreview import PACE, ids
from coolpapers.sources.openreview.editions import collection_of, edition_of, group_of

if TYPE_CHECKING:
    from coolpapers.store.store import Store

log = logging.getLogger("coolpapers.sources")

SOURCE_KEY = "openreview"
PAGE_SIZE = 1000  # the most notes one GET /notes returns
DONE = "done"  # the checkpoint of a finished harvest
_SORT = "number:asc"
_HOW = (
    "set COOLPAPERS_OPENREVIEW_TOKEN to an OpenReview API token, or "
    "COOLPAPERS_OPENREVIEW_USERNAME and COOLPAPERS_OPENREVIEW_PASSWORD to an OpenReview "
    "account's email and password, then run the harvest again"
)
# content fields that hold a one-sentence summary, by venue and year
_TLDR_FIELDS = ("TLDR", "TL;DR", "tldr", "one-sentence_summary")
_MAX_MS = 9_999_999_999_999  # the largest date the Note schema allows


class AuthRequired(FetchError):
    """OpenReview refused to answer without (valid) credentials: what to set is in the
    message. Never retried."""


# ---- the client ---------------------------------------------------------------------------


class OpenReviewClient:
    """API v2 requests through one paced client of OpenReview's pace. `options` go to the
    `PacedClient` (tests: `sleep`, `clock`, `transport`)."""

    def __init__(self, store: Store | None, settings: Settings, **options: Unpack[Options]) -> None:
        self.settings = settings
        self.base = settings.openreview_api.rstrip("/")
        self.paced = PacedClient(store, settings, PACE, **options)
        self.paced.http.headers["Accept"] = "application/json"
        self.token: str | None = None
        token = (settings.openreview_token or "").strip()
        if token:
            self._use(token.removeprefix("Bearer ").strip())

    @property
    def can_login(self) -> bool:
        s = self.settings
        return bool(s.openreview_username and s.openreview_password)

    def _use(self, token: str) -> None:
        self.token = token
        self.paced.http.headers["Authorization"] = f"Bearer {token}"

    def authenticate(self) -> None:
        """Log in when credentials but no token are configured; otherwise nothing (requests
        go out with the configured token, or anonymously)."""
        if self.token is None and self.can_login:
            self.login()

    def login(self) -> str:
        """`POST /login` with the configured account; the token is used from then on.
        AuthRequired when OpenReview refuses the credentials; FetchError when it cannot
        answer now (one attempt: a Retry-After it sends still holds the pace)."""
        s = self.settings
        if not (s.openreview_username and s.openreview_password):
            raise AuthRequired(f"{self.base}/login", f"no OpenReview account configured: {_HOW}")
        url = f"{self.base}/login"
        body = {"id": s.openreview_username, "password": s.openreview_password.get_secret_value()}
        self.paced.pacer.wait()
        try:
            resp = self.paced.http.post(url, json=body)
        except httpx.TransportError as e:
            raise FetchError(url, f"OpenReview login failed: {type(e).__name__}: {e}") from e
        status = resp.status_code
        if status in (408, 429) or status >= 500:  # not now (as PacedClient reads them)
            delay = retry_after_seconds(resp.headers.get("Retry-After"), time.time())
            if delay is not None:
                self.paced.pacer.hold(delay)
            later = f"; try again in {delay:.0f} s" if delay is not None else ""
            raise FetchError(url, f"OpenReview login: HTTP {status}{later}", status, resp.text)
        if status != 200:
            name, message = _error(resp.text)
            raise AuthRequired(
                url,
                f"OpenReview refused the login of {s.openreview_username} (HTTP {status} "
                f"{name}: {message}): {_HOW}",
                status,
                resp.text,
            )
        try:
            token = resp.json()["token"]
        except (ValueError, KeyError, TypeError) as e:
            raise FetchError(url, "OpenReview login answered without a token", status) from e
        if not isinstance(token, str) or not token:
            raise FetchError(url, "OpenReview login answered without a token", status)
        self._use(token)
        log.info("logged in to OpenReview as %s", s.openreview_username)
        return token

    def get_json(self, path: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """The JSON object of a successful GET; AuthRequired for 401 and 403 (after one new
        login where a login token has expired), FetchError for other failures."""
        url = f"{self.base}{path}"
        relogged = False
        while True:
            try:
                resp = self.paced.get(url, params)
                break
            except FetchError as e:
                if e.status == 401 and self.can_login and not relogged:
                    log.info("OpenReview token refused (%s): logging in again", _error(e.body)[0])
                    self.login()
                    relogged = True
                    continue
                if e.status in (401, 403):
                    raise self._refused(e) from e
                raise
        try:
            data = resp.json()
        except ValueError as e:
            raise FetchError(str(resp.url), "OpenReview answered with no JSON", 200) from e
        if not isinstance(data, dict):
            raise FetchError(str(resp.url), "OpenReview answered with no JSON object", 200)
        return data

    def notes(
        self, venue_id: str, offset: int = 0, limit: int = PAGE_SIZE, details: str | None = None
    ) -> dict[str, Any]:
        """One page of a venue's accepted notes: `{"notes": [...], "count": N}`."""
        params: dict[str, Any] = {
            "content.venueid": venue_id,
            "limit": limit,
            "offset": offset,
            "sort": _SORT,
        }
        if details:
            params["details"] = details
        return self.get_json("/notes", params)

    def _refused(self, e: FetchError) -> AuthRequired:
        name, message = _error(e.body)
        what = f"HTTP {e.status} {name}" + (f": {message}" if message else "")
        if self.token is None:
            why = "OpenReview refuses anonymous requests"
        else:
            why = "OpenReview refused the configured token (expired or revoked?)"
        return AuthRequired(e.url, f"{why} ({what}): {_HOW}", e.status, e.body)

    def close(self) -> None:
        self.paced.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _error(body: str) -> tuple[str, str]:
    """(name, message) of an API error body (the `Error` schema: status, name, message)."""
    try:
        data = json.loads(body)
    except ValueError:
        return "Error", " ".join(body.split())[:200]
    if not isinstance(data, dict):
        return "Error", ""
    return str(data.get("name") or "Error"), str(data.get("message") or "")


# ---- notes -> papers and listings -----------------------------------------------------------


@dataclass(slots=True)
class VenueBatch(Batch):
    """One page of a venue's accepted papers (a `records.Batch`, so `Store.write` takes it)
    and where the harvest stands after it."""

    venue_id: str = ""
    offset: int = 0  # of this page's first note
    end: int = 0  # past its last note
    next_offset: int | None = None  # where the next page starts; None: the venue is done
    ranks: dict[str, int] = field(default_factory=dict)  # per group, the last rank given
    count: int | None = None  # the venue's accepted notes, as the API counts them

    @property
    def checkpoint(self) -> str:
        """The state value to store with this batch (see `encode_checkpoint`)."""
        return encode_checkpoint(self.next_offset, self.ranks)


def checkpoint_key(venue_id: str) -> str:
    """The state key of a venue's harvest: `openreview:<venue id>`."""
    return f"openreview:{_venue(venue_id)}"


def encode_checkpoint(next_offset: int | None, ranks: Mapping[str, int]) -> str:
    """`done`, or the next offset with the ranks given so far as JSON:
    `{"offset": 2000, "ranks": {"Oral": 41, "Poster": 1959}}`."""
    if next_offset is None:
        return DONE
    return json.dumps({"offset": next_offset, "ranks": dict(ranks)}, sort_keys=True)


def decode_checkpoint(value: str | None) -> tuple[int, dict[str, int]] | None:
    """(offset, ranks) to resume from; (0, {}) for none or one that cannot be read (logged);
    None for a finished harvest."""
    if not value:
        return 0, {}
    if value == DONE:
        return None
    try:
        data = json.loads(value)
        if isinstance(data, int):  # a bare offset
            data = {"offset": data}
        offset = data["offset"]
        ranks = data.get("ranks") or {}
        if not isinstance(offset, int) or offset < 0 or not isinstance(ranks, dict):
            raise ValueError(value)
        return offset, {str(k): int(v) for k, v in ranks.items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        log.warning("OpenReview checkpoint %r unreadable: starting the venue over", value)
        return 0, {}


def _venue(venue_id: str) -> str:
    # "ensure that there is no trailing backslash" (docs/openreview/how-do-i-find-a-venue-id.md)
    return venue_id.strip().rstrip("/")


def harvest(
    client: OpenReviewClient,
    venue_id: str,
    *,
    start: int = 0,
    ranks: Mapping[str, int] | None = None,
    limit: int = PAGE_SIZE,
    details: str | None = None,
) -> Iterator[VenueBatch]:
    """The accepted papers of `venue_id` (`ICLR.cc/2025/Conference`), one batch per page of
    at most `limit` notes, from offset `start`, ranks continuing from `ranks` (both from a
    checkpoint: `decode_checkpoint`). Notes that cannot be read are logged, skipped and
    counted in `skipped`; the rest of the page is kept."""
    venue_id = _venue(venue_id)
    if not venue_id:
        raise ValueError("no venue id (like ICLR.cc/2025/Conference)")
    client.authenticate()
    offset = start
    given = dict(ranks or {})
    seen: set[str] = set()
    while True:
        data = client.notes(venue_id, offset, limit, details)
        notes = data.get("notes")
        if not isinstance(notes, list):
            raise FetchError(f"{client.base}/notes", "OpenReview answered without a notes list")
        count = data.get("count")
        count = count if isinstance(count, int) and not isinstance(count, bool) else None
        batch = VenueBatch(venue_id=venue_id, offset=offset, count=count)
        for note in notes:
            _add(batch, note, venue_id, given, seen)
        offset += len(notes)
        batch.end = offset
        done = not notes or (len(notes) < limit and (count is None or offset >= count))
        batch.next_offset = None if done else offset
        batch.ranks = dict(given)
        if not notes and batch.offset == 0:
            log.warning(
                "OpenReview lists no accepted paper for venue id %r: check it (the path of the "
                "venue's group, no trailing slash), and that the venue uses API v2",
                venue_id,
            )
        yield batch
        if done:
            return


def _add(
    batch: VenueBatch, note: Any, venue_id: str, ranks: dict[str, int], seen: set[str]
) -> None:
    nid = note.get("id") if isinstance(note, dict) else None
    try:
        paper, venue, pdate = parse_note(note, venue_id)
    except ValueError as e:
        log.warning("OpenReview note %s of %s skipped: %s", nid, venue_id, e)
        batch.skipped += 1
        return
    if paper.id in seen:
        return  # listed twice (notes moved between two pages): once is enough
    seen.add(paper.id)
    group = group_of(venue, venue_id)
    ranks[group] = ranks.get(group, 0) + 1
    edition = edition_of(venue_id) or (str(paper.published.year) if paper.published else "")
    batch.papers.append(paper)
    batch.listings.append(
        Listing(
            collection=collection_of(venue_id),
            edition=edition,
            group=group,
            paper_id=paper.id,
            rank=ranks[group],
            day=pdate,
        )
    )


def parse_note(note: Any, venue_id: str) -> tuple[Paper, str | None, date | None]:
    """One note (the `Note` schema: content values as `{"value": ...}`) -> (Paper, its
    decision `content.venue`, the day it was published); ValueError when unusable."""
    if not isinstance(note, dict):
        raise ValueError(f"not a note object: {type(note).__name__}")
    forum = note.get("forum") or note.get("id")
    if not isinstance(forum, str) or not ids.FORUM.match(forum):
        raise ValueError(f"no forum id ({forum!r})")
    content = note.get("content")
    if not isinstance(content, dict):
        raise ValueError(f"content is not an object: {type(content).__name__}")
    title = _text(content, "title")
    if not title:
        raise ValueError("no title")
    authors = _value(content, "authors")
    if authors is None:
        authors = []
    if not isinstance(authors, list) or not all(isinstance(a, str) for a in authors):
        raise ValueError(f"authors are not a list of names: {authors!r:.80}")
    abstract = _value(content, "abstract")
    if abstract is not None and not isinstance(abstract, str):
        raise ValueError(f"abstract is not text: {type(abstract).__name__}")
    venue = _text(content, "venue")
    pdate = _ms(note.get("pdate"))
    published = pdate or _ms(note.get("cdate")) or _ms(note.get("tcdate"))
    updated = _ms(note.get("mdate")) or _ms(note.get("tmdate")) or published
    license_ = note.get("license")

    extra: dict[str, Any] = {"venueid": _text(content, "venueid") or venue_id}
    if venue:
        extra["venue"] = venue
    if bib := _text(content, "_bibtex", oneline=False):
        extra["bibtex"] = bib
    pdf = _value(content, "pdf")
    if pdf is None or pdf == "":
        extra["pdf"] = None  # no PDF on the forum: links give none
    elif isinstance(pdf, str) and not pdf.startswith("/pdf/"):
        extra["pdf"] = pdf.strip()  # not the forum's own file (/pdf/<sha1>.pdf = /pdf?id=)
    keywords = _value(content, "keywords")
    if isinstance(keywords, list):
        if kept := [" ".join(k.split()) for k in keywords if isinstance(k, str) and k.strip()]:
            extra["keywords"] = kept
    elif isinstance(keywords, str) and keywords.strip():  # some venues ask for one line
        extra["keywords"] = [k.strip() for k in keywords.split(",") if k.strip()]
    for name in _TLDR_FIELDS:
        if tldr := _text(content, name):
            extra["tldr"] = tldr
            break
    if area := _text(content, "primary_area"):
        extra["area"] = area.replace("_", " ")

    paper = Paper(
        id=ids.format_id(forum),
        title=title,
        abstract=abstract.strip() if abstract else "",
        authors=[" ".join(a.split()) for a in authors if a.strip()],
        categories=[],
        journal_ref=venue,
        license=license_ if isinstance(license_, str) and license_.strip() else None,
        published=published,
        updated=updated,
        source=SOURCE_KEY,
        extra=extra,
    )
    return paper, venue, pdate.date() if pdate else None


def _value(content: dict[str, Any], name: str) -> Any:
    """A content field's value: `{"value": v}` in API v2; a bare value tolerated."""
    field_ = content.get(name)
    return field_.get("value") if isinstance(field_, dict) else field_


def _text(content: dict[str, Any], name: str, *, oneline: bool = True) -> str | None:
    v = _value(content, name)
    if not isinstance(v, str):
        return None
    v = " ".join(v.split()) if oneline else v.strip()
    return v or None


def _ms(value: Any) -> datetime | None:
    """A note date (milliseconds since the epoch) as naive UTC; None when absent or odd."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= _MAX_MS:
        return None
    return datetime.fromtimestamp(value / 1000, UTC).replace(tzinfo=None)


# ---- a harvest run --------------------------------------------------------------------------


@dataclass(slots=True)
class HarvestReport:
    venue_id: str
    key: str
    pages: int = 0
    papers: int = 0
    listings: int = 0
    skipped: int = 0
    offset: int = 0  # where the run stands (the next page's offset)
    count: int | None = None  # the venue's accepted notes, as the API counts them
    resumed: bool = False  # continued from an interrupted run's checkpoint
    done: bool = False


def run_harvest(
    store: Store,
    settings: Settings,
    venue_id: str,
    progress: Callable[[HarvestReport], None] | None = None,
    **options: Unpack[Options],
) -> int:
    """Harvest a venue's accepted papers into `store`, each page written with its checkpoint
    in one transaction; an interrupted run resumes at the page after the last one written.
    `progress` is called after every page. Returns the papers written by this run.
    AuthRequired when OpenReview wants credentials; FetchError when it cannot answer."""
    venue_id = _venue(venue_id)
    key = checkpoint_key(venue_id)
    report = HarvestReport(venue_id=venue_id, key=key)
    state = decode_checkpoint(store.get_state(key))
    start, ranks = state if state is not None else (0, {})  # done: harvest it afresh
    report.resumed = start > 0
    report.offset = start
    if report.resumed:
        log.info("OpenReview harvest of %s resumes at offset %d", venue_id, start)
    with OpenReviewClient(store, settings, **options) as client:
        for batch in harvest(client, venue_id, start=start, ranks=ranks):
            store.write(batch, checkpoint=(key, batch.checkpoint))
            report.pages += 1
            report.papers += len(batch.papers)
            report.listings += len(batch.listings)
            report.skipped += batch.skipped
            report.count = batch.count if batch.count is not None else report.count
            report.offset = batch.end
            report.done = batch.next_offset is None
            log.info(
                "OpenReview %s page %d (offset %d): %d papers, %d skipped%s",
                venue_id,
                report.pages,
                batch.offset,
                len(batch.papers),
                batch.skipped,
                f", of {batch.count}" if batch.count is not None else "",
            )
            if progress:
                progress(report)
    return report.papers
