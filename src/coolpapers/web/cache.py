"""An in-process cache of rendered pages, in front of the application.

A listing page is the same bytes for every reader until new data arrives, so each worker
renders it once and gzips it once, and keeps only the gzip (a long day is ~1 MB of HTML,
~250 kB gzipped). Freshness is checked against the store's data generation at most once per
`ttl` seconds, which keeps the hot path free of database reads. `PageCacheMiddleware` answers
hits in plain ASGI before routing, validation and dependency handling run, so a cached page
costs little more than the socket write; browsers revalidate with the ETag and get 304s.

What a page is cached under comes from one function, the application's `key` (app.page_key):
the path and only the parameters that page reads, read as it reads them. The middleware asks
it before routing, the routes ask it before storing, so a hit is always the page the route
would render; unknown parameters (`&junk=N`) share the one entry. Nothing else a client sends
(Host, cookies) may change a cached page: it is served to every other client. The cache is
bounded in bytes (each page is kept gzipped only: `Page`), least recently used first out.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from coolpapers.store import Store

try:  # ISA-L's deflate (python-isal, a dependency; wheels for the common platforms)
    from isal.igzip import compress as _gzip
except ImportError:  # pragma: no cover - a platform without its wheel: zlib, slower
    from gzip import compress as _gzip

# A new search page is made once and its gzip is on its critical path, so the fastest level
# whose size is near zlib's level 2 is taken. zlib on 20 new search pages of real.db (95 kB,
# min of 5): level 2 0.68 ms and 21.3 kB, level 4 1.13 ms and 19.5 kB, level 6 1.96 ms and
# 18.8 kB. ISA-L on a page of 125 kB (stop 33, min of 5 x 200): its level 2 0.13 ms and
# 28.5 kB, zlib's level 2 0.79 ms and 27.9 kB (6 % of a search process's CPU under load).
GZIP_LEVEL = 2


@dataclass(frozen=True, slots=True)
class Page:
    """A page as it is kept and sent: gzipped where compression pays, and then only so.
    Nearly every client asks for gzip (browsers, feed readers, httpx and requests); one
    that does not gets the body unzipped anew (~0.2 ms for a search page). Kept gzipped
    only, a page holds a fifth of the memory, and a search process's answer is a fifth of
    the bytes to pickle and pass to the web process (web/search_pool.py)."""

    data: bytes  # the body, gzipped when `gzipped`
    gzipped: bool
    media_type: str
    etag: str

    @classmethod
    def make(cls, body: bytes, media_type: str) -> Page:
        data, gzipped = body, False
        if len(body) > 1024:
            gz = _gzip(body, GZIP_LEVEL, mtime=0)
            if len(gz) < len(body):
                data, gzipped = gz, True
        # of the bytes kept: the same body always gzips to the same bytes (mtime 0)
        etag = '"' + hashlib.blake2b(data, digest_size=12).hexdigest() + '"'
        return cls(data, gzipped, media_type, etag)

    @property
    def body(self) -> bytes:
        """The page's bytes as they were rendered."""
        return gzip.decompress(self.data) if self.gzipped else self.data

    @property
    def size(self) -> int:
        """Bytes held."""
        return len(self.data)


# The cache key of a GET (path, raw query string); None: not a cached page.
KeyFn = Callable[[str, bytes], str | None]


class PageCache:
    def __init__(
        self, store: Store, ttl: float = 1.0, max_entries: int = 1024, max_bytes: int = 256 << 20
    ) -> None:
        self.store = store
        self.ttl = ttl
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.bytes = 0
        self._pages: OrderedDict[str, tuple[str, Page]] = OrderedDict()
        self._generation = ""
        self._checked = 0.0
        self._lock = threading.Lock()

    def generation(self) -> str:
        now = time.monotonic()
        if now - self._checked > self.ttl:
            self._generation = self.store.generation()
            self._checked = now
        return self._generation

    def __len__(self) -> int:
        return len(self._pages)

    def lookup(self, key: str) -> Page | None:
        gen = self.generation()
        with self._lock:
            hit = self._pages.get(key)
            if hit and hit[0] == gen:
                self._pages.move_to_end(key)
                return hit[1]
            if hit:  # of older data: it will never be served again, so free its bytes now
                self._drop(key)
        return None

    def store_page(self, key: str, body: bytes, media_type: str) -> Page:
        return self.keep(key, Page.make(body, media_type))

    def keep(self, key: str, page: Page) -> Page:
        """`page`, kept under `key` (made elsewhere: a search process, web/search_pool.py)."""
        if page.size > self.max_bytes:
            return page  # served once, not kept: it would evict everything else
        with self._lock:
            if key in self._pages:
                self._drop(key)
            self._pages[key] = (self._generation, page)
            self.bytes += page.size
            while len(self._pages) > self.max_entries or self.bytes > self.max_bytes:
                self._drop(next(iter(self._pages)))
        return page

    def _drop(self, key: str) -> None:
        self.bytes -= self._pages.pop(key)[1].size

    def get(self, key: str, render: Callable[[], bytes], media_type: str) -> Page:
        page = self.lookup(key)
        return page if page is not None else self.store_page(key, render(), media_type)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self.bytes = 0
        self._checked = 0.0


def page_headers(page: Page, accept_encoding: str) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """The body to send and its headers, gzipped when the client accepts it."""
    headers = [
        (b"content-type", page.media_type.encode()),
        (b"vary", b"Accept-Encoding"),
        (b"etag", page.etag.encode()),
        # Shared caches may keep a page briefly; everyone revalidates with the ETag after.
        (b"cache-control", b"public, max-age=0, must-revalidate"),
    ]
    if page.gzipped and "gzip" in accept_encoding:
        body = page.data
        headers.append((b"content-encoding", b"gzip"))
    else:
        body = page.body
    headers.append((b"content-length", str(len(body)).encode()))
    return body, headers


class PageCacheMiddleware:
    """Serve page-cache hits for GET/HEAD before the application sees the request."""

    def __init__(self, app: ASGIApp, cache: PageCache, key: KeyFn) -> None:
        self.app = app
        self.cache = cache
        self.key = key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        key = self.key(scope["path"], scope["query_string"])
        page = self.cache.lookup(key) if key is not None else None
        if page is None:
            await self.app(scope, receive, send)
            return
        req = {k: v for k, v in scope["headers"] if k in (b"accept-encoding", b"if-none-match")}
        if req.get(b"if-none-match", b"").decode("latin-1") == page.etag:
            await send({"type": "http.response.start", "status": 304,
                        "headers": [(b"etag", page.etag.encode())]})  # fmt: skip
            await send({"type": "http.response.body", "body": b""})
            return
        body, headers = page_headers(page, req.get(b"accept-encoding", b"").decode("latin-1"))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send(
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body}
        )
