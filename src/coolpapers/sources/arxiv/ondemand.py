"""Ids a reader asks for that the store lacks, looked up on arXiv while the page waits.

A page must answer in seconds even when arXiv is slow or down, and readers must not turn
into a stream of arXiv calls. So, within one process:
- one fetch per id at a time (single flight): pages asking for an id already being fetched
  wait for that fetch instead of queueing another;
- a short deadline (`ArxivClient.deadline`): one retry at most, and when the shared pace, a
  back-off or arXiv's Retry-After would keep the page waiting past it, it is told at once;
- misses are remembered: an id arXiv says it lacks (an hour), an id arXiv failed to answer
  for (a minute), so asking again costs no arXiv call.
Every request still goes through the paced client: 3 s spacing shared through the store,
Retry-After honoured for all fetchers.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from coolpapers.config import Settings
from coolpapers.records import Paper
from coolpapers.sources.arxiv.api import ApiError
from coolpapers.sources.arxiv.client import ArxivClient
from coolpapers.sources.arxiv.harvest import fetch_ids
from coolpapers.sources.arxiv.ids import parse as parse_id
from coolpapers.sources.base import Unavailable
from coolpapers.sources.http import Busy, FetchError
from coolpapers.store.store import Store

log = logging.getLogger("coolpapers.sources")

MAX_MISSES = 10_000  # remembered misses per process; the oldest go first


@dataclass(slots=True)
class _Miss:
    until: float  # clock seconds
    unreachable: bool  # arXiv failed (ask again later) rather than said "no such paper"
    reason: str


@dataclass(eq=False, slots=True)
class _Flight:
    done: threading.Event = field(default_factory=threading.Event)
    busy: Busy | None = None  # the fetch could not start before its deadline


class OnDemand:
    """The web's fetcher: `(ids) -> {id: Paper}` for the ids found (here or on arXiv); ids
    arXiv lacks are simply absent; Unavailable when some could not be looked up now."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        client: ArxivClient | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store, self.settings = store, settings
        self._client = client
        self._clock = clock
        self._lock = threading.Lock()
        self._misses: dict[str, _Miss] = {}
        self._flights: dict[str, _Flight] = {}

    def __call__(self, ids: Sequence[str]) -> dict[str, Paper]:
        wanted = list(dict.fromkeys(parse_id(i).id for i in ids))
        until = self._clock() + self.settings.on_demand_deadline
        found = self.store.papers(wanted)
        lead, flight, follow = self._claim([i for i in wanted if i not in found])
        if lead:
            self._fetch(lead, flight, until)
        for other in {id(f): f for f in follow.values()}.values():
            other.done.wait(max(0.0, until - self._clock()))
        rest = [i for i in wanted if i not in found]
        if rest:
            found.update(self.store.papers(rest))  # what this and other flights stored
        pending: list[str] = []
        retry, reason = 0.0, ""
        now = self._clock()
        with self._lock:
            misses = {i: self._misses.get(i) for i in rest if i not in found}
        for i, miss in misses.items():
            if miss is not None and not miss.unreachable and miss.until > now:
                continue  # arXiv has no such paper
            f = flight if i in lead else follow.get(i)
            if miss is not None and miss.until > now:
                wait, why = miss.until - now, miss.reason
            elif f is not None and f.busy is not None:
                wait, why = f.busy.retry_after, "arXiv is busy"
            else:  # another page's fetch of it is still running
                wait, why = self.settings.arxiv_min_interval, "being fetched from arXiv"
            pending.append(i)
            if wait >= retry:
                retry, reason = wait, why
        papers = {i: found[i] for i in wanted if i in found}
        if pending:
            raise Unavailable(papers, pending, max(1.0, math.ceil(retry)), reason)
        return papers

    # ---- internals -----------------------------------------------------------------------

    def _claim(self, ids: list[str]) -> tuple[list[str], _Flight, dict[str, _Flight]]:
        """Split `ids` into those this call fetches (under one new flight), those another
        call is fetching (their flights), and remembered misses (neither)."""
        now = self._clock()
        lead: list[str] = []
        flight = _Flight()
        follow: dict[str, _Flight] = {}
        with self._lock:
            for i in ids:
                miss = self._misses.get(i)
                if miss is not None and miss.until > now:
                    continue
                if i in self._flights:
                    follow[i] = self._flights[i]
                else:
                    self._flights[i] = flight
                    lead.append(i)
        return lead, flight, follow

    def _fetch(self, ids: list[str], flight: _Flight, until: float) -> None:
        s = self.settings
        try:
            client = self._get_client()
            with client.deadline(max(0.0, until - self._clock()), s.on_demand_retries):
                got = fetch_ids(self.store, client, ids)
            absent = [i for i in ids if i not in got]
            self._remember(absent, s.on_demand_missing_ttl, False, "not on arXiv")
        except Busy as e:
            # Not remembered: the shared pace, held by arXiv's Retry-After or our back-off,
            # already keeps every caller from reaching arXiv until then.
            log.info("on-demand fetch of %s deferred: %s", ids, e)
            flight.busy = e
        except ApiError as e:
            log.warning("arXiv rejected on-demand ids %s: %s", ids, e)
            self._remember(ids, s.on_demand_missing_ttl, False, f"arXiv rejected it: {e}")
        except FetchError as e:
            log.warning("on-demand fetch of %s failed: %s", ids, e)
            self._remember(ids, s.on_demand_unreachable_ttl, True, "arXiv did not answer")
        finally:
            with self._lock:
                for i in ids:
                    if self._flights.get(i) is flight:
                        del self._flights[i]
            flight.done.set()

    def _get_client(self) -> ArxivClient:
        with self._lock:
            if self._client is None:
                # One client per process: one connection; the pace is shared via the store.
                self._client = ArxivClient(self.store, self.settings)
            return self._client

    def _remember(self, ids: list[str], ttl: float, unreachable: bool, reason: str) -> None:
        if not ids or ttl <= 0:
            return
        until = self._clock() + ttl
        with self._lock:
            for i in ids:
                self._misses.pop(i, None)  # re-inserted last: the dict stays oldest first
                self._misses[i] = _Miss(until, unreachable, reason)
            if len(self._misses) > MAX_MISSES:
                now = self._clock()
                for i in [i for i, m in self._misses.items() if m.until <= now]:
                    del self._misses[i]
                while len(self._misses) > MAX_MISSES:
                    del self._misses[next(iter(self._misses))]

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
