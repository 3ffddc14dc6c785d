"""LLM Markdown with LaTeX -> safe HTML: the one place the model's (untrusted) text becomes HTML.

Order matters, and is the fix for papers.cool's bug (`_`, `*`, `\\\\` inside `$...$` mangled by
the Markdown parser): math spans are recognised BY the parser (dollarmath plugin), so emphasis
and escapes never run inside them; Markdown is rendered (tables, lists, code); the HTML is
sanitized by nh3 (no script, no event handlers, no javascript: URLs, no raw HTML at all);
KaTeX typesets the math spans in the browser (app.js `typeset`), on the streamed view and the
final view alike, because both are made here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from html import escape
from typing import Any

import nh3
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin

_TAGS = {
    "p", "br", "hr", "em", "strong", "del", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "a",
    "span", "div",
}  # fmt: skip
# `class` on span is allowed through allowed_classes only (the math markers), never free-form.
_ATTRS = {"a": {"href", "title"}, "span": {"translate"}, "ol": {"start"}}
_CLASSES = {"span": {"math", "display", "notranslate"}}
# \( \) and \[ \] are how many models write math; Markdown would eat the backslashes. They
# become $ / $$ before parsing, outside code (fenced blocks and inline code are left alone).
_CODE = re.compile(r"(```.*?(?:```|\Z)|`[^`\n]*`)", re.S)


def _math(display: bool) -> Any:
    def rule(self: Any, tokens: list[Any], idx: int, options: Any, env: Any) -> str:
        src = tokens[idx].content.strip()
        if display:
            return (
                '<span class="math display notranslate" translate="no">'
                f"$${escape(src, quote=False)}$$</span>\n"
            )
        return f'<span class="math notranslate" translate="no">${escape(src, quote=False)}$</span>'

    return rule


@cache
def _parser() -> MarkdownIt:
    # html=False: raw HTML in the model's text is shown as text, never passed through.
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    # allow_digits=False: "$5 and $10" is money, not math (a closing $ never precedes a digit)
    md.use(dollarmath_plugin, allow_space=True, allow_digits=False, double_inline=True)
    md.add_render_rule("math_inline", _math(False))
    md.add_render_rule("math_inline_double", _math(True))
    md.add_render_rule("math_block", _math(True))
    md.add_render_rule("math_block_label", _math(True))
    return md


def _normalise_delimiters(text: str) -> str:
    parts = _CODE.split(text)
    for i in range(0, len(parts), 2):  # even parts are outside code
        p = _replace_spans(parts[i], "\\[", "\\]", lambda m: f"$${m}$$")
        parts[i] = _replace_spans(p, "\\(", "\\)", lambda m: f"${m.strip()}$")
    return "".join(parts)


def _replace_spans(text: str, opener: str, closer: str, repl: Callable[[str], str]) -> str:
    r"""Each `opener`...`closer` span (1+ characters between, the first closer) -> repl(inside).

    What `re.sub(r"\\\((.+?)\\\)", ...)` did, in linear time: the regex searched to the end of
    the text again for every opener that has no closer (quadratic on `\(` repeated), where
    here the first opener without a closer ends the search, as no later one has a closer."""
    out: list[str] = []
    pos = 0
    while (p := text.find(opener, pos)) != -1:
        q = text.find(closer, p + len(opener) + 1)
        if q == -1:
            break
        out += (text[pos:p], repl(text[p + len(opener) : q]))
        pos = q + len(closer)
    out.append(text[pos:])
    return "".join(out)


def markdown(text: str) -> str:
    """Sanitized HTML of Markdown with math. Also fine on a half-streamed text."""
    html = _parser().render(_normalise_delimiters(text or ""))
    return sanitize(html)


def sanitize(html: str) -> str:
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRS,
        allowed_classes=_CLASSES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def turn_html(i: int, question: str, answer: str, *, streaming: bool = False) -> str:
    """One question and its answer: papers.cool's `p.faq-q` / `div.faq-a` pair. The streamed
    view and the final view are both made of these, so they look the same."""
    live = ' data-streaming="1"' if streaming else ""
    return (
        f'<p class="faq-q"><strong>Q{i + 1}</strong>: {escape(question)}</p>\n'
        f'<div class="faq-a"{live}>{markdown(answer)}</div>\n'
    )


def faq_html(turns: list[tuple[str, str]]) -> str:
    """The whole FAQ (the fragment /arxiv/kimi serves, and the cached answer's HTML)."""
    return "".join(turn_html(i, q, a) for i, (q, a) in enumerate(turns))
