"""Search figures (issue 4) on the real daily arXiv lists, SQLite, against tantivy.

Data
  real   every file of ../shared/data/arxiv-daily imported with the app's importer (69,708
         distinct papers) into bench/out/search/real.db, then `indexer.catch_up` (keywords and
         embeddings, timed: the embedding throughput).
  1M     real.db copied, then the real records REPEATED under new ids (<id>r<k>) with
         INSERT ... SELECT until 1,000,000 papers, queued by the insert trigger and added to
         FTS5 by indexer.catch_up_fulltext (what serve and `coolpapers index` do).
         Vectors at 1M: the real embeddings repeated with small Gaussian noise (sigma 0.01,
         re-normalised) under new keys; embedding 1M on 2 cores would take ~20 min.
Queries (seeded sample of 200 real papers)
  known-item  the title, and 4 distinctive words (the paper's highest-idf words, from the
              corpus' document frequencies) -> top-3 rate and MRR, keyword and hybrid; and
              whether each of these queries (and the topical ones) has the same total by
              relevance and by date (hybrid: matches + similar papers);
  floor       (--floor) the cosine similarity of the query to true matches (a paper's own
              title, its 4 words, the top keyword matches of a topic) against unrelated
              papers (random pairs, the best neighbour of an author's name or of junk), and
              how many similar papers (neighbours that do not match the words) each floor
              keeps per query: what search/service.SIMILARITY_FLOOR was chosen from;
  latency     the 200 distinctive-word queries + 200 one- or two-word topical queries (a
              random paper's first keyword): count + top 10, p50/p99;
  tantivy     the same words through tantivy 0.27 (en_stem tokenizer on title/abstract/authors,
              title boost 4, authors 2, every word required), count + top 10, same process.
Usage: .venv/bin/python bench/search.py [--skip-1m] [--n 200] [--semantic-only]
                                        [--skip-semantic] [--pg] [--known-item] [--floor]
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import DAILY, daily_files, out_dir, percentile, remove_db

from coolpapers.search import indexer
from coolpapers.search.embed import default_embedder
from coolpapers.search.query import parse
from coolpapers.search.service import SIMILARITY_FLOOR, Searcher
from coolpapers.search.vectors import VectorIndex, new_hnsw
from coolpapers.sources.arxiv.files import import_files
from coolpapers.store import Store

OUT = out_dir("search")
WORD = re.compile(r"[a-z][a-z0-9]+")


def timed(fn: Callable[[], object], n: int = 1) -> float:
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t) / n


def ms(values: Sequence[float]) -> str:
    return f"p50 {percentile(values, 50) * 1e3:.2f} ms, p99 {percentile(values, 99) * 1e3:.2f} ms"


def build_real() -> Store:
    db = OUT / "real.db"
    if (OUT / "real.done").exists():
        return Store.open(f"sqlite:///{db}")
    remove_db(db)
    store = Store.open(f"sqlite:///{db}")
    t = time.perf_counter()
    import_files(store, daily_files(DAILY))
    print(
        f"import (papers queued for search by the insert trigger): {store.count_papers()} papers "
        f"in {time.perf_counter() - t:.0f} s"
    )
    t = time.perf_counter()
    n = indexer.catch_up(store, batch=1024)
    dt = time.perf_counter() - t
    print(
        f"index (FTS5 catch-up, keywords, embeddings): {n} papers in {dt:.0f} s "
        f"= {n / dt:.0f} papers/s"
    )
    t = time.perf_counter()
    indexer.optimize(store)
    print(f"FTS5 optimize (merge segments): {time.perf_counter() - t:.0f} s")
    (OUT / "real.done").write_text("ok")
    return store


def embed_throughput(store: Store) -> None:
    with store.engine.connect() as c:
        rows = c.exec_driver_sql("SELECT title, abstract FROM papers LIMIT 5000").all()
    texts = [f"{t}. {a}" for t, a in rows]
    emb = default_embedder()
    dt = timed(lambda: emb.embed(texts))
    print(f"embedding throughput ({emb.name}, 2 shared cores): {len(texts) / dt:.0f} papers/s")


def distinctive(store: Store, title: str, abstract: str, k: int = 4) -> str:
    words = list(
        dict.fromkeys(w for w in WORD.findall(f"{title} {abstract}".lower()) if len(w) > 3)
    )
    with store.engine.connect() as c:
        q = "SELECT term, df FROM search_df WHERE term IN ({})".format(",".join("?" * len(words)))
        df = dict(c.exec_driver_sql(q, tuple(words)).all())
    # rarest words that still occur in a few other papers (a typo or code name is too easy)
    ranked = sorted(words, key=lambda w: (df.get(w, 10**9) < 2, df.get(w, 10**9)))
    return " ".join(ranked[:k])


def queries(store: Store, n: int, seed: int = 7) -> tuple[list, list[str], list[str]]:
    with store.engine.connect() as c:
        ids = [r[0] for r in c.exec_driver_sql("SELECT id FROM papers ORDER BY id")]
    rnd = random.Random(seed)
    papers = list(store.papers(rnd.sample(ids, n)).values())
    words = [distinctive(store, p.title, p.abstract) for p in papers]
    s = Searcher(store, semantic=False)
    kws = s.keywords(rnd.sample(ids, n))
    topical = [v[0] for v in kws.values() if v][:n]
    return papers, words, topical


def known_item(s: Searcher, papers: list, words: list[str], mode: str) -> None:
    for label, qs in (("title", [p.title for p in papers]), ("4 words", words)):
        top3, rr = 0, 0.0
        for p, q in zip(papers, qs, strict=True):
            got = [r.paper.id for r in s.search(q, mode=mode, per_page=10, snippets=False).items]
            if p.id in got[:3]:
                top3 += 1
            if p.id in got:
                rr += 1 / (got.index(p.id) + 1)
        print(
            f"known-item {mode:7} {label:8}: top-3 {top3 / len(papers):.1%}, "
            f"MRR {rr / len(papers):.3f}"
        )


def sort_totals(s: Searcher, qs: list[str]) -> None:
    """Hybrid: the same total, and the same papers, by relevance and by date."""
    same, similar = 0, []
    for q in qs:
        a = s.search(q, per_page=1, snippets=False)
        b = s.search(q, sort="date", per_page=1, snippets=False)
        same += (a.total, a.matched, a.similar) == (b.total, b.matched, b.similar)
        similar.append(a.similar)
    print(
        f"hybrid totals equal by relevance and by date: {same}/{len(qs)} queries; similar "
        f"papers per query (floor {s.floor}): mean {np.mean(similar):.1f}, "
        f"p90 {np.percentile(similar, 90):.0f}, max {max(similar)}, "
        f"queries with any {np.mean(np.array(similar) > 0):.1%}"
    )


JUNK = ["<script>alert(1)</script>", "script alert 1", "date 2026 99 99 x", "foo bar", "asdf",
        "hello world", "test", "x", "1", "2026", "qwerty", "lorem ipsum dolor sit amet", "the",
        "a b c", "zzz", "null", "undefined", "' OR 1=1 --", "%s%s%s", "admin"]  # fmt: skip
FLOORS = (0.35, 0.40, 0.45, 0.50, 0.55, 0.60)


def spread(label: str, xs: Sequence[float]) -> None:
    a = np.asarray(xs)
    cuts = " ".join(f"p{p}={np.percentile(a, p):.3f}" for p in (1, 5, 25, 50, 75, 95, 99))
    above = np.mean(a >= SIMILARITY_FLOOR)
    print(f"  {label:48} n={len(a):5}  {cuts}  max {a.max():.3f}  >= floor {above:6.1%}")


def floor_report(store: Store, papers: list, words: list[str], topical: list[str]) -> None:
    """Cosine similarity of queries to true matches and to unrelated papers (see the top)."""
    s = Searcher(store)
    vi, emb = s.vectors, s.embedder
    own = vi.vectors([p.id for p in papers])
    kept = [p for p in papers if p.id in own]

    def cos(q: str, vecs: Sequence[np.ndarray]) -> list[float]:
        e = emb.embed([q])[0]
        return [float(v @ e) for v in vecs]

    def best(q: str) -> float:
        return vi.search(emb.embed([q])[0], 1)[0][1]

    print(f"cosine similarity to the query (WordLlama), floor {SIMILARITY_FLOOR}:")
    spread("true: a title -> its paper", [cos(p.title, [own[p.id]])[0] for p in kept])
    spread(
        "true: 4 distinctive words -> their paper",
        [cos(w, [own[p.id]])[0] for p, w in zip(papers, words, strict=True) if p.id in own],
    )
    top_kw: list[float] = []
    for q in topical:
        _, hits = s.keyword.search(parse(q), "relevance", 0, 10)
        top_kw += cos(q, list(vi.vectors([h.paper_id for h in hits]).values()))
    spread("true: a topic -> its top-10 keyword matches", top_kw)
    # 2,000 pairs: the tail that matters is the top per mille
    rnd = random.Random(2)
    with store.engine.connect() as c:
        ids = [r[0] for r in c.exec_driver_sql("SELECT id FROM papers ORDER BY id")]
    titles = [p.title for p in store.papers(rnd.sample(ids, 2000)).values()]
    others = list(vi.vectors(rnd.sample(ids, 2000)).values())
    pairs = np.einsum("ij,ij->i", emb.embed(titles)[: len(others)], np.stack(others)[: len(titles)])
    spread("unrelated: a title -> a random paper", pairs.tolist())
    names = [p.authors[0] for p in papers if p.authors]
    spread("unrelated: an author's name -> best neighbour", [best(n) for n in names])
    spread("unrelated: junk, markup -> best neighbour", [best(j) for j in JUNK])
    print("similar papers (in the nearest 100, not matching the words) kept per query:")
    for label, qs in (
        ("author names", names),
        ("junk, markup", JUNK),
        ("topics (a paper's first keyword)", topical),
        ("titles", [p.title for p in papers]),
        ("4 distinctive words", words),
    ):
        counts: dict[float, list[int]] = {f: [] for f in FLOORS}
        for q in qs:
            hits = vi.search(emb.embed([q])[0], 100)
            pid = vi.paper_ids([d for d, _ in hits])
            pq = parse(q)
            match = s.keyword.matching_ids(pq, list(pid.values())) if pq.has_text else set()
            alone = [c for d, c in hits if pid.get(d) not in match]
            for f in FLOORS:
                counts[f].append(sum(c >= f for c in alone))
        row = "  ".join(
            f"{f:.2f}: {np.mean(n):4.1f} ({np.mean(np.array(n) > 0):4.0%})"
            for f, n in counts.items()
        )
        print(f"  {label:34} mean (queries with any)  {row}")


def latency(store: Store, qs: list[str], label: str) -> list[float]:
    kw = Searcher(store, semantic=False).keyword
    parsed = [parse(q) for q in qs]
    for q in parsed[:20]:
        kw.search(q, "relevance", 0, 10)  # warm the page cache of the OS and SQLite
    times = [timed(lambda q=q: kw.search(q, "relevance", 0, 10)) for q in parsed]
    print(f"keyword {label}: {ms(times)}")
    return times


def page_latency(store: Store, qs: list[str], label: str, mode: str) -> None:
    """What a reader waits for: Searcher.search as the page calls it (first 25 results with
    their papers and highlighted snippets; hybrid = keyword + semantic fused)."""
    s = Searcher(store)
    for q in qs[:20]:
        s.search(q, mode=mode)
    times = [timed(lambda q=q: s.search(q, mode=mode)) for q in qs]
    print(f"search page ({mode}, 25 results, snippets) {label}: {ms(times)}")


def build_tantivy(store: Store, path: Path):  # type: ignore[no-untyped-def]
    import tantivy

    sb = tantivy.SchemaBuilder()
    sb.add_text_field("pid", stored=True, tokenizer_name="raw")
    for f in ("title", "abstract", "authors"):
        sb.add_text_field(f, tokenizer_name="en_stem")
    schema = sb.build()
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    index = tantivy.Index(schema, path=str(path))
    writer = index.writer(heap_size=512_000_000, num_threads=2)
    t = time.perf_counter()
    with store.engine.connect() as c:
        res = c.exec_driver_sql("SELECT id, title, abstract, authors FROM papers")
        for pid, title, abstract, authors in res:
            writer.add_document(
                tantivy.Document(pid=pid, title=title, abstract=abstract, authors=authors)
            )
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    print(f"tantivy index built in {time.perf_counter() - t:.0f} s")
    return index


def tantivy_latency(index, qs: list[str], label: str) -> list[float]:  # type: ignore[no-untyped-def]
    searcher = index.searcher()
    parsed = []
    for q in qs:
        words = parse(q).words()
        parsed.append(
            index.parse_query(
                " ".join(f"+{w}" for w in words),
                ["title", "abstract", "authors"],
                field_boosts={"title": 4.0, "authors": 2.0},
            )
        )
    for q in parsed[:20]:
        searcher.search(q, 10, count=True)
    times = [timed(lambda q=q: searcher.search(q, 10, count=True)) for q in parsed]
    print(f"tantivy {label}: {ms(times)}")
    return times


def bytes_per_paper(db: Path, n: int, tantivy_dir: Path | None) -> None:
    con = sqlite3.connect(db)
    fts = sum(
        con.execute(f"SELECT coalesce(sum(length({col})), 0) FROM {t}").fetchone()[0]
        for t, col in (
            ("search_fts_data", "block"),
            ("search_fts_idx", "term"),
            ("search_fts_docsize", "sz"),
        )
    )
    vec = con.execute("SELECT coalesce(sum(length(vec)), 0) FROM search_vectors").fetchone()[0]
    con.close()
    print(
        f"index bytes/paper: FTS5 {fts / n:.0f} (payload of its shadow tables), vectors "
        f"{vec / max(n, 1):.0f} (float16 x 256)"
    )
    if tantivy_dir:
        size = sum(f.stat().st_size for f in tantivy_dir.rglob("*") if f.is_file())
        print(f"tantivy bytes/paper: {size / n:.0f} (no stored text but the id)")


def grow(real: Path, target: int) -> Store:
    big = OUT / "big.db"
    if (OUT / "big.done").exists():
        return Store.open(f"sqlite:///{big}")
    remove_db(big)
    shutil.copy(real, big)
    store = Store.open(f"sqlite:///{big}")
    n0 = store.count_papers()
    t = time.perf_counter()
    k = 0
    con = sqlite3.connect(big)
    while True:
        have = con.execute("SELECT count(*) FROM papers").fetchone()[0]
        if have >= target:
            break
        k += 1
        with con:
            con.execute(
                "INSERT INTO papers (id, version, title, authors, abstract, categories, comments,"
                " journal_ref, doi, license, published, updated, ingested) SELECT id || 'r' || ?,"
                " version, title, authors, abstract, categories, comments, journal_ref, doi,"
                " license, published, updated, ingested FROM papers WHERE id NOT LIKE '%r%'"
                " LIMIT ?",
                (k, target - have),
            )
    con.close()
    print(
        f"1M: {n0} real papers repeated under new ids to {store.count_papers()} "
        f"in {time.perf_counter() - t:.0f} s (the insert trigger queues them for search)"
    )
    # What `serve` / `coolpapers index` do after an import: the queued papers into FTS5.
    t = time.perf_counter()
    added = indexer.catch_up_fulltext(store)
    docs = con_count(big, "SELECT count(*) FROM search_docs WHERE fts = 1")
    print(
        f"FTS5 catch-up at 1M: {added} papers in {time.perf_counter() - t:.0f} s; "
        f"{docs} papers searchable"
    )
    if docs < target:
        raise SystemExit(f"only {docs} of {target} papers are in the full-text index")
    t = time.perf_counter()
    indexer.optimize(store)
    print(f"FTS5 optimize at 1M: {time.perf_counter() - t:.0f} s")
    (OUT / "big.done").write_text("ok")
    return store


def con_count(path: Path, sql: str) -> int:
    with sqlite3.connect(path) as con:
        return int(con.execute(sql).fetchone()[0])


def semantic(real: Store, n_total: int) -> None:
    """Exact scan at the real size (what a worker uses below EXACT_LIMIT), HNSW at n_total."""
    vi = VectorIndex(real)
    t = time.perf_counter()
    vi.refresh(force=True)
    print(f"vectors loaded from the database: {len(vi)} in {time.perf_counter() - t:.1f} s")
    emb = default_embedder()
    base = vi.matrix
    qs = [base[i] for i in random.Random(3).sample(range(len(base)), 200)]
    times = [timed(lambda q=q: vi.search(q, 10)) for q in qs]
    print(f"semantic top-10, exact scan at {len(base)}: {ms(times)}")
    rng = np.random.default_rng(1)
    index = new_hnsw()
    t = time.perf_counter()
    keys = np.arange(n_total, dtype=np.uint64)
    for start in range(0, n_total, len(base)):
        m = min(len(base), n_total - start)
        v = base[:m] + rng.normal(0, 0.01, (m, base.shape[1])).astype(np.float32)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        index.add(keys[start : start + m], v)
    print(
        f"usearch HNSW (f16, M=16) of {n_total} vectors built in {time.perf_counter() - t:.0f} s,"
        f" {index.memory_usage / n_total:.0f} bytes/paper in memory"
    )
    for q in qs[:10]:
        index.search(q, 10)
    times = [timed(lambda q=q: index.search(q, 10)) for q in qs]
    print(f"semantic top-10, HNSW at {n_total}: {ms(times)}")
    texts = ["linear attention for long context", "diffusion models for video generation"] * 50
    te = [timed(lambda t=t: index.search(emb.embed([t])[0], 10)) for t in texts]
    print(f"semantic with the query embedding, HNSW at {n_total}: {ms(te)}")


def postgres(papers: list, words: list[str], topical: list[str]) -> None:
    """The same real set, known-item queries and latency queries on PostgreSQL (a private
    schema, dropped at the end)."""
    from sqlalchemy import create_engine, text

    base = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    eng = create_engine(base)
    with eng.begin() as c:
        c.execute(text("DROP SCHEMA IF EXISTS cp_bench_search CASCADE"))
        c.execute(text("CREATE SCHEMA cp_bench_search"))
    try:
        pg = Store.open(f"{base}?options=-csearch_path%3Dcp_bench_search")
        t = time.perf_counter()
        import_files(pg, daily_files(DAILY))
        n = pg.count_papers()
        dt = time.perf_counter() - t
        print(f"PostgreSQL import (with the tsvector trigger): {n} in {dt:.0f} s")
        with pg.engine.begin() as c:
            c.exec_driver_sql("ANALYZE")
        known_item(Searcher(pg, semantic=False), papers, words, "keyword")
        latency(pg, words + topical, f"PostgreSQL at {n}")
        pg.engine.dispose()
    finally:
        with eng.begin() as c:
            c.execute(text("DROP SCHEMA IF EXISTS cp_bench_search CASCADE"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--skip-1m", action="store_true")
    ap.add_argument("--target", type=int, default=1_000_000)
    ap.add_argument("--semantic-only", action="store_true", help="just the vector figures")
    ap.add_argument("--skip-semantic", action="store_true", help="no vector figures at 1M")
    ap.add_argument("--pg", action="store_true", help="also PostgreSQL at the real size")
    ap.add_argument("--known-item", action="store_true", help="just known-item and totals")
    ap.add_argument("--floor", action="store_true", help="just the similarity-floor figures")
    a = ap.parse_args()
    store = build_real()
    if a.semantic_only:
        semantic(store, a.target)
        return
    n_real = store.count_papers()
    papers, words, topical = queries(store, a.n)
    if a.floor:
        floor_report(store, papers, words, topical)
        return
    s = Searcher(store)
    indexer.catch_up_text_index(store)  # a real.db built before the text index existed
    used = getattr(s.keyword, "uses_index", lambda: False)()
    print(f"keyword engine: {type(s.keyword).__name__} (text index in use: {used})")
    # the HNSW the site searches above EXACT_LIMIT papers, not the exact scan that answers
    # while it builds in the background (and a build still running at exit aborts Python)
    t = time.perf_counter()
    while len(s.vectors) > s.vectors.exact_limit and s.vectors.hnsw is None:
        time.sleep(0.5)
    how = s.vectors.hnsw_from or "none"
    print(f"vectors: {len(s.vectors)}, HNSW {how} in {time.perf_counter() - t:.0f} s")
    for mode in ("keyword", "hybrid"):
        known_item(s, papers, words, mode)
    sort_totals(s, [p.title for p in papers] + words + topical)
    if a.known_item:
        return
    embed_throughput(store)
    qs = words + topical
    t_real = latency(store, qs, f"at {n_real}")
    for mode in ("keyword", "hybrid"):
        page_latency(store, qs, f"at {n_real}", mode)
    tdir = OUT / "tantivy-real"
    tix = build_tantivy(store, tdir)
    tt_real = tantivy_latency(tix, qs, f"at {n_real}")
    print(
        f"ratio SQLite/tantivy p50 at {n_real}: "
        f"{percentile(t_real, 50) / percentile(tt_real, 50):.2f}"
    )
    bytes_per_paper(OUT / "real.db", n_real, tdir)
    if a.pg:
        postgres(papers, words, topical)
    if a.skip_1m:
        return
    big = grow(OUT / "real.db", a.target)
    n_big = big.count_papers()
    t_big = latency(big, qs, f"at {n_big}")
    page_latency(big, qs, f"at {n_big}", "keyword")
    tdir = OUT / "tantivy-big"
    tix = build_tantivy(big, tdir)
    tt_big = tantivy_latency(tix, qs, f"at {n_big}")
    print(
        f"ratio SQLite/tantivy p50 at {n_big}: {percentile(t_big, 50) / percentile(tt_big, 50):.2f}"
    )
    shutil.rmtree(tdir, ignore_errors=True)
    if not a.skip_semantic:
        semantic(store, n_big)


if __name__ == "__main__":
    main()
