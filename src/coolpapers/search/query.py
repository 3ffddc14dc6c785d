"""The reader's query language, parsed once into a small tree that both engines compile.

    linear attention            all terms (AND), stemmed, accents folded
    "linear attention"          a phrase
    -vq  NOT vq                 exclusion
    diffusion OR flow, a | b    either
    ti:  au:  abs:              field filters (title, authors, abstract), also ti:"a phrase"
    cat:cs.CL  cat:cs           category (or archive) filter, several: any of them
    venue:ACL.2024  venue:ACL   a venue's edition, or all its editions (several: any)
    source:acl  source:arxiv    papers of a source (several: any)
    date:2026-05-01..2026-06-01, after:2026-05-01, before:2026-06-01 (also YYYY or YYYY-MM)

Parsing never fails, and never drops a filter in silence. A filter whose value is not valid
(`date:2026-99-99..x`, `cat:??`, `ti:` with nothing after it, an excluded filter such as
`-cat:cs.CL`) is left out of the search and said in `Query.warnings`, which the pages, the API
and the feeds show to the reader; an unknown field (`foo:bar`, a pasted `http:`) is searched as
its words, and said too. Other stray syntax (an unclosed quote, lone operators) is read as plain
words. Words are reduced to letters and digits here, so the engines' own query syntax can never
see an operator the reader did not mean.

Bounded: a repeated term counts once, and a query keeps its first MAX_CHARS characters,
MAX_TERMS terms and MAX_PHRASE words per phrase. A pasted page of text would otherwise be
hundreds of ANDed terms that hold a worker for minutes (FTS5, and PostgreSQL's ts_headline).
A cut query says so in its warnings.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date

FIELDS = {"ti": "title", "title": "title", "au": "authors", "author": "authors",
          "abs": "abstract", "abstract": "abstract"}  # fmt: skip
_TOKEN = re.compile(
    r'(?P<neg>-)?(?:(?P<field>[A-Za-z]+):)?(?:"(?P<phrase>[^"]*)"|(?P<word>[^\s"]+))|(?P<quote>")'
)
_WORD = re.compile(r"[^\W_]+")
MAX_CHARS = 500
MAX_TERMS = 24  # terms to match and to exclude, together
MAX_PHRASE = 12  # words in one phrase
_CAT = re.compile(r"^[a-z\-]+(\.[A-Za-z\-]+)?$")
_SOURCE = re.compile(r"^[a-z][a-z0-9_\-]{0,31}$")
_VENUE = re.compile(r"^[A-Za-z*][\w*\-]{0,31}(\.[\w\-]{1,32})?$")
BRANCHES = ("arxiv", "venue")  # arXiv's papers; every other source's (the Venue branch)
# filters that take a value; with a value that is not valid they are left out, with a warning
DATE_KEYS = ("date", "after", "before", "since", "until")
FILTERS = ("cat", "category", "source", "venue", *DATE_KEYS)
SYNTAX = "ti: au: abs: cat: venue: source: date: after: before:"
_SHOWN = 60  # characters of the reader's own text quoted in a warning
_HINT = {
    "date": "a day or a range (YYYY, YYYY-MM or YYYY-MM-DD, e.g. date:2026-05-01..2026-06-01)",
    "cat": "a category or an archive (e.g. cat:cs.CL or cat:cs)",
    "source": "a source's name (e.g. source:arxiv or source:acl)",
    "venue": "a venue or one of its editions (e.g. venue:ACL or venue:ACL.2024)",
}


@dataclass(frozen=True, slots=True)
class Term:
    """A word or a phrase (several words in order), optionally limited to one field."""

    words: tuple[str, ...]
    field: str | None = None  # "title" | "abstract" | "authors"

    @property
    def text(self) -> str:
        return " ".join(self.words)


@dataclass(slots=True)
class Query:
    # all of these groups must match; a group matches when any of its terms does (OR)
    groups: list[list[Term]] = field(default_factory=list)
    exclude: list[Term] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    since: date | None = None
    until: date | None = None  # inclusive
    sources: list[str] = field(default_factory=list)  # source keys: any of them
    venues: list[str] = field(default_factory=list)  # "ACL.2024" or "ACL": any of them
    branch: str | None = None  # "arxiv" | "venue": set by the page searched from, not typed
    # what of the reader's query was not searched as written, in words for the reader
    warnings: list[str] = field(default_factory=list)

    @property
    def has_text(self) -> bool:
        return bool(self.groups)

    @property
    def is_empty(self) -> bool:
        return not (
            self.groups
            or self.exclude
            or self.categories
            or self.since
            or self.until
            or self.sources
            or self.venues
        )

    def words(self) -> list[str]:
        """The positive words, for highlighting and for the semantic query."""
        return [w for g in self.groups for t in g for w in t.words]

    def plain(self) -> str:
        return " ".join(self.words())


def _words(text: str) -> tuple[str, ...]:
    return tuple(w.lower() for w in _WORD.findall(text))


def _day(text: str, end: bool) -> date | None:
    """YYYY, YYYY-MM or YYYY-MM-DD; `end` picks the last day of a year or month."""
    try:
        parts = [int(x) for x in text.split("-")]
        # years past 9999 are no date (`date` raises OverflowError past a C int, not ValueError)
        if not 1 <= parts[0] <= 9999:
            return None
        if len(parts) == 1:
            return date(parts[0], 12, 31) if end else date(parts[0], 1, 1)
        if len(parts) == 2:
            y, m = parts
            return date(y, m, calendar.monthrange(y, m)[1] if end else 1)
        if len(parts) == 3:
            return date(*parts)
    except (ValueError, TypeError, OverflowError):
        return None
    return None


def shown(text: str) -> str:
    """The reader's text as a warning quotes it: cut, on one line (escaped where it is shown)."""
    text = " ".join(text.split())
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def parse(text: str, since: str | None = None, until: str | None = None) -> Query:
    q = Query()
    for name, raw_day, end in (("from", since, False), ("to", until, True)):
        day = _day(raw_day, end) if raw_day else None
        if raw_day and day is None:
            q.warnings.append(
                f"{name}={shown(raw_day)} is not a day (YYYY, YYYY-MM or YYYY-MM-DD); "
                "it was ignored."
            )
        if end:
            q.until = day
        else:
            q.since = day
    pending_or = False
    text = text or ""
    if len(text) > MAX_CHARS:
        q.warnings.append(f"Only the first {MAX_CHARS} characters of the query were searched.")
        text = text[:MAX_CHARS]
    seen: set[tuple[bool, Term]] = set()
    for m in _TOKEN.finditer(text):
        if len(seen) >= MAX_TERMS:
            q.warnings.append(f"Only the first {MAX_TERMS} terms of the query were searched.")
            break
        if m.group("quote"):  # an unclosed quote: ignore it, keep the words around it
            continue
        neg, fld, phrase, word = m.group("neg", "field", "phrase", "word")
        key = (fld or "").lower()
        raw = phrase if phrase is not None else word
        if not neg and not fld and phrase is None and word in ("OR", "|"):
            pending_or = bool(q.groups)
            continue
        if not neg and not fld and phrase is None and word in ("AND", "&", "+"):
            continue
        if not neg and not fld and phrase is None and word == "NOT":
            # NOT x: the next term is an exclusion; written as "-" by most readers
            text_after = text[m.end() :].lstrip()
            if text_after:
                continue
        if not fld and phrase is None and _bare(word):
            # "ti:" or "date:" with nothing after it: a filter without its value
            q.warnings.append(f"{shown(word)} has nothing after it; it was ignored.")
            continue
        excluded = bool(neg) or _after_not(text, m.start())
        if key in FILTERS:
            written = shown(m.group(0))
            if excluded:  # the reader asked for the opposite of a filter: not supported
                q.warnings.append(f"{written}: a filter cannot be excluded; it was ignored.")
            elif not _filter(q, key, raw):
                hint = _HINT["date" if key in DATE_KEYS else key.replace("category", "cat")]
                q.warnings.append(f"{written} is not {hint}; it was ignored.")
            continue
        term_field = FIELDS.get(key)
        if fld and not term_field:
            # an unknown field ("foo:", a pasted "http:"): its words are searched, and said
            q.warnings.append(
                f"{shown(fld)}: is not a field or a filter ({SYNTAX}); "
                f"{shown(m.group(0))} was searched as words."
            )
        words = _words(raw if term_field or not fld else f"{fld} {raw}")[:MAX_PHRASE]
        if not words:
            if term_field:  # ti:"" or ti:??: a field with no word to look for
                q.warnings.append(f"{shown(m.group(0))} has no word to search; it was ignored.")
            continue
        term = Term(words, term_field)
        if (excluded, term) in seen:  # "the the the ...": once is enough, and as fast
            pending_or = False
            continue
        seen.add((excluded, term))
        if excluded:
            q.exclude.append(term)
        elif pending_or and q.groups:
            q.groups[-1].append(term)
        else:
            q.groups.append([term])
        pending_or = False
    return q


def _bare(word: str | None) -> bool:
    """A field or filter name and its colon, alone ("ti:", "date:")."""
    if not word or not word.endswith(":"):
        return False
    key = word[:-1].lower()
    return key in FIELDS or key in FILTERS


def _filter(q: Query, key: str, raw: str) -> bool:
    """Apply the filter `key:raw` to `q`; False when `raw` is not a valid value for it."""
    if not raw:
        return False
    if key in ("cat", "category"):
        if not _CAT.match(raw):
            return False
        q.categories.append(raw)
    elif key == "source":
        if not _SOURCE.match(raw.lower()):
            return False
        q.sources.append(raw.lower())
    elif key == "venue":
        if not _VENUE.match(raw):
            return False
        q.venues.append(raw)
    else:
        return _dates(q, key, raw)
    return True


def _after_not(text: str, start: int) -> bool:
    return text[:start].rstrip().endswith(" NOT") or text[:start].rstrip() == "NOT"


def _dates(q: Query, key: str, raw: str) -> bool:
    if key == "date":
        lo, sep, hi = raw.partition("..")
        a = _day(lo, False) if lo else None
        b = _day(hi if sep else lo, True) if (hi or not sep) else None
        if (lo and a is None) or (hi and b is None):
            return False
        q.since, q.until = a or q.since, b or q.until
        return True
    d = _day(raw, key in ("before", "until"))
    if d is None:
        return False
    if key in ("after", "since"):
        q.since = d
    else:
        q.until = d
    return True
