"""Harvest runs end to end: real client, replay server, real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import pytest

from coolpapers.records import Kind
from coolpapers.sources.arxiv import harvest, oai
from coolpapers.sources.arxiv.ids import BadId
from coolpapers.sources.http import FetchError
from coolpapers.store.store import Store
from tests.replay import (
    FIXTURES,
    Replay,
    Reply,
    fake_client,
    recorded_bytes,
    require_shared,
    settings_for,
    xml,
)
from tests.test_oai import new_style_token
from tests.test_rss import RSS_ITEM, TITLE, rss_feed

DAY = date(2024, 8, 23)  # the documented item's announcement day


@pytest.fixture
def server() -> Iterator[Replay]:
    require_shared()
    with Replay() as r:
        r.load_api_fixtures()
        yield r


def oai_fixture(name: str) -> bytes:
    return (FIXTURES / "arxiv-oai" / name).read_bytes()


def untitled_item(arxiv_id: str) -> str:
    """Variant of the documented item: another id, and no title (too incomplete to store)."""
    item = RSS_ITEM.replace(f"<title>{TITLE}</title>", "")
    return item.replace("2203.01250v3", f"{arxiv_id}v1").replace("2203.01250", arxiv_id)


def test_announcements_are_stored_idempotently(server: Replay, store: Store) -> None:
    server.add("/rss/math.OC", xml(rss_feed(RSS_ITEM)))
    with fake_client(store, settings_for(server)) as client:
        first = harvest.harvest_announcements(store, client, ["math.OC"])
        again = harvest.harvest_announcements(store, client, ["math.OC"])
    assert (first.feeds, first.papers, first.announcements) == (1, 1, 1)
    assert first.listed == again.listed == {("math.OC", DAY): {"2203.01250": Kind.REPLACE_CROSS}}
    assert store.count_papers() == 1
    assert store.announced_ids("math.OC", DAY) == {"2203.01250"}
    [listed] = store.listing(["math.OC"], [], DAY)
    assert (listed.paper.title, listed.kind) == (TITLE, Kind.REPLACE_CROSS)


def test_one_combined_feed_for_several_categories(server: Replay, sqlite_store: Store) -> None:
    server.add("/rss/math.AP+math.OC", xml(rss_feed(RSS_ITEM)))
    with fake_client(sqlite_store, settings_for(server)) as client:
        report = harvest.harvest_announcements(sqlite_store, client, ["math.AP", "math.OC"])
    assert [h.path for h in server.hits] == ["/rss/math.AP+math.OC"]  # one request
    assert set(report.listed) == {("math.AP", DAY), ("math.OC", DAY)}
    assert sqlite_store.announced_ids("math.AP", DAY) == {"2203.01250"}
    assert sqlite_store.announced_ids("math.OC", DAY) == {"2203.01250"}


def test_empty_feed_is_reported(server: Replay, sqlite_store: Store) -> None:
    server.add("/rss/math.OC", xml(rss_feed()))
    with fake_client(sqlite_store, settings_for(server)) as client:
        report = harvest.harvest_announcements(sqlite_store, client, ["math.OC"])
    assert report.empty == [f"{server.url}/rss/math.OC"]
    assert report.listed == {} and sqlite_store.count_papers() == 0


def test_incomplete_feed_item_is_backfilled_from_the_api(server: Replay, store: Store) -> None:
    # 1605.08386 is listed without a title: its metadata comes from the export API.
    server.add("/rss/math.OC", xml(rss_feed(RSS_ITEM, untitled_item("1605.08386"))))
    with fake_client(store, settings_for(server)) as client:
        report = harvest.harvest_announcements(store, client, ["math.OC"])
        assert report.skipped == 1
        listed = report.listed[("math.OC", DAY)]
        check = harvest.check_complete(store, client, "math.OC", DAY, listed)
        assert (check.missing, check.backfilled, check.not_found) == (
            ["1605.08386"],
            ["1605.08386"],
            [],
        )
        assert check.complete
        api_hits = server.hits_for("/api/query")
        assert [h.params["id_list"] for h in api_hits] == ["1605.08386"]
        # all there now: a second check fetches nothing
        again = harvest.check_complete(store, client, "math.OC", DAY, listed)
    assert again.missing == [] and len(server.hits_for("/api/query")) == 1
    assert store.announced_ids("math.OC", DAY) == {"2203.01250", "1605.08386"}
    kinds = {x.paper.id: x.kind for x in store.listing(["math.OC"], [], DAY)}
    assert kinds["1605.08386"] == Kind.REPLACE_CROSS  # the feed's type, not a guess
    assert (
        store.papers(["1605.08386"])["1605.08386"].title
        == "Heat-bath random walks with Markov bases"
    )


def test_check_complete_with_bare_ids(server: Replay, sqlite_store: Store) -> None:
    with fake_client(sqlite_store, settings_for(server)) as client:
        # 0808.05394 does not exist (the recorded API answer is empty)
        a = harvest.check_complete(sqlite_store, client, "math.ST", DAY, ["1605.08386"])
        b = harvest.check_complete(sqlite_store, client, "math.ST", DAY, ["0808.05394"])
    assert a.backfilled == ["1605.08386"] and a.complete
    # v1 whose primary is math.CO: a cross-list in math.ST
    [listed] = sqlite_store.listing(["math.ST"], [], DAY)
    assert listed.kind == Kind.CROSS
    assert b.not_found == ["0808.05394"] and not b.complete


def test_fetch_ids_on_demand(server: Replay, sqlite_store: Store) -> None:
    server.add("/rss/math.OC", xml(rss_feed(RSS_ITEM)))
    # arXiv's recorded empty answer (to id_list=0000.0000), for an id it does not have
    [empty] = (FIXTURES / "arxiv-api").glob("id_0000.0000_*.json")
    body = recorded_bytes(json.loads(empty.read_text("utf-8"))["body"])
    server.add("/api/query", xml(body), id_list="0808.5394")
    with fake_client(sqlite_store, settings_for(server)) as client:
        harvest.harvest_announcements(sqlite_store, client, ["math.OC"])
        got = harvest.fetch_ids(
            sqlite_store, client, ["arXiv:1605.08386v1", "https://arxiv.org/abs/2203.01250"]
        )
        assert list(got) == ["1605.08386", "2203.01250"]
        assert got["1605.08386"].authors == ["Caprice Stanley", "Tobias Windisch"]
        # asked unversioned, so that arXiv answers with the latest version
        assert [h.params["id_list"] for h in server.hits_for("/api/query")] == ["1605.08386"]
        again = harvest.fetch_ids(sqlite_store, client, ["1605.08386"])
        assert again["1605.08386"].title == got["1605.08386"].title
        assert len(server.hits_for("/api/query")) == 1  # stored: not fetched twice
        # 0808.05394 is written 0808.5394 (ids.parse); arXiv knows neither
        assert harvest.fetch_ids(sqlite_store, client, ["0808.05394"]) == {}
        assert server.hits[-1].params["id_list"] == "0808.5394"
        with pytest.raises(BadId):
            harvest.fetch_ids(sqlite_store, client, ["not an id"])


def test_oai_harvest_resumes_after_a_kill_and_records_done(server: Replay, store: Store) -> None:
    # Page 1: arXiv's real arXivRaw page with its token 726959|1001. Page 2 (arXiv's real
    # arXiv-format page, no token: the end) first fails for good, killing the harvest.
    server.add("/oai2", xml(oai_fixture("ListRecordsResponse.xml")), metadataPrefix="arXivRaw")
    final = xml(oai_fixture("listrecords_should-list-identifiers-from-arxiv_1_200.xml"))
    server.add("/oai2", [Reply(503, b"down")] * 4 + [final], resumptionToken="726959|1001")
    key = harvest.oai_checkpoint_key("physics:nucl-th", "2014-10-01")
    pages: list[int] = []
    with fake_client(store, settings_for(server)) as client:
        with pytest.raises(FetchError):
            harvest.harvest_oai(store, client, "physics:nucl-th", "2014-10-01")
        assert store.get_state(key) == "726959|1001"
        assert store.count_papers() == 6
        report = harvest.harvest_oai(
            store, client, "physics:nucl-th", "2014-10-01", progress=lambda r: pages.append(r.pages)
        )
        assert report.resumed and report.done and report.pages == 1 and report.papers == 2
        assert pages == [1]
        assert store.get_state(key) == harvest.OAI_DONE
        assert store.count_papers() == 8
        hits = len(server.hits)
        finished = harvest.harvest_oai(store, client, "physics:nucl-th", "2014-10-01")
    assert finished.already_done and len(server.hits) == hits  # nothing fetched again
    first = server.hits[0].params
    assert first == {
        "verb": "ListRecords",
        "metadataPrefix": "arXivRaw",
        "set": "physics:nucl-th",
        "from": "2014-10-01",
    }
    assert server.hits[-1].params == {"verb": "ListRecords", "resumptionToken": "726959|1001"}
    p = store.papers(["0704.0716"])["0704.0716"]
    assert p.version == 4 and p.categories == ["math-ph"]


def test_oai_harvest_with_the_new_services_tokens(server: Replay, sqlite_store: Store) -> None:
    token = new_style_token(3500)
    raw = oai_fixture("ListRecordsResponse.xml").decode()
    old = '<resumptionToken cursor="0" completeListSize="58011">726959|1001</resumptionToken>'
    page1 = raw.replace(
        old, f"<resumptionToken expirationDate='2026-01-02T00:00:00Z'>{token}</resumptionToken>"
    )
    last = oai_fixture("listrecords_should-list-identifiers-from-arxiv_1_200.xml").decode()
    page2 = last.replace("</ListRecords>", "<resumptionToken/>\n</ListRecords>")
    server.add("/oai2", xml(page1), metadataPrefix="arXivRaw")
    server.add("/oai2", xml(page2), resumptionToken=token)
    with fake_client(sqlite_store, settings_for(server)) as client:
        report = harvest.harvest_oai(sqlite_store, client, None, "2014-10-01")
    assert report.done and report.pages == 2 and report.papers == 8
    # the token went back exactly as arXiv wrote it (percent signs and all)
    assert server.hits[1].params == {"verb": "ListRecords", "resumptionToken": token}
    assert "set" not in server.hits[0].params


def test_expired_stored_token_starts_over(server: Replay, sqlite_store: Store) -> None:
    key = harvest.oai_checkpoint_key("cs", "2015-01-01", "2015-01-03", "arXiv")
    sqlite_store.set_state(key, "expired-token")
    server.add(
        "/oai2",
        xml(oai_fixture("ErrorResponseBadResumptionToken.xml")),
        resumptionToken="expired-token",
    )
    server.load_oai_fixtures()  # the recorded 503 + page for this exact request
    with fake_client(sqlite_store, settings_for(server)) as client:
        report = harvest.harvest_oai(
            sqlite_store, client, "cs", "2015-01-01", "2015-01-03", "arXiv"
        )
    assert report.restarted and report.done and report.papers == 2
    assert sqlite_store.get_state(key) == harvest.OAI_DONE


def test_no_records_match_finishes_empty(server: Replay, sqlite_store: Store) -> None:
    server.add("/oai2", xml(oai_fixture("ErrorResponseNoRecordsMatch.xml")), set="moo")
    with fake_client(sqlite_store, settings_for(server)) as client:
        report = harvest.harvest_oai(sqlite_store, client, "moo", "2015-01-01")
    assert report.done and report.papers == 0 and report.pages == 1


def test_other_oai_errors_raise(server: Replay, sqlite_store: Store) -> None:
    server.add("/oai2", xml(oai_fixture("ErrorResponseBadArgument.xml")))
    with (
        fake_client(sqlite_store, settings_for(server)) as client,
        pytest.raises(oai.OaiError, match="badArgument"),
    ):
        harvest.harvest_oai(sqlite_store, client, None, "2015-01-01")
    assert sqlite_store.get_state(harvest.oai_checkpoint_key(None, "2015-01-01")) is None
