"""Stopping an answer that repeats itself or copies.

Small models loop: SmolLM2-135M wrote a 14,903-character FAQ whose first answer said one
invented sentence three times and whose next answers repeated the first. Sampling penalties
make this rarer (llm/models.py) but cannot rule it out: llama.cpp's repeat penalty sees only
the last tokens, and an earlier answer is not in its window at all. So every streamed answer
(the FAQ's turns and readers' follow-ups, llm/chat.py) is watched as it grows, and the
generation is stopped where it starts to
- say a sentence (5 words or more) it has said already in this answer,
- say a run of RUN_WORDS words (RUN_CJK characters in Chinese) it has said already: a loop
  that never ends its sentence,
- copy a sentence of an earlier answer of the same FAQ, or restate its question (as its
  first sentence, the copy or the restated question is dropped, and the answer goes on);
- go on with a question of its own ("The next question is: ..."), or end by restating its
  question: the answer ends there, unmarked (it is whole before that).
An answer's last sentence is checked when the model stops by itself (`close`).
The answer keeps what came before and ends with MARK, so readers see it was cut, and why.

Sentences and runs are compared normalised (case, Markdown marks, spaces, digits kept), so
`**The model**` and `the model` are the same words. Checking is incremental: each call looks
at the text added since the last one (from the last sentence end, the last word), so a long
answer costs no more per piece than a short one.

Readers are shown only what can no longer be cut (`settled`): the finished sentences, and of
a long unfinished one all but its last RUN_WORDS words. So the streamed answer is the stored
one, and a repeat is never on screen, not even for a moment.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

MIN_WORDS = 5  # shorter "sentences" are headings, list labels or "Yes."
MIN_CJK = 10  # ... the same for Chinese, in characters
RUN_WORDS = 12  # a run of this many words said twice in one answer is a loop
RUN_CJK = 20
# An unfinished sentence longer than this (in words) is shown but for its last RUN_WORDS
# words: a repeat of it would have been caught as a run by then.
LONG_SENTENCE = 2 * RUN_WORDS
# How a cut answer ends (Markdown), in the answer's language.
MARK = {
    "en": "*(cut: the model began to repeat itself)*",
    "zh": "*（模型开始重复自己，已截断）*",
}

_TOKEN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]|[^\W_]+")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# Where a sentence ends: after . ! ? (and their CJK forms) followed by space, or at a newline.
# (Latin marks only before a space: "arXiv.org", "e.g.," and 3.5 do not end sentences.)
_END = re.compile(r"(?<=[.!?;])\s+|(?<=[。！？；])\s*|\n+")


# A sentence that starts a question of the model's own: "Question: ...", "The next question
# is ...", "问题：..." (the excerpts' prompt ends with "Question: {question}": a small model
# goes on in the same form).
_ASKS = re.compile(
    r"\s*(?:[*_#>\[\]\d.)\s]*)(?:(?:the\s+)?next\s+question\b|question\s*\d*\s*[:：]|"
    r"下一个问题|问题\s*[:：])",
    re.I,
)


def mark(lang: str) -> str:
    return MARK.get(lang, MARK["en"])


def _tokens(text: str) -> list[tuple[str, int]]:
    """(normalised token, its offset in `text`): words, and each CJK character alone."""
    return [(m.group().lower(), m.start()) for m in _TOKEN.finditer(text)]


def _key(sentence: str) -> str | None:
    """A sentence as compared, or None when it is too short to count."""
    toks = [t for t, _ in _tokens(sentence)]
    cjk = sum(1 for t in toks if _CJK.match(t))
    if len(toks) - cjk < MIN_WORDS and cjk < MIN_CJK:
        return None
    return " ".join(toks)


def sentence_keys(text: str) -> set[str]:
    """The sentences of `text` that count, normalised."""
    out = set()
    for s in _END.split(text):
        k = _key(s)
        if k is not None:
            out.add(k)
    return out


@dataclass(slots=True)
class Guard:
    """Watches one answer. `earlier`: the FAQ's earlier answers (copying one is stopped);
    `question`: the question it answers (restating it is stopped)."""

    earlier: Iterable[str] = ()
    question: str = ""
    cut: int | None = None  # where the answer was cut, once it was
    lead: int = 0  # where the answer starts: after a first sentence restating the question
    why: str = ""  # what was repeated, for logs and tests
    quiet: bool = False  # cut where nothing was repeated: no mark
    _others: set[str] = field(default_factory=set)
    _question: str | None = None
    _said: dict[str, int] = field(default_factory=dict)  # sentence key -> its first offset
    _runs: dict[tuple[str, ...], int] = field(default_factory=dict)  # run -> offset
    _done: int = 0  # text checked up to here (the start of the unfinished sentence)
    _released: int = 0  # text shown up to here (`settled`): never taken back
    _tokens_seen: int = 0  # runs were checked up to this token
    _toks: list[str] = field(default_factory=list)  # the answer's tokens so far ...
    _offs: list[int] = field(default_factory=list)  # ... and where each starts

    def __post_init__(self) -> None:
        for a in self.earlier:
            self._others |= sentence_keys(a)
        self._question = _key(self.question.strip().rstrip("?？")) if self.question else None

    def check(self, text: str) -> int | None:
        """Feed the whole answer so far; the offset to cut it at once it repeats (the start
        of the repeated sentence or run), else None. Stays cut once cut."""
        if self.cut is not None:
            return self.cut
        self._runs_check(text)
        if self.cut is None:
            self._sentences_check(text)
        return self.cut

    def _sentences_check(self, text: str) -> None:
        # Only finished sentences: the last piece may still grow.
        pos = self._done
        for m in _END.finditer(text, pos):
            sentence = text[pos : m.start()]
            start = pos + len(sentence) - len(sentence.lstrip())
            pos = m.end()
            key = _key(sentence)
            if _ASKS.match(sentence) and (key is None or not _restates(key, self._question)):
                # "The next question is: ...": the answer is over, the model goes on with a
                # question of its own. Ended there, with no mark: nothing was repeated.
                self._stop(start, "asks a question of its own", quiet=True)
                return
            if key is None:
                continue
            if key in self._said:
                self._stop(start, f"sentence said twice: {sentence.strip()[:80]!r}")
                return
            copied = key in self._others
            restated = _restates(key, self._question)
            if (copied or restated) and not self._said and self._released <= self.lead <= start:
                # The answer opens with its question restated, or with an earlier answer's
                # first words ("The paper ..."): dropped, and the answer goes on after it.
                self.lead = pos
                continue
            if copied:
                self._stop(start, f"copies an earlier answer: {sentence.strip()[:80]!r}")
                return
            if restated:  # (the answer before it is whole: ended there, no mark)
                self._stop(start, "restates the question", quiet=True)
                return
            self._said[key] = start
        self._done = pos

    def close(self, text: str) -> int | None:
        """The answer is complete (the model stopped by itself): its last sentence is checked
        too, as finished. (Not for an answer cut at the length limit: its last is not.)"""
        return self.check(text + "\n")

    def _tokenize(self, text: str) -> None:
        """Bring the tokens up to `text`: only its new end is read again (from the start of
        the last token, which may have grown), so a long answer costs no more per piece."""
        start = self._offs.pop() if self._offs else 0
        if self._toks:
            self._toks.pop()
        for tok, off in _tokens(text[start:]):
            self._toks.append(tok)
            self._offs.append(start + off)

    def _runs_check(self, text: str) -> None:
        self._tokenize(text)
        toks = self._toks
        # Runs ending at each new token (the last token may still grow: not yet). A run is
        # RUN_CJK characters where Chinese is being written, else RUN_WORDS words.
        for end in range(max(1, self._tokens_seen), len(toks)):
            n = RUN_CJK if _CJK.match(toks[end - 1]) else RUN_WORDS
            if end < n:
                continue
            run = tuple(toks[end - n : end])
            offset = self._offs[end - n]
            # (overlapping itself, e.g. "a a a ...", is a loop too)
            if run in self._runs:
                self._stop(offset, f"run of {n} words said twice: {' '.join(run)[:80]!r}")
                return
            self._runs[run] = offset
        self._tokens_seen = max(self._tokens_seen, len(toks))

    def _stop(self, at: int, why: str, quiet: bool = False) -> None:
        # What readers were shown stays (it was checked when shown; a cut only ends it).
        self.cut, self.why, self.quiet = max(at, self._released), why, quiet

    def settled(self, text: str, lang: str) -> str:
        """The part of the kept answer that can no longer change (see the module's docstring)."""
        if self.cut is not None:
            return self.final(text, lang)
        safe = self._done
        tail = len(self._offs) - bisect.bisect_left(self._offs, self._done)
        if tail > LONG_SENTENCE:
            safe = max(safe, self._offs[-RUN_WORDS - 1])
        shown = text[self.lead : max(self.lead, safe)].rstrip()
        self._released = max(self._released, self.lead + len(shown))
        return shown

    def final(self, text: str, lang: str, whole: bool = True) -> str:
        """The answer as kept: from `lead`, and up to the cut with the mark, if it was cut.
        `whole` False (the model hit its length limit): without the unfinished last sentence,
        if a sentence was finished before it."""
        if self.cut is None and not whole:
            done = text[self.lead : max(self.lead, self._done)].rstrip()
            if done:
                return done
        if self.cut is None:
            return text[self.lead :] if self.lead < len(text) else text
        kept = text[self.lead : max(self.lead, self.cut)]
        return kept.rstrip() if self.quiet and kept.strip() else trim(kept, lang)


def _restates(key: str, question: str | None) -> bool:
    """The sentence is the question, or the question announced as one ("Question: ...", "The
    next question is: ..."); any other sentence quoting it may well answer it."""
    if question is None or not key.endswith(question):
        return False
    before = key[: -len(question)].split()
    return not before or (len(before) <= 4 and ("question" in before or "问" in before))


def trim(text: str, lang: str) -> str:
    """A cut answer ended with the mark (after a blank line when it ends with a list)."""
    kept = text.rstrip()
    # An unfinished Markdown emphasis or list marker at the cut would swallow the mark.
    kept = re.sub(r"(?:\n\s*(?:[-*+]|\d+[.)]))\s*$", "", kept).rstrip()
    sep = "\n\n" if kept.endswith(":") or re.search(r"(?m)^\s*(?:[-*+]|\d+[.)])\s", kept) else " "
    return f"{kept}{sep}{mark(lang)}" if kept else mark(lang)
