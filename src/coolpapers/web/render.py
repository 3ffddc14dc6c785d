"""Untrusted text (titles, abstracts, author names) becomes HTML here and only here.

Everything is escaped; math spans are wrapped for KaTeX in the browser and marked
`translate="no"` so that the browser's page translation leaves the TeX intact. In abstracts
and comments, http(s) URLs outside math become links (`linked`, `paragraphs`): escaped,
`rel="nofollow noopener"`, never another scheme (no javascript:, data:).
Templates use these filters and never mark user data safe themselves.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from markupsafe import Markup

from coolpapers.search.keyword import MARK_END, MARK_START
from coolpapers.texmarkup import split_math


def _escape_py(s: str, /) -> str:
    """markupsafe's escape, in Python: its C one's stand-in."""
    return (
        s.replace("&", "&amp;")
        .replace(">", "&gt;")
        .replace("<", "&lt;")
        .replace("'", "&#39;")
        .replace('"', "&#34;")
    )


try:  # markupsafe's own C escape, before it wraps the result in a Markup
    from markupsafe._speedups import _escape_inner
except ImportError:  # its pure-Python build, or a release that renamed it
    _escape_inner = _escape_py


_MARKERS = re.compile(f"([{MARK_START}{MARK_END}])")


def esc(text: object) -> str:
    """Plain text as HTML, the same characters as markupsafe.escape, as a str: escape() wraps
    each result in a Markup, whose Python __new__ was most of its ~0.6 us a call, and a new
    card makes ~40 of them (web/card_html.py). Only for text: a Markup passed here is escaped
    again (use markupsafe.escape for a value that may be markup)."""
    return _escape_inner(str(text))


def tex(text: str | None, links: bool = False) -> Markup:
    """Escaped text with its $...$ / \\(...\\) spans ready for the math typesetter; with
    `links`, the http(s) URLs of the text between them as links."""
    if not text:
        return Markup("")
    out: list[str] = []
    for seg, is_math in split_math(text):
        if is_math:
            out.append(_math(seg))
        elif links and "://" in seg:  # most text has no URL: no scan for one
            out.append(_linkify(seg))
        else:
            out.append(_escape_inner(seg))
    return Markup("".join(out))


def _math(seg: str) -> str:
    display = seg.startswith(("$$", "\\["))
    cls = "math display" if display else "math"
    return f'<span class="{cls} notranslate" translate="no">{_escape_inner(seg)}</span>'


def marked(text: str) -> Markup:
    """A search snippet (search/keyword.py's MARK_START/MARK_END around the query's words)
    as `tex` makes text: escaped, the markers as <mark>, always balanced, and its formulas
    ready for the typesetter. A marker inside a formula (the SQL engines' snippets can put
    one there) is dropped: TeX cut by an element is not typeset."""
    if "$" not in text and "\\" not in text:
        # no formula (most snippets): escaped whole, the markers replaced, when they pair
        # up as our snippets make them (a search page has one per card: 13 escapes each)
        out_ = _escape_inner(text)
        marks = _MARKERS.findall(out_)
        if marks == [MARK_START, MARK_END] * (len(marks) // 2):
            return Markup(out_.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>"))
    out: list[str] = []
    inside = False
    for seg, is_math in split_math(text):
        if is_math:
            if inside:
                out.append("</mark>")
                inside = False
            out.append(_math(seg.replace(MARK_START, "").replace(MARK_END, "")))
            continue
        for piece in _MARKERS.split(seg):
            if piece == MARK_START and not inside:
                out.append("<mark>")
                inside = True
            elif piece == MARK_END and inside:
                out.append("</mark>")
                inside = False
            elif piece not in (MARK_START, MARK_END):
                out.append(_escape_inner(piece))
    if inside:
        out.append("</mark>")
    return Markup("".join(out))


def linked(text: str | None) -> Markup:
    """A comment ("Code: https://github.com/..."): as `tex`, its URLs links. Not for titles,
    which are links themselves."""
    return tex(text, links=True)


def paragraphs(text: str | None) -> Markup:
    """An abstract: paragraphs kept (arXiv abstracts may have several), math and URLs as in
    `linked`."""
    if not text:
        return Markup("")
    # each part is already escaped by `tex`: joined as text (Markup.join would escape-check
    # every part again, the bulk of the time on 100,000 empty paragraphs)
    parts = [str(tex(p, links=True)) for p in text.split("\n\n")]
    return Markup("<br><br>".join(parts))


# A URL runs from its scheme to the first space, quote or angle bracket: one character class,
# so the scan is linear. What ends a sentence around it is trimmed after (_trim).
_URL = re.compile(r"\bhttps?://[^\s<>\"'`\\]+", re.IGNORECASE)
_TRAILING = ".,;:!?'\")]}*"
_PAIRS = {")": "(", "]": "[", "}": "{"}


def _trim(url: str) -> str:
    """`url` without the punctuation that closes the sentence or parenthesis around it: "(see
    https://x.org/a_(b))." keeps the ")" that its own "(" opens, not the two after it. Counts
    are kept as characters are dropped, so a run of 100,000 ")" is linear too."""
    opened = {c: url.count(c) for c in _PAIRS.values()}
    closed = {c: url.count(c) for c in _PAIRS}
    end = len(url)
    while end and url[end - 1] in _TRAILING:
        c = url[end - 1]
        if c in _PAIRS:
            if closed[c] <= opened[_PAIRS[c]]:
                break  # balanced: the URL's own bracket
            closed[c] -= 1
        end -= 1
    return url[:end]


def _linkify(text: str) -> str:
    """Escaped `text` with its http(s) URLs as links."""
    out: list[str] = []
    pos = 0
    for m in _URL.finditer(text):
        url = _trim(m.group())
        try:
            parts = urlsplit(url)
        except ValueError:  # "http://[" and such: not a URL a browser would open
            continue
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            continue
        out.append(_escape_inner(text[pos : m.start()]))
        href = _escape_inner(url)
        out.append(
            f'<a class="autolink notranslate" href="{href}" rel="nofollow noopener">{href}</a>'
        )
        pos = m.start() + len(url)
    out.append(_escape_inner(text[pos:]))
    return "".join(out)


# Characters XML 1.0 forbids (C0 controls but tab/newline/CR, lone surrogates, U+FFFE/F):
# arXiv metadata carries the odd form feed from PDF copy-paste, and one makes a feed unparsable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """`text` without the characters that no XML document may contain."""
    return _NOT_XML.sub("", text)
