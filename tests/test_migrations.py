"""A deployment's database from before papers had a source upgrades with nothing lost.

The database is built with the migrations as they were (core 0001, llm_0002, search_0002),
filled through raw SQL the way that code wrote it (papers, listings, day counts, a finished
FAQ answer, a queued job, click counters, search rows with keywords and a vector), then
brought to the heads as `Store.open` does on start-up. Everything is found again under the
same keys, every paper is arXiv's, the listing days moved onto the papers, and the search
index keeps its days and follows new writes through the new triggers. On SQLite and on
PostgreSQL (a schema of its own, at the old revisions).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine, text

from coolpapers.config import Settings
from coolpapers.llm.service import FaqService
from coolpapers.records import Announcement, Batch, Kind, Paper
from coolpapers.search import indexer
from coolpapers.search.keyword import engine_for
from coolpapers.search.query import parse as parse_query
from coolpapers.store import Store
from coolpapers.store.engine import alembic_config, make_engine
from tests.conftest import PG_URL, _pg_available

# the heads of each branch before papers had a source
OLD_HEADS = ("0001", "llm_0002", "search_0002")
MON, TUE = date(2025, 3, 17), date(2025, 3, 18)


@pytest.fixture(params=["sqlite", "postgresql"])
def old_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    if not _pg_available():
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}")
    name = f"cp_mig_{uuid.uuid4().hex[:10]}"
    eng = create_engine(PG_URL)
    with eng.begin() as c:
        c.execute(text(f"CREATE SCHEMA {name}"))
    yield f"{PG_URL}?options=-csearch_path%3D{name}"
    with eng.begin() as c:
        c.execute(text(f"DROP SCHEMA {name} CASCADE"))
    eng.dispose()


def _old_database(url: str) -> Engine:
    engine = make_engine(url)
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        for head in OLD_HEADS:
            command.upgrade(cfg, head)
    return engine


def _fill(engine: Engine) -> None:
    """What the code before 0002 wrote, column for column."""
    pg = engine.dialect.name == "postgresql"
    now = datetime(2025, 3, 18, 12)
    with engine.begin() as c:
        for pid, title, v in [
            ("2503.00001", "Sparse attention for long documents", 2),
            ("hep-th/9901001", "Strings on the lattice", 1),
            ("2503.00002", "Graph neural networks at scale", 1),
        ]:
            c.execute(
                text(
                    "INSERT INTO papers (id, version, title, authors, abstract, categories, "
                    "published, updated, ingested) VALUES (:id, :v, :t, :au, :ab, :cats, "
                    ":pub, :pub, :now)"
                ),
                {"id": pid, "v": v, "t": title, "au": '["Ada Lovelace"]',
                 "ab": f"{title}: an abstract.", "cats": "cs.CL cs.LG",
                 "pub": datetime(2025, 3, 1), "now": now},
            )  # fmt: skip
        for cat, day, pid, kind in [
            ("cs.CL", TUE, "2503.00001", 0),
            ("cs.LG", MON, "2503.00001", 1),
            ("cs.CL", TUE + timedelta(7), "2503.00001", 2),
            ("cs.CL", TUE, "2503.00002", 0),
        ]:
            c.execute(
                text("INSERT INTO announcements VALUES (:c, :d, :p, :k)"),
                {"c": cat, "d": day, "p": pid, "k": kind},
            )
        c.execute(text("INSERT INTO day_counts VALUES ('cs.CL', :d, 2, 2)"), {"d": TUE})
        c.execute(
            text(
                "INSERT INTO faq_answers (paper_id, lang, turns, html, model, prompt_version, "
                "paper_version, source, usage, seconds, created) VALUES ('2503.00001', 'en', "
                """'[{"q": "What?", "a": "This."}]', '<p>This.</p>', 'm', 'v1', 2, 'pdf', """
                "'{}', 1.5, :now)"
            ),
            {"now": now},
        )
        c.execute(
            text(
                "INSERT INTO faq_jobs (paper_id, lang, state, priority, enqueued, attempt, "
                "updated) VALUES ('2503.00002', 'zh', 'pending', 7, 1.0, 0, 1.0)"
            )
        )
        c.execute(text("INSERT INTO faq_counters VALUES ('2503.00001', 'pdf', 3)"))
        if not pg:  # SQLite: new papers wait in the queue for the indexer (search_0002)
            c.execute(text("DELETE FROM search_queue"))
            c.execute(
                text(
                    "INSERT INTO search_docs (paper_id, day, dirty, fts) SELECT p.id, "
                    "(SELECT min(day) FROM announcements a WHERE a.paper_id = p.id), 0, 1 "
                    "FROM papers p"
                )
            )
            c.execute(text("INSERT INTO search_fts(search_fts) VALUES ('rebuild')"))
        c.execute(text("INSERT INTO search_keywords VALUES ('2503.00001', 'sparse attention')"))
        docid = c.execute(
            text("SELECT docid FROM search_docs WHERE paper_id = '2503.00001'")
        ).scalar()
        c.execute(
            text("INSERT INTO search_vectors VALUES (:d, 1, 'm', :v)"),
            {"d": docid, "v": b"\x00\x3c" * 4},
        )


def test_an_old_database_upgrades_with_nothing_lost(old_url: str) -> None:
    _fill(_old_database(old_url))
    store = Store.open(old_url)  # what every start-up does: migrate to the heads
    try:
        found = store.papers(["2503.00001", "hep-th/9901001", "2503.00002"])
        assert set(found) == {"2503.00001", "hep-th/9901001", "2503.00002"}
        assert {p.source for p in found.values()} == {"arxiv"}
        assert found["2503.00001"].version == 2
        # listing days moved onto the papers, from every announcement
        assert store.first_days(list(found)) == {"2503.00001": MON, "2503.00002": TUE}
        assert store.last_days(["2503.00001"]) == {"2503.00001": TUE + timedelta(7)}
        assert [e[0] for e in store.listing_entries(["cs.CL"], [], TUE)] == [
            "2503.00001",
            "2503.00002",
        ]
        # the FAQ's cache, queue and counters under the same keys
        faq = FaqService(store, Settings(database_url=old_url))
        answer = faq.answer("2503.00001", "en")
        assert answer is not None and answer.html == "<p>This.</p>"
        assert faq.queue.status("2503.00002", "zh").state == "pending"
        with store.engine.connect() as c:
            assert c.execute(text("SELECT n FROM faq_counters")).scalar() == 3
            days = dict(c.execute(text("SELECT paper_id, day FROM search_docs")).all())
            assert c.execute(text("SELECT count(*) FROM search_vectors")).scalar() == 1
            kw = c.execute(text("SELECT keywords FROM search_keywords")).scalar()
        assert kw == "sparse attention"
        as_date = {k: v if isinstance(v, date) or v is None else date.fromisoformat(v)
                   for k, v in days.items()}  # fmt: skip
        assert as_date["2503.00001"] == MON and as_date["2503.00002"] == TUE
        # the index still answers, and follows a write made through the new triggers
        engine = engine_for(store)
        assert [h.paper_id for h in engine.search(parse_query("sparse attention"))[1]] == [
            "2503.00001"
        ]
        new = Paper(
            "2503.00003",
            "Lattice QCD with sparse solvers",
            "About solvers.",
            ["B. Riemann"],
            ["hep-lat"],
            version=1,
            published=datetime(2025, 3, 20),
        )
        store.write(Batch([new], [Announcement(TUE + timedelta(1), "hep-lat", new.id, Kind.NEW)]))
        indexer.catch_up_fulltext(store)
        hits = engine.search(parse_query("sparse"), sort="date")[1]
        assert [h.paper_id for h in hits] == ["2503.00003", "2503.00001"]
    finally:
        store.engine.dispose()
