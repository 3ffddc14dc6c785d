"""`coolpapers index`: the search index catches up with what ingestion stored.

Writers never wait for search: database triggers only flag new and changed papers (`fts = 0`:
SQLite's FTS5 index lacks them; `dirty = 1`: keywords and embedding to compute). Here batches
are selected by those flags, and each is written in one transaction that also clears them, so a
killed run resumes with exactly the papers not yet done. `serve` runs this in the background.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, text

from coolpapers.config import get_settings
from coolpapers.search import keywords as kw
from coolpapers.search.embed import Embedder, default_embedder, paper_text
from coolpapers.search.vectors import to_bytes
from coolpapers.store import Store

log = logging.getLogger("coolpapers.search")
_lock = threading.Lock()  # one catch-up at a time per process (serve's watcher, the CLI)


def pending(store: Store) -> int:
    """Papers whose keywords and embedding are to be computed."""
    with store.engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM search_docs WHERE dirty = 1")).scalar()
    return int(n) + queued(store)


def catch_up(
    store: Store,
    batch: int = 512,
    embedder: Embedder | None = None,
    progress: Callable[[int], None] | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Index every dirty paper; returns how many were done."""
    done = 0
    with _lock:
        catch_up_fulltext(store, stop=stop)
        emb = embedder or default_embedder()
        while not (stop and stop.is_set()):
            # between batches too: embedding 70k papers takes a while, and papers stored
            # meanwhile (on PostgreSQL, at once) would keep rankings on the SQL engine
            catch_up_text_index(store)
            with store.engine.connect() as conn:
                rows = conn.execute(
                    text(
                        "SELECT d.docid, d.paper_id, p.title, p.abstract, "
                        "(SELECT 1 FROM search_keywords k WHERE k.paper_id = d.paper_id) "
                        "FROM search_docs d JOIN papers p ON p.id = d.paper_id "
                        "WHERE d.dirty = 1 ORDER BY d.docid LIMIT :n"
                    ),
                    {"n": batch},
                ).all()
            if not rows:
                break
            # outside the transaction: the text work (YAKE, the embedding model)
            counts = [kw.terms(r[2], r[3]) for r in rows]
            # two threads: YAKE (Rust) lets go of the GIL while it works
            with ThreadPoolExecutor(2) as pool:
                cands = list(pool.map(lambda r: kw.candidates(r[2], r[3]), rows))
            vecs = emb.embed([paper_text(r[2], r[3]) for r in rows])
            with store.engine.begin() as conn:
                # a paper counts once in the document frequencies (first time it is indexed)
                fresh = [c for c, r in zip(counts, rows, strict=True) if not r[4]]
                _add_df(conn, kw.vocabulary(fresh), len(fresh))
                df, n_docs = _df(conn, {t for c in cands for p, _ in c for t in kw.parts(p)})
                _upsert(
                    conn,
                    "search_keywords",
                    ("paper_id", "keywords"),
                    "paper_id",
                    [
                        (r[1], "; ".join(kw.top(c, df, n_docs)))
                        for r, c in zip(rows, cands, strict=True)
                    ],
                )
                seq = (
                    int(
                        conn.execute(
                            text("SELECT coalesce(max(seq), 0) FROM search_vectors")
                        ).scalar()
                    )
                    + 1
                )
                _upsert(
                    conn,
                    "search_vectors",
                    ("docid", "seq", "model", "vec"),
                    "docid",
                    [(r[0], seq, emb.name, to_bytes(v)) for r, v in zip(rows, vecs, strict=True)],
                )
                conn.execute(
                    text("UPDATE search_docs SET dirty = 0 WHERE docid IN :ids").bindparams(
                        bindparam("ids", expanding=True)
                    ),
                    {"ids": [r[0] for r in rows]},
                )
            done += len(rows)
            if progress:
                progress(len(rows))
    if done:  # cards show keywords: cached pages must be rendered again
        store.set_state("generation", datetime.now(UTC).isoformat())
    return done


def queued(store: Store) -> int:
    """New papers not yet in `search_docs` (SQLite; PostgreSQL's trigger adds them at once)."""
    if store.dialect != "sqlite":
        return 0
    with store.engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT count(*) FROM search_queue").scalar())


def fulltext_pending(store: Store) -> int:
    """Papers whose current text SQLite's FTS5 index does not hold yet (0 on PostgreSQL,
    where the tsvector is written with the row)."""
    if store.dialect != "sqlite":
        return 0
    with store.engine.connect() as conn:
        n = conn.exec_driver_sql("SELECT count(*) FROM search_docs WHERE fts = 0").scalar()
    return int(n) + queued(store)


def catch_up_fulltext(
    store: Store,
    batch: int = 20_000,
    progress: Callable[[int], None] | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Add the papers that imports and harvests stored since the last run to SQLite's FTS5
    index (search_0002: the triggers only flag them, so that writers stay fast). One
    transaction per batch, in docid order: a killed run resumes where it stopped. Returns how
    many papers were added. Then the text index (tantivy) takes what changed, on both
    engines."""
    if store.dialect != "sqlite":
        catch_up_text_index(store)
        return 0
    _drain_queue(store, batch, stop)
    done = 0
    while not (stop and stop.is_set()):
        with store.engine.connect() as conn:
            last = conn.exec_driver_sql(
                "SELECT max(docid) FROM (SELECT docid FROM search_docs WHERE fts = 0 "
                "ORDER BY docid LIMIT ?)",
                (batch,),
            ).scalar()
        if last is None:
            break
        # a write first: the transaction takes SQLite's write lock before it reads, so two
        # catch-ups at once (serve and the CLI) wait for each other instead of failing
        with store.engine.begin() as conn:
            n = conn.exec_driver_sql(
                "INSERT INTO search_fts(rowid, title, abstract, authors) "
                "SELECT d.docid, p.title, p.abstract, p.authors "
                "FROM search_docs d JOIN papers p ON p.id = d.paper_id "
                "WHERE d.fts = 0 AND d.docid <= ?",
                (last,),
            ).rowcount
            conn.exec_driver_sql(
                "UPDATE search_docs SET fts = 1 WHERE fts = 0 AND docid <= ?", (last,)
            )
        done += max(n, 0)
        if progress:
            progress(max(n, 0))
    if done:  # listings are unchanged, but cached search pages are not
        store.set_state("generation", datetime.now(UTC).isoformat())
    catch_up_text_index(store)
    return done


def text_index_status(store: Store) -> str:
    """A line on the text index: where it is and whether searches use it."""
    from coolpapers.search import textindex

    root = textindex.directory(store)
    if get_settings().search_engine != "tantivy" or root is None:
        return "keyword search: the database's own index (FTS5 / tsvector)"
    name = textindex.current(root)
    with store.engine.connect() as conn:
        ready = name is not None and textindex.holds_everything(conn, name)
    state = "in use" if ready else "behind the store: searches use the database's index"
    return f"text index (tantivy): {root} ({state})"


def catch_up_text_index(store: Store) -> int:
    """The tantivy text index (search/textindex.py) follows the store, when it is the
    keyword engine; returns how many papers it wrote."""
    if get_settings().search_engine != "tantivy":
        return 0
    from coolpapers.search import textindex

    return textindex.sync(store)


def _drain_queue(store: Store, batch: int, stop: threading.Event | None) -> None:
    """New papers (queued by the insert trigger) into `search_docs`: a docid, their day."""
    while not (stop and stop.is_set()):
        with store.engine.connect() as conn:
            last = conn.exec_driver_sql(
                "SELECT max(rowid) FROM (SELECT rowid FROM search_queue ORDER BY rowid LIMIT ?)",
                (batch,),
            ).scalar()
        if last is None:
            return
        with store.engine.begin() as conn:  # a write first, as in catch_up_fulltext
            conn.exec_driver_sql(
                "INSERT OR IGNORE INTO search_docs(paper_id, day, dirty, fts) "
                "SELECT q.paper_id, coalesce(p.first_listed, date(p.published)), 1, 0 "
                "FROM search_queue q JOIN papers p ON p.id = q.paper_id "
                "WHERE q.rowid <= ? ORDER BY q.rowid",
                (last,),
            )
            conn.exec_driver_sql("DELETE FROM search_queue WHERE rowid <= ?", (last,))


def optimize(store: Store) -> None:
    """Merge the full-text index into one segment (SQLite FTS5 'optimize'; after a bulk
    import, queries get several times faster) or refresh the planner statistics (PostgreSQL)."""
    with store.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("INSERT INTO search_fts(search_fts) VALUES ('optimize')")
        else:
            conn.exec_driver_sql("ANALYZE search_docs")
    if store.dialect == "sqlite":
        with store.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def rekey(store: Store, batch: int = 5000) -> int:
    """Recount the document frequencies from the papers' text, then mark every paper dirty:
    `catch_up` recomputes keywords and embeddings with them. The recount matters after an
    upgrade that changed what `keywords.terms` counts (without it the old counts would stay,
    since a paper is counted once). Papers not indexed yet are left to `catch_up`, which
    counts them; one batch a transaction, so writers wait at most one batch."""
    with _lock:
        with store.engine.begin() as conn:
            conn.execute(text("DELETE FROM search_df"))
        last = ""
        while True:
            with store.engine.connect() as conn:
                rows = conn.execute(
                    text(
                        "SELECT k.paper_id, p.title, p.abstract FROM search_keywords k "
                        "JOIN papers p ON p.id = k.paper_id WHERE k.paper_id > :last "
                        "ORDER BY k.paper_id LIMIT :n"
                    ),
                    {"last": last, "n": batch},
                ).all()
            if not rows:
                break
            df = kw.vocabulary(kw.terms(r[1], r[2]) for r in rows)
            with store.engine.begin() as conn:
                _add_df(conn, df, len(rows))
            last = rows[-1][0]
        with store.engine.begin() as conn:
            return conn.execute(text("UPDATE search_docs SET dirty = 1")).rowcount or 0


def _sql(conn: Connection, s: str) -> str:
    return s.replace("?", "%s") if conn.dialect.name == "postgresql" else s


def _upsert(
    conn: Connection, table: str, cols: Sequence[str], key: str, rows: list[tuple[Any, ...]]
) -> None:
    if not rows:
        return
    sets = ", ".join(f"{c} = excluded.{c}" for c in cols if c != key)
    marks = ", ".join("?" for _ in cols)
    conn.exec_driver_sql(
        _sql(
            conn,
            f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks}) "
            f"ON CONFLICT ({key}) DO UPDATE SET {sets}",
        ),
        rows,
    )


def _add_df(conn: Connection, df: Counter[str], n: int) -> None:
    if not n:
        return
    rows = [(t, c) for t, c in df.items()]
    rows.append(("", n))  # the document count
    conn.exec_driver_sql(
        _sql(
            conn,
            "INSERT INTO search_df (term, df) VALUES (?, ?) "
            "ON CONFLICT (term) DO UPDATE SET df = search_df.df + excluded.df",
        ),
        rows,
    )


def _df(conn: Connection, terms: set[str]) -> tuple[dict[str, int], int]:
    out: dict[str, int] = {}
    wanted = sorted(terms)
    stmt = text("SELECT term, df FROM search_df WHERE term IN :t").bindparams(
        bindparam("t", expanding=True)
    )
    for i in range(0, len(wanted), 2000):
        out.update(conn.execute(stmt, {"t": wanted[i : i + 2000]}).all())  # type: ignore[arg-type]
    n = conn.execute(text("SELECT df FROM search_df WHERE term = ''")).scalar()
    return out, int(n or 0)
