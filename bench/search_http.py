"""What a reader waits for (issue 15): search pages and /api/search over HTTP against
`coolpapers serve`, one at a time and under load, on SQLite and PostgreSQL, beside tantivy
behind an HTTP endpoint of the same shape (bench/tantivy_http.py).

Data (built once, kept under bench/out/)
  sqlite 70k  bench/out/search/real.db: every file of ../shared/data/arxiv-daily imported and
              indexed (bench/search.py builds it: 69,708 real papers, FTS5, embeddings)
  sqlite 1m   bench/out/search/big.db: real.db with the real records repeated under new ids up
              to 1,000,000 (bench/search.py's `grow`), and their vectors: the real embedding of
              the record with Gaussian noise (sigma 0.01), as bench/search.py's HNSW figure
  pg 70k/1m   a kept schema (cp_http_70k, cp_http_1m) of the local PostgreSQL: the same papers
              (imported with the app's importer, repeated with INSERT ... SELECT at 1m), their
              keywords, document frequencies and vectors copied from the SQLite files by id
Queries (seeded from the data; each kind has --n distinct queries)
  common   one or two very common words (attention, model, learning, ...: 5,000-57,000 matches)
  words    1-3 words: the first keyword of a random paper
  title    a pasted title of 10-15 words
  author   an author's name
  filter   words with a field or filter: cat:<its category>, ti:, au:<family name>, date:
  date     words, &sort=date
  page5    words, &page=5
  api      /api/search?query=<words> (JSON)
Measures
  one at a time  every URL once on a fresh server (a cache miss: what the first reader of a
                 query waits for), then once more (the second reader); p50 / p99 per kind
  load           wrk, --clients connections for --duration s per kind, over that kind's URLs in
                 turn (`pool`: each repeated, as readers repeat queries) and over URLs never
                 asked before (`cold`: distinct titles and words; no cache can help):
                 requests/s, p50 / p99, the workers' CPU ms per request (from /proc: steadier
                 than requests/s on a shared machine), errors (non-2xx/3xx and socket errors)
  tantivy        the same URLs against bench/tantivy_http.py (same uvicorn, 1 worker)
  profile        (`profile`) the stages of Searcher.search in process, per kind
  cpu            (`cpu`) CPU ms per new search page in process, blocks of 200 URLs never asked
                 before: for A/B comparisons on a machine whose speed moves from run to run
  --keyword      our keyword engine: tantivy (the default; its text index is brought up to
                 date first) or sql (FTS5 / PostgreSQL's tsvector), for an A/B
Usage
  .venv/bin/python bench/search_http.py prepare --engine postgresql --size 70k
  .venv/bin/python bench/search_http.py run --engine sqlite --size 70k [--tantivy] [--workers N]
  .venv/bin/python bench/search_http.py profile --engine sqlite --size 70k
  .venv/bin/python bench/search_http.py cpu --engine sqlite --size 70k [--blocks 5]
Only 127.0.0.1 is contacted; servers started are stopped at the end (their process groups).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import (
    DAILY,
    PG_URL,
    VENV_BIN,
    daily_files,
    free_port,
    machine_note,
    out_dir,
    percentile,
    start_serve,
    stop_group,
    table,
    wait_http,
)

OUT = out_dir("search_http")
SEARCH_OUT = out_dir("search")
KINDS = ("common", "words", "title", "author", "filter", "date", "page5", "api")
COMMON = [
    "attention",
    "model",
    "learning",
    "diffusion",
    "language models",
    "neural network",
    "reinforcement learning",
    "graph",
    "transformer",
    "benchmark",
    "data",
    "training",
    "large language models",
    "image",
    "optimization",
    "robot",
    "survey",
    "generation",
    "vision",
    "agents",
]


def db_url(engine: str, size: str) -> str:
    if engine == "sqlite":
        return f"sqlite:///{SEARCH_OUT / ('real.db' if size == '70k' else 'big.db')}"
    return f"{PG_URL}?options=-csearch_path%3Dcp_http_{size}"


# ---- data --------------------------------------------------------------------------------


def prepare(engine: str, size: str) -> None:
    if engine == "sqlite":
        if not (SEARCH_OUT / "real.done").exists():
            sys.exit("run bench/search.py --known-item first (builds bench/out/search/real.db)")
        if size == "1m":
            _sqlite_1m()
        return
    _pg(size)


def _sqlite_1m() -> None:
    """big.db from bench/search.py, plus vectors for the repeated papers."""
    from bench.search import grow

    big = SEARCH_OUT / "big.db"
    store = grow(SEARCH_OUT / "real.db", 1_000_000)
    con = sqlite3.connect(big)
    have = con.execute("SELECT count(*) FROM search_vectors").fetchone()[0]
    docs = con.execute("SELECT count(*) FROM search_docs").fetchone()[0]
    if have < docs:
        _repeat_vectors(con)
    con.close()
    store.engine.dispose()


def _noisy(base: bytes, rng: np.random.Generator) -> bytes:
    """A real paper's float16 embedding with a little noise, normalised: a repeat's vector."""
    v = np.frombuffer(base, dtype=np.float16).astype(np.float32)
    v = v + rng.normal(0, 0.01, v.shape).astype(np.float32)
    return (v / np.linalg.norm(v)).astype(np.float16).tobytes()


def _repeat_vectors(con: sqlite3.Connection) -> None:
    """The real record's embedding, with noise, for each repeated paper (<id>r<k>)."""
    t = time.perf_counter()
    real = dict(
        con.execute(
            "SELECT d.paper_id, v.vec FROM search_vectors v JOIN search_docs d ON d.docid = v.docid"
        ).fetchall()
    )
    rng = np.random.default_rng(1)
    seq = con.execute("SELECT coalesce(max(seq), 0) + 1 FROM search_vectors").fetchone()[0]
    rows = con.execute(
        "SELECT docid, paper_id FROM search_docs WHERE docid NOT IN (SELECT docid FROM "
        "search_vectors)"
    ).fetchall()
    batch: list[tuple[int, int, str, bytes]] = []
    for docid, pid in rows:
        base = real.get(pid.split("r")[0])
        if base is None:
            continue
        batch.append((docid, seq, "noise", _noisy(base, rng)))
        if len(batch) >= 50_000:
            con.executemany("INSERT INTO search_vectors VALUES (?,?,?,?)", batch)
            con.commit()
            batch.clear()
    con.executemany("INSERT INTO search_vectors VALUES (?,?,?,?)", batch)
    con.commit()
    print(f"vectors for {len(rows)} repeated papers in {time.perf_counter() - t:.0f} s")


def _pg(size: str) -> None:
    from sqlalchemy import create_engine, text

    from coolpapers.sources.arxiv.files import import_files
    from coolpapers.store import Store

    schema = f"cp_http_{size}"
    done = OUT / f"{schema}.done"
    if done.exists():
        if size == "1m":  # a schema made before the repeated papers had vectors
            _pg_repeat_vectors(Store.open(db_url("postgresql", size)))
        return
    with create_engine(PG_URL).begin() as c:
        c.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        c.execute(text(f"CREATE SCHEMA {schema}"))
    pg = Store.open(db_url("postgresql", size))
    t = time.perf_counter()
    import_files(pg, daily_files(DAILY))
    print(f"PostgreSQL import: {pg.count_papers()} papers in {time.perf_counter() - t:.0f} s")
    src = sqlite3.connect(SEARCH_OUT / "real.db")
    with pg.engine.begin() as c:
        raw = c.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cur:
            cur.execute("CREATE TEMP TABLE v_in (paper_id text, vec bytea)")
            with cur.copy("COPY v_in FROM STDIN") as cp:
                for pid, vec in src.execute(
                    "SELECT d.paper_id, v.vec FROM search_vectors v JOIN search_docs d "
                    "ON d.docid = v.docid"
                ):
                    cp.write_row((pid, vec))
            cur.execute(
                "INSERT INTO search_vectors (docid, seq, model, vec) SELECT d.docid, 1, "
                "'copied', v.vec FROM v_in v JOIN search_docs d ON d.paper_id = v.paper_id"
            )
            with cur.copy("COPY search_keywords (paper_id, keywords) FROM STDIN") as cp:
                for row in src.execute("SELECT paper_id, keywords FROM search_keywords"):
                    cp.write_row(row)
            with cur.copy("COPY search_df (term, df) FROM STDIN") as cp:
                for row in src.execute("SELECT term, df FROM search_df"):
                    cp.write_row(row)
            cur.execute("UPDATE search_docs SET dirty = 0")
    if size == "1m":
        _pg_repeat(pg, 1_000_000)
        _pg_repeat_vectors(pg)
    with pg.engine.begin() as c:
        c.exec_driver_sql("ANALYZE")
    pg.engine.dispose()
    done.write_text("ok")


def _pg_repeat(pg: object, target: int) -> None:
    """The real records again under new ids (<id>r<k>) up to `target`, their vectors the real
    ones with noise (the tsvector comes from the insert trigger, as for any write)."""
    t = time.perf_counter()
    eng = pg.engine  # type: ignore[attr-defined]
    k = 0
    while True:
        with eng.begin() as c:
            have = c.exec_driver_sql("SELECT count(*) FROM papers").scalar()
            if have >= target:
                break
            k += 1
            c.exec_driver_sql(
                "INSERT INTO papers (id, version, title, authors, abstract, categories, comments,"
                " journal_ref, doi, license, published, updated, ingested) SELECT id || 'r' || "
                "%(k)s, version, title, authors, abstract, categories, comments, journal_ref, doi,"
                " license, published, updated, ingested FROM papers WHERE id NOT LIKE '%%r%%' "
                "LIMIT %(n)s",
                {"k": k, "n": target - have},
            )
    print(f"PostgreSQL repeated to {target} in {time.perf_counter() - t:.0f} s")


def _pg_repeat_vectors(pg: object) -> None:
    """As _repeat_vectors, in PostgreSQL: the real record's embedding with noise for each
    repeated paper that has none (what the SQLite 1M has: the HNSW holds 1M vectors)."""
    t = time.perf_counter()
    eng = pg.engine  # type: ignore[attr-defined]
    with eng.begin() as c:
        missing = c.exec_driver_sql(
            "SELECT d.docid, d.paper_id FROM search_docs d LEFT JOIN search_vectors v "
            "ON v.docid = d.docid WHERE v.docid IS NULL"
        ).all()
        if not missing:
            return
        real = dict(
            c.exec_driver_sql(
                "SELECT d.paper_id, v.vec FROM search_vectors v JOIN search_docs d "
                "ON d.docid = v.docid"
            ).all()
        )
        seq = c.exec_driver_sql("SELECT coalesce(max(seq), 0) + 1 FROM search_vectors").scalar()
        rng = np.random.default_rng(1)
        raw = c.connection.driver_connection
        with (
            raw.cursor() as cur,
            cur.copy("COPY search_vectors (docid, seq, model, vec) FROM STDIN") as cp,
        ):
            for docid, pid in missing:
                base = real.get(pid.split("r")[0])
                if base is None:
                    continue
                cp.write_row((docid, seq, "noise", _noisy(base, rng)))
    with eng.begin() as c:
        c.exec_driver_sql("ANALYZE search_vectors")
    print(f"vectors for {len(missing)} repeated papers in {time.perf_counter() - t:.0f} s")


# ---- queries -----------------------------------------------------------------------------


def queries(url: str, n: int, seed: int = 15) -> dict[str, list[str]]:
    """Each kind's --n distinct URLs, from real papers of the store."""
    from coolpapers.store import Store

    store = Store.open(url)
    rnd = random.Random(seed)
    with store.engine.connect() as c:
        ids = [r[0] for r in c.exec_driver_sql("SELECT id FROM papers WHERE id NOT LIKE '%%r%%'")]
        kws = dict(c.exec_driver_sql("SELECT paper_id, keywords FROM search_keywords").all())
    ids.sort()
    sample = rnd.sample(ids, min(len(ids), 40 * n))
    papers = list(store.papers(sample).values())
    # more papers for the new URLs (`cold`), drawn apart so that the kinds' URLs stay those
    # of earlier runs: 40 per --n gave 2,213 at n=40, fewer than 15 s at 150 pages/s ask for
    # (the last were asked again, from the page cache)
    taken = set(sample)
    rest = random.Random(seed + 1).sample(
        [i for i in ids if i not in taken], min(len(ids) - len(taken), 60 * n)
    )
    more = list(store.papers(rest).values())
    store.engine.dispose()
    rnd.shuffle(papers)

    def words_of(ps: list[Any]) -> list[str]:
        found = [kws[p.id].split("; ")[0] for p in ps if kws.get(p.id)]
        return [w for w in dict.fromkeys(found) if w]

    def titles_of(ps: list[Any]) -> list[str]:
        return [p.title for p in ps if 10 <= len(p.title.split()) <= 15 and "$" not in p.title]

    words, titles = words_of(papers), titles_of(papers)
    authors = [p.authors[0] for p in papers if p.authors and len(p.authors[0]) > 5]

    def page(q: str, **kw: str) -> str:
        return "/arxiv/search?" + urlencode({"query": q, **kw})

    filters: list[str] = []
    for i, p in enumerate(papers[: 3 * n]):
        w = kws.get(p.id, "").split("; ")[0] or "model"
        family = (p.authors[0].split() or ["x"])[-1] if p.authors else "x"
        filters.append(
            [
                f"{w} cat:{p.categories[0]}",
                f"ti:{w.split()[0]}",
                f"au:{family}",
                f"{w} date:2025-06..2026-06",
            ][i % 4]
        )
    filters = list(dict.fromkeys(filters))
    fresh = set(words)  # a word asked by a kind is not new
    cold_qs = [*titles[n:], *titles_of(more), *words[3 * n :]]
    cold_qs += [w for w in words_of(more) if w not in fresh]
    cold = [page(q) for q in dict.fromkeys(cold_qs)]
    random.Random(seed).shuffle(cold)
    return {
        "common": [page(q) for q in COMMON[:n]],
        "words": [page(q) for q in words[:n]],
        "title": [page(q) for q in titles[:n]],
        "author": [page(q) for q in dict.fromkeys(authors[:n])],
        "filter": [page(q) for q in filters[:n]],
        "date": [page(q, sort="date") for q in words[n : 2 * n]],
        "page5": [page(q, page="5") for q in COMMON[:n]],
        "api": ["/api/search?" + urlencode({"query": q}) for q in words[2 * n : 3 * n]],
        # never asked before: what no cache helps with (load `cold`); shuffled, so that the
        # part a run asks is of the whole list's mix (titles were all first)
        "cold": cold,
    }


# ---- servers -----------------------------------------------------------------------------


def start_tantivy(url: str, size: str, port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            str(VENV_BIN / "python"),
            str(Path(__file__).parent / "tantivy_http.py"),
            "--db",
            url,
            "--index",
            str(OUT / f"tantivy-{size}"),
            "--port",
            str(port),
        ],
        stdout=(OUT / "tantivy.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def workers_rss(pid: int) -> str:
    """The resident memory of the serve process's workers (each holds its own vectors)."""
    kids = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    out = []
    for k in kids or [str(pid)]:
        try:
            status = Path(f"/proc/{k}/status").read_text()
        except OSError:
            continue
        kb = next((int(x.split()[1]) for x in status.splitlines() if x.startswith("VmRSS")), 0)
        out.append(f"{kb / 1e6:.1f} GB")
    return ", ".join(out)


def workers_cpu(pid: int) -> dict[str, float]:
    """CPU seconds (user + system) so far of the serve process and every process under it:
    its uvicorn workers, and their search processes (web/search_pool.py)."""
    procs, todo = [], [str(pid)]
    while todo:
        k = todo.pop()
        procs.append(k)
        kids = subprocess.run(["pgrep", "-P", k], capture_output=True, text=True)
        todo += kids.stdout.split()
    out = {}
    for k in procs:
        try:
            f = Path(f"/proc/{k}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[k] = (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
    return out


def settle(pid: int, limit: float, every: float = 10.0) -> float:
    """Wait until the serve process's workers are idle (their HNSW indexes built: each worker
    builds its own, on one core, ~10 min at 1M here), at most `limit` s; the seconds waited.
    Idle: under 5 % of a core each over the last `every` s. Measured before they are, a
    search shares the cores with the builds (stop 26's PostgreSQL 1M: a common word's p50 70
    ms after a fixed 720 s; 39 ms once both builds had ended, after ~580 s)."""

    t = time.perf_counter()
    before = workers_cpu(pid)
    while time.perf_counter() - t < limit:
        time.sleep(every)
        now = workers_cpu(pid)
        if all(now[k] - before.get(k, 0.0) < 0.05 * every for k in now):
            break
        before = now
    # the saved HNSW (660 MB at 1M) still being written back to disk slowed the first kind
    # measured after a first start (SQLite 1M, common word p50 55 ms; 23 ms after a restart)
    os.sync()
    return time.perf_counter() - t


def one_at_a_time(base: str, urls: Sequence[str]) -> tuple[list[float], int]:
    """Seconds per request (each URL once, in turn) and the count of non-2xx/3xx answers."""
    times, bad = [], 0
    with httpx.Client(base_url=base, timeout=120) as http:
        for u in urls:
            t = time.perf_counter()
            r = http.get(u, headers={"accept-encoding": "gzip"})
            times.append(time.perf_counter() - t)
            bad += r.status_code >= 400
    return times, bad


_WRK_LUA = """
local urls = {}
for line in io.lines("%s") do urls[#urls + 1] = line end
local n, step = 0, 0
function setup(thread) step = step + 1; thread:set("offset", step) end
function init(args) n = offset end
function request()
  n = n + %d
  return wrk.format("GET", urls[(n %% #urls) + 1], {["Accept-Encoding"] = "gzip"})
end
"""


def wrk(base: str, urls: Sequence[str], clients: int, duration: float, threads: int = 2) -> dict:
    """wrk over `urls` in turn (thread i takes every threads-th one from i): req/s, p50, p99
    (ms), errors (non-2xx/3xx and socket errors)."""
    lst = OUT / "urls.txt"
    lst.write_text("\n".join(urls) + "\n")
    script = OUT / "urls.lua"
    script.write_text(_WRK_LUA % (lst, threads))
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{clients}",
            f"-d{duration:.0f}s",
            "--latency",
            "--timeout",
            "30s",
            "-s",
            str(script),
            base,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def lat(label: str) -> float:
        m = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)\b", out)
        if not m:
            return float("nan")
        return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    reqs = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors += int(m.group(1)) if m else 0
    return {"rps": rps, "p50": lat("50"), "p99": lat("99"), "errors": errors, "n": reqs}


def ms(v: Sequence[float], p: float) -> str:
    return f"{percentile(v, p) * 1e3:.1f}"


def text_index(url: str, keyword: str) -> None:
    """The text index brought up to date before timing (serve would do it in the background
    at start, and search through SQL meanwhile), and which keyword engine is measured."""
    from coolpapers.search import textindex
    from coolpapers.store import Store

    if keyword != "tantivy":
        print("keyword engine: sql (FTS5 / tsvector)")
        return
    store = Store.open(url)
    t = time.perf_counter()
    n = textindex.sync(store)
    print(
        f"keyword engine: tantivy, text index {n} papers written in {time.perf_counter() - t:.1f} s"
    )
    store.engine.dispose()


def run(a: argparse.Namespace) -> None:
    url = db_url(a.engine, a.size)
    qs = queries(url, a.n)
    note = machine_note()
    print(f"{a.engine} {a.size}, {a.workers} worker(s); {note}")
    text_index(url, a.keyword)
    servers: list[tuple[str, subprocess.Popen[bytes], str]] = []
    try:
        port = free_port()
        env = {"COOLPAPERS_SEARCH_SEMANTIC": "true", "COOLPAPERS_SEARCH_ENGINE": a.keyword}
        proc = start_serve(url, port, a.workers, log=OUT / "serve.log", env=env)
        servers.append(("coolpapers", proc, f"http://127.0.0.1:{port}"))
        if a.tantivy:
            tport = free_port()
            servers.append(
                ("tantivy", start_tantivy(url, a.size, tport), f"http://127.0.0.1:{tport}")
            )
        rows_one, rows_load = [], []
        for name, proc, base in servers:
            wait_http(base + "/", proc, timeout=900)
            # each worker loads its vectors on its first search: not what a reader waits for.
            # Asked at once, on connections of their own, so that every worker gets some (one
            # after another, all of them could land on one worker, and the other would load a
            # million vectors and build its HNSW during the measurement)
            warm = [f"/arxiv/search?query=warm+{i}" for i in range(4 * a.workers)]
            with ThreadPoolExecutor(len(warm)) as pool:
                list(pool.map(lambda u, b=base: one_at_a_time(b, [u]), warm))
            if name == "coolpapers" and a.settle > 0:
                # the HNSW builds or loads in the background (above 20k papers: both sizes)
                waited = settle(proc.pid, a.settle)
                print(f"{name} workers settled after {waited:.0f} s: {workers_rss(proc.pid)}")
            for kind in KINDS:
                urls = qs[kind]
                first, bad1 = one_at_a_time(base, urls)
                again, bad2 = one_at_a_time(base, urls)
                rows_one.append(
                    [
                        name,
                        kind,
                        len(urls),
                        ms(first, 50),
                        ms(first, 99),
                        ms(again, 50),
                        ms(again, 99),
                        bad1 + bad2,
                    ]
                )
            if a.duration <= 0:
                continue
            mix = [u for k in KINDS for u in qs[k]]
            random.Random(1).shuffle(mix)
            loads = [(k, qs[k]) for k in KINDS] if a.per_kind else []
            loads += [("mix (pool)", mix), ("cold (new URLs)", qs["cold"])]
            for label, urls in loads:
                # the workers' CPU per answer: steadier than requests/s on a shared machine
                # (stop 29: the same code and URLs gave 48 to 82 new pages/s from run to run)
                cpu0 = sum(workers_cpu(proc.pid).values())
                r = wrk(base, urls, a.clients, a.duration)
                cpu_ms = (sum(workers_cpu(proc.pid).values()) - cpu0) / max(1, r["n"]) * 1e3
                rows_load.append(
                    [
                        name,
                        label,
                        len(urls),
                        f"{r['rps']:.0f}",
                        f"{r['p50']:.1f}",
                        f"{r['p99']:.1f}",
                        f"{cpu_ms:.1f}",
                        r["errors"],
                        r["n"],
                    ]
                )
        print(
            table(
                [
                    "server",
                    "kind",
                    "URLs",
                    "1st p50 ms",
                    "1st p99 ms",
                    "2nd p50 ms",
                    "2nd p99 ms",
                    "errors",
                ],
                rows_one,
                f"one at a time ({a.engine} {a.size}; 1st: a URL never asked before)",
            )
        )
        if rows_load:
            print(
                table(
                    [
                        "server",
                        "load",
                        "URLs",
                        "req/s",
                        "p50 ms",
                        "p99 ms",
                        "worker CPU ms/req",
                        "errors",
                        "requests",
                    ],
                    rows_load,
                    f"wrk -c{a.clients} {a.duration:.0f} s ({a.engine} {a.size}, "
                    f"{a.workers} worker(s))",
                )
            )
        print(f"after: {machine_note()}")
    finally:
        for _, proc, _ in servers:
            stop_group(proc)


# ---- profile -----------------------------------------------------------------------------


def in_process(a: argparse.Namespace) -> tuple[Any, dict[str, list[str]]]:
    """The app in this process on the size's data (page cache off, its text index brought up
    to date first), and each kind's URLs: what `profile` and `cpu` measure."""
    from coolpapers.config import Settings
    from coolpapers.web.app import create_app

    url = db_url(a.engine, a.size)
    qs = queries(url, a.n)
    text_index(url, a.keyword)
    settings = Settings(
        database_url=url,
        fetch_on_demand=False,
        search_index_in_serve=False,
        page_cache_bytes=0,
        search_engine=a.keyword,
    )
    return create_app(settings), qs


def profile(a: argparse.Namespace) -> None:
    """Where Searcher.search's time goes, per kind: the stages it reports (search/service.py
    `Searcher.stages`, on when profiling), then the page's rendering through the app, with
    its cards rendered (first pass) and kept (second pass)."""
    from fastapi.testclient import TestClient

    from coolpapers.search import service

    app, qs = in_process(a)
    print(f"profile {a.engine} {a.size}; {machine_note()}")
    rows = []
    site = app.state.site
    html = site.html
    rendered: list[float] = []

    def timed_html(template: str, **ctx: object) -> bytes:
        t = time.perf_counter()
        out = html(template, **ctx)
        rendered.append(time.perf_counter() - t)
        return out

    site.html = timed_html
    with TestClient(app) as client:
        client.get("/arxiv/search?query=warm")
        service.PROFILE = True
        # twice: the page cache is off, so the second pass searches again, but every card
        # is kept from the first (web/cards.py): its render is a kept card's
        for again in ("", " again"):
            for kind in KINDS:
                if kind == "api":
                    continue
                totals: dict[str, list[float]] = {}
                for u in qs[kind]:
                    service.STAGES.clear()
                    rendered.clear()
                    t = time.perf_counter()
                    client.get(u)
                    wall = time.perf_counter() - t
                    for k, v in service.STAGES.items():
                        totals.setdefault(k, []).append(v)
                    totals.setdefault("render", []).append(sum(rendered))
                    totals.setdefault("whole request", []).append(wall)
                rows.append(
                    [kind + again] + [f"{k} {np.median(v) * 1e3:.1f}" for k, v in totals.items()]
                )
        service.PROFILE = False
    for r in rows:
        print(f"{r[0]:14} " + " | ".join(r[1:]))


def cpu(a: argparse.Namespace) -> None:
    """CPU ms per new search page in process (the app through its test client, page cache
    off, the HNSW loaded): blocks of 200 URLs never asked before, each block's CPU time
    (time.process_time: every thread of the process) per page, and the least of them. On
    a shared machine, steadier than requests/s for an A/B: run it for each side,
    interleaved, e.g. the old code through `PYTHONPATH=<worktree>/src`."""
    from fastapi.testclient import TestClient

    app, qs = in_process(a)
    cold = qs["cold"]
    site = app.state.site
    print(f"cpu {a.engine} {a.size}; {machine_note()}")
    with TestClient(app) as client:
        client.get("/arxiv/search?query=warm")
        t = time.perf_counter()  # the HNSW loads (or builds) in the background
        while time.perf_counter() - t < a.settle:
            vectors = site.search._vectors
            if vectors is not None and (
                vectors.hnsw is not None or len(vectors) <= vectors.exact_limit
            ):
                break
            time.sleep(1)
        for u in cold[:30]:
            client.get(u)
        per_page = []
        for start in range(30, len(cold) - 199, 200)[: a.blocks]:
            block = cold[start : start + 200]
            c0 = time.process_time()
            bad = sum(client.get(u).status_code >= 400 for u in block)
            per_page.append((time.process_time() - c0) / len(block) * 1e3)
            print(f"  URLs {start}-{start + 199}: {per_page[-1]:.1f} ms CPU a page, {bad} errors")
    print(f"least {min(per_page):.1f} ms, median {np.median(per_page):.1f} ms CPU a new page")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("what", choices=["prepare", "run", "profile", "cpu", "queries"])
    ap.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--size", choices=["70k", "1m"], default="70k")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--duration", type=float, default=15)
    ap.add_argument("--n", type=int, default=40, help="distinct URLs per kind")
    ap.add_argument("--tantivy", action="store_true", help="also bench/tantivy_http.py")
    ap.add_argument(
        "--keyword", choices=["tantivy", "sql"], default="tantivy", help="our keyword engine"
    )
    ap.add_argument("--per-kind", action="store_true", help="a load run per kind too")
    ap.add_argument("--blocks", type=int, default=5, help="cpu: blocks of 200 new URLs")
    ap.add_argument(
        "--settle",
        type=float,
        default=120,
        help="at most s to wait for the workers' HNSW (till idle; 1m: 1500)",
    )
    a = ap.parse_args()
    if a.what == "prepare":
        prepare(a.engine, a.size)
    elif a.what == "queries":
        print(json.dumps(queries(db_url(a.engine, a.size), a.n), indent=1))
    elif a.what == "run":
        run(a)
    elif a.what == "cpu":
        cpu(a)
    else:
        profile(a)


if __name__ == "__main__":
    main()
