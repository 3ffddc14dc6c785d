"""Streaming a generation to readers, from the store (so any web worker can serve any job).

Per process and per (paper, language) ONE poller reads the job row and its new chunks every
`interval` seconds and renders the turn being written once; every reader of that job in this
process is fed from it. Late joiners get what exists so far (the completed turns, then the
current one), then the rest. Readers leaving does not stop the job: it is the workers'.

When a worker dies, its job reads as `restarting` once the lease has run out: the dead
attempt's text is dropped from the view (it will never be finished) and readers are told the
answer starts over; the attempt that takes the job over is marked `restarted`.

Status events carry the generation's `step`, what it is doing in words (the worker's: fetching
the PDF, retrying, using the abstract, answering question k of 6; for a queued job while the
local model is being built, that and for about how long), so a reader is never left with a
bare "Generating…" for long.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any

from coolpapers.llm import render
from coolpapers.llm.jobs import DONE, FAILED, PENDING, RESTARTING, RUNNING, JobStatus
from coolpapers.llm.service import FaqService

Event = tuple[str, dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Snapshot:
    version: int = 0
    state: str = "pending"
    position: int | None = None
    attempt: int = 0
    done: tuple[str, ...] = ()  # HTML of the completed turns
    current: int | None = None  # the turn being written
    current_html: str = ""
    final: dict[str, Any] | None = None
    error: str | None = None
    restarted: bool = False  # this generation was taken over from a dead worker
    step: str | None = None  # what the generation is doing now, for readers


@dataclass(slots=True)
class _Watch:
    key: tuple[int, str, str]
    paper_id: str
    lang: str
    cond: asyncio.Condition = field(default_factory=asyncio.Condition)
    snap: Snapshot = field(default_factory=Snapshot)
    subscribers: int = 0
    task: asyncio.Task[None] | None = None
    # the attempt being followed and its text so far, per turn
    attempt: int = -1
    seq: int = 0
    texts: dict[int, str] = field(default_factory=dict)
    done_html: list[str] = field(default_factory=list)


class Hub:
    def __init__(self, service: FaqService, interval: float = 0.05) -> None:
        self.service = service
        self.interval = interval
        self._watches: dict[tuple[int, str, str], _Watch] = {}

    def watching(self) -> int:
        return len(self._watches)

    async def follow(self, paper_id: str, lang: str) -> AsyncIterator[Event]:
        # Keyed by event loop too: a server has one, but a watch must never be shared
        # across loops (asyncio primitives are bound to theirs), e.g. under a test client.
        key = (id(asyncio.get_running_loop()), paper_id, lang)
        w = self._watches.get(key)
        if w is None or w.task is None or w.task.done():
            w = _Watch(key, paper_id, lang)
            self._watches[key] = w
            w.task = asyncio.create_task(self._poll(w))
        w.subscribers += 1
        try:
            async for ev in self._feed(w):
                yield ev
        finally:
            w.subscribers -= 1

    async def _feed(self, w: _Watch) -> AsyncIterator[Event]:
        seen, sent_done, last_status = 0, 0, None  # version 0: nothing read yet
        attempt = 0
        questions = self.service.prompts.questions[w.lang]
        while True:
            async with w.cond:
                await w.cond.wait_for(lambda seen=seen: w.snap.version != seen)
                s = w.snap
            seen = s.version
            if s.final is not None:
                yield "done", s.final
                return
            if s.error is not None:
                yield "error", {"state": FAILED, "error": s.error}
                return
            if s.attempt != attempt:
                if attempt and sent_done:
                    # The worker died and another one starts over: so does the reader's view.
                    yield "reset", {"attempt": s.attempt}
                attempt, sent_done = s.attempt, 0
            status = (s.state, s.position, s.restarted, s.step)
            if status != last_status:
                last_status = status
                step = {"step": s.step} if s.step else {}
                yield "status", {"state": s.state, "position": s.position, **step, **_restart(s)}
            n = len(questions)
            for i in range(sent_done, len(s.done)):
                yield "turn", {"i": i, "of": n, "q": questions[i], "html": s.done[i], "done": True}
            sent_done = len(s.done)
            if s.current is not None and s.current >= sent_done:
                i = s.current
                yield "turn", {
                    "i": i, "of": n, "q": questions[i], "html": s.current_html, "done": False
                }  # fmt: skip

    async def _poll(self, w: _Watch) -> None:
        try:
            while True:
                job, chunks = await asyncio.to_thread(self._read, w)
                snap = await asyncio.to_thread(self._advance, w, job, chunks)
                if snap is not None:
                    async with w.cond:
                        w.snap = snap
                        w.cond.notify_all()
                if w.snap.final is not None or w.snap.error is not None:
                    return
                if w.subscribers == 0 and w.snap.version > 0:
                    return  # nobody listens here any more; the job goes on in its worker
                await asyncio.sleep(self.interval)
        finally:
            with contextlib.suppress(KeyError):
                if self._watches[w.key] is w:
                    del self._watches[w.key]

    def _read(self, w: _Watch) -> tuple[JobStatus, list[tuple[int, int, str]]]:
        q = self.service.queue
        job = q.status(w.paper_id, w.lang)
        if job.state != RUNNING:  # (not RESTARTING: a dead attempt's text is never served)
            return job, []
        attempt_seq = w.seq if job.attempt == w.attempt else 0
        return job, q.chunks(w.paper_id, w.lang, job.attempt, attempt_seq)

    def _advance(
        self, w: _Watch, job: JobStatus, chunks: list[tuple[int, int, str]]
    ) -> Snapshot | None:
        """The new snapshot after this read, or None when nothing changed."""
        s = w.snap
        if job.state == DONE:
            a = self.service.answer(w.paper_id, w.lang)
            if a is not None:
                return replace(s, version=s.version + 1, state=DONE, final=answer_json(a))
        if job.state in (FAILED, "none"):
            err = job.error or "no generation is running for this paper"
            return replace(s, version=s.version + 1, state=job.state, error=err)
        if job.state == PENDING and (why := self.service.unavailable()) is not None:
            # The local model's build failed: this job will not run here (it stays queued
            # for a server with a model); its readers are told why.
            return replace(s, version=s.version + 1, state=FAILED, error=why)
        restarted = job.restarts > 0
        step = job.step if job.state == RUNNING else None
        if job.state == PENDING:
            step = self.service.building()
        if job.state == RESTARTING and (s.done or s.current is not None):
            # The worker died: what it wrote will never be finished; readers drop it.
            w.attempt, w.seq, w.texts, w.done_html = -1, 0, {}, []
            s = replace(s, done=(), current=None, current_html="")
        if job.state == RUNNING and job.attempt != w.attempt:
            # A new attempt (the first, or a retry after a dead worker): start over.
            w.attempt, w.seq, w.texts, w.done_html = job.attempt, 0, {}, []
            s = replace(s, attempt=job.attempt, done=(), current=None, current_html="")
        questions = self.service.prompts.questions[w.lang]
        for seq, turn, text in chunks:
            w.seq = seq
            w.texts[turn] = w.texts.get(turn, "") + text
        if chunks:
            top = max(w.texts)
            while len(w.done_html) < top:  # earlier turns are complete: render them once
                i = len(w.done_html)
                w.done_html.append(render.turn_html(i, questions[i], w.texts.get(i, "")))
            html = render.turn_html(top, questions[top], w.texts[top], streaming=True)
            return replace(
                s,
                version=s.version + 1,
                state=job.state,
                position=None,
                done=tuple(w.done_html),
                current=top,
                current_html=html,
                restarted=restarted,
                step=step,
            )
        # (`s is not w.snap`: a new attempt began, or a dead one's text went: readers must hear)
        now = (job.state, job.position, restarted, step)
        if now != (s.state, s.position, s.restarted, s.step) or s is not w.snap or not s.version:
            return replace(
                s,
                version=s.version + 1,
                state=job.state,
                position=job.position,
                restarted=restarted,
                step=step,
            )
        return None


RESTART_NOTE = "The previous attempt stopped before it was complete; restarting the answer."


def _restart(s: Snapshot) -> dict[str, Any]:
    """What a status event says about a restart: why the text a reader saw is gone."""
    if s.state == RESTARTING or s.restarted:
        return {"restarted": True, "note": RESTART_NOTE}
    return {}


def answer_json(a: Any) -> dict[str, Any]:
    """The complete answer as the API and the SSE `done` event give it."""
    return {
        "state": DONE,
        "html": a.html,
        "markdown": a.markdown,
        "turns": [{"q": q, "a": t} for q, t in a.turns],
        "model": a.model,
        "prompt_version": a.prompt_version,
        "paper_version": a.paper_version,
        "source": a.source,
        "usage": a.usage,
        "seconds": round(a.seconds, 3),
        "created": a.created.isoformat() + "Z",
    }
