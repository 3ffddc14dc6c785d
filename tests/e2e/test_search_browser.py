"""Search's own page scripts in a real browser (search.js): `&highlight=1` marks the query's
words in titles and abstracts without touching typeset math, and [REL] opens a card's related
papers inline, loaded once and toggled after."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.e2e


def test_highlight_marks_the_query_words(new_page: Callable[..., Any]) -> None:
    page = new_page()
    page.goto("/arxiv/search?query=models&highlight=1&mode=keyword")
    page.wait_for_selector("div.papers mark")
    marks = page.eval_on_selector_all("div.papers mark", "ms => ms.map(m => m.textContent)")
    assert marks and all(m.lower().startswith("model") for m in marks), marks[:10]
    # in titles and abstracts only, and never inside math
    outside = page.eval_on_selector_all(
        "div.papers mark",
        "ms => ms.filter(m => !m.closest('a.title-link, p.summary') || m.closest('.math')).length",
    )
    assert outside == 0
    # without the flag nothing is marked by the script (the server's snippets may be)
    page.goto("/arxiv/search?query=models&mode=keyword")
    page.wait_for_selector("div.papers div.paper")
    assert page.eval_on_selector_all("a.title-link mark", "ms => ms.length") == 0


def test_rel_opens_related_papers_inline_and_toggles(new_page: Callable[..., Any]) -> None:
    page = new_page()
    page.goto("/arxiv/cs.CL?date=2026-06-04")
    card = page.locator("div.papers div.paper").first
    pid = card.get_attribute("id")
    with page.expect_response(lambda r: f"/arxiv/related/{pid}" in r.url) as resp:
        card.locator("a.title-rel").click()
    assert resp.value.status == 200
    panel = card.locator("div.rel-panel")
    page.wait_for_function(
        "id => { const p = document.getElementById(id).querySelector('div.rel-panel');"
        " return p && !p.textContent.includes('loading'); }",
        arg=pid,
    )
    assert "Could not load" not in panel.inner_text()
    assert page.url.endswith("/arxiv/cs.CL?date=2026-06-04")  # inline: the page stays
    card.locator("a.title-rel").click()  # a second click folds it (loaded once)
    assert panel.is_hidden()
    card.locator("a.title-rel").click()
    assert panel.is_visible()
