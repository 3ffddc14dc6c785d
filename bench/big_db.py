"""Build a big SQLite database (default 1,000,000 papers) for the startup and page benchmarks.

What it does
  1. Reads the real records of ../shared/data/arxiv-daily and arxiv-daily-astro-ph (one per
     distinct id, the last line wins; shuffled with a fixed seed) and turns each into exactly
     what the importer stores (`coolpapers.sources.arxiv.files._daily`, then the store's TeX-accent
     conversion and JSON authors).
  2. Creates the schema with `Store.open(url)` (Alembic, as the app does), then fills it with
     plain `sqlite3` executemany: the real records are REPEATED, in order, under NEW ids
     (YYMM.NNNNN of their announcement month, numbered per month), over --days weekdays ending
     --end. Papers per day follow the real daily files' sizes (cycled) scaled to --papers.
     Each paper is listed on its day in every one of its categories: primary = new,
     others = cross-lists; in addition --replace-frac x (new papers of the day) earlier papers
     of the last 60 days are listed again as replacements (replace / replace-cross), as arXiv
     does. day_counts holds, per (category, day), total = all listings and listed = new +
     cross, exactly as the store's own recount computes them; state.generation is set.
  3. Prints what it built (rows, size, time).

The database is kept (bench/startup.py and others use it): bench/out/big.db by default.
Remove it with `--remove` (or `bench/startup.py --remove-db`).

Run
  .venv/bin/python bench/big_db.py                      # 1,000,000 papers over 400 days
  .venv/bin/python bench/big_db.py --papers 100000 --db bench/out/small.db
  .venv/bin/python bench/big_db.py --remove
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from _common import (
    DAILY,
    DAILY_ASTRO,
    OUT,
    daily_files,
    load_json_lines,
    machine_note,
    remove_db,
    table,
)

DEFAULT_DB = OUT / "big.db"


def real_pool(sources: list[Path]) -> tuple[list[tuple], list[int]]:
    """Distinct real papers as stored rows (minus id), and the real weekday list sizes."""
    from coolpapers.sources.arxiv import files as F
    from coolpapers.texmarkup import accents_to_unicode

    by_id: dict[str, tuple] = {}
    day_sizes: list[int] = []
    for src in sources:
        files = daily_files(src)
        for f in files:
            d = date.fromisoformat(f.name[:10])
            if src == sources[0] and d.weekday() < 5:
                day_sizes.append(0)
            for _, obj in load_json_lines([f]):
                try:
                    p, _anns = F._daily(obj, d)
                except (ValueError, KeyError, TypeError):
                    continue
                if src == sources[0] and d.weekday() < 5:
                    day_sizes[-1] += 1
                by_id.pop(p.id, None)  # keep first-appearance order, last text wins
                by_id[p.id] = (
                    accents_to_unicode(p.title),
                    json.dumps([accents_to_unicode(a) for a in p.authors], ensure_ascii=False),
                    accents_to_unicode(p.abstract),
                    " ".join(p.categories),
                    p.comments,
                )
    pool = list(by_id.values())
    random.Random(0).shuffle(pool)  # each day a real mix of cs.* and astro-ph/physics papers
    return pool, [n for n in day_sizes if n]


def weekdays(end: date, n: int) -> list[date]:
    out: list[date] = []
    d = end
    while len(out) < n:
        if d.weekday() < 5:
            out.append(d)
        d -= timedelta(days=1)
    return out[::-1]


def build(db: Path, n_papers: int, n_days: int, end: date, replace_frac: float) -> dict:
    from coolpapers.store import Store

    t0 = time.perf_counter()
    pool, sizes = real_pool([DAILY, DAILY_ASTRO])
    t_pool = time.perf_counter() - t0
    print(
        f"real records: {len(pool):,} distinct papers from {DAILY.name} + {DAILY_ASTRO.name} "
        f"(read and converted in {t_pool:.1f} s); {len(sizes)} real weekday list sizes"
    )

    remove_db(db)
    db.parent.mkdir(parents=True, exist_ok=True)
    store = Store.open(f"sqlite:///{db}")  # the app's own schema (Alembic)
    store.engine.dispose()

    days = weekdays(end, n_days)
    weights = [sizes[i % len(sizes)] for i in range(n_days)]
    scale = n_papers / sum(weights)
    per_day = [int(w * scale) for w in weights]
    per_day[-1] += n_papers - sum(per_day)

    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-1000000")
    con.execute("PRAGMA temp_store=MEMORY")
    ingested = datetime.now(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    month_seq: Counter[str] = Counter()
    recent: list[tuple[str, str]] = []  # (paper id, categories) of the last 60 days
    recent_starts: list[int] = []
    rng_state = 12345
    n_ann = n_repl = n_counts = 0
    k = 0
    t1 = time.perf_counter()
    con.execute("BEGIN")
    for i, (d, count) in enumerate(zip(days, per_day, strict=True)):
        ds = d.isoformat()
        yymm = d.strftime("%y%m")
        rows = []
        anns: list[tuple[str, str, str, int]] = []
        todays: list[tuple[str, str]] = []
        for _ in range(count):
            title, authors, abstract, cats, comments = pool[k % len(pool)]
            k += 1
            month_seq[yymm] += 1
            if month_seq[yymm] > 99999:
                sys.exit(f"more than 99,999 papers in {yymm}: use more --days or fewer --papers")
            pid = f"{yymm}.{month_seq[yymm]:05d}"
            rows.append((pid, title, authors, abstract, cats, comments, ingested))
            for j, c in enumerate(cats.split()):
                anns.append((c, ds, pid, 0 if j == 0 else 1))
            todays.append((pid, cats))
        # replacements: earlier papers listed again (deterministic pseudo-random picks)
        if recent and replace_frac > 0:
            seen: set[str] = set()
            for _ in range(int(count * replace_frac)):
                rng_state = (rng_state * 1103515245 + 12345) & 0x7FFFFFFF
                pid, cats = recent[rng_state % len(recent)]
                if pid in seen:
                    continue
                seen.add(pid)
                n_repl += 1
                for j, c in enumerate(cats.split()):
                    anns.append((c, ds, pid, 2 if j == 0 else 3))
        con.executemany(
            "INSERT INTO papers (id, title, authors, abstract, categories, comments, ingested) "
            "VALUES (?,?,?,?,?,?,?)",
            rows,
        )
        anns.sort()
        con.executemany(
            "INSERT OR IGNORE INTO announcements (category, day, paper_id, kind) VALUES (?,?,?,?)",
            anns,
        )
        n_ann += len(anns)
        totals: Counter[str] = Counter()
        listed: Counter[str] = Counter()
        for c, _d, _p, kind in anns:
            totals[c] += 1
            if kind <= 1:
                listed[c] += 1
        con.executemany(
            "INSERT INTO day_counts (category, day, total, listed) VALUES (?,?,?,?)",
            [(c, ds, n, listed[c]) for c, n in sorted(totals.items())],
        )
        n_counts += len(totals)
        recent_starts.append(len(recent))
        recent.extend(todays)
        if len(recent_starts) > 60:
            drop = recent_starts[-60]
            recent = recent[drop:]
            recent_starts = [s - drop for s in recent_starts[-60:]]
        if (i + 1) % 50 == 0:
            con.execute("COMMIT")
            con.execute("BEGIN")
            print(
                f"  {i + 1}/{n_days} days, {k:,} papers, {time.perf_counter() - t1:.0f} s",
                flush=True,
            )
    con.execute(
        "INSERT INTO state (key, value) VALUES ('generation', ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (datetime.now(UTC).isoformat(),),
    )
    con.execute("COMMIT")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    t_insert = time.perf_counter() - t1
    check = {
        t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("papers", "announcements", "day_counts")
    }
    top = con.execute(
        "SELECT category, sum(total) FROM day_counts GROUP BY category ORDER BY 2 DESC LIMIT 6"
    ).fetchall()
    last_cv = con.execute(
        "SELECT day, total FROM day_counts WHERE category = 'cs.CV' ORDER BY day DESC LIMIT 1"
    ).fetchone()
    con.close()
    return {
        "pool": len(pool),
        "days": days,
        "rows": check,
        "replacements": n_repl,
        "seconds_pool": t_pool,
        "seconds_insert": t_insert,
        "size": db.stat().st_size,
        "top": top,
        "last_cv": last_cv,
        "announced": n_ann,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--db", type=Path, default=DEFAULT_DB, help="SQLite file to (re)build")
    ap.add_argument("--papers", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=400, help="announcement days (weekdays)")
    ap.add_argument("--end", type=date.fromisoformat, default=date(2026, 6, 5), help="last day")
    ap.add_argument(
        "--replace-frac",
        type=float,
        default=0.2,
        help="replacement listings per day, as a fraction of that day's new papers",
    )
    ap.add_argument("--remove", action="store_true", help="delete the database and exit")
    args = ap.parse_args()
    print(f"machine: {machine_note()}")

    if args.remove:
        remove_db(args.db)
        print(f"removed {args.db}")
        return
    t0 = time.perf_counter()
    try:
        r = build(args.db, args.papers, args.days, args.end, args.replace_frac)
    except BaseException:
        remove_db(args.db)  # no half-built database left behind
        raise
    total = time.perf_counter() - t0
    print(f"\nmachine at the end: {machine_note()}")
    days = r["days"]
    print(
        f"\nbuilt {args.db}: the {r['pool']:,} real records REPEATED under new ids "
        f"(YYMM.NNNNN of each announcement month) to {r['rows']['papers']:,} papers, "
        f"{days[0]} .. {days[-1]} ({len(days)} weekdays)"
    )
    print(
        "top categories (listings): "
        + ", ".join(f"{c} {n:,}" for c, n in r["top"])
        + f"; latest cs.CV day {r['last_cv'][0]}: {r['last_cv'][1]:,} listings"
    )
    print(
        table(
            ["papers", "announcements", "replacement papers", "day_counts", "DB size", "time"],
            [
                [
                    f"{r['rows']['papers']:,}",
                    f"{r['rows']['announcements']:,}",
                    f"{r['replacements']:,}",
                    f"{r['rows']['day_counts']:,}",
                    f"{r['size'] / 1e9:.2f} GB",
                    f"{total:.0f} s (read real {r['seconds_pool']:.0f} s, insert "
                    f"{r['seconds_insert']:.0f} s)",
                ]
            ],
            title="Summary: big SQLite database",
        )
    )
    print(f"kept for the other benchmarks; remove with: {sys.argv[0]} --db {args.db} --remove")


if __name__ == "__main__":
    main()
