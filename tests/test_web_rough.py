"""What a new reader hits in the first hour (issue 14): the demo's examples answer, unknown
paths get the site's 404 page, feeds are dated, /api/docs works offline, cards say things in
words (the announcement day, "Replaced", links in comments and abstracts), every page has an
h1 and a skip link. The browser side (the index following progressive loading, the search box
at 1366 px, Swagger UI rendering) is in tests/e2e/test_rough_e2e.py."""

from __future__ import annotations

import gzip
import json
import re
import time
from collections.abc import Iterator
from datetime import date, datetime

import pytest
from fastapi.testclient import TestClient
from lxml import etree, html

from coolpapers.config import Settings
from coolpapers.records import Announcement, Batch, Kind, Paper
from coolpapers.search.indexer import catch_up
from coolpapers.sources.arxiv.files import import_files
from coolpapers.sources.formats import VenueReport, import_venue, venue_format
from coolpapers.store import Store
from coolpapers.web import render, views
from coolpapers.web.app import create_app
from tests.conftest import ROOT, SAMPLE
from tests.test_web import cls

ATOM = "{http://www.w3.org/2005/Atom}"
README = ROOT / "README.md"


# ---- the demo: the whole shipped sample, as `coolpapers demo` loads it ----------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The demo's store (every sample day and venue file) behind the app, fetching off."""
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}")
    import_files(store, sorted(SAMPLE.glob("*.jsonl.gz")))
    report = VenueReport()
    for f in sorted((SAMPLE / "venues").iterdir()):
        found = venue_format(f)
        if found is not None:
            import_venue(store, f, found[1], report)
    settings = Settings(
        database_url="sqlite://", fetch_on_demand=False, page_size=20, search_semantic=False
    )
    yield TestClient(create_app(settings, store))
    store.engine.dispose()


def doc(client: TestClient, url: str, status: int = 200) -> html.HtmlElement:
    r = client.get(url)
    assert r.status_code == status, (url, r.status_code, r.text[:300])
    return html.fromstring(r.text)


def _readme_examples() -> list[str]:
    """The README's demo examples: the links of "What the demo has" (to the demo's address)
    and the paths of the papers-by-id row of "Using it"."""
    text = README.read_text()
    links = re.findall(r"\(http://127\.0\.0\.1:8000(/[^)\s]*)\)", text)
    (row,) = [
        line
        for line in text.splitlines()
        if line.startswith("| `/arxiv/") and "| papers by id" in line
    ]
    paths = re.findall(r"`(/arxiv/[^`<>]+)`", row.split(" | ")[0])
    return links + paths


def test_readme_examples_are_in_the_demo(demo: TestClient) -> None:
    examples = _readme_examples()
    assert len(examples) >= 6
    for url in examples:
        r = demo.get(url)  # /arxiv/arXiv:<id> is a redirect to the bare id: followed
        assert r.status_code == 200, (url, r.status_code)
        if "," not in url and re.search(r"\d{4}\.\d{4,5}", url):
            cards = html.fromstring(r.text).xpath(f"//div[{cls('paper')}]")
            assert len(cards) == 1, url


def test_readme_names_the_categories_the_sample_covers() -> None:
    """The categories the README says are whole are those whose daily lists the sample holds:
    only their own list can bring a paper listed in them alone, and every record is in one."""
    records = []
    for f in sorted(SAMPLE.glob("*.jsonl.gz")):
        with gzip.open(f) as lines:
            records += [json.loads(line) for line in lines]
    alone = {r["categories"][0] for r in records if len(r["categories"]) == 1}
    assert all(set(r["categories"]) & alone for r in records)
    text = README.read_text()
    (said,) = re.findall(r"only of \*\*([^*]+)\*\*", text)
    named = set(re.findall(r"[a-z-]+\.[A-Z]{2}", said))
    assert named == alone
    assert "cs.LG" not in alone and "cs.LG shows" in text


def test_404_page_offers_examples_this_instance_has(demo: TestClient) -> None:
    page = doc(demo, "/arxiv/2309.16354", 404)  # the README's old example: not in the demo
    box = page.xpath(f"//div[{cls('error')}]")[0]
    examples = [a.get("href") for a in box.xpath(".//a") if a.get("href").startswith("/")]
    papers = box.xpath(f".//a[{cls('example-paper')}]")
    assert papers, "no paper offered as an example"
    assert any("?date=" in e for e in examples) and any(e.startswith("/venue/") for e in examples)
    for href in examples:
        r = demo.get(href)
        assert r.status_code == 200, href
        if "?date=" in href:  # a day with an announcement, not "no announcement that day"
            assert "Total: 0" not in r.text, href
    text = box.text_content()
    assert "9901001" not in text and "1406.2661" not in text and "2025-03-18" not in text


# ---- unknown paths, /arxiv, the favicon --------------------------------------------------------


@pytest.mark.parametrize("url", ["/foo", "/foo/bar?x=1", "/arxivx", "/papers", "/venuex/1"])
def test_unknown_paths_get_the_sites_404_page(demo: TestClient, url: str) -> None:
    r = demo.get(url)
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    page = html.fromstring(r.text)
    assert page.xpath("//h1")[0].text_content() == "Not found"
    assert page.xpath("//form[@role='search']")  # the header, with its search box
    assert page.xpath(f"//a[{cls('example-paper')}]")


def test_api_paths_keep_json_404(demo: TestClient) -> None:
    for url in ("/api/foo", "/api/papers/2309.16354"):
        r = demo.get(url)
        assert r.status_code == 404 and r.headers["content-type"] == "application/json"
        assert "detail" in r.json()


def test_arxiv_alone_is_the_home_page(demo: TestClient) -> None:
    for url in ("/arxiv", "/arxiv/"):
        r = demo.get(url, follow_redirects=False)
        assert r.status_code == 301 and r.headers["location"] == "/", url


def test_favicon(demo: TestClient) -> None:
    href = doc(demo, "/").xpath("//head/link[@rel='icon']")[0].get("href")
    for url in (href, "/favicon.ico"):
        r = demo.get(url)
        assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
        assert etree.fromstring(r.content).tag == "{http://www.w3.org/2000/svg}svg"


# ---- feeds of ids and of related papers: dated by the papers -----------------------------------

THU = date(2026, 6, 4)
WINTER = date(2026, 1, 15)  # New York on standard time: arXiv's 20:00 is 01:00 UTC


@pytest.fixture
def client(store: Store) -> TestClient:
    def paper(pid: str, title: str, **kw: object) -> Paper:
        return Paper(pid, title, "Transformers for parsing.", ["A. Author"], ["cs.CL"], **kw)  # type: ignore[arg-type]

    store.write(
        Batch(
            papers=[
                paper("2606.00101", "Parsing with transformers"),
                paper("2601.00102", "Transformers for parsing, in winter"),
                paper(
                    "2606.00103",
                    "Parsing transformers, dated",
                    published=datetime(2026, 6, 2, 17, 59, 42),
                    updated=datetime(2026, 6, 3, 8, 0, 1),
                ),
            ],
            announcements=[
                Announcement(THU, "cs.CL", "2606.00101", Kind.NEW),
                Announcement(WINTER, "cs.CL", "2601.00102", Kind.NEW),
                Announcement(THU, "cs.CL", "2606.00103", Kind.NEW),
            ],
        )
    )
    # semantic search on: related papers are semantic neighbours (with keywords)
    settings = Settings(database_url="sqlite://", fetch_on_demand=False)
    return TestClient(create_app(settings, store))


def _entries(client: TestClient, url: str) -> tuple[etree._Element, dict[str, etree._Element]]:
    r = client.get(url)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/atom+xml")
    feed = etree.fromstring(r.content)
    by_id = {e.findtext(f"{ATOM}id").rsplit("/", 1)[1]: e for e in feed.iter(f"{ATOM}entry")}
    return feed, by_id


def test_feed_of_ids_dates_entries_by_the_papers(client: TestClient) -> None:
    feed, got = _entries(client, "/arxiv/2606.00101,2601.00102,2606.00103/feed")
    when = {
        i: (e.findtext(f"{ATOM}updated"), e.findtext(f"{ATOM}published")) for i, e in got.items()
    }
    assert when == {
        # no time from the source: when arXiv announced its first listing here
        "2606.00101": ("2026-06-04T00:00:00Z", "2026-06-04T00:00:00Z"),
        "2601.00102": ("2026-01-15T01:00:00Z", "2026-01-15T01:00:00Z"),
        # the source's own times
        "2606.00103": ("2026-06-03T08:00:01Z", "2026-06-02T17:59:42Z"),
    }
    assert feed.findtext(f"{ATOM}updated") == "2026-06-04T00:00:00Z"  # the newest entry
    assert "1970" not in etree.tostring(feed).decode()


def test_related_feed_dates_entries_by_the_papers(client: TestClient, store: Store) -> None:
    catch_up(store)
    _, got = _entries(client, "/arxiv/related/2606.00103/feed")
    assert set(got) == {"2606.00101", "2601.00102"}
    assert got["2606.00101"].findtext(f"{ATOM}updated") == "2026-06-04T00:00:00Z"
    assert got["2601.00102"].findtext(f"{ATOM}updated") == "2026-01-15T01:00:00Z"


def test_announcement_times_follow_new_york() -> None:
    assert views.announced_at(THU) == datetime(2026, 6, 4, 0, 0)  # 20:00 EDT the day before
    assert views.announced_at(WINTER) == datetime(2026, 1, 15, 1, 0)  # 20:00 EST
    assert views.announced_at(WINTER, "acl") == datetime(2026, 1, 15)  # no hour: midnight


# ---- the JSON API's documentation -------------------------------------------------------------


def test_api_docs_load_nothing_from_elsewhere(demo: TestClient) -> None:
    page = doc(demo, "/api/docs")
    urls = page.xpath("//script/@src | //link/@href")
    assert len(urls) >= 3
    for url in urls:
        assert url.startswith("/"), f"{url}: from outside the site"
        r = demo.get(url)
        assert r.status_code == 200 and len(r.content) > 300, url
    assert "cdn" not in html.tostring(page).decode().lower()


def test_openapi_describes_the_search_apis_parameters(demo: TestClient) -> None:
    op = demo.get("/openapi.json").json()["paths"]["/api/search"]["get"]
    names = {p["name"] for p in op["parameters"]}
    assert {"query", "q", "sort", "mode", "page", "show", "from", "to", "branch"} <= names
    # read leniently, as before: odd values are answered, never a 422
    r = demo.get("/api/search?query=model&page=abc&show=-5&sort=zzz&mode=nope&from=x")
    assert r.status_code == 200 and r.json()["page"] == 1


# ---- cards ----------------------------------------------------------------------------------


def _shown_text(el: html.HtmlElement) -> str:
    """The text a reader sees: without elements marked hidden."""
    copy = html.fromstring(html.tostring(el))
    for h in copy.xpath(".//*[@hidden]"):
        h.drop_tree()
    return " ".join(copy.text_content().split())


def test_announced_day_without_a_made_up_time(demo: TestClient) -> None:
    page = doc(demo, "/arxiv/cs.CL?date=2026-06-04")
    card = page.xpath(f"//div[{cls('paper')}]")[0]
    (p_date,) = card.xpath(f".//p[{cls('date')}]")
    assert _shown_text(p_date) == "Announced: 2026-06-04"
    # papers.cool's clients still read their "YYYY-MM-DD HH:MM:SS UTC" (tests/test_web_clients)
    (data,) = p_date.xpath(f".//span[{cls('date-data')}]")
    assert data.text_content() == "2026-06-04 00:00:00 UTC"


def test_replaced_cards_say_it_in_words(demo: TestClient) -> None:
    page = doc(demo, "/arxiv/cs.CL?date=2026-06-03&show=all")
    replaced = page.xpath(f"//div[{cls('paper')}][starts-with(@data-kind, 'replace')]")
    assert replaced
    for card in replaced:
        (kind,) = card.xpath(f".//span[{cls('kind')}]")
        primary = card.xpath(f".//p[{cls('subjects')}]/a")[0].get("data-cat")
        want = (
            "Replaced"
            if card.get("data-kind") == "replace"
            else (f"Replaced (cross-list from {primary})")
        )
        assert kind.text_content() == want
        assert "replace" not in _shown_text(card.xpath(f".//p[{cls('versions')}]")[0])


def test_urls_in_comments_are_links(demo: TestClient) -> None:
    page = doc(demo, "/arxiv/2606.04092")  # "Project page: https://www.malnick.net/..."
    (a,) = page.xpath(f"//p[{cls('comments')}]/a")
    assert a.get("href") == "https://www.malnick.net/designing_ot_flows"
    assert a.text_content() == a.get("href") and a.get("rel") == "nofollow noopener"


@pytest.mark.parametrize(
    ("text", "links"),
    [
        ("Code: https://github.com/a/b.", ["https://github.com/a/b"]),
        ("(see https://x.org/a_(b)).", ["https://x.org/a_(b)"]),
        ("at http://example.org/?a=1&b=2, then", ["http://example.org/?a=1&b=2"]),
        ("javascript:alert(1) data:text/html,x ftp://x.org/ http:// https://[", []),
        ('https://x.org/"onmouseover="alert(1)', ["https://x.org/"]),
        ("https://x.org/<script>alert(1)</script>", ["https://x.org/"]),
        ("$f(x) = https://a.b$ and https://c.d/e", ["https://c.d/e"]),
    ],
)
def test_linked_makes_only_http_links_and_escapes(text: str, links: list[str]) -> None:
    out = render.linked(text)
    frag = html.fragment_fromstring(f"<p>{out}</p>")
    anchors = frag.xpath(".//a")
    assert [a.get("href") for a in anchors] == links
    assert all(a.get("rel") == "nofollow noopener" for a in anchors)
    assert all(set(a.attrib) == {"class", "href", "rel"} for a in anchors)  # no handler slips in
    assert frag.text_content() == text  # nothing lost, nothing added
    assert "<script" not in str(out)
    for math in frag.xpath(f".//span[{cls('math')}]"):  # math is left to KaTeX, unlinked
        assert not math.xpath(".//a")


def test_abstract_paragraphs_link_urls_and_keep_math() -> None:
    out = str(render.paragraphs("We use $x^2$ at https://x.org/p.\n\nMore at https://y.org"))
    frag = html.fragment_fromstring(f"<p>{out}</p>")
    assert [a.get("href") for a in frag.xpath(".//a")] == ["https://x.org/p", "https://y.org"]
    assert frag.xpath(f".//span[{cls('math')}]")[0].text_content() == "$x^2$"
    assert str(render.tex("title https://x.org")) == "title https://x.org"  # titles: no links


@pytest.mark.parametrize(
    "text",
    [
        "https://x.org/" + ")" * 100_000,
        "https://x.org/" + "(" * 100_000,
        "https://" * 20_000,
        "http" * 50_000,
        "https://x.org/" + "." * 100_000 + "a",
        "https://x.org/a " * 10_000,
    ],
)
def test_linking_is_linear(text: str) -> None:
    t0 = time.perf_counter()
    render.linked(text)
    render.paragraphs(text)
    assert time.perf_counter() - t0 < 2.0


# ---- every page: one h1, a skip link ----------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/", 200),
        ("/arxiv/cs.CL", 200),
        ("/arxiv/2606.05168", 200),
        ("/arxiv/2606.05168,2606.05358", 200),
        ("/arxiv/related/2606.05168", 200),
        ("/venue", 200),
        ("/nowhere", 404),
        ("/arxiv/2309.16354", 404),
    ],
)
def test_every_page_has_an_h1_and_a_skip_link(demo: TestClient, url: str, status: int) -> None:
    page = doc(demo, url, status)
    h1s = page.xpath("//h1")
    assert len(h1s) == 1 and h1s[0].text_content().strip(), url
    first = page.xpath("//body//a | //body//button | //body//input")[0]
    assert first.get("href") == "#main" and "skip" in first.text_content().lower()
    assert page.xpath("//main[@id='main']")
