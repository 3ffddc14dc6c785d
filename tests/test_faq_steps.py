"""What a reader is told while a FAQ is made: each step, from the PDF to the last question.

With arXiv unreachable the panel used to say only "Generating…" for about 160 s while the PDF
was retried. Now a connection that cannot be made falls back to the abstract in seconds, a
busy host is given a few tries within PDF_DEADLINE, and every step (fetching, each retry and
why, the fall back to the abstract, answering question k of 6) reaches the reader through the
job row and the stream, whichever web worker serves them."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from coolpapers.llm import fulltext
from coolpapers.llm.service import FaqService
from coolpapers.llm.worker import Workers
from coolpapers.sources.http import Clients
from coolpapers.store import Store
from coolpapers.web.app import create_app
from tests.llm_server import FakeLLM
from tests.llm_support import add_papers, clean_faq, faq_settings, paper
from tests.replay import FakeSleep, Replay, Reply

CLOSED = "http://127.0.0.1:9/pdf"  # nothing listens there: no connection can be made


@pytest.fixture
def faq_store(store: Store) -> Iterator[Store]:
    clean_faq(store)
    add_papers(store, [paper("2606.00001")])
    yield store


def test_an_unreachable_host_falls_back_to_the_abstract_in_seconds(faq_store: Store) -> None:
    p = paper("2606.00001")
    # arXiv's client would retry five times; the FAQ gives an unreachable host one retry
    settings = faq_settings(arxiv_pdf_url=CLOSED, arxiv_max_retries=5)
    steps: list[str] = []
    t = time.monotonic()
    with Clients(faq_store, settings) as clients:
        got = fulltext.get(faq_store, clients, settings, p, steps.append)
    assert time.monotonic() - t < 10  # (one retry after 2 s), not minutes of back-off
    assert got.source == "abstract" and got.text == p.abstract
    assert steps == [
        "Fetching the PDF from 127.0.0.1…",
        "Fetching the PDF from 127.0.0.1: retry 1 (no connection)…",
        "Could not get the PDF (127.0.0.1 could not be reached): answering from the abstract.",
    ]
    assert got.note == steps[-1]


def test_a_busy_host_gets_a_few_tries_each_told_with_why(faq_store: Store) -> None:
    p = paper("2606.00001", version=1)
    with Replay() as host:
        host.add("/pdf/2606.00001v1", [Reply(503)] * 10)
        settings = faq_settings(arxiv_pdf_url=f"{host.url}/pdf", arxiv_max_retries=5)
        sleep = FakeSleep()  # the back-off (5, 10, 20 s) recorded, not slept
        steps: list[str] = []
        with Clients(faq_store, settings, sleep=sleep, clock=sleep.now) as clients:
            got = fulltext.get(faq_store, clients, settings, p, steps.append)
        tries = len(host.hits_for("/pdf/2606.00001v1"))
    assert got.source == "abstract"
    assert tries == 1 + fulltext.PDF_RETRIES  # not arXiv's 1 + 5: a reader is waiting
    assert steps[0] == "Fetching the PDF from 127.0.0.1…"
    assert steps[1:4] == [
        f"Fetching the PDF from 127.0.0.1: retry {k} (127.0.0.1 answered HTTP 503)…"
        for k in (1, 2, 3)
    ]
    assert steps[-1] == (
        "Could not get the PDF (127.0.0.1 answered HTTP 503): answering from the abstract."
    )


def _status_steps(events: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [d["step"] for name, d in events if name == "status" and d.get("step")]


def test_the_reader_sees_each_step_through_the_stream(faq_store: Store) -> None:
    # An answer that takes a moment per question, so each question's step can be seen.
    with FakeLLM(delay=0.03, piece=4) as llm:
        settings = faq_settings(llm.url, arxiv_pdf_url=CLOSED, arxiv_max_retries=5)
        client = TestClient(create_app(settings, faq_store))
        service = FaqService(faq_store, settings)
        workers = Workers(service, slots=1, poll=0.02, clients=Clients(faq_store, settings))
        workers.start()
        try:
            t = time.monotonic()
            events: list[tuple[str, dict[str, Any]]] = []
            running_step = None
            with client.stream("POST", "/api/papers/2606.00001/faq?lang=en") as r:
                name = ""
                for line in r.iter_lines():
                    if line.startswith("event: "):
                        name = line[7:]
                    elif line.startswith("data: "):
                        events.append((name, json.loads(line[6:])))
                        if (
                            name == "status"
                            and running_step is None
                            and events[-1][1].get("step", "").startswith("Could not get")
                        ):
                            # the JSON status says it too, for a reader who only polls
                            running_step = client.get("/api/papers/2606.00001/faq?lang=en")
            elapsed = time.monotonic() - t
        finally:
            workers.stop()
    assert events[-1][0] == "done" and events[-1][1]["source"] == "abstract"
    assert elapsed < 20  # was ~160 s of "Generating…"
    steps = _status_steps(events)
    assert steps[0].startswith("Fetching the PDF from 127.0.0.1")
    fallback = (
        "Could not get the PDF (127.0.0.1 could not be reached): answering from the abstract."
    )
    asked = [s for s in steps if s.startswith(fallback)]
    # each question announced in order, after why the abstract is used
    ks = [int(m.group(1)) for s in asked if (m := re.search(r"question (\d) of 6", s))]
    assert ks == sorted(ks) and ks[0] == 1 and ks[-1] == 6 and len(set(ks)) >= 5
    assert running_step is not None
    assert running_step.json()["step"].startswith("Could not get the PDF")
    # the turns say how many questions there are
    assert all(d["of"] == 6 for name, d in events if name == "turn")
