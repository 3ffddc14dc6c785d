"""TL;DRs and translations in a real browser (Debian's Chromium through Playwright) against a
real `coolpapers serve` whose in-process workers talk to the local fake LLM server: the kept
TL;DR shows under the title, [TL;DR] asks for a missing one; the language chosen in Settings
survives a reload; [译] switches a card between original and translation with its math typeset
by KaTeX, and so does the reader bar's button for every card; a malicious translation is shown
as text, never run."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from coolpapers.llm.schema import llm_texts
from coolpapers.llm.service import FaqService
from coolpapers.llm.texts import TLDR, TextService
from coolpapers.store import Store
from tests.e2e.conftest import serving
from tests.llm_server import FakeLLM
from tests.llm_support import add_papers, faq_settings, paper

pytestmark = pytest.mark.e2e

KEPT = "This paper bounds $y^3$ and finds it tight."
WRITTEN = "A sentence written on request about $z_1$."
EVIL = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'


def answer(messages: list[dict[str, Any]]) -> str:
    """A TL;DR; a 'translation' keeping the [M1] placeholders; an evil one for the evil paper."""
    user = messages[-1]["content"]
    if "Translate" not in user:
        return f"TL;DR: {WRITTEN}"
    body = user.split("\n\n", 1)[1]
    if "wicked" in body:
        return EVIL + " 译：" + body
    return "译：" + body


@pytest.fixture(scope="module")
def texts_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, FakeLLM]]:
    tmp = tmp_path_factory.mktemp("texts-e2e")
    url = f"sqlite:///{tmp / 'texts.db'}"
    store = Store.open(url)
    papers = [
        paper("2606.00001", abstract="We bound $x^2 \\le y$ on 12.5% of the cases."),
        paper("2606.00002", abstract="A wicked abstract about $w$."),
        paper("2606.00003"),
    ]
    add_papers(store, papers)
    svc = TextService(FaqService(store, faq_settings("http://127.0.0.1:9/v1")))
    with store.engine.begin() as c:  # a TL;DR kept already (the day's precomputation)
        row = svc.row(papers[0], TLDR, "en", KEPT, {"prompt_tokens": 9, "completion_tokens": 9})
        c.execute(llm_texts.insert().values(**row))
    store.engine.dispose()
    with (
        FakeLLM(answer=answer, delay=0.02, piece=4) as llm,
        serving(
            tmp,
            url,
            "/static/texts.js",
            COOLPAPERS_LLM_BASE_URL=llm.url,
            COOLPAPERS_LLM_MODEL="fake-model",
            COOLPAPERS_LLM_WORKERS_IN_SERVE="true",
            COOLPAPERS_ARXIV_PDF_URL="http://127.0.0.1:9/pdf",
            COOLPAPERS_ARXIV_MAX_RETRIES="0",
            COOLPAPERS_SEARCH_SEMANTIC="false",
        ) as base,
    ):
        yield base, llm


@pytest.fixture
def page(browser: Any, texts_server: tuple[str, FakeLLM]) -> Iterator[Any]:
    base, _ = texts_server
    ctx = browser.new_context(
        base_url=base, locale="en-US", viewport={"width": 1100, "height": 900}
    )
    ctx.route(lambda u: not u.startswith(base), lambda route: route.abort())
    p = ctx.new_page()
    p.set_default_timeout(15_000)
    yield p
    ctx.close()


CARDS = "/arxiv/2606.00001,2606.00002,2606.00003"


def test_tldr_shows_under_the_title_and_is_asked_for(page: Any) -> None:
    page.goto(CARDS)
    kept = page.locator("#tldr-2606\\.00001")
    kept.wait_for()
    assert KEPT.split("$")[0] in kept.inner_text()
    assert kept.locator(".katex").count() == 1  # its math typeset
    # right under the title
    assert page.evaluate(
        "document.getElementById('tldr-2606.00001').previousElementSibling.matches('h2.title')"
    )
    # a card without one: [TL;DR] asks, and it appears as it is written
    card = page.locator("div.paper[id='2606.00003']")
    assert card.locator("p.tldr").count() == 0
    card.locator("button.title-tldr").click()
    page.wait_for_selector("#tldr-2606\\.00003:not(.writing) .katex")
    assert "written on request" in page.locator("#tldr-2606\\.00003").inner_text()
    assert card.locator("button.title-tldr").count() == 0
    # the in-page filter reads the TL;DR
    page.keyboard.press("/")
    page.fill("#reader-inc", "written on request")
    page.wait_for_function(
        "document.getElementById('reader-filter-count').textContent.startsWith('1 of 3')"
    )
    page.fill("#reader-inc", "")
    # the setting hides them
    page.click("#reader-settings-btn")
    page.uncheck("#texts-tldr")
    assert not page.locator("#tldr-2606\\.00001").is_visible()
    page.reload()
    page.wait_for_selector("div.paper")
    page.wait_for_timeout(300)
    assert not page.locator("#tldr-2606\\.00001").is_visible()


def test_language_choice_survives_a_reload(page: Any) -> None:
    page.goto(CARDS)
    page.click("#reader-settings-btn")
    lang = page.locator("#texts-lang")
    lang.wait_for()
    assert lang.locator("option").first.get_attribute("value") == "zh"  # 中文 first
    assert lang.input_value() == "zh"
    lang.select_option("ja")
    page.select_option("#texts-fields", "abstract")
    assert page.locator("button.title-translate").first.inner_text() == "[Translate]"
    page.reload()
    page.click("#reader-settings-btn")
    page.locator("#texts-lang").wait_for()
    assert page.locator("#texts-lang").input_value() == "ja"
    assert page.locator("#texts-fields").input_value() == "abstract"


def test_toggle_switches_a_card_with_math_typeset(
    page: Any, texts_server: tuple[str, FakeLLM]
) -> None:
    page.goto(CARDS)
    summary = page.locator("#summary-2606\\.00001")
    title = page.locator("#title-2606\\.00001")
    original = summary.inner_text()
    btn = page.locator("div.paper[id='2606.00001'] button.title-translate")
    assert btn.inner_text() == "[译]"
    btn.click()
    page.wait_for_function(
        "document.getElementById('summary-2606.00001').innerText.startsWith('译：')"
        " && document.querySelector('#summary-2606\\\\.00001 .katex')"
        " && document.getElementById('title-2606.00001').innerText.startsWith('译：')"
    )
    assert summary.locator(".katex").count() == 1
    assert title.locator(".katex").count() == 1
    assert btn.get_attribute("aria-pressed") == "true"
    # back to the original, as it was
    btn.click()
    assert summary.inner_text() == original
    assert summary.locator(".katex").count() == 1
    assert not title.inner_text().startswith("译")
    # a reload, then the page's button: every card with a kept translation switches
    page.reload()
    page.locator("#texts-translate-all").click()
    page.wait_for_function(
        "document.getElementById('summary-2606.00001').innerText.startsWith('译：')"
    )
    assert page.locator("#summary-2606\\.00001 .katex").count() == 1
    assert not page.locator("#summary-2606\\.00003").inner_text().startswith("译")
    page.locator("#texts-translate-all").click()
    assert page.locator("#summary-2606\\.00001").inner_text() == original


def test_a_malicious_translation_is_not_run(page: Any) -> None:
    page.goto(CARDS)
    page.locator("div.paper[id='2606.00002'] button.title-translate").click()
    page.wait_for_function(
        "document.getElementById('summary-2606.00002').innerText.includes('译：')"
    )
    page.wait_for_timeout(300)
    summary = page.locator("#summary-2606\\.00002")
    assert "<img src=x onerror" in summary.inner_text()  # shown as text
    assert summary.locator("img, script").count() == 0
    assert page.evaluate("window.__pwned") is None
