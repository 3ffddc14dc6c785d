"""Shared fixtures: a store on each backend (SQLite file, PostgreSQL schema), real sample data."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from coolpapers.search import textindex
from coolpapers.store import Store

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SAMPLE = ROOT / "src" / "coolpapers" / "data" / "sample"
PG_URL = os.environ.get("COOLPAPERS_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def shared(*parts: str) -> Path:
    """A path in ../shared/, or skip the test with a clear message when it is not there."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"real test material missing: {p} (see ../shared/README.md)")
    return p


def _pg_available() -> bool:
    try:
        with create_engine(PG_URL).connect() as c:
            c.execute(text("select 1"))
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[str]:
    """A private PostgreSQL schema for this test run, dropped at the end."""
    if not _pg_available():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI and not reachable at {PG_URL}")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}")
    name = f"cp_test_{uuid.uuid4().hex[:10]}"
    eng = create_engine(PG_URL)
    with eng.begin() as c:
        c.execute(text(f"CREATE SCHEMA {name}"))
    yield name
    # the text index of this run's schema (search/textindex.py keeps it in the user's cache)
    url = make_url(f"{PG_URL}?options=-csearch_path%3D{name}")
    shutil.rmtree(textindex.default_directory(url) or "/nonexistent", ignore_errors=True)
    with eng.begin() as c:
        c.execute(text(f"DROP SCHEMA {name} CASCADE"))
    eng.dispose()


# The core's tables (store/schema.py), emptied between tests on PostgreSQL's shared schema.
CORE_TABLES = (
    "papers, announcements, day_counts, state, venue_listings, venue_editions, paper_links"
)


def make_store(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Store:
    if backend == "sqlite":
        return Store.open(f"sqlite:///{tmp_path / 'test.db'}")
    schema = request.getfixturevalue("pg_schema")
    url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    store = Store.open(url)
    with store.engine.begin() as c:
        c.execute(text(f"TRUNCATE {CORE_TABLES}"))
    return store


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s = make_store(request.param, tmp_path, request)
    yield s
    s.engine.dispose()


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A SQLite database for code that reads its settings (CLI commands), set in the env."""
    from coolpapers.config import get_settings

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("COOLPAPERS_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(f"sqlite:///{tmp_path / 'test.db'}")
    yield s
    s.engine.dispose()
