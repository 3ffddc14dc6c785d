"""Fitting a paper to a model's window (llm/context.py) and the per-model settings
(llm/models.py), on the real text of "Attention Is All You Need"."""

from __future__ import annotations

import os
from functools import cache

import pytest

from coolpapers.cli import local_llm
from coolpapers.config import get_settings
from coolpapers.llm import context, models
from coolpapers.llm.fulltext import FullText, extract
from coolpapers.llm.prompts import BUILTIN
from coolpapers.records import Paper
from tests.conftest import shared
from tests.llm_support import faq_settings

PAPER = Paper(
    id="1706.03762",
    title="Attention Is All You Need",
    abstract="The dominant sequence transduction models are based on complex recurrent or "
    "convolutional neural networks that include an encoder and a decoder.",
    authors=["Ashish Vaswani"],
    categories=["cs.CL"],
)


@cache
def attention() -> FullText:
    got = extract(shared("pdfs", "arxiv", "1706.03762.pdf").read_bytes())
    return FullText("pdf", got.text, got.pages)


def window(**kw: object) -> models.Window:
    return models.window(faq_settings("http://127.0.0.1:9/v1", **kw), 7)


def test_a_paper_that_fits_is_read_whole_then_trimmed() -> None:
    text = attention()
    full = context.build(BUILTIN, PAPER, text, "en", window(llm_context_chars=200_000))
    assert full.seen == "full"
    assert "Learning phrase representations" in full.opening[1]["content"]  # references too
    # a window that holds the body but not the references
    fits = models.estimate(text.text) - 3000
    trimmed = context.build(
        BUILTIN, PAPER, text, "en", window(llm_context_chars=int(fits * models.CHARS_PER_TOKEN))
    )
    assert trimmed.seen == "trimmed"
    opening = trimmed.opening[1]["content"]
    assert "Scaled Dot-Product Attention" in opening
    assert "Learning phrase representations" not in opening
    assert "without references" in opening  # the model is told what it reads
    # whole and trimmed: each question is just asked, after the paper
    asked = trimmed.ask(list(trimmed.opening), "Why?", 0)
    assert asked[-1] == {"role": "user", "content": "Why?"} and len(asked) == 3


def test_a_small_window_answers_each_question_from_its_sections() -> None:
    w = window(llm_context_tokens=8192, llm_max_answer_tokens=384, llm_excerpt_tokens=1536)
    ctx = context.build(BUILTIN, PAPER, attention(), "en", w)
    assert ctx.seen == "sections" and len(ctx.chunks) > 20
    assert PAPER.abstract in ctx.opening[1]["content"]  # the abstract opens the conversation
    assert any(c.heading.endswith("Scaled Dot-Product Attention") for c in ctx.chunks)
    history = list(ctx.opening)
    experiments = ctx.ask(history, BUILTIN.questions["en"][3], 3)[-1]["content"]
    assert "WMT 2014" in experiments and "BLEU" in experiments
    assert experiments.endswith(f"Question: {BUILTIN.questions['en'][3]}")
    related = ctx.ask(history, BUILTIN.questions["en"][1], 1)[-1]["content"]
    assert "Background" in related or "ByteNet" in related
    # a long history leaves less room for excerpts, and the turn always fits the window
    history += [
        {"role": "user", "content": "Q"},
        {"role": "assistant", "content": "word " * 1500},
    ]
    for i, q in enumerate(BUILTIN.questions["en"]):
        messages = ctx.ask(history, q, i)
        assert sum(w.count(m["content"]) for m in messages) <= w.turn
        assert messages[: len(history)] == history  # earlier turns are kept, as they were
    # a reader's own question (no hint) and a Chinese one (the hint of its place)
    own = ctx.ask(list(ctx.opening), "Which optimizer and learning rate schedule?", None)
    assert "Adam" in own[-1]["content"] and "warmup" in own[-1]["content"]
    zh_ctx = context.build(BUILTIN, PAPER, attention(), "zh", w)
    zh = zh_ctx.ask(list(zh_ctx.opening), BUILTIN.questions["zh"][3], 3)[-1]["content"]
    assert "WMT 2014" in zh and zh.startswith("以下是论文中")


def test_no_full_text_is_abstract_only() -> None:
    ctx = context.build(BUILTIN, PAPER, FullText("abstract", PAPER.abstract, 0), "zh", window())
    assert ctx.seen == "abstract"
    assert "未能获取全文" in ctx.opening[1]["content"]


def test_chunks_keep_to_their_sections_and_size() -> None:
    chunks = context.split_chunks(attention().text)
    assert all(len(c.text) <= 2 * context.CHUNK_CHARS for c in chunks)
    assert [c.pos for c in chunks] == list(range(len(chunks)))
    text = "1 Introduction\nWe start.\n\n2 Method\nWe do.\n\nMore of it."
    got = context.split_chunks(text)
    assert [(c.heading, c.text) for c in got] == [
        ("1 Introduction", "We start."),
        ("2 Method", "We do.\nMore of it."),
    ]


def test_model_profiles_and_sampling() -> None:
    tiny = models.profile_for("/x/SmolLM2-135M-Instruct.Q4_1.gguf")
    assert tiny.context_tokens == 8192 and tiny.repeat_penalty == 1.1
    # measured (bench/faq_quality.py): the penalty over more than one answer, brief answers,
    # each question on its own
    assert tiny.penalty_window == 256 and tiny.style and not tiny.history
    assert "tiny demo" in tiny.label
    assert models.profile_for("SmolLM2-135M-Instruct.Q4_1") == tiny  # by the model id too
    other = models.profile_for("mistral-7b-instruct-v0.3.Q4_K_M.gguf")
    assert other.label == "mistral-7b-instruct-v0.3.Q4_K_M" and other.repeat_penalty
    # hosted APIs reject parameters they do not know: the penalty is sent only when set
    assert "extra_body" not in models.sampling(faq_settings("http://x/v1"))
    kw = models.sampling(faq_settings("http://x/v1", llm_repeat_penalty=1.2))
    assert kw["extra_body"] == {"repeat_penalty": 1.2}
    s = faq_settings("http://x/v1", llm_context_tokens=8192, llm_max_answer_tokens=384)
    w = models.window(s, 7)
    assert 0 < w.paper < w.turn < 8192
    assert w.paper == 8192 - models.SYSTEM_TOKENS - 7 * (384 + models.TURN_OVERHEAD)


def test_local_model_unavailable_explains_and_remote_wins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key in list(os.environ):
        if key.startswith("COOLPAPERS_LLM_"):
            monkeypatch.delenv(key)
    # an endpoint is configured: no local model, whatever was asked
    assert local_llm.start(faq_settings("http://127.0.0.1:9/v1")) is None
    assert "COOLPAPERS_LLM_UNAVAILABLE" not in os.environ
    # a model file that is not there: the site runs and the button will say why (with
    # llama-cpp-python taken as installed, so this holds where its build failed too)
    monkeypatch.setattr(local_llm.local, "available", lambda: None)
    assert local_llm.start(faq_settings(""), "/nowhere/model.gguf") is None
    assert "/nowhere/model.gguf" in os.environ["COOLPAPERS_LLM_UNAVAILABLE"]
    monkeypatch.setattr(local_llm.local, "available", lambda: "llama-cpp-python is missing")
    assert local_llm.start(faq_settings("")) is None
    assert os.environ["COOLPAPERS_LLM_UNAVAILABLE"] == "llama-cpp-python is missing"
    assert get_settings().llm_unavailable == "llama-cpp-python is missing"
    get_settings.cache_clear()
