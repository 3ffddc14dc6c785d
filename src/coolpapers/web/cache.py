"""An in-process cache of rendered pages, invalidated by the store's data generation.

A listing page is the same bytes for every reader until new data arrives, so each worker
renders it once, and gzips it once (a long day is ~1 MB of HTML, ~250 kB gzipped).
Freshness is checked against the store's generation at most once per `ttl` seconds, which
keeps the hot path free of database reads.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from coolpapers.store import Store


@dataclass(frozen=True, slots=True)
class Page:
    body: bytes
    gzipped: bytes | None  # None when compression would not pay

    @classmethod
    def make(cls, body: bytes) -> Page:
        return cls(body, gzip.compress(body, 5) if len(body) > 1024 else None)


class PageCache:
    def __init__(self, store: Store, ttl: float = 1.0, max_entries: int = 1024) -> None:
        self.store = store
        self.ttl = ttl
        self.max_entries = max_entries
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

    def lookup(self, key: str) -> Page | None:
        gen = self.generation()
        with self._lock:
            hit = self._pages.get(key)
            if hit and hit[0] == gen:
                self._pages.move_to_end(key)
                return hit[1]
        return None

    def store_page(self, key: str, body: bytes) -> Page:
        page = Page.make(body)
        with self._lock:
            self._pages[key] = (self._generation, page)
            self._pages.move_to_end(key)
            while len(self._pages) > self.max_entries:
                self._pages.popitem(last=False)
        return page

    def get(self, key: str, render: Callable[[], bytes]) -> Page:
        page = self.lookup(key)
        return page if page is not None else self.store_page(key, render())

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
        self._checked = 0.0
