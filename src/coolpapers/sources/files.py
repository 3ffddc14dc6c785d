"""Import arXiv metadata from files: the Kaggle snapshot and daily JSON lines (plain or .gz).

Both are streamed line by line and written in batches, each batch in one transaction with a
checkpoint (lines done), so memory stays flat and a killed import resumes where it stopped with
no duplicate and no gap. A malformed line is logged with its line number (and id, if it has
one) and skipped; the rest of its batch is kept.
"""

from __future__ import annotations

import gc
import gzip
import io
import logging
import os
import re
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from itertools import islice
from multiprocessing import get_context
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import orjson

from coolpapers import ids, taxonomy
from coolpapers.records import Announcement, Batch, Kind, Paper
from coolpapers.store import Store
from coolpapers.store.store import Rows
from coolpapers.texmarkup import oneline, unwrap

log = logging.getLogger("coolpapers.sources")
NY = ZoneInfo("America/New_York")
_DAILY_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})\.jsonl(\.gz)?$")

PIPELINE_BYTES = 8 << 20  # files from this size on are parsed in other processes
PARSERS = max(2, min(4, (os.cpu_count() or 2) - 1))  # parsing processes per big import
WHOLE_FILE_BYTES = 1 << 20  # with parsers at work, files this small go to them whole
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
    files: list[tuple[Path, date | None]] = []
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
        files.append((path, day))
    # Parsing runs ahead of writing, in other processes when there is enough to import:
    # parsing costs about twice what writing does (41 us against 19 us a line), so two
    # parsers keep one writer busy even on two cores. Chunks are still written in order, each
    # with its checkpoint, one file after the other (replacements are found from the days
    # written before).
    with _parser_pool(sum(p.stat().st_size for p, _ in files)) as pool:
        ahead = 2 * PARSERS if pool else 0  # a queue for each parser: none waits for the writer
        pending: deque[tuple[_Chunk, Future[Any] | Parsed]] = deque()
        for job, lines in _all_chunks(store, files, batch_size, progress, report, pool is not None):
            if pool is None:
                parsed: Future[Any] | Parsed = _parse_chunk(lines, job.day)
            elif job.path is not None:
                parsed = pool.submit(_parse_file, job.path, job.done, batch_size, job.day)
            else:
                parsed = pool.submit(_parse_chunk, lines, job.day)
            pending.append((job, parsed))
            if len(pending) > ahead:
                _write_parsed(store, *pending.popleft(), report)
        while pending:
            _write_parsed(store, *pending.popleft(), report)
    return report


@dataclass(slots=True)
class _Chunk:
    """Where a chunk of lines comes from: its file's checkpoint key and announcement day, and
    the number of its last line (the checkpoint once it is written). Or a whole small file
    (`path`), which a parser process reads from line `done` on (_parse_file)."""

    key: str
    day: date | None
    lineno: int
    path: Path | None = None
    done: int = 0


def _all_chunks(
    store: Store,
    files: list[tuple[Path, date | None]],
    batch_size: int,
    progress: Progress | None,
    report: ImportReport,
    parsers: bool = False,
) -> Iterator[tuple[_Chunk, Lines]]:
    """The chunks of every file still to import, after each file's checkpoint. With parser
    processes, a small file is handed over whole (a daily list): they decompress and split it,
    work that would otherwise keep the writing process from writing."""
    for path, day in files:
        size = path.stat().st_size
        key = f"import:{path.resolve()}:{size}"
        done = int(store.get_state(key, "0") or 0)
        if parsers and size <= WHOLE_FILE_BYTES:
            yield _Chunk(key, day, 0, path, done), (0, [])
            if progress:
                progress(size)
            continue
        last_pos = 0
        with path.open("rb") as raw:
            stream: IO[bytes] = gzip.open(raw) if path.suffix == ".gz" else raw  # type: ignore[assignment]  # noqa: SIM115
            chunks = _chunks(stream, done, batch_size)
            lineno, lines = next(chunks, (done, (done + 1, [])))
            while True:
                if done and path.name not in report.resumed_from and lines[1]:
                    report.resumed_from[path.name] = done  # there is work left after a kill
                following = next(chunks, None)
                if following is None:
                    report.lines += lineno
                if following is not None or lineno > done or lineno == 0:
                    yield _Chunk(key, day, lineno), lines
                if progress:  # after the chunk was handed over (written, without a pool)
                    pos = size if following is None else raw.tell()
                    progress(pos - last_pos)
                    last_pos = pos
                if following is None:
                    break
                lineno, lines = following


# Rows to write, messages about skipped lines, how many were skipped
Parsed = tuple[Rows, list[str], int]


@contextmanager
def _parser_pool(size: int) -> Iterator[ProcessPoolExecutor | None]:
    if size < PIPELINE_BYTES:
        yield None  # a few daily files: other processes would cost more than they save
        return
    # Parsing builds trees of dicts and lists, never a cycle: reference counting frees them,
    # and the cyclic collector, which runs every few hundred allocations, only costs time
    # (15-20% of a parser's).
    with ProcessPoolExecutor(PARSERS, get_context("fork"), initializer=gc.disable) as pool:
        yield pool


# A chunk of lines: the number of its first line, and the lines (a plain list of bytes: the
# writing process reads and hands them over with no work per line)
Lines = tuple[int, list[bytes]]


def _chunks(stream: IO[bytes], done: int, batch_size: int) -> Iterator[tuple[int, Lines]]:
    """(last line number, lines) per batch, after the `done` lines; an empty file yields one
    empty chunk so that its checkpoint is still written."""
    lineno = sum(1 for _ in islice(stream, done))
    while lines := list(islice(stream, batch_size)):
        yield lineno + len(lines), (lineno + 1, lines)
        lineno += len(lines)
    if lineno == 0:
        yield 0, (1, [])


def _parse_chunk(chunk: Lines, day: date | None) -> Parsed:
    """Lines to the rows the store writes, with a message for each line skipped (logged by
    the caller, which may be another process: rows travel back cheaply, records would not)."""
    batch = Batch()
    problems: list[str] = []
    first, lines = chunk
    for n, line in enumerate(lines, first):
        if not line.strip():
            continue
        try:
            obj = orjson.loads(line)  # 2.3x json's speed: a tenth of an import's parsing
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
        batch.papers.append(paper)
        batch.announcements.extend(anns)
    return Rows.of(batch), problems, batch.skipped


def _parse_file(
    path: Path, done: int, batch_size: int, day: date | None
) -> tuple[int, list[tuple[int, Parsed]]]:
    """A whole small file, read, decompressed and parsed in a parser process: (its last line
    number, [(last line number, rows) per batch after the `done` lines])."""
    data = path.read_bytes()
    stream = io.BytesIO(gzip.decompress(data) if path.suffix == ".gz" else data)
    out = [(n, _parse_chunk(lines, day)) for n, lines in _chunks(stream, done, batch_size)]
    return (out[-1][0] if out else done), out


def _write_parsed(
    store: Store, job: _Chunk, parsed: Future[Any] | Parsed, report: ImportReport
) -> None:
    result = parsed.result() if isinstance(parsed, Future) else parsed
    if job.path is None:
        _write_chunk(store, job.key, job.day, job.lineno, result, report)
        return
    last, chunks = result
    if job.done and any(n > job.done for n, _ in chunks):
        report.resumed_from[job.path.name] = job.done  # there is work left after a kill
    for lineno, rows in chunks:
        _write_chunk(store, job.key, job.day, lineno, rows, report)
    report.lines += last


def _write_chunk(
    store: Store, key: str, day: date | None, lineno: int, parsed: Parsed, report: ImportReport
) -> None:
    rows, problems, skipped = parsed
    for message in problems:
        log.warning("%s", message)
    if day is not None:
        _mark_replacements(store, rows, day)
    store.write_rows(rows, checkpoint=(key, str(lineno)))
    report.stored += len(rows.papers)
    report.skipped += skipped


def _peek_id(line: bytes) -> str | None:
    m = re.search(rb'"id"\s*:\s*"([^"]{1,40})"', line)
    return m.group(1).decode("utf-8", "replace") if m else None


def _text(
    obj: dict[str, Any], key: str, required: bool = True, paragraphs: bool = False
) -> str | None:
    v = obj.get(key)
    if v is None and not required:  # most optional fields are null: the common case first
        return None
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


_AS_REPLACEMENT = {Kind.NEW: Kind.REPLACE, Kind.CROSS: Kind.REPLACE_CROSS}


def _mark_replacements(store: Store, rows: Rows, day: date) -> None:
    """Daily lists carry no announce type: a paper already listed on an earlier day is
    listed again because arXiv announced a new version of it, i.e. a replacement."""
    ids = {r[0] for r in rows.papers}
    firsts = store.first_days(sorted(ids))
    again = {pid for pid, d in firsts.items() if d < day}
    if not again:
        return
    earlier = {firsts[pid] for pid in again}
    if len(again) == len(ids) and len(earlier) == 1:
        # Every paper was first listed on one and the same earlier day: the collector saved
        # that day's list again (it happens on holidays), not a day of replacements.
        log.warning("skipped the listings of %s: a repeat of %s's list", day, earlier.pop())
        rows.announcements.clear()
        return
    rows.announcements[:] = [
        (c, d, p, int(_AS_REPLACEMENT.get(Kind(k), k)) if p in again else k)
        for c, d, p, k in rows.announcements
    ]


# ---- Kaggle arxiv-metadata-oai-snapshot -------------------------------------------------


def _kaggle(obj: dict[str, Any]) -> tuple[Paper, list[Announcement]]:
    aid = ids.parse(str(obj.get("id", "")))
    versions = obj.get("versions") or []
    created = [_rfc2822(v["created"]) for v in versions if v.get("created")]
    parsed = obj.get("authors_parsed")
    if isinstance(parsed, list) and parsed:
        authors = [_name(a) for a in parsed]
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


def _name(parsed: list[str]) -> str:
    """["Vaswani", "Ashish", ""] -> "Ashish Vaswani"; a suffix ("Jr") goes last."""
    if len(parsed) == 3 and not parsed[2]:  # no suffix: nearly every name, the quick way
        return f"{parsed[1]} {parsed[0]}".strip()
    return " ".join([x for x in (parsed[1], parsed[0], *parsed[2:]) if x]).strip()


# "Mon, 2 Apr 2007 19:18:42 GMT", as every version date of the snapshot is written: read
# directly (4x faster than email.utils); anything else goes through email.utils.
_GMT = re.compile(r"[A-Z][a-z]{2}, (\d{1,2}) ([A-Z][a-z]{2}) (\d{4}) (\d\d):(\d\d):(\d\d) GMT")
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}


def _rfc2822(text: str) -> datetime:
    m = _GMT.fullmatch(text)
    if m and m.group(2) in _MONTHS:
        d, mon, y, hh, mm, ss = m.groups()
        return datetime(int(y), _MONTHS[mon], int(d), int(hh), int(mm), int(ss), tzinfo=UTC)
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
