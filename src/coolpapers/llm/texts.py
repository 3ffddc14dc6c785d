"""Short texts written by the LLM for every paper: a one-sentence TL;DR, and the title and
abstract in the reader's language (issue 16).

They run on the FAQ's job queue (llm/jobs.py: leases, single flight, one concurrency cap), as
tasks of their own: "tldr" (lang: the paper's, "en"), "title" and "abstract" (lang: the
language translated into). A reader's request has the FAQ's priority (the paper's day); the
day's precomputation (`coolpapers enrich`, the scheduler in `serve`) is queued BELOW zero, so
it runs only when no reader waits, and stops when the day's token budget is spent.

Each text is kept per (paper, task, language) with the model and prompt version that wrote it
(llm_texts); a changed model or prompt version makes it due again. A failed call keeps
nothing. Tokens are added up per UTC day and task (llm_usage).

Math survives translation by construction: `$...$` spans (and TeX commands outside them) are
replaced by placeholders ([M1], [M2], ...) before the model sees the text and put back after,
so the model cannot alter them; one it drops is appended at the end rather than lost.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, select

from coolpapers.llm import models
from coolpapers.llm.jobs import PENDING, RUNNING, Enqueued, JobStatus, Refused
from coolpapers.llm.repeat import Guard
from coolpapers.llm.schema import faq_jobs, llm_texts, llm_usage
from coolpapers.llm.service import FaqService
from coolpapers.records import Paper

TLDR, TITLE, ABSTRACT = "tldr", "title", "abstract"
TASKS = (TLDR, TITLE, ABSTRACT)
TRANSLATIONS = (TITLE, ABSTRACT)
# Bumped when a prompt below changes: texts of an older version are due again.
PROMPT_VERSION = "texts-2"
# Background work's priority: the paper's day minus this, below every reader's request.
BACKGROUND = 10_000_000
TLDR_WORDS = 30

# Languages offered by name (any other code the model knows works too, by its code).
LANGUAGES = {
    "zh": "Simplified Chinese (简体中文)",
    "zh-TW": "Traditional Chinese (繁體中文)",
    "en": "English",
    "ja": "Japanese (日本語)",
    "ko": "Korean (한국어)",
    "fr": "French (français)",
    "de": "German (Deutsch)",
    "es": "Spanish (español)",
    "pt": "Portuguese (português)",
    "ru": "Russian (русский)",
    "it": "Italian (italiano)",
    "vi": "Vietnamese (Tiếng Việt)",
}
_LANG = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z]{2,4})?$")


def valid_lang(lang: str) -> bool:
    return bool(_LANG.match(lang))


def language_name(lang: str) -> str:
    return LANGUAGES.get(lang, lang)


@dataclass(slots=True)
class Text:
    paper_id: str
    task: str
    lang: str
    text: str
    model: str
    prompt_version: str
    created: datetime


# ---- prompts ---------------------------------------------------------------------------

# (what a model writes before the sentence, and what it must not say)
_LABEL = re.compile(
    r"^[\s*_#>]*(?:tl;?\s*dr|summary|one[- ]sentence summary)[\s*_]*[:：\-–][\s*_]*", re.I
)
# the end of the first sentence (a closing quote goes with it)
_FIRST = re.compile(r"[.!?。！？][\"”’']?(?=\s+[A-Z\"“\u4e00-\u9fff])")
_QUOTES = "\"'“”‘’「」"


def messages(paper: Paper, task: str, lang: str) -> tuple[list[dict[str, str]], list[str]]:
    """The chat of one task, and the math spans held out of it (translations: put back by
    `clean`)."""
    if task == TLDR:
        # The abstract alone, the instruction after it, the sentence begun as its authors
        # would: given the title first, a small model wrote the title back in 14 % of
        # SciTLDR's papers; this way in none, at the same ROUGE (bench/tldr_quality.py).
        system = "You summarise research abstracts in one short plain sentence."
        user = (
            f"Abstract: {paper.abstract}\n\nIn one sentence of at most {TLDR_WORDS} words, "
            'say what the authors propose and what they find, starting with "We". Keep math '
            "as $...$. Reply with the sentence only."
        )
        return [{"role": "system", "content": system}, {"role": "user", "content": user}], []
    source = paper.title if task == TITLE else paper.abstract
    held, spans = hold_math(source)
    what = "title" if task == TITLE else "abstract"
    system = (
        f"You translate research papers' text into {language_name(lang)}, accurately and "
        "fluently, as a researcher in the field would write it."
    )
    user = (
        f"Translate this {what} of a research paper into {language_name(lang)}. Copy every "
        "placeholder such as [M1] exactly as it is, where it belongs; keep numbers, "
        "identifiers and names of methods and datasets as written. Reply with the "
        f"translation only.\n\n{held}"
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}], spans


# $...$, $$...$$, \(...\), \[...\] and TeX commands with their braces outside them
_MATH = re.compile(
    r"\$\$.+?\$\$|(?<!\\)\$(?:\\.|[^$\\])+?\$|\\\(.+?\\\)|\\\[.+?\\\]"
    r"|\\[A-Za-z]+\*?(?:\{[^{}]*\})*",
    re.S,
)
_HOLE = re.compile(r"\[\s*M\s*(\d+)\s*\]")


def hold_math(text: str) -> tuple[str, list[str]]:
    """`text` with its math spans replaced by [M1], [M2], ...; and the spans."""
    spans: list[str] = []

    def hole(m: re.Match[str]) -> str:
        spans.append(m.group())
        return f"[M{len(spans)}]"

    return _MATH.sub(hole, text), spans


def restore_math(text: str, spans: Sequence[str], *, whole: bool = True) -> str:
    """The placeholders put back; a span the model dropped is appended (math is never lost),
    one it invented is removed. `whole` False (a reply still being written): nothing
    appended, the rest may yet come."""
    used: set[int] = set()

    def back(m: re.Match[str]) -> str:
        k = int(m.group(1))
        if 1 <= k <= len(spans):
            used.add(k)
            return spans[k - 1]
        return ""

    out = _HOLE.sub(back, text)
    missing = [s for k, s in enumerate(spans, 1) if k not in used] if whole else []
    return f"{out} {' '.join(missing)}" if missing else out


def clean(task: str, raw: str, spans: Sequence[str] = ()) -> str:
    """What is kept of the model's reply."""
    text = raw.strip()
    if task == TLDR:
        text = _LABEL.sub("", text).strip()
        first = text.split("\n")[0].strip()
        # One sentence: the first (a small model often goes on).
        m = _FIRST.search(first)
        sentence = (first[: m.end()] if m else first).strip().strip(_QUOTES).strip()
        words = sentence.split()
        if len(words) > TLDR_WORDS + 10:  # far too long: cut, marked
            sentence = " ".join(words[:TLDR_WORDS]).rstrip(",;:") + " …"
        return sentence
    if task == TITLE:
        text = text.split("\n")[0].strip().strip(_QUOTES).strip()
    return restore_math(text, spans).strip()


ENOUGH = "one sentence is enough"  # why OneSentence closed a reply (in the workers' log)


class OneSentence(Guard):
    """A TL;DR's guard: the repetition guard, and a stop once the reply's first sentence is
    done. `clean` keeps only that sentence, and a small model goes on for a paragraph: without
    this stop, 58 % of the TL;DR replies' tokens were written and thrown away (200 SciTLDR
    papers, bench/tldr_quality.py). The reply is closed there, as for a loop, but quietly."""

    def check(self, text: str) -> int | None:
        cut = super().check(text)
        if cut is not None:
            return cut
        body = _LABEL.sub("", text.lstrip())
        start = len(text) - len(body)
        end = _first_end(body)
        if end is not None:
            self._stop(start + end, ENOUGH, quiet=True)
        return self.cut


def _first_end(body: str) -> int | None:
    """Where the first sentence of `body` (a reply without its label) ends, once a later
    character proves it ended: the next sentence's start, or a line break after text."""
    line = body.lstrip()
    lead = len(body) - len(line)
    nl = line.find("\n")
    m = _FIRST.search(line if nl < 0 else line[:nl])
    if m:
        return lead + m.end()
    if nl > 0:
        return lead + nl
    return None


def max_tokens(paper: Paper, task: str) -> int:
    """The reply's length limit: a TL;DR's sentence; a translation about as long as its
    source (Chinese takes more tokens per word in small models' vocabularies)."""
    if task == TLDR:
        return 96
    source = paper.title if task == TITLE else paper.abstract
    return min(4096, 2 * models.estimate(source) + 64)


def estimate(paper: Paper, task: str, lang: str) -> tuple[int, int]:
    """(prompt, completion) tokens one task is expected to cost (`enrich --dry-run`)."""
    msgs, _ = messages(paper, task, lang)
    prompt = sum(models.estimate(m["content"]) for m in msgs) + 8 * len(msgs)
    if task == TLDR:
        return prompt, 45
    source = paper.title if task == TITLE else paper.abstract
    return prompt, int(models.estimate(source) * (1.4 if lang.startswith("zh") else 1.1)) + 4


def wanted(tldr: bool, languages: Iterable[str], fields: str = "both") -> list[tuple[str, str]]:
    """The (task, lang) pairs of an enrichment: a TL;DR, and per language the abstract (and
    the title, with `fields` "both")."""
    tasks = [(TLDR, "en")] if tldr else []
    for lang in languages:
        if not valid_lang(lang):
            raise ValueError(f"not a language code: {lang!r} (e.g. zh, ja, de)")
        tasks.append((ABSTRACT, lang))
        if fields == "both":
            tasks.append((TITLE, lang))
    return tasks


def configured_tasks(settings: Any) -> list[tuple[str, str]]:
    """The enrichment the settings ask for ahead of readers (COOLPAPERS_LLM_ENRICH_*)."""
    langs = [x.strip() for x in settings.llm_enrich_translate.split(",") if x.strip()]
    return wanted(settings.llm_enrich_tldr, langs, settings.llm_enrich_fields)


# ---- the service -------------------------------------------------------------------------


def today() -> str:
    return datetime.now(UTC).date().isoformat()


class TextService:
    """TL;DRs and translations, on the FAQ's store, queue, settings and rate limits."""

    def __init__(self, faq: FaqService) -> None:
        self.faq = faq
        self.store, self.settings, self.queue = faq.store, faq.settings, faq.queue

    @property
    def configured(self) -> bool:
        return self.faq.configured

    def get(self, ids: Sequence[str], task: str, lang: str) -> dict[str, Text]:
        """The kept texts of these papers (any model, any prompt version)."""
        t = llm_texts.c
        out: dict[str, Text] = {}
        with self.store.engine.connect() as conn:
            for i in range(0, len(ids), 500):
                q = select(llm_texts).where(
                    t.paper_id.in_(ids[i : i + 500]), t.task == task, t.lang == lang
                )
                for r in conn.execute(q).mappings():
                    out[r["paper_id"]] = Text(
                        r["paper_id"],
                        r["task"],
                        r["lang"],
                        r["text"],
                        r["model"],
                        r["prompt_version"],
                        r["created"],
                    )
        return out

    def due(self, papers: Sequence[Paper], task: str, lang: str) -> list[Paper]:
        """Those without a text by this model and prompt version."""
        have = self.get([p.id for p in papers], task, lang)
        model = self.settings.llm_model
        return [
            p
            for p in papers
            if (x := have.get(p.id)) is None
            or (x.model, x.prompt_version) != (model, PROMPT_VERSION)
        ]

    def stale(self, paper: Paper, task: str, lang: str) -> bool:
        """Its kept text was written by another model or prompt version: to be done again.
        (Not a missing text: a job asked for twice at once must be joined, not reopened.)"""
        x = self.get([paper.id], task, lang).get(paper.id)
        return x is not None and (x.model, x.prompt_version) != (
            self.settings.llm_model,
            PROMPT_VERSION,
        )

    def status(self, paper_id: str, task: str, lang: str) -> JobStatus:
        return self.queue.status(paper_id, lang, task)

    def partial(self, paper_id: str, task: str, lang: str, attempt: int) -> str:
        """The text streamed so far by a running attempt (shown as it is written)."""
        return "".join(x for _, _, x in self.queue.chunks(paper_id, lang, attempt, 0, task))

    def ask(self, paper: Paper, task: str, lang: str, *, background: bool = False) -> str:
        """Start or join the generation; returns the job's state. A text by another model or
        prompt version is done again."""
        return self.enqueue(paper, task, lang, background=background).state

    def enqueue(self, paper: Paper, task: str, lang: str, *, background: bool) -> Enqueued:
        force = self.stale(paper, task, lang)
        prio = self.faq.priority(paper) - (BACKGROUND if background else 0)
        return self.queue.enqueue(paper.id, lang, prio, force=force, task=task)

    def start(self, paper: Paper, task: str, lang: str, key: str | None, limit: int) -> bool:
        """`ask` for a reader, charged to `key` only when it starts a generation (as the
        FAQ's); False: over the limit."""
        admit = None if key is None else (lambda c: self.faq._charge(c, key, limit))
        force = self.stale(paper, task, lang)
        try:
            self.queue.enqueue(
                paper.id, lang, self.faq.priority(paper), force=force, admit=admit, task=task
            )
        except Refused:
            return False
        return True

    # ---- what a job writes ---------------------------------------------------------------

    def row(
        self, paper: Paper, task: str, lang: str, text: str, usage: dict[str, int]
    ) -> dict[str, Any]:
        return {
            "paper_id": paper.id,
            "task": task,
            "lang": lang,
            "text": text,
            "model": self.settings.llm_model,
            "prompt_version": PROMPT_VERSION,
            "paper_version": paper.version,
            "prompt_tokens": usage.get("prompt_tokens", 0),
            "completion_tokens": usage.get("completion_tokens", 0),
            "created": datetime.now(UTC).replace(tzinfo=None, microsecond=0),
        }

    # ---- cost --------------------------------------------------------------------------

    def spent(self, day: str | None = None, background: bool | None = None) -> int:
        """Tokens (prompt + completion) spent on `day` (UTC, default today)."""
        u = llm_usage.c
        q = select(func.coalesce(func.sum(u.prompt_tokens + u.completion_tokens), 0)).where(
            u.day == (day or today())
        )
        if background is not None:
            q = q.where(u.background == int(background))
        with self.store.engine.connect() as conn:
            return int(conn.execute(q).scalar() or 0)

    def budget_left(self) -> bool:
        """Background work may go on today (no budget set, or some of it left)."""
        budget = self.settings.llm_daily_token_budget
        return budget <= 0 or self.spent() < budget

    def usage(self, days: int = 14) -> list[dict[str, Any]]:
        """Usage per day and task, newest first (the admin page)."""
        u = llm_usage.c
        q = select(llm_usage).order_by(u.day.desc(), u.task, u.background).limit(days * 8)
        with self.store.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def pending(self) -> dict[str, int]:
        """Jobs waiting or running, per task."""
        j = faq_jobs.c
        q = select(j.task, func.count()).where(j.state.in_([PENDING, RUNNING])).group_by(j.task)
        with self.store.engine.connect() as conn:
            return {t: int(n) for t, n in conn.execute(q)}


def count_usage(
    store: Any, conn: Connection, task: str, background: bool, usage: dict[str, int]
) -> None:
    """Add one call's tokens to today's row (in the caller's transaction)."""
    store.accumulate(
        conn,
        llm_usage,
        {"day": today(), "task": task, "background": int(background)},
        {
            "calls": max(1, usage.get("calls", 1)),
            "prompt_tokens": usage.get("prompt_tokens", 0),
            "completion_tokens": usage.get("completion_tokens", 0),
        },
    )


def plan(
    service: TextService, papers: Iterable[Paper], tasks: Sequence[tuple[str, str]]
) -> dict[str, Any]:
    """What enriching `papers` with `tasks` ((task, lang) pairs) would do: calls and tokens
    of the texts due, per task (`enrich --dry-run`)."""
    papers = list(papers)
    out: dict[str, Any] = {"papers": len(papers), "tasks": {}}
    for task, lang in tasks:
        due = service.due(papers, task, lang)
        prompt = completion = 0
        for p in due:
            a, b = estimate(p, task, lang)
            prompt, completion = prompt + a, completion + b
        out["tasks"][f"{task}:{lang}"] = {
            "cached": len(papers) - len(due),
            "calls": len(due),
            "prompt_tokens": prompt,
            "completion_tokens": completion,
        }
    return out
