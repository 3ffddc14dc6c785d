"""The extension loaded unpacked into Debian's Chromium (new headless mode, the only headless
mode that loads extensions): its options page sets the instance URL; on an arXiv abs page its
injected link, and its service worker's menu action, open the same paper on our server; on
venue paper pages (OpenReview, PMLR, CVF, IJCAI) they point at the paper's /venue page, with
the arXiv target as its `else`.

arxiv.org and the venue sites are not reachable from the tests: their pages are answered by
the test itself (minimal pages), which is all the extension reads (the URL, the page's links
and its citation title)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.conftest import ROOT
from tests.e2e.conftest import ARGS, CHROMIUM

pytestmark = pytest.mark.e2e
EXT = ROOT / "extension"
# a one-page PDF, for a PDF tab (Chromium's viewer shows it; no content script runs there)
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


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

        def fake_venue(route: Any) -> None:
            # PMLR: citation title and arXiv link; CVF: only a document title; IJCAI: neither
            url = route.request.url
            if url.endswith(".pdf"):  # a PDF: Chromium's viewer, no DOM of the paper's
                route.fulfill(content_type="application/pdf", body=PDF)
                return
            head, body = "<title></title>", ""
            if "mlr.press" in url:
                head = '<meta name="citation_title" content="Sparse Sums">'
                body = '<a href="https://arxiv.org/abs/2502.01234v2">arXiv</a>'
            elif "thecvf.com" in url:
                head = "<title>360PanT: Panorama Translation &amp; More</title>"
            route.fulfill(
                content_type="text/html",
                body=f"<html><head>{head}</head><body><h1>P</h1>{body}</body></html>",
            )

        ctx.route(re.compile(r"^https://arxiv\.org/.*"), fake_arxiv)
        ctx.route(re.compile(r"^https://openreview\.net/.*"), fake_openreview)
        venues = r"proceedings\.mlr\.press|openaccess\.thecvf\.com|www\.ijcai\.org"
        ctx.route(re.compile(rf"^https://({venues})/.*"), fake_venue)
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

    # Venue papers: their /venue page, falling back (?else=, a path here) to what opened
    # before: the arXiv link on the page, else a search for its title, else nothing
    def injected(url: str) -> str:
        page.goto(url)
        return page.wait_for_selector("#coolpapers-open").get_attribute("href")

    assert injected("https://openreview.net/forum?id=linked") == (
        f"{server}/venue/linked@OpenReview?else=%2Farxiv%2F1710.10903"
    )
    assert injected("https://openreview.net/forum?id=unlinked") == (
        f"{server}/venue/unlinked@OpenReview?else="
        + quote("/arxiv/search?query=Graph%20Attention%20Networks", safe="")
    )
    assert injected("https://proceedings.mlr.press/v336/aamand26a.html") == (
        f"{server}/venue/aamand26a@v336@PMLR?else=%2Farxiv%2F2502.01234"
    )
    cvf = "Wang_360PanT_WACV_2025_paper"
    assert injected(f"https://openaccess.thecvf.com/content/WACV2025/html/{cvf}.html") == (
        f"{server}/venue/{cvf}@CVF?else="
        + quote("/arxiv/search?query=360PanT%3A%20Panorama%20Translation%20%26%20More", safe="")
    )
    ijcai = "https://www.ijcai.org/proceedings/2024/176"
    assert injected(ijcai) == f"{server}/venue/176@2024@IJCAI"

    def menu(tab_url: str, info: dict[str, str]) -> str:
        """What the menu (info: what was clicked) or the toolbar button ({}) opens in a new tab,
        on the tab at tab_url."""
        with ctx.expect_page() as new:
            target = sw.evaluate(
                """async ([url, info]) => {
                  const [tab] = await chrome.tabs.query({ url });
                  return coolpapersOpen(info, tab);
                }""",
                [tab_url, info],
            )
        new.value.wait_for_load_state()
        assert new.value.url.startswith(server)
        new.value.close()
        return str(target)

    pmlr_pdf = "https://proceedings.mlr.press/v336/aamand26a/aamand26a.pdf"
    venue_target = f"{server}/venue/aamand26a@v336@PMLR?else=%2Farxiv%2F2502.01234"
    # a proceedings volume is no paper page: no link there; the menu on a link to one of its
    # papers opens that paper (its landing page read by the service worker)
    page.goto("https://proceedings.mlr.press/v336/")
    page.wait_for_load_state("load")
    page.wait_for_timeout(500)
    assert page.locator("#coolpapers-open").count() == 0
    assert menu("https://proceedings.mlr.press/v336/", {"linkUrl": pmlr_pdf}) == venue_target

    # a PDF, whose DOM (Chromium's viewer) says nothing of the paper: the service worker reads
    # its landing page instead (PMLR's PDF -> its .html page), for the injected link and for
    # the toolbar button alike
    pdf = ctx.new_page()
    pdf.goto(pmlr_pdf)
    assert pdf.wait_for_selector("#coolpapers-open").get_attribute("href") == venue_target
    assert menu(pmlr_pdf, {}) == venue_target
