"""The web pages on both backends, on real records from the shipped sample.

Structure checks use papers.cool's selectors, which existing clients (Zotero translator,
RSSHub route, scrapers) depend on.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lxml import etree, html

from coolpapers.config import Settings
from coolpapers.records import Announcement, Batch, Kind, Paper
from coolpapers.sources.arxiv.files import import_files
from coolpapers.store import Store
from coolpapers.web.app import create_app
from tests.conftest import SAMPLE

DAYS = ["2026-06-03", "2026-06-04", "2026-06-05"]
ATOM = "{http://www.w3.org/2005/Atom}"


def cls(name: str) -> str:
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


@pytest.fixture
def client(store: Store) -> TestClient:
    import_files(store, [SAMPLE / f"{d}.jsonl.gz" for d in DAYS])
    settings = Settings(database_url="sqlite://", fetch_on_demand=False, page_size=20)
    return TestClient(create_app(settings, store))


def page(client: TestClient, url: str, status: int = 200) -> html.HtmlElement:
    r = client.get(url)
    assert r.status_code == status, (url, r.status_code, r.text[:300])
    return html.fromstring(r.text)


def test_home_lists_categories_with_names_and_counts(client: TestClient, store: Store) -> None:
    doc = page(client, "/")
    cl = doc.xpath("//li[@data-cat='cs.CL']")[0]
    assert "Computation and Language" in cl.text_content()
    count = int(cl.xpath(f".//span[{cls('count')}]")[0].text)
    assert count == store.category_counts()["cs.CL"] > 0
    # aliases are merged: one entry for math.NA, none for cs.NA
    assert doc.xpath("//li[@data-cat='math.NA']") and not doc.xpath("//li[@data-cat='cs.NA']")
    assert doc.xpath("//li[@data-cat='cs.LG']")[0].text_content().count("Machine Learning") == 1
    # the picker and calendar are there
    assert len(doc.xpath("//button[@data-cat]")) > 100
    assert doc.xpath("//input[@type='date' and @max='2026-06-05']")


def test_listing_groups_numbering_and_total(client: TestClient, store: Store) -> None:
    doc = page(client, "/arxiv/cs.CL?show=all")
    items = store.listing(["cs.CL"], [], date(2026, 6, 5))
    info = doc.xpath(f"//p[{cls('info')}]")[0].text_content()
    assert "2026-06-05" in info and f"Total: {len(items)}" in info
    cards = doc.xpath(f"//div[{cls('papers')}]/div[{cls('paper')}]")
    assert [c.get("id") for c in cards] == [it.paper.id for it in items]
    # numbered 1..N and grouped in arXiv's order, each group labelled
    nums = [c.xpath(f".//a[{cls('index')}]")[0].text for c in cards]
    assert nums == [f"#{i}" for i in range(1, len(cards) + 1)]
    kinds = [c.get("data-kind") for c in cards]
    order = ["new", "cross", "replace", "replace-cross"]
    assert kinds == sorted(kinds, key=order.index) and "new" in kinds and "cross" in kinds
    headers = [h.text for h in doc.xpath("//h3[@class='group']")]
    assert headers[:2] == ["New submissions", "Cross-lists"]
    first = cards[0]
    assert first.xpath(f".//h2[{cls('title')}]/a[{cls('title-link')}]")[0].text_content().strip()
    assert first.xpath(f".//p[{cls('authors')}]/a[{cls('author')}]")
    assert first.xpath(f".//p[{cls('summary')}]")[0].text_content().strip()
    subj = first.xpath(f".//p[{cls('subjects')}]/a")
    assert subj[0].get("data-cat") == items[0].paper.categories[0] == "cs.CL"
    assert first.xpath(f".//p[{cls('date')}]")
    pdf = first.xpath(f".//a[{cls('title-pdf')}]")[0].get("href")
    assert pdf == f"https://arxiv.org/pdf/{items[0].paper.id}"
    assert first.xpath(f".//a[{cls('index')}]")[0].get("href").startswith("https://arxiv.org/abs/")


def test_progressive_rendering(client: TestClient, store: Store) -> None:
    total = len(store.listing(["cs.CV"], [], date(2026, 6, 5)))
    assert total > 40
    doc = page(client, "/arxiv/cs.CV")
    assert len(doc.xpath(f"//div[{cls('paper')}]")) == 20  # page_size
    assert doc.xpath("//a[@class='show-all']")  # works with JavaScript off
    doc = page(client, "/arxiv/cs.CV?show=30")
    assert len(doc.xpath(f"//div[{cls('paper')}]")) == 30
    more = client.get("/arxiv/cs.CV/more?date=2026-06-05&offset=30&limit=10")
    frag = html.fragments_fromstring(more.text)
    cards = [f for f in frag if not isinstance(f, str) and "paper" in (f.get("class") or "")]
    assert len(cards) == 10
    assert cards[0].xpath(f".//a[{cls('index')}]")[0].text == "#31"
    all_ids = [
        c.get("id") for c in page(client, "/arxiv/cs.CV?show=all").xpath(f"//div[{cls('paper')}]")
    ]
    assert [c.get("id") for c in cards] == all_ids[30:40]


def test_days_navigation_and_empty_day(client: TestClient) -> None:
    doc = page(client, "/arxiv/cs.CL?date=2026-06-04")
    assert "2026-06-04" in doc.xpath(f"//p[{cls('info')}]")[0].text_content()
    assert doc.xpath("//a[@rel='prev']")[0].get("href") == "?date=2026-06-03"
    assert doc.xpath("//a[@rel='next']")[0].get("href") == "?date=2026-06-05"
    # a Saturday: no announcement, said so, with the nearest days
    doc = page(client, "/arxiv/cs.CL?date=2026-06-06")
    assert "weekend" in doc.text_content()
    assert doc.xpath("//a[@rel='prev']")[0].get("href") == "?date=2026-06-05"
    assert not doc.xpath(f"//div[{cls('paper')}]")
    page(client, "/arxiv/cs.CL?date=2026-13-01", 404)
    page(client, "/arxiv/cs.CL?date=yesterday", 404)


def test_category_sets_union_and_exclusion(client: TestClient, store: Store) -> None:
    d = date(2026, 6, 5)
    ai = {x.paper.id for x in store.listing(["cs.AI"], [], d)}
    cl = {x.paper.id for x in store.listing(["cs.CL"], [], d)}
    union = {
        c.get("id")
        for c in page(client, "/arxiv/cs.AI,cs.CL?show=all").xpath(f"//div[{cls('paper')}]")
    }
    assert union == ai | cl
    lg = {x.paper.id for x in store.listing(["cs.LG"], [], d)}
    got = {
        c.get("id")
        for c in page(client, "/arxiv/cs.AI+cs.CL-cs.LG?show=all").xpath(f"//div[{cls('paper')}]")
    }
    assert got == (ai | cl) - lg and got


def test_alias_redirects_to_canonical(client: TestClient) -> None:
    r = client.get("/arxiv/cs.NA?date=2026-06-05", follow_redirects=False)
    assert r.status_code == 301 and r.headers["location"] == "/arxiv/math.NA?date=2026-06-05"


def test_papers_by_id(client: TestClient, store: Store) -> None:
    pid = store.listing(["cs.CL"], [], date(2026, 6, 5))[0].paper.id
    doc = page(client, f"/arxiv/{pid}")
    assert [c.get("id") for c in doc.xpath(f"//div[{cls('paper')}]")] == [pid]
    other = store.listing(["cs.CV"], [], date(2026, 6, 4))[0].paper.id
    doc = page(client, f"/arxiv/{pid},{other}")
    assert [c.get("id") for c in doc.xpath(f"//div[{cls('paper')}]")] == [pid, other]
    assert page(client, f"/arxiv/{pid}v1").xpath(f"//div[@id='{pid}']")


def test_id_forms(store: Store) -> None:
    store.write(
        Batch(
            papers=[
                Paper(
                    "1406.2661",
                    "Generative Adversarial Networks",
                    "GANs.",
                    ["I. Goodfellow"],
                    ["stat.ML", "cs.LG"],
                    version=1,
                ),
                Paper(
                    "hep-th/9901001",
                    "An old-style paper",
                    "Strings.",
                    ["A. Author"],
                    ["hep-th"],
                    version=2,
                ),
            ]
        )
    )
    c = TestClient(create_app(Settings(database_url="sqlite://", fetch_on_demand=False), store))
    r = c.get("/arxiv/1406.02661", follow_redirects=False)
    assert r.status_code == 301 and r.headers["location"] == "/arxiv/1406.2661"
    assert page(c, "/arxiv/1406.2661").xpath("//div[@id='1406.2661']")
    doc = page(c, "/arxiv/hep-th/9901001")
    assert doc.xpath("//div[@id='hep-th/9901001']")
    assert doc.xpath("//a[@href='https://arxiv.org/pdf/hep-th/9901001v2']")
    for bad in ["2309.1635", "1513.12345", "cs.XX", "abc"]:
        doc = page(c, f"/arxiv/{bad}", 404)
        assert "not" in doc.text_content().lower()
    page(c, "/arxiv/2401.00001", 404)  # well-formed, unknown, and no fetching here


def test_untrusted_text_is_escaped_and_math_kept(store: Store) -> None:
    store.write(
        Batch(
            papers=[
                Paper(
                    "2401.00002",
                    "<script>alert(1)</script> on $O(n^2)$",
                    'We show <img src=x onerror=alert(1)> that $a<b$ and Schr\\"odinger.',
                    ["Mall<i>ory</i>"],
                    ["cs.CL"],
                )
            ],
            announcements=[Announcement(date(2026, 1, 5), "cs.CL", "2401.00002", Kind.NEW)],
        )
    )
    c = TestClient(create_app(Settings(database_url="sqlite://", fetch_on_demand=False), store))
    r = c.get("/arxiv/cs.CL")
    assert "<script>alert" not in r.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    assert "<img" not in r.text and "<i>ory" not in r.text
    doc = html.fromstring(r.text)
    spans = doc.xpath("//span[contains(@class, 'math')]")
    assert [s.text for s in spans] == ["$O(n^2)$", "$a<b$"]
    assert all(s.get("translate") == "no" and "notranslate" in s.get("class") for s in spans)
    assert "Schrödinger" in doc.xpath(f"//p[{cls('summary')}]")[0].text_content()


def test_atom_feed_is_valid(client: TestClient, store: Store) -> None:
    for url in ["/arxiv/cs.CL/feed", "/arxiv/cs.AI+cs.CL-cs.LG/feed?date=2026-06-04"]:
        r = client.get(url)
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/atom+xml")
        feed = etree.fromstring(r.content)
        assert feed.tag == f"{ATOM}feed"
        for el in ("id", "title", "updated"):
            assert feed.find(f"{ATOM}{el}") is not None and feed.find(f"{ATOM}{el}").text
        assert feed.find(f"{ATOM}link[@rel='self']") is not None
        entries = feed.findall(f"{ATOM}entry")
        assert entries
        for e in entries:
            for el in ("id", "title", "updated"):
                assert (e.findtext(f"{ATOM}{el}") or "").strip(), (url, el)
            assert e.find(f"{ATOM}author/{ATOM}name") is not None
            assert e.find(f"{ATOM}link[@rel='alternate']") is not None
        ids = [e.findtext(f"{ATOM}id") for e in entries]
        assert len(ids) == len(set(ids))
    feed = etree.fromstring(client.get("/arxiv/cs.CL/feed").content)
    n = len(store.listing(["cs.CL"], [], date(2026, 6, 5)))
    assert len(feed.findall(f"{ATOM}entry")) == n


def test_page_cache_follows_new_data(client: TestClient, store: Store) -> None:
    app_site = client.app.state.site  # type: ignore[attr-defined]
    app_site.cache.ttl = 0
    before = page(client, "/arxiv/cs.CL")
    n = len(before.xpath(f"//div[{cls('paper')}]"))
    store.write(
        Batch(
            papers=[Paper("2606.99999", "A late paper", "Text.", ["A. B"], ["cs.CL"])],
            announcements=[Announcement(date(2026, 6, 5), "cs.CL", "2606.99999", Kind.NEW)],
        )
    )
    after = page(client, "/arxiv/cs.CL?show=all")
    assert after.xpath("//div[@id='2606.99999']") and n >= 1


def test_static_katex_is_served(client: TestClient) -> None:
    r = client.get("/static/vendor/katex/katex.min.js")
    assert r.status_code == 200 and "katex" in r.text[:2000].lower()
    assert client.get("/static/app.js").status_code == 200


def test_root_path_of_sample_is_real() -> None:
    assert len(list(Path(SAMPLE).glob("*.jsonl.gz"))) >= 5


def test_pages_are_gzipped_when_asked(client: TestClient) -> None:
    plain = client.get("/arxiv/cs.CV?show=all", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    gz = client.get("/arxiv/cs.CV?show=all", headers={"Accept-Encoding": "gzip"})
    assert gz.headers["content-encoding"] == "gzip"
    assert gz.text == plain.text  # httpx decodes it: the same page
    assert int(gz.headers["content-length"]) < len(plain.content) / 2


def test_unknown_id_is_fetched_from_arxiv_on_demand(store: Store) -> None:
    from tests.replay import FIXTURES, Replay, recorded_bytes, settings_for, xml

    with Replay() as arxiv:
        arxiv.load_api_fixtures()
        settings = settings_for(arxiv, database_url="sqlite://", fetch_on_demand=True)
        c = TestClient(create_app(settings, store))
        doc = page(c, "/arxiv/1605.08386v1")
        card = doc.xpath("//div[@id='1605.08386']")[0]
        assert card.xpath(f".//a[{cls('title-link')}]")[0].text_content().strip()
        assert len(arxiv.hits_for("/api/query")) == 1
        assert "1605.08386" in store.papers(["1605.08386"])  # stored: asked once only
        page(c, "/arxiv/1605.08386")
        assert len(arxiv.hits_for("/api/query")) == 1
        doc = page(c, "/arxiv/astro-ph/0601001")  # old style, through the same client
        assert doc.xpath("//div[@id='astro-ph/0601001']")
        # arXiv's real empty answer (recorded for id_list=0000.0000) for an id it lacks
        [empty] = (FIXTURES / "arxiv-api").glob("id_0000.0000_*.json")
        body = recorded_bytes(json.loads(empty.read_text("utf-8"))["body"])
        arxiv.add("/api/query", xml(body), id_list="2401.99999")
        doc = page(c, "/arxiv/2401.99999", 404)
        assert "2401.99999" in doc.text_content()
        assert not store.papers(["2401.99999"])


def test_long_author_lists_collapse_behind_et_al(store: Store) -> None:
    names = [f"Author Number{i}" for i in range(45)]
    store.write(Batch(papers=[Paper("2401.00003", "Big team", "Text.", names, ["hep-ex"])]))
    c = TestClient(create_app(Settings(database_url="sqlite://", fetch_on_demand=False), store))
    card = page(c, "/arxiv/2401.00003").xpath("//div[@id='2401.00003']")[0]
    first = card.xpath(f"./p[{cls('authors')}]")[0]
    assert len(first.xpath("./a[@class='author notranslate']")) == 40
    assert "et al." in first.text_content()
    rest = card.xpath(f"./details/p[{cls('authors')}]/a")
    assert [a.text for a in rest] == names[40:]


def test_cached_pages_revalidate_with_etag(client: TestClient) -> None:
    first = client.get("/arxiv/cs.CL")
    etag = first.headers["etag"]
    again = client.get("/arxiv/cs.CL")  # served by the page-cache middleware
    assert again.headers["etag"] == etag and again.text == first.text
    r = client.get("/arxiv/cs.CL", headers={"If-None-Match": etag})
    assert r.status_code == 304 and r.content == b""
    assert client.get("/arxiv/cs.CL", headers={"If-None-Match": '"other"'}).status_code == 200
    head = client.head("/arxiv/cs.CL")
    assert head.status_code == 200 and head.content == b""
    assert client.get("/arxiv/cs.CL?date=2026-06-04").headers["etag"] != etag


def test_cards_carry_their_source_s_links(client: TestClient) -> None:
    # reader.js takes a card's links from these, not from any knowledge of the source
    doc = page(client, "/arxiv/cs.CL")
    card = doc.xpath("//div[@class='panel paper']")[0]
    pid = card.get("id")
    assert card.get("data-page") == card.xpath(".//a[contains(@class, 'index')]/@href")[0]
    assert card.get("data-page") == f"https://arxiv.org/abs/{pid}"
    assert card.get("data-pdf") == card.xpath(".//a[contains(@class, 'title-pdf')]/@href")[0]
    # [HTML] stays a link on the card; nothing reads it from an attribute
    assert card.get("data-html") is None
    assert card.xpath(".//a[contains(@class, 'title-html')]/@href") == [
        f"https://arxiv.org/html/{pid}"
    ]
    # no publish time in daily files: the source's stand-in from the id, in JS milliseconds
    yy, mm, n = int(pid[:2]), int(pid[2:4]), int(pid.split(".")[1])
    stamp = (date(2000 + yy, mm, 1) - date(1970, 1, 1)).days * 86_400_000 + n
    assert card.get("data-time") == str(stamp)
