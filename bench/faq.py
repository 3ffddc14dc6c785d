"""The FAQ's figures: PDF extraction speed, our overhead per conversation, cached first byte,
and 100 concurrent readers of one running generation.

    .venv/bin/python bench/faq.py [--readers 100] [--requests 300] [--conversations 20]

Data and setup
  PDFs: every real PDF in ../shared/pdfs/arxiv and ../shared/pdfs/acl, extracted and cleaned
  with llm/fulltext.py (pypdfium2) from bytes in memory: ms per page.
  LLM: tests/llm_server.FakeLLM, a real OpenAI-compatible HTTP server on 127.0.0.1 whose
  payloads are the openai package's own ChatCompletionChunk objects.
  Database: a fresh SQLite file under bench/out/faq/. The papers' stored full text is the real
  extracted text of 1706.03762 (39 k chars), so prompt building and trimming are real-sized.

Measurements
  overhead  --conversations conversations run one after another in this process by the real
            worker code (llm/worker.Conversation: stored full text, trimming, 6 streamed calls,
            chunk writes, rendering and the final transaction), against a zero-delay LLM. The
            time spent waiting on the LLM (each `create` call and each `__anext__` of its
            stream) is measured and subtracted: what remains is ours.
  readers   `coolpapers serve` (uvicorn, 1 worker, FAQ workers in-process) against a slow LLM
            (~6 s per conversation); --readers clients POST /api/papers/{id}/faq at once and
            read the SSE stream to its `done` event. All served = every reader got `done` with
            the same HTML, and the LLM saw exactly 6 calls.
  cached    then --requests sequential requests on one keep-alive connection for the cached
            answer: time to the first byte of the response body (POST: the SSE `done` event;
            GET: the JSON; GET /arxiv/kimi: the fragment).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from _common import (
    SHARED,
    free_port,
    machine_note,
    median,
    out_dir,
    percentile,
    remove_db,
    start_serve,
    stop_group,
    table,
    wait_http,
)
from tests.llm_server import FakeLLM
from tests.llm_support import add_papers, paper

from coolpapers.config import Settings
from coolpapers.llm import fulltext
from coolpapers.llm.jobs import JobQueue
from coolpapers.llm.schema import faq_fulltext
from coolpapers.llm.service import FaqService
from coolpapers.llm.worker import Conversation, make_llm
from coolpapers.store import Store


def long_answer(messages: list[dict[str, Any]]) -> str:
    """A realistic answer: ~1,500 characters of Markdown with lists and math."""
    turn = sum(1 for m in messages if m["role"] == "assistant") + 1
    item = (
        "- The model uses $\\mathrm{softmax}(QK^T/\\sqrt{d_k})V$ with **multi-head** attention.\n"
    )
    return f"Answer {turn}.\n\n" + item * 18


def bench_pdfs() -> list[list[Any]]:
    files = sorted((SHARED / "pdfs").glob("*/*.pdf"))
    if not files:
        return [["pdf extraction", "skipped: ../shared/pdfs missing", ""]]
    per_doc, pages, total = [], 0, 0.0
    for f in files:
        data = f.read_bytes()
        t = time.perf_counter()
        got = fulltext.extract(data)
        dt = time.perf_counter() - t
        per_doc.append(dt * 1000 / max(1, got.pages))
        pages += got.pages
        total += dt
    return [
        [
            "pdf extraction, all",
            f"{total * 1000 / pages:.2f} ms/page",
            f"{len(files)} PDFs, {pages} pages, {total:.2f} s",
        ],
        [
            "pdf extraction, per PDF",
            f"p50 {median(per_doc):.2f} ms/page",
            f"max {max(per_doc):.2f} ms/page",
        ],
    ]


class _Timed:
    """Wraps the LLM client: accumulates the time spent waiting on the model."""

    def __init__(self, llm: Any) -> None:
        self.llm, self.wait = llm, 0.0
        outer = self

        class _Completions:
            async def create(self, **kw: Any) -> Any:
                t = time.perf_counter()
                stream = await outer.llm.chat.completions.create(**kw)
                outer.wait += time.perf_counter() - t
                return _Stream(stream)

        class _Stream:
            def __init__(self, s: Any) -> None:
                self.s = s

            def __aiter__(self) -> _Stream:
                return self

            async def __anext__(self) -> Any:
                t = time.perf_counter()
                try:
                    return await self.s.__anext__()
                finally:
                    outer.wait += time.perf_counter() - t

        self.chat = type("Chat", (), {"completions": _Completions()})()


def seed(store: Store, ids: list[str], text: str) -> None:
    add_papers(store, [paper(i) for i in ids])
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = [
        {"paper_id": i, "version": 1, "source": "pdf", "text": text, "pages": 15, "extracted": now}
        for i in ids
    ]
    with store.engine.begin() as c:
        c.execute(faq_fulltext.insert(), rows)


def bench_overhead(db: str, n: int, text: str) -> list[list[Any]]:
    store = Store.open(db)
    ids = [f"2606.1{i:04d}" for i in range(n)]
    seed(store, ids, text)
    rows = []
    with FakeLLM(answer=long_answer, piece=12) as llm:
        settings = Settings(_env_file=None, llm_base_url=llm.url, llm_model="fake", database_url=db)  # type: ignore[call-arg]
        service = FaqService(store, settings)
        q = JobQueue(store)

        async def run_all() -> list[tuple[float, float]]:
            client = make_llm(service)
            out = []
            for pid in ids:
                service.ask(paper(pid), "en")
                t = time.perf_counter()
                claim = q.claim("bench", 60, 4)
                assert claim is not None
                timed = _Timed(client)
                await Conversation(service, timed, None, claim).run()  # type: ignore[arg-type]
                total = time.perf_counter() - t
                assert service.answer(pid, "en") is not None
                out.append((total, timed.wait))
            await client.close()
            return out

        res = asyncio.run(run_all())
    over = [(t - w) * 1000 for t, w in res]
    totals = [t * 1000 for t, _ in res]
    rows.append(
        [
            "overhead per conversation (excl. LLM)",
            f"p50 {median(over):.1f} ms",
            f"p95 {percentile(over, 95):.1f} ms; total p50 {median(totals):.1f} ms "
            f"incl. local LLM; {n} conversations x 6 calls",
        ]
    )
    store.engine.dispose()
    return rows


async def readers(base: str, pid: str, n: int) -> tuple[list[float], list[str], float]:
    limits = httpx.Limits(max_connections=n + 10, max_keepalive_connections=n + 10)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:

        async def one() -> tuple[float, str]:
            t = time.perf_counter()
            first = None
            done = ""
            async with client.stream("POST", f"/api/papers/{pid}/faq?lang=en") as r:
                buf = ""
                async for chunk in r.aiter_text():
                    first = first or time.perf_counter() - t
                    buf += chunk
                for block in buf.split("\n\n"):
                    if block.startswith("event: done"):
                        done = block
            return first or float("nan"), done

        t0 = time.perf_counter()
        res = await asyncio.gather(*(one() for _ in range(n)))
        wall = time.perf_counter() - t0
    return [f * 1000 for f, _ in res], [d for _, d in res], wall


def first_byte(client: httpx.Client, method: str, url: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        with client.stream(method, url) as r:
            chunks = r.iter_raw()
            next(chunks)
            out.append((time.perf_counter() - t) * 1000)
            for _ in chunks:  # drain: the connection is reused
                pass
    return out


def bench_serve(db: str, n_readers: int, n_requests: int, text: str) -> list[list[Any]]:
    store = Store.open(db)
    pid = "2606.20001"
    seed(store, [pid], text)
    store.engine.dispose()
    rows: list[list[Any]] = []
    with FakeLLM(answer=long_answer, piece=16, delay=0.01) as llm:
        port = free_port()
        import os

        os.environ.update(
            {
                "COOLPAPERS_LLM_BASE_URL": llm.url,
                "COOLPAPERS_LLM_MODEL": "fake",
                "COOLPAPERS_LLM_RATE_LIMIT": "1000",
            }
        )
        proc = start_serve(db, port, 1, out_dir("faq") / "serve.log")
        base = f"http://127.0.0.1:{port}"
        try:
            wait_http(f"{base}/api/papers/{pid}/faq", proc)
            fb, dones, wall = asyncio.run(readers(base, pid, n_readers))
            served = sum(1 for d in dones if d and d == dones[0])
            rows.append(
                [
                    f"{n_readers} concurrent readers, one generation",
                    f"{served}/{n_readers} served",
                    f"LLM calls {len(llm.calls)} (6 = one conversation); wall {wall:.1f} s; "
                    f"first byte p50 {median(fb):.1f} ms, max {max(fb):.1f} ms",
                ]
            )
            with httpx.Client(base_url=base, timeout=30) as c:
                first_byte(c, "GET", f"/api/papers/{pid}/faq?lang=en", 20)  # warm-up
                for method, url in (
                    ("POST", f"/api/papers/{pid}/faq?lang=en"),
                    ("GET", f"/api/papers/{pid}/faq?lang=en"),
                    ("GET", f"/arxiv/kimi?paper={pid}&lang=en"),
                ):
                    ms = first_byte(c, method, url, n_requests)
                    rows.append(
                        [
                            f"cached first byte {method} {url.split('?')[0]}",
                            f"p50 {median(ms):.2f} ms",
                            f"p95 {percentile(ms, 95):.2f} ms ({n_requests} requests)",
                        ]
                    )
        finally:
            stop_group(proc)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--readers", type=int, default=100)
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--conversations", type=int, default=20)
    args = ap.parse_args()
    out = out_dir("faq")
    pdf = SHARED / "pdfs" / "arxiv" / "1706.03762.pdf"
    text = fulltext.extract(pdf.read_bytes()).text if pdf.exists() else "x " * 20000
    rows = bench_pdfs()
    db1, db2 = out / "overhead.db", out / "serve.db"
    for p in (db1, db2):
        remove_db(p)
    rows += bench_overhead(f"sqlite:///{db1}", args.conversations, text)
    rows += bench_serve(f"sqlite:///{db2}", args.readers, args.requests, text)
    print(table(["measure", "figure", "notes"], rows, title="FAQ (llm/)"))
    print(machine_note())


if __name__ == "__main__":
    main()
