"""Outside sources for tests, as another package would install them (a conference source:
keys `<local>@<Suffix>`, no versions, no fetcher, no listings). Tests register one by
monkeypatching `registry.entry_points` (see test_sources.py's `with_conf`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from coolpapers.config import Settings
from coolpapers.records import Paper
from coolpapers.sources.base import BadId, Fetcher, Links, Pace
from coolpapers.store.store import Store


@dataclass(frozen=True)
class VenueId:
    id: str
    suffix: str
    version: int | str | None = None

    def __str__(self) -> str:
        return f"{self.id}@{self.suffix}"


class Venue:
    """Pages at `https://<host>/<local>/`; PDFs at `<pdf_base>/<local>.pdf`, or none when
    `pdf_base` is None (tests aim it at a replay server). `asked`: calls of links()."""

    credit: str | None = None
    category_scheme: str | None = None

    def __init__(
        self,
        key: str,
        suffix: str,
        host: str,
        *,
        name: str | None = None,
        pace_key: str | None = None,
        interval: float = 0.01,
        pdf_base: str | None = None,
    ) -> None:
        self.key, self.suffix = key, suffix
        self.name = name or f"{suffix} proceedings"
        self.pace = Pace(pace_key or f"{key}.pace", self.name, interval, frozenset({host}))
        self.homepage = f"https://{host}/"
        self.pdf_base = pdf_base
        self.asked = 0

    def parse_id(self, text: str) -> VenueId:
        local, at, suffix = text.strip().rpartition("@")
        if not at or not local or suffix.lower() != self.suffix.lower():
            raise BadId(f"not a {self.suffix} id: {text!r}")
        return VenueId(local, self.suffix)

    def format_id(self, local: str, version: int | str | None = None) -> str:
        return f"{local}@{self.suffix}"

    def links(self, paper: Paper) -> Links:
        self.asked += 1
        return self.id_links(self.parse_id(paper.id).id)  # its key is `<local>@<Suffix>`

    def id_links(self, local: str, version: int | str | None = None) -> Links:
        pdf = f"{self.pdf_base}/{local}.pdf" if self.pdf_base else None
        return Links(f"{self.homepage}{local}/", pdf, None)

    def cite(self, local: str, version: int | str | None = None) -> str:
        return self.format_id(local)

    def author_url(self, name: str) -> str | None:
        return None

    def approx_published(self, paper: Paper) -> datetime | None:
        return None

    def bibtex(self, paper: Paper) -> str:
        return f"@inproceedings{{{paper.id},\n  title = {{{paper.title}}},\n}}"

    def fetcher(self, store: Store, settings: Settings) -> Fetcher | None:
        return None

    def listings(self, store: Store) -> None:
        return None


# An outside conference source, with its host and links: `Venue(**CONF)`. Not a built-in
# one's key, suffix or host (those would clash with it).
CONF: dict[str, Any] = {
    "key": "conf",
    "suffix": "Conf",
    "host": "proceedings.example.org",
    "name": "Example Proceedings",
    "pace_key": "conf.pace",
    "interval": 1.0,
    "pdf_base": "https://proceedings.example.org",
}


def fake_conf() -> Venue:
    return Venue(**CONF)
