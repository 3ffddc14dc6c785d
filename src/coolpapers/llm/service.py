"""What the web and the CLI use: answers, job status, starting or joining a generation,
click counters and per-IP rate limits. Holds no state of its own beyond the store."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, delete, select

from coolpapers.config import Settings
from coolpapers.llm import local, render
from coolpapers.llm import prompts as prompts_
from coolpapers.llm.jobs import DONE, FAILED, JobQueue, JobStatus, Refused
from coolpapers.llm.schema import faq_answers, faq_counters, faq_ratelimit
from coolpapers.records import Paper
from coolpapers.store import Store

COUNTER_KINDS = ("pdf", "faq")
# What became of a click (FaqService.click).
COUNTED, REPEAT, LIMITED = "counted", "repeat", "limited"


@dataclass(slots=True)
class Answer:
    paper_id: str
    lang: str
    turns: list[tuple[str, str]]
    html: str
    model: str
    prompt_version: str
    paper_version: int | None
    source: str  # what the model saw: full | trimmed | sections | abstract ("pdf": older)
    usage: dict[str, int]
    seconds: float
    created: datetime

    @property
    def markdown(self) -> str:
        return "\n\n".join(f"### {q}\n\n{a}" for q, a in self.turns)


@dataclass(slots=True)
class View:
    """Everything a reader needs about one paper's FAQ in one language."""

    status: str  # none | pending | running | restarting | done | failed
    job: JobStatus
    answer: Answer | None = None
    latest_version: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def outdated(self) -> bool:
        a = self.answer
        return bool(a and self.latest_version and (a.paper_version or 0) < self.latest_version)


class FaqService:
    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.queue = JobQueue(store)
        self.prompts = prompts_.load(settings.llm_prompt_file)
        # The local model's background build, when `serve` started before it ended
        # (cli/local_llm.py): read on each request, cheaply, until it has ended.
        self.build = local.BuildWatch.from_env()

    @property
    def configured(self) -> bool:
        return self.settings.llm_configured and self.unavailable() is None

    def building(self) -> str | None:
        """While the local model is being built: what readers are told (and for how long)."""
        b = self.build.get() if self.build is not None else None
        return b.note() if b is not None and b.busy else None

    def unavailable(self) -> str | None:
        """Why the FAQ has no model after all: the local model's build failed or stopped."""
        b = self.build.get() if self.build is not None else None
        return b.note() if b is not None and b.state in (local.FAILED, local.STOPPED) else None

    @property
    def label(self) -> str:
        return self.settings.llm_label or self.settings.llm_model or "LLM"

    def lang(self, raw: str | None) -> str:
        return raw if raw in prompts_.LANGS else "zh"

    # ---- answers and status -------------------------------------------------------------

    def answer(self, paper_id: str, lang: str) -> Answer | None:
        a = faq_answers.c
        with self.store.engine.connect() as conn:
            r = (
                conn.execute(select(faq_answers).where(a.paper_id == paper_id, a.lang == lang))
                .mappings()
                .first()
            )
        if r is None:
            return None
        return Answer(
            r["paper_id"],
            r["lang"],
            [(t["q"], t["a"]) for t in json.loads(r["turns"])],
            r["html"],
            r["model"],
            r["prompt_version"],
            r["paper_version"],
            r["source"],
            json.loads(r["usage"]),
            r["seconds"],
            r["created"],
        )

    def view(self, paper: Paper, lang: str) -> View:
        job = self.queue.status(paper.id, lang)
        answer = self.answer(paper.id, lang)
        # A complete answer stays the answer when a regeneration of it failed (the error is
        # reported beside it); while a regeneration runs, readers follow the new stream.
        status = DONE if answer is not None and job.state in ("none", FAILED) else job.state
        return View(status, job, answer, paper.version)

    def ask(self, paper: Paper, lang: str, *, force: bool = False) -> str:
        """Start or join the generation of `paper`'s FAQ; returns the job's state."""
        return self.queue.enqueue(paper.id, lang, self.priority(paper), force=force).state

    def start(
        self, paper: Paper, lang: str, key: str | None, limit: int, *, force: bool = False
    ) -> bool:
        """`ask` for a reader: when this call is the one that starts the generation, `key`
        (e.g. "start:<ip>") is charged one use of `limit`, in the same transaction; joining a
        generation someone else started is free. False: over the limit, nothing started.
        `key` None: not limited (the admin)."""
        admit = None if key is None else (lambda conn: self._charge(conn, key, limit))
        try:
            self.queue.enqueue(paper.id, lang, self.priority(paper), force=force, admit=admit)
        except Refused:
            return False
        return True

    def priority(self, paper: Paper) -> int:
        """Today's papers first: the latest day a paper was listed (a replacement listed today
        counts as today's), as a day number, so a newer day outranks every older one; papers
        never listed go by their latest version's date."""
        d: date | None = self.store.last_days([paper.id]).get(paper.id)
        when = paper.updated or paper.published
        if d is None and when is not None:
            d = when.date()
        return d.toordinal() if d else 0

    def make_answer(
        self,
        paper: Paper,
        lang: str,
        turns: list[tuple[str, str]],
        source: str,
        usage: dict[str, int],
        seconds: float,
    ) -> dict[str, Any]:
        """The faq_answers row of a complete conversation (rendered once, here)."""
        return {
            "paper_id": paper.id,
            "lang": lang,
            "turns": json.dumps([{"q": q, "a": a} for q, a in turns], ensure_ascii=False),
            "html": header_html(source, lang) + render.faq_html(turns),
            "model": self.settings.llm_model,
            "prompt_version": self.prompts.version,
            "paper_version": paper.version,
            "source": source,
            "usage": json.dumps(usage),
            "seconds": seconds,
            "created": datetime.now(UTC).replace(
                tzinfo=None, microsecond=0
            ),  # naive UTC, as the store
        }

    # ---- counters and limits ------------------------------------------------------------

    def click(self, paper_id: str, kind: str, who: str | None = None) -> tuple[int, str]:
        """Count a click on [PDF] or [FAQ]; returns the count and COUNTED, REPEAT or LIMITED.

        With `who` (the reader's address), a click counts once per (address, paper, kind) per
        rate window (a REPEAT after that), and an address counts at most `llm_click_limit`
        clicks per window (LIMITED after that): the counters rank papers (the ★ sort), so one
        script must not be able to push them."""
        if kind not in COUNTER_KINDS:
            raise ValueError(kind)
        c = faq_counters.c
        with self.store.engine.begin() as conn:
            outcome = COUNTED
            if who is not None:
                if not self._charge(conn, f"click:{who}:{kind}:{paper_id}", 1):
                    outcome = REPEAT
                elif not self._charge(conn, f"clicks:{who}", self.settings.llm_click_limit):
                    outcome = LIMITED
            if outcome == COUNTED:
                self.store.increment(conn, faq_counters, {"paper_id": paper_id, "kind": kind})
            q = select(c.n).where(c.paper_id == paper_id, c.kind == kind)
            return int(conn.execute(q).scalar() or 0), outcome

    def counts(self, ids: list[str]) -> dict[str, dict[str, int]]:
        c = faq_counters.c
        out: dict[str, dict[str, int]] = {}
        with self.store.engine.connect() as conn:
            for i in range(0, len(ids), 500):
                q = select(c.paper_id, c.kind, c.n).where(c.paper_id.in_(ids[i : i + 500]))
                for pid, kind, n in conn.execute(q):
                    out.setdefault(pid, {})[kind] = n
        return out

    def allow(self, key: str, limit: int) -> bool:
        """Count one use of `key` (e.g. "followup:<ip>") in the current window; False once the
        window's `limit` is used up. Shared by every web worker through the store."""
        with self.store.engine.begin() as conn:
            return self._charge(conn, key, limit)

    def _charge(self, conn: Connection, key: str, limit: int) -> bool:
        """`allow` within the caller's transaction (so that what is limited and its charge
        commit or roll back together)."""
        window_s = max(1, self.settings.llm_rate_window)
        window = int(time.time() // window_s)
        r = faq_ratelimit.c
        self.store.increment(conn, faq_ratelimit, {"key": key, "window": window})
        n = conn.execute(select(r.n).where(r.key == key, r.window == window)).scalar() or 0
        if n == 1:  # first use in a new window: old windows are of no use any more
            conn.execute(delete(faq_ratelimit).where(r.window < window - 1))
        return n <= limit


SEEN_NOTES = {
    "zh": {
        "full": "模型阅读了论文全文。",
        "trimmed": "模型阅读了论文全文（为适应其上下文窗口，略去了参考文献和附录）。",
        "sections": "论文超出了模型的上下文窗口：每个回答只基于论文中与该问题最相关的片段。",
        "abstract": "未能获取论文全文，以下回答仅基于摘要。",
    },
    "en": {
        "full": "The model read the full text.",
        "trimmed": "The model read the full text without references and appendix (to fit its "
        "context window).",
        "sections": "The paper is longer than the model's context window: each answer is "
        "based on the sections of the paper most relevant to its question.",
        "abstract": "The full text was not available: these answers are based on the abstract "
        "only.",
    },
}


def header_html(source: str, lang: str) -> str:
    """The answer's header: which text the model saw (llm/context.py). Answers made before
    the header existed say "pdf": the full text, trimmed to fit if need be."""
    notes = SEEN_NOTES[lang if lang in SEEN_NOTES else "en"]
    if source not in notes:
        return ""
    return f'<p class="faq-source faq-seen-{source}">{notes[source]}</p>\n'
