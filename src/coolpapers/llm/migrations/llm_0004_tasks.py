"""LLM: one job queue for every task (the FAQ, TL;DRs, translations); their texts; token usage

The FAQ's queue (leases, single flight, one concurrency cap, priorities) now also runs the
short tasks of issue 16: a paper's one-sentence TL;DR and the translation of its title or
abstract. A job is keyed by (paper, language, task); existing rows are the FAQ's ("faq").
Their results go to llm_texts, one row per (paper, task, language), with the model and prompt
version that wrote them. llm_usage adds up tokens per UTC day and task, readers' requests
apart from background work, for the admin page and the daily budget.

Revision ID: llm_0004
Revises: llm_0003
"""

import warnings

import sqlalchemy as sa
from alembic import op

revision = "llm_0004"
down_revision = "llm_0003"
branch_labels = None
depends_on = None

KEYS = {
    "faq_jobs": (["paper_id", "lang"], ["paper_id", "lang", "task"]),
    "faq_chunks": (
        ["paper_id", "lang", "attempt", "seq"],
        ["paper_id", "lang", "attempt", "seq", "task"],
    ),
}


def _rekey(table: str, add: bool) -> None:
    old, new = KEYS[table]
    pg = op.get_bind().dialect.name == "postgresql"
    # SQLite cannot change a primary key in place: the table is copied (batch mode), from its
    # reflected columns, whose primary-key flags SQLAlchemy warns are replaced: as meant.
    with (
        warnings.catch_warnings(),
        op.batch_alter_table(table, recreate="auto" if pg else "always") as b,
    ):
        warnings.simplefilter("ignore", sa.exc.SAWarning)
        if add:
            b.add_column(sa.Column("task", sa.Text, nullable=False, server_default="faq"))
        if pg:
            b.drop_constraint(f"{table}_pkey", type_="primary")
        b.create_primary_key(f"{table}_pkey", new if add else old)
        if not add:
            b.drop_column("task")


def upgrade() -> None:
    _rekey("faq_jobs", True)
    _rekey("faq_chunks", True)
    op.create_table(
        "llm_texts",
        sa.Column("paper_id", sa.Text, primary_key=True),
        sa.Column("task", sa.Text, primary_key=True),
        sa.Column("lang", sa.Text, primary_key=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("prompt_version", sa.Text, nullable=False),
        sa.Column("paper_version", sa.Integer),
        sa.Column("prompt_tokens", sa.Integer, nullable=False),
        sa.Column("completion_tokens", sa.Integer, nullable=False),
        sa.Column("created", sa.DateTime, nullable=False),
    )
    op.create_table(
        "llm_usage",
        sa.Column("day", sa.Text, primary_key=True),
        sa.Column("task", sa.Text, primary_key=True),
        sa.Column("background", sa.Integer, primary_key=True),
        sa.Column("calls", sa.Integer, nullable=False),
        sa.Column("prompt_tokens", sa.Integer, nullable=False),
        sa.Column("completion_tokens", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("llm_usage")
    op.drop_table("llm_texts")
    # (rows of other tasks would collide under the FAQ's old key)
    op.execute("DELETE FROM faq_chunks WHERE task <> 'faq'")
    op.execute("DELETE FROM faq_jobs WHERE task <> 'faq'")
    _rekey("faq_chunks", False)
    _rekey("faq_jobs", False)
