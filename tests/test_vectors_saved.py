"""The HNSW kept between starts and shared by a site's workers (search/vectors.py): built
once, loaded by the next, caught up with the vectors written since, never used for other
vectors. Real papers of the shipped sample, embedded; HNSWs small enough to build in a blink."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from coolpapers.search import vectors
from coolpapers.search.indexer import catch_up
from coolpapers.search.vectors import VectorIndex
from coolpapers.sources.arxiv.files import import_files
from coolpapers.store import Store
from tests.conftest import SAMPLE

DAYS = sorted(SAMPLE.glob("*.jsonl.gz"))


def store_of(path: Path, days: list[Path]) -> Store:
    store = Store.open(f"sqlite:///{path}")
    import_files(store, days)
    catch_up(store)
    return store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = store_of(tmp_path / "a.db", DAYS[:1])
    yield s
    s.engine.dispose()


def ready(store: Store, saved: Path) -> VectorIndex:
    """A worker's vectors with their HNSW (exact_limit low: every index here is an HNSW)."""
    v = VectorIndex(store, exact_limit=10, saved=saved)
    v.refresh(force=True)
    deadline = time.monotonic() + 60
    while v.hnsw is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert v.hnsw is not None
    return v


def own_rank(v: VectorIndex, docid: int) -> int:
    """Where a paper's own vector finds it among its nearest (0: first)."""
    got = [k for k, _ in v.search(v.matrix[v.row[docid]], 10)]
    return got.index(docid) if docid in got else 99


def test_built_once_then_loaded_with_the_same_answers(store: Store, tmp_path: Path) -> None:
    saved = tmp_path / "index"
    first = ready(store, saved)
    assert first.hnsw_from == "built" and (saved / vectors.SAVED_META).exists()
    second = ready(store, saved)
    assert second.hnsw_from == "loaded"
    assert second.hnsw is not None and len(second.hnsw) == len(first.keys) > 300
    assert second.hnsw.expansion_search == vectors.EXPANSION_SEARCH  # not usearch's default
    for i in range(0, len(first.keys), 40):
        q = first.matrix[i]
        assert [k for k, _ in second.search(q, 10)] == [k for k, _ in first.search(q, 10)]
    assert len(list(saved.glob("hnsw-*.usearch"))) == 1


def test_a_loaded_index_catches_up_with_new_and_embedded_again_papers(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved = tmp_path / "index"
    old = ready(store, saved)
    # a paper embedded again (another vector, a later seq), then a new day's papers
    docid = int(old.keys[5])
    other = old.matrix[200].copy()
    with store.engine.begin() as c:
        seq = c.exec_driver_sql("SELECT max(seq) FROM search_vectors").scalar()
        c.exec_driver_sql(
            "UPDATE search_vectors SET vec = ?, seq = ? WHERE docid = ?",
            (vectors.to_bytes(-other), seq + 1, docid),
        )
    import_files(store, DAYS[1:2])
    catch_up(store)
    monkeypatch.setattr(vectors, "STALE_SHARE", 1.0)  # a day doubles this small index
    new = ready(store, saved)
    assert new.hnsw_from == "loaded"
    assert new.hnsw is not None and len(new.hnsw) == len(new.keys) > len(old.keys)
    added = [int(k) for k in new.keys[len(old.keys) :: 25]]
    assert all(own_rank(new, k) <= 2 for k in added), [own_rank(new, k) for k in added]
    # the paper embedded again is found by its new vector, not by its old one
    assert own_rank(new, docid) == 0
    assert docid not in [k for k, _ in new.search(old.matrix[5], 3)]
    # caught up by more than 1 %: saved again, so the next start has less to add
    again = ready(store, saved)
    assert again.hnsw_from == "loaded" and len(again.hnsw or []) == len(new.keys)


def test_an_index_older_than_the_stale_share_is_built_anew(store: Store, tmp_path: Path) -> None:
    saved = tmp_path / "index"
    ready(store, saved)
    import_files(store, DAYS[1:3])
    catch_up(store)
    assert ready(store, saved).hnsw_from == "built"


def test_an_index_of_another_database_is_never_used(store: Store, tmp_path: Path) -> None:
    saved = tmp_path / "index"
    ready(store, saved)
    # the same docids, other papers: a database replaced under the same path
    other = store_of(tmp_path / "b.db", DAYS[3:4])
    try:
        v = ready(other, saved)
        assert v.hnsw_from == "built"
        i = len(v.keys) // 2
        assert own_rank(v, int(v.keys[i])) == 0
    finally:
        other.engine.dispose()


def test_an_unreadable_saved_index_is_built_anew(store: Store, tmp_path: Path) -> None:
    saved = tmp_path / "index"
    ready(store, saved)
    for f in saved.glob("hnsw-*.usearch"):
        f.write_bytes(b"not an index" * 10)
    v = ready(store, saved)
    assert v.hnsw_from == "built" and own_rank(v, int(v.keys[3])) == 0


def test_two_workers_at_once_build_it_once(store: Store, tmp_path: Path) -> None:
    saved = tmp_path / "index"
    got: list[VectorIndex] = []
    threads = [threading.Thread(target=lambda: got.append(ready(store, saved))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(v.hnsw_from for v in got) == ["built", "loaded"]
    q = got[0].matrix[7]
    assert [k for k, _ in got[0].search(q, 5)] == [k for k, _ in got[1].search(q, 5)]


def test_an_unwritable_folder_still_gives_an_index(store: Store, tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("a file where the folder would be")
    v = ready(store, blocked / "index")
    assert v.hnsw_from == "built" and v.saved is None
    assert np.isfinite(v.search(v.matrix[0], 3)[0][1])


def test_a_failure_with_the_saved_index_still_gives_an_index(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved = tmp_path / "index"
    ready(store, saved)

    def broken(*_: object) -> None:
        raise RuntimeError("the database went away while catching up")

    monkeypatch.setattr(VectorIndex, "_load", broken)
    v = ready(store, saved)  # the background thread did not die with it
    assert v.hnsw_from == "built" and own_rank(v, int(v.keys[3])) == 0
