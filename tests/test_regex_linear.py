"""Untrusted text never meets a pattern (or loop) that is quadratic in its length.

Issue 11: one 10 MB title froze `coolpapers index` for 18 minutes and `serve` with it, because
`\\w+['’]\\w+` retried at every character of a long word. Each function below runs on long
adversarial inputs (runs of one character, near-miss delimiters, nesting) and must finish well
within LIMIT; the quadratic versions took from seconds to minutes on the same inputs.

Equivalence with the old patterns on real text is covered by each module's own tests.
"""

from __future__ import annotations

import math
import random
import re
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from coolpapers import texmarkup
from coolpapers.llm import context, fulltext
from coolpapers.llm import render as llm_render
from coolpapers.search import keywords, service
from coolpapers.sources.arxiv import _xml, ids
from coolpapers.web import diagnose, spec
from coolpapers.web import render as web_render

N = 100_000
LIMIT = 2.0  # seconds; linear versions take well under 0.3 s here, quadratic ones minutes
HANG = 10.0  # a quadratic version is stopped here, so that the suite fails rather than hangs

# Long runs of one character, and the near-misses of each pattern's delimiters: an opener with
# no closer, an escape before every delimiter, nesting, a word that almost matches.
INPUTS = {
    "word": "a" * N,
    "word then quote": "a" * N + "'",
    "contractions": "a'" * (N // 2),
    "digits": "1" * N,
    "spaces": " " * N,
    "spaces then newline": " " * N + "\n",
    "newlines": "\n" * N,
    "blank lines": "\n \n\xa0" * (N // 4),
    "dollars": "$" * N,
    "dollar then text": "$" + "x" * N,
    "escaped dollars": "\\$" * (N // 2),
    "dollar and escapes": "$" + "\\$" * (N // 2),
    "backslashes": "\\" * N,
    "open parens, tex": "\\(" * (N // 2),
    "open brackets, tex": "\\[" * (N // 2),
    "braces": "{" * N,
    "accent commands": "\\'" * (N // 2),
    "accent then spaces": "\\'" + " " * N,
    "nested parens": "(" * (N // 2) + ")" * (N // 2),
    "open parens": "(" * N,
    "hyphens": "a-" * (N // 2),
    "hyphenated line ends": "a-\n" * (N // 3),
    "backtick then text": "`" + "a" * N,
    "v digits": "v1" * (N // 2),
    "url": "https://arxiv.org/abs/" + "a" * N,
    "ands": " and" * (N // 4),
    "plus signs": "+" * N,
    "category codes": "cs.AI+" * (N // 6),
}


def _quiet(f: Callable[[str], Any]) -> Callable[[str], Any]:
    """`f`, where a ValueError (a bad id or spec: the expected answer to junk) is an answer."""

    def call(text: str) -> Any:
        try:
            return f(text)
        except ValueError:
            return None

    return call


# the keyphrases' lexicon loads once per process (about a second): not a cost of any input
keywords.candidates("A warm-up title", "The lexicon loads once.")
FUNCTIONS: dict[str, Callable[[str], Any]] = {
    "keywords.terms": lambda s: keywords.terms(s, s),
    "keywords.candidates": lambda s: keywords.candidates(s, s),
    "texmarkup.split_math": texmarkup.split_math,
    "texmarkup.accents_to_unicode": texmarkup.accents_to_unicode,
    "texmarkup.unwrap": texmarkup.unwrap,
    "web.render.tex": web_render.tex,
    "web.render.paragraphs": web_render.paragraphs,
    "web.render.xml_safe": web_render.xml_safe,
    "ids.parse": _quiet(ids.parse),
    "ids.split_version": ids.split_version,
    "spec.parse": _quiet(spec.parse),
    "diagnose.recased": diagnose.recased,
    "diagnose.explain": lambda s: diagnose.explain(s, spec.BadSpec("x")),
    "search.service.id_redirect": service.id_redirect,
    "sources.split_authors": _xml.split_authors,
    # three pages (running headers are looked for), the middle one different: a line on
    # every page would be dropped as a running header before the patterns saw it
    "fulltext.clean": lambda s: fulltext.clean([s, "page two", s]),
    "fulltext.split": fulltext.split,
    "context.split_chunks": context.split_chunks,
}
# Markdown rendering costs more per character (markdown-it), so it gets the inputs that reach
# our own pre-processing (TeX delimiters, code spans) rather than all of them.
MARKDOWN_INPUTS = [
    "dollars",
    "dollar then text",
    "open parens, tex",
    "open brackets, tex",
    "backslashes",
    "backtick then text",
    "word",
]


class Hang(Exception):
    pass


@contextmanager
def _stop_after(seconds: float) -> Iterator[None]:
    """Raise Hang after `seconds`: the regex engine checks for signals as it runs, so a
    quadratic pattern fails the test instead of holding it for minutes."""

    def alarm(signum: int, frame: Any) -> None:
        raise Hang(f"still running after {seconds:.0f} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _elapsed(f: Callable[[str], Any], text: str) -> float:
    """Seconds `f(text)` took; infinity when it was stopped after HANG seconds."""
    t0 = time.perf_counter()
    try:
        with _stop_after(HANG):
            f(text)
    except Hang:
        return math.inf
    return time.perf_counter() - t0


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_linear_on_adversarial_text(name: str) -> None:
    f = FUNCTIONS[name]
    slow: dict[str, float] = {}
    for label, text in INPUTS.items():
        took = _elapsed(f, text)
        if took > LIMIT:
            slow[label] = round(took, 2)
        if took == math.inf:
            break  # one hang is enough to fail on; the others would only add minutes
    assert not slow, f"{name} is slow (seconds) on: {slow}"


@pytest.mark.parametrize("label", MARKDOWN_INPUTS)
def test_markdown_linear(label: str) -> None:
    took = _elapsed(llm_render.markdown, INPUTS[label])
    assert took < LIMIT, f"llm.render.markdown took {took:.2f} s on {label!r}"


def test_chunking_a_huge_line_is_linear() -> None:
    """A PDF line of 25M characters with no sentence end (a table, a formula): cut by index
    (0.4 s); chopping off its head in a loop copied the rest each time (7.5 s for 20M)."""
    text = "x" * 25_000_000
    took = _elapsed(context.split_chunks, text)
    assert took < LIMIT, f"context.split_chunks took {took:.2f} s"
    line = "".join(chr(65 + i % 26) for i in range(3 * context.CHUNK_CHARS + 5))
    chunks = context.split_chunks(line)
    assert "".join(c.text.replace("\n", "") for c in chunks) == line  # cut, nothing lost


# ---- the linear versions answer what the old patterns did ----------------------------------
# On short random strings over each pattern's special characters, where the old (quadratic)
# patterns are quick, the answers must be the same.


def _random_strings(alphabet: list[str], seed: int, n: int = 4000) -> Iterator[str]:
    rnd = random.Random(seed)
    for _ in range(n):
        yield "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 12)))


def test_split_math_as_the_old_pattern() -> None:
    old = re.compile(r"(?<!\\)(\$\$.+?(?<!\\)\$\$|\$.+?(?<!\\)\$|\\\(.+?\\\)|\\\[.+?\\\])", re.S)
    for s in _random_strings(["$", "$", "$$", "\\", "(", ")", "[", "]", "a", "\n"], 1):
        want: list[tuple[str, bool]] = []
        pos = 0
        for m in old.finditer(s):
            want += [(s[pos : m.start()], False)] if m.start() > pos else []
            want.append((m.group(), True))
            pos = m.end()
        want += [(s[pos:], False)] if pos < len(s) else []
        assert texmarkup.split_math(s) == want, s


def test_markdown_delimiters_as_the_old_patterns() -> None:
    paren = re.compile(r"\\\((.+?)\\\)", re.S)
    bracket = re.compile(r"\\\[(.+?)\\\]", re.S)

    def old(text: str) -> str:
        parts = llm_render._CODE.split(text)
        for i in range(0, len(parts), 2):
            p = bracket.sub(lambda m: f"$${m.group(1)}$$", parts[i])
            parts[i] = paren.sub(lambda m: f"${m.group(1).strip()}$", p)
        return "".join(parts)

    for s in _random_strings(["\\", "\\", "(", ")", "[", "]", "a", " ", "`", "\n"], 2):
        assert llm_render._normalise_delimiters(s) == old(s), s


def test_drop_parens_as_the_old_loop() -> None:
    def old(s: str) -> str:
        while (t := re.sub(r"\s*\([^()]*\)", "", s)) != s:
            s = t
        return s.strip()

    for s in _random_strings(["(", "(", ")", ")", "a", " ", "\n"], 3):
        assert _xml._drop_parens(s) == old(s), s
        assert _xml._AND.split(s + " and " + s) == re.split(r"\s+and\s+", s + " and " + s)


def test_fulltext_patterns_as_the_old_ones() -> None:
    refs = re.compile(r"^\s*(?:\d+\.?\s*|[IVX]+\.\s*)?(?:references|bibliography)\s*$", re.I | re.M)
    appx = re.compile(
        r"^\s*(?:(?i:appendix|appendices|supplementary material)"
        r"|[A-H](?:\.\d)?\s+[A-Z][\w ,:-]{3,80})\s*$",
        re.M,
    )
    brk = re.compile(r"([A-Za-z]*[a-z])(?:-\n|\ufffe\n?)([a-z][A-Za-z]*)")
    lines = ["", " ", "\xa0", "References", "2. Bibliography", "Appendix", "A Proofs of it", "x"]
    for s in _random_strings([f"{line}\n" for line in lines] + ["\n\n", "\t"], 4, 3000):
        for pattern, new in ((refs, fulltext._REFS), (appx, fulltext._APPX)):
            want = [(m.start(), m.end()) for m in pattern.finditer(s)]
            assert [(p, m.end()) for p, m in fulltext._finditer(new, s)] == want, s
    for s in _random_strings(["a", "B", "-", "\n", "\ufffe", " ", "b"], 5):
        assert [m.span() for m in fulltext._BREAK.finditer(s)] == [
            m.span() for m in brk.finditer(s)
        ], s
        assert re.sub(r"(?<![ \t])[ \t]+\n", "\n", s) == re.sub(r"[ \t]+\n", "\n", s)


def test_contraction_as_the_old_pattern() -> None:
    old = re.compile(r"\w+['’]\w+")
    for s in _random_strings(["a", "b", "'", "’", " ", "-", "1", "é"], 6):
        assert keywords._CONTRACTION.findall(s) == old.findall(s), s
