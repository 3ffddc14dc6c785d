"""The LLM's tables (Alembic branch "llm", migrations llm_0001 to llm_0004). Times are unix
seconds (float): leases are compared against `time.time()` in every process, on both backends
alike."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Float, Index, Integer, MetaData, Table, Text

metadata = MetaData()

# One row per (paper, language, task): THE single source of truth for a generation. Tasks:
# "faq" (the six questions), and the short texts of llm/texts.py ("tldr", "title",
# "abstract"). Its state goes pending -> running -> done | failed; a running row holds a
# lease that its worker renews, so a dead worker's job is picked up again once the lease has
# expired.
faq_jobs = Table(
    "faq_jobs",
    metadata,
    Column("paper_id", Text, primary_key=True),
    Column("lang", Text, primary_key=True),
    Column("state", Text, nullable=False),
    # higher first: newer announcement days; background work (llm/texts.py) below zero
    Column("priority", Integer, nullable=False),
    Column("enqueued", Float, nullable=False),
    Column("attempt", Integer, nullable=False),  # bumped by each claim: chunks belong to one
    Column("lease_owner", Text),
    Column("lease_expires", Float),
    Column("error", Text),
    Column("updated", Float, nullable=False),
    # Times the current generation was taken over from a worker that died (llm_0002): its
    # readers are told that the answer starts over, and why.
    Column("restarts", Integer, nullable=False, server_default="0"),
    # What the running attempt is doing now, for readers (llm_0003): fetching the PDF,
    # retrying, answering question k of 6. Cleared by each claim and at the end.
    Column("step", Text),
    # (llm_0004; last, where the migration added it)
    Column("task", Text, primary_key=True, server_default="faq"),
)
Index("ix_faq_jobs_queue", faq_jobs.c.state, faq_jobs.c.priority, faq_jobs.c.enqueued)

# The text streamed so far by the running attempt, in order: any web worker streams it to late
# joiners. Deleted when the attempt ends (its text then lives in faq_answers, or nowhere).
faq_chunks = Table(
    "faq_chunks",
    metadata,
    Column("paper_id", Text, primary_key=True),
    Column("lang", Text, primary_key=True),
    Column("attempt", Integer, primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("turn", Integer, nullable=False),  # which question this text answers
    Column("text", Text, nullable=False),
    Column("task", Text, primary_key=True, server_default="faq"),  # (llm_0004)
)

# Complete answers only (the cache every reader is served from).
faq_answers = Table(
    "faq_answers",
    metadata,
    Column("paper_id", Text, primary_key=True),
    Column("lang", Text, primary_key=True),
    Column("turns", Text, nullable=False),  # JSON [{"q": question, "a": markdown}]
    Column("html", Text, nullable=False),  # rendered once, served as is
    Column("model", Text, nullable=False),
    Column("prompt_version", Text, nullable=False),
    Column("paper_version", Integer),
    Column("source", Text, nullable=False),  # "pdf" or "abstract" (no full text found)
    Column("usage", Text, nullable=False),  # JSON {prompt_tokens, completion_tokens, calls}
    Column("seconds", Float, nullable=False),
    Column("created", DateTime, nullable=False),
)

# A paper's text, extracted from its PDF once per version (None: its source has no versions).
faq_fulltext = Table(
    "faq_fulltext",
    metadata,
    Column("paper_id", Text, primary_key=True),
    Column("version", Integer),
    Column("source", Text, nullable=False),  # "pdf", or "missing": no PDF (linked, or found)
    Column("text", Text, nullable=False),
    Column("pages", Integer, nullable=False),
    Column("extracted", DateTime, nullable=False),
)

# papers.cool's click counters beside [PDF] and [FAQ].
faq_counters = Table(
    "faq_counters",
    metadata,
    Column("paper_id", Text, primary_key=True),
    Column("kind", Text, primary_key=True),
    Column("n", Integer, nullable=False),
)

# Fixed-window per-IP limits on starting LLM work and on counted clicks, shared by every web
# worker.
faq_ratelimit = Table(
    "faq_ratelimit",
    metadata,
    Column("key", Text, primary_key=True),
    Column("window", Integer, primary_key=True),
    Column("n", Integer, nullable=False),
)

# The short texts (llm/texts.py): a TL;DR, a translated title or abstract; one per (paper,
# task, language), with what wrote it. A changed model or prompt makes it due again.
llm_texts = Table(
    "llm_texts",
    metadata,
    Column("paper_id", Text, primary_key=True),
    Column("task", Text, primary_key=True),
    Column("lang", Text, primary_key=True),
    Column("text", Text, nullable=False),
    Column("model", Text, nullable=False),
    Column("prompt_version", Text, nullable=False),
    Column("paper_version", Integer),
    Column("prompt_tokens", Integer, nullable=False),
    Column("completion_tokens", Integer, nullable=False),
    Column("created", DateTime, nullable=False),
)

# Tokens spent, per UTC day and task, readers' requests (background 0) apart from the day's
# precomputation (1): the admin page, `enrich --dry-run`'s comparison, the daily budget.
llm_usage = Table(
    "llm_usage",
    metadata,
    Column("day", Text, primary_key=True),  # YYYY-MM-DD, UTC
    Column("task", Text, primary_key=True),
    Column("background", Integer, primary_key=True),
    Column("calls", Integer, nullable=False),
    Column("prompt_tokens", Integer, nullable=False),
    Column("completion_tokens", Integer, nullable=False),
)

TABLES = (
    "faq_jobs",
    "faq_chunks",
    "faq_answers",
    "faq_fulltext",
    "faq_counters",
    "faq_ratelimit",
    "llm_texts",
    "llm_usage",
)
