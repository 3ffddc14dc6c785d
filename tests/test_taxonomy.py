"""arXiv's taxonomy with aliases merged; category cleaning for real feeds."""

from __future__ import annotations

import csv
import gzip
import json
from importlib import resources

import pytest

from coolpapers.sources.arxiv import taxonomy
from coolpapers.sources.arxiv.taxonomy import (
    ALIASES,
    canonical,
    categories,
    clean_categories,
    expand,
    is_category,
    known,
    name,
)
from tests.conftest import shared

PAIRS = [
    ("cs.NA", "math.NA"),
    ("cs.SY", "eess.SY"),
    ("math.IT", "cs.IT"),
    ("math.MP", "math-ph"),
    ("q-fin.EC", "econ.GN"),
    ("stat.TH", "math.ST"),
]


def _table() -> list[dict[str, str]]:
    """The shipped table, read independently of the module under test."""
    text = resources.files("coolpapers.data").joinpath("arxiv-taxonomy.tsv").read_text("utf-8")
    return list(csv.DictReader(text.splitlines(), delimiter="\t"))


@pytest.mark.parametrize(("alias", "target"), PAIRS)
def test_aliases_map_to_canonical(alias: str, target: str) -> None:
    assert canonical(alias) == target
    assert canonical(target) == target
    assert known(alias) and known(target)
    assert name(alias) == name(target)
    assert alias not in categories()
    assert target in categories()


def test_alias_table_is_exactly_the_documented_one() -> None:
    assert dict(PAIRS) == ALIASES


def test_canonical_leaves_other_codes_alone() -> None:
    for code in ("cs.CV", "hep-th", "astro-ph.CO", "unknown.XX"):
        assert canonical(code) == code


def test_categories_cover_the_table_minus_aliases() -> None:
    rows = _table()
    assert len(rows) == 185
    expected = {r["category"] for r in rows} - set(ALIASES)
    assert set(categories()) == expected


def test_names_and_fields() -> None:
    assert name("cs.LG") == "Machine Learning"  # renamed since the table was exported
    assert name("cs.CV") == "Computer Vision and Pattern Recognition"
    assert name("cs.NA") == "Numerical Analysis"
    assert name("hep-th") == "High Energy Physics - Theory"
    assert name("no.SUCH") == "no.SUCH"  # unknown codes are shown as they are
    lg = categories()["cs.LG"]
    assert (lg.archive, lg.archive_name, lg.group, lg.group_name, lg.active) == (
        "cs",
        "Computer Science",
        "cs",
        "Computer Science",
        True,
    )
    assert categories()["cmp-lg"].active is False
    assert categories()["astro-ph.CO"].archive == "astro-ph"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["cs.CV", "cs.LG"], ["cs.CV", "cs.LG"]),
        (["cs.CV", "I.4", "68T45", "cs.LG"], ["cs.CV", "cs.LG"]),  # ACM / MSC codes dropped
        (["I.2.7", "cs.CL"], ["cs.CL"]),  # a dropped first code lets the next become primary
        (["cs.NA", "math.NA"], ["math.NA"]),  # duplicate after canonicalisation
        (["math.NA", "cs.NA", "cs.LG"], ["math.NA", "cs.LG"]),
        (["eess.SY", "cs.RO", "cs.SY"], ["eess.SY", "cs.RO"]),
        (["math.QA", "math-ph", "math.MP"], ["math.QA", "math-ph"]),
        (["quant-ph", "cs.IT", "math.IT"], ["quant-ph", "cs.IT"]),
        (["stat.TH", "math.ST", "stat.ML"], ["math.ST", "stat.ML"]),
        (["q-fin.EC", "econ.GN"], ["econ.GN"]),
        ([" cs.CV ", "cs.CV", ""], ["cs.CV"]),
        (["68T45", "I.4"], []),
        ([], []),
    ],
)
def test_clean_categories(raw: list[str], expected: list[str]) -> None:
    assert clean_categories(raw) == expected


@pytest.mark.parametrize("code", ["I.4", "I.2.10", "68T45", "F.2.2; I.2.7", "CS.CV", "cs CV", ""])
def test_non_arxiv_codes_are_not_categories(code: str) -> None:
    assert not is_category(code)


@pytest.mark.parametrize("code", ["cs.CV", "hep-th", "astro-ph.CO", "math-ph", "q-fin.EC"])
def test_arxiv_codes_are_categories(code: str) -> None:
    assert is_category(code)


def test_clean_categories_on_real_daily_lists() -> None:
    """Real daily lists carry ACM/MSC codes in ~2% of rows; all of them must go, and the
    first arXiv category of each row must stay primary."""
    path = shared("data", "arxiv-daily", "2025-03-18.jsonl.gz")
    with gzip.open(path) as f:
        rows = [json.loads(line) for line in f]
    with_codes = 0
    for row in rows:
        raw = row["categories"]
        cats = clean_categories(raw)
        assert cats, row["id"]
        assert all(known(c) for c in cats), (row["id"], cats)
        assert len(cats) == len(set(cats))
        first_arxiv = next(c for c in raw if is_category(c))
        assert cats[0] == canonical(first_arxiv)
        if any(not is_category(c) for c in raw):
            with_codes += 1
            assert not any(c in cats for c in raw if not is_category(c))
    assert with_codes > 0, "this file was chosen because it has ACM/MSC codes"


def test_expand_cs_gives_every_cs_category_aliases_merged() -> None:
    cs = expand("cs")
    table_cs = {r["category"] for r in _table() if r["archive"] == "cs" and r["category"] != "cs"}
    assert set(cs) == {canonical(c) for c in table_cs}
    assert len(cs) == len(set(cs))
    assert {"cs.LG", "cs.CV", "cs.CL", "cs.AI", "cs.IT"} <= set(cs)
    # cs.NA and cs.SY are aliases: a cs listing shows them under their canonical names
    assert {"math.NA", "eess.SY"} <= set(cs)
    assert "cs.NA" not in cs and "cs.SY" not in cs
    assert "cs" not in cs
    assert all(known(c) for c in cs)


def test_expand_other_archives() -> None:
    math = set(expand("math"))
    assert {"math.CO", "math.AG", "math.NA", "math.ST"} <= math
    assert {"cs.IT", "math-ph"} <= math  # math.IT, math.MP are aliases
    assert not math & set(ALIASES)
    assert "econ.GN" in expand("q-fin")
    assert "math.ST" in expand("stat")
    astro = expand("astro-ph")
    assert "astro-ph.CO" in astro and "astro-ph.GA" in astro
    # papers before 2009 carry the bare archive as their category
    assert all(c.startswith("astro-ph.") for c in astro if c != "astro-ph") and "astro-ph" in astro


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("cs.CV", ["cs.CV"]),
        ("hep-th", ["hep-th"]),  # an archive that is its own only category
        ("cs.NA", ["math.NA"]),
        ("math.MP", ["math-ph"]),
        ("no.SUCH", ["no.SUCH"]),
    ],
)
def test_expand_single_category(code: str, expected: list[str]) -> None:
    assert expand(code) == expected


def test_categories_is_cached() -> None:
    assert taxonomy.categories() is taxonomy.categories()
