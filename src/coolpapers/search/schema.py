"""Search tables (own MetaData; created by the `search` Alembic branch, search_0001 and on).

The full-text index itself is backend-specific and lives only in the migration: an FTS5
virtual table on SQLite, a tsvector column with a GIN index on PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import Column, Date, Integer, LargeBinary, MetaData, SmallInteger, Table, Text

metadata = MetaData()

# One row per paper, kept in step with `papers` by database triggers (same transaction as the
# write; on SQLite a new paper waits in `search_queue` until the indexer adds its row).
# `docid` is a stable integer key: the FTS5 rowid and the vector-index key (the papers table
# has a text primary key, and SQLite may renumber implicit rowids on VACUUM).
# `day`: the first announcement day, else the v1 date (date ranges and date sort).
# `dirty`: text changed since keywords and embedding were computed (`coolpapers index`).
# `fts`: SQLite's FTS5 index holds the current text (0: the indexer adds it, search_0002);
# always 1 on PostgreSQL, where the tsvector is written with the row.
search_docs = Table(
    "search_docs",
    metadata,
    Column("docid", Integer, primary_key=True, autoincrement=True),
    Column("paper_id", Text, nullable=False, unique=True),
    Column("day", Date),
    Column("dirty", SmallInteger, nullable=False, server_default="1"),
    Column("fts", SmallInteger, nullable=False, server_default="0"),
    # search_0004: changes the text index (tantivy) must see, counted by the triggers, and
    # the count it holds; a paper is pending in it while they differ
    Column("ver", Integer, nullable=False, server_default="1"),
    Column("ver_indexed", Integer, nullable=False, server_default="0"),
)

# search_0004: docids of deleted papers, until the text index has dropped them
search_gone = Table("search_gone", metadata, Column("docid", Integer, nullable=False))

# Ten TF-IDF keywords per paper, space-separated phrases joined by "; ".
search_keywords = Table(
    "search_keywords",
    metadata,
    Column("paper_id", Text, primary_key=True),
    Column("keywords", Text, nullable=False),
)

# Document frequencies of keyword terms over the indexed corpus (term "" holds N).
search_df = Table(
    "search_df",
    metadata,
    Column("term", Text, primary_key=True),
    Column("df", Integer, nullable=False),
)

# One embedding per paper (float16 bytes). `seq` grows with every indexing batch so that
# the in-process ANN index of each web worker catches up with only what changed.
search_vectors = Table(
    "search_vectors",
    metadata,
    Column("docid", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, nullable=False, index=True),
    Column("model", Text, nullable=False),
    Column("vec", LargeBinary, nullable=False),
)
