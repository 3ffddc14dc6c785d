"""Search processes (web/search_pool.py): a web process that hands its new search answers to
processes of its own answers exactly what its threads would, keeps them in its own page
cache, and survives a search process that dies. Both backends, over the shipped real sample;
one pool per backend (a process takes seconds to start)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from coolpapers import config
from coolpapers.config import Settings
from coolpapers.search.service import Searcher
from coolpapers.web.app import create_app
from coolpapers.web.search_pool import SearchPool
from tests.search_fixtures import indexed

__all__ = ["indexed"]

URLS = [
    "/arxiv/search?query=diffusion+model",
    "/arxiv/search?query=graph+neural+network&page=2",
    "/arxiv/search?query=language+models&sort=date",
    "/arxiv/search?query=attention&mode=keyword&highlight=1",
    "/search?query=%22large+language%22+-vision",
    "/api/search?query=transformer&show=5",
    "/arxiv/search?query=<script>alert(1)</script>",
]


@pytest.fixture(scope="module")
def clients(indexed: Searcher) -> Iterator[tuple[TestClient, TestClient, SearchPool]]:
    """(an app that searches in its threads, one that has a search process, its pool)."""
    url = indexed.store.engine.url.render_as_string(hide_password=False)
    settings = Settings(database_url=url, fetch_on_demand=False)
    threads = create_app(settings, indexed.store)
    pooled = create_app(settings, indexed.store)
    pool = SearchPool(settings, 1)
    pooled.state.site.search_pool = pool
    try:
        with TestClient(threads) as a, TestClient(pooled) as b:
            yield a, b, pool
    finally:
        pool.close()


def test_a_search_process_answers_as_the_threads_do(
    clients: tuple[TestClient, TestClient, SearchPool],
) -> None:
    threads, pooled, pool = clients
    for u in URLS:
        a, b = threads.get(u), pooled.get(u)
        assert (a.status_code, a.headers["content-type"]) == (200, b.headers["content-type"])
        assert b.status_code == 200, u
        assert a.content == b.content, u
    assert pool.pids()  # made there, not in this process's threads
    # the markup of a query never reaches the page as markup, whoever made it
    assert "<script>alert(1)" not in pooled.get(URLS[-1]).text


def test_related_papers_taste_and_feeds_are_asked_of_the_search_process(
    clients: tuple[TestClient, TestClient, SearchPool],
) -> None:
    """Everything that needs the vectors is made there: the web process loads none."""
    threads, pooled, _ = clients
    pid = threads.get("/api/search?query=diffusion+model&show=1").json()["results"][0]["id"]
    for u in (
        f"/arxiv/related/{pid}",
        f"/arxiv/related/{pid}?fragment=1",
        f"/arxiv/related/{pid}/feed",
        f"/api/related/{pid}",
        "/arxiv/search/feed?query=language+models",
        "/search/feed?query=graph+neural+network&from=2025",
        "/arxiv/related/2309.99999",  # no such paper: the 404 page, made here
    ):
        a, b = threads.get(u), pooled.get(u)
        assert (a.status_code, a.content) == (b.status_code, b.content), u
    assert threads.get(f"/api/related/{pid}").json()["results"]
    taste = {"ids": [pid, "2309.16354"], "keywords": ["diffusion"], "clicked": [pid]}
    a, b = threads.post("/api/taste", json=taste), pooled.post("/api/taste", json=taste)
    assert a.status_code == b.status_code == 200 and a.json() == b.json()
    assert pooled.app.state.site.search._vectors is None  # type: ignore[attr-defined]
    assert threads.app.state.site.search._vectors is not None  # type: ignore[attr-defined]


def test_redirects_come_back_and_are_not_kept(
    clients: tuple[TestClient, TestClient, SearchPool],
) -> None:
    _, pooled, _ = clients
    for _ in range(2):
        r = pooled.get("/arxiv/search?query=2309.16354", follow_redirects=False)
        assert (r.status_code, r.headers["location"]) == (302, "/arxiv/2309.16354")
    got = pooled.get("/api/search?query=https://arxiv.org/abs/2309.16354v2").json()
    assert got["redirect"] == "/arxiv/2309.16354v2" and got["results"] == []


def test_answers_are_kept_by_the_web_process(
    clients: tuple[TestClient, TestClient, SearchPool], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, pooled, pool = clients
    asked: list[str] = []
    answer = pool.answer

    async def counted(path: str, items: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
        asked.append(path)
        return await answer(path, items)

    monkeypatch.setattr(pool, "answer", counted)
    u = "/arxiv/search?query=reinforcement+learning+robots"
    first = pooled.get(u, headers={"accept-encoding": "gzip"})
    again = pooled.get(u + "&utm_source=x", headers={"accept-encoding": "gzip"})
    assert first.content == again.content and asked == ["/arxiv/search"]
    assert again.headers.get("content-encoding") == "gzip"  # its gzip, made there, kept here


def test_a_search_process_that_dies_is_replaced(
    clients: tuple[TestClient, TestClient, SearchPool],
) -> None:
    threads, pooled, pool = clients
    pooled.get(URLS[0])
    (pid,) = pool.pids()
    renewed = pool.renewed
    os.kill(pid, signal.SIGKILL)  # seen by the next question: its socket has ended
    u = "/arxiv/search?query=protein+folding"  # not kept: asked of the pool
    r = pooled.get(u)
    assert r.status_code == 200 and r.content == threads.get(u).content
    assert pool.renewed == renewed + 1 and pool.pids() and pool.pids() != [pid]


@pytest.mark.parametrize(
    ("given", "workers", "cores", "processes"),
    [
        (-1, 1, 2, 2),  # one web process holds the machine: a search process per core
        (-1, 1, 4, 4),
        (-1, 1, 16, 4),  # each holds its own app and vectors: 4 at most
        (-1, 2, 2, 1),  # the cores shared among the web processes, one at least
        (-1, 4, 2, 1),
        (-1, 2, 8, 4),
        (-1, 3, 8, 2),
        (-1, 1, 1, 0),  # one core: the web process's own threads
        (-1, 2, 1, 0),
        (3, 4, 2, 3),  # as set
        (0, 1, 8, 0),
    ],
)
def test_search_processes_by_default(
    monkeypatch: pytest.MonkeyPatch, given: int, workers: int, cores: int, processes: int
) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    monkeypatch.setattr(config, "_memory", lambda: 64 << 30)
    s = Settings(database_url="sqlite:///x.db", search_processes=given)
    assert s.processes_for_search(workers) == processes


@pytest.mark.parametrize(
    ("memory_gb", "papers", "workers", "processes"),
    [
        (24, 70_000, 1, 4),  # this machine, the real sample: 4 fit in half of it
        (24, 1_000_000, 1, 2),  # 1M: ~5 GB each (measured 4.4-5), 2 in 12 GB
        (24, 1_000_000, 2, 1),  # two web processes: one each
        # only one fits: it holds what the web process's threads would, so one all the same
        (16, 1_000_000, 1, 1),
        (8, 70_000, 1, 4),
    ],
)
def test_search_processes_fit_in_half_the_memory(
    monkeypatch: pytest.MonkeyPatch, memory_gb: int, papers: int, workers: int, processes: int
) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    monkeypatch.setattr(config, "_memory", lambda: memory_gb << 30)
    s = Settings(database_url="sqlite:///x.db")
    assert s.processes_for_search(workers, papers) == processes
    # set, it is as set
    s = Settings(database_url="sqlite:///x.db", search_processes=3)
    assert s.processes_for_search(1, papers) == 3


def test_search_processes_that_cannot_start_are_a_503_not_a_500(indexed: Searcher) -> None:
    url = indexed.store.engine.url.render_as_string(hide_password=False)
    app = create_app(Settings(database_url=url, fetch_on_demand=False), indexed.store)
    # every process it starts fails as it starts: the pool breaks, is renewed, breaks again
    pool = SearchPool(Settings(database_url="nosuchdb://nowhere"), 1)
    app.state.site.search_pool = pool
    try:
        with TestClient(app) as client:
            r = client.get("/arxiv/search?query=diffusion")
        assert r.status_code == 503 and r.headers["retry-after"] == "5"
        assert pool.renewed >= 1
    finally:
        pool.close()


def test_search_processes_leave_with_a_web_process_killed_outright(tmp_path: Path) -> None:
    """SIGKILL (or the kernel's out-of-memory killer) gives the web process no chance to stop
    its pool: its search processes notice the lost parent and leave within seconds."""
    code = (
        "import sys, time\n"
        "from coolpapers.config import Settings\n"
        "from coolpapers.web.search_pool import SearchPool\n"
        f"pool = SearchPool(Settings(database_url='sqlite:///{tmp_path / 'x.db'}'), 1)\n"
        "while not pool.pids(): time.sleep(0.05)\n"
        "print(pool.pids()[0], flush=True)\n"
        "time.sleep(60)\n"
    )
    web = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert web.stdout is not None
        child = int(web.stdout.readline())
        os.kill(web.pid, signal.SIGKILL)
        web.wait()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                os.kill(child, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            os.kill(child, signal.SIGKILL)
            pytest.fail("the search process outlived its web process")
    finally:
        web.kill()
