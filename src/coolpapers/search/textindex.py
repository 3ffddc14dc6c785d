"""The text index: tantivy (papers.cool's engine) beside the database, kept in step with it.

Why: ranking a common word by BM25 means scoring every match in FTS5 and in PostgreSQL's
ts_rank (57,000 papers for "model" at 70k: 24 ms and 140+ ms), and neither stops early.
tantivy's block-max WAND does (issue 15: 9.5x faster in process at 70k, 402 against 23 new
search pages a second over HTTP). The database stays the truth; this index is a cache of
it, rebuilt from it at any time, and searched only while it holds every change the
searcher's snapshot of the database holds (search_0004: `ver`, `ver_indexed`, `search_gone`
and the index's name in `state`). Otherwise the SQL engines answer, so results are never
stale, only slower.

Layout: <dir>/current.json names the build in use; <dir>/<name>/ is that build's tantivy
index. A rebuild writes a new build beside it and switches the name, so web processes that
still read the old one keep working until they see the switch.

One index per database: several web processes on one machine share it (one of them, or
`coolpapers index`, writes at a time: a file lock), and a second machine with its own
directory would take the name over and rebuild each time (the database records one).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import tantivy
from sqlalchemy import URL, Connection, bindparam, text

from coolpapers.config import Settings, get_settings
from coolpapers.store import Store, driver

log = logging.getLogger("coolpapers.search")

STATE_KEY = "search:index"
TEXT_FIELDS = ("title", "abstract", "authors")
# what a build holds and how: a build of another version is rebuilt (a new name)
SCHEMA = 1
WEIGHTS = (4, 1, 2)  # times each of TEXT_FIELDS is in `all`: FTS5's bm25 column weights
ANALYZER = "cp_en"
ARXIV_SRC = "@"  # the `src` of a paper with no source suffix (arXiv's): no suffix is "@"
BATCH = 20_000  # papers read per database round trip while indexing
_EPOCH = date(1970, 1, 1)
_processes_lock = threading.Lock()  # the file lock is per process; this one per thread


def analyzer() -> tantivy.TextAnalyzer:
    """Words of letters and digits, lowercased, accents folded, Porter2-stemmed: what FTS5
    (porter unicode61 remove_diacritics 2) and PostgreSQL's search_en do, near enough that
    the three engines find the same papers for the same words."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )


def schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    # search_docs.docid: the key (deletes by term, hits read as a fast field)
    sb.add_unsigned_field("docid", indexed=True, fast=True)
    for f in TEXT_FIELDS:
        sb.add_text_field(f, stored=False, tokenizer_name=ANALYZER, index_option="position")
    # what a word with no field is matched and ranked on: the three together, the title four
    # times and the authors twice. One field, so BM25 sees one document, as FTS5 with its
    # column weights does (keyword_sqlite.WEIGHTS): fields scored apart would rank a title
    # that has a word rare in titles far above an abstract that is about it (a per-field
    # idf), which related papers' keyphrase search measured as worse. Values are apart:
    # a phrase does not run from one into the next.
    sb.add_text_field("all", stored=False, tokenizer_name=ANALYZER, index_option="position")
    # categories lowercased, with their archives (cs.CL -> cs.cl and cs): the cat: filter
    sb.add_text_field("cat", stored=False, tokenizer_name="raw")
    # the source suffix of the paper's key (ACL for 2024.acl-long.1@ACL), ARXIV_SRC for none
    sb.add_text_field("src", stored=False, tokenizer_name="raw")
    sb.add_integer_field("day", indexed=True, fast=True)  # days since 1970, -1 for none
    # day, then docid: the date order of the SQL engines (newest first, then docid) as one key
    sb.add_integer_field("newest", fast=True)
    return sb.build()


def directory(store: Store, settings: Settings | None = None) -> Path | None:
    """Where the store's text index lives: COOLPAPERS_SEARCH_INDEX_DIR, else beside a SQLite
    file (<db>.search), else in the user's cache under the database's address (PostgreSQL).
    None for an in-memory database."""
    configured = (settings or get_settings()).search_index_dir
    if configured:
        return Path(configured)
    return default_directory(store.engine.url)


def default_directory(url: URL) -> Path | None:
    if url.get_backend_name() == "sqlite":
        db = url.database
        if not db or db == ":memory:" or db.startswith("file:"):
            return None
        return Path(db).with_name(Path(db).name + ".search")
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    key = hashlib.sha256(url.render_as_string(hide_password=True).encode()).hexdigest()[:16]
    return cache / "coolpapers" / "search" / key


def current(root: Path) -> str | None:
    """The name of the build in use, or None (also for a build of another SCHEMA: rebuilt)."""
    try:
        meta = json.loads((root / "current.json").read_text())
        name, version = meta["name"], meta.get("schema")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    ok = isinstance(name, str) and version == SCHEMA and (root / name).is_dir()
    return name if ok else None


def open_index(path: Path) -> tantivy.Index:
    index = tantivy.Index.open(str(path))
    index.register_tokenizer(ANALYZER, analyzer())
    return index


def day_number(d: date | str | None) -> int:
    if d is None:
        return -1
    if isinstance(d, str):
        d = date.fromisoformat(d[:10])
    return (d - _EPOCH).days


@dataclass(slots=True)
class Row:
    docid: int
    ver: int
    paper_id: str
    title: str
    abstract: str
    authors: str
    categories: str
    day: date | str | None

    def document(self) -> tantivy.Document:
        doc = tantivy.Document()
        doc.add_unsigned("docid", self.docid)
        doc.add_text("title", self.title or "")
        doc.add_text("abstract", self.abstract or "")
        doc.add_text("authors", self.authors or "")
        for value, times in ((self.title, WEIGHTS[0]), (self.authors, WEIGHTS[2])):
            for _ in range(times):
                doc.add_text("all", value or "")
        doc.add_text("all", self.abstract or "")
        for c in dict.fromkeys(_categories(self.categories)):
            doc.add_text("cat", c)
        _, at, suffix = self.paper_id.rpartition("@")
        doc.add_text("src", suffix if at else ARXIV_SRC)
        day = day_number(self.day)
        doc.add_integer("day", day)
        doc.add_integer("newest", (day << 32) + self.docid)
        return doc


def _categories(cats: str | None) -> Iterator[str]:
    for c in (cats or "").lower().split():
        yield c
        if "." in c:
            yield c.split(".", 1)[0]


# ---- keeping it in step ------------------------------------------------------------------

_ROWS = (
    "SELECT d.docid, d.ver, d.paper_id, p.title, p.abstract, p.authors, p.categories, d.day "
    "FROM search_docs d JOIN papers p ON p.id = d.paper_id WHERE d.docid > :after {cond} "
    "ORDER BY d.docid LIMIT :n"
)


@contextmanager
def _exclusive(root: Path) -> Iterator[bool]:
    """One writer at a time across processes (serve's workers, `coolpapers index`): the
    others skip, as the writer brings the index up to date for them."""
    root.mkdir(parents=True, exist_ok=True)
    with _processes_lock, (root / "write.lock").open("a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def sync(store: Store, root: Path | None = None, batch: int = BATCH) -> int:
    """Bring the text index up to date with the store: the papers pending in it, or every
    paper when the index is missing or is not the one the store records. Returns how many
    papers were written (0 also when another process is writing)."""
    root = root or directory(store)
    if root is None:
        return 0
    with _exclusive(root) as mine:
        if not mine:
            return 0
        name = current(root)
        if name is None or name != store.get_state(STATE_KEY):
            return _rebuild(store, root, batch)
        if not _pending(store):
            return 0
        return _catch_up(store, root / name, batch)


def _pending(store: Store) -> bool:
    with store.engine.connect() as conn:
        return bool(
            conn.exec_driver_sql(
                f"SELECT {_PENDING} OR EXISTS (SELECT 1 FROM search_gone)"
            ).scalar()
        )


def _rebuild(store: Store, root: Path, batch: int) -> int:
    """A new build of every paper, then the switch: the store names it last, so searches
    use it only once it is complete."""
    name = uuid.uuid4().hex[:12]
    path = root / name
    path.mkdir(parents=True)
    index = tantivy.Index(schema(), path=str(path))
    index.register_tokenizer(ANALYZER, analyzer())
    writer = index.writer(heap_size=256_000_000, num_threads=1)
    with store.engine.connect() as conn:
        gone = _gone(conn)  # read first: what went before the scan is not in it
    done, seen = 0, []
    for rows in _scan(store, "", batch):
        for r in rows:
            writer.add_document(r.document())
        seen += [(r.docid, r.ver) for r in rows]
        done += len(rows)
    writer.commit()
    writer.wait_merging_threads()
    tmp = root / "current.json.tmp"
    tmp.write_text(json.dumps({"name": name, "schema": SCHEMA}))
    tmp.replace(root / "current.json")
    _mark(store, seen, gone, name)
    for old in root.iterdir():  # readers of an old build keep their open files (unlinked)
        if old.is_dir() and old.name != name:
            shutil.rmtree(old, ignore_errors=True)
    log.info("search: text index built, %d papers", done)
    return done


def _catch_up(store: Store, path: Path, batch: int) -> int:
    index = open_index(path)
    writer = index.writer(heap_size=64_000_000, num_threads=1)
    with store.engine.connect() as conn:
        gone = _gone(conn)
    # deletes first: on SQLite a deleted paper's docid may be given to a new one
    for docid in gone:
        _delete(writer, index.schema, docid)
    done, seen = 0, []
    for rows in _scan(store, "AND d.ver <> d.ver_indexed", batch):
        for r in rows:
            _delete(writer, index.schema, r.docid)
            writer.add_document(r.document())
        seen += [(r.docid, r.ver) for r in rows]
        done += len(rows)
    writer.commit()
    writer.wait_merging_threads()
    _mark(store, seen, gone, None)
    return done


def _delete(writer: tantivy.IndexWriter, schema: tantivy.Schema, docid: int) -> None:
    # by query: delete_documents_by_term takes a Python int for an i64 term, which a u64
    # field never holds (it deletes nothing, measured with tantivy 0.27)
    writer.delete_documents_by_query(tantivy.Query.term_query(schema, "docid", docid))


def _scan(store: Store, cond: str, batch: int) -> Iterator[list[Row]]:
    after = -1
    stmt = text(_ROWS.format(cond=cond))
    while True:
        with store.engine.connect() as conn:
            rows = [Row(*r) for r in conn.execute(stmt, {"after": after, "n": batch})]
        if not rows:
            return
        yield rows
        after = rows[-1].docid


def _gone(conn: Connection) -> list[int]:
    return [
        int(d) for d in conn.exec_driver_sql("SELECT DISTINCT docid FROM search_gone").scalars()
    ]


def _mark(
    store: Store, seen: Sequence[tuple[int, int]], gone: Sequence[int], name: str | None
) -> None:
    """Record what the index now holds: each paper at the version read (a paper changed
    since stays pending), the deletions applied, and on a rebuild the index's name."""
    with store.engine.begin() as conn:
        for i in range(0, len(seen), 5000):
            part = seen[i : i + 5000]
            if conn.dialect.name == "postgresql":  # one statement, not one per paper
                conn.execute(
                    text(
                        "UPDATE search_docs d SET ver_indexed = u.v "
                        "FROM unnest(CAST(:ds AS integer[]), CAST(:vs AS integer[])) AS u(d, v) "
                        "WHERE d.docid = u.d AND d.ver = u.v AND d.ver_indexed <> u.v"
                    ),
                    {"ds": [d for d, _ in part], "vs": [v for _, v in part]},
                )
                continue
            conn.execute(
                text(
                    "UPDATE search_docs SET ver_indexed = :v WHERE docid = :d AND ver = :v "
                    "AND ver_indexed <> :v"
                ),
                [{"d": d, "v": v} for d, v in part],
            )
        if gone:
            conn.execute(
                text("DELETE FROM search_gone WHERE docid IN :g").bindparams(
                    bindparam("g", expanding=True)
                ),
                {"g": list(gone)},
            )
    if name is not None:
        store.set_state(STATE_KEY, name)
        if store.dialect == "postgresql":
            # every row was rewritten: the pending index holds an entry per old row, which a
            # search's check steps over until a vacuum (3-100 ms at 70k, measured), and the
            # planner's counts still say every paper is pending
            autocommit = store.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            with autocommit as conn:
                conn.exec_driver_sql("VACUUM ANALYZE search_docs")


# The first pending paper by the partial index ix_search_docs_pending, in its order: with
# LIMIT 1 the planner takes the index even when its statistics still say that every paper is
# pending (after a rebuild PostgreSQL's said 103,740 rows and scanned the table: 70 ms).
# (Not in EXISTS, which drops the ORDER BY and LIMIT.)
_PENDING = (
    "(SELECT docid FROM search_docs WHERE ver <> ver_indexed ORDER BY docid LIMIT 1) IS NOT NULL"
)
_HOLDS = (
    "SELECT (SELECT value FROM state WHERE key = 'search:index'), "
    f"{_PENDING}, EXISTS (SELECT 1 FROM search_gone)"
)


def holds_everything(conn: Connection, name: str) -> bool:
    """Whether the build `name` holds every change in this connection's snapshot: it is the
    one the store names, and no paper is pending (two index seeks, ~0.1 ms)."""
    (row,) = driver.rows(conn, _HOLDS, {})
    return row[0] == name and not row[1] and not row[2]


def ids(conn: Connection, docids: Sequence[int]) -> dict[int, str]:
    """docid -> paper id."""
    if not docids:
        return {}
    sql = "SELECT docid, paper_id FROM search_docs WHERE docid IN :d"
    return {int(d): p for d, p in driver.rows(conn, sql, {"d": list(docids)})}
