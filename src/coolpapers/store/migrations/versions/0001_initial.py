"""papers, announcements, day counts, state

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = ("core",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "papers",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("version", sa.Integer),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("authors", sa.Text, nullable=False),
        sa.Column("abstract", sa.Text, nullable=False),
        sa.Column("categories", sa.Text, nullable=False),
        sa.Column("comments", sa.Text),
        sa.Column("journal_ref", sa.Text),
        sa.Column("doi", sa.Text),
        sa.Column("license", sa.Text),
        sa.Column("published", sa.DateTime),
        sa.Column("updated", sa.DateTime),
        sa.Column("ingested", sa.DateTime, nullable=False),
    )
    op.create_table(
        "announcements",
        sa.Column("category", sa.Text, primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("paper_id", sa.Text, primary_key=True),
        sa.Column("kind", sa.SmallInteger, nullable=False),
    )
    op.create_index("ix_announcements_paper", "announcements", ["paper_id"])
    op.create_table(
        "day_counts",
        sa.Column("category", sa.Text, primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("listed", sa.Integer, nullable=False),
    )
    op.create_index("ix_day_counts_day", "day_counts", ["day"])
    op.create_table(
        "state",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("state")
    op.drop_table("day_counts")
    op.drop_table("announcements")
    op.drop_table("papers")
