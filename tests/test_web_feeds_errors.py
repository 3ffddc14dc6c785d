"""Feeds (dated, empty, control characters, related, papers by id), 404 pages that name what is
wrong, and the smaller page rules (one card per id, versions asked for, [HTML], /more, clicks).
On both backends."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from lxml import etree, html

from coolpapers.config import Settings
from coolpapers.records import Announcement, Batch, Kind, Paper
from coolpapers.search.indexer import catch_up
from coolpapers.store import Store
from coolpapers.web.app import create_app
from tests.test_web import cls

ATOM = "{http://www.w3.org/2005/Atom}"
THU, SAT = date(2026, 6, 4), date(2026, 6, 6)


def paper(pid: str, title: str = "A paper", abstract: str = "Text.", **kw: object) -> Paper:
    return Paper(pid, title, abstract, ["A. Author"], ["cs.CL"], **kw)  # type: ignore[arg-type]


@pytest.fixture
def client(store: Store) -> TestClient:
    store.write(
        Batch(
            papers=[
                # a form feed, as PDF copy-paste leaves in arXiv metadata: invalid in XML
                paper("2606.00101", "Form\x0cfeed title", "Before\x0cafter \x01the feed."),
                paper("2606.00102", "Second", "Transformers for parsing.", version=3),
                paper("2311.00103", "Before arXiv HTML"),
                paper("hep-th/9901001", "Old style"),
            ],
            announcements=[
                Announcement(THU, "cs.CL", "2606.00101", Kind.NEW),
                Announcement(THU, "cs.CL", "2606.00102", Kind.NEW),
                Announcement(date(2026, 6, 3), "cs.CL", "2311.00103", Kind.REPLACE),
            ],
        )
    )
    settings = Settings(database_url="sqlite://", fetch_on_demand=False, page_size=20)
    return TestClient(create_app(settings, store))


def get(client: TestClient, url: str, status: int = 200) -> html.HtmlElement:
    r = client.get(url, follow_redirects=False)
    assert r.status_code == status, (url, r.status_code, r.text[:300])
    return html.fromstring(r.text)


def atom(client: TestClient, url: str) -> etree._Element:
    r = client.get(url)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/atom+xml")
    return etree.fromstring(r.content)  # raises on any character XML forbids


def message(doc: html.HtmlElement) -> str:
    return doc.xpath(f"//div[{cls('error')}]/p")[0].text_content()


# ---- feeds -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/arxiv/9999.99999/feed",
        "/arxiv/2309.1234/feed",
        "/arxiv/foo-bar/1234567/feed",
        "/arxiv/2606.00101,2309.1234/feed",
    ],
)
def test_malformed_ids_in_feed_urls_are_404(client: TestClient, url: str) -> None:
    bad = url.removeprefix("/arxiv/").removesuffix("/feed").split(",")[-1]
    doc = get(client, url, 404)
    assert f"not an arXiv id: '{bad}'" in message(doc)


def test_dated_feed_has_its_own_id_and_self_link(client: TestClient) -> None:
    undated = atom(client, "/arxiv/cs.CL/feed")
    dated = atom(client, f"/arxiv/cs.CL/feed?date={THU}")
    assert undated.findtext(f"{ATOM}id").endswith("/arxiv/cs.CL/feed")
    assert dated.findtext(f"{ATOM}id").endswith(f"/arxiv/cs.CL/feed?date={THU}")
    assert dated.find(f"{ATOM}link[@rel='self']").get("href") == dated.findtext(f"{ATOM}id")
    alt = dated.find(f"{ATOM}link[@rel='alternate']").get("href")
    assert alt.endswith(f"/arxiv/cs.CL?date={THU}")
    older = atom(client, "/arxiv/cs.CL/feed?date=2026-06-03")
    assert older.findtext(f"{ATOM}id") != dated.findtext(f"{ATOM}id")


def test_listing_pages_link_their_own_feed(client: TestClient) -> None:
    def link(url: str) -> str:
        return get(client, url).xpath(f"//a[{cls('feed')}]")[0].get("href")

    assert link("/arxiv/cs.CL") == "/arxiv/cs.CL/feed"
    assert link("/arxiv/cs.CL?date=2026-06-03") == "/arxiv/cs.CL/feed?date=2026-06-03"
    assert link(f"/arxiv/cs.CL?date={SAT}") == "/arxiv/cs.CL/feed"  # no announcement: no date


def test_control_characters_never_reach_the_xml(client: TestClient) -> None:
    for url in ("/arxiv/cs.CL/feed", "/arxiv/2606.00101/feed"):
        feed = atom(client, url)
        (entry,) = [e for e in feed.iter(f"{ATOM}entry") if "00101" in e.findtext(f"{ATOM}id")]
        assert entry.findtext(f"{ATOM}title") == "Formfeed title"
        assert entry.findtext(f"{ATOM}summary") == "Beforeafter the feed."


def test_empty_feed_still_has_an_author(client: TestClient) -> None:
    feed = atom(client, f"/arxiv/cs.CL/feed?date={SAT}")
    assert not feed.findall(f"{ATOM}entry")
    assert feed.findtext(f"{ATOM}author/{ATOM}name")


@pytest.mark.parametrize("url", ["/arxiv/search/feed?query=zzyzx", "/venue/latest/feed"])
def test_an_empty_feed_is_stamped_with_the_stores_last_change(
    client: TestClient, store: Store, url: str
) -> None:
    # not the clock: two readers a second apart got different bytes (a flaky CI run)
    store.set_state("generation", "2026-06-05T07:00:00.250000+00:00")
    feed = atom(client, url)
    assert not feed.findall(f"{ATOM}entry")
    assert feed.findtext(f"{ATOM}updated") == "2026-06-05T07:00:00Z"


def test_papers_page_advertises_its_feed(client: TestClient) -> None:
    doc = get(client, "/arxiv/2606.00102,2606.00101")
    (alt,) = doc.xpath("//head/link[@rel='alternate'][@type='application/atom+xml']")
    feed = atom(client, alt.get("href"))
    ids = [e.findtext(f"{ATOM}id").rsplit("/arxiv/", 1)[1] for e in feed.iter(f"{ATOM}entry")]
    assert ids == ["2606.00102", "2606.00101"]


def test_related_feed(client: TestClient, store: Store) -> None:
    catch_up(store)  # keywords and embeddings of these few papers
    pid = "2606.00102"
    related = client.app.state.site.search.related(pid)  # type: ignore[attr-defined]
    feed = atom(client, f"/arxiv/related/{pid}/feed")
    got = [e.findtext(f"{ATOM}id").rsplit("/arxiv/", 1)[1] for e in feed.iter(f"{ATOM}entry")]
    assert related and got == [r.paper.id for r in related]
    assert feed.find(f"{ATOM}link[@rel='self']").get("href").endswith(f"/related/{pid}/feed")
    page = get(client, f"/arxiv/related/{pid}")
    assert page.xpath("//head/link[@type='application/atom+xml']")[0].get("href") == (
        f"/arxiv/related/{pid}/feed"
    )
    atom(client, "/arxiv/related/hep-th/9901001/feed")  # old-style ids keep their slash
    get(client, "/arxiv/related/2401.99999/feed", 404)
    get(client, "/arxiv/related/nonsense/feed", 404)


# ---- 404 pages -------------------------------------------------------------------------------


def test_unknown_id_without_fetching_says_where_it_looked(client: TestClient) -> None:
    doc = get(client, "/arxiv/2401.99999", 404)
    assert "not in this instance's store" in message(doc) and "on arXiv" not in message(doc)
    assert doc.xpath("//a[@href='https://arxiv.org/abs/2401.99999']")


def test_mixed_ids_and_categories_name_the_mix(client: TestClient) -> None:
    text = message(get(client, "/arxiv/2309.16354,cs.CL", 404))
    assert "not an arXiv id" not in text
    assert "2309.16354" in text and "cs.CL" in text and "mixes" in text
    text = message(get(client, "/arxiv/2309.16354,cs.XX", 404))
    assert "'cs.XX'" in text and "'2309.16354'" not in text


def test_unknown_categories_suggest_the_closest(client: TestClient) -> None:
    doc = get(client, "/arxiv/cs.CLL", 404)
    hrefs = [a.get("href") for a in doc.xpath(f"//div[{cls('error')}]//a")]
    assert "/arxiv/cs.CL" in hrefs[:3] and "/arxiv/math.AG" not in hrefs
    doc = get(client, "/arxiv/cs.XX", 404)
    hrefs = [a.get("href") for a in doc.xpath(f"//div[{cls('error')}]//a")]
    assert hrefs[0] == "/arxiv/cs" and all(h.startswith("/arxiv/cs") for h in hrefs[:4])


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("/arxiv/CS.CL", "/arxiv/cs.CL"),
        ("/arxiv/cs.ai,CS.CL?date=2026-06-04", "/arxiv/cs.AI,cs.CL?date=2026-06-04"),
        ("/arxiv/CS.CL/feed?date=2026-06-04", "/arxiv/cs.CL/feed?date=2026-06-04"),
    ],
)
def test_category_case_is_redirected(client: TestClient, url: str, target: str) -> None:
    r = client.get(url, follow_redirects=False)
    assert r.status_code == 301 and r.headers["location"] == target


# ---- cards and small rules -------------------------------------------------------------------


def test_repeated_ids_show_one_card(client: TestClient) -> None:
    r = client.get("/arxiv/2606.00101,2606.00101", follow_redirects=False)
    assert r.status_code == 301 and r.headers["location"] == "/arxiv/2606.00101"
    r = client.get("/arxiv/2606.00102,2606.00101,2606.00102v1", follow_redirects=False)
    assert r.headers["location"] == "/arxiv/2606.00102,2606.00101"  # the first asked wins
    doc = get(client, r.headers["location"])
    assert [c.get("id") for c in doc.xpath(f"//div[{cls('paper')}]")] == [
        "2606.00102",
        "2606.00101",
    ]


def test_more_clamps_negative_offset_and_limit(client: TestClient) -> None:
    def ids(q: str) -> list[str]:
        r = client.get(f"/arxiv/cs.CL/more?date={THU}&{q}")
        assert r.status_code == 200
        return re.findall(r'<div id="([^"]+)" class="panel paper"', r.text)

    assert ids("offset=-5&limit=10") == ids("offset=0&limit=10") == ["2606.00101", "2606.00102"]
    assert ids("offset=0&limit=-3") == ["2606.00101"]


def test_requested_version_is_linked_and_noted(client: TestClient) -> None:
    card = get(client, "/arxiv/2606.00102v1").xpath("//div[@id='2606.00102']")[0]
    note = card.xpath(f".//p[{cls('version-note')}]")[0].text_content()
    assert note.startswith("v1 requested; this is v3")
    pdf = card.xpath(f".//a[{cls('title-pdf')}]")[0]
    assert pdf.get("href") == pdf.get("data") == "https://arxiv.org/pdf/2606.00102v1"
    assert card.xpath(f".//a[{cls('index')}]")[0].get("href").endswith("/abs/2606.00102v1")
    latest = get(client, "/arxiv/2606.00102").xpath("//div[@id='2606.00102']")[0]
    assert not latest.xpath(f".//p[{cls('version-note')}]")
    assert latest.xpath(f".//a[{cls('title-pdf')}]")[0].get("href").endswith("2606.00102v3")


def test_html_link_only_where_arxiv_has_html(client: TestClient) -> None:
    doc = get(client, "/arxiv/2606.00101,2311.00103,hep-th/9901001")
    with_html = [a.get("id") for a in doc.xpath(f"//a[{cls('title-html')}]")]
    assert with_html == ["html-2606.00101"]


def test_papers_page_dates_cards_by_first_announcement(client: TestClient) -> None:
    doc = get(client, "/arxiv/2311.00103,hep-th/9901001")
    dates = [s.text_content() for s in doc.xpath(f"//span[{cls('date-data')}]")]
    assert dates == ["2026-06-03 00:00:00 UTC", ""]  # the old paper was never announced here


def test_clicks_count_only_papers_in_the_store(client: TestClient) -> None:
    r = client.post("/api/papers/2606.00101/click?kind=pdf")
    assert r.status_code == 200 and r.json()["n"] == 1
    assert client.post("/api/papers/2401.99999/click?kind=pdf").status_code == 404
    assert client.get("/api/counters?ids=2401.99999").json() == {}


def test_tex_accents_in_comments_and_journal_ref(store: Store) -> None:
    store.write(
        Batch(
            papers=[
                paper(
                    "2606.00109",
                    comments='Talk at G\\"ottingen',
                    journal_ref="Ann. Inst. Poincar\\'e 12 (2026)",
                    published=datetime(2026, 6, 1, tzinfo=UTC),
                )
            ]
        )
    )
    p = store.papers(["2606.00109"])["2606.00109"]
    assert p.comments == "Talk at Göttingen"
    assert p.journal_ref == "Ann. Inst. Poincaré 12 (2026)"
