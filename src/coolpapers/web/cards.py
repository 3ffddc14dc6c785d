"""A paper's card, rendered once per data generation and kept (issue 15).

A card's HTML is the same for every page that shows the paper with the same day, kind,
version asked for and status, until the store's data changes: its title and abstract
through the TeX and paragraph filters, its links, authors, affiliations and placements.
Rendering them took 6.3 ms of a search page of 25 (1.4 ms with its cards kept: `bench/
search_http.py profile`, 70k papers) and most of a new category set's listing. Kept, a card
costs a dict lookup and a join.

What does change from page to page stays live: the card's number on the page and the card
parts a feature declares per page (`feature.Parts.per_page`: a search's "similar" label,
its snippet, how the card matched). While a card is rendered to be kept, each of those
writes a slot marker instead (an HTML comment, which no escaped paper text can contain:
its `<` is `&lt;`), and every page fills the slots for its own request.

Freshness is the page cache's: a kept card is of one store generation (PageCache.generation,
checked at most once per its ttl), and the paper's own text is in the key too, so a paper
shown before it is stored (fetched from its source on demand) never reuses an older text.
The cache is bounded in bytes, least recently used first out.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from contextvars import ContextVar
from datetime import date
from typing import Any

from markupsafe import Markup

from coolpapers.records import Paper
from coolpapers.web.feature import CardPart

_SLOT = "<!--cp-slot:{}-->"
_SLOTS = re.compile(r"<!--cp-slot:(n|\d+)-->")
_NUMBER = Markup(_SLOT.format("n"))
# True while a card is rendered to be kept: per-page parts write their slot then.
_keeping: ContextVar[bool] = ContextVar("cards_keeping", default=False)

# One card: its HTML between slots; a slot is "n" (the card's number) or a per-page part's
# index in Cards.live.
Pieces = tuple[str | int, ...]


class Cards:
    """The `card` the templates call: `card(p, n, day, kind, want, status)`."""

    def __init__(
        self,
        body: Callable[[], Callable[..., Any]],
        generation: Callable[[], str],
        max_bytes: int,
    ) -> None:
        self._body = body  # the uncached card (web/card_html.CardBody), found on first use
        self._generation = generation
        self.max_bytes = max_bytes
        self.bytes = 0
        self.rendered = 0  # cards rendered, not found kept (for tests and diagnosis)
        self.live: list[CardPart] = []
        self._kept: OrderedDict[tuple[Any, ...], tuple[str, Pieces, int]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._kept)

    def per_page(self, part: CardPart) -> CardPart:
        """`part` as the card template calls it: a slot in a kept card, filled by calling
        `part` for each page that shows the card."""
        k = len(self.live)
        self.live.append(part)
        slot = Markup(_SLOT.format(k))

        def slotted(p: Paper) -> Markup:
            return slot if _keeping.get() else part(p)

        return slotted

    def __call__(
        self,
        p: Paper,
        n: int,
        day: date | None = None,
        kind: Any = None,
        want: int | str | None = None,
        status: str = "",
    ) -> Markup:
        # the text is in the key, not only the id: a paper fetched on demand is shown before
        # it is stored (no new generation), and its source may have changed it since
        key = (p.id, p.version, p.updated, hash(p.title), hash(p.abstract), day, kind, want, status)
        gen = self._generation()
        pieces = self._get(key, gen)
        if pieces is None:
            pieces = self._render(p, day, kind, want, status)
            self._put(key, gen, pieces)
        out: list[str] = []
        for piece in pieces:
            if isinstance(piece, str):
                out.append(piece)
            elif piece < 0:
                out.append(str(n))
            else:
                out.append(self.live[piece](p))
        return Markup("".join(out))

    def _render(
        self, p: Paper, day: date | None, kind: Any, want: int | str | None, status: str
    ) -> Pieces:
        self.rendered += 1
        token = _keeping.set(True)
        try:
            html = str(self._body()(p, _NUMBER, day, kind, want, status))
        finally:
            _keeping.reset(token)
        split = _SLOTS.split(html)  # text, slot, text, slot, ..., text
        pieces: list[str | int] = []
        for i, s in enumerate(split):
            if i % 2 == 0:
                if s:
                    pieces.append(s)
            else:
                pieces.append(-1 if s == "n" else int(s))
        return tuple(pieces)

    def _get(self, key: tuple[Any, ...], gen: str) -> Pieces | None:
        with self._lock:
            hit = self._kept.get(key)
            if hit is None:
                return None
            if hit[0] != gen:  # of older data: never served again, its bytes freed now
                self._drop(key)
                return None
            self._kept.move_to_end(key)
            return hit[1]

    def _put(self, key: tuple[Any, ...], gen: str, pieces: Pieces) -> None:
        size = sum(len(s) for s in pieces if isinstance(s, str))
        if size > self.max_bytes:
            return
        with self._lock:
            if key in self._kept:
                self._drop(key)
            self._kept[key] = (gen, pieces, size)
            self.bytes += size
            while self.bytes > self.max_bytes:
                self._drop(next(iter(self._kept)))

    def _drop(self, key: tuple[Any, ...]) -> None:
        self.bytes -= self._kept.pop(key)[2]
