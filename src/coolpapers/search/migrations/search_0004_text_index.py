"""search: what the text index (tantivy, search/textindex.py) has yet to learn

The text index lives outside the database, so the database says what it lacks: `ver` counts a
paper's changes that search sees (text, day, categories; the triggers bump it in the writer's
transaction) and `ver_indexed` is the `ver` the text index holds. A paper is pending while
they differ; a deleted paper leaves its docid in `search_gone` until the index drops it. Both
are read in the reader's own snapshot, so a writer's transaction in flight is invisible to the
check and to the search alike (a change sequence would not be: PostgreSQL commits out of
sequence order). `state['search:index']` names the index the columns describe; a new index
(another directory, a wiped one) rebuilds from every paper and takes the name over.

Revision ID: search_0004
Revises: search_0003
"""

from alembic import op

revision = "search_0004"
down_revision = "search_0003"
branch_labels = None
depends_on = None

_SQLITE_DROP = ("search_papers_au", "search_papers_au_day", "search_papers_ad")
_SQLITE = [
    # search_0002's, and the change counted
    """CREATE TRIGGER search_papers_au AFTER UPDATE OF title, abstract, authors ON papers
       WHEN old.title IS NOT new.title OR old.abstract IS NOT new.abstract
            OR old.authors IS NOT new.authors BEGIN
         INSERT INTO search_fts(search_fts, rowid, title, abstract, authors)
           SELECT 'delete', docid, old.title, old.abstract, old.authors
           FROM search_docs WHERE paper_id = old.id AND fts = 1;
         UPDATE search_docs SET dirty = 1, fts = 0, ver = ver + 1 WHERE paper_id = new.id;
       END""",
    # search_0003's, and the change counted
    """CREATE TRIGGER search_papers_au_day AFTER UPDATE OF published, first_listed
       ON papers WHEN old.published IS NOT new.published
                      OR old.first_listed IS NOT new.first_listed BEGIN
         UPDATE search_docs SET day = coalesce(new.first_listed, date(new.published)),
                                ver = ver + 1
         WHERE paper_id = new.id;
       END""",
    """CREATE TRIGGER search_papers_au_cat AFTER UPDATE OF categories ON papers
       WHEN old.categories IS NOT new.categories BEGIN
         UPDATE search_docs SET ver = ver + 1 WHERE paper_id = new.id;
       END""",
    """CREATE TRIGGER search_papers_ad AFTER DELETE ON papers BEGIN
         INSERT INTO search_fts(search_fts, rowid, title, abstract, authors)
           SELECT 'delete', docid, old.title, old.abstract, old.authors
           FROM search_docs WHERE paper_id = old.id AND fts = 1;
         INSERT INTO search_gone(docid) SELECT docid FROM search_docs WHERE paper_id = old.id;
         DELETE FROM search_docs WHERE paper_id = old.id;
         DELETE FROM search_queue WHERE paper_id = old.id;
       END""",
]

_PG_SYNC = """CREATE OR REPLACE FUNCTION search_papers_sync() RETURNS trigger
  LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP = 'DELETE' THEN
      INSERT INTO search_gone(docid) SELECT docid FROM search_docs WHERE paper_id = OLD.id;
      DELETE FROM search_docs WHERE paper_id = OLD.id;
      RETURN OLD;
    END IF;
    IF TG_OP = 'INSERT' THEN
      INSERT INTO search_docs(paper_id, day, dirty, doc) VALUES (NEW.id,
        coalesce(NEW.first_listed, NEW.published::date), 1,
        search_doc(NEW.title, NEW.abstract, NEW.authors))
      ON CONFLICT (paper_id) DO UPDATE SET dirty = 1, doc = excluded.doc,
        ver = search_docs.ver + 1;
      RETURN NEW;
    END IF;
    IF OLD.title IS DISTINCT FROM NEW.title OR OLD.abstract IS DISTINCT FROM NEW.abstract
       OR OLD.authors IS DISTINCT FROM NEW.authors THEN
      UPDATE search_docs SET dirty = 1, doc = search_doc(NEW.title, NEW.abstract, NEW.authors),
        ver = ver + 1
      WHERE paper_id = NEW.id;
    END IF;
    IF OLD.published IS DISTINCT FROM NEW.published
       OR OLD.first_listed IS DISTINCT FROM NEW.first_listed THEN
      UPDATE search_docs SET day = coalesce(NEW.first_listed, NEW.published::date),
        ver = ver + 1
      WHERE paper_id = NEW.id;
    END IF;
    IF OLD.categories IS DISTINCT FROM NEW.categories THEN
      UPDATE search_docs SET ver = ver + 1 WHERE paper_id = NEW.id;
    END IF;
    RETURN NEW;
  END $$"""

# TRUNCATE papers fires no row trigger: the index's name goes with the rows, so it rebuilds
_PG_TRUNCATE = """CREATE OR REPLACE FUNCTION search_papers_truncate() RETURNS trigger
  LANGUAGE plpgsql AS $$
  BEGIN
    TRUNCATE search_docs, search_keywords, search_df, search_vectors, search_gone;
    DELETE FROM state WHERE key = 'search:index';
    RETURN NULL;
  END $$"""


def upgrade() -> None:
    # every paper is pending (ver 1, indexed 0): the first text index reads them all
    op.execute("ALTER TABLE search_docs ADD COLUMN ver INTEGER NOT NULL DEFAULT 1")
    op.execute("ALTER TABLE search_docs ADD COLUMN ver_indexed INTEGER NOT NULL DEFAULT 0")
    # the pending papers, found without a scan (a search checks for one)
    op.execute(
        "CREATE INDEX ix_search_docs_pending ON search_docs (docid) WHERE ver <> ver_indexed"
    )
    op.execute("CREATE TABLE search_gone (docid INTEGER NOT NULL)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_SYNC)
        op.execute(_PG_TRUNCATE)
        return
    for name in _SQLITE_DROP:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    for stmt in _SQLITE:
        op.execute(stmt)


def downgrade() -> None:
    raise NotImplementedError("search_0004 has no downgrade: restore a backup instead")
