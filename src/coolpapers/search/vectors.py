"""Nearest neighbours over the stored embeddings, held in each web worker's memory.

Vectors live in the database (search_vectors, float16) on both backends; each worker keeps a
copy that catches up by `seq` (only the rows written since its last look). Up to
`EXACT_LIMIT` papers an exact scan (one matrix-vector product: ~3 ms for 70k papers) answers at
once, with nothing to build at start-up; above it a usearch HNSW index is built in a background
thread (minutes for a million papers on 2 cores) and answers in about a millisecond once ready.
pgvector would keep the index inside PostgreSQL, but it is not installable on every host (it was
not on the one this was built on), so PostgreSQL uses the same in-process index.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

import numpy as np
from sqlalchemy import bindparam, text
from usearch.index import Index

from coolpapers.search.embed import DIM
from coolpapers.store import Store

log = logging.getLogger("coolpapers.search")
REFRESH_EVERY = 5.0  # seconds between checks for new vectors
EXACT_LIMIT = 200_000  # papers answered by an exact scan; an HNSW index above


def to_bytes(v: np.ndarray) -> bytes:
    return v.astype(np.float16).tobytes()


def from_bytes(b: bytes) -> np.ndarray:
    return np.frombuffer(b, dtype=np.float16).astype(np.float32)


def new_hnsw(dim: int = DIM) -> Index:
    # cosine over float16 storage, 16 links per node: recall ~0.99 at top-10 here. A search
    # looks at 128 candidates (usearch's default is 64): near-duplicate abstracts sit so close
    # together that 64 sometimes missed a paper's own vector among its twins.
    return Index(ndim=dim, metric="cos", dtype="f16", connectivity=16, expansion_search=128)


class VectorIndex:
    def __init__(self, store: Store, dim: int = DIM, exact_limit: int = EXACT_LIMIT) -> None:
        self.store = store
        self.dim = dim
        self.exact_limit = exact_limit
        self.keys = np.zeros(0, dtype=np.int64)
        self.matrix = np.zeros((0, dim), dtype=np.float32)
        self.row: dict[int, int] = {}
        # each row's paper id, read with its vector: a search names its neighbours without a
        # query (it was one of a new search's ~15 statements)
        self.names: list[str] = []
        self.seq = 0
        self.hnsw: Index | None = None
        self._building = False
        self._checked = 0.0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.keys)

    def refresh(self, force: bool = False) -> int:
        """Load the vectors written since the last refresh; returns how many."""
        now = time.monotonic()
        if not force and now - self._checked < REFRESH_EVERY:
            return 0
        with self._lock:
            self._checked = now
            with self.store.engine.connect() as conn:
                rows = conn.execute(
                    text(
                        "SELECT v.docid, v.seq, v.vec, d.paper_id FROM search_vectors v "
                        "JOIN search_docs d ON d.docid = v.docid WHERE v.seq > :s ORDER BY v.seq"
                    ),
                    {"s": self.seq},
                ).all()
            if not rows:
                return 0
            new_keys, new_vecs = [], []
            for docid, _seq, blob, paper_id in rows:
                v = from_bytes(blob)
                if docid in self.row:  # re-embedded paper: replace in place
                    self.matrix[self.row[docid]] = v
                    self.names[self.row[docid]] = paper_id
                else:
                    self.row[docid] = len(self.keys) + len(new_keys)
                    new_keys.append(docid)
                    new_vecs.append(v)
                    self.names.append(paper_id)
            if new_keys:
                self.keys = np.concatenate([self.keys, np.array(new_keys, dtype=np.int64)])
                self.matrix = np.concatenate([self.matrix, np.stack(new_vecs)])
            self.seq = max(r[1] for r in rows)
            if self.hnsw is not None:
                keys = np.array([r[0] for r in rows], dtype=np.uint64)
                known = [k for k in keys.tolist() if self.hnsw.contains(k)]
                if known:
                    self.hnsw.remove(known)
                self.hnsw.add(keys, np.stack([from_bytes(r[2]) for r in rows]))
            elif len(self.keys) > self.exact_limit and not self._building:
                self._building = True
                threading.Thread(target=self._build, daemon=True, name="hnsw").start()
            return len(rows)

    def _build(self) -> None:
        t = time.perf_counter()
        with self._lock:
            keys, matrix = self.keys.copy(), self.matrix.copy()
        index = new_hnsw(self.dim)
        index.add(keys.astype(np.uint64), matrix)
        with self._lock:  # vectors that arrived meanwhile
            extra = self.keys[len(keys) :]
            if len(extra):
                index.add(extra.astype(np.uint64), self.matrix[len(keys) :])
            self.hnsw = index
        log.info("search: HNSW of %d vectors built in %.0f s", len(index), time.perf_counter() - t)

    def search(
        self, vec: np.ndarray, k: int, floor: float | None = None
    ) -> list[tuple[int, float]]:
        """(docid, cosine similarity) of the k nearest, best first; with `floor`, only
        those at least that similar."""
        self.refresh()
        if len(self.keys) == 0:
            return []
        k = min(k, len(self.keys))
        hnsw = self.hnsw
        if hnsw is not None:
            m = hnsw.search(vec.astype(np.float32), k)
            hits = [(int(key), 1.0 - float(d)) for key, d in zip(m.keys, m.distances, strict=True)]
            return hits if floor is None else [h for h in hits if h[1] >= floor]
        sims = self.matrix @ vec.astype(np.float32)
        # Above a floor, few papers qualify (of 70k, for 600 real titles and keywords: a
        # median of 9-18, p90 155-270, at most ~4,000): one comparison finds them, and only
        # they are ranked. A partition of every similarity held the GIL ~0.5 ms a search at
        # 70k papers (py-spy --gil).
        top = np.flatnonzero(sims >= floor) if floor is not None else np.arange(len(sims))
        if k < len(top):
            top = top[np.argpartition(sims[top], len(top) - k)[len(top) - k :]]
        top = top[np.argsort(-sims[top], kind="stable")]
        return [(int(self.keys[i]), float(sims[i])) for i in top]

    def vectors(self, paper_ids: Sequence[str]) -> dict[str, np.ndarray]:
        if not paper_ids:
            return {}
        stmt = text(
            "SELECT d.paper_id, v.vec FROM search_vectors v JOIN search_docs d "
            "ON d.docid = v.docid WHERE d.paper_id IN :ids"
        ).bindparams(bindparam("ids", expanding=True))
        with self.store.engine.connect() as conn:
            return {pid: from_bytes(b) for pid, b in conn.execute(stmt, {"ids": list(paper_ids)})}

    def paper_ids(self, docids: Sequence[int]) -> dict[int, str]:
        """docid -> paper id, of those held (as read with their vectors)."""
        row, names = self.row, self.names
        return {d: names[row[d]] for d in docids if d in row}
