"""search: date papers by papers.first_listed, not by arXiv's announcements table

A paper's day in the index (date ranges, date sort) is the first day its source listed it,
else its v1 date. search_0001 read it from `announcements` (arXiv's listings) in triggers on
papers and on announcements; now every source's listing writer keeps `papers.first_listed`
(core 0002), so the index follows that one column of `papers` and knows no source's tables.

Revision ID: search_0003
Revises: search_0002
"""

from alembic import op

revision = "search_0003"
down_revision = "search_0002"
branch_labels = None
depends_on = "0002"

_SQLITE_DAY = """CREATE TRIGGER search_papers_au_day AFTER UPDATE OF published, first_listed
    ON papers WHEN old.published IS NOT new.published
                   OR old.first_listed IS NOT new.first_listed BEGIN
      UPDATE search_docs SET day = coalesce(new.first_listed, date(new.published))
      WHERE paper_id = new.id;
    END"""

_PG_SYNC = """CREATE OR REPLACE FUNCTION search_papers_sync() RETURNS trigger
  LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP = 'DELETE' THEN
      DELETE FROM search_docs WHERE paper_id = OLD.id;
      RETURN OLD;
    END IF;
    IF TG_OP = 'INSERT' THEN
      INSERT INTO search_docs(paper_id, day, dirty, doc) VALUES (NEW.id,
        coalesce(NEW.first_listed, NEW.published::date), 1,
        search_doc(NEW.title, NEW.abstract, NEW.authors))
      ON CONFLICT (paper_id) DO UPDATE SET dirty = 1, doc = excluded.doc;
      RETURN NEW;
    END IF;
    IF OLD.title IS DISTINCT FROM NEW.title OR OLD.abstract IS DISTINCT FROM NEW.abstract
       OR OLD.authors IS DISTINCT FROM NEW.authors THEN
      UPDATE search_docs SET dirty = 1, doc = search_doc(NEW.title, NEW.abstract, NEW.authors)
      WHERE paper_id = NEW.id;
    END IF;
    IF OLD.published IS DISTINCT FROM NEW.published
       OR OLD.first_listed IS DISTINCT FROM NEW.first_listed THEN
      UPDATE search_docs SET day = coalesce(NEW.first_listed, NEW.published::date)
      WHERE paper_id = NEW.id;
    END IF;
    RETURN NEW;
  END $$"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_SYNC)
        op.execute("DROP TRIGGER IF EXISTS search_announcements_sync ON announcements")
        op.execute("DROP FUNCTION IF EXISTS search_announcements_sync()")
    else:
        op.execute("DROP TRIGGER IF EXISTS search_announcements_ai")
        op.execute("DROP TRIGGER IF EXISTS search_papers_au_day")
        op.execute(_SQLITE_DAY)
    # One rule for every day now. Most are unchanged (0002 set first_listed to the first
    # announcement day, what the triggers wrote); on PostgreSQL a paper stored before its
    # announcement kept its v1 date, as its announcement's trigger only moved days earlier.
    pg = op.get_bind().dialect.name == "postgresql"
    day = (
        "coalesce(p.first_listed, CAST(p.published AS DATE))"
        if pg
        else ("coalesce(p.first_listed, date(p.published))")
    )
    differs = "IS DISTINCT FROM" if pg else "IS NOT"
    op.execute(
        f"""UPDATE search_docs SET day = {day} FROM papers p
            WHERE p.id = search_docs.paper_id AND search_docs.day {differs} {day}"""
    )


def downgrade() -> None:
    raise NotImplementedError("search_0003 has no downgrade: restore a backup instead")
