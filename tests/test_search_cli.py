"""`coolpapers index`: builds keywords and embeddings in batches, resumes, catches up."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading

from sqlalchemy import inspect, text
from typer.testing import CliRunner

from coolpapers.cli.main import app
from coolpapers.search import indexer
from coolpapers.search.query import parse
from coolpapers.search.schema import metadata as search_metadata
from coolpapers.search.service import Searcher
from coolpapers.sources.arxiv.files import import_files
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
    assert "(in use)" in " ".join(r.output.split())  # the text index holds everything
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


def test_fulltext_index_catches_up_after_writes(sqlite_store: Store) -> None:
    store = sqlite_store
    search = Searcher(store, semantic=False)
    import_files(store, [SAMPLE / "2026-06-04.jsonl.gz"])
    # the import only flagged its papers: searchable once the index caught up
    assert search.search("transformer").total == 0
    n = indexer.fulltext_pending(store)
    assert n == store.count_papers()
    stop = threading.Event()  # a run stopped after its first batch resumes with the rest
    assert indexer.catch_up_fulltext(store, batch=100, progress=lambda _n: stop.set(), stop=stop)
    assert indexer.fulltext_pending(store) == n - 100
    assert indexer.catch_up_fulltext(store) == n - 100
    before = search.search("transformer").total
    assert before > 0
    _fts_ok(store)
    # a changed title leaves the index at once (only the trigger sees the old text) ...
    with store.engine.connect() as c:
        pid = c.execute(text("SELECT id FROM papers LIMIT 1")).scalar_one()
    with store.engine.begin() as c:
        c.execute(
            text("UPDATE papers SET title = 'Zyzzogeton quasicrystals' WHERE id = :i"), {"i": pid}
        )
    _fts_ok(store)
    assert indexer.fulltext_pending(store) == 1
    assert search.search("zyzzogeton").total == 0
    assert indexer.catch_up_fulltext(store) == 1  # ... and comes back with the new one
    hits = search.search("zyzzogeton")
    assert hits.total == 1 and hits.items[0].paper.id == pid
    # a deleted paper leaves it too
    with store.engine.begin() as c:
        c.execute(text("DELETE FROM announcements WHERE paper_id = :i"), {"i": pid})
        c.execute(text("DELETE FROM papers WHERE id = :i"), {"i": pid})
    _fts_ok(store)
    # the index drops it at once (its trigger) ...
    assert search.keyword.window(parse("zyzzogeton"), "relevance", 0, 10)[0] == 0
    # ... and a search follows once the data generation moves, as every write through the
    # store moves it (nothing in the app deletes papers: this deletion is by hand)
    store.set_state("generation", "after a deletion by hand")
    assert search.search("zyzzogeton").total == 0
    # more papers: only those are added
    import_files(store, [SAMPLE / "2026-06-05.jsonl.gz"])
    added = indexer.fulltext_pending(store)
    assert 0 < added < store.count_papers()
    assert indexer.catch_up(store) > 0 and indexer.fulltext_pending(store) == 0
    assert search.search("transformer").total > before
    _fts_ok(store)


def test_upgrade_from_trigger_indexed_fulltext_keeps_the_index(tmp_path) -> None:
    from alembic import command

    from coolpapers.store.engine import alembic_config, make_engine

    for deferred in (False, True):
        url = f"sqlite:///{tmp_path / f'old{deferred}.db'}"
        engine = make_engine(url)
        cfg = alembic_config(url)
        with engine.begin() as conn:  # the schema as search_0001 left it
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "search_0001")
            command.upgrade(cfg, "llm@head")
            command.upgrade(cfg, "0003")  # the columns today's import writes
        old = Store(engine)
        import_files(old, [SAMPLE / "2026-06-04.jsonl.gz"])  # indexed by the old triggers
        if deferred:  # a bulk import killed while the old triggers skipped FTS5
            old.set_state("search:deferred", "1")
        store = Store.open(url)  # migrates to search_0002
        assert store.get_state("search:deferred") is None
        n = store.count_papers()
        assert indexer.fulltext_pending(store) == (n if deferred else 0)
        indexer.catch_up_fulltext(store)
        assert Searcher(store, semantic=False).search("transformer").total > 0
        _fts_ok(store)
        engine.dispose()


def test_loading_the_embedder_leaves_the_hosts_logging_alone() -> None:
    # wordllama configures the root logger when imported; a fresh interpreter shows it undone
    code = (
        "import logging\n"
        "from coolpapers.search.embed import Embedder\n"
        "Embedder()\n"
        "root = logging.getLogger()\n"
        "print(root.level, len(root.handlers))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [str(logging.WARNING), "0"]
