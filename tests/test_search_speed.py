"""What makes search fast (issue 15) must not change what it answers: a count stopped at a
bound says "more than" (page, JSON, feed) and is the same for every sort; every page of a query
comes from one kept ranking and pages stay disjoint; the kept ranking and the cached page follow
new data; the faster match checks (a few ids, not every match) agree with the plain ones. Both
backends, over the shipped real sample."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from coolpapers.config import Settings
from coolpapers.search import service
from coolpapers.search.query import parse
from coolpapers.search.service import Searcher
from coolpapers.web.app import create_app
from tests.search_fixtures import indexed

__all__ = ["indexed"]


@pytest.fixture
def small_bound(monkeypatch: pytest.MonkeyPatch, indexed: Searcher) -> Iterator[int]:
    monkeypatch.setattr(service, "COUNT_BOUND", 40)
    indexed._windows.clear()
    yield 40
    indexed._windows.clear()


@pytest.mark.parametrize("mode", ["keyword", "hybrid"])
def test_count_bound_says_more_than_for_every_sort(
    indexed: Searcher, small_bound: int, mode: str
) -> None:
    by_rel = indexed.search("model", mode=mode, per_page=10)
    by_date = indexed.search("model", mode=mode, sort="date", per_page=10)
    assert not by_rel.exact and not by_date.exact
    assert by_rel.matched == by_date.matched == small_bound
    assert (by_rel.total, by_rel.similar) == (by_date.total, by_date.similar)
    assert len(by_rel.items) == len(by_date.items) == 10
    # under the bound the count is exact
    rare = indexed.search("Yiyou Sun", mode=mode)
    assert rare.exact and rare.matched == len([r for r in rare.items if not r.similar])


def test_pages_past_the_bound_go_on(indexed: Searcher, small_bound: int) -> None:
    pages = [
        [r.paper.id for r in indexed.search("model", mode="keyword", page=n, per_page=25).items]
        for n in (1, 2, 3)
    ]
    assert all(len(p) == 25 for p in pages)  # 75 results, past the bound of 40
    assert len(set(pages[0] + pages[1] + pages[2])) == 75


def test_bounded_total_on_page_json_and_feed(
    indexed: Searcher, small_bound: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = TestClient(create_app(Settings(database_url="sqlite://"), indexed.store))
    got = client.get("/api/search?query=model&mode=keyword").json()
    assert got["exact"] is False and got["total"] == small_bound
    page = client.get("/arxiv/search?query=model&mode=keyword").text
    assert f"Total: more than {small_bound}" in page
    feed = client.get("/arxiv/search/feed?query=model&mode=keyword").text
    assert f"more than {small_bound}" in feed
    exact = client.get("/api/search?query=Yiyou+Sun&mode=keyword").json()
    assert exact["exact"] is True


def test_one_ranking_serves_every_page(indexed: Searcher) -> None:
    fresh = Searcher(indexed.store, semantic=indexed.semantic)
    for mode in ("keyword", "hybrid"):
        later = [r.paper.id for r in indexed.search("diffusion", mode=mode, page=3).items]
        first = [r.paper.id for r in indexed.search("diffusion", mode=mode, page=1).items]
        assert later == [r.paper.id for r in fresh.search("diffusion", mode=mode, page=3).items]
        assert first == [r.paper.id for r in fresh.search("diffusion", mode=mode, page=1).items]
        assert not set(first) & set(later)


def test_kept_ranking_and_cached_page_follow_new_data(indexed: Searcher) -> None:
    client = TestClient(create_app(Settings(database_url="sqlite://"), indexed.store))
    url = "/api/search?query=quokkazebra&mode=keyword"
    assert client.get(url).json()["total"] == 0
    assert indexed.search("quokkazebra", mode="keyword").total == 0
    store = indexed.store
    with store.engine.begin() as c:
        c.exec_driver_sql(
            "UPDATE papers SET title = title || ' quokkazebra' WHERE id = "
            "(SELECT min(id) FROM papers)"
        )
    try:
        if store.dialect == "sqlite":
            from coolpapers.search.indexer import catch_up_fulltext

            catch_up_fulltext(store)  # what serve does in the background
        store.set_state("generation", datetime.now(UTC).isoformat())
        assert indexed.search("quokkazebra", mode="keyword").total == 1
        client.app.state.site.cache.clear()  # the page cache looks once a second (its TTL)
        assert client.get(url).json()["total"] == 1
        assert client.get(url).json()["total"] == 1  # now from the cache
    finally:
        with store.engine.begin() as c:
            c.execute(
                text("UPDATE papers SET title = replace(title, ' quokkazebra', '') "
                     "WHERE title LIKE :t"),
                {"t": "%quokkazebra"},
            )  # fmt: skip
        if store.dialect == "sqlite":
            from coolpapers.search.indexer import catch_up_fulltext

            catch_up_fulltext(store)
        store.set_state("generation", datetime.now(UTC).isoformat())


@pytest.mark.parametrize(
    "query",
    ["model", "diffusion cat:cs.CV", "large language models -vision", "ti:graph", "au:Sun",
     "model date:2026-06-04..2026-06-04", "cat:cs.CL"],
)  # fmt: skip
def test_match_checks_of_a_few_ids_agree_with_the_ranking(indexed: Searcher, query: str) -> None:
    kw = indexed.keyword
    q = parse(query)
    total, ranked = kw.search(q, "relevance", 0, 10_000)
    assert total == len(ranked)
    matching = {h.paper_id for h in ranked}
    with indexed.store.engine.connect() as c:
        some = [r[0] for r in c.exec_driver_sql("SELECT id FROM papers ORDER BY id LIMIT 300")]
    sample = some + [h.paper_id for h in ranked[:50]]
    assert kw.matching_ids(q, sample) == matching & set(sample)
    # the page's snippets: one for each of its papers that matches the words
    if q.has_text:
        page = [h.paper_id for h in ranked[:25]]
        assert set(kw.snippets(q, page)) == set(page)
    bounded, exact, hits = kw.window(q, "relevance", 0, 10, bound=5)
    assert [h.paper_id for h in hits] == [h.paper_id for h in ranked[:10]]
    assert (bounded, exact) == ((5, False) if total > 5 else (total, True))


@pytest.mark.parametrize(("given", "read"), [(None, "4"), ("12", "12")])
def test_openblas_threads_sleep_right_after_a_product(given: str | None, read: str) -> None:
    # set by the package before numpy loads OpenBLAS (coolpapers/__init__.py); a value in the
    # environment wins. A fresh interpreter: this one loaded OpenBLAS long ago.
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    if given is not None:
        env["OPENBLAS_THREAD_TIMEOUT"] = given
    code = "import coolpapers, numpy, os; print(os.environ['OPENBLAS_THREAD_TIMEOUT'])"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == read


@pytest.mark.parametrize(
    ("url", "threads", "at_once"),
    [
        ("sqlite:///x.db", 0, 1),  # one GIL does all of SQLite's work: no hand-overs
        ("postgresql+psycopg://localhost/x", 0, 2),  # a search waits for the database
        ("sqlite:///x.db", 3, 3),  # as set
    ],
)
def test_searches_at_once_by_database(url: str, threads: int, at_once: int) -> None:
    s = Settings(database_url=url, search_threads=threads)
    assert s.searches_at_once == at_once
