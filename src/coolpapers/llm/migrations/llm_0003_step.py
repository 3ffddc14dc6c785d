"""FAQ: faq_jobs.step, what the running generation is doing now

Before the first words of an answer a generation may spend many seconds fetching the paper's
PDF (retrying an unreachable host, falling back to the abstract) or having the model read the
question's excerpts. The step ("Fetching the PDF from arxiv.org…", "Answering question 3 of
6…") is written by the worker and streamed to every reader, whichever web worker serves them.

Revision ID: llm_0003
Revises: llm_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "llm_0003"
down_revision = "llm_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("faq_jobs") as b:
        b.add_column(sa.Column("step", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("faq_jobs") as b:
        b.drop_column("step")
