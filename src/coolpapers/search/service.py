"""What the pages and the API call: search (keyword, semantic, hybrid), related papers, the
reader's-taste (❤) ranking, and keywords. Backend differences stay in the engines.

A search's results are the papers that match its words (and filters), plus, in the hybrid and
semantic rankings, the papers whose embedding is close enough to the query's: at least
SIMILARITY_FLOOR in cosine similarity, which neighbours must earn (no padding of every query
with its nearest hundred). Each result says which it is (`Result.source`: "semantic" alone is
a *similar* paper, one that does not match the words), the total counts both kinds and is the
same for every sort, and what of the query could not be read is in `Results.warnings`."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from coolpapers.records import Paper
from coolpapers.search.embed import Embedder, default_embedder
from coolpapers.search.keyword import (
    Hit,
    KeywordEngine,
    Snippet,
    engine_for,
)
from coolpapers.search.query import BRANCHES, Query, Term, parse, shown
from coolpapers.search.vectors import VectorIndex
from coolpapers.sources import registry
from coolpapers.sources.base import BadId
from coolpapers.store import Store, driver

log = logging.getLogger("coolpapers.search")
RRF_K = 60  # reciprocal rank fusion constant (Cormack et al. 2009)
MODES = ("hybrid", "keyword", "semantic")
SORTS = ("relevance", "date")
FUSE_WINDOW = 100  # results of each ranking fused into a hybrid result list's head
# The cosine similarity (WordLlama, search/embed.py) a semantic neighbour needs to be a result.
# Measured on the 69,708 real papers of ../shared/data/arxiv-daily (`bench/search.py
# --floor`): a paper's own title reaches 0.5 for 94 % of papers (median 0.66), a random paper
# for 0.05 % of titles (p99 0.41); the best neighbour of an author's name stays under it for
# 99.5 % of names (p99 0.47), as does that of markup or junk ("<script>alert(1)</script>"
# 0.38). Lower floors let in mostly unrelated papers that share a word piece.
SIMILARITY_FLOOR = 0.5
# [REL] (Searcher.related): the neighbours considered, and the weight of a keyphrase match
# next to cosine similarity (0..1 each); chosen on bench/related.py's category agreement
RELATED_POOL = 50
RELATED_KEYWORD_WEIGHT = 0.1
# Matches are counted up to COUNT_BOUND ("more than 10,000"): PostgreSQL counts a common
# word's 57,000 matches one row at a time (120 ms at 70k papers), and a reader needs to know
# only that there are many. Pages go on past it (and past papers.cool's cap of 1,000).
COUNT_BOUND = 10_000
WINDOWS = 256  # keyword rankings kept per worker (all pages of a query come from one)
# bench/search_http.py `profile`: the seconds of each stage of the last searches, by name
PROFILE = False
STAGES: dict[str, float] = {}


@contextmanager
def _stage(name: str) -> Iterator[None]:
    if not PROFILE:
        yield
        return
    t = time.perf_counter()
    try:
        yield
    finally:
        STAGES[name] = STAGES.get(name, 0.0) + time.perf_counter() - t


@dataclass(slots=True)
class Result:
    paper: Paper
    score: float
    snippet: Snippet | None = None
    # the ranking that found it: keyword | semantic | both. "keyword" and "both" match the
    # query's words; "semantic" alone is a similar paper, found by meaning only
    source: str = "keyword"

    @property
    def similar(self) -> bool:
        """Found by meaning only: the paper does not match the query's words."""
        return self.source == "semantic"


@dataclass(slots=True)
class Results:
    query: str
    parsed: Query
    sort: str
    mode: str
    page: int
    per_page: int
    total: int = 0  # matched + similar, whatever the sort
    items: list[Result] = field(default_factory=list)
    redirect: str | None = None
    matched: int = 0  # papers that match the words and filters
    similar: int = 0  # papers found by meaning only (semantic neighbours above the floor)
    # what of the request was not searched as written (a bad filter, sort, mode), for the reader
    warnings: list[str] = field(default_factory=list)
    # False: more papers match than were counted (COUNT_BOUND): the total is "more than"
    exact: bool = True

    @property
    def pages(self) -> int:
        """Pages of results (of the counted ones when more match: `exact` False)."""
        return max(1, -(-self.total // self.per_page))


def id_redirect(query: str) -> str | None:
    """Pasted paper ids or URLs of any source (several: space or comma separated) -> the
    papers' page: /arxiv/<ids> when all are arXiv's, /venue/<ids> otherwise."""
    parts = [p for p in re.split(r"[\s,]+", query.strip()) if p]
    if not parts or len(parts) > 50:
        return None
    try:
        found = [registry.parse(p) for p in parts]
    except BadId:
        return None
    branch = "arxiv" if all(s.suffix is None for s, _ in found) else "venue"
    return f"/{branch}/" + ",".join(str(sid) for _, sid in found)


def rrf(*rankings: Sequence[str]) -> list[tuple[str, float]]:
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, pid in enumerate(ranking):
            scores[pid] = scores.get(pid, 0.0) + 1.0 / (RRF_K + rank + 1)
    return sorted(scores.items(), key=lambda kv: -kv[1])


def _phrase_terms(phrases: Sequence[str]) -> list[Term]:
    """Keyphrases as phrase terms of the keyword engines ("self-consuming loops" is the
    phrase self consuming loops, as the index splits it)."""
    terms = [Term(tuple(re.findall(r"[^\W_]+", p.lower()))) for p in phrases]
    return [t for t in terms if t.words]


def _unknown_sources(q: Query) -> list[str]:
    """A warning for each `source:` no source here answers to (the filter matches nothing)."""
    known = [src.key for src in registry.all_sources()]
    return [
        f"source:{shown(key)}: no such source here ({', '.join(known)}); no paper matches it."
        for key in q.sources
        if key not in known
    ]


def _key(q: Query) -> str:
    """What a keyword ranking depends on (not the warnings)."""
    return repr((q.groups, q.exclude, q.categories, q.since, q.until, q.sources, q.venues,
                 q.branch))  # fmt: skip


class Searcher:
    def __init__(
        self,
        store: Store,
        *,
        semantic: bool = True,
        embedder: Embedder | None = None,
        floor: float = SIMILARITY_FLOOR,
        keyword: KeywordEngine | None = None,
        vectors_saved: Path | None = None,
    ) -> None:
        """`vectors_saved`: where the vectors' HNSW is kept between starts and for the
        site's other workers (search/vectors.py); None: built in this process only."""
        self.store = store
        self.keyword = keyword or engine_for(store)
        self.vectors_saved = vectors_saved
        self.semantic = semantic
        self.floor = floor
        self._embedder = embedder
        self._vectors: VectorIndex | None = None
        self._lock = threading.Lock()
        # (query, sort) -> (count, exact, ranked hits): every page of a query, and the count
        # the hybrid orders share, from one ranking; dropped when the store's data changes
        self._windows: OrderedDict[tuple[str, str], tuple[int, bool, list[Hit], int]] = (
            OrderedDict()
        )

    # ---- semantic parts, loaded on first use ---------------------------------------------

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = default_embedder()
        return self._embedder

    @property
    def vectors(self) -> VectorIndex:
        with self._lock:
            if self._vectors is None:
                self._vectors = VectorIndex(self.store, saved=self.vectors_saved)
                self._vectors.refresh(force=True)
            return self._vectors

    # ---- search ----------------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        sort: str = "relevance",
        page: int = 1,
        per_page: int = 25,
        mode: str = "hybrid",
        since: str | None = None,
        until: str | None = None,
        snippets: bool = True,
        titles: bool = True,
        branch: str | None = None,
    ) -> Results:
        """`branch`: "arxiv" or "venue" keeps to one branch (/arxiv/search, /venue/search);
        None searches both. A sort or mode that is not one is the default, with a warning.
        `titles`: the snippets mark the query's words in the titles too (the API's
        title_html); a page shows only the abstract's snippet, and marking a pasted title's
        words in 25 titles was 3 % of a search page's Python under load."""
        warnings: list[str] = []
        if sort not in SORTS:
            if sort:
                warnings.append(
                    f"sort={shown(sort)} is not a sort (relevance, date); "
                    "the results are by relevance."
                )
            sort = "relevance"
        if mode not in MODES:
            if mode:
                warnings.append(
                    f"mode={shown(mode)} is not a ranking (hybrid, keyword, semantic); "
                    "hybrid was used."
                )
            mode = "hybrid"
        if not self.semantic:
            if mode == "semantic":
                warnings.append("Semantic search is off here: these are keyword results.")
            mode = "keyword"
        page = max(1, page)
        q = parse(query, since, until)
        q.branch = branch if branch in BRANCHES else None
        res = Results(query, q, sort, mode, page, per_page)
        # once each: "source:x source:x" is one mistake
        res.warnings = list(dict.fromkeys([*q.warnings, *_unknown_sources(q), *warnings]))
        res.redirect = id_redirect(query)
        if res.redirect or q.is_empty:
            return res
        offset = (page - 1) * per_page
        fielded = any(t.field for g in q.groups for t in g)
        use_vectors = mode != "keyword" and q.has_text and not fielded
        if use_vectors and len(self.vectors) == 0:
            use_vectors = False  # nothing embedded yet (`coolpapers index`)
        if mode == "semantic" and q.has_text and fielded:
            res.warnings.append(
                "ti:, au: and abs: look for words in one field: no similar papers were sought."
            )
        want = per_page
        if not use_vectors:
            res.matched, res.exact, hits = self._window(q, sort, offset + want)
            ranked = [(h.paper_id, h.score, "keyword") for h in hits[offset : offset + want]]
        elif mode == "semantic":
            ranked = self._semantic_page(q, res, offset)[:want]
        elif sort == "date":
            ranked = self._hybrid_by_date(q, res, offset, want)
        else:
            ranked = self._fused(q, res, offset, want)
        res.total = res.matched + res.similar
        with _stage("papers"):
            found = self.store.papers([pid for pid, _, _ in ranked])
        with _stage("snippets"):
            snips = self.keyword.snippets(q, list(found), found, titles) if snippets else {}
        res.items = [
            Result(found[pid], score, snips.get(pid), src)
            for pid, score, src in ranked
            if pid in found
        ]
        return res

    # ---- the keyword ranking, once per query -------------------------------------------------

    def _generation(self) -> str:
        """The store's data generation, read for every search (one row, ~0.1 ms): a changed
        paper leaves the results at once, as the index does, not a second later."""
        return self.store.generation()

    def _window(self, q: Query, sort: str, need: int) -> tuple[int, bool, list[Hit]]:
        """(matches counted up to COUNT_BOUND, whether exact, the first `need` or more of the
        ranking). Kept per (query, sort) while the data is unchanged: page 5 after page 1,
        and the count the date order shares with the relevance order, cost nothing."""
        key = (_key(q), sort)
        gen = self._generation()
        with self._lock:
            got = self._windows.get(key)
            if got is not None and got[3] == hash(gen) and len(got[2]) >= min(need, got[0]):
                self._windows.move_to_end(key)
                return got[0], got[1], got[2]
        # at least FUSE_WINDOW, and more than asked: the next pages come from it too
        k = max(FUSE_WINDOW, min(2 * need, need + 1000))
        with _stage(f"keyword ({sort})"):
            total, exact, hits = self.keyword.window(q, sort, 0, k, bound=COUNT_BOUND)
        with self._lock:
            self._windows[key] = (total, exact, hits, hash(gen))
            while len(self._windows) > WINDOWS:
                self._windows.popitem(last=False)
        return total, exact, hits

    def _semantic_page(self, q: Query, res: Results, offset: int) -> list[tuple[str, float, str]]:
        """Semantic: the neighbours above the floor, by similarity or by date; each says
        whether it also matches the words."""
        sem = self._semantic(q)
        ids = [pid for pid, _ in sem]
        words = self.keyword.matching_ids(q, ids)
        if not words and not self._known_words(q):
            return []  # no paper has any of its words: neighbours would be noise
        res.matched, res.similar = len(words), len(ids) - len(words)
        cosine = dict(sem)
        if res.sort == "date":
            shown_ids = self.keyword.newest(ids, offset, res.per_page)
        else:
            shown_ids = ids[offset : offset + res.per_page]
        return [(pid, cosine[pid], "both" if pid in words else "semantic") for pid in shown_ids]

    def _hybrid_by_date(
        self, q: Query, res: Results, offset: int, want: int
    ) -> list[tuple[str, float, str]]:
        """Hybrid, newest first: the same papers as the relevance order (the keyword matches
        and the similar papers), so the same total: the count is the relevance order's."""
        sem = [pid for pid, _ in self._semantic(q)]
        with _stage("match check"):
            words = self.keyword.matching_ids(q, sem)
        extras = [pid for pid in sem if pid not in words]
        res.matched, res.exact, _ = self._window(q, "relevance", 0)
        res.similar = len(extras)
        if res.matched == 0 and not self._known_words(q):
            res.similar = 0  # no paper has any of its words: neighbours would be noise
            return []
        if not want:
            return []
        with _stage("keyword (date)"):
            _, _, hits = self.keyword.window(q, "date", offset, want, also=extras, count=False)
        sem_set, extra_set = set(sem), set(extras)
        return [
            (h.paper_id, h.score,
             "semantic" if h.paper_id in extra_set else
             ("both" if h.paper_id in sem_set else "keyword"))
            for h in hits
        ]  # fmt: skip

    def _fused(
        self, q: Query, res: Results, offset: int, want: int
    ) -> list[tuple[str, float, str]]:
        """Hybrid: the head is the RRF of the first FUSE_WINDOW keyword results and the
        semantic neighbours above the floor; after it come the remaining keyword matches in
        BM25 order. The window is the same for every page, so paging neither repeats nor skips
        a paper, and every page gives the same total. Semantic hits obey the query's filters
        and exclusions. One keyword ranking serves the head and the tail (`_window`)."""
        sem = [pid for pid, _ in self._semantic(q)]
        # the head's FUSE_WINDOW, and the tail up to this page (plus the neighbours it skips)
        kw_total, exact, kw_hits = self._window(q, "relevance", offset + want + len(sem))
        kw = [h.paper_id for h in kw_hits[:FUSE_WINDOW]]
        if not kw and not self._known_words(q):
            return []  # "zzzqqq": no paper has any of its words; neighbours would be noise
        kw_set, sem_set = set(kw), set(sem)
        beyond = [pid for pid in sem if pid not in kw_set]
        # neighbours that match the words too, ranked beyond the window: not again in the tail
        with _stage("match check"):
            # (a bounded count may be below the window: "more than" is not all of them)
            more = kw_total > len(kw) or not exact
            later = self.keyword.matching_ids(q, beyond) if more else set()
        res.matched, res.exact, res.similar = kw_total, exact, len(beyond) - len(later)
        total = res.matched + res.similar
        with _stage("fusion"):
            head = rrf(kw, sem)
        words = kw_set | later
        src = {pid: ("both" if pid in sem_set else "keyword") if pid in words else "semantic"
               for pid, _ in head}  # fmt: skip
        page = [(pid, s, src[pid]) for pid, s in head[offset : offset + want]]
        more = want - len(page)
        if more > 0 and offset + len(page) < total:
            start = max(0, offset - len(head))  # where this page begins in the tail
            tail = [h for h in kw_hits[FUSE_WINDOW:] if h.paper_id not in later]
            page += [(h.paper_id, h.score, "keyword") for h in tail[start : start + more]]
        return page

    def _semantic(self, q: Query) -> list[tuple[str, float]]:
        """(paper, cosine similarity) of the query's nearest papers that pass the floor and
        the query's filters, best first."""
        with _stage("embed query"):
            vec = self.embedder.embed([q.plain()])[0]
        with _stage("vectors"):
            hits = self.vectors.search(vec, FUSE_WINDOW, floor=self.floor)
            names = self.vectors.paper_ids([d for d, _ in hits])
        sem = [(names[d], c) for d, c in hits if d in names]
        with _stage("filters"):
            allowed = self.keyword.filter_ids(q, [pid for pid, _ in sem])
        return [(pid, c) for pid, c in sem if pid in allowed]

    def _known_words(self, q: Query) -> bool:
        """Whether any word of the query occurs in the corpus (the keyword index's counts)."""
        words = sorted({w.lower() for w in q.words()})
        if not words:
            return False
        with self.store.connect() as conn:
            sql = "SELECT 1 FROM search_df WHERE term IN :w LIMIT 1"
            return bool(driver.rows(conn, sql, {"w": words}))

    # ---- related papers (the [REL] button) -------------------------------------------------

    def keywords(self, paper_ids: Sequence[str]) -> dict[str, list[str]]:
        if not paper_ids:
            return {}
        with self.store.connect() as conn:
            sql = "SELECT paper_id, keywords FROM search_keywords WHERE paper_id IN :ids"
            rows = driver.rows(conn, sql, {"ids": list(paper_ids)})
        return {pid: [k for k in kws.split("; ") if k] for pid, kws in rows}

    def related(
        self,
        paper_id: str,
        k: int = 10,
        *,
        keyword_weight: float | None = None,
        pool: int = RELATED_POOL,
    ) -> list[Result]:
        """Papers about the same thing, by the embedding first: the paper's `pool` nearest
        neighbours and the best matches of a search for its keyphrases, ranked by cosine
        similarity plus `keyword_weight` times how well they match its keyphrases (relative
        to the best match). A paper that merely shares a word ("bilayer", "immunity") needs
        the embedding to agree. Without vectors (semantic search off, or not embedded
        yet): the keyphrase search alone."""
        weight = RELATED_KEYWORD_WEIGHT if keyword_weight is None else keyword_weight
        terms = _phrase_terms(self.keywords([paper_id]).get(paper_id, []))
        vec = self.vectors.vectors([paper_id]).get(paper_id) if self.semantic else None
        kw_ids: list[str] = []
        if terms:
            _, hits = self.keyword.search(Query(groups=[terms]), "relevance", 0, pool + 1)
            kw_ids = [h.paper_id for h in hits if h.paper_id != paper_id]
        if vec is None:
            ranked = [(pid, 1.0 / (rank + 1)) for rank, pid in enumerate(kw_ids[:k])]
            matched = set(kw_ids)
        else:
            cosine = {pid: c for pid, c in self._neighbours(vec, pool, skip=paper_id)}
            # keyphrase matches the neighbours missed, with their own cosine similarity
            missing = [pid for pid in kw_ids if pid not in cosine]
            for pid, v in self.vectors.vectors(missing).items():
                cosine[pid] = float(v @ vec)
            fit = self.keyword.score_ids(terms, list(cosine)) if terms and weight else {}
            best = max(fit.values(), default=0.0) or 1.0
            ranked = sorted(
                ((pid, c + weight * fit.get(pid, 0.0) / best) for pid, c in cosine.items()),
                key=lambda x: (-x[1], x[0]),
            )[:k]
            matched = set(fit)
        found = self.store.papers([pid for pid, _ in ranked])
        return [
            Result(found[pid], s, None, "both" if pid in matched else "semantic")
            for pid, s in ranked
            if pid in found
        ]

    def _neighbours(self, vec: np.ndarray, k: int, skip: str) -> list[tuple[str, float]]:
        """(paper, cosine similarity) of the k papers nearest to `vec`, `skip` left out."""
        hits = self.vectors.search(vec, k + 1)
        names = self.vectors.paper_ids([d for d, _ in hits])
        return [(names[d], c) for d, c in hits if d in names and names[d] != skip][:k]

    # ---- the reader's taste (❤) ------------------------------------------------------------

    def taste(
        self, ids: Sequence[str], keywords: Sequence[str], clicked: Sequence[str]
    ) -> list[tuple[str, float]]:
        """Order `ids` (a listing the reader is looking at) by their preference keywords
        (a keyword query over just these papers) fused with similarity to the papers they
        clicked (cosine to the mean of those embeddings). Unscored papers keep their order."""
        ids = list(dict.fromkeys(ids))[:2000]
        rankings: list[list[str]] = []
        terms = [Term(tuple(w for w in re.findall(r"[^\W_]+", k.lower()))) for k in keywords[:50]]
        terms = [t for t in terms if t.words]
        if terms:
            s = self.keyword.score_ids(terms, ids)
            rankings.append(sorted(s, key=lambda pid: -s[pid]))
        if clicked and self.semantic:
            got = self.vectors.vectors(list(dict.fromkeys(clicked))[:200])
            if got:
                centre = np.mean(np.stack(list(got.values())), axis=0)
                centre /= np.linalg.norm(centre) or 1.0
                page = self.vectors.vectors(ids)
                sims = {pid: float(v @ centre) for pid, v in page.items()}
                rankings.append(sorted(sims, key=lambda pid: -sims[pid]))
        fused = dict(rrf(*rankings))
        order = {pid: i for i, pid in enumerate(ids)}
        return sorted(
            ((pid, fused.get(pid, 0.0)) for pid in ids), key=lambda x: (-x[1], order[x[0]])
        )


__all__ = ["Hit", "Result", "Results", "Searcher", "id_redirect"]
