"""The stream hub: readers follow a job from the store (any web worker can serve any job),
late joiners get what exists, a new attempt after a dead worker resets the readers' view."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from coolpapers.llm.jobs import JobQueue
from coolpapers.llm.service import FaqService
from coolpapers.llm.stream import Hub
from coolpapers.store import Store
from tests.llm_support import add_papers, clean_faq, faq_settings, paper

Events = list[tuple[str, dict[str, Any]]]


@pytest.fixture
def faq_store(store: Store) -> Iterator[Store]:
    clean_faq(store)
    yield store


def test_readers_follow_attempts_and_get_the_final_answer(faq_store: Store) -> None:
    p = paper()
    add_papers(faq_store, [p])
    service = FaqService(faq_store, faq_settings("http://127.0.0.1:9/v1"))
    q = JobQueue(faq_store)
    hub = Hub(service, interval=0.01)

    async def reader(out: Events) -> None:
        async for ev in hub.follow(p.id, "en"):
            out.append(ev)

    async def scenario() -> tuple[Events, Events]:
        service.ask(p, "en")
        early: Events = []
        task = asyncio.create_task(reader(early))
        await asyncio.sleep(0.05)
        lease = 0.6  # long enough for the steps below on a loaded machine
        dead = q.claim("w1", lease, 4)
        assert dead is not None
        assert q.append(dead, 1, 0, "first answer, $a_1 * b_2$", lease)
        assert q.append(dead, 2, 1, "second ans", lease)  # renews the lease
        renewed = time.monotonic()
        await asyncio.sleep(0.1)
        late: Events = []
        late_task = asyncio.create_task(reader(late))
        await asyncio.sleep(0.1)
        assert hub.watching() == 1  # one poller for both readers
        time.sleep(max(0.0, renewed + lease + 0.05 - time.monotonic()))  # w1's lease runs out
        new = q.claim("w2", 5.0, 4)
        assert new is not None and new.attempt == dead.attempt + 1
        q.append(new, 1, 0, "redone", 5.0)
        await asyncio.sleep(0.1)
        turns = [("q", "redone")] * 6
        assert q.finish(new, service.make_answer(p, "en", turns, "pdf", {}, 1.0))
        await asyncio.wait_for(asyncio.gather(task, late_task), 5)
        return early, late

    # In a thread of its own: another test's tooling may leave a loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        early, late = pool.submit(asyncio.run, scenario()).result()
    names = [n for n, _ in early]
    assert names[0] == "status" and early[0][1] == {"state": "pending", "position": 1}
    first_turn = next(d for n, d in early if n == "turn" and d["i"] == 0)
    assert "first answer" in first_turn["html"] and 'class="math' in first_turn["html"]
    assert "reset" in names  # the new attempt replaced what was shown
    after = names.index("reset")
    assert any(n == "turn" and "redone" in d["html"] for n, d in early[after:])
    assert early[-1][0] == "done" and late[-1] == early[-1]
    # The late joiner got the completed first turn at once, before the rest.
    late_turns = [d for n, d in late if n == "turn"]
    assert late_turns[0]["i"] == 0 and late_turns[0]["done"] is True
    assert "first answer" in late_turns[0]["html"]
    assert hub.watching() == 0  # the poller ended with the job
