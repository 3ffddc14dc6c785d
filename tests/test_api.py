"""The export API through the real client, replaying arXiv's recorded answers
(../shared/fixtures/arxiv-api/*.json)."""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from coolpapers.records import Paper
from coolpapers.sources.arxiv import api
from coolpapers.store.store import Store
from tests.replay import (
    DOCS,
    FIXTURES,
    Replay,
    fake_client,
    recorded_bytes,
    require_shared,
    settings_for,
    xml,
)


@pytest.fixture
def server() -> Iterator[Replay]:
    require_shared()
    with Replay() as r:
        r.load_api_fixtures()
        yield r


def query(server: Replay, store: Store, ids: list[str]) -> list[Paper]:
    with fake_client(store, settings_for(server)) as client:
        return api.query_ids(client, ids)


def test_old_style_id(server: Replay, sqlite_store: Store) -> None:
    [p] = query(server, sqlite_store, ["astro-ph/0601001"])
    assert (p.id, p.version) == ("astro-ph/0601001", 1)
    assert p.title.startswith("Frequency of Hot Jupiters and Very Hot Jupiters")
    assert p.authors == ["Andrew Gould", "Susan Dorsher", "B. Scott Gaudi", "Andrzej Udalski"]
    assert p.categories == ["astro-ph"]
    assert p.journal_ref == "ActaAstron.56:1-50,2006"
    assert p.comments and p.comments.startswith("62 pages including 16 figures")
    assert p.published == p.updated == datetime(2006, 1, 2, 14, 57, 58, tzinfo=UTC)
    assert p.abstract.startswith("We derive the frequencies") and "V_max<17.5" in p.abstract
    assert server.hits[0].params["id_list"] == "astro-ph/0601001"
    assert server.hits[0].params["max_results"] == "1"


def test_versioned_ids_and_primary_category(server: Replay, sqlite_store: Store) -> None:
    [q] = query(server, sqlite_store, ["quant-ph/0201082v1"])
    assert (q.id, q.version, q.categories) == ("quant-ph/0201082", 1, ["quant-ph", "cs.PL"])
    [z] = query(server, sqlite_store, ["2104.12255v1"])
    assert (z.id, z.version, z.title, z.primary) == ("2104.12255", 1, "0", "cs.CR")
    [m] = query(server, sqlite_store, ["1605.08386"])
    assert m.categories == ["math.CO", "math.ST"]
    assert m.comments == "20 pages, 3 figures"


def test_two_ids_one_unknown(server: Replay, sqlite_store: Store) -> None:
    [p] = query(server, sqlite_store, ["0808.05394", "1707.08567"])
    assert p.id == "1707.08567"
    assert len(p.authors) == 34
    assert "Dirk Wübben" in p.authors  # UTF-8 as arXiv sent it
    assert server.hits[0].params["id_list"] == "0808.05394,1707.08567"


def test_empty_feed_finds_nothing(server: Replay, sqlite_store: Store) -> None:
    assert query(server, sqlite_store, ["0000.0000"]) == []
    assert len(server.hits) == 1


def test_http_400_error_entry(server: Replay, sqlite_store: Store) -> None:
    with pytest.raises(api.ApiError, match="incorrect id format for abc"):
        query(server, sqlite_store, ["abc"])
    assert len(server.hits) == 1  # a bad request is not retried


def test_error_entry_with_status_200() -> None:
    # The example in arXiv's API manual (section 3.4, Errors): an error feed served as a
    # normal answer.
    require_shared()
    manual = (DOCS / "api-user-manual.md").read_text("utf-8")
    errors = manual[manual.index("### 3.4. Errors") :]
    m = re.search(r"\n(    <\?xml.*?</feed>)", errors, re.S)
    assert m, "the error example is no longer in the manual"
    body = textwrap.dedent(m.group(1)).encode()
    with pytest.raises(api.ApiError, match=r"incorrect id format for 1234\.12345"):
        api.parse_feed(body)


def test_ids_are_batched_by_one_hundred(sqlite_store: Store) -> None:
    require_shared()
    [empty] = (FIXTURES / "arxiv-api").glob("id_0000.0000_*.json")
    body = recorded_bytes(json.loads(empty.read_text("utf-8"))["body"])
    ids = [f"2501.{n:05d}" for n in range(150)]
    with Replay() as server:
        server.add("/api/query", xml(body))
        with fake_client(sqlite_store, settings_for(server)) as client:
            assert api.query_ids(client, ids) == []
    sent = [h.params["id_list"].split(",") for h in server.hits]
    assert [len(s) for s in sent] == [100, 50]
    assert sent[0] + sent[1] == ids
    assert [h.params["max_results"] for h in server.hits] == ["100", "50"]
