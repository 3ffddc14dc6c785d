"""`make demo` serves before llama.cpp is built; the FAQ starts using it when the build ends.

A real `coolpapers serve --local-llm` is started while the build's status file says it is
building (the Makefile writes that file; here the test does, and plays the builder): the site
answers, the FAQ says that the local model is being built and for about how long, a reader's
FAQ waits in the queue; then the build "ends" and, without a restart of serve, the llama.cpp
server starts with SmolLM2-135M on the port published at start and the waiting FAQ is
written, to the end.

Needs the `local` extra, like tests/test_llm_local_faq.py (required in CI).
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from coolpapers.llm import local
from coolpapers.store import Store
from tests.e2e.conftest import serving
from tests.llm_support import add_papers, paper
from tests.test_llm_local_faq import _require_local


def _status(path: Path, state: str) -> None:
    values = {
        "state": state,
        "pid": os.getpid(),
        "started": time.time() - 60,
        "estimate": 480,
        "log": str(path.parent / ".local-llm.log"),
        "reason": "",
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(values))
    tmp.replace(path)


def _read(base: str, out: list[tuple[str, dict[str, Any]]]) -> None:
    with httpx.stream(
        "POST", f"{base}/api/papers/2606.00001/faq?lang=en", timeout=600, trust_env=False
    ) as r:
        name = ""
        for line in r.iter_lines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                out.append((name, json.loads(line[6:])))


def test_serve_during_the_build_then_the_faq_starts_by_itself(tmp_path: Path) -> None:
    _require_local()
    status = tmp_path / ".local-llm.status"
    _status(status, "building")
    url = f"sqlite:///{tmp_path / 'build.db'}"
    add_papers(Store.open(url), [paper("2606.00001")])
    env = {
        "COOLPAPERS_LLM_LOCAL": "true",
        "COOLPAPERS_LLM_BASE_URL": "",
        local.BUILD_ENV: str(status),
        "COOLPAPERS_ARXIV_PDF_URL": "http://127.0.0.1:9/pdf",  # the abstract: a short test
        "COOLPAPERS_LLM_MAX_ANSWER_TOKENS": "32",
    }
    with serving(tmp_path, url, "/", **env) as base:
        page = httpx.get(f"{base}/arxiv/2606.00001", trust_env=False).text
        assert "FAQ · SmolLM2-135M (tiny demo model)" in page
        j = httpx.get(f"{base}/api/papers/2606.00001/faq?lang=en", trust_env=False).json()
        assert "being built" in j["building"] and "about 7 minutes left" in j["building"]
        events: list[tuple[str, dict[str, Any]]] = []
        reader = threading.Thread(target=_read, args=(base, events), daemon=True)
        reader.start()
        deadline = time.monotonic() + 30
        while not events and time.monotonic() < deadline:
            time.sleep(0.1)
        assert events and events[0][0] == "status" and "being built" in events[0][1]["step"]
        time.sleep(2)  # nothing happens while it builds: the job waits
        assert [n for n, _ in events] == ["status"]
        _status(status, "installed")  # the build ends; serve is not restarted
        reader.join(300)
        assert not reader.is_alive(), events[-3:]
        assert events[-1][0] == "done", events[-3:]
        final = events[-1][1]
        assert len(final["turns"]) == 6 and all(t["a"].strip() for t in final["turns"])
        assert final["model"] == local.DEFAULT_MODEL_FILE.removesuffix(".gguf")
        log = (tmp_path / "serve.log").read_text()
        assert "being built in the background" in log and "built and running" in log
        steps = [d.get("step", "") for n, d in events if n == "status"]
        assert any("Answering question 6 of 6" in s for s in steps)
