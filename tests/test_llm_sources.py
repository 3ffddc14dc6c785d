"""The FAQ for papers of any source: the PDF is the one its source links, fetched through the
paced client of that host's pace (its own state row, never arXiv's); a source that links no
PDF gets an abstract-only FAQ, remembered like a missing PDF. Real ACL Anthology PDFs
(../shared/pdfs/acl) on a 127.0.0.1 replay server stand in for a conference source's host."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import EntryPoint

import pytest
from sqlalchemy import select

from coolpapers.llm import fulltext
from coolpapers.llm.prompts import SOURCE_NAMES
from coolpapers.llm.schema import faq_fulltext
from coolpapers.llm.service import FaqService
from coolpapers.llm.worker import Workers
from coolpapers.records import Paper
from coolpapers.sources import registry
from coolpapers.sources.arxiv import PACE_KEY
from coolpapers.sources.base import Source
from coolpapers.sources.http import Clients
from coolpapers.store import Store
from tests.conftest import shared
from tests.fake_sources import Venue
from tests.llm_server import FakeLLM
from tests.llm_support import add_papers, clean_faq, faq_settings, paper, wait_for
from tests.replay import Replay, Reply

# ---- two outside sources, as another package would install them ---------------------------


DEMO = Venue("demo", "Demo", "127.0.0.1")  # its PDFs on the replay server
PLAIN = Venue("plain", "Plain", "plain.invalid")  # links no PDF


@pytest.fixture
def venues(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    eps = [
        EntryPoint(name=v.key, value=f"{__name__}:{v.key.upper()}", group=registry.GROUP)
        for v in (DEMO, PLAIN)
    ]
    monkeypatch.setattr(registry, "entry_points", lambda group: eps)
    registry.clear()
    DEMO.pdf_base, DEMO.asked, PLAIN.asked = None, 0, 0
    assert isinstance(DEMO, Source) and registry.get("demo") is DEMO
    yield
    registry.clear()


@pytest.fixture
def faq_store(store: Store) -> Iterator[Store]:
    clean_faq(store)
    yield store


ACL_PDF = "2020.acl-main.447"


def demo_paper() -> Paper:
    return paper(f"{ACL_PDF}@Demo", version=None, source="demo", title="S2ORC")


def plain_paper() -> Paper:
    return paper("P17-1001@Plain", version=None, source="plain", abstract="Only an abstract.")


def _stored(store: Store, key: str) -> tuple[str, int | None] | None:
    with store.engine.connect() as c:
        row = c.execute(
            select(faq_fulltext.c.source, faq_fulltext.c.version).where(
                faq_fulltext.c.paper_id == key
            )
        ).first()
    return None if row is None else (row[0], row[1])


# ---- full text --------------------------------------------------------------------------------


def test_a_second_source_s_pdf_comes_through_its_own_pace(faq_store: Store, venues: None) -> None:
    pdf = shared("pdfs", "acl", f"{ACL_PDF}.pdf").read_bytes()
    p = demo_paper()
    add_papers(faq_store, [p])
    with Replay() as server:
        server.add(f"/demo/{ACL_PDF}.pdf", Reply(200, pdf, {"Content-Type": "application/pdf"}))
        DEMO.pdf_base = f"{server.url}/demo"
        settings = faq_settings()  # arxiv_pdf_url aims at nothing: arXiv is never asked
        with Clients(faq_store, settings) as clients:
            got = fulltext.get(faq_store, clients, settings, p)
            again = fulltext.get(faq_store, clients, settings, p)
            client = clients.for_url(f"{server.url}/demo/{ACL_PDF}.pdf")
            assert client.pace is DEMO.pace and clients.for_url(server.url) is client
        assert len(server.hits_for(f"/demo/{ACL_PDF}.pdf")) == 1  # stored once (no version)
    assert got.source == "pdf" and got.pages == 15 and again.text == got.text
    assert "S2ORC: The Semantic Scholar Open Research Corpus" in got.text
    assert _stored(faq_store, p.id) == ("pdf", None)
    # The request kept the Demo host's pace, in the state row of its own key, not arXiv's.
    assert faq_store.get_state("demo.pace") is not None
    assert faq_store.get_state(PACE_KEY) is None


def test_a_source_without_pdfs_gives_the_abstract_once(faq_store: Store, venues: None) -> None:
    p = plain_paper()
    add_papers(faq_store, [p])
    settings = faq_settings()
    with Clients(faq_store, settings) as clients:
        got = fulltext.get(faq_store, clients, settings, p)
        again = fulltext.get(faq_store, clients, settings, p)
        assert not clients._clients  # no host was asked
    assert got.source == again.source == "abstract" and got.text == "Only an abstract."
    assert _stored(faq_store, p.id) == ("missing", None)  # remembered like a missing PDF
    assert PLAIN.asked == 1  # the second time the stored miss answered


def test_a_host_no_source_covers_gets_a_cautious_pace_of_its_own(
    faq_store: Store, venues: None
) -> None:
    with Clients(faq_store, faq_settings()) as clients:
        client = clients.for_url("https://www.example.org/paper.pdf")
        assert client.pace.key == "host:example.org" and client.pace.interval == 3.0
        assert clients.for_url("http://example.org/other.pdf") is client
        assert clients.for_url("https://example.com/x.pdf") is not client


# ---- the whole FAQ ------------------------------------------------------------------------------


def test_worker_answers_from_each_source_s_pdf_or_its_abstract(
    faq_store: Store, venues: None
) -> None:
    pdf = shared("pdfs", "acl", f"{ACL_PDF}.pdf").read_bytes()
    demo, plain = demo_paper(), plain_paper()
    add_papers(faq_store, [demo, plain])
    assert faq_store.papers([demo.id])[demo.id].source == "demo"  # the store keeps the source
    with FakeLLM() as llm, Replay() as server:
        server.add(f"/demo/{ACL_PDF}.pdf", Reply(200, pdf, {"Content-Type": "application/pdf"}))
        DEMO.pdf_base = f"{server.url}/demo"
        settings = faq_settings(llm.url)
        service = FaqService(faq_store, settings)
        clients = Clients(faq_store, settings)
        pool = Workers(service, slots=2, poll=0.02, clients=clients).start()
        try:
            service.ask(demo, "en")
            service.ask(plain, "en")
            wait_for(lambda: service.answer(demo.id, "en") and service.answer(plain.id, "en"))
        finally:
            pool.stop()
            clients.close()
        assert len(server.hits_for(f"/demo/{ACL_PDF}.pdf")) == 1
    a, b = service.answer(demo.id, "en"), service.answer(plain.id, "en")
    assert a is not None and b is not None
    assert a.source in ("full", "trimmed", "sections") and b.source == "abstract"
    openings = {c["messages"][1]["content"] for c in llm.calls}
    assert any("S2ORC" in o and SOURCE_NAMES["en"]["abstract"] not in o for o in openings)
    assert any("Only an abstract." in o and SOURCE_NAMES["en"]["abstract"] in o for o in openings)
    assert faq_store.get_state("demo.pace") is not None and faq_store.get_state(PACE_KEY) is None
