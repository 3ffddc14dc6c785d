"""The reader's taste in a real browser (issue 14 §3): one store for Track's keywords and
Settings' preference keywords (the two old localStorage keys migrated into it), and one ❤ sort,
of the whole day, whichever control asks for it (the ❤ beside "Total" or the bar's menu)."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.e2e.test_reader_browser import ids, open_listing

NEW_KEY = "coolpapers.reader.taste"
OLD_TASTE, OLD_PREFS = "coolpapers.taste", "coolpapers.prefs.keywords"


def stored(page: Any, key: str) -> Any:
    raw = page.evaluate("k => localStorage.getItem(k)", key)
    return None if raw is None else json.loads(raw)


def track_keywords(page: Any) -> list[str]:
    chips = page.locator("#track .track-keywords .chip").all_inner_texts()
    return [c.removesuffix(" ✕") for c in chips]


def test_old_keys_migrate_into_one_taste(new_page: Any) -> None:
    page = new_page()
    open_listing(page)
    old = {
        "keywords": ["diffusion models", "Alpha"],
        "clicked": [{"id": "2606.00001", "kw": ["x"], "at": 5}],
    }
    page.evaluate(
        "([a, b, old, prefs]) => { localStorage.clear(); localStorage.setItem(a, old);"
        " localStorage.setItem(b, prefs); }",
        [OLD_TASTE, OLD_PREFS, json.dumps(old), "alpha\nlinear attention\n\n"],
    )
    open_listing(page)  # a later visit: nobody loses a keyword, none is counted twice
    taste = stored(page, NEW_KEY)
    assert taste["keywords"] == ["diffusion models", "Alpha", "linear attention"]
    assert [c["id"] for c in taste["clicked"]] == ["2606.00001"]
    assert stored(page, OLD_TASTE) is None and stored(page, OLD_PREFS) is None
    # Track and Settings show the same list
    page.click("button.track-toggle")
    assert track_keywords(page) == ["diffusion models", "Alpha", "linear attention"]
    page.click("#reader-settings-btn")
    assert page.input_value("#reader-prefs").split("\n") == track_keywords(page)
    # a keyword added in Track is one of Settings'; Settings' edits are Track's
    page.fill("#track input", "graph neural networks")
    page.click("#track form button")
    page.click("#reader-settings-btn")  # closed
    page.click("#reader-settings-btn")  # opened afresh
    assert page.input_value("#reader-prefs").endswith("\ngraph neural networks")
    page.fill("#reader-prefs", "only this\nand that")
    page.click("button.track-toggle")  # closed
    page.click("button.track-toggle")
    assert track_keywords(page) == ["only this", "and that"]
    assert stored(page, NEW_KEY)["keywords"] == ["only this", "and that"]


def test_heart_beside_total_sorts_the_whole_day_as_the_bar_does(new_page: Any) -> None:
    page = new_page()
    open_listing(page)
    page.evaluate("() => localStorage.clear()")
    box = page.locator("div.papers")
    total = int(box.get_attribute("data-total"))
    assert len(ids(page)) < total  # a long day: the first cards only
    # the whole day in arXiv's order, and a word of the last paper's title
    day = page.evaluate(
        """async () => {
          const r = await fetch(location.pathname + location.search + '&show=all');
          const d = new DOMParser().parseFromString(await r.text(), 'text/html');
          return [...d.querySelectorAll('div.papers div.paper')]
            .map(c => [c.id, c.querySelector('a.title-link').textContent]); }"""
    )
    assert len(day) == total
    last_id, last_title = day[-1]
    word = max(re.findall(r"[a-z]{6,}", last_title.lower()), key=len)
    page.click("button.track-toggle")
    page.fill("#track input", word)
    page.click("#track form button")
    heart = page.locator("p.info button.heart")
    heart.click()
    page.wait_for_selector("div.papers[data-sorted=taste]", state="attached")
    page.wait_for_function(
        "w => document.querySelector('div.papers div.paper').textContent.toLowerCase().includes(w)",
        arg=word,
    )
    # every paper of the day, not only the cards loaded when ❤ was pressed
    assert sorted(ids(page)) == sorted(i for i, _ in day)
    assert last_id in ids(page)[:10]
    assert page.input_value("#reader-sort") == "taste"
    assert "on" in (heart.get_attribute("class") or "")
    assert heart.get_attribute("aria-pressed") == "true"
    # again: arXiv's order, for both controls
    heart.click()
    page.wait_for_selector("div.papers[data-sorted=arxiv]", state="attached")
    assert ids(page) == [i for i, _ in day]
    assert page.input_value("#reader-sort") == "arxiv"
    assert "on" not in (heart.get_attribute("class") or "")
    # the bar's menu is the same sort: the ❤ says so
    page.select_option("#reader-sort", "taste")
    page.wait_for_selector("div.papers[data-sorted=taste]", state="attached")
    assert heart.get_attribute("aria-pressed") == "true"
