"""Import arXiv metadata from files: the Kaggle snapshot and daily JSON lines (plain or .gz).

Both are streamed line by line and written in batches, each batch in one transaction with a
checkpoint (lines done), so memory stays flat and a killed import resumes where it stopped with
no duplicate and no gap. A malformed line is logged with its line number (and id, if it has
one) and skipped; the rest of its batch is kept.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from multiprocessing import get_context
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from coolpapers import ids, taxonomy
from coolpapers.records import Announcement, Batch, Kind, Paper
from coolpapers.store import Store
from coolpapers.texmarkup import accents_to_unicode, oneline, unwrap

log = logging.getLogger("coolpapers.sources")
NY = ZoneInfo("America/New_York")
_DAILY_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})\.jsonl(\.gz)?$")

PIPELINE_BYTES = 8 << 20  # files from this size on are parsed in a second process
Progress = Callable[[int], None]  # called with the number of bytes read since the last call


class BadRecord(ValueError):
    pass


@dataclass
class ImportReport:
    files: int = 0
    lines: int = 0
    stored: int = 0
    skipped: int = 0
    resumed_from: dict[str, int] = field(default_factory=dict)
    skipped_files: list[str] = field(default_factory=list)


def import_files(
    store: Store, paths: list[Path], batch_size: int = 5000, progress: Progress | None = None
) -> ImportReport:
    """Import files in date order (daily files) so that first appearances come first."""
    report = ImportReport()
    for path in sorted(paths, key=lambda p: p.name):
        report.files += 1
        m = _DAILY_NAME.search(path.name)
        day = date.fromisoformat(m.group(1)) if m else None
        if day is not None and day.weekday() >= 5:
            # arXiv lists nothing on Saturday or Sunday; daily collectors repeat Friday's list.
            log.info("skipped %s: %s is a weekend, arXiv announces nothing", path.name, day)
            report.skipped_files.append(path.name)
            if progress:
                progress(path.stat().st_size)
            continue
        _import_file(store, path, day, batch_size, progress, report)
    return report


def _import_file(
    store: Store,
    path: Path,
    day: date | None,
    batch_size: int,
    progress: Progress | None,
    report: ImportReport,
) -> None:
    key = f"import:{path.resolve()}:{path.stat().st_size}"
    done = int(store.get_state(key, "0") or 0)
    size = path.stat().st_size
    last_pos = 0
    with path.open("rb") as raw, _parser_pool(size) as pool:
        stream: IO[bytes] = gzip.open(raw) if path.suffix == ".gz" else raw  # type: ignore[assignment]  # noqa: SIM115
        # Parsing runs one chunk ahead of writing, in a second process for big files: the two
        # halves of an import cost about the same, and a machine has at least two cores.
        pending: deque[tuple[int, Future[Parsed] | Parsed]] = deque()
        lineno = done
        for lineno, chunk in _chunks(stream, done, batch_size):
            if done and path.name not in report.resumed_from and chunk:
                report.resumed_from[path.name] = done  # there is work left after a kill
            parsed = pool.submit(_parse_chunk, chunk, day) if pool else _parse_chunk(chunk, day)
            pending.append((lineno, parsed))
            if len(pending) > (1 if pool else 0):
                _write_parsed(store, *pending.popleft(), day, key, report)
            if progress:
                pos = raw.tell()
                progress(pos - last_pos)
                last_pos = pos
        while pending:
            _write_parsed(store, *pending.popleft(), day, key, report)
        report.lines += lineno
    if progress and size > last_pos:
        progress(size - last_pos)


Parsed = tuple[Batch, list[str]]


@contextmanager
def _parser_pool(size: int) -> Iterator[ProcessPoolExecutor | None]:
    if size < PIPELINE_BYTES:
        yield None  # a daily file: a second process would cost more than it saves
        return
    with ProcessPoolExecutor(1, mp_context=get_context("fork")) as pool:
        yield pool


def _chunks(
    stream: IO[bytes], done: int, batch_size: int
) -> Iterator[tuple[int, list[tuple[int, bytes]]]]:
    """(last line number, [(line number, line)]) per batch, after the `done` lines; an
    empty file yields one empty chunk so that its checkpoint is still written."""
    lineno = 0
    chunk: list[tuple[int, bytes]] = []
    for line in stream:
        lineno += 1
        if lineno <= done:
            continue
        chunk.append((lineno, line))
        if len(chunk) >= batch_size:
            yield lineno, chunk
            chunk = []
    if chunk or lineno == 0:
        yield lineno, chunk


def _parse_chunk(chunk: list[tuple[int, bytes]], day: date | None) -> Parsed:
    """Lines to records, with a message for each line skipped (logged by the caller, which
    may be another process)."""
    batch = Batch()
    problems: list[str] = []
    for n, line in chunk:
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise BadRecord("not a JSON object")
            paper, anns = _daily(obj, day) if day else _kaggle(obj)
        # AttributeError, IndexError: wrong shapes inside a record (versions: ["v1"],
        # authors_parsed: [["Smith"]]) are malformed lines too, not a reason to stop the import
        except (ValueError, KeyError, TypeError, AttributeError, IndexError) as e:
            rid = _peek_id(line)
            problems.append(f"skipped line {n}{f' (id {rid})' if rid else ''}: {e}")
            batch.skipped += 1
            continue
        # TeX accents to Unicode here, in the parsing process (the store would do it anyway;
        # done here, its check finds nothing left to convert)
        paper.title = accents_to_unicode(paper.title)
        paper.abstract = accents_to_unicode(paper.abstract)
        paper.authors = [accents_to_unicode(a) for a in paper.authors]
        batch.papers.append(paper)
        batch.announcements.extend(anns)
    return batch, problems


def _write_parsed(
    store: Store,
    lineno: int,
    parsed: Future[Parsed] | Parsed,
    day: date | None,
    key: str,
    report: ImportReport,
) -> None:
    batch, problems = parsed.result() if isinstance(parsed, Future) else parsed
    for message in problems:
        log.warning("%s", message)
    if day is not None:
        _mark_replacements(store, batch, day)
    store.write(batch, checkpoint=(key, str(lineno)))
    report.stored += len(batch.papers)
    report.skipped += batch.skipped


def _peek_id(line: bytes) -> str | None:
    m = re.search(rb'"id"\s*:\s*"([^"]{1,40})"', line)
    return m.group(1).decode("utf-8", "replace") if m else None


def _text(
    obj: dict[str, Any], key: str, required: bool = True, paragraphs: bool = False
) -> str | None:
    v = obj.get(key)
    if v is None or (isinstance(v, str) and not v.strip()):
        if required:
            raise BadRecord(f"missing {key}")
        return None
    if not isinstance(v, str):
        raise BadRecord(f"{key} is not text")
    return unwrap(v) if paragraphs else oneline(v)


def _categories(raw: Any) -> list[str]:
    codes = raw.split() if isinstance(raw, str) else list(raw or [])
    cats = taxonomy.clean_categories([str(c) for c in codes])
    if not cats:
        raise BadRecord("no arXiv category")
    return cats


def _first_listings(paper: Paper, day: date, replace: bool = False) -> list[Announcement]:
    first, other = (Kind.REPLACE, Kind.REPLACE_CROSS) if replace else (Kind.NEW, Kind.CROSS)
    return [
        Announcement(day, c, paper.id, first if i == 0 else other)
        for i, c in enumerate(paper.categories)
    ]


# ---- daily JSON lines ({"id","pdf","abs","authors","title","categories","comment","summary"})


def _daily(obj: dict[str, Any], day: date | None) -> tuple[Paper, list[Announcement]]:
    assert day is not None
    aid = ids.parse(str(obj.get("id", "")))
    authors = obj.get("authors") or []
    if not isinstance(authors, list):
        raise BadRecord("authors is not a list")
    paper = Paper(
        id=aid.id,
        version=aid.version,
        title=_text(obj, "title") or "",
        abstract=_text(obj, "summary", paragraphs=True) or "",
        authors=[" ".join(str(a).split()) for a in authors],
        categories=_categories(obj.get("categories")),
        comments=_text(obj, "comment", required=False),
    )
    return paper, _first_listings(paper, day)


def _mark_replacements(store: Store, batch: Batch, day: date) -> None:
    """Daily lists carry no announce type: a paper already listed on an earlier day is
    listed again because arXiv announced a new version of it, i.e. a replacement."""
    firsts = store.first_days([p.id for p in batch.papers])
    again = {pid for pid, d in firsts.items() if d < day}
    if not again:
        return
    earlier = {firsts[pid] for pid in again}
    if len(again) == len({p.id for p in batch.papers}) and len(earlier) == 1:
        # Every paper was first listed on one and the same earlier day: the collector saved
        # that day's list again (it happens on holidays), not a day of replacements.
        log.warning("skipped the listings of %s: a repeat of %s's list", day, earlier.pop())
        batch.announcements.clear()
        return
    for a in batch.announcements:
        if a.paper_id in again:
            a.kind = Kind.REPLACE if a.kind == Kind.NEW else Kind.REPLACE_CROSS


# ---- Kaggle arxiv-metadata-oai-snapshot -------------------------------------------------


def _kaggle(obj: dict[str, Any]) -> tuple[Paper, list[Announcement]]:
    aid = ids.parse(str(obj.get("id", "")))
    versions = obj.get("versions") or []
    created = [_rfc2822(v["created"]) for v in versions if v.get("created")]
    parsed = obj.get("authors_parsed")
    if isinstance(parsed, list) and parsed:
        authors = [" ".join(x for x in (a[1], a[0], *a[2:]) if x).strip() for a in parsed]
    else:
        authors = [
            a.strip() for a in re.split(r",| and ", _text(obj, "authors") or "") if a.strip()
        ]
    paper = Paper(
        id=aid.id,
        version=len(versions) or None,
        title=_text(obj, "title") or "",
        abstract=_text(obj, "abstract", paragraphs=True) or "",
        authors=authors,
        categories=_categories(obj.get("categories")),
        comments=_text(obj, "comments", required=False),
        journal_ref=_text(obj, "journal-ref", required=False),
        doi=_text(obj, "doi", required=False),
        license=_text(obj, "license", required=False),
        published=created[0] if created else None,
        updated=created[-1] if created else None,
    )
    anns: list[Announcement] = []
    for i, t in enumerate(created):
        anns.extend(_first_listings(paper, estimated_listing_day(t), replace=i > 0))
    return paper, anns


def _rfc2822(text: str) -> datetime:
    return parsedate_to_datetime(text).astimezone(UTC)


def estimated_listing_day(submitted: datetime) -> date:
    """The listing day a submission most likely appeared on (the snapshot does not say).

    arXiv's schedule: submissions received by 14:00 New York time on a weekday are announced
    at 20:00 that evening and listed under the next weekday's date; later ones wait for the
    next cut-off. Holidays shift real listings by a day or two; this estimate ignores them."""
    local = submitted.astimezone(NY)
    d = local.date()
    if local.time() >= time(14, 0) or d.weekday() >= 5:
        d += timedelta(days=1)
    while d.weekday() >= 5:  # roll a weekend submission to Monday's cut-off
        d += timedelta(days=1)
    d += timedelta(days=1)  # listed under the next day's date
    while d.weekday() >= 5:  # Friday's announcement is Monday's listing
        d += timedelta(days=1)
    return d
