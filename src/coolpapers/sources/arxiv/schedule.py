"""When arXiv announces, and the loop that follows it.

arXiv announces new submissions at 20:00 America/New_York, Sunday to Thursday evenings; an
announcement is the listing of the NEXT calendar day (Monday 20:00 ET -> Tuesday's listing,
Thursday's -> Friday's, Sunday's -> Monday's). No listings on Saturday and Sunday, and none
on some holidays.

The feeds are regenerated "every day at midnight Eastern" (atom_specifications.md), so right
after 20:00 a feed may still show the previous listing: the watcher keeps retrying until the
feed shows the new day, up to `patience` after the announcement.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from coolpapers.sources.arxiv.client import ArxivClient
from coolpapers.sources.arxiv.harvest import (
    AnnounceReport,
    CompletenessReport,
    check_complete,
    harvest_announcements,
)
from coolpapers.store.store import Store

log = logging.getLogger("coolpapers.sources")

ET = ZoneInfo("America/New_York")
ANNOUNCE_TIME = time(20, 0)
ANNOUNCE_WEEKDAYS = frozenset({6, 0, 1, 2, 3})  # Sunday .. Thursday (Monday is 0)


def next_announcement(now: datetime) -> datetime:
    """The first regular announcement strictly after `now` (aware, in America/New_York)."""
    if now.tzinfo is None:
        raise ValueError("next_announcement needs an aware datetime")
    local = now.astimezone(ET)
    for i in range(8):
        day = local.date() + timedelta(days=i)
        if day.weekday() in ANNOUNCE_WEEKDAYS:
            at = datetime.combine(day, ANNOUNCE_TIME, ET)
            if at > local:
                return at
    raise AssertionError("unreachable: an announcement every week")


def listing_day(announced_at: datetime) -> date:
    """The listing an announcement makes: the next calendar day in New York."""
    local = announced_at.astimezone(ET) if announced_at.tzinfo else announced_at
    return local.date() + timedelta(days=1)


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
