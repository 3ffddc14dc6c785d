"""A real OpenAI-compatible chat server on 127.0.0.1 for the FAQ's tests.

Its JSON and SSE payloads are built from the `openai` package's own pydantic types
(ChatCompletion, ChatCompletionChunk), so the wire format is the SDK's, not hand-written.
It records every request, can stream slowly, and can break a stream in the middle.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from openai.types import CompletionUsage
from openai.types.chat import ChatCompletion, ChatCompletionChunk, ChatCompletionMessage
from openai.types.chat.chat_completion import Choice
from openai.types.chat.chat_completion_chunk import Choice as ChunkChoice
from openai.types.chat.chat_completion_chunk import ChoiceDelta


def default_answer(messages: list[dict[str, Any]]) -> str:
    """Names the question it answers, and carries math that Markdown must not mangle. Each
    answer's point is its own (numbered): the FAQ stops an answer that copies a sentence of an
    earlier one (llm/repeat.py), as a real model's answers do not."""
    turn = sum(1 for m in messages if m["role"] == "assistant")
    return (
        f"Answer {turn + 1} to: {messages[-1]['content']}\n\n"
        f"- point {turn + 1} $a_1 * b_2 \\\\ c_3$ **bold**"
    )


@dataclass
class FakeLLM:
    answer: Callable[[list[dict[str, Any]]], str] = default_answer
    delay: float = 0.0  # seconds between streamed pieces
    piece: int = 8  # characters per streamed piece
    # Break the stream of call number `fail_call` (1-based, counted over the server's life)
    # after `fail_after` pieces: the connection closes with no finish_reason and no [DONE].
    fail_call: int | None = None
    fail_after: int = 2
    status: int = 200  # anything else: an error body for every request
    finish_reason: str = "stop"  # "length": every answer ends as if cut at max_tokens
    calls: list[dict[str, Any]] = field(default_factory=list)
    active: int = 0  # requests being answered now, and the most at once
    max_active: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.llm = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/v1"

    def __enter__(self) -> FakeLLM:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def record(self, body: dict[str, Any]) -> int:
        with self._lock:
            self.calls.append(body)
            return len(self.calls)


def _usage(messages: list[dict[str, Any]], text: str) -> CompletionUsage:
    prompt = sum(len(str(m["content"])) for m in messages) // 4
    done = len(text) // 4
    return CompletionUsage(prompt_tokens=prompt, completion_tokens=done, total_tokens=prompt + done)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        llm: FakeLLM = self.server.llm  # type: ignore[attr-defined]
        with llm._lock:
            llm.active += 1
            llm.max_active = max(llm.max_active, llm.active)
        try:
            self._answer(llm)
        finally:
            with llm._lock:
                llm.active -= 1

    def _answer(self, llm: FakeLLM) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        n = llm.record(body)
        if llm.status != 200:
            self._json(llm.status, {"error": {"message": "model overloaded", "type": "server"}})
            return
        messages, model = body["messages"], body["model"]
        text = llm.answer(messages)
        if not body.get("stream"):
            done = ChatCompletion(
                id=f"c{n}",
                created=int(time.time()),
                model=model,
                object="chat.completion",
                choices=[
                    Choice(
                        index=0,
                        finish_reason=llm.finish_reason,  # type: ignore[arg-type]
                        message=ChatCompletionMessage(role="assistant", content=text),
                    )
                ],
                usage=_usage(messages, text),
            )
            self._json(200, json.loads(done.model_dump_json()))
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")  # the body ends when the connection does
        self.end_headers()
        self.close_connection = True
        pieces = [text[i : i + llm.piece] for i in range(0, len(text), llm.piece)]

        def chunk(**kw: Any) -> ChatCompletionChunk:
            return ChatCompletionChunk(
                id=f"c{n}", created=int(time.time()), model=model, object="chat.completion.chunk",
                **kw,
            )  # fmt: skip

        try:
            for k, p in enumerate(pieces):
                if llm.fail_call == n and k == llm.fail_after:
                    return  # the connection drops mid-answer
                delta = ChoiceDelta(content=p, role="assistant" if k == 0 else None)
                self._event(chunk(choices=[ChunkChoice(index=0, delta=delta)]))
                if llm.delay:
                    time.sleep(llm.delay)
            self._event(
                chunk(
                    choices=[
                        ChunkChoice(
                            index=0,
                            delta=ChoiceDelta(),
                            finish_reason=llm.finish_reason,  # type: ignore[arg-type]
                        )
                    ]
                )
            )
            if (body.get("stream_options") or {}).get("include_usage"):
                self._event(chunk(choices=[], usage=_usage(messages, text)))
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _event(self, c: ChatCompletionChunk) -> None:
        self.wfile.write(f"data: {c.model_dump_json(exclude_unset=True)}\n\n".encode())
        self.wfile.flush()

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass
