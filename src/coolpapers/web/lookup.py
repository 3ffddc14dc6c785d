"""Papers by key: from the store, else from their sources on demand, under one error policy.

Pages, the JSON API and the FAQ all look papers up here, so that a busy or broken source is
answered alike everywhere: a source that says `Unavailable` keeps what it found and names
the keys to ask for again (pages and APIs answer 503 with Retry-After); any other failure is
logged and its keys count as missing (a 404, never a 500).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from coolpapers.config import Settings
from coolpapers.records import Paper
from coolpapers.sources import registry
from coolpapers.sources.base import BadId, Fetcher, Unavailable
from coolpapers.store import Store

log = logging.getLogger("coolpapers.web")


@dataclass(slots=True)
class Found:
    """What a lookup found. `found`: papers by key. `pending`: keys whose source could not
    answer now (ask again in `retry_after` s; `reason` says why). `missing`: the rest, as
    asked: not at their source, or not looked up (fetching off, no fetcher, it failed).
    `fetching`: whether a source was asked, so a 404 can say where it looked."""

    found: dict[str, Paper]
    missing: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    retry_after: float = 0.0
    reason: str = ""
    fetching: bool = False

    @property
    def retry(self) -> int:
        """Retry-After in whole seconds, as pages have always sent it."""
        return int(self.retry_after)

    @property
    def message(self) -> str:
        """Why the pending keys are not answered yet, for JSON errors."""
        return f"{', '.join(self.pending)}: {self.reason}; try again in {self.retry} s"


class Lookup:
    """`(keys) -> Found`: the store first, then each missing key's source's fetcher (built
    once here, only with `fetch_on_demand`). A `fetcher` given explicitly (tests) answers the
    keys of every source instead."""

    def __init__(self, store: Store, settings: Settings, fetcher: Fetcher | None = None) -> None:
        self.store = store
        on = settings.fetch_on_demand
        self._every = fetcher if on else None
        self._by_source = _fetchers(store, settings) if on and fetcher is None else {}

    def __call__(self, keys: Sequence[str]) -> Found:
        keys = list(dict.fromkeys(keys))
        found = self.store.papers(keys)
        out = Found(found)
        pending: set[str] = set()
        reasons: list[str] = []
        for fetch, group in self._groups([k for k in keys if k not in found]):
            out.fetching = True
            try:
                found.update(fetch(group))
            except Unavailable as e:
                found.update(e.found)
                pending.update(e.pending)
                out.retry_after = max(out.retry_after, e.retry_after)
                reasons.append(e.reason)
            except Exception as e:  # a source down or slow: answer with what we have
                log.warning("on-demand fetch of %s failed: %s", group, e)
        out.pending = [k for k in keys if k in pending and k not in found]
        out.missing = [k for k in keys if k not in found and k not in pending]
        out.reason = "; ".join(dict.fromkeys(reasons))
        return out

    def _groups(self, missing: list[str]) -> list[tuple[Fetcher, list[str]]]:
        """The missing keys by the fetcher that may find them; keys with none stay missing."""
        if not missing:
            return []
        if self._every is not None:
            return [(self._every, missing)]
        groups: dict[str, list[str]] = {}
        for k in missing:
            try:
                source = registry.source_of(k)
            except BadId:
                continue  # no registered source takes it (any more): nobody to ask
            if source.key in self._by_source:
                groups.setdefault(source.key, []).append(k)
        return [(self._by_source[s], ks) for s, ks in groups.items()]


def _fetchers(store: Store, settings: Settings) -> dict[str, Fetcher]:
    out: dict[str, Fetcher] = {}
    for source in registry.all_sources():
        try:
            fetch = source.fetcher(store, settings)
        except Exception:  # like a plugin that fails to load: one source does not stop the site
            log.exception("source %s: its fetcher failed to start; not fetching", source.key)
            continue
        if fetch is not None:
            out[source.key] = fetch
    return out
