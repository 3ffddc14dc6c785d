"""The Venue branch's pages (web/venue.py) on both backends, on the ACL Anthology's real files
(ACL 2024 and 2017, TACL 2024) and a few hand-made editions for what real files lack:
rejected and withdrawn papers, hostile names and affiliations.

Structure checks use papers.cool's selectors, as tests/test_web.py does for arXiv listings,
and the Zotero translator's ("Cool Papers", github.com/bojone/papers.cool Zotero/CoolPapers.js),
whose venue branch reads `body#venue` and the text of the first `p.subjects a`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from lxml import etree, html

from coolpapers.config import Settings
from coolpapers.records import Batch, Listing, Paper
from coolpapers.sources.acl import anthology
from coolpapers.sources.arxiv.files import import_files
from coolpapers.store import Store
from coolpapers.store import venues as store_venues
from coolpapers.store.venues import VenueListings, link
from coolpapers.web import venue
from coolpapers.web.app import create_app, page_key
from tests.conftest import SAMPLE, shared
from tests.test_web import cls

ACL = ("data", "venues", "acl-anthology")
# written in this order: ACL.2017 is the edition added last, ACL.2024 the latest of ACL
FILES = ("2024.acl.xml.gz", "2024.tacl.xml.gz", "P17.xml.gz")
ATOM = "{http://www.w3.org/2005/Atom}"
BASE = "https://papers.example.org/cool"
DAY = date(2026, 6, 4)  # of the arXiv sample, for cards with a venue version

XSS_GROUP = "<script>alert('group')</script>"
XSS_AFF = '"><img src=x onerror=alert(1)>'
XSS_COLLECTION = 'Evil"<i>'


@pytest.fixture(scope="module")
def acl() -> list[Batch]:
    """The real files, parsed once for the module (writing them is each test's)."""
    return [b for f in FILES for b in anthology.read(shared(*ACL, f))]


def _paper(key: str, title: str, **kw: object) -> Paper:
    p = Paper(
        id=key,
        title=title,
        abstract=str(kw.pop("abstract", f"Abstract of {title} with $x^2$ math.")),
        authors=list(kw.pop("authors", ["Ada Lovelace", "Alan Turing"])),  # type: ignore[call-overload]
        categories=[],
        source="acl",
        journal_ref="Proceedings of the Test Conference 2025",
        published=None,
    )
    p.extra = dict(kw.pop("extra", {}))  # type: ignore[call-overload]
    return p


def hand_made() -> Batch:
    """TEST.2025: Oral (2 accepted, 1 rejected), Poster (1 accepted, 1 withdrawn), and a group
    whose only paper was rejected; and an edition of a hostile collection, group and names."""
    papers = [
        _paper("2025.test-1.1@ACL", "Accepted oral one"),
        _paper("2025.test-1.2@ACL", "Accepted oral two"),
        _paper("2025.test-1.3@ACL", "Rejected oral"),
        _paper("2025.test-1.4@ACL", "Accepted poster"),
        _paper("2025.test-1.5@ACL", "Withdrawn poster"),
        _paper("2025.test-1.6@ACL", "Rejected findings"),
        _paper(
            "2025.evil-1.1@ACL",
            "<b>bold</b> title</a><script>alert('title')</script>",
            abstract="<img src=x onerror=alert('abstract')> $<script>$",
            authors=["<script>alert('author')</script>", "Bob"],
            extra={"affiliations": [XSS_AFF, "Uni <b>B</b>"], "pages": "1--2"},
        ),
    ]
    rows = [
        ("TEST", "Oral", "2025.test-1.1@ACL", 1, ""),
        ("TEST", "Oral", "2025.test-1.2@ACL", 2, ""),
        ("TEST", "Oral", "2025.test-1.3@ACL", 3, "Reject"),
        ("TEST", "Poster", "2025.test-1.4@ACL", 1, ""),
        ("TEST", "Poster", "2025.test-1.5@ACL", 2, "Withdraw"),
        ("TEST", "Findings", "2025.test-1.6@ACL", 1, "Reject"),
        (XSS_COLLECTION, XSS_GROUP, "2025.evil-1.1@ACL", 1, ""),
    ]
    listings = [Listing(c, "2025", g, k, n, date(2025, 5, 1), status=s) for c, g, k, n, s in rows]
    return Batch(papers=papers, listings=listings)


@pytest.fixture
def client(store: Store, acl: list[Batch]) -> Iterator[TestClient]:
    for b in acl:
        store.write(b)
    store.write(hand_made())
    import_files(store, [SAMPLE / f"{DAY}.jsonl.gz"])
    settings = Settings(
        database_url="sqlite://", fetch_on_demand=False, page_size=20, base_url=BASE + "/"
    )
    yield TestClient(create_app(settings, store))


def page(client: TestClient, url: str, status: int = 200) -> html.HtmlElement:
    r = client.get(url)
    assert r.status_code == status, (url, r.status_code, r.text[:300])
    return html.fromstring(r.text)


def cards(doc: html.HtmlElement) -> list[html.HtmlElement]:
    return doc.xpath(f"//div[{cls('papers')}]/div[{cls('paper')}]")


def info(doc: html.HtmlElement) -> str:
    return doc.xpath(f"//p[{cls('info')}]")[0].text_content()


def message(doc: html.HtmlElement) -> str:
    return doc.xpath(f"//div[{cls('error')}]/p")[0].text_content()


def suggestions(doc: html.HtmlElement) -> list[str]:
    return [a.get("href") for a in doc.xpath(f"//div[{cls('error')}]/p[2]/a")]


def moved(client: TestClient, url: str) -> tuple[int, str]:
    r = client.get(url, follow_redirects=False)
    return r.status_code, r.headers.get("location", "")


# ---- an edition -------------------------------------------------------------------------------


def test_edition_page_groups_counts_numbering_and_total(client: TestClient, store: Store) -> None:
    doc = page(client, "/venue/ACL.2024?show=all")
    assert doc.body.get("id") == "venue"
    entries = VenueListings(store).entries([], [], "ACL.2024")
    assert "Total: 933" in info(doc) and len(entries) == 933
    got = cards(doc)
    assert [c.get("id") for c in got] == [k for k, _ in entries]
    nums = [c.xpath(f".//a[{cls('index')}]")[0].text for c in got]
    assert nums == [f"#{i}" for i in range(1, 934)]
    heads = [h.text for h in doc.xpath("//h3[@class='group']")]
    assert heads == ["Long", "Short", "Demo", "SRW", "Tutorial"]
    nav = [a.text_content() for a in doc.xpath("//nav[@class='groups']/a")]
    assert nav == ["Long (771)", "Short (68)", "Demo (38)", "SRW (50)", "Tutorial (6)"]
    assert doc.xpath("//nav[@class='groups']/a")[1].get("href") == "/venue/ACL.2024?group=Short"
    # the first Short paper is #772, under its heading
    short = doc.xpath("//h3[@class='group'][2]/following-sibling::div[1]")[0]
    assert short.get("id") == "2024.acl-short.1@ACL"
    assert short.xpath(f".//a[{cls('index')}]")[0].text == "#772"
    # an edition with no groups: no nav, one heading, its name
    doc = page(client, "/venue/TACL.2024")
    assert "Total: 44" in info(doc) and not doc.xpath("//nav[@class='groups']")
    assert [h.text for h in doc.xpath("//h3[@class='group']")] == ["TACL.2024"]


def test_progressive_show_and_more(client: TestClient) -> None:
    doc = page(client, "/venue/ACL.2024")
    assert len(cards(doc)) == 20  # page_size
    box = doc.xpath(f"//div[{cls('papers')}]")[0]
    assert (box.get("data-total"), box.get("data-shown")) == ("933", "20")
    more_url = box.get("data-more")
    assert more_url == "/venue/ACL.2024/more?"  # app.js appends &offset=&limit=
    show = doc.xpath("//a[@class='show-all']")[0].get("href")
    assert show == "/venue/ACL.2024?show=933"  # works with JavaScript off
    assert len(cards(page(client, "/venue/ACL.2024?show=30"))) == 30
    store = client.app.state.site.store  # type: ignore[attr-defined]
    every = [k for k, _ in VenueListings(store).entries([], [], "ACL.2024")]
    r = client.get(f"{more_url}&offset=765&limit=10")
    assert r.status_code == 200
    frag = html.fragment_fromstring(r.text, create_parent="div")
    got = frag.xpath(f"./div[{cls('paper')}]")
    assert [c.get("id") for c in got] == every[765:775]
    assert got[0].xpath(f".//a[{cls('index')}]")[0].text == "#766"
    # Long continues (no heading repeated); Short starts at #772 with its heading
    assert [h.text for h in frag.xpath("./h3")] == ["Short"]
    first = html.fragment_fromstring(client.get(f"{more_url}&offset=0&limit=2").text, "div")
    assert [h.text for h in first.xpath("./h3")] == ["Long"]
    # /more keeps the page's group
    r = client.get("/venue/ACL.2024/more?group=Short&offset=60&limit=100")
    frag = html.fragment_fromstring(r.text, create_parent="div")
    assert len(frag.xpath(f"./div[{cls('paper')}]")) == 8
    assert frag.xpath(f"./div[{cls('paper')}]//a[{cls('index')}]")[0].text == "#61"


def test_one_group_and_an_unknown_group(client: TestClient) -> None:
    doc = page(client, "/venue/ACL.2024?group=Short&show=all")
    assert "Total: 68" in info(doc) and len(cards(doc)) == 68
    subjects = {c.xpath(f".//p[{cls('subjects')}]/a")[0].text for c in cards(doc)}
    assert subjects == {"ACL.2024 - Short"}
    # the nav shows every group, this one current; a link back to them all
    assert doc.xpath("//nav[@class='groups']/strong")[0].text == "Short (68)"
    assert doc.xpath("//a[@class='all-groups']")[0].get("href") == "/venue/ACL.2024"
    assert doc.xpath(f"//div[{cls('papers')}]")[0].get("data-more").endswith("more?group=Short")
    doc = page(client, "/venue/ACL.2024?group=Shrot", 404)
    assert "no group 'Shrot'" in message(doc)
    assert "Long, Short, Demo, SRW, Tutorial" in message(doc)
    assert suggestions(doc)[0] == "/venue/ACL.2024?group=Short"
    page(client, "/venue/ACL.2024?group=long", 404)  # group names are exact
    doc = page(client, "/venue/TACL.2024?group=Long", 404)
    assert "no groups" in message(doc)


def test_a_collection_opens_its_latest_edition(client: TestClient) -> None:
    # ACL.2017 was added after ACL.2024: "latest" of a collection is by year, not by arrival
    assert moved(client, "/venue/ACL") == (302, "/venue/ACL.2024")
    assert moved(client, "/venue/ACL?group=Short") == (302, "/venue/ACL.2024?group=Short")
    assert moved(client, "/venue/acl") == (301, "/venue/ACL")  # one spelling per page
    assert moved(client, "/venue/acl.2024") == (301, "/venue/ACL.2024")
    assert moved(client, "/venue/ACL.2024/") == (301, "/venue/ACL.2024")
    # /venue/latest is the edition added last here
    status, where = moved(client, "/venue/latest")
    assert status == 302 and where == "/venue/" + _newest_added(client)


def _newest_added(client: TestClient) -> str:
    store = client.app.state.site.store  # type: ignore[attr-defined]
    newest = max((e for e in VenueListings(store).all() if e.listed), key=lambda e: e.added)
    return quote(newest.name, safe="")


def test_editions_in_union(client: TestClient, store: Store) -> None:
    doc = page(client, "/venue/TACL.2024,TEST.2025?show=all")
    listings = VenueListings(store)
    want = [k for k, _ in listings.entries([], [], "TACL.2024")]
    want += [k for k, _ in listings.entries([], [], "TEST.2025")]
    assert [c.get("id") for c in cards(doc)] == want and "Total: 47" in info(doc)
    heads = [h.text for h in doc.xpath("//h3[@class='group']")]
    assert heads == ["TACL.2024", "TEST.2025 - Oral", "TEST.2025 - Poster"]
    assert [a.text for a in doc.get_element_by_id("2025.test-1.4@ACL").xpath(
        f".//p[{cls('subjects')}]/a"
    )] == ["TEST.2025 - Poster"]  # fmt: skip
    doc = page(client, "/venue/ACL.2024,TACL.2024")
    assert "Total: 977" in info(doc)
    assert doc.xpath("//h3[@class='group']")[0].text == "ACL.2024 - Long"
    # the nav's groups open that edition's group alone
    nav = doc.xpath("//nav[@class='groups']/a")
    assert nav[0].text_content() == "ACL.2024 - Long (771)"
    assert nav[0].get("href") == "/venue/ACL.2024?group=Long"
    assert doc.xpath("//h1")[0].text_content().strip() == "ACL.2024 + TACL.2024"
    assert moved(client, "/venue/ACL.2024,ACL.2024") == (301, "/venue/ACL.2024")
    assert moved(client, "/venue/ACL,TACL.2024") == (302, "/venue/ACL.2024,TACL.2024")
    # a group in only some of the editions: theirs
    doc = page(client, "/venue/ACL.2024,ACL.2017?group=Demo&show=all")
    assert "Total: 59" in info(doc)  # 38 + 21
    assert [h.text for h in doc.xpath("//h3[@class='group']")] == [
        "ACL.2024 - Demo",
        "ACL.2017 - Demo",
    ]


def test_rejected_and_withdrawn_hidden_unless_asked(client: TestClient) -> None:
    doc = page(client, "/venue/TEST.2025")
    assert [c.get("id") for c in cards(doc)] == [
        "2025.test-1.1@ACL",
        "2025.test-1.2@ACL",
        "2025.test-1.4@ACL",
    ]
    assert "Total: 3" in info(doc)
    assert [h.text for h in doc.xpath("//h3[@class='group']")] == ["Oral", "Poster"]
    offer = doc.xpath("//a[@class='status']")[0]
    assert offer.get("href") == "/venue/TEST.2025?status=all" and "3 rejected" in offer.text
    doc = page(client, "/venue/TEST.2025?status=all")
    assert "Total: 6" in info(doc)
    ids = [c.get("id") for c in cards(doc)]
    # accepted first in each group, then the rest, each group in the source's order
    assert ids == [f"2025.test-1.{i}@ACL" for i in (1, 2, 3, 4, 5, 6)]
    status = {c.get("id"): c.get("data-status") for c in cards(doc)}
    assert status["2025.test-1.3@ACL"] == "Reject" and status["2025.test-1.5@ACL"] == "Withdraw"
    assert status["2025.test-1.1@ACL"] is None
    badge = doc.get_element_by_id("2025.test-1.6@ACL").xpath(".//span[@class='venue-status']")
    assert badge[0].text == "Reject"
    assert [h.text for h in doc.xpath("//h3[@class='group']")] == ["Oral", "Poster", "Findings"]
    assert doc.xpath("//a[@class='status']")[0].get("href") == "/venue/TEST.2025"
    # a group of rejected papers only: empty, and says where they are
    doc = page(client, "/venue/TEST.2025?group=Findings")
    assert "Total: 0" in info(doc) and not cards(doc)
    assert doc.xpath("//div[@class='notice']//a")[0].get("href") == (
        "/venue/TEST.2025?group=Findings&status=all"
    )
    page(client, "/venue/TEST.2025?status=rejected", 404)
    # the home page counts accepted papers
    home = page(client, "/")
    assert home.xpath("//a[@data-edition='TEST.2025']/following-sibling::span")[0].text == "3"


# ---- papers by id ---------------------------------------------------------------------------


def test_papers_by_id_and_their_redirects(client: TestClient, store: Store) -> None:
    doc = page(client, "/venue/2024.acl-long.1@ACL")
    assert doc.body.get("id") == "venue"
    assert [c.get("id") for c in cards(doc)] == ["2024.acl-long.1@ACL"]
    link_ = doc.xpath(f"//a[{cls('title-link')}]")[0]
    assert link_.get("href") == "/venue/2024.acl-long.1@ACL"
    doc = page(client, "/venue/2024.acl-long.1@ACL,P17-1001@ACL")
    assert [c.get("id") for c in cards(doc)] == ["2024.acl-long.1@ACL", "P17-1001@ACL"]
    assert doc.xpath("//a[@class='feed']")[0].get("href") == (
        "/venue/2024.acl-long.1@ACL,P17-1001@ACL/feed"
    )
    # one spelling per page: the suffix's case, repeats, the Anthology's URL of a paper
    assert moved(client, "/venue/2024.acl-long.1@acl") == (301, "/venue/2024.acl-long.1@ACL")
    assert moved(client, "/venue/2024.acl-long.1@ACL,2024.acl-long.1@ACL") == (
        301,
        "/venue/2024.acl-long.1@ACL",
    )
    # each paper on its branch: arXiv's ids under /arxiv, a venue's under /venue
    arxiv_id = store.listing(["cs.CL"], [], DAY)[0].paper.id
    assert moved(client, "/arxiv/2024.acl-long.1@ACL") == (301, "/venue/2024.acl-long.1@ACL")
    assert moved(client, "/arxiv/2024.acl-long.1@ACL/feed") == (
        301,
        "/venue/2024.acl-long.1@ACL/feed",
    )
    assert moved(client, f"/venue/{arxiv_id}") == (301, f"/arxiv/{arxiv_id}")
    assert moved(client, f"/venue/{arxiv_id}v1") == (301, f"/arxiv/{arxiv_id}v1")
    # a starred list of both (reader.js exports /arxiv/<ids>): one page, under /venue
    assert moved(client, f"/arxiv/{arxiv_id},2024.acl-long.1@ACL") == (
        301,
        f"/venue/{arxiv_id},2024.acl-long.1@ACL",
    )
    doc = page(client, f"/venue/{arxiv_id},2024.acl-long.1@ACL")
    assert [c.get("id") for c in cards(doc)] == [arxiv_id, "2024.acl-long.1@ACL"]
    assert page(client, f"/arxiv/{arxiv_id}").body.get("id") == "arxiv"
    # not here, or not an id of the Anthology at all
    doc = page(client, "/venue/2024.acl-long.9999@ACL", 404)
    assert "2024.acl-long.9999@ACL" in message(doc) and "ACL Anthology" in message(doc)
    assert suggestions(doc) == ["https://aclanthology.org/2024.acl-long.9999/"]
    doc = page(client, "/venue/not_an_id@ACL", 404)
    assert "not an ACL Anthology id" in message(doc)
    doc = page(client, "/venue/2024.acl-long.1@ACL,ACL.2024", 404)
    assert "mixes paper ids" in message(doc)


# ---- feeds ----------------------------------------------------------------------------------


def _atom(client: TestClient, url: str) -> etree._Element:
    r = client.get(url)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/atom+xml")
    return etree.fromstring(r.content)


def test_edition_feeds(client: TestClient, store: Store) -> None:
    feed = _atom(client, "/venue/ACL.2024/feed")
    assert feed.findtext(f"{ATOM}id") == f"{BASE}/venue/ACL.2024/feed"
    entries = feed.findall(f"{ATOM}entry")
    keys = [k for k, _ in VenueListings(store).entries([], [], "ACL.2024")]
    assert [e.findtext(f"{ATOM}id") for e in entries] == [f"{BASE}/venue/{k}" for k in keys]
    first = entries[0]
    assert first.find(f"{ATOM}link[@rel='alternate']").get("href") == (
        f"{BASE}/venue/2024.acl-long.1@ACL"
    )
    assert first.find(f"{ATOM}link[@rel='related']").get("href") == (
        "https://aclanthology.org/2024.acl-long.1.pdf"
    )
    assert [c.get("term") for c in first.findall(f"{ATOM}category")] == ["ACL.2024 - Long"]
    assert [a.findtext(f"{ATOM}name") for a in first.findall(f"{ATOM}author")][:2] == [
        "Zhengxin Zhang",
        "Dan Zhao",
    ]
    # a collection's feed is rendered in place: it follows the collection to its next edition
    coll = _atom(client, "/venue/ACL/feed")
    assert coll.findtext(f"{ATOM}id") == f"{BASE}/venue/ACL/feed"
    assert len(coll.findall(f"{ATOM}entry")) == 933
    # a group's feed; a page with rejected papers says their status
    assert len(_atom(client, "/venue/ACL.2024/feed?group=Demo").findall(f"{ATOM}entry")) == 38
    test = _atom(client, "/venue/TEST.2025/feed?status=all")
    contents = [e.findtext(f"{ATOM}content") for e in test.findall(f"{ATOM}entry")]
    assert len(contents) == 6 and contents[2].startswith("TEST.2025 - Oral (Reject): ")


def test_latest_feed_lists_editions_as_added(client: TestClient, store: Store) -> None:
    feed = _atom(client, "/venue/latest/feed")
    entries = feed.findall(f"{ATOM}entry")
    eds = sorted(VenueListings(store).all(), key=lambda e: e.added, reverse=True)
    want = [quote(e.name, safe="") for e in eds if e.listed]
    assert [e.findtext(f"{ATOM}id") for e in entries] == [f"{BASE}/venue/{n}" for n in want]
    # the newest first: what this instance added last
    assert entries[0].findtext(f"{ATOM}id").endswith(_newest_added(client))
    acl = next(e for e in entries if e.findtext(f"{ATOM}id") == f"{BASE}/venue/ACL.2024")
    assert acl.findtext(f"{ATOM}title") == "ACL.2024: 933 papers"
    assert "Long (771), Short (68)" in acl.findtext(f"{ATOM}summary")
    assert acl.find(f"{ATOM}link[@rel='related']").get("href") == f"{BASE}/venue/ACL.2024/feed"
    stamps = [e.findtext(f"{ATOM}updated") for e in entries]
    assert stamps == sorted(stamps, reverse=True)


def test_latest_feed_of_an_instance_with_no_venue_is_dated_now(store: Store) -> None:
    settings = Settings(database_url="sqlite://", fetch_on_demand=False, base_url=BASE + "/")
    feed = _atom(TestClient(create_app(settings, store)), "/venue/latest/feed")
    assert feed.findall(f"{ATOM}entry") == []
    updated = feed.findtext(f"{ATOM}updated")
    assert updated is not None and updated[:4] == str(datetime.now(UTC).year)  # not 1970


def test_the_footer_credits_a_venue_source_once_it_has_an_edition(
    store: Store, acl: list[Batch]
) -> None:
    """The footer's sources are kept between pages, and read again when the data changes (as
    the page cache sees it: at most its ttl later, 0 here)."""
    settings = Settings(
        database_url="sqlite://", fetch_on_demand=False, page_cache_bytes=0, page_cache_ttl=0
    )
    client = TestClient(create_app(settings, store))
    import_files(store, [SAMPLE / f"{DAY}.jsonl.gz"])

    def footer() -> str:
        doc = page(client, "/")
        return " ".join(doc.xpath("//footer")[0].text_content().split())

    assert "arXiv" in footer() and "ACL Anthology" not in footer()
    store.write(acl[0])  # an edition imported while the site runs
    assert "ACL Anthology" in footer()


def test_ids_feed(client: TestClient) -> None:
    feed = _atom(client, "/venue/2024.acl-long.1@ACL,P17-1001@ACL/feed")
    ids = [e.findtext(f"{ATOM}id") for e in feed.findall(f"{ATOM}entry")]
    assert ids == [f"{BASE}/venue/2024.acl-long.1@ACL", f"{BASE}/venue/P17-1001@ACL"]


# ---- the list of venues -------------------------------------------------------------------


def test_home_counts_arxiv_papers_apart_from_venue_papers(client: TestClient, store: Store) -> None:
    info = page(client, "/").xpath("//p[@class='info']")[0].text_content()
    arxiv = store.count_papers() - sum(e.total for e in VenueListings(store).all())
    assert f"About {arxiv} papers in 1 announcement days" in info


def test_home_venue_column_and_the_venue_index(client: TestClient) -> None:
    for url, heading in (("/", "h3"), ("/venue", "h2")):
        doc = page(client, url)
        acl = doc.xpath("//li[@data-collection='ACL']")[0]
        assert acl.xpath(f"./{heading}/span")[0].text == str(933 + 352)
        editions = [
            (a.text, a.get("href"), a.getnext().text)
            for a in acl.xpath(".//ul[@class='editions']//a")
        ]
        assert editions == [("2024", "/venue/ACL.2024", "933"), ("2017", "/venue/ACL.2017", "352")]
        names = [li.get("data-collection") for li in doc.xpath("//li[@data-collection]")]
        assert names == sorted(names, key=str.lower) and "TACL" in names
    assert page(client, "/").xpath("//aside[@id='venue']//a[@href='/venue/latest/feed']")
    assert page(client, "/venue").body.get("id") == "venue"
    assert page(client, "/").body.get("id") == "arxiv"


def test_unknown_venues_name_the_closest(client: TestClient) -> None:
    doc = page(client, "/venue/ACL.2023", 404)
    assert "No edition '2023' of ACL" in message(doc) and "2024, 2017" in message(doc)
    assert suggestions(doc) == ["/venue/ACL.2024", "/venue/ACL.2017"]
    doc = page(client, "/venue/TAACL.2024", 404)
    assert "No venue 'TAACL.2024'" in message(doc)
    assert "/venue/TACL.2024" in suggestions(doc) and suggestions(doc)[-1] == "/venue"
    doc = page(client, "/venue/NAACL.2024,ACL.2024", 404)  # the part that is wrong is named
    assert message(doc) == "No venue 'NAACL.2024' here."
    assert "/venue/ACL.2024" in suggestions(doc)
    page(client, "/venue/ACL.2024/more?offset=x", 404)


# ---- cards ------------------------------------------------------------------------------------


def test_venue_cards_subjects_affiliations_pdf_and_bibtex(client: TestClient, store: Store) -> None:
    doc = page(client, "/venue/ACL.2024")
    card = doc.get_element_by_id("2024.acl-long.1@ACL")
    subj = card.xpath(f".//p[{cls('subjects')}]/a")
    assert [(a.text, a.get("href")) for a in subj] == [
        ("ACL.2024 - Long", "/venue/ACL.2024?group=Long")
    ]
    assert not subj[0].get("data-cat")  # not an arXiv category for the home page's picker
    p = store.papers(["2024.acl-long.1@ACL"])["2024.acl-long.1@ACL"]
    authors = card.xpath(f".//p[{cls('authors')}]/a[{cls('author')}]")
    assert [a.text_content() for a in authors] == p.authors  # names alone (Zotero, RSSHub)
    assert authors[1].get("title") == "Peng Cheng Laborotary" and authors[0].get("title") is None
    assert authors[1].getnext().text == "1"  # its number in the list below
    affs = card.xpath(f".//p[{cls('affiliations')}]/span[@class='affiliation']")
    assert [a.text for a in affs][:2] == ["Peng Cheng Laborotary", "Purdue University"]
    pdf = card.xpath(f".//a[{cls('title-pdf')}]")[0]
    assert pdf.get("data") == pdf.get("href") == "https://aclanthology.org/2024.acl-long.1.pdf"
    assert card.xpath(f".//a[{cls('index')}]")[0].get("href") == (
        "https://aclanthology.org/2024.acl-long.1/"
    )
    assert card.xpath(f".//a[{cls('title-kimi')}]")  # [FAQ], as on every card
    journal = card.xpath(f".//p[{cls('journal')}]")[0].text_content()
    assert journal.startswith("Published in: Proceedings of the 62nd Annual Meeting")
    # [Copy]'s BibTeX is the source's own (reader.js fetches it by the card's id)
    r = client.get(f"/api/papers/{card.get('id')}/bibtex")
    assert r.status_code == 200 and r.text.startswith("@inproceedings{zhang-etal-2024-quantized,")
    # an edition with no groups is its subject alone; authors with no affiliation have none
    card = page(client, "/venue/TACL.2024").get_element_by_id("2024.tacl-1.1@ACL")
    assert [a.text for a in card.xpath(f".//p[{cls('subjects')}]/a")] == ["TACL.2024"]
    assert not card.xpath(f".//*[{cls('affiliations')}]")
    assert [a.get("title") for a in card.xpath(f".//a[{cls('author')}]")] == [None] * 6
    # a card rendered by a page that does not prefetch (a feature's) finds its own
    site = client.app.state.site  # type: ignore[attr-defined]
    p = store.papers(["2024.acl-short.3@ACL"])["2024.acl-short.3@ACL"]
    assert site.card_links(p).venue.placements == [
        ("ACL.2024 - Short", "/venue/ACL.2024?group=Short")
    ]


def test_one_affiliation_for_all_is_said_once_unnumbered(store: Store) -> None:
    p = _paper("2025.one-1.1@ACL", "One lab", extra={"affiliations": ["Lab", "Lab"]})
    v = venue.card_venue(p, None, lambda _: None)
    assert v.affiliations == ["Lab"] and not v.numbered
    assert [a.affiliation for a in v.authors] == ["Lab", "Lab"]
    # a list that does not line up with the names is not used at all
    p = _paper("2025.one-1.2@ACL", "Off by one", extra={"affiliations": ["Lab"]})
    v = venue.card_venue(p, None, lambda _: None)
    assert v.affiliations == [] and [a.affiliation for a in v.authors] == [None, None]


def test_citation_meta_for_zotero(client: TestClient) -> None:
    def meta(url: str) -> list[tuple[str, str]]:
        doc = page(client, url)
        tags = doc.xpath("//head/meta[starts-with(@name, 'citation_')]")
        return [(m.get("name"), m.get("content")) for m in tags]

    got = meta("/venue/2024.acl-long.1@ACL")
    assert got[0] == (
        "citation_title",
        "Quantized Side Tuning: Fast and Memory-Efficient Tuning of Quantized Large Language "
        "Models",
    )
    authors = [c for n, c in got if n == "citation_author"]
    assert authors[:2] == ["Zhengxin Zhang", "Dan Zhao"] and len(authors) == 8
    d = dict(got)
    assert d["citation_conference_title"] == (
        "Proceedings of the 62nd Annual Meeting of the Association for Computational "
        "Linguistics (Volume 1: Long Papers)"
    )
    assert d["citation_publication_date"] == "2024/08/01"
    assert d["citation_pdf_url"] == "https://aclanthology.org/2024.acl-long.1.pdf"
    assert (d["citation_firstpage"], d["citation_lastpage"]) == ("1", "17")
    # a journal's paper (its BibTeX is an @article), with no day: its year
    d = dict(meta("/venue/2024.tacl-1.1@ACL"))
    assert "citation_conference_title" not in d
    assert d["citation_journal_title"].startswith("Transactions of the Association")
    assert d["citation_publication_date"] == "2024" and d["citation_doi"] == "10.1162/tacl_a_00629"
    # several papers: no one paper's tags
    assert not [n for n, _ in meta("/venue/2024.acl-long.1@ACL,P17-1001@ACL")]


def zotero_item(doc: html.HtmlElement, url: str) -> dict[str, object]:
    """CoolPapers.js's callback for one selected url ("#<id>") on a page that is not
    body#arxiv: a conferencePaper, extra = the first subject's text, date = the year after
    its '.' (subject.textContent.split(" ")[0].split(".")[1])."""
    paper = doc.get_element_by_id(url[1:])
    assert doc.body.get("id") != "arxiv"  # -> "conferencePaper"
    subject = paper.xpath(f".//p[{cls('subjects')}]//a")[0]
    text = subject.text_content()
    return {
        "title": paper.xpath(f".//*[{cls('title-link')}]")[0].text_content().strip(),
        "authors": [a.text_content() for a in paper.xpath(f".//*[{cls('author')}]")],
        "abstract": paper.xpath(f".//p[{cls('summary')}]")[0].text_content().strip(),
        "url": paper.xpath(f".//*[{cls('title-link')}]")[0].get("href"),
        "pdf": paper.xpath(f".//*[{cls('title-pdf')}]")[0].get("data"),
        "extra": text.strip(),
        "date": text.split(" ")[0].split(".")[1],
    }


def test_zotero_translator_reads_venue_pages(client: TestClient, store: Store) -> None:
    doc = page(client, "/venue/ACL.2024?group=Short")
    items = [p.xpath(f".//*[{cls('i-title')}]")[0].get("href") for p in doc.xpath(
        f"//div[{cls('items')}]/p"
    )]  # fmt: skip
    shown = [c.get("id") for c in cards(doc)]
    assert items == [f"#{i}" for i in shown] and len(items) == 20
    papers = store.papers(shown)
    for url in items:
        got = zotero_item(doc, url)
        p = papers[url[1:]]
        assert got["title"] == p.title and got["authors"] == p.authors
        assert got["extra"] == "ACL.2024 - Short" and got["date"] == "2024"
        assert got["url"] == f"/venue/{p.id}"
        assert str(got["pdf"]).startswith("https://aclanthology.org/2024.acl-short.")
    got = zotero_item(page(client, "/venue/TACL.2024"), "#2024.tacl-1.1@ACL")
    assert got["extra"] == "TACL.2024" and got["date"] == "2024"


def test_arxiv_and_venue_versions_link_each_other(client: TestClient, store: Store) -> None:
    arxiv_id = store.listing(["cs.CL"], [], DAY)[0].paper.id
    link(store, [("2024.acl-long.1@ACL", arxiv_id, "source")])
    card = page(client, "/venue/ACL.2024").get_element_by_id("2024.acl-long.1@ACL")
    also = card.xpath(f".//p[{cls('also')}]/a")
    assert [(a.text, a.get("href")) for a in also] == [(f"arXiv:{arxiv_id}", f"/arxiv/{arxiv_id}")]
    assert (
        not page(client, "/venue/ACL.2024")
        .get_element_by_id("2024.acl-long.2@ACL")
        .xpath(f".//p[{cls('also')}]")
    )
    for url in (f"/arxiv/cs.CL?date={DAY}", f"/arxiv/{arxiv_id}"):
        card = page(client, url).get_element_by_id(arxiv_id)
        also = card.xpath(f".//p[{cls('also')}]/a")
        assert [(a.text, a.get("href")) for a in also] == [
            ("ACL.2024 - Long", "/venue/2024.acl-long.1@ACL")
        ]
        # arXiv's subjects stay first (the Zotero translator reads them on body#arxiv)
        assert card.xpath(f".//p[{cls('subjects')}]/a")[0].get("data-cat") == "cs.CL"


def test_venue_parts_of_cards_are_looked_up_once_per_page(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, int]] = []
    real_linked, real_placements = store_venues.linked, store_venues.placements

    def counting(name, fn):  # type: ignore[no-untyped-def]
        def wrapped(store, keys):  # type: ignore[no-untyped-def]
            calls.append((name, len(keys)))
            return fn(store, keys)

        return wrapped

    monkeypatch.setattr(store_venues, "linked", counting("linked", real_linked))
    monkeypatch.setattr(store_venues, "placements", counting("placements", real_placements))
    assert len(cards(page(client, "/venue/ACL.2024?show=200"))) == 200
    assert calls == [("linked", 200), ("placements", 200)]
    calls.clear()
    assert len(cards(page(client, f"/arxiv/cs.CL?date={DAY}&show=all"))) > 20
    assert [c[0] for c in calls] == ["linked", "placements"]


# ---- hostile input and the page cache -----------------------------------------------------------


def test_hostile_names_and_text_are_escaped(client: TestClient) -> None:
    name = f"{XSS_COLLECTION}.2025"
    url = "/venue/" + name.replace('"', "%22").replace("<", "%3C").replace(">", "%3E")
    pages = {
        "edition": client.get(url),
        "group": client.get(url + "?group=" + XSS_GROUP.replace("<", "%3C").replace(">", "%3E")),
        "paper": client.get("/venue/2025.evil-1.1@ACL"),
        "home": client.get("/"),
        "index": client.get("/venue"),
        "unknown group": client.get(url + "?group=%3Cscript%3E"),
        "unknown venue": client.get("/venue/%3Cscript%3Ealert(1)%3C%2Fscript%3E"),
    }
    for what, r in pages.items():
        assert r.status_code in (200, 404), (what, r.status_code)
        assert "<script>alert" not in r.text and "<img src=x" not in r.text, what
        doc = html.fromstring(r.text)
        assert not doc.xpath("//main//script | //main//img | //main//b | //main//i"), what
    doc = html.fromstring(pages["edition"].text)
    assert doc.xpath("//h3[@class='group']")[0].text == XSS_GROUP
    card = doc.get_element_by_id("2025.evil-1.1@ACL")
    assert card.xpath(f".//a[{cls('author')}]")[0].get("title") == XSS_AFF
    affs = card.xpath(f".//p[{cls('affiliations')}]/span[@class='affiliation']")
    assert [a.text for a in affs] == [XSS_AFF, "Uni <b>B</b>"]  # escaped once, not twice
    assert card.xpath(f".//a[{cls('title-link')}]")[0].text_content().startswith("<b>bold</b>")
    assert card.xpath(f".//p[{cls('subjects')}]/a")[0].text == f"{name} - {XSS_GROUP}"
    assert html.fromstring(pages["group"].text).xpath(f"//div[{cls('paper')}]")
    assert html.fromstring(pages["paper"].text).xpath(
        "//meta[@name='citation_author']"
    )[0].get("content") == "<script>alert('author')</script>"  # fmt: skip
    # feeds stay well-formed XML
    for feed in (url + "/feed", "/venue/latest/feed"):
        r = client.get(feed)
        assert r.status_code == 200, feed
        etree.fromstring(r.content)
        assert "<script>" not in r.text


BAD = [
    "/venue/ACL.2024?show=-5",
    "/venue/ACL.2024?show=99999999999999999999999",
    "/venue/ACL.2024?show=1e9",
    "/venue/ACL.2024?group=" + "x" * 500,
    "/venue/ACL.2024?status=all&status=junk",
    "/venue/ACL.2024/more",
    "/venue/ACL.2024/more?offset=-3&limit=-1",
    "/venue/ACL.2024/more?offset=99999999999999999999&limit=5",
    "/venue/ACL.2024/more?limit=all",
    "/venue/ACL.2024/feed?group=Nope",
    "/venue/ACL.2024/feed?status=x",
    "/venue/2024.acl-long.1@ACL/more",
    "/venue/,,,",
    "/venue/%20",
    "/venue/latest/more",
    "/venue/feed",
    "/venue/more",
    "/venue/ACL.2024/feed/feed",
    "/venue/@ACL",
    "/venue/@",
    "/venue/a@b@c@ACL",
    "/venue/http://aclanthology.org/",
    "/venue/ACL." + "9" * 400,
    "/arxiv/x@ACL",
    "/arxiv/ACL.2024",
]


def test_bad_parameters_are_never_a_500(client: TestClient) -> None:
    for url in BAD:
        r = client.get(url)
        assert r.status_code in (200, 301, 302, 404), (url, r.status_code, r.text[:300])


def test_venue_pages_are_cached_under_the_parameters_they_read(client: TestClient) -> None:
    assert page_key("/venue/ACL.2024", b"show=30&junk=1&group=Long") == (
        "/venue/ACL.2024?group=Long&show=30"
    )
    assert page_key("/venue/ACL.2024", b"status=accepted") == "/venue/ACL.2024?"
    assert page_key("/venue/ACL.2024", b"status=all") == "/venue/ACL.2024?status=all"
    assert page_key("/venue/ACL.2024/more", b"offset=20&limit=all") == (
        "/venue/ACL.2024/more?limit=1000&offset=20"
    )
    assert page_key("/venue", b"") == "/venue?" and page_key("/venue/latest/feed", b"") is not None
    assert page_key("/venue/2024.acl-long.1@ACL", b"show=3") == "/venue/2024.acl-long.1@ACL?"
    assert page_key("/venue/ACL.2024", b"show=x") is None  # a 404, never cached
    assert page_key("/venue/ACL.2024", b"status=x") is None
    assert page_key("/venue/latest", b"") is None and page_key("/venue/ACL.2024/", b"") is None
    cache = client.app.state.site.cache  # type: ignore[attr-defined]
    first = client.get("/venue/ACL.2024?show=5")
    n = len(cache)
    again = client.get("/venue/ACL.2024?show=5&utm_source=x")
    assert again.content == first.content and len(cache) == n
    assert again.headers["etag"] == first.headers["etag"]


def test_spec_parsing_is_syntax_only() -> None:
    assert venue.parse("ACL.2024,NAACL.2024") == venue.Names(("ACL.2024", "NAACL.2024"))
    assert isinstance(venue.parse("2024.acl-long.1@ACL"), venue.Ids)
    assert venue.parse("2024.acl-long.1@ACL").venue  # type: ignore[union-attr]
    assert not venue.parse("2309.16354").venue  # type: ignore[union-attr]
    assert venue.from_arxiv("2309.16354") is None and venue.from_arxiv("cs.CL/feed") is None
    assert venue.from_arxiv("P17-1001v2@acl") == "/venue/P17-1001v2@ACL"
    assert re.fullmatch(r"g-ACL\.2024-Long", venue_anchor("ACL.2024 - Long"))


def venue_anchor(label: str) -> str:
    from coolpapers.web.venue_views import anchor

    return anchor(label, set())


def test_the_extensions_fallback_when_the_paper_is_not_here(client: TestClient) -> None:
    """The extension opens /venue/<id>?else=<the page it opened before>: kept when the paper
    is here, followed (302) when it is not, ignored unless it is a path of this site."""
    here = client.get("/venue/2024.acl-long.1@ACL?else=/arxiv/2309.16354", follow_redirects=False)
    assert here.status_code == 200 and "2024.acl-long.1@ACL" in here.text
    away = client.get(
        "/venue/abcdefghij@OpenReview?else=" + quote("/arxiv/search?query=A title", safe=""),
        follow_redirects=False,
    )
    assert away.status_code == 302
    assert away.headers["location"] == "/arxiv/search?query=A%20title"  # Starlette quotes it
    # a canonical redirect keeps it (the suffix in another case)
    moved = client.get(
        "/venue/abcdefghij@openreview?else=/arxiv/2309.16354", follow_redirects=False
    )
    assert moved.status_code == 301 and "else=/arxiv/2309.16354" in moved.headers["location"]
    # the edge drops control characters from every query before routes read it
    split = client.get(
        "/venue/abcdefghij@OpenReview?else=" + quote("/arxiv/x\r\nSet-Cookie: a", safe=""),
        follow_redirects=False,
    )
    assert "\n" not in split.headers.get("location", "") and "set-cookie" not in split.headers
    for bad in ("//evil.example/x", "https://evil.example/", "/admin", "javascript:alert(1)"):
        r = client.get(
            "/venue/abcdefghij@OpenReview?else=" + quote(bad, safe=""), follow_redirects=False
        )
        assert r.status_code == 404, bad
    assert venue.fallback_path("/venue/x@ACL") == "/venue/x@ACL"
    assert venue.fallback_path("/arxiv/a://b") is None and venue.fallback_path(None) is None
