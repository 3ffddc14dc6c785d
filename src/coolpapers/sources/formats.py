"""The files `coolpapers import` reads, told apart by their content, not their names.

arXiv's JSON lines (the Kaggle snapshot, daily files) have their own pipelined importer
(sources/arxiv/files.py). Every other format is a venue's, read by its source package into
`records.Batch`es; each module named in `VENUE_FORMATS` exposes

    looks_like(path: Path, head: bytes) -> bool   # head: the first bytes, gunzipped
    read(path: Path) -> Iterator[Batch]           # its papers and venue listings, in order

Each file has a checkpoint (the number of its batches written), set in the transaction that
writes them, so an interrupted import resumes after its last written batch and a rerun of a
finished file writes nothing twice (the store upserts by key anyway: an updated record, a
DOI added later, updates its paper). A record a reader cannot read is logged and counted by
the reader, the rest kept; a file that breaks off (malformed XML, a truncated gzip) keeps
what was read before and is reported with its cause.

Speed, as arXiv's importer gets it: a source's batches are small (an ACL volume, a PMLR
section: a few hundred papers), so consecutive batches, of one file or of several, are
written together, about `BATCH_PAPERS` papers per transaction with every file's checkpoint
in it (a commit costs as much as a few hundred rows). And when there is enough to read
(`PIPELINE_BYTES`, two files or more: an Anthology checkout is a thousand files), files are
parsed and turned into rows in other processes while this one writes.
"""

from __future__ import annotations

import importlib
import logging
import zlib
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from coolpapers.records import Batch
from coolpapers.sources.parsers import PARSERS, parser_pool
from coolpapers.store import Store
from coolpapers.store.store import Rows

log = logging.getLogger("coolpapers.sources")

# Tried in this order; a file none of them takes is arXiv's JSON lines.
VENUE_FORMATS: dict[str, str] = {
    "ACL Anthology XML": "coolpapers.sources.acl.anthology",
    "PMLR volume": "coolpapers.sources.pmlr.volume",
    "paperlists JSON": "coolpapers.sources.paperlists.reader",
}
HEAD = 8192  # bytes enough to tell every format apart
BATCH_PAPERS = 5000  # papers per transaction, as arXiv's importer writes them
# From this much input on, in two files or more, files are parsed in other processes (one
# file per task: a venue file is at most a few MB). Below it, forking costs more than it saves.
PIPELINE_BYTES = 1 << 20
# Input parsed ahead of the writer, at most (compressed: a few times that in memory).
AHEAD_BYTES = 16 << 20
# What reading a venue file can raise where it breaks off: lxml's XMLSyntaxError is a
# SyntaxError, a YAML or JSON error a ValueError; a broken gzip stream one of the rest
# (gzip.BadGzipFile is an OSError)
_BREAKS = (ValueError, SyntaxError, OSError, EOFError, zlib.error)


@dataclass
class VenueReport:
    files: int = 0
    stored: int = 0
    skipped: int = 0
    resumed: dict[str, int] = field(default_factory=dict)  # file -> batches done before
    failed: dict[str, str] = field(default_factory=dict)  # file -> cause
    formats: dict[str, str] = field(default_factory=dict)  # file -> the format read


def head(path: Path) -> bytes:
    """The first bytes of a file, gunzipped when it is gzip; b"" for a folder (a PMLR
    volume) or a file that cannot be read (the importer reports it)."""
    if path.is_dir():
        return b""
    try:
        with path.open("rb") as f:
            raw = f.read(HEAD)
        if raw[:2] == b"\x1f\x8b":
            return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(raw, HEAD)
        return raw
    except (OSError, zlib.error):
        return b""


def venue_format(path: Path) -> tuple[str, ModuleType] | None:
    """The venue format of `path` and its reader, or None (arXiv's JSON lines, or nothing
    known: the arXiv importer then reports its lines as malformed)."""
    first = head(path)
    for name, module in VENUE_FORMATS.items():
        try:
            reader = importlib.import_module(module)
        except ModuleNotFoundError:
            continue  # a format whose source is not installed in this build
        if reader.looks_like(path, first):
            return name, reader
    return None


def import_venue(
    store: Store,
    path: Path,
    reader: ModuleType,
    report: VenueReport,
    progress: Callable[[int], None] | None = None,
    batch_papers: int = BATCH_PAPERS,
) -> None:
    """Import one venue file (see `import_venues`)."""
    import_venues(store, [(path, reader)], report, progress, batch_papers)


def import_venues(
    store: Store,
    files: Sequence[tuple[Path, ModuleType]],
    report: VenueReport,
    progress: Callable[[int], None] | None = None,
    batch_papers: int = BATCH_PAPERS,
) -> None:
    """Import venue files, each with its reader (`venue_format`), in the order given (see
    the module's doc). `progress` is called with the number of papers of each write."""
    jobs: list[_Job] = []
    for path, reader in files:
        report.files += 1
        size = _size(path)
        key = f"import:{path.resolve()}:{size}"
        done = int(store.get_state(key, "0") or 0)
        if done:
            report.resumed[path.name] = done
        jobs.append(_Job(path, reader, key, done, size))
    writer = _Writer(store, report, progress, batch_papers)
    big = len(jobs) > 1 and sum(j.size for j in jobs) >= PIPELINE_BYTES
    with parser_pool(big) as pool:
        if pool is None:
            for job in jobs:
                _import_here(job, writer)
        else:
            # files parsed ahead, a queue per parser, written one after the other in order
            # (parsed ahead by bytes, not files: the parsers keep busy while a transaction is
            # written, which takes a few files' worth of papers at once)
            pending: deque[tuple[_Job, Future[_Parsed]]] = deque()
            ahead = 0
            for job in jobs:
                pending.append((job, pool.submit(_parse, job.path, job.reader.__name__, job.done)))
                ahead += job.size
                while len(pending) > 2 * PARSERS and ahead > AHEAD_BYTES:
                    done, parsed = pending.popleft()
                    ahead -= done.size
                    writer.take(done, parsed)
            while pending:
                writer.take(*pending.popleft())
    writer.flush()


@dataclass(slots=True)
class _Job:
    path: Path
    reader: ModuleType
    key: str  # its checkpoint's
    done: int  # batches written before
    size: int  # bytes (a folder's files together): its checkpoint's key, the read-ahead


@dataclass(slots=True)
class _Parsed:
    """A whole file as a parser process hands it back: its batches after the checkpoint as
    rows (number, rows, records skipped), where it broke off, and what the reader logged
    (a parser's log would be lost: the writing process logs it)."""

    batches: list[tuple[int, Rows, int]] = field(default_factory=list)
    error: str | None = None
    messages: list[tuple[int, str]] = field(default_factory=list)


def _import_here(job: _Job, writer: _Writer) -> None:
    """One file read in this process, a batch at a time (memory stays one batch's)."""
    n = 0
    batches: Iterator[Batch] = job.reader.read(job.path)
    try:
        for batch in batches:
            n += 1
            writer.report.skipped += batch.skipped
            if n > job.done:  # not written before an interruption (counted then)
                writer.add(job.key, n, Rows.of(batch))
    except _BREAKS as e:
        writer.broke(job, n - 1, f"{type(e).__name__}: {e}")


def _parse(path: Path, module: str, done: int) -> _Parsed:
    """`_import_here`'s reading, in a parser process: the whole file, as rows."""
    out = _Parsed()
    catch = _Catch(out.messages)
    logging.getLogger("coolpapers").addHandler(catch)
    n = 0
    try:
        for batch in importlib.import_module(module).read(path):
            n += 1
            if n > done:
                out.batches.append((n, Rows.of(batch), batch.skipped))
            elif batch.skipped:
                out.batches.append((n, Rows(), batch.skipped))  # counted, not written
    except _BREAKS as e:
        out.error = f"{type(e).__name__}: {e}"
    finally:
        logging.getLogger("coolpapers").removeHandler(catch)
    return out


class _Catch(logging.Handler):
    def __init__(self, into: list[tuple[int, str]]) -> None:
        super().__init__(logging.INFO)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append((record.levelno, record.getMessage()))


class _Writer:
    """Consecutive batches, of one file or several, written together: one transaction per
    `batch_papers` papers, with the checkpoint of every file it holds batches of."""

    def __init__(
        self,
        store: Store,
        report: VenueReport,
        progress: Callable[[int], None] | None,
        batch_papers: int,
    ) -> None:
        self.store, self.report, self.progress = store, report, progress
        self.batch_papers = batch_papers
        self.rows = Rows()
        self.marks: dict[str, str] = {}  # checkpoint key -> batches done, once written

    def add(self, key: str, n: int, rows: Rows) -> None:
        self.rows.extend(rows)
        self.marks[key] = str(n)
        if len(self.rows.papers) >= self.batch_papers:
            self.flush()

    def take(self, job: _Job, parsed: Future[_Parsed]) -> None:
        """A file parsed in another process: its batches, messages and fault."""
        try:
            result = parsed.result()
        except Exception as e:  # the parser died or failed: this file is reported
            self.broke(job, job.done, f"parsing failed: {e!r}")
            return
        for level, message in result.messages:
            log.log(level, "%s", message)
        last = job.done
        for n, rows, skipped in result.batches:
            self.report.skipped += skipped
            if n > job.done:
                self.add(job.key, n, rows)
            last = n
        if result.error:
            self.broke(job, last, result.error)

    def broke(self, job: _Job, batches: int, cause: str) -> None:
        log.warning("%s: stopped after %d batches: %s", job.path.name, batches, cause)
        self.report.failed[job.path.name] = cause

    def flush(self) -> None:
        if not self.marks:
            return
        rows, marks = self.rows, self.marks
        self.rows, self.marks = Rows(), {}
        self.store.write_rows(rows, checkpoints=list(marks.items()))
        self.report.stored += len(rows.papers)
        if self.progress:
            self.progress(len(rows.papers))


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size
