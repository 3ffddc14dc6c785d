"""The local model built in the background (`make demo`): the site is served meanwhile, the FAQ
says that the model is being built and for about how long, readers' FAQs wait in the queue,
and start by themselves when the build ends, without a restart; a failed build is explained.

The build's status file is the Makefile's (llm/local.py reads it); here it is written by hand,
and the llama.cpp server is a stand-in answering through the fake LLM (the real path is
tests/test_llm_local_build.py)."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from fastapi.testclient import TestClient

from coolpapers.cli import local_llm
from coolpapers.config import get_settings
from coolpapers.llm import local
from coolpapers.llm.service import FaqService
from coolpapers.llm.worker import Workers
from coolpapers.store import Store
from coolpapers.web.app import create_app
from tests.llm_server import FakeLLM
from tests.llm_support import add_papers, clean_faq, faq_settings, paper, wait_for


def write_status(path: Path, state: str, **kw: Any) -> None:
    """As the Makefile writes it: to a temporary file, then renamed."""
    values: dict[str, Any] = {"state": state, "pid": os.getpid(), "started": time.time()}
    values |= {"estimate": 300, "log": "/tmp/x/.local-llm.log", "reason": ""} | kw
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(values))
    tmp.replace(path)


def test_the_status_file_is_read_cheaply_and_says_how_long(tmp_path: Path) -> None:
    status = tmp_path / ".local-llm.status"
    watch = local.BuildWatch(status, every=0)
    assert watch.get() is None  # no build
    now = time.time()
    write_status(status, "building", started=now - 60, estimate=480)
    b = watch.get()
    assert b is not None and b.busy and round(b.left(now)) == 420
    assert "being built" in b.note(now) and "about 7 minutes left" in b.note(now)
    assert "longer than expected" in b.note(now + 1000)
    write_status(status, "failed", reason="pip could not build llama-cpp-python")
    b = watch.get()
    assert b is not None and b.state == local.FAILED
    assert "could not be built: pip could not build" in b.note()
    # A builder that died (make killed) is not "building" for ever.
    dead = subprocess.Popen(["true"])
    dead.wait()
    write_status(status, "building", pid=dead.pid)
    b = watch.get()
    assert b is not None and b.state == local.STOPPED and "stopped" in b.note()
    status.write_text("{half a file")
    assert watch.get() is None
    # Looked at again only after `every` seconds (a page asks once per card).
    slow = local.BuildWatch(status, every=60)
    write_status(status, "building")
    assert slow.get() is not None
    write_status(status, "installed")
    got = slow.get()
    assert got is not None and got.busy


def test_the_compilers_progress_in_the_log_says_how_long_on_this_machine(
    tmp_path: Path,
) -> None:
    """The background build logs ninja's "[n/m]" lines (pip -v): the time left is reckoned
    from the steps done so far, not from the Makefile's guess for a 2-core machine."""
    log = tmp_path / ".local-llm.log"
    status = tmp_path / ".local-llm.status"
    now = time.time()
    write_status(status, "building", started=now - 100, estimate=60, log=str(log))
    watch = local.BuildWatch(status, every=0)
    log.write_text("Building wheel for llama-cpp-python\n-- Configuring done\n")
    b = watch.get()
    assert b is not None and b.compiled is None  # configuring: the estimate (overdue)
    assert "longer than expected" in b.note(now)
    lines = [f"[{i}/200] Building C object ggml/src/ggml-{i}.c.o" for i in range(1, 51)]
    log.write_text("\n".join(["-- Build files have been written", *lines]) + "\n")
    b = watch.get()
    assert b is not None and b.compiled == (50, 200)
    # 100 s for 50 steps: 300 s for the 150 left, then the install
    assert round(b.left(now)) == 300 + round(local.INSTALL_SECONDS)
    assert "50 of 200 steps done, about 6 minutes left" in b.note(now)


@pytest.fixture
def clean_env() -> Iterator[None]:
    """No COOLPAPERS_* settings, and whatever `serve` publishes in the environment is gone
    afterwards (it sets variables of its own: monkeypatch would not know to remove them)."""
    saved = dict(os.environ)
    for key in [k for k in os.environ if k.startswith("COOLPAPERS_")]:
        del os.environ[key]
    get_settings.cache_clear()
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        get_settings.cache_clear()


def test_serve_during_the_build_publishes_the_model_and_waits_for_it(
    tmp_path: Path, clean_env: None
) -> None:
    status = tmp_path / ".local-llm.status"
    write_status(status, "building", estimate=480)
    pending = local_llm.start(get_settings(), status_file=status)
    try:
        assert isinstance(pending, local.PendingServer)
        s = get_settings()
        # configured as if it ran: the port chosen now, SmolLM2's id and profile
        assert s.llm_configured and s.llm_base_url == pending.base_url
        assert s.llm_model == local.DEFAULT_MODEL_FILE.removesuffix(".gguf")
        assert s.llm_label.startswith("SmolLM2-135M") and s.llm_context_tokens == 8192
        assert os.environ[local.BUILD_ENV] == str(status)  # for the web processes
        assert local.waiting()  # the FAQ workers hold back
    finally:
        assert pending is not None
        pending.stop()
    assert not local.waiting()


class StubServer:
    """Stands in for llama.cpp's server (its start takes a real model: the slow test's)."""

    started: ClassVar[list[StubServer]] = []

    def __init__(self, model: Path, **kw: Any) -> None:
        self.model, self.kw = model, kw
        self.base_url = f"http://127.0.0.1:{kw['port']}/v1"

    def start(self) -> StubServer:
        StubServer.started.append(self)
        return self

    def stop(self) -> None:
        pass


@pytest.fixture
def faq_store(store: Store) -> Iterator[Store]:
    clean_faq(store)
    add_papers(store, [paper("2606.00001")])
    yield store


def _read(stream: Any, out: list[tuple[str, dict[str, Any]]]) -> None:
    name = ""
    for line in stream.iter_lines():
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            out.append((name, json.loads(line[6:])))


def test_a_faq_asked_during_the_build_starts_by_itself_when_it_ends(
    faq_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    status = tmp_path / ".local-llm.status"
    write_status(status, "building", started=time.time() - 30, estimate=330)
    monkeypatch.setenv(local.BUILD_ENV, str(status))
    monkeypatch.setattr(local, "LocalServer", StubServer)
    model = tmp_path / "SmolLM2-135M-Instruct.Q4_1.gguf"
    model.write_bytes(b"GGUF")
    ready = threading.Event()
    with FakeLLM(delay=0.001) as llm:
        settings = faq_settings(llm.url)
        service = FaqService(faq_store, settings)
        pending = local.PendingServer(
            local.BuildWatch(status, every=0),
            model,
            n_ctx=8192,
            port=local.free_port(),
            alias="SmolLM2-135M-Instruct.Q4_1",
            on_ready=lambda _s: ready.set(),
            poll=0.05,
        ).start()
        workers = Workers(service, slots=1, poll=0.02).start()
        client = TestClient(create_app(settings, faq_store))
        try:
            j = client.get("/api/papers/2606.00001/faq?lang=en").json()
            assert j["configured"] and "about 5 minutes left" in j["building"]
            # A follow-up is answered within its request: not before the model runs.
            r = client.post(
                "/api/papers/2606.00001/faq/followup", json={"question": "Why?", "lang": "en"}
            )
            assert r.status_code == 503 and "being built" in r.json()["error"]
            events: list[tuple[str, dict[str, Any]]] = []
            with client.stream("POST", "/api/papers/2606.00001/faq?lang=en") as r:
                reader = threading.Thread(target=_read, args=(r, events))
                reader.start()
                wait_for(lambda: events, timeout=10)
                time.sleep(0.5)
                # queued, and told why it waits; nothing asked of a model that is not there
                assert events[0][0] == "status" and events[0][1]["state"] == "pending"
                assert "being built" in events[0][1]["step"]
                assert llm.calls == []
                write_status(status, "installed")  # the build ends: no restart of anything
                reader.join(30)
            assert ready.is_set() and StubServer.started[-1].kw["port"] == pending.port
            assert events[-1][0] == "done" and len(events[-1][1]["turns"]) == 6
            assert len(llm.calls) == 6
        finally:
            workers.stop()
            pending.stop()


def test_a_failed_build_is_explained_and_a_waiting_faq_is_told(
    faq_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    status = tmp_path / ".local-llm.status"
    write_status(status, "building")
    monkeypatch.setenv(local.BUILD_ENV, str(status))
    settings = faq_settings("http://127.0.0.1:9/v1")
    client = TestClient(create_app(settings, faq_store))
    events: list[tuple[str, dict[str, Any]]] = []
    with client.stream("POST", "/api/papers/2606.00001/faq?lang=en") as r:
        reader = threading.Thread(target=_read, args=(r, events))
        reader.start()
        wait_for(lambda: events, timeout=10)
        write_status(status, "failed", reason="pip could not build llama-cpp-python")
        reader.join(10)
    assert events[-1][0] == "error" and "could not be built" in events[-1][1]["error"]
    j = client.get("/api/papers/2606.00001/faq?lang=en").json()
    assert not j["configured"] and "pip could not build llama-cpp-python" in j["message"]
    assert client.post("/api/papers/2606.00001/faq?lang=en").status_code == 503
    page = client.get("/arxiv/2606.00001").text
    assert "could not be built" in page  # the button's title says why
