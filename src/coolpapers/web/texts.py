"""TL;DRs and translations on the web (issue 16; the work itself: llm/texts.py).

GET  /api/texts?ids=a,b&task=tldr&lang=en       the kept texts of these papers (at most 200
     ids; never starts work): {id: {text, html, model, prompt_version}}
GET  /api/texts/info                            what the page scripts need: whether a model is
     configured, the languages offered, the tasks
GET  /api/papers/{id}/texts/{task}?lang=zh      one paper's text: the job's state, the kept
     text, and while it is written the text so far (`partial`, `partial_html`)
POST /api/papers/{id}/texts/{task}?lang=zh      a reader asks: start or join (rate-limited per
     address, as the FAQ's, charged only to the request that starts a generation)
GET  /admin/llm                                 tokens per day and task, jobs waiting, today's
     spending against the budget (Authorization: Bearer <admin token>, as the FAQ's admin)

Tasks: "tldr" (its language is always the paper's, "en"), "title" and "abstract" (`lang`: the
language translated into). Every text from the model reaches the page through `html`,
rendered here by the renderer of the cards (web/render.py): escaped, its math left for KaTeX;
the page scripts put no other model text into HTML.

The TL;DRs are not in the listing pages (which are cached and shared): static/texts.js fetches
them for the cards as they load. Feeds (templates/feed.xml) start an entry's summary with its
TL;DR, through the `feed_tldrs` global set here.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from coolpapers.llm import texts as texts_
from coolpapers.llm import worker as worker_
from coolpapers.llm.jobs import FAILED, RUNNING
from coolpapers.llm.service import FaqService
from coolpapers.llm.texts import ABSTRACT, TASKS, TITLE, TLDR, Text, TextService
from coolpapers.records import Paper
from coolpapers.sources import registry
from coolpapers.web import render
from coolpapers.web.faq import _answers, help_text
from coolpapers.web.feature import Builtin, Parts
from coolpapers.web.lookup import Found

if TYPE_CHECKING:
    from coolpapers.web.app import Site

MAX_IDS = 200  # per GET /api/texts (static/texts.js asks in batches of this size)
MAX_ID = 64  # characters of one id (as the FAQ's counters)
NO_STORE = {"Cache-Control": "no-store"}


def html_of(task: str, text: str) -> str:
    """A text from the model as the cards show it: escaped, math for KaTeX; an abstract's
    paragraphs (and links) as the original's."""
    if task == ABSTRACT:
        return str(render.paragraphs(text))
    return str(render.tex(text))


def text_json(t: Text) -> dict[str, Any]:
    return {
        "text": t.text,
        "html": html_of(t.task, t.text),
        "model": t.model,
        "prompt_version": t.prompt_version,
    }


def task_lang(task: str, lang: str | None) -> tuple[str, str] | str:
    """(task, lang) as kept, or why not: a TL;DR is in the paper's language whatever asked."""
    if task not in TASKS:
        return f"task is one of {', '.join(TASKS)}"
    if task == TLDR:
        return task, "en"
    lang = lang or "zh"
    if not texts_.valid_lang(lang):
        return "lang is a language code such as zh, ja, de, zh-TW"
    return task, lang


def partial_text(paper: Paper, task: str, raw: str) -> str:
    """What a running job has written so far, its math placeholders put back (those it has
    written; none appended, as `restore_math` does with the whole reply)."""
    if task == TLDR:
        return raw.strip()
    _, spans = texts_.hold_math(paper.title if task == TITLE else paper.abstract)
    return texts_.restore_math(raw, spans, whole=False).strip()


def build(site: Site) -> Parts:
    faq: FaqService | None = getattr(site, "faq", None)
    service = TextService(faq if faq is not None else FaqService(site.store, site.settings))
    site.texts = service  # type: ignore[attr-defined]  # for the API's `tldr`, tests
    r = APIRouter()

    def tldrs(papers: Iterable[Any]) -> dict[str, str]:
        """The kept TL;DRs of a feed's entries (one query for the feed)."""
        ids = [it.paper.id for it in papers]
        return {k: t.text for k, t in service.get(ids, TLDR, "en").items()} if ids else {}

    site.env.globals["feed_tldrs"] = tldrs

    def error(status: int, message: str, **extra: Any) -> JSONResponse:
        return JSONResponse({"error": message, **extra}, status_code=status, headers=NO_STORE)

    def ip(request: Request) -> str:
        return request.client.host if request.client else "unknown"

    def is_admin(request: Request) -> bool:
        """As the FAQ's admin: only `Authorization: Bearer <token>`, and only with a token
        set (web/faq.py)."""
        token = site.settings.llm_admin_token
        scheme, _, got = request.headers.get("authorization", "").partition(" ")
        if not token or scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(got.strip().encode(), token.encode())

    async def paper_or_error(raw: str) -> Paper | JSONResponse:
        try:
            key = registry.key(raw)
        except ValueError:
            return error(404, f"no paper {raw[:MAX_ID]}")
        got = await run_in_threadpool(site.lookup, [key])
        found: Paper | Found = got.found.get(key, got)
        if isinstance(found, Paper):
            return found
        if found.pending:
            return JSONResponse(
                {"error": found.message, "retry_after": found.retry},
                status_code=503,
                headers={"Retry-After": str(found.retry), **NO_STORE},
            )
        return error(404, f"no paper {key}")

    async def asked_for(raw: str, task: str, lang: str) -> tuple[Paper, str, str] | JSONResponse:
        """The paper, task and language one request names (GET and POST alike), or its
        error: 400 for the task or language, 404 or 503 for the paper."""
        tl = task_lang(task, lang)
        if isinstance(tl, str):
            return error(400, tl)
        paper = await paper_or_error(raw)
        if not isinstance(paper, Paper):
            return paper
        return paper, *tl

    def status_json(paper: Paper, task: str, lang: str) -> dict[str, Any]:
        st = service.status(paper.id, task, lang)
        out: dict[str, Any] = {
            "paper": paper.id,
            "task": task,
            "lang": lang,
            "configured": service.configured,
            "state": st.state,
            "position": st.position,
            "error": st.error if st.state == FAILED else None,
        }
        if not service.configured:
            out["message"] = help_text(site.settings, service.faq)
        kept = service.get([paper.id], task, lang).get(paper.id)
        if kept is not None:
            out.update(text_json(kept))
        if st.state == RUNNING:
            so_far = partial_text(paper, task, service.partial(paper.id, task, lang, st.attempt))
            out["partial"] = so_far
            out["partial_html"] = html_of(task, so_far)
        return out

    # ---- API ----------------------------------------------------------------------------

    @r.get("/api/texts/info")
    async def info() -> Response:
        """What static/texts.js needs: a model or not, the languages offered by name."""
        return JSONResponse(
            {
                "configured": service.configured,
                "model": service.faq.label if service.configured else None,
                "tasks": list(TASKS),
                "languages": [{"code": c, "name": n} for c, n in texts_.LANGUAGES.items()],
            }
        )

    @r.get("/api/texts", responses=_answers(400))
    async def kept(
        wanted: Annotated[str, Query(alias="ids", description="a,b,c (at most 200)")] = "",
        task: str = TLDR,
        lang: str = "en",
    ) -> Response:
        """The kept texts of these papers, for the cards on a page; never starts work."""
        tl = task_lang(task, lang)
        if isinstance(tl, str):
            return error(400, tl)
        keys: list[str] = []
        for raw in wanted.split(","):
            raw = raw.strip()
            if not raw or len(raw) > MAX_ID:
                continue
            try:
                keys.append(registry.key(raw))
            except ValueError:
                continue  # not an id: no text of it
        keys = list(dict.fromkeys(keys))
        if len(keys) > MAX_IDS:
            return error(400, f"at most {MAX_IDS} ids at once")
        got = await run_in_threadpool(service.get, keys, *tl) if keys else {}
        return JSONResponse({k: text_json(t) for k, t in got.items()})

    @r.get("/api/papers/{paper_id:path}/texts/{task}", responses=_answers(400, 404, 503))
    async def get_text(paper_id: str, task: str, lang: str = "zh") -> Response:
        """One paper's TL;DR or translation: the job's state, the kept text, the text so far
        while it is written."""
        asked = await asked_for(paper_id, task, lang)
        if isinstance(asked, JSONResponse):
            return asked
        body = await run_in_threadpool(status_json, *asked)
        return JSONResponse(body, headers=NO_STORE)

    @r.post("/api/papers/{paper_id:path}/texts/{task}", responses=_answers(400, 404, 429, 503))
    async def ask(request: Request, paper_id: str, task: str, lang: str = "zh") -> Response:
        """A reader asks for it: start the generation (ahead of the day's precomputation), or
        join the one under way; answered as the GET."""
        asked = await asked_for(paper_id, task, lang)
        if isinstance(asked, JSONResponse):
            return asked
        if not service.configured:
            return error(503, help_text(site.settings, service.faq), configured=False)
        paper, task, lang = asked
        have = await run_in_threadpool(service.get, [paper.id], task, lang)
        current = (site.settings.llm_model, texts_.PROMPT_VERSION)
        if paper.id not in have or (have[paper.id].model, have[paper.id].prompt_version) != current:
            # Joining never costs: the queue charges the one request that creates the job.
            key = None if is_admin(request) else f"texts:{ip(request)}"
            limit = site.settings.llm_rate_limit
            if not await run_in_threadpool(service.start, paper, task, lang, key, limit):
                return error(429, "too many new requests from this address; try again later")
            worker_.wake_all()
        body = await run_in_threadpool(status_json, paper, task, lang)
        return JSONResponse(body, headers=NO_STORE)

    # ---- the admin's page ---------------------------------------------------------------

    @r.get("/admin/llm", response_class=HTMLResponse, responses=_answers(403, html=True))
    async def admin(request: Request) -> Response:
        """Tokens per day and task (readers' and background), jobs waiting per task, today's
        spending against the daily budget."""
        if not is_admin(request):
            body = site.html(
                "admin_llm.html",
                denied="This page needs the admin token: Authorization: Bearer "
                "<COOLPAPERS_LLM_ADMIN_TOKEN>, as the FAQ's admin API.",
            )
            return HTMLResponse(body, status_code=403, headers=NO_STORE)
        usage, pending, spent = await run_in_threadpool(admin_data, service)
        body = site.html(
            "admin_llm.html",
            usage=usage,
            pending=pending,
            spent=spent,
            budget=site.settings.llm_daily_token_budget,
            model=site.settings.llm_model,
            configured=service.configured,
            prompt_version=texts_.PROMPT_VERSION,
            today=texts_.today(),
            now=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        )
        return HTMLResponse(body, headers=NO_STORE)

    return Parts(r)


def admin_data(
    service: TextService,
) -> tuple[list[dict[str, Any]], dict[str, int], dict[str, int]]:
    usage = service.usage(14)
    for row in usage:
        row["tokens"] = int(row["prompt_tokens"] or 0) + int(row["completion_tokens"] or 0)
        row["who"] = "background" if row["background"] else "readers"
    spent = {
        "all": service.spent(),
        "readers": service.spent(background=False),
        "background": service.spent(background=True),
    }
    return usage, service.pending(), spent


def tldr_json(service: TextService | None, ids: Sequence[str]) -> dict[str, dict[str, str]]:
    """The kept TL;DRs of papers as the JSON API gives them: {id: {text, model,
    prompt_version}}."""
    if service is None or not ids:
        return {}
    got = service.get(list(ids), TLDR, "en")
    return {
        k: {"text": t.text, "model": t.model, "prompt_version": t.prompt_version}
        for k, t in got.items()
    }


FEATURE = Builtin("texts", build)

__all__ = ["FEATURE", "html_of", "tldr_json"]
