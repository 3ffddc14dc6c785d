"""An in-process cache of rendered pages, invalidated by the store's data generation.

A listing page is the same bytes for every reader until new data arrives, so each worker
renders it once. Freshness is checked against the store's generation at most once per
`ttl` seconds, which keeps the hot path free of database reads.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from coolpapers.store import Store


class PageCache:
    def __init__(self, store: Store, ttl: float = 1.0, max_entries: int = 1024) -> None:
        self.store = store
        self.ttl = ttl
        self.max_entries = max_entries
        self._pages: OrderedDict[str, tuple[str, bytes]] = OrderedDict()
        self._generation = ""
        self._checked = 0.0
        self._lock = threading.Lock()

    def generation(self) -> str:
        now = time.monotonic()
        if now - self._checked > self.ttl:
            self._generation = self.store.generation()
            self._checked = now
        return self._generation

    def lookup(self, key: str) -> bytes | None:
        gen = self.generation()
        with self._lock:
            hit = self._pages.get(key)
            if hit and hit[0] == gen:
                self._pages.move_to_end(key)
                return hit[1]
        return None

    def store_page(self, key: str, body: bytes) -> None:
        with self._lock:
            self._pages[key] = (self._generation, body)
            self._pages.move_to_end(key)
            while len(self._pages) > self.max_entries:
                self._pages.popitem(last=False)

    def get(self, key: str, render: Callable[[], bytes]) -> bytes:
        body = self.lookup(key)
        if body is None:
            body = render()
            self.store_page(key, body)
        return body

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
        self._checked = 0.0
