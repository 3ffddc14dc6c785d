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
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING

from coolpapers.config import Settings
from coolpapers.llm import models

if TYPE_CHECKING:  # the client is imported when a worker starts, not with the web app
    from openai import AsyncOpenAI, AsyncStream
    from openai.types.chat import ChatCompletionChunk


async def stream(
    llm: AsyncOpenAI,
    settings: Settings,
    messages: Sequence[dict[str, str]],
    *,
    usage: bool = False,
) -> Reply:
    """Ask the settings' model, with their sampling, to complete `messages`; the reply is
    read by iterating it (once). `usage`: ask the server to stream its token figures
    (OpenAI's include_usage; llama-cpp-python's server ignores it)."""
    extra: dict[str, object] = {"stream_options": {"include_usage": True}} if usage else {}
    chunks = await llm.chat.completions.create(
        model=settings.llm_model,
        messages=list(messages),  # type: ignore[arg-type]
        stream=True,
        **extra,  # type: ignore[arg-type]
        **models.sampling(settings),  # type: ignore[arg-type]
    )
    return Reply(chunks)


class Reply:
    """A completion as it streams in, and what the server said about it."""

    def __init__(self, chunks: AsyncStream[ChatCompletionChunk]) -> None:
        self.chunks = chunks
        self.parts: list[str] = []
        self.deltas = 0  # content pieces (llama.cpp's server streams one token per piece)
        self.finish_reason: str | None = None  # None: the server never said it was complete
        self.reported = False  # the server streamed usage figures
        self.prompt_tokens = 0
        self.completion_tokens = 0

    @property
    def text(self) -> str:
        return "".join(self.parts)

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
            yield "".join(new)
