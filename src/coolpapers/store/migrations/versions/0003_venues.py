"""venue listings: conference papers in editions and groups; papers.extra

The Venue branch lists papers by edition of a collection (`ACL.2024`), in groups (Long,
Short, Findings; Oral, Spotlight, Poster), as arXiv lists them by day and announce type.
`venue_listings` holds one row per paper and edition, `venue_editions` the per-edition
counts and group order that the home page, edition pages and the feed of new editions read.
`paper_links` pairs a venue paper with its arXiv version (both directions).
`papers.extra` keeps what a source knows that has no column (affiliations, pages, its own
BibTeX, PDF URLs its ids do not tell, the arXiv id of the same paper) as JSON.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("papers", sa.Column("extra", sa.Text))
    op.create_table(
        "venue_listings",
        sa.Column("collection", sa.Text, primary_key=True),
        sa.Column("edition", sa.Text, primary_key=True),
        sa.Column("paper_id", sa.Text, primary_key=True),
        sa.Column("grp", sa.Text, nullable=False),
        sa.Column("rank", sa.Integer, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("ix_venue_listings_paper", "venue_listings", ["paper_id"])
    op.create_table(
        "venue_editions",
        sa.Column("collection", sa.Text, primary_key=True),
        sa.Column("edition", sa.Text, primary_key=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("day", sa.Date),
        sa.Column("added", sa.DateTime, nullable=False),
        sa.Column("listed", sa.Integer, nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("groups", sa.Text, nullable=False),
    )

    op.create_table(
        "paper_links",
        sa.Column("paper_id", sa.Text, primary_key=True),
        sa.Column("other_id", sa.Text, primary_key=True),
        sa.Column("how", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("paper_links")
    op.drop_table("venue_editions")
    op.drop_index("ix_venue_listings_paper", "venue_listings")
    op.drop_table("venue_listings")
    with op.batch_alter_table("papers") as batch:
        batch.drop_column("extra")
