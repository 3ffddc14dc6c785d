"""A short load test with a concurrent import: requests/s, latency and the count of 5xx.

What it does
  1. Imports the first --base daily files of ../shared/data/arxiv-daily into a fresh database
     (SQLite file under bench/out/load/, or a private PostgreSQL schema) with the app's CLI.
  2. Starts `coolpapers serve` on it (127.0.0.1, --workers N, on-demand fetching off, the
     background search indexer ON unless --no-indexer: a real instance indexes while it
     serves, and the import below gives it work).
  3. While --clients concurrent HTTP clients (one asyncio httpx client each, keep-alive) send
     requests for --duration seconds, a `coolpapers import` of the next --more daily files
     runs against the same database: the store's data generation changes under the load, so
     the page cache is invalidated and pages are rendered again while rows are written.
  The URL mix is what readers and scripts send: the home page, listings (latest day, a dated
  day, show=all, category sets, feeds, `more`), papers by id, search pages and the search API,
  related papers, the JSON API, counters and keywords, clicks, and hostile input (NUL,
  overflowing dates, unknown parameters, a Host header of someone else's, bad ids), so a 5xx
  anywhere in the mix is counted.

Prints
  requests, requests/s, p50 / p99 / max latency (ms), the count of each status class, the 5xx
  count (target: 0) with the first URLs that got one, and how far the concurrent import got.
  Exits 1 if any request got a 5xx or failed at the transport level.

Run
  .venv/bin/python bench/load.py                                # SQLite, 1 worker, 20 s
  .venv/bin/python bench/load.py --backend postgresql --workers 2 --duration 30
Only 127.0.0.1 is contacted; everything started is stopped and the scratch database (or
PostgreSQL schema) removed at the end (--keep keeps the SQLite file).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
from _common import (
    COOLPAPERS,
    DAILY,
    PG_URL,
    SHARED,
    daily_files,
    free_port,
    machine_note,
    out_dir,
    percentile,
    remove_db,
    serve_env,
    start_serve,
    stop_group,
    wait_http,
)

# papers, categories and days of the first daily files (2025-03-18 on): present after step 1
HOSTILE = [
    "/api/keywords?ids=%00",
    "/api/counters?ids=%00",
    "/arxiv/search?query=date:99999999999999999999",
    "/arxiv/search?query=after:99999999999999999999",
    "/arxiv/search?query=transformer&from=99999999999999999999",
    "/arxiv/cs.CL?date=99999-01-01",
    "/arxiv/cs.CL?junk=1&date=2025-03-18",
    "/arxiv/9999.99999",
    "/arxiv/cs.CL/more?date=2025-03-18&offset=-5&limit=99999999999999999999",
    "/api/papers?ids=" + "%00," * 50,
    "/api/listing/cs.CL?offset=-1",
    "/arxiv/zz.QQ",
    "/%2e%2e/%2e%2e/etc/passwd",
]


def urls_for(ids: list[str], days: list[str]) -> list[str]:
    """A reader's mix, weighted towards what readers hit most (listings, papers)."""
    day = days[len(days) // 2]
    out = ["/", "/arxiv/cs.CL", "/arxiv/cs.CV", "/arxiv/cs.AI+cs.CL", "/arxiv/cs.LG-cs.CV"] * 4
    out += [f"/arxiv/cs.CL?date={d}" for d in days[:10]]
    out += [f"/arxiv/cs.CV?date={day}&show=all", f"/arxiv/cs.CL/more?date={day}&offset=50"]
    out += ["/arxiv/cs.CL/feed", f"/arxiv/cs.AI/feed?date={day}"]
    out += [f"/arxiv/{i}" for i in ids[:40]]
    out += [f"/api/papers/{i}" for i in ids[40:60]]
    out += ["/api/papers?ids=" + ",".join(ids[60:80]), f"/api/listing/cs.CL?date={day}"]
    words = ["diffusion", "language model", "graph neural", "reinforcement", '"large language"']
    out += [f"/arxiv/search?query={w}" for w in words]
    out += [f"/api/search?query={w}&mode=keyword" for w in words]
    out += [f"/arxiv/related/{i}" for i in ids[80:85]]
    out += ["/api/counters?ids=" + ",".join(ids[:20]), "/api/keywords?ids=" + ",".join(ids[:20])]
    return out + HOSTILE


VENUE_FILES = [
    *sorted((SHARED / "data" / "venues" / "acl-anthology").glob("*.xml.gz")),
    *sorted((SHARED / "data" / "venues" / "paperlists").glob("*.json.gz")),
    SHARED / "data" / "venues" / "pmlr" / "v336",
]


def venue_urls(db_url: str) -> list[str]:
    """The Venue branch's pages (--venues): editions (ACL.2024 is 933 papers, as big as
    the biggest arXiv day of a category), groups, unions, papers by id, feeds, searches of
    one branch and of both, and an unknown edition (a 404 naming the closest)."""
    from coolpapers.store import Store
    from coolpapers.store.venues import VenueListings

    store = Store.open(db_url)
    venues = VenueListings(store)
    keys = [k for k, _ in venues.entries([], [], "ACL.2024")][:20]
    keys += [k for k, _ in venues.entries([], [], "ICLR.2018")][:10]
    store.engine.dispose()
    out = ["/venue", "/venue/ACL.2024", "/venue/ICLR.2018", "/venue/CVPR.2019"] * 3
    out += ["/venue/ACL.2024?show=all", "/venue/ACL.2024/more?offset=50", "/venue/ACL"]
    out += ["/venue/ICLR.2018?group=Oral", "/venue/ACL.2024,EACL.2024", "/venue/ACL.2024/feed"]
    out += ["/venue/latest/feed", "/venue/NOPE.2024", "/venue/ACL.2024?status=all"]
    out += [f"/venue/{k}" for k in keys]
    out += ["/venue/" + ",".join(keys[:5])]
    words = ["dialogue", "machine translation", "adversarial", "segmentation"]
    out += [f"/venue/search?query={w}" for w in words] + [f"/search?query={w}" for w in words]
    return out


def kind(url: str) -> str:
    """The page kind a URL asks for, for the latency table."""
    path = url.removeprefix("POST ").split("?")[0]
    parts = path.strip("/").split("/")
    if "search" in parts:
        return "search"
    if parts[0] == "venue":
        if len(parts) == 1 or parts[-1] == "feed":
            return "venue index/feed"
        return "venue paper" if "@" in path else "venue listing"
    if parts[0] == "arxiv" and len(parts) > 1:
        if parts[-1] in ("feed", "more") or not parts[1][:1].isdigit():
            return "arxiv listing" if parts[-1] != "feed" else "arxiv feed"
        return "arxiv paper"
    return parts[0] or "home"


def sample_ids(db_url: str) -> tuple[list[str], list[str]]:
    from coolpapers.store import Store

    store = Store.open(db_url)
    days = [d.isoformat() for d in store.days(["cs.CL"])]
    day = days[-1] if days else None
    ids: list[str] = []
    if day:
        from datetime import date

        ids = [i for i, _ in store.listing_entries(["cs.CL"], [], date.fromisoformat(day))]
    store.engine.dispose()
    return ids[:100] or ["2503.13435"], days or ["2025-03-18"]


async def client(
    base: str,
    urls: list[str],
    until: float,
    lat: list[tuple[float, str]],
    codes: Counter[int],
    bad: list[str],
) -> None:
    rnd = random.Random()
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        while time.perf_counter() < until:
            url = rnd.choice(urls)
            headers = {"accept-encoding": "gzip"}
            if rnd.random() < 0.02:
                headers["host"] = "evil.example"  # must never reach another reader's page
            t = time.perf_counter()
            try:
                if url.startswith("/api/papers/") and rnd.random() < 0.1:
                    url = f"POST {url}/click?kind=pdf"
                    r = await http.post(url[5:], headers=headers)
                else:
                    r = await http.get(url, headers=headers)
                codes[r.status_code] += 1
                if r.status_code >= 500 and len(bad) < 20:
                    bad.append(f"{r.status_code} {url}")
                if "host" not in headers and b"evil.example" in r.content:
                    codes[-1] += 1  # another client's Host header in this reader's page
                    if len(bad) < 20:
                        bad.append(f"poisoned by a Host header: {url}")
            except httpx.HTTPError as e:
                codes[0] += 1
                if len(bad) < 20:
                    bad.append(f"transport error {type(e).__name__} {url}")
            lat.append((time.perf_counter() - t, url))


async def load(base: str, urls: list[str], clients: int, duration: float) -> tuple:
    lat: list[tuple[float, str]] = []
    codes: Counter[int] = Counter()
    bad: list[str] = []
    until = time.perf_counter() + duration
    await asyncio.gather(*(client(base, urls, until, lat, codes, bad) for _ in range(clients)))
    return lat, codes, bad


def cli(args: list[str], db_url: str, log: Path) -> subprocess.Popen[bytes]:
    env = serve_env(db_url)
    with log.open("wb") as sink:
        return subprocess.Popen([str(COOLPAPERS), *args], env=env, stdout=sink, stderr=sink)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--duration", type=float, default=20.0)
    ap.add_argument("--base", type=int, default=30, help="daily files imported before the load")
    ap.add_argument("--more", type=int, default=60, help="daily files imported during the load")
    ap.add_argument("--no-indexer", action="store_true", help="serve without its search indexer")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--venues", action="store_true", help="import and load the Venue branch too")
    a = ap.parse_args()

    files = daily_files(DAILY)
    base_files, more_files = files[: a.base], files[a.base : a.base + a.more]
    out = out_dir("load")
    schema = None
    db = out / "load.db"
    if a.backend == "sqlite":
        remove_db(db)
        db_url = f"sqlite:///{db}"
    else:
        from sqlalchemy import create_engine, text

        schema = f"cp_load_{uuid.uuid4().hex[:10]}"
        with create_engine(PG_URL).begin() as c:
            c.execute(text(f"CREATE SCHEMA {schema}"))
        db_url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    print(machine_note())
    serve = importer = None
    try:
        t = time.perf_counter()
        first = [*base_files, *(VENUE_FILES if a.venues else [])]
        rc = cli(["import", *map(str, first)], db_url, out / "import-base.log").wait()
        if rc:
            print(f"base import failed ({rc}); see {out / 'import-base.log'}")
            return 1
        took_import = time.perf_counter() - t
        print(f"{a.backend}: imported {len(base_files)} daily files in {took_import:.1f} s")
        ids, days = sample_ids(db_url)
        urls = urls_for(ids, days) + (venue_urls(db_url) if a.venues else [])
        port = free_port()
        # serve_env turns the indexer off for the other benches; a real instance runs it
        indexer = {"COOLPAPERS_SEARCH_INDEX_IN_SERVE": "false" if a.no_indexer else "true"}
        serve = start_serve(db_url, port, a.workers, log=out / "serve.log", env=indexer)
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/", serve)
        importer = cli(["import", *map(str, more_files)], db_url, out / "import-more.log")
        t0 = time.perf_counter()
        lat, codes, bad = asyncio.run(load(base, urls, a.clients, a.duration))
        took = time.perf_counter() - t0
        import_state = "still running" if importer.poll() is None else f"exit {importer.returncode}"
        n = len(lat)
        fives = sum(v for k, v in codes.items() if k >= 500)
        failed = codes.get(0, 0)
        poisoned = codes.pop(-1, 0)
        ms = [x * 1000 for x, _ in lat]
        print(
            f"{a.backend}, {a.workers} worker(s), {a.clients} clients, {took:.1f} s, "
            f"{len(urls)} distinct URLs; concurrent import of {len(more_files)} files: "
            f"{import_state}"
        )
        print(
            f"requests {n}  req/s {n / took:.0f}  p50 {percentile(ms, 50):.1f} ms  "
            f"p99 {percentile(ms, 99):.1f} ms  max {max(ms, default=0):.0f} ms"
        )
        classes = Counter(f"{k // 100}xx" if k else "transport" for k in codes.elements())
        print("status: " + ", ".join(f"{k} {v}" for k, v in sorted(classes.items())))
        print(f"5xx: {fives}   transport errors: {failed}   poisoned pages: {poisoned}")
        for line in bad:
            print("  " + line)
        by_kind: dict[str, list[float]] = {}
        for x, u in lat:
            by_kind.setdefault(kind(u), []).append(x * 1000)
        for k, v in sorted(by_kind.items()):
            print(f"  {k:18s} {len(v):6d} requests  p50 {percentile(v, 50):7.1f} ms  "
                  f"p99 {percentile(v, 99):7.1f} ms")  # fmt: skip
        print("slowest: " + ", ".join(f"{x * 1000:.0f} ms {u}" for x, u in sorted(lat)[-5:]))
        return 1 if fives or failed or poisoned else 0
    finally:
        for p in (importer, serve):
            if p is serve and p is not None:
                stop_group(p)
            elif p is not None:
                _stop(p)
        if schema:
            from sqlalchemy import create_engine, text

            with create_engine(PG_URL).begin() as c:
                c.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        elif not a.keep:
            remove_db(db)


def _stop(p: subprocess.Popen[bytes]) -> None:
    if p.poll() is None:
        p.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            p.wait(10)
        if p.poll() is None:
            p.kill()
            p.wait()


if __name__ == "__main__":
    sys.exit(main())
