"""Import arXiv metadata from files: the Kaggle snapshot and daily JSON lines (plain or .gz).

Both are streamed line by line and written in batches, each batch in one transaction with a
checkpoint (lines done), so memory stays flat and a killed import resumes where it stopped with
no duplicate and no gap. A malformed line is logged with its line number (and id, if it has
one) and skipped; the rest of its batch is kept. A file that cannot be read to its end (a
truncated or corrupt gzip stream) or whose parsing fails keeps what was read before, is
reported with its cause (ImportReport.failed), and the import goes on with the next file.
"""

from __future__ import annotations

import gzip
import io
import json
import logging
import re
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import BrokenExecutor, Future
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from itertools import islice
from pathlib import Path
from typing import IO, Any

import orjson

from coolpapers.records import MAX_CATEGORIES, Announcement, Batch, Kind, Paper
from coolpapers.sources.arxiv import ids, taxonomy
from coolpapers.sources.arxiv.timetable import estimated_listing_day, is_listing_day
from coolpapers.sources.parsers import PARSERS, parser_pool
from coolpapers.store import Store
from coolpapers.store.store import Rows
from coolpapers.texmarkup import oneline, unwrap

log = logging.getLogger("coolpapers.sources")
_DAILY_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})\.jsonl(\.gz)?$")

PIPELINE_BYTES = 8 << 20  # files from this size on are parsed in other processes
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
    # files whose listings were not stored (a weekend day, a repeat of an earlier day's list):
    # their papers were
    skipped_files: list[str] = field(default_factory=list)
    # files not imported to their end, with the cause; the lines before it are stored and
    # checkpointed, so a rerun of a repaired file goes on from there
    failed: dict[str, str] = field(default_factory=dict)


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
        if day is not None and not is_listing_day(day):
            # arXiv lists nothing on Saturday or Sunday: a collector's weekend file repeats
            # Friday's list, or has papers of the next Monday's early. Its papers are stored
            # (some are in no other file), its listing is not (_write_chunk).
            log.info("%s: %s is a weekend day: papers stored, not listed", path.name, day)
            report.skipped_files.append(path.name)
        files.append((path, day))
    # Parsing runs ahead of writing, in other processes when there is enough to import:
    # parsing costs about twice what writing does (41 us against 19 us a line), so two
    # parsers keep one writer busy even on two cores. Chunks are still written in order, each
    # with its checkpoint, one file after the other (replacements are found from the days
    # written before).
    with parser_pool(sum(p.stat().st_size for p, _ in files) >= PIPELINE_BYTES) as pool:
        ahead = 2 * PARSERS if pool else 0  # a queue for each parser: none waits for the writer
        pending: deque[tuple[_Chunk, Future[Any] | Any]] = deque()
        failed: set[str] = set()  # checkpoint keys of files that failed: no chunk after it
        live = pool
        for job, lines in _all_chunks(store, files, batch_size, progress, report, pool is not None):
            parsed: Future[Any] | Any
            if live is not None:
                try:
                    if job.path is not None:
                        parsed = live.submit(_parse_file, job.path, job.done, batch_size, job.day)
                    else:
                        parsed = live.submit(_parse_chunk, lines, job.day)
                except BrokenExecutor:
                    # a parser process died (killed, out of memory): its files are reported
                    # as they come up; the rest is parsed here
                    log.warning("the parser processes are gone: parsing in this process")
                    live = None
            if live is None:
                try:
                    parsed = _parse_here(job, lines, batch_size)
                except Exception as e:  # reported as the file's failure
                    parsed = _failed_future(e)
            pending.append((job, parsed))
            if len(pending) > ahead:
                _write_parsed(store, *pending.popleft(), report, failed)
        while pending:
            _write_parsed(store, *pending.popleft(), report, failed)
    return report


def _parse_here(job: _Chunk, lines: Lines, batch_size: int) -> Any:
    if job.path is not None:
        return _parse_file(job.path, job.done, batch_size, job.day)
    return _parse_chunk(lines, job.day)


def _failed_future(e: BaseException) -> Future[Any]:
    f: Future[Any] = Future()
    f.set_exception(e)
    return f


def _fail(report: ImportReport, name: str, cause: str) -> None:
    if name not in report.failed:
        log.error("%s: %s", name, cause)
        report.failed[name] = cause


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
    name: str = ""  # the file's, for messages
    first: int = 0  # the number of a chunk's first line, for messages


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
            yield _Chunk(key, day, 0, path, done, path.name), (0, [])
            if progress:
                progress(size)
            continue
        last_pos = 0
        try:
            raw = path.open("rb")
        except OSError as e:
            _fail(report, path.name, f"cannot be read ({e})")
            if progress:
                progress(size)
            continue
        with raw:
            stream: IO[bytes] = gzip.open(raw) if path.suffix == ".gz" else raw  # type: ignore[assignment]  # noqa: SIM115
            source = _Lines(stream)
            chunks = _chunks(source, done, batch_size)
            lineno, lines = next(chunks, (done, (done + 1, [])))
            while True:
                if done and path.name not in report.resumed_from and lines[1]:
                    report.resumed_from[path.name] = done  # there is work left after a kill
                following = next(chunks, None)
                if following is None:
                    report.lines += lineno
                if following is not None or lineno > done or (lineno == 0 and not source.error):
                    yield _Chunk(key, day, lineno, name=path.name, first=lines[0]), lines
                if progress:  # after the chunk was handed over (written, without a pool)
                    pos = size if following is None else raw.tell()
                    progress(pos - last_pos)
                    last_pos = pos
                if following is None:
                    break
                lineno, lines = following
            if source.error:  # the last chunk above holds the lines read before it
                _fail(report, path.name, f"{source.error} after line {max(lineno, done)}")


# Rows to write, messages about skipped lines, how many were skipped
Parsed = tuple[Rows, list[str], int]


# A chunk of lines: the number of its first line, and the lines (a plain list of bytes: the
# writing process reads and hands them over with no work per line)
Lines = tuple[int, list[bytes]]


# What reading a file can raise: gzip.BadGzipFile (an OSError: not gzip), EOFError (a
# truncated stream), zlib.error (corrupt data), OSError (the disk)
_READ_ERRORS = (OSError, EOFError, zlib.error)


class _Lines:
    """The lines of a stream up to the first read error, which is kept (`error`): the lines
    before it are imported and the file is reported, not the whole import stopped."""

    def __init__(self, stream: Iterable[bytes]) -> None:
        self.stream = stream
        self.error: str | None = None

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self.stream
        except EOFError:
            self.error = "truncated gzip stream"
        except gzip.BadGzipFile as e:
            self.error = f"not a gzip file ({e})"
        except zlib.error as e:
            self.error = f"corrupt gzip stream ({e})"
        except OSError as e:
            self.error = f"read error ({e})"


def _chunks(source: _Lines, done: int, batch_size: int) -> Iterator[tuple[int, Lines]]:
    """(last line number, lines) per batch, after the `done` lines; an empty file yields one
    empty chunk so that its checkpoint is still written (not an unreadable one: its checkpoint
    stays)."""
    stream = iter(source)
    lineno = sum(1 for _ in islice(stream, done))
    while lines := list(islice(stream, batch_size)):
        yield lineno + len(lines), (lineno + 1, lines)
        lineno += len(lines)
    if lineno == 0 and not source.error:
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
        notes: list[str] = []
        try:
            obj = _loads(line)
            if not isinstance(obj, dict):
                raise BadRecord("not a JSON object")
            paper, anns = _daily(obj, day, notes) if day else _kaggle(obj, notes)
        # AttributeError, IndexError: wrong shapes inside a record (versions: ["v1"],
        # authors_parsed: [["Smith"]]) are malformed lines too, not a reason to stop the import
        except (ValueError, KeyError, TypeError, AttributeError, IndexError) as e:
            rid = _peek_id(line)
            problems.append(f"skipped line {n}{f' (id {rid})' if rid else ''}: {e}")
            batch.skipped += 1
            continue
        problems.extend(f"line {n} (id {paper.id}): {note}" for note in notes)
        batch.papers.append(paper)
        batch.announcements.extend(anns)
    return Rows.of(batch), problems, batch.skipped


def _loads(line: bytes) -> Any:
    try:
        return orjson.loads(line)  # 2.3x json's speed: a tenth of an import's parsing
    except orjson.JSONDecodeError as e:
        if "surrogate" not in str(e):
            raise
        # JSON may escape a lone surrogate ("\ud800"), which orjson refuses: json reads it
        # and records.clean removes it like a control character, so the record is kept
        return json.loads(line)


def _parse_file(
    path: Path, done: int, batch_size: int, day: date | None
) -> tuple[int, list[tuple[int, Parsed]], str | None]:
    """A whole small file, read, decompressed and parsed in a parser process: (its last line
    number, [(last line number, rows) per batch after the `done` lines], why it could not be
    read to its end or None)."""
    data = path.read_bytes()
    stream: IO[bytes] = io.BytesIO(data)
    if path.suffix == ".gz":
        try:
            stream = io.BytesIO(gzip.decompress(data))  # all at once: the quick way
        except _READ_ERRORS:
            stream = gzip.GzipFile(fileobj=stream)  # line by line, up to the error
    source = _Lines(stream)
    out = [(n, _parse_chunk(lines, day)) for n, lines in _chunks(source, done, batch_size)]
    last = max(out[-1][0] if out else 0, done)
    return last, out, (f"{source.error} after line {last}" if source.error else None)


def _write_parsed(
    store: Store, job: _Chunk, parsed: Future[Any] | Any, report: ImportReport, failed: set[str]
) -> None:
    if job.key in failed:  # a chunk before this one was not written: its checkpoint must not
        return  # move past it (a rerun parses the file again from there)
    try:
        result = parsed.result() if isinstance(parsed, Future) else parsed
    except Exception as e:  # a parser failed or died: this file is reported
        failed.add(job.key)
        where = f"lines {job.first}-{job.lineno}" if job.path is None else f"after line {job.done}"
        _fail(report, job.name, f"parsing failed, {where}: {e!r}")
        return
    if job.path is None:
        _write_chunk(store, job, job.lineno, result, report)
        return
    last, chunks, error = result
    if job.done and any(n > job.done for n, _ in chunks):
        report.resumed_from[job.path.name] = job.done  # there is work left after a kill
    for lineno, rows in chunks:
        _write_chunk(store, job, lineno, rows, report)
    report.lines += last
    if error:
        _fail(report, job.name, error)


def _write_chunk(
    store: Store, job: _Chunk, lineno: int, parsed: Parsed, report: ImportReport
) -> None:
    rows, problems, skipped = parsed
    for message in problems:
        log.warning("%s: %s", job.name, message)
    day = job.day
    if day is not None and not is_listing_day(day):
        rows.announcements.clear()  # papers only: arXiv lists nothing on a weekend day
    elif (
        day is not None
        and _mark_replacements(store, rows, day)
        and job.name not in report.skipped_files
    ):
        report.skipped_files.append(job.name)
    store.write_rows(rows, checkpoint=(job.key, str(lineno)))
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


def _id(obj: dict[str, Any]) -> ids.ArxivId:
    raw = obj.get("id")
    # a number is refused, not read: 2503.10010 as a float is 2503.1001, another paper
    if not isinstance(raw, str):
        raise BadRecord("id is not text")
    if len(raw) > 100:  # the longest id, as a URL, has some 50 characters
        raise BadRecord("not an arXiv id (too long)")
    return ids.parse(raw)


def _categories(raw: Any, notes: list[str]) -> list[str]:
    if isinstance(raw, str):
        codes = raw.split()
    elif isinstance(raw, list):
        codes = [c for c in raw if isinstance(c, str)]
        if len(codes) < len(raw):
            notes.append(f"dropped {len(raw) - len(codes)} categories that are not text")
    elif raw is None:
        codes = []
    else:
        raise BadRecord("categories is not a list")
    cats = taxonomy.clean_categories(codes)
    if not cats:
        raise BadRecord("no arXiv category")
    # Codes of the arXiv form that arXiv does not have ("zz") would make listings nobody can
    # reach and junk in the category counts: dropped, and a record with none known refused.
    # (A category arXiv adds later needs its row in data/arxiv-taxonomy.tsv.)
    known = [c for c in cats if taxonomy.known(c)]
    if not known:
        raise BadRecord(f"no known arXiv category ({' '.join(cats[:5])[:100]})")
    if len(known) < len(cats):
        unknown = [c for c in cats if c not in known]
        notes.append(f"dropped unknown categories {' '.join(unknown[:5])[:100]}")
    return known[:MAX_CATEGORIES]


def _first_listings(paper: Paper, day: date, replace: bool = False) -> list[Announcement]:
    first, other = (Kind.REPLACE, Kind.REPLACE_CROSS) if replace else (Kind.NEW, Kind.CROSS)
    return [
        Announcement(day, c, paper.id, first if i == 0 else other)
        for i, c in enumerate(paper.categories)
    ]


# ---- daily JSON lines ({"id","pdf","abs","authors","title","categories","comment","summary"})


def _daily(
    obj: dict[str, Any], day: date | None, notes: list[str]
) -> tuple[Paper, list[Announcement]]:
    assert day is not None
    aid = _id(obj)
    authors = obj.get("authors") or []
    if not isinstance(authors, list):
        raise BadRecord("authors is not a list")
    names = [oneline(a) for a in authors if isinstance(a, str)]
    if len(names) < len(authors):  # null, 3, {"x": 1}: no name, not "None", "3", "{'x': 1}"
        notes.append(f"dropped {len(authors) - len(names)} authors that are not text")
    paper = Paper(
        id=aid.id,
        version=aid.version,
        title=_text(obj, "title") or "",
        abstract=_text(obj, "summary", paragraphs=True) or "",
        authors=[a for a in names if a],
        categories=_categories(obj.get("categories"), notes),
        comments=_text(obj, "comment", required=False),
    )
    return paper, _first_listings(paper, day)


_AS_REPLACEMENT = {Kind.NEW: Kind.REPLACE, Kind.CROSS: Kind.REPLACE_CROSS}


def _mark_replacements(store: Store, rows: Rows, day: date) -> bool:
    """Daily lists carry no announce type: a paper already listed on an earlier day is
    listed again because arXiv announced a new version of it, i.e. a replacement. True when
    the list is a repeat of an earlier day's: its listings are dropped, its papers kept."""
    ids = {r[0] for r in rows.papers}
    firsts = store.first_days(sorted(ids))
    again = {pid for pid, d in firsts.items() if d < day}
    if not again:
        return False
    earlier = {firsts[pid] for pid in again}
    if len(again) == len(ids) and len(earlier) == 1:
        # Every paper was first listed on one and the same earlier day: the collector saved
        # that day's list again (it happens on holidays), not a day of replacements.
        log.warning("skipped the listings of %s: a repeat of %s's list", day, earlier.pop())
        rows.announcements.clear()
        return True
    rows.announcements[:] = [
        (c, d, p, int(_AS_REPLACEMENT.get(Kind(k), k)) if p in again else k)
        for c, d, p, k in rows.announcements
    ]
    return False


# ---- Kaggle arxiv-metadata-oai-snapshot -------------------------------------------------


def _kaggle(obj: dict[str, Any], notes: list[str]) -> tuple[Paper, list[Announcement]]:
    aid = _id(obj)
    versions = obj.get("versions") or []
    created = [_rfc2822(v["created"]) for v in versions if v.get("created")]
    parsed = obj.get("authors_parsed")
    if isinstance(parsed, list) and parsed:
        named = [_name(a) for a in parsed if isinstance(a, list) and _all_text(a)]
        if len(named) < len(parsed):
            notes.append(f"dropped {len(parsed) - len(named)} authors that are not text")
        authors = [a for a in named if a]
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
        categories=_categories(obj.get("categories"), notes),
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


def _all_text(parts: list[Any]) -> bool:
    return all(isinstance(p, str) for p in parts)


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
