"""A card's markup (web/card_html.py), part by part: every branch a page can reach, with
hostile text in every field a source or an author writes. The demo's pages test the card as
readers get it (test_web*.py); these reach what the demo's sample does not (an "Also" line,
a placement after categories, a folded list of affiliations) and hold the escaping."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from lxml import html
from markupsafe import escape

from coolpapers.records import Kind, Paper
from coolpapers.web import render
from coolpapers.web.app import CardLinks, make_env
from coolpapers.web.venue import Author, CardVenue

EVIL = '<script>alert("x")</script>&'


def _links(p: Paper, want: int | str | None = None, **venue: object) -> CardLinks:
    v = CardVenue(
        placements=venue.get("placements", []),  # type: ignore[arg-type]
        also=venue.get("also", []),  # type: ignore[arg-type]
        affiliations=venue.get("affiliations", []),  # type: ignore[arg-type]
        authors=[Author(a, f"https://src.example/a?q={a}&x=1", EVIL, 1) for a in p.authors],
    )
    return CardLinks(
        page=f"https://src.example/{p.id}?v={want}&x=1",
        pdf=f"https://src.example/{p.id}.pdf?a=1&b=2",
        html=None,
        cite=f"Src:{p.id}",
        host="src.example",
        time=None,
        shown=v.authors[:2],
        hidden=v.authors[2:],
        path=f"/venue/{p.id}",
        venue=v,
    )


def _card(p: Paper, *args: object, **venue: object) -> str:
    env = make_env()
    env.globals["card_links"] = lambda p, want=None: _links(p, want, **venue)
    return str(env.globals["card_body"](p, *args))


def _paper(**kw: object) -> Paper:
    base: dict[str, object] = {
        "id": "2024.x-1@Conf",
        "title": f"A $x<y$ title {EVIL}",
        "abstract": f"First {EVIL} https://ex.org/a?b=1&c=2.\n\nSecond $a&b$.",
        "authors": [f"A {EVIL}", "B B", "C C"],
        "categories": ["cs.CL"],
        "comments": f"Code: https://github.com/x/y {EVIL}",
        "journal_ref": f"J {EVIL}",
        "doi": "10.1/x&y",
        "version": 2,
        "published": datetime(2024, 5, 1, 12, 30, 5),
        "updated": datetime(2024, 6, 2, 8, 0),
    }
    return Paper(**{**base, **kw})  # type: ignore[arg-type]


def test_no_field_reaches_the_page_unescaped() -> None:
    card = _card(_paper(), 3, date(2024, 6, 3), Kind.REPLACE, 1, EVIL)
    assert "<script" not in card and "&lt;script&gt;" in card
    doc = html.fragment_fromstring(card)
    assert doc.get("id") == "2024.x-1@Conf" and doc.get("data-status") == EVIL
    assert doc.get("data-page") == "https://src.example/2024.x-1@Conf?v=1&x=1"
    assert doc.get("data-kind") == "replace"
    # the formula is the typesetter's, whole, its "<" escaped; the URL a link, "&" escaped
    assert '<span class="math notranslate" translate="no">$x&lt;y$</span>' in card
    assert 'href="https://ex.org/a?b=1&amp;c=2" rel="nofollow noopener"' in card
    assert doc.xpath("string(.//span[@class='venue-status'])") == EVIL
    pdf = doc.xpath(".//a[@class='title-pdf notranslate']")[0]
    assert pdf.get("data") == "https://src.example/2024.x-1@Conf.pdf?a=1&b=2"
    assert pdf.get("onclick").startswith("togglePdf('2024.x-1@Conf', 'https://src.example/")


def test_the_parts_come_in_papers_cool_s_order() -> None:
    card = _card(_paper(), 3, date(2024, 6, 3), Kind.REPLACE_CROSS, 1, "Oral")
    doc = html.fragment_fromstring(card)
    assert [c.tag for c in doc] == ["h2", "p", "p", "details", "p", "p", "p", "p", "p", "p"]
    classes = [c.get("class") for c in doc]
    assert classes == [
        "title",
        "notice version-note",  # v1 asked for, v2 here
        "metainfo authors notranslate",
        "more-authors",  # the third author, folded
        "summary",
        "metainfo subjects",
        "metainfo comments",
        "metainfo journal",
        "metainfo date",
        "metainfo versions",
    ]
    assert doc[0].xpath("string(a[@class='index notranslate'])") == "#3"
    assert doc.xpath("string(.//p[@class='metainfo date'])") == "Publish: 2024-05-01 12:30:05 UTC"
    assert doc.xpath("string(.//p[@class='metainfo versions'])") == (
        "Updated: 2024-06-02 08:00 UTC · Announced: 2024-06-03 · v2 · "
        "Replaced (cross-list from cs.CL)"
    )
    assert "Journal" in doc.xpath("string(.//p[@class='metainfo journal'])")
    assert '<a href="https://doi.org/10.1/x&amp;y" rel="noopener">doi:10.1/x&amp;y</a>' in card


def test_venue_parts_placements_other_versions_and_many_affiliations() -> None:
    affs = [f"Univ {i} {EVIL}" for i in range(9)]
    venue = {
        "placements": [("ACL.2024 - Long", "/venue/ACL.2024?group=long"), ("X.2024", "/v/x")],
        "also": [("arXiv:2401.00001", "/arxiv/2401.00001"), ("ACL.2024", "/venue/y@ACL")],
        "affiliations": affs,
    }
    card = _card(_paper(categories=[]), 1, **venue)
    doc = html.fragment_fromstring(card)
    subjects = doc.xpath(".//p[@class='metainfo subjects']")[0]
    links = subjects.xpath("a")
    assert [a.get("class") for a in links] == ["venue primary", "venue"]
    assert links[0].get("href") == "/venue/ACL.2024?group=long"
    assert subjects.text_content() == "Subjects:\nACL.2024 - Long; X.2024"
    also = doc.xpath(".//p[@class='metainfo also']/a")
    assert [(a.text, a.get("href")) for a in also] == [
        ("arXiv:2401.00001", "/arxiv/2401.00001"),
        ("ACL.2024", "/venue/y@ACL"),
    ]
    folded = doc.xpath(".//details[@class='metainfo affiliations']")[0]
    assert folded.xpath("string(summary)") == "9 affiliations"
    assert folded.xpath("span[@class='affiliation']/text()") == affs
    assert folded.xpath("sup[@class='aff']/text()") == [str(i) for i in range(1, 10)]
    assert "Published in" in doc.xpath("string(.//p[@class='metainfo journal'])")
    # placements after an arXiv paper's categories: none of them primary
    doc = html.fragment_fromstring(_card(_paper(), 1, **venue))
    subjects = doc.xpath(".//p[@class='metainfo subjects']")[0]
    assert [a.get("class") for a in subjects.xpath("a")] == ["subject-1 primary", "venue", "venue"]
    assert subjects.text_content().endswith("(cs.CL); ACL.2024 - Long; X.2024")


def test_a_bare_card_has_no_empty_parts() -> None:
    p = Paper(id="2401.00001", title="T", abstract="", authors=[], categories=["cs.CL"])
    doc = html.fragment_fromstring(_card(p, 1))
    assert [c.get("class") for c in doc] == [
        "title",
        "summary",
        "metainfo subjects",
        "metainfo date",
    ]
    assert doc.xpath(".//p[@class='metainfo date']/span[@class='date-data']")
    # an announcement day without a publish time: the day, arXiv's hour hidden for clients
    doc = html.fragment_fromstring(_card(p, 1, date(2026, 1, 5)))
    assert doc.xpath("string(.//p[@class='metainfo date'])") == (
        "Announced: 2026-01-05 01:00:00 UTC"
    )
    assert doc.xpath(".//span[@class='date-clock']")[0].get("hidden") is not None


@pytest.mark.parametrize(
    "text",
    ["", "plain", "<script>alert('x')</script>", 'a "quoted" & <b>bold</b>', "é ∑ \x00 \ud7ff"],
)
def test_esc_is_markupsafe_escape_as_a_str(text: str) -> None:
    """render.esc (the card's escape) writes what markupsafe.escape does, C or Python."""
    want = str(escape(text))
    for fn in (render.esc, render._escape_py):
        got = fn(text)
        assert got == want
        assert type(got) is str  # no Markup: its __new__ was the cost
