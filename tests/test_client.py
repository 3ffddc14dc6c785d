"""The paced client against a real local HTTP server (tests/replay.py)."""

from __future__ import annotations

import itertools
import logging
import socket
import threading
import time
from collections.abc import Iterator
from email.utils import formatdate

import httpx
import pytest

from coolpapers.config import Settings
from coolpapers.sources.arxiv import PACE_KEY
from coolpapers.sources.arxiv.client import ArxivClient
from coolpapers.sources.base import Pace
from coolpapers.sources.http import (
    CONNECT_DELAY,
    Busy,
    Clients,
    FetchError,
    LocalPacer,
    PacedClient,
    SlotTooFar,
    retry_after_seconds,
)
from coolpapers.store.store import Store
from tests.replay import FakeSleep, Replay, Reply, fake_client, settings_for, xml

OK = "<?xml version='1.0'?><ok/>"
DOC = "<?xml version='1.0'?><ok>" + "<a>x</a>" * 50 + "</ok>"


@pytest.fixture
def server() -> Iterator[Replay]:
    with Replay() as r:
        yield r


# Pace for the tests that really sleep. Arrival times at the server lag the client's send
# times by a varying few ms (tens on a loaded machine, more for the request that opens the
# connection), so gaps are checked with slack; an unpaced client shows gaps of about 1 ms.
PACE = 0.1
MIN_GAP = 0.06


def gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(times)]


def test_requests_are_paced_over_one_connection(server: Replay, store: Store) -> None:
    # Real sleeps, on both backends' reserve_slot.
    server.add("/x", xml(OK))
    settings = settings_for(server, arxiv_min_interval=PACE)
    with ArxivClient(store, settings) as client:
        for _ in range(4):
            assert client.get_xml(f"{server.url}/x").tag == "ok"
    hits = server.hits_for("/x")
    assert len(hits) == 4
    assert min(gaps([h.at for h in hits])) >= MIN_GAP
    assert len({h.port for h in hits}) == 1  # one kept-alive connection
    assert {h.user_agent for h in hits} == {settings.user_agent}


def test_a_reservation_that_comes_back_late_does_not_shorten_the_next_gap(
    server: Replay, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What failed once in CI: the first reservation's commit took ~0.1 s, the request went
    # out that late, and the second, on the slot one interval after the first, followed it
    # 3.5 ms later. Here the first reservation is held up after its commit for 0.08 s.
    server.add("/x", xml(OK))
    real = store.reserve_slot
    slow = iter([True])

    def reserve(key: str, interval: float) -> float:
        slot = real(key, interval)
        if next(slow, False):
            time.sleep(0.08)
        return slot

    monkeypatch.setattr(store, "reserve_slot", reserve)
    with ArxivClient(store, settings_for(server, arxiv_min_interval=PACE)) as client:
        for _ in range(3):
            client.get_xml(f"{server.url}/x")
    hits = server.hits_for("/x")
    assert len(hits) == 3
    assert min(gaps([h.at for h in hits])) >= MIN_GAP


def test_threads_share_the_pace_and_the_one_connection(server: Replay, sqlite_store: Store) -> None:
    server.add("/x", xml(OK))
    with ArxivClient(sqlite_store, settings_for(server, arxiv_min_interval=PACE)) as client:

        def work() -> None:
            for _ in range(2):
                client.get_xml(f"{server.url}/x")

        threads = [threading.Thread(target=work) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
    hits = server.hits_for("/x")
    assert len(hits) == 6
    assert len({h.port for h in hits}) == 1
    assert min(gaps(sorted(h.at for h in hits))) >= MIN_GAP


def test_real_interval_gives_three_second_spacing_without_sleeping(
    server: Replay, sqlite_store: Store
) -> None:
    server.add("/x", xml(OK))
    settings = settings_for(server, arxiv_min_interval=3.0)
    sleep = FakeSleep()
    started = time.monotonic()
    with fake_client(sqlite_store, settings, sleep) as client:
        for _ in range(3):
            client.get_xml(f"{server.url}/x")
    assert time.monotonic() - started < 2.0  # nothing actually waited
    # The first request goes at once, each next one 3 s after the previous.
    assert len(sleep.calls) == 2
    assert all(2.9 < s <= 3.0 for s in sleep.calls)
    # Another process sharing the database, at the real time now, gets the slot after
    # those three (0, 3, 6 s): it would wait about 9 s.
    other = FakeSleep()
    fake_client(sqlite_store, settings, other).pacer.wait()
    assert len(other.calls) == 1 and 8.5 < other.calls[0] <= 9.0


def test_recorded_503_retry_after_holds_every_fetcher(
    server: Replay, sqlite_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    # arXiv's real answer (2018): 503 with Retry-After: 10, then the records.
    server.load_oai_fixtures()
    settings = settings_for(server)
    params = {
        "metadataPrefix": "arXiv",
        "from": "2015-01-01",
        "until": "2015-01-03",
        "verb": "ListRecords",
    }
    sleep = FakeSleep()
    with (
        caplog.at_level(logging.WARNING, logger="coolpapers.sources"),
        fake_client(sqlite_store, settings, sleep) as client,
    ):
        root = client.get_xml(settings.arxiv_oai_url, params, expect=("OAI-PMH",))
    assert root.find("{http://www.openarchives.org/OAI/2.0/}ListRecords") is not None
    hits = server.hits_for("/oai2")
    assert len(hits) == 2
    assert [s for s in sleep.calls if s > 1] and 9.5 < max(sleep.calls) <= 10.0
    assert "HTTP 503" in caplog.text and "retry 1/3" in caplog.text
    # The hold went through the store: the shared slot is 10 s after the 503 ...
    assert float(sqlite_store.get_state(PACE_KEY) or 0) >= hits[0].at + 10
    # ... so another process, at the real time now, waits for it too.
    other = FakeSleep()
    fake_client(sqlite_store, settings, other).pacer.wait()
    assert other.calls and other.calls[0] > 9


def test_retry_after_as_http_date(server: Replay, sqlite_store: Store) -> None:
    when = formatdate(time.time() + 30, usegmt=True)
    server.add("/x", [Reply(429, b"slow down", {"Retry-After": when}), xml(OK)])
    sleep = FakeSleep()
    with fake_client(sqlite_store, settings_for(server), sleep) as client:
        client.get_xml(f"{server.url}/x")
    assert len(server.hits_for("/x")) == 2
    assert any(27 < s <= 31 for s in sleep.calls)


def test_retry_after_parsing() -> None:
    now = 1445412480.0  # Wed, 21 Oct 2015 07:28:00 GMT
    assert retry_after_seconds("10", now) == 10.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:30 GMT", now) == 30.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:00:00 GMT", now) == 0.0  # in the past
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None, now) is None


def test_truncated_document_is_retried(
    server: Replay, sqlite_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    server.add("/x", [Reply(200, DOC.encode(), mode="cut"), xml(DOC)])
    with (
        caplog.at_level(logging.WARNING, logger="coolpapers.sources"),
        fake_client(sqlite_store, settings_for(server)) as client,
    ):
        assert len(client.get_xml(f"{server.url}/x")) == 50
    assert len(server.hits_for("/x")) == 2
    assert "not complete XML" in caplog.text


def test_connection_dropped_mid_body_is_retried(server: Replay, sqlite_store: Store) -> None:
    server.add("/x", [Reply(200, DOC.encode(), mode="drop"), xml(DOC)])
    with fake_client(sqlite_store, settings_for(server)) as client:
        assert len(client.get_xml(f"{server.url}/x")) == 50
    hits = server.hits_for("/x")
    assert len(hits) == 2
    assert hits[0].port != hits[1].port  # the broken connection was replaced


def test_non_xml_body_fails_after_retries(server: Replay, sqlite_store: Store) -> None:
    server.add("/x", Reply(200, b"Service temporarily unavailable", {"Content-Type": "text/plain"}))
    settings = settings_for(server, arxiv_max_retries=2)
    with fake_client(sqlite_store, settings) as client, pytest.raises(FetchError) as err:
        client.get_xml(f"{server.url}/x")
    assert len(server.hits_for("/x")) == 3
    assert f"{server.url}/x" in str(err.value) and "not complete XML" in str(err.value)


def test_html_error_page_is_not_taken_for_the_document(server: Replay, sqlite_store: Store) -> None:
    server.add("/x", [xml("<html><body><h1>Retry later</h1></body></html>"), xml(OK)])
    with fake_client(sqlite_store, settings_for(server)) as client:
        assert client.get_xml(f"{server.url}/x", expect=("ok",)).tag == "ok"
    assert len(server.hits_for("/x")) == 2


def test_server_errors_back_off_then_fail_clearly(server: Replay, sqlite_store: Store) -> None:
    server.add("/x", Reply(503, b"down"))
    sleep = FakeSleep()
    settings = settings_for(server, arxiv_max_retries=2)
    with (
        fake_client(sqlite_store, settings, sleep, backoff_base=1.0) as client,
        pytest.raises(FetchError) as err,
    ):
        client.get_xml(f"{server.url}/x")
    assert len(server.hits_for("/x")) == 3
    assert err.value.status == 503
    assert "last status 503" in str(err.value) and f"{server.url}/x" in str(err.value)
    # exponential: 1 s, then 2 s (pace waits are 0.05 s)
    backoffs = [s for s in sleep.calls if s > 0.5]
    assert len(backoffs) == 2
    assert 0.9 < backoffs[0] <= 1.0 and 1.9 < backoffs[1] <= 2.0


def test_backoff_is_capped(sqlite_store: Store) -> None:
    client = ArxivClient(sqlite_store, backoff_base=5.0, backoff_cap=60.0)
    assert [client._backoff(i) for i in range(6)] == [5, 10, 20, 40, 60, 60]


def test_client_errors_are_not_retried(server: Replay, sqlite_store: Store) -> None:
    with (
        fake_client(sqlite_store, settings_for(server)) as client,
        pytest.raises(FetchError) as err,
    ):
        client.get_xml(f"{server.url}/nothing-here")
    assert err.value.status == 404
    assert len(server.hits_for("/nothing-here")) == 1


def test_connection_refused_is_retried_once_then_reported(sqlite_store: Store) -> None:
    """A host that cannot be reached is not a busy one: one quick retry, not the backoff."""
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/x"
    settings = Settings(_env_file=None, arxiv_min_interval=0.05, arxiv_max_retries=2)  # type: ignore[call-arg]
    sleep = FakeSleep()
    with (
        fake_client(sqlite_store, settings, sleep, backoff_base=1.0) as client,
        pytest.raises(FetchError) as err,
    ):
        client.get_xml(url)
    assert "ConnectError" in str(err.value) and url in str(err.value)
    waits = [s for s in sleep.calls if s > 0.5]
    assert len(waits) == 1 and waits[0] == pytest.approx(CONNECT_DELAY, abs=0.1)  # one, short


def test_without_a_store_the_pace_is_kept_in_process(server: Replay) -> None:
    server.add("/x", xml(OK))
    with ArxivClient(None, settings_for(server, arxiv_min_interval=PACE)) as client:
        for _ in range(3):
            client.get_xml(f"{server.url}/x")
    assert min(gaps([h.at for h in server.hits_for("/x")])) >= MIN_GAP


def test_one_connection_even_without_a_pace(server: Replay) -> None:
    # No pacing at all and three threads at once against a slow server: httpx's pool still
    # opens a single connection, so the requests queue on it instead of running side by side.
    server.add("/slow", Reply(200, OK.encode(), {"Content-Type": "text/xml"}, delay=0.1))
    with ArxivClient(None, settings_for(server), pacer=LocalPacer(0.0)) as client:
        threads = [
            threading.Thread(target=client.get_xml, args=(f"{server.url}/slow",)) for _ in range(3)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
    hits = server.hits_for("/slow")
    assert len(hits) == 3 and len({h.port for h in hits}) == 1
    assert min(gaps(sorted(h.at for h in hits))) >= 0.09  # one after the other


def test_timeout_is_retried(server: Replay, sqlite_store: Store) -> None:
    server.add("/x", [Reply(200, OK.encode(), delay=0.5), xml(OK)])
    timeout = httpx.Timeout(0.2)
    with fake_client(sqlite_store, settings_for(server), timeout=timeout) as client:
        assert client.get_xml(f"{server.url}/x").tag == "ok"
    assert len(server.hits_for("/x")) == 2


def test_redirects_are_followed_and_paced(server: Replay, sqlite_store: Store) -> None:
    server.add("/old", Reply(301, b"", {"Location": "/new"}))
    server.add("/new", xml(OK))
    with ArxivClient(sqlite_store, settings_for(server, arxiv_min_interval=PACE)) as client:
        assert client.get_xml(f"{server.url}/old").tag == "ok"
    old, new = server.hits
    assert (old.path, new.path) == ("/old", "/new")
    assert new.at - old.at >= MIN_GAP


# ---- one pace per host -----------------------------------------------------------------------

ACL = Pace(key="aclanthology.pace", name="ACL Anthology", interval=60.0, hosts=frozenset())


def test_paces_are_per_key_shared_within_one_and_independent_across(store: Store) -> None:
    # The real store's slots (reserve_slot uses the real time); the waits are only recorded.
    settings = Settings(_env_file=None, arxiv_min_interval=60.0)  # type: ignore[call-arg]

    def client(pace: Pace | None = None) -> tuple[PacedClient, FakeSleep]:
        sleep = FakeSleep()
        if pace is None:
            return ArxivClient(store, settings, sleep=sleep, clock=sleep.now), sleep
        return PacedClient(store, settings, pace, sleep=sleep, clock=sleep.now), sleep

    (arxiv_a, slept_a), (arxiv_b, slept_b) = client(), client()
    (acl, slept_acl), (acl_2, slept_acl_2) = client(ACL), client(ACL)
    with arxiv_a, arxiv_b, acl, acl_2:
        assert arxiv_a.pacer.wait() == 0.0
        # another client of arXiv's pace on the same database waits for the next slot ...
        assert 59.0 < arxiv_b.pacer.wait() <= 60.0
        # ... while another host's pace is free: it never waits on arXiv's
        assert acl.pacer.wait() == 0.0
        assert 59.0 < acl_2.pacer.wait() <= 60.0
    assert (slept_a.calls, slept_acl.calls) == ([], [])
    assert len(slept_b.calls) == len(slept_acl_2.calls) == 1
    # each pace in its own row of the state table: two slots taken on each
    now = time.time()
    assert now + 60 < float(store.get_state(PACE_KEY) or 0) <= now + 120
    assert now + 60 < float(store.get_state(ACL.key) or 0) <= now + 120


# ---- a reader's deadline (on-demand ids) ----------------------------------------------------


def test_pacer_with_a_limit_takes_no_slot_it_will_not_wait_for() -> None:
    sleep = FakeSleep()
    pacer = LocalPacer(3.0, sleep=sleep, clock=sleep.now)
    assert pacer.wait() == 0.0
    with pytest.raises(SlotTooFar) as e:
        pacer.wait(sleep.now() + 1.0)
    assert e.value.at > sleep.now() + 2.5
    # the refused caller took nothing: the next one still gets the slot 3 s after the first
    assert 2.5 < pacer.wait(sleep.now() + 4.0) <= 3.0


def test_deadline_cuts_a_slow_answer_and_the_backoff_short(
    server: Replay, sqlite_store: Store
) -> None:
    server.add("/x", Reply(200, OK.encode(), {"Content-Type": "text/xml"}, delay=3.0))
    with ArxivClient(sqlite_store, settings_for(server)) as client:
        t0 = time.monotonic()
        with client.deadline(1.0), pytest.raises(Busy) as e:
            client.get_xml(f"{server.url}/x")
        took = time.monotonic() - t0
    # the read timed out at the deadline; the 5 s back-off is held for everyone, not waited
    assert took < 2.0 and "ReadTimeout" in str(e.value)
    assert 4.0 < e.value.retry_after <= 5.0
    assert len(server.hits_for("/x")) == 1


def test_deadline_allows_one_retry_then_fails(server: Replay, sqlite_store: Store) -> None:
    server.add("/x", Reply(502, b"bad gateway"))
    with (
        fake_client(sqlite_store, settings_for(server)) as client,
        client.deadline(60.0),
        pytest.raises(FetchError) as e,
    ):
        client.get_xml(f"{server.url}/x")
    assert not isinstance(e.value, Busy) and "gave up after 2 attempts" in str(e.value)
    assert len(server.hits_for("/x")) == 2
    # outside the block the harvest's full schedule applies again
    with fake_client(sqlite_store, settings_for(server)) as client, pytest.raises(FetchError):
        client.get_xml(f"{server.url}/x")
    assert len(server.hits_for("/x")) == 2 + 4


def test_a_mirror_takes_the_requests_under_its_prefix(server: Replay, sqlite_store: Store) -> None:
    server.add("/mirror/pdf/2309.16354v2", Reply(200, b"%PDF"))
    pace = Pace("arxiv.pace", "arXiv", 0.0, frozenset({"arxiv.org"}))
    mirrors = {"https://arxiv.org/pdf/": f"{server.url}/mirror/pdf"}
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    with PacedClient(sqlite_store, settings, pace, mirrors=mirrors) as client:
        assert client.get("https://arxiv.org/pdf/2309.16354v2").content == b"%PDF"
        assert client.aim("https://arxiv.org/pdfx/1") == "https://arxiv.org/pdfx/1"
        assert client.aim("https://arxiv.org/abs/1") == "https://arxiv.org/abs/1"
    assert len(server.hits_for("/mirror/pdf/2309.16354v2")) == 1


def test_clients_keep_arxiv_s_pace_key_and_settings(sqlite_store: Store) -> None:
    values = {"arxiv_min_interval": 0.25, "arxiv_max_retries": 2}
    settings = Settings(_env_file=None, **values)  # type: ignore[arg-type,call-arg]
    with Clients(sqlite_store, settings) as clients:
        client = clients.for_url("https://arxiv.org/pdf/2309.16354v2")
        assert isinstance(client, ArxivClient) and client.pace.key == PACE_KEY
        assert (client.pace.interval, client.max_retries) == (0.25, 2)
        assert clients.for_url("https://export.arxiv.org/api/query") is client  # one pace
        assert not client.mirrors  # no `arxiv_pdf_url`: arXiv's own address
        with pytest.raises(FetchError):
            clients.for_url("file:///etc/passwd")
