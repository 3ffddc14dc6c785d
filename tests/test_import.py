"""Importing real files: daily JSON lines (collected from arXiv's lists) and the Kaggle snapshot.

Expected results are computed here from the raw files with a model written independently of
sources/arxiv/files.py: per file (date order; weekend files list nothing, their papers are stored),
each distinct paper is `new` in its primary category and `cross` in the others, or `replace` /
`replace-cross` when it was listed on an earlier day.
"""

from __future__ import annotations

import gzip
import json
import logging
import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from coolpapers.records import Kind
from coolpapers.sources.arxiv import files, ids
from coolpapers.sources.arxiv.files import ImportReport, estimated_listing_day, import_files
from coolpapers.sources.arxiv.taxonomy import clean_categories
from coolpapers.store import Store
from coolpapers.store.schema import announcements, day_counts, papers
from tests.conftest import SAMPLE, shared

NY = ZoneInfo("America/New_York")
KAGGLE = ("data", "kaggle-arxiv-metadata-oai-snapshot-sample.jsonl")


# ---- helpers ---------------------------------------------------------------------------


def daily(name: str) -> Path:
    return shared("data", "arxiv-daily", f"{name}.jsonl.gz")


def copy(src: Path, dst_dir: Path, name: str | None = None) -> Path:
    """A private copy, so that each test has its own import checkpoints."""
    dst = dst_dir / (name or src.name)
    shutil.copyfile(src, dst)
    return dst


def read_records(path: Path) -> list[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        return [json.loads(line) for line in f if line.strip()]


def expected_daily(paths: list[Path]) -> dict[tuple[str, date, str], Kind]:
    first_day: dict[str, date] = {}
    out: dict[tuple[str, date, str], Kind] = {}
    for path in sorted(paths, key=lambda p: p.name):
        day = date.fromisoformat(path.name[:10])
        if day.weekday() >= 5:
            continue
        seen_today: set[str] = set()
        for rec in read_records(path):
            pid = ids.parse(rec["id"]).id
            cats = clean_categories(rec["categories"])
            again = first_day.get(pid, day) < day
            for i, c in enumerate(cats):
                if again:
                    kind = Kind.REPLACE if i == 0 else Kind.REPLACE_CROSS
                else:
                    kind = Kind.NEW if i == 0 else Kind.CROSS
                key = (c, day, pid)
                out[key] = min(out.get(key, kind), kind)
            seen_today.add(pid)
        for pid in seen_today:
            first_day.setdefault(pid, day)
    return out


def stored_announcements(store: Store) -> dict[tuple[str, date, str], Kind]:
    with store.engine.connect() as c:
        rows = c.execute(select(announcements)).all()
    return {(cat, _d(d), pid): Kind(k) for cat, d, pid, k in rows}


def _d(v: Any) -> date:
    return v if isinstance(v, date) else date.fromisoformat(v)


def snapshot(store: Store) -> dict[str, list[tuple]]:
    cols = [c for c in papers.c if c.name != "ingested"]
    with store.engine.connect() as c:
        return {
            "papers": sorted(tuple(r) for r in c.execute(select(*cols))),
            "announcements": sorted(tuple(r) for r in c.execute(select(announcements))),
            "day_counts": sorted(tuple(r) for r in c.execute(select(day_counts))),
        }


def announcement_count(store: Store) -> int:
    with store.engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(announcements)).scalar() or 0)


def other_store(tmp_path: Path, name: str = "other.db") -> Store:
    return Store.open(f"sqlite:///{tmp_path / name}")


# ---- daily JSON lines --------------------------------------------------------------------


def test_import_real_daily_files(store: Store, tmp_path: Path) -> None:
    paths = [copy(daily(d), tmp_path) for d in ("2025-03-18", "2025-03-19", "2025-03-20")]
    report = import_files(store, paths)
    raw = [read_records(p) for p in paths]
    all_ids = {ids.parse(r["id"]).id for recs in raw for r in recs}
    assert report.files == 3
    assert report.lines == sum(len(recs) for recs in raw) == 465 + 172 + 438
    assert report.stored == report.lines and report.skipped == 0
    assert report.resumed_from == {} and report.skipped_files == []
    assert store.count_papers() == len(all_ids)
    expected = expected_daily(paths)
    assert stored_announcements(store) == expected
    assert {k for k in expected.values()} == {Kind.NEW, Kind.CROSS}  # no paper came back
    # day_counts agree with the announcements
    tue = date(2025, 3, 18)
    cv_tue = [k for (c, d, _), k in expected.items() if c == "cs.CV" and d == tue]
    assert store.day_totals(tue)["cs.CV"] == len(cv_tue)
    listed = store.category_counts()["cs.CV"]
    assert listed == sum(1 for (c, _, _), k in expected.items() if c == "cs.CV" and k <= 1)
    assert store.all_days() == [tue, date(2025, 3, 19), date(2025, 3, 20)]
    # one real record, field by field
    p = store.papers(["2503.11731"])["2503.11731"]
    assert p.title.startswith("Industrial-Grade Sensor Simulation via Gaussian Splatting")
    assert p.authors[:2] == ["Xianming Zeng", "Sicong Du"] and len(p.authors) == 16
    assert p.categories == ["cs.CV", "cs.RO"]
    assert p.version is None and p.published is None
    assert p.abstract.startswith("Sensor simulation is pivotal for scalable validation of")
    assert "\n" not in p.abstract  # arXiv's hard line breaks are joined
    assert "autonomous driving systems" in p.abstract
    # ACM/MSC codes never reach the store
    with store.engine.connect() as c:
        cats = {x for (s,) in c.execute(select(papers.c.categories)) for x in s.split()}
    assert cats and all(x[0].islower() for x in cats)


def test_a_paper_listed_again_is_a_replacement(store: Store, tmp_path: Path) -> None:
    first = copy(daily("2025-04-01"), tmp_path)
    second = copy(daily("2025-04-02"), tmp_path)
    import_files(store, [second, first])  # given in any order, imported in date order
    apr1, apr2 = date(2025, 4, 1), date(2025, 4, 2)
    got = stored_announcements(store)
    assert got == expected_daily([first, second])
    pid = "2503.24388"  # listed on both days
    rec = next(r for r in read_records(second) if r["id"] == pid)
    cats = clean_categories(rec["categories"])
    assert len(cats) >= 2
    assert got[(cats[0], apr1, pid)] == Kind.NEW
    assert got[(cats[0], apr2, pid)] == Kind.REPLACE
    assert all(got[(c, apr2, pid)] == Kind.REPLACE_CROSS for c in cats[1:])
    replaced = {p for (_, d, p), k in got.items() if d == apr2 and k >= Kind.REPLACE}
    assert replaced == {pid}
    listing = store.listing([cats[0]], [], apr2)
    assert listing[-1].paper.id == pid and listing[-1].kind == Kind.REPLACE
    assert store.first_days([pid]) == {pid: apr1}
    # re-reading the first day (another copy: no checkpoint) makes nothing a replacement
    (tmp_path / "again").mkdir()
    report = import_files(store, [copy(first, tmp_path / "again")])
    assert report.stored == len(read_records(first)) and report.resumed_from == {}
    assert stored_announcements(store) == got


def test_weekend_files_store_their_papers_not_listings(store: Store, tmp_path: Path) -> None:
    names = ("2025-03-21", "2025-03-22", "2025-03-23", "2025-03-24")  # Fri, Sat, Sun, Mon
    paths = [copy(daily(d), tmp_path) for d in names]
    # the collector repeated Friday's list on the weekend
    assert {r["id"] for r in read_records(paths[1])} == {r["id"] for r in read_records(paths[0])}
    seen: list[int] = []
    report = import_files(store, paths, progress=seen.append)
    assert report.skipped_files == ["2025-03-22.jsonl.gz", "2025-03-23.jsonl.gz"]
    assert report.files == 4 and report.failed == {}
    assert report.lines == sum(len(read_records(p)) for p in paths)  # every file read
    assert store.all_days() == [date(2025, 3, 21), date(2025, 3, 24)]
    got = stored_announcements(store)
    assert got == expected_daily(paths)
    assert not any(k >= Kind.REPLACE for k in got.values())  # Friday's list is not repeated
    all_ids = {ids.parse(r["id"]).id for p in paths for r in read_records(p)}
    assert set(store.papers(all_ids)) == all_ids  # nothing lost with the weekend's listings
    assert sum(seen) == sum(p.stat().st_size for p in paths)  # progress covers every byte


@pytest.mark.parametrize("pipeline", [False, True])
def test_papers_only_in_a_weekend_file_are_stored(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pipeline: bool
) -> None:
    """2606.05465 is in the Saturday file 2026-06-06 and in no other: it must reach the store,
    and no announcement may be dated on a weekend day (inline and through parser processes)."""
    if pipeline:
        monkeypatch.setattr(files, "PIPELINE_BYTES", 0)
    paths = [copy(daily(d), tmp_path) for d in ("2026-06-05", "2026-06-06", "2026-06-07")]
    sat = read_records(paths[1])
    assert "2606.05465" in {ids.parse(r["id"]).id for r in sat}
    report = import_files(store, paths)
    assert report.skipped_files == ["2026-06-06.jsonl.gz", "2026-06-07.jsonl.gz"]
    assert report.failed == {}
    assert "2606.05465" in store.papers(["2606.05465"])
    assert set(store.papers(ids.parse(r["id"]).id for r in sat)) == {
        ids.parse(r["id"]).id for r in sat
    }
    days = {d for (_, d, _) in stored_announcements(store)}
    assert days and all(d.weekday() < 5 for d in days)
    assert stored_announcements(store) == expected_daily(paths)
    assert all(d.weekday() < 5 for d in store.all_days())


def test_import_shipped_sample(store: Store, tmp_path: Path) -> None:
    """The sample inside the package (always present) imports as the model says."""
    paths = [copy(p, tmp_path) for p in sorted(SAMPLE.glob("*.jsonl.gz"))]
    assert len(paths) == 8
    report = import_files(store, paths, batch_size=1000)
    assert report.skipped == 0 and report.skipped_files == []
    got = stored_announcements(store)
    assert got == expected_daily(paths)
    assert store.all_days() == [date.fromisoformat(p.name[:10]) for p in paths]
    all_ids = {ids.parse(r["id"]).id for p in paths for r in read_records(p)}
    assert store.count_papers() == len(all_ids) == 3513
    jun2, jun3 = date(2026, 6, 2), date(2026, 6, 3)
    assert got[("cs.CL", jun2, "2605.31483")] == Kind.REPLACE
    assert got[("cs.AI", jun2, "2605.31483")] == Kind.REPLACE_CROSS
    assert sum(1 for (_, d, _), k in got.items() if d == jun3 and k == Kind.REPLACE) == 27
    # versioned ids in daily lists ("2606.00176v1") are stored without the version suffix
    with store.engine.connect() as c:
        assert c.execute(select(func.count()).where(papers.c.id.like("%v%"))).scalar() == 0
        versions = set(c.execute(select(papers.c.version).distinct()).scalars())
    assert None in versions and 1 in versions


def test_reimporting_a_finished_file_changes_nothing(store: Store, tmp_path: Path) -> None:
    path = copy(daily("2025-03-19"), tmp_path)
    first = import_files(store, [path])
    before, gen = snapshot(store), store.generation()
    again = import_files(store, [path])
    assert snapshot(store) == before
    assert store.generation() == gen  # nothing written: page caches stay valid
    assert again.stored == 0 and again.skipped == 0
    assert again.lines == first.lines == 172


def test_gz_and_plain_files_import_the_same(tmp_path: Path) -> None:
    gz = copy(daily("2025-03-19"), tmp_path)
    plain_dir = tmp_path / "plain"
    plain_dir.mkdir()
    plain = plain_dir / "2025-03-19.jsonl"
    plain.write_bytes(gzip.decompress(gz.read_bytes()))
    kaggle = shared(*KAGGLE)
    kaggle_gz = plain_dir / "snapshot.jsonl.gz"
    kaggle_gz.write_bytes(gzip.compress(kaggle.read_bytes()))

    a, b = other_store(tmp_path, "a.db"), other_store(tmp_path, "b.db")
    ra = import_files(a, [gz, kaggle])
    rb = import_files(b, [plain, kaggle_gz])
    assert (ra.lines, ra.stored) == (rb.lines, rb.stored) == (172 + 200, 172 + 200)
    assert snapshot(a) == snapshot(b)
    assert a.count_papers() == 172 + 200
    a.engine.dispose()
    b.engine.dispose()


@pytest.mark.parametrize("whole_file_bytes", [1 << 20, 0])
def test_parser_processes_import_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, whole_file_bytes: int
) -> None:
    """Big imports are parsed in other processes: small files handed over whole, big ones in
    chunks of lines (WHOLE_FILE_BYTES 0). Same rows, same checkpoints, same resume."""
    paths = [copy(p, tmp_path) for p in sorted(SAMPLE.glob("*.jsonl.gz"))]
    kaggle = copy(shared(*KAGGLE), tmp_path)
    inline = other_store(tmp_path, "inline.db")
    ra = import_files(inline, [*paths, kaggle], batch_size=300)
    monkeypatch.setattr(files, "PIPELINE_BYTES", 0)  # parser processes for any size
    monkeypatch.setattr(files, "WHOLE_FILE_BYTES", whole_file_bytes)
    piped = other_store(tmp_path, "piped.db")
    calls = {"n": 0}
    real = piped.write_rows

    def dying(*args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 12:  # killed in the middle
            raise RuntimeError("killed")
        real(*args, **kwargs)

    piped.write_rows = dying  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="killed"):
        import_files(piped, [*paths, kaggle], batch_size=300)
    del piped.write_rows
    rb = import_files(piped, [*paths, kaggle], batch_size=300)
    assert len(rb.resumed_from) == 1 and rb.stored < ra.stored  # no file was done twice
    assert rb.lines == ra.lines and rb.skipped == ra.skipped == 0
    assert snapshot(piped) == snapshot(inline)
    inline.engine.dispose()
    piped.engine.dispose()


# ---- the Kaggle snapshot -------------------------------------------------------------


def test_import_kaggle_sample(store: Store, tmp_path: Path) -> None:
    path = copy(shared(*KAGGLE), tmp_path)
    raw = read_records(path)
    report = import_files(store, [path], batch_size=64)
    assert (report.files, report.lines, report.stored, report.skipped) == (1, 200, 200, 0)
    assert store.count_papers() == 200

    p = store.papers(["0704.0001"])["0704.0001"]
    assert p.title == (
        "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    )
    assert p.authors == ["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C. -P. Yuan"]
    assert p.version == 2
    assert p.published == datetime(2007, 4, 2, 19, 18, 42)  # v1, naive UTC
    assert p.updated == datetime(2007, 7, 24, 20, 10, 27)  # v2
    assert p.journal_ref == "Phys.Rev.D76:013009,2007"
    assert p.doi == "10.1103/PhysRevD.76.013009"
    assert p.comments == "37 pages, 15 figures; published version"
    assert p.categories == ["hep-ph"]
    assert p.license is None
    assert p.abstract.startswith("A fully differential calculation in perturbative")
    # v1: Mon 2 Apr 2007 15:18 New York, after the cut-off -> announced Tue, listed Wed 4 Apr;
    # v2: Tue 24 Jul 2007 16:10 New York -> listed Thu 26 Jul as a replacement
    got = stored_announcements(store)
    assert {k: v for k, v in got.items() if k[2] == "0704.0001"} == {
        ("hep-ph", date(2007, 4, 4), "0704.0001"): Kind.NEW,
        ("hep-ph", date(2007, 7, 26), "0704.0001"): Kind.REPLACE,
    }

    by_id = {}
    for pid in ("0704.0002", "0704.0019", "0704.0041", "0704.0046", "0704.0062", "0704.0090"):
        by_id[pid] = store.papers([pid])[pid]
    assert by_id["0704.0002"].authors == ["Ileana Streinu", "Louis Theran"]
    assert by_id["0704.0002"].license == "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
    assert by_id["0704.0002"].journal_ref is None and by_id["0704.0002"].doi is None
    assert by_id["0704.0002"].categories == ["math.CO", "cs.CG"]
    # a wrapped title with a TeX accent: one line, Unicode
    assert by_id["0704.0019"].title == (
        "Approximation for extinction probability of the contact process based on the Gröbner basis"
    )
    assert "Gröbner" in by_id["0704.0019"].abstract
    # aliases merged: math.MP = math-ph, math.IT = cs.IT, cs.NA = math.NA
    assert by_id["0704.0041"].categories == ["math.QA", "math-ph"]
    assert by_id["0704.0046"].categories == ["quant-ph", "cs.IT"]
    assert "math.NA" in by_id["0704.0090"].categories
    assert "cs.NA" not in by_id["0704.0090"].categories
    assert by_id["0704.0062"].authors[0] == "Rastislav Šrámek"

    # every version is one listing, in each category of the paper
    expected: dict[tuple[str, date, str], Kind] = {}
    for r in raw:
        cats = clean_categories(r["categories"].split())
        for i, v in enumerate(r["versions"]):
            created = datetime.strptime(v["created"], "%a, %d %b %Y %H:%M:%S %Z")
            day = estimated_listing_day(created.replace(tzinfo=UTC))
            for j, c in enumerate(cats):
                kind = Kind(j > 0) if i == 0 else Kind(2 + (j > 0))
                key = (c, day, r["id"])
                expected[key] = min(expected.get(key, kind), kind)
    assert got == expected
    versions = {r["id"]: len(r["versions"]) for r in raw}
    with store.engine.connect() as c:
        stored_versions = dict(c.execute(select(papers.c.id, papers.c.version)).all())
    assert stored_versions == versions


def test_kaggle_authors_without_authors_parsed(sqlite_store: Store, tmp_path: Path) -> None:
    """Without authors_parsed the TeX `authors` string is split and its accents converted."""
    lines = shared(*KAGGLE).read_text(encoding="utf-8").splitlines()[:2]
    objs = [json.loads(line) for line in lines]
    for o in objs:
        del o["authors_parsed"]
    objs[1]["versions"] = []  # no version history: no dates, no listing
    path = tmp_path / "snapshot.jsonl"
    path.write_text("".join(json.dumps(o) + "\n" for o in objs), encoding="utf-8")
    assert "Bal\\'azs" in objs[0]["authors"]
    import_files(sqlite_store, [path])
    got = sqlite_store.papers(["0704.0001", "0704.0002"])
    assert got["0704.0001"].authors == ["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C.-P. Yuan"]
    assert got["0704.0002"].authors == ["Ileana Streinu", "Louis Theran"]
    q = got["0704.0002"]
    assert (q.version, q.published, q.updated) == (None, None, None)
    assert sqlite_store.first_days(["0704.0002"]) == {}


def _ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY).astimezone(UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("submitted", "listed"),
    [
        (_ny(2025, 3, 17, 13, 59), date(2025, 3, 18)),  # Mon before 14:00 -> Tue
        (_ny(2025, 3, 17, 14, 0), date(2025, 3, 19)),  # Mon at 14:00 -> next cut-off -> Wed
        (_ny(2025, 3, 17, 0, 5), date(2025, 3, 18)),
        (_ny(2025, 3, 20, 10, 0), date(2025, 3, 21)),  # Thu morning -> Fri
        (_ny(2025, 3, 20, 15, 0), date(2025, 3, 24)),  # Thu afternoon -> Fri's cut-off -> Mon
        (_ny(2025, 3, 21, 13, 0), date(2025, 3, 24)),  # Fri before 14:00 -> Mon
        (_ny(2025, 3, 21, 14, 30), date(2025, 3, 25)),  # Fri after 14:00 -> Mon's cut-off -> Tue
        (_ny(2025, 3, 22, 10, 0), date(2025, 3, 25)),  # Sat -> Tue
        (_ny(2025, 3, 23, 23, 0), date(2025, 3, 25)),  # Sun night -> Tue
        # New York's date, not UTC's: Tue 02:00 UTC is Mon 22:00 EDT
        (datetime(2025, 3, 18, 2, 0, tzinfo=UTC), date(2025, 3, 19)),
        # the cut-off moves with daylight saving time: 14:00 is 19:00 UTC in winter...
        (datetime(2025, 1, 6, 18, 59, tzinfo=UTC), date(2025, 1, 7)),
        (datetime(2025, 1, 6, 19, 0, tzinfo=UTC), date(2025, 1, 8)),
        # ...and 18:00 UTC in summer
        (datetime(2025, 7, 7, 17, 59, tzinfo=UTC), date(2025, 7, 8)),
        (datetime(2025, 7, 7, 18, 0, tzinfo=UTC), date(2025, 7, 9)),
    ],
)
def test_estimated_listing_day(submitted: datetime, listed: date) -> None:
    assert estimated_listing_day(submitted) == listed
    assert listed.weekday() < 5


# ---- malformed lines ---------------------------------------------------------------------


def _corrupt_kaggle(tmp_path: Path) -> tuple[Path, set[str], dict[int, str]]:
    lines = shared(*KAGGLE).read_text(encoding="utf-8").splitlines()[:20]
    bad: dict[int, str] = {}  # line number -> what the log must say

    def set_line(n: int, text: str, expect: str) -> None:
        lines[n - 1] = text
        bad[n] = expect

    def edit(n: int, change: Any, expect: str) -> None:
        obj = json.loads(lines[n - 1])
        change(obj)
        set_line(n, json.dumps(obj), expect)

    set_line(2, lines[1][:60], "skipped line 2 (id 0704.0002): ")  # truncated: bad JSON
    edit(4, lambda o: o.pop("title"), "skipped line 4 (id 0704.0004): missing title")
    edit(6, lambda o: o.update(id="0704.00x6"), "skipped line 6 (id 0704.00x6): not an arXiv id")
    edit(8, lambda o: o.update(categories="I.4 68T45"), "line 8 (id 0704.0008): no arXiv category")
    set_line(10, "[1, 2, 3]", "skipped line 10: not a JSON object")
    edit(12, lambda o: o.update(versions=["v1"]), "skipped line 12 (id 0704.0012)")
    lines[13] = "   "  # a blank line is not a record (line 14)
    set_line(16, "this is not JSON", "skipped line 16: ")
    edit(18, lambda o: o.update(authors_parsed=[["Smith"]]), "skipped line 18 (id 0704.0018)")
    edit(19, lambda o: o.update(title=["a", "list"]), "skipped line 19 (id 0704.0019): title")
    path = tmp_path / "snapshot.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    good = {json.loads(lines[i])["id"] for i in range(20) if i + 1 not in bad and i != 13}
    return path, good, bad


def test_malformed_kaggle_lines_are_logged_and_skipped(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path, good, bad = _corrupt_kaggle(tmp_path)
    assert len(good) == 10
    with caplog.at_level(logging.WARNING, logger="coolpapers.sources"):
        report = import_files(store, [path], batch_size=5)  # bad lines in every batch
    assert report.skipped == len(bad) == 9
    assert report.stored == 10 and report.lines == 20
    assert set(store.papers([f"0704.{i:04d}" for i in range(1, 21)])) == good
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(messages) == len(bad)
    for n, expect in bad.items():
        assert any(expect in m for m in messages), (n, expect, messages)
    assert not any("line 14" in m for m in messages)
    # the checkpoint covers the whole file: a rerun reads nothing again
    again = import_files(store, [path], batch_size=5)
    assert again.skipped == 0 and again.stored == 0


def test_malformed_daily_lines_are_logged_and_skipped(
    sqlite_store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with gzip.open(daily("2025-03-19"), "rt", encoding="utf-8") as f:
        objs = [json.loads(line) for _, line in zip(range(12), f, strict=False)]
    lines = [json.dumps(o) for o in objs]
    lines[0] = lines[0][:-40]  # truncated
    objs[2]["title"] = "  "
    lines[2] = json.dumps(objs[2])
    objs[4]["id"] = "2503.1173"  # four digits in 2025
    lines[4] = json.dumps(objs[4])
    objs[6]["categories"] = ["I.4", "68T45"]
    lines[6] = json.dumps(objs[6])
    objs[8]["authors"] = "A. Person"  # not a list
    lines[8] = json.dumps(objs[8])
    lines[10] = json.dumps([objs[10]])  # an array instead of an object
    path = tmp_path / "2025-03-19.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="coolpapers.sources"):
        report = import_files(sqlite_store, [path], batch_size=4)
    assert (report.skipped, report.stored) == (6, 6)
    good = {objs[i]["id"] for i in (1, 3, 5, 7, 9, 11)}
    assert set(sqlite_store.papers([o["id"] for o in objs])) == good
    messages = "\n".join(r.getMessage() for r in caplog.records)
    assert f"skipped line 1 (id {objs[0]['id']})" in messages
    assert f"skipped line 3 (id {objs[2]['id']}): missing title" in messages
    assert "skipped line 5 (id 2503.1173): not an arXiv id" in messages
    assert f"skipped line 7 (id {objs[6]['id']}): no arXiv category" in messages
    assert f"skipped line 9 (id {objs[8]['id']}): authors is not a list" in messages
    assert f"skipped line 11 (id {objs[10]['id']}): not a JSON object" in messages
    days = {d for (_, d, _) in stored_announcements(sqlite_store)}
    assert days == {date(2025, 3, 19)}


# ---- resuming after a kill ---------------------------------------------------------------


def test_resume_after_a_crash_in_the_second_batch(store: Store, tmp_path: Path) -> None:
    path = copy(shared(*KAGGLE), tmp_path)
    real_write = store.write_rows
    calls = {"n": 0}

    def dying_write(*args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("killed")
        real_write(*args, **kwargs)

    store.write_rows = dying_write  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="killed"):
        import_files(store, [path], batch_size=50)
    del store.write_rows
    assert store.count_papers() == 50  # the first batch, and nothing of the second
    assert announcement_count(store) > 0

    report = import_files(store, [path], batch_size=50)
    assert report.resumed_from == {path.name: 50}
    assert report.stored == 150 and report.lines == 200
    assert store.count_papers() == 200

    # exactly what an uninterrupted import gives
    ref = other_store(tmp_path, "ref.db")
    import_files(ref, [path], batch_size=50)
    assert snapshot(store) == snapshot(ref)
    ref.engine.dispose()


def test_resume_daily_files_after_a_kill(store: Store, tmp_path: Path) -> None:
    paths = [copy(daily(d), tmp_path) for d in ("2025-04-01", "2025-04-02")]

    class Killed(Exception):
        pass

    calls = {"n": 0}

    def progress(_n: int) -> None:
        # called after each stored batch: dies after the first batch of the second file
        calls["n"] += 1
        if calls["n"] == 3:
            raise Killed

    n_first = len(read_records(paths[0]))
    assert 200 < n_first < 400
    with pytest.raises(Killed):
        import_files(store, paths, batch_size=200, progress=progress)
    apr2 = date(2025, 4, 2)
    stored = stored_announcements(store)
    partial = {p for (_, d, p) in stored if d == apr2}
    assert 0 < len(partial) <= 200

    report = import_files(store, paths, batch_size=200)
    # the finished first file is passed over; the second resumes after its first batch
    assert report.resumed_from == {paths[1].name: 200}
    assert stored_announcements(store) == expected_daily(paths)
    assert report.stored == len(read_records(paths[1])) - 200


def test_import_report_defaults() -> None:
    r = ImportReport()
    assert (r.files, r.lines, r.stored, r.skipped, r.resumed_from, r.skipped_files) == (
        0,
        0,
        0,
        0,
        {},
        [],
    )


def test_empty_file(sqlite_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "2025-03-19.jsonl"
    path.write_bytes(b"")
    report = import_files(sqlite_store, [path])
    assert (report.files, report.lines, report.stored) == (1, 0, 0)
    assert sqlite_store.count_papers() == 0


def test_a_repeated_daily_list_is_not_taken_for_replacements(
    sqlite_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """The collectors saved 2025-12-30's list again as 2025-12-31 (a holiday): a repeat,
    not a day on which every paper was replaced."""
    days = [shared("data", "arxiv-daily", f"2025-12-{d}.jsonl.gz") for d in (30, 31)]
    assert {r["id"] for r in read_records(days[0])} == {r["id"] for r in read_records(days[1])}
    report = import_files(sqlite_store, days)
    assert sqlite_store.all_days() == [date(2025, 12, 30)]
    assert "a repeat of 2025-12-30" in caplog.text
    assert report.skipped_files == ["2025-12-31.jsonl.gz"]  # its listing, not its papers
    assert report.stored == sum(len(read_records(p)) for p in days)


def test_big_files_are_parsed_in_a_second_process_with_the_same_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Files from PIPELINE_BYTES on are parsed one chunk ahead in a forked process; the result
    and the log of skipped lines must not change."""
    from coolpapers.sources.arxiv import files

    lines = shared(*KAGGLE).read_bytes().splitlines(keepends=True)
    bad = tmp_path / "snapshot.jsonl"
    bad.write_bytes(b"".join([*lines[:70], b"{not json\n", *lines[70:]]))
    plain = Store.open(f"sqlite:///{tmp_path / 'plain.db'}")
    import_files(plain, [bad], batch_size=30)
    monkeypatch.setattr(files, "PIPELINE_BYTES", 0)
    caplog.clear()
    piped = Store.open(f"sqlite:///{tmp_path / 'piped.db'}")
    report = import_files(piped, [bad], batch_size=30)
    assert report.stored == 200 and report.skipped == 1 and report.lines == 201
    assert "skipped line 71" in caplog.text  # logged in this process, from the child's note
    ids_ = [p.id for p in plain.papers([json.loads(x)["id"] for x in lines]).values()]
    assert plain.papers(ids_) == piped.papers(ids_)
    assert plain.all_days() == piped.all_days()
    assert plain.category_counts() == piped.category_counts()
