"""Hostile input and faults on import: no hang, nothing junk stored, nothing lost.

Control characters and absurd field lengths are cleaned and bounded where every record enters
the store (records.clean, applied by Rows.of), so both engines store the same text whatever
the source. Unreadable files (a truncated gzip, random bytes) and failing parser processes are
reported per file, what was read before is kept, and the other files are imported. A SIGKILLed
import leaves no parser process behind.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from coolpapers.cli.main import app
from coolpapers.records import (
    MAX_ABSTRACT,
    MAX_AUTHORS,
    MAX_AUTHORS_CHARS,
    MAX_TITLE,
    Batch,
    Paper,
)
from coolpapers.sources.arxiv import files, ids
from coolpapers.sources.arxiv.files import import_files
from coolpapers.store import Store
from tests.conftest import shared
from tests.test_import import (
    copy,
    daily,
    expected_daily,
    read_records,
    snapshot,
    stored_announcements,
)

# ---- helpers ---------------------------------------------------------------------------


def first_records(day: str, n: int) -> list[dict[str, Any]]:
    return read_records(daily(day))[:n]


def write_lines(path: Path, objs: list[Any]) -> Path:
    path.write_text("".join(json.dumps(o) + "\n" for o in objs), encoding="utf-8")
    return path


def readable_lines(gz: bytes) -> int:
    """Complete lines a truncated gzip stream holds, by zlib (not the code under test)."""
    return zlib.decompressobj(wbits=31).decompress(gz).count(b"\n")


@pytest.fixture(params=["inline", "whole files", "chunks"])
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Parsed in this process, or in parser processes: small files whole, or in chunks."""
    if request.param != "inline":
        monkeypatch.setattr(files, "PIPELINE_BYTES", 0)
    if request.param == "chunks":
        monkeypatch.setattr(files, "WHOLE_FILE_BYTES", 0)
    return str(request.param)


# ---- control characters and bounds (every source: Rows.of) -----------------------------


def test_control_characters_are_cleaned_on_both_engines(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """One NUL used to abort a whole PostgreSQL batch (0 papers) and reach SQLite's pages."""
    objs = first_records("2025-03-19", 6)
    dirty = objs[2]
    dirty["title"] = "Robust\x00 Vision\x07 Models\x7f"
    dirty["summary"] = "First\x00 paragraph.\n\nSecond \x1b[31mparagraph\ud800."
    dirty["authors"] = ["Ada\x00 Lovelace", "\x00", "Alan\x85 Turing"]
    dirty["comment"] = "12 pages\x00\x0c"
    path = write_lines(tmp_path / "2025-03-19.jsonl", objs)
    with caplog.at_level(logging.WARNING):
        report = import_files(store, [path])
    assert (report.stored, report.skipped, report.failed) == (6, 0, {})
    got = store.papers([o["id"] for o in objs])
    assert set(got) == {o["id"] for o in objs}  # the whole batch, not just the clean ones
    p = got[dirty["id"]]
    assert p.title == "Robust Vision Models"
    assert p.abstract == "First paragraph.\n\nSecond [31mparagraph."  # paragraphs kept
    assert p.authors == ["Ada Lovelace", "Alan Turing"]  # an empty name is no author
    assert p.comments == "12 pages"
    assert f"{dirty['id']}: title: 3 control characters removed" in caplog.text
    # any source, straight through Store.write (feeds, OAI, the API, on-demand fetches)
    paper = Paper("2503.99999", "A\x00B", "x\x00", ["C\x00D"], ["cs.CL"], comments="\x00")
    store.write(Batch(papers=[paper]))
    q = store.papers(["2503.99999"])["2503.99999"]
    assert (q.title, q.abstract, q.authors, q.comments) == ("AB", "x", ["CD"], None)


def test_absurd_fields_are_bounded_and_logged(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A 10 MB title was accepted and stalled indexing for 18 minutes."""
    objs = first_records("2025-03-19", 3)
    big = objs[1]
    big["title"] = "Title " * 2_000_000  # 12 MB
    big["summary"] = "word " * 200_000
    big["authors"] = [f"Author Number {i}" for i in range(30_000)]
    big["comment"] = "c" * 50_000
    path = write_lines(tmp_path / "2025-03-19.jsonl", objs)
    with caplog.at_level(logging.WARNING):
        report = import_files(store, [path])
    assert report.stored == 3
    p = store.papers([big["id"]])[big["id"]]
    assert len(p.title) <= MAX_TITLE and p.title.startswith("Title Title") and p.title[-1] == "…"
    assert len(p.abstract) <= MAX_ABSTRACT and p.abstract.endswith("…")
    assert 0 < sum(map(len, p.authors)) <= MAX_AUTHORS_CHARS
    assert p.authors[:2] == ["Author Number 0", "Author Number 1"]
    assert p.comments is not None and len(p.comments) <= 2_000
    assert f"{big['id']}: title: 11,999,999 characters cut to 1,000" in caplog.text
    assert f"{big['id']}: abstract:" in caplog.text and f"{big['id']}: comments:" in caplog.text
    assert len(p.authors) <= MAX_AUTHORS
    # the other papers of the batch are untouched
    other = store.papers([objs[0]["id"]])[objs[0]["id"]]
    assert other.title == " ".join(objs[0]["title"].split())
    # any source: a feed's or OAI's record is bounded the same way
    store.write(Batch(papers=[Paper("2503.99998", "T" * 50_000, "a", ["X"], ["cs.CL"])]))
    assert len(store.papers(["2503.99998"])["2503.99998"].title) == MAX_TITLE


# ---- records of the wrong shape --------------------------------------------------------


def test_wrong_types_and_unknown_categories_are_skipped_or_cleaned(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    objs = first_records("2025-03-19", 6)
    lines: list[Any] = [dict(o) for o in objs]
    lines[0]["id"] = 2503.1173  # a number: refused, not read as "2503.1173"
    lines[1]["authors"] = [None, 3, {"x": 1}, "Grace Hopper"]
    lines[2]["categories"] = ["zz"]  # arXiv's form, not an arXiv category
    lines[3]["categories"] = ["cs.CV", "zz", 7, "cs.AI"]
    lines[4]["categories"] = {"cs.CV": 1}
    path = write_lines(tmp_path / "2025-03-19.jsonl", lines)
    with caplog.at_level(logging.WARNING):
        report = import_files(store, [path])
    assert (report.stored, report.skipped) == (3, 3)
    got = store.papers(o["id"] for o in objs)
    assert set(got) == {objs[i]["id"] for i in (1, 3, 5)}
    assert got[objs[1]["id"]].authors == ["Grace Hopper"]
    assert got[objs[3]["id"]].categories == ["cs.CV", "cs.AI"]
    assert {c for (c, _, p) in stored_announcements(store) if p == objs[3]["id"]} == {
        "cs.CV",
        "cs.AI",
    }
    text = caplog.text
    assert "2025-03-19.jsonl: skipped line 1: id is not text" in text
    assert f"line 2 (id {objs[1]['id']}): dropped 3 authors that are not text" in text
    assert f"skipped line 3 (id {objs[2]['id']}): no known arXiv category (zz)" in text
    assert f"line 4 (id {objs[3]['id']}): dropped 1 categories that are not text" in text
    assert f"line 4 (id {objs[3]['id']}): dropped unknown categories zz" in text
    assert f"skipped line 5 (id {objs[4]['id']}): categories is not a list" in text


def test_kaggle_authors_of_the_wrong_type_are_dropped(sqlite_store: Store, tmp_path: Path) -> None:
    obj = json.loads(
        shared("data", "kaggle-arxiv-metadata-oai-snapshot-sample.jsonl").open().readline()
    )
    obj["authors_parsed"] = [["Balázs", "C.", ""], [1, 2, ""], None, ["Berger", "E. L.", ""]]
    import_files(sqlite_store, [write_lines(tmp_path / "snapshot.jsonl", [obj])])
    assert sqlite_store.papers(["0704.0001"])["0704.0001"].authors == ["C. Balázs", "E. L. Berger"]


# ---- unreadable files ------------------------------------------------------------------


def _broken_set(tmp_path: Path) -> tuple[list[Path], int]:
    """A good file, a truncated gzip, random bytes named .gz, a good file (in date order)."""
    good1 = copy(daily("2025-03-18"), tmp_path)
    data = daily("2025-03-19").read_bytes()
    cut = data[: len(data) * 2 // 3]
    truncated = tmp_path / "2025-03-19.jsonl.gz"
    truncated.write_bytes(cut)
    noise = tmp_path / "2025-03-20.jsonl.gz"
    noise.write_bytes(os.urandom(3000))
    good2 = copy(daily("2025-03-21"), tmp_path)
    return [good1, truncated, noise, good2], readable_lines(cut)


def test_broken_gzip_files_are_reported_and_the_rest_imported(
    store: Store, tmp_path: Path, mode: str
) -> None:
    paths, n = _broken_set(tmp_path)
    assert 0 < n < len(read_records(daily("2025-03-19")))
    report = import_files(store, paths, batch_size=50)  # several chunks before the break
    assert report.failed == {
        "2025-03-19.jsonl.gz": f"truncated gzip stream after line {n}",
        "2025-03-20.jsonl.gz": report.failed["2025-03-20.jsonl.gz"],
    }
    assert report.failed["2025-03-20.jsonl.gz"].startswith("not a gzip file")
    # what was read before the break is stored, and both good files, the one after too
    read = read_records(daily("2025-03-19"))[:n]
    good = [*read_records(paths[0]), *read, *read_records(paths[3])]
    want = {ids.parse(r["id"]).id for r in good}
    assert store.count_papers() == len(want)
    assert set(store.papers(want)) == want
    assert date(2025, 3, 21) in store.all_days()
    # a rerun reads past the checkpoint, finds the same break, stores nothing twice
    again = import_files(store, paths, batch_size=50)
    assert again.failed == report.failed and again.stored == 0
    assert store.count_papers() == len(want)


def test_import_command_names_the_failed_files_and_exits_1(db_url: str, tmp_path: Path) -> None:
    paths, n = _broken_set(tmp_path)
    r = CliRunner().invoke(app, ["import", *map(str, paths)])
    assert r.exit_code == 1, r.output
    assert f"2025-03-19.jsonl.gz: truncated gzip stream after line {n}" in r.output
    assert "2025-03-20.jsonl.gz: not a gzip file" in r.output
    assert "2 files not imported to their end" in r.output
    assert "Aborted" not in r.output and "Traceback" not in r.output
    assert Store.open(db_url).all_days()[-1] == date(2025, 3, 21)  # the file after them


# ---- failing parser processes ----------------------------------------------------------

# Module-level so that the pool can pickle them (by name) into its forked processes.
_REAL_PARSE_FILE = files._parse_file
_REAL_PARSE_CHUNK = files._parse_chunk
_FAIL_DAY = date(2025, 3, 19)


def _raising_parse_file(path: Path, *args: Any) -> Any:
    if path.name.startswith(_FAIL_DAY.isoformat()):
        raise RuntimeError("parser bug")
    return _REAL_PARSE_FILE(path, *args)


def _dying_parse_file(path: Path, *args: Any) -> Any:
    if path.name.startswith(_FAIL_DAY.isoformat()):
        os._exit(3)  # as if killed (out of memory): the pool breaks
    return _REAL_PARSE_FILE(path, *args)


def _raising_parse_chunk(chunk: Any, day: date | None) -> Any:
    if day == _FAIL_DAY and chunk[0] == 101:
        raise RuntimeError("parser bug")
    return _REAL_PARSE_CHUNK(chunk, day)


DAYS = [f"2025-03-{d}" for d in range(18, 27)]  # nine files, the second one fails


@pytest.mark.parametrize(
    ("whole_file_bytes", "parse", "patched"),
    [
        (1 << 20, "_parse_file", _raising_parse_file),
        (1 << 20, "_parse_file", _dying_parse_file),
        (0, "_parse_chunk", _raising_parse_chunk),
    ],
    ids=["raises", "dies", "chunk raises"],
)
def test_a_failing_parser_is_reported_and_the_rest_imported(
    sqlite_store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    whole_file_bytes: int,
    parse: str,
    patched: Any,
) -> None:
    paths = [copy(daily(d), tmp_path) for d in DAYS]
    monkeypatch.setattr(files, "PARSERS", 2)  # four files in flight, whatever the machine
    monkeypatch.setattr(files, "PIPELINE_BYTES", 0)
    monkeypatch.setattr(files, "WHOLE_FILE_BYTES", whole_file_bytes)
    monkeypatch.setattr(files, parse, patched)
    report = import_files(sqlite_store, paths, batch_size=50)
    assert "2025-03-19.jsonl.gz" in report.failed
    assert "parsing failed" in report.failed["2025-03-19.jsonl.gz"]
    # A dead parser fails every file in flight with it (which one killed it is unknown), at
    # most the first six here; the files after them are parsed here and imported.
    assert set(report.failed) <= {p.name for p in paths[:6]}
    assert {date(2025, 3, 25), date(2025, 3, 26)} <= set(sqlite_store.all_days())
    if patched is not _dying_parse_file:
        assert set(report.failed) == {"2025-03-19.jsonl.gz"}
        assert date(2025, 3, 18) in sqlite_store.all_days()
    if parse == "_parse_chunk":
        # lines 1-100 stored; the chunk from line 101 failed, nothing after it was written:
        # the checkpoint stays before it, so a rerun reads it again
        day = {ids.parse(r["id"]).id for r in read_records(paths[1])[:100]}
        listed = {p for (_, d, p) in stored_announcements(sqlite_store) if d == _FAIL_DAY}
        assert listed == day
    monkeypatch.setattr(
        files, parse, _REAL_PARSE_FILE if parse == "_parse_file" else _REAL_PARSE_CHUNK
    )
    again = import_files(sqlite_store, paths, batch_size=50)
    assert again.failed == {}
    assert stored_announcements(sqlite_store) == expected_daily(paths)


# ---- SIGKILL: no orphan parser processes -----------------------------------------------


def pipeline_files() -> list[Path]:
    """The latest real daily files, enough of them (bytes) for the import to start its
    parser processes."""
    out: list[Path] = []
    for p in sorted(shared("data", "arxiv-daily").glob("*.jsonl.gz"), reverse=True):
        out.append(p)
        if sum(f.stat().st_size for f in out) > files.PIPELINE_BYTES + (1 << 20):
            return sorted(out)
    pytest.skip("not enough daily files in ../shared/data/arxiv-daily to start parsers")


def children(pid: int) -> set[int]:
    out: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(FileNotFoundError):
            out.update(int(x) for x in task.read_text().split())
    return out


def gone(pid: int, timeout: float = 5.0) -> bool:
    """True once no process has this pid, or it is a zombie (dead, not reaped yet)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except (FileNotFoundError, ProcessLookupError):
            return True
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            return True
        time.sleep(0.05)
    return False


def assert_gone(pids: set[int]) -> None:
    alive = [k for k in pids if not gone(k)]
    for k in alive:  # ours: cleaned up before the test fails
        os.kill(k, signal.SIGKILL)
    assert not alive, f"parser processes {alive} outlived the killed import"


def checkpoints(db: Path) -> int:
    """Import checkpoints written so far (0 before the schema exists)."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as c:
            n = c.execute("SELECT count(*) FROM state WHERE key LIKE 'import:%'").fetchone()[0]
        return int(n)
    except sqlite3.OperationalError:
        return 0


@pytest.fixture
def killer() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()


def import_process(db: Path, paths: list[Path]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "COOLPAPERS_DATABASE_URL": f"sqlite:///{db}"}
    cmd = [sys.executable, "-m", "coolpapers.cli.main", "import", *map(str, paths)]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def kill_when(proc: subprocess.Popen[bytes], db: Path, written: int) -> set[int]:
    """SIGKILL the import once its parsers run and `written` chunks are stored; its parsers
    (the pids it had then) are returned."""
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, "the import ended before it could be killed"
        assert time.monotonic() < deadline, "the import did not get going within 60 s"
        kids = children(proc.pid)
        if kids and checkpoints(db) >= written:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return kids


def test_a_killed_import_leaves_no_parser_process(
    tmp_path: Path, killer: list[subprocess.Popen[bytes]]
) -> None:
    """`kill -9` of `coolpapers import` used to leave its parser processes (100 MB each)
    waiting forever, with init as parent."""
    db = tmp_path / "killed.db"
    proc = import_process(db, pipeline_files())
    killer.append(proc)
    kids = kill_when(proc, db, 1)
    assert kids
    assert_gone(kids)


def test_many_files_killed_twice_then_rerun_equal_a_clean_import(
    tmp_path: Path, killer: list[subprocess.Popen[bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real `coolpapers import` processes of some 35 daily files (through the parser
    processes) SIGKILLed at two points, then run to the end: the store is what one
    uninterrupted import gives, and no parser survives a kill."""
    paths = [copy(p, tmp_path) for p in pipeline_files()]
    db = tmp_path / "resumed.db"
    for written in (3, 15):
        proc = import_process(db, paths)
        killer.append(proc)
        assert_gone(kill_when(proc, db, written))
    proc = import_process(db, paths)
    killer.append(proc)
    assert proc.wait(timeout=120) == 0
    resumed = Store.open(f"sqlite:///{db}")
    # the reference: one import, parsed in this process (another code path than the pool's)
    monkeypatch.setattr(files, "PIPELINE_BYTES", 1 << 40)
    clean = Store.open(f"sqlite:///{tmp_path / 'clean.db'}")
    report = import_files(clean, paths)
    assert report.failed == {} and report.stored > 10_000
    assert snapshot(resumed) == snapshot(clean)
    assert stored_announcements(resumed) == expected_daily(paths)
    resumed.engine.dispose()
    clean.engine.dispose()
