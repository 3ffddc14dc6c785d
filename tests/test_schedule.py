"""arXiv's announcement schedule and the watch loop."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from coolpapers.sources.arxiv.schedule import WatchCycle, watch
from coolpapers.sources.arxiv.timetable import ET, listing_day, next_announcement
from coolpapers.store.store import Store
from tests.replay import Replay, Reply, fake_client, settings_for, xml
from tests.test_rss import RSS_ITEM, rss_feed


def et(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=ET)


def test_new_york_time_zone_is_available() -> None:
    assert ZoneInfo("America/New_York").utcoffset(datetime(2024, 1, 15)) == timedelta(hours=-5)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (et(2024, 8, 19, 10), et(2024, 8, 19, 20)),  # Monday morning -> Monday evening
        (et(2024, 8, 19, 20), et(2024, 8, 20, 20)),  # at 20:00 sharp: the next one
        (et(2024, 8, 22, 21), et(2024, 8, 25, 20)),  # Thursday night -> Sunday
        (et(2024, 8, 23, 12), et(2024, 8, 25, 20)),  # Friday -> Sunday
        (et(2024, 8, 24, 23), et(2024, 8, 25, 20)),  # Saturday -> Sunday
        (et(2024, 8, 25, 19, 59), et(2024, 8, 25, 20)),  # Sunday before 20:00
        # the same moment written in UTC (Monday 20:30 in New York)
        (datetime(2024, 8, 20, 0, 30, tzinfo=UTC), et(2024, 8, 20, 20)),
    ],
)
def test_next_announcement(now: datetime, expected: datetime) -> None:
    got = next_announcement(now)
    assert got == expected
    assert got.tzinfo is not None and got.astimezone(ET).hour == 20


def test_next_announcement_across_daylight_saving_changes() -> None:
    # DST starts Sunday 2024-03-10: 20:00 EDT is 00:00 UTC; ends Sunday 2024-11-03: 01:00 UTC.
    spring = next_announcement(datetime(2024, 3, 9, 12, tzinfo=UTC))
    assert spring.astimezone(UTC) == datetime(2024, 3, 11, 0, 0, tzinfo=UTC)
    autumn = next_announcement(datetime(2024, 11, 2, 12, tzinfo=UTC))
    assert autumn.astimezone(UTC) == datetime(2024, 11, 4, 1, 0, tzinfo=UTC)


def test_next_announcement_needs_an_aware_time() -> None:
    with pytest.raises(ValueError, match="aware"):
        next_announcement(datetime(2024, 8, 19, 10))


@pytest.mark.parametrize(
    ("announced", "day"),
    [
        (et(2024, 8, 19, 20), date(2024, 8, 20)),  # Monday's -> Tuesday's listing
        (et(2024, 8, 22, 20), date(2024, 8, 23)),  # Thursday's -> Friday's
        (et(2024, 8, 25, 20), date(2024, 8, 26)),  # Sunday's -> Monday's
        # Thursday 20:00 EDT written in UTC is already Friday: still Friday's listing
        (datetime(2024, 8, 23, 0, 0, tzinfo=UTC), date(2024, 8, 23)),
    ],
)
def test_listing_day(announced: datetime, day: date) -> None:
    assert listing_day(announced) == day


# ---- the loop ------------------------------------------------------------------------------

FRIDAY_FEED = rss_feed(RSS_ITEM)  # the documented item: announced for Fri 23 Aug 2024
# Variant: the same feed still on Thursday's listing (the feed is rebuilt at midnight ET).
THURSDAY_FEED = rss_feed(
    RSS_ITEM.replace("Fri, 23 Aug 2024 00:00:00 -0400", "Thu, 22 Aug 2024 00:00:00 -0400")
)


@pytest.fixture
def server() -> Iterator[Replay]:
    with Replay() as r:
        yield r


def clock_from(start: datetime) -> Callable[[], datetime]:
    """A clock that starts at `start` and runs at the real pace."""
    t0 = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - t0)


def run_watch(
    store: Store, server: Replay, start: datetime, **kwargs: object
) -> tuple[list[WatchCycle], float]:
    cycles: list[WatchCycle] = []
    stop = threading.Event()

    def on_cycle(c: WatchCycle) -> None:
        cycles.append(c)
        stop.set()

    began = time.time()
    with fake_client(store, settings_for(server, arxiv_max_retries=0)) as client:
        watch(
            store,
            client,
            ["math.OC"],
            stop,
            delay=timedelta(0),
            retry_every=timedelta(seconds=0.05),
            now=clock_from(start),
            on_cycle=on_cycle,
            **kwargs,  # type: ignore[arg-type]
        )
    return cycles, began


def test_watch_harvests_after_the_announcement_and_waits_for_the_new_day(
    server: Replay, sqlite_store: Store
) -> None:
    # First a failure, then the feed still on Thursday, then Friday's listing.
    server.add("/rss/math.OC", [Reply(503, b"busy"), xml(THURSDAY_FEED), xml(FRIDAY_FEED)])
    # 0.2 s before Thursday's announcement
    start = et(2024, 8, 22, 20) - timedelta(seconds=0.2)
    cycles, began = run_watch(sqlite_store, server, start, patience=timedelta(hours=6))
    [cycle] = cycles
    assert cycle.announced_at == et(2024, 8, 22, 20)
    assert cycle.day == date(2024, 8, 23)
    assert cycle.found and cycle.attempts == 3
    assert [(c.category, c.day, c.missing) for c in cycle.checks] == [
        ("math.OC", date(2024, 8, 23), [])
    ]
    hits = server.hits_for("/rss/math.OC")
    assert len(hits) == 3
    assert hits[0].at - began >= 0.15  # not before the announcement
    assert sqlite_store.announced_ids("math.OC", date(2024, 8, 23)) == {"2203.01250"}
    assert time.time() - began < 5


def test_watch_gives_up_when_no_listing_comes(
    server: Replay, sqlite_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    # A holiday: the feed stays on the previous listing.
    server.add("/rss/math.OC", xml(THURSDAY_FEED))
    with caplog.at_level(logging.WARNING, logger="coolpapers.sources"):
        cycles, _ = run_watch(
            sqlite_store,
            server,
            et(2024, 8, 22, 20) - timedelta(seconds=0.05),
            patience=timedelta(seconds=0.3),
        )
    [cycle] = cycles
    assert not cycle.found and cycle.attempts >= 2
    assert "giving up" in caplog.text


def test_watch_stops_promptly(server: Replay, sqlite_store: Store) -> None:
    stop = threading.Event()
    with fake_client(sqlite_store, settings_for(server)) as client:
        t = threading.Thread(target=watch, args=(sqlite_store, client, ["math.OC"], stop))
        t.start()
        time.sleep(0.1)
        began = time.monotonic()
        stop.set()
        t.join(5)
        assert not t.is_alive()
        assert time.monotonic() - began < 1.0
    assert server.hits == []  # it was waiting for the next announcement
