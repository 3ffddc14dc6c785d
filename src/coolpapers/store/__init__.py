"""Where papers are kept: SQLAlchemy tables, Alembic migrations, one query interface."""

from coolpapers.store.store import Listed, Store

__all__ = ["Listed", "Store"]
