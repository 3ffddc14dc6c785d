"""A real HTTP server on 127.0.0.1 that replays recorded arXiv responses, for tests.

The sources' tests run the real client (httpx, pacing, retries) against this server: routes
map (path, query parameters) to a sequence of replies; the server records when each request
arrived and from which client port (one port = one connection). Replies can also be cut
short in the two ways a network cuts them: a complete HTTP response with half a document, or
a connection dropped in the middle of the body.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import pytest

from coolpapers.config import Settings
from coolpapers.sources.arxiv.client import ArxivClient
from coolpapers.store.store import Store

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
FIXTURES = SHARED / "fixtures"
DOCS = SHARED / "docs" / "arxiv"


def require_shared() -> Path:
    if not FIXTURES.is_dir():
        pytest.skip(f"real arXiv fixtures not found: {SHARED} (the project's ../shared folder)")
    return SHARED


@dataclass(slots=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # full: as is; cut: a complete response carrying only the first half of the body;
    # drop: Content-Length of the whole body, half of it sent, then the connection closed.
    mode: Literal["full", "cut", "drop"] = "full"
    delay: float = 0.0  # seconds the server takes before answering


def xml(body: bytes | str, status: int = 200, **headers: str) -> Reply:
    data = body.encode() if isinstance(body, str) else body
    return Reply(status, data, {"Content-Type": "text/xml; charset=utf-8", **headers})


@dataclass(slots=True)
class Hit:
    at: float  # time.time() when the request arrived
    path: str
    params: dict[str, str]
    port: int  # the client's port: one per TCP connection
    user_agent: str


@dataclass(slots=True)
class _Route:
    path: str
    params: dict[str, str]
    replies: list[Reply]
    served: int = 0


class Replay:
    def __init__(self) -> None:
        self.hits: list[Hit] = []
        self._routes: dict[tuple[str, frozenset[tuple[str, str]]], _Route] = {}
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.replay = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def __enter__(self) -> Replay:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add(self, path: str, replies: Reply | list[Reply], **params: str) -> None:
        """Serve `replies` in order (the last one repeats) to GETs of `path` whose query
        contains `params`; the route naming the most parameters wins."""
        replies = replies if isinstance(replies, list) else [replies]
        key = (path, frozenset(params.items()))
        with self._lock:
            self._routes[key] = _Route(path, dict(params), list(replies))

    def hits_for(self, path: str) -> list[Hit]:
        return [h for h in self.hits if h.path == path]

    # ---- recorded fixtures -------------------------------------------------------------

    def load_api_fixtures(self, path: str = "/api/query") -> None:
        """fixtures/arxiv-api/*.json ({url, status_code, body}), matched on id_list (or on
        search_query/start/max_results for the paging ones)."""
        for f in sorted((require_shared() / "fixtures" / "arxiv-api").glob("*.json")):
            rec = json.loads(f.read_text("utf-8"))
            q = {k: v[0] for k, v in parse_qs(urlsplit(rec["url"]).query, True).items()}
            keys = ("id_list",) if q.get("id_list") else ("search_query", "start", "max_results")
            reply = Reply(
                rec["status_code"],
                recorded_bytes(rec["body"]),
                {"Content-Type": "application/atom+xml; charset=UTF-8"},
            )
            self.add(path, reply, **{k: q[k] for k in keys})

    def load_oai_fixtures(self, path: str = "/oai2") -> None:
        """fixtures/arxiv-oai/*.request.json with their .xml bodies; several recorded answers
        to one request (the 503, then the 200) are served in their recorded order."""
        folder = require_shared() / "fixtures" / "arxiv-oai"
        grouped: dict[str, list[tuple[int, Reply]]] = {}
        for f in sorted(folder.glob("*.request.json")):
            rec = json.loads(f.read_text("utf-8"))
            m = re.search(r"_(\d+)_(\d{3})\.request\.json$", f.name)
            index = int(m.group(1)) if m else 0
            body = folder / f.name.replace(".request.json", ".xml")
            raw = rec["headers"]
            recorded = dict(zip(raw[::2], raw[1::2], strict=True))
            # Hop-by-hop and length headers are the server's own business here.
            keep = {k: v for k, v in recorded.items() if k in ("Content-Type", "Retry-After")}
            reply = Reply(rec["status"], body.read_bytes(), keep)
            grouped.setdefault(rec["path"], []).append((index, reply))
        for recorded_path, replies in grouped.items():
            q = {k: v[0] for k, v in parse_qs(urlsplit(recorded_path).query, True).items()}
            self.add(path, [r for _, r in sorted(replies, key=lambda x: x[0])], **q)

    # ---- server side --------------------------------------------------------------------

    def _next(self, path: str, params: dict[str, str]) -> Reply | None:
        with self._lock:
            routes = [
                r
                for r in self._routes.values()
                if r.path == path and all(params.get(k) == v for k, v in r.params.items())
            ]
            if not routes:
                return None
            route = max(routes, key=lambda r: len(r.params))
            reply = route.replies[min(route.served, len(route.replies) - 1)]
            route.served += 1
            return reply


def recorded_bytes(body: str) -> bytes:
    """The API recordings hold UTF-8 bodies that were decoded as Latin-1 ("WÃ¼bben"):
    encoding back to Latin-1 gives arXiv's original bytes."""
    try:
        raw = body.encode("latin-1")
        raw.decode("utf-8")
        return raw
    except (UnicodeEncodeError, UnicodeDecodeError):
        return body.encode("utf-8")


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        # A client that gave up (a timeout test) breaks the pipe: expected, not noise.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so one client connection = one port

    def do_GET(self) -> None:
        replay: Replay = self.server.replay  # type: ignore[attr-defined]
        parts = urlsplit(self.path)
        params = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        with replay._lock:
            replay.hits.append(
                Hit(
                    time.time(),
                    parts.path,
                    params,
                    self.client_address[1],
                    self.headers.get("User-Agent", ""),
                )
            )
        reply = replay._next(parts.path, params) or Reply(404, b"no recorded response\n")
        if reply.delay:
            time.sleep(reply.delay)
        body = reply.body
        if reply.mode != "full":
            body = body[: len(body) // 2]
        self.send_response(reply.status)
        for k, v in reply.headers.items():
            self.send_header(k, v)
        length = len(reply.body) if reply.mode == "drop" else len(body)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        if reply.mode == "drop":
            self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass


# ---- shared test helpers ---------------------------------------------------------------------


def settings_for(replay: Replay, **overrides: object) -> Settings:
    """Settings that point every arXiv URL at the replay server, with a fast pace."""
    values: dict[str, object] = {
        "arxiv_rss_url": replay.url,
        "arxiv_oai_url": f"{replay.url}/oai2",
        "arxiv_api_url": f"{replay.url}/api/query",
        "arxiv_min_interval": 0.05,
        "arxiv_max_retries": 3,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type,call-arg]


class FakeSleep:
    """Records the waits the client asks for instead of waiting; `now` is a clock that moves
    on by the waits (the real time plus everything "slept"), as if they had happened."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)

    def now(self) -> float:
        return time.time() + sum(self.calls)


def fake_client(
    store: Store, settings: Settings, sleep: FakeSleep | None = None, **kwargs: Any
) -> ArxivClient:
    """A client whose waits are recorded (on `sleep`) instead of slept."""
    sleep = sleep or FakeSleep()
    return ArxivClient(store, settings, sleep=sleep, clock=sleep.now, **kwargs)
