"""Helpers shared by the bench scripts (not a benchmark itself).

Real data loading, memory sampling, starting/stopping `coolpapers serve`, percentiles and a
plain-text table. Every scratch file goes under bench/out/ (git-ignored).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
SHARED = ROOT.parent / "shared"
DAILY = SHARED / "data" / "arxiv-daily"
DAILY_ASTRO = SHARED / "data" / "arxiv-daily-astro-ph"
VENV_BIN = Path(sys.executable).parent
COOLPAPERS = VENV_BIN / "coolpapers"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1/test"


def out_dir(name: str) -> Path:
    d = OUT / name
    d.mkdir(parents=True, exist_ok=True)
    return d


def remove_db(path: Path) -> None:
    """A SQLite file and its WAL/SHM companions."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            Path(str(path) + suffix).unlink()


def daily_files(src: Path) -> list[Path]:
    files = sorted(src.glob("*.jsonl.gz"))
    if not files:
        sys.exit(f"no *.jsonl.gz under {src} (see ../shared/README.md)")
    return files


def iter_daily(files: Sequence[Path]) -> Iterator[tuple[str, bytes]]:
    """(file date, raw line) for every line of the daily files, in file order."""
    for f in files:
        day = f.name[:10]
        with gzip.open(f) as fh:
            for line in fh:
                if line.strip():
                    yield day, line


def load_json_lines(files: Sequence[Path]) -> Iterator[tuple[str, dict[str, Any]]]:
    for day, line in iter_daily(files):
        yield day, json.loads(line)


# ---- memory ------------------------------------------------------------------------------


def proc_status(pid: int | str = "self") -> dict[str, int]:
    """VmRSS / RssAnon / RssFile / VmHWM in KiB from /proc/<pid>/status."""
    out: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                key, _, rest = line.partition(":")
                if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
                    out[key] = int(rest.split()[0])
    except FileNotFoundError:
        pass
    return out


class RssSampler(threading.Thread):
    """Samples this process's RSS every `interval` seconds; keeps the peak and a timeline."""

    def __init__(self, interval: float = 0.05) -> None:
        super().__init__(daemon=True, name="rss-sampler")
        self.interval = interval
        self.samples: list[tuple[float, dict[str, int]]] = []
        self.peak: dict[str, int] = {}
        self._stop_event = threading.Event()
        self.t0 = time.perf_counter()

    def run(self) -> None:
        while not self._stop_event.is_set():
            s = proc_status()
            self.samples.append((time.perf_counter() - self.t0, s))
            for k, v in s.items():
                self.peak[k] = max(self.peak.get(k, 0), v)
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def mib(kib: int) -> str:
    return f"{kib / 1024:.0f} MiB"


# ---- servers -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_env(db_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env["COOLPAPERS_DATABASE_URL"] = db_url
    env["COOLPAPERS_FETCH_ON_DEMAND"] = "false"
    # serving is measured here, not indexing (bench/search.py, bench/import_speed.py do that):
    # a freshly imported database would keep serve's background indexer busy for minutes
    env["COOLPAPERS_SEARCH_INDEX_IN_SERVE"] = "false"
    env.pop("PORT", None)
    return env


def start_serve(
    db_url: str,
    port: int,
    workers: int = 1,
    log: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """`coolpapers serve` in its own process group (so its uvicorn workers stop with it);
    `env` overrides serve_env's settings."""
    cmd = [str(COOLPAPERS), "serve", "--port", str(port), "--workers", str(workers)]
    sink = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115
    try:
        return subprocess.Popen(
            cmd,
            env={**serve_env(db_url), **(env or {})},
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        if log:
            sink.close()  # type: ignore[union-attr]


def stop_group(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Stop a process started by these scripts, and the group it leads (its workers)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    # workers left behind by a parent that died first
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def wait_http(url: str, proc: subprocess.Popen[bytes] | None = None, timeout: float = 60) -> float:
    """Poll `url` until it answers 200; return perf_counter() at that moment."""
    import httpx

    deadline = time.perf_counter() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before {url} answered")
        try:
            r = httpx.get(url, timeout=30)
            if r.status_code == 200:
                return time.perf_counter()
        except httpx.TransportError:
            pass
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{url} did not answer 200 within {timeout}s")
        time.sleep(0.005)


# ---- figures -----------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, round(p / 100 * len(s) + 0.5) - 1))
    return s[k]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str = "") -> str:
    cells = [[str(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def fmt(r: Sequence[str]) -> str:
        return "|" + "|".join(f" {c:<{w}} " for c, w in zip(r, widths, strict=True)) + "|"

    parts = [title] if title else []
    parts += [line, fmt(headers), line, *(fmt(r) for r in cells), line]
    return "\n".join(parts)


def machine_note() -> str:
    """CPU count and load average: other work on the machine skews every figure."""
    one, five, fifteen = os.getloadavg()
    return f"{os.cpu_count()} CPUs, load average {one:.2f} {five:.2f} {fifteen:.2f}"


def local_llm_settings(server: Any, model_name: str, **over: Any) -> Any:
    """The workers' settings for a local llama.cpp server (llm/local.LocalServer) of this
    model: its profile as `serve --local-llm` publishes it (cli/local_llm.py), with the
    benches' long timeout and lease; `over` wins."""
    from coolpapers.config import Settings
    from coolpapers.llm import models

    env = models.as_settings(models.profile_for(model_name))
    values: dict[str, Any] = {
        k.removeprefix("COOLPAPERS_").lower(): v for k, v in env.items() if v != ""
    }
    values.update(
        llm_base_url=server.base_url,
        llm_model=server.model_id,
        llm_tokenize_url=server.base_url.removesuffix("/v1") + "/extras/tokenize/count",
        llm_timeout=600.0,
        llm_lease_seconds=60.0,
    )
    values.update(over)
    return Settings(_env_file=None, **values)
