"""LLM Markdown with math -> sanitized HTML: math survives Markdown, payloads do not."""

from __future__ import annotations

import json
import re
from pathlib import Path

from coolpapers.llm import prompts, render


def _math(html: str) -> list[str]:
    return re.findall(r'<span class="math[^"]*"[^>]*>(.*?)</span>', html, re.S)


def test_math_with_underscores_stars_and_backslashes_survives() -> None:
    html = render.markdown(r"Loss $L = \sum_i a_i * b_i \\ c_*$ and _emph_ and $x^*_j$.")
    assert _math(html) == [r"$L = \sum_i a_i * b_i \\ c_*$", "$x^*_j$"]
    assert "<em>emph</em>" in html  # Markdown still works outside math
    assert html.count("<em>") == 1  # ... and never inside it


def test_display_math_and_bracket_delimiters() -> None:
    html = render.markdown(
        "Inline \\(a_b * c_d\\) then\n\n\\[ \\mathbf{x}_1 * y \\]\n\n$$z_1*z_2$$"
    )
    found = _math(html)
    assert found == ["$a_b * c_d$", r"$$\mathbf{x}_1 * y$$", "$$z_1*z_2$$"]
    assert html.count('class="math display notranslate"') == 2
    assert 'translate="no"' in html


def test_dollar_amounts_are_money_not_math() -> None:
    html = render.markdown("It costs $5 and $10 a day; the $2$-norm of $x_1$ is $O(n^2)$.")
    assert _math(html) == ["$2$", "$x_1$", "$O(n^2)$"]
    assert "costs $5 and $10 a day" in html


def test_math_delimiters_in_code_are_left_alone() -> None:
    html = render.markdown("```python\nx = a_b * c  # \\(not math\\) $y_1$\n```\n\nand `$k_1$`")
    assert "<pre><code" in html and r"\(not math\)" in html
    assert "<code>$k_1$</code>" in html
    assert _math(html) == []


def test_tables_lists_and_code() -> None:
    md = "| a | $b_1$ |\n|---|---|\n| 1 | 2 |\n\n1. one\n2. **two**\n\n- x\n\n`code_*_x`"
    html = render.markdown(md)
    assert "<table>" in html and "<th>a</th>" in html and "<td>2</td>" in html
    assert "<ol>" in html and "<strong>two</strong>" in html and "<ul>" in html
    assert "<code>code_*_x</code>" in html
    assert _math(html) == ["$b_1$"]


def test_script_handlers_and_javascript_urls_are_removed() -> None:
    evil = (
        "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n"
        "[click](javascript:alert(1)) [ok](https://arxiv.org/abs/1706.03762)\n\n"
        '<a href="javascript:alert(2)" onclick="alert(3)">x</a>\n\n'
        "![img](javascript:alert(4)) <iframe src=//evil></iframe> "
        '<span class="math" onmouseover="alert(5)">$x$</span>'
    )
    html = render.markdown(evil)
    lower = html.lower()
    assert "<script" not in lower and "<img" not in lower and "<iframe" not in lower
    assert not re.search(r"<[^>]+\son\w+\s*=", lower)  # no event handler attribute on a tag
    assert not re.search(r'<a[^>]+href="javascript', lower)  # as text (escaped) only
    assert '<a href="https://arxiv.org/abs/1706.03762" rel="noopener noreferrer nofollow">' in html
    # The raw HTML is shown as text, escaped, never interpreted.
    assert "&lt;script&gt;" in html


def test_sanitizer_drops_dangerous_markup_even_if_the_parser_let_it_through() -> None:
    raw = (
        '<p onclick="x()">a<script>b()</script></p><a href="javascript:c()">l</a>'
        '<span class="math evil" style="x">$y$</span>'
    )
    out = render.sanitize(raw)
    assert "onclick" not in out and "<script" not in out and "javascript:" not in out
    assert 'class="math"' in out and "style" not in out and "evil" not in out


def test_streamed_and_final_views_are_made_the_same_way() -> None:
    answer = "Part one $a_1$.\n\n| h |\n|---|\n| v |"
    final = render.faq_html([("Q?", answer)])
    live = render.turn_html(0, "Q?", answer, streaming=True)
    assert final == live.replace(' data-streaming="1"', "")
    assert final.startswith('<p class="faq-q"><strong>Q1</strong>: Q?</p>')
    # A half-streamed answer (an unclosed $) renders without error and without math.
    assert "<p>" in render.markdown("Part $a_")


def test_prompts_are_versioned_and_configurable(tmp_path: Path) -> None:
    assert len(prompts.BUILTIN.questions["zh"]) == len(prompts.BUILTIN.questions["en"]) == 6
    assert prompts.BUILTIN.questions["zh"][0] == "这篇论文试图解决什么问题？"
    f = tmp_path / "prompts.json"
    f.write_text(json.dumps({"version": "lab-7", "questions": {"en": ["Only one?"]}}), "utf-8")
    custom = prompts.load(str(f))
    assert custom.version == "lab-7" and custom.questions["en"] == ["Only one?"]
    assert custom.questions["zh"] == prompts.BUILTIN.questions["zh"]  # the rest: built-in
    assert prompts.load("") is prompts.BUILTIN
