"""TL;DRs and translations (llm/texts.py) on the FAQ's job queue, against the local fake
OpenAI-compatible server (tests/llm_server.py): single flight, nothing kept from a failed
call, the token budget, usage counted, math passed through translation untouched."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from coolpapers.llm import texts
from coolpapers.llm.schema import llm_texts, llm_usage
from coolpapers.llm.service import FaqService
from coolpapers.llm.texts import ABSTRACT, TITLE, TLDR, TextService
from coolpapers.llm.worker import Workers
from coolpapers.store import Store
from tests.llm_server import FakeLLM
from tests.llm_support import add_papers, clean_faq, faq_settings, paper, wait_for

MATHY = (
    "We bound $\\|x\\|_2 \\le \\epsilon$ for $n = 10^{6}$ samples using \\textbf{GPT-4} and "
    "$$\\sum_i a_i$$ on arXiv:2309.16354, improving accuracy by 12.5%."
)


@pytest.fixture
def texts_store(store: Store) -> Iterator[Store]:
    clean_faq(store)
    add_papers(store, [paper("2606.00001", abstract=MATHY), paper("2606.00002")])
    yield store


def _translator(messages: list[dict[str, Any]]) -> str:
    """A 'translation' that keeps the placeholders and marks the words."""
    user = messages[-1]["content"]
    if "Translate" not in user:
        return "TL;DR: This paper tests things and finds that they work. And more."
    body = user.split("\n\n", 1)[1]
    return "译：" + body


def _service(store: Store, llm: FakeLLM, **kw: object) -> tuple[FaqService, TextService]:
    faq = FaqService(store, faq_settings(llm.url, **kw))
    return faq, TextService(faq)


def test_hold_and_restore_math_is_exact() -> None:
    held, spans = texts.hold_math(MATHY)
    assert "$" not in held and "\\" not in held
    assert spans[0] == "$\\|x\\|_2 \\le \\epsilon$" and "$$\\sum_i a_i$$" in spans
    assert "\\textbf{GPT-4}" in spans
    assert texts.restore_math(held, spans) == MATHY
    # a span the model dropped is appended, one it invented removed
    dropped = held.replace("[M1]", "").replace("[M4]", "[M9]")
    out = texts.restore_math(dropped, spans)
    for s in spans:
        assert s in out


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("TL;DR: We do X and find Y.", "We do X and find Y."),
        ('**Summary:** "We do X." Then more words here.', "We do X."),
        ("We do X and find Y.\nAnd a second line.", "We do X and find Y."),
    ],
)
def test_tldr_is_one_clean_sentence(raw: str, want: str) -> None:
    assert texts.clean(TLDR, raw) == want


@pytest.mark.parametrize(
    ("stream", "kept"),
    [
        ("TL;DR: We do X and find Y. And then the model goes on", "TL;DR: We do X and find Y."),
        ("We do X, e.g. with $a.b$ and Y\nmore lines follow", "We do X, e.g. with $a.b$ and Y"),
        ("TL;DR:\nWe do X. Then more", "TL;DR:\nWe do X."),
        ("We do X and find Y.", None),  # not proven ended yet: the stream goes on
    ],
)
def test_a_tldr_reply_is_closed_at_its_first_sentence(stream: str, kept: str | None) -> None:
    guard = texts.OneSentence()
    cut = None
    for i in range(1, len(stream) + 1):  # fed as it streams, a character at a time
        cut = guard.check(stream[:i])
        if cut is not None:
            break
    if kept is None:
        assert cut is None
        return
    assert guard.final(stream, "en") == kept and guard.why == texts.ENOUGH
    assert texts.clean(TLDR, kept) == texts.clean(TLDR, stream)


def test_a_rambling_tldr_reply_is_closed_not_read_to_its_end(texts_store: Store) -> None:
    more = " And the model goes on and on about other things it did." * 30

    def rambling(messages: list[dict[str, Any]]) -> str:
        return "TL;DR: We test things and find that they work." + more

    with FakeLLM(answer=rambling, piece=4, delay=0.005) as llm:
        faq, svc = _service(texts_store, llm)
        p = texts_store.papers(["2606.00002"])["2606.00002"]
        pool = Workers(faq, slots=1, poll=0.02).start()
        try:
            svc.ask(p, TLDR, "en")
            wait_for(lambda: svc.get([p.id], TLDR, "en"))
        finally:
            pool.stop()
    assert svc.get([p.id], TLDR, "en")[p.id].text == "We test things and find that they work."
    with texts_store.engine.connect() as c:
        used = c.execute(select(llm_usage.c.completion_tokens)).scalar_one()
    # (the server reports no usage for a stream closed early: its pieces were counted)
    assert 0 < used < 20 < len(more) // 4


def test_a_tldr_is_written_once_kept_with_its_model_and_counted(texts_store: Store) -> None:
    with FakeLLM(answer=_translator) as llm:
        faq, svc = _service(texts_store, llm)
        p = texts_store.papers(["2606.00001"])["2606.00001"]
        pool = Workers(faq, slots=3, poll=0.02).start()
        try:
            # many readers (threads) ask at once: one job, one call
            threads = [threading.Thread(target=svc.ask, args=(p, TLDR, "en")) for _ in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wait_for(lambda: svc.get([p.id], TLDR, "en"))
        finally:
            pool.stop()
        assert len(llm.calls) == 1
        got = svc.get([p.id], TLDR, "en")[p.id]
        assert got.text == "This paper tests things and finds that they work."
        assert (got.model, got.prompt_version) == ("fake-model", texts.PROMPT_VERSION)
        assert llm.calls[0]["max_tokens"] == 96
        assert svc.due([p], TLDR, "en") == []
        # asked again: cached, no call
        assert svc.ask(p, TLDR, "en") == "done"
        assert len(llm.calls) == 1
    with texts_store.engine.connect() as c:
        rows = c.execute(select(llm_usage)).mappings().all()
    assert [(r["task"], r["background"], r["calls"]) for r in rows] == [("tldr", 0, 1)]
    assert rows[0]["prompt_tokens"] > 0 and rows[0]["completion_tokens"] > 0


def test_translation_keeps_math_numbers_and_ids(texts_store: Store) -> None:
    with FakeLLM(answer=_translator) as llm:
        faq, svc = _service(texts_store, llm)
        p = texts_store.papers(["2606.00001"])["2606.00001"]
        pool = Workers(faq, slots=2, poll=0.02).start()
        try:
            svc.ask(p, ABSTRACT, "zh")
            svc.ask(p, TITLE, "zh")
            wait_for(lambda: len(svc.get([p.id], ABSTRACT, "zh")) and svc.get([p.id], TITLE, "zh"))
        finally:
            pool.stop()
        sent = next(c for c in llm.calls if "abstract" in c["messages"][-1]["content"])
        assert "$" not in sent["messages"][-1]["content"]  # the model never saw the math
        out = svc.get([p.id], ABSTRACT, "zh")[p.id].text
        assert out == "译：" + MATHY
        for span in re.findall(r"\$\$.+?\$\$|\$[^$]+\$", MATHY):
            assert span in out
        assert svc.get([p.id], TITLE, "zh")[p.id].text == "译：" + p.title


def test_a_failed_call_keeps_nothing(texts_store: Store) -> None:
    with FakeLLM(status=500) as llm:
        faq, svc = _service(texts_store, llm)
        p = texts_store.papers(["2606.00002"])["2606.00002"]
        pool = Workers(faq, slots=1, poll=0.02).start()
        try:
            svc.ask(p, TLDR, "en")
            wait_for(lambda: svc.status(p.id, TLDR, "en").state == "failed")
        finally:
            pool.stop()
    with texts_store.engine.connect() as c:
        assert c.execute(select(llm_texts)).all() == []
        assert c.execute(select(llm_usage)).all() == []


def test_the_budget_stops_background_work_not_readers(texts_store: Store) -> None:
    with FakeLLM(answer=_translator) as llm:
        faq, svc = _service(texts_store, llm, llm_daily_token_budget=1)
        a, b = (texts_store.papers([i])[i] for i in ("2606.00001", "2606.00002"))
        with texts_store.engine.begin() as c:  # today's budget already spent
            texts.count_usage(
                texts_store, c, TLDR, True, {"calls": 1, "prompt_tokens": 5, "completion_tokens": 1}
            )
        assert not svc.budget_left()
        pool = Workers(faq, slots=2, poll=0.02).start()
        try:
            svc.ask(a, TLDR, "en", background=True)
            svc.ask(b, TLDR, "en")  # a reader's
            wait_for(lambda: svc.get([b.id], TLDR, "en"))
            import time

            time.sleep(0.3)
            assert svc.status(a.id, TLDR, "en").state == "pending"
            assert not svc.get([a.id], TLDR, "en")
        finally:
            pool.stop()
        assert len(llm.calls) == 1


def test_a_looping_translation_is_cut_and_kept_without_the_loop(texts_store: Store) -> None:
    loop = "这是一个关于测试的很长的句子，它一直重复下去。"

    def looping(messages: list[dict[str, Any]]) -> str:
        return "译文开始。" + loop * 6

    with FakeLLM(answer=looping) as llm:
        faq, svc = _service(texts_store, llm)
        p = texts_store.papers(["2606.00002"])["2606.00002"]
        pool = Workers(faq, slots=1, poll=0.02).start()
        try:
            svc.ask(p, ABSTRACT, "zh")
            wait_for(lambda: svc.get([p.id], ABSTRACT, "zh"))
        finally:
            pool.stop()
    out = svc.get([p.id], ABSTRACT, "zh")[p.id].text
    assert out.count(loop) == 1 and out.endswith("…")
    assert "截断" not in out and "cut:" not in out  # the FAQ's mark is not a translation's
