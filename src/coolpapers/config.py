"""Configuration in one place: `COOLPAPERS_*` environment variables (or a .env file), read once."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_db() -> str:
    return f"sqlite:///{Path.cwd() / 'coolpapers.db'}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COOLPAPERS_", env_file=".env", extra="ignore")

    # sqlite:///path.db (embedded default) or postgresql+psycopg://user@host/db (scale path)
    database_url: str = _default_db()
    # Where arXiv is. Tests point these at a replay server on 127.0.0.1.
    arxiv_rss_url: str = "https://rss.arxiv.org"
    arxiv_oai_url: str = "https://oaipmh.arxiv.org/oai"
    arxiv_api_url: str = "https://export.arxiv.org/api/query"
    # arXiv's terms: one request every 3 seconds, one connection, across all our fetchers.
    arxiv_min_interval: float = 3.0
    arxiv_max_retries: int = 5
    user_agent: str = "coolpapers/0.1 (self-hosted arXiv reader; https://github.com/coolpapers)"
    # Categories the scheduler watches for announcements (comma-separated).
    watch_categories: str = "cs.AI,cs.CL,cs.CV,cs.LG"
    # Fetch ids missing from the store from arXiv when a reader asks for them.
    fetch_on_demand: bool = True
    # Entries rendered in the first HTML response of a listing; the rest load while scrolling.
    page_size: int = 50
    # Seconds a rendered page may be served from the in-process cache without a freshness check.
    page_cache_ttl: float = 1.0

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def watch(self) -> list[str]:
        return [c.strip() for c in self.watch_categories.split(",") if c.strip()]


@cache
def get_settings() -> Settings:
    return Settings()
