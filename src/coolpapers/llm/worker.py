"""Background workers: they claim jobs and run the conversations, never inside a request.

A `Workers` pool runs `slots` conversations at most in this process (the global cap is kept
by `JobQueue.claim` across processes). Each conversation is: the system prompt, the paper text,
then the questions asked one by one, each call carrying every previous turn. Streamed text is
written to the store every `flush` seconds, which also renews the lease; a heartbeat thread
renews it every third of the lease whatever the conversation is doing (the PDF download, a
slow first token, a busy event loop), so the lease can be short and a dead worker's job is
taken over within seconds. A heartbeat that finds the lease lost stops the conversation.

Readers are told each step (the job's `step`, streamed by llm/stream.py): fetching the PDF and
each retry, the fall back to the abstract, then "answering question k of 6". Each answer is
watched by a repetition guard (llm/repeat.py) that stops it where it loops or copies an
earlier answer; a model too small to use the conversation (its profile's `history` off) is
asked each question without the earlier answers, which it would otherwise copy.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from coolpapers.llm import chat, context, fulltext, local, models, repeat, texts
from coolpapers.llm.context import Context
from coolpapers.llm.jobs import FAQ, Claim
from coolpapers.llm.repeat import Guard
from coolpapers.llm.schema import faq_answers, llm_texts
from coolpapers.llm.service import FaqService
from coolpapers.records import Paper
from coolpapers.sources.http import Clients

if TYPE_CHECKING:  # the client is imported when a worker starts, not with the web app
    from openai import AsyncOpenAI

log = logging.getLogger("coolpapers.llm")


class LostLease(Exception):
    """Another worker owns the job now (our lease expired): stop quietly."""


class LLMError(Exception):
    """The model's answer broke off or never came."""


def make_llm(service: FaqService) -> AsyncOpenAI:
    from openai import AsyncOpenAI

    s = service.settings
    return AsyncOpenAI(
        base_url=s.llm_base_url,
        api_key=s.llm_api_key or "none",  # local servers take any key; the client needs one
        timeout=s.llm_timeout,
        max_retries=0,  # a failed turn fails the job; readers retry, with a clean slate
    )


class Conversation:
    """One claimed job, run to completion (or failure)."""

    def __init__(
        self,
        service: FaqService,
        llm: AsyncOpenAI,
        clients: Clients | None,
        claim: Claim,
        flush: float = 0.1,
    ) -> None:
        self.service, self.llm, self.clients, self.claim = service, llm, clients, claim
        self.settings = service.settings
        self.flush = flush
        self.seq = 0
        self.beat: Heartbeat  # set by run()

    async def run(self) -> None:
        s, claim = self.settings, self.claim
        loop = asyncio.get_running_loop()
        body: asyncio.Task[None] | None = None

        def lost() -> None:  # on the heartbeat's thread
            if body is not None:
                loop.call_soon_threadsafe(body.cancel)

        self.beat = Heartbeat(self.service.queue.renew, claim, s.llm_lease_seconds, lost)
        # The conversation is a task of its own, so that the heartbeat can stop exactly it (a
        # late cancel of a finished task is a no-op; the pool's slot is never hit).
        body = asyncio.create_task(self._run())
        self.beat.start()
        try:
            await body
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if not self.beat.lost.is_set() or (current is not None and current.cancelling()):
                raise  # the pool is stopping
            # The heartbeat found the job taken over by another worker: the model's work for
            # this attempt is wasted, so it is stopped rather than finished for nobody.
            log.warning("lost the lease of %s/%s; another worker has it", *self._key())
        finally:
            self.beat.stop()

    async def _run(self) -> None:
        s, queue, claim = self.settings, self.service.queue, self.claim
        started = time.perf_counter()
        try:
            papers = await asyncio.to_thread(self.service.store.papers, [claim.paper_id])
            paper = papers.get(claim.paper_id)
            if paper is None:
                raise LLMError(f"unknown paper {claim.paper_id}")
            store = self.service.store
            text = await asyncio.to_thread(
                fulltext.get, store, self.clients, s, paper, self._progress
            )
            ctx = await asyncio.to_thread(paper_context, self.service, paper, text, claim.lang)
            turns, usage = await self._talk(ctx, text.note)
            row = await asyncio.to_thread(  # rendering takes a few ms: not on the loop
                self.service.make_answer,
                paper,
                claim.lang,
                turns,
                ctx.seen,
                usage,
                time.perf_counter() - started,
            )
            # The job is about to leave `running`: a renewal from now on would find it gone
            # and take that for a lost lease.
            self.beat.stop()
            store = self.service.store
            counted = functools.partial(texts.count_usage, store, task=FAQ, background=False)
            also = functools.partial(counted, usage=usage)
            if not await asyncio.to_thread(queue.finish, claim, row, faq_answers, also):
                log.warning("finished %s/%s after losing its lease", claim.paper_id, claim.lang)
        except LostLease:
            log.warning("lost the lease of %s/%s; another worker has it", *self._key())
        except Exception as e:  # the LLM, the network, the PDF: fail the job, keep nothing
            log.warning("FAQ %s/%s failed: %s", *self._key(), e)
            self.beat.stop()
            await asyncio.to_thread(queue.fail, claim, _message(e))

    def _key(self) -> tuple[str, str]:
        return self.claim.paper_id, self.claim.lang

    def _progress(self, step: str) -> None:
        """Tell readers what the conversation is doing (any thread); a lost lease is the
        heartbeat's to notice."""
        try:
            self.service.queue.step(self.claim, step, self.settings.llm_lease_seconds)
        except Exception as e:  # a step is for show: never fail the answer over one
            log.warning("could not record the step of %s/%s: %s", *self._key(), e)

    async def _talk(
        self, ctx: Context, note: str = ""
    ) -> tuple[list[tuple[str, str]], dict[str, int]]:
        """The questions one by one, each call carrying the conversation so far (for a model
        whose profile says it cannot use it, the questions alone). `note`: why the answers
        come from the abstract, kept before each step (a step of its own would last only
        until the first question's)."""
        history = list(ctx.opening)
        usage = {"prompt_tokens": 0, "completion_tokens": 0, "calls": 0}
        turns: list[tuple[str, str]] = []
        questions = self.service.prompts.questions[ctx.lang]
        keep = models.profile_for(self.settings.llm_model).history
        for i, question in enumerate(questions):
            step = _ANSWERING.get(ctx.lang, _ANSWERING["en"]).format(k=i + 1, n=len(questions))
            await asyncio.to_thread(self._progress, f"{note} {step}" if note else step)
            messages = await asyncio.to_thread(ctx.ask, history, question, i)
            guard = Guard(earlier=[a for _, a in turns], question=question)
            answer = await self._ask(messages, i, usage, guard, ctx.lang)
            if usage.get("counted"):  # the server reported nothing: count the prompt too
                usage["prompt_tokens"] += await asyncio.to_thread(
                    lambda m=messages: sum(ctx.window.count(x["content"]) for x in m)
                )
            if keep:
                history += [
                    {"role": "user", "content": question},
                    {"role": "assistant", "content": answer},
                ]
            turns.append((question, answer))
        return turns, usage

    async def _ask(
        self,
        messages: list[dict[str, str]],
        turn: int,
        usage: dict[str, int],
        guard: Guard | None = None,
        lang: str = "en",
    ) -> str:
        reply = await chat.stream(
            self.llm, self.settings, messages, usage=True, guard=guard, lang=lang
        )
        usage["calls"] += 1
        pending: list[str] = []
        cut = ""
        last = time.monotonic()
        async for new in reply:
            if new:
                pending.append(new)
            if reply.finish_reason == "length" and not cut:
                # Cut at the answer-length limit (COOLPAPERS_LLM_MAX_ANSWER_TOKENS): complete
                # as far as the settings allow; the reader sees it was cut.
                usage["cut"] = usage.get("cut", 0) + 1
                cut = " …"
                pending.append(cut)
            if pending and time.monotonic() - last >= self.flush:
                await self._write(turn, "".join(pending))
                pending.clear()
                last = time.monotonic()
        if reply.repeated:
            # Stopped where it began to loop or copy (the text ends with the mark).
            usage["repeated"] = usage.get("repeated", 0) + 1
            assert guard is not None
            log.info("answer %d of %s/%s cut: %s", turn + 1, *self._key(), guard.why)
        elif reply.finish_reason is None:
            # The server closed the stream without saying the answer was complete.
            raise LLMError("the model's stream broke off before the answer was complete")
        if reply.reported:
            usage["prompt_tokens"] += reply.prompt_tokens
            usage["completion_tokens"] += reply.completion_tokens
        else:
            # llama-cpp-python's server streams no usage (it ignores stream_options); it
            # streams one token per delta, so count those, and say the figures are counted
            usage["completion_tokens"] += reply.deltas
            usage["counted"] = 1
        if pending:
            await self._write(turn, "".join(pending))
        return reply.text + cut

    async def _write(self, turn: int, text: str) -> None:
        self.seq += 1
        ok = await asyncio.to_thread(
            self.service.queue.append,
            self.claim,
            self.seq,
            turn,
            text,
            self.settings.llm_lease_seconds,
        )
        if not ok:
            raise LostLease


class TextJob(Conversation):
    """A short task of llm/texts.py (a TL;DR, a translated title or abstract): one call, on
    the same lease, heartbeat, streaming and repetition stop as a FAQ's answer."""

    async def _run(self) -> None:
        queue, claim = self.service.queue, self.claim
        try:
            papers = await asyncio.to_thread(self.service.store.papers, [claim.paper_id])
            paper = papers.get(claim.paper_id)
            if paper is None:
                raise LLMError(f"unknown paper {claim.paper_id}")
            if claim.task not in texts.TASKS:
                raise LLMError(f"unknown task {claim.task}")
            msgs, spans = texts.messages(paper, claim.task, claim.lang)
            # (its own length limit: a sentence, or about the source's length)
            self.settings = self.settings.model_copy(
                update={"llm_max_answer_tokens": texts.max_tokens(paper, claim.task)}
            )
            usage = {"prompt_tokens": 0, "completion_tokens": 0, "calls": 0}
            # (a TL;DR's reply is closed at its first sentence: the rest would be dropped)
            guard = texts.OneSentence() if claim.task == texts.TLDR else Guard()
            raw = await self._ask(msgs, 0, usage, guard, claim.lang)
            if usage.get("counted"):  # the server reported nothing: count the prompt too
                count = models.counter(self.settings)
                usage["prompt_tokens"] += await asyncio.to_thread(
                    lambda: sum(count(m["content"]) for m in msgs)
                )
            # (a translation stopped by the guard or the length limit ends with "…"; a TL;DR
            # is its first sentence whatever followed)
            raw = raw.replace(repeat.mark(claim.lang), "").rstrip()
            if claim.task == texts.TLDR:
                raw = raw.removesuffix(" …")
            elif reply_cut(usage) and not raw.endswith("…"):
                raw += " …"
            text = texts.clean(claim.task, raw, spans)
            if not text.strip():
                raise LLMError("the model's reply was empty")
            tservice = texts.TextService(self.service)
            row = tservice.row(paper, claim.task, claim.lang, text, usage)
            also = functools.partial(
                texts.count_usage,
                self.service.store,
                task=claim.task,
                background=claim.background,
                usage=usage,
            )
            self.beat.stop()
            if not await asyncio.to_thread(queue.finish, claim, row, llm_texts, also):
                log.warning("finished %s/%s/%s after losing its lease", *self._key(), claim.task)
        except LostLease:
            log.warning("lost the lease of %s/%s; another worker has it", *self._key())
        except Exception as e:  # nothing partial is kept
            log.warning("%s of %s/%s failed: %s", claim.task, *self._key(), e)
            self.beat.stop()
            await asyncio.to_thread(queue.fail, claim, _message(e))


def reply_cut(usage: dict[str, int]) -> bool:
    """The reply was stopped before its end (repeating itself, or at its length limit)."""
    return bool(usage.get("repeated") or usage.get("cut"))


# The step readers see while an answer is asked for (before its first words, the model reads
# the question's excerpts: seconds on a CPU).
_ANSWERING = {"en": "Answering question {k} of {n}…", "zh": "正在回答第 {k} 个问题（共 {n} 个）…"}


class Heartbeat:
    """Renews a claim's lease every third of it, on a thread of its own: it needs neither the
    conversation's event loop nor its thread pool, which a slow PDF or a long model call may
    keep busy. A failed renewal (the database briefly unreachable or locked) is retried at the
    next beat; only a renewal that finds the lease taken calls `on_lost`."""

    def __init__(
        self,
        renew: Callable[[Claim, float], bool],
        claim: Claim,
        lease: float,
        on_lost: Callable[[], object],
    ) -> None:
        self.renew, self.claim, self.lease, self.on_lost = renew, claim, lease, on_lost
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="faq-heartbeat")

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        # (not joined: a renewal in flight ends on its own, and whatever it finds is moot)

    def _run(self) -> None:
        every = max(0.05, self.lease / 3)
        while not self._stop.wait(every):
            try:
                ok = self.renew(self.claim, self.lease)
            except Exception as e:  # a transient database error: the next beat tries again
                log.warning("could not renew the lease of %s: %s", self.claim.paper_id, e)
                continue
            if not ok and not self._stop.is_set():
                self.lost.set()
                self.on_lost()
                return


def paper_context(service: FaqService, paper: Paper, text: fulltext.FullText, lang: str) -> Context:
    """The paper fitted to the model's window (llm/context.py)."""
    s = service.settings
    questions = len(service.prompts.questions[lang])
    window = models.window(s, questions + 1, models.counter(s))  # + 1: room for a follow-up
    ctx = context.build(service.prompts, paper, text, lang, window)
    style = models.profile_for(s.llm_model).style_for(lang)
    if style and ctx.opening and ctx.opening[0]["role"] == "system":
        # how this model should answer (its profile), after the prompts' system message
        system = ctx.opening[0]
        ctx.opening[0] = {**system, "content": f"{system['content']} {style}"}
    return ctx


# The pools running in this process, so that a web request that enqueued work wakes them.
_RUNNING: set[Workers] = set()


def wake_all() -> None:
    for w in list(_RUNNING):
        w.wake()


def _message(e: BaseException) -> str:
    text = str(e) or type(e).__name__
    return f"{type(e).__name__}: {text}"[:300]


class Workers:
    """A pool of conversation slots in this process, on its own thread and event loop (so it
    runs the same under uvicorn, the CLI and tests). `wake()` makes idle slots look for work
    at once; otherwise they poll the store every `poll` seconds (other processes enqueue).
    `clients`: the paced clients that fetch the papers' PDFs (one per host's pace); without
    them the conversations read the stored full text or the abstract."""

    def __init__(
        self,
        service: FaqService,
        slots: int | None = None,
        *,
        poll: float = 0.5,
        clients: Clients | None = None,
        flush: float = 0.1,
        on_done: Callable[[Claim], None] | None = None,
    ) -> None:
        self.service = service
        self.slots = slots or service.settings.llm_concurrency
        self.poll, self.flush = poll, flush
        self.clients = clients
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.on_done = on_done
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> Workers:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._main, args=(ready,), daemon=True, name="faq")
        self._thread.start()
        ready.wait(5)
        _RUNNING.add(self)
        return self

    def wake(self) -> None:
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop taking jobs and cancel the running ones (their leases then expire)."""
        self._stop.set()
        _RUNNING.discard(self)
        if self._loop is not None:
            for t in self._tasks:
                # The loop may already be closing: idle slots see the stop flag and end.
                with contextlib.suppress(RuntimeError):
                    self._loop.call_soon_threadsafe(t.cancel)
        if self._thread is not None:
            self._thread.join(timeout)

    def _main(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._wake = asyncio.Event()
        llm = make_llm(self.service)
        self._tasks = [loop.create_task(self._slot(llm, i)) for i in range(self.slots)]
        ready.set()
        try:
            loop.run_until_complete(asyncio.gather(*self._tasks, return_exceptions=True))
        finally:
            loop.run_until_complete(llm.close())
            loop.close()

    def _claim(self) -> Claim | None:
        """The next job; background work only while the day's token budget lasts."""
        s = self.service.settings
        background = s.llm_daily_token_budget <= 0 or texts.TextService(self.service).budget_left()
        return self.service.queue.claim(
            self.owner, s.llm_lease_seconds, s.llm_concurrency, background
        )

    async def _slot(self, llm: AsyncOpenAI, index: int) -> None:
        assert self._wake is not None
        while not self._stop.is_set():
            self._wake.clear()  # before the claim: a wake-up during it is not lost
            if local.waiting():
                # The local model is still being built (`make demo`): readers' jobs wait in
                # the queue, and start when it runs (cli/local_llm.py wakes us).
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll)
                continue
            claim = await asyncio.to_thread(self._claim)
            if claim is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll)
                continue
            job = Conversation if claim.task == FAQ else TextJob
            await job(self.service, llm, self.clients, claim, self.flush).run()
            if self.on_done:
                self.on_done(claim)
            self._wake.set()  # a slot freed: another may be waiting on the global cap
