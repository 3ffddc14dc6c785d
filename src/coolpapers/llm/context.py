"""What the model sees of a paper, fitted to its context window.

Four ways, from best to least, named in the answer's header:
- full: the whole text, once, before the questions (papers.cool's way);
- trimmed: the same without references, then without the appendix;
- sections: for models too small to hold even the body (SmolLM2's 8k tokens hold a few
  pages): the opening turn carries the abstract, and each question's turn carries the
  excerpts of the paper that bear on it, found by full-text search over the paper's chunks
  (SQLite FTS5 in memory: porter stemming, bm25; headings count more). Earlier turns keep
  their questions and answers but not their excerpts, so the conversation stays one
  conversation and still fits;
- abstract: no full text could be had.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field

from coolpapers.llm import fulltext
from coolpapers.llm.models import Window
from coolpapers.llm.prompts import SOURCE_NAMES, Prompts
from coolpapers.records import Paper

Message = dict[str, str]
SEEN = ("full", "trimmed", "sections", "abstract")

CHUNK_CHARS = 900  # a chunk: a few paragraphs, enough to carry one point with its context
# A heading: a short line, numbered ("3.2 Scaled Dot-Product Attention") or a known name.
_HEADING = re.compile(
    r"^(?:(?:\d+(?:\.\d+){0,3}\.?|[IVX]{1,5}\.|[A-H]\.\d+)\s+[A-Z][^.\n]{2,60}"
    r"|(?i:abstract|introduction|related work|background|method|methods|approach|experiments?"
    r"|results|evaluation|discussion|conclusions?|limitations|future work|appendix))\s*$"
)
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]{2,}")
_STOP = frozenset(
    "the and for are this that with what does how from into paper there which about more "
    "could some can its their has have was were been will would should any all".split()
)


@dataclass(slots=True)
class Chunk:
    pos: int  # order in the paper
    heading: str
    text: str

    def render(self) -> str:
        return f"[{self.heading}]\n{self.text}" if self.heading else self.text


@dataclass(slots=True)
class Context:
    """A paper put before the model: the opening messages, and how to ask each question."""

    prompts: Prompts
    lang: str
    seen: str  # one of SEEN
    opening: list[Message]
    window: Window
    chunks: list[Chunk] = field(default_factory=list)
    _index: sqlite3.Connection | None = None

    def ask(self, history: list[Message], question: str, index: int | None) -> list[Message]:
        """The messages of the call that asks `question` after `history` (the opening and
        the earlier turns, as plain questions and answers). `index`: the question's place in
        the FAQ (its retrieval hint), None for a reader's own question."""
        if self.seen != "sections":
            return [*history, {"role": "user", "content": question}]
        frame = self.prompts.excerpts[self.lang]
        used = sum(self.window.count(m["content"]) for m in history)
        room = self.window.turn - used - self.window.count(frame.format(excerpts="", question=""))
        room = min(room - self.window.count(question), self.window.excerpts)
        hint = (
            self.prompts.hints[index]
            if index is not None and index < len(self.prompts.hints)
            else ""
        )
        chosen = self.retrieve(f"{question} {hint}", room)
        excerpts = "\n\n".join(c.render() for c in chosen)
        content = frame.format(excerpts=excerpts, question=question)
        return [*history, {"role": "user", "content": content}]

    def retrieve(self, query: str, budget: int) -> list[Chunk]:
        """The best-matching chunks that fit in `budget` tokens, in the paper's order (the
        opening chunks when nothing matches)."""
        picked: list[Chunk] = []
        for chunk in self._rank(query) or self.chunks:
            cost = self.window.count(chunk.render()) + 2
            if cost <= budget:
                picked.append(chunk)
                budget -= cost
            if budget < 32:
                break
        return sorted(picked, key=lambda c: c.pos)

    def _rank(self, query: str) -> list[Chunk]:
        words = [w.lower() for w in _WORD.findall(query) if w.lower() not in _STOP]
        if not words or self._index is None:
            return []
        match = " OR ".join(f'"{w}"' for w in dict.fromkeys(words))
        rows = self._index.execute(
            "SELECT rowid FROM chunks WHERE chunks MATCH ? ORDER BY bm25(chunks, 4.0, 1.0)",
            (match,),
        ).fetchall()
        return [self.chunks[r[0]] for r in rows]


def build(
    prompts: Prompts, paper: Paper, text: fulltext.FullText, lang: str, window: Window
) -> Context:
    """Fit the paper's text to the window: whole, trimmed, or by sections."""
    system = {"role": "system", "content": prompts.system[lang]}

    def opening(seen: str, body: str) -> list[Message]:
        names = SOURCE_NAMES[lang]
        turn = prompts.paper[lang].format(title=paper.title, source=names[seen], text=body)
        return [system, {"role": "user", "content": turn}]

    if text.source != "pdf":
        return Context(prompts, lang, "abstract", opening("abstract", paper.abstract), window)
    for seen, candidate in [("full", text.text)] + [
        ("trimmed", t) for t in fulltext.shorter(text.text)
    ]:
        if window.count(candidate) <= window.paper:
            return Context(prompts, lang, seen, opening(seen, candidate), window)
    body, appendix = fulltext.split(text.text)
    chunks = split_chunks(body + ("\n\n" + appendix if appendix else ""))
    return Context(
        prompts,
        lang,
        "sections",
        opening("sections", paper.abstract),
        window,
        chunks,
        _index(chunks),
    )


def split_chunks(text: str) -> list[Chunk]:
    """The text cut into chunks of about CHUNK_CHARS, each with its section heading; a chunk
    never spans two sections and ends at a sentence end where it can. Works on lines: text
    from a PDF has no reliable paragraph breaks."""
    chunks: list[Chunk] = []
    heading, lines, size = "", [], 0

    def flush() -> None:
        nonlocal lines, size
        body = "\n".join(lines).strip()
        if body:
            chunks.append(Chunk(len(chunks), heading, body))
        lines, size = [], 0

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if len(line) <= 80 and _HEADING.match(line):
            flush()
            heading = line
            continue
        for piece in _pieces(line):  # a whole paragraph on one line is cut at sentence ends
            if size + len(piece) > 2 * CHUNK_CHARS:
                flush()
            lines.append(piece)
            size += len(piece) + 1
            if size >= CHUNK_CHARS and piece.endswith((".", "!", "?")):
                flush()
    flush()
    return chunks


def _pieces(para: str) -> list[str]:
    """A line, cut at sentence ends (or anywhere, if need be) into pieces of at most
    CHUNK_CHARS."""
    if len(para) <= CHUNK_CHARS:
        return [para]
    out, cur = [], ""
    for sentence in re.split(r"(?<=[.!?])\s+", para):
        if len(sentence) > CHUNK_CHARS:  # a table or a formula with no sentence end
            # cut by index: chopping the head off in a loop copied the rest each time
            # (quadratic on a long line); the last piece keeps 1 to CHUNK_CHARS characters
            cut = (len(sentence) - 1) // CHUNK_CHARS * CHUNK_CHARS
            out += (sentence[i : i + CHUNK_CHARS] for i in range(0, cut, CHUNK_CHARS))
            sentence = sentence[cut:]
        if cur and len(cur) + len(sentence) + 1 > CHUNK_CHARS:
            out.append(cur)
            cur = ""
        cur = f"{cur} {sentence}".strip()
    if cur:
        out.append(cur)
    return out


def _index(chunks: list[Chunk]) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:", check_same_thread=False)
    db.execute(
        "CREATE VIRTUAL TABLE chunks USING fts5(heading, body, "
        "tokenize='porter unicode61 remove_diacritics 2')"
    )
    db.executemany(
        "INSERT INTO chunks(rowid, heading, body) VALUES (?, ?, ?)",
        [(c.pos, c.heading, c.text) for c in chunks],
    )
    return db
