"""Snippets made in Python: the query's words marked in a page's titles and abstracts.

Why not the database's own: FTS5's snippet() and highlight() run the whole query's MATCH
again, limited to the page's rows, and at 1M papers that still reads the full doclists of
a pasted title's common words ("of", "for"): 92 ms median, 608 ms worst for 25 snippets,
nearly all of such a search (issue 15's profile). The marks need only the page's own text
and the stems the index matched on (textindex.analyzer), so they cost the same at any size,
and what is marked is what tantivy matched.

Cheap, because a search page holds the GIL while it makes them (py-spy, 32 clients): only
the words that could have a query stem are stemmed. A Porter2 stem keeps its word's start
but for its last three letters, two at least (checked on all 118,358 ASCII words of 69,708
real papers' titles and abstracts: no exception but "ying" to "ie", which is handled), so in
an ASCII text the candidates are the words that begin with a stem's first letters, found by
str.find; a text with other letters (2 % of abstracts) has each of its words stemmed. Stems
are kept per word in this process.

The window follows FTS5's snippet() on characters rather than words: about 40 words
(WINDOW characters), the stretch that holds the most distinct query terms (then the most
matches), a sentence's start preferred, ellipses where it is cut. Unlike FTS5's, a window
never cuts a formula in two and no mark goes inside one: the page typesets whole $...$
spans (texmarkup.split_math), which a cut or a <mark> would break. Semantic results get
snippets too: the words of the query they do hold are marked.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from coolpapers.search.keyword import MARK_END, MARK_START, Snippet
from coolpapers.search.query import Query, Term
from coolpapers.texmarkup import split_math

WINDOW = 260  # characters of an abstract's snippet: about the SQL engines' 40 words
ELLIPSIS = "…"
# tantivy's simple tokenizer: runs of letters and digits (Rust's char::is_alphanumeric);
# Python's [^\W_] splits all 69,708 sample papers' titles and abstracts into the same words
_WORD = re.compile(r"[^\W_]+")
_SENTENCE_END = re.compile(r"[.!?]\s+")
_DISTINCT, _AGAIN, _SENTENCE, _FIRST = 1000, 1, 100, 120  # FTS5's snippet scores
LEAD = 60  # characters a window starts before its first hit (when not at a sentence)

Stemmer = Callable[[str], list[str]]
Hit = tuple[int, int, int]  # (start, end) in the text, and the term's number


@dataclass(frozen=True, slots=True)
class Terms:
    """Terms as stems (one stem: a word, several: a phrase), indexed by their first stem,
    and the pattern of the ASCII words that could have one of those first stems."""

    terms: tuple[tuple[str, ...], ...] = ()
    by_first: dict[str, list[int]] = field(default_factory=dict)
    candidates: re.Pattern[str] | None = None  # over the lowercased text

    @classmethod
    def of(cls, terms: Sequence[tuple[str, ...]]) -> Terms:
        by_first: dict[str, list[int]] = {}
        for n, t in enumerate(terms):
            by_first.setdefault(t[0], []).append(n)
        if not by_first:
            return cls()
        # a word that begins with the stem's first letters but the last three, two at least;
        # and Porter2's one irregular ending, "ying" to "ie" (dying, lying, vying)
        prefixes = {s[: max(2, len(s) - 3)] for s in by_first}
        prefixes.update(s[0] + "y" for s in by_first if len(s) == 3 and s.endswith("ie"))
        alternatives = "|".join(sorted(map(re.escape, prefixes), key=len, reverse=True))
        # no lookbehind for the word's start: a pattern that begins with its alternatives
        # lets the regex engine skip to the positions of their first letters; a match inside
        # a word is dropped after (_candidates). 0.40 against 0.55 ms a page of 25 abstracts
        # (200 real queries, interleaved runs), the same candidates
        pattern = re.compile(f"(?:{alternatives})[a-z0-9]*")
        return cls(tuple(terms), by_first, pattern)


# Lucene's English stop words (EnglishAnalyzer's default set). Matched and ranked as any
# word, but not marked while the query has other words: a pasted title's "of", "the" and
# "for" were marked in every line of its snippets, their windows were chosen for them, and
# finding them was most of the snippets' work (every word that begins "th", "in", "an"...).
STOP_WORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their "
    "then there these they this to was will with".split()
)


def _marked_terms(terms: list[Term]) -> list[Term]:
    """The terms a snippet marks: all but single stop words, unless nothing else is left
    ("to be or not to be" is marked)."""
    kept = [t for t in terms if len(t.words) > 1 or t.words[0].lower() not in STOP_WORDS]
    return kept or terms


@dataclass(frozen=True, slots=True)
class Wanted:
    """The query's positive terms, for the title and for the abstract (ti:/abs: terms only
    where they apply; au: terms in neither)."""

    title: Terms
    abstract: Terms

    @classmethod
    def of(cls, q: Query, stem: Stemmer) -> Wanted:
        title: list[tuple[str, ...]] = []
        abstract: list[tuple[str, ...]] = []
        for t in _marked_terms([t for group in q.groups for t in group if t.words]):
            stems = tuple(stem(" ".join(t.words)))
            if not stems:
                continue
            if t.field in (None, "title") and stems not in title:
                title.append(stems)
            if t.field in (None, "abstract") and stems not in abstract:
                abstract.append(stems)
        # one pattern for both where they are the same terms (no ti:/abs:): compiling a new
        # query's pattern is ~0.1 ms
        marked = Terms.of(abstract)
        return cls(marked if title == abstract else Terms.of(title), marked)


# word -> its stem: a page's words are mostly words seen before (bounded: cleared when full)
_STEMS: dict[str, str] = {}
_STEMS_MAX = 200_000


def _stems(words: list[str], stem: Stemmer) -> list[str]:
    missing = list(set(words).difference(_STEMS))
    if missing:
        got = stem(" ".join(missing))  # one call into the analyzer for all of them
        if len(got) != len(missing):  # a word the analyzer splits: each on its own
            got = [" ".join(stem(w)) for w in missing]
        if len(_STEMS) + len(missing) > _STEMS_MAX:
            _STEMS.clear()
        _STEMS.update(zip(missing, got, strict=True))
    out = list(map(_STEMS.get, words))
    if None in out:  # cleared by another thread meanwhile
        out = [s if s is not None else " ".join(stem(w)) for w, s in zip(words, out, strict=True)]
    return out  # type: ignore[return-value]


def _candidates(text: str, terms: Terms) -> list[tuple[int, int]]:
    """(start, end) of the words of `text` that could stem to a first stem of `terms`."""
    if terms.candidates is None or not text.isascii():
        return [m.span() for m in _WORD.finditer(text)]
    low = text.lower()
    return [
        m.span()
        for m in terms.candidates.finditer(low)
        if not (a := m.start()) or not low[a - 1].isalnum()  # the word's start
    ]


def _formulas(text: str) -> list[tuple[int, int]]:
    """(start, end) of each formula, delimiters included, as the page finds them."""
    if "$" not in text and "\\" not in text:
        return []
    out, pos = [], 0
    for seg, is_math in split_math(text):
        if is_math:
            out.append((pos, pos + len(seg)))
        pos += len(seg)
    return out


def _in_formula(formulas: list[tuple[int, int]], i: int) -> tuple[int, int] | None:
    """The formula that character i is in, if any."""
    k = bisect_right(formulas, (i, 1 << 62)) - 1
    return formulas[k] if k >= 0 and formulas[k][0] <= i < formulas[k][1] else None


def _hits(text: str, terms: Terms, stem: Stemmer, formulas: list[tuple[int, int]]) -> list[Hit]:
    """Every match of a term in `text`, in order; none in a formula (it is not marked, and
    counts for no window). A phrase matches where its words follow one another."""
    if not terms.by_first:
        return []
    spans = _candidates(text, terms)
    stems = _stems([text[a:b] for a, b in spans], stem)
    by_first = terms.by_first
    out: list[Hit] = []
    for k in [k for k, s in enumerate(stems) if s in by_first]:
        a, b = spans[k]
        for n in by_first[stems[k]]:
            rest = terms.terms[n][1:]
            end = b
            if rest:
                follow = []
                for m in _WORD.finditer(text, b):
                    follow.append(m)
                    if len(follow) == len(rest):
                        break
                if len(follow) < len(rest):
                    continue
                if tuple(_stems([m.group() for m in follow], stem)) != rest:
                    continue
                end = follow[-1].end()
            if formulas and (_in_formula(formulas, a) or _in_formula(formulas, end - 1)):
                continue
            out.append((a, end, n))
    out.sort()
    return out


def _window(text: str, hits: list[Hit]) -> int:
    """Where the best WINDOW characters start, as FTS5's snippet() picks its words: the
    stretch with the most distinct query terms, then the most matches, wholly in it; it
    starts a little before a hit (LEAD), or at the start of the hit's sentence with a
    bonus (more at the text's start); the earliest of the best. One sweep over the hits.
    (Comparisons rather than min() and max(): a page of a common word's results has ~20
    hits an abstract, and this was the snippets' largest part.)"""
    last = len(text) - WINDOW
    if last <= 0 or not hits:
        return 0
    sentences = [0] + [m.end() for m in _SENTENCE_END.finditer(text)]
    options: dict[int, int] = {}  # where a window may start -> its bonus
    for i, j, _ in hits:
        at = i - LEAD
        at = 0 if at < 0 else last if at > last else at
        if at not in options:
            options[at] = 0
        s = sentences[bisect_right(sentences, i) - 1]  # the sentence the hit is in
        if j - s <= WINDOW:  # ... when the hit still fits in a window from its start
            if s > last:
                s = last
            bonus = _FIRST if s == 0 else _SENTENCE
            if options.get(s, 0) < bonus:
                options[s] = bonus
    counts: dict[int, int] = {}
    n = len(hits)
    lo = hi = 0
    best, best_at = -1, 0
    for at in sorted(options):
        while lo < n and hits[lo][0] < at:  # hits before the window leave it
            if lo < hi:
                t = hits[lo][2]
                counts[t] -= 1
                if not counts[t]:
                    del counts[t]
            lo += 1
        if hi < lo:
            hi = lo
        end = at + WINDOW
        while hi < n and hits[hi][1] <= end:  # hits within it come in
            t = hits[hi][2]
            counts[t] = counts.get(t, 0) + 1
            hi += 1
        distinct = len(counts)
        score = distinct * _DISTINCT + (hi - lo - distinct) * _AGAIN + options[at]
        if score > best:
            best, best_at = score, at
    return best_at


def _cut(text: str, a: int, formulas: list[tuple[int, int]]) -> tuple[int, int]:
    """The window from `a` on word edges: from the start of the word `a` is in (or the next
    word), to the end of the last whole word within WINDOW, each formula at an edge whole,
    and to the text's end when no word is left after it."""
    n = len(text)
    if a > 0:
        if text[a].isalnum():
            while a > 0 and text[a - 1].isalnum():
                a -= 1
        else:
            m = _WORD.search(text, a)
            a = m.start() if m else n
    b = min(n, a + WINDOW)
    if b < n:
        while b > a and text[b - 1].isalnum() and text[b].isalnum():
            b -= 1
    if formulas:
        f = _in_formula(formulas, a)
        a = f[0] if f and a > 0 else a
        f = _in_formula(formulas, b - 1) if b > a else None
        b = f[1] if f else b
    if not _WORD.search(text, b):
        b = n
    return a, b


def _marked(text: str, a: int, b: int, hits: list[Hit]) -> str:
    """text[a:b] with the hits in it marked; overlapping ones (a phrase and one of its
    words) as one."""
    ranges: list[list[int]] = []
    for i, j, _ in hits:  # sorted
        i, j = max(i, a), min(j, b)
        if i >= j:
            continue
        if ranges and i < ranges[-1][1]:
            ranges[-1][1] = max(ranges[-1][1], j)
        else:
            ranges.append([i, j])
    out: list[str] = []
    pos = a
    for i, j in ranges:
        out += [text[pos:i], MARK_START, text[i:j], MARK_END]
        pos = j
    out.append(text[pos:b])
    return "".join(out)


def abstract_snippet(text: str, terms: Terms, stem: Stemmer) -> str:
    """The abstract's best WINDOW characters, on word edges, the terms marked, ellipses
    where it is cut."""
    formulas = _formulas(text)
    hits = _hits(text, terms, stem, formulas)
    if len(text) <= WINDOW:
        return _marked(text, 0, len(text), hits)
    a, b = _cut(text, _window(text, hits), formulas)
    body = _marked(text, a, b, hits).strip()
    return (ELLIPSIS if a > 0 else "") + body + (ELLIPSIS if b < len(text) else "")


def title_marked(text: str, terms: Terms, stem: Stemmer) -> str:
    """The whole title with the terms marked."""
    return _marked(text, 0, len(text), _hits(text, terms, stem, _formulas(text)))


def snippet(
    title: str, abstract: str, wanted: Wanted, stem: Stemmer, titles: bool = True
) -> Snippet:
    """`titles` False: the title as it is, unmarked (see Searcher.search)."""
    return Snippet(
        title_marked(title, wanted.title, stem) if titles else title,
        abstract_snippet(abstract, wanted.abstract, stem),
    )
