"""FAQ: jobs, streamed chunks, answers, extracted full text, counters, rate limits

Revision ID: llm_0001
Revises:
Depends on: 0001

The tables of coolpapers.llm.schema as they are at this revision (keep them in step: a later
change gets its own revision).
"""

import sqlalchemy as sa
from alembic import op

revision = "llm_0001"
down_revision = None
branch_labels = ("llm",)
depends_on = "0001"


def upgrade() -> None:
    op.create_table(
        "faq_jobs",
        sa.Column("paper_id", sa.Text, primary_key=True),
        sa.Column("lang", sa.Text, primary_key=True),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("enqueued", sa.Float, nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("lease_owner", sa.Text),
        sa.Column("lease_expires", sa.Float),
        sa.Column("error", sa.Text),
        sa.Column("updated", sa.Float, nullable=False),
    )
    op.create_index("ix_faq_jobs_queue", "faq_jobs", ["state", "priority", "enqueued"])
    op.create_table(
        "faq_chunks",
        sa.Column("paper_id", sa.Text, primary_key=True),
        sa.Column("lang", sa.Text, primary_key=True),
        sa.Column("attempt", sa.Integer, primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("turn", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
    )
    op.create_table(
        "faq_answers",
        sa.Column("paper_id", sa.Text, primary_key=True),
        sa.Column("lang", sa.Text, primary_key=True),
        sa.Column("turns", sa.Text, nullable=False),
        sa.Column("html", sa.Text, nullable=False),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("prompt_version", sa.Text, nullable=False),
        sa.Column("paper_version", sa.Integer),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("usage", sa.Text, nullable=False),
        sa.Column("seconds", sa.Float, nullable=False),
        sa.Column("created", sa.DateTime, nullable=False),
    )
    op.create_table(
        "faq_fulltext",
        sa.Column("paper_id", sa.Text, primary_key=True),
        sa.Column("version", sa.Integer),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("pages", sa.Integer, nullable=False),
        sa.Column("extracted", sa.DateTime, nullable=False),
    )
    op.create_table(
        "faq_counters",
        sa.Column("paper_id", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, primary_key=True),
        sa.Column("n", sa.Integer, nullable=False),
    )
    op.create_table(
        "faq_ratelimit",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("window", sa.Integer, primary_key=True),
        sa.Column("n", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    for name in ("faq_ratelimit", "faq_counters", "faq_fulltext", "faq_answers", "faq_chunks"):
        op.drop_table(name)
    op.drop_index("ix_faq_jobs_queue", "faq_jobs")
    op.drop_table("faq_jobs")
