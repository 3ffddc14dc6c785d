"""Tables. The Alembic migrations in `migrations/` create exactly these; keep them in step."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    Table,
    Text,
)

metadata = MetaData()

# One row per paper, at its latest known version. `id` is the paper's key: its public id
# without version, which names its source (bare for arXiv, `2024.acl-long.1@ACL`; see
# sources/registry.key); every feature's table names papers by this key.
papers = Table(
    "papers",
    metadata,
    Column("id", Text, primary_key=True),
    Column("version", Integer),
    Column("title", Text, nullable=False),
    Column("authors", Text, nullable=False),  # JSON array of names
    Column("abstract", Text, nullable=False),
    Column("categories", Text, nullable=False),  # space-separated, canonical, primary first
    Column("comments", Text),
    Column("journal_ref", Text),
    Column("doi", Text),
    Column("license", Text),
    Column("published", DateTime),  # v1, UTC
    Column("updated", DateTime),  # latest version, UTC
    Column("ingested", DateTime, nullable=False),
    Column("source", Text, nullable=False, server_default="arxiv"),  # its key in sources/
    # The first and latest day its source listed it (arXiv: announcement days), kept by the
    # listings' writer: the search index's dates and the FAQ's priority read these (0002).
    Column("first_listed", Date),
    Column("last_listed", Date),
)

# A paper listed on an announcement day (New York date) in one category, with its announce type.
announcements = Table(
    "announcements",
    metadata,
    Column("category", Text, primary_key=True),
    Column("day", Date, primary_key=True),
    Column("paper_id", Text, primary_key=True),
    Column("kind", SmallInteger, nullable=False),  # records.Kind
)
Index("ix_announcements_paper", announcements.c.paper_id)

# Counts per (category, day), kept in step with announcements: they drive the home page,
# the calendar and previous/next links without scanning announcements.
day_counts = Table(
    "day_counts",
    metadata,
    Column("category", Text, primary_key=True),
    Column("day", Date, primary_key=True),
    Column("total", Integer, nullable=False),
    Column("listed", Integer, nullable=False),  # new + cross: papers first shown that day
)
Index("ix_day_counts_day", day_counts.c.day)

# Small key/value state: harvest checkpoints, import progress, the shared arXiv pace, the
# data generation that invalidates page caches.
state = Table(
    "state",
    metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
)
