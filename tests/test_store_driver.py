"""store/driver.py: reads of a list of keys run by the driver answer what SQLAlchemy's
expanding parameters answered, on both backends, and papers read that way are the same
papers (dates included: SQLite gives them as text)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import bindparam, select, text
from sqlalchemy.exc import DBAPIError

from coolpapers.records import Batch, Paper
from coolpapers.store import Store, driver
from coolpapers.store.schema import papers
from coolpapers.store.store import _paper


def _paper_of(n: int, **kw: object) -> Paper:
    return Paper(
        id=f"2401.{n:05d}",
        version=1,
        title=f"Paper {n} at 100% (50%_off)",
        authors=["Ada Lovelace", "Émile Borel"],
        abstract="Our method: a::b casts and :colons in text.",
        categories=["cs.LG", "stat.ML"],
        **kw,  # type: ignore[arg-type]
    )


def test_lists_are_read_as_sqlalchemy_read_them(store: Store) -> None:
    when = datetime(2024, 1, 5, 17, 59, 59, 120000)
    store.write(
        Batch(
            papers=[
                _paper_of(n, published=when if n % 2 else None, updated=when) for n in range(1, 8)
            ]
        )
    )
    ids = [f"2401.{n:05d}" for n in (1, 2, 3, 99)]
    with store.connect() as conn:
        old = {
            r["id"]: _paper(r)
            for r in conn.execute(select(papers).where(papers.c.id.in_(ids))).mappings()
        }
    new = store.papers(ids)
    assert new == old and sorted(new) == ids[:3]
    assert new["2401.00001"].published == when and new["2401.00002"].published is None
    assert isinstance(new["2401.00002"].updated, datetime)

    sql = "SELECT id FROM papers WHERE id IN :ids AND title LIKE :t AND id NOT IN :no"
    stmt = text(sql).bindparams(bindparam("ids", expanding=True), bindparam("no", expanding=True))
    a, b, c = ids[:3]
    for params, want in (
        ({"ids": ids, "t": "%100%%", "no": [b]}, [a, c]),  # a literal % in a parameter
        ({"ids": tuple(ids), "t": "%", "no": (c,)}, [a, b]),
        ({"ids": ids, "t": "Paper%", "no": []}, [a, b, c]),  # NOT IN nothing: every row
        ({"ids": [], "t": "%", "no": ids}, []),  # IN nothing: no row
    ):
        with store.connect() as conn:
            assert sorted(driver.column(conn, sql, params)) == want, params
            if params["ids"] and params["no"]:  # (SQLAlchemy's empty list fails on psycopg)
                assert sorted(conn.execute(stmt, params).scalars()) == want
    # numbers, and one statement whatever the list's length on PostgreSQL (an array)
    years = "SELECT id FROM papers WHERE version IN :v AND id IN :ids ORDER BY id"
    with store.connect() as conn:
        assert driver.column(conn, years, {"v": [1, 2], "ids": ids}) == ids[:3]
        assert driver.column(conn, years, {"v": (2, 3, 4), "ids": ids}) == []
    shapes = {driver._rewrite(years, store.dialect == "sqlite", ((k, n), ("v", 1)))[0]
              for k, n in (("ids", 1), ("ids", 4), ("ids", 9))}  # fmt: skip
    assert len(shapes) == (1 if store.dialect == "postgresql" else 3)
    # a literal % in a statement with no parameter at all
    with store.connect() as conn:
        assert driver.rows(conn, "SELECT count(*) FROM papers WHERE title LIKE '%100%'", {}) == [
            (7,)
        ]
    # a literal % and a cast in the statement itself, beside a parameter
    cast = "::text" if store.dialect == "postgresql" else ""
    sql = f"SELECT id{cast} FROM papers WHERE title LIKE '%100%%' AND id IN :ids ORDER BY id"
    with store.connect() as conn:
        assert driver.column(conn, sql, {"ids": ids}) == ids[:3]


def test_an_error_is_sqlalchemys(store: Store) -> None:
    """A failing statement raises as SQLAlchemy raises (the site's handlers know its
    errors), and the connection is still usable after it."""
    with store.connect() as conn, pytest.raises(DBAPIError):
        driver.rows(conn, "SELECT no_such_column FROM papers WHERE id IN :ids", {"ids": ["x"]})
    with store.connect() as conn:
        assert driver.rows(conn, "SELECT id FROM papers WHERE id IN :ids", {"ids": ["x"]}) == []


def test_a_lost_connection_is_dropped(store: Store) -> None:
    """A connection the server lost mid-use raises SQLAlchemy's error marked as such and is
    not handed out again: the next read gets a live one."""
    if store.dialect != "postgresql":
        pytest.skip("SQLite has no connection to lose")
    import psycopg

    sql = "SELECT id FROM papers WHERE id IN :ids"
    url = store.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with store.reading(), store.connect() as conn:
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with psycopg.connect(url, autocommit=True) as k:
            k.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with pytest.raises(DBAPIError) as lost:
            driver.rows(conn, sql, {"ids": ["x"]})
    assert lost.value.connection_invalidated
    for _ in range(3):  # the pool's other connections and new ones: all alive
        with store.reading(), store.connect() as conn:
            assert driver.rows(conn, sql, {"ids": ["x"]}) == []


def test_dates_are_read_as_dates() -> None:
    assert driver.as_date("2024-02-29") == date(2024, 2, 29)
    assert driver.as_date(date(2024, 2, 29)) == date(2024, 2, 29)
    assert driver.as_datetime("2024-05-01 17:59:59.000000") == datetime(2024, 5, 1, 17, 59, 59)
    assert driver.as_datetime("2024-05-01T17:59:59") == datetime(2024, 5, 1, 17, 59, 59)
    assert driver.as_datetime(None) is None
