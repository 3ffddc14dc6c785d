"""The JSON API (issue 5): listings and papers as JSON, the OpenAPI document, the feed of ids.
On both backends, on real records from the shipped sample."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from coolpapers.config import Settings
from coolpapers.sources.arxiv.files import import_files
from coolpapers.store import Store
from coolpapers.web.app import create_app
from tests.conftest import SAMPLE

DAYS = ["2026-06-03", "2026-06-04"]
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def client(store: Store) -> TestClient:
    import_files(store, [SAMPLE / f"{d}.jsonl.gz" for d in DAYS])
    settings = Settings(database_url="sqlite://", fetch_on_demand=False, page_size=20)
    return TestClient(create_app(settings, store))


def test_listing_json_matches_the_store(client: TestClient, store: Store) -> None:
    r = client.get("/api/listing/cs.CL?date=2026-06-04")
    assert r.status_code == 200, r.text
    j = r.json()
    expected = store.listing(["cs.CL"], [], date(2026, 6, 4))
    assert j["day"] == "2026-06-04" and j["spec"] == "cs.CL"
    assert j["total"] == len(expected) == len(j["entries"]) > 10
    assert [e["paper"]["id"] for e in j["entries"]] == [it.paper.id for it in expected]
    assert sum(g["count"] for g in j["groups"]) == j["total"]
    first = j["entries"][0]
    assert first["n"] == 1 and first["kind"] == "new"
    assert first["paper"]["pdf_url"].startswith("https://arxiv.org/pdf/" + first["paper"]["id"])
    assert j["previous"] == "2026-06-03" and j["next"] is None


def test_listing_json_pages_and_errors(client: TestClient) -> None:
    whole = client.get("/api/listing/cs.CL?date=2026-06-04").json()
    part = client.get("/api/listing/cs.CL?date=2026-06-04&offset=5&limit=3").json()
    assert [e["n"] for e in part["entries"]] == [6, 7, 8]
    assert part["entries"] == whole["entries"][5:8]
    assert client.get("/api/listing/cs.NOPE").status_code == 404
    assert client.get("/api/listing/2309.16354").status_code == 404
    assert client.get("/api/listing/cs.CL?date=yesterday").status_code == 422
    weekend = client.get("/api/listing/cs.CL?date=2026-06-06").json()
    assert weekend["day"] is None and weekend["requested"] == "2026-06-06"
    assert weekend["entries"] == []


def test_papers_by_id_in_order_with_missing(client: TestClient) -> None:
    ids = [e["paper"]["id"] for e in client.get("/api/listing/cs.CL").json()["entries"][:3]]
    one = client.get(f"/api/papers/{ids[0]}v1")
    assert one.status_code == 200 and one.json()["id"] == ids[0]
    many = client.get(f"/api/papers?ids={ids[2]},{ids[0]},0801.0001").json()
    assert [p["id"] for p in many["papers"]] == [ids[2], ids[0]]
    assert many["missing"] == ["0801.0001"]
    assert client.get("/api/papers/0801.0001").status_code == 404
    assert client.get("/api/papers?ids=nonsense").status_code == 400


def test_openapi_documents_the_api(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    for path in ("/api/listing/{spec_}", "/api/papers", "/api/papers/{paper_id}"):
        assert path in doc["paths"], sorted(doc["paths"])
    assert "ListingOut" in doc["components"]["schemas"]
    assert client.get("/api/docs").status_code == 200


def test_atom_feed_of_ids(client: TestClient) -> None:
    ids = [e["paper"]["id"] for e in client.get("/api/listing/cs.CL").json()["entries"][:2]]
    r = client.get(f"/arxiv/{ids[1]},{ids[0]}/feed")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/atom+xml")
    feed = etree.fromstring(r.content)
    got = [e.findtext(f"{ATOM}id").rsplit("/arxiv/", 1)[1] for e in feed.iter(f"{ATOM}entry")]
    assert got == [ids[1], ids[0]]
    # category feeds still reach the app's own route
    cat = client.get("/arxiv/cs.CL/feed")
    assert cat.status_code == 200 and b"<entry>" in cat.content


def test_paper_json_links_and_bibtex_come_from_its_source(client: TestClient) -> None:
    pid = client.get("/api/listing/cs.CL?date=2026-06-04").json()["entries"][0]["paper"]["id"]
    j = client.get(f"/api/papers/{pid}").json()
    assert j["source"] == "arxiv" and j["abs_url"] == f"https://arxiv.org/abs/{pid}"
    assert j["html_url"] == f"https://arxiv.org/html/{pid}"
    r = client.get(f"/api/papers/{pid}v1/bibtex")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert "max-age" in r.headers["cache-control"]
    assert r.text.startswith("@misc{") and f"eprint={{{pid}}}," in r.text
    assert f"url={{https://arxiv.org/abs/{pid}}}," in r.text
    assert client.get("/api/papers/2606.99999/bibtex").status_code == 404
    assert client.get("/api/papers/nope/bibtex").status_code == 400
    # the route is in the OpenAPI document, as plain text
    spec = client.get("/openapi.json").json()["paths"]["/api/papers/{paper_id}/bibtex"]
    assert "text/plain" in spec["get"]["responses"]["200"]["content"]
