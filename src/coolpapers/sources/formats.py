"""The files `coolpapers import` reads, told apart by their content, not their names.

arXiv's JSON lines (the Kaggle snapshot, daily files) have their own pipelined importer
(sources/arxiv/files.py). Every other format is a venue's, read by its source package into
`records.Batch`es; each module named in `VENUE_FORMATS` exposes

    looks_like(path: Path, head: bytes) -> bool   # head: the first bytes, gunzipped
    read(path: Path) -> Iterator[Batch]           # its papers and venue listings, in order

A venue file is written batch by batch, each with a checkpoint (the batches done) in the
same transaction, so an interrupted import resumes after its last written batch and a rerun
of a finished file writes nothing twice (the store upserts by key anyway: an updated record,
a DOI added later, updates its paper). A record a reader cannot read is logged and counted
by the reader, the rest kept; a file that breaks off (malformed XML, a truncated gzip) keeps
what was read before and is reported with its cause.
"""

from __future__ import annotations

import importlib
import logging
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from coolpapers.records import Batch
from coolpapers.store import Store

log = logging.getLogger("coolpapers.sources")

# Tried in this order; a file none of them takes is arXiv's JSON lines.
VENUE_FORMATS: dict[str, str] = {
    "ACL Anthology XML": "coolpapers.sources.acl.anthology",
    "PMLR volume": "coolpapers.sources.pmlr.volume",
    "paperlists JSON": "coolpapers.sources.paperlists.reader",
}
HEAD = 8192  # bytes enough to tell every format apart


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
) -> None:
    """Write the batches of one venue file after its checkpoint (see the module's doc)."""
    report.files += 1
    key = f"import:{path.resolve()}:{_size(path)}"
    done = int(store.get_state(key, "0") or 0)
    if done:
        report.resumed[path.name] = done
    n = 0
    batches: Iterator[Batch] = reader.read(path)
    try:
        for batch in batches:
            n += 1
            report.skipped += batch.skipped
            if n <= done:
                continue  # written before an interruption (its records were counted then)
            store.write(batch, checkpoint=(key, str(n)))
            report.stored += len(batch.papers)
            if progress:
                progress(len(batch.papers))
    except (ValueError, SyntaxError, OSError, EOFError, zlib.error) as e:
        # lxml's XMLSyntaxError is a SyntaxError, a YAML or JSON error a ValueError; a broken
        # gzip stream raises one of the rest (gzip.BadGzipFile is an OSError)
        log.warning("%s: stopped after %d batches: %s", path.name, n - 1, e)
        report.failed[path.name] = f"{type(e).__name__}: {e}"


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size
