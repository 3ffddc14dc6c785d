"""The search page's structure (issue 14 §3): an h1 for screen readers as on every page, and its
styles in style.css rather than a <style> block of its own."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from lxml import html

from coolpapers.config import Settings
from coolpapers.store import Store
from coolpapers.web.app import create_app

STATIC = Path(__file__).resolve().parents[1] / "src" / "coolpapers" / "web" / "static"


def test_search_page_has_an_h1_and_no_style_block(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'p.db'}")
    settings = Settings(database_url="sqlite://", fetch_on_demand=False, search_semantic=False)
    client = TestClient(create_app(settings, store))
    for url, h1 in (
        ("/search", "Search"),
        ("/arxiv/search?query=model+collapse", "Search results for model collapse"),
        ("/venue/search", "Search"),
    ):
        r = client.get(url)
        assert r.status_code == 200, url
        doc = html.fromstring(r.text)
        heads = doc.xpath("//h1")
        assert len(heads) == 1 and heads[0].text_content().startswith(h1), url
        assert "visually-hidden" in heads[0].get("class", "").split()
        assert not doc.xpath("//style"), url  # the page's rules live in style.css
    css = (STATIC / "style.css").read_text()
    assert ".match-similar {" in css and ".search-warnings p {" in css
