"""Reads of a list of keys, written once per shape and run by the driver itself (issue 15).

A search page reads its papers, their keywords, their index rows and which of a hundred
neighbours pass its filters: 6-8 queries of the form `... WHERE id IN :ids`. Through
SQLAlchemy's `text()` with an expanding parameter each is compiled again for its list
(the statement cache cannot hold a list's placeholders) and its parameters processed: 0.49
ms of CPU for 25 ids where the driver's own execute takes 0.18 (SQLite, real.db, 400 lists;
the papers' Core select 0.51 against 0.32), ~2 ms of a new search page's ~12. Here the same
SQL, with its `:name` parameters, is rewritten once per shape (the statement and the length
of each list) into the driver's placeholders and run on the connection's own DBAPI cursor:
no compilation, no result object (exec_driver_sql's still built its metadata and fetched
row by row: a further 0.04 ms a query), and no type processing, so the rows are the
driver's own tuples (SQLite gives dates as text: callers that read dates convert them, as
store.Store.papers does). An error is raised as SQLAlchemy's, and a connection found lost
is dropped, as SQLAlchemy's own execute does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

# a :name parameter, not a PostgreSQL cast (x::text) nor a colon inside a word ('a:b'), and
# the IN or NOT IN before it, if any
_PARAM = re.compile(
    r"(?:\b(?P<neg>NOT\s+)?(?P<in>IN)\s+)?(?<![:\w]):(?P<name>[A-Za-z_]\w*)", re.IGNORECASE
)
# an empty list: a subquery of no rows, so that IN is false and NOT IN true, as for ()
_NONE = "(SELECT NULL WHERE 1 = 0)"
WHOLE, ARRAY = -1, -2  # a placeholder for a parameter as it is, for a list as one array

Order = tuple[tuple[str, int], ...]  # each placeholder's parameter, and its item (or the above)


@lru_cache(maxsize=4096)
def _rewrite(sql: str, qmark: bool, lengths: tuple[tuple[str, int], ...]) -> tuple[str, Order]:
    """`sql` in the driver's positional placeholders (`?` for sqlite3, `%s` for psycopg).
    A list parameter after IN is, on SQLite, a parenthesised list of its items; on
    PostgreSQL one array (`= ANY(%s)`, `<> ALL(%s)`), so that the statement is the same
    text whatever the list's length and psycopg prepares it once (a list's length each was
    a new statement to parse and plan: two thirds of a search page's executions)."""
    ph = "?" if qmark else "%s"
    if not qmark and _PARAM.search(sql):
        # a literal % (LIKE 'x%') for the format paramstyle; a statement with no parameters
        # goes to the driver as it is
        sql = sql.replace("%", "%%")
    lists = dict(lengths)
    order: list[tuple[str, int]] = []

    def sub(m: re.Match[str]) -> str:
        name = m["name"]
        n = lists.get(name)
        before = m.group(0)[: m.start("name") - 1 - m.start()]  # "IN ", "NOT IN " or ""
        if n is None:
            order.append((name, WHOLE))
            return before + ph
        if n == 0:
            return before + _NONE
        if m["in"] and not qmark:
            order.append((name, ARRAY))
            return ("<> ALL" if m["neg"] else "= ANY") + f"({ph})"
        order.extend((name, i) for i in range(n))
        return before + "(" + ", ".join([ph] * n) + ")"

    return _PARAM.sub(sub, sql), tuple(order)


def rows(conn: Connection, sql: str, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """The rows of `sql`, with `:name` parameters from `params`; a list or tuple is an IN
    list (`x IN :ids`). Rows are the driver's tuples (see the module's note)."""
    lengths = tuple(sorted((k, len(v)) for k, v in params.items() if isinstance(v, list | tuple)))
    stmt, order = _rewrite(sql, conn.dialect.paramstyle == "qmark", lengths)
    args = tuple(
        params[k] if i == WHOLE else list(params[k]) if i == ARRAY else params[k][i]
        for k, i in order
    )
    raw = conn.connection.dbapi_connection
    assert raw is not None, "a closed connection"
    cur = raw.cursor()
    dbapi = conn.dialect.loaded_dbapi
    try:
        if args:
            cur.execute(stmt, args)
        else:  # no parameters: the statement as it is (psycopg reads no % in it)
            cur.execute(stmt)
        return cur.fetchall()  # type: ignore[no-any-return]
    except dbapi.Error as e:
        # as SQLAlchemy would: its own exception, and a lost connection not used again
        lost = conn.dialect.is_disconnect(e, raw, cur)
        if lost:
            conn.invalidate(e)
        raise DBAPIError.instance(
            stmt, args, e, dbapi.Error, connection_invalidated=lost, dialect=conn.dialect
        ) from e
    finally:
        cur.close()


def column(conn: Connection, sql: str, params: Mapping[str, Any]) -> list[Any]:
    """The first column of `rows`."""
    return [r[0] for r in rows(conn, sql, params)]


def as_date(v: date | str) -> date:
    """A DATE column's value: a date from psycopg, ISO text from SQLite."""
    return v if isinstance(v, date) else date.fromisoformat(v)


def as_datetime(v: datetime | str | None) -> datetime | None:
    """A DATETIME column's value: a datetime from psycopg, text from SQLite (as SQLAlchemy
    writes it there: '2024-05-01 17:59:59.000000')."""
    return v if v is None or isinstance(v, datetime) else datetime.fromisoformat(v)
