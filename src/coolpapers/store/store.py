"""The store: one interface over SQLite and PostgreSQL.

Sources hand over `records.Batch`es; the store upserts by paper key (the public id without
version: `2309.16354`, `2024.acl-long.1@ACL`) so that any ingestion can be re-run (or resumed
after a kill) with no duplicate. Web pages read through the query functions
here and never write SQL of their own.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite

from coolpapers.records import Batch, Kind, Paper, clean
from coolpapers.store import driver, venues
from coolpapers.store.driver import as_date, as_datetime
from coolpapers.store.engine import make_engine, migrate
from coolpapers.store.schema import announcements, day_counts, papers, state
from coolpapers.texmarkup import accents_to_unicode

log = logging.getLogger("coolpapers.store")
BULK_WAL_PAGES = 16384  # 64 MB of 4 KB pages: see Store._bulk


# The connection a `Store.reading` block holds, and its store.
_held: ContextVar[tuple[Store, Connection] | None] = ContextVar("store_reading", default=None)


@dataclass(slots=True)
class Listed:
    """A paper as shown on a listing: with its announce type for this listing."""

    paper: Paper
    kind: Kind


# One `papers` row as the upsert binds it: id, version, title, authors (JSON), abstract,
# categories (space-separated), comments, journal_ref, doi, license, published, updated,
# ingested, source, extra (JSON or None). See _UPSERT_PAPERS.
PaperRow = tuple[
    str, int | None, str, str, str, str, str | None, str | None, str | None, str | None,
    datetime | None, datetime | None, datetime, str, str | None,
]  # fmt: skip
AnnouncementRow = tuple[str, date, str, int]  # category, day, paper_id, kind


# The authors' JSON as it has always been written (json's separators): the search triggers
# compare it with the stored text, and a new spelling would re-index every re-imported paper.
# One encoder for every row: json.dumps builds one per call, half its time.
_AUTHORS = json.JSONEncoder(ensure_ascii=False).encode


def _extra(extra: dict[str, object]) -> str:
    """`Paper.extra` as JSON, keys sorted (a re-import writes the same text); orjson, ten
    times json's speed, for what a source writes: text, numbers, lists, dicts."""
    try:
        return orjson.dumps(extra, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:  # orjson's JSONEncodeError: a value it does not take (a huge int)
        return json.dumps(extra, ensure_ascii=False, sort_keys=True)


def paper_row(p: Paper, now: datetime) -> PaperRow:
    return (
        p.id,
        p.version,
        # TeX accents become Unicode once, here, for every source (math is left alone).
        accents_to_unicode(p.title),
        _AUTHORS([accents_to_unicode(a) for a in p.authors]),
        accents_to_unicode(p.abstract),
        " ".join(p.categories),
        # comments and journal refs are TeX too ("Proc. of G\\"odel'26")
        accents_to_unicode(p.comments) if p.comments else p.comments,
        accents_to_unicode(p.journal_ref) if p.journal_ref else p.journal_ref,
        p.doi,
        p.license,
        _naive(p.published),
        _naive(p.updated),
        now,
        p.source,
        _extra(p.extra) if p.extra else None,
    )


@dataclass(slots=True)
class Rows:
    """A `Batch` as the store binds it. Plain tuples: a parsing process prepares them and
    hands them over five times cheaper than dataclasses pickle (sources/arxiv/files.py). `notes`:
    what records.clean changed, logged by the process that writes (a parser's log is lost)."""

    papers: list[PaperRow] = field(default_factory=list)
    announcements: list[AnnouncementRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    listings: list[venues.ListingRow] = field(default_factory=list)

    def extend(self, other: Rows) -> None:
        """Add another batch's rows (several small batches written in one transaction)."""
        self.papers.extend(other.papers)
        self.announcements.extend(other.announcements)
        self.notes.extend(other.notes)
        self.listings.extend(other.listings)

    @classmethod
    def of(cls, batch: Batch) -> Rows:
        """Every record of every source passes here: cleaned and bounded (records.clean)."""
        now = datetime.now(UTC).replace(tzinfo=None)
        notes: list[str] = []
        for p in batch.papers:
            if fixed := clean(p):
                notes.extend(fixed)
        return cls(
            [paper_row(p, now) for p in batch.papers],
            [(a.category, a.day, a.paper_id, int(a.kind)) for a in batch.announcements],
            notes,
            [venues.listing_row(x) for x in batch.listings],
        )


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        # what `reading` holds: on PostgreSQL in autocommit, so that a statement is one round
        # trip, not BEGIN, it and ROLLBACK (read committed takes a snapshot per statement
        # either way)
        self._reader = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if self.dialect == "postgresql"
            else engine
        )

    @classmethod
    def open(cls, url: str, *, create: bool = True) -> Store:
        store = cls(make_engine(url))
        if create:
            migrate(store.engine)
        return store

    # ---- connections -----------------------------------------------------------------------

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection to read with: the one `reading` holds in this context, else one of
        the pool's. Not for writing: a write takes its own transaction (engine.begin())."""
        held = _held.get()
        if held is not None and held[0] is self:
            yield held[1]
            return
        with self.engine.connect() as conn:
            yield conn

    @contextmanager
    def reading(self) -> Iterator[None]:
        """One connection for every read `connect` makes inside (this thread and context):
        a new search page reads ~12 times, and each checkout from the pool and back cost
        ~35 us of the worker's CPU on SQLite and ~100 on PostgreSQL, plus, there, a BEGIN and
        a ROLLBACK round trip (Store.__init__'s reader). Nested in this store's: the outer
        one's; in another store's: its own, that store's reads inside taking the pool's."""
        held = _held.get()
        if held is not None and held[0] is self:
            yield
            return
        with self._reader.connect() as conn:
            token = _held.set((self, conn))
            try:
                yield
            finally:
                _held.reset(token)

    # ---- writing -------------------------------------------------------------------------

    def write(self, batch: Batch, checkpoint: tuple[str, str] | None = None) -> None:
        """Store a batch in one transaction, together with an optional progress checkpoint,
        so that a killed ingestion resumes exactly where its last batch ended."""
        self.write_rows(Rows.of(batch), checkpoint)

    def write_rows(
        self,
        rows: Rows,
        checkpoint: tuple[str, str] | None = None,
        *,
        checkpoints: Sequence[tuple[str, str]] = (),
    ) -> None:
        """`write` for a batch already turned into rows (by a parsing process: files.py);
        `checkpoints`: several, when the rows are several files' (sources/formats.py)."""
        for note in rows.notes:
            log.warning("cleaned %s", note)
        span = _listing_span(
            [(p, d) for _, d, p, _ in rows.announcements]
            + [(x[3], d) for x in rows.listings if (d := venues.listed_day(x)) is not None]
        )
        with self.engine.connect() as conn, self._bulk(conn), conn.begin():
            late = self._upsert_papers(conn, rows.papers, span)
            self._upsert_announcements(conn, rows.announcements)
            venues.write(self, conn, rows.listings)
            self._mark_listed(conn, {p: span[p] for p in late})
            for key, value in [checkpoint] if checkpoint else checkpoints:
                self._set_state(conn, key, value)
            if rows.papers or rows.announcements or rows.listings:
                self._bump_generation(conn)

    @contextmanager
    def _bulk(self, conn: Connection) -> Iterator[None]:
        """SQLite copies its write-ahead log into the database every 1,000 pages (4 MB),
        syncing the disk each time: 40% of an import's writing time (13 of 32 us a venue
        paper, measured). A bulk write lets the log grow to BULK_WAL_PAGES first (the sync
        comes once per 64 MB); the connection gets the default back for other writers
        (a page view's small write would otherwise pay for a 64 MB checkpoint)."""
        if self.dialect != "sqlite":
            yield
            return
        raw = conn.connection.dbapi_connection
        assert raw is not None
        # on the driver's connection: SQLAlchemy's own would begin a transaction here
        raw.execute(f"PRAGMA wal_autocheckpoint={BULK_WAL_PAGES}")
        try:
            yield
        finally:
            raw.execute("PRAGMA wal_autocheckpoint=1000")

    # The two upserts below are the hot path of every import (tens of thousands of rows per
    # second): they go straight to the driver's executemany with SQL written once per dialect,
    # skipping SQLAlchemy's per-statement compilation and parameter processing.

    def _sql(self, text: str) -> str:
        return text.replace("?", "%s") if self.dialect == "postgresql" else text

    def _upsert_papers(
        self, conn: Connection, rows: list[PaperRow], span: dict[str, tuple[date, date]]
    ) -> set[str]:
        """Upsert the papers, with the listing days this batch gives them (`span`: first and
        last announcement day by key). Returns the keys of `span` whose days the upsert may
        have left behind, for `_mark_listed`: those with no row in this batch, and those of a
        versioned record, which the version rule can refuse. A daily list (unversioned, its
        papers with their listings) needs no second pass: an import stays one statement."""
        late = set(span)
        if rows:
            none = (None, None)
            bound = []
            for r in _last_per_id(rows):
                days = span.get(r[0])
                if days is None:
                    bound.append((*r, *none))
                    continue
                if r[1] is None:
                    late.discard(r[0])
                bound.append((*r, self._day(days[0]), self._day(days[1])))
            conn.exec_driver_sql(self._sql(_UPSERT_PAPERS), bound)
        return late

    def _upsert_announcements(self, conn: Connection, rows: list[AnnouncementRow]) -> None:
        if not rows:
            return
        uniq: dict[tuple[str, date, str], int] = {}
        for c, d, p, k in rows:
            key = (c, d, p)
            uniq[key] = min(uniq.get(key, 99), k)
        deltas = self._count_deltas(conn, uniq)
        conn.exec_driver_sql(
            self._sql(_UPSERT_ANNOUNCEMENTS),
            [(c, self._day(d), p, k) for (c, d, p), k in uniq.items()],
        )
        changed = [(c, self._day(d), t, n) for (c, d), (t, n) in deltas.items() if t or n]
        if changed:
            conn.exec_driver_sql(self._sql(_ADD_DAY_COUNTS), changed)

    def _mark_listed(self, conn: Connection, span: dict[str, tuple[date, date]]) -> None:
        """Move stored papers' first/last listing days out to these (first, last) days."""
        if span:
            conn.exec_driver_sql(
                self._sql(_MARK_LISTED),
                [(self._day(f), self._day(f), self._day(la), self._day(la), p,
                  self._day(f), self._day(la)) for p, (f, la) in span.items()],
            )  # fmt: skip

    def _count_deltas(
        self, conn: Connection, new: dict[tuple[str, date, str], int]
    ) -> dict[tuple[str, date], tuple[int, int]]:
        """How a batch changes day_counts, from the rows it adds or re-types. Counting the
        delta (not recounting the day) keeps a 100k-line import linear."""
        # raw SQL, as the upserts: a statement built by SQLAlchemy for each 500 ids cost a
        # quarter of the writer's time in a Kaggle import
        ids = sorted({p for _, _, p in new})
        old: dict[tuple[str, date, str], int] = {}
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            sql = (
                "SELECT category, day, paper_id, kind FROM announcements "
                f"WHERE paper_id IN ({', '.join('?' * len(part))})"
            )
            for c, d, p, k in conn.exec_driver_sql(self._sql(sql), tuple(part)):
                key = (c, as_date(d), p)
                if key in new:
                    old[key] = k
        deltas: dict[tuple[str, date], tuple[int, int]] = {}
        listed = int(Kind.CROSS)
        for key, kind in new.items():
            before = old.get(key)
            t, n = deltas.get(key[:2], (0, 0))
            if before is None:
                t, n = t + 1, n + (kind <= listed)
            else:
                n += (kind <= listed) - (before <= listed)
            deltas[key[:2]] = (t, n)
        return deltas

    def _day(self, d: date) -> date | str:
        # sqlite3's default date adapter is deprecated (3.12); ISO text is what it stored
        return d.isoformat() if self.dialect == "sqlite" else d

    # ---- upserts for features -------------------------------------------------------------
    # Features (llm/: counters, rate limits, jobs) keep their own tables; these two are the only
    # dialect-specific SQL they need, so they live here and features never pick a dialect.

    def _insert(self, table: Table) -> postgresql.Insert | sqlite.Insert:
        # both dialects spell INSERT ... ON CONFLICT the same way; only the module differs
        return (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(table)

    def insert_new(
        self, conn: Connection, table: Table, values: dict[str, object], key: Sequence[str]
    ) -> bool:
        """Insert `values` unless a row with the same `key` columns exists; True when this
        call inserted it. Race-free: of concurrent callers exactly one gets True."""
        stmt = self._insert(table).values(values).on_conflict_do_nothing(index_elements=key)
        # RETURNING, not rowcount: through psycopg this INSERT's rowcount comes back as -1.
        return conn.execute(stmt.returning(table.c[key[0]])).first() is not None

    def increment(
        self, conn: Connection, table: Table, key: dict[str, object], column: str = "n"
    ) -> None:
        """Add one to `column` of the row with these `key` values, creating it at 1."""
        c = table.c[column]
        stmt = self._insert(table).values({**key, column: 1})
        conn.execute(stmt.on_conflict_do_update(index_elements=list(key), set_={c: c + 1}))

    def accumulate(
        self, conn: Connection, table: Table, key: dict[str, object], amounts: dict[str, int]
    ) -> None:
        """Add `amounts` to the row with these `key` values, creating it with them."""
        stmt = self._insert(table).values({**key, **amounts})
        add = {table.c[k]: table.c[k] + stmt.excluded[k] for k in amounts}
        conn.execute(stmt.on_conflict_do_update(index_elements=list(key), set_=add))

    # ---- state ---------------------------------------------------------------------------

    def _set_state(self, conn: Connection, key: str, value: str) -> None:
        # raw SQL: every written batch sets two keys (checkpoint, generation)
        conn.exec_driver_sql(self._sql(_SET_STATE), (key, value))

    def set_state(self, key: str, value: str) -> None:
        with self.engine.begin() as conn:
            self._set_state(conn, key, value)

    def get_state(self, key: str, default: str | None = None) -> str | None:
        with self.connect() as conn:  # (the data's generation: read by every new search)
            got = driver.rows(conn, _GET_STATE, {"k": key})
        return default if not got or got[0][0] is None else got[0][0]

    def reserve_slot(self, key: str, interval: float) -> float:
        """Reserve the next request slot of a shared pace and return its time (unix seconds).

        Every process that talks to arXiv calls this before a request and sleeps until the
        returned time, so all of them together keep one request per `interval`. The row is
        locked for the read-modify-write (FOR UPDATE on PostgreSQL; SQLite's write lock).
        "Now" is read once the lock is held: time spent waiting for it is not a slot."""
        with self.engine.begin() as conn:
            if self.dialect == "sqlite":
                conn.exec_driver_sql("UPDATE state SET value = value WHERE key = ?", (key,))
            q = select(state.c.value).where(state.c.key == key)
            if self.dialect == "postgresql":
                self._set_state_if_missing(conn, key)
                q = q.with_for_update()
            raw = conn.execute(q).scalar()
            slot = max(time.time(), float(raw or 0))
            self._set_state(conn, key, repr(slot + interval))
        return slot

    def push_slot(self, key: str, not_before: float) -> None:
        """Move the shared pace forward (a 503 Retry-After holds every fetcher back)."""
        with self.engine.begin() as conn:
            raw = conn.execute(select(state.c.value).where(state.c.key == key)).scalar()
            if float(raw or 0) < not_before:
                self._set_state(conn, key, repr(not_before))

    def _set_state_if_missing(self, conn: Connection, key: str) -> None:
        self.insert_new(conn, state, {"key": key, "value": "0"}, ["key"])

    def _bump_generation(self, conn: Connection) -> None:
        self._set_state(conn, "generation", datetime.now(UTC).isoformat())

    def generation(self) -> str:
        """Changes whenever stored data changes: the key that invalidates page caches."""
        return self.get_state("generation", "") or ""

    # ---- reading -------------------------------------------------------------------------

    def papers(self, ids: Iterable[str]) -> dict[str, Paper]:
        ids = list(dict.fromkeys(ids))
        out: dict[str, Paper] = {}
        with self.connect() as conn:
            for i in range(0, len(ids), 500):
                for r in driver.rows(conn, _PAPERS, {"ids": ids[i : i + 500]}):
                    out[r[0]] = _paper(dict(zip(_PAPER_COLUMNS, r, strict=True)))
        return out

    def listing_entries(
        self, include: Sequence[str], exclude: Sequence[str], day: date
    ) -> list[tuple[str, Kind]]:
        """(id, announce type) of the papers announced on `day` in any of `include` and in
        none of `exclude`, in arXiv's order: new, cross-lists, replacements (by id within
        each group). Light: a page then loads full rows only for the cards it shows."""
        a = announcements.c
        q = (
            select(a.paper_id, func.min(a.kind), papers.c.categories)
            .join(papers, papers.c.id == a.paper_id)
            .where(a.day == day, a.category.in_(list(include)))
            .group_by(a.paper_id, papers.c.categories)
        )
        excluded = set(exclude)
        with self.connect() as conn:
            out = [
                (pid, Kind(k))
                for pid, k, cats in conn.execute(q)
                if not excluded or excluded.isdisjoint(cats.split())
            ]
        out.sort(key=lambda x: (x[1], _id_key(x[0])))
        return out

    def listed(self, entries: Sequence[tuple[str, Kind]]) -> list[Listed]:
        """Full rows for listing entries, in their order."""
        found = self.papers(pid for pid, _ in entries)
        return [Listed(found[pid], k) for pid, k in entries if pid in found]

    def listing(self, include: Sequence[str], exclude: Sequence[str], day: date) -> list[Listed]:
        """Every paper of a listing with its full row, in one call (tests, scripts; pages read
        through store/listings.py and load rows for the cards they show)."""
        return self.listed(self.listing_entries(include, exclude, day))

    def days(self, categories: Sequence[str]) -> list[date]:
        """Announcement days (ascending) on which any of `categories` listed something."""
        q = (
            select(day_counts.c.day)
            .where(day_counts.c.category.in_(list(categories)))
            .group_by(day_counts.c.day)
            .order_by(day_counts.c.day)
        )
        with self.connect() as conn:
            return [as_date(d) for (d,) in conn.execute(q)]

    def all_days(self) -> list[date]:
        q = select(day_counts.c.day).group_by(day_counts.c.day).order_by(day_counts.c.day)
        with self.connect() as conn:
            return [as_date(d) for (d,) in conn.execute(q)]

    def category_counts(self) -> dict[str, int]:
        """Papers per category (first listings: new + cross), for the home page."""
        q = select(day_counts.c.category, func.sum(day_counts.c.listed)).group_by(
            day_counts.c.category
        )
        with self.connect() as conn:
            return {c: int(n or 0) for c, n in conn.execute(q)}

    def day_totals(self, day: date) -> dict[str, int]:
        q = select(day_counts.c.category, day_counts.c.total).where(day_counts.c.day == day)
        with self.connect() as conn:
            return {c: n for c, n in conn.execute(q)}

    def announced_ids(self, category: str, day: date) -> set[str]:
        a = announcements.c
        q = select(a.paper_id).where(a.category == category, a.day == day)
        with self.connect() as conn:
            return set(conn.execute(q).scalars())

    def first_days(self, ids: Sequence[str]) -> dict[str, date]:
        """The first day its source listed each of `ids` that was listed (papers.first_listed:
        whatever the source, no listing table is read)."""
        return self._listed_days(ids, "first_listed")

    def last_days(self, ids: Sequence[str]) -> dict[str, date]:
        """The latest day its source listed each of `ids` that was listed."""
        return self._listed_days(ids, "last_listed")

    def _listed_days(self, ids: Sequence[str], column: str) -> dict[str, date]:
        out: dict[str, date] = {}
        sql = f"SELECT id, {column} FROM papers WHERE id IN :ids AND {column} IS NOT NULL"
        with self.connect() as conn:
            for i in range(0, len(ids), 500):
                rows = driver.rows(conn, sql, {"ids": ids[i : i + 500]})
                out.update({p: as_date(d) for p, d in rows})
        return out

    def estimate_papers(self) -> int:
        """About how many papers are stored, in O(1): for start-up lines and the home page,
        where COUNT(*) would read the whole table (0.5 s cold at 1M papers)."""
        with self.connect() as conn:
            if self.dialect == "sqlite":
                n = conn.exec_driver_sql("SELECT max(rowid) FROM papers").scalar()
            else:
                n = conn.exec_driver_sql(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = 'papers'::regclass"
                ).scalar()
                if n is None or n < 0:  # never analysed: small enough to count
                    n = conn.execute(select(func.count()).select_from(papers)).scalar()
        return int(n or 0)

    def count_papers(self) -> int:
        with self.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(papers)).scalar() or 0)


# A record never replaces a newer version than its own; unversioned records (daily JSON lines)
# refresh the text but keep the dates and version that a richer source gave.
_UPSERT_PAPERS = """
INSERT INTO papers (id, version, title, authors, abstract, categories, comments, journal_ref,
                    doi, license, published, updated, ingested, source, extra, first_listed,
                    last_listed)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
    title = excluded.title, authors = excluded.authors, abstract = excluded.abstract,
    categories = excluded.categories, ingested = excluded.ingested,
    version = coalesce(excluded.version, papers.version),
    comments = coalesce(excluded.comments, papers.comments),
    journal_ref = coalesce(excluded.journal_ref, papers.journal_ref),
    doi = coalesce(excluded.doi, papers.doi),
    license = coalesce(excluded.license, papers.license),
    published = coalesce(excluded.published, papers.published),
    updated = coalesce(excluded.updated, papers.updated),
    extra = coalesce(excluded.extra, papers.extra),
    first_listed = CASE WHEN excluded.first_listed IS NULL OR papers.first_listed
                             < excluded.first_listed THEN papers.first_listed
                        ELSE excluded.first_listed END,
    last_listed = CASE WHEN excluded.last_listed IS NULL OR papers.last_listed
                            > excluded.last_listed THEN papers.last_listed
                       ELSE excluded.last_listed END
WHERE coalesce(excluded.version, papers.version, 0) >= coalesce(papers.version, 0)
"""
_UPSERT_ANNOUNCEMENTS = """
INSERT INTO announcements (category, day, paper_id, kind) VALUES (?, ?, ?, ?)
ON CONFLICT (category, day, paper_id) DO UPDATE SET kind = excluded.kind
"""


# Listing days only widen (a re-import of old days changes nothing, and writes nothing: the
# WHERE skips rows already covering the batch's days). CASE, not least()/min(): one spelling
# for both backends, NULL meaning "never listed".
_MARK_LISTED = """
UPDATE papers SET
    first_listed = coalesce(CASE WHEN first_listed < ? THEN first_listed END, ?),
    last_listed = coalesce(CASE WHEN last_listed > ? THEN last_listed END, ?)
WHERE id = ? AND (first_listed IS NULL OR first_listed > ? OR last_listed < ?)
"""

_SET_STATE = """
INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value
"""
# Concurrent writers of the same announcement could both count it; ingestion runs one writer
# per source, and `coolpapers import` of the same files again adds nothing.
_ADD_DAY_COUNTS = """
INSERT INTO day_counts (category, day, total, listed) VALUES (?, ?, ?, ?)
ON CONFLICT (category, day) DO UPDATE SET
    total = day_counts.total + excluded.total, listed = day_counts.listed + excluded.listed
"""


def _naive(dt: datetime | None) -> datetime | None:
    """Stored as naive UTC so both backends compare the same way."""
    if dt is None or dt.tzinfo is None:
        return dt
    return dt.astimezone(UTC).replace(tzinfo=None)


def _last_per_id(rows: list[PaperRow]) -> list[PaperRow]:
    """One row per id (ON CONFLICT may not touch a row twice in one statement on PostgreSQL):
    the highest version wins, later rows win ties."""
    best: dict[str, PaperRow] = {}
    for r in rows:
        old = best.get(r[0])
        if old is None or (r[1] or 0) >= (old[1] or 0):
            best[r[0]] = r
    return list(best.values())


def _listing_span(rows: list[tuple[str, date]]) -> dict[str, tuple[date, date]]:
    """The first and last listing day of each paper in `rows` of (paper, day)."""
    span: dict[str, tuple[date, date]] = {}
    for p, d in rows:
        first, last = span.get(p, (d, d))
        span[p] = (min(first, d), max(last, d))
    return span


def _id_key(pid: str) -> tuple[int, str]:
    return (1, pid) if "/" in pid else (0, pid)


_GET_STATE = "SELECT value FROM state WHERE key = :k"
# Store.papers: every column, by the driver (store/driver.py: a search page's cards)
_PAPER_COLUMNS = tuple(c.name for c in papers.c)
_PAPERS = f"SELECT {', '.join(_PAPER_COLUMNS)} FROM papers WHERE id IN :ids"


def _paper(m: Mapping[str, Any]) -> Paper:
    return Paper(
        id=m["id"],
        version=m["version"],
        title=m["title"],
        authors=json.loads(m["authors"]),
        abstract=m["abstract"],
        categories=m["categories"].split(),
        comments=m["comments"],
        journal_ref=m["journal_ref"],
        doi=m["doi"],
        license=m["license"],
        published=as_datetime(m["published"]),
        updated=as_datetime(m["updated"]),
        source=m["source"],
        extra=json.loads(m["extra"]) if m["extra"] else {},
    )
