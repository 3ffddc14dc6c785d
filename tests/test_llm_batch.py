"""`coolpapers faq`: pre-generates a listing day, skips cached answers, resumes after a kill."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coolpapers.cli.main import app
from coolpapers.config import get_settings
from coolpapers.llm.jobs import JobQueue
from coolpapers.llm.prompts import BUILTIN
from coolpapers.llm.service import FaqService
from coolpapers.llm.worker import Workers
from coolpapers.records import Batch, Listing
from coolpapers.store import Store
from tests.llm_server import FakeLLM
from tests.llm_support import add_papers, faq_settings, paper, wait_for


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Store, FakeLLM]]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    with FakeLLM() as llm:
        env = {
            "DATABASE_URL": url,
            "LLM_BASE_URL": llm.url,
            "LLM_MODEL": "fake-model",
            "LLM_LEASE_SECONDS": "0.5",
            "ARXIV_PDF_URL": "http://127.0.0.1:9/pdf",
            "ARXIV_MAX_RETRIES": "0",
            "ARXIV_MIN_INTERVAL": "0",
        }
        for k, v in env.items():
            monkeypatch.setenv(f"COOLPAPERS_{k}", v)
        get_settings.cache_clear()
        store = Store.open(url)
        add_papers(store, [paper(f"2606.0000{i}") for i in range(1, 5)])
        yield store, llm
        get_settings.cache_clear()


def test_faq_command_skips_cached_and_resumes(cli_env: tuple[Store, FakeLLM]) -> None:
    store, llm = cli_env
    settings = faq_settings(llm.url)
    service = FaqService(store, settings)
    # One answer exists already; one job was held by a run that was killed (lease running out).
    first = paper("2606.00001")
    service.ask(first, "en")
    q = JobQueue(store)
    claim = q.claim("killed-run", 5.0, limit=4)
    assert claim is not None
    q.finish(claim, service.make_answer(first, "en", [("q", "a")], "abstract", {}, 0.1))
    service.ask(paper("2606.00002"), "en")
    assert q.claim("killed-run", 0.3, limit=4) is not None  # dies holding it
    time.sleep(0.3)
    r = CliRunner().invoke(
        app, ["faq", "--category", "cs.CL", "--date", "2026-06-04", "--lang", "en",
              "--concurrency", "2"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "4 papers, 1 cached, 3 generated, 0 failed" in r.output
    assert len(llm.calls) == 3 * 6  # the cached one was not asked again
    assert all(service.answer(f"2606.0000{i}", "en") for i in range(1, 5))
    again = CliRunner().invoke(app, ["faq", "-c", "cs.CL", "--date", "2026-06-04", "--lang", "en"])
    assert "4 cached, 0 generated" in again.output and len(llm.calls) == 18


def test_faq_command_without_llm_says_how_to_configure(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("COOLPAPERS_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("COOLPAPERS_LLM_BASE_URL", "")
    get_settings.cache_clear()
    try:
        r = CliRunner().invoke(app, ["faq", "-c", "cs.CL"])
    finally:
        get_settings.cache_clear()
    assert r.exit_code == 1 and "COOLPAPERS_LLM_BASE_URL" in r.output


def test_sigkilled_worker_process_is_taken_over(cli_env: tuple[Store, FakeLLM]) -> None:
    """A real `coolpapers worker` process dies (SIGKILL) mid-conversation; once its lease
    runs out a worker in another process finishes the job; every question asked once per
    attempt, and the answer is complete."""
    store, llm = cli_env
    llm.delay, llm.piece = 0.02, 4
    service = FaqService(store, faq_settings(llm.url, llm_lease_seconds=0.5))
    p = paper("2606.00003")
    service.ask(p, "en")
    env = {**os.environ, "COOLPAPERS_LLM_LEASE_SECONDS": "0.5"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "coolpapers.cli.main", "worker", "--concurrency", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: service.queue.status(p.id, "en").state == "running", timeout=30)
        wait_for(lambda: len(llm.calls) >= 2, timeout=10)  # in its second question
    finally:
        proc.kill()
        proc.wait()
    dead = service.queue.status(p.id, "en")
    assert dead.state == "running" and service.answer(p.id, "en") is None
    llm.delay = 0.0
    pool = Workers(service, slots=1, poll=0.05).start()
    try:
        wait_for(lambda: service.answer(p.id, "en") is not None)
    finally:
        pool.stop()
    assert service.queue.status(p.id, "en").attempt == dead.attempt + 1
    a = service.answer(p.id, "en")
    assert a is not None and [q for q, _ in a.turns] == BUILTIN.questions["en"]
    first_questions = [c["messages"][-1]["content"] for c in llm.calls]
    assert first_questions.count(BUILTIN.questions["en"][0]) == 2  # once per attempt


def test_faq_command_for_a_venue_edition(cli_env: tuple[Store, FakeLLM]) -> None:
    """`--venue ACL.2024` (or the venue alone, its latest edition): the edition's accepted
    papers, whatever their source; its PDFs cannot be reached here, so the abstract serves."""
    store, llm = cli_env
    keys = [f"2024.acl-long.{n}@ACL" for n in (1, 2)]
    store.write(
        Batch(
            papers=[paper(k, version=None, source="acl") for k in [*keys, "x@ACL"]],
            listings=[
                Listing("ACL", "2023", "Long", "x@ACL", 1),
                Listing("ACL", "2024", "Long", keys[0], 1),
                Listing("ACL", "2024", "Short", keys[1], 1),
                Listing("ACL", "2024", "Long", "x@ACL", 2, status="Withdraw"),
            ],
        )
    )
    r = CliRunner().invoke(app, ["faq", "--venue", "ACL", "--lang", "en"])
    assert r.exit_code == 0, r.output
    assert "ACL.2024: 2 papers, 0 cached, 2 generated, 0 failed" in r.output
    service = FaqService(store, faq_settings(llm.url))
    assert all(service.answer(k, "en") for k in keys) and service.answer("x@ACL", "en") is None
    bad = CliRunner().invoke(app, ["faq", "--lang", "en"])
    assert bad.exit_code != 0 and "--venue ACL.2024" in bad.output
