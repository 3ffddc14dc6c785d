"""The store on both backends: idempotent upserts, the version rule, announcements and their
counts, listings, state (checkpoints, the shared pace, the data generation), the migration."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import inspect, select, text

from coolpapers.llm.schema import faq_counters
from coolpapers.records import Announcement, Batch, Kind, Paper
from coolpapers.store import Store
from coolpapers.store import store as store_module
from coolpapers.store.schema import announcements, day_counts, metadata, papers, state

MON = date(2025, 3, 17)
TUE = date(2025, 3, 18)
WED = date(2025, 3, 19)


def paper(pid: str, *cats: str, version: int | None = None, title: str | None = None, **kw: Any):
    return Paper(
        id=pid,
        title=title or f"Title of {pid}",
        abstract=f"Abstract of {pid}.",
        authors=["A. Author", "B. Author"],
        categories=list(cats or ("cs.CV",)),
        version=version,
        **kw,
    )


def listed_on(p: Paper, day: date, kind: Kind = Kind.NEW) -> list[Announcement]:
    """Announcements as a source makes them: the given kind in the primary, cross elsewhere."""
    other = {Kind.NEW: Kind.CROSS, Kind.REPLACE: Kind.REPLACE_CROSS}.get(kind, kind)
    return [
        Announcement(day, c, p.id, kind if i == 0 else other) for i, c in enumerate(p.categories)
    ]


def batch_of(day: date, *ps: Paper) -> Batch:
    b = Batch(papers=list(ps))
    for p in ps:
        b.announcements.extend(listed_on(p, day))
    return b


def rows(store: Store, table: Any, skip: tuple[str, ...] = ()) -> list[tuple]:
    cols = [c for c in table.c if c.name not in skip]
    with store.engine.connect() as c:
        return sorted(tuple(r) for r in c.execute(select(*cols)))


def snapshot(store: Store) -> dict[str, list[tuple]]:
    return {
        "papers": rows(store, papers, skip=("ingested",)),
        "announcements": rows(store, announcements),
        "day_counts": rows(store, day_counts),
    }


def kinds(store: Store) -> dict[tuple[str, date, str], Kind]:
    return {(c, d, p): Kind(k) for c, d, p, k in rows(store, announcements)}


def counts(store: Store) -> dict[tuple[str, date], tuple[int, int]]:
    return {(c, d): (t, n) for c, d, t, n in rows(store, day_counts)}


# ---- writing ---------------------------------------------------------------------------


def test_write_and_read_back(store: Store) -> None:
    cet = timezone(timedelta(hours=1))
    p = paper(
        "2503.11731",
        "cs.CV",
        "cs.RO",
        version=2,
        title='Schr\\"odinger bridges for $\\"o$-splatting',
        comments="12 pages",
        journal_ref="CVPR 2025",
        doi="10.1000/xyz",
        license="http://creativecommons.org/licenses/by/4.0/",
        published=datetime(2025, 3, 14, 12, 0, tzinfo=UTC),
        updated=datetime(2025, 3, 20, 10, 30, tzinfo=cet),
    )
    p.authors = ["C. Bal\\'azs", "Paul Erd\\H{o}s"]
    store.write(Batch(papers=[p]))
    got = store.papers(["2503.11731", "9999.99999"])
    assert list(got) == ["2503.11731"]
    q = got["2503.11731"]
    assert q.title == 'Schrödinger bridges for $\\"o$-splatting'  # math left for KaTeX
    assert q.authors == ["C. Balázs", "Paul Erdős"]
    assert q.categories == ["cs.CV", "cs.RO"]
    assert (q.version, q.comments, q.journal_ref, q.doi) == (2, "12 pages", "CVPR 2025", p.doi)
    assert q.license == p.license
    assert q.published == datetime(2025, 3, 14, 12, 0)  # naive UTC
    assert q.updated == datetime(2025, 3, 20, 9, 30)
    assert store.count_papers() == 1


def test_write_is_idempotent(store: Store) -> None:
    ps = [paper("2503.00001", "cs.CV", "cs.LG"), paper("2503.00002", "cs.CL"), paper("2503.00003")]
    b = batch_of(TUE, *ps)
    b.announcements.append(Announcement(TUE, "cs.CV", "2503.00002", Kind.CROSS))
    store.write(b)
    first = snapshot(store)
    gen = store.generation()
    again = batch_of(TUE, *ps)
    again.announcements.append(Announcement(TUE, "cs.CV", "2503.00002", Kind.CROSS))
    store.write(again)
    assert snapshot(store) == first
    assert store.generation() != gen  # a write is a write: caches revalidate
    assert store.count_papers() == 3
    assert len(first["announcements"]) == 5
    assert counts(store) == {
        ("cs.CL", TUE): (1, 1),
        ("cs.CV", TUE): (3, 3),
        ("cs.LG", TUE): (1, 1),
    }


def test_an_older_version_does_not_overwrite_a_newer_one(store: Store) -> None:
    store.write(Batch(papers=[paper("2503.00001", version=3, title="Third version")]))
    store.write(Batch(papers=[paper("2503.00001", version=1, title="First version")]))
    p = store.papers(["2503.00001"])["2503.00001"]
    assert (p.version, p.title) == (3, "Third version")
    store.write(Batch(papers=[paper("2503.00001", version=3, title="Third, corrected")]))
    assert store.papers(["2503.00001"])["2503.00001"].title == "Third, corrected"
    store.write(Batch(papers=[paper("2503.00001", version=4, title="Fourth version")]))
    p = store.papers(["2503.00001"])["2503.00001"]
    assert (p.version, p.title) == (4, "Fourth version")


def test_an_unversioned_record_keeps_version_and_dates(store: Store) -> None:
    published = datetime(2025, 3, 14, 12, 0)
    updated = datetime(2025, 3, 20, 9, 30)
    rich = paper(
        "2503.00001",
        version=2,
        title="Old title",
        published=published,
        updated=updated,
        journal_ref="J. Foo 1 (2025)",
        doi="10.1/foo",
        license="L",
        comments="v2 comments",
    )
    store.write(Batch(papers=[rich]))
    store.write(Batch(papers=[paper("2503.00001", "cs.CV", "cs.AI", title="New title")]))
    p = store.papers(["2503.00001"])["2503.00001"]
    assert p.title == "New title"  # text refreshed
    assert p.categories == ["cs.CV", "cs.AI"]
    assert p.version == 2
    assert (p.published, p.updated) == (published, updated)
    assert (p.journal_ref, p.doi, p.license, p.comments) == (
        "J. Foo 1 (2025)",
        "10.1/foo",
        "L",
        "v2 comments",
    )


def test_a_versioned_record_upgrades_an_unversioned_one(store: Store) -> None:
    store.write(Batch(papers=[paper("2503.00001", title="From a daily list")]))
    assert store.papers(["2503.00001"])["2503.00001"].version is None
    store.write(Batch(papers=[paper("2503.00001", version=1, title="From the API")]))
    p = store.papers(["2503.00001"])["2503.00001"]
    assert (p.version, p.title) == (1, "From the API")


def test_duplicates_in_one_batch_keep_the_highest_version(store: Store) -> None:
    b = Batch(
        papers=[
            paper("2503.00001", version=2, title="v2"),
            paper("2503.00001", version=1, title="v1"),
            paper("2503.00002", title="first"),
            paper("2503.00002", title="second"),  # later rows win ties
        ]
    )
    store.write(b)
    got = store.papers(["2503.00001", "2503.00002"])
    assert (got["2503.00001"].version, got["2503.00001"].title) == (2, "v2")
    assert got["2503.00002"].title == "second"
    assert store.count_papers() == 2


def test_min_kind_wins_for_duplicate_announcements_in_a_batch(store: Store) -> None:
    p, q = paper("2503.00001", "cs.CV"), paper("2503.00002", "cs.CV")
    b = Batch(
        papers=[p, q],
        announcements=[
            Announcement(TUE, "cs.CV", p.id, Kind.CROSS),
            Announcement(TUE, "cs.CV", p.id, Kind.NEW),
            Announcement(TUE, "cs.CV", p.id, Kind.REPLACE),
            Announcement(TUE, "cs.CV", q.id, Kind.REPLACE_CROSS),
            Announcement(TUE, "cs.CV", q.id, Kind.REPLACE),
        ],
    )
    store.write(b)
    assert kinds(store) == {
        ("cs.CV", TUE, p.id): Kind.NEW,
        ("cs.CV", TUE, q.id): Kind.REPLACE,
    }
    assert counts(store) == {("cs.CV", TUE): (2, 1)}


def test_reannouncing_updates_kind_and_counts(store: Store) -> None:
    p = paper("2503.00001", "cs.CV", "cs.LG")
    store.write(batch_of(TUE, p))
    assert counts(store) == {("cs.CV", TUE): (1, 1), ("cs.LG", TUE): (1, 1)}
    store.write(
        Batch(
            announcements=[
                Announcement(TUE, "cs.CV", p.id, Kind.REPLACE),
                Announcement(TUE, "cs.LG", p.id, Kind.REPLACE_CROSS),
            ]
        )
    )
    assert kinds(store) == {
        ("cs.CV", TUE, p.id): Kind.REPLACE,
        ("cs.LG", TUE, p.id): Kind.REPLACE_CROSS,
    }
    assert counts(store) == {("cs.CV", TUE): (1, 0), ("cs.LG", TUE): (1, 0)}


def test_day_counts_follow_writes(store: Store) -> None:
    a, b = paper("2503.00001", "cs.CV"), paper("2503.00002", "cs.LG", "cs.CV")
    store.write(batch_of(TUE, a, b))
    assert store.day_totals(TUE) == {"cs.CV": 2, "cs.LG": 1}
    # a later batch adds to the same (category, day) and to a new day
    store.write(
        Batch(
            papers=[paper("2503.00004", "cs.CV")],
            announcements=[
                Announcement(TUE, "cs.CV", "2503.00004", Kind.REPLACE),
                Announcement(WED, "cs.CV", "2503.00001", Kind.REPLACE),
                Announcement(WED, "cs.CV", "2503.00005", Kind.NEW),
            ],
        )
    )
    assert counts(store) == {
        ("cs.CV", TUE): (3, 2),  # new + cross, the replacement is not "listed"
        ("cs.LG", TUE): (1, 1),
        ("cs.CV", WED): (2, 1),
    }
    assert store.day_totals(WED) == {"cs.CV": 2}
    assert store.day_totals(MON) == {}
    assert store.category_counts() == {"cs.CV": 3, "cs.LG": 1}
    assert store.announced_ids("cs.CV", TUE) == {"2503.00001", "2503.00002", "2503.00004"}


# ---- reading ---------------------------------------------------------------------------


def _listing_fixture(store: Store) -> None:
    ps = [
        paper("2503.00005", "cs.CV"),
        paper("2503.00002", "cs.CV", "cs.AI"),
        paper("hep-th/9901001", "cs.CV"),
        paper("2503.00001", "cs.LG", "cs.CV"),
        paper("2503.00004", "cs.CV"),
        paper("2503.00003", "cs.RO", "cs.CV"),
        paper("2503.00006", "cs.LG"),
        paper("1406.2661", "cs.CV", "cs.RO"),
    ]
    a = [
        Announcement(TUE, "cs.CV", "2503.00005", Kind.NEW),
        Announcement(TUE, "cs.CV", "2503.00002", Kind.NEW),
        Announcement(TUE, "cs.AI", "2503.00002", Kind.CROSS),
        Announcement(TUE, "cs.CV", "hep-th/9901001", Kind.NEW),
        Announcement(TUE, "cs.LG", "2503.00001", Kind.NEW),
        Announcement(TUE, "cs.CV", "2503.00001", Kind.CROSS),
        Announcement(TUE, "cs.CV", "2503.00004", Kind.REPLACE),
        Announcement(TUE, "cs.RO", "2503.00003", Kind.REPLACE),
        Announcement(TUE, "cs.CV", "2503.00003", Kind.REPLACE_CROSS),
        Announcement(TUE, "cs.LG", "2503.00006", Kind.NEW),
        Announcement(TUE, "cs.CV", "1406.2661", Kind.REPLACE),
        Announcement(WED, "cs.CV", "2503.00005", Kind.REPLACE),
    ]
    store.write(Batch(papers=ps, announcements=a))


def _ids(listed: list) -> list[tuple[str, str]]:
    return [(x.paper.id, x.kind.label) for x in listed]


def test_listing_order(store: Store) -> None:
    _listing_fixture(store)
    assert _ids(store.listing(["cs.CV"], [], TUE)) == [
        ("2503.00002", "new"),
        ("2503.00005", "new"),
        ("hep-th/9901001", "new"),  # old-style ids after new-style ones
        ("2503.00001", "cross"),
        ("1406.2661", "replace"),
        ("2503.00004", "replace"),
        ("2503.00003", "replace-cross"),
    ]
    assert _ids(store.listing(["cs.CV"], [], WED)) == [("2503.00005", "replace")]
    assert store.listing(["cs.CV"], [], MON) == []
    assert store.listing(["no.SUCH"], [], TUE) == []


def test_listing_union_of_categories_takes_the_best_kind(store: Store) -> None:
    _listing_fixture(store)
    got = _ids(store.listing(["cs.CV", "cs.LG"], [], TUE))
    # 2503.00001 is new in cs.LG and a cross-list in cs.CV: listed once, as new
    assert got == [
        ("2503.00001", "new"),
        ("2503.00002", "new"),
        ("2503.00005", "new"),
        ("2503.00006", "new"),
        ("hep-th/9901001", "new"),
        ("1406.2661", "replace"),
        ("2503.00004", "replace"),
        ("2503.00003", "replace-cross"),
    ]
    assert len({pid for pid, _ in got}) == len(got)
    listed = store.listing(["cs.CV", "cs.LG"], [], TUE)
    assert listed[0].paper.title == "Title of 2503.00001"
    assert listed[0].paper.categories == ["cs.LG", "cs.CV"]


def test_listing_exclusion(store: Store) -> None:
    _listing_fixture(store)
    got = [pid for pid, _ in _ids(store.listing(["cs.CV"], ["cs.RO"], TUE))]
    # 1406.2661 is in cs.RO without being announced there: still excluded
    assert "2503.00003" not in got and "1406.2661" not in got
    assert got == ["2503.00002", "2503.00005", "hep-th/9901001", "2503.00001", "2503.00004"]
    got = [pid for pid, _ in _ids(store.listing(["cs.CV", "cs.LG"], ["cs.AI", "cs.LG"], TUE))]
    assert got == ["2503.00005", "hep-th/9901001", "1406.2661", "2503.00004", "2503.00003"]
    assert store.listing(["cs.CV"], ["cs.CV"], TUE) == []


def test_days_all_days_category_counts_first_days(store: Store) -> None:
    assert store.days(["cs.CV"]) == []
    assert store.all_days() == []
    _listing_fixture(store)
    store.write(
        Batch(
            papers=[paper("2503.00009", "math.NA")],
            announcements=[Announcement(MON, "math.NA", "2503.00009", Kind.NEW)],
        )
    )
    assert store.days(["cs.CV"]) == [TUE, WED]
    assert store.days(["cs.LG", "math.NA"]) == [MON, TUE]
    assert store.days(["cs.RO"]) == [TUE]
    assert store.days(["no.SUCH"]) == []
    assert store.all_days() == [MON, TUE, WED]
    assert all(type(d) is date for d in store.all_days())
    assert store.category_counts() == {
        "cs.AI": 1,
        "cs.CV": 4,  # 00005, 00002, hep-th/9901001 new; 00001 cross; replacements not counted
        "cs.LG": 2,
        "cs.RO": 0,
        "math.NA": 1,
    }
    assert store.first_days(["2503.00005", "2503.00009", "2503.00001", "9999.99999"]) == {
        "2503.00005": TUE,
        "2503.00009": MON,
        "2503.00001": TUE,
    }
    assert store.first_days([]) == {}


def test_first_days_in_chunks(store: Store) -> None:
    ids = [f"2503.{i:05d}" for i in range(1, 1203)]
    store.write(
        Batch(
            papers=[paper(pid, "cs.CV") for pid in ids],
            announcements=[Announcement(TUE, "cs.CV", pid, Kind.NEW) for pid in ids[::2]],
        )
    )
    got = store.first_days(ids)
    assert len(got) == 601 and set(got) == set(ids[::2])
    assert store.last_days(ids) == got


def test_listing_days_widen_and_stay(store: Store) -> None:
    """papers.first_listed/last_listed (what the search index and the FAQ's priority read)
    follow the announcements whatever order the days come in; a re-import changes nothing."""
    p = paper("2503.00001", "cs.CV")
    store.write(Batch([p], [Announcement(TUE, "cs.CV", p.id, Kind.NEW)]))
    store.write(Batch([], [Announcement(TUE + timedelta(7), "cs.CV", p.id, Kind.REPLACE)]))
    store.write(Batch([], [Announcement(MON, "cs.LG", p.id, Kind.CROSS)]))
    store.write(Batch([p], [Announcement(TUE, "cs.CV", p.id, Kind.NEW)]))  # again
    assert store.first_days([p.id]) == {p.id: MON}
    assert store.last_days([p.id]) == {p.id: TUE + timedelta(7)}
    assert store.papers([p.id])[p.id].source == "arxiv"
    # a record of an older version than the stored one is refused, its listing is not
    old = paper("2503.00001", "cs.CV", version=1)
    store.write(Batch([paper("2503.00001", "cs.CV", version=3)]))
    store.write(Batch([old], [Announcement(TUE + timedelta(14), "cs.CV", p.id, Kind.REPLACE)]))
    assert store.papers([p.id])[p.id].version == 3
    assert store.last_days([p.id]) == {p.id: TUE + timedelta(14)}


def test_checkpoint_is_written_with_its_batch(store: Store) -> None:
    store.write(batch_of(TUE, paper("2503.00001")), checkpoint=("import:x", "100"))
    assert store.get_state("import:x") == "100"
    gen = store.generation()

    def boom(*_a: Any, **_k: Any) -> None:
        raise RuntimeError("killed mid-batch")

    store._upsert_announcements = boom  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        store.write(batch_of(TUE, paper("2503.00002")), checkpoint=("import:x", "200"))
    del store._upsert_announcements
    # neither the papers nor the checkpoint of the failed batch are there
    assert store.get_state("import:x") == "100"
    assert set(store.papers(["2503.00001", "2503.00002"])) == {"2503.00001"}
    assert store.generation() == gen
    store.write(batch_of(TUE, paper("2503.00002")), checkpoint=("import:x", "200"))
    assert store.get_state("import:x") == "200"
    assert store.count_papers() == 2


def test_state_get_set(store: Store) -> None:
    assert store.get_state("nope") is None
    assert store.get_state("nope", "d") == "d"
    store.set_state("k", "1")
    store.set_state("k", "2")
    assert store.get_state("k") == "2"
    # a checkpoint-only write (nothing in the batch) stores the checkpoint
    store.write(Batch(), checkpoint=("k", "3"))
    assert store.get_state("k") == "3"


def test_insert_new_and_increment_for_features(store: Store) -> None:
    # the two upserts features use (llm/): on PostgreSQL insert_new must not trust rowcount,
    # which psycopg reports as -1 for INSERT ... ON CONFLICT
    with store.engine.begin() as conn:
        assert store.insert_new(conn, state, {"key": "x", "value": "a"}, ["key"])
        assert not store.insert_new(conn, state, {"key": "x", "value": "b"}, ["key"])
    assert store.get_state("x") == "a"

    with store.engine.begin() as conn:
        for _ in range(3):
            store.increment(conn, faq_counters, {"paper_id": "2401.00001", "kind": "pdf"})
        store.increment(conn, faq_counters, {"paper_id": "2401.00001", "kind": "faq"})
        got = dict(conn.execute(select(faq_counters.c.kind, faq_counters.c.n)).all())
    assert got == {"pdf": 3, "faq": 1}


def test_generation_changes_after_a_write(store: Store) -> None:
    g0 = store.generation()
    assert g0 == ""
    store.write(batch_of(TUE, paper("2503.00001")))
    g1 = store.generation()
    assert g1 != g0
    store.write(Batch(), checkpoint=("k", "1"))  # no data changed
    assert store.generation() == g1
    store.write(Batch(announcements=[Announcement(WED, "cs.CV", "2503.00001", Kind.REPLACE)]))
    g2 = store.generation()
    assert g2 not in (g0, g1)


def test_reserve_slot_spacing(store: Store) -> None:
    before = time.time()
    slots = [store.reserve_slot("pace:arxiv", 3.0) for _ in range(3)]
    assert slots[0] >= before - 0.001
    assert slots[0] - before < 2.0  # the first caller may go right away
    assert slots[1] - slots[0] == pytest.approx(3.0)
    assert slots[2] - slots[1] == pytest.approx(3.0)
    # another pace is independent
    other = store.reserve_slot("pace:other", 3.0)
    assert other < slots[1]


def test_reserve_slot_with_a_fake_clock(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1_000.0]
    monkeypatch.setattr(store_module, "time", SimpleNamespace(time=lambda: now[0]))
    assert [store.reserve_slot("p", 3.0) for _ in range(3)] == [1000.0, 1003.0, 1006.0]
    now[0] = 1_100.0  # long idle: the next request may go right away
    assert store.reserve_slot("p", 3.0) == 1100.0
    assert store.reserve_slot("p", 3.0) == 1103.0
    # a 503 Retry-After holds everyone back
    store.push_slot("p", 1_200.0)
    assert store.reserve_slot("p", 3.0) == 1200.0
    # pushing backwards never moves the pace back
    store.push_slot("p", 1_000.0)
    assert store.reserve_slot("p", 3.0) == 1203.0
    # pushing a pace that was never used creates it
    store.push_slot("fresh", 1_500.0)
    assert store.reserve_slot("fresh", 3.0) == 1500.0


# ---- schema ----------------------------------------------------------------------------


def test_migration_creates_exactly_the_schema(store: Store) -> None:
    insp = inspect(store.engine)
    # features (llm/ faq_* and llm_*, search/ search_*) keep their own tables on their own
    # branches
    core = {t for t in insp.get_table_names() if not t.startswith(("faq_", "llm_", "search_"))}
    assert core == set(metadata.tables) | {"alembic_version"}
    for name, table in metadata.tables.items():
        cols = {c["name"]: c for c in insp.get_columns(name)}
        assert list(cols) == [c.name for c in table.c], name
        for c in table.c:
            assert cols[c.name]["nullable"] == (c.nullable and not c.primary_key), (name, c.name)
        pk = insp.get_pk_constraint(name)["constrained_columns"]
        assert set(pk) == {c.name for c in table.primary_key.columns}, name
        indexes = {i["name"]: i["column_names"] for i in insp.get_indexes(name)}
        assert indexes == {i.name: [c.name for c in i.columns] for i in table.indexes}, name
    with store.engine.connect() as c:
        heads = set(c.execute(text("select version_num from alembic_version")).scalars())
    # every branch at its head (core "0001" is below the feature branches that depend on it)
    from alembic.script import ScriptDirectory

    from coolpapers.store.engine import alembic_config

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    # alembic_version drops a core head once a feature revision that depends on it is applied
    depended: set[str] = set()
    for rev in script.walk_revisions():
        if rev.dependencies:
            deps = rev.dependencies
            depended |= {deps} if isinstance(deps, str) else set(deps)
    assert heads and heads <= set(script.get_heads())
    assert set(script.get_heads()) - heads <= depended


def test_each_feature_keeps_its_revisions_beside_it() -> None:
    from alembic.script import ScriptDirectory

    from coolpapers.store.engine import FEATURES, alembic_config, version_locations

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    folders = dict(zip(("core", *FEATURES), version_locations(), strict=True))
    revisions = list(script.walk_revisions())
    assert {r.revision for r in revisions} >= {"0001", "llm_0001", "search_0001"}
    for rev in revisions:  # a revision without a label belongs to its down_revision's branch
        base = rev
        while not base.branch_labels:
            base = script.get_revision(base.down_revision)
        (branch,) = base.branch_labels
        assert Path(rev.path).parent == folders[branch], rev.revision


def test_migrate_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'twice.db'}"
    s = Store.open(url)
    s.write(batch_of(TUE, paper("2503.00001")))
    s.engine.dispose()
    s = Store.open(url)
    assert s.count_papers() == 1
    s.engine.dispose()


def test_open_without_create_does_not_migrate(tmp_path: Path) -> None:
    s = Store.open(f"sqlite:///{tmp_path / 'bare.db'}", create=False)
    assert inspect(s.engine).get_table_names() == []
    s.engine.dispose()


def test_postgresql_pings_a_pooled_connection_only_after_it_sat_idle(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection given back a moment ago is used without a ping (a round trip a search
    paid ~10 times); one that sat idle is pinged, and a dead one is replaced, not used."""
    if store.dialect != "postgresql":
        pytest.skip("SQLite has no connection to lose")
    from coolpapers.store import engine as engine_module

    pings: list[object] = []
    real_ping = store.engine.dialect.do_ping

    def counted(dbapi_conn: object) -> bool:
        pings.append(dbapi_conn)
        return real_ping(dbapi_conn)

    monkeypatch.setattr(store.engine.dialect, "do_ping", counted)
    for _ in range(3):
        with store.engine.connect() as c:
            pid = c.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    assert pings == []

    # killed while idle in the pool (a server restart, an idle timeout), from outside it
    import psycopg

    url = store.engine.url.set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as k:
        k.execute("SELECT pg_terminate_backend(%s)", (pid,))
    monkeypatch.setattr(engine_module, "PING_IDLE", 0.0)
    pings.clear()
    for _ in range(2):
        with store.engine.connect() as c:
            assert c.exec_driver_sql("SELECT 1").scalar() == 1
    assert pings  # the idle connections were pinged, the dead one replaced


def test_reading_holds_one_connection_for_its_reads(store: Store, tmp_path: Path) -> None:
    """Store.reading: every read inside shares one connection (a search page's ~12), in
    autocommit on PostgreSQL; writes keep their own transactions and are seen at once."""
    with store.connect() as a, store.connect() as b:
        assert a is not b  # outside a block: the pool's, one each
    with store.reading():
        with store.connect() as a, store.connect() as b:
            assert a is b
            held: Any = a.connection.driver_connection
            if store.dialect == "postgresql":
                assert held.autocommit
        with store.reading(), store.connect() as inner:  # nested: the outer block's
            assert inner is a
        store.set_state("reading-test", "1")  # a write: its own connection, committed
        assert store.get_state("reading-test") == "1"
        other = Store.open(f"sqlite:///{tmp_path / 'other.db'}")
        with other.connect() as c:  # another store's reads are its own
            assert c is not a
        with other.reading(), other.connect() as c1, other.connect() as c2:
            assert c1 is c2 and c1 is not a  # its own block, inside this one
            with store.connect() as mine:  # this store's reads: not the other's connection
                assert mine is not c1
        with store.connect() as again:  # this block's connection once the other's ends
            assert again is a
        other.engine.dispose()
    with store.connect() as after:
        assert after is not a
        assert store.get_state("reading-test") == "1"
    if store.dialect == "postgresql":  # back in the pool as it was: writes stay atomic
        assert not held.autocommit
