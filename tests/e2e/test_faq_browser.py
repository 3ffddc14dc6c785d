"""The [FAQ] button in a real browser (Debian's Chromium through Playwright) against a real
`coolpapers serve` whose in-process FAQ workers talk to the local fake LLM server: the panel
streams, math is typeset by KaTeX, the final view replaces the streamed one, the language
switch starts the other generation, the counters count."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from coolpapers.llm.prompts import BUILTIN
from coolpapers.store import Store
from tests.e2e.conftest import serving
from tests.llm_server import FakeLLM
from tests.llm_support import add_papers, paper

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def faq_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, FakeLLM]]:
    tmp = tmp_path_factory.mktemp("faq-e2e")
    url = f"sqlite:///{tmp / 'faq.db'}"
    store = Store.open(url)
    add_papers(store, [paper("2606.00001"), paper("2606.00002")])
    store.engine.dispose()
    with (
        FakeLLM(delay=0.01, piece=6) as llm,
        serving(
            tmp,
            url,
            "/static/faq.js",
            COOLPAPERS_LLM_BASE_URL=llm.url,
            COOLPAPERS_LLM_MODEL="fake-model",
            COOLPAPERS_LLM_WORKERS_IN_SERVE="true",
            COOLPAPERS_ARXIV_PDF_URL="http://127.0.0.1:9/pdf",  # no full text: the abstract
            COOLPAPERS_ARXIV_MAX_RETRIES="0",
        ) as base,
    ):
        yield base, llm


def test_faq_panel_streams_typesets_and_switches_language(
    browser: Any, faq_server: tuple[str, FakeLLM], tmp_path: Path
) -> None:
    base, llm = faq_server
    ctx = browser.new_context(
        base_url=base, locale="en-US", viewport={"width": 1100, "height": 900}
    )
    ctx.route(lambda u: not u.startswith(base), lambda route: route.abort())
    page = ctx.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto("/arxiv/2606.00001")
        btn = page.locator("a.title-kimi")
        assert btn.inner_text() == "[FAQ · fake-model]"
        btn.click()
        panel = page.locator("#faq-2606\\.00001")
        # Streaming: the first turn appears (with its cursor) before the answer is complete.
        page.wait_for_selector("#faq-2606\\.00001 div.faq-turn .faq-a")
        page.wait_for_selector("#faq-2606\\.00001 .faq-meta:has-text('fake-model')")
        qs = panel.locator("p.faq-q")
        assert qs.count() == 6
        assert qs.nth(0).inner_text().endswith(BUILTIN.questions["en"][0])
        assert panel.locator(".faq-a .katex").count() >= 6  # $a_1 * b_2 \\ c_3$ typeset
        assert panel.locator("[data-streaming]").count() == 0  # the final view
        assert "abstract only" in panel.locator(".faq-meta").inner_text()
        assert page.locator("sup.click-count[data-kind=faq]").first.inner_text() == "1"
        page.screenshot(path=str(tmp_path / "faq-en.png"))
        calls = len(llm.calls)
        # The other language is its own generation, streamed in the same panel.
        panel.locator("button.faq-lang[data-lang=zh]").click()
        page.wait_for_selector(
            f"#faq-2606\\.00001 p.faq-q:has-text('{BUILTIN.questions['zh'][5]}')"
        )
        page.wait_for_selector("#faq-2606\\.00001 .faq-meta:has-text('fake-model')")
        assert len(llm.calls) == calls + 6
        # A reload shows the cached answer at once, with no new LLM call.
        page.reload()
        page.locator("a.title-kimi").click()
        page.wait_for_selector("#faq-2606\\.00001 .faq-meta:has-text('fake-model')")
        assert len(llm.calls) == calls + 6
        assert page.locator("sup.click-count[data-kind=faq]").first.inner_text() == "2"
    finally:
        ctx.close()
