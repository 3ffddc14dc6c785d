"""One search over both branches: the shipped arXiv sample and its real venue papers (EACL
2024 from the ACL Anthology, COLT 2026 from PMLR) in one index; /arxiv/search keeps to
arXiv, /venue/search to the venues, /search takes both; `venue:` and `source:` filters;
semantic hits obey the same scope."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from coolpapers.config import Settings
from coolpapers.search.indexer import catch_up
from coolpapers.search.service import Searcher
from coolpapers.sources import formats
from coolpapers.sources.arxiv.files import import_files
from coolpapers.web.app import create_app
from tests.conftest import SAMPLE
from tests.search_fixtures import open_clean

VENUES = SAMPLE / "venues"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def both(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Searcher]:
    store = open_clean(request.param, tmp_path_factory.mktemp("both"), request)
    import_files(store, sorted(SAMPLE.glob("*.jsonl.gz")))
    report = formats.VenueReport()
    for f in sorted(VENUES.iterdir()):
        found = formats.venue_format(f)
        assert found is not None, f
        formats.import_venue(store, f, found[1], report)
    assert report.stored == 281 + 197 and not report.failed
    catch_up(store)
    yield Searcher(store)
    store.engine.dispose()


def _keys(s: Searcher, query: str, **kw: object) -> list[str]:
    res = s.search(query, per_page=200, **kw)  # type: ignore[arg-type]
    return [r.paper.id for r in res.items]


def test_one_index_both_branches(both: Searcher) -> None:
    # "learning" is in papers of every source here
    every = _keys(both, "learning", mode="keyword")
    assert any("@" not in k for k in every)
    assert any(k.endswith("@ACL") for k in every) and any(k.endswith("@PMLR") for k in every)
    arxiv = _keys(both, "learning", mode="keyword", branch="arxiv")
    venue = _keys(both, "learning", mode="keyword", branch="venue")
    assert arxiv and all("@" not in k for k in arxiv)
    assert venue and all("@" in k for k in venue)
    total = both.search("learning", mode="keyword").total
    assert total == (
        both.search("learning", mode="keyword", branch="arxiv").total
        + both.search("learning", mode="keyword", branch="venue").total
    )


def test_venue_and_source_filters(both: Searcher) -> None:
    eacl = _keys(both, "language venue:EACL.2024", mode="keyword")
    assert eacl and all(k.endswith("@ACL") and ".eacl-" in k for k in eacl)
    assert _keys(both, "language venue:eacl", mode="keyword") == eacl  # any case, all editions
    assert _keys(both, "language venue:EACL.1999", mode="keyword") == []
    colt = _keys(both, "source:pmlr", mode="keyword")
    assert len(colt) == 197 and all(k.endswith("@v336@PMLR") for k in colt)
    assert both.search("source:acl").total == 281
    only_arxiv = _keys(both, "learning source:arxiv", mode="keyword")
    assert only_arxiv and all("@" not in k for k in only_arxiv)
    assert _keys(both, "learning source:nosuchsource", mode="keyword") == []
    # a filter alone lists its papers, newest first
    assert both.search("venue:COLT.2026").total == 197


def test_semantic_hits_keep_to_the_scope(both: Searcher) -> None:
    # a low similarity floor: neighbours enough in each branch to see where they come from
    loose = Searcher(both.store, embedder=both.embedder, floor=0.3)
    for branch, ok in (("venue", lambda k: "@" in k), ("arxiv", lambda k: "@" not in k)):
        for mode in ("semantic", "hybrid"):
            for s in (both, loose):
                got = _keys(s, "bandit regret bounds", mode=mode, branch=branch)
                assert all(ok(k) for k in got), (branch, mode)
            assert got, (branch, mode)


@pytest.mark.parametrize("branch", [None, "arxiv", "venue"])
def test_one_total_for_every_sort_in_every_scope(both: Searcher, branch: str | None) -> None:
    """The matches and the similar papers of a scope are the same set in either order."""
    loose = Searcher(both.store, embedder=both.embedder, floor=0.3)
    for s in (both, loose):
        for mode in ("hybrid", "semantic"):
            got = {}
            for sort in ("relevance", "date"):
                res = s.search("bandit regret bounds", mode=mode, sort=sort, per_page=500,
                               branch=branch, snippets=False)  # fmt: skip
                assert len(res.items) == res.total == res.matched + res.similar
                got[sort] = {r.paper.id: r.source for r in res.items}
            assert got["relevance"] == got["date"], (mode, branch)
    res = loose.search("bandit regret bounds", branch=branch, per_page=500)
    assert res.similar > 0 and all(
        ("@" in r.paper.id) == (branch == "venue") for r in res.items if branch
    )


def test_related_papers_cross_the_branches(both: Searcher) -> None:
    venue_key = _keys(both, "source:acl", mode="keyword")[0]
    rel = both.related(venue_key, k=20)
    assert rel and venue_key not in [r.paper.id for r in rel]


def test_search_pages_of_each_scope(both: Searcher) -> None:
    settings = Settings(_env_file=None, fetch_on_demand=False)  # type: ignore[call-arg]
    client = TestClient(create_app(settings, both.store))
    page = client.get("/venue/search?query=learning&mode=keyword&show=100")
    assert page.status_code == 200
    assert 'id="2024.eacl-long.' in page.text or "@v336@PMLR" in page.text
    assert "/arxiv/2606." not in page.text
    # the switch: the same query in every scope
    assert 'href="/search?query=learning&amp;mode=keyword&amp;show=100"' in page.text
    assert "<strong>conference papers</strong>" in page.text
    # the box atop every page searches both branches
    assert '<form class="top-search" action="/search"' in page.text
    arxiv = client.get("/arxiv/search?query=learning&mode=keyword&show=100").text
    assert "@ACL" not in arxiv and "@PMLR" not in arxiv
    mixed = client.get("/search?query=source:pmlr").text
    assert "@v336@PMLR" in mixed
    feed = client.get("/venue/search/feed?query=learning")
    assert feed.status_code == 200 and "conference papers matching" in feed.text
    api = client.get("/api/search?query=learning&branch=venue&mode=keyword").json()
    assert api["results"] and all("@" in r["id"] for r in api["results"])


def test_pasted_ids_of_any_source_open_their_papers() -> None:
    from coolpapers.search.service import id_redirect

    assert id_redirect("2309.16354v2") == "/arxiv/2309.16354v2"
    assert id_redirect("https://arxiv.org/abs/2309.16354 1706.03762") == (
        "/arxiv/2309.16354,1706.03762"
    )
    assert id_redirect("https://aclanthology.org/2024.eacl-long.1.pdf") == (
        "/venue/2024.eacl-long.1@ACL"
    )
    assert (
        id_redirect("https://openreview.net/forum?id=0JzWiigkUy") == "/venue/0JzWiigkUy@OpenReview"
    )
    assert (
        id_redirect("2024.eacl-long.1@acl, 2309.16354") == "/venue/2024.eacl-long.1@ACL,2309.16354"
    )
    assert id_redirect("attention is all you need") is None
    assert id_redirect("https://aclanthology.org/events/acl-2024/") is None
