"""arXiv's timetable: the one place that says when arXiv takes and announces papers.

Every time is New York time (ET, `America/New_York`, daylight saving included):

- submissions received by 14:00 on a weekday make that day's cut-off;
- announcements go out at 20:00, Sunday to Thursday evenings;
- an announcement is the listing of the NEXT calendar day (Monday 20:00 -> Tuesday's listing,
  Thursday's -> Friday's, Sunday's -> Monday's), so listings are dated Monday to Friday.

Holidays (no announcement, or one shifted by a day) are not in it: arXiv publishes them only
as notices, and every user of this module copes with a day that does not come.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

ET = ZoneInfo("America/New_York")
CUTOFF_TIME = time(14, 0)
ANNOUNCE_TIME = time(20, 0)
ANNOUNCE_WEEKDAYS = frozenset({6, 0, 1, 2, 3})  # Sunday .. Thursday (Monday is 0)
LISTING_WEEKDAYS = frozenset({0, 1, 2, 3, 4})  # Monday .. Friday


def is_listing_day(day: date) -> bool:
    """Whether arXiv dates listings on `day` (never on Saturday or Sunday)."""
    return day.weekday() in LISTING_WEEKDAYS


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


def estimated_listing_day(submitted: datetime) -> date:
    """The listing day a submission most likely appeared on (a snapshot does not say).

    Submissions received by the cut-off on a weekday are announced that evening and listed
    under the next weekday's date; later ones wait for the next cut-off. Holidays shift real
    listings by a day or two; this estimate ignores them."""
    local = submitted.astimezone(ET)
    d = local.date()
    if local.time() >= CUTOFF_TIME or not is_listing_day(d):
        d += timedelta(days=1)
    while not is_listing_day(d):  # roll a weekend submission to Monday's cut-off
        d += timedelta(days=1)
    d += timedelta(days=1)  # listed under the next day's date
    while not is_listing_day(d):  # Friday's announcement is Monday's listing
        d += timedelta(days=1)
    return d
