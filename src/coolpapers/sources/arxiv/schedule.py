"""When arXiv announces, and the loop that follows it.

arXiv announces new submissions at 20:00 New York time, Sunday to Thursday evenings, each the
listing of the next calendar day (timetable.py holds that timetable).

The feeds are regenerated "every day at midnight Eastern" (atom_specifications.md), so right
after 20:00 a feed may still show the previous listing: the watcher keeps retrying until the
feed shows the new day, up to `patience` after the announcement.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from coolpapers.sources.arxiv.client import ArxivClient
from coolpapers.sources.arxiv.harvest import (
    AnnounceReport,
    CompletenessReport,
    check_complete,
    harvest_announcements,
)
from coolpapers.sources.arxiv.timetable import listing_day, next_announcement
from coolpapers.store.store import Store

log = logging.getLogger("coolpapers.sources")


@dataclass(slots=True)
class WatchCycle:
    announced_at: datetime
    day: date  # the listing day expected from this announcement
    attempts: int = 0
    found: bool = False  # the feed showed that listing (or a newer one)
    harvest: AnnounceReport | None = None
    checks: list[CompletenessReport] = field(default_factory=list)


def watch(
    store: Store,
    client: ArxivClient,
    categories: Sequence[str],
    stop_event: threading.Event,
    *,
    delay: timedelta = timedelta(minutes=5),
    retry_every: timedelta = timedelta(minutes=15),
    patience: timedelta = timedelta(hours=6),
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    on_cycle: Callable[[WatchCycle], None] | None = None,
) -> None:
    """Harvest every announcement of `categories` until `stop_event` is set."""
    log.info("watching %s", ", ".join(categories))
    while not stop_event.is_set():
        announced = next_announcement(now())
        wake = announced + delay
        log.info("next announcement %s; harvesting at %s", announced.isoformat(), wake)
        if _sleep_until(wake, now, stop_event):
            break
        cycle = follow_announcement(
            store, client, categories, announced, stop_event, retry_every, patience, now
        )
        if cycle is None:
            break
        if on_cycle:
            on_cycle(cycle)
    log.info("watch stopped")


def follow_announcement(
    store: Store,
    client: ArxivClient,
    categories: Sequence[str],
    announced: datetime,
    stop_event: threading.Event,
    retry_every: timedelta,
    patience: timedelta,
    now: Callable[[], datetime],
) -> WatchCycle | None:
    """Harvest the listing of one announcement, retrying while the feed still shows the
    previous day; then check it is complete. None when stopped meanwhile."""
    cycle = WatchCycle(announced, listing_day(announced))
    deadline = announced + patience
    while True:
        cycle.attempts += 1
        report = _attempt(store, client, categories)
        newest = max(report.days) if report and report.days else None
        if report is not None and newest is not None and newest >= cycle.day:
            cycle.found, cycle.harvest = True, report
            cycle.checks = _check(store, client, report, newest)
            return cycle
        if now() + retry_every > deadline:
            log.warning(
                "no listing for %s by %s (feed shows %s): holiday or late; giving up",
                cycle.day,
                deadline.isoformat(),
                newest,
            )
            cycle.harvest = report
            return cycle
        log.info("feed shows %s, not yet %s; retrying in %s", newest, cycle.day, retry_every)
        if stop_event.wait(retry_every.total_seconds()):
            return None


def _attempt(store: Store, client: ArxivClient, categories: Sequence[str]) -> AnnounceReport | None:
    try:
        return harvest_announcements(store, client, categories)
    except Exception:
        # The watcher runs for months: a failed attempt is logged and retried, not fatal.
        log.exception("harvesting the announcement feeds failed")
        return None


def _check(
    store: Store, client: ArxivClient, report: AnnounceReport, day: date
) -> list[CompletenessReport]:
    out = []
    for (category, d), kinds in sorted(report.listed.items()):
        if d != day:
            continue
        try:
            out.append(check_complete(store, client, category, d, kinds))
        except Exception:
            log.exception("completeness check of %s %s failed", category, d)
    return out


def _sleep_until(
    target: datetime, now: Callable[[], datetime], stop_event: threading.Event
) -> bool:
    """Wait until `target`; True when stopped first. Wakes at least every minute so that a
    suspended machine or a clock change does not oversleep."""
    while True:
        remaining = (target - now()).total_seconds()
        if remaining <= 0:
            return stop_event.is_set()
        if stop_event.wait(min(remaining, 60.0)):
            return True
