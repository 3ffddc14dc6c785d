"""The parser processes of a big import, shared by every importer (arXiv's JSON lines in
sources/arxiv/files.py, venue files in sources/formats.py): parsing costs more than writing,
so files are read and turned into the store's rows in other processes while the importing
process writes, one transaction after the other, in order.
"""

from __future__ import annotations

import ctypes
import gc
import os
import signal
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager, suppress
from multiprocessing import get_context

PARSERS = max(2, min(4, (os.cpu_count() or 2) - 1))  # parsing processes per big import


@contextmanager
def parser_pool(wanted: bool) -> Iterator[ProcessPoolExecutor | None]:
    """A pool of `PARSERS` forked processes, or None when not `wanted` (a small import:
    other processes would cost more than they save)."""
    if not wanted:
        yield None
        return
    init = (_parser_started, (os.getpid(),))
    with ProcessPoolExecutor(PARSERS, get_context("fork"), *init) as pool:
        yield pool


def _parser_started(parent: int) -> None:
    """A parser process dies with the import that started it, even a SIGKILLed one: it
    would otherwise wait forever on its work queue (it holds that pipe's writing end too),
    100 MB orphaned (Linux's parent-death signal; elsewhere, an orderly exit still ends it).
    The signal comes when the forking *thread* ends: with fork, the pool forks every parser
    in the thread of its first submit, which is the importing thread, and that thread waits
    for the pool's shutdown."""
    # Parsing builds trees of dicts and lists, never a cycle: reference counting frees them,
    # and the cyclic collector, which runs every few hundred allocations, only costs time
    # (15-20% of a parser's).
    gc.disable()
    if sys.platform.startswith("linux"):
        with suppress(OSError, AttributeError):  # no libc to ask: the orderly exit remains
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before the signal was set: nobody to tell
        os._exit(1)
