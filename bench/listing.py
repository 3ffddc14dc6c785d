"""The listing page of a ~600-paper day: render time, server latency, requests/s vs nginx.

Data
  Every real daily file of ../shared/data/arxiv-daily is imported with the app's own importer
  into a fresh SQLite database (bench/out/listing/listing.db). The listing used is the
  (category set, day) whose paper count is nearest to --target (600): single categories and
  unions of cs.AI / cs.CL / cs.CV / cs.LG are tried (no single real category-day reaches 600 in
  these files: the biggest is cs.CV on 2026-03-17 with 373). It is printed, e.g.
  /arxiv/cs.AI+cs.CL+cs.CV?date=2026-04-14 (607 papers). --spec/--date choose another.
  PostgreSQL (if reachable at postgresql+psycopg://postgres@127.0.0.1/test): a private schema
  (`?options=-csearch_path%3D<schema>`) is created by Store.open (Alembic), filled with the
  same rows copied from the SQLite database (COPY, then ANALYZE), and dropped at the end.

Measurements, per backend (sqlite, postgresql) and for the two URLs
  default  /arxiv/<spec>?date=<day>            (the first page_size = 50 cards)
  all      /arxiv/<spec>?date=<day>&show=all   (every card)
  in-process  `Site.listing_page(...)` called directly --renders times (never cached: it is the
              page cache's miss path), split into store.days + store.listing (database) and the
              Jinja render, plus the page cache's store_page (it gzips the page, level 4);
              --profile prints a cProfile of the show=all render.
  HTTP, sequential, one keep-alive httpx client against `coolpapers serve` (uvicorn,
  --workers 1 and 2, 127.0.0.1), time to the last byte, bytes read as sent (no client gunzip):
     cold    --cold requests that each miss the page cache (Accept-Encoding: gzip, as browsers
             send): the same URL with an extra unused query parameter (&_bench=i), a new cache
             key, so each one is a full render (query + template + gzip) through the server;
     bumped  with 1 worker: the real invalidation: the store's data generation is bumped
             (Store.set_state("generation")), the page-cache ttl (1 s) waited out, and the
             real URL requested once; median of --bumps samples;
     cached  --requests requests of the real URL after a warm-up (page-cache hits), once with
             Accept-Encoding: gzip and once with identity.
  Load: `wrk -t<threads> -c<connections> -d<duration>s --latency`, without and with
  `-H 'Accept-Encoding: gzip'`, against serve (page cache warm) and against nginx (Debian
  package; 1 and 2 worker processes, sendfile, access log off, keepalive_requests 1000000,
  gzip_static) serving the SAME bytes (identity and gzipped, checked byte for byte) as static
  files; ratio serve/nginx at the same number of workers. Reference ("ceiling") rows: the same
  default-URL bytes from memory through uvicorn with a raw ASGI app and with a one-route
  FastAPI app (what serve could reach without its own per-request work; --no-ceiling skips).
  wrk runs on the same 2-core machine, so it takes CPU from the server under test.
Targets: cached p50 < 10 ms; serve >= 0.3x nginx's requests/s.

Run
  .venv/bin/python bench/listing.py
  .venv/bin/python bench/listing.py --backends sqlite --workers 1 --duration 5 --profile
  (wrk and nginx: apt-get install -y wrk nginx; without them, --no-load skips part b)
Everything it starts (servers, nginx) is stopped, bench/out/listing/ removed (--keep to keep)
and the PostgreSQL schema dropped before it exits.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import os
import pstats
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime
from itertools import combinations
from pathlib import Path
from typing import Any

from _common import (
    DAILY,
    PG_URL,
    daily_files,
    free_port,
    machine_note,
    median,
    out_dir,
    percentile,
    start_serve,
    stop_group,
    table,
    wait_http,
)

SHOW_ALL = 1_000_000  # what `?show=all` becomes in web/app.py
TOP = ("cs.AI", "cs.CL", "cs.CV", "cs.LG")


# ---- data --------------------------------------------------------------------------------


def build_sqlite(db: Path, src: Path) -> None:
    from coolpapers.sources.arxiv.files import import_files
    from coolpapers.store import Store

    files = daily_files(src)
    t = time.perf_counter()
    store = Store.open(f"sqlite:///{db}")
    rep = import_files(store, files)
    print(
        f"imported {len(files)} real daily files of {src} ({rep.lines:,} lines, "
        f"{len(rep.skipped_files)} files with papers but no listing) into {db} in "
        f"{time.perf_counter() - t:.1f} s"
    )
    # The steady state a reader meets: the search index caught up (cards carry keywords), so
    # the servers below are not also busy indexing (they run with the indexer off besides).
    from coolpapers.search import indexer

    t = time.perf_counter()
    n = indexer.catch_up(store)
    store.engine.dispose()
    print(f"search index caught up: {n} papers in {time.perf_counter() - t:.0f} s")


def pick_listing(db: Path, target: int) -> tuple[str, date, int]:
    con = sqlite3.connect(db)
    try:
        days = [d for (d,) in con.execute("SELECT DISTINCT day FROM announcements")]
        best: tuple[int, str, str, int] | None = None
        for d in days:
            rows = con.execute(
                "SELECT category, paper_id FROM announcements WHERE day = ? AND category IN "
                f"({','.join('?' * len(TOP))})",
                (d, *TOP),
            ).fetchall()
            by_cat: dict[str, set[str]] = {}
            for c, p in rows:
                by_cat.setdefault(c, set()).add(p)
            for r in range(1, len(TOP) + 1):
                for combo in combinations(TOP, r):
                    n = len(set().union(*(by_cat.get(c, set()) for c in combo)))
                    cand = (abs(n - target), "+".join(combo), d, n)
                    if best is None or cand < best:
                        best = cand
        assert best is not None
        return best[1], date.fromisoformat(best[2]), best[3]
    finally:
        con.close()


def count_listing(url: str, spec_: str, day: date) -> int:
    from coolpapers.store import Store
    from coolpapers.web import spec

    cats = spec.parse(spec_)
    assert isinstance(cats, spec.CategorySet)
    store = Store.open(url, create=False)
    try:
        return len(store.listing(cats.include, cats.exclude, day))
    finally:
        store.engine.dispose()


def pg_reachable() -> bool:
    try:
        import psycopg

        with psycopg.connect(_pg_conninfo(), connect_timeout=3) as c:
            c.execute("SELECT 1")
        return True
    except Exception:
        return False


def _pg_conninfo() -> str:
    return PG_URL.replace("postgresql+psycopg://", "postgresql://")


def build_pg(sqlite_db: Path, schema: str) -> str:
    import psycopg

    from coolpapers.store import Store
    from coolpapers.store.schema import announcements, day_counts, papers, state

    with psycopg.connect(_pg_conninfo(), autocommit=True) as c:
        c.execute(f"CREATE SCHEMA {schema}")
    url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    t = time.perf_counter()
    Store.open(url).engine.dispose()  # the app's schema, by Alembic
    src = sqlite3.connect(sqlite_db)
    counts = {}
    with psycopg.connect(_pg_conninfo(), options=f"-csearch_path={schema}") as pg:
        for tbl in (papers, announcements, day_counts, state):
            cols = [col.name for col in tbl.columns]
            n = 0
            with pg.cursor().copy(f"COPY {tbl.name} ({', '.join(cols)}) FROM STDIN") as cp:
                for row in src.execute(f"SELECT {', '.join(cols)} FROM {tbl.name}"):
                    cp.write_row(row)
                    n += 1
            counts[tbl.name] = n
        pg.commit()
        pg.autocommit = True
        pg.execute("ANALYZE")
    src.close()
    print(
        f"PostgreSQL schema {schema}: copied "
        + ", ".join(f"{n:,} {t_}" for t_, n in counts.items())
        + f" from SQLite, ANALYZE, in {time.perf_counter() - t:.1f} s"
    )
    return url


def drop_pg(schema: str) -> None:
    import psycopg

    with psycopg.connect(_pg_conninfo(), autocommit=True) as c:
        c.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


# ---- measurements ------------------------------------------------------------------------


def ms(v: float) -> str:
    return f"{v * 1000:.1f}"


def in_process(url: str, spec_: str, day: date, n: int, profile: bool) -> dict[str, Any]:
    """The uncached render path, called directly: Site.listing_page and its parts."""
    from coolpapers.config import Settings
    from coolpapers.store import Store
    from coolpapers.web import spec
    from coolpapers.web.app import Site

    cats = spec.parse(spec_)
    assert isinstance(cats, spec.CategorySet)
    store = Store.open(url, create=False)
    settings = Settings(database_url=url, fetch_on_demand=False)
    site = Site(store, settings)
    out: dict[str, Any] = {}
    try:
        for label, show in (("default", None), ("all", SHOW_ALL)):
            site.listing_page(cats, day, show)  # template compile, connection
            times, t_days, t_list, t_render = [], [], [], []
            size = 0
            for _ in range(n):
                t0 = time.perf_counter()
                body = site.listing_page(cats, day, show)
                times.append(time.perf_counter() - t0)
                size = len(body)
            for _ in range(n):
                t0 = time.perf_counter()
                store.days(cats.include)
                t1 = time.perf_counter()
                n_show = settings.page_size if show is None else show
                entries = store.listing_entries(cats.include, cats.exclude, day)
                items = store.listed(entries[:n_show])  # what a page loads: the cards shown
                t2 = time.perf_counter()
                t_days.append(t1 - t0)
                t_list.append(t2 - t1)
            from coolpapers.web import views

            shown_n = settings.page_size if show is None else show
            L = views.listing(site.days, store, cats, day, 0, shown_n)
            shown = min(shown_n, L.total)
            for _ in range(n):
                t0 = time.perf_counter()
                site.html("listing.html", L=L, shown=shown)
                t_render.append(time.perf_counter() - t0)
            t_store = []
            for i in range(n):
                t0 = time.perf_counter()
                site.cache.store_page(f"bench-{label}-{i}", body, "text/html; charset=utf-8")
                t_store.append(time.perf_counter() - t0)
            site.cache.clear()
            out[label] = {
                "store": median(t_store),
                "p50": percentile(times, 50),
                "p99": percentile(times, 99),
                "days": median(t_days),
                "listing": median(t_list),
                "render": median(t_render),
                "bytes": size,
                "cards": shown,
                "items": len(items),
            }
        if profile:
            pr = cProfile.Profile()
            pr.enable()
            for _ in range(5):
                site.listing_page(cats, day, SHOW_ALL)
            pr.disable()
            s = io.StringIO()
            st = pstats.Stats(pr, stream=s)
            st.sort_stats("tottime").print_stats(18)
            st.sort_stats("cumulative").print_stats(25)
            out["profile"] = s.getvalue()
    finally:
        store.engine.dispose()
    return out


def check_body(body: bytes, total: int, cards: int) -> None:
    n = body.count(b'class="panel paper"')
    if f"Total: {total}".encode() not in body or n != cards:
        sys.exit(f"unexpected page: {n} cards (expected {cards}), 'Total: {total}' missing?")


def _timed_get(client: Any, path: str, encoding: str) -> tuple[float, int]:
    """Time to the last byte, reading the bytes as sent (no client-side gunzip)."""
    t0 = time.perf_counter()
    with client.stream("GET", path, headers={"Accept-Encoding": encoding}) as r:
        r.raise_for_status()
        n = sum(len(chunk) for chunk in r.iter_raw())
    return time.perf_counter() - t0, n


def http_sequential(
    base: str, paths: dict[str, str], n_cold: int, n_cached: int, expect: dict[str, tuple]
) -> dict[str, dict[str, float]]:
    """cold: gzip accepted, as browsers do; cached: both gzip and identity."""
    import httpx

    out: dict[str, dict[str, float]] = {}
    with httpx.Client(base_url=base, timeout=60) as client:
        for label, path in paths.items():
            r = client.get(path)
            r.raise_for_status()
            check_body(r.content, *expect[label])
            cold = [
                _timed_get(client, f"{path}&_bench={uuid.uuid4().hex[:8]}{i}", "gzip")[0]
                for i in range(n_cold)
            ]
            res = {"cold_p50": percentile(cold, 50), "cold_p99": percentile(cold, 99)}
            for enc in ("gzip", "identity"):
                _timed_get(client, path, enc)
                cached = []
                for _ in range(n_cached):
                    t, n = _timed_get(client, path, enc)
                    cached.append(t)
                res[f"{enc}_p50"] = percentile(cached, 50)
                res[f"{enc}_p99"] = percentile(cached, 99)
                res[f"{enc}_bytes"] = n
            out[label] = res
    return out


def http_bumped(base: str, paths: dict[str, str], db_url: str, k: int) -> dict[str, float]:
    """Real invalidation: bump the data generation, wait out the cache ttl, request once."""
    import httpx

    from coolpapers.store import Store

    store = Store.open(db_url, create=False)
    out: dict[str, float] = {}
    try:
        with httpx.Client(base_url=base, timeout=60) as client:
            for label, path in paths.items():
                samples = []
                for _ in range(k):
                    store.set_state("generation", datetime.now(UTC).isoformat())
                    time.sleep(1.2)  # Settings.page_cache_ttl = 1 s
                    samples.append(_timed_get(client, path, "gzip")[0])
                out[label] = median(samples)
    finally:
        store.engine.dispose()
    return out


_WRK_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
_WRK_LAT = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
_UNIT = {"us": 1e-6, "ms": 1e-3, "s": 1.0}


def wrk(url: str, threads: int, conns: int, duration: int, encoding: str) -> dict[str, Any]:
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{duration}s", "--latency", url]
    if encoding != "identity":
        cmd[1:1] = ["-H", f"Accept-Encoding: {encoding}"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    m = _WRK_RPS.search(r.stdout)
    if r.returncode or not m:
        sys.exit(f"wrk failed: {r.stdout}\n{r.stderr}")
    lat = {p: float(v) * _UNIT[u] for p, v, u in _WRK_LAT.findall(r.stdout)}
    errors = re.search(r"Socket errors:.*", r.stdout)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", r.stdout)
    return {
        "rps": float(m.group(1)),
        "p50": lat.get("50", float("nan")),
        "p99": lat.get("99", float("nan")),
        "errors": (errors.group(0) if errors else "")
        + (f" non-2xx: {non2xx.group(1)}" if non2xx else ""),
    }


NGINX_CONF = """\
worker_processes {workers};
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {root}/tmp/body;
    proxy_temp_path {root}/tmp/proxy;
    fastcgi_temp_path {root}/tmp/fastcgi;
    uwsgi_temp_path {root}/tmp/uwsgi;
    scgi_temp_path {root}/tmp/scgi;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{port};
        root {root}/www;
        default_type "text/html; charset=utf-8";
        gzip off;
        gzip_static on;  # <name>.gz for clients that accept gzip
        gzip_vary on;
        location / {{ }}
    }}
}}
"""


@contextlib.contextmanager
def nginx(root: Path, workers: int, bodies: dict[str, dict[str, bytes]]):  # type: ignore[no-untyped-def]
    """nginx serving the bytes serve sent as /<label>.html (identity) and .html.gz (gzip);
    yields its base URL."""
    (root / "www").mkdir(parents=True, exist_ok=True)
    (root / "tmp").mkdir(exist_ok=True)
    for label, by_enc in bodies.items():
        (root / "www" / f"{label}.html").write_bytes(by_enc["identity"])
        if "gzip" in by_enc:
            (root / "www" / f"{label}.html.gz").write_bytes(by_enc["gzip"])
    port = free_port()
    conf = root / "nginx.conf"
    conf.write_text(NGINX_CONF.format(workers=workers, root=root, port=port))
    cmd = ["nginx", "-p", str(root), "-e", str(root / "error.log"), "-c", str(conf)]
    proc = subprocess.Popen(
        [*cmd, "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/default.html", proc, timeout=20)
        yield f"http://127.0.0.1:{port}"
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGQUIT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                stop_group(proc)
        stop_group(proc)


def fetch_bodies(base: str, paths: dict[str, str]) -> dict[str, dict[str, bytes]]:
    """The exact bytes serve sends, per URL and Accept-Encoding (gzip kept compressed)."""
    import httpx

    out: dict[str, dict[str, bytes]] = {}
    with httpx.Client(base_url=base, timeout=60) as client:
        for label, path in paths.items():
            out[label] = {}
            for enc in ("identity", "gzip"):
                with client.stream("GET", path, headers={"Accept-Encoding": enc}) as r:
                    body = b"".join(r.iter_raw())
                    if enc == "identity" or r.headers.get("content-encoding") == "gzip":
                        out[label][enc] = body
                    else:  # this version of the app does not gzip: serve identity bytes
                        out[label][enc] = out[label]["identity"]
    return out


def check_nginx(base: str, bodies: dict[str, dict[str, bytes]]) -> None:
    import httpx

    with httpx.Client(base_url=base, timeout=60) as client:
        for label, by_enc in bodies.items():
            for enc, body in by_enc.items():
                with client.stream("GET", f"/{label}.html", headers={"Accept-Encoding": enc}) as r:
                    if b"".join(r.iter_raw()) != body:
                        sys.exit(f"nginx does not send serve's bytes for {label} ({enc})")


CEILING_APP = """\
# Written by bench/listing.py: the same bytes from memory, to bound what uvicorn can do.
import os

from fastapi import FastAPI, Request
from fastapi.responses import Response

_D = os.environ["BENCH_BODY_DIR"]
IDENTITY = open(os.path.join(_D, "identity"), "rb").read()
GZIP = open(os.path.join(_D, "gzip"), "rb").read()


async def raw(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            msg = await receive()
            await send({"type": msg["type"] + ".complete"})
            if msg["type"] == "lifespan.shutdown":
                return
    gz = any(k == b"accept-encoding" and b"gzip" in v for k, v in scope["headers"])
    body = GZIP if gz else IDENTITY
    headers = [
        (b"content-type", b"text/html; charset=utf-8"),
        (b"vary", b"Accept-Encoding"),
        (b"content-length", str(len(body)).encode()),
    ]
    if gz:
        headers.append((b"content-encoding", b"gzip"))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


fastapi_app = FastAPI()


@fastapi_app.get("/arxiv/{path:path}")
async def arxiv(path: str, request: Request) -> Response:
    gz = "gzip" in request.headers.get("accept-encoding", "")
    headers = {"Vary": "Accept-Encoding", **({"Content-Encoding": "gzip"} if gz else {})}
    body = GZIP if gz else IDENTITY
    return Response(body, media_type="text/html; charset=utf-8", headers=headers)
"""


@contextlib.contextmanager
def ceiling_server(root: Path, app: str, workers: int, body: dict[str, bytes]):  # type: ignore[no-untyped-def]
    """uvicorn (as `serve` runs it: httptools, uvloop) with a minimal app serving `body`."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "ceiling_app.py").write_text(CEILING_APP)
    for enc, b in body.items():
        (root / enc).write_bytes(b)
    port = free_port()
    cmd = [str(Path(sys.executable).parent / "uvicorn"), f"ceiling_app:{app}"]
    cmd += ["--app-dir", str(root), "--port", str(port), "--workers", str(workers)]
    cmd += ["--log-level", "warning", "--no-access-log"]
    env = dict(os.environ, BENCH_BODY_DIR=str(root))
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/arxiv/x", proc, timeout=30)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_group(proc)


# ---- main --------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--src", type=Path, default=DAILY, help="folder of real daily files")
    ap.add_argument("--target", type=int, default=600, help="papers wanted on the listing")
    ap.add_argument("--spec", help="category set to use instead (e.g. cs.CV or cs.AI+cs.CL)")
    ap.add_argument("--date", type=date.fromisoformat, help="its day (with --spec)")
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--workers", default="1,2", help="uvicorn worker counts to try")
    ap.add_argument("--renders", type=int, default=30, help="in-process renders per URL")
    ap.add_argument("--cold", type=int, default=20, help="cache-missing HTTP requests per URL")
    ap.add_argument("--bumps", type=int, default=3, help="generation-bump samples per URL")
    ap.add_argument("--requests", type=int, default=300, help="cached HTTP requests per URL")
    ap.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    ap.add_argument("--threads", type=int, default=2, help="wrk threads")
    ap.add_argument("--connections", type=int, default=32, help="wrk connections")
    ap.add_argument("--no-load", action="store_true", help="skip wrk/nginx (part b)")
    ap.add_argument("--no-ceiling", action="store_true", help="skip the minimal-app reference runs")
    ap.add_argument("--profile", action="store_true", help="cProfile the show=all render")
    ap.add_argument("--keep", action="store_true", help="keep bench/out/listing/")
    args = ap.parse_args()
    print(f"machine: {machine_note()}")

    if not args.no_load and not (shutil.which("wrk") and shutil.which("nginx")):
        sys.exit("wrk and nginx are needed for part b: apt-get install -y wrk nginx (or --no-load)")
    work = out_dir("listing")
    db = work / "listing.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    worker_counts = [int(w) for w in args.workers.split(",") if w.strip()]
    schema = None
    lat_rows: list[list[str]] = []
    load_rows: list[list[str]] = []
    render_rows: list[list[str]] = []
    profiles: dict[str, str] = {}
    try:
        build_sqlite(db, args.src)
        if args.spec:
            if not args.date:
                sys.exit("--spec needs --date")
            spec_, day = args.spec, args.date
            total = count_listing(f"sqlite:///{db}", spec_, day)
        else:
            spec_, day, total = pick_listing(db, args.target)
        print(f"listing: /arxiv/{spec_}?date={day} with {total} papers (target {args.target})")
        page = f"/arxiv/{spec_}?date={day}"
        paths = {"default": page, "all": f"{page}&show=all"}
        from coolpapers.config import Settings

        page_size = Settings().page_size  # COOLPAPERS_PAGE_SIZE, as serve reads it
        expect = {"default": (total, min(page_size, total)), "all": (total, total)}

        urls: dict[str, str] = {}
        for b in backends:
            if b == "sqlite":
                urls[b] = f"sqlite:///{db}"
            elif b == "postgresql":
                if pg_reachable():
                    schema = f"cp_bench_{uuid.uuid4().hex[:10]}"
                    urls[b] = build_pg(db, schema)
                else:
                    print(f"PostgreSQL not reachable at {PG_URL}: skipped")
            else:
                sys.exit(f"unknown backend {b!r}")

        encodings = ("identity", "gzip")
        serve_load: dict[tuple[str, int, str, str], dict[str, Any]] = {}
        bodies: dict[str, dict[str, bytes]] = {}
        for backend, url in urls.items():
            print(f"\n== {backend} ==")
            ip = in_process(url, spec_, day, args.renders, args.profile)
            if "profile" in ip:
                profiles[backend] = ip.pop("profile")
            for label in paths:
                r = ip[label]
                render_rows.append(
                    [
                        backend,
                        label,
                        f"{r['cards']}/{r['items']}",
                        f"{r['bytes'] / 1024:.0f} KiB",
                        ms(r["p50"]),
                        ms(r["p99"]),
                        ms(r["days"]),
                        ms(r["listing"]),
                        ms(r["render"]),
                        ms(r["store"]),
                    ]
                )
                print(
                    f"in-process Site.listing_page [{label}]: p50 {ms(r['p50'])} ms, p99 "
                    f"{ms(r['p99'])} ms (store.days {ms(r['days'])} + store.listing "
                    f"{ms(r['listing'])} + render {ms(r['render'])} ms); then the page cache's "
                    f"store_page (gzip) {ms(r['store'])} ms"
                )
            for workers in worker_counts:
                port = free_port()
                base = f"http://127.0.0.1:{port}"
                proc = start_serve(url, port, workers, work / f"serve-{backend}-{workers}.log")
                try:
                    wait_http(base + "/", proc)
                    seq = http_sequential(base, paths, args.cold, args.requests, expect)
                    bumped = http_bumped(base, paths, url, args.bumps) if workers == 1 else {}
                    for label, s in seq.items():
                        print(
                            f"serve -w{workers} HTTP [{label}]: cold p50 {ms(s['cold_p50'])} / "
                            f"p99 {ms(s['cold_p99'])} ms; "
                            + (f"after bump {ms(bumped[label])} ms; " if bumped else "")
                            + f"cached gzip ({s['gzip_bytes'] / 1024:.0f} KiB) p50 "
                            f"{ms(s['gzip_p50'])} / p99 {ms(s['gzip_p99'])} ms; cached identity "
                            f"({s['identity_bytes'] / 1024:.0f} KiB) p50 {ms(s['identity_p50'])}"
                            f" / p99 {ms(s['identity_p99'])} ms"
                        )
                        lat_rows.append(
                            [
                                backend,
                                str(workers),
                                label,
                                ms(s["cold_p50"]),
                                ms(s["cold_p99"]),
                                ms(bumped[label]) if bumped else "-",
                                f"{ms(s['gzip_p50'])} / {ms(s['gzip_p99'])}",
                                f"{ms(s['identity_p50'])} / {ms(s['identity_p99'])}",
                                "yes" if max(s["gzip_p50"], s["identity_p50"]) < 0.010 else "NO",
                            ]
                        )
                    if not bodies:
                        bodies = fetch_bodies(base, paths)
                    if args.no_load:
                        continue
                    import httpx

                    for _ in range(8 * workers):  # warm every worker's page cache
                        for p in paths.values():
                            httpx.get(base + p, timeout=60)
                    for label, p in paths.items():
                        for enc in encodings:
                            w = wrk(base + p, args.threads, args.connections, args.duration, enc)
                            serve_load[(backend, workers, label, enc)] = w
                            print(
                                f"wrk serve -w{workers} [{label}, {enc}]: {w['rps']:,.0f} req/s,"
                                f" latency p50 {ms(w['p50'])} p99 {ms(w['p99'])} ms {w['errors']}"
                            )
                finally:
                    stop_group(proc)

        nginx_load: dict[tuple[int, str, str], dict[str, Any]] = {}
        if serve_load:
            print("\n== nginx, the same bytes as static files ==")
            for workers in worker_counts:
                with nginx(work / f"nginx{workers}", workers, bodies) as nbase:
                    check_nginx(nbase, bodies)
                    for label in paths:
                        for enc in encodings:
                            n = wrk(
                                f"{nbase}/{label}.html",
                                args.threads,
                                args.connections,
                                args.duration,
                                enc,
                            )
                            nginx_load[(workers, label, enc)] = n
                            print(
                                f"wrk nginx -w{workers} [{label}, {enc}]: {n['rps']:,.0f} req/s,"
                                f" latency p50 {ms(n['p50'])} p99 {ms(n['p99'])} ms {n['errors']}"
                            )
        if serve_load and not args.no_ceiling:
            print("\n== ceiling: minimal apps on uvicorn serving the same bytes (default URL) ==")
            for app, name in (("raw", "raw ASGI app"), ("fastapi_app", "minimal FastAPI route")):
                for workers in worker_counts:
                    with ceiling_server(work / "ceiling", app, workers, bodies["default"]) as cbase:
                        for enc in encodings:
                            w = wrk(
                                f"{cbase}{paths['default']}",
                                args.threads,
                                args.connections,
                                args.duration,
                                enc,
                            )
                            serve_load[(f"ceiling: {name}", workers, "default", enc)] = w
                            print(
                                f"wrk {name} -w{workers} [default, {enc}]: {w['rps']:,.0f} "
                                f"req/s, latency p50 {ms(w['p50'])} p99 {ms(w['p99'])} ms"
                            )
        for (backend, workers, label, enc), w in serve_load.items():
            n = nginx_load[(workers, label, enc)]
            ratio = w["rps"] / n["rps"]
            load_rows.append(
                [
                    backend,
                    str(workers),
                    label,
                    enc,
                    f"{len(bodies[label][enc]) / 1024:.0f} KiB",
                    f"{w['rps']:,.0f}",
                    f"{ms(w['p50'])} / {ms(w['p99'])}",
                    f"{n['rps']:,.0f}",
                    f"{ms(n['p50'])} / {ms(n['p99'])}",
                    f"{ratio:.2f}",
                    "yes" if ratio >= 0.3 else "NO",
                ]
            )
    finally:
        if schema:
            drop_pg(schema)
            print(f"dropped PostgreSQL schema {schema}")
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    print(f"\nmachine at the end: {machine_note()}")
    for backend, text in profiles.items():
        print(f"\n== cProfile: 5 x Site.listing_page(show=all) on {backend} ==\n{text}")
    print()
    print(
        table(
            [
                "backend",
                "URL",
                "cards/papers",
                "body",
                "p50 ms",
                "p99 ms",
                "store.days",
                "store.listing",
                "Jinja render",
                "cache store (gzip)",
            ],
            render_rows,
            title=f"Summary 1: uncached render in-process, Site.listing_page x {args.renders} "
            f"(/arxiv/{spec_}?date={day}, {total} papers; parts are medians, ms)",
        )
    )
    print()
    print(
        table(
            [
                "backend",
                "workers",
                "URL",
                "cold p50",
                "cold p99",
                "after bump",
                "cached gzip p50/p99",
                "cached identity p50/p99",
                "cached p50 < 10 ms",
            ],
            lat_rows,
            title=f"Summary 2: HTTP, sequential keep-alive httpx client, ms to last byte (cold: "
            f"{args.cold} cache-missing gzip requests; after bump: median of {args.bumps}; "
            f"cached: {args.requests} requests per encoding)",
        )
    )
    if load_rows:
        print()
        print(
            table(
                [
                    "backend",
                    "workers",
                    "URL",
                    "encoding",
                    "body",
                    "serve req/s",
                    "serve p50/p99 ms",
                    "nginx req/s",
                    "nginx p50/p99 ms",
                    "serve/nginx",
                    ">= 0.3",
                ],
                load_rows,
                title=f"Summary 3: wrk -t{args.threads} -c{args.connections} -d{args.duration}s "
                "on 127.0.0.1 (page cache warm; nginx with as many workers, same bytes)",
            )
        )


if __name__ == "__main__":
    main()
