"""Snippets made in Python (search/snippets.py) and how a page shows them (web/render.marked):
the query's words marked as the text index stems them, the best window of an abstract with
ellipses where it is cut, formulas never cut nor marked inside, the text between words kept
exactly, and markers always balanced and escaped. On the shipped real sample and on texts
made to hit the edges."""

from __future__ import annotations

import gzip
import json
import re

import pytest
from lxml import html

from coolpapers.search import snippets, textindex
from coolpapers.search.keyword import MARK_END, MARK_START
from coolpapers.search.query import parse
from coolpapers.web.render import marked
from tests.conftest import SAMPLE

STEM = textindex.analyzer().analyze
_MARK = re.compile(f"{MARK_START}(.*?){MARK_END}", re.S)


def snip(query: str, title: str, abstract: str) -> snippets.Snippet:
    return snippets.snippet(title, abstract, snippets.Wanted.of(parse(query), STEM), STEM)


def marks(s: str) -> list[str]:
    return _MARK.findall(s)


def plain(s: str) -> str:
    return s.replace(MARK_START, "").replace(MARK_END, "")


@pytest.fixture(scope="module")
def papers() -> list[dict[str, str]]:
    with gzip.open(SAMPLE / "2026-06-04.jsonl.gz", "rt") as f:
        return [json.loads(line) for line in f]


def test_every_form_of_a_word_is_marked_as_the_index_stems_it() -> None:
    s = snip(
        "transformer naive",
        "Transformers, a Transformer and transforming: NAÏVE naïvely, in transit",
        "The transformer is naive.",
    )
    # the plural, the capital, the accent and other endings match; "transit" is not one
    assert marks(s.title) == ["Transformers", "Transformer", "transforming", "NAÏVE", "naïvely"]
    # Porter2's irregular "ying": dying stems to die
    assert marks(snip("die", "", "Dying stars die").abstract) == ["Dying", "die"]
    assert marks(s.abstract) == ["transformer", "naive"]
    assert plain(s.abstract) == "The transformer is naive."  # short: whole, no ellipsis


def test_a_phrase_is_marked_where_its_words_are_together_only() -> None:
    s = snip('"linear attention" model', "Linear models of attention", "")
    assert marks(s.title) == ["models"]  # "linear" and "attention" apart: not the phrase
    s = snip('"linear attention" linear', "Cross linear attention, linear probes", "")
    # the phrase and its own word overlap: one mark over both, then the word alone
    assert marks(s.title) == ["linear attention", "linear"]


def test_fields_and_exclusions() -> None:
    title, abstract = "Graph networks", "We study graph networks for molecules."
    assert marks(snip("ti:graph", title, abstract).abstract) == []
    assert marks(snip("ti:graph", title, abstract).title) == ["Graph"]
    assert marks(snip("abs:graph", title, abstract).title) == []
    assert marks(snip("abs:graph", title, abstract).abstract) == ["graph"]
    assert marks(snip("au:graph", title, abstract).abstract) == []
    assert marks(snip("networks -molecules", title, abstract).abstract) == ["networks"]
    assert marks(snip("graph OR molecule", title, abstract).abstract) == ["graph", "molecules"]


def test_a_long_abstract_is_cut_to_its_best_window(papers: list[dict[str, str]]) -> None:
    # a real abstract of more than twice the window, and a word found once, in its middle
    long = next(p for p in papers if len(snippets._WORD.findall(p["summary"])) > 150)
    words = snippets._WORD.findall(long["summary"].lower())
    late = next(w for w in words[100:-60] if len(w) > 6 and w.isalpha() and words.count(w) == 1)
    s = snip(late, long["title"], long["summary"])
    assert s.abstract.startswith("…") and s.abstract.endswith("…")
    assert [m.lower() for m in marks(s.abstract)] == [late]
    assert snippets.WINDOW - 20 <= len(plain(s.abstract)) <= snippets.WINDOW + 2
    assert plain(s.abstract)[1:-1] in long["summary"]  # the text between words as written
    # no match: the first words, cut after them
    s = snip("zzzzqqq", long["title"], long["summary"])
    assert not marks(s.abstract) and not s.abstract.startswith("…")
    assert s.abstract.endswith("…") and long["summary"].startswith(s.abstract[:-1])


def test_the_window_holds_the_most_distinct_words() -> None:
    filler = " ".join(f"word{i:04d}" for i in range(60))
    text = f"alpha {filler}. Then alpha and beta together. {filler} beta beta beta."
    s = snip("alpha beta", "", text)
    # the window with both words wins over the start (one word) and the end (one, thrice),
    # and it starts at the sentence the first of them is in
    assert marks(s.abstract) == ["alpha", "beta"]
    assert plain(s.abstract).startswith("…Then alpha")


def test_formulas_are_never_cut_nor_marked_inside() -> None:
    text = (
        "We bound the entropy $H(X) = -\\sum_x p(x) \\log p(x)$ of every source "
        + " ".join(f"w{i}" for i in range(50))
        + " and the entropy again."
    )
    s = snip("entropy log", "", text)
    assert marks(s.abstract)[0] == "entropy"  # the word, not "log" in the formula
    assert "log" not in marks(s.abstract)
    body = s.abstract.rstrip("…")
    assert body.count("$") % 2 == 0  # the formula whole
    # a window that would start inside a formula starts before it
    formula = "$" + " + ".join(f"x_{i}" for i in range(30)) + "$"
    words = " ".join(f"w{i}" for i in range(60))
    text = f"{words} {formula} term " + " ".join(f"v{i}" for i in range(60))
    s = snip("term", "", text)
    assert marks(s.abstract) == ["term"]
    assert s.abstract.startswith("…" + formula)


def test_a_dollar_that_opens_no_formula_is_text(papers: list[dict[str, str]]) -> None:
    # a real abstract with "$61 billion": one $, no formula; words after it are marked
    p = next(p for p in papers if "$61 billion" in p["summary"])
    s = snip("classification", p["title"], p["summary"])
    assert "classification" in marks(s.abstract)


def test_the_sample_round_trips(papers: list[dict[str, str]]) -> None:
    """Every real title and abstract comes back exactly, marks aside; the analyzer and the
    word pattern split them alike; every mark is a word the query stems to."""
    wanted = {"model", "learn", "graph"}
    for p in papers:
        for text in (p["title"], p["summary"]):
            assert len(STEM(text)) == len(snippets._WORD.findall(text))
        s = snip("models learning graphs", p["title"], p["summary"])
        assert plain(s.title) == p["title"]
        assert plain(s.abstract).strip("…") in p["summary"]
        for m in marks(s.title) + marks(s.abstract):
            assert set(STEM(m)) <= wanted, m
        assert s.title.count(MARK_START) == s.title.count(MARK_END)


def test_marked_escapes_balances_and_typesets() -> None:
    got = str(marked(f"<b>x</b> & {MARK_START}word{MARK_END} $a<b$ {MARK_START}open"))
    tree = html.fragment_fromstring(got, create_parent="p")
    assert "<b>" not in got and "&amp;" in got
    assert [m.text for m in tree.iter("mark")] == ["word", "open"]  # closed at the end
    math = tree.find(".//span")
    assert math is not None and "math" in math.get("class", "") and math.text == "$a<b$"
    # a marker inside a formula (the SQL engines' snippets): dropped, the formula whole
    got = str(marked(f"{MARK_START}x $\\sum {MARK_START}y{MARK_END}$ z{MARK_END} w"))
    tree = html.fragment_fromstring(got, create_parent="p")
    assert [m.text_content() for m in tree.iter("mark")] == ["x "]
    assert tree.find(".//span").text == "$\\sum y$"  # type: ignore[union-attr]
    assert got.count("<mark>") == got.count("</mark>")
    # stray end markers do nothing
    assert str(marked(f"{MARK_END}a{MARK_END}")) == "a"


@pytest.mark.parametrize(
    "query",
    ["models learning graphs", "attention", '"language models" data', "a survey of the use"],
)
def test_ascii_candidates_find_what_stemming_every_word_finds(
    papers: list[dict[str, str]], query: str
) -> None:
    """An ASCII text's candidates are the words that begin with a stem's first letters; a
    text with another letter has every word stemmed. Both find the same matches."""
    wanted = snippets.Wanted.of(parse(query), STEM)
    found = 0
    for p in papers:
        text = p["summary"]
        if not text.isascii():
            continue
        fast = snippets._hits(text, wanted.abstract, STEM, [])
        every = snippets._hits(text + " é", wanted.abstract, STEM, [])  # not ASCII: every word
        assert fast == every, p["id"]
        found += len(fast)
    assert found > 50


@pytest.mark.parametrize(
    "text",
    [
        "",
        "no marks <i>at</i> & 'all' \"here\"",
        f"{MARK_START}a<b>{MARK_END} & {MARK_START}{MARK_END}{MARK_START}c'd\"{MARK_END}",
        f"x {MARK_START}word{MARK_END}{MARK_START}next{MARK_END} y",
    ],
)
def test_a_snippet_without_formulas_is_marked_as_one_with_them(text: str) -> None:
    """`marked` takes a short way through a text with no formula (escaped whole, markers
    replaced): the same markup as its general way, which a formula after it takes."""
    formula = ' <span class="math notranslate" translate="no">$x$</span>'
    assert str(marked(text)) + formula == str(marked(text + " $x$"))


def test_a_page_s_snippets_may_leave_titles_unmarked() -> None:
    """A search page shows the abstract's snippet only: its titles are not marked (the
    API's title_html is)."""
    wanted = snippets.Wanted.of(parse("transformer"), STEM)
    s = snippets.snippet("Transformers here", "A transformer.", wanted, STEM, titles=False)
    assert s.title == "Transformers here" and marks(s.abstract) == ["transformer"]
    assert marks(snippets.snippet("Transformers here", "", wanted, STEM).title) == ["Transformers"]


def test_stop_words_are_not_marked_unless_the_query_has_nothing_else() -> None:
    """A pasted title's "of", "the" and "for" match (the index ranks them) but are not
    marked: the snippet's window and marks are for the words that tell papers apart."""
    title = "The Geometry of Attention for Language Models"
    s = snip(title, title, "On the geometry of the attention of a model for a language.")
    assert marks(s.title) == ["Geometry", "Attention", "Language", "Models"]
    assert marks(s.abstract) == ["geometry", "attention", "model", "language"]
    # a phrase keeps its stop words; a query of stop words only marks them
    assert marks(snip('"state of the art"', "", "The state of the art of it.").abstract) == [
        "state of the art"
    ]
    assert marks(snip("to be or not to be", "", "Not to be: it is to be.").abstract) == [
        "Not",
        "to",
        "be",
        "to",
        "be",
    ]
