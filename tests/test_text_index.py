"""The tantivy text index (search/textindex.py, search/keyword_tantivy.py): it finds what the
SQL engines find, it is used only while it holds every change the database holds, it follows
changes and deletions, other processes see its commits, one process writes at a time, and a
lost index is rebuilt. Both backends, over two days of the shipped real sample."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from coolpapers.config import get_settings
from coolpapers.search import indexer, textindex
from coolpapers.search.keyword import engine_for
from coolpapers.search.keyword_tantivy import TantivyKeywordEngine
from coolpapers.search.query import parse
from coolpapers.search.service import Searcher
from coolpapers.sources.arxiv.files import import_files
from coolpapers.store import Store
from tests.conftest import SAMPLE

# words, phrases, fields, OR, exclusions, categories and archives, dates, sources, branches
QUERIES = [
    "model",
    "attention",
    "large language models",
    '"reinforcement learning"',
    "ti:transformer",
    "au:wang",
    "abs:benchmark -agent",
    "diffusion OR flow",
    "graph cat:cs.LG",
    "learning cat:math",
    "quantum date:2026-06-04",
    "image before:2026-06-04",
    "source:arxiv neural",
    "Schrödinger OR hamiltonian OR équation",
    "images",
]


@pytest.fixture
def tv(store: Store) -> Iterator[TantivyKeywordEngine]:
    import_files(store, [SAMPLE / "2026-06-04.jsonl.gz", SAMPLE / "2026-06-05.jsonl.gz"])
    indexer.catch_up_fulltext(store)  # the FTS5 index, then the text index
    engine = engine_for(store)
    assert isinstance(engine, TantivyKeywordEngine)
    yield engine


def _all(engine, query: str, sort: str = "relevance") -> tuple[int, list[str]]:  # type: ignore[no-untyped-def]
    total, _, hits = engine.window(parse(query), sort, 0, 100_000)
    return total, [h.paper_id for h in hits]


def test_the_index_finds_the_papers_the_sql_engine_finds(tv: TantivyKeywordEngine) -> None:
    assert tv.uses_index()
    for q in QUERIES:
        total, ids = _all(tv, q)
        sql_total, sql_ids = _all(tv.sql, q)
        assert total == len(ids), q
        # the same papers (the stemmers are Porter's and Porter2: the same on these words)
        assert set(ids) == set(sql_ids), q
        assert total == sql_total > 0, q
        # by date: the SQL engines' order exactly (newest day, then docid)
        assert _all(tv, q, "date")[1] == _all(tv.sql, q, "date")[1], q
    # the query language's own words are words, not tantivy's operators
    assert _all(tv, "AND OR NOT TO")[0] == _all(tv.sql, "AND OR NOT TO")[0]


def test_an_arxiv_only_index_ranks_a_branch_without_a_clause_for_it(
    tv: TantivyKeywordEngine,
) -> None:
    """/arxiv/search on an index of arXiv papers alone is the query alone: "src is arXiv's"
    was an intersection with every paper (half of a common word's ranking at 1M). The
    results are the SQL engine's either way (tests/test_search_venue.py: with venues)."""
    for q in ("model", "large language models", "graph cat:cs.LG", "abs:benchmark -agent"):
        for branch in ("arxiv", "venue"):
            parsed = parse(q)
            parsed.branch = branch
            total, _, hits = tv.window(parsed, "relevance", 0, 100_000)
            sql_total, _, sql_hits = tv.sql.window(parsed, "relevance", 0, 100_000)
            assert total == sql_total, (q, branch)
            assert {h.paper_id for h in hits} == {h.paper_id for h in sql_hits}, (q, branch)
            assert (total > 0) == (branch == "arxiv"), (q, branch)
    parsed = parse("model")
    parsed.branch = "arxiv"
    ready = tv._ready(parsed)
    assert ready is not None
    assert repr(ready[2]).startswith("Query(TermQuery("), repr(ready[2])  # WAND's fast path


def test_matches_among_a_few_ids_agree(tv: TantivyKeywordEngine) -> None:
    _, some = _all(tv, "learning")
    _, other = _all(tv, "quantum")
    ids = some[:40] + other[:40]
    for q in ("learning", "quantum -learning", "learning cat:cs.LG", "ti:learning"):
        assert tv.matching_ids(parse(q), ids) == tv.sql.matching_ids(parse(q), ids), q


def test_an_answer_checks_the_index_once(
    tv: TantivyKeywordEngine, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Everything one answer asks of the index (its ranking, which neighbours match) is
    checked once against the store (Store.reading: one connection); a new answer again."""
    checks: list[object] = []
    holds = textindex.holds_everything

    def counted(conn, name):  # type: ignore[no-untyped-def]
        checks.append(conn)
        return holds(conn, name)

    monkeypatch.setattr(textindex, "holds_everything", counted)
    _, ids = _all(tv, "learning")
    checks.clear()
    for _ in range(2):
        with store.reading():
            _all(tv, "quantum")
            assert tv.matching_ids(parse("learning"), ids[:20]) == set(ids[:20])
    assert len(checks) == 2 and checks[0] is not checks[1]
    checks.clear()
    _all(tv, "quantum")  # outside an answer: each read checks
    _all(tv, "quantum")
    assert len(checks) == 2


def _title(store: Store, pid: str, title: str) -> None:
    with store.engine.begin() as c:
        c.execute(text("UPDATE papers SET title = :t WHERE id = :i"), {"t": title, "i": pid})


def test_a_change_is_searched_by_sql_until_the_index_holds_it(
    tv: TantivyKeywordEngine, store: Store
) -> None:
    other = engine_for(store)  # another web process's reader, opened before the change
    assert isinstance(other, TantivyKeywordEngine) and other.uses_index()
    _, ids = _all(tv, "model")
    pid = ids[0]
    _title(store, pid, "Zyzzogeton quasicrystals")
    assert not tv.uses_index()  # pending: the SQL engine answers
    if store.dialect == "postgresql":  # (SQLite's FTS5 takes it at its catch-up)
        assert _all(tv, "zyzzogeton")[1] == [pid]
    assert textindex.sync(store) == 1
    assert tv.uses_index() and other.uses_index()
    indexer.catch_up_fulltext(store)
    for engine in (tv, other):
        assert _all(engine, "zyzzogeton")[1] == [pid]
        assert _all(engine, "ti:zyzzogeton")[1] == [pid]
    # deleted: the index drops it on its next catch-up, and is not used until then
    with store.engine.begin() as c:
        c.execute(text("DELETE FROM announcements WHERE paper_id = :i"), {"i": pid})
        c.execute(text("DELETE FROM papers WHERE id = :i"), {"i": pid})
    assert not tv.uses_index()
    assert textindex.sync(store) == 0  # nothing to write, one deletion applied
    assert tv.uses_index() and _all(tv, "zyzzogeton") == (0, [])
    with store.engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM search_gone")).scalar() == 0


def test_a_category_or_day_change_reaches_the_index(tv: TantivyKeywordEngine, store: Store) -> None:
    _, ids = _all(tv, "quantum cat:quant-ph")
    pid = ids[0]
    with store.engine.begin() as c:
        c.execute(text("UPDATE papers SET categories = 'hep-lat' WHERE id = :i"), {"i": pid})
    assert not tv.uses_index()
    indexer.catch_up_fulltext(store)
    assert tv.uses_index()
    assert pid not in _all(tv, "quantum cat:quant-ph")[1]
    assert pid in _all(tv, "quantum cat:hep-lat")[1]


def test_a_lost_index_is_rebuilt_and_taken_into_use(tv: TantivyKeywordEngine, store: Store) -> None:
    root = textindex.directory(store)
    assert root is not None
    old = textindex.current(root)
    store.set_state(textindex.STATE_KEY, "another machine's index")
    assert not tv.uses_index()
    n = store.count_papers()
    assert textindex.sync(store) == n  # every paper, into a new build
    new = textindex.current(root)
    assert new != old and not (root / str(old)).exists()
    assert tv.uses_index()
    assert set(_all(tv, "model")[1]) == set(_all(tv.sql, "model")[1])
    # a build an older version made (another schema) is not searched, and is built again
    (root / "current.json").write_text(json.dumps({"name": new}))
    assert textindex.current(root) is None and not tv.uses_index()
    assert textindex.sync(store) == n and textindex.current(root) not in (None, new)
    assert tv.uses_index()


def test_one_process_writes_at_a_time(tv: TantivyKeywordEngine, store: Store) -> None:
    root = textindex.directory(store)
    assert root is not None
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, sys, time\n"
            f"f = open({str(root / 'write.lock')!r}, 'a')\n"
            "fcntl.flock(f, fcntl.LOCK_EX)\n"
            "print('held', flush=True)\n"
            "time.sleep(30)\n",
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"held"
        _title(store, _all(tv, "model")[1][0], "Zyzzogeton")
        t = time.perf_counter()
        assert textindex.sync(store) == 0  # the other process writes: this one skips
        assert time.perf_counter() - t < 5
        assert not tv.uses_index()
    finally:
        holder.kill()
        holder.wait()
    assert textindex.sync(store) == 1 and tv.uses_index()


def test_what_the_index_does_not_hold_is_the_sql_engines(tv: TantivyKeywordEngine) -> None:
    for q in ("venue:ACL model", "cat:cs.LG", "date:2026-06-04"):  # venues; no words
        assert tv.window(parse(q), "relevance", 0, 50) == tv.sql.window(
            parse(q), "relevance", 0, 50
        ), q


def test_the_sql_engine_alone_when_configured(
    store: Store, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("COOLPAPERS_SEARCH_ENGINE", "sql")
    get_settings.cache_clear()
    try:
        assert not isinstance(engine_for(store), TantivyKeywordEngine)
        assert indexer.catch_up_text_index(store) == 0
    finally:
        monkeypatch.delenv("COOLPAPERS_SEARCH_ENGINE")
        get_settings.cache_clear()
    monkeypatch.setenv("COOLPAPERS_SEARCH_INDEX_DIR", str(tmp_path / "elsewhere"))
    get_settings.cache_clear()
    try:
        engine = engine_for(store)
        assert isinstance(engine, TantivyKeywordEngine)
        assert engine.root == tmp_path / "elsewhere"
    finally:
        monkeypatch.delenv("COOLPAPERS_SEARCH_INDEX_DIR")
        get_settings.cache_clear()


def test_a_search_page_ranks_from_the_index(tv: TantivyKeywordEngine, store: Store) -> None:
    s = Searcher(store, semantic=False)
    assert isinstance(s.keyword, TantivyKeywordEngine)
    res = s.search("model", mode="keyword", per_page=10)
    total, ids = _all(tv, "model")
    assert res.total == total and [r.paper.id for r in res.items] == ids[:10]
