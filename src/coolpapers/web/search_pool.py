"""Search processes: new search answers made on every core by one web process (issue 15).

A new search page is ~13-20 ms of Python (the search, its snippets, 25 cards, the page, its
gzip), and one process runs Python on one core at a time: a SQLite site served by one
`serve` process made 45-77 new search pages a second with the second core idle, and more
search threads only added hand-overs of the GIL (web/search.py). Here the web process keeps
the HTTP, the page cache and everything else, and hands each new search answer to one of a
few processes of its own, each a whole app (create_app: the store, the text index, the
vectors, the templates) that only makes search answers. The answer comes back as the page
cache's Page (its gzip made there too) and is kept by the web process, so a popular query is
still one search for the whole site, and cached pages and listings are served while the
searches run elsewhere.

On by default where one web process holds the machine (`serve` with one worker, the
SQLite default: `Settings.search_processes`); with several workers their processes are
the cores' already. A process that dies (killed, out of memory) breaks the pool: a new one
is started and the answer asked once more; a second failure is a 503, never a 500.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING

from starlette.datastructures import QueryParams
from starlette.responses import Response

from coolpapers.web.cache import Page

if TYPE_CHECKING:
    from coolpapers.config import Settings
    from coolpapers.web.app import Site

log = logging.getLogger("coolpapers.search")

ORPHAN_CHECK = 1.0  # seconds between a search process's looks at its parent

# (the data of the vectors it was made with: search/vectors.py seq, the answer)
Answer = tuple[int, Page | Response]

# ---- in a search process ------------------------------------------------------------------

_site: Site | None = None


def _start(settings: Settings, web: int) -> None:
    """A search process's app, built once: the web process's settings, without a pool.
    `web`: the web process's pid."""
    global _site
    # Ctrl-C reaches the whole process group: the web process stops its pool itself
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # a web process killed outright (SIGKILL, out of memory) cannot stop its pool, and this
    # process holds its queue's both ends, so it would wait for work forever: it leaves when
    # it is handed to another parent (perhaps before it got here: the pid is the web's own)
    threading.Thread(target=_orphaned, args=(web,), name="parent", daemon=True).start()
    from coolpapers.web.app import create_app

    _site = create_app(settings.model_copy(update={"search_processes": 0})).state.site
    # the vectors, the embedder and the text index's searcher load on a first search: one
    # made now, in the background, that the first reader of this process need not wait
    # (~0.4 s at 70k papers; the vectors of 1M, seconds)
    searcher = _site.search
    threading.Thread(target=searcher.search, args=("warm up",), name="warm", daemon=True).start()
    gc.collect()
    gc.freeze()  # as serve_app: the app lives as long as the process (web/app.serve_app)


def _orphaned(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(ORPHAN_CHECK)
    os._exit(0)


def _answer(path: str, items: Sequence[tuple[str, str]]) -> Answer:
    assert _site is not None, "not a search process"
    return _site.search_answer(path, QueryParams(items))


def _ready() -> int:
    return 0


# ---- in the web process --------------------------------------------------------------------


class SearchPool:
    """`processes` search processes (spawned, not forked: the web process has threads)."""

    def __init__(self, settings: Settings, processes: int) -> None:
        self.settings = settings
        self.processes = processes
        self.seq = 0  # the newest vectors an answer was made with (the page cache's key)
        self.renewed = 0  # pools started again after a process died (tests, diagnosis)
        self._lock = threading.Lock()
        self._executor = self._start()

    def _start(self) -> ProcessPoolExecutor:
        executor = ProcessPoolExecutor(
            self.processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start,
            initargs=(self.settings, os.getpid()),
        )
        # every process now, not one per search as they come: each takes seconds to start
        for _ in range(self.processes):
            executor.submit(_ready)
        return executor

    def _renew(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._executor is broken:  # once, for all the answers it broke
                log.warning("a search process died; starting the search processes again")
                broken.shutdown(wait=False, cancel_futures=True)
                self._executor = self._start()
                self.renewed += 1

    async def answer(self, path: str, items: Sequence[tuple[str, str]]) -> Answer:
        """The answer of a search route (Site.search_answer) made by a search process."""
        loop = asyncio.get_running_loop()
        for attempt in (1, 2):
            executor = self._executor
            try:
                seq, got = await loop.run_in_executor(executor, _answer, path, list(items))
            except BrokenProcessPool:
                self._renew(executor)
                if attempt == 2:
                    return 0, Response(
                        "The search failed; please try again.",
                        503,
                        headers={"Retry-After": "5"},
                        media_type="text/plain",
                    )
                continue
            self.seq = max(self.seq, seq)
            return seq, got
        raise AssertionError("unreachable")

    def pids(self) -> list[int]:
        """The search processes now running (tests, diagnosis)."""
        return [p.pid for p in list(getattr(self._executor, "_processes", {}).values())]

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
