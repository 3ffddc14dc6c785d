"""TeX in arXiv metadata: accents to Unicode, math spans kept apart for the typesetter.

arXiv metadata is written by authors in TeX: names carry accents (Schr\\"odinger, Bal\\'azs)
and abstracts carry math ($O(n^2)$). Accents outside math become Unicode here; math spans are
left for KaTeX in the browser (see web/render.py).
"""

from __future__ import annotations

import re
import unicodedata

_COMBINING = {
    '"': "\u0308", "'": "\u0301", "`": "\u0300", "^": "\u0302", "~": "\u0303",
    "=": "\u0304", ".": "\u0307", "u": "\u0306", "v": "\u030c", "H": "\u030b",
    "c": "\u0327", "k": "\u0328", "r": "\u030a", "d": "\u0323", "b": "\u0331",
}  # fmt: skip
_LETTERS = {
    "ss": "ß", "o": "ø", "O": "Ø", "aa": "å", "AA": "Å", "ae": "æ", "AE": "Æ",
    "oe": "œ", "OE": "Œ", "l": "ł", "L": "Ł", "i": "ı", "j": "ȷ",
}  # fmt: skip

# \"o  \"{o}  {\"o}  \'{\i}  \c{c}  \v{s}  \c c
# An enclosing {...} is consumed only as a pair (in `\emph{\"Uber}` the brace is the argument's).
_ACCENT = re.compile(
    r"(?P<o1>\{)?\\(?P<acc>[\"'`^~=.])\s*(?:\{(?P<a>\\?[A-Za-z])\}|(?P<b>\\?[A-Za-z]))(?(o1)\})"
    r"|(?P<o2>\{)?\\(?P<acc2>[uvHckrdb])(?:\{(?P<c>\\?[A-Za-z])\}|\s+(?P<d>[A-Za-z]))(?(o2)\})"
)
# {\ss}  \ss{}  \ss: only the bare control word swallows the space after it (Gau{\ss} sums).
_LETTER = re.compile(
    r"\{\\(?P<l1>ss|aa|AA|ae|AE|oe|OE|o|O|l|L)\}"
    r"|\\(?P<l2>ss|aa|AA|ae|AE|oe|OE|o|O|l|L)(?![A-Za-z])(?:\{\}|\s?)"
)
# A cheap first look: most texts (even with math) have no accent command at all.
_ANY_ACCENT = re.compile(r"\\[\"'`^~=.]|\\[uvHckrdb][\s{]|\\(?:ss|aa|AA|ae|AE|oe|OE|o|O|l|L|i|j)\b")
# $...$, $$...$$, \(...\), \[...\]; an escaped \$ is not a delimiter. Not one regex
# (`\$.+?\$|\\\(.+?\\\)|...`): each opener without a closer would scan to the end of the
# text, so `\(` repeated made it quadratic. split_math finds openers and closers apart instead.
_OPEN = re.compile(r"(?<!\\)(?:\$|\\[(\[])")
_CLOSE = {  # opener -> (its closer, where the closer may start at the earliest: 1+ char between)
    "$$": (re.compile(r"(?<!\\)\$\$"), 3),
    "$": (re.compile(r"(?<!\\)\$"), 2),
    "\\(": (re.compile(r"\\\)"), 3),
    "\\[": (re.compile(r"\\\]"), 3),
}


def _base(ch: str) -> str:
    return {"\\i": "i", "\\j": "j"}.get(ch, ch)


def _accent(m: re.Match[str]) -> str:
    acc = m.group("acc") or m.group("acc2")
    ch = _base(m.group("a") or m.group("b") or m.group("c") or m.group("d") or "")
    if ch.startswith("\\"):
        return m.group(0)
    return unicodedata.normalize("NFC", ch + _COMBINING[acc])


def accents_to_unicode(text: str) -> str:
    """Schr\\"odinger -> Schrödinger, outside math only."""
    if "\\" not in text or not _ANY_ACCENT.search(text):
        return text
    parts = split_math(text)
    return "".join(p if is_math else _plain(p) for p, is_math in parts)


def _plain(text: str) -> str:
    text = _ACCENT.sub(_accent, text)
    return _LETTER.sub(lambda m: _LETTERS[m.group("l1") or m.group("l2")], text)


def split_math(text: str) -> list[tuple[str, bool]]:
    """Split into (segment, is_math) pairs; math segments keep their delimiters.

    A span opens at the leftmost unescaped `$`, `$$`, `\\(` or `\\[` (`$$` before `$`) and
    closes at the first closer of its kind after at least one character; an opener with no
    closer is plain text. Linear time: the first closer of each kind is remembered, so no
    stretch of text is searched twice for the same closer."""
    if "$" not in text and "\\" not in text:
        # no opener can be there (87 % of real abstracts): two scans in C, not the regex's
        # (12 us of a card's ~100 on an abstract, which every card and snippet passes)
        return [(text, False)] if text else []
    out: list[tuple[str, bool]] = []
    found: dict[str, int] = {}  # opener -> the closer found last (-1: none up to the end)

    def close(kind: str, p: int) -> int:
        """The end of the span that opener `kind` at `p` opens, or -1."""
        pattern, gap = _CLOSE[kind]
        q = found.get(kind)
        # Openers come left to right, so a closer found for an earlier one is still the first
        # for this one if it lies ahead; and once none is left, none ever is.
        if q is None or (q != -1 and q < p + gap):
            m = pattern.search(text, p + gap)
            q = found[kind] = m.start() if m else -1
        return -1 if q == -1 else q + len(kind)

    pos = 0
    m = _OPEN.search(text)
    while m:
        p = m.start()
        if m.group() == "$":
            end = close("$$", p) if text.startswith("$$", p) else -1
            if end == -1:
                end = close("$", p)
        else:
            end = close(m.group(), p)
        if end == -1:
            m = _OPEN.search(text, p + 1)
            continue
        if p > pos:
            out.append((text[pos:p], False))
        out.append((text[p:end], True))
        pos = end
        m = _OPEN.search(text, end)
    if pos < len(text):
        out.append((text[pos:], False))
    return out


def unwrap(text: str) -> str:
    """arXiv hard-wraps titles and abstracts at ~80 columns; join the lines back."""
    if "\n\n" not in text and "\n  " not in text:
        return " ".join(text.split())
    paragraphs = re.split(r"\n\s*\n|\n(?=\s{2,}\S)", text.strip())
    return "\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip())


def oneline(text: str) -> str:
    """Titles, comments, names: one line, single spaces."""
    return " ".join(text.split())
