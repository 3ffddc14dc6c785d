"""Import throughput into SQLite, and memory while importing.

What it measures
  `coolpapers.sources.arxiv.files.import_files` on a fresh SQLite database, in records (lines) per
  second, with this process's RSS sampled every 50 ms (VmRSS split into RssAnon = Python heap
  and RssFile = mapped files, i.e. SQLite's mmap of the database) and printed at ten points of
  the import, to show whether memory stays flat. Then the same file once through the CLI
  (`coolpapers import FILE`, COOLPAPERS_DATABASE_URL set), timed from launch to exit, with the
  child's peak RSS. Target: >= 20,000 records/s. After each in-process import, the search step
  that follows it (serve runs it in the background; `coolpapers index`): the FTS5 catch-up of
  the imported papers, in papers/s.

The input (built under bench/out/import/ before any timing; nothing is invented but dates)
  daily   every line of every ../shared/data/arxiv-daily/*.jsonl.gz file (386 collection days,
          111,892 lines, 69,708 distinct papers; weekend files included), concatenated in date
          order, verbatim, into ONE plain file named 2026-06-02.jsonl: the importer reads it as
          one daily list announced on 2026-06-02 (a paper listed on several days is upserted
          again: that is what repeated ids cost).
  kaggle  the same lines rewritten in the Kaggle arxiv-metadata-oai-snapshot layout (id,
          authors "A, B and C" + authors_parsed, title, comments, categories space-separated,
          abstract, one version "v1" created at 12:00 GMT of the collection day, nulls for
          journal-ref/doi/license), named arxiv-kaggle-like.jsonl.
  files   the 386 original .jsonl.gz daily files as they are (the importer stores the papers
          of weekend files without listing them; announcements spread over the real days,
          replacements detected).

Run
  .venv/bin/python bench/import_speed.py                    # daily + kaggle + files, CLI once
  .venv/bin/python bench/import_speed.py --formats daily --lines 20000 --no-cli
Scratch databases and the built files are deleted at the end (--keep to look at them).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

from _common import (
    COOLPAPERS,
    DAILY,
    RssSampler,
    daily_files,
    iter_daily,
    machine_note,
    mib,
    out_dir,
    proc_status,
    remove_db,
    table,
)

TARGET = 20_000


def build_daily(files: list[Path], dest: Path, limit: int | None) -> int:
    n = 0
    with dest.open("wb") as out:
        for _day, line in iter_daily(files):
            out.write(line if line.endswith(b"\n") else line + b"\n")
            n += 1
            if limit and n >= limit:
                break
    return n


def _kaggle_record(day: str, o: dict) -> dict:
    authors = [" ".join(str(a).split()) for a in o.get("authors") or []]
    parsed = []
    for a in authors:
        first, _, last = a.rpartition(" ")
        parsed.append([last, first, ""])
    created = datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)
    joined = ", ".join(authors[:-1]) + (" and " if len(authors) > 1 else "") + authors[-1]
    return {
        "id": o["id"],
        "submitter": None,
        "authors": joined if authors else "",
        "title": o.get("title"),
        "comments": o.get("comment"),
        "journal-ref": None,
        "doi": None,
        "report-no": None,
        "categories": " ".join(o.get("categories") or []),
        "license": None,
        "abstract": o.get("summary"),
        "versions": [{"version": "v1", "created": format_datetime(created, usegmt=True)}],
        "update_date": day,
        "authors_parsed": parsed,
    }


def build_kaggle(files: list[Path], dest: Path, limit: int | None) -> int:
    n = 0
    with dest.open("w", encoding="utf-8") as out:
        for day, line in iter_daily(files):
            o = json.loads(line)
            if not o.get("authors"):
                continue
            out.write(json.dumps(_kaggle_record(day, o), ensure_ascii=False) + "\n")
            n += 1
            if limit and n >= limit:
                break
    return n


def count_rows(db: Path) -> dict[str, int]:
    import sqlite3

    con = sqlite3.connect(db)
    try:
        return {
            t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("papers", "announcements", "day_counts")
        }
    finally:
        con.close()


def run_in_process(
    label: str, inputs: list[Path], lines: int, db: Path, batch: int, cache_kib: int = 0
) -> dict:
    """Time import_files on a fresh DB; sample RSS; print memory at ~10 points."""
    from sqlalchemy import event

    from coolpapers.sources.arxiv.files import import_files
    from coolpapers.store import Store

    remove_db(db)
    total_bytes = sum(p.stat().st_size for p in inputs)
    rss_before = proc_status()
    t_open = time.perf_counter()
    store = Store.open(f"sqlite:///{db}")
    open_s = time.perf_counter() - t_open
    if cache_kib:
        # diagnostic: a smaller SQLite page cache than the store's 64 MiB, set after its pragmas
        store.engine.dispose()
        event.listen(
            store.engine,
            "connect",
            lambda c, _r: c.execute(f"PRAGMA cache_size=-{cache_kib}"),
        )

    sampler = RssSampler(0.05)
    points: list[tuple[float, int, dict[str, int]]] = []
    done = [0]

    def progress(nbytes: int) -> None:
        if not nbytes and points:
            return
        done[0] += nbytes
        points.append((time.perf_counter() - t0, done[0], proc_status()))

    sampler.start()
    t0 = time.perf_counter()
    report = import_files(store, inputs, batch_size=batch, progress=progress)
    elapsed = time.perf_counter() - t0
    sampler.stop()
    # then the search step that follows an import (serve runs it in the background)
    from coolpapers.search import indexer

    t1 = time.perf_counter()
    indexed = indexer.catch_up_fulltext(store)
    fts_s = time.perf_counter() - t1
    store.engine.dispose()

    rows = count_rows(db)
    rate = report.lines / elapsed
    print(f"\n== in-process import_files: {label} ==")
    print(
        f"input: {len(inputs)} file(s), {total_bytes / 1e6:.1f} MB, {report.lines:,} lines "
        f"({lines:,} built); batch_size={batch}; Store.open (migrate) {open_s * 1000:.0f} ms"
        + (f"; SQLite cache_size forced to {cache_kib} KiB" if cache_kib else "")
    )
    print(
        f"stored {report.stored:,} records ({report.skipped} malformed, "
        f"{len(report.skipped_files)} files with papers but no listing) "
        f"in {elapsed:.2f} s -> {rate:,.0f} lines/s"
        f" ({report.stored / elapsed:,.0f} stored records/s)"
    )
    print(
        f"database: {rows['papers']:,} papers, {rows['announcements']:,} announcements, "
        f"{rows['day_counts']:,} day_counts rows, {db.stat().st_size / 1e6:.0f} MB"
    )
    print(
        f"then the full-text index (indexer.catch_up_fulltext, FTS5): {indexed:,} papers in "
        f"{fts_s:.2f} s -> {indexed / fts_s:,.0f} papers/s"
    )
    print(f"RSS before Store.open: {mib(rss_before.get('VmRSS', 0))}")
    mem_rows = []
    if points:
        step = max(1, len(points) // 10)
        picks = points[step - 1 :: step]
        if picks[-1] is not points[-1]:
            picks.append(points[-1])
        for t, b, s in picks:
            mem_rows.append(
                [
                    f"{t:6.2f}",
                    f"{100 * b / total_bytes:5.1f}%",
                    mib(s.get("VmRSS", 0)),
                    mib(s.get("RssAnon", 0)),
                    mib(s.get("RssFile", 0)),
                ]
            )
        print(table(["t (s)", "input read", "VmRSS", "RssAnon", "RssFile"], mem_rows))
    print(
        f"peak sampled: VmRSS {mib(sampler.peak.get('VmRSS', 0))}, RssAnon "
        f"{mib(sampler.peak.get('RssAnon', 0))}, RssFile {mib(sampler.peak.get('RssFile', 0))};"
        f" VmHWM (process lifetime) {mib(proc_status().get('VmHWM', 0))}"
    )
    first_anon = points[len(points) // 10][2].get("RssAnon", 0) if points else 0
    half_anon = points[len(points) // 2][2].get("RssAnon", 0) if points else 0
    return {
        "label": label,
        "lines": report.lines,
        "stored": report.stored,
        "seconds": elapsed,
        "rate": rate,
        "papers": rows["papers"],
        "anon_10": first_anon,
        "anon_50": half_anon,
        "anon_end": points[-1][2].get("RssAnon", 0) if points else 0,
        "peak_rss": sampler.peak.get("VmRSS", 0),
        "fts_rate": indexed / fts_s if fts_s else 0.0,
    }


def run_cli(path: Path, db: Path) -> dict:
    remove_db(db)
    env = dict(os.environ)
    env["COOLPAPERS_DATABASE_URL"] = f"sqlite:///{db}"
    env["COLUMNS"] = "200"  # rich wraps the summary line at 80 columns otherwise
    cmd = [str(COOLPAPERS), "import", str(path)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        sys.exit(f"CLI import failed ({proc.returncode}):\n{output.decode(errors='replace')}")
    tail = [ln for ln in output.decode(errors="replace").splitlines() if "imported" in ln]
    rows = count_rows(db)
    lines = sum(1 for _ in path.open("rb"))
    print(f"\n== CLI: COOLPAPERS_DATABASE_URL=sqlite:///{db} {COOLPAPERS} import {path} ==")
    print(tail[-1].strip() if tail else output.decode(errors="replace")[-300:])
    print(
        f"{lines:,} lines in {elapsed:.2f} s wall (process start, migrate, import, exit) -> "
        f"{lines / elapsed:,.0f} lines/s; peak RSS (ru_maxrss) {usage.ru_maxrss / 1024:.0f} MiB;"
        f" {rows['papers']:,} papers"
    )
    return {
        "label": "CLI daily",
        "lines": lines,
        "seconds": elapsed,
        "rate": lines / elapsed,
        "peak_rss": usage.ru_maxrss,
        "papers": rows["papers"],
    }


def parse_only(inputs: list[Path]) -> tuple[int, float]:
    """The same per-line work as the importer (json.loads + record building), no database:
    the ceiling that parsing alone puts on throughput. Uses the importer's own functions."""
    import gzip
    from datetime import date

    from coolpapers.sources.arxiv import files as F
    from coolpapers.sources.arxiv.timetable import is_listing_day

    n = 0
    t0 = time.perf_counter()
    for path in inputs:
        m = F._DAILY_NAME.search(path.name)
        day = date.fromisoformat(m.group(1)) if m else None
        if day is not None and not is_listing_day(day):
            continue
        with gzip.open(path) if path.suffix == ".gz" else path.open("rb") as fh:
            for line in fh:
                obj = json.loads(line)
                if day:
                    F._daily(obj, day, [])
                else:
                    F._kaggle(obj, [])
                n += 1
    return n, time.perf_counter() - t0


def child(args: argparse.Namespace, files: list[Path], work: Path) -> None:
    """One measurement in a fresh process, so that its memory figures are its own."""
    fmt = args.child
    db = work / f"import-{fmt}.db"
    if fmt == "files":
        inputs, n, label = files, 0, "original daily files"
    else:
        path = work / ("2026-06-02.jsonl" if fmt == "daily" else "arxiv-kaggle-like.jsonl")
        inputs, label = [path], {"daily": "one daily-format file", "kaggle": "Kaggle-like file"}
        label = label[fmt]
        n = sum(1 for _ in path.open("rb"))
    try:
        r = run_in_process(label, inputs, n, db, args.batch_size, args.sqlite_cache_kib)
    finally:
        remove_db(db)
    pn, ps = parse_only(inputs)
    r["parse_rate"] = pn / ps
    print(
        f"parse only (json.loads + files._daily/_kaggle, no database): {pn:,} lines in "
        f"{ps:.2f} s -> {pn / ps:,.0f} lines/s; so the database side takes about "
        f"{max(0.0, r['seconds'] - ps):.2f} s of the {r['seconds']:.2f} s"
    )
    print("RESULT " + json.dumps(r), flush=True)


def run_child(fmt: str, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, __file__, "--child", fmt, "--batch-size", str(args.batch_size)]
    cmd += ["--src", str(args.src), "--sqlite-cache-kib", str(args.sqlite_cache_kib)]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    result: dict = {}
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[7:])
        else:
            print(line)
    if proc.returncode or not result:
        sys.exit(f"measurement {fmt!r} failed ({proc.returncode})")
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--src", type=Path, default=DAILY, help="folder of daily *.jsonl.gz files")
    ap.add_argument(
        "--formats",
        default="daily,kaggle,files",
        help="comma-separated: daily (one big daily file), kaggle (Kaggle-like file), "
        "files (the original daily files)",
    )
    ap.add_argument("--lines", type=int, default=0, help="cap the built files (0: all lines)")
    ap.add_argument("--batch-size", type=int, default=5000, help="records per transaction")
    ap.add_argument("--no-cli", action="store_true", help="skip the CLI measurement")
    ap.add_argument("--keep", action="store_true", help="keep bench/out/import/ afterwards")
    ap.add_argument(
        "--sqlite-cache-kib",
        type=int,
        default=0,
        help="diagnostic: force SQLite's page cache to this size (0: the store's own 64 MiB), "
        "to tell its growth apart from Python's",
    )
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    print(f"machine: {machine_note()}")

    work = out_dir("import")
    files = daily_files(args.src)
    if args.child:
        child(args, files, work)
        return

    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    unknown = set(formats) - {"daily", "kaggle", "files"}
    if unknown:
        sys.exit(f"unknown format(s): {', '.join(sorted(unknown))}")
    limit = args.lines or None
    results: list[dict] = []
    try:
        if "daily" in formats or not args.no_cli:
            p = work / "2026-06-02.jsonl"
            t = time.perf_counter()
            n = build_daily(files, p, limit)
            print(
                f"built {p}: {n:,} lines from {len(files)} files of {args.src} "
                f"(verbatim, concatenated in date order) in {time.perf_counter() - t:.1f} s"
            )
        if "kaggle" in formats:
            p = work / "arxiv-kaggle-like.jsonl"
            t = time.perf_counter()
            n = build_kaggle(files, p, limit)
            print(
                f"built {p}: {n:,} lines, Kaggle snapshot layout, from the same records "
                f"in {time.perf_counter() - t:.1f} s"
            )
        for fmt in formats:
            results.append(run_child(fmt, args))
        if not args.no_cli:
            db = work / "import-cli.db"
            try:
                results.append(run_cli(work / "2026-06-02.jsonl", db))
            finally:
                remove_db(db)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    print(f"\nmachine at the end: {machine_note()}")
    rows = []
    for r in results:
        anon = (
            f"{mib(r['anon_10'])} / {mib(r['anon_50'])} / {mib(r['anon_end'])}"
            if "anon_end" in r
            else "-"
        )
        parse = f"{r['parse_rate']:,.0f}" if "parse_rate" in r else "-"
        rows.append(
            [
                r["label"],
                f"{r['lines']:,}",
                f"{r['papers']:,}",
                f"{r['seconds']:.2f}",
                f"{r['rate']:,.0f}",
                "yes" if r["rate"] >= TARGET else "NO",
                mib(r["peak_rss"]),
                anon,
                parse,
                f"{r['fts_rate']:,.0f}" if r.get("fts_rate") else "-",
            ]
        )
    print()
    print(
        table(
            [
                "run",
                "lines",
                "papers in DB",
                "seconds",
                "lines/s",
                f">= {TARGET:,}/s",
                "peak RSS",
                "RssAnon at 10% / 50% / end",
                "parse-only lines/s",
                "then FTS5 papers/s",
            ],
            rows,
            title="Summary: import into a fresh SQLite database (in-process rows: import_files "
            "only; CLI row: whole command, launch to exit)",
        )
    )
    print(
        "RssAnon grows while SQLite's page cache fills (the store sets cache_size=-65536: up to "
        "64 MiB per connection), then stays flat; --sqlite-cache-kib 2000 shows the difference."
    )


if __name__ == "__main__":
    main()
