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
from coolpapers.search.query import Query
from coolpapers.texmarkup import split_math

WINDOW = 260  # characters of an abstract's snippet: about the SQL engines' 40 words
ELLIPSIS = "…"
# tantivy's simple tokenizer: runs of letters and digits (Rust's char::is_alphanumeric);
# Python's [^\W_] splits all 69,708 sample papers' titles and abstracts into the same words
_WORD = re.compile(r"[^\W_]+")
_SENTENCE_END = re.compile(r"[.!?]\s+")
_DISTINCT, _AGAIN, _SENTENCE, _FIRST = 1000, 1, 100, 120  # FTS5's snippet scores

Stemmer = Callable[[str], list[str]]
Hit = tuple[int, int, int]  # (start, end) in the text, and the term's number


@dataclass(frozen=True, slots=True)
class Terms:
    """Terms as stems (one stem: a word, several: a phrase), indexed by their first stem."""

    terms: tuple[tuple[str, ...], ...] = ()
    by_first: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def of(cls, terms: Sequence[tuple[str, ...]]) -> Terms:
        by_first: dict[str, list[int]] = {}
        for n, t in enumerate(terms):
            by_first.setdefault(t[0], []).append(n)
        return cls(tuple(terms), by_first)

    def prefixes(self) -> set[str]:
        """What every ASCII word with one of the first stems begins with (lowercased): its
        first letters but the last three, two at least; and Porter2's one irregular ending,
        "ying" to "ie" (dying, lying, vying: die, lie, vie)."""
        out = {s[: max(2, len(s) - 3)] for s in self.by_first}
        out.update(s[0] + "y" for s in self.by_first if len(s) == 3 and s.endswith("ie"))
        return out


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
        for group in q.groups:
            for t in group:
                stems = tuple(stem(" ".join(t.words)))
                if not stems:
                    continue
                if t.field in (None, "title") and stems not in title:
                    title.append(stems)
                if t.field in (None, "abstract") and stems not in abstract:
                    abstract.append(stems)
        return cls(Terms.of(title), Terms.of(abstract))


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
    if not text.isascii():
        return [m.span() for m in _WORD.finditer(text)]
    low = text.lower()
    starts: set[int] = set()
    for p in terms.prefixes():
        i = low.find(p)
        while i >= 0:
            if i == 0 or not low[i - 1].isalnum():
                starts.add(i)
            i = low.find(p, i + 1)
    out = []
    for i in sorted(starts):
        m = _WORD.match(text, i)
        if m:
            out.append(m.span())
    return out


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
    out: list[Hit] = []
    for (a, b), s in zip(spans, _stems([text[a:b] for a, b in spans], stem), strict=True):
        for n in terms.by_first.get(s, ()):
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


def _score(hits: list[Hit], starts: list[int], a: int) -> int:
    seen: set[int] = set()
    score = 0
    for _, j, n in hits[bisect_right(starts, a - 1) : bisect_right(starts, a + WINDOW)]:
        if j <= a + WINDOW:
            score += _AGAIN if n in seen else _DISTINCT
            seen.add(n)
    return score


def _window(text: str, hits: list[Hit]) -> int:
    """Where the best WINDOW characters start, as FTS5's snippet() picks its words: each
    hit's window with the hits it holds centred, and the window that starts at the
    sentence the hit is in, with a bonus; the highest score, the earliest on a tie. A
    window scores _DISTINCT for each query term in it and _AGAIN for each repeat."""
    last = len(text) - WINDOW
    if last <= 0 or not hits:
        return 0
    starts = [h[0] for h in hits]
    sentences = [0] + [m.end() for m in _SENTENCE_END.finditer(text)]
    scores: dict[int, int] = {}
    best, best_at = -1, 0
    for h, (i, _, _) in enumerate(hits):
        stop = max(j for _, j, _ in hits[h : bisect_right(starts, i + WINDOW)] if j <= i + WINDOW)
        centred = min(max(0, i - (WINDOW - (stop - i)) // 2), last)
        s = sentences[bisect_right(sentences, i) - 1]  # the sentence the hit is in
        options = [(centred, 0)]
        if i - s < WINDOW:  # ... when the hit still fits in a window from its start
            options.append((min(s, last), _FIRST if s == 0 else _SENTENCE))
        for at, bonus in options:
            if at not in scores:
                scores[at] = _score(hits, starts, at)
            got = scores[at] + bonus
            if got > best or (got == best and at < best_at):
                best, best_at = got, at
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


def snippet(title: str, abstract: str, wanted: Wanted, stem: Stemmer) -> Snippet:
    return Snippet(
        title_marked(title, wanted.title, stem),
        abstract_snippet(abstract, wanted.abstract, stem),
    )
