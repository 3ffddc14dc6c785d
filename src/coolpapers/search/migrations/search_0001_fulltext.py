"""search: full-text index (FTS5 | tsvector+GIN), keywords, document frequencies, vectors

The full-text index follows `papers` through database triggers, so every writer (imports,
harvests, on-demand fetches, other processes) keeps it current in the same transaction, with
no code path that could forget it. Keywords and embeddings need Python (a tokenizer, a model):
the triggers mark the paper `dirty` and `coolpapers index` catches up.

Revision ID: search_0001
Revises:
"""

import logging

import sqlalchemy as sa
from alembic import op

revision = "search_0001"
down_revision = None
branch_labels = ("search",)
depends_on = "0001"


def upgrade() -> None:
    op.create_table(
        "search_docs",
        sa.Column("docid", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("paper_id", sa.Text, nullable=False, unique=True),
        sa.Column("day", sa.Date),
        sa.Column("dirty", sa.SmallInteger, nullable=False, server_default="1"),
    )
    op.create_index("ix_search_docs_day", "search_docs", ["day"])
    op.create_index(
        "ix_search_docs_dirty",
        "search_docs",
        ["docid"],
        sqlite_where=sa.text("dirty = 1"),
        postgresql_where=sa.text("dirty = 1"),
    )
    op.create_table(
        "search_keywords",
        sa.Column("paper_id", sa.Text, primary_key=True),
        sa.Column("keywords", sa.Text, nullable=False),
    )
    op.create_table(
        "search_df",
        sa.Column("term", sa.Text, primary_key=True),
        sa.Column("df", sa.Integer, nullable=False),
    )
    op.create_table(
        "search_vectors",
        sa.Column("docid", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("vec", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_search_vectors_seq", "search_vectors", ["seq"])
    if op.get_bind().dialect.name == "postgresql":
        _pg_upgrade()
    else:
        _sqlite_upgrade()


# ---- SQLite: FTS5 with external content (a view: no second copy of the text) --------------

# While a bulk import holds the state key 'search:deferred', the triggers leave the FTS5 index
# alone and the import rebuilds it once at the end (indexer.deferred): 3x faster imports.
_LIVE = "NOT EXISTS (SELECT 1 FROM state WHERE key = 'search:deferred')"

_SQLITE = [
    """CREATE VIEW search_content AS
       SELECT d.docid AS docid, p.title AS title, p.abstract AS abstract, p.authors AS authors
       FROM search_docs d JOIN papers p ON p.id = d.paper_id""",
    # porter over unicode61 with diacritics removed: images = image, Schrödinger = Schrodinger
    """CREATE VIRTUAL TABLE search_fts USING fts5(
         title, abstract, authors, content='search_content', content_rowid='docid',
         tokenize='porter unicode61 remove_diacritics 2')""",
    f"""CREATE TRIGGER search_papers_ai AFTER INSERT ON papers BEGIN
         INSERT OR IGNORE INTO search_docs(paper_id, day, dirty) VALUES (new.id,
           coalesce((SELECT min(day) FROM announcements WHERE paper_id = new.id),
                    date(new.published)), 1);
         INSERT INTO search_fts(rowid, title, abstract, authors)
           SELECT docid, new.title, new.abstract, new.authors
           FROM search_docs WHERE paper_id = new.id AND {_LIVE};
       END""",
    # Re-imports repeat unchanged text: only a real change touches the index.
    f"""CREATE TRIGGER search_papers_au AFTER UPDATE OF title, abstract, authors ON papers
       WHEN old.title IS NOT new.title OR old.abstract IS NOT new.abstract
            OR old.authors IS NOT new.authors BEGIN
         INSERT INTO search_fts(search_fts, rowid, title, abstract, authors)
           SELECT 'delete', docid, old.title, old.abstract, old.authors
           FROM search_docs WHERE paper_id = old.id AND {_LIVE};
         UPDATE search_docs SET dirty = 1 WHERE paper_id = new.id;
         INSERT INTO search_fts(rowid, title, abstract, authors)
           SELECT docid, new.title, new.abstract, new.authors
           FROM search_docs WHERE paper_id = new.id AND {_LIVE};
       END""",
    """CREATE TRIGGER search_papers_au_day AFTER UPDATE OF published ON papers
       WHEN old.published IS NOT new.published BEGIN
         UPDATE search_docs SET day = coalesce(
           (SELECT min(day) FROM announcements WHERE paper_id = new.id), date(new.published))
         WHERE paper_id = new.id;
       END""",
    f"""CREATE TRIGGER search_papers_ad AFTER DELETE ON papers BEGIN
         INSERT INTO search_fts(search_fts, rowid, title, abstract, authors)
           SELECT 'delete', docid, old.title, old.abstract, old.authors
           FROM search_docs WHERE paper_id = old.id AND {_LIVE};
         DELETE FROM search_docs WHERE paper_id = old.id;
       END""",
    """CREATE TRIGGER search_announcements_ai AFTER INSERT ON announcements BEGIN
         UPDATE search_docs SET day = new.day
         WHERE paper_id = new.paper_id AND (day IS NULL OR day > new.day);
       END""",
]


def _sqlite_upgrade() -> None:
    for stmt in _SQLITE:
        op.execute(stmt)
    # papers already stored before this migration
    op.execute(
        """INSERT OR IGNORE INTO search_docs(paper_id, day, dirty)
           SELECT p.id, coalesce((SELECT min(day) FROM announcements a WHERE a.paper_id = p.id),
                                 date(p.published)), 1 FROM papers p"""
    )
    op.execute("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")


# ---- PostgreSQL: a tsvector column + GIN, a text search config that folds accents ---------


def _pg_upgrade() -> None:
    bind = op.get_bind()
    # unaccent lives in one schema per database; find it (or create it in public) and name it
    # explicitly, so that connections with a narrow search_path still reach it.
    try:
        with bind.begin_nested():
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public")
    except Exception as e:  # not permitted or not installed: no accent folding, say so
        logging.getLogger("coolpapers.search").warning(
            "PostgreSQL extension unaccent unavailable (%s): search will not fold accents "
            "(Schrödinger != Schrodinger); `CREATE EXTENSION unaccent` as a superuser fixes it",
            str(e).splitlines()[0],
        )
    ns = bind.exec_driver_sql(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'unaccent'"
    ).scalar()
    op.execute("CREATE TEXT SEARCH CONFIGURATION search_en (COPY = pg_catalog.english)")
    if ns:
        op.execute(
            "ALTER TEXT SEARCH CONFIGURATION search_en ALTER MAPPING FOR "
            f'hword, hword_part, word WITH "{ns}".unaccent, english_stem'
        )
    op.execute("ALTER TABLE search_docs ADD COLUMN doc tsvector")
    op.execute("CREATE INDEX ix_search_docs_doc ON search_docs USING gin (doc)")
    # weights: A title, B abstract, C authors (ti:/abs:/au: filters select by weight).
    # Punctuation becomes a space first, so that words inside URLs, paths and hyphenated
    # compounds are indexed as the words the query parser makes of them (query.py), as
    # SQLite's unicode61 does; PostgreSQL's parser would keep a URL as one token.
    op.execute(
        """CREATE FUNCTION search_words(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
             SELECT regexp_replace(coalesce(t, ''), '[[:punct:]]+', ' ', 'g') $$"""
    )
    op.execute(
        """CREATE FUNCTION search_doc(t text, a text, au text) RETURNS tsvector
           LANGUAGE sql STABLE AS $$
             SELECT setweight(to_tsvector('search_en', search_words(t)), 'A')
                 || setweight(to_tsvector('search_en', search_words(a)), 'B')
                 || setweight(to_tsvector('search_en', search_words(au)), 'C') $$"""
    )
    op.execute(
        """CREATE FUNCTION search_papers_sync() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN
             IF TG_OP = 'DELETE' THEN
               DELETE FROM search_docs WHERE paper_id = OLD.id;
               RETURN OLD;
             END IF;
             IF TG_OP = 'INSERT' THEN
               INSERT INTO search_docs(paper_id, day, dirty, doc) VALUES (NEW.id,
                 coalesce((SELECT min(day) FROM announcements WHERE paper_id = NEW.id),
                          NEW.published::date), 1,
                 search_doc(NEW.title, NEW.abstract, NEW.authors))
               ON CONFLICT (paper_id) DO UPDATE SET dirty = 1, doc = excluded.doc;
               RETURN NEW;
             END IF;
             IF OLD.title IS DISTINCT FROM NEW.title OR OLD.abstract IS DISTINCT FROM NEW.abstract
                OR OLD.authors IS DISTINCT FROM NEW.authors THEN
               UPDATE search_docs SET dirty = 1,
                 doc = search_doc(NEW.title, NEW.abstract, NEW.authors)
               WHERE paper_id = NEW.id;
             END IF;
             IF OLD.published IS DISTINCT FROM NEW.published THEN
               UPDATE search_docs SET day = coalesce(
                 (SELECT min(day) FROM announcements WHERE paper_id = NEW.id),
                 NEW.published::date) WHERE paper_id = NEW.id;
             END IF;
             RETURN NEW;
           END $$"""
    )
    op.execute(
        """CREATE TRIGGER search_papers_sync AFTER INSERT OR UPDATE OR DELETE ON papers
           FOR EACH ROW EXECUTE FUNCTION search_papers_sync()"""
    )
    # TRUNCATE papers fires no row trigger: empty the index with it
    op.execute(
        """CREATE FUNCTION search_papers_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN
             TRUNCATE search_docs, search_keywords, search_df, search_vectors;
             RETURN NULL;
           END $$"""
    )
    op.execute(
        """CREATE TRIGGER search_papers_truncate AFTER TRUNCATE ON papers
           FOR EACH STATEMENT EXECUTE FUNCTION search_papers_truncate()"""
    )
    op.execute(
        """CREATE FUNCTION search_announcements_sync() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN
             UPDATE search_docs SET day = NEW.day
             WHERE paper_id = NEW.paper_id AND (day IS NULL OR day > NEW.day);
             RETURN NEW;
           END $$"""
    )
    op.execute(
        """CREATE TRIGGER search_announcements_sync AFTER INSERT ON announcements
           FOR EACH ROW EXECUTE FUNCTION search_announcements_sync()"""
    )
    op.execute(
        """INSERT INTO search_docs(paper_id, day, dirty, doc)
           SELECT p.id, coalesce((SELECT min(day) FROM announcements a WHERE a.paper_id = p.id),
                                 p.published::date), 1,
                  search_doc(p.title, p.abstract, p.authors) FROM papers p"""
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS search_announcements_sync ON announcements")
        op.execute("DROP TRIGGER IF EXISTS search_papers_sync ON papers")
        op.execute("DROP TRIGGER IF EXISTS search_papers_truncate ON papers")
        op.execute("DROP FUNCTION IF EXISTS search_papers_truncate()")
        op.execute("DROP FUNCTION IF EXISTS search_announcements_sync()")
        op.execute("DROP FUNCTION IF EXISTS search_papers_sync()")
        op.execute("DROP FUNCTION IF EXISTS search_doc(text, text, text)")
        op.execute("DROP FUNCTION IF EXISTS search_words(text)")
        op.execute("DROP TEXT SEARCH CONFIGURATION IF EXISTS search_en")
    else:
        for name in ("ai", "au", "au_day", "ad"):
            op.execute(f"DROP TRIGGER IF EXISTS search_papers_{name}")
        op.execute("DROP TRIGGER IF EXISTS search_announcements_ai")
        op.execute("DROP TABLE IF EXISTS search_fts")
        op.execute("DROP VIEW IF EXISTS search_content")
    for t in ("search_vectors", "search_df", "search_keywords", "search_docs"):
        op.drop_table(t)
