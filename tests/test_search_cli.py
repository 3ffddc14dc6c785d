"""`coolpapers index`: builds keywords and embeddings in batches, resumes, catches up."""

from __future__ import annotations

import contextlib
import threading

from sqlalchemy import inspect, text
from typer.testing import CliRunner

from coolpapers.cli.main import app
from coolpapers.search import indexer
from coolpapers.search.schema import metadata as search_metadata
from coolpapers.search.service import Searcher
from coolpapers.sources.files import import_files
from coolpapers.store import Store
from tests.conftest import SAMPLE


def test_index_command_resumes_and_catches_up(db_url: str) -> None:
    store = Store.open(db_url)
    import_files(store, [SAMPLE / "2026-06-05.jsonl.gz"])
    n = store.count_papers()
    assert indexer.pending(store) == n
    # a run stopped after its first batch leaves exactly the rest to do
    stop = threading.Event()
    assert indexer.catch_up(store, batch=100, progress=lambda _n: stop.set(), stop=stop) == 100
    assert indexer.pending(store) == n - 100  # the first batch was committed, done
    assert indexer.catch_up(store) == n - 100 and indexer.pending(store) == 0
    with store.engine.begin() as c:
        c.execute(text("UPDATE search_docs SET dirty = 1 WHERE docid % 2 = 0"))
    left = indexer.pending(store)
    r = CliRunner().invoke(app, ["index", "--batch-size", "50"])
    assert r.exit_code == 0, r.output
    assert f"indexed {left} papers (0 left)" in r.output.replace("\n", " ")
    import_files(store, [SAMPLE / "2026-06-04.jsonl.gz"])  # new papers: only those
    fresh = indexer.pending(store)
    assert 0 < fresh < store.count_papers() - n + 1
    r = CliRunner().invoke(app, ["index", "--optimize"])
    assert r.exit_code == 0 and indexer.pending(store) == 0 and "merged" in r.output
    # still searchable after the merge
    assert Searcher(store, semantic=False).search("transformer").total > 10
    with store.engine.connect() as c:
        vectors = c.execute(text("SELECT count(*) FROM search_vectors")).scalar()
    assert vectors == store.count_papers()


def test_search_tables_match_their_metadata(db_url: str) -> None:
    store = Store.open(db_url)
    insp = inspect(store.engine)
    for name, table in search_metadata.tables.items():
        assert [c["name"] for c in insp.get_columns(name)] == [c.name for c in table.c], name
    assert "search_fts" in insp.get_table_names()


def _fts_ok(store: Store) -> None:
    # FTS5's own check of the index against its content (raises when they differ)
    with store.engine.begin() as c:
        c.exec_driver_sql("INSERT INTO search_fts(search_fts, rank) VALUES ('integrity-check', 1)")


def test_bulk_import_defers_the_fulltext_index_and_rebuilds_it(db_url: str) -> None:
    store = Store.open(db_url)
    import_files(store, [SAMPLE / "2026-06-04.jsonl.gz"])
    before = Searcher(store, semantic=False).search("transformer").total
    with indexer.deferred(store):
        import_files(store, [SAMPLE / "2026-06-05.jsonl.gz"])
        # meanwhile the index is the one before the import
        assert Searcher(store, semantic=False).search("transformer").total == before
    after = Searcher(store, semantic=False).search("transformer").total
    assert after > before
    _fts_ok(store)
    # a killed bulk import (the key left set): the next catch-up rebuilds first
    store.set_state(indexer.DEFERRED, "1")
    import_files(store, [SAMPLE / "2026-06-03.jsonl.gz"])
    assert Searcher(store, semantic=False).search("transformer").total == after
    indexer.catch_up(store)
    assert Searcher(store, semantic=False).search("transformer").total > after
    assert store.get_state(indexer.DEFERRED) is None
    _fts_ok(store)
    # only an import big next to the store is deferred
    assert isinstance(indexer.bulk_import(store, 1_000), contextlib.nullcontext)
    assert not isinstance(indexer.bulk_import(store, 10**9), contextlib.nullcontext)
