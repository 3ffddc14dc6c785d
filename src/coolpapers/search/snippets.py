"""Snippets made in Python: the query's words marked in a page's titles and abstracts.

Why not the database's own: FTS5's snippet() and highlight() run the whole query's MATCH
again, limited to the page's rows, and at 1M papers that still reads the full doclists of
a pasted title's common words ("of", "for"): 92 ms median, 608 ms worst for 25 snippets,
nearly all of such a search (issue 15's profile). The marks need only the page's own text
and the stems the index matched on (textindex.analyzer, each word stemmed once per process):
about 3 ms for a page of 25 at any size, and what is marked is what tantivy matched.

The window follows FTS5's snippet(): 40 words, the run that holds the most distinct query
terms (then the most matches), a sentence's start preferred, ellipses where it is cut.
Unlike FTS5's, a window never cuts a formula in two and no mark goes inside one: the page
typesets whole $...$ spans (texmarkup.split_math), which a cut or a <mark> would break.
Semantic results get snippets too: the words of the query they do hold are marked.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import accumulate

from coolpapers.search.keyword import MARK_END, MARK_START, Snippet
from coolpapers.search.query import Query
from coolpapers.texmarkup import split_math

WINDOW = 40  # words in an abstract's snippet, as in the SQL engines' snippet(..., 40)
ELLIPSIS = "…"
# tantivy's simple tokenizer: runs of letters and digits (Rust's char::is_alphanumeric);
# Python's [^\W_] splits all 69,708 sample papers' titles and abstracts into the same words.
# Split on it (a group): the words are kept, at the odd places.
_TOKEN = re.compile(r"([^\W_]+)")
_SENTENCE_END = re.compile(r"[.!?]\s")
_DISTINCT, _AGAIN, _SENTENCE, _FIRST = 1000, 1, 100, 120  # FTS5's snippet scores

Stemmer = Callable[[str], list[str]]


@dataclass(frozen=True, slots=True)
class Wanted:
    """The query's positive terms as stems, for the title and for the abstract: a term of
    one stem is a word, of several a phrase (ti:/abs: terms only where they apply)."""

    title: tuple[tuple[str, ...], ...]
    abstract: tuple[tuple[str, ...], ...]

    @classmethod
    def of(cls, q: Query, stem: Stemmer) -> Wanted:
        title: list[tuple[str, ...]] = []
        abstract: list[tuple[str, ...]] = []
        for group in q.groups:
            for t in group:
                stems = tuple(stem(" ".join(t.words)))
                if not stems:
                    continue
                if t.field in (None, "title") and stems not in title:
                    title.append(stems)
                if t.field in (None, "abstract") and stems not in abstract:
                    abstract.append(stems)
        return cls(tuple(title), tuple(abstract))


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


@dataclass(slots=True)
class _Tokens:
    """A text's words: their stems, where each starts and ends, and the formula each is in."""

    text: str
    stems: list[str]
    at: list[int]  # at[2k], at[2k + 1]: where word k starts and ends in text
    math: list[int] | None  # each word's formula (a number, -1: none); None: no formula
    formulas: list[tuple[int, int]]  # (start, end) of each formula, delimiters included

    @classmethod
    def of(cls, text: str, stem: Stemmer) -> _Tokens:
        parts = _TOKEN.split(text)  # separators and words in turn: words at the odd places
        at = list(accumulate(map(len, parts)))[:-1]
        tok = cls(text, _stems(parts[1::2], stem), at, None, [])
        if "$" in text or "\\" in text:
            tok._find_math()
        return tok

    def _find_math(self) -> None:
        """The formulas as the page finds them (texmarkup.split_math), and each word's."""
        pos = 0
        for seg, is_math in split_math(self.text):
            if is_math:
                self.formulas.append((pos, pos + len(seg)))
            pos += len(seg)
        if not self.formulas:
            return
        firsts = [f[0] for f in self.formulas]
        self.math = []
        for k in range(len(self.stems)):
            f = bisect_right(firsts, self.at[2 * k]) - 1
            self.math.append(f if f >= 0 and self.at[2 * k] < self.formulas[f][1] else -1)

    def __len__(self) -> int:
        return len(self.stems)

    def start(self, k: int) -> int:
        """Where a run that begins with word k starts: before its formula's opening."""
        f = self.math[k] if self.math is not None else -1
        return self.formulas[f][0] if f >= 0 else self.at[2 * k]

    def end(self, k: int) -> int:
        """Where a run that ends with word k ends: after its formula's closing."""
        f = self.math[k] if self.math is not None else -1
        return self.formulas[f][1] if f >= 0 else self.at[2 * k + 1]


def _hits(tok: _Tokens, terms: Sequence[tuple[str, ...]]) -> list[tuple[int, int, int]]:
    """(first word, last word + 1, term number) of every match of a term, in order; none
    inside a formula (it is not marked, and counts for no window)."""
    stems = tok.stems
    singles = {t[0]: n for n, t in enumerate(terms) if len(t) == 1}
    out = [(i, i + 1, singles[s]) for i, s in enumerate(stems) if s in singles]
    for n, t in enumerate(terms):
        if len(t) > 1:
            k = len(t)
            out += [
                (i, i + k, n)
                for i, s in enumerate(stems)
                if s == t[0] and tuple(stems[i : i + k]) == t
            ]
    if tok.math is not None:
        math = tok.math
        out = [h for h in out if all(m < 0 for m in math[h[0] : h[1]])]
    out.sort()
    return out


def _window(tok: _Tokens, hits: list[tuple[int, int, int]]) -> tuple[int, int]:
    """The best WINDOW words (start, end) for these hits, as FTS5's snippet() picks them:
    each hit's window with the hits it holds centred, and the window that starts at the
    sentence the hit is in, with a bonus; the highest score, the earliest on a tie. A
    window scores _DISTINCT for each query term in it and _AGAIN for each repeat."""
    n = len(tok)
    if n <= WINDOW or not hits:
        return 0, min(n, WINDOW)
    last = n - WINDOW
    firsts = [h[0] for h in hits]
    word_starts = tok.at[0::2]
    # the words that start a sentence (the first after each ". "), in order
    sentences = [0] + [bisect_left(word_starts, m.end()) for m in _SENTENCE_END.finditer(tok.text)]
    scores: dict[int, int] = {}

    def score(start: int) -> int:
        got = scores.get(start)
        if got is None:
            lo, hi = bisect_left(firsts, start), bisect_left(firsts, start + WINDOW)
            inside = [h[2] for h in hits[lo:hi] if h[1] <= start + WINDOW]
            distinct = len(set(inside))
            got = scores[start] = distinct * _DISTINCT + (len(inside) - distinct) * _AGAIN
        return got

    best, best_start = -1, 0
    for h, (i, _, _) in enumerate(hits):
        stop = max(x[1] for x in hits[h : bisect_left(firsts, i + WINDOW)] if x[1] <= i + WINDOW)
        start = min(max(0, i - (WINDOW - (stop - i)) // 2), last)
        candidates = [(score(start), start)]
        # the sentence this hit is in, when the hit still fits in a window from its start
        s = sentences[bisect_right(sentences, i) - 1]
        if i - s < WINDOW:
            s = min(s, last)
            candidates.append((score(s) + (_FIRST if s == 0 else _SENTENCE), s))
        for got, at in candidates:
            if got > best or (got == best and at < best_start):
                best, best_start = got, at
    return best_start, best_start + WINDOW


def _text(tok: _Tokens, hits: list[tuple[int, int, int]], start: int, end: int) -> str:
    """The text of words start..end-1, the hits in them marked: from the text's start when
    the run starts it and to its end when the run ends it, formulas at the edges whole."""
    text, at = tok.text, tok.at
    a = 0 if start == 0 else tok.start(start)
    b = len(text) if end >= len(tok) else tok.end(end - 1)
    ranges: list[list[int]] = []  # the words to mark, [first, last + 1]
    for i, j, _ in hits:  # sorted: a match that overlaps the one before (a phrase and one
        i, j = max(i, start), min(j, end)  # of its words) makes it longer
        if i >= j:
            continue
        if ranges and i < ranges[-1][1]:
            ranges[-1][1] = max(ranges[-1][1], j)
        else:
            ranges.append([i, j])
    out: list[str] = []
    pos = a
    for i, j in ranges:
        s, e = at[2 * i], at[2 * j - 1]
        out += [text[pos:s], MARK_START, text[s:e], MARK_END]
        pos = e
    out.append(text[pos:b])
    return "".join(out)


def abstract_snippet(text: str, terms: Sequence[tuple[str, ...]], stem: Stemmer) -> str:
    """The abstract's best WINDOW words with the terms marked, ellipses where cut."""
    tok = _Tokens.of(text, stem)
    n = len(tok)
    if not n:
        return text
    hits = _hits(tok, terms) if terms else []
    start, end = _window(tok, hits)
    body = _text(tok, hits, start, end)
    return (ELLIPSIS if start > 0 else "") + body + (ELLIPSIS if end < n else "")


def title_marked(text: str, terms: Sequence[tuple[str, ...]], stem: Stemmer) -> str:
    """The whole title with the terms marked."""
    if not terms or not text:
        return text
    tok = _Tokens.of(text, stem)
    return _text(tok, _hits(tok, terms), 0, len(tok)) if len(tok) else text


def snippet(title: str, abstract: str, wanted: Wanted, stem: Stemmer) -> Snippet:
    return Snippet(
        title_marked(title, wanted.title, stem),
        abstract_snippet(abstract, wanted.abstract, stem),
    )
