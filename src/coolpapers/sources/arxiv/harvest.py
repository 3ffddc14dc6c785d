"""Ingestion runs: announcement feeds, completeness checks, OAI harvests, on-demand ids.

Every run is idempotent (the store upserts by id) and resumable: the OAI harvest stores its
resumption token in the same transaction as the page it belongs to.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from coolpapers.records import Announcement, Batch, Kind, Paper
from coolpapers.sources.arxiv import RSS_URL, api, oai, rss
from coolpapers.sources.arxiv.client import ArxivClient
from coolpapers.sources.arxiv.ids import BadId
from coolpapers.sources.arxiv.ids import parse as parse_id
from coolpapers.sources.arxiv.taxonomy import clean_categories
from coolpapers.store.store import Store

log = logging.getLogger("coolpapers.sources")

# Categories per combined feed URL (cs.AI+cs.CL+...): one request instead of several.
FEED_CHUNK = 20
OAI_DONE = "done"


# ---- announcement feeds --------------------------------------------------------------------


@dataclass(slots=True)
class AnnounceReport:
    feeds: int = 0
    papers: int = 0
    announcements: int = 0
    skipped: int = 0
    # (category, listing day) -> {paper id: announce type}, everything the feeds listed
    listed: dict[tuple[str, date], dict[str, Kind]] = field(default_factory=dict)
    empty: list[str] = field(default_factory=list)  # feed URLs that listed nothing

    @property
    def days(self) -> set[date]:
        return {d for _, d in self.listed}


def harvest_announcements(
    store: Store, client: ArxivClient, categories: Sequence[str]
) -> AnnounceReport:
    """Fetch the current announcement feed of `categories` (combined feeds) and store it."""
    cats = clean_categories(list(categories))
    report = AnnounceReport()
    for i in range(0, len(cats), FEED_CHUNK):
        chunk = cats[i : i + FEED_CHUNK]
        url = rss.feed_url(client.settings.arxiv_rss_url or RSS_URL, chunk)
        root = client.get_xml(url, expect=("rss", "feed"))
        feed = rss.parse_feed(root, chunk)
        store.write(feed.batch)
        report.feeds += 1
        report.papers += len(feed.batch.papers)
        report.announcements += len(feed.batch.announcements)
        report.skipped += feed.batch.skipped
        if feed.empty:
            report.empty.append(url)
            log.info("feed %s lists nothing (skip days: %s)", url, ", ".join(feed.skip_days))
        for key, kinds in feed.listed.items():
            report.listed.setdefault(key, {}).update(kinds)
        log.info(
            "feed %s: day %s, %d papers, %d listings, %d skipped",
            url,
            feed.day,
            len(feed.batch.papers),
            len(feed.batch.announcements),
            feed.batch.skipped,
        )
    return report


# ---- completeness --------------------------------------------------------------------------


@dataclass(slots=True)
class CompletenessReport:
    category: str
    day: date
    missing: list[str] = field(default_factory=list)  # listed by arXiv, absent from the store
    backfilled: list[str] = field(default_factory=list)  # now stored
    not_found: list[str] = field(default_factory=list)  # the export API did not know them

    @property
    def complete(self) -> bool:
        return not self.missing or set(self.backfilled) == set(self.missing)


def check_complete(
    store: Store,
    client: ArxivClient,
    category: str,
    day: date,
    feed_ids: Mapping[str, Kind] | Iterable[str],
) -> CompletenessReport:
    """Every id of the day's feed must be stored with its announcement; late or incomplete
    ones are fetched through the export API and stored.

    Pass the feed's announce types (`AnnounceReport.listed[(category, day)]`). For bare ids
    the type is inferred from the fetched metadata: the primary category gives new vs cross,
    a version above 1 gives a replacement."""
    kinds: dict[str, Kind | None] = (
        dict(feed_ids.items()) if isinstance(feed_ids, Mapping) else dict.fromkeys(feed_ids)
    )
    report = CompletenessReport(category, day)
    announced = store.announced_ids(category, day)
    stored = store.papers(kinds)
    report.missing = sorted(pid for pid in kinds if pid not in announced or pid not in stored)
    if not report.missing:
        return report
    need = [pid for pid in report.missing if pid not in stored]
    fetched = {p.id: p for p in api.query_ids(client, need)} if need else {}
    papers = {**stored, **fetched}
    batch = Batch(papers=list(fetched.values()))
    for pid in report.missing:
        paper = papers.get(pid)
        if paper is None:
            report.not_found.append(pid)
            continue
        kind = kinds[pid]  # Kind.NEW is 0: compare with None, not truthiness
        if kind is None:
            kind = _infer_kind(paper, category)
        batch.announcements.append(Announcement(day, category, pid, kind))
        report.backfilled.append(pid)
    store.write(batch)
    log.info(
        "%s %s: %d listed, %d missing, %d backfilled, not found: %s",
        category,
        day,
        len(kinds),
        len(report.missing),
        len(report.backfilled),
        report.not_found or "none",
    )
    return report


def _infer_kind(paper: Paper, category: str) -> Kind:
    replaced = (paper.version or 1) > 1
    if paper.primary == category:
        return Kind.REPLACE if replaced else Kind.NEW
    return Kind.REPLACE_CROSS if replaced else Kind.CROSS


# ---- on demand -----------------------------------------------------------------------------


def fetch_ids(store: Store, client: ArxivClient, ids: Iterable[str]) -> dict[str, Paper]:
    """Papers for `ids` (any written form; BadId for text that is not an id): from the store,
    and through the export API for those it lacks, which are stored on the way."""
    wanted = list(dict.fromkeys(parse_id(i).id for i in ids))
    found = store.papers(wanted)
    missing = [i for i in wanted if i not in found]
    if missing:
        # Unversioned, so that arXiv answers with the latest version. Matched on the
        # canonical id: arXiv may write an id otherwise than it was asked (an old id with a
        # subject class comes back without it), and the paper is still the one asked for.
        asked = set(missing)
        fetched = [p for p in api.query_ids(client, missing) if _canonical(p.id) in asked]
        fetched = [replace(p, id=_canonical(p.id)) for p in fetched]
        if fetched:
            store.write(Batch(papers=fetched))
        found.update({p.id: p for p in fetched})
    return {i: found[i] for i in wanted if i in found}


def _canonical(pid: str) -> str:
    try:
        return parse_id(pid).id
    except BadId:
        return pid


# ---- OAI-PMH -------------------------------------------------------------------------------


@dataclass(slots=True)
class OaiReport:
    key: str
    pages: int = 0
    papers: int = 0
    deleted: int = 0
    skipped: int = 0
    resumed: bool = False  # continued from a stored token
    restarted: bool = False  # the stored token had expired: started over
    done: bool = False
    already_done: bool = False  # a previous run had finished: nothing was fetched
    complete_list_size: int | None = None
    response_date: str | None = None  # of the first page: the next incremental `from`


def oai_checkpoint_key(
    set_spec: str | None,
    from_date: date | str | None,
    until: date | str | None = None,
    metadata_prefix: str = "arXivRaw",
) -> str:
    """The state key of one harvest: `oai:<set>:<from>`, plus until and format when given."""
    key = f"oai:{set_spec or '*'}:{from_date or '*'}"
    if until:
        key += f":{until}"
    if metadata_prefix != "arXivRaw":
        key += f":{metadata_prefix}"
    return key


def harvest_oai(
    store: Store,
    client: ArxivClient,
    set_spec: str | None,
    from_date: date | str | None,
    until: date | str | None = None,
    metadata_prefix: str = "arXivRaw",
    progress: Callable[[OaiReport], None] | None = None,
) -> OaiReport:
    """Page through ListRecords, storing each page with its resumption token.

    A killed harvest resumes from the stored token; a finished one is recorded as done and
    not repeated. OAI records do not say when they were announced, so this adds papers only.
    """
    key = oai_checkpoint_key(set_spec, from_date, until, metadata_prefix)
    report = OaiReport(key=key)
    saved = store.get_state(key) or ""
    if saved == OAI_DONE:
        report.done = report.already_done = True
        log.info("OAI harvest %s already done", key)
        return report
    first = oai.list_params(metadata_prefix, set_spec, from_date, until)
    params = oai.resume_params(saved) if saved else first
    report.resumed = bool(saved)
    while True:
        try:
            page = oai.fetch_page(client, params)
        except oai.BadResumptionToken:
            if params is first or report.pages:
                raise
            # arXiv's tokens expire daily: a harvest resumed the next day must start over
            # (the upserts make the repeated pages harmless).
            log.warning("stored resumption token of %s rejected; starting over", key)
            store.set_state(key, "")
            params, report.restarted = first, True
            continue
        token = page.token
        store.write(page.batch, checkpoint=(key, token or OAI_DONE))
        report.pages += 1
        report.papers += len(page.batch.papers)
        report.deleted += page.deleted
        report.skipped += page.batch.skipped
        report.response_date = report.response_date or page.response_date
        if page.complete_list_size is not None:
            report.complete_list_size = page.complete_list_size
        log.info(
            "OAI %s page %d: %d papers (%d deleted, %d skipped)%s",
            key,
            report.pages,
            len(page.batch.papers),
            page.deleted,
            page.batch.skipped,
            f", cursor {page.cursor}/{page.complete_list_size}" if page.cursor is not None else "",
        )
        if not token:
            report.done = True
        if progress:
            progress(report)
        if not token:
            return report
        params = oai.resume_params(token)
