"""Full text: real PDFs (../shared/pdfs) served on 127.0.0.1 and fetched through the real paced
client of their host's pace; extraction, cleaning, trimming, stored once, abstract as the
fallback (other sources' PDFs, and none: tests/test_llm_sources.py)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from coolpapers.llm import fulltext
from coolpapers.sources.arxiv import PACE_KEY
from coolpapers.sources.arxiv.client import ArxivClient
from coolpapers.sources.http import Clients
from coolpapers.store import Store
from tests.conftest import shared
from tests.llm_support import add_papers, clean_faq, faq_settings, paper
from tests.replay import Replay, Reply


@pytest.fixture
def faq_store(store: Store) -> Iterator[Store]:
    clean_faq(store)
    yield store


def test_clean_normalises_pdfium_quirks() -> None:
    bodies = [
        "The trans\ufffeformer uses ﬁne-tuned ﬂows, a sequence\ufffe\r\naligned model.",
        "A sequence model is aligned with words.\r\nNothing else here.",
        "Results on the test set.\r\nMore results.",
        "Conclusion of the sequence study.",
    ]
    pages = [f"Running Title\r\n{b}\r\n{n}" for n, b in enumerate(bodies, 1)]
    text = fulltext.clean(pages)
    assert "\r" not in text and "\ufffe" not in text
    assert "transformer" in text  # a word broken at a line end is joined
    assert "sequence-aligned" in text  # two words of their own keep their hyphen
    assert "fine-tuned flows" in text  # ligatures
    assert "Running Title" not in text  # the running header of every page
    assert not any(line.strip().isdigit() for line in text.splitlines())  # page numbers


def test_shorter_drops_references_then_appendix() -> None:
    body = "Introduction\n" + "Method text. " * 200
    refs = "\nReferences\n" + "[1] A. Author. A title. 2020.\n" * 100
    appx = "\nAppendix\n" + "Proof details. " * 200
    no_refs, body_only = fulltext.shorter(body + refs + appx)
    assert "[1] A. Author" not in no_refs and "Proof details" in no_refs
    assert "Proof details" not in body_only and body_only.startswith("Introduction")
    assert len(body_only) < len(no_refs) < len(body + refs + appx)
    assert fulltext.shorter(body) == []  # nothing to leave out


def test_real_pdf_through_paced_client_is_extracted_and_stored_once(faq_store: Store) -> None:
    pdf = shared("pdfs", "arxiv", "1706.03762.pdf").read_bytes()
    p = paper("1706.03762", version=7, title="Attention Is All You Need")
    add_papers(faq_store, [p])
    with Replay() as server:
        server.add("/pdf/1706.03762v7", Reply(200, pdf, {"Content-Type": "application/pdf"}))
        settings = faq_settings(arxiv_pdf_url=f"{server.url}/pdf", arxiv_min_interval=0.01)
        with Clients(faq_store, settings) as clients:
            got = fulltext.get(faq_store, clients, settings, p)
            again = fulltext.get(faq_store, clients, settings, p)
            # The link stays arXiv's own; arXiv's client aims it at `arxiv_pdf_url`, at
            # arXiv's pace (its interval from the settings, its state row).
            link = fulltext.pdf_url(p)
            assert link == "https://arxiv.org/pdf/1706.03762v7"
            arxiv = clients.for_url(link)
            assert isinstance(arxiv, ArxivClient) and arxiv.pace.interval == 0.01
            assert arxiv.aim(link) == f"{server.url}/pdf/1706.03762v7"
        assert len(server.hits_for("/pdf/1706.03762v7")) == 1  # downloaded and parsed once
    assert faq_store.get_state(PACE_KEY) is not None
    assert got.source == "pdf" and got.pages == 15
    assert again.text == got.text
    t = got.text
    assert t.startswith("Attention Is All You Need")
    assert "The dominant sequence transduction models" in t
    assert "\r" not in t and "\ufffe" not in t
    assert "English-to-German" in t and "transduction models in" in t
    assert "Scaled Dot-Product Attention" in t
    trimmed = fulltext.shorter(t)[-1]
    assert "Scaled Dot-Product Attention" in trimmed
    assert "Learning phrase representations using rnn encoder-decoder" in t
    assert "Learning phrase representations using rnn encoder-decoder" not in trimmed


def test_concurrent_asks_download_a_pdf_once(faq_store: Store) -> None:
    pdf = shared("pdfs", "arxiv", "1706.03762.pdf").read_bytes()
    p = paper("1706.03762", version=7)
    add_papers(faq_store, [p])
    with Replay() as server:
        slow = Reply(200, pdf, {"Content-Type": "application/pdf"}, delay=0.5)
        server.add("/pdf/1706.03762v7", slow)
        settings = faq_settings(arxiv_pdf_url=f"{server.url}/pdf", arxiv_min_interval=0.01)
        with Clients(faq_store, settings) as clients, ThreadPoolExecutor(4) as pool:
            got = list(pool.map(lambda _: fulltext.get(faq_store, clients, settings, p), range(4)))
        assert len(server.hits_for("/pdf/1706.03762v7")) == 1  # the zh and en FAQs, say
    assert {g.source for g in got} == {"pdf"} and len({g.text for g in got}) == 1
    assert not fulltext._locks  # nothing kept once done


def test_missing_pdf_falls_back_to_the_abstract(faq_store: Store) -> None:
    p = paper("2606.00042", version=2)
    add_papers(faq_store, [p])
    with Replay() as server:
        server.add("/pdf/2606.00042v2", Reply(404, b"not found"))
        settings = faq_settings(arxiv_pdf_url=f"{server.url}/pdf")
        with Clients(faq_store, settings) as clients:
            got = fulltext.get(faq_store, clients, settings, p)
            fulltext.get(faq_store, clients, settings, p)
        assert len(server.hits) == 1  # the miss is remembered for this version
    assert got.source == "abstract" and got.text == p.abstract


def test_an_unreachable_arxiv_is_not_remembered_as_no_pdf(faq_store: Store) -> None:
    pdf = shared("pdfs", "arxiv", "1706.03762.pdf").read_bytes()
    p = paper("1706.03762", version=7)
    add_papers(faq_store, [p])
    with Replay() as server:
        busy = Reply(503, b"busy", {"Retry-After": "0"})
        ok = Reply(200, pdf, {"Content-Type": "application/pdf"})
        server.add("/pdf/1706.03762v7", [busy, busy, ok])
        settings = faq_settings(
            arxiv_pdf_url=f"{server.url}/pdf", arxiv_min_interval=0.01, arxiv_max_retries=1
        )
        with Clients(faq_store, settings) as clients:
            down = fulltext.get(faq_store, clients, settings, p)  # 503 twice: gives up
            up = fulltext.get(faq_store, clients, settings, p)  # arXiv is back
        assert len(server.hits_for("/pdf/1706.03762v7")) == 3
    assert down.source == "abstract" and up.source == "pdf" and up.pages == 15


@pytest.mark.parametrize("name", ["2205.14135.pdf", "1903.10676.pdf", "2203.00130v1.pdf"])
def test_other_real_pdfs_extract_clean_text(name: str) -> None:
    data = shared("pdfs", "arxiv", name).read_bytes()
    got = fulltext.extract(data)
    assert got.pages >= 1 and len(got.text) > 1000
    assert "\r" not in got.text and "\ufffe" not in got.text
    assert not any(lig in got.text for lig in fulltext.LIGATURES)


def test_not_a_pdf_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="not a readable PDF"):
        fulltext.extract(b"<html>arXiv is down</html>")
