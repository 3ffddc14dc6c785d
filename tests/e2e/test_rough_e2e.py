"""What a new reader hits in the first hour (issue 14), in a real browser: Debian's Chromium
against `coolpapers serve` on three sample days, every request off the site refused (the
`new_page` fixture), so whatever works here works offline.

The server side of the same issue (404 page, feeds, cards' words) is tests/test_web_rough.py."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.e2e
LONG_DAY = "/arxiv/cs.CV?date=2026-06-02"  # 314 papers: 50 come with the page (PAGE_SIZE)


def _index(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        "details.index div.items a.i-title", "as => as.map(a => a.getAttribute('href'))"
    )


def _cards(page: Any) -> list[str]:
    return page.eval_on_selector_all("div.papers div.paper", "cs => cs.map(c => '#' + c.id)")


def test_index_follows_the_cards_loaded_later(new_page: Any) -> None:
    page = new_page()
    page.goto(LONG_DAY)
    page.wait_for_selector("#reader-bar")
    assert len(_cards(page)) == 50 and _index(page) == _cards(page)
    # scrolling brings the next cards: the index lists them too, in the page's order
    page.locator("p.more").scroll_into_view_if_needed()
    page.wait_for_function("document.querySelectorAll('div.papers div.paper').length > 50")
    page.wait_for_function(
        "document.querySelectorAll('details.index a.i-title').length"
        " === document.querySelectorAll('div.papers div.paper').length"
    )
    assert _index(page) == _cards(page)
    # the rest of the day at once (what a sort or a filter asks for)
    assert page.evaluate("window.coolpapersLoadAll()") is True
    cards = _cards(page)
    total = int(page.get_attribute("div.papers", "data-total") or 0)
    assert len(cards) == total > 200 and _index(page) == cards
    summary = page.text_content("details.index summary")
    assert summary == f"Index of the {total} papers on this page"
    # each title as the server lists it: its TeX as written, not KaTeX's rendering
    titles = page.evaluate(
        """fetch('/api/listing/cs.CV?date=2026-06-02&limit=2000').then(r => r.json())
           .then(j => j.entries.map(e => e.paper.title))"""
    )
    shown = page.eval_on_selector_all("details.index a.i-title", "as => as.map(a => a.textContent)")
    assert shown == titles


def test_search_box_shows_its_whole_placeholder_at_1366(new_page: Any) -> None:
    page = new_page(width=1366, height=768)
    for url in ("/", LONG_DAY):
        page.goto(url)
        room, needed = page.evaluate(
            """() => {
              const input = document.querySelector('header .top-search input');
              const st = getComputedStyle(input);
              const ctx = document.createElement('canvas').getContext('2d');
              ctx.font = st.font;
              const pad = parseFloat(st.paddingLeft) + parseFloat(st.paddingRight);
              const room = input.clientWidth - pad;
              return [room, ctx.measureText(input.placeholder).width];
            }"""
        )
        assert needed <= room, f"{url}: the placeholder needs {needed:.0f} px, has {room:.0f}"
        # and the header stays one line: brand, tagline and branches side by side with the
        # box, none of them broken over two lines to make room for it
        lines = page.eval_on_selector_all(
            "header.top > .brand, header.top > .tagline, header.top > nav.branches",
            """es => es.map(e => e.getBoundingClientRect().height
                                / parseFloat(getComputedStyle(e).lineHeight))""",
        )
        assert len(lines) == 3 and max(lines) < 1.5, lines
        tops = page.eval_on_selector_all(
            "header.top > *", "es => es.map(e => Math.round(e.getBoundingClientRect().top))"
        )
        assert max(tops) - min(tops) < 16, tops


def test_skip_link_comes_first_and_shows_when_focused(new_page: Any) -> None:
    page = new_page()
    page.goto(LONG_DAY)
    page.wait_for_selector("#reader-bar")
    link = page.locator("a.skip-link")
    assert link.bounding_box()["y"] < 0  # off screen until a keyboard reaches it
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    box = link.bounding_box()
    assert box["y"] >= 0 and box["height"] > 10
    page.keyboard.press("Enter")
    page.wait_for_function("location.hash === '#main'")
    # the next Tab goes on inside the page, past the header's links and search box
    page.keyboard.press("Tab")
    assert page.evaluate("!!document.activeElement.closest('main')")
    assert page.locator("h1").count() == 1


def test_api_docs_work_offline(new_page: Any) -> None:
    page = new_page()
    failed: list[str] = []
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.goto("/api/docs")
    op = page.locator(".opblock-summary-path[data-path='/api/search']")
    op.wait_for()
    op.click()
    page.wait_for_selector("tr[data-param-name='query']")
    for name in ("sort", "mode", "page"):
        assert page.locator(f"tr[data-param-name='{name}']").count() == 1, name
    assert not failed, failed


def test_favicon_is_an_image_the_browser_draws(new_page: Any) -> None:
    page = new_page()
    page.goto("/")
    size = page.evaluate(
        """async () => {
          const img = new Image();
          img.src = document.querySelector("link[rel='icon']").href;
          await img.decode();
          return [img.naturalWidth, img.naturalHeight];
        }"""
    )
    assert size[0] > 0 and size[1] > 0  # /favicon.ico: tests/test_web_rough.py


def test_links_in_an_abstract_keep_its_math(new_page: Any) -> None:
    page = new_page()
    page.goto("/arxiv/2606.05008")  # M$^3$Eval, "... available at https://pku-value-lab..."
    page.wait_for_selector("p.summary span.math .katex")
    link = page.locator("p.summary a.autolink")
    assert link.get_attribute("href") == "https://pku-value-lab.github.io/m3eval-homepage"
    assert link.get_attribute("rel") == "nofollow noopener"
    assert page.locator("p.summary span.math[data-done='1']").count() >= 1
