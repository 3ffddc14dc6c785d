"""Features: the built-in ones in one tuple, each adding routes and card parts to a site."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter
from fastapi.testclient import TestClient
from lxml import html
from markupsafe import Markup, escape

from coolpapers.config import Settings
from coolpapers.records import Batch, Paper
from coolpapers.store import Store
from coolpapers.web import feature
from coolpapers.web.app import Site, create_app

PID = "2401.00001"


def test_built_in_features_in_order() -> None:
    assert [f.name for f in feature.builtin()] == ["faq", "texts", "search", "api"]


class Stars:
    """An outside feature: a route under /arxiv/ and one of each card part."""

    name = "stars"

    def __init__(self) -> None:
        self.prefetched: list[list[str]] = []

    def build(self, site: Site) -> feature.Parts:
        r = APIRouter()

        @r.get("/arxiv/stars")
        def stars() -> dict[str, int]:
            return {"papers": site.store.count_papers()}

        def prefetch(papers: Sequence[Paper]) -> None:
            self.prefetched.append([p.id for p in papers])

        return feature.Parts(
            r,
            card_buttons=[lambda p: Markup('<a class="star">[★]</a>')],
            card_panels=[lambda p: Markup('<div class="stars"></div>')],
            card_attrs=[lambda p: Markup(' data-star="') + escape(p.id) + Markup('"')],
            prefetch=prefetch,
        )


def test_a_feature_adds_routes_and_card_parts(sqlite_store: Store) -> None:
    sqlite_store.write(Batch(papers=[Paper(PID, "T", "A.", ["A. B"], ["cs.CL"])]))
    stars = Stars()
    settings = Settings(_env_file=None, database_url="sqlite://", fetch_on_demand=False)  # type: ignore[call-arg]
    c = TestClient(create_app(settings, sqlite_store, features=[stars]))
    assert c.get("/arxiv/stars").json() == {"papers": 1}  # before the /arxiv/{path} catch-all
    card = html.fromstring(c.get(f"/arxiv/{PID}").text).xpath(f"//div[@id='{PID}']")[0]
    assert card.get("data-star") == PID
    assert card.xpath(".//a[@class='star']") and card.xpath(".//div[@class='stars']")
    assert stars.prefetched == [[PID]]
    assert c.get("/arxiv/search").status_code == 404  # only the features given
