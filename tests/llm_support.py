"""Helpers for the FAQ's tests: settings pointing at the local fake LLM, papers, cleanup."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime

from sqlalchemy import text

from coolpapers.config import Settings
from coolpapers.llm.schema import TABLES
from coolpapers.records import Announcement, Batch, Kind, Paper
from coolpapers.store import Store

DAY = date(2026, 6, 4)


def faq_settings(llm_url: str = "", **overrides: object) -> Settings:
    values: dict[str, object] = {
        "llm_base_url": llm_url,
        "llm_model": "fake-model" if llm_url else "",
        "llm_lease_seconds": 5.0,
        "llm_timeout": 10.0,
        "arxiv_pdf_url": "http://127.0.0.1:9/pdf",  # nothing listens: no full text
        "arxiv_min_interval": 0.0,
        "arxiv_max_retries": 0,
        "fetch_on_demand": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type,call-arg]


def clean_faq(store: Store) -> None:
    """The PostgreSQL schema is shared by a test run: empty the FAQ's tables."""
    if store.dialect == "postgresql":
        with store.engine.begin() as c:
            c.execute(text(f"TRUNCATE {', '.join(TABLES)}"))


def paper(pid: str = "2606.00001", version: int = 1, **kw: object) -> Paper:
    values: dict[str, object] = {
        "id": pid,
        "title": f"A paper about $x_{{{pid[-1]}}}$",
        "abstract": "We study the abstract problem of testing.",
        "authors": ["Ada Lovelace"],
        "categories": ["cs.CL"],
        "version": version,
        "published": datetime(2026, 6, 1, tzinfo=UTC),
    }
    values.update(kw)
    return Paper(**values)  # type: ignore[arg-type]


def add_papers(store: Store, papers: list[Paper], day: date = DAY) -> None:
    ann = [Announcement(day, p.categories[0], p.id, Kind.NEW) for p in papers]
    store.write(Batch(papers=papers, announcements=ann))


def wait_for(pred: Callable[[], object], timeout: float = 10.0, every: float = 0.02) -> None:
    end = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > end:
            raise AssertionError("condition not reached in time")
        time.sleep(every)
