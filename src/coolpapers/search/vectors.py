"""Nearest neighbours over the stored embeddings, held in each web worker's memory.

Vectors live in the database (search_vectors, float16) on both backends; each worker keeps a
copy that catches up by `seq` (only the rows written since its last look). Up to
`EXACT_LIMIT` papers an exact scan (one matrix-vector product) answers at once, with nothing to
build at start-up; above it a usearch HNSW index is built in a background thread (15 s for 70k
papers, minutes for a million on 2 cores; the exact scan answers meanwhile) and answers in a
fraction of a millisecond once ready.
pgvector would keep the index inside PostgreSQL, but it is not installable on every host (it was
not on the one this was built on), so PostgreSQL uses the same in-process index.

A built HNSW is saved beside the text index (`saved`, hnsw.json naming the file), so that a
restart, and every other worker of the site, loads it in seconds and adds only the vectors
written since, instead of building it again: each worker built its own, on a core of its own,
~10 min at 1M papers here, while searches shared the cores with the builds. One worker builds
at a time (a lock file); the others wait for it and load what it saved. A saved index is used
only if the vectors it holds are the database's (a sample is compared): a database replaced
under the same path gets a new build.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from sqlalchemy import bindparam, text
from usearch.index import Index

from coolpapers.search.embed import DIM
from coolpapers.store import Store

log = logging.getLogger("coolpapers.search")
REFRESH_EVERY = 5.0  # seconds between checks for new vectors
# Papers answered by an exact scan; an HNSW index above. The scan reads the whole float32
# matrix for every search: at 70k papers 4-5 ms of a core (memory-bound), a quarter of a new
# search page's CPU under 32 clients, where the HNSW's 100 nearest take ~1 ms with the same
# known-item figures (bench/search.py --known-item). At 20k the scan costs ~1 ms.
EXACT_LIMIT = 20_000


def to_bytes(v: np.ndarray) -> bytes:
    return v.astype(np.float16).tobytes()


def from_bytes(b: bytes) -> np.ndarray:
    return np.frombuffer(b, dtype=np.float16).astype(np.float32)


# A search looks at 128 candidates (usearch's default is 64): near-duplicate abstracts sit so
# close together that 64 sometimes missed a paper's own vector among its twins.
EXPANSION_SEARCH = 128
SAVED_META = "hnsw.json"  # in the `saved` folder: which file holds the index, up to which seq
# A saved index older than this share of the vectors (written since it was saved) is built
# anew rather than caught up: adding to an HNSW costs as much per vector as building one.
STALE_SHARE = 0.2
CHECKED = 64  # vectors of a loaded index compared with the database's
# Vectors added to a built index (a catch-up, new papers while serving) go in on one thread.
# usearch's concurrent insertion into an existing graph left one or two of 478 added vectors
# unreachable, even by their own vector, in about half the trials (843 real papers); on one
# thread, none in 40. A whole build keeps every core: at 70k its own-vector recall is the same
# either way (99.7-99.8 % top-1), in 16-20 s instead of 34-38.
ADD_THREADS = 1


def new_hnsw(dim: int = DIM) -> Index:
    # cosine over bfloat16 storage, 16 links per node: recall ~0.99 at top-10 here. bf16
    # rather than f16 (the database's): the same memory and recall, at 70k papers 0.56-0.61
    # ms a search of 100 against 0.84-0.92 (the HNSW was 8.5 % of a search process's CPU
    # under load) and a build of 13-15 s against 18; similarities
    # within 0.0007 of the exact ones (300 real vectors with noise, against the exact scan).
    # An index saved with f16 still loads (the file says its type).
    return Index(
        ndim=dim, metric="cos", dtype="bf16", connectivity=16, expansion_search=EXPANSION_SEARCH
    )


class VectorIndex:
    def __init__(
        self,
        store: Store,
        dim: int = DIM,
        exact_limit: int = EXACT_LIMIT,
        saved: Path | None = None,
    ) -> None:
        self.store = store
        self.dim = dim
        self.exact_limit = exact_limit
        self.saved = saved  # the folder where the HNSW is kept between starts (None: never)
        self.hnsw_from = ""  # "built" or "loaded" once the HNSW is ready (logs and tests)
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
                self.hnsw.add(keys, np.stack([from_bytes(r[2]) for r in rows]), threads=ADD_THREADS)
            elif len(self.keys) > self.exact_limit and not self._building:
                self._building = True
                threading.Thread(target=self._build, daemon=True, name="hnsw").start()
            return len(rows)

    def _build(self) -> None:
        t = time.perf_counter()
        with self._lock:
            keys, matrix, seq = self.keys.copy(), self.matrix.copy(), self.seq
        with self._saving():  # another worker building: wait, then load what it saved
            try:
                index = self._load(keys, matrix, seq)
            except Exception:  # whatever went wrong with a saved index, this one is built
                log.exception("search: the saved HNSW in %s could not be used", self.saved)
                index = None
            how = "loaded"
            if index is None:
                index, how = new_hnsw(self.dim), "built"
                index.add(keys.astype(np.uint64), matrix)
                self._save(index, seq)
        with self._lock:  # vectors that arrived meanwhile
            extra = self.keys[len(keys) :]
            if len(extra):
                index.add(extra.astype(np.uint64), self.matrix[len(keys) :], threads=ADD_THREADS)
            self.hnsw, self.hnsw_from = index, how
        log.info(
            "search: HNSW of %d vectors %s in %.0f s", len(index), how, time.perf_counter() - t
        )

    # ---- the saved index ---------------------------------------------------------------------

    @contextlib.contextmanager
    def _saving(self) -> Iterator[None]:
        """Held while this worker loads or builds: one worker builds at a time."""
        if self.saved is None:
            yield
            return
        try:
            self.saved.mkdir(parents=True, exist_ok=True)
            lock = (self.saved / "hnsw.lock").open("a")
        except OSError as e:
            log.warning("search: cannot keep the HNSW in %s (%s): built here only", self.saved, e)
            self.saved = None
            yield
            return
        with lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield  # closing the file releases the lock

    def _load(self, keys: np.ndarray, matrix: np.ndarray, seq: int) -> Index | None:
        """The saved index, with the vectors written since it was saved; None when there is
        none, it is not of these vectors, or so old that building anew is as quick."""
        if self.saved is None:
            return None
        try:
            meta = json.loads((self.saved / SAVED_META).read_text())
            path = self.saved / str(meta["file"])
            saved_seq, dim = int(meta["seq"]), int(meta["dim"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if dim != self.dim:
            return None
        try:
            index = Index.restore(str(path))
        except Exception as e:  # usearch's errors are ValueError and RuntimeError so far
            log.warning("search: the saved HNSW %s is unreadable (%s): built anew", path, e)
            return None
        if index is None or index.ndim != self.dim:
            return None
        index.expansion_search = EXPANSION_SEARCH
        # written since it was saved: new papers, and papers embedded again (replaced)
        with self.store.engine.connect() as conn:
            again = conn.execute(
                text("SELECT docid FROM search_vectors WHERE seq > :a AND seq <= :b"),
                {"a": saved_seq, "b": seq},
            ).scalars()
            again_keys = np.fromiter(again, dtype=np.int64)
        held = index.contains(keys.astype(np.uint64))
        catch_up = np.union1d(keys[~held], again_keys)
        if len(catch_up) > STALE_SHARE * len(keys):
            return None
        if not self._same_vectors(index, keys[held], matrix[held], set(again_keys.tolist())):
            log.warning("search: the saved HNSW in %s holds other vectors: built anew", self.saved)
            return None
        # the rows of this worker's copy (a docid keeps its row; rows added since are not in it)
        rows = [r for k in catch_up.tolist() if (r := self.row.get(k, len(keys))) < len(keys)]
        if len(catch_up):
            replaced = catch_up[index.contains(catch_up.astype(np.uint64))]
            if len(replaced):
                index.remove(replaced.astype(np.uint64))
        if rows:
            index.add(keys[rows].astype(np.uint64), matrix[rows], threads=ADD_THREADS)
        if len(rows) > 0.01 * len(keys):
            self._save(index, seq)  # the next start catches up less
        return index

    def _same_vectors(
        self, index: Index, keys: np.ndarray, matrix: np.ndarray, skip: set[int]
    ) -> bool:
        """A sample of the saved vectors equals the database's (float16 in both)."""
        if not len(keys):
            return True
        picks = np.linspace(0, len(keys) - 1, num=min(CHECKED, len(keys)), dtype=np.int64)
        picks = np.array([i for i in picks if int(keys[i]) not in skip], dtype=np.int64)
        if not len(picks):
            return True
        found = list(index.get(keys[picks].astype(np.uint64), dtype=np.float32))
        if any(v is None for v in found):
            return False
        got, want = np.stack(found).astype(np.float32), matrix[picks]
        cos = (got * want).sum(axis=1) / (
            np.linalg.norm(got, axis=1) * np.linalg.norm(want, axis=1) + 1e-12
        )
        return bool(np.all(cos > 0.999))

    def _save(self, index: Index, seq: int) -> None:
        """Written under a new name, then named in SAVED_META: a worker loading meanwhile
        reads the old file or the new one, whole. Older files are removed."""
        if self.saved is None:
            return
        name = f"hnsw-{uuid.uuid4().hex[:12]}.usearch"
        try:
            index.save(str(self.saved / (name + ".tmp")))
            os.replace(self.saved / (name + ".tmp"), self.saved / name)
            meta = {"file": name, "seq": seq, "dim": self.dim, "size": len(index)}
            (self.saved / (SAVED_META + ".tmp")).write_text(json.dumps(meta))
            os.replace(self.saved / (SAVED_META + ".tmp"), self.saved / SAVED_META)
        except OSError as e:
            log.warning("search: the HNSW could not be saved in %s: %s", self.saved, e)
            return
        for old in self.saved.glob("hnsw-*.usearch*"):
            if old.name != name:
                old.unlink(missing_ok=True)

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
            # with a floor, a radius: the search gives up on what is farther (400 real
            # queries at 70k: the same neighbours above the floor, 0.48 ms against 0.67)
            radius = np.inf if floor is None else 1.0 - floor
            m = hnsw.search(vec.astype(np.float32), k, radius)
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
        with self.store.connect() as conn:
            return {pid: from_bytes(b) for pid, b in conn.execute(stmt, {"ids": list(paper_ids)})}

    def paper_ids(self, docids: Sequence[int]) -> dict[int, str]:
        """docid -> paper id, of those held (as read with their vectors)."""
        row, names = self.row, self.names
        return {d: names[row[d]] for d in docids if d in row}
