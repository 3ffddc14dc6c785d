"""Search processes: new search answers made on every core by one web process (issue 15).

A new search page is ~13-20 ms of Python (the search, its snippets, 25 cards, the page, its
gzip), and one process runs Python on one core at a time: a SQLite site served by one
`serve` process made 45-77 new search pages a second with the second core idle, and more
search threads only added hand-overs of the GIL (web/search.py). Here the web process keeps
the HTTP, the page cache and everything else, and hands each new search answer to one of a
few processes of its own, each a whole app (create_app: the store, the text index, the
vectors, the templates) that only makes search answers. The answer comes back as the page
cache's Page (gzipped there) and is kept by the web process, so a popular query is still one
search for the whole site, and cached pages and listings are served while the searches run
elsewhere.

Each process is spoken to over a socket pair of its own, from the web process's event loop
(`loop.sock_sendall` / `sock_recv_into`): a question and its answer are a length and a
pickle each way. concurrent.futures' ProcessPoolExecutor did this at first, through its
manager thread and its queue's feeder thread: three hand-overs of the web process's GIL per
answer, which cost it 1.8 ms of CPU a page under load (stop 31). A process answers one
question at a time; a question waits for the first process free.

On by default wherever there are two cores or more (`Settings.search_processes`): the
cores shared among `serve`'s web processes, one each at least (one web process on 2 cores,
the SQLite default, has 2; `--workers 2` one each). A process that dies (killed, out of
memory) is seen at once (its socket ends): it is replaced and the question asked once more
of another; a second failure is a 503, never a 500. [REL], the ❤ order and search feeds are
asked of the search processes too (`call`): the web process then holds no vectors of its
own. A web process that dies ends every socket too, and its search processes leave when they
next read (no process is left behind, whatever killed the web process).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import pickle
import signal
import socket
import struct
import threading
import traceback
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from starlette.datastructures import QueryParams
from starlette.responses import Response

from coolpapers.web.cache import Page

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

    from coolpapers.config import Settings
    from coolpapers.web.app import Site

log = logging.getLogger("coolpapers.search")

# (the data of the vectors it was made with: search/vectors.py seq, the answer)
Answer = tuple[int, Page | Response]
_LENGTH = struct.Struct("!Q")  # each message: its length, then its pickle
# What else the web process asks of its search processes: the Searcher's calls that need
# the vectors (a [REL] list, the ❤ order, a search feed's results), so that the web process
# never loads a copy of its own (0.1 GB at 70k papers, ~1 GB at 1M: search/vectors.py)
CALLS = frozenset({"related", "taste", "search"})


class SearchFailed(Exception):
    """A search process died with the question (or could not start)."""


def unavailable(request: object, e: Exception) -> Response:
    """What a request gets when a search process failed it twice (an exception handler)."""
    return Response(
        "The search failed; please try again.",
        503,
        headers={"Retry-After": "5"},
        media_type="text/plain",
    )


# ---- in a search process ------------------------------------------------------------------


def _read(sock: socket.socket, n: int) -> bytes | None:
    """n bytes, or None at the end (the web process is gone)."""
    buf = bytearray(n)
    view, got = memoryview(buf), 0
    while got < n:
        k = sock.recv_into(view[got:])
        if not k:
            return None
        got += k
    return bytes(buf)


def _serve(settings: Settings, sock: socket.socket) -> None:
    """A search process: its app, built once (the web process's settings, without a pool),
    then questions answered until the web process closes the socket or dies."""
    # Ctrl-C reaches the whole process group: the web process closes the pool itself
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from coolpapers.web.app import create_app

    site: Site = create_app(settings.model_copy(update={"search_processes": 0})).state.site
    # the vectors, the embedder and the text index's searcher load on a first search: one
    # made now, in the background, that the first reader of this process need not wait
    # (~0.4 s at 70k papers; the vectors of 1M, seconds)
    searcher = site.search
    threading.Thread(target=searcher.search, args=("warm up",), name="warm", daemon=True).start()
    gc.collect()
    gc.freeze()  # as serve_app: the app lives as long as the process (web/app.serve_app)
    while True:
        head = _read(sock, _LENGTH.size)
        body = _read(sock, _LENGTH.unpack(head)[0]) if head else None
        if body is None:
            return  # the web process closed the pool, or is gone
        name, args, kw = pickle.loads(body)
        try:
            reply: tuple[bool, Any] = (True, _run(site, name, args, kw))
        except Exception as e:  # the web process raises it, as its own threads would
            reply = (False, e)
        try:
            out = pickle.dumps(reply, pickle.HIGHEST_PROTOCOL)
        except Exception:  # an exception that does not pickle: its text
            out = pickle.dumps((False, RuntimeError(traceback.format_exc())))
        try:
            sock.sendall(_LENGTH.pack(len(out)) + out)
        except OSError:
            return


def _run(site: Site, name: str, args: tuple[Any, ...], kw: dict[str, Any]) -> Any:
    if name == "answer":  # a search route's answer: (its path, the query's items)
        path, items = args
        return site.search_answer(path, QueryParams(items))
    if name not in CALLS:
        raise ValueError(f"a search process does not run {name!r}")
    return getattr(site.search, name)(*args, **kw)


# ---- in the web process --------------------------------------------------------------------


class _Process:
    """One search process and the web process's end of its socket."""

    def __init__(self, settings: Settings) -> None:
        ours, theirs = socket.socketpair()
        self.process: BaseProcess = multiprocessing.get_context("spawn").Process(
            target=_serve, args=(settings, theirs), name="coolpapers-search", daemon=True
        )
        self.process.start()  # spawned, not forked: the web process has threads
        theirs.close()  # only the search process holds it: its end ends when it does
        ours.setblocking(False)
        self.sock = ours

    async def ask(self, message: bytes) -> Any:
        loop = asyncio.get_running_loop()
        try:
            await loop.sock_sendall(self.sock, _LENGTH.pack(len(message)) + message)
            head = await self._read(loop, _LENGTH.size)
            ok, value = pickle.loads(await self._read(loop, _LENGTH.unpack(head)[0]))
        except OSError as e:
            raise SearchFailed(str(e)) from e
        if not ok:
            raise value
        return value

    async def _read(self, loop: asyncio.AbstractEventLoop, n: int) -> bytes:
        buf = bytearray(n)
        view, got = memoryview(buf), 0
        while got < n:
            k = await loop.sock_recv_into(self.sock, view[got:])
            if not k:
                raise SearchFailed(f"search process {self.process.pid} ended")
            got += k
        return bytes(buf)

    def close(self) -> None:
        self.sock.close()  # the process reads the end, and leaves
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)


class SearchPool:
    """`processes` search processes, each answering one question at a time."""

    def __init__(self, settings: Settings, processes: int) -> None:
        self.settings = settings
        self.processes = processes
        self.seq = 0  # the newest vectors an answer was made with (the page cache's key)
        self.renewed = 0  # processes started again after one died (tests, diagnosis)
        self._lock = threading.Lock()  # the free list is shared by every event loop here
        # every process now, not one per search as they come: each takes seconds to start
        self._all = [_Process(settings) for _ in range(processes)]
        self._free = list(self._all)
        self._waiting: deque[asyncio.Future[_Process]] = deque()
        self._closed = False

    async def answer(self, path: str, items: Sequence[tuple[str, str]]) -> Answer:
        """The answer of a search route (Site.search_answer) made by a search process."""
        seq, got = await self.call("answer", path, list(items))
        self.seq = max(self.seq, seq)
        return seq, got

    async def call(self, name: str, *args: Any, **kw: Any) -> Any:
        """`name` ("answer" or one of CALLS) made by a search process; SearchFailed when
        a process died with it twice (the site answers 503, Retry-After)."""
        message = pickle.dumps((name, args, kw), pickle.HIGHEST_PROTOCOL)
        for attempt in (1, 2):
            try:
                # shielded: a request given up on still reads its answer, so that the
                # process's socket is left at the start of the next one
                return await asyncio.shield(self._ask(message))
            except SearchFailed as e:
                log.warning("a search process died (%s); starting another", e)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _ask(self, message: bytes) -> Any:
        proc = await self._take()
        try:
            value = await proc.ask(message)
        except SearchFailed:
            self._replace(proc)
            raise
        except BaseException:  # the search's own error: the process is well
            self._give(proc)
            raise
        self._give(proc)
        return value

    async def _take(self) -> _Process:
        with self._lock:
            if self._closed:
                raise SearchFailed("the search processes are closed")
            if self._free:
                return self._free.pop()
            waiter = asyncio.get_running_loop().create_future()
            self._waiting.append(waiter)
        return await waiter

    def _give(self, proc: _Process) -> None:
        """`proc` to the first question waiting (in its own event loop), else free."""
        with self._lock:
            while self._waiting:
                waiter = self._waiting.popleft()
                if not waiter.done():
                    waiter.get_loop().call_soon_threadsafe(self._hand, waiter, proc)
                    return
            self._free.append(proc)

    def _hand(self, waiter: asyncio.Future[_Process], proc: _Process) -> None:
        if waiter.done():  # given up on meanwhile: the next one
            self._give(proc)
        else:
            waiter.set_result(proc)

    def _replace(self, dead: _Process) -> None:
        dead.sock.close()
        dead.process.join(1)
        with self._lock:
            if self._closed:
                return
            fresh = _Process(self.settings)
            self._all[self._all.index(dead)] = fresh
            self.renewed += 1
        self._give(fresh)

    def pids(self) -> list[int]:
        """The search processes now running (tests, diagnosis)."""
        return [p.process.pid for p in self._all if p.process.pid and p.process.is_alive()]

    def close(self) -> None:
        with self._lock:
            self._closed = True
            procs, self._free = list(self._all), []
        for proc in procs:
            proc.close()
