"""End-to-end fixtures: the app served by a real `coolpapers serve` (uvicorn) on 127.0.0.1,
on a temporary SQLite database holding three shipped sample days, driven by Debian's Chromium
through Playwright (executable_path: Playwright never downloads a browser here).

Skips cleanly when /usr/bin/chromium or the playwright package is missing; CI installs both
(.ci/run installs the `chromium` apt package; playwright is in the `dev` extra)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from coolpapers.sources.arxiv.files import import_files
from coolpapers.store import Store
from tests.conftest import ROOT, SAMPLE

CHROMIUM = os.environ.get("COOLPAPERS_CHROMIUM", "/usr/bin/chromium")
DAYS = ["2026-06-02", "2026-06-04", "2026-06-05"]
SHOTS = ROOT / "docs" / "screenshots"
# Chromium as root in a container, quiet: no sandbox, no GPU, no calls home.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

pytestmark = pytest.mark.e2e


def _require_browser() -> None:
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        if os.environ.get("CI"):  # .ci/run installs it: missing there is a failure
            pytest.fail(f"Chromium is required in CI and missing at {CHROMIUM}")
        pytest.skip(f"end-to-end tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    pytest.importorskip("playwright", reason="end-to-end tests need `pip install -e .[dev]`")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(tmp: Path, url: str, ready: str, **env_vars: str) -> Iterator[str]:
    """`coolpapers serve` as a real process on a free port, until the block ends; yields its
    base URL once `ready` (a path) answers."""
    port = _free_port()
    env = {
        **os.environ,
        "COOLPAPERS_DATABASE_URL": url,
        "COOLPAPERS_FETCH_ON_DEMAND": "false",  # never reach out to arXiv from a test
        **env_vars,
    }
    exe = Path(sys.executable).with_name("coolpapers")
    log = (tmp / "serve.log").open("w")
    proc = subprocess.Popen(
        [str(exe), "serve", "--port", str(port)], env=env, cwd=tmp, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + ready, timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        f"coolpapers serve did not start: {(tmp / 'serve.log').read_text()}"
                    )
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    _require_browser()
    tmp = tmp_path_factory.mktemp("e2e")
    url = f"sqlite:///{tmp / 'e2e.db'}"
    store = Store.open(url)
    import_files(store, [SAMPLE / f"{d}.jsonl.gz" for d in DAYS])
    store.engine.dispose()
    with serving(
        tmp,
        url,
        "/static/reader.js",
        COOLPAPERS_SEARCH_SEMANTIC="false",
        COOLPAPERS_LLM_WORKERS_IN_SERVE="false",
        COOLPAPERS_PAGE_SIZE="50",
    ) as base:
        yield base


@pytest.fixture(scope="session")
def browser(server: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def new_page(browser: Any, server: str) -> Iterator[Any]:
    """new_page(width=1280, height=900, dark=False, js=True): a page in a fresh context (fresh
    localStorage) that may read and write the clipboard and reaches nothing but the server."""
    contexts: list[Any] = []

    def make(width: int = 1280, height: int = 900, dark: bool = False, js: bool = True) -> Any:
        ctx = browser.new_context(
            java_script_enabled=js,
            viewport={"width": width, "height": height},
            color_scheme="dark" if dark else "light",
            base_url=server,
            permissions=["clipboard-read", "clipboard-write"],
        )
        ctx.route(
            lambda u: not u.startswith(server) and not u.startswith("data:"),
            lambda route: route.abort(),
        )
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(10_000)
        return page

    yield make
    for c in contexts:
        c.close()
