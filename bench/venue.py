"""The Venue branch's figures (issue 13): import speed, the edition page, mixed search, and
how well venue papers are linked to their arXiv versions.

Data: all real venue files of ../shared/data/venues (ACL Anthology XML: 2024.acl, 2024.eacl,
2024.tacl, 2024.iscls, P17 = 1,620 papers; PMLR v336 = 197; paperlists JSON: 7 conferences =
6,266 records) and every real daily arXiv list of ../shared/data/arxiv-daily (69,708 papers).

import   each format through the importer the CLI uses (sources/formats.import_venue: parse,
         clean, upsert papers and listings, recount editions, checkpoint per batch) into a
         fresh SQLite database and a PostgreSQL schema, in records/s (target >= 20,000, as
         arXiv's); and the parser alone. Best of --repeat runs, each into a fresh database.
page     /venue/ACL.2024 (933 papers, 5 groups) through the app (TestClient, in process), each
         request a page-cache miss (a new unused parameter), default and ?show=all, p50/p99
         over --requests; beside it the arXiv listing of the same store whose size is nearest
         (cs.CL's biggest day), the same way.
search   arXiv (69,708) + every venue paper (8,083) in one SQLite index (keywords, FTS5,
         embeddings): /search (both branches), /arxiv/search and /venue/search through
         Searcher.search, hybrid, for 1-3 word topical queries and pasted titles (100 each,
         seeded sample of both branches), p50/p99; --skip-search to leave it out (the index
         takes a few minutes to build).
links    sources/versions.link_versions on the same store: pairs found by kind. Recall where a
         source names the arXiv id (paperlists' `arxiv`): of those ids that are stored, the
         share the title + first-author rule finds on its own. Precision: every pair found
         by title alone is printed (with --show-links) for checking by hand.

Run: .venv/bin/python bench/venue.py [--repeat 3] [--requests 50] [--skip-search] [--no-pg]
Scratch databases go under bench/out/venue/ and are removed at the end (--keep keeps them);
the PostgreSQL schema is dropped.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import DAILY, PG_URL, SHARED, daily_files, out_dir, percentile, remove_db
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from coolpapers.config import Settings
from coolpapers.search import indexer
from coolpapers.search.service import Searcher
from coolpapers.sources import formats
from coolpapers.sources.acl import anthology
from coolpapers.sources.arxiv.files import import_files
from coolpapers.sources.paperlists import reader as paperlists
from coolpapers.sources.pmlr import volume as pmlr
from coolpapers.sources.versions import find, link_versions, norm_title
from coolpapers.store import Store
from coolpapers.web.app import create_app

OUT = out_dir("venue")
VENUES = SHARED / "data" / "venues"
ACL = sorted((VENUES / "acl-anthology").glob("*.xml.gz"))
PAPERLISTS = sorted((VENUES / "paperlists").glob("*.json.gz"))
PMLR = [VENUES / "pmlr" / "v336"]
FORMATS: dict[str, tuple[list[Path], object]] = {
    "ACL Anthology XML": (ACL, anthology),
    "paperlists JSON": (PAPERLISTS, paperlists),
    "PMLR volume": (PMLR, pmlr),
}


def ms(values: list[float]) -> str:
    return f"p50 {percentile(values, 50) * 1e3:7.2f} ms  p99 {percentile(values, 99) * 1e3:7.2f} ms"


@contextlib.contextmanager
def pg_store() -> Iterator[Store | None]:
    schema = f"bench_venue_{uuid.uuid4().hex[:8]}"
    try:
        eng = create_engine(PG_URL)
        with eng.begin() as c:
            c.execute(text(f"CREATE SCHEMA {schema}"))
    except Exception as e:  # no PostgreSQL here: the SQLite figures stand alone
        print(f"PostgreSQL not reachable ({type(e).__name__}): skipped")
        yield None
        return
    store = Store.open(f"{PG_URL}?options=-csearch_path%3D{schema}")
    try:
        yield store
    finally:
        store.engine.dispose()
        with eng.begin() as c:
            c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        eng.dispose()


def import_all(store: Store, files: list[Path], reader: object) -> int:
    """What `coolpapers import FILE...` does with venue files: one import_venues call."""
    report = formats.VenueReport()
    formats.import_venues(store, [(f, reader) for f in files], report)  # type: ignore[misc]
    assert not report.failed, report.failed
    return report.stored


# Copies of the real files under new ids and editions, for an import as big as arXiv's
# figure's (~100k records): the ACL Anthology's new-style files with their collection's year
# changed (2024.acl -> 1950.acl: new ids, a new edition), and the paperlists files whose ids
# come from their URLs (OpenReview's forum, CVF's page name) with those prefixed per copy.
BIG_YEARS = range(1950, 2050)


def big_acl(records: int, gz: bool) -> list[Path]:
    folder = out_dir(f"venue/big-acl{'-gz' if gz else ''}")
    new_style = [f for f in ACL if f.name[:4].isdigit()]
    each = sum(len(b.papers) for f in new_style for b in anthology.read(f))
    out = []
    for year in BIG_YEARS[: -(-records // each)]:
        for f in new_style:
            name = f.name.replace("2024", str(year))
            target = folder / (name if gz else name.removesuffix(".gz"))
            if not target.exists():
                xml = gzip.decompress(f.read_bytes())
                xml = xml.replace(b'<collection id="2024.', f'<collection id="{year}.'.encode())
                xml = xml.replace(b"<year>2024</year>", f"<year>{year}</year>".encode())
                target.write_bytes(gzip.compress(xml, 6) if gz else xml)
            out.append(target)
    return out


def big_paperlists(records: int, gz: bool) -> list[Path]:
    folder = out_dir(f"venue/big-paperlists{'-gz' if gz else ''}")
    usable = [f for f in PAPERLISTS if not f.name.startswith(("aaai", "ijcai"))]
    each = sum(len(b.papers) for f in usable for b in paperlists.read(f))
    out = []
    for k, year in enumerate(BIG_YEARS[: -(-records // each)]):
        for f in usable:
            conf = f.name.split("20", 1)[0]
            target = folder / f"{conf}{year}.json{'.gz' if gz else ''}"
            if not target.exists():
                raw = gzip.decompress(f.read_bytes())
                for old, new in ((b"id=", b"id=c%d" % k), (b"/html/", b"/html/C%d" % k),
                                 (b"/papers/", b"/papers/C%d" % k)):  # fmt: skip
                    raw = raw.replace(old, new)
                target.write_bytes(gzip.compress(raw, 6) if gz else raw)
            out.append(target)
    return out


def timed_import(files: list[Path], reader: object, store: Store) -> tuple[int, float, float]:
    """(records stored, wall seconds, CPU seconds of this process and its parsers)."""
    cpu = os.times()
    t = time.perf_counter()
    stored = import_all(store, files, reader)
    wall = time.perf_counter() - t
    after = os.times()
    used = sum(after[i] - cpu[i] for i in range(4))  # user, system, children's user, system
    return stored, wall, used


def bench_import(args: argparse.Namespace) -> None:
    print(f"== import: records/s (best of {args.repeat}; each run into a fresh database)")
    print(f"   (files parsed in other processes from {formats.PIPELINE_BYTES:,} bytes on;"
          f" ~{formats.BATCH_PAPERS:,} papers a transaction)")  # fmt: skip
    for name, (files, reader) in FORMATS.items():
        n = 0
        parse = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            n = sum(len(b.papers) for f in files for b in reader.read(f))  # type: ignore[attr-defined]
            parse.append(time.perf_counter() - t)
        runs = []
        for i in range(args.repeat):
            db = OUT / f"import{i}.db"
            remove_db(db)
            store = Store.open(f"sqlite:///{db}")
            stored, wall, _ = timed_import(files, reader, store)
            runs.append(wall)
            store.engine.dispose()
            remove_db(db)
        line = (
            f"{name:18s} {n:6d} records  parse {n / min(parse):9,.0f}/s  "
            f"import SQLite {stored / min(runs):9,.0f}/s"
        )
        if not args.no_pg:
            pg = []
            for _ in range(args.repeat):
                with pg_store() as s:
                    if s is None:
                        break
                    pg.append(timed_import(files, reader, s)[1])
            if pg:
                line += f"  PostgreSQL {stored / min(pg):9,.0f}/s"
        print(line)
    if args.big:
        print(f"== a big import (~{args.big:,} records: real records under new ids), SQLite")
        print("   (plain files, as the Anthology's and paperlists' repositories hold them; then"
              " the same gzipped, as ../shared keeps them: +1 decompression per byte)")  # fmt: skip
        for name, files, reader in (
            ("ACL Anthology XML", big_acl(args.big, gz=False), anthology),
            ("paperlists JSON", big_paperlists(args.big, gz=False), paperlists),
            ("ACL XML, gzipped", big_acl(args.big, gz=True), anthology),
            ("paperlists, gzipped", big_paperlists(args.big, gz=True), paperlists),
        ):
            for _ in range(args.repeat):
                db = OUT / "big.db"
                remove_db(db)
                store = Store.open(f"sqlite:///{db}")
                stored, wall, cpu = timed_import(files, reader, store)
                rate, us = stored / wall, cpu / stored * 1e6
                print(f"{name:18s} {len(files):4d} files {stored:7,d} records  {rate:9,.0f}/s"
                      f"  CPU {us:5.1f} us/record")  # fmt: skip
                store.engine.dispose()
                remove_db(db)


def build_store(args: argparse.Namespace) -> Store:
    db = OUT / "both.db"
    if args.keep and db.exists():
        return Store.open(f"sqlite:///{db}")
    remove_db(db)
    store = Store.open(f"sqlite:///{db}")
    t = time.perf_counter()
    import_files(store, daily_files(DAILY))
    for files, reader in FORMATS.values():
        import_all(store, files, reader)
    print(f"store: {store.count_papers():,} papers in {time.perf_counter() - t:.1f} s")
    return store


def timed_requests(get: Callable[[int], object], n: int) -> list[float]:
    out = []
    for i in range(n):
        t = time.perf_counter()
        get(i)
        out.append(time.perf_counter() - t)
    return out


def bench_page(store: Store, args: argparse.Namespace) -> None:
    print(f"== pages: uncached, in process (TestClient), {args.requests} requests each")
    # no page is kept (page_cache_bytes=0): every request renders (the cache ignores unread
    # parameters, so a new one would not miss)
    settings = Settings(_env_file=None, fetch_on_demand=False, page_cache_bytes=0)  # type: ignore[call-arg]
    client = TestClient(create_app(settings, store))
    with store.engine.connect() as c:
        day, n = c.exec_driver_sql(
            "SELECT day, total FROM day_counts WHERE category = 'cs.CL' ORDER BY total DESC"
        ).first()  # type: ignore[misc]
    for label, url in (
        ("/venue/ACL.2024 (933 papers)", "/venue/ACL.2024?"),
        ("/venue/ACL.2024?show=all", "/venue/ACL.2024?show=all&"),
        (f"/arxiv/cs.CL?date={day} ({n} papers)", f"/arxiv/cs.CL?date={day}&"),
        (f"/arxiv/cs.CL?date={day}&show=all", f"/arxiv/cs.CL?date={day}&show=all&"),
    ):
        assert client.get(url + "_bench=warm").status_code == 200, url
        times = timed_requests(lambda i, u=url: client.get(f"{u}_bench={i}"), args.requests)
        print(f"{label:45s} {ms(times)}")


def bench_search(store: Store, args: argparse.Namespace) -> None:
    import random

    t = time.perf_counter()
    indexer.catch_up(store)
    print(f"== search: index built in {time.perf_counter() - t:.0f} s")
    s = Searcher(store)
    rng = random.Random(13)
    with store.engine.connect() as c:
        venue = [r for r in c.exec_driver_sql("SELECT id, title FROM papers WHERE source<>'arxiv'")]
        arxiv = [r for r in c.exec_driver_sql("SELECT id, title FROM papers WHERE source='arxiv'")]
        kws = [k for (k,) in c.exec_driver_sql("SELECT keywords FROM search_keywords")]
    sample = rng.sample(venue, 50) + rng.sample(arxiv, 50)
    titles = [t for _, t in sample]
    topics = [rng.choice(k.split("; ")) for k in rng.sample(kws, 100)]
    for scope, branch in (
        ("/search", None),
        ("/arxiv/search", "arxiv"),
        ("/venue/search", "venue"),
    ):
        for kind, queries in (("1-3 words", topics), ("pasted title", titles)):
            for q in queries[:5]:
                s.search(q, branch=branch)  # warm
            times = []
            for q in queries:
                t = time.perf_counter()
                s.search(q, branch=branch)
                times.append(time.perf_counter() - t)
            print(f"{scope:14s} hybrid  {kind:13s} {ms(times)}")
    hits = 0
    for key, title in sample:
        got = [r.paper.id for r in s.search(title, per_page=3).items]
        hits += key in got
    print(f"known-item by title over both branches: top-3 {hits}/{len(sample)}")


def bench_links(store: Store, args: argparse.Namespace) -> None:
    report = link_versions(store)
    print(
        f"== links: {report.linked} pairs over {report.venue_papers:,} venue papers: {report.pairs}"
    )
    given: dict[str, str] = {}  # venue key -> the arXiv id its source names (stored ones)
    with store.engine.connect() as c:
        stored = {k for (k,) in c.exec_driver_sql("SELECT id FROM papers WHERE source='arxiv'")}
        for key, extra in c.exec_driver_sql(
            "SELECT id, extra FROM papers WHERE source<>'arxiv' AND extra LIKE '%\"arxiv\"%'"
        ):
            ax = json.loads(extra).get("arxiv")
            if isinstance(ax, str) and ax.split("v")[0] in stored:
                given[key] = ax.split("v")[0]
    kinds: dict[tuple[str, str], set[str]] = {}
    for v, a, how in find(store):
        kinds.setdefault((v, a), set()).add(how)
    by_title = {pair for pair, hows in kinds.items() if "title" in hows}
    only_similar = [pair for pair, hows in kinds.items() if hows == {"similar"}]
    print(f"pairs only the similar-title rule finds: {len(only_similar)}")
    found = sum((v, a) in by_title for v, a in given.items())
    print(
        f"recall of title + first author where the source names a stored arXiv id: "
        f"{found}/{len(given)}"
    )
    agree = [(v, a) for v, a in by_title if v in given]
    print(f"title pairs whose venue names an arXiv id: {len(agree)}, the same id: "
          f"{sum(given[v] == a for v, a in agree)}")  # fmt: skip
    if args.show_links:
        shown = sorted(by_title) + sorted(only_similar)
        papers = store.papers([k for pair in shown for k in pair])
        for v, a in shown:
            print(f"  {v}  {a}\n    {norm_title(papers[v].title)}\n    {papers[a].authors[:1]}"
                  f" / {papers[v].authors[:1]}")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--requests", type=int, default=50)
    ap.add_argument("--skip-import", action="store_true")
    ap.add_argument("--skip-search", action="store_true")
    ap.add_argument("--no-pg", action="store_true")
    ap.add_argument("--show-links", action="store_true")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--big", type=int, default=100_000, help="records of the big import (0: none)")
    ap.add_argument("--import-only", action="store_true")
    args = ap.parse_args()
    if not args.skip_import:
        bench_import(args)
    if args.import_only:
        return
    store = build_store(args)
    try:
        bench_page(store, args)
        bench_links(store, args)
        if not args.skip_search:
            bench_search(store, args)
    finally:
        store.engine.dispose()
        if not args.keep:
            remove_db(OUT / "both.db")


if __name__ == "__main__":
    main()
