"""The FAQ's queue and workers against a local OpenAI-compatible server, on both backends:
single flight, one call per question carrying the previous turns, failure keeps nothing,
leases expire, priorities and the concurrency cap."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError

from coolpapers.llm.jobs import JobQueue
from coolpapers.llm.prompts import BUILTIN
from coolpapers.llm.schema import faq_answers, faq_chunks, faq_jobs
from coolpapers.llm.service import FaqService
from coolpapers.llm.worker import Workers
from coolpapers.store import Store
from tests.llm_server import FakeLLM, default_answer
from tests.llm_support import add_papers, clean_faq, faq_settings, paper, wait_for

EN = BUILTIN.questions["en"]


@pytest.fixture
def faq_store(store: Store) -> Iterator[Store]:
    clean_faq(store)
    yield store


def _count(store: Store, table: object) -> int:
    with store.engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(table)).scalar() or 0)  # type: ignore[arg-type]


def test_fifty_askers_one_conversation_one_call_per_question(faq_store: Store) -> None:
    p = paper()
    add_papers(faq_store, [p])
    with FakeLLM(delay=0.001) as llm:
        settings = faq_settings(llm.url)
        # Two pools on two engines: as two worker processes sharing the database would be.
        other = Store.open(faq_store.engine.url.render_as_string(hide_password=False))
        services = [FaqService(faq_store, settings), FaqService(other, settings)]
        pools = [Workers(s, slots=3, poll=0.02).start() for s in services]
        try:
            states: list[str] = []
            barrier = threading.Barrier(50)

            def ask(i: int) -> None:
                barrier.wait()
                states.append(services[i % 2].ask(p, "en"))

            threads = [threading.Thread(target=ask, args=(i,)) for i in range(50)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wait_for(lambda: services[0].answer(p.id, "en") is not None)
        finally:
            for pool in pools:
                pool.stop()
            other.engine.dispose()
    assert len(states) == 50 and set(states) <= {"pending", "running", "done"}
    assert len(llm.calls) == len(EN) == 6  # ONE conversation: one call per question
    for i, call in enumerate(llm.calls):
        msgs = call["messages"]
        assert msgs[0]["role"] == "system" and msgs[1]["role"] == "user"
        assert "A paper about" in msgs[1]["content"]
        assert len(msgs) == 2 + 2 * i + 1  # every previous turn, then this question
        assert msgs[-1] == {"role": "user", "content": EN[i]}
        for k in range(i):  # the previous answers come back as assistant turns
            assert msgs[2 + 2 * k + 1]["role"] == "assistant"
            assert msgs[2 + 2 * k + 1]["content"].startswith(f"Answer {k + 1} to: {EN[k]}")
        assert call["stream"] is True
    a = services[0].answer(p.id, "en")
    assert a is not None
    assert [q for q, _ in a.turns] == EN
    assert a.model == "fake-model" and a.prompt_version == BUILTIN.version
    assert a.paper_version == 1 and a.source == "abstract"  # the PDF server is not there
    assert a.usage["calls"] == 6 and a.usage["completion_tokens"] > 0
    assert "abstract only" in a.html  # the header says the model had no full text
    assert _count(faq_store, faq_chunks) == 0  # streamed text is gone once the answer is in


def test_mid_stream_failure_keeps_nothing_and_next_ask_succeeds(faq_store: Store) -> None:
    p = paper()
    add_papers(faq_store, [p])
    with FakeLLM(fail_call=3, fail_after=2) as llm:
        service = FaqService(faq_store, faq_settings(llm.url))
        pool = Workers(service, slots=1, poll=0.02).start()
        try:
            service.ask(p, "en")
            wait_for(lambda: service.queue.status(p.id, "en").state == "failed")
            st = service.queue.status(p.id, "en")
            assert "broke off" in (st.error or "")
            assert service.answer(p.id, "en") is None
            assert _count(faq_store, faq_answers) == 0 and _count(faq_store, faq_chunks) == 0
            assert len(llm.calls) == 3
            # The next click starts afresh (all six questions again) and succeeds.
            assert service.ask(p, "en") == "pending"
            pool.wake()
            wait_for(lambda: service.answer(p.id, "en") is not None)
        finally:
            pool.stop()
    assert len(llm.calls) == 3 + 6
    assert service.queue.status(p.id, "en").state == "done"


def _cut_short(messages: list[dict[str, Any]]) -> str:
    # (each answer its own words: the same sentence in two answers would be a copy, cut)
    return f"The first point about {messages[-1]['content']} is made here. And the sec"


def test_answers_cut_at_the_length_limit_are_marked(faq_store: Store) -> None:
    p = paper()
    add_papers(faq_store, [p])
    with FakeLLM(answer=_cut_short, finish_reason="length") as llm:
        service = FaqService(faq_store, faq_settings(llm.url))
        pool = Workers(service, slots=1, poll=0.02).start()
        try:
            service.ask(p, "en")
            wait_for(lambda: service.answer(p.id, "en") is not None)
        finally:
            pool.stop()
    a = service.answer(p.id, "en")
    assert a is not None and a.usage["cut"] == 6
    assert all(text.endswith(" …") for _, text in a.turns)
    # ending with the last sentence it finished, not in the middle of a word
    assert all(text.endswith(f"{q} is made here. …") for q, text in a.turns)


def test_killed_worker_lease_expires_and_another_finishes(faq_store: Store) -> None:
    p = paper()
    add_papers(faq_store, [p])
    with FakeLLM(delay=0.02, piece=4) as llm:
        settings = faq_settings(llm.url, llm_lease_seconds=0.4)
        service = FaqService(faq_store, settings)
        first = Workers(service, slots=1, poll=0.02, flush=0.02).start()
        service.ask(p, "en")
        wait_for(lambda: _count(faq_store, faq_chunks) > 0)  # it is streaming
        dead = service.queue.status(p.id, "en")
        first.stop()  # killed mid-job: its lease is not renewed any more
        llm.delay = 0.0  # (the rest need not be slow)
        assert service.queue.status(p.id, "en").state in ("running", "restarting")
        second = Workers(FaqService(faq_store, settings), slots=1, poll=0.05).start()
        try:
            wait_for(lambda: service.answer(p.id, "en") is not None)
        finally:
            second.stop()
    done = service.queue.status(p.id, "en")
    assert done.state == "done" and done.attempt == dead.attempt + 1
    a = service.answer(p.id, "en")
    assert a is not None and len(a.turns) == 6
    assert all(t.startswith("Answer") for _, t in a.turns)
    # The dead worker's claim can write nothing any more.
    from coolpapers.llm.jobs import Claim

    stale = Claim(p.id, "en", dead.attempt, first.owner)
    assert service.queue.append(stale, 99, 0, "late text", 5.0) is False
    assert service.queue.fail(stale, "late failure") is False
    assert service.queue.status(p.id, "en").state == "done"


def test_todays_papers_first_and_queue_positions(faq_store: Store) -> None:
    old, mid, new = paper("2601.00001"), paper("2603.00002"), paper("2606.00003")
    add_papers(faq_store, [old], date(2026, 1, 5))
    add_papers(faq_store, [mid], date(2026, 3, 5))
    add_papers(faq_store, [new], date(2026, 6, 4))
    service = FaqService(faq_store, faq_settings("http://127.0.0.1:9/v1"))
    for p in (old, mid, new):  # the historical ones asked first
        assert service.ask(p, "zh") == "pending"
    pos = {p.id: service.queue.status(p.id, "zh").position for p in (old, mid, new)}
    assert pos == {new.id: 1, mid.id: 2, old.id: 3}
    q = JobQueue(faq_store)
    first = q.claim("w1", 5.0, limit=2)
    second = q.claim("w2", 5.0, limit=2)
    assert first is not None and second is not None
    assert (first.paper_id, second.paper_id) == (new.id, mid.id)
    assert q.claim("w3", 5.0, limit=2) is None  # the cap: two conversations at once
    assert q.status(old.id, "zh").position == 1


def test_concurrency_cap_holds_with_several_pools(faq_store: Store) -> None:
    ps = [paper(f"2606.0001{i}") for i in range(5)]
    add_papers(faq_store, ps)
    with FakeLLM(delay=0.002) as llm:
        settings = faq_settings(llm.url, llm_concurrency=2)
        service = FaqService(faq_store, settings)
        pools = [Workers(service, slots=2, poll=0.02).start() for _ in range(2)]
        try:
            for p in ps:
                service.ask(p, "en")
            wait_for(lambda: all(service.answer(p.id, "en") for p in ps), timeout=20)
        finally:
            for pool in pools:
                pool.stop()
    assert llm.max_active <= 2
    assert len(llm.calls) == 5 * 6


def test_migration_creates_exactly_the_faq_schema(faq_store: Store) -> None:
    from sqlalchemy import inspect

    from coolpapers.llm.schema import metadata

    insp = inspect(faq_store.engine)
    assert {t for t in insp.get_table_names() if t.startswith(("faq_", "llm_"))} == set(
        metadata.tables
    )
    for name, table in metadata.tables.items():
        cols = {c["name"]: c for c in insp.get_columns(name)}
        assert list(cols) == [c.name for c in table.c], name
        assert {k: c["nullable"] for k, c in cols.items() if not table.c[k].primary_key} == {
            c.name: c.nullable for c in table.c if not c.primary_key
        }, name
        pk = insp.get_pk_constraint(name)["constrained_columns"]
        assert pk == [c.name for c in table.primary_key.columns], name
        indexes = {i["name"]: i["column_names"] for i in insp.get_indexes(name)}
        assert indexes == {i.name: [c.name for c in i.columns] for i in table.indexes}, name


def test_a_paper_replaced_today_counts_as_todays(faq_store: Store) -> None:
    from coolpapers.records import Announcement, Batch, Kind

    old, replaced = paper("2601.00001"), paper("2601.00002")
    add_papers(faq_store, [old, replaced], date(2026, 1, 5))
    ann = Announcement(date(2026, 6, 4), "cs.CL", replaced.id, Kind.REPLACE)
    faq_store.write(Batch(announcements=[ann]))
    service = FaqService(faq_store, faq_settings("http://127.0.0.1:9/v1"))
    assert service.priority(replaced) == date(2026, 6, 4).toordinal()
    assert service.priority(old) == date(2026, 1, 5).toordinal()
    assert service.priority(paper("2606.99999")) == date(2026, 6, 1).toordinal()  # never listed


def test_a_dead_workers_job_reads_restarting_then_is_taken_over(faq_store: Store) -> None:
    p = paper()
    add_papers(faq_store, [p])
    service = FaqService(faq_store, faq_settings("http://127.0.0.1:9/v1"))
    q = service.queue
    service.ask(p, "en")
    dead = q.claim("dead", 0.2, limit=4)
    assert dead is not None and q.append(dead, 1, 0, "partial", 0.2)
    assert q.status(p.id, "en").state == "running"
    wait_for(lambda: q.status(p.id, "en").state == "restarting", timeout=2)
    assert q.status(p.id, "en").restarts == 0  # nobody has taken it over yet
    # A restarting job holds no slot of the concurrency cap (limit=1 here): it is taken over.
    live = q.claim("live", 5.0, limit=1)
    assert live is not None and live.attempt == 2
    st = q.status(p.id, "en")
    assert (st.state, st.attempt, st.restarts) == ("running", 2, 1)
    assert q.chunks(p.id, "en", 1, 0) == []  # the dead attempt's text is gone
    # A new generation (after this one failed) starts with no restart to report.
    assert q.fail(live, "boom")
    assert service.ask(p, "en") == "pending" and q.status(p.id, "en").restarts == 0


def _slow_first_answer(messages: list[dict[str, Any]]) -> str:
    """The first answer streams for a while (about 1.5 s below), the others at once."""
    first = not any(m["role"] == "assistant" for m in messages)
    # (words that never repeat: a repeated answer would be cut short by the repeat guard)
    more = " ".join(f"word{i}" for i in range(25))
    return f"{default_answer(messages)} {more}" if first else "ok"


def test_the_heartbeat_keeps_a_long_call_leased_through_database_errors(
    faq_store: Store,
) -> None:
    p = paper()
    add_papers(faq_store, [p])
    lease = 0.3
    with FakeLLM(answer=_slow_first_answer, delay=0.02, piece=3) as llm:
        service = FaqService(faq_store, faq_settings(llm.url, llm_lease_seconds=lease))
        renew = service.queue.renew
        calls = {"n": 0}

        def flaky(*args: Any) -> bool:  # the database is locked at the first heartbeat
            calls["n"] += 1
            if calls["n"] == 1:
                raise OperationalError("UPDATE faq_jobs", {}, Exception("database is locked"))
            return renew(*args)

        service.queue.renew = flaky  # type: ignore[method-assign]
        # Nothing is written while the first answer streams (flush: far away), so only the
        # heartbeat keeps the lease of this long call.
        pool = Workers(service, slots=1, poll=0.02, flush=60).start()
        thief = JobQueue(faq_store)
        try:
            service.ask(p, "en")
            wait_for(lambda: llm.active == 1)
            end = time.monotonic() + 4 * lease
            while time.monotonic() < end and llm.active:
                # a live worker's job is never up for grabs
                assert thief.claim("thief", 5.0, limit=4) is None
                assert service.queue.status(p.id, "en").state == "running"
                time.sleep(lease / 4)
            wait_for(lambda: service.answer(p.id, "en") is not None)
        finally:
            pool.stop()
    assert calls["n"] >= 3  # it kept beating after the error
    st = service.queue.status(p.id, "en")
    assert (st.state, st.attempt, st.restarts) == ("done", 1, 0)
    assert len(llm.calls) == 6


def test_a_worker_that_lost_its_lease_stops_at_once_and_goes_on(faq_store: Store) -> None:
    p, nxt = paper("2606.00001"), paper("2606.00002")
    add_papers(faq_store, [p, nxt])
    lease = 0.3
    with FakeLLM(answer=_slow_first_answer, delay=0.05, piece=3) as llm:
        service = FaqService(faq_store, faq_settings(llm.url, llm_lease_seconds=lease))
        pool = Workers(service, slots=1, poll=0.02, flush=60).start()
        try:
            service.ask(p, "en")
            wait_for(lambda: llm.active == 1)  # the first answer: ~4 s of streaming
            with faq_store.engine.begin() as c:  # as if its lease had run out and been taken
                c.execute(update(faq_jobs).values(lease_owner="another worker"))
            t = time.monotonic()
            # The heartbeat finds out within a beat and stops the call, not 4 s later.
            wait_for(lambda: llm.active == 0, timeout=3)
            assert time.monotonic() - t < 2.0
            assert len(llm.calls) == 1  # no further question was asked for nobody
            # The slot lives on: it takes the next job.
            llm.answer = lambda m: "ok"
            service.ask(nxt, "en")
            pool.wake()
            wait_for(lambda: service.answer(nxt.id, "en") is not None)
        finally:
            pool.stop()
    # The worker that lost it did not fail it. (By now the fake owner's lease has run out
    # and the pool may have taken the job over, even finished it: the row is read, not the
    # status, which would say "restarting".)
    with faq_store.engine.connect() as c:
        q = select(faq_jobs.c.state).where(faq_jobs.c.paper_id == p.id)
        assert c.execute(q).scalar_one() in ("running", "done")
