"""What every request passes before a route sees it: hostile input is dealt with here, once.

- Control characters (C0 and DEL) never reach a route: PostgreSQL rejects NUL in text (a 500
  on one engine and not the other), and none of them means anything in an id, a category or
  a search. In the path they are a 400; in query values they become spaces (a search pasted
  with a tab or a newline still works). JSON bodies are cleaned by their models (`Clean`).
- Sizes are bounded: the path and the query string (414) and the request body (413), so no
  route has to guess how much a client may send.
- Validation errors are answered 422 without echoing the input, which may be NaN or 1e309
  (JSON cannot encode those: FastAPI's own handler fails with a 500) or 200 kB long.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import AfterValidator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_PATH = 8 * 1024  # characters: a feed of 200 ids is ~4,000
MAX_QUERY = 16 * 1024  # bytes of query string: a page of 500 ids is ~10 kB
MAX_BODY = 1024 * 1024  # bytes of request body: /api/taste's 5,000 ids are ~100 kB


def clean(text: str) -> str:
    """`text` with control characters as spaces (what a tab or newline stood for)."""
    return CONTROL.sub(" ", text)


# A string field of a JSON body, cleaned as query values are.
Clean = Annotated[str, AfterValidator(clean)]

# The answers the edge may give on any route, for the OpenAPI description of every operation.
_DETAIL = {
    "application/json": {"schema": {"type": "object", "properties": {"detail": {"type": "string"}}}}
}
RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "Control characters in the path", "content": _DETAIL},
    413: {"description": f"Request body over {MAX_BODY} bytes", "content": _DETAIL},
    414: {
        "description": f"Path over {MAX_PATH} characters or query over {MAX_QUERY} bytes",
        "content": _DETAIL,
    },
}


class _TooLarge(HTTPException):
    """Raised while a route reads a chunked body past MAX_BODY. An HTTPException, so that
    FastAPI's body parsing passes it on as the 413 it is (other errors there become 400s)."""

    def __init__(self) -> None:
        super().__init__(413, f"request body over {MAX_BODY} bytes")


class EdgeMiddleware:
    """Reject or clean hostile input for every route, before routing and the page cache."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if len(scope["path"]) > MAX_PATH:
            await _error(scope, send, 414, f"path over {MAX_PATH} characters")
            return
        if CONTROL.search(scope["path"]):
            await _error(scope, send, 400, "control characters in the path")
            return
        query: bytes = scope.get("query_string", b"")
        if len(query) > MAX_QUERY:
            await _error(scope, send, 414, f"query string over {MAX_QUERY} bytes")
            return
        if query:
            # Percent-escapes are decoded the way Starlette decodes them (request.query_params)
            pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
            if any(CONTROL.search(k) or CONTROL.search(v) for k, v in pairs):
                cleaned = [(clean(k), clean(v)) for k, v in pairs]
                scope = {**scope, "query_string": urlencode(cleaned).encode("latin-1")}
        length = dict(scope["headers"]).get(b"content-length", b"0")
        if not length.isdigit() or int(length) > MAX_BODY:
            await _error(scope, send, 413, f"request body over {MAX_BODY} bytes")
            return

        # A chunked body has no length to check up front: count it as it arrives.
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > MAX_BODY:
                raise _TooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _TooLarge:
            if started:
                raise
            await _error(scope, send, 413, f"request body over {MAX_BODY} bytes")


async def _error(scope: Scope, send: Send, status: int, message: str) -> None:
    body = json.dumps({"detail": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 naming what is wrong and where; the input itself is not echoed (see above)."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    detail = [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg")), "type": e.get("type")}
        for e in errors
    ]
    return JSONResponse({"detail": detail}, status_code=422)
