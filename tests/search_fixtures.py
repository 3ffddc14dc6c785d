"""Fixtures for the search tests: the whole shipped real sample (8 days, 3,513 papers),
imported and indexed once per backend and module, because embedding takes seconds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from coolpapers.search.indexer import catch_up
from coolpapers.search.service import Searcher
from coolpapers.sources.arxiv.files import import_files
from coolpapers.store import Store
from tests.conftest import CORE_TABLES, PG_URL, SAMPLE


def open_clean(backend: str, tmp: Path, request: pytest.FixtureRequest) -> Store:
    if backend == "sqlite":
        return Store.open(f"sqlite:///{tmp / 'search.db'}")
    schema = request.getfixturevalue("pg_schema")
    store = Store.open(f"{PG_URL}?options=-csearch_path%3D{schema}")
    with store.engine.begin() as c:
        # the search tables follow (a TRUNCATE trigger on papers empties them)
        c.execute(text(f"TRUNCATE {CORE_TABLES}"))
    return store


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def indexed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Searcher]:
    store = open_clean(request.param, tmp_path_factory.mktemp("search"), request)
    import_files(store, sorted(SAMPLE.glob("*.jsonl.gz")))
    catch_up(store)
    yield Searcher(store)
    if request.param == "postgresql":
        with store.engine.begin() as c:
            c.execute(text(f"TRUNCATE {CORE_TABLES}"))
    store.engine.dispose()
