"""Time to serve on a big database: launching `coolpapers serve` until the first HTTP 200.

What it measures
  For each URL (`/` and `/arxiv/cs.CV` by default), --runs fresh launches of
  `coolpapers serve --port P` (COOLPAPERS_DATABASE_URL=sqlite:///bench/out/big.db, built by
  bench/big_db.py: 1,000,000 papers), each polled every 5 ms from the moment of launch until
  that URL answers 200 (the first request to each launch is that URL, so it includes process
  start, imports, migrations, the paper count that `serve` prints, uvicorn start, and the
  URL's first, uncached render). Median of the runs is reported; target < 2 s.
  Modes: "warm" (the database file is in the OS page cache, as on a running machine) and
  "cold" (the database's pages are evicted from the page cache with
  posix_fadvise(DONTNEED) before each launch, as after a reboot; the Python files stay cached).
  Then, once, a breakdown of where a launch's time goes, measured in a child process.

Run
  .venv/bin/python bench/big_db.py            # once: builds bench/out/big.db (about 1 min)
  .venv/bin/python bench/startup.py           # 3 runs x 2 URLs x warm/cold
  .venv/bin/python bench/startup.py --runs 5 --modes warm --urls /,/arxiv/cs.CV,/arxiv/cs.AI
  .venv/bin/python bench/startup.py --remove-db   # ... and delete bench/out/big.db at the end
Servers it starts are stopped (their whole process group) before it exits.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from _common import (
    OUT,
    free_port,
    machine_note,
    median,
    out_dir,
    remove_db,
    serve_env,
    start_serve,
    stop_group,
    table,
    wait_http,
)

TARGET_S = 2.0

BREAKDOWN = r"""
import json, os, sys, time
t = [time.perf_counter()]
marks = {}
def mark(name):
    now = time.perf_counter(); marks[name] = now - t[0]; t[0] = now
import uvicorn, fastapi  # what `serve` and the app import
import coolpapers.cli.main
mark("import cli + uvicorn + fastapi")
import coolpapers.web.app as webapp
mark("import coolpapers.web.app")
from coolpapers.config import get_settings
from coolpapers.store import Store
store = Store.open(get_settings().database_url)
mark("Store.open (engine + alembic upgrade check)")
n = store.count_papers()
mark("count_papers() (serve prints it)")
app = webapp.create_app()
mark("create_app() (a 2nd Store.open + Site)")
site = app.state.site
from coolpapers.web import views, spec
site.html("home.html", H=views.home(site.days, site.store))
mark("render / (first, uncached)")
site.html("home.html", H=views.home(site.days, site.store))
mark("render / (second)")
site.listing_page(spec.parse(sys.argv[1]), None, None)
mark(f"render /arxiv/{sys.argv[1]} (first, uncached)")
site.listing_page(spec.parse(sys.argv[1]), None, None)
mark(f"render /arxiv/{sys.argv[1]} (second, uncached)")
print("BREAKDOWN " + json.dumps(marks))
"""


def evict(db: Path) -> None:
    """Drop this database's pages (only them) from the OS page cache."""
    for suffix in ("", "-wal", "-shm"):
        p = Path(str(db) + suffix)
        if p.exists():
            fd = os.open(p, os.O_RDONLY)
            try:
                os.fdatasync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def one_launch(db: Path, url_path: str, log: Path) -> float:
    port = free_port()
    t0 = time.perf_counter()
    proc = start_serve(f"sqlite:///{db}", port, 1, log)
    try:
        t = wait_http(f"http://127.0.0.1:{port}{url_path}", proc, timeout=120)
        return t - t0
    finally:
        stop_group(proc)


def breakdown(db: Path, category: str, cold: bool) -> dict[str, float]:
    if cold:
        evict(db)
    t0 = time.perf_counter()
    r = subprocess.run(
        [sys.executable, "-c", BREAKDOWN, category],
        env=serve_env(f"sqlite:///{db}"),
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t0
    line = next((ln for ln in r.stdout.splitlines() if ln.startswith("BREAKDOWN ")), None)
    if r.returncode or line is None:
        sys.exit(f"breakdown failed:\n{r.stdout}\n{r.stderr}")
    marks = json.loads(line[10:])
    marks["(whole child process, launch to exit)"] = wall
    return marks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--db", type=Path, default=OUT / "big.db", help="built by bench/big_db.py")
    ap.add_argument("--runs", type=int, default=3, help="launches per URL and mode")
    ap.add_argument("--urls", default="/,/arxiv/cs.CV", help="comma-separated paths")
    ap.add_argument("--modes", default="warm,cold", help="warm, cold or both (comma-separated)")
    ap.add_argument("--remove-db", action="store_true", help="delete the database at the end")
    args = ap.parse_args()
    print(f"machine: {machine_note()}")

    if not args.db.exists():
        sys.exit(f"{args.db} is missing: build it first with .venv/bin/python bench/big_db.py")
    urls = [u.strip() for u in args.urls.split(",") if u.strip()]
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    log_dir = out_dir("startup")
    import sqlite3

    con = sqlite3.connect(args.db)
    n_papers = con.execute("SELECT count(*) FROM papers").fetchone()[0]
    con.close()
    print(
        f"database {args.db}: {n_papers:,} papers, {args.db.stat().st_size / 1e9:.2f} GB "
        f"(bench/big_db.py: real records repeated under new ids)"
    )

    results: dict[tuple[str, str], list[float]] = {}
    marks: dict[str, dict[str, float]] = {}
    try:
        for mode in modes:
            for url in urls:
                times = []
                for i in range(args.runs):
                    if mode == "cold":
                        evict(args.db)
                    s = one_launch(args.db, url, log_dir / f"serve-{mode}-{i}.log")
                    times.append(s)
                    print(f"  {mode:4} run {i + 1}: launch -> 200 on {url}: {s:.3f} s", flush=True)
                results[(mode, url)] = times
            category = next((u.rsplit("/", 1)[1] for u in urls if u.startswith("/arxiv/")), "cs.CV")
            marks[mode] = breakdown(args.db, category, mode == "cold")
    finally:
        import shutil

        shutil.rmtree(log_dir, ignore_errors=True)
        if args.remove_db:
            remove_db(args.db)

    for mode, m in marks.items():
        rows = [[k, f"{v * 1000:.0f}"] for k, v in m.items()]
        print()
        print(table(["step (in one process, in order)", "ms"], rows, title=f"Breakdown ({mode})"))

    print(f"\nmachine at the end: {machine_note()}")
    rows = []
    for (mode, url), times in results.items():
        med = median(times)
        rows.append(
            [
                mode,
                url,
                " ".join(f"{t:.2f}" for t in times),
                f"{med:.2f}",
                f"{min(times):.2f}",
                "yes" if med < TARGET_S else "NO",
            ]
        )
    print()
    print(
        table(
            [
                "mode",
                "URL",
                "launch -> first 200 (s), each run",
                "median (s)",
                "min (s)",
                f"median < {TARGET_S} s",
            ],
            rows,
            title=f"Summary: coolpapers serve on {n_papers:,} papers (SQLite), 1 worker",
        )
    )


if __name__ == "__main__":
    main()
