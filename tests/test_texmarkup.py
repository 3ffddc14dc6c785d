"""TeX in arXiv metadata: accents become Unicode outside math; math spans are kept apart."""

from __future__ import annotations

import json
import unicodedata

import pytest

from coolpapers.texmarkup import accents_to_unicode, oneline, split_math, unwrap
from tests.conftest import shared


@pytest.mark.parametrize(
    ("tex", "expected"),
    [
        ('Schr\\"odinger', "Schrödinger"),
        ('Schr\\"{o}dinger', "Schrödinger"),
        ("C. Bal\\'azs", "C. Balázs"),
        ("\\c{C}a\\u{g}lar", "Çağlar"),
        ("\\c C", "Ç"),
        ('M{\\"u}ller', "Müller"),
        ('M\\"{u}ller', "Müller"),
        ('{\\"U}ber', "Über"),
        ("Gro\\ss", "Groß"),
        ("Gro\\ss e", "Große"),  # a bare control word swallows the space after it
        ("Gro\\ss{}e", "Große"),
        ("Erd\\H{o}s", "Erdős"),
        ("Vina\\v{r}, Tom\\'a\\v{s}", "Vinař, Tomáš"),
        ("\\v s", "š"),
        ("\\v{S}r\\'amek", "Šrámek"),
        ('na\\"{\\i}ve', "naïve"),
        ("Yndur\\'ain and \\'{\\i}", "Ynduráin and í"),
        ("Tom\\`as", "Tomàs"),
        ("\\^{o}t\\'e", "ôté"),
        ("Espa\\~na", "España"),
        ("\\=a\\.z", "āż"),
        ("\\k{a}\\r{a}", "ąå"),
        ("Petojevi\\' c", "Petojević"),  # real abstract (0704.0068): space after the accent
        ("Bj\\o rn", "Bjørn"),
        ("Bj{\\o}rn", "Bjørn"),
        ("{\\O}ksendal", "Øksendal"),
        ('{\\AA}ngstr\\"om', "Ångström"),
        ("\\aa\\ae\\oe", "åæœ"),
        ("\\L{}ukasz, \\l", "Łukasz, ł"),
    ],
)
def test_accents_to_unicode(tex: str, expected: str) -> None:
    out = accents_to_unicode(tex)
    assert out == expected
    assert unicodedata.is_normalized("NFC", out)


def test_braced_letters_keep_the_following_space() -> None:
    # `{\ss}` is closed by its brace: the space after it is a real word break
    assert accents_to_unicode("Strau{\\ss} and Weiss") == "Strauß and Weiss"
    assert accents_to_unicode("Gau{\\ss} sums") == "Gauß sums"
    assert accents_to_unicode("{\\o} x") == "ø x"


def test_braces_are_only_consumed_in_pairs() -> None:
    # a '{' that opens an argument is not part of the accent group
    assert accents_to_unicode('\\emph{\\"Uber} alles') == "\\emph{Über} alles"
    assert accents_to_unicode("\\textit{\\ss ome}") == "\\textit{ßome}"
    assert accents_to_unicode('{\\"o}') == "ö"
    assert accents_to_unicode('{\\"{o}}') == "ö"


@pytest.mark.parametrize(
    "text",
    [
        "plain text, no TeX at all",
        "\\cite{hajac} and \\cal{O}(n) and \\bar\\theta",
        "\\vec{v}, \\kappa, \\rsun, \\delta, \\underline{x}, \\Lambda, \\omega",
        "{\\bf 98}, 227",
        "",
    ],
)
def test_other_commands_are_left_alone(text: str) -> None:
    assert accents_to_unicode(text) == text


def test_nothing_changes_inside_math() -> None:
    text = 'G\\"odel: $\\"o + \\\'e$, \\(\\v{s}\\), $$\\H{o}\\ss$$, \\[\\c{c}\\] and Erd\\H{o}s'
    assert accents_to_unicode(text) == (
        "Gödel: $\\\"o + \\'e$, \\(\\v{s}\\), $$\\H{o}\\ss$$, \\[\\c{c}\\] and Erdős"
    )


def test_escaped_dollar_is_not_math() -> None:
    assert accents_to_unicode('costs \\$5 for Schr\\"odinger \\$') == (
        "costs \\$5 for Schrödinger \\$"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a $x$ b", [("a ", False), ("$x$", True), (" b", False)]),
        ("$x^2$", [("$x^2$", True)]),
        ("$$\\sum_i x_i$$ end", [("$$\\sum_i x_i$$", True), (" end", False)]),
        ("if \\(a<b\\) then", [("if ", False), ("\\(a<b\\)", True), (" then", False)]),
        ("see \\[E=mc^2\\]", [("see ", False), ("\\[E=mc^2\\]", True)]),
        ("costs \\$5 and \\$10", [("costs \\$5 and \\$10", False)]),
        ("\\$5 and $x$", [("\\$5 and ", False), ("$x$", True)]),
        ("$a \\$ b$", [("$a \\$ b$", True)]),  # an escaped $ inside math does not close it
        ("$a$$b$", [("$a$", True), ("$b$", True)]),
        ("$x$ and $y$", [("$x$", True), (" and ", False), ("$y$", True)]),
        ("over\n$x +\n y$ lines", [("over\n", False), ("$x +\n y$", True), (" lines", False)]),
        ("an unclosed $x", [("an unclosed $x", False)]),
        ("", []),
    ],
)
def test_split_math(text: str, expected: list[tuple[str, bool]]) -> None:
    parts = split_math(text)
    assert parts == expected
    assert "".join(p for p, _ in parts) == text


def test_split_math_round_trips_real_abstracts() -> None:
    """Real abstracts, including one with an unbalanced $ (0704.0106), split losslessly."""
    path = shared("data", "kaggle-arxiv-metadata-oai-snapshot-sample.jsonl")
    math_spans = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        abstract = json.loads(line)["abstract"]
        parts = split_math(abstract)
        assert "".join(p for p, _ in parts) == abstract
        for seg, is_math in parts:
            if is_math:
                math_spans += 1
                assert seg[0] in "$\\" and seg[-1] in "$)]"
        # conversion keeps every math span byte for byte
        converted = accents_to_unicode(abstract)
        assert [p for p, m in split_math(converted) if m] == [p for p, m in parts if m]
    assert math_spans > 50


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("one line", "one line"),
        ("a hard-wrapped\nabstract that\ngoes on", "a hard-wrapped abstract that goes on"),
        ("  leading and trailing  \n", "leading and trailing"),
        ("many    spaces\tand\ttabs", "many spaces and tabs"),
        ("first para\nwrapped\n\nsecond para", "first para wrapped\n\nsecond para"),
        ("first para\n \n\n  second", "first para\n\nsecond"),
        # arXiv (Kaggle/OAI) marks a new paragraph by indenting its first line
        ("first para ends.\n  Second para\nwrapped.", "first para ends.\n\nSecond para wrapped."),
        ("", ""),
        ("\n\n", ""),
    ],
)
def test_unwrap(text: str, expected: str) -> None:
    assert unwrap(text) == expected


def test_unwrap_real_kaggle_abstract() -> None:
    path = shared("data", "kaggle-arxiv-metadata-oai-snapshot-sample.jsonl")
    first = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    out = unwrap(first["abstract"])
    assert "\n" not in out
    assert out.startswith(
        "A fully differential calculation in perturbative quantum chromodynamics is"
    )
    assert out.endswith("judicious selection of events.")
    assert "is presented for" in out  # the line break became one space


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a Kaggle title: wrapped with an indented continuation line, which is no paragraph
        (
            "Calculation of prompt diphoton production cross sections at Tevatron and\n"
            "  LHC energies",
            "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies",
        ),
        ("  A\n\nB  ", "A B"),
        ("", ""),
    ],
)
def test_oneline(text: str, expected: str) -> None:
    assert oneline(text) == expected


def test_a_text_without_delimiters_is_one_plain_segment() -> None:
    """(the short way of split_math: no "$" and no backslash, no formula)"""
    assert split_math("") == []
    assert split_math("plain <text> & 100% of it") == [("plain <text> & 100% of it", False)]
    assert split_math("costs $5") == [("costs $5", False)]  # an opener without a closer
