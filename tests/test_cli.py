"""The `coolpapers` command: import with resume, and `serve` as a real uvicorn process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import date

import httpx
import pytest
from typer.testing import CliRunner

from coolpapers.cli.main import app
from coolpapers.config import get_settings
from coolpapers.store import Store
from tests.conftest import ROOT, SAMPLE


def test_import_command_and_rerun(db_url: str) -> None:
    files = [str(SAMPLE / "2026-06-04.jsonl.gz"), str(SAMPLE / "2026-06-05.jsonl.gz")]
    r = CliRunner().invoke(app, ["import", *files])
    assert r.exit_code == 0, r.output
    store = Store.open(db_url)
    n = store.count_papers()
    assert n > 500 and "imported" in r.output
    r = CliRunner().invoke(app, ["import", *files])  # a rerun resumes: nothing twice
    assert r.exit_code == 0 and store.count_papers() == n
    r = CliRunner().invoke(app, ["import", "/nonexistent.jsonl"])
    assert r.exit_code != 0 and "no such file" in r.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_runs_uvicorn_workers(db_url: str, workers: int) -> None:
    Store.open(db_url)
    CliRunner().invoke(app, ["import", str(SAMPLE / "2026-06-05.jsonl.gz")])
    port = _free_port()
    env = {**os.environ, "COOLPAPERS_DATABASE_URL": db_url, "COOLPAPERS_FETCH_ON_DEMAND": "0"}
    cmd = [sys.executable, "-m", "coolpapers.cli.main", "serve", "--port", str(port)]
    proc = subprocess.Popen([*cmd, "--workers", str(workers)], env=env)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/arxiv/cs.CL", timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "serve did not answer within 30 s"
                assert proc.poll() is None, "serve exited"
                time.sleep(0.2)
        assert r.status_code == 200 and "Total: " in r.text
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=5).status_code == 200
        # `import` only queued the papers for search: serve's background indexer (at start)
        # makes them findable (on PostgreSQL the trigger already did)
        with Store.open(db_url).engine.connect() as c:
            pid, title = c.exec_driver_sql("SELECT id, title FROM papers ORDER BY id LIMIT 1").one()
        query = {"query": f'ti:"{title}"', "mode": "keyword"}
        while True:
            got = httpx.get(f"http://127.0.0.1:{port}/api/search", params=query, timeout=10)
            if pid in [x["id"] for x in got.json()["results"]]:
                break
            assert time.monotonic() < deadline + 60, "serve did not index the imported papers"
            time.sleep(0.5)
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def serve_app_says(db_url: str, code: str, processes: int = 0) -> list[str]:
    """What `code` prints after building serve's app, in a process of its own (a frozen test
    process would keep its garbage), on the database at `db_url`; `processes`: its search
    processes (web/search_pool.py)."""
    Store.open(db_url)
    code = "from coolpapers.web.app import serve_app\n" + code
    env = {
        **os.environ,
        "COOLPAPERS_DATABASE_URL": db_url,
        "COOLPAPERS_SEARCH_PROCESSES": str(processes),
    }
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_serve_app_freezes_what_it_built(db_url: str) -> None:
    # serve's workers keep their start-up objects out of every later full collection (web/
    # app.serve_app)
    before, after, kind = serve_app_says(
        db_url,
        "import gc; before = gc.get_freeze_count(); app = serve_app(); "
        "print(before, gc.get_freeze_count(), type(app).__name__)",
    )
    assert before == "0" and int(after) > 10_000 and kind == "FastAPI"
    assert "coolpapers.web.app:serve_app" in (ROOT / "src/coolpapers/cli/main.py").read_text()


def test_serve_app_loads_the_vectors_before_the_first_search(db_url: str) -> None:
    # the first reader of a worker no longer waits for its vectors (1 s at 70k, 15 s at 1M)
    said = serve_app_says(
        db_url,
        "import time; app = serve_app(); s = app.state.site.search\n"
        "t = time.monotonic() + 20\n"
        "while s._vectors is None and time.monotonic() < t: time.sleep(0.01)\n"
        "print(s._vectors is not None, app.state.site.search_pool)",
    )
    assert said == ["True", "None"]


def test_serve_app_with_search_processes_searches_there(db_url: str) -> None:
    # a worker with search processes answers searches there and loads no vectors itself
    said = serve_app_says(
        db_url,
        "import asyncio; app = serve_app(); site = app.state.site; pool = site.search_pool\n"
        "seq, got = asyncio.run(pool.answer('/api/search', [('query', 'attention')]))\n"
        "print(pool.processes, len(pool.pids()), type(got).__name__, site.search._vectors)\n"
        "pool.close()",
        processes=1,
    )
    assert said == ["1", "1", "Page", "None"]


def test_harvest_command_stores_the_announcement_and_the_page_shows_it(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`coolpapers harvest` against the documented feed, replayed on 127.0.0.1."""
    from fastapi.testclient import TestClient

    from coolpapers.web.app import create_app
    from tests.replay import Replay, settings_for, xml
    from tests.test_rss import RSS_ITEM, rss_feed

    with Replay() as arxiv:
        arxiv.add("/rss/math.OC", xml(rss_feed(RSS_ITEM)))
        for key, value in settings_for(arxiv).model_dump().items():
            if key.startswith("arxiv_"):
                monkeypatch.setenv(f"COOLPAPERS_{key.upper()}", str(value))
        get_settings.cache_clear()
        r = CliRunner().invoke(app, ["harvest", "--category", "math.OC"])
        assert r.exit_code == 0, r.output
        assert "announcements" in r.output and "2024-08-23" in r.output
        assert [h.path for h in arxiv.hits] == ["/rss/math.OC"]  # complete: no backfill
    store = Store.open(db_url)
    listed = store.listing(["math.OC"], [], date(2024, 8, 23))
    assert [(x.paper.id, x.kind.label) for x in listed] == [("2203.01250", "replace-cross")]
    settings = get_settings().model_copy(update={"fetch_on_demand": False})
    doc = TestClient(create_app(settings, store)).get("/arxiv/math.OC").text
    assert 'id="2203.01250"' in doc and "Total: 1" in doc


def test_serve_gives_its_worker_the_search_processes_it_chose(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One worker runs in serve's own process, whose settings were read before serve chose:
    the worker sees the choice made for the store's size (1M papers on 16 GB and 8 cores:
    one), not a default that knows no size (which would be 4)."""
    import uvicorn

    from coolpapers import config

    monkeypatch.setenv("COOLPAPERS_DATABASE_URL", db_url)
    monkeypatch.setenv("COOLPAPERS_SEARCH_INDEX_IN_SERVE", "false")
    monkeypatch.setenv("COOLPAPERS_LLM_LOCAL", "false")
    # both set by serve in os.environ: monkeypatch puts them back as they were
    monkeypatch.setenv("COOLPAPERS_SEARCH_PROCESSES", "-1")  # the default (a delenv of an
    # unset variable would not be undone)
    monkeypatch.setenv("COOLPAPERS_BASE_URL", "http://127.0.0.1:8000")
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    monkeypatch.setattr(config, "_memory", lambda: 16 << 30)
    monkeypatch.setattr(Store, "estimate_papers", lambda self: 1_000_000)
    seen: list[int] = []
    monkeypatch.setattr(
        uvicorn, "run", lambda *a, **k: seen.append(get_settings().search_processes)
    )
    get_settings.cache_clear()
    try:
        r = CliRunner().invoke(app, ["serve", "--port", str(_free_port())])
        assert r.exit_code == 0, r.output
        assert seen == [1]
        assert get_settings().processes_for_search(1) == 1  # what serve_app computes from it
    finally:
        get_settings.cache_clear()
