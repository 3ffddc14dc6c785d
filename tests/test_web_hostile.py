"""Hostile input (issue 11): what one client sends never reaches another client's page, never
grows the page cache without bound, and is never a 500, on both backends."""

from __future__ import annotations

import gzip
import json
import random
from datetime import date

import pytest
from fastapi.testclient import TestClient

from coolpapers.config import Settings
from coolpapers.search.query import parse
from coolpapers.sources.arxiv.files import import_files
from coolpapers.store import Store
from coolpapers.web.app import create_app, page_key
from coolpapers.web.cache import PageCache, page_headers
from coolpapers.web.edge import MAX_BODY
from tests.conftest import SAMPLE

DAY = "2026-06-04"
BASE = "https://papers.example.org/cool"


@pytest.fixture
def client(store: Store) -> TestClient:
    import_files(store, [SAMPLE / f"{DAY}.jsonl.gz"])
    settings = Settings(
        database_url="sqlite://", fetch_on_demand=False, page_size=20, base_url=BASE + "/"
    )
    return TestClient(create_app(settings, store))


def site(client: TestClient):  # type: ignore[no-untyped-def]
    return client.app.state.site  # type: ignore[attr-defined]


# ---- (2) the Host header never reaches a feed --------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/arxiv/cs.CL/feed",
        f"/arxiv/cs.CL/feed?date={DAY}",
        "/arxiv/2606.04001,2606.04002/feed",
        "/arxiv/search/feed?query=language",
    ],
)
def test_feeds_link_to_the_configured_base_whatever_the_host(client: TestClient, url: str) -> None:
    evil = client.get(url, headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"})
    normal = client.get(url)
    for r in (evil, normal):
        assert r.status_code == 200, r.text[:300]
        assert "evil.example" not in r.text
        assert "testserver" not in r.text
        assert f'rel="self" type="application/atom+xml" href="{BASE}/arxiv/' in r.text
    assert evil.content == normal.content


def test_related_feed_links_to_the_configured_base(store: Store) -> None:
    from coolpapers.search.indexer import catch_up

    import_files(store, [SAMPLE / f"{DAY}.jsonl.gz"])
    catch_up(store)
    pid = store.listing(["cs.CL"], [], date.fromisoformat(DAY))[0].paper.id
    settings = Settings(database_url="sqlite://", fetch_on_demand=False, base_url=BASE)
    c = TestClient(create_app(settings, store))
    r = c.get(f"/arxiv/related/{pid}/feed", headers={"Host": "evil.example"})
    assert r.status_code == 200 and "evil.example" not in r.text
    assert f"<id>{BASE}/arxiv/related/{pid}/feed</id>" in r.text


# ---- (3) the page cache: keyed on what a page reads, bounded in bytes -----------------------


def test_junk_parameters_share_one_cache_entry(client: TestClient, store: Store) -> None:
    cache = site(client).cache
    pid = store.listing(["cs.CL"], [], date.fromisoformat(DAY))[0].paper.id
    first = client.get(f"/arxiv/cs.CL?date={DAY}")
    assert first.status_code == 200
    for n in range(200):
        r = client.get(f"/arxiv/cs.CL?date={DAY}&junk={n}&utm_source=x{n}")
        assert r.status_code == 200 and r.content == first.content
    # the same page spelled otherwise (repeats, order, numbers) is the same entry too
    for url in (
        f"/arxiv/cs.CL?date=2026-01-01&date={DAY}",  # the last wins, as the page reads it
        f"/arxiv/cs.CL?show=&date={DAY}",
    ):
        assert client.get(url).content == first.content
    assert len(cache) == 1
    # what a page does read still makes pages of their own
    shown = client.get(f"/arxiv/cs.CL?date={DAY}&show=3")
    assert shown.content != first.content
    assert client.get(f"/arxiv/cs.CL?show=03&date={DAY}&x=1").content == shown.content
    assert len(cache) == 2
    # the home page and papers by id read no parameter at all
    client.get("/?a=1"), client.get("/?b=2")
    client.get(f"/arxiv/{pid}?date=2026-06-01"), client.get(f"/arxiv/{pid}?show=9")
    assert len(cache) == 4


def test_cache_key_is_what_the_page_reads() -> None:
    assert page_key("/arxiv/cs.CL", b"junk=1&date=2026-06-04") == page_key(
        "/arxiv/cs.CL", b"date=20260604"
    )
    assert page_key("/arxiv/cs.CL/feed", b"show=5") == page_key("/arxiv/cs.CL/feed", b"")
    assert page_key("/arxiv/cs.CL/more", b"date=2026-06-04&offset=-5&limit=-3") == page_key(
        "/arxiv/cs.CL/more", b"limit=1&date=2026-06-04&offset=0"
    )
    assert page_key("/arxiv/cs.CL", b"date=nope") is None  # a 404, never stored
    assert page_key("/api/search", b"query=x") is None  # not a cached page


class _Gen:
    def generation(self) -> str:
        return "g1"


def test_page_cache_is_bounded_in_bytes() -> None:
    body = random.Random(0).randbytes(100_000)  # that gzip cannot shrink: kept as it is
    cache = PageCache(_Gen(), max_bytes=350_000)  # type: ignore[arg-type]
    sizes = []
    for n in range(10):
        cache.lookup(f"/p{n}")
        sizes.append(cache.store_page(f"/p{n}", body + bytes([n]), "text/html").size)
        cache.lookup("/p0")  # the most recently used stays
        assert cache.bytes <= cache.max_bytes
    assert cache.bytes == sum(sizes[:1] + sizes[-(len(cache) - 1) :])
    assert len(cache) == 350_000 // sizes[0] and cache.lookup("/p0") is not None
    assert cache.lookup("/p1") is None and cache.lookup("/p9") is not None
    # a page bigger than the whole cache is served, not kept
    cache.store_page("/huge", body * 10, "text/html")
    assert cache.lookup("/huge") is None and cache.bytes <= cache.max_bytes


def test_a_page_is_kept_gzipped_only() -> None:
    """A page is held (and passed from a search process) as its gzip alone; a client that
    does not take gzip gets the same bytes as rendered."""
    cache = PageCache(_Gen())  # type: ignore[arg-type]
    body = ("<div class='paper'>Attention is all you need</div>\n" * 2000).encode()
    page = cache.store_page("/p", body, "text/html")
    assert page.gzipped and cache.bytes == page.size < len(body) / 10
    plain, headers = page_headers(page, "identity")
    assert plain == body and (b"content-length", str(len(body)).encode()) in headers
    zipped, headers = page_headers(page, "gzip, br")
    assert gzip.decompress(zipped) == body and (b"content-encoding", b"gzip") in headers
    small = cache.store_page("/s", b"<p>short</p>", "text/html")  # not worth compressing
    assert not small.gzipped and page_headers(small, "gzip")[0] == b"<p>short</p>"


# ---- (4) control characters are cleaned at the edge, the same on both engines ---------------


@pytest.mark.parametrize(
    "url",
    ["/api/keywords?ids=%00", "/api/counters?ids=%00", "/api/counters?ids=2606.04001%00,%01"],
)
def test_control_characters_in_queries_are_not_500s(client: TestClient, url: str) -> None:
    r = client.get(url)
    assert r.status_code == 200, r.text[:300]
    assert isinstance(r.json(), dict)


def test_control_characters_in_json_bodies_are_cleaned(client: TestClient) -> None:
    body = {"ids": ["2606.04001", "\x00", "2606\x00.04002"], "keywords": ["lang\x00uage"],
            "clicked": ["\x00"]}  # fmt: skip
    r = client.post("/api/taste", json=body)
    assert r.status_code == 200, r.text[:300]
    assert [o["id"] for o in r.json()["order"]] == ["2606.04001", " ", "2606 .04002"]


def test_control_characters_in_the_path_are_a_400(client: TestClient) -> None:
    for url in ("/arxiv/cs.CL%00", "/api/papers/2606.04001%00", "/arxiv/related/%00/feed"):
        r = client.get(url)
        assert r.status_code == 400, (url, r.status_code)


def test_search_with_control_characters_still_searches(client: TestClient) -> None:
    r = client.get("/api/search?query=language%00models&mode=keyword")
    assert r.status_code == 200 and r.json()["query"] == "language models"


# ---- (6) odd numbers, NaN, huge inputs: bounded, never a 500 --------------------------------


@pytest.mark.parametrize(
    "text",
    ["date:99999999999999999999", "after:99999999999999999999", "before:99999999999999999999",
     "date:2026-99999999999999999999", "date:1..99999999999999999999", "after:0"],
)  # fmt: skip
def test_out_of_range_dates_are_words(text: str) -> None:
    q = parse(f"language {text}", since="99999999999999999999", until="-99999999999999999999")
    assert q.since is None and q.until is None and q.has_text


@pytest.mark.parametrize(
    "url",
    [
        "/arxiv/search?query=date:99999999999999999999",
        "/api/search?query=a+after:99999999999999999999",
        "/api/search?query=a+before:99999999999999999999&mode=keyword",
        "/api/search?query=a&from=99999999999999999999&to=99999999999999999999",
        "/arxiv/search/feed?query=a&from=99999999999999999999",
        "/arxiv/cs.CL?show=99999999999999999999",
        f"/arxiv/cs.CL/more?date={DAY}&offset=99999999999999999999&limit=99999999999999999999",
        f"/arxiv/cs.CL/more?date={DAY}&offset=-99999999999999999999",
    ],
)
def test_huge_numbers_in_pages_are_not_500s(client: TestClient, url: str) -> None:
    r = client.get(url)
    assert r.status_code == 200, r.text[:300]


def test_huge_numbers_in_the_api_are_422s(client: TestClient) -> None:
    r = client.get("/api/listing/cs.CL?offset=99999999999999999999")
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "offset"]


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity", "1e309", "[1e309]", '{"a": NaN}'])
def test_non_finite_json_is_a_422_not_a_500(client: TestClient, raw: str) -> None:
    body = f'{{"ids": {raw}, "keywords": [{raw}], "clicked": []}}'
    r = client.post("/api/taste", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text[:300]
    assert all({"loc", "msg", "type"} == set(e) for e in r.json()["detail"])


def test_taste_bounds_its_input(client: TestClient) -> None:
    pid = "2606.04001"
    # a 200 kB keyword is cut to a phrase's worth of words: answered, not a worker held
    r = client.post("/api/taste", json={"ids": [pid], "keywords": ["language " * 25_000]})
    assert r.status_code == 200 and r.json()["order"][0]["id"] == pid
    # no id is 200 kB long
    r = client.post("/api/taste", json={"ids": ["2" * 200_000]})
    assert r.status_code == 422
    # and no body is more than MAX_BODY, whether it says its length or not
    big = json.dumps({"ids": [pid] * (MAX_BODY // 10)})
    r = client.post("/api/taste", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413

    def chunks():  # type: ignore[no-untyped-def]
        yield big.encode()

    r = client.post("/api/taste", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_taste_keywords_are_cut_to_a_phrase() -> None:
    from coolpapers.web.search import KEYWORD_CHARS, TasteRequest

    got = TasteRequest(keywords=["language " * 25_000, "a\x00b"]).keywords
    assert got == [("language " * 25_000)[:KEYWORD_CHARS], "a b"]


def test_long_paths_and_query_strings_are_414s(client: TestClient) -> None:
    assert client.get("/api/keywords?ids=" + "2606.04001," * 5000).status_code == 414
    assert client.get("/arxiv/" + "2606.04001," * 1000).status_code == 414
