"""One streamed chat completion: the loop that the FAQ's conversation (llm/worker.py) and a
reader's follow-up (web/faq.py) share.

    reply = await chat.stream(llm, settings, messages, usage=True)  # the request is made
    async for new in reply:  # once per chunk the server sends
        ...
    reply.text, reply.finish_reason, reply.reported, reply.prompt_tokens, ...

Iterating yields each chunk's new text ("" for a chunk with none: the usage figures, the
finish), so that callers keep their own cadence (the worker's flushes, the follow-up's
re-renders) on the server's chunks; what the server said about the answer is on the reply.
What to make of it (an answer cut at the length limit, a stream that broke off, figures the
server did not report) is the caller's.

With a `guard` (llm/repeat.py) the reply stops as soon as the answer repeats itself or copies:
the stream is closed (the server stops generating when its client goes), `finish_reason` is
REPEATED, and `text` is the answer as kept, ending with the mark that says it was cut. The
text yielded, and `shown`, is then only what the guard has settled (a sentence is yielded once
it is complete and checked), so a repeat never reaches a reader's screen.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING

from coolpapers.config import Settings
from coolpapers.llm import models
from coolpapers.llm.repeat import Guard

# finish_reason of a reply its guard stopped (not one of the server's)
REPEATED = "repeated"

if TYPE_CHECKING:  # the client is imported when a worker starts, not with the web app
    from openai import AsyncOpenAI, AsyncStream
    from openai.types.chat import ChatCompletionChunk


async def stream(
    llm: AsyncOpenAI,
    settings: Settings,
    messages: Sequence[dict[str, str]],
    *,
    usage: bool = False,
    guard: Guard | None = None,
    lang: str = "en",
) -> Reply:
    """Ask the settings' model, with their sampling, to complete `messages`; the reply is
    read by iterating it (once). `usage`: ask the server to stream its token figures
    (OpenAI's include_usage; llama-cpp-python's server ignores it). `guard`: stop the answer
    where it repeats itself (its mark in `lang`)."""
    extra: dict[str, object] = {"stream_options": {"include_usage": True}} if usage else {}
    chunks = await llm.chat.completions.create(
        model=settings.llm_model,
        messages=list(messages),  # type: ignore[arg-type]
        stream=True,
        **extra,  # type: ignore[arg-type]
        **models.sampling(settings),  # type: ignore[arg-type]
    )
    return Reply(chunks, guard, lang)


class Reply:
    """A completion as it streams in, and what the server said about it."""

    def __init__(
        self, chunks: AsyncStream[ChatCompletionChunk], guard: Guard | None = None, lang: str = "en"
    ) -> None:
        self.chunks = chunks
        self.guard, self.lang = guard, lang
        self.parts: list[str] = []
        self._raw = ""  # "".join(parts), kept as it grows (the guard reads it at each piece)
        self._shown = ""  # what was yielded
        self.deltas = 0  # content pieces (llama.cpp's server streams one token per piece)
        self.finish_reason: str | None = None  # None: the server never said it was complete
        self.reported = False  # the server streamed usage figures
        self.prompt_tokens = 0
        self.completion_tokens = 0

    @property
    def raw(self) -> str:
        """Everything the model sent."""
        return self._raw

    @property
    def text(self) -> str:
        """The answer as kept: all of it, or up to where its guard stopped it (marked), or,
        stopped by the length limit, up to its last finished sentence."""
        raw = self.raw
        if self.guard is None:
            return raw
        # (cut at the length limit: ends with the last sentence it finished)
        return self.guard.final(raw, self.lang, whole=self.finish_reason != "length")

    @property
    def shown(self) -> str:
        """What may be shown so far: what the guard settled (all that came, without one)."""
        return self._shown

    @property
    def repeated(self) -> bool:
        return self.finish_reason == REPEATED

    async def __aiter__(self) -> AsyncIterator[str]:
        async for chunk in self.chunks:
            if chunk.usage:
                self.reported = True
                self.prompt_tokens += chunk.usage.prompt_tokens or 0
                self.completion_tokens += chunk.usage.completion_tokens or 0
            new: list[str] = []
            for choice in chunk.choices:
                if choice.delta and choice.delta.content:
                    self.deltas += 1
                    new.append(choice.delta.content)
                if choice.finish_reason:
                    self.finish_reason = choice.finish_reason
            self.parts += new
            self._raw += "".join(new)
            if self.guard is None:
                yield self._yield("".join(new))
                continue
            if new and self.guard.check(self.raw) is not None:
                # Looping or copying: stop here. Closing the response ends the server's
                # generation (llama.cpp's server stops when its client disconnects).
                self.finish_reason = REPEATED
                await self.chunks.close()
                yield self._yield_upto(self.text)
                return
            yield self._yield_upto(self.guard.settled(self.raw, self.lang))
        if self.guard is not None:  # the end: all that is kept is settled
            if self.finish_reason not in (None, "length") and self.guard.close(self.raw):
                self.finish_reason = REPEATED  # its last sentence repeated or restated
            yield self._yield_upto(self.text)

    def _yield(self, piece: str) -> str:
        self._shown += piece
        return piece

    def _yield_upto(self, settled: str) -> str:
        """The new part of `settled`, which only grows (the guard never takes back what it
        settled; were it to, nothing more is yielded and `text` alone is right)."""
        done = len(self._shown)
        if len(settled) < done or settled[max(0, done - 32) : done] != self._shown[-32:]:
            return ""
        return self._yield(settled[done:])
