"""What an optional feature adds to the site: its routes and its parts of every card.

As datasette names its default plugins in one tuple, the built-in features are named in
`DEFAULT_FEATURES`: modules exposing `FEATURE`, a `Feature`. `create_app` builds each for its
`Site` and `install`s what it returns: the routes (before the /arxiv/{path} catch-all, so
that /arxiv/kimi and /arxiv/search reach them) and the card additions, which the card
template reads from its globals (`card_buttons`, `card_panels`, `card_attrs`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, Protocol

from fastapi import APIRouter, FastAPI
from markupsafe import Markup

from coolpapers.records import Paper

if TYPE_CHECKING:  # app.py imports this module: only the type checker may import it back
    from coolpapers.web.app import Site

# Something a feature adds to each card: a button, a panel, or attributes of div.paper.
CardPart = Callable[[Paper], Markup]
# Looks up what the card parts need for a whole page at once (not a query per card).
Prefetch = Callable[[Sequence[Paper]], None]

# In order: their buttons and panels appear on cards in this order; a route of an earlier
# feature wins over a later one's (the FAQ's /api/papers/{id}/faq over the API's {id:path}).
DEFAULT_FEATURES: tuple[str, ...] = (
    "coolpapers.web.faq",
    "coolpapers.web.texts",  # TL;DRs and translations, on the FAQ's queue
    "coolpapers.web.search",
    "coolpapers.web.api",  # reader tools: the JSON API, the Atom feed of ids
)


@dataclass(frozen=True, slots=True)
class Parts:
    """What one feature adds to one site."""

    routes: APIRouter
    card_buttons: Sequence[CardPart] = ()
    card_panels: Sequence[CardPart] = ()
    card_attrs: Sequence[CardPart] = ()
    # Those of the parts above whose markup depends on the page, not only on the paper and
    # the store's data (a search's snippet): called for every page. The others are kept
    # with the card's HTML (web/cards.py) until the data changes.
    per_page: Sequence[CardPart] = ()
    prefetch: Prefetch | None = None


class Feature(Protocol):
    @property
    def name(self) -> str:
        """Short, lowercase: "faq"."""
        ...

    def build(self, site: Site) -> Parts:
        """Its routes and card parts for `site` (called once per site)."""
        ...


@dataclass(frozen=True, slots=True)
class Builtin:
    """A feature that is one function of the site."""

    name: str
    build: Callable[[Site], Parts]


def builtin() -> tuple[Feature, ...]:
    # Imported here, not at the top: the feature modules import the app's types and modules.
    return tuple(import_module(path).FEATURE for path in DEFAULT_FEATURES)


def install(app: FastAPI, site: Site, features: Sequence[Feature]) -> None:
    env = site.env.globals
    for f in features:
        parts = f.build(site)
        app.include_router(parts.routes)
        env["card_buttons"].extend(_live(site, parts, parts.card_buttons))
        env["card_panels"].extend(_live(site, parts, parts.card_panels))
        env["card_attrs"].extend(_live(site, parts, parts.card_attrs))
        if parts.prefetch is not None:
            site.prefetch.append(parts.prefetch)


def _live(site: Site, parts: Parts, ps: Sequence[CardPart]) -> list[CardPart]:
    """The parts as cards call them: a per-page one through the card cache's slots."""
    return [site.cards.per_page(part) if part in parts.per_page else part for part in ps]
