"""How good are the TL;DRs (llm/texts.py, issue 16)? Against SciTLDR's test split.

SciTLDR (../shared/data/scitldr/SciTLDR-A-test.jsonl.gz): 618 OpenReview papers, each with its
title, abstract (a list of sentences) and one or more human TL;DRs (the author's, and ones
written from the peer reviews). Each paper is stored as a Paper (a made-up id per row) in a
temporary SQLite store and its TL;DR written by the product's own path: TextService.ask(...,
background=True) and the FAQ workers (texts.messages, texts.max_tokens, the repetition guard,
texts.clean), one paper at a time, by the local SmolLM2-135M (or --endpoint URL --model NAME:
any OpenAI-compatible endpoint).

Prints, for the model and for two baselines that need no model (the abstract's first
sentence; the title):
- ROUGE-1/2/L F1 (Google's rouge-score, Porter stemming), against every reference TL;DR of
  the paper, the best per paper and per measure (SciTLDR's practice), averaged over papers;
- mean length in words, and the share over 30 words (the prompt's limit);
- the share that repeat themselves (a sentence of 5+ words, or a run of 8 words, twice) and
  the share that copy the title (the same words, or the title whole making up half or more);
- for the model: replies stopped by the repetition guard, empty or failed ones, papers per
  minute, tokens per paper, and what a 600-paper day of TL;DRs takes on this machine.
--json FILE writes the figures and every TL;DR.

--prompt alt: the same with an alternative TL;DR prompt (ALT below, in place of
texts.messages' for the tldr task only), to measure a change before making it in texts.py.

Run: .venv/bin/python bench/tldr_quality.py [--papers 618] [--json out.json] [--prompt alt]
     [--endpoint URL --model NAME] [--baselines-only]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _common import SHARED, machine_note, out_dir, table
from _texts import (
    Result,
    Throughput,
    add_model_args,
    copies_title,
    day_estimate,
    first_sentence,
    make_store,
    mean,
    model_settings,
    norm_words,
    pct,
    repeats,
    run_texts,
    word_count,
)

from coolpapers.llm import texts
from coolpapers.records import Paper

SCITLDR = SHARED / "data" / "scitldr" / "SciTLDR-A-test.jsonl.gz"
MEASURES = ("rouge1", "rouge2", "rougeL")


def load(n: int | None) -> list[dict[str, Any]]:
    rows = []
    with gzip.open(SCITLDR, "rt") as fh:
        for line in fh:
            if line.strip():
                rows.append(json.loads(line))
    rows = rows[:n] if n else rows
    for i, r in enumerate(rows):
        abstract = " ".join(" ".join(s.split()) for s in r["source"] if s.strip())
        r["paper"] = Paper(
            id=f"2606.{10001 + i:05d}",
            version=1,
            title=" ".join(r["title"].split()),
            abstract=abstract,
            authors=["(SciTLDR)"],
            categories=["cs.LG"],
            published=datetime(2026, 6, 1, tzinfo=UTC),
        )
    return rows


# ---- the alternative prompt (--prompt alt) ----------------------------------------------------

PRODUCT_MESSAGES = texts.messages


def alt_messages(paper: Paper, task: str, lang: str) -> tuple[list[dict[str, str]], list[str]]:
    """ALT: the abstract alone (no title to copy), the instruction after it (a small model
    follows what it read last), and the sentence begun as the authors would ("We ...") so it
    says what the paper does instead of describing the abstract or naming the paper."""
    if task != texts.TLDR:
        return PRODUCT_MESSAGES(paper, task, lang)
    system = "You summarise research abstracts in one short plain sentence."
    user = (
        f"Abstract: {paper.abstract}\n\nIn one sentence of at most {texts.TLDR_WORDS} words, "
        'say what the authors propose and what they find, starting with "We". Reply with the '
        "sentence only."
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}], []


# A line that only announces the TL;DR ("Here's a rewritten version of the TL;DR:"), and labels
# a small model puts before it ("The paper: <title>", "Summary: ...")
_PREAMBLE = re.compile(r"^(?:here(?:'s| is)\b|sure\b|certainly\b)|[:：]\s*$", re.I)
_LABEL = re.compile(
    r"^[\s*_#>]*(?:tl;?\s*dr|(?:one[- ]sentence )?summary|the paper|paper|title)[\s*_]*"
    r"[:：\-–][\s*_]*",
    re.I,
)


def alt_clean(raw: str, title: str) -> str:
    """ALT clean (measured on the same replies, no model call): the first line that is not a
    preamble nor the title (after its label), cleaned as texts.clean does; else as
    texts.clean."""
    for line in raw.split("\n"):
        line = _LABEL.sub("", line.strip()).strip()
        if not line or _PREAMBLE.search(line):
            continue
        sentence = texts.clean(texts.TLDR, line)
        if len(norm_words(sentence)) < 4 or copies_title(sentence, title):
            continue
        return sentence
    return texts.clean(texts.TLDR, raw)


# the workers' reason for a TL;DR closed at its first sentence
ENOUGH = texts.ENOUGH


def thrown_away(raw: str, kept: str) -> float:
    """The share of the reply (by characters) that clean throws away: generated for nothing."""
    raw = raw.strip()
    return max(0.0, 1 - len(kept) / len(raw)) if raw else 0.0


# ---- the figures --------------------------------------------------------------------------


def scorer() -> Any:
    try:
        from rouge_score import rouge_scorer
    except ImportError:
        sys.exit("pip install rouge-score (the bench extra: pip install -e '.[bench]')")
    return rouge_scorer.RougeScorer(list(MEASURES), use_stemmer=True)


def rouge_best(sc: Any, text: str, refs: list[str]) -> dict[str, float]:
    """F1 of each measure against the best-matching reference (each measure on its own)."""
    best = dict.fromkeys(MEASURES, 0.0)
    if not text.strip():
        return best
    for ref in refs:
        s = sc.score(ref, text)
        for m in MEASURES:
            best[m] = max(best[m], s[m].fmeasure)
    return best


def figures(sc: Any, rows: list[dict[str, Any]], outs: list[str]) -> dict[str, Any]:
    scores = [rouge_best(sc, o, r["target"]) for r, o in zip(rows, outs, strict=True)]
    n = len(outs)
    return {
        "papers": n,
        **{m: 100 * mean([s[m] for s in scores]) for m in MEASURES},
        "words": mean([word_count(o) for o in outs]),
        "over_30": sum(word_count(o) > texts.TLDR_WORDS for o in outs),
        "repeats": sum(repeats(o) for o in outs),
        "copies_title": sum(copies_title(o, r["title"]) for r, o in zip(rows, outs, strict=True)),
        "empty": sum(not o.strip() for o in outs),
        "per_paper": scores,
    }


def quality_row(name: str, f: dict[str, Any]) -> list[str]:
    n = f["papers"]
    return [
        name,
        f"{f['rouge1']:.1f}",
        f"{f['rouge2']:.1f}",
        f"{f['rougeL']:.1f}",
        f"{f['words']:.1f}",
        pct(f["over_30"], n),
        pct(f["repeats"], n),
        pct(f["copies_title"], n),
    ]


def report(files: list[Path]) -> None:
    """The figures of --json files on the papers they all have, and of their replies cleaned
    by ALT clean."""
    sc = scorer()
    runs = [json.loads(f.read_text()) for f in files]
    common = set.intersection(*({t["paper"] for t in r.get("tldrs", [])} for r in runs))
    quality = []
    rows: list[dict[str, Any]] = []
    for f, run in zip(files, runs, strict=True):
        tl = [t for t in run["tldrs"] if t["paper"] in common]
        rows = [{"title": t["title"], "target": t["references"]} for t in tl]
        name = f"{f.stem} ({run['model']['prompt']} prompt)"
        quality.append(quality_row(name, figures(sc, rows, [t["tldr"] for t in tl])))
        alt = [alt_clean(t["raw"], t["title"]) for t in tl]
        quality.append(quality_row(f"{name}, alt clean", figures(sc, rows, alt)))
        waste = mean([thrown_away(t["raw"], t["tldr"]) for t in tl])
        print(f"{f.name}: {100 * waste:.0f} % of each reply thrown away by clean (characters)")
    tl = [t for t in runs[0]["tldrs"] if t["paper"] in common]
    by = {t["paper"]: t for t in tl}
    first = [first_sentence(_source_of(by[t["paper"]])) for t in tl] if tl else []
    if all(first):
        quality.append(quality_row("baseline: first sentence", figures(sc, rows, first)))
    quality.append(quality_row("baseline: title", figures(sc, rows, [r["title"] for r in rows])))
    print(
        table(
            ["TL;DR", "R-1", "R-2", "R-L", "words", "> 30 words", "repeats", "copies title"],
            quality,
            title=f"{len(common)} SciTLDR test papers in all of {', '.join(f.name for f in files)}",
        )
    )


def _source_of(t: dict[str, Any]) -> list[str]:
    """The abstract's sentences of a --json TL;DR (SciTLDR, by its row's id)."""
    if "_sources" not in globals():
        rows = load(None)  # (older --json files name the OpenReview id)
        by = {r["paper"].id: r["source"] for r in rows} | {r["paper_id"]: r["source"] for r in rows}
        globals()["_sources"] = by
    return globals()["_sources"].get(t["paper"], [])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--papers", type=int, default=None, help="the first N papers (default all)")
    ap.add_argument("--json", type=Path, default=None, help="write figures and every TL;DR")
    ap.add_argument("--prompt", choices=("product", "alt"), default="product")
    ap.add_argument("--baselines-only", action="store_true", help="no model: the baselines")
    ap.add_argument("--report", type=Path, nargs="+", default=None, help="figures of --json files")
    add_model_args(ap)
    args = ap.parse_args()
    if args.report:
        report(args.report)
        return

    rows = load(args.papers)
    sc = scorer()
    print(f"{len(rows)} SciTLDR test papers; machine: {machine_note()}", flush=True)
    first = [first_sentence(r["source"]) for r in rows]
    titles = [r["paper"].title for r in rows]
    result: dict[str, Any] = {
        "papers": len(rows),
        "rouge": "rouge-score, stemmed; F1 against each reference, best per paper and measure",
        "baselines": {
            "first sentence": figures(sc, rows, first),
            "title": figures(sc, rows, titles),
        },
    }
    quality = [quality_row(f"baseline: {k}", v) for k, v in result["baselines"].items()]
    model_rows: list[list[str]] = []
    results: list[Result] = []
    if not args.baselines_only:
        if args.prompt == "alt":
            texts.messages = alt_messages  # type: ignore[assignment]
        work = out_dir("tldr_quality")
        store = make_store(work / f"tldr-{args.prompt}.db", [r["paper"] for r in rows])
        with model_settings(args) as (settings, name):
            t0 = time.perf_counter()

            def show(r: Result) -> None:
                i = len(results)
                if i <= 5 or i % 25 == 0:
                    print(f"  {i}/{len(rows)} {r.seconds:.1f} s: {r.text[:150]!r}", flush=True)

            def keep(r: Result) -> None:
                results.append(r)
                show(r)

            papers = [r["paper"] for r in rows]
            run_texts(store, settings, papers, [(texts.TLDR, "en")], keep, args.minutes)
            wall = time.perf_counter() - t0
        if len(results) < len(rows):  # --minutes: the figures of the papers done
            rows = rows[: len(results)]
            first, titles = first[: len(rows)], titles[: len(rows)]
            result["papers"] = len(rows)
            result["baselines"] = {
                "first sentence": figures(sc, rows, first),
                "title": figures(sc, rows, titles),
            }
            quality = [quality_row(f"baseline: {k}", v) for k, v in result["baselines"].items()]
        outs = [r.text for r in results]
        f = figures(sc, rows, outs)
        label = f"{name} ({'alt prompt' if args.prompt == 'alt' else texts.PROMPT_VERSION})"
        quality.insert(0, quality_row(label, f))
        tp = Throughput.of(results)
        n = len(results)
        model_rows = [
            [
                "reply thrown away by clean (characters), mean",
                f"{100 * mean([thrown_away(r.raw, r.text) for r in results]):.0f} %",
            ],
            ["closed at the first sentence", pct(sum(r.guard == ENOUGH for r in results), n)],
            [
                "stopped by the repetition guard",
                pct(sum(bool(r.guard) and r.guard != ENOUGH for r in results), n),
            ],
            ["at the length limit (96 tokens)", pct(sum(r.at_length for r in results), n)],
            ["failed or empty", pct(sum(bool(r.error) or not r.text for r in results), n)],
            *tp.rows("paper"),
        ]
        result["model"] = {
            "name": name,
            "prompt": args.prompt,
            **{k: v for k, v in f.items() if k != "per_paper"},
            "papers_per_minute": tp.per_minute,
            "seconds_mean": mean(tp.seconds),
            "prompt_tokens_mean": mean(tp.prompt),
            "completion_tokens_mean": mean(tp.completion),
            "closed_at_first_sentence": sum(r.guard == ENOUGH for r in results),
            "guard_cuts": sum(bool(r.guard) and r.guard != ENOUGH for r in results),
            "wall_seconds": wall,
            "machine_at_end": machine_note(),
        }
        result["tldrs"] = [
            {
                "paper": r["paper"].id,
                "openreview": r["paper_id"],
                "title": r["title"],
                "tldr": res.text,
                "raw": res.raw,
                "references": r["target"],
                "seconds": round(res.seconds, 2),
                "prompt_tokens": res.prompt_tokens,
                "completion_tokens": res.completion_tokens,
                "guard": res.guard,
                "error": res.error,
                **{m: round(s[m], 4) for m in ("rouge1", "rouge2", "rougeL")},
            }
            for r, res, s in zip(rows, results, f["per_paper"], strict=True)
        ]
    for v in result["baselines"].values():
        v.pop("per_paper", None)

    print()
    print(
        table(
            ["TL;DR", "R-1", "R-2", "R-L", "words", "> 30 words", "repeats", "copies title"],
            quality,
            title=f"{len(rows)} SciTLDR test papers; ROUGE F1 x100 (rouge-score, stemmed), "
            "best over each paper's references, per measure",
        )
    )
    if model_rows:
        print(table(["measure", "value"], model_rows, title=f"\n{result['model']['name']}"))
        print(f"machine at the end: {machine_note()}")
        s = mean(Throughput.of(results).seconds)
        print(
            table(
                ["600-paper day", "per paper", "in all"],
                day_estimate({"TL;DRs (one model, one at a time)": s}),
                title="\nestimate for a 600-paper day on this machine (at this load)",
            )
        )
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1))
        print(f"written to {args.json}")


if __name__ == "__main__":
    main()
