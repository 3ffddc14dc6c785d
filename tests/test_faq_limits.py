"""The FAQ's per-address limits against hostile or unlucky traffic: many readers asking for a
new paper at once are charged once (only the request that creates the job pays), clicks count
once per address and paper, the forwarded address counts only from a trusted proxy, and the
admin token is accepted in its documented form only."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from coolpapers.cli.main import proxy_options
from coolpapers.config import Settings
from coolpapers.llm.schema import faq_jobs, faq_ratelimit
from coolpapers.llm.service import FaqService
from coolpapers.llm.worker import Workers
from coolpapers.store import Store
from coolpapers.web.app import create_app
from tests.llm_server import FakeLLM
from tests.llm_support import add_papers, clean_faq, faq_settings, paper, wait_for

NOWHERE = "http://127.0.0.1:9/v1"  # configured, but no worker runs: jobs stay pending


@pytest.fixture
def faq_store(store: Store) -> Iterator[Store]:
    clean_faq(store)
    add_papers(store, [paper("2606.00001"), paper("2606.00002"), paper("2606.00003")])
    yield store


def _charges(store: Store, key: str) -> int:
    r = faq_ratelimit.c
    with store.engine.connect() as c:
        return int(c.execute(select(func.sum(r.n)).where(r.key == key)).scalar() or 0)


def _jobs(store: Store) -> int:
    with store.engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(faq_jobs)).scalar() or 0)


def test_fifty_readers_asking_at_once_are_one_start_and_one_conversation(
    faq_store: Store,
) -> None:
    # One address (a lab behind one NAT, say) with room for ONE start: the 49 readers who race
    # the first one join its job, they do not start one, so none of them may be refused.
    with FakeLLM(delay=0.002) as llm:
        settings = faq_settings(llm.url, llm_rate_limit=1)
        client = TestClient(create_app(settings, faq_store))
        pool = Workers(FaqService(faq_store, settings), slots=2, poll=0.02).start()
        try:
            barrier = threading.Barrier(50)
            codes: list[int] = []

            def ask() -> None:
                barrier.wait()
                codes.append(client.post("/arxiv/kimi?paper=2606.00001&lang=en").status_code)

            threads = [threading.Thread(target=ask) for _ in range(50)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            svc = FaqService(faq_store, settings)
            wait_for(lambda: svc.answer("2606.00001", "en") is not None)
        finally:
            pool.stop()
    assert sorted(codes) == [200] * 50  # no 429: only the creator was charged
    assert _charges(faq_store, "start:testclient") == 1
    assert len(llm.calls) == 6  # one conversation, one call per question
    # The one start was charged: the address's next new paper is over its limit, and the
    # refused request left no job behind (its transaction rolled back).
    assert client.post("/arxiv/kimi?paper=2606.00002&lang=en").status_code == 429
    assert _jobs(faq_store) == 1


def test_the_charge_commits_with_the_job_only(faq_store: Store) -> None:
    """The queue-level contract on both backends: concurrent starts of one job are charged
    once in all; a refused start creates nothing; a failed job's reopening is a new start."""
    service = FaqService(faq_store, faq_settings(NOWHERE))
    p, q = paper("2606.00001"), paper("2606.00002")
    barrier = threading.Barrier(20)
    results: list[bool] = []

    def start() -> None:
        barrier.wait()
        results.append(service.start(p, "en", "start:198.51.100.1", 2))

    threads = [threading.Thread(target=start) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True] * 20 and _charges(faq_store, "start:198.51.100.1") == 1
    assert service.start(q, "en", "start:198.51.100.1", 2) is True  # the second start
    assert service.start(paper("2606.00003"), "en", "start:198.51.100.1", 2) is False
    assert _jobs(faq_store) == 2
    assert service.start(p, "en", "start:198.51.100.1", 2) is True  # joining: free
    assert service.start(p, "en", None, 0) is True  # the admin: never limited


def test_clicks_count_once_per_address_and_paper_and_are_capped(faq_store: Store) -> None:
    settings = faq_settings(NOWHERE, llm_click_limit=2)
    app = create_app(settings, faq_store)
    a = TestClient(app, client=("198.51.100.1", 40000))
    b = TestClient(app, client=("198.51.100.2", 40000))
    url = "/api/papers/2606.00001/click"
    got = [a.post(url, params={"kind": "pdf"}).json() for _ in range(5)]
    # The repeat is answered (the reader did nothing wrong), but does not rank the paper.
    assert [(j["n"], j["counted"]) for j in got] == [(1, True)] + [(1, False)] * 4
    assert a.post(url, params={"kind": "faq"}).json()["counted"] is True  # another kind
    # Two counted clicks are this address's window: a third paper is refused, uncounted.
    r = a.post("/api/papers/2606.00002/click", params={"kind": "pdf"})
    assert r.status_code == 429 and r.json()["counted"] is False and r.json()["n"] == 0
    assert b.post(url, params={"kind": "pdf"}).json() == {
        "paper": "2606.00001",
        "kind": "pdf",
        "n": 2,
        "counted": True,
    }
    counts = a.get("/api/counters", params={"ids": "2606.00001,2606.00002"}).json()
    assert counts == {"2606.00001": {"pdf": 2, "faq": 1}}


def _behind_uvicorn(settings: Settings, store: Store, peer: str) -> TestClient:
    """The app as `coolpapers serve` runs it: uvicorn's own wrapping of the app, with the
    proxy options serve passes, reached from `peer`."""
    config = uvicorn.Config(create_app(settings, store), **proxy_options(settings))
    config.load()
    return TestClient(config.loaded_app, client=(peer, 40000))


def test_forwarded_address_counts_only_from_a_trusted_proxy(faq_store: Store) -> None:
    settings = faq_settings(NOWHERE)
    assert settings.forwarded_allow_ips == "127.0.0.1"  # uvicorn's own default
    url = "/api/papers/2606.00001/click?kind=pdf"

    def click(client: TestClient, forwarded: str) -> bool:
        r = client.post(url, headers={"X-Forwarded-For": forwarded})
        assert r.status_code == 200
        return bool(r.json()["counted"])

    proxy = _behind_uvicorn(settings, faq_store, "127.0.0.1")
    # Two readers behind the local proxy are two addresses; the proxy itself is none.
    assert click(proxy, "203.0.113.1") and click(proxy, "203.0.113.2")
    assert not click(proxy, "203.0.113.1")
    # A client talking to us directly cannot pick its address: the header is ignored.
    direct = _behind_uvicorn(settings, faq_store, "192.0.2.50")
    assert click(direct, "203.0.113.3")
    assert not click(direct, "203.0.113.4")
    keys = {k for (k,) in faq_store.engine.connect().execute(select(faq_ratelimit.c.key))}
    assert "click:203.0.113.1:pdf:2606.00001" in keys and "click:192.0.2.50:pdf:2606.00001" in keys
    assert not any("203.0.113.3" in k or "203.0.113.4" in k for k in keys)
    # A proxy elsewhere is trusted once named (COOLPAPERS_FORWARDED_ALLOW_IPS; networks too).
    lan = faq_settings(NOWHERE, forwarded_allow_ips="10.0.0.0/8")
    assert click(_behind_uvicorn(lan, faq_store, "10.1.2.3"), "203.0.113.5")
    assert click(_behind_uvicorn(lan, faq_store, "10.1.2.3"), "203.0.113.6")
    # The limit on starting work is keyed the same way.
    proxy.post("/arxiv/kimi?paper=2606.00002", headers={"X-Forwarded-For": "203.0.113.9"})
    assert _charges(faq_store, "start:203.0.113.9") == 1
    assert _charges(faq_store, "start:127.0.0.1") == 0


def test_the_admin_token_is_accepted_as_bearer_only(faq_store: Store) -> None:
    client = TestClient(create_app(faq_settings(NOWHERE, llm_admin_token="s3cret"), faq_store))
    url = "/api/admin/faq?category=cs.CL&day=2026-06-04&lang=en"
    for refused in ("s3cret", "Basic s3cret", "Bearer", "Bearer s3cre", "Token s3cret"):
        assert client.post(url, headers={"Authorization": refused}).status_code == 403, refused
    assert client.post(url).status_code == 403
    assert _jobs(faq_store) == 0
    r = client.post(url, headers={"Authorization": "Bearer s3cret"})
    assert r.status_code == 200 and r.json() == {"enqueued": 3}
    # Regeneration (not outdated, not failed) is the admin's: a bare token is no admin.
    regen = "/api/papers/2606.00001/faq?lang=en&regenerate=1"
    assert client.post(regen, headers={"Authorization": "s3cret"}).status_code == 403
