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
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from markupsafe import Markup, escape
from sqlalchemy import bindparam, text

from coolpapers.records import Paper
from coolpapers.search.embed import Embedder, default_embedder
from coolpapers.search.keyword import MARK_END, MARK_START, Hit, Snippet, engine_for
from coolpapers.search.query import BRANCHES, Query, Term, parse, shown
from coolpapers.search.vectors import VectorIndex
from coolpapers.sources import registry
from coolpapers.sources.base import BadId
from coolpapers.store import Store

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

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def marked(s: str) -> Markup:
    """A snippet with match markers as HTML: the text is escaped first (it is untrusted),
    then the markers, which escaping leaves alone, become <mark>."""
    return Markup(str(escape(s)).replace(MARK_START, "<mark>").replace(MARK_END, "</mark>"))


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


def _unknown_sources(q: Query) -> list[str]:
    """A warning for each `source:` no source here answers to (the filter matches nothing)."""
    known = [src.key for src in registry.all_sources()]
    return [
        f"source:{shown(key)}: no such source here ({', '.join(known)}); no paper matches it."
        for key in q.sources
        if key not in known
    ]


class Searcher:
    def __init__(
        self,
        store: Store,
        *,
        semantic: bool = True,
        embedder: Embedder | None = None,
        floor: float = SIMILARITY_FLOOR,
    ) -> None:
        self.store = store
        self.keyword = engine_for(store)
        self.semantic = semantic
        self.floor = floor
        self._embedder = embedder
        self._vectors: VectorIndex | None = None
        self._lock = threading.Lock()

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
                self._vectors = VectorIndex(self.store)
                self._vectors.refresh(force=True)
            return self._vectors

    def _semantic_ids(self, vec: np.ndarray, k: int, skip: str | None = None) -> list[str]:
        hits = self.vectors.search(vec, k + (1 if skip else 0))
        names = self.vectors.paper_ids([d for d, _ in hits])
        return [names[d] for d, _ in hits if d in names and names[d] != skip][:k]

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
        branch: str | None = None,
    ) -> Results:
        """`branch`: "arxiv" or "venue" keeps to one branch (/arxiv/search, /venue/search);
        None searches both. A sort or mode that is not one is the default, with a warning."""
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
        if not use_vectors:
            res.matched, hits = self.keyword.search(q, sort, offset, per_page)
            ranked = [(h.paper_id, h.score, "keyword") for h in hits]
        elif mode == "semantic":
            ranked = self._semantic_page(q, res, offset)
        elif sort == "date":
            ranked = self._hybrid_by_date(q, res, offset)
        else:
            ranked = self._fused(q, res, offset)
        res.total = res.matched + res.similar
        found = self.store.papers([pid for pid, _, _ in ranked])
        snips = self.keyword.snippets(q, list(found)) if snippets else {}
        res.items = [
            Result(found[pid], score, snips.get(pid), src)
            for pid, score, src in ranked
            if pid in found
        ]
        return res

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

    def _hybrid_by_date(self, q: Query, res: Results, offset: int) -> list[tuple[str, float, str]]:
        """Hybrid, newest first: the same papers as the relevance order (the keyword matches
        and the similar papers), so the same total."""
        sem = [pid for pid, _ in self._semantic(q)]
        words = self.keyword.matching_ids(q, sem)
        extras = [pid for pid in sem if pid not in words]
        total, hits = self.keyword.search(q, "date", offset, res.per_page, also=extras)
        res.matched, res.similar = total - len(extras), len(extras)
        if res.matched == 0 and not self._known_words(q):
            res.similar = 0  # no paper has any of its words: neighbours would be noise
            return []
        sem_set, extra_set = set(sem), set(extras)
        return [
            (h.paper_id, h.score,
             "semantic" if h.paper_id in extra_set else
             ("both" if h.paper_id in sem_set else "keyword"))
            for h in hits
        ]  # fmt: skip

    def _fused(self, q: Query, res: Results, offset: int) -> list[tuple[str, float, str]]:
        """Hybrid: the head is the RRF of the first FUSE_WINDOW keyword results and the
        semantic neighbours above the floor; after it come the remaining keyword matches in
        BM25 order. The window is the same for every page, so paging neither repeats nor skips
        a paper, and every page gives the same total. Semantic hits obey the query's filters
        and exclusions."""
        per_page = res.per_page
        sem = [pid for pid, _ in self._semantic(q)]
        kw_total, kw_hits = self.keyword.search(q, "relevance", 0, FUSE_WINDOW)
        kw = [h.paper_id for h in kw_hits]
        if not kw and not self._known_words(q):
            return []  # "zzzqqq": no paper has any of its words; neighbours would be noise
        kw_set, sem_set = set(kw), set(sem)
        beyond = [pid for pid in sem if pid not in kw_set]
        # neighbours that match the words too, ranked beyond the window: not again in the tail
        later = self.keyword.matching_ids(q, beyond) if kw_total > len(kw) else set()
        res.matched, res.similar = kw_total, len(beyond) - len(later)
        total = res.matched + res.similar
        head = rrf(kw, sem)
        words = kw_set | later
        src = {pid: ("both" if pid in sem_set else "keyword") if pid in words else "semantic"
               for pid, _ in head}  # fmt: skip
        page = [(pid, s, src[pid]) for pid, s in head[offset : offset + per_page]]
        want = per_page - len(page)
        if want > 0 and offset + len(page) < total:
            start = max(0, offset - len(head))  # where this page begins in the tail
            _, hits = self.keyword.search(q, "relevance", FUSE_WINDOW, start + want + len(later))
            tail = [h for h in hits if h.paper_id not in later][start : start + want]
            page += [(h.paper_id, h.score, "keyword") for h in tail]
        return page

    def _semantic(self, q: Query) -> list[tuple[str, float]]:
        """(paper, cosine similarity) of the query's nearest papers that pass the floor and
        the query's filters, best first."""
        vec = self.embedder.embed([q.plain()])[0]
        hits = [(d, c) for d, c in self.vectors.search(vec, FUSE_WINDOW) if c >= self.floor]
        names = self.vectors.paper_ids([d for d, _ in hits])
        sem = [(names[d], c) for d, c in hits if d in names]
        allowed = self.keyword.filter_ids(q, [pid for pid, _ in sem])
        return [(pid, c) for pid, c in sem if pid in allowed]

    def _known_words(self, q: Query) -> bool:
        """Whether any word of the query occurs in the corpus (the keyword index's counts)."""
        words = sorted({w.lower() for w in q.words()})
        if not words:
            return False
        stmt = text("SELECT 1 FROM search_df WHERE term IN :w LIMIT 1").bindparams(
            bindparam("w", expanding=True)
        )
        with self.store.engine.connect() as conn:
            return conn.execute(stmt, {"w": words}).first() is not None

    # ---- related papers (the [REL] button) -------------------------------------------------

    def keywords(self, paper_ids: Sequence[str]) -> dict[str, list[str]]:
        if not paper_ids:
            return {}
        stmt = text(
            "SELECT paper_id, keywords FROM search_keywords WHERE paper_id IN :ids"
        ).bindparams(bindparam("ids", expanding=True))
        with self.store.engine.connect() as conn:
            rows = conn.execute(stmt, {"ids": list(paper_ids)}).all()
        return {pid: [k for k in kws.split("; ") if k] for pid, kws in rows}

    def related(self, paper_id: str, k: int = 10) -> list[Result]:
        """Semantic neighbours fused (RRF) with a keyword search of the paper's keywords."""
        kws = self.keywords([paper_id]).get(paper_id, [])
        terms = [Term(tuple(w.split())) for w in kws]
        kw_ids: list[str] = []
        if terms:
            q = Query(groups=[terms])
            _, hits = self.keyword.search(q, "relevance", 0, 3 * k + 1)
            kw_ids = [h.paper_id for h in hits if h.paper_id != paper_id]
        sem_ids: list[str] = []
        if self.semantic:
            vec = self.vectors.vectors([paper_id]).get(paper_id)
            if vec is not None:
                sem_ids = self._semantic_ids(vec, 3 * k, skip=paper_id)
        fused = rrf(kw_ids, sem_ids)[:k]
        found = self.store.papers([pid for pid, _ in fused])
        return [Result(found[pid], s, None, "both") for pid, s in fused if pid in found]

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


__all__ = ["Hit", "Result", "Results", "Searcher", "id_redirect", "marked"]
