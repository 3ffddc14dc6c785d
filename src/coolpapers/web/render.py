"""Untrusted text (titles, abstracts, author names) becomes HTML here and only here.

Everything is escaped; math spans are wrapped for KaTeX in the browser and marked
`translate="no"` so that the browser's page translation leaves the TeX intact.
Templates use these filters and never mark user data safe themselves.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from coolpapers.texmarkup import split_math


def tex(text: str | None) -> Markup:
    """Escaped text with its $...$ / \\(...\\) spans ready for the math typesetter."""
    if not text:
        return Markup("")
    out: list[str] = []
    for seg, is_math in split_math(text):
        if is_math:
            display = seg.startswith(("$$", "\\["))
            cls = "math display" if display else "math"
            out.append(f'<span class="{cls} notranslate" translate="no">{escape(seg)}</span>')
        else:
            out.append(str(escape(seg)))
    return Markup("".join(out))


def paragraphs(text: str | None) -> Markup:
    """An abstract: paragraphs kept (arXiv abstracts may have several), math as in `tex`."""
    if not text:
        return Markup("")
    parts = [tex(p) for p in text.split("\n\n")]
    return Markup("<br><br>").join(parts)


# Characters XML 1.0 forbids (C0 controls but tab/newline/CR, lone surrogates, U+FFFE/F):
# arXiv metadata carries the odd form feed from PDF copy-paste, and one makes a feed unparsable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """`text` without the characters that no XML document may contain."""
    return _NOT_XML.sub("", text)
