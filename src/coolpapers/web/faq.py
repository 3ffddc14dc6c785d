"""The FAQ's routes, button and panel (see coolpapers.llm).

GET  /api/papers/{id}/faq?lang=zh           JSON: status, queue position, the answer if done
     (any source's id; a paper its source cannot be asked for now: 503 with Retry-After)
POST /api/papers/{id}/faq?lang=zh           start or join; Server-Sent Events until done
     (&regenerate=1: an admin, or anyone when the answer is outdated or failed; rate-limited)
POST /api/papers/{id}/faq/followup          a reader's own question, streamed, not shared
POST /api/papers/{id}/click?kind=pdf|faq    the click counters; GET /api/counters?ids=a,b
GET|POST /arxiv/kimi?paper={id}             papers.cool's fragment (p.faq-q / div.faq-a)
POST /api/admin/faq?category=&date=&lang=   enqueue a day (Authorization: Bearer <token>)

Starting LLM work is rate-limited per address: only the request that creates the job is
charged (in the job's own transaction), so readers joining a generation, however many arrive
at once, never are; reading a cached answer never is. A click counts once per address, paper
and kind per window (a repeat is answered, not counted); past `llm_click_limit` distinct
clicks an address gets 429. The address is the peer's, or X-Forwarded-For's when the peer is
a trusted proxy (`forwarded_allow_ips`, applied by uvicorn in `coolpapers serve`).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import threading
import time
from collections.abc import AsyncIterator
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from coolpapers.llm import chat, fulltext, models, render
from coolpapers.llm import worker as worker_
from coolpapers.llm.batch import day_papers
from coolpapers.llm.jobs import DONE, FAILED, PENDING, RESTARTING, RUNNING
from coolpapers.llm.repeat import Guard
from coolpapers.llm.service import COUNTED, COUNTER_KINDS, LIMITED, FaqService, View
from coolpapers.llm.stream import RESTART_NOTE, Hub, answer_json
from coolpapers.records import Paper
from coolpapers.sources import registry
from coolpapers.sources.arxiv import taxonomy
from coolpapers.web.feature import Builtin, Parts
from coolpapers.web.lookup import Found
from coolpapers.web.render import esc

if TYPE_CHECKING:
    from coolpapers.config import Settings
    from coolpapers.web.app import Site

HELP = (
    "No LLM is configured on this server. To enable the FAQ, run `coolpapers serve "
    "--local-llm` (a local model through llama.cpp: `pip install 'coolpapers[local]'`), or set "
    "COOLPAPERS_LLM_BASE_URL (any OpenAI-compatible endpoint, e.g. https://api.moonshot.cn/v1 "
    "or a llama.cpp / Ollama / vLLM server), COOLPAPERS_LLM_MODEL and, if needed, "
    "COOLPAPERS_LLM_API_KEY, then restart."
)


def help_text(settings: Settings, service: FaqService | None = None) -> str:
    """Why the FAQ has no model: what `serve` found (the local model could not be installed
    or started, or its background build failed), then how to configure one."""
    reason = (service.unavailable() if service is not None else None) or settings.llm_unavailable
    return f"{reason.rstrip('.')}. {HELP}" if reason else HELP


SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
MAX_ID = 64  # characters of one id in a list (the longest arXiv id, math.GT/0309136v12, is 19)


# The FAQ's error answers are {"error": why} (and, for some, what else the reader needs); a
# 400 may also be the edge's {"detail"} (control characters in the path: web/edge.py).
_ERROR = {
    "application/json": {
        "schema": {
            "type": "object",
            "properties": {"error": {"type": "string"}, "detail": {"type": "string"}},
            "anyOf": [{"required": ["error"]}, {"required": ["detail"]}],
        }
    }
}


def _answers(*codes: int, html: bool = False) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for a route's error answers: JSON {"error"}, or an HTML fragment."""
    content = {"text/html": {"schema": {"type": "string"}}} if html else _ERROR
    return {c: {"description": "Why not", "content": content} for c in codes}


# A stream of Server-Sent Events, or (for a cached answer) all of it in one `done` event
_SSE = {200: {"description": "Server-Sent Events", "content": {"text/event-stream": {}}}}


def sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def build(site: Site) -> Parts:
    service = FaqService(site.store, site.settings)
    hub = Hub(service)
    # Follow-ups are answered within the request (one reader's, never shared or stored), so
    # they get their own cap per web process, next to the per-IP limit.
    busy = _Slots(max(1, site.settings.llm_concurrency))
    r = APIRouter()
    site.faq = service  # for tests and other features
    # The FAQ's markup (templates/_faq.html), its macros looked up once here.
    tpl: Any = site.env.get_template("_faq.html").module

    # ---- the card's [FAQ] button and its panel ------------------------------------------
    # Written here, not as macros: every new card of every page makes them, and each macro
    # call made a Jinja context and a Markup per value (with render.esc, a new card went
    # from 139 to 101 us). Clients parse this markup (faq.js, papers.cool's): kept to the
    # byte of the macros they were.

    def button(p: Paper) -> Markup:
        if service.configured:
            label, title = (
                f"FAQ · {service.label}",
                f"FAQ about the whole paper, by {service.label}",
            )
        else:
            label, title = "FAQ", help_text(site.settings, service)
        pid = esc(p.id)
        return Markup(
            f'<a id="kimi-{pid}" class="title-kimi notranslate" href="/arxiv/kimi?paper={pid}" '
            f'data-paper="{pid}" rel="nofollow" title="{esc(title)}">[{esc(label)}]</a>'
            f'<sup class="click-count" data-kind="faq" data-paper="{pid}"></sup>'
        )

    def panel(p: Paper) -> Markup:
        return Markup(f'<div id="faq-{esc(p.id)}" class="faq-panel" hidden></div>')

    # ---- helpers ------------------------------------------------------------------------

    async def find(raw: str) -> Paper | Found | None:
        """The paper `raw` names; else what the lookup found (pending at its source, or
        missing), or None for text that is no paper id."""
        try:
            key = registry.key(raw)
        except ValueError:  # BadId, or a source's own parse error
            return None
        got = await run_in_threadpool(site.lookup, [key])
        return got.found.get(key, got)

    async def paper_or_error(raw: str) -> Paper | JSONResponse:
        """The paper, or the JSON answer why not: 404, or 503 while its source is busy."""
        got = await find(raw)
        if isinstance(got, Paper):
            return got
        if got is not None and got.pending:
            return error(503, got.message, headers=_retry(got), retry_after=got.retry)
        return error(404, f"no paper {raw}")

    def ip(request: Request) -> str:
        # Behind a trusted proxy uvicorn has already put X-Forwarded-For's client here.
        return request.client.host if request.client else "unknown"

    def is_admin(request: Request) -> bool:
        """Only the documented form, `Authorization: Bearer <token>` (the scheme's case aside,
        as HTTP has it): a bare token is refused, so that no other scheme's credentials (or a
        token pasted into the wrong header form) pass by accident."""
        token = site.settings.llm_admin_token
        scheme, _, got = request.headers.get("authorization", "").partition(" ")
        if not token or scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(got.strip().encode(), token.encode())

    def error(
        status: int, message: str, headers: dict[str, str] | None = None, **extra: Any
    ) -> JSONResponse:
        return JSONResponse({"error": message, **extra}, status_code=status, headers=headers)

    async def status_json(paper: Paper, lang: str) -> dict[str, Any]:
        v = await run_in_threadpool(service.view, paper, lang)
        out: dict[str, Any] = {
            "paper": paper.id,
            "lang": lang,
            "configured": service.configured,
            "status": v.status,
            "position": v.job.position,
            # also when a regeneration failed and the older complete answer is served
            "error": v.job.error if v.job.state == FAILED else None,
            "latest_version": v.latest_version,
            "source_name": registry.get(paper.source).name,  # "arXiv has v3" (faq.js)
            "outdated": v.outdated,
            # the generation starts over because a worker died (`restarting` until another
            # worker has taken it over)
            "restarted": v.status == RESTARTING or (v.status == RUNNING and v.job.restarts > 0),
        }
        if out["restarted"]:
            out["note"] = RESTART_NOTE
        if v.job.step and v.status == RUNNING:
            out["step"] = v.job.step  # what it is doing now: fetching the PDF, question k
        building = service.building()
        if building:
            out["building"] = building  # the local model: a FAQ asked now starts when built
        if not service.configured:
            out["message"] = help_text(site.settings, service)
        if v.answer is not None:
            out.update({k: x for k, x in answer_json(v.answer).items() if k != "state"})
        return out

    async def start(
        request: Request, paper: Paper, lang: str, regenerate: bool, v: View | None = None
    ) -> JSONResponse | None:
        """Start or join; an error response when the reader may not start work now."""
        v = v or await run_in_threadpool(service.view, paper, lang)
        admin = is_admin(request)
        if regenerate:
            if not (admin or v.outdated or v.status == FAILED):
                return error(403, "regeneration needs the admin token or a newer arXiv version")
        elif v.status in (DONE, PENDING, RUNNING, RESTARTING):
            return None  # cached, or joining a running generation: never limited
        # Readers racing this one also saw no job: the queue charges only the request that
        # creates it, in the same transaction, and the others join.
        key = None if admin else f"start:{ip(request)}"
        limit = site.settings.llm_rate_limit
        if not await run_in_threadpool(service.start, paper, lang, key, limit, force=regenerate):
            return error(429, "too many new FAQ requests from this address; try again later")
        worker_.wake_all()
        return None

    # ---- API ----------------------------------------------------------------------------

    @r.get("/api/papers/{paper_id:path}/faq", responses=_answers(404, 503))
    async def get_faq(paper_id: str, lang: str = "zh") -> Response:
        paper = await paper_or_error(paper_id)
        if not isinstance(paper, Paper):
            return paper
        return JSONResponse(await status_json(paper, service.lang(lang)))

    @r.post(
        "/api/papers/{paper_id:path}/faq",
        response_class=StreamingResponse,
        responses={**_SSE, **_answers(403, 404, 429, 503)},
    )
    async def post_faq(
        paper_id: str, request: Request, lang: str = "zh", regenerate: bool = False
    ) -> Response:
        paper = await paper_or_error(paper_id)
        if not isinstance(paper, Paper):
            return paper
        if not service.configured:
            return error(503, help_text(site.settings, service), configured=False)
        lang = service.lang(lang)
        v = await run_in_threadpool(service.view, paper, lang)
        if not regenerate and v.status == DONE and v.answer is not None:
            # Cached: the whole answer in one event, no poller involved, never limited.
            body = sse("done", answer_json(v.answer))
            return Response(body, media_type="text/event-stream", headers=SSE_HEADERS)
        refused = await start(request, paper, lang, regenerate, v)
        if refused is not None:
            return refused

        async def events() -> AsyncIterator[bytes]:
            async for name, data in hub.follow(paper.id, lang):
                yield sse(name, data)

        return StreamingResponse(events(), media_type="text/event-stream", headers=SSE_HEADERS)

    @r.post(
        "/api/papers/{paper_id:path}/faq/followup",
        response_class=StreamingResponse,
        responses={**_SSE, **_answers(400, 404, 409, 429, 503)},
    )
    async def followup(paper_id: str, request: Request) -> Response:
        paper = await paper_or_error(paper_id)
        if not isinstance(paper, Paper):
            return paper
        if not service.configured:
            return error(503, help_text(site.settings, service), configured=False)
        building = service.building()
        if building:  # answered within the request, by a model that is not running yet
            return error(503, building, headers={"Retry-After": "60"})
        try:
            body = await request.json()
            question = str(body.get("question", "")).strip()[:2000]
            raw_lang = body.get("lang")  # any JSON value: only a known language is one
            lang = service.lang(raw_lang if isinstance(raw_lang, str) else None)
        except (ValueError, AttributeError):
            return error(400, "send JSON {question, lang}")
        if not question:
            return error(400, "empty question")
        answer = await run_in_threadpool(service.answer, paper.id, lang)
        if answer is None:
            return error(409, "ask the FAQ first: a follow-up continues its conversation")
        limit = site.settings.llm_followup_rate_limit
        if not await run_in_threadpool(service.allow, f"followup:{ip(request)}", limit):
            return error(429, "too many follow-up questions from this address; try again later")
        if not busy.enter():
            return error(503, "the model is busy with other readers' questions; try again soon")
        try:
            text = await run_in_threadpool(fulltext.get, site.store, None, site.settings, paper)
        except Exception:
            busy.leave()
            raise

        async def events() -> AsyncIterator[bytes]:
            try:
                async for chunk in _followup_events(
                    service, paper, text, answer.turns, question, lang
                ):
                    yield chunk
            finally:
                busy.leave()

        return StreamingResponse(events(), media_type="text/event-stream", headers=SSE_HEADERS)

    @r.post("/api/papers/{paper_id:path}/click", responses=_answers(400, 404, 429))
    async def click(paper_id: str, kind: str, request: Request) -> Response:
        """Count a click. A reader's repeat (same paper and kind within the window) is
        answered 200 with `counted: false`: nothing is wrong, it just does not rank the paper
        twice. An address past `llm_click_limit` counted clicks in the window gets 429."""
        if kind not in COUNTER_KINDS:
            return error(400, f"kind is one of {', '.join(COUNTER_KINDS)}")
        try:
            pid = registry.key(paper_id)
        except ValueError:
            return error(404, f"no paper {paper_id}")
        # Only papers this instance has: a well-formed id of nothing gets no counter row.
        if not await run_in_threadpool(site.store.papers, [pid]):
            return error(404, f"no paper {pid} here")
        n, outcome = await run_in_threadpool(service.click, pid, kind, ip(request))
        body: dict[str, Any] = {"paper": pid, "kind": kind, "n": n, "counted": outcome == COUNTED}
        if outcome == LIMITED:
            body["error"] = "too many clicks from this address; try again later"
            return JSONResponse(body, status_code=429)
        return JSONResponse(body)

    @r.get("/api/counters")
    async def counters(wanted: Annotated[str, Query(alias="ids")] = "") -> Response:
        """Counts for the cards on a page, fetched by the page in one request (cards are
        cached HTML: counts in them would be stale)."""
        ids_ = [i for i in wanted.split(",") if 0 < len(i) <= MAX_ID][:1000]
        return JSONResponse(await run_in_threadpool(service.counts, ids_))

    @r.get(
        "/arxiv/kimi",
        response_class=HTMLResponse,
        operation_id="kimi_fragment",
        responses=_answers(404, 503, html=True),
    )
    async def kimi_get(request: Request, paper: str = "", lang: str = "zh") -> Response:
        """papers.cool's fragment for existing clients: the FAQ as p.faq-q / div.faq-a."""
        return await kimi(request, paper, lang)

    @r.post(
        "/arxiv/kimi",
        response_class=HTMLResponse,
        operation_id="kimi_fragment_start",
        responses=_answers(404, 429, 503, html=True),
    )
    async def kimi_post(request: Request, paper: str = "", lang: str = "zh") -> Response:
        """The same fragment; a POST also starts the generation (rate-limited per IP)."""
        return await kimi(request, paper, lang)

    async def kimi(request: Request, paper: str, lang: str) -> Response:
        p = await find(paper)
        if not isinstance(p, Paper):
            if p is not None and p.pending:
                return HTMLResponse(str(tpl.refused(p.message)), 503, _retry(p))
            return HTMLResponse(str(tpl.no_paper(paper)), 404)
        lang = service.lang(lang)
        v = await run_in_threadpool(service.view, p, lang)
        if v.answer is not None:
            outdated = None
            if v.outdated:  # the version papers.cool users asked to be told about
                outdated = {
                    "source": registry.get(p.source).name,
                    "latest": v.latest_version,
                    "made": v.answer.paper_version,
                }
            # the stored answer is sanitized HTML already (llm/render)
            return HTMLResponse(str(tpl.answer(Markup(v.answer.html), outdated)))
        if not service.configured:
            return HTMLResponse(str(tpl.help(help_text(site.settings, service))))
        if request.method == "POST":
            refused = await start(request, p, lang, False)
            if refused is not None:
                msg = json.loads(refused.body)["error"]
                return HTMLResponse(str(tpl.refused(msg)), refused.status_code)
        job = await run_in_threadpool(service.queue.status, p.id, lang)
        if job.state == PENDING:
            return HTMLResponse(str(tpl.pending(job.position, service.building())))
        if job.state == RESTARTING or (job.state == RUNNING and job.restarts):
            return HTMLResponse(str(tpl.restarted(RESTART_NOTE)))
        if job.state == RUNNING:
            return HTMLResponse(str(tpl.generating()))
        if job.state == FAILED:
            return HTMLResponse(str(tpl.failed(job.error or "")))
        return HTMLResponse(str(tpl.no_faq()))

    @r.post("/api/admin/faq", responses=_answers(400, 403))
    async def admin_batch(
        request: Request, category: str, day: str = "", lang: str = "zh", regenerate: bool = False
    ) -> Response:
        if not is_admin(request):
            return error(403, "admin token required (Authorization: Bearer <token>)")
        try:
            d = date.fromisoformat(day) if day else None
        except ValueError:
            return error(400, "day is YYYY-MM-DD")
        if not taxonomy.known(category):
            return error(400, f"no arXiv category {category[:40]!r}")
        category = taxonomy.canonical(category)
        n = await run_in_threadpool(
            enqueue_day, service, category, d, service.lang(lang), regenerate
        )
        worker_.wake_all()
        return JSONResponse({"enqueued": n})

    return Parts(r, card_buttons=[button], card_panels=[panel])


FEATURE = Builtin("faq", build)


def _retry(got: Found) -> dict[str, str]:
    # never kept by a cache: the paper may be here on the next try
    return {"Retry-After": str(got.retry), "Cache-Control": "no-store"}


class _Slots:
    """A counter of in-flight follow-ups; thread- and event-loop-agnostic."""

    def __init__(self, n: int) -> None:
        self.n, self.used = n, 0
        self.lock = threading.Lock()

    def enter(self) -> bool:
        with self.lock:
            if self.used >= self.n:
                return False
            self.used += 1
            return True

    def leave(self) -> None:
        with self.lock:
            self.used -= 1


def enqueue_day(
    service: FaqService, category: str, day: date | None, lang: str, regenerate: bool = False
) -> int:
    """Enqueue a listing day (the latest when `day` is None); cached answers are skipped."""
    n = 0
    for paper in day_papers(service.store, category, day)[1]:
        state = service.ask(paper, lang, force=regenerate)
        n += state != DONE
    return n


async def _followup_events(
    service: FaqService,
    paper: Paper,
    text: fulltext.FullText,
    turns: list[tuple[str, str]],
    question: str,
    lang: str,
) -> AsyncIterator[bytes]:
    """One more turn of the FAQ's conversation, for this reader only (nothing is stored)."""
    ctx = await asyncio.to_thread(worker_.paper_context, service, paper, text, lang)
    history = list(ctx.opening)
    if models.profile_for(service.settings.llm_model).history:  # (a tiny model copies them)
        for q, a in turns:
            history += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
    prompt = f"{service.prompts.followup[lang]}\n\n{question}"
    messages = await asyncio.to_thread(ctx.ask, history, prompt, None)
    llm = worker_.make_llm(service)
    last = 0.0
    # Stopped where it loops, copies an answer of the FAQ or restates the question (a reader
    # sees only what the guard has settled: llm/chat.py).
    guard = Guard(earlier=[a for _, a in turns], question=question)
    try:
        reply = await chat.stream(llm, service.settings, messages, guard=guard, lang=lang)
        async for _ in reply:
            if time.monotonic() - last > 0.1:
                last = time.monotonic()
                html = await asyncio.to_thread(render.markdown, reply.shown)
                yield sse("turn", {"html": html, "done": False})
        html = await asyncio.to_thread(render.markdown, reply.text)
        yield sse("done", {"html": html, "markdown": reply.text})
    except Exception as e:
        yield sse("error", {"error": f"the model failed: {type(e).__name__}"})
    finally:
        await llm.close()


__all__ = ["FEATURE", "enqueue_day"]
