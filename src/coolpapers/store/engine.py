"""Engines for the two backends: SQLite (embedded default, WAL) and PostgreSQL (scale path)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, exc

MIGRATIONS = Path(__file__).with_name("migrations")
# Features whose tables live on their own Alembic branch; each keeps its revision files beside
# its code, in `coolpapers/<feature>/migrations/`. A new feature with tables adds its name here.
# Folders, not imports: the core must not load feature code just to migrate.
FEATURES = ("llm", "search")


def version_locations() -> list[Path]:
    """The core's own revisions first, then each feature's folder."""
    package = Path(__file__).parents[1]
    return [MIGRATIONS / "versions", *(package / f / "migrations" for f in FEATURES)]


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            # WAL: readers never block the writer (web workers read while harvest writes).
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA cache_size=-65536")
            cur.execute("PRAGMA mmap_size=268435456")
            # the log is left at its largest after a checkpoint unless told: an import's
            # (Store._bulk) would keep 64 MB on disk for good
            cur.execute("PRAGMA journal_size_limit=16777216")
            cur.close()

        return engine
    engine = create_engine(url, pool_size=5, max_overflow=10)
    _ping_when_idle(engine)
    return engine


# A pooled PostgreSQL connection is pinged before use only when it has sat idle this long.
# SQLAlchemy's pool_pre_ping pings at every checkout: a round trip of ~70 us here, and a
# search page checks a connection out ~10 times (py-spy, PostgreSQL 1M: 6.6 % of a search
# worker's samples in the ping). A connection given back a moment ago was alive a moment ago;
# one that waited longer (a quiet site, a restarted server) is still checked before use.
PING_IDLE = 1.0


def _ping_when_idle(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _idle(_dbapi_conn, record):  # type: ignore[no-untyped-def]
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_conn, record, _proxy):  # type: ignore[no-untyped-def]
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < PING_IDLE:
            return  # new, or given back just now
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as e:
            # the pool drops this connection and checks out another (a new one if need be)
            raise exc.DisconnectionError(f"a pooled connection was dead: {e}") from e


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    # an explicit separator: without one Alembic splits on spaces (a path may hold one) and warns
    cfg.set_main_option("path_separator", "os")
    locations = os.pathsep.join(str(p) for p in version_locations())
    cfg.set_main_option("version_locations", locations.replace("%", "%%"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the database to the latest schema (idempotent, cheap when already there).

    Each feature (core, then FEATURES) keeps its tables on its own Alembic branch, so "heads"."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")
