"""papers from any source: papers.source; first and last listing days on the paper

A paper's key was an arXiv id. It is now the paper's public id without version: arXiv's bare
ids, as before, and `<local>@<Suffix>` for every other source (`2024.acl-long.1@ACL`), so
the key names its source in every table that uses it (the FAQ's cache, queue and counters,
the search index and its vectors) and no stored key changes: existing rows, URLs and what
readers keep in their browsers stay valid. `source` says the source outright, for queries by
source; every row stored so far is arXiv's.

`first_listed` / `last_listed`: the first and latest day its source listed the paper (arXiv:
its announcement days; a venue: its edition's date), kept by whoever writes the listings.
The search index dates papers by the first and the FAQ's queue ranks them by the latest,
through these columns, not through any one source's listing tables.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ADD COLUMN with a constant default: no table rebuild on either backend
    op.add_column("papers", sa.Column("source", sa.Text, nullable=False, server_default="arxiv"))
    op.add_column("papers", sa.Column("first_listed", sa.Date))
    op.add_column("papers", sa.Column("last_listed", sa.Date))
    # UPDATE ... FROM: PostgreSQL, and SQLite since 3.33
    op.execute(
        """UPDATE papers SET first_listed = a.first, last_listed = a.last
           FROM (SELECT paper_id, min(day) AS first, max(day) AS last
                 FROM announcements GROUP BY paper_id) AS a
           WHERE papers.id = a.paper_id"""
    )


def downgrade() -> None:
    with op.batch_alter_table("papers") as batch:
        batch.drop_column("last_listed")
        batch.drop_column("first_listed")
        batch.drop_column("source")
