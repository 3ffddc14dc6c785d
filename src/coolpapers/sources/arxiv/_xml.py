"""Small helpers shared by the parsers of arXiv's XML formats."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from lxml import etree


def local(el: etree._Element) -> str:
    """The element's name without namespace ('' for comments and processing instructions)."""
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def children(el: etree._Element, name: str) -> list[etree._Element]:
    """Direct children by local name. Matching local names (not namespace URIs) keeps the
    parsers working where arXiv's documentation shows elements without their namespace."""
    return [c for c in el if local(c) == name]


def child(el: etree._Element, name: str) -> etree._Element | None:
    for c in el:
        if local(c) == name:
            return c
    return None


def text(el: etree._Element, name: str) -> str | None:
    """Whitespace-normalised text of the first child `name`, None when absent or empty."""
    c = child(el, name)
    if c is None:
        return None
    t = " ".join(all_text(c).split())
    return t or None


def raw_text(el: etree._Element, name: str) -> str | None:
    """Text of the first child `name` with its line breaks (for unwrap), None when empty."""
    c = child(el, name)
    if c is None:
        return None
    t = all_text(c)
    return t if t.strip() else None


def all_text(el: etree._Element) -> str:
    """All text inside `el` (nested elements included, its tail excluded)."""
    return etree.tostring(el, encoding="unicode", method="text", with_tail=False)


# The lookbehind: `\s+` may start only where a space run starts, not at each of its spaces
# (each try would run to the run's end: quadratic on a long run of spaces).
_AND = re.compile(r"(?<!\s)\s+and\s+")


def split_authors(names: str) -> list[str]:
    """'A. One, B. Two, and C. Three' -> three names.

    arXiv author strings separate names by commas and 'and' and may carry affiliations in
    parentheses ('A. One (1), B. Two (2) ((1) Univ X, (2) Univ Y)'), whose commas must not
    split, so splitting happens at parenthesis depth 0 and the affiliations are dropped."""
    parts: list[str] = []
    depth, cur = 0, list[str]()
    for ch in names:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    parts.append("".join(cur))
    out: list[str] = []
    for part in parts:
        part = _drop_parens(" ".join(part.split()))
        part = re.sub(r"^and\s+", "", part)
        out.extend(n.strip() for n in _AND.split(part) if n.strip())
    return out


def _drop_parens(s: str) -> str:
    r"""`s` without its parenthesised parts (nested ones too) and the spaces before each;
    an unbalanced parenthesis stays.

    One pass with a stack of open parentheses, where dropping the innermost `\s*\([^()]*\)`
    until nothing changes took a pass per level of nesting (quadratic on `((((...))))`)."""
    out: list[str] = []
    opened: list[int] = []  # for each open parenthesis, where it and the spaces before it begin
    for ch in s:
        if ch == "(":
            start = len(out)
            while start and out[start - 1].isspace():
                start -= 1
            opened.append(start)
        elif ch == ")" and opened:
            del out[opened.pop() :]
            continue
        out.append(ch)
    return "".join(out).strip()


def as_utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
