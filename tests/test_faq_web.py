"""The FAQ on the web: the [FAQ] button, SSE start/join/late join, the JSON API, papers.cool's
/arxiv/kimi fragment, counters, rate limits, versions and regeneration, follow-ups, and the
message shown when no LLM is configured. A real local LLM server and real worker pool."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import html

from coolpapers.config import Settings
from coolpapers.llm.jobs import JobQueue
from coolpapers.llm.prompts import BUILTIN
from coolpapers.llm.service import FaqService
from coolpapers.llm.stream import RESTART_NOTE
from coolpapers.llm.worker import Workers
from coolpapers.store import Store
from coolpapers.web.app import create_app
from tests.llm_server import FakeLLM
from tests.llm_support import add_papers, clean_faq, faq_settings, paper, wait_for

ZH = BUILTIN.questions["zh"]


def sse_events(resp: Any) -> list[tuple[str, dict[str, Any]]]:
    out, name = [], "message"
    for line in resp.iter_lines():
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            out.append((name, json.loads(line[6:])))
    return out


class Env:
    def __init__(self, store: Store, settings: Settings, llm: FakeLLM | None) -> None:
        self.store, self.settings, self.llm = store, settings, llm
        self.client = TestClient(create_app(settings, store))
        self.workers = Workers(FaqService(store, settings), slots=2, poll=0.02).start()

    def post(self, pid: str, **params: Any) -> list[tuple[str, dict[str, Any]]]:
        with self.client.stream("POST", f"/api/papers/{pid}/faq", params=params) as r:
            assert r.status_code == 200, r.read()
            assert r.headers["content-type"].startswith("text/event-stream")
            return sse_events(r)


@pytest.fixture
def faq_store(store: Store) -> Iterator[Store]:
    clean_faq(store)
    add_papers(store, [paper("2606.00001"), paper("2606.00002"), paper("2606.00003")])
    yield store


@pytest.fixture
def env(faq_store: Store) -> Iterator[Env]:
    with FakeLLM(delay=0.001) as llm:
        e = Env(faq_store, faq_settings(llm.url, llm_admin_token="s3cret"), llm)
        yield e
        e.workers.stop()


def test_no_llm_configured_explains_and_nothing_crashes(faq_store: Store) -> None:
    client = TestClient(create_app(faq_settings(""), faq_store))
    doc = html.fromstring(client.get("/arxiv/2606.00001").text)
    (btn,) = doc.xpath("//h2[@class='title']/a[@class='title-kimi notranslate']")
    assert btn.text == "[FAQ]" and "COOLPAPERS_LLM_BASE_URL" in btn.get("title")
    j = client.get("/api/papers/2606.00001/faq").json()
    assert j["configured"] is False and j["status"] == "none"
    assert "COOLPAPERS_LLM_MODEL" in j["message"]
    r = client.post("/api/papers/2606.00001/faq")
    assert r.status_code == 503 and "COOLPAPERS_LLM_BASE_URL" in r.json()["error"]
    frag = html.fromstring(client.get("/arxiv/kimi?paper=2606.00001").text)
    assert "COOLPAPERS_LLM_BASE_URL" in frag.text_content()
    assert client.get("/api/papers/9999.99999/faq").status_code == 404


def test_a_local_model_that_could_not_start_is_explained(faq_store: Store) -> None:
    # what `serve --local-llm` records when llama.cpp failed to build or start
    reason = "llama-cpp-python is not installed: `pip install 'coolpapers[local]'`"
    client = TestClient(create_app(faq_settings("", llm_unavailable=reason), faq_store))
    doc = html.fromstring(client.get("/arxiv/2606.00001").text)
    (btn,) = doc.xpath("//h2[@class='title']/a[@class='title-kimi notranslate']")
    assert btn.get("title").startswith(reason) and "COOLPAPERS_LLM_BASE_URL" in btn.get("title")
    assert client.get("/api/papers/2606.00001/faq").json()["message"].startswith(reason)
    r = client.post("/api/papers/2606.00001/faq")
    assert r.status_code == 503 and r.json()["error"].startswith(reason)


def test_card_has_faq_button_with_model_and_counters(env: Env) -> None:
    doc = html.fromstring(env.client.get("/arxiv/2606.00001").text)
    (btn,) = doc.xpath("//div[@id='2606.00001']/h2/a[contains(@class, 'title-kimi')]")
    assert btn.text == "[FAQ · fake-model]" and btn.get("data-paper") == "2606.00001"
    assert btn.getprevious().get("class").startswith("title-html")  # after [HTML]
    assert doc.xpath("//sup[@class='click-count'][@data-kind='faq']")
    assert doc.xpath("//div[@id='2606.00001']/div[@class='faq-panel'][@id='faq-2606.00001']")
    other = TestClient(env.client.app, client=("198.51.100.7", 40000))  # another reader
    for c, kind in ((env.client, "pdf"), (other, "pdf"), (env.client, "faq")):
        r = c.post("/api/papers/2606.00001/click", params={"kind": kind})
        assert r.status_code == 200 and r.json()["counted"] is True
    counts = env.client.get("/api/counters", params={"ids": "2606.00001,2606.00002"}).json()
    assert counts == {"2606.00001": {"pdf": 2, "faq": 1}}
    assert env.client.post("/api/papers/2606.00001/click?kind=evil").status_code == 400


def test_stream_then_cache_json_and_kimi_fragment(env: Env) -> None:
    events = env.post("2606.00001", lang="zh")
    names = [n for n, _ in events]
    assert names[-1] == "done" and "turn" in names
    turns = [d for n, d in events if n == "turn"]
    # Turns stream in order (the last may finish between two polls: `done` then carries it).
    seen = [d["i"] for d in turns]
    assert seen == sorted(seen) and seen[0] == 0 and set(seen) <= set(range(6))
    assert all(d["q"] == ZH[d["i"]] for d in turns)
    done = events[-1][1]
    frag = html.fromstring(f"<div>{done['html']}</div>")
    assert [q.text_content().split(": ", 1)[1] for q in frag.xpath("//p[@class='faq-q']")] == ZH
    assert len(frag.xpath("//div[@class='faq-a']")) == 6
    # The streamed text of each completed turn is exactly the final HTML of that turn.
    final_turns = [d["html"] for d in turns if d["done"]]
    for h in final_turns:
        assert h in done["html"]
    calls = len(env.llm.calls)  # type: ignore[union-attr]
    # Cached from now on: one event at once, no LLM call, JSON with everything.
    again = env.post("2606.00001", lang="zh")
    assert [n for n, _ in again] == ["done"] and again[0][1]["html"] == done["html"]
    assert len(env.llm.calls) == calls == 6  # type: ignore[union-attr]
    j = env.client.get("/api/papers/2606.00001/faq", params={"lang": "zh"}).json()
    assert j["status"] == "done" and j["model"] == "fake-model" and j["html"] == done["html"]
    assert j["prompt_version"] == BUILTIN.version and j["paper_version"] == 1
    assert j["usage"]["calls"] == 6 and j["outdated"] is False
    assert j["markdown"].startswith(f"### {ZH[0]}") and "$a_1 * b_2 \\\\ c_3$" in j["markdown"]
    kimi = html.fromstring(f"<div>{env.client.get('/arxiv/kimi?paper=2606.00001').text}</div>")
    qs, answers = kimi.xpath("//p[@class='faq-q']"), kimi.xpath("//div[@class='faq-a']")
    assert len(qs) == len(answers) == 6
    assert all(q.getnext() is a for q, a in zip(qs, answers, strict=True))
    assert (
        kimi.xpath("//div[@class='faq-a']//span[contains(@class, 'math')]")[0].text
        == "$a_1 * b_2 \\\\ c_3$"
    )
    # English is its own generation.
    assert env.client.get("/api/papers/2606.00001/faq?lang=en").json()["status"] == "none"


def test_late_joiner_gets_what_exists_then_the_rest(faq_store: Store) -> None:
    with FakeLLM(delay=0.01, piece=6) as llm:
        e = Env(faq_store, faq_settings(llm.url), llm)
        try:
            first: list[tuple[str, dict[str, Any]]] = []
            t = threading.Thread(target=lambda: first.extend(e.post("2606.00002", lang="en")))
            t.start()
            q = FaqService(faq_store, e.settings).queue

            def second_turn_streaming() -> bool:
                st = q.status("2606.00002", "en")
                return any(t >= 1 for _, t, _ in q.chunks("2606.00002", "en", st.attempt, 0))

            wait_for(second_turn_streaming)  # the second answer is being written
            late = e.post("2606.00002", lang="en")
            t.join()
        finally:
            e.workers.stop()
    assert first[-1][0] == "done" and late[-1] == first[-1]
    late_turns = [d for n, d in late if n == "turn"]
    # The late joiner's first turn event is turn 1, complete, as it was streamed before.
    assert late_turns[0]["i"] == 0 and late_turns[0]["done"] is True
    assert "Answer 1 to" in late_turns[0]["html"]
    assert len(llm.calls) == 6  # it joined; nothing was started twice


def test_failure_shows_error_then_retry_succeeds(faq_store: Store) -> None:
    with FakeLLM(fail_call=1, fail_after=1) as llm:
        e = Env(faq_store, faq_settings(llm.url), llm)
        try:
            events = e.post("2606.00001", lang="en")
            assert events[-1][0] == "error" and "broke off" in events[-1][1]["error"]
            j = e.client.get("/api/papers/2606.00001/faq?lang=en").json()
            assert j["status"] == "failed" and j["error"] and "html" not in j
            retry = e.post("2606.00001", lang="en")
            assert retry[-1][0] == "done"
        finally:
            e.workers.stop()


def test_rate_limit_applies_to_starting_work_only(faq_store: Store) -> None:
    settings = faq_settings("http://127.0.0.1:9/v1", llm_rate_limit=2)
    client = TestClient(create_app(settings, faq_store))  # no workers: jobs stay pending
    r1 = client.post("/arxiv/kimi?paper=2606.00001")
    r2 = client.post("/arxiv/kimi?paper=2606.00002")
    assert "Pending: 1" in r1.text and "Pending: 2" in r2.text
    r3 = client.post("/arxiv/kimi?paper=2606.00003")
    assert r3.status_code == 429 and "too many" in r3.text
    # Joining a pending job and reading are free.
    assert client.post("/arxiv/kimi?paper=2606.00001").status_code == 200
    assert client.get("/api/papers/2606.00003/faq").json()["status"] == "none"
    assert client.get("/api/papers/2606.00001/faq").json()["position"] == 1


def test_newer_version_flags_answer_and_regeneration_rules(env: Env) -> None:
    assert env.post("2606.00003", lang="en")[-1][0] == "done"
    # Not outdated, no token: refused. With the admin token: regenerated.
    r = env.client.post("/api/papers/2606.00003/faq?lang=en&regenerate=1")
    assert r.status_code == 403
    add_papers(env.store, [paper("2606.00003", version=2)])
    j = env.client.get("/api/papers/2606.00003/faq?lang=en").json()
    assert j["outdated"] is True and j["paper_version"] == 1 and j["latest_version"] == 2
    frag = html.fromstring(env.client.get("/arxiv/kimi?paper=2606.00003&lang=en").text)
    assert frag.xpath("//p[@class='faq-outdated']")[0].text_content().startswith("arXiv has v2")
    events = env.post("2606.00003", lang="en", regenerate=1)  # outdated: any reader may
    assert events[-1][0] == "done" and events[-1][1]["paper_version"] == 2
    assert env.client.get("/api/papers/2606.00003/faq?lang=en").json()["outdated"] is False
    headers = {"Authorization": "Bearer s3cret"}
    with env.client.stream(
        "POST", "/api/papers/2606.00003/faq?lang=en&regenerate=1", headers=headers
    ) as r:
        assert r.status_code == 200 and sse_events(r)[-1][0] == "done"
    assert len(env.llm.calls) == 18  # type: ignore[union-attr]


def test_a_failed_regeneration_keeps_the_earlier_answer(faq_store: Store) -> None:
    # Call 7 is the first of the regeneration: it breaks mid-stream.
    with FakeLLM(fail_call=7, fail_after=1) as llm:
        e = Env(faq_store, faq_settings(llm.url, llm_admin_token="s3cret"), llm)
        try:
            first = e.post("2606.00002", lang="en")[-1][1]
            headers = {"Authorization": "Bearer s3cret"}
            url = "/api/papers/2606.00002/faq?lang=en&regenerate=1"
            with e.client.stream("POST", url, headers=headers) as r:
                assert sse_events(r)[-1][0] == "error"
            j = e.client.get("/api/papers/2606.00002/faq?lang=en").json()
            assert j["status"] == "done" and j["error"] and j["html"] == first["html"]
            # Opening the panel again serves that answer at once: no new LLM work, no limit.
            assert e.post("2606.00002", lang="en")[-1] == ("done", first)
            assert len(llm.calls) == 7
        finally:
            e.workers.stop()


def test_followup_continues_the_conversation_and_is_limited(faq_store: Store) -> None:
    with FakeLLM() as llm:
        e = Env(faq_store, faq_settings(llm.url, llm_followup_rate_limit=1), llm)
        try:
            url = "/api/papers/2606.00001/faq/followup"
            early = e.client.post(url, json={"question": "Why?", "lang": "en"})
            assert early.status_code == 409  # the FAQ comes first
            e.post("2606.00001", lang="en")
            with e.client.stream("POST", url, json={"question": "Why $x_1$?", "lang": "en"}) as r:
                events = sse_events(r)
            assert events[-1][0] == "done" and "Answer 7 to" in events[-1][1]["html"]
            msgs = llm.calls[-1]["messages"]
            assert len(msgs) == 2 + 12 + 1 and msgs[-1]["content"].endswith("Why $x_1$?")
            assert e.client.post(url, json={"question": "Again?", "lang": "en"}).status_code == 429
            # Not shared: the cached FAQ is unchanged.
            j = e.client.get("/api/papers/2606.00001/faq?lang=en").json()
            assert "Why $x_1$" not in j["markdown"]
        finally:
            e.workers.stop()


def test_admin_batch_endpoint_needs_the_token(env: Env) -> None:
    url = "/api/admin/faq?category=cs.CL&day=2026-06-04&lang=en"
    assert env.client.post(url).status_code == 403
    r = env.client.post(url, headers={"Authorization": "Bearer s3cret"})
    assert r.status_code == 200 and r.json() == {"enqueued": 3}
    svc = FaqService(env.store, env.settings)
    wait_for(lambda: all(svc.answer(f"2606.0000{i}", "en") for i in (1, 2, 3)), timeout=20)


def test_a_dead_workers_text_is_dropped_and_readers_are_told_it_restarts(
    faq_store: Store,
) -> None:
    # A worker takes the job, streams part of the first answer, then dies (no heartbeat, no
    # more writes): its lease (1 s here) runs out and a live worker takes the job over.
    lease = 1.0
    with FakeLLM(delay=0.001) as llm:
        settings = faq_settings(llm.url, llm_lease_seconds=lease, llm_rate_limit=1)
        client = TestClient(create_app(settings, faq_store))
        assert client.post("/arxiv/kimi?paper=2606.00001&lang=en").status_code == 200
        q = JobQueue(faq_store)
        dead = q.claim("dead-worker", lease, limit=4)
        assert dead is not None and dead.attempt == 1
        assert q.append(dead, 1, 0, "DEAD PARTIAL TEXT", lease)
        url = "/api/papers/2606.00001/faq?lang=en"
        assert client.get(url).json()["status"] == "running"  # as far as anyone can tell
        early: list[tuple[str, dict[str, Any]]] = []  # a reader following before the death

        def follow(into: list[tuple[str, dict[str, Any]]]) -> None:
            with client.stream("POST", "/api/papers/2606.00001/faq?lang=en") as r:
                assert r.status_code == 200  # joining: never charged (the limit is used up)
                name = ""
                for line in r.iter_lines():  # as they come: the test waits on them
                    if line.startswith("event: "):
                        name = line[7:]
                    elif line.startswith("data: "):
                        into.append((name, json.loads(line[6:])))

        t1 = threading.Thread(target=follow, args=(early,))
        t1.start()
        wait_for(lambda: client.get(url).json()["status"] == "restarting", timeout=5)
        j = client.get(url).json()
        assert j["restarted"] is True and j["note"] == RESTART_NOTE
        kimi = client.get("/arxiv/kimi?paper=2606.00001&lang=en").text
        assert "faq-restarted" in kimi and "restarting the answer" in kimi
        late: list[tuple[str, dict[str, Any]]] = []  # a reader arriving after it
        t2 = threading.Thread(target=follow, args=(late,))
        t2.start()
        wait_for(lambda: bool(late) or not t2.is_alive())
        pool = Workers(FaqService(faq_store, settings), slots=1, poll=0.02).start()
        try:
            t1.join(20)
            t2.join(20)
        finally:
            pool.stop()
    # The reader who was there saw the dead text, then was told it is gone and why.
    statuses = [d for n, d in early if n == "status"]
    dead_at = next(i for i, (n, d) in enumerate(early) if "DEAD PARTIAL" in json.dumps(d))
    told_at = next(i for i, (n, d) in enumerate(early) if d.get("state") == "restarting")
    assert dead_at < told_at and early[told_at][1]["note"] == RESTART_NOTE
    # (the new attempt's statuses also say what it does: its step)
    assert any(
        (d["state"], d["position"], d.get("restarted"), d.get("note"))
        == ("running", None, True, RESTART_NOTE)
        for d in statuses
    )
    # The reader who came later never saw the dead attempt's text at all.
    assert not any("DEAD PARTIAL" in json.dumps(d) for _, d in late)
    assert late[0] == ("status", {"state": "restarting", "position": None, "restarted": True,
                                  "note": RESTART_NOTE})  # fmt: skip
    for events in (early, late):
        assert events[-1][0] == "done" and "DEAD PARTIAL" not in events[-1][1]["html"]
    st = q.status("2606.00001", "en")
    assert (st.state, st.attempt, st.restarts) == ("done", 2, 1)
    assert len(llm.calls) == 6
