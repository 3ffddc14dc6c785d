"""Pre-generating FAQs (`coolpapers faq`) and running workers (`coolpapers worker`, `serve`).

A batch enqueues a listing day (cached answers skipped), runs workers in this process and
waits for those jobs. Killed and rerun, it resumes: the job rows are in the store; done ones
are skipped, failed ones are retried, and a job the killed run held is taken again as soon
as its lease runs out.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select

from coolpapers.config import Settings
from coolpapers.llm.jobs import DONE, FAILED
from coolpapers.llm.service import FaqService
from coolpapers.llm.texts import TextService, configured_tasks
from coolpapers.llm.worker import Workers
from coolpapers.records import Paper
from coolpapers.sources import registry
from coolpapers.sources.http import Clients
from coolpapers.store import Store
from coolpapers.store.schema import papers as papers_table

log = logging.getLogger("coolpapers.llm")


@dataclass(slots=True)
class BatchReport:
    day: date | None
    edition: str | None = None  # a venue batch's edition ("ACL.2024")
    listed: int = 0
    cached: int = 0
    done: int = 0
    failed: list[str] = field(default_factory=list)


def day_papers(store: Store, category: str, day: date | None) -> tuple[date | None, list[Paper]]:
    """An arXiv category's papers on a listing day (the latest when `day` is None), in
    listing order, read through the listing interface (store/listings.py)."""
    listings = registry.get("arxiv").listings(store)
    if listings is None:
        return None, []
    if day is None:
        days = listings.editions([category])
        if not days:
            return None, []
        day = days[-1]
    keys = [key for key, _ in listings.entries([category], [], day)]
    found = store.papers(keys)
    return day, [found[k] for k in keys if k in found]


def edition_papers(store: Store, name: str) -> tuple[str | None, list[Paper]]:
    """A venue edition's accepted papers ("ACL.2024"; a venue alone, "ACL", is its latest
    edition) in page order, through the listing interface (store/venues.py)."""
    from coolpapers.store.venues import VenueListings

    venues = VenueListings(store)
    if venues.edition(name) is None:
        editions = venues.editions([name])
        if not editions:
            return None, []
        name = editions[-1]
    keys = [key for key, _ in venues.entries([], [], name)]
    found = store.papers(keys)
    return name, [found[k] for k in keys if k in found]


def start_workers(store: Store, settings: Settings, slots: int | None = None) -> Workers:
    """A worker pool with its own paced clients: each PDF download keeps the pace of its
    host (arXiv's for arXiv's PDFs, another source's for its own, a cautious one otherwise)."""
    clients = Clients(store, settings)
    return Workers(FaqService(store, settings), slots, clients=clients).start()


def run_batch(
    store: Store,
    settings: Settings,
    category: str,
    day: date | None,
    lang: str,
    *,
    regenerate: bool = False,
    progress: Callable[[int, int], None] = lambda done, total: None,
    stop: threading.Event | None = None,
    poll: float = 0.5,
    venue: str | None = None,
) -> BatchReport:
    """The FAQs of an arXiv category's listing day, or of a venue edition (`venue`)."""
    service = FaqService(store, settings)
    if venue is not None:
        edition, papers = edition_papers(store, venue)
        report = BatchReport(None, edition, listed=len(papers))
    else:
        day, papers = day_papers(store, category, day)
        report = BatchReport(day, listed=len(papers))
    todo: list[Paper] = []
    for p in papers:
        if not regenerate and service.answer(p.id, lang) is not None:
            report.cached += 1
            continue
        service.ask(p, lang, force=regenerate)
        todo.append(p)
    if report.cached:
        log.info("%d of %d papers already have a %s FAQ: skipped", report.cached, len(papers), lang)
    if not todo:
        return report
    workers = start_workers(store, settings, settings.llm_concurrency)
    stop = stop or threading.Event()
    try:
        remaining = {p.id for p in todo}
        while remaining and not stop.is_set():
            for pid in list(remaining):
                state = service.queue.status(pid, lang).state
                if state == DONE:
                    report.done += 1
                    remaining.discard(pid)
                elif state == FAILED:
                    st = service.queue.status(pid, lang)
                    log.warning("FAQ of %s failed: %s (rerun to retry)", pid, st.error)
                    report.failed.append(pid)
                    remaining.discard(pid)
            progress(report.done + len(report.failed), len(todo))
            if remaining:
                time.sleep(poll)
    finally:
        workers.stop()
    return report


@dataclass(slots=True)
class EnrichReport:
    papers: int = 0
    cached: int = 0
    done: int = 0
    failed: list[str] = field(default_factory=list)
    budget: bool = False  # stopped: the day's token budget is spent
    queued: int = 0  # jobs this call created (not joined)


def run_enrich(
    store: Store,
    settings: Settings,
    papers: list[Paper],
    tasks: list[tuple[str, str]],
    *,
    progress: Callable[[int, int], None] = lambda done, total: None,
    stop: threading.Event | None = None,
    poll: float = 0.5,
    workers: bool = True,
) -> EnrichReport:
    """TL;DRs and translations (`tasks`: (task, lang) pairs) of `papers`, as background work
    (below every reader's request), waited for: the texts kept by this model and prompt
    version are skipped, failed ones retried; killed and rerun, it goes on where it was (the
    jobs are rows). `workers` False: only queued, for the workers already running (`serve`)."""
    texts_ = TextService(FaqService(store, settings))
    report = EnrichReport(papers=len(papers))
    todo: list[tuple[str, str, str]] = []
    for task, lang in tasks:
        due = texts_.due(papers, task, lang)
        report.cached += len(papers) - len(due)
        for p in due:
            report.queued += texts_.enqueue(p, task, lang, background=True).created
            todo.append((p.id, task, lang))
    if not todo or not workers:
        return report
    pool = start_workers(store, settings, settings.llm_concurrency)
    stop = stop or threading.Event()
    try:
        remaining = set(todo)
        while remaining and not stop.is_set():
            for key in list(remaining):
                pid, task, lang = key
                st = texts_.status(pid, task, lang)
                if st.state == DONE:
                    report.done += 1
                    remaining.discard(key)
                elif st.state == FAILED:
                    log.warning(
                        "%s of %s (%s) failed: %s (rerun to retry)", task, pid, lang, st.error
                    )
                    report.failed.append(f"{pid}:{task}:{lang}")
                    remaining.discard(key)
            progress(report.done + len(report.failed), len(todo))
            if remaining and not texts_.budget_left():
                running = [k for k in remaining if texts_.status(*k).state == "running"]
                if not running:  # what runs finishes; nothing more starts today
                    report.budget = True
                    break
            if remaining:
                time.sleep(poll)
    finally:
        pool.stop()
    return report


def queue_day(store: Store, settings: Settings, categories: list[str], day: date) -> int:
    """A day just announced: its papers' configured TL;DRs and translations queued as
    background work for the workers that run (`serve`'s or `coolpapers worker`); how many
    jobs. Nothing without an LLM or with nothing configured."""
    tasks = configured_tasks(settings)
    if not settings.llm_configured or not tasks:
        return 0
    papers: dict[str, Paper] = {}
    for cat in categories:
        _, found = day_papers(store, cat, day)
        papers.update((p.id, p) for p in found)
    return _queue(store, settings, list(papers.values()), tasks)


def queue_ingested(store: Store, settings: Settings, since: datetime) -> int:
    """Venue papers stored since `since` (an import of editions): queued as `queue_day`."""
    tasks = configured_tasks(settings)
    if not settings.llm_configured or not tasks:
        return 0
    p = papers_table.c
    q = select(p.id).where(p.ingested >= since, p.source != "arxiv")
    with store.engine.connect() as conn:
        ids = [i for (i,) in conn.execute(q)]
    found = store.papers(ids)
    return _queue(store, settings, [found[i] for i in ids if i in found], tasks)


def _queue(
    store: Store, settings: Settings, papers: list[Paper], tasks: list[tuple[str, str]]
) -> int:
    n = run_enrich(store, settings, papers, tasks, workers=False).queued
    if n:
        log.info("queued %d TL;DR and translation jobs for %d papers", n, len(papers))
    return n
