"""The one way out to a host: a paced, retrying HTTP client, one pace per host.

A host's terms ask for few requests over a single connection, for all machines of a user
together (arXiv: one request every 3 seconds). So every component that asks one host
(announcement harvest, OAI, on-demand ids, PDFs) goes through one `PacedClient` of that
host's `Pace`, and the pace lives in the database (`Store.reserve_slot`, one row per pace
key), not in a process global: two CLI runs and a web worker sharing one database still keep
it. Each pace has its own row, so a client of one host never waits on another host's pace.

A reader's page cannot wait like a harvest does (minutes of back-off). Within
`PacedClient.deadline(...)` a request retries less and, rather than sleep past the deadline
for a pace slot, a back-off or the host's Retry-After, raises `Busy` at once: the pace and
the back-off still hold for everyone, only this caller stops waiting.

A feature that fetches whatever a paper links to (the FAQ's PDFs) takes a `Clients`: one
client per pace in the process, chosen by the host of each URL (`registry.for_host`); a host
no source covers gets a cautious pace of its own (`host_pace`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Protocol, Self, TypedDict, Unpack
from urllib.parse import urljoin

import httpx
from lxml import etree

from coolpapers.config import Settings
from coolpapers.sources import registry
from coolpapers.sources.base import Pace

if TYPE_CHECKING:
    from coolpapers.store.store import Store

log = logging.getLogger("coolpapers.sources")

# 429 and 5xx are the host saying "not now"; other 4xx are our fault and retrying will not help.
_RETRY_STATUS = frozenset({408, 429})
_MAX_REDIRECTS = 5
# A connection that cannot be made at all is retried this often, after this many seconds:
# an unreachable host is not a busy one, and a reader may be waiting on it (the FAQ's PDF).
CONNECT_RETRIES = 1
CONNECT_DELAY = 2.0
# The pace of a host no source covers: arXiv's, the most cautious of the terms we know.
HOST_INTERVAL = 3.0
# A slot already this far in the past when its reservation comes back (a commit held up by
# a slow disk: ~0.1 s once in CI) is given up for the next one. Sent late, it would leave the
# request after it, whose slot is one interval after this one, less than an interval behind.
LATE_SLOT = 0.01
RESERVE_TRIES = 3

Sleep = Callable[[float], None]
Clock = Callable[[], float]


class FetchError(Exception):
    """A request failed for good (retries exhausted, or a non-retryable status)."""

    def __init__(self, url: str, message: str, status: int | None = None, body: str = "") -> None:
        super().__init__(f"{message} ({url})")
        self.url = url
        self.status = status
        self.body = body


class Busy(FetchError):
    """The host could not be asked before the caller's deadline (see `PacedClient.deadline`):
    the next pace slot, a back-off or the host's Retry-After lies beyond it. `retry_after`:
    seconds until a request may go out again."""

    def __init__(self, url: str, message: str, retry_after: float, status: int | None = None):
        super().__init__(url, message, status)
        self.retry_after = retry_after


class SlotTooFar(Exception):
    """Raised by `Pacer.wait(limit)`: the next free slot (`at`, clock seconds) is after it."""

    def __init__(self, at: float) -> None:
        super().__init__(f"next request slot at {at:.1f}")
        self.at = at


class Pacer(Protocol):
    """Decides when the next request may go out."""

    def wait(self, limit: float | None = None) -> float:
        """Block until this caller may send one request; return the seconds slept. With a
        `limit` (clock seconds), raise SlotTooFar instead of sleeping past it."""
        ...

    def hold(self, seconds: float) -> None:
        """Nobody sends a request for `seconds` from now (the host asked us to back off)."""
        ...


class StorePacer:
    """The pace shared through the database: every process that uses the same store waits
    its turn, and a back-off requested by the host holds all of them."""

    def __init__(
        self,
        store: Store,
        interval: float,
        *,
        key: str,
        sleep: Sleep = time.sleep,
        clock: Clock = time.time,
    ) -> None:
        self.store, self.interval, self.key = store, interval, key
        self._sleep, self._clock = sleep, clock

    def wait(self, limit: float | None = None) -> float:
        if limit is not None:
            # Look before reserving, so that a caller who will not wait takes no slot.
            nxt = float(self.store.get_state(self.key) or 0)
            if nxt > limit:
                raise SlotTooFar(nxt)
        slot = self._reserve()
        if limit is not None and slot > limit:
            # Another process reserved in between: this slot goes unused, which only
            # slows us down, never the host's pace.
            raise SlotTooFar(slot)
        return _sleep_until(slot, self._clock, self._sleep)

    def hold(self, seconds: float) -> None:
        self.store.push_slot(self.key, self._clock() + seconds)

    def _reserve(self) -> float:
        # The store's slots are on the real clock (time.time), whatever `clock` a test gives.
        for _ in range(RESERVE_TRIES):
            slot = self.store.reserve_slot(self.key, self.interval)
            if time.time() - slot <= LATE_SLOT:
                break
            log.debug(
                "%s: slot %.3f s late when reserved, taking the next", self.key, time.time() - slot
            )
        return slot


class LocalPacer:
    """The same pace within one process only: for a client used without a database."""

    def __init__(self, interval: float, *, sleep: Sleep = time.sleep, clock: Clock = time.time):
        self.interval = interval
        self._sleep, self._clock = sleep, clock
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self, limit: float | None = None) -> float:
        with self._lock:
            slot = max(self._clock(), self._next)
            if limit is not None and slot > limit:
                raise SlotTooFar(slot)
            self._next = slot + self.interval
        return _sleep_until(slot, self._clock, self._sleep)

    def hold(self, seconds: float) -> None:
        with self._lock:
            self._next = max(self._next, self._clock() + seconds)


def _sleep_until(slot: float, clock: Clock, sleep: Sleep) -> float:
    """Sleep until `slot` (clock seconds); the seconds slept."""
    delay = slot - clock()
    if delay > 0:
        sleep(delay)
        return delay
    return 0.0


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """Retry-After is either delta-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # an HTTP-date is always GMT
        return None
    return max(0.0, when.timestamp() - now)


class _Retry(Exception):
    """Internal: this attempt failed in a way worth retrying."""

    def __init__(self, reason: str, status: int | None, delay: float | None = None) -> None:
        super().__init__(reason)
        self.reason, self.status, self.delay = reason, status, delay


class Options(TypedDict, total=False):
    """The keyword arguments of `PacedClient` that a host's own client passes on unchanged."""

    pacer: Pacer
    sleep: Sleep
    clock: Clock
    timeout: httpx.Timeout
    backoff_base: float
    backoff_cap: float
    transport: httpx.BaseTransport
    mirrors: Mapping[str, str]


class PacedClient:
    """Paced GETs to the hosts of one `pace`, with retries. Thread-safe; one HTTP connection
    at most. Redirects are followed within this client, so they keep its pace too.

    `store` gives the cross-process pace; without one (or with an explicit `pacer`) the pace
    is kept in this process only. `sleep` and `clock` exist so tests need not wait.
    `mirrors` maps URL prefixes of the host to where the settings say to fetch them instead
    (arXiv's PDFs at `arxiv_pdf_url`): the request goes there, at this client's pace."""

    def __init__(
        self,
        store: Store | None,
        settings: Settings,
        pace: Pace,
        *,
        max_retries: int = 5,
        pacer: Pacer | None = None,
        sleep: Sleep = time.sleep,
        clock: Clock = time.time,
        timeout: httpx.Timeout | None = None,
        backoff_base: float = 5.0,
        backoff_cap: float = 300.0,
        transport: httpx.BaseTransport | None = None,
        mirrors: Mapping[str, str] | None = None,
    ) -> None:
        self.settings, self.pace = settings, pace
        self.mirrors = {k.rstrip("/"): v.rstrip("/") for k, v in (mirrors or {}).items() if v}
        if pacer is None:
            pacer = (
                StorePacer(store, pace.interval, key=pace.key, sleep=sleep, clock=clock)
                if store is not None
                else LocalPacer(pace.interval, sleep=sleep, clock=clock)
            )
        self.pacer = pacer
        self.max_retries = max_retries
        self.backoff_base, self.backoff_cap = backoff_base, backoff_cap
        self._clock = clock
        self._local = threading.local()  # this thread's deadline (see `deadline`)
        self.http = httpx.Client(
            headers={"User-Agent": self.settings.user_agent},
            # OAI pages of a few thousand records take a while to produce and to download;
            # the pool timeout is generous because threads queue for the one connection.
            timeout=timeout or httpx.Timeout(120.0, connect=15.0, pool=600.0),
            # One connection, kept alive: hosts like arXiv ask for one connection at a time.
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            # Redirects are followed by hand so that each hop is paced too.
            follow_redirects=False,
            transport=transport,
        )

    # ---- public --------------------------------------------------------------------------

    def get(self, url: str, params: Mapping[str, Any] | None = None) -> httpx.Response:
        """A successful (2xx) response, after pacing and retries; FetchError otherwise."""
        resp, _ = self._request(self.aim(url), params, None)
        return resp

    def get_xml(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        *,
        expect: Collection[str] | None = None,
    ) -> etree._Element:
        """The parsed XML root of a successful response. A truncated or non-XML body (or a
        root element other than `expect`, e.g. an HTML error page) counts as a failed
        attempt and is retried like a 503."""
        _, root = self._request(self.aim(url), params, expect or ())
        assert root is not None
        return root

    def aim(self, url: str) -> str:
        """Where a request for `url` goes: the URL itself, or its place at a mirror (see
        `mirrors`)."""
        for prefix, there in self.mirrors.items():
            if url == prefix or url.startswith(prefix + "/"):
                return there + url[len(prefix) :]
        return url

    @contextmanager
    def deadline(self, seconds: float, retries: int = 1) -> Iterator[None]:
        """Requests of this thread within the block end by `seconds` from now: at most
        `retries` retries, no wait past it (Busy instead), HTTP timeouts cut to the time
        left. For a reader waiting on a page; harvests keep the full retry schedule."""
        saved = getattr(self._local, "limit", None)
        self._local.limit = (self._clock() + seconds, min(retries, self.max_retries))
        try:
            yield
        finally:
            self._local.limit = saved

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- internals -----------------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        return min(self.backoff_cap, self.backoff_base * 2.0**attempt)

    def _request(
        self, url: str, params: Mapping[str, Any] | None, xml: Collection[str] | None
    ) -> tuple[httpx.Response, etree._Element | None]:
        limit: tuple[float, int] | None = getattr(self._local, "limit", None)
        until = limit[0] if limit else None
        attempts = (limit[1] if limit else self.max_retries) + 1
        last = "no attempt made"
        last_status: int | None = None
        attempt = 0
        unreachable = 0  # attempts whose connection could not be made
        redirects = 0
        shown = str(httpx.URL(url, params=params))  # for messages: with its query
        while attempt < attempts:
            timeout: httpx.Timeout | None = None
            if until is None:
                self.pacer.wait()
            else:
                try:
                    self.pacer.wait(until)
                except SlotTooFar as e:
                    wait = max(0.0, e.at - self._clock())
                    why = f"{self.pace.name} busy: next request slot in {wait:.1f} s"
                    if attempt:
                        why += f", after {last}"
                    raise Busy(shown, why, wait, last_status) from e
                timeout = httpx.Timeout(max(0.5, until - self._clock()))
            try:
                resp = (
                    self.http.get(url, params=params)
                    if timeout is None
                    else self.http.get(url, params=params, timeout=timeout)
                )
                if resp.is_redirect and redirects < _MAX_REDIRECTS:
                    redirects += 1
                    url = urljoin(str(resp.url), resp.headers["location"])
                    params = None  # the Location carries its own query
                    shown = url
                    log.info("%s redirected to %s", self.pace.name, url)
                    continue
                return resp, self._check(resp, xml)
            except httpx.UnsupportedProtocol as e:
                raise FetchError(shown, f"cannot fetch: {e}") from e
            except httpx.ConnectError as e:
                # No connection at all (no route, no DNS, refused): not a busy host, which
                # answers 429/503. One quick retry, then give up, so a reader's FAQ falls
                # back to the abstract in seconds, not after the full backoff (155 s).
                unreachable += 1
                failure = _Retry(f"{type(e).__name__}: {e}", None, CONNECT_DELAY)
                if unreachable > CONNECT_RETRIES:
                    attempts = attempt + 1
            except (httpx.TransportError, httpx.DecodingError) as e:
                # Connection reset, timeouts, a body cut short (RemoteProtocolError).
                failure = _Retry(f"{type(e).__name__}: {e}", None)
            except _Retry as r:
                failure = r
            attempt += 1
            last, last_status = failure.reason, failure.status or last_status
            delay = failure.delay if failure.delay is not None else self._backoff(attempt - 1)
            if attempt >= attempts:
                if failure.delay is not None and failure.status is not None:
                    # Out of retries, but the host's Retry-After still binds the next caller.
                    self.pacer.hold(delay)
                break
            log.warning(
                "%s request failed (%s): %s; retry %d/%d in %.1f s",
                self.pace.name,
                last,
                shown,
                attempt,
                attempts - 1,
                delay,
            )
            # Through the pacer, so every other fetcher sharing the store waits as well.
            self.pacer.hold(delay)
        status = f"last status {last_status}" if last_status else "no HTTP status"
        raise FetchError(shown, f"gave up after {attempts} attempts: {last}; {status}", last_status)

    def _check(self, resp: httpx.Response, xml: Collection[str] | None) -> etree._Element | None:
        status = resp.status_code
        if status in _RETRY_STATUS or status >= 500:
            delay = retry_after_seconds(resp.headers.get("Retry-After"), self._clock())
            raise _Retry(f"HTTP {status}", status, delay)
        if status >= 300:
            raise FetchError(str(resp.request.url), f"HTTP {status}", status, resp.text)
        if xml is None:
            return None
        try:
            root = etree.fromstring(resp.content, parser=_parser())
        except etree.XMLSyntaxError as e:
            raise _Retry(f"body is not complete XML ({e})", status) from e
        if root is None:
            raise _Retry("empty body", status)
        if xml and etree.QName(root).localname not in xml:
            name = etree.QName(root).localname
            raise _Retry(f"unexpected <{name}> document, wanted {sorted(xml)}", status)
        return root


def _parser() -> etree.XMLParser:
    # A new parser per document: lxml parsers must not be shared between threads.
    # No entity expansion or network access from a host's bodies; big OAI pages are fine.
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


def host_pace(host: str) -> Pace:
    """The pace of a host that no source covers: one request every `HOST_INTERVAL` seconds,
    kept under a state key of its own (`host:<host>`)."""
    host = host.lower().removeprefix("www.")
    return Pace(key=f"host:{host}", name=host, interval=HOST_INTERVAL, hosts=frozenset({host}))


class Clients:
    """The paced clients of one process, one per pace, made on first use: for features that
    fetch what a paper links to, wherever it lives (the FAQ's PDFs). `for_url` picks the pace
    by the URL's host: the source whose pace covers it (`registry.for_host`), else the
    host's own cautious pace (`host_pace`).

    A source may make its own client: a `client(store, settings, **options)` method returning
    a `PacedClient` of its pace (arXiv's: `ArxivClient`, with the interval, retries and PDF
    mirror of the settings); otherwise it gets a plain `PacedClient` of `source.pace`.
    `options` go to every client made (tests: `sleep`, `clock`, `transport`; never a `pacer`,
    which would make all paces one)."""

    def __init__(self, store: Store | None, settings: Settings, **options: Unpack[Options]) -> None:
        self.store, self.settings, self.options = store, settings, options
        self._clients: dict[str, PacedClient] = {}
        self._lock = threading.Lock()

    def for_url(self, url: str) -> PacedClient:
        """The client of the pace that `url`'s host keeps. FetchError for text that is not
        an http(s) URL."""
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as e:
            raise FetchError(url, f"not a URL: {e}") from e
        host = parsed.host.lower().removeprefix("www.")
        if parsed.scheme not in ("http", "https") or not host:
            raise FetchError(url, "not an http(s) URL")
        source = registry.for_host(host)
        pace = source.pace if source is not None else host_pace(host)
        with self._lock:
            client = self._clients.get(pace.key)
            if client is None:
                make = getattr(source, "client", None)
                if callable(make):
                    client = make(self.store, self.settings, **self.options)
                else:
                    client = PacedClient(self.store, self.settings, pace, **self.options)
                self._clients[pace.key] = client
        return client

    def get(self, url: str) -> httpx.Response:
        """A successful response for `url`, through the client of its host's pace."""
        return self.for_url(url).get(url)

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
