"""Existing papers.cool clients against our pages, on both backends and the shipped sample.

Each check reads the page the way the real client does, with its selectors and regexes quoted
(translated to XPath: lxml has no CSS selectors here) and a comment saying where they are from:
- the Zotero translator "Cool Papers" by Jianlin Su: github.com/bojone/papers.cool,
  Zotero/CoolPapers.js;
- RSSHub's papers.cool route: github.com/DIYgod/RSSHub, lib/routes/papers/category.ts.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lxml import html

from coolpapers.config import Settings
from coolpapers.records import Announcement, Batch, Kind, Paper
from coolpapers.sources.arxiv import taxonomy
from coolpapers.sources.arxiv.files import import_files
from coolpapers.store import Store
from coolpapers.web.app import create_app
from tests.conftest import SAMPLE
from tests.test_web import cls

DAY = date(2026, 6, 4)
# RSSHub category.ts: the date is the last node of p.date, matched by this
RSSHUB_DATE = re.compile(r"(\d{4}-\d{2}-\d{2}\s\d{2}:\d{2}:\d{2})")
# RSSHub category.ts: $enclosureEl.attr('onclick')?.match(/togglePdf\('.*?',\s'(.*?)',\sthis\)/)
RSSHUB_PDF = re.compile(r"togglePdf\('.*?',\s'(.*?)',\sthis\)")


@pytest.fixture
def client(store: Store) -> TestClient:
    import_files(store, [SAMPLE / f"{DAY}.jsonl.gz"])
    settings = Settings(database_url="sqlite://", fetch_on_demand=False, page_size=20)
    return TestClient(create_app(settings, store))


def doc_of(client: TestClient, url: str) -> html.HtmlElement:
    r = client.get(url)
    assert r.status_code == 200, (url, r.text[:300])
    return html.fromstring(r.text)


def zotero_items(doc: html.HtmlElement) -> dict[str, str]:
    """CoolPapers.js doWeb: doc.querySelectorAll("div.items > p"), minus those hidden by an
    inline style (e.style.display !== "none"); items[p.querySelector(".i-title").href] = text."""
    ps = [
        p
        for p in doc.xpath(f"//div[{cls('items')}]/p")
        if "display:none" not in (p.get("style") or "").replace(" ", "")
    ]
    return {p.xpath(f".//*[{cls('i-title')}]")[0].get("href"): p.text_content().strip() for p in ps}


def zotero_item(doc: html.HtmlElement, url: str) -> dict[str, str | list[str]]:
    """CoolPapers.js's callback for one selected url ("#<id>"), field by field."""
    paper = doc.get_element_by_id(url[1:])  # doc.getElementById(url.slice(1))
    assert doc.body.get("id") == "arxiv"  # doc.body.id == "arxiv" -> a preprint
    subject = paper.xpath(f".//p[{cls('subjects')}]//a")[0]  # "p.subjects a"
    (date_data,) = paper.xpath(f".//span[{cls('date-data')}]")  # "span.date-data"
    return {
        "title": paper.xpath(f".//*[{cls('title-link')}]")[0].text_content().strip(),
        "authors": [a.text_content() for a in paper.xpath(f".//*[{cls('author')}]")],
        "abstract": paper.xpath(f".//p[{cls('summary')}]")[0].text_content().strip(),
        "pdf": paper.xpath(f".//*[{cls('title-pdf')}]")[0].get("data"),
        "extra": subject.get("href").split("/")[-1] + " - arXiv",
        "date": date_data.text_content(),
    }


def test_zotero_translator_finds_and_reads_every_paper(client: TestClient, store: Store) -> None:
    doc = doc_of(client, "/arxiv/cs.CL?show=all")
    listed = store.listing(["cs.CL"], [], DAY)
    items = zotero_items(doc)  # detectWeb: "multiple" when there is any
    assert list(items) == [f"#{it.paper.id}" for it in listed]
    index = doc.xpath(f"//div[{cls('items')}]")[0]
    assert index.getparent().tag == "details"  # folded: present for clients, small on screen
    for it in listed:
        p = it.paper
        got = zotero_item(doc, f"#{p.id}")
        assert items[f"#{p.id}"] == p.title
        assert got["title"] == doc.get_element_by_id(f"title-{p.id}").text_content().strip()
        assert got["authors"] == p.authors
        assert got["pdf"] == f"https://arxiv.org/pdf/{p.id}" + (
            f"v{p.version}" if p.version else ""
        )
        assert taxonomy.known(str(got["extra"]).removesuffix(" - arXiv"))
        # the sample's daily files carry no submission time: the announcement day, as a date
        # that ZU.strToISO reads (its leading YYYY-MM-DD)
        assert p.published is None
        assert got["date"] == f"{DAY} 00:00:00 UTC"


def test_zotero_index_lists_only_the_cards_on_the_page(client: TestClient) -> None:
    doc = doc_of(client, "/arxiv/cs.CL")  # the first 20; the rest load as the reader scrolls
    items = zotero_items(doc)
    cards = [c.get("id") for c in doc.xpath(f"//div[{cls('papers')}]/div[{cls('paper')}]")]
    assert len(cards) == 20 and list(items) == [f"#{c}" for c in cards]
    for url in items:  # every item the translator offers has its card: none would crash it
        assert zotero_item(doc, url)["title"]


def rsshub_items(doc: html.HtmlElement) -> list[dict[str, str | None]]:
    """category.ts, item by item ("div.paper")."""
    out: list[dict[str, str | None]] = []
    for el in doc.xpath(f"//div[{cls('paper')}]"):
        (date_p,) = el.xpath(f".//p[{cls('date')}]")
        # $el.find('p.date').contents().last().text()?.trim()?.match(...): the last child node,
        # text included (a trailing newline would be that node, and match nothing)
        last = (date_p[-1].tail or date_p[-1].text_content()) if len(date_p) else date_p.text
        m = RSSHUB_DATE.search((last or "").strip())
        onclick = el.xpath(f".//a[{cls('title-pdf')}]")[0].get("onclick") or ""
        pdf = RSSHUB_PDF.search(onclick)
        out.append(
            {
                "id": el.get("id"),
                "title": el.xpath(f".//a[{cls('title-link')}]")[0].text_content(),
                "link": el.xpath(f".//a[{cls('title-link')}]")[0].get("href"),
                "date": m.group(1) if m else None,
                "pdf": pdf.group(1) if pdf else None,
                # "p.authors a.author"
                "authors": ", ".join(
                    a.text_content()
                    for a in el.xpath(f".//p[{cls('authors')}]//a[{cls('author')}]")
                ),
            }
        )
    return out


def test_rsshub_route_reads_dates_and_pdfs(client: TestClient, store: Store) -> None:
    listed = {it.paper.id: it.paper for it in store.listing(["cs.CL"], [], DAY)}
    items = rsshub_items(doc_of(client, "/arxiv/cs.CL?show=all"))
    assert [i["id"] for i in items] == list(listed)
    for i in items:
        p = listed[str(i["id"])]
        assert i["link"] == f"/arxiv/{p.id}" and i["title"]
        assert i["authors"] == ", ".join(p.authors)
        assert i["pdf"] == f"https://arxiv.org/pdf/{p.id}" + (f"v{p.version}" if p.version else "")
        assert i["date"] == f"{DAY} 00:00:00"


def test_publish_time_when_known(store: Store) -> None:
    published = datetime(2026, 6, 2, 17, 59, 42, tzinfo=UTC)
    store.write(
        Batch(
            papers=[
                Paper(
                    "2606.09001",
                    "Timed",
                    "A paper with versions.",
                    ["A. Author"],
                    ["cs.CL"],
                    version=2,
                    published=published,
                    updated=datetime(2026, 6, 3, 8, 0, tzinfo=UTC),
                )
            ],
            announcements=[Announcement(DAY, "cs.CL", "2606.09001", Kind.REPLACE)],
        )
    )
    c = TestClient(create_app(Settings(database_url="sqlite://", fetch_on_demand=False), store))
    for url in ("/arxiv/cs.CL", "/arxiv/2606.09001"):
        doc = doc_of(c, url)
        [item] = rsshub_items(doc)
        assert item["date"] == "2026-06-02 17:59:42" and item["pdf"].endswith("/2606.09001v2")
        assert zotero_item(doc, "#2606.09001")["date"] == "2026-06-02 17:59:42 UTC"
        # reader.js sorts by the first "p.date time": the publish time, not the update
        (time,) = doc.xpath(f"//p[{cls('date')}]//time")
        assert time.get("datetime") == "2026-06-02T17:59:42Z"
        more = doc.xpath(f"//p[{cls('versions')}]")[0].text_content()
        assert "Updated" in more and "v2" in more


def test_inline_head_script_sets_theme_and_pdf_hook(client: TestClient) -> None:
    doc = doc_of(client, "/arxiv/cs.CL")
    head_scripts = doc.xpath("//head/script")
    inline = head_scripts[0]
    # before every deferred script, so it runs before the first paint
    assert inline.get("src") is None and inline.get("defer") is None
    reader = (Path(__file__).parents[1] / "src/coolpapers/web/static/reader.js").read_text()
    key = re.search(r'theme:\s*"([^"]+)"', reader)
    assert key and f'localStorage.getItem("{key.group(1)}")' in inline.text
    assert "documentElement.dataset.theme" in reader and "documentElement.dataset.theme" in (
        inline.text
    )
    # the cards' onclick="togglePdf(...)" (for RSSHub) calls a global that exists: reader.js's
    # own togglePdf is private to it
    assert "window.togglePdf = window.togglePdf || function () {};" in inline.text
