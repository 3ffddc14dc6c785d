"""What the FAQ panel tells a reader in a real browser, against a real `coolpapers serve`:
each step while the FAQ is made (arXiv unreachable: fetching the PDF, the fall back to the
abstract, answering question k of 6), and the local model being built (and for about how
long); the follow-up box only once there is a FAQ to follow up (it showed while the FAQ was
pending, and answered "ask the FAQ first")."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from coolpapers.llm import local
from coolpapers.store import Store
from tests.e2e.conftest import serving
from tests.llm_server import FakeLLM
from tests.llm_support import add_papers, paper

pytestmark = pytest.mark.e2e

# Records every text the panel's status line shows, in order (a step may last milliseconds).
WATCH = """(id) => {
  window.__steps = [];
  const panel = document.getElementById(`faq-${id}`);
  const seen = () => {
    const s = panel.querySelector(".faq-status");
    const t = s ? s.textContent : "";
    if (t && window.__steps[window.__steps.length - 1] !== t) window.__steps.push(t);
  };
  const what = { subtree: true, childList: true, characterData: true };
  new MutationObserver(seen).observe(panel, what);
}"""


@pytest.fixture(scope="module")
def unreachable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A site whose arXiv cannot be reached, with a model that takes a moment per answer."""
    tmp = tmp_path_factory.mktemp("faq-steps")
    url = f"sqlite:///{tmp / 'faq.db'}"
    store = Store.open(url)
    add_papers(store, [paper("2606.00001")])
    store.engine.dispose()
    with (
        FakeLLM(delay=0.03, piece=4) as llm,
        serving(
            tmp,
            url,
            "/static/faq.js",
            COOLPAPERS_LLM_BASE_URL=llm.url,
            COOLPAPERS_LLM_MODEL="fake-model",
            COOLPAPERS_ARXIV_PDF_URL="http://127.0.0.1:9/pdf",  # no connection can be made
            COOLPAPERS_ARXIV_MAX_RETRIES="5",
            COOLPAPERS_ARXIV_MIN_INTERVAL="0",
        ) as base,
    ):
        yield base


def _page(browser: Any, base: str) -> Any:
    ctx = browser.new_context(base_url=base, locale="en-US")
    ctx.route(lambda u: not u.startswith(base), lambda route: route.abort())
    page = ctx.new_page()
    page.set_default_timeout(30_000)
    return page


def test_the_panel_shows_each_step_and_the_followup_box_once_there_is_a_faq(
    browser: Any, unreachable: str
) -> None:
    page = _page(browser, unreachable)
    try:
        page.goto("/arxiv/2606.00001")
        page.evaluate(WATCH, "2606.00001")
        follow = page.locator("#faq-2606\\.00001 form.faq-followup")
        t = time.monotonic()
        page.locator("a.title-kimi").click()
        page.wait_for_function("() => window.__steps.some(s => s.startsWith('Fetching the PDF'))")
        assert not follow.is_visible()  # pending, then being written: nothing to follow up
        page.wait_for_selector("#faq-2606\\.00001 div.faq-turn")
        assert not follow.is_visible()
        page.wait_for_selector("#faq-2606\\.00001 .faq-meta:has-text('fake-model')")
        elapsed = time.monotonic() - t
        assert follow.is_visible()  # the FAQ is there: now it can be followed up
        steps: list[str] = page.evaluate("window.__steps")
        fallback = (
            "Could not get the PDF (127.0.0.1 could not be reached): answering from the abstract."
        )
        assert "Fetching the PDF from 127.0.0.1…" in steps
        assert any(s.startswith(fallback) and "question 1 of 6" in s for s in steps), steps
        assert any("question 6 of 6" in s for s in steps), steps
        assert elapsed < 30  # was ~160 s of "Generating…" with arXiv unreachable
        assert "abstract only" in page.locator("#faq-2606\\.00001 .faq-meta").inner_text()
    finally:
        page.context.close()


@pytest.fixture(scope="module")
def building(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`make demo` right after it started: the local model is still being built."""
    tmp = tmp_path_factory.mktemp("faq-building")
    status = tmp / ".local-llm.status"
    status.write_text(
        json.dumps(
            {"state": "building", "pid": os.getpid(), "started": time.time(), "estimate": 480}
        )
    )
    url = f"sqlite:///{tmp / 'faq.db'}"
    store = Store.open(url)
    add_papers(store, [paper("2606.00001")])
    store.engine.dispose()
    env = {"COOLPAPERS_LLM_LOCAL": "true", "COOLPAPERS_LLM_BASE_URL": ""}
    with serving(tmp, url, "/static/faq.js", **env, **{local.BUILD_ENV: str(status)}) as base:
        yield base


def test_the_panel_says_the_local_model_is_being_built_and_for_how_long(
    browser: Any, building: str, tmp_path: Path
) -> None:
    page = _page(browser, building)
    try:
        page.goto("/arxiv/2606.00001")
        assert "SmolLM2-135M" in page.locator("a.title-kimi").inner_text()
        page.locator("a.title-kimi").click()
        status = page.locator("#faq-2606\\.00001 .faq-status")
        status.filter(has_text="being built").wait_for()
        text = status.inner_text()
        assert "about 8 minutes left" in text and "starts by itself" in text
        assert not page.locator("#faq-2606\\.00001 form.faq-followup").is_visible()
        page.screenshot(path=str(tmp_path / "faq-building.png"))
    finally:
        page.context.close()
