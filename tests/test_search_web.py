"""Search pages, API, feed, [REL], ❤ and the index following new writes, on both backends."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import date

import pytest
from fastapi.testclient import TestClient
from lxml import etree, html
from sqlalchemy import text

from coolpapers.config import Settings
from coolpapers.records import Announcement, Batch, Kind, Paper
from coolpapers.search.indexer import catch_up, catch_up_fulltext, pending
from coolpapers.search.service import Searcher
from coolpapers.search.vectors import VectorIndex
from coolpapers.web.app import create_app
from tests.search_fixtures import indexed
from tests.test_web import cls

__all__ = ["indexed"]
ATOM = "{http://www.w3.org/2005/Atom}"
EVIL = Paper(
    id="2606.99001",
    title="<script>alert('t')</script> Quokka $x<y$ transformers",
    abstract='Quokka <img src=x onerror="alert(1)"> marsupials & "friends" study quokkas.',
    authors=["Zoë <b>Bold</b>"],
    categories=["cs.CL"],
)


@pytest.fixture(scope="module")
def client(indexed: Searcher) -> TestClient:
    settings = Settings(database_url="sqlite://", fetch_on_demand=False)
    return TestClient(create_app(settings, indexed.store))


def get(client: TestClient, url: str, status: int = 200) -> html.HtmlElement:
    r = client.get(url, follow_redirects=False)
    assert r.status_code == status, (url, r.status_code, r.text[:300])
    return html.fromstring(r.text)


def test_search_page_has_papers_cool_structure(client: TestClient, indexed: Searcher) -> None:
    doc = get(client, "/arxiv/search?query=linear+attention&mode=keyword")
    cards = doc.xpath(f"//div[{cls('papers')}]/div[{cls('paper')}]")
    expected = indexed.search("linear attention", mode="keyword")
    assert [c.get("id") for c in cards] == [r.paper.id for r in expected.items]
    assert f"Total: {expected.total}" in doc.xpath(f"//p[{cls('info')}]")[0].text_content()
    first = cards[0]
    assert first.xpath(f".//h2[{cls('title')}]/a[{cls('title-link')}]")
    assert (
        first.xpath(f".//a[{cls('title-rel')}]")[0].get("href")
        == f"/arxiv/related/{first.get('id')}"
    )
    # papers.cool's keywords attribute: the paper's keyphrases (up to 10)
    assert 1 <= len(first.get("keywords").split(", ")) <= 10
    snippet = first.xpath(f".//p[{cls('snippet')}]")[0]
    assert [m.text.lower() for m in snippet.xpath(".//mark")][:1] in (["linear"], ["attention"])
    # highlight=1 hands the words to the page script; default is hybrid
    doc = get(client, "/arxiv/search?query=linear+attention&highlight=1")
    assert doc.xpath(f"//div[{cls('papers')}]")[0].get("data-highlight") == "linear attention"
    assert not doc.xpath(f"//p[{cls('snippet')}]")  # the abstracts are marked instead
    assert doc.xpath("//select[@name='mode']/option[@selected]")[0].get("value") == "hybrid"


def test_untrusted_text_in_snippets_is_escaped(client: TestClient, indexed: Searcher) -> None:
    indexed.store.write(Batch(papers=[EVIL]))
    catch_up_fulltext(indexed.store)
    r = client.get("/arxiv/search?query=quokka&mode=keyword")
    assert r.status_code == 200
    assert "<script>alert" not in r.text and "<img src=x" not in r.text and "<b>Bold" not in r.text
    doc = html.fromstring(r.text)
    card = doc.xpath(f"//div[@id='{EVIL.id}']")[0]
    snippet = card.xpath(f".//p[{cls('snippet')}]")[0]
    assert [m.text for m in snippet.xpath(".//mark")][:1] == ["Quokka"]
    # shown as text (SQLite) or dropped by ts_headline's parser (PostgreSQL): never a tag
    assert not card.xpath(".//img | .//script | .//b")
    assert "marsupials &" in snippet.text_content()
    api = client.get("/api/search?query=quokka&mode=keyword").json()
    hit = next(x for x in api["results"] if x["id"] == EVIL.id)
    assert "<img" not in hit["snippet_html"] and "&amp;" in hit["snippet_html"]
    assert "<mark>Quokka</mark>" in hit["snippet_html"]
    assert "<script>" not in hit["title_html"] and "&lt;script&gt;" in hit["title_html"]


def test_index_follows_new_writes_incrementally(indexed: Searcher) -> None:
    store = indexed.store
    p = Paper(id="2606.99002", title="Zyxwvut lattices", abstract="On zyxwvut.", authors=["A B"],
              categories=["math.CO"])  # fmt: skip
    store.write(
        Batch(papers=[p], announcements=[Announcement(date(2026, 6, 5), "math.CO", p.id, Kind.NEW)])
    )
    # PostgreSQL's index is written with the row; SQLite's catches up after the write
    assert indexed.search("zyxwvut", mode="keyword").total == int(store.dialect != "sqlite")
    catch_up_fulltext(store)
    found = indexed.search("zyxwvut", mode="keyword")
    assert [r.paper.id for r in found.items] == [p.id]
    assert indexed.search("zyxwvut date:2026-06-05", mode="keyword").total == 1
    assert pending(store) >= 1
    assert catch_up(store) >= 1 and pending(store) == 0
    assert "zyxwvut" in indexed.keywords([p.id])[p.id][0].split()
    # a changed abstract replaces the old words; an unchanged re-import marks nothing
    p.abstract = "On qwertyuiop instead."
    store.write(Batch(papers=[p]))
    assert indexed.search("abs:zyxwvut", mode="keyword").total == 0  # old words: gone at once
    catch_up_fulltext(store)
    assert indexed.search("qwertyuiop", mode="keyword").total == 1
    assert pending(store) == 1
    catch_up(store)
    store.write(Batch(papers=[p]))
    assert pending(store) == 0
    if store.dialect == "sqlite":  # FTS5's own check of the index against the papers
        with store.engine.begin() as c:
            c.exec_driver_sql(
                "INSERT INTO search_fts(search_fts, rank) VALUES ('integrity-check', 1)"
            )
    # the semantic side sees the new vector (the worker's index catches up by seq)
    indexed.vectors.refresh(force=True)
    sem = indexed.search("qwertyuiop lattices", mode="semantic", per_page=5)
    assert p.id in [r.paper.id for r in sem.items]


def test_arxiv_id_or_url_redirects(client: TestClient) -> None:
    for q, target in [
        ("2606.01294", "/arxiv/2606.01294"),
        ("arXiv:2606.01294v2", "/arxiv/2606.01294v2"),
        ("https://arxiv.org/abs/2606.01294", "/arxiv/2606.01294"),
        ("https://arxiv.org/pdf/1406.2661v1.pdf", "/arxiv/1406.2661v1"),
        ("hep-th/9901001 2606.01294", "/arxiv/hep-th/9901001,2606.01294"),
    ]:
        r = client.get("/arxiv/search", params={"query": q}, follow_redirects=False)
        assert (r.status_code, r.headers["location"]) == (302, target), q
    assert (
        client.get("/api/search", params={"query": "2606.01294"}).json()["redirect"]
        == "/arxiv/2606.01294"
    )
    assert (
        client.get("/arxiv/search?query=1706.03762+attention", follow_redirects=False).status_code
        == 200
    )


def test_api_json_and_paging(client: TestClient, indexed: Searcher) -> None:
    a = client.get("/api/search?query=model&mode=keyword&show=10&page=101").json()
    assert a["total"] > 1010 and a["page"] == 101 and len(a["results"]) == 10
    r = a["results"][0]
    assert set(r) >= {
        "id",
        "title",
        "authors",
        "categories",
        "score",
        "snippet_html",
        "keywords",
        "url",
    }
    b = client.get("/api/search?query=model&mode=keyword&show=10&page=102").json()
    assert not {x["id"] for x in a["results"]} & {x["id"] for x in b["results"]}
    assert client.get("/api/search?query=%22((&sort=bogus&page=x&mode=zzz").status_code == 200


def test_api_results_are_the_paper_api_shape_plus_the_search(
    client: TestClient, indexed: Searcher
) -> None:
    # one paper->JSON shape (issue 12): /api/papers' fields, then what the search adds; the
    # paper's source is `source`, the ranking that found it `match`
    r = client.get("/api/search?query=model&show=5").json()["results"][0]
    paper = client.get(f"/api/papers/{r['id']}").json()
    assert set(r) == set(paper) | {
        "score",
        "match",
        "similar",
        "keywords",
        "snippet_html",
        "title_html",
    }
    assert r["source"] == "arxiv" and r["match"] in {"keyword", "semantic", "both"}
    assert r["similar"] == (r["match"] == "semantic")  # found by meaning only
    same = {k for k in paper if k not in ("published", "updated")}
    assert {k: r[k] for k in same} == {k: paper[k] for k in same}
    # the search API's times keep their "Z"
    for k in ("published", "updated"):
        assert r[k] == (paper[k] + "Z" if paper[k] else None)
    related = client.get(f"/api/related/{r['id']}").json()["results"]
    assert related and set(related[0]) == set(r) and related[0]["source"] == "arxiv"


def test_feed_watches_a_query_newest_first(client: TestClient, indexed: Searcher) -> None:
    r = client.get("/arxiv/search/feed?query=diffusion")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/atom+xml")
    feed = etree.fromstring(r.content)
    entries = [e.findtext(f"{ATOM}id").rsplit("/", 1)[-1] for e in feed.iter(f"{ATOM}entry")]
    assert 0 < len(entries) <= 50
    # the page's papers (hybrid: the matches and any similar ones), newest first
    newest = indexed.search("diffusion", sort="date", per_page=50)
    assert entries == [x.paper.id for x in newest.items]


def test_related_inline_and_page(client: TestClient, indexed: Searcher) -> None:
    pid = "2606.01294"
    rel = client.app.state.site.search.related(pid)  # the app's own searcher and ANN index
    assert len(rel) == 10 and pid not in [r.paper.id for r in rel]
    frag = get(client, f"/arxiv/related/{pid}?fragment=1")
    links = [a.get("href") for a in frag.xpath("//a[@class='related-link']")]
    assert links == [f"/arxiv/{r.paper.id}" for r in rel]
    page = get(client, f"/arxiv/related/{pid}")
    assert len(page.xpath(f"//div[{cls('papers')}]/div[{cls('paper')}]")) == 10
    api = client.get(f"/api/related/{pid}").json()
    assert api["keywords"] == indexed.keywords([pid])[pid] and len(api["results"]) == 10
    get(client, "/arxiv/related/not-an-id", 404)


def test_keywords_for_every_paper_and_on_listing_cards(
    client: TestClient, indexed: Searcher
) -> None:
    with indexed.store.engine.connect() as c:
        counts = [n for (n,) in c.execute(text("SELECT keywords FROM search_keywords"))]
    # up to 10 keyphrases a paper (tests/test_related.py checks what they are)
    sizes = [len(k.split("; ")) for k in counts if k]
    assert len(sizes) >= 3500 and max(sizes) == 10 and sum(s >= 5 for s in sizes) / len(sizes) > 0.9
    doc = get(client, "/arxiv/cs.CL?show=5")
    cards = doc.xpath(f"//div[{cls('papers')}]/div[{cls('paper')}]")
    assert cards and all(c.get("keywords") for c in cards)


def test_taste_api_orders_a_listing(client: TestClient, indexed: Searcher) -> None:
    ids = [r.paper.id for r in indexed.search("cat:cs.CV", mode="keyword", per_page=40).items]
    target = indexed.store.papers([ids[-1]])[ids[-1]]
    words = indexed.keywords([target.id])[target.id][:3]
    r = client.post("/api/taste", json={"ids": ids, "keywords": words, "clicked": []}).json()
    order = [x["id"] for x in r["order"]]
    assert sorted(order) == sorted(ids) and order[0] == target.id
    # clicked papers alone: the clicked paper itself is the most similar one
    r = client.post("/api/taste", json={"ids": ids, "keywords": [], "clicked": [ids[-2]]}).json()
    assert r["order"][0]["id"] == ids[-2]
    # nothing known about the reader: the listing keeps its order
    r = client.post("/api/taste", json={"ids": ids, "keywords": [], "clicked": []}).json()
    assert [x["id"] for x in r["order"]] == ids


def test_semantic_and_hybrid_switch(indexed: Searcher) -> None:
    # a low similarity floor, so that the neighbours of this query are results (at the
    # default floor few are: tests/test_search_honest.py)
    loose = Searcher(indexed.store, embedder=indexed.embedder, floor=0.2)
    query = "protein folding structure prediction"
    kw = loose.search(query, mode="keyword", per_page=20)
    hy = loose.search(query, per_page=20)
    sem = loose.search(query, mode="semantic", per_page=20)
    assert hy.mode == "hybrid" and len(sem.items) == 20
    assert hy.total >= kw.total and {r.source for r in hy.items} & {"semantic", "both"}
    assert len(indexed.search(query, mode="semantic").items) < 20  # the floor holds them back
    # semantic hits obey filters
    filt = loose.search("language models reasoning cat:cs.CL", mode="semantic", per_page=20)
    assert filt.items and all("cs.CL" in r.paper.categories for r in filt.items)
    off = Searcher(indexed.store, semantic=False).search("protein folding")
    assert off.mode == "keyword"


def test_hnsw_above_the_exact_limit_agrees_with_the_exact_scan(indexed: Searcher) -> None:
    exact = VectorIndex(indexed.store)
    exact.refresh(force=True)
    ann = VectorIndex(indexed.store, exact_limit=100)  # force the background HNSW build
    ann.refresh(force=True)
    deadline = time.monotonic() + 60
    while ann.hnsw is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ann.hnsw is not None and len(ann.hnsw) == len(exact) > 3000
    overlap, found = [], []
    for i in range(0, len(exact), len(exact) // 20):
        q = exact.matrix[i]
        a, b = [k for k, _ in exact.search(q, 10)], [k for k, _ in ann.search(q, 10)]
        me = int(exact.keys[i])  # a paper is its own nearest neighbour (barring duplicates)
        assert me in a[:3]
        found.append(me in b[:3])  # approximate: near-twins may, rarely, hide it
        overlap.append(len(set(a) & set(b)) / 10)
    assert sum(found) >= len(found) - 1, found
    assert sum(overlap) / len(overlap) >= 0.9


# ---- kept cards (web/cards.py) ------------------------------------------------------------


def test_vector_search_above_a_floor_and_the_ids_held_with_the_vectors(
    indexed: Searcher,
) -> None:
    vi = VectorIndex(indexed.store)
    vi.refresh(force=True)
    with indexed.store.engine.connect() as conn:
        named = dict(conn.exec_driver_sql("SELECT docid, paper_id FROM search_docs").all())
    for i in range(0, len(vi), len(vi) // 10):
        q = vi.matrix[i]
        full = vi.search(q, 200)
        cos = [c for _, c in full]
        assert cos == sorted(cos, reverse=True)
        for floor in (0.5, 0.8, 2.0):
            # the first of the full ranking that reach the floor, in its order
            want = [(d, c) for d, c in full if c >= floor][:50]
            got = vi.search(q, 50, floor=floor)
            assert [round(c, 5) for _, c in got] == [round(c, 5) for _, c in want]
            assert {d for d, _ in got} <= {d for d, c in full if c >= floor}
        # the ids are the store's, without a query
        docids = [d for d, _ in full]
        assert vi.paper_ids(docids) == {d: named[d] for d in docids}
    assert vi.paper_ids([-1]) == {}  # not held: left out, as the query left it out


def test_kept_cards_make_the_same_pages_as_cards_rendered_afresh(indexed: Searcher) -> None:
    # pages that share papers, each with its own per-page parts: the "similar" label, the
    # snippet, how a card matched, its number; one site keeps nothing (the reference)
    urls = [
        "/arxiv/search?query=linear+attention",
        "/arxiv/search?query=attention+graph",  # matches and papers similar in meaning
        "/arxiv/search?query=attention",
        "/arxiv/search?query=attention&mode=semantic",
        "/arxiv/search?query=attention&page=2",
        "/arxiv/search?query=attention&mode=keyword&sort=date",
        "/arxiv/related/" + indexed.search("attention").items[0].paper.id,
    ]
    sites = [
        TestClient(
            create_app(Settings(database_url="sqlite://", card_cache_bytes=b), indexed.store)
        )
        for b in (0, 64 << 20, 64 << 20)
    ]
    fresh, warm, reverse = sites
    want = [fresh.get(u).text for u in urls]
    got = [warm.get(u).text for u in urls]
    got_rev = [reverse.get(u).text for u in reversed(urls)][::-1]
    assert got == want and got_rev == want
    cards = sum(p.count('class="panel paper"') for p in want)
    assert 'data-match="semantic"' in want[1] and 'data-match="semantic"' not in want[2]
    kept = warm.app.state.site.cards  # type: ignore[attr-defined]
    assert len(fresh.app.state.site.cards) == 0  # type: ignore[attr-defined]
    assert 0 < kept.rendered < cards  # papers shown on two pages were rendered once


def test_a_kept_card_follows_its_papers_change(indexed: Searcher) -> None:
    c = TestClient(create_app(Settings(database_url="sqlite://", page_cache_ttl=0), indexed.store))
    p = Paper("2606.99077", "Wombat burrows, first", "Wombats dig.", ["A. B"], ["q-bio.PE"])
    indexed.store.write(Batch(papers=[p]))
    assert "Wombat burrows, first" in c.get(f"/arxiv/{p.id}").text
    indexed.store.write(Batch(papers=[replace(p, title="Wombat burrows, second")]))
    page = c.get(f"/arxiv/{p.id}").text
    assert "Wombat burrows, second" in page and "burrows, first" not in page
    # a paper fetched on demand is shown before it is stored: its text is in the key
    cards = c.app.state.site.cards  # type: ignore[attr-defined]
    other = Paper(p.id, "Wombat burrows, third", "Wombats dig.", ["A. B"], ["q-bio.PE"])
    assert "third" in cards(other, 1) and "second" not in cards(other, 1)
    assert "#7<" in cards(other, 7).replace(" ", "")


def test_kept_cards_stay_within_their_bytes(indexed: Searcher) -> None:
    c = TestClient(
        create_app(Settings(database_url="sqlite://", card_cache_bytes=20_000), indexed.store)
    )
    doc = c.get("/arxiv/search?query=model&show=50").text
    cards = c.app.state.site.cards  # type: ignore[attr-defined]
    assert doc.count('class="panel paper"') == 50
    assert 0 < len(cards) < 50 and cards.bytes <= 20_000
