"""`coolpapers index`: keywords and embeddings for the papers the triggers marked dirty.

Batches are selected by the `dirty` flag that the database triggers set on every insert and on
every change of title, abstract or authors; each batch is written in one transaction that also
clears the flag, so a killed run resumes with exactly the papers not yet done.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, text

from coolpapers.search import keywords as kw
from coolpapers.search.embed import Embedder, default_embedder, paper_text
from coolpapers.search.vectors import to_bytes
from coolpapers.store import Store

log = logging.getLogger("coolpapers.search")
_lock = threading.Lock()  # one catch-up at a time per process (serve's watcher, the CLI)


def pending(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM search_docs WHERE dirty = 1")).scalar())


def catch_up(
    store: Store,
    batch: int = 512,
    embedder: Embedder | None = None,
    progress: Callable[[int], None] | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Index every dirty paper; returns how many were done."""
    done = 0
    if store.dialect == "sqlite" and store.get_state(DEFERRED):
        log.info("search: a bulk import left the full-text index behind; rebuilding it")
        rebuild_fulltext(store)
    with _lock:
        emb = embedder or default_embedder()
        while not (stop and stop.is_set()):
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
            counts = [kw.terms(r[2], r[3]) for r in rows]
            vecs = emb.embed([paper_text(r[2], r[3]) for r in rows])  # outside the transaction
            with store.engine.begin() as conn:
                # a paper counts once in the document frequencies (first time it is indexed)
                fresh = [c for c, r in zip(counts, rows, strict=True) if not r[4]]
                _add_df(conn, kw.vocabulary(fresh), len(fresh))
                df, n_docs = _df(conn, {t for c in counts for t in c})
                _upsert(
                    conn,
                    "search_keywords",
                    ("paper_id", "keywords"),
                    "paper_id",
                    [
                        (r[1], "; ".join(kw.top(c, df, n_docs)))
                        for r, c in zip(rows, counts, strict=True)
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


DEFERRED = "search:deferred"  # state key: SQLite triggers skip FTS5 while it is set


@contextmanager
def deferred(store: Store) -> Iterator[None]:
    """A bulk import on SQLite: the triggers skip the full-text index, rebuilt once at the end
    (70k papers: 6.8 s import + 3.7 s rebuild instead of 21.9 s). Searches meanwhile see the
    index as it was. A killed import leaves the key set; the next `catch_up` rebuilds."""
    if store.dialect != "sqlite":
        yield
        return
    store.set_state(DEFERRED, "1")
    try:
        yield
    finally:
        rebuild_fulltext(store)


def bulk_import(store: Store, nbytes: int) -> AbstractContextManager[None]:
    """`deferred` when an import is big next to what is stored (a rebuild reads every paper:
    ~5 s per 100k), else nothing. ~600 bytes of gzipped daily JSON lines per paper."""
    incoming = nbytes // 600
    if incoming > 20_000 and incoming > store.estimate_papers() // 4:
        return deferred(store)
    return nullcontext()


def rebuild_fulltext(store: Store) -> None:
    """Rebuild the FTS5 index from the papers, and end a deferred import (SQLite)."""
    with store.engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")
        conn.exec_driver_sql("DELETE FROM state WHERE key = ?", (DEFERRED,))


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


def rekey(store: Store) -> int:
    """Mark every paper dirty (recompute keywords with today's document frequencies)."""
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
