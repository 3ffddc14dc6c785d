"""The extension loaded unpacked into Debian's Chromium (new headless mode, the only headless
mode that loads extensions): its options page sets the instance URL; on an arXiv abs page its
injected link, and its service worker's menu action, open the same paper on our server.

arxiv.org is not reachable from the tests: its page is answered by the test itself (a minimal
abs page), which is all the content script reads (the URL and the page's links)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.e2e.conftest import ARGS, CHROMIUM

pytestmark = pytest.mark.e2e
EXT = ROOT / "extension"


@pytest.fixture
def ext_context(server: str, tmp_path: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            headless=False,  # the flag below asks for the new headless mode explicitly
            args=[
                *ARGS,
                "--headless=new",
                f"--disable-extensions-except={EXT}",
                f"--load-extension={EXT}",
            ],
        )

        def fake_arxiv(route: Any) -> None:
            route.fulfill(
                content_type="text/html",
                body="<html><head><title>arXiv abs</title></head><body><h1>A</h1></body></html>",
            )

        def fake_openreview(route: Any) -> None:
            # a forum page linking to its arXiv version, and one that does not
            linked = "id=linked" in route.request.url
            link = '<a href="https://arxiv.org/abs/1710.10903v3">arXiv</a>' if linked else ""
            route.fulfill(
                content_type="text/html",
                body='<html><head><meta name="citation_title" content="Graph Attention Networks">'
                f"</head><body>{link}</body></html>",
            )

        ctx.route(re.compile(r"^https://arxiv\.org/.*"), fake_arxiv)
        ctx.route(re.compile(r"^https://openreview\.net/.*"), fake_openreview)
        try:
            yield ctx
        finally:
            ctx.close()


def test_extension_opens_the_paper_on_the_instance(ext_context: Any, server: str) -> None:
    ctx = ext_context
    sw = ctx.service_workers[0] if ctx.service_workers else ctx.wait_for_event("serviceworker")
    ext_id = sw.url.split("/")[2]
    # the options page: point the extension at this test server
    opts = ctx.new_page()
    opts.goto(f"chrome-extension://{ext_id}/options.html")
    # the default, filled in once chrome.storage answers (asynchronously: wait for it, so
    # that the value typed below is not overwritten by that late answer)
    from playwright.sync_api import expect

    expect(opts.locator("#base")).to_have_value("http://127.0.0.1:8000")
    opts.fill("#base", server + "/")
    opts.click("button[type=submit]")
    opts.wait_for_selector("#status:has-text('Saved')")
    # a paper we have: the first of a listing on our server
    opts.goto(server + "/arxiv/cs.CL?date=2026-06-05")
    pid = opts.eval_on_selector("div.paper", "c => c.id")

    page = ctx.new_page()
    page.goto(f"https://arxiv.org/abs/{pid}v1")
    link = page.wait_for_selector("#coolpapers-open")
    assert link.get_attribute("href") == f"{server}/arxiv/{pid}"
    link.click()
    page.wait_for_url(f"{server}/arxiv/{pid}")
    assert page.eval_on_selector_all("div.paper", "cs => cs.map(c => c.id)") == [pid]

    # the context-menu action (a menu cannot be clicked headless: call what it calls)
    with ctx.expect_page() as new:
        target = sw.evaluate(
            "text => coolpapersOpen({ selectionText: text })", f"compare {pid}v2 with 1706.03762"
        )
    assert target == f"{server}/arxiv/{pid},1706.03762"
    new.value.wait_for_load_state()
    assert new.value.url == target
    assert new.value.locator(f"div.paper[id='{pid}']").count() == 1
    words = sw.evaluate("text => coolpapersOpen({ selectionText: text })", "linear attention")
    assert words == f"{server}/arxiv/search?query=linear%20attention"

    # OpenReview: the arXiv link on the page, else a search for the page's citation title
    page.goto("https://openreview.net/forum?id=linked")
    href = page.wait_for_selector("#coolpapers-open").get_attribute("href")
    assert href == f"{server}/arxiv/1710.10903"
    page.goto("https://openreview.net/forum?id=unlinked")
    href = page.wait_for_selector("#coolpapers-open").get_attribute("href")
    assert href == f"{server}/arxiv/search?query=Graph%20Attention%20Networks"
