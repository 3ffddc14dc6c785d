"""`coolpapers enrich`: a day's TL;DRs and translations as background work, against the local
fake OpenAI-compatible server: the cost before running it (--dry-run), cached texts skipped,
a SIGKILLed run resumed with no text asked for twice, and the day queued when announced."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from coolpapers.cli.main import app
from coolpapers.config import get_settings
from coolpapers.llm import texts
from coolpapers.llm.batch import queue_day
from coolpapers.llm.service import FaqService
from coolpapers.llm.texts import ABSTRACT, TITLE, TLDR, TextService
from coolpapers.store import Store
from tests.llm_server import FakeLLM
from tests.llm_support import DAY, add_papers, faq_settings, paper, wait_for

N = 6


def _answer(messages: list[dict[str, Any]]) -> str:
    user = messages[-1]["content"]
    if "Translate" in user:
        return "译：" + user.split("\n\n", 1)[1]
    return "It studies testing and finds that tests pass."


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Store, FakeLLM]]:
    url = f"sqlite:///{tmp_path / 'enrich.db'}"
    with FakeLLM(answer=_answer) as llm:
        env = {
            "DATABASE_URL": url,
            "LLM_BASE_URL": llm.url,
            "LLM_MODEL": "fake-model",
            "LLM_LEASE_SECONDS": "0.5",
        }
        for k, v in env.items():
            monkeypatch.setenv(f"COOLPAPERS_{k}", v)
        get_settings.cache_clear()
        store = Store.open(url)
        add_papers(store, [_paper(i) for i in range(1, N + 1)])
        yield store, llm
        get_settings.cache_clear()


def _paper(i: int) -> Any:
    return paper(f"2606.0000{i}", abstract=f"We study problem number {i} of testing.")


def _texts(store: Store, llm: FakeLLM) -> TextService:
    return TextService(FaqService(store, faq_settings(llm.url)))


def test_dry_run_says_the_cost_and_calls_nothing(cli_env: tuple[Store, FakeLLM]) -> None:
    _, llm = cli_env
    r = CliRunner().invoke(
        app, ["enrich", "-c", "cs.CL", "--date", "2026-06-04", "--tldr", "--translate", "zh",
              "--dry-run"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert f"{N} papers" in r.output
    assert f"tldr:en: {N} calls (0 cached)" in r.output
    assert f"abstract:zh: {N} calls" in r.output and f"title:zh: {N} calls" in r.output
    assert "no daily budget set" in r.output
    assert llm.calls == []


def test_enrich_writes_each_text_once_and_skips_cached(cli_env: tuple[Store, FakeLLM]) -> None:
    store, llm = cli_env
    args = ["enrich", "-c", "cs.CL", "--date", "2026-06-04", "--tldr", "--translate", "zh",
            "--fields", "abstract", "--concurrency", "3"]  # fmt: skip
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    assert f"{N} papers, 0 texts cached, {2 * N} written, 0 failed" in r.output
    assert len(llm.calls) == 2 * N
    svc = _texts(store, llm)
    ids = [f"2606.0000{i}" for i in range(1, N + 1)]
    assert len(svc.get(ids, TLDR, "en")) == N and len(svc.get(ids, ABSTRACT, "zh")) == N
    assert svc.get(ids, TITLE, "zh") == {}  # --fields abstract
    assert svc.spent(background=True) > 0 and svc.spent(background=False) == 0
    again = CliRunner().invoke(app, args)
    assert f"{2 * N} texts cached, 0 written" in again.output and len(llm.calls) == 2 * N
    # the dry run now says so
    dry = CliRunner().invoke(app, [*args, "--dry-run"])
    assert f"tldr:en: 0 calls ({N} cached)" in dry.output


def test_a_killed_enrich_resumes_without_asking_twice(cli_env: tuple[Store, FakeLLM]) -> None:
    store, llm = cli_env
    llm.delay, llm.piece = 0.05, 2  # each TL;DR takes about a second
    cmd = [sys.executable, "-m", "coolpapers.cli.main", "enrich", "-c", "cs.CL",
           "--date", "2026-06-04", "--tldr", "--concurrency", "1"]  # fmt: skip
    proc = subprocess.Popen(
        cmd, env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    svc = _texts(store, llm)
    ids = [f"2606.0000{i}" for i in range(1, N + 1)]
    try:
        wait_for(lambda: len(svc.get(ids, TLDR, "en")) >= 2, timeout=60)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    done_before = set(svc.get(ids, TLDR, "en"))
    assert 2 <= len(done_before) < N
    llm.delay = 0.0
    r = subprocess.run(cmd, env=dict(os.environ), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert len(svc.get(ids, TLDR, "en")) == N
    asked = [c["messages"][-1]["content"] for c in llm.calls]
    for pid in ids:
        abstract = _paper(int(pid[-1])).abstract
        n = sum(1 for a in asked if f"Abstract: {abstract}\n" in a)
        # a finished text is never asked for again; the one in flight at the kill, once more
        assert n == 1 or (n == 2 and pid not in done_before), (pid, n)
    assert len(asked) <= N + 1


def test_an_announced_day_is_queued_as_background_work(cli_env: tuple[Store, FakeLLM]) -> None:
    store, llm = cli_env
    s = faq_settings(llm.url, llm_enrich_translate="zh, ja", llm_enrich_fields="abstract")
    assert texts.configured_tasks(s) == [(TLDR, "en"), (ABSTRACT, "zh"), (ABSTRACT, "ja")]
    assert queue_day(store, s, ["cs.CL"], DAY) == 3 * N
    svc = TextService(FaqService(store, s))
    assert svc.pending() == {"tldr": N, "abstract": 2 * N}
    st = svc.status("2606.00001", TLDR, "en")
    assert st.state == "pending"
    # a reader's request for a paper of another day goes before all of them
    add_papers(store, [paper("2606.00099")], date(2026, 6, 5))
    svc.ask(paper("2606.00099"), TLDR, "en")
    assert svc.status("2606.00099", TLDR, "en").position == 1
    assert queue_day(store, s, ["cs.CL"], DAY) == 0  # queued already: joined, not twice
    no_llm = faq_settings("", llm_enrich_translate="zh")
    assert queue_day(store, no_llm, ["cs.CL"], DAY) == 0
    with pytest.raises(ValueError):
        texts.wanted(True, ["not a language!"])
