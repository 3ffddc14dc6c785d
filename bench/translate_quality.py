"""How well do translations (llm/texts.py, issue 16) keep what must not change? Real abstracts
with LaTeX, into Chinese by default.

The abstracts: --papers (200) distinct papers of ../shared/data/arxiv-daily-astro-ph/ whose
abstract has a `$`, picked evenly over all the files (the same every run), read as the
importer reads a daily line (sources/arxiv/files.py). Each is stored in a temporary SQLite
store and translated by the product's own path: TextService.ask(..., background=True) and the
FAQ workers (texts.messages with the math held out as [M1], [M2], ..., texts.max_tokens, the
repetition guard, texts.clean putting the math back), one at a time, by the local
SmolLM2-135M (or --endpoint URL --model NAME).

Prints, over the translations:
- math: $...$ spans of the source present verbatim in the output (share of spans; share of
  abstracts with all of them), and how many placeholders the model itself kept (a dropped
  one is appended at the end by texts.restore_math: present, but out of place);
- numbers (digit sequences of the prose, outside $...$), arXiv ids and TeX commands of the
  source surviving in the output (counted with multiplicity);
- language: the share of outputs that are mostly not in the target script (CJK characters
  under half of the prose's letters; for zh, ja, ko) and with almost none (under 5 %);
- the share stopped by the repetition guard, and at the length limit;
- papers per minute, tokens per paper, seconds per abstract; and the estimate for a
  600-paper day (title and abstract) on this machine.
--json FILE writes the figures and every translation.

Run: .venv/bin/python bench/translate_quality.py [--papers 200] [--lang zh]
     [--fields abstract|title|both] [--json out.json] [--endpoint URL --model NAME]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from _common import DAILY_ASTRO, daily_files, load_json_lines, machine_note, out_dir, table
from _texts import (
    Result,
    Throughput,
    add_model_args,
    cjk_share,
    commands_kept,
    day_estimate,
    ids_kept,
    make_store,
    math_spans,
    mean,
    model_settings,
    numbers_kept,
    pct,
    placeholders,
    run_texts,
    spans_kept,
)

from coolpapers.llm import texts
from coolpapers.records import Paper

SCRIPTS = ("zh", "ja", "ko")  # targets written in CJK characters (the language check)
# The model talking about the task instead of doing it ("To translate the abstract into
# Simplified Chinese (简体中文), we would need ...", "重新翻译成简体中文：")
ECHO = re.compile(r"translat|简体中文|simplified chinese|翻译|placeholder", re.I)


def load(n: int) -> list[Paper]:
    """`n` distinct papers with `$` in the abstract, evenly over the astro-ph daily files."""
    from coolpapers.sources.arxiv.files import _daily

    seen: set[str] = set()
    found: list[Paper] = []
    for day, obj in load_json_lines(daily_files(DAILY_ASTRO)):
        if "$" not in (obj.get("summary") or ""):
            continue
        try:
            paper, _ = _daily(obj, date.fromisoformat(day), [])
        except Exception:  # a row the importer would skip
            continue
        if paper.id in seen or "$" not in paper.abstract or not paper.categories:
            continue
        seen.add(paper.id)
        found.append(paper)
    if len(found) < n:
        sys.exit(f"only {len(found)} abstracts with $ under {DAILY_ASTRO}")
    step = len(found) / n
    return [found[int(i * step)] for i in range(n)]


def measure(papers: list[Paper], results: list[Result], lang: str) -> dict[str, Any]:
    by_id = {p.id: p for p in papers}
    f: dict[str, Any] = {k: [0, 0] for k in ("spans", "numbers", "ids", "commands")}
    f |= {"texts": 0, "all_spans": 0, "with_spans": 0, "not_script": 0, "no_script": 0}
    f |= {"placeholders": [0, 0], "invented": 0, "guard": 0, "length": 0, "failed": 0}
    f["echo"] = 0
    ratios = []
    for r in results:
        p = by_id[r.paper_id]
        source = p.title if r.task == texts.TITLE else p.abstract
        f["texts"] += 1
        if r.error or not r.text:
            f["failed"] += 1
        out = r.text
        for key, fn in (
            ("spans", spans_kept),
            ("numbers", numbers_kept),
            ("ids", ids_kept),
            ("commands", commands_kept),
        ):
            kept, total = fn(source, out)
            f[key][0] += kept
            f[key][1] += total
            if key == "spans" and total:
                f["with_spans"] += 1
                f["all_spans"] += kept == total
        _, held = texts.hold_math(source)
        kept, invented = placeholders(r.raw, len(held))
        f["placeholders"][0] += kept
        f["placeholders"][1] += len(held)
        f["invented"] += invented
        if lang.split("-")[0] in SCRIPTS:
            share = cjk_share(out)
            f["not_script"] += share < 0.5
            f["no_script"] += share < 0.05
        f["guard"] += bool(r.guard)
        f["length"] += r.at_length
        f["echo"] += bool(ECHO.search(out)) and not ECHO.search(source)
        src_chars = len("".join(texts.hold_math(source)[0].split()))
        ratios.append(len("".join(out.split())) / max(1, src_chars))
    f["length_ratio"] = mean(ratios)
    return f


def share(pair: list[int]) -> str:
    kept, total = pair
    return f"{kept}/{total} ({100 * kept / total:.0f} %)" if total else "- (none in the sources)"


def report(f: dict[str, Any], lang: str, what: str) -> list[list[str]]:
    n = f["texts"]
    rows = [
        ["$...$ spans present verbatim", share(f["spans"])],
        [f"{what}s with all their spans", pct(f["all_spans"], f["with_spans"])],
        ["placeholders the model kept itself ([Mk])", share(f["placeholders"])],
        ["placeholders it invented", str(f["invented"])],
        ["numbers of the prose surviving", share(f["numbers"])],
        ["arXiv ids surviving", share(f["ids"])],
        ["TeX commands surviving", share(f["commands"])],
    ]
    if lang.split("-")[0] in SCRIPTS:
        rows += [
            [f"mostly not {lang} (CJK < 50 % of letters)", pct(f["not_script"], n)],
            [f"almost no {lang} at all (CJK < 5 %)", pct(f["no_script"], n)],
        ]
    rows += [
        ["talks about translating instead (echoes the task)", pct(f["echo"], n)],
        ["output / source length (non-space characters)", f"{f['length_ratio']:.2f}"],
        ["stopped by the repetition guard", pct(f["guard"], n)],
        ["at the length limit (texts.max_tokens)", pct(f["length"], n)],
        ["failed or empty", pct(f["failed"], n)],
    ]
    return rows


def from_json(path: Path) -> None:
    """The figures of a --json file again (with this code's measures)."""
    data = json.loads(path.read_text())
    lang = data["lang"]
    seen: dict[str, Paper] = {}
    results: list[Result] = []
    for t in data["texts"]:
        p = seen.setdefault(
            t["paper"], Paper(id=t["paper"], title="", abstract="", authors=[], categories=[])
        )
        if t["task"] == texts.TITLE:
            p.title = t["source"]
        else:
            p.abstract = t["source"]
        results.append(
            Result(
                t["paper"],
                t["task"],
                t["text"],
                t["raw"],
                t["seconds"],
                t["prompt_tokens"],
                t["completion_tokens"],
                t["max_tokens"],
                t["guard"],
                t["error"],
            )
        )
    papers = list(seen.values())
    seconds = {}
    for task in (texts.TITLE, texts.ABSTRACT):
        rs = [r for r in results if r.task == task]
        if not rs:
            continue
        tp = Throughput.of(rs)
        seconds[f"{task} into {lang}"] = mean(tp.seconds)
        print(
            table(
                ["measure", "value"],
                report(measure(papers, rs, lang), lang, task) + tp.rows(task),
                title=f"\n{len(rs)} {task}s into {lang} by {data['model']} ({path.name}; "
                f"machine at its end: {data.get('machine_at_end', '?')})",
            )
        )
    print(
        table(
            ["600-paper day", "per paper", "in all"],
            day_estimate(seconds),
            title="\nestimate for a 600-paper day on the machine it ran on (at its load)",
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--papers", type=int, default=200)
    ap.add_argument("--lang", default="zh")
    ap.add_argument("--fields", choices=("abstract", "title", "both"), default="abstract")
    ap.add_argument("--json", type=Path, default=None, help="write figures and every text")
    ap.add_argument("--report", type=Path, default=None, help="the figures of a --json file")
    add_model_args(ap)
    args = ap.parse_args()
    if args.report:
        from_json(args.report)
        return
    if not texts.valid_lang(args.lang):
        sys.exit(f"not a language code: {args.lang}")

    papers = load(args.papers)
    spans = sum(len(math_spans(p.abstract)) for p in papers)
    print(
        f"{len(papers)} astro-ph abstracts with $ ({spans} $...$ spans); machine: {machine_note()}",
        flush=True,
    )
    fields = {"abstract": [texts.ABSTRACT], "title": [texts.TITLE]}.get(
        args.fields, [texts.TITLE, texts.ABSTRACT]
    )
    jobs = [(task, args.lang) for task in fields]
    store = make_store(out_dir("translate_quality") / f"translate-{args.lang}.db", papers)
    results: list[Result] = []

    def keep(r: Result) -> None:
        results.append(r)
        i = len(results)
        if i <= 3 or i % 10 == 0:
            print(
                f"  {i}/{len(papers) * len(jobs)} {r.task} {r.seconds:.1f} s, "
                f"{r.completion_tokens} tokens: {r.text[:120]!r}",
                flush=True,
            )

    with model_settings(args) as (settings, name):
        t0 = time.perf_counter()
        run_texts(store, settings, papers, jobs, keep, args.minutes)
        wall = time.perf_counter() - t0
    print(f"\nmachine at the end: {machine_note()}; {wall:.0f} s in all")
    done = {r.paper_id for r in results}
    papers = [p for p in papers if p.id in done]
    out: dict[str, Any] = {"model": name, "lang": args.lang, "papers": len(papers), "tasks": {}}
    seconds: dict[str, float] = {}
    for task in fields:
        rs = [r for r in results if r.task == task]
        f = measure(papers, rs, args.lang)
        tp = Throughput.of(rs)
        seconds[f"{task} into {args.lang}"] = mean(tp.seconds)
        print(
            table(
                ["measure", "value"],
                report(f, args.lang, task) + tp.rows(task),
                title=f"\n{len(rs)} {task}s into {args.lang} by {name}",
            )
        )
        out["tasks"][task] = {
            **f,
            "per_minute": tp.per_minute,
            "seconds_mean": mean(tp.seconds),
            "prompt_tokens_mean": mean(tp.prompt),
            "completion_tokens_mean": mean(tp.completion),
        }
    print(f"machine at the end: {machine_note()}")
    print(
        table(
            ["600-paper day", "per paper", "in all"],
            day_estimate(seconds),
            title="\nestimate for a 600-paper day on this machine (at this load)",
        )
    )
    out["machine_at_end"] = machine_note()
    out["wall_seconds"] = wall
    by_id = {p.id: p for p in papers}
    out["texts"] = [
        {
            "paper": r.paper_id,
            "task": r.task,
            "source": by_id[r.paper_id].title
            if r.task == texts.TITLE
            else by_id[r.paper_id].abstract,
            "text": r.text,
            "raw": r.raw,
            "seconds": round(r.seconds, 2),
            "prompt_tokens": r.prompt_tokens,
            "completion_tokens": r.completion_tokens,
            "max_tokens": r.max_tokens,
            "guard": r.guard,
            "error": r.error,
        }
        for r in results
    ]
    if args.json:
        args.json.write_text(json.dumps(out, ensure_ascii=False, indent=1))
        print(f"written to {args.json}")


if __name__ == "__main__":
    main()
