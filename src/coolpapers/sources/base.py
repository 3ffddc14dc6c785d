"""What a source of papers is: the one seam every source implements (arXiv, later ACL, ...).

A source is one package under `sources/` whose module exposes `SOURCE`, an object that
satisfies `Source` below; `registry` finds it. Everything outside a source's package asks the
source how its ids look and where its links point, so adding a source touches no other code.

Ids have two written forms. A source's *local* id is what it calls a paper (`2309.16354`,
`2024.acl-long.1`). The *public* id names a paper among all sources, as papers.cool writes
it: the local id, then `@Suffix` for every source but arXiv (`2024.acl-long.1@ACL`,
`<forum>@OpenReview`, `<paper>@<volume>@PMLR`); arXiv's ids stay bare.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from coolpapers.config import Settings
    from coolpapers.records import Paper
    from coolpapers.store.listings import Listings
    from coolpapers.store.store import Store


class BadId(ValueError):
    """Raised for text that is not an id of the source asked (or of any source)."""


class SourceId(Protocol):
    """One parsed id. Each source has its own type; this is what every caller may rely on."""

    @property
    def id(self) -> str:
        """The local id, canonical and without a version: the key the store files it under."""
        ...

    @property
    def version(self) -> int | str | None:
        """Whatever version the source has (arXiv: 2 for v2); None when none was written."""
        ...

    def __str__(self) -> str:
        """The public form, version included: `2309.16354v2`, `2024.acl-long.1@ACL`."""
        ...


@dataclass(frozen=True, slots=True)
class Links:
    """Where a paper lives at its source. `html`: a full-text HTML page, where there is one."""

    page: str
    pdf: str | None
    html: str | None


@dataclass(frozen=True, slots=True)
class Pace:
    """How often one host (or a group of hosts run as one, like arXiv's) may be asked.

    `key` names the row of the `state` table that holds the next free request slot, so every
    process on one database keeps the pace together; two paces never wait on each other.
    `name` is how messages call the far side ("arXiv busy: ...")."""

    key: str
    name: str
    interval: float  # seconds between requests
    hosts: frozenset[str]

    def covers(self, host: str) -> bool:
        return host.lower().removeprefix("www.") in self.hosts


class Unavailable(Exception):
    """Some papers could not be looked up at their source now (busy, paced, down). `found`
    holds the papers that were (stored or fetched), `pending` the keys to ask for again in
    `retry_after` seconds. The one "try again later" of every Fetcher, so that pages, the
    API and the FAQ answer it the same way whatever the source."""

    def __init__(
        self, found: dict[str, Paper], pending: list[str], retry_after: float, reason: str
    ) -> None:
        super().__init__(f"{', '.join(pending)}: {reason}; try again in {retry_after:.0f} s")
        self.found, self.pending = found, pending
        self.retry_after, self.reason = retry_after, reason


class Fetcher(Protocol):
    """Looks up papers the store lacks, for a reader waiting on a page: `(keys) -> {key:
    Paper}` for those found; keys the source lacks are absent. It raises `Unavailable` when
    it cannot answer now."""

    def __call__(self, ids: Sequence[str]) -> dict[str, Paper]: ...


@runtime_checkable
class Source(Protocol):
    """A place papers come from."""

    key: str  # stable, lowercase: "arxiv"; in stored keys and settings
    name: str  # for people: "arXiv"
    suffix: str | None  # after the last '@' of its public ids ("ACL"); None: bare ids
    pace: Pace  # the pace of its host(s); every request to them goes through it
    homepage: str  # its front page, which every page's footer links as where metadata is from
    credit: str | None  # the thanks its terms ask for, said after its name there; None: none
    category_scheme: str | None  # the `scheme` of its categories in Atom feeds; None: none

    def parse_id(self, text: str) -> SourceId:
        """An id in any form the source accepts (its public id, URLs of its pages, ...);
        BadId for anything else."""
        ...

    def format_id(self, local: str, version: int | str | None = None) -> str:
        """The public id of a local id (and version): the inverse of `parse_id`."""
        ...

    def links(self, paper: Paper) -> Links:
        """The paper's page, PDF and HTML at the source (at its stored version)."""
        ...

    def id_links(self, local: str, version: int | str | None = None) -> Links:
        """The links of an id with no Paper at hand: ids not found (a 404 links them at the
        source), a version other than the stored one (a reader asked for v1)."""
        ...

    def cite(self, local: str, version: int | str | None = None) -> str:
        """How the source names an id in running text: `arXiv:2309.16354v2`."""
        ...

    def author_url(self, name: str) -> str | None:
        """The source's list of an author's papers (cards link author names to it); None when
        it has none."""
        ...

    def approx_published(self, paper: Paper) -> datetime | None:
        """For a paper with no `published` (arXiv's daily files carry none): a stand-in that
        sorts it among dated papers (the reader's "publish time" sort), if its id or fields
        tell one (naive UTC, like `published`); None otherwise."""
        ...

    def bibtex(self, paper: Paper) -> str:
        """A BibTeX entry for the paper, as the source itself would export it."""
        ...

    def fetcher(self, store: Store, settings: Settings) -> Fetcher | None:
        """How pages fetch papers the store lacks; None when this source cannot."""
        ...

    def listings(self, store: Store) -> Listings[Any] | None:
        """How the source lists its papers (store/listings.py: arXiv's days, a venue's
        editions), read by listing pages and feeds; None when it lists none."""
        ...
