"""Venue listings: conference papers by edition of a collection (`ACL.2024`), in groups.

The venue counterpart of arXiv's announcements, for every venue source alike (the ACL
Anthology, PMLR, OpenReview, CVF...): sources hand over `records.Listing`s in their Batches,
`write` keeps them (inside the store's transaction) with the per-edition counts and group
order, and `VenueListings` reads them for pages and feeds through the one listing interface
(store/listings.py). An edition is named `<collection>.<edition>` as papers.cool writes it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from coolpapers.records import Listing
from coolpapers.store import driver
from coolpapers.store.driver import as_date

if TYPE_CHECKING:
    from coolpapers.store.store import Store

# collection, edition, group, paper_id, rank, day, status: a records.Listing as bound
ListingRow = tuple[str, str, str, str, int, date | None, str]


def listing_row(x: Listing) -> ListingRow:
    return (x.collection, x.edition, x.group, x.paper_id, x.rank, x.day, x.status)


def listed_day(row: ListingRow) -> date | None:
    """The day a listing counts as the paper's listing day (papers.first_listed, which dates
    it in search): the edition's own day, else the 1st of January of an edition named by
    its year ("2024"); None for an edition that tells neither."""
    if row[5] is not None:
        return row[5]
    year = row[1][:4]
    return date(int(year), 1, 1) if year.isdigit() and len(row[1]) == 4 else None


def edition_name(collection: str, edition: str) -> str:
    return f"{collection}.{edition}"


def split_name(name: str) -> tuple[str, str]:
    """("ACL", "2024") of "ACL.2024"; ("ACL", "") of a collection alone."""
    collection, dot, edition = name.rpartition(".")
    return (collection, edition) if dot else (name, "")


@dataclass(frozen=True, slots=True)
class Group:
    name: str  # "" for an edition with no groups
    listed: int  # accepted papers
    total: int  # with rejected and withdrawn ones


@dataclass(frozen=True, slots=True)
class Edition:
    collection: str
    edition: str
    source: str
    day: date | None
    added: datetime
    listed: int
    total: int
    groups: tuple[Group, ...]

    @property
    def name(self) -> str:
        return edition_name(self.collection, self.edition)


# ---- writing (Store.write_rows calls this inside its transaction) -------------------------

_UPSERT = """
INSERT INTO venue_listings (collection, edition, paper_id, grp, rank, status)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (collection, edition, paper_id) DO UPDATE SET
    grp = excluded.grp, rank = excluded.rank, status = excluded.status
"""
_COUNT = """
SELECT l.grp, l.status, count(*), min(p.source)
FROM venue_listings l LEFT JOIN papers p ON p.id = l.paper_id
WHERE l.collection = ? AND l.edition = ?
GROUP BY l.grp, l.status
"""
_EDITION = "SELECT groups, day FROM venue_editions WHERE collection = ? AND edition = ?"
_SAVE_EDITION = """
INSERT INTO venue_editions (collection, edition, source, day, added, listed, total, groups)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (collection, edition) DO UPDATE SET
    source = excluded.source, day = excluded.day, listed = excluded.listed,
    total = excluded.total, groups = excluded.groups
"""


def write(store: Store, conn: Connection, rows: Sequence[ListingRow]) -> None:
    """Upsert listings, then recount each edition they touch. A recount (one grouped query
    over an edition's rows, a few thousand at most) rather than deltas: a re-import, a paper
    moved between groups or a changed status all come out right with no bookkeeping."""
    if not rows:
        return
    last: dict[tuple[str, str, str], ListingRow] = {}
    for r in rows:  # one row per key (PostgreSQL's ON CONFLICT may not touch a row twice)
        last[(r[0], r[1], r[3])] = r
    conn.exec_driver_sql(
        store._sql(_UPSERT), [(c, e, p, g, n, s) for c, e, g, p, n, _, s in last.values()]
    )
    order: dict[tuple[str, str], list[str]] = {}
    days: dict[tuple[str, str], date] = {}
    for c, e, g, _, _, d, _ in rows:
        groups = order.setdefault((c, e), [])
        if g not in groups:
            groups.append(g)
        if d is not None and ((c, e) not in days or d < days[(c, e)]):
            days[(c, e)] = d
    now = datetime.now(UTC).replace(tzinfo=None)
    for (c, e), seen in order.items():
        _recount(store, conn, c, e, seen, days.get((c, e)), now)


def _recount(
    store: Store,
    conn: Connection,
    collection: str,
    edition: str,
    seen: list[str],
    day: date | None,
    now: datetime,
) -> None:
    old = conn.exec_driver_sql(store._sql(_EDITION), (collection, edition)).first()
    # groups keep the order they were first listed in; new ones follow in this batch's order
    names = [g for g, _, _ in json.loads(old[0])] if old else []
    names += [g for g in seen if g not in names]
    listed: dict[str, int] = {}
    total: dict[str, int] = {}
    sources: set[str] = set()
    for g, status, n, source in conn.exec_driver_sql(store._sql(_COUNT), (collection, edition)):
        total[g] = total.get(g, 0) + n
        if not status:
            listed[g] = listed.get(g, 0) + n
        if source:
            sources.add(source)
    groups = [[g, listed.get(g, 0), total[g]] for g in names if g in total]
    if old and old[1] is not None:
        old_day = old[1] if isinstance(old[1], date) else date.fromisoformat(old[1])
        day = old_day if day is None else min(day, old_day)
    conn.exec_driver_sql(
        store._sql(_SAVE_EDITION),
        (
            collection,
            edition,
            min(sources) if sources else "",
            store._day(day) if day else None,
            now,
            sum(listed.values()),
            sum(total.values()),
            json.dumps(groups, ensure_ascii=False),
        ),
    )


# ---- reading --------------------------------------------------------------------------------

_EDITIONS = """
SELECT collection, edition, source, day, added, listed, total, groups FROM venue_editions
"""
_ENTRIES = """
SELECT paper_id, grp, rank, status FROM venue_listings WHERE collection = ? AND edition = ?
"""


class VenueListings:
    """Every venue source's listings (a `Listings[str]`), or one source's (`source`): an
    edition is named "ACL.2024", its groups are the edition's own (`groups(edition)`), and
    `include`/`exclude` of `entries` are group names (none: every group). Accepted papers
    only, unless `everything` (then rejected and withdrawn ones follow in their groups)."""

    def __init__(self, store: Store, source: str | None = None, everything: bool = False):
        self.store = store
        self.source = source
        self.everything = everything

    def all(self) -> list[Edition]:
        """Every edition (of `source`), oldest first: by year, then day, then name."""
        with self.store.connect() as conn:
            rows = list(conn.exec_driver_sql(_EDITIONS))
        out = [_edition(r) for r in rows if self.source is None or r[2] == self.source]
        out.sort(key=_edition_order)
        return out

    def edition(self, name: str) -> Edition | None:
        collection, edition = split_name(name)
        with self.store.connect() as conn:
            row = conn.exec_driver_sql(
                self.store._sql(_EDITIONS + " WHERE collection = ? AND edition = ?"),
                (collection, edition),
            ).first()
        if row is None or (self.source is not None and row[2] != self.source):
            return None
        return _edition(row)

    def groups(self, edition: str) -> list[str]:
        found = self.edition(edition)
        if found is None:
            return []
        return [g.name for g in found.groups if g.listed or self.everything]

    def editions(self, collections: Sequence[str] | None = None) -> list[str]:
        wanted = None if collections is None else set(collections)
        return [
            x.name
            for x in self.all()
            if (wanted is None or x.collection in wanted) and (x.listed or self.everything)
        ]

    def entries(
        self, include: Sequence[str], exclude: Sequence[str], edition: str
    ) -> list[tuple[str, int]]:
        groups = self.groups(edition)
        index = {g: i for i, g in enumerate(groups)}
        keep = set(include) if include else None
        drop = set(exclude)
        collection, ed = split_name(edition)
        with self.store.connect() as conn:
            rows = conn.exec_driver_sql(self.store._sql(_ENTRIES), (collection, ed))
            got = [
                (index[g], status != "", rank, pid)
                for pid, g, rank, status in rows
                if g in index
                and (self.everything or not status)
                and (keep is None or g in keep)
                and g not in drop
            ]
        # by group, accepted before the rest, then the source's own order
        got.sort()
        return [(pid, gi) for gi, _, _, pid in got]

    def sizes(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for x in self.all():
            out[x.collection] = out.get(x.collection, 0) + x.listed
        return out

    def statuses(self, edition: str, keys: Iterable[str]) -> dict[str, str]:
        """The status of each of `keys` in `edition` that has one ("Reject"...)."""
        collection, ed = split_name(edition)
        wanted = set(keys)
        with self.store.connect() as conn:
            rows = conn.exec_driver_sql(self.store._sql(_ENTRIES), (collection, ed))
            return {pid: s for pid, _, _, s in rows if s and pid in wanted}


def placements(store: Store, keys: Sequence[str]) -> dict[str, list[tuple[str, str, str]]]:
    """Where each of `keys` is listed: [(collection, edition, group)], accepted listings
    only, for a card's subjects line ("ACL.2024 - Long")."""
    out: dict[str, list[tuple[str, str, str]]] = {}
    sql = (
        "SELECT paper_id, collection, edition, grp FROM venue_listings "
        "WHERE paper_id IN :ids AND status = ''"
    )
    with store.connect() as conn:
        for i in range(0, len(keys), 500):
            for pid, c, e, g in driver.rows(conn, sql, {"ids": keys[i : i + 500]}):
                out.setdefault(pid, []).append((c, e, g))
    for v in out.values():
        v.sort()
    return out


# ---- linked versions (paper_links) -----------------------------------------------------------

_LINK = """
INSERT INTO paper_links (paper_id, other_id, how) VALUES (?, ?, ?)
ON CONFLICT (paper_id, other_id) DO UPDATE SET how = excluded.how
"""


def link(store: Store, pairs: Iterable[tuple[str, str, str]]) -> int:
    """Record that each (key, other key, how) names one work, in both directions; returns
    how many pairs were given. Idempotent."""
    rows = {}
    for a, b, how in pairs:
        if a != b:
            rows[(a, b)] = how
            rows[(b, a)] = how
    if rows:
        with store.engine.begin() as conn:
            new = _new_links(store, conn, rows)
            conn.exec_driver_sql(store._sql(_LINK), [(a, b, h) for (a, b), h in rows.items()])
            if new:  # cards show links: cached pages must follow (a re-link changes nothing)
                store._bump_generation(conn)
    return len(rows) // 2


def _new_links(store: Store, conn: Connection, rows: dict[tuple[str, str], str]) -> bool:
    """Whether `rows` add or change any link."""
    keys = sorted({a for a, _ in rows})
    old: dict[tuple[str, str], str] = {}
    for i in range(0, len(keys), 500):
        part = tuple(keys[i : i + 500])
        sql = (
            "SELECT paper_id, other_id, how FROM paper_links "
            f"WHERE paper_id IN ({', '.join('?' * len(part))})"
        )
        old.update({(a, b): h for a, b, h in conn.exec_driver_sql(store._sql(sql), part)})
    return any(old.get(k) != h for k, h in rows.items())


def linked(store: Store, keys: Sequence[str]) -> dict[str, list[str]]:
    """The other versions of each of `keys` that has any (venue <-> arXiv), sorted."""
    out: dict[str, list[str]] = {}
    sql = "SELECT paper_id, other_id FROM paper_links WHERE paper_id IN :ids"
    with store.connect() as conn:
        for i in range(0, len(keys), 500):
            for a, b in driver.rows(conn, sql, {"ids": keys[i : i + 500]}):
                out.setdefault(a, []).append(b)
    for v in out.values():
        v.sort()
    return out


def _edition(row: Sequence[Any]) -> Edition:
    """An Edition from a venue_editions row (_EDITIONS' columns)."""
    c, e, s, d, a, listed, total, groups = row
    return Edition(
        c,
        e,
        s,
        as_date(d) if d is not None else None,
        a if isinstance(a, datetime) else datetime.fromisoformat(a),
        listed,
        total,
        tuple(Group(*g) for g in json.loads(groups)),
    )


def _edition_order(x: Edition) -> tuple[str, date, str]:
    return (x.edition[:4], x.day or date.min, x.name.lower())
