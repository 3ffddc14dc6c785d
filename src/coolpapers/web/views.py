"""Page models: what each page shows, computed from the store, independent of HTTP.

Listings are read through `store.listings.Listings` (a source's editions and entries), never
from a source's listing tables: arXiv's days are one implementation of it.

Routes (web/app.py) turn requests into calls here; templates only lay out what these return.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import groupby

from coolpapers.records import Kind, Paper
from coolpapers.sources import registry
from coolpapers.sources.arxiv import taxonomy, timetable
from coolpapers.store import Listed, Store
from coolpapers.store.listings import Listings
from coolpapers.store.venues import VenueListings
from coolpapers.web.spec import CategorySet

GROUPS = {
    Kind.NEW: "New submissions",
    Kind.CROSS: "Cross-lists",
    Kind.REPLACE: "Replacements",
    Kind.REPLACE_CROSS: "Replacements (cross-lists)",
}
# An announce type in words, as cards and feed entries say it (the code, "replace", stays in
# a card's data-kind for scripts); arXiv's listings say "(replaced)", "(cross-list from cs.LG)".
KIND_LABELS = {
    Kind.NEW: "New submission",
    Kind.CROSS: "Cross-list",
    Kind.REPLACE: "Replaced",
    Kind.REPLACE_CROSS: "Replaced",
}
MAX_AUTHORS = 40
ALL = 1_000_000  # ?show=all; also the most any count or offset is read as (no day is longer)


class NotFound(LookupError):
    """A page that does not exist; the message tells the reader what would."""

    def __init__(self, message: str, suggestions: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.suggestions = suggestions or []


def number(raw: str | None, what: str) -> int | None:
    """A page's numeric parameter (?show=, ?offset=): None when absent, ALL for `all`."""
    if raw is None or raw == "":
        return None
    if raw == "all":
        return ALL
    try:
        # clamped: no day is longer, and a number past SQL's integers must never reach a query
        return max(-ALL, min(int(raw), ALL))
    except ValueError as e:
        raise NotFound(f"Bad {what} {raw!r}: a number is expected.") from e


@dataclass
class Group:
    kind: Kind
    label: str
    count: int
    start: int  # 1-based number of the group's first entry


@dataclass
class Listing:
    cats: CategorySet
    day: date | None  # None: nothing announced yet
    requested: date | None  # the ?date= asked for, when it had no announcement
    entries: list[tuple[str, Kind]]  # the whole day: (id, announce type)
    groups: list[Group]
    previous: date | None
    next: date | None
    first: date | None
    last: date | None
    names: list[tuple[str, str]] = field(default_factory=list)
    items: list[Listed] = field(default_factory=list)  # full rows of the cards shown
    offset: int = 0  # index of items[0] in entries

    @property
    def total(self) -> int:
        return len(self.entries)

    @property
    def title(self) -> str:
        return " + ".join(n for _, n in self.names) + "".join(
            f" − {taxonomy.name(c)}" for c in self.cats.exclude
        )


def listing(
    listings: Listings[date],
    store: Store,
    cats: CategorySet,
    requested: date | None,
    offset: int = 0,
    limit: int | None = None,
) -> Listing:
    """A day's listing, with full rows (from `store`) for entries [offset, offset + limit)."""
    days = listings.editions(cats.include)
    names = [(c, taxonomy.name(c)) for c in cats.include]
    if not days:
        return Listing(cats, None, requested, [], [], None, None, None, None, names)
    if requested is None:
        day = days[-1]
    elif requested in days:
        day = requested
    else:
        # No announcement that day (weekend, holiday, before our data): say so, link around it.
        i = bisect.bisect_left(days, requested)
        prev = days[i - 1] if i > 0 else None
        nxt = days[i] if i < len(days) else None
        return Listing(cats, None, requested, [], [], prev, nxt, days[0], days[-1], names)
    i = days.index(day)
    # an entry's group indexes Listings.groups; arXiv's groups are its announce types
    entries = [(pid, Kind(g)) for pid, g in listings.entries(cats.include, cats.exclude, day)]
    groups: list[Group] = []
    n = 1
    for kind, members in groupby(entries, key=lambda x: x[1]):
        count = len(list(members))
        groups.append(Group(kind, GROUPS[kind], count, n))
        n += count
    end = None if limit is None else offset + limit
    return Listing(
        cats,
        day,
        None,
        entries,
        groups,
        days[i - 1] if i > 0 else None,
        days[i + 1] if i + 1 < len(days) else None,
        days[0],
        days[-1],
        names,
        store.listed(entries[offset:end]),
        offset,
    )


@dataclass(slots=True)
class FeedItem:
    """What feed.xml expects of an entry: a paper and, on a listing, its announce type (arXiv)
    or its group ("ACL.2024 - Long") and status ("Reject"; "" for accepted) on a venue's."""

    paper: Paper
    kind: Kind | None = None
    group: str | None = None
    status: str = ""


@dataclass
class Archive:
    code: str
    name: str
    categories: list[tuple[taxonomy.Category, int]]

    @property
    def count(self) -> int:
        return sum(n for _, n in self.categories)


@dataclass
class Home:
    groups: list[tuple[str, list[Archive]]]
    days: list[date]
    total: int


def home(listings: Listings[date], store: Store) -> Home:
    """arXiv's categories by group with their paper counts, and every listing day."""
    counts = listings.sizes()
    by_group: dict[str, dict[str, Archive]] = {}
    for code, cat in sorted(taxonomy.categories().items()):
        if not cat.active and not counts.get(code):
            continue
        archives = by_group.setdefault(cat.group_name, {})
        arch = archives.setdefault(cat.archive, Archive(cat.archive, cat.archive_name, []))
        if code == cat.archive and any(
            c.archive == code and c.code != code for c in taxonomy.categories().values()
        ):
            continue  # an archive row with subcategories is the archive itself, not a category
        arch.categories.append((cat, counts.get(code, 0)))
    groups = [(g, list(a.values())) for g, a in by_group.items()]
    order = ["Computer Science", "Mathematics", "Physics", "Statistics"]
    groups.sort(key=lambda g: (order.index(g[0]) if g[0] in order else 99, g[0]))
    # "About N papers in D announcement days": arXiv's, not the venue papers the store also
    # holds (the Venue column counts those, edition by edition)
    venue_papers = sum(e.total for e in VenueListings(store).all())
    return Home(groups, listings.editions(), max(store.estimate_papers() - venue_papers, 0))


def authors_split(p: Paper) -> tuple[list[str], list[str]]:
    if len(p.authors) > MAX_AUTHORS:
        return p.authors[:MAX_AUTHORS], p.authors[MAX_AUTHORS:]
    return p.authors, []


def subjects(p: Paper) -> list[tuple[str, str]]:
    return [(c, taxonomy.name(c)) for c in p.categories]


def fmt_date(d: datetime | date | None) -> str:
    return d.strftime("%Y-%m-%d") if d else ""


def fmt_time(d: datetime | None) -> str:
    return d.strftime("%Y-%m-%d %H:%M UTC") if d else ""


def atom_time(t: datetime) -> str:
    """Atom's form of a naive UTC time (the store's), whole seconds: every feed's."""
    return t.replace(microsecond=0).isoformat() + "Z"


def fmt_stamp(d: datetime | date | None) -> str:
    """papers.cool's `span.date-data` form, "2023-09-28 17:59:42 UTC", seconds included: its
    clients parse exactly that (RSSHub's route wants "YYYY-MM-DD HH:MM:SS"). A day alone is
    its midnight UTC (see `announced_at` for an arXiv listing day)."""
    if d is None:
        return ""
    if not isinstance(d, datetime):
        d = datetime(d.year, d.month, d.day)
    return d.strftime("%Y-%m-%d %H:%M:%S UTC")


def fmt_clock(d: datetime) -> str:
    """The time of day of `fmt_stamp`, " 00:00:00 UTC": what a card keeps for clients after the
    day it shows (a listing day has no time a reader needs to see)."""
    return d.strftime(" %H:%M:%S UTC")


def announced_at(day: date, source: str = "arxiv") -> datetime:
    """When the listing of `day` went out, naive UTC: arXiv's at 20:00 New York time the
    evening before (timetable.py; midnight UTC in summer, 01:00 in winter). Another source's
    day has no announcement hour: its midnight UTC."""
    if source != "arxiv":
        return datetime(day.year, day.month, day.day)
    evening = datetime.combine(day - timedelta(days=1), timetable.ANNOUNCE_TIME, timetable.ET)
    return evening.astimezone(UTC).replace(tzinfo=None)


def kind_label(kind: Kind | None, p: Paper) -> str:
    """An announce type in words ("" for none); a cross-list names the paper's primary
    category, as arXiv's listings do: "Replaced (cross-list from cs.CV)"."""
    if kind is None:
        return ""
    label = KIND_LABELS[kind]
    primary = p.categories[0] if p.categories else None
    if kind == Kind.CROSS and primary:
        return f"{label} from {primary}"
    if kind == Kind.REPLACE_CROSS and primary:
        return f"{label} (cross-list from {primary})"
    return label


def paper_time(p: Paper, day: date | None) -> datetime | None:
    """A paper's date for a feed entry, naive UTC: its latest version's time where its source
    gave one, else when it was first announced here (`day`, its first listing), else the
    source's stand-in (arXiv: the month its id was given)."""
    given = p.updated or p.published
    if given is not None:
        return given
    if day is not None:
        return announced_at(day, p.source)
    try:
        return registry.get(p.source).approx_published(p)
    except KeyError:  # a source no longer installed
        return None


@dataclass(frozen=True, slots=True)
class Examples:
    """What the 404 page offers as examples: listings, days and papers this instance has (a
    demo with its sample, a site with its harvest), never ids it would answer 404 to."""

    listing: str  # the category with the most papers: "cs.CL"
    union: str  # two categories together: "cs.CL+cs.CV"
    day: date | None  # an earlier announcement day, for ?date=
    papers: tuple[str, ...]  # arXiv ids of papers here: the latest day's first new ones
    edition: str | None  # a venue edition here, "EACL.2024"
    venue_paper: str | None  # a paper of it, "2024.eacl-long.1@ACL"


def examples(listings: Listings[date], store: Store) -> Examples:
    """Examples from the store: the largest categories and the latest day's first new
    submissions; the newest venue edition and its first paper. Falls back to a bare category
    (its page says how to load papers) when the store is empty."""
    sizes = sorted(listings.sizes().items(), key=lambda kv: (-kv[1], kv[0]))
    cats = [c for c, n in sizes if n and taxonomy.known(c)][:2] or ["cs.CL"]
    days = listings.editions(cats[:1])
    papers: list[str] = []
    if days:
        for cat in cats:
            new = [pid for pid, g in listings.entries([cat], [], days[-1]) if g == Kind.NEW]
            papers += [pid for pid in new[:1] if pid not in papers]
    editions = [e for e in VenueListings(store).all() if e.listed]
    edition = editions[-1].name if editions else None
    venue_paper = None
    if edition is not None:
        entries = VenueListings(store).entries([], [], edition)
        venue_paper = entries[0][0] if entries else None
    return Examples(
        listing=cats[0],
        union="+".join(cats) if len(cats) > 1 else cats[0],
        day=days[-2] if len(days) > 1 else (days[-1] if days else None),
        papers=tuple(papers),
        edition=edition,
        venue_paper=venue_paper,
    )
