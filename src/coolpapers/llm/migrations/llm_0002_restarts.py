"""FAQ: faq_jobs.restarts, how often a generation was taken over from a dead worker

A worker that dies mid-answer leaves its job `running` until the lease runs out; the next
claim takes it over and starts the answer again. The count lets readers be told why the text
they were reading is gone and starts over.

Revision ID: llm_0002
Revises: llm_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "llm_0002"
down_revision = "llm_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("faq_jobs") as b:
        b.add_column(sa.Column("restarts", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("faq_jobs") as b:
        b.drop_column("restarts")
