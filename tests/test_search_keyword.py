"""Keyword search on both engines (SQLite FTS5, PostgreSQL tsvector) over the shipped real
sample: ranking, stemming, accents, the query language, dates, paging, bad syntax."""

from __future__ import annotations

import random
import re
from datetime import date

import pytest

from coolpapers.search.query import MAX_PHRASE, MAX_TERMS, parse
from coolpapers.search.service import Searcher
from tests.search_fixtures import indexed

__all__ = ["indexed"]


def ids(s: Searcher, q: str, **kw: object) -> list[str]:
    return [r.paper.id for r in s.search(q, mode="keyword", per_page=200, **kw).items]


def total(s: Searcher, q: str) -> int:
    return s.search(q, mode="keyword", per_page=1).total


def sample_papers(s: Searcher, n: int, seed: int = 4) -> list:
    with s.store.engine.connect() as c:
        all_ids = sorted(r[0] for r in c.exec_driver_sql("SELECT id FROM papers"))
    picked = random.Random(seed).sample(all_ids, n)
    return list(s.store.papers(picked).values())


def test_exact_title_finds_the_paper_first(indexed: Searcher) -> None:
    papers = sample_papers(indexed, 25)
    for mode in ("keyword", "hybrid"):
        firsts = [indexed.search(p.title, mode=mode, per_page=3).items for p in papers]
        hits = sum(
            1
            for p, items in zip(papers, firsts, strict=True)
            if items and items[0].paper.id == p.id
        )
        assert hits >= 24, (mode, hits)


def test_stemming_and_accent_folding(indexed: Searcher) -> None:
    assert total(indexed, "images") == total(indexed, "image") > 100
    assert set(ids(indexed, "trained")) == set(ids(indexed, "training"))
    accented = ids(indexed, "Schrödinger")
    assert accented and accented == ids(indexed, "Schrodinger") == ids(indexed, "SCHRODINGER")


def test_phrase_is_stricter_than_words(indexed: Searcher) -> None:
    phrase = indexed.search('"linear attention"', mode="keyword", per_page=100)
    assert 0 < phrase.total < total(indexed, "linear attention")
    for r in phrase.items:
        text = f"{r.paper.title} {r.paper.abstract}".lower()
        # stemmed phrase: the two words adjacent, in order (linear attention, linearly attends)
        assert re.search(r"\blinear\w*\W+attent", text), r.paper.id


def test_exclusion_and_or_are_set_operations(indexed: Searcher) -> None:
    both, only, a = (
        total(indexed, "diffusion image"),
        total(indexed, "diffusion -image"),
        total(indexed, "diffusion"),
    )
    assert both > 0 and only > 0 and both + only == a
    assert total(indexed, "diffusion NOT image") == only
    x, y, xy = total(indexed, "quantum"), total(indexed, "photon"), total(indexed, "quantum photon")
    assert total(indexed, "quantum OR photon") == x + y - xy > max(x, y)
    assert total(indexed, "quantum | photon") == x + y - xy


def test_field_filters(indexed: Searcher) -> None:
    for r in indexed.search("ti:transformer", mode="keyword", per_page=200).items:
        assert "transform" in r.paper.title.lower()  # stemmed: transformer(s), transforming
    assert total(indexed, "ti:transformer") < total(indexed, "transformer")
    p = sample_papers(indexed, 1, seed=11)[0]
    name = p.authors[0]
    by_author = indexed.search(f'au:"{name}"', mode="keyword", per_page=200).items
    assert p.id in [r.paper.id for r in by_author]
    surname = re.findall(r"\w+", name)[-1].lower()
    assert all(surname in " ".join(r.paper.authors).lower() for r in by_author)
    cl = indexed.search("language cat:cs.CL", mode="keyword", per_page=200)
    assert cl.total and all("cs.CL" in r.paper.categories for r in cl.items)
    assert cl.total < total(indexed, "language")
    archive = indexed.search("cat:astro-ph", mode="keyword", per_page=50).items
    assert archive and all(
        any(c.startswith("astro-ph") for c in r.paper.categories) for r in archive
    )
    abs_only = indexed.search("abs:benchmark", mode="keyword", per_page=200).items
    assert abs_only and all("benchmark" in r.paper.abstract.lower() for r in abs_only)


def test_date_range_and_sort_by_date(indexed: Searcher) -> None:
    day = date(2026, 6, 4)
    res = indexed.search("model date:2026-06-04..2026-06-04", mode="keyword", per_page=200)
    assert res.total > 0
    firsts = indexed.store.first_days([r.paper.id for r in res.items])
    assert set(firsts.values()) == {day}
    # the same range from the URL parameters
    assert (
        res.total
        == indexed.search("model", mode="keyword", since="2026-06-04", until="2026-06-04").total
    )
    assert total(indexed, "model after:2026-06-04") < total(indexed, "model")
    newest = indexed.search("model", sort="date", mode="keyword", per_page=100).items
    days = list(indexed.store.first_days([r.paper.id for r in newest]).values())
    got = [indexed.store.first_days([r.paper.id])[r.paper.id] for r in newest]
    assert got == sorted(days, reverse=True)


def test_paging_past_1000(indexed: Searcher) -> None:
    full = ids(indexed, "model")
    pages = [
        [r.paper.id for r in indexed.search("model", mode="keyword", page=n, per_page=50).items]
        for n in (1, 2, 3)
    ]
    assert pages[0] + pages[1] + pages[2] == full[:150]
    res = indexed.search("model", mode="keyword", page=41, per_page=25)  # results 1001-1025
    assert res.total > 1025 and len(res.items) == 25
    assert not set(r.paper.id for r in res.items) & set(full[:150])
    filtered = indexed.search("cat:cs", mode="keyword", page=42, per_page=25)
    assert filtered.total > 1050 and len(filtered.items) == 25
    assert indexed.search("model", mode="keyword", page=10_000).items == []


@pytest.mark.parametrize("floor", [None, 0.2], ids=["floor", "loose"])
@pytest.mark.parametrize("query", ["diffusion model", "model"])
def test_hybrid_paging_neither_repeats_nor_skips(
    indexed: Searcher, query: str, floor: float | None
) -> None:
    # the default floor, and a low one under which a hundred neighbours join the head
    s = indexed
    if floor is not None:
        s = Searcher(indexed.store, embedder=indexed.embedder, floor=floor)

    def page(n: int, per: int) -> tuple[int, list[str]]:
        r = s.search(query, page=n, per_page=per, snippets=False)
        return r.total, [x.paper.id for x in r.items]

    total, first = page(1, 300)  # the fused head and the start of the keyword tail at once
    pages = [page(n, 25) for n in range(1, 13)]
    assert {t for t, _ in pages} == {total}  # every page, the same total
    assert [i for _, items in pages for i in items] == first
    assert len(set(first)) == len(first)
    keyword = indexed.search(query, mode="keyword", page=1, per_page=1).total
    assert total >= keyword  # every keyword match is somewhere in the hybrid list
    if floor is not None and query != "model":  # nearly every paper says "model"
        assert total > keyword  # similar papers were in the head
    # deep pages go on in keyword order without the papers of the head
    last = -(-total // 25)  # the last page: the list ends exactly at the total
    assert len(page(last, 25)[1]) == total - (last - 1) * 25 and page(last + 1, 25)[1] == []
    if total > 1025:
        deep = page(41, 25)[1]
        assert len(deep) == 25 and not set(deep) & set(first)


def test_hybrid_says_no_match_for_words_no_paper_has(indexed: Searcher) -> None:
    # even under a low similarity floor, which lets in the neighbours of most queries
    loose = Searcher(indexed.store, embedder=indexed.embedder, floor=0.2)
    for nonsense in ("zzzqqqxxy", "qwxzv blorptang"):
        for s in (indexed, loose):
            for mode in ("hybrid", "semantic"):
                res = s.search(nonsense, mode=mode)
                assert res.total == 0 and res.items == [], (nonsense, mode)
    # a word the corpus knows still brings the similar papers when nothing matches all
    res = loose.search("attention zzzqqqxxy")
    assert res.total == res.similar > 0 and {r.source for r in res.items} == {"semantic"}


# stray syntax, searched as its words; a field or filter that cannot be read is left out and
# said (Results.warnings; tests/test_search_honest.py), an unknown field is said too
WARNED = {"ti:": "", 'au:"': "", "cat:??": "", "date:2026-13-45": "", "a:b:c": "a b c"}


@pytest.mark.parametrize(
    "bad",
    [
        '"unclosed',
        "ti:",
        "((( )))",
        "AND OR NOT",
        "-",
        "*",
        "a:b:c",
        'au:"',
        "NEAR(x y)",
        "x^2 {y}",
        "cat:??",
        "date:2026-13-45",
        "''",
        "\\",
        "OR linear OR",
        "\x00",
    ],
)
def test_bad_syntax_falls_back_to_plain_terms(indexed: Searcher, bad: str) -> None:
    res = indexed.search(bad, per_page=5)  # never raises
    assert res.total >= 0
    assert bool(res.warnings) == (bad in WARNED), res.warnings
    plain = WARNED.get(bad, " ".join(re.findall(r"[^\W_]+", bad)))

    def top3(q: str) -> list[str]:
        return [r.paper.id for r in indexed.search(q, mode="keyword").items][:3]

    assert top3(f"{bad} linear attention") == top3(f"{plain} linear attention")


@pytest.mark.parametrize(
    "flood", ["the " * 1000, "a " * 1000, "linear attention " * 400, "x" * 5000 + " attention"]
)
def test_long_and_repeated_queries_are_bounded(indexed: Searcher, flood: str) -> None:
    q = parse(flood)
    terms = [t for g in q.groups for t in g] + q.exclude
    assert len(terms) == len(set(terms)) <= MAX_TERMS
    assert all(len(t.words) <= MAX_PHRASE for t in terms)
    # a pasted page of text is as cheap as its first few distinct words
    res = indexed.search(flood, mode="keyword", per_page=5)
    assert (
        res.total
        == indexed.search(" ".join(dict.fromkeys(flood.split()))[:500], mode="keyword").total
    )


def test_many_distinct_terms_keep_the_first_ones() -> None:
    words = [f"w{i}" for i in range(100)]
    q = parse(" ".join(words) + ' "a b c d e f g h i j k l m n o p"')
    assert [g[0].words[0] for g in q.groups] == words[:MAX_TERMS]
    assert parse('"' + " ".join(words[:30]) + '"').groups[0][0].words == tuple(words[:MAX_PHRASE])
    assert parse("x -x").exclude and parse("x -x").groups  # excluding what is asked stays


def test_query_language_parse() -> None:
    q = parse(
        '"linear attention" -vq diffusion OR flow ti:x au:"Ada Lovelace" cat:cs.CL'
        " date:2026-05..2026-06"
    )
    assert q.groups[0][0].words == ("linear", "attention")
    assert [t.text for t in q.groups[1]] == ["diffusion", "flow"]
    assert q.exclude[0].words == ("vq",)
    assert q.groups[2][0].field == "title" and q.groups[3][0].field == "authors"
    assert q.categories == ["cs.CL"]
    assert (q.since, q.until) == (date(2026, 5, 1), date(2026, 6, 30))
    # a broken date is left out, and said; an unknown field is part of the text, and said
    broken = parse("date:soon")
    assert broken.words() == [] and broken.since is None and "date:soon" in broken.warnings[0]
    unknown = parse("foo:bar")
    assert unknown.words() == ["foo", "bar"] and "foo:" in unknown.warnings[0]
    assert not q.warnings  # the valid query above says nothing
