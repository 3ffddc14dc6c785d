"""What the pages and the API call: search (keyword, semantic, hybrid), related papers, the
reader's-taste (❤) ranking, and keywords. Backend differences stay in the engines."""

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
from coolpapers.search.query import BRANCHES, Query, Term, parse
from coolpapers.search.vectors import VectorIndex
from coolpapers.sources import registry
from coolpapers.sources.base import BadId
from coolpapers.store import Store

log = logging.getLogger("coolpapers.search")
RRF_K = 60  # reciprocal rank fusion constant (Cormack et al. 2009)
MODES = ("hybrid", "keyword", "semantic")
FUSE_WINDOW = 100  # results of each ranking fused into a hybrid result list's head


@dataclass(slots=True)
class Result:
    paper: Paper
    score: float
    snippet: Snippet | None = None
    source: str = "keyword"  # keyword | semantic | both


@dataclass(slots=True)
class Results:
    query: str
    parsed: Query
    sort: str
    mode: str
    page: int
    per_page: int
    total: int = 0
    items: list[Result] = field(default_factory=list)
    redirect: str | None = None

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


class Searcher:
    def __init__(
        self, store: Store, *, semantic: bool = True, embedder: Embedder | None = None
    ) -> None:
        self.store = store
        self.keyword = engine_for(store)
        self.semantic = semantic
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
        None searches both."""
        sort = sort if sort in ("relevance", "date") else "relevance"
        mode = mode if mode in MODES else "hybrid"
        if not self.semantic:
            mode = "keyword"
        page = max(1, page)
        q = parse(query, since, until)
        q.branch = branch if branch in BRANCHES else None
        res = Results(query, q, sort, mode, page, per_page)
        res.redirect = id_redirect(query)
        if res.redirect or q.is_empty:
            return res
        offset = (page - 1) * per_page
        fielded = any(t.field for g in q.groups for t in g)
        use_vectors = mode != "keyword" and sort == "relevance" and q.has_text and not fielded
        if use_vectors and len(self.vectors) == 0:
            use_vectors = False  # nothing embedded yet (`coolpapers index`)
        if not use_vectors:
            res.total, hits = self.keyword.search(q, sort, offset, per_page)
            ranked = [(h.paper_id, h.score, "keyword") for h in hits]
        else:
            ranked, res.total = self._fused(q, mode, offset, per_page)
        found = self.store.papers([pid for pid, _, _ in ranked])
        snips = self.keyword.snippets(q, list(found)) if snippets else {}
        res.items = [
            Result(found[pid], score, snips.get(pid), src)
            for pid, score, src in ranked
            if pid in found
        ]
        return res

    def _fused(
        self, q: Query, mode: str, offset: int, per_page: int
    ) -> tuple[list[tuple[str, float, str]], int]:
        """Hybrid: the head is the RRF of the first FUSE_WINDOW keyword and semantic results;
        after it come the remaining keyword matches in BM25 order. The window is the same for
        every page, so paging neither repeats nor skips a paper, and every page gives the same
        total. Semantic hits obey the query's filters and exclusions."""
        sem = self._semantic(q)
        if mode == "semantic":
            page = sem[offset : offset + per_page]
            return [
                (pid, 1.0 / (RRF_K + offset + i + 1), "semantic") for i, pid in enumerate(page)
            ], len(sem)
        kw_total, kw_hits = self.keyword.search(q, "relevance", 0, FUSE_WINDOW)
        kw = [h.paper_id for h in kw_hits]
        kw_set, sem_set = set(kw), set(sem)
        if not kw and not self._known_words(q):
            return [], 0  # "zzzqqq": no paper has any of its words; neighbours would be noise
        head = rrf(kw, sem)
        extras = [pid for pid in sem if pid not in kw_set]
        # extras that are keyword matches too, ranked beyond the window: not again in the tail
        later = self.keyword.matching_ids(q, extras) if len(kw) == FUSE_WINDOW else set()
        total = kw_total + len(extras) - len(later)
        src = {pid: "both" if pid in kw_set and pid in sem_set else
               ("keyword" if pid in kw_set else "semantic") for pid, _ in head}  # fmt: skip
        page = [(pid, s, src[pid]) for pid, s in head[offset : offset + per_page]]
        want = per_page - len(page)
        if want > 0 and offset + len(page) < total:
            start = max(0, offset - len(head))  # where this page begins in the tail
            _, hits = self.keyword.search(q, "relevance", FUSE_WINDOW, start + want + len(later))
            tail = [h for h in hits if h.paper_id not in later][start : start + want]
            page += [(h.paper_id, h.score, "keyword") for h in tail]
        return page, total

    def _semantic(self, q: Query) -> list[str]:
        vec = self.embedder.embed([q.plain()])[0]
        sem = self._semantic_ids(vec, FUSE_WINDOW)
        allowed = self.keyword.filter_ids(q, sem)
        return [pid for pid in sem if pid in allowed]

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
