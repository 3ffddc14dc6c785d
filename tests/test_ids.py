"""arXiv identifiers: every written form parses to one canonical id; anything else is BadId."""

from __future__ import annotations

import re

import pytest

from coolpapers.sources.arxiv.ids import PATTERN, ArxivId, BadId, parse, split_version


@pytest.mark.parametrize(
    ("text", "expected_id", "expected_version"),
    [
        # new style, 5 digits (2015-)
        ("2309.16354", "2309.16354", None),
        ("2309.16354v2", "2309.16354", 2),
        ("2309.16354v12", "2309.16354", 12),
        ("1501.00001", "1501.00001", None),
        # new style, 4 digits (2007-2014)
        ("1406.2661", "1406.2661", None),
        ("1406.2661v1", "1406.2661", 1),
        ("0704.0001", "0704.0001", None),  # the very first new-style id
        ("1412.9999", "1412.9999", None),
        # a 4-digit-era id written with 5 digits is normalised
        ("1406.02661", "1406.2661", None),
        ("1406.02661v3", "1406.2661", 3),
        # old style
        ("hep-th/9901001", "hep-th/9901001", None),
        ("hep-th/9901001v2", "hep-th/9901001", 2),
        # with a subject class, as in old arxiv.org URLs: the class is not part of the id
        ("math.GT/0309136", "math/0309136", None),
        ("math.GT/0309136v1", "math/0309136", 1),
        ("math/0309136", "math/0309136", None),
        ("cs.AI/0101001", "cs/0101001", None),
        ("cond-mat/0207270", "cond-mat/0207270", None),
        # arXiv: prefixes, any case, surrounding whitespace
        ("arXiv:2309.16354", "2309.16354", None),
        ("arxiv:2309.16354v2", "2309.16354", 2),
        ("ARXIV:1406.02661", "1406.2661", None),
        ("arXiv:hep-th/9901001", "hep-th/9901001", None),
        ("  2309.16354v2\n", "2309.16354", 2),
        # arxiv.org URLs: abs, pdf (with and without .pdf), html, export/www hosts, no scheme
        ("https://arxiv.org/abs/2309.16354", "2309.16354", None),
        ("https://arxiv.org/abs/2309.16354v2", "2309.16354", 2),
        ("http://arxiv.org/abs/2309.16354/", "2309.16354", None),
        ("https://arxiv.org/pdf/2309.16354", "2309.16354", None),
        ("https://arxiv.org/pdf/2309.16354v2", "2309.16354", 2),
        ("https://arxiv.org/pdf/2309.16354v2.pdf", "2309.16354", 2),
        ("https://arxiv.org/html/2309.16354v1", "2309.16354", 1),
        ("https://export.arxiv.org/abs/hep-th/9901001", "hep-th/9901001", None),
        ("https://www.arxiv.org/abs/math.GT/0309136v1", "math/0309136", 1),
        ("https://arxiv.org/abs/math.GT/0309136", "math/0309136", None),
        ("arxiv.org/abs/1406.02661", "1406.2661", None),
        ("https://arxiv.org/pdf/hep-th/9901001v1.pdf", "hep-th/9901001", 1),
        # arXiv writes its own name "arXiv.org"; hosts are case-insensitive
        ("https://arXiv.org/abs/2309.16354", "2309.16354", None),
    ],
)
def test_parse_accepted_forms(text: str, expected_id: str, expected_version: int | None) -> None:
    aid = parse(text)
    assert aid == ArxivId(expected_id, expected_version)


@pytest.mark.parametrize(
    "text",
    [
        "2309.1635",  # 4 digits after 2015
        "2309.163541",  # 6 digits
        "1513.12345",  # month 13
        "1500.12345",  # month 0
        "1406.12661",  # 5 digits in the 4-digit era that are not a zero-padded form
        "0612.1234",  # new-style ids start in April 2007
        "abc",
        "",
        "   ",
        "arXiv:",
        "2309.16354v",  # version marker without a number
        "2309.16354v2v3",
        "2309-16354",
        "hep-th/990100",  # old style has 7 digits
        "hep-th/99010011",
        "hep-th/9913001",  # old style, month 13
        "HEP-TH/9901001",  # archives are lower case
        "math.gt/0309136",  # subject classes are upper case
        "math.GTX/0309136",  # ... and two letters
        "math.GT/030913",
        "https://arxiv.org/abs/",
        "https://example.org/abs/2309.16354",
        "https://arxiv.org/list/cs.CV/new",
    ],
)
def test_parse_rejects_malformed(text: str) -> None:
    with pytest.raises(BadId):
        parse(text)


def test_bad_id_is_a_value_error_and_names_the_input() -> None:
    with pytest.raises(ValueError, match=r"1513\.12345"):
        parse("1513.12345")


@pytest.mark.parametrize(
    "text",
    ["2309.16354", "2309.16354v2", "1406.2661v1", "hep-th/9901001v3", "math/0309136"],
)
def test_str_round_trips(text: str) -> None:
    aid = parse(text)
    assert str(aid) == text
    assert parse(str(aid)) == aid


def test_normalised_forms_print_canonically() -> None:
    assert str(parse("https://arxiv.org/pdf/1406.02661v3.pdf")) == "1406.2661v3"
    assert str(parse("arXiv:2309.16354")) == "2309.16354"
    assert str(parse("math.GT/0309136v2")) == "math/0309136v2"


def test_arxiv_id_is_hashable_and_frozen() -> None:
    a, b = parse("2309.16354v2"), parse("arXiv:2309.16354v2")
    assert {a, b} == {a}
    with pytest.raises(AttributeError):
        a.version = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2309.16354v2", ("2309.16354", 2)),
        ("2309.16354", ("2309.16354", None)),
        ("hep-th/9901001v10", ("hep-th/9901001", 10)),
        ("solv-int/9901001", ("solv-int/9901001", None)),  # a 'v' inside the archive name
        (" 1406.2661v1 ", ("1406.2661", 1)),
    ],
)
def test_split_version(text: str, expected: tuple[str, int | None]) -> None:
    assert split_version(text) == expected


@pytest.mark.parametrize(
    "text",
    ["2309.16354", "2309.16354v2", "1406.2661", "1406.02661v3", "hep-th/9901001v2",
     "math.GT/0309136", "cond-mat/0207270", "9999.99999", "foo-bar/1234567"],
)  # fmt: skip
def test_pattern_has_the_shape_parse_reads(text: str) -> None:
    # PATTERN (the web's path convertor) and parse's patterns are built from the same pieces;
    # PATTERN takes the shape only, so ids with an impossible month still reach parse's message
    assert re.fullmatch(PATTERN, text)
    assert re.compile(PATTERN).groups == 0


@pytest.mark.parametrize("text", ["2309.163", "cs.AI", "hep-th/99010", "math.gt/0309136", "x"])
def test_pattern_refuses_what_is_not_shaped_like_an_id(text: str) -> None:
    assert not re.fullmatch(PATTERN, text)
