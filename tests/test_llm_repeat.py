"""An answer that loops or copies is stopped where it starts to, and says so (llm/repeat.py),
in the FAQ's turns and in readers' follow-ups; what readers are streamed is what is stored.

The loops are the real ones of SmolLM2-135M (bench/faq_quality.py, before the guard): one
sentence said again and again, a run of words that never ends its sentence, the next answers
copying the first, a follow-up restating its question."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openai import AsyncOpenAI

from coolpapers.llm import chat, models, repeat
from coolpapers.llm.prompts import BUILTIN
from coolpapers.llm.repeat import Guard
from coolpapers.llm.service import FaqService
from coolpapers.llm.worker import Workers
from coolpapers.store import Store
from coolpapers.web.app import create_app
from tests.llm_server import FakeLLM
from tests.llm_support import add_papers, clean_faq, faq_settings, paper, wait_for

EN = BUILTIN.questions["en"]
MARK = repeat.MARK["en"]

# From a real FAQ of 1503.02531 by SmolLM2-135M (temperature 0.2, repeat penalty 1.2).
LOOP = (
    "This makes it different than other work which uses techniques such as [10] and [2], "
    "but this paper focuses more specifically on the distillation approach of using a set of "
    "classes instead of individual ones, so it differs from previous works in terms of its "
    "methodology. "
)
FIRST = (
    "The paper tries to solve a problem of using distillation strategy in the context of DNNs. "
    "Specifically, it aims at solving the transfer of knowledge from an ensemble."
)


def feed(guard: Guard, text: str, step: int = 3) -> list[str]:
    """Stream `text` into the guard a few characters at a time, as a model would; the
    settled text after each piece (each must extend the one before)."""
    shown = [""]
    for end in range(step, len(text) + step, step):
        cut = guard.check(text[:end])
        settled = guard.settled(text[:end], "en")
        assert settled.startswith(shown[-1]), (settled, shown[-1])
        shown.append(settled)
        if cut is not None:
            break
    return shown


def test_a_sentence_said_twice_ends_the_answer_marked() -> None:
    g = Guard()
    shown = feed(g, "Intro words come first here. " + LOOP * 3)
    assert g.cut is not None
    kept = g.final("Intro words come first here. " + LOOP * 3, "en")
    assert kept.count("This makes it different") == 1 and kept.endswith(MARK)
    assert kept.startswith(shown[-1].removesuffix(MARK).rstrip())  # streamed = stored


def test_a_run_of_words_said_twice_ends_it_even_without_a_full_stop() -> None:
    words = "it also uses only one class as an example in each case where we train our models"
    g = Guard()
    text = f"The main limitation is data (i) {words} (ii) {words} (iii) {words}"
    feed(g, text)
    assert g.cut is not None and "run of 12 words" in g.why
    assert g.final(text, "en").count("only one class") == 1


def test_chinese_loops_are_caught_by_characters() -> None:
    s = "这篇论文提出了一种新的注意力机制来提高长文本的处理效率"
    g = Guard()
    feed(g, f"{s}，并且{s}，而且{s}")
    assert g.cut is not None and g.final(f"{s}，并且{s}，而且{s}", "zh").endswith(repeat.MARK["zh"])


def test_copying_an_earlier_answer_is_stopped_but_an_opening_copy_is_dropped() -> None:
    # Q2 opening with Q1's first sentence, then going on with something new: the copy goes.
    g = Guard(earlier=[FIRST])
    text = f"{FIRST.split('. ')[0]}. Related work includes knowledge distillation by Bucilua."
    feed(g, text)
    assert g.cut is None and g.final(text, "en").startswith("Related work includes")
    # ... but copying on after something new is a copy: cut there.
    g = Guard(earlier=[FIRST])
    text = f"Related work includes model compression by Bucilua and others. {FIRST}"
    feed(g, text)
    assert g.cut is not None and g.final(text, "en").startswith("Related work includes model")
    assert "transfer of knowledge" not in g.final(text, "en")


def test_a_restated_question_is_dropped_and_a_repeated_one_is_cut() -> None:
    q = "What is the main limitation of this work?"
    g = Guard(question=q)
    text = f"{q} The main limitation is the small amount of training data used here."
    feed(g, text)
    assert (
        g.final(text, "en") == "The main limitation is the small amount of training data used here."
    )
    # the prompt's frame echoed after the answer ("Question: ..."): cut there
    g = Guard(question=q)
    text = f"The main limitation is the small amount of data used here.\n\nQuestion: {q}"
    feed(g, text + " More")
    assert g.cut is not None and "Question" not in g.final(text, "en")
    g = Guard(question=q)
    text = f"The answer is given in section five of the paper. {q} {q}"
    feed(g, text)
    assert g.cut is not None and q not in g.final(text, "en")


def test_an_answer_that_ends_by_asking_or_restating_a_question_ends_before_it() -> None:
    """Seen with SmolLM2 on the excerpts' prompt ("... Question: {question}"): the answer,
    then "Question: <its question>" or "The next question is: <one of its own>". The last
    sentence is checked when the model stops (`close`); nothing was repeated: no mark."""
    q = "How does the paper solve the problem?"
    for tail in (f"\n\nQuestion: {q}", "\nThe next question is:\n[9] What could you suggest?"):
        g = Guard(question=q)
        text = f"It trains one small model on the soft targets of the big ensemble.{tail}"
        feed(g, text)
        g.close(text)
        assert g.final(text, "en") == (
            "It trains one small model on the soft targets of the big ensemble."
        )


def test_ordinary_answers_pass_untouched() -> None:
    # Lists with a shared short prefix, a quoted question, short lines said twice ("Yes.").
    text = (
        "What problem does this paper try to solve? It is about speed.\n\n"
        "- The model is trained on ImageNet with standard augmentation.\n"
        "- The model is trained on COCO with random crops and flips.\n"
        "Yes.\nYes.\nResults: 76.1% top-1 (Table 2) and 3.5 points over e.g. ResNet-50.\n"
    )
    g = Guard(earlier=["A completely different earlier answer about other things."])
    shown = feed(g, text)
    g.close(text)
    assert g.cut is None and g.final(text, "en") == text
    assert text.startswith(shown[-1])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_mark_follows_a_list_on_its_own_line(lang: str) -> None:
    assert repeat.trim("- one point\n- another point\n- ", lang) == (
        f"- one point\n- another point\n\n{repeat.MARK[lang]}"
    )
    assert repeat.trim("", lang) == repeat.MARK[lang]


# ---- through a real (fake) OpenAI-compatible server ------------------------------------------


def test_a_looping_stream_is_closed_early_and_the_server_stops() -> None:
    """The reply stops at the repeat and closes the connection: the server stops writing
    (llama.cpp's server stops generating when its client goes)."""
    with FakeLLM(
        answer=lambda m: "An opening sentence of the answer. " + LOOP * 30, delay=0.01
    ) as llm:
        settings = faq_settings(llm.url)

        async def ask() -> tuple[chat.Reply, list[str]]:
            client = AsyncOpenAI(base_url=llm.url, api_key="x", max_retries=0)
            try:
                reply = await chat.stream(
                    client, settings, [{"role": "user", "content": "Q"}], guard=Guard()
                )
                got = [piece async for piece in reply]
                return reply, got
            finally:
                await client.close()

        t = time.monotonic()
        # (in a thread of its own: the browser tests' Playwright keeps an event loop running
        # on the main thread for the session, where asyncio.run refuses to start another)
        with ThreadPoolExecutor(1) as ex:
            reply, got = ex.submit(asyncio.run, ask()).result()
        elapsed = time.monotonic() - t
        assert reply.repeated and reply.text.endswith(MARK)
        assert reply.text.count("This makes it different") == 1
        assert "".join(got) == reply.text  # what was yielded (streamed) is what is kept
        # 30 loops stream for about 10 s; the guard stopped after the second
        assert elapsed < 5, elapsed
        wait_for(lambda: llm.active == 0, timeout=2)  # the server's stream ended too
        assert len(reply.raw) < len(LOOP) * 3


@pytest.fixture
def faq_store(store: Store) -> Iterator[Store]:
    clean_faq(store)
    add_papers(store, [paper("2606.00001")])
    yield store


def _looping(messages: list[dict[str, Any]]) -> str:
    """Answer 1 loops; the others copy answer 1 after an opening of their own."""
    turn = sum(1 for m in messages if m["role"] == "assistant")
    question = messages[-1]["content"]
    if question == EN[0]:
        return FIRST + " " + LOOP * 5
    if "limitation" in question:  # the follow-up: restates its question, then loops
        return f"{question.splitlines()[-1]} " + LOOP * 4
    return f"Answer {turn + 1} is about {question.lower().rstrip('?')} and more. {FIRST}"


def test_a_faq_and_a_followup_that_loop_are_cut_stored_and_streamed_the_same(
    faq_store: Store,
) -> None:
    with FakeLLM(answer=_looping, delay=0.001) as llm:
        settings = faq_settings(llm.url)
        client = TestClient(create_app(settings, faq_store))
        workers = Workers(FaqService(faq_store, settings), slots=1, poll=0.02).start()
        try:
            with client.stream("POST", "/api/papers/2606.00001/faq?lang=en") as r:
                events = [line for line in r.iter_lines() if line.startswith("data: ")]
            final = client.get("/api/papers/2606.00001/faq?lang=en").json()
            answers = [t["a"] for t in final["turns"]]
            assert answers[0].count("This makes it different") == 1
            assert answers[0].endswith(MARK)
            for a in answers[1:]:  # each its own opening, the copy of answer 1 cut
                assert a.startswith("Answer") and "distillation strategy" not in a
                assert a.endswith(MARK)
            assert final["usage"]["repeated"] == 6
            # Streamed: no snapshot of a turn ever showed more of the loop than is kept.
            turns = [e for e in events if e.startswith('data: {"i"') and "This makes it" in e]
            assert turns and all(e.count("This makes it different") == 1 for e in turns)
            # The reader's follow-up: the restated question dropped, the loop cut.
            with client.stream(
                "POST",
                "/api/papers/2606.00001/faq/followup",
                json={"question": "What is the main limitation of this work?", "lang": "en"},
            ) as r:
                lines = [line for line in r.iter_lines() if line.startswith("data: ")]
            done = json.loads(lines[-1].removeprefix("data: "))
            assert not done["markdown"].startswith("What is the main limitation")
            assert done["markdown"].count("This makes it different") == 1
            assert done["markdown"].endswith(MARK) and "repeat itself" in done["html"]
        finally:
            workers.stop()


def test_a_tiny_model_is_asked_each_question_on_its_own_with_its_sampling(
    faq_store: Store,
) -> None:
    """SmolLM2-135M copied its earlier answers: its profile asks each question without them
    (and says how to answer, and how to sample); any other model keeps the conversation."""
    tiny = "SmolLM2-135M-Instruct.Q4_1"
    profile = models.profile_for(tiny)
    assert not profile.history and models.profile_for("fake-model").history
    with FakeLLM(delay=0.001) as llm:
        settings = faq_settings(llm.url, llm_model=tiny, llm_repeat_penalty=1.1)
        workers = Workers(FaqService(faq_store, settings), slots=1, poll=0.02).start()
        try:
            FaqService(faq_store, settings).ask(paper("2606.00001"), "en")
            wait_for(lambda: len(llm.calls) == 6, timeout=20)
        finally:
            workers.stop()
    for call in llm.calls:
        roles = [m["role"] for m in call["messages"]]
        assert "assistant" not in roles  # no earlier answer to copy
        system = call["messages"][0]["content"]
        assert system.endswith(profile.style_for("en")) or not profile.style
        assert call["repeat_penalty"] == 1.1
        for key, value in profile.sampling:
            assert call[key] == value
