"""search: SQLite's full-text index catches up after writes instead of inside them

search_0001 kept FTS5 and `search_docs` current from triggers, in the writer's transaction:
porter-stemming every title and abstract, and four index updates per new paper, cost an import
two thirds of its speed (70k daily records: 5,900/s against 18,500/s with no trigger). Now a
new paper only joins `search_queue` (an append to a table with no index), and a flag `fts`
says whether FTS5 holds a paper's current text; `search.indexer.catch_up_fulltext` moves the
queue into `search_docs` and FTS5 in batches (serve does it in the background, `coolpapers
index` on demand). A changed or deleted paper still leaves FTS5
at once, from the trigger, because removing an external-content row needs the OLD text,
which only the trigger sees. PostgreSQL is unchanged (its tsvector is written with the row):
it gets the column, always 1.

Revision ID: search_0002
Revises: search_0001
"""

from alembic import op

revision = "search_0002"
down_revision = "search_0001"
branch_labels = None
depends_on = None

_VIEW = """CREATE VIEW search_content AS
    SELECT d.docid AS docid, p.title AS title, p.abstract AS abstract, p.authors AS authors
    FROM search_docs d JOIN papers p ON p.id = d.paper_id {where}"""
_OLD_TRIGGERS = ("search_papers_ai", "search_papers_au", "search_papers_ad")

_TRIGGERS = [
    # a new paper only joins the queue: an append to a table with no index
    """CREATE TRIGGER search_papers_ai AFTER INSERT ON papers BEGIN
         INSERT INTO search_queue(paper_id) VALUES (new.id);
       END""",
    # Re-imports repeat unchanged text: only a real change touches the index.
    """CREATE TRIGGER search_papers_au AFTER UPDATE OF title, abstract, authors ON papers
       WHEN old.title IS NOT new.title OR old.abstract IS NOT new.abstract
            OR old.authors IS NOT new.authors BEGIN
         INSERT INTO search_fts(search_fts, rowid, title, abstract, authors)
           SELECT 'delete', docid, old.title, old.abstract, old.authors
           FROM search_docs WHERE paper_id = old.id AND fts = 1;
         UPDATE search_docs SET dirty = 1, fts = 0 WHERE paper_id = new.id;
       END""",
    """CREATE TRIGGER search_papers_ad AFTER DELETE ON papers BEGIN
         INSERT INTO search_fts(search_fts, rowid, title, abstract, authors)
           SELECT 'delete', docid, old.title, old.abstract, old.authors
           FROM search_docs WHERE paper_id = old.id AND fts = 1;
         DELETE FROM search_docs WHERE paper_id = old.id;
         DELETE FROM search_queue WHERE paper_id = old.id;
       END""",
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        # the same column everywhere; PostgreSQL's index is always current
        op.execute("ALTER TABLE search_docs ADD COLUMN fts SMALLINT NOT NULL DEFAULT 1")
        return
    op.execute("ALTER TABLE search_docs ADD COLUMN fts SMALLINT NOT NULL DEFAULT 0")
    deferred = (
        op.get_bind().exec_driver_sql("SELECT 1 FROM state WHERE key = 'search:deferred'").scalar()
    )
    if deferred:
        # search_0001's bulk import was killed with the index behind: start it afresh
        op.execute("INSERT INTO search_fts(search_fts) VALUES ('delete-all')")
        op.execute("DELETE FROM state WHERE key = 'search:deferred'")
    else:
        op.execute("UPDATE search_docs SET fts = 1")
    op.execute("CREATE INDEX ix_search_docs_fts ON search_docs (docid) WHERE fts = 0")
    op.execute("CREATE TABLE search_queue (paper_id TEXT NOT NULL)")
    # FTS5's content is what it indexed: papers not added yet are not part of it
    op.execute("DROP VIEW search_content")
    op.execute(_VIEW.format(where="WHERE d.fts = 1"))
    for name in _OLD_TRIGGERS:
        op.execute(f"DROP TRIGGER {name}")
    for stmt in _TRIGGERS:
        op.execute(stmt)


# search_0001's triggers (with no bulk import deferred)
_OLD = [
    """CREATE TRIGGER search_papers_ai AFTER INSERT ON papers BEGIN
         INSERT OR IGNORE INTO search_docs(paper_id, day, dirty) VALUES (new.id,
           coalesce((SELECT min(day) FROM announcements WHERE paper_id = new.id),
                    date(new.published)), 1);
         INSERT INTO search_fts(rowid, title, abstract, authors)
           SELECT docid, new.title, new.abstract, new.authors
           FROM search_docs WHERE paper_id = new.id;
       END""",
    """CREATE TRIGGER search_papers_au AFTER UPDATE OF title, abstract, authors ON papers
       WHEN old.title IS NOT new.title OR old.abstract IS NOT new.abstract
            OR old.authors IS NOT new.authors BEGIN
         INSERT INTO search_fts(search_fts, rowid, title, abstract, authors)
           SELECT 'delete', docid, old.title, old.abstract, old.authors
           FROM search_docs WHERE paper_id = old.id;
         UPDATE search_docs SET dirty = 1 WHERE paper_id = new.id;
         INSERT INTO search_fts(rowid, title, abstract, authors)
           SELECT docid, new.title, new.abstract, new.authors
           FROM search_docs WHERE paper_id = new.id;
       END""",
    """CREATE TRIGGER search_papers_ad AFTER DELETE ON papers BEGIN
         INSERT INTO search_fts(search_fts, rowid, title, abstract, authors)
           SELECT 'delete', docid, old.title, old.abstract, old.authors
           FROM search_docs WHERE paper_id = old.id;
         DELETE FROM search_docs WHERE paper_id = old.id;
       END""",
]


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute("ALTER TABLE search_docs DROP COLUMN fts")
        return
    for name in _OLD_TRIGGERS:
        op.execute(f"DROP TRIGGER {name}")
    for stmt in _OLD:
        op.execute(stmt)
    op.execute("DROP VIEW search_content")
    op.execute(_VIEW.format(where=""))
    op.execute(
        """INSERT OR IGNORE INTO search_docs(paper_id, day, dirty)
           SELECT q.paper_id, coalesce((SELECT min(day) FROM announcements a
                                        WHERE a.paper_id = q.paper_id), date(p.published)), 1
           FROM search_queue q JOIN papers p ON p.id = q.paper_id"""
    )
    op.execute("DROP TABLE search_queue")
    op.execute("DROP INDEX ix_search_docs_fts")
    op.execute("ALTER TABLE search_docs DROP COLUMN fts")
    op.execute("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")
