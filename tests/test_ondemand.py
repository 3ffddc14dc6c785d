"""On-demand ids for readers: a short deadline, remembered misses, one fetch per id.

Real client, real store, a real HTTP server on 127.0.0.1 replaying recorded arXiv answers:
the API's empty feed for an id it lacks, its answer for 1605.08386, and export.arxiv.org's
recorded 503 with `Retry-After: 10` (2018, recorded on its OAI path, served here on the API's).
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from lxml import html

from coolpapers.config import Settings
from coolpapers.records import Batch, Paper
from coolpapers.sources.arxiv import PACE_KEY
from coolpapers.sources.arxiv.ondemand import OnDemand, Unavailable
from coolpapers.store import Store
from coolpapers.web.app import create_app
from tests.replay import FIXTURES, Replay, Reply, recorded_bytes, require_shared, settings_for

UNKNOWN = "2401.99999"
# What a page request took before: the harvest's retry schedule, "retry 5/5 in 80.0 s".
OLD_WAIT = 155.0


@pytest.fixture
def arxiv() -> Iterator[Replay]:
    require_shared()
    with Replay() as r:
        r.load_api_fixtures()
        yield r


def empty_feed() -> Reply:
    """arXiv's recorded answer to an id it does not have (id_list=0000.0000)."""
    [f] = (FIXTURES / "arxiv-api").glob("id_0000.0000_*.json")
    body = recorded_bytes(json.loads(f.read_text("utf-8"))["body"])
    return Reply(200, body, {"Content-Type": "application/atom+xml; charset=UTF-8"})


def recorded_503() -> Reply:
    folder = FIXTURES / "arxiv-oai"
    name = "listrecords_should-list-identifiers-from-arxiv_0_503"
    raw = json.loads((folder / f"{name}.request.json").read_text("utf-8"))["headers"]
    headers = dict(zip(raw[::2], raw[1::2], strict=True))
    assert headers["Retry-After"] == "10"
    keep = {k: headers[k] for k in ("Content-Type", "Retry-After")}
    return Reply(503, (folder / f"{name}.xml").read_bytes(), keep)


def recorded_paper(delay: float) -> Reply:
    [f] = (FIXTURES / "arxiv-api").glob("id_1605.08386_*.json")
    body = recorded_bytes(json.loads(f.read_text("utf-8"))["body"])
    return Reply(200, body, {"Content-Type": "application/atom+xml; charset=UTF-8"}, delay=delay)


def app_for(settings: Settings, store: Store) -> TestClient:
    return TestClient(create_app(settings, store))


def timed_get(c: TestClient, url: str) -> tuple[float, html.HtmlElement, dict[str, str], int]:
    t0 = time.monotonic()
    r = c.get(url)
    return time.monotonic() - t0, html.fromstring(r.text), dict(r.headers), r.status_code


def closed_port() -> int:
    with socket.socket() as s:  # bound, never listening: connections are refused
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_arxiv_answers_quickly_and_is_remembered(
    sqlite_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    api = f"http://127.0.0.1:{closed_port()}/api/query"
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url="sqlite://", arxiv_api_url=api, arxiv_min_interval=0.05
    )
    assert settings.arxiv_max_retries == 5  # the harvests' schedule stays as it was
    c = app_for(settings, sqlite_store)
    with caplog.at_level(logging.INFO, logger="coolpapers.sources"):
        took, doc, headers, status = timed_get(c, f"/arxiv/{UNKNOWN}")
        # one retry after the first back-off (5 s), then a clear page
        assert status == 503 and took < settings.on_demand_deadline + 2 < OLD_WAIT / 10
        assert "retry 1/1" in caplog.text and "retry 2/" not in caplog.text
        assert int(headers["retry-after"]) == settings.on_demand_unreachable_ttl
        assert headers["cache-control"] == "no-store"
        text = doc.text_content()
        assert UNKNOWN in text and "arXiv did not answer" in text and "Try again in" in text
        assert doc.xpath("//meta[@http-equiv='refresh']")
        failures = caplog.text.count("arXiv request failed")
        # asked again: the miss is remembered, arXiv is not called
        took, doc, _, status = timed_get(c, f"/arxiv/{UNKNOWN}")
        assert status == 503 and took < 3.0 and UNKNOWN in doc.text_content()
        assert caplog.text.count("arXiv request failed") == failures


def test_recorded_503_retry_after_is_honoured_without_keeping_the_page(
    arxiv: Replay, store: Store
) -> None:
    arxiv.add("/api/query", recorded_503(), id_list=UNKNOWN)
    # a deadline shorter than arXiv's Retry-After: 10
    settings = settings_for(arxiv, database_url="sqlite://", on_demand_deadline=5.0)
    c = app_for(settings, store)
    took, doc, headers, status = timed_get(c, f"/arxiv/{UNKNOWN}")
    assert status == 503 and took < 3.0
    assert 8 <= int(headers["retry-after"]) <= 10
    assert "arXiv is busy" in doc.text_content()
    [hit] = arxiv.hits_for("/api/query")
    # the hold is in the store: every fetcher of this database waits out the 10 s
    assert float(store.get_state(PACE_KEY) or 0) >= hit.at + 9.9
    # another reader, another id: nothing goes to arXiv before then, and they hear at once
    # (well under the 10 s hold: 0.2-0.4 s here, 1.2 s once in a CI run on a busy machine)
    took, doc, _, status = timed_get(c, "/arxiv/1605.08386,2401.99999")
    assert status == 503 and took < 3.0
    assert set(doc.xpath("//code/text()")) == {"1605.08386", UNKNOWN}
    assert len(arxiv.hits_for("/api/query")) == 1


def test_id_arxiv_lacks_is_remembered_as_missing(arxiv: Replay, store: Store) -> None:
    arxiv.add("/api/query", empty_feed(), id_list=UNKNOWN)
    c = app_for(settings_for(arxiv, database_url="sqlite://"), store)
    for _ in range(3):
        took, doc, _, status = timed_get(c, f"/arxiv/{UNKNOWN}")
        assert status == 404 and took < 2.0 and UNKNOWN in doc.text_content()
    assert [h.params["id_list"] for h in arxiv.hits_for("/api/query")] == [UNKNOWN]


def test_misses_expire(arxiv: Replay, sqlite_store: Store) -> None:
    arxiv.add("/api/query", empty_feed(), id_list=UNKNOWN)
    now = [1000.0]
    fetch = OnDemand(sqlite_store, settings_for(arxiv), clock=lambda: now[0])
    assert fetch([UNKNOWN]) == {}
    now[0] += 3599
    assert fetch([f"arXiv:{UNKNOWN}v1"]) == {}  # any written form: the same id
    assert len(arxiv.hits_for("/api/query")) == 1
    now[0] += 2  # an hour has passed: arXiv may have it now
    assert fetch([UNKNOWN]) == {}
    assert len(arxiv.hits_for("/api/query")) == 2
    fetch.close()


def test_concurrent_requests_for_one_id_share_one_fetch(arxiv: Replay, sqlite_store: Store) -> None:
    arxiv.add("/api/query", recorded_paper(delay=1.0), id_list="1605.08386")
    fetch = OnDemand(sqlite_store, settings_for(arxiv))
    results: list[dict[str, Paper]] = []
    lock = threading.Lock()

    def ask(form: str) -> None:
        got = fetch([form])
        with lock:
            results.append(got)

    forms = ["1605.08386", "1605.08386v1", "arXiv:1605.08386", "https://arxiv.org/abs/1605.08386"]
    threads = [threading.Thread(target=ask, args=(f,)) for f in forms]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(results) == 4
    assert all(list(r) == ["1605.08386"] for r in results)
    assert len(arxiv.hits_for("/api/query")) == 1
    fetch.close()


def test_pace_slot_beyond_the_deadline_is_not_waited_for(
    arxiv: Replay, sqlite_store: Store
) -> None:
    # a harvest (or arXiv's Retry-After) holds the shared pace for 30 s
    held = repr(time.time() + 30)
    sqlite_store.set_state(PACE_KEY, held)
    fetch = OnDemand(sqlite_store, settings_for(arxiv))
    t0 = time.monotonic()
    with pytest.raises(Unavailable) as e:
        fetch(["1605.08386"])
    assert time.monotonic() - t0 < 1.0 and 29 <= e.value.retry_after <= 30
    assert e.value.pending == ["1605.08386"] and not e.value.found
    assert not arxiv.hits  # no request, and no slot taken from the harvest
    assert sqlite_store.get_state(PACE_KEY) == held
    fetch.close()


def test_old_id_with_subject_class_redirects_to_the_canonical_url(store: Store) -> None:
    store.write(
        Batch(papers=[Paper("math/0309136", "An old math paper", "A.", ["A. B"], ["math.GT"])])
    )
    c = TestClient(create_app(Settings(database_url="sqlite://", fetch_on_demand=False), store))
    for asked, canonical in [
        ("math.GT/0309136", "math/0309136"),
        ("math.GT/0309136v1", "math/0309136v1"),
        ("arXiv:math.GT/0309136", "math/0309136"),
    ]:
        r = c.get(f"/arxiv/{asked}", follow_redirects=False)
        assert r.status_code == 301 and r.headers["location"] == f"/arxiv/{canonical}"
    r = c.get("/arxiv/math.GT/0309136")
    assert r.status_code == 200
    assert html.fromstring(r.text).xpath("//div[@id='math/0309136']")
