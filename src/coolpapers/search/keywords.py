"""Ten keywords per paper: TF-IDF over the corpus, words and two-word phrases.

Document frequencies are counted as papers are indexed (table search_df, the row "" holds the
number of documents), so keywords need no second pass over the corpus; the first papers of an
empty instance get rougher keywords, and `coolpapers index --rekey` recomputes them all.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping

from coolpapers.texmarkup import split_math

N_KEYWORDS = 10
_WORD = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
# don't, model's: never a keyword. The lookbehind lets a match start only where a word starts:
# unanchored, `\w+` would be tried at every position of a long word, each try running to the
# word's end (quadratic: 80k characters took minutes). A match can never start inside a word
# anyway (starting one character earlier would match as well), so the matches are the same.
_CONTRACTION = re.compile(r"(?<!\w)\w+['’]\w+")
# English function words and the boilerplate of abstracts: never a keyword
_STOP = """a about above across after again against all almost also although always among an and
    another any are around as at based be because been before being below between both but by
    can could did do does doing done due during each either enough especially etc even every
    first for from further furthermore given has have having here how however i if in into is
    it its itself just large less like made mainly make many may more moreover most mostly much
    must near nearly new not now of often on once one only or other our out over overall paper
    per perform performance propose proposed provide provides rather recent recently result
    results same several shown show shows significant significantly since so some such than
    that the their them then there therefore these they this those though three through thus
    to together two under up upon us use used uses using various very via was we well were
    what when where whether which while who whose why will with within without work would yet
    approach approaches method methods model models task tasks study demonstrate demonstrates
    existing novel state-of-the-art outperforms achieve achieves address introduce introduces
    present presents experiments experimental extensive furthermore leverage leverages key
    code available https github com http www org"""
STOP = frozenset(_STOP.split())


def terms(title: str, abstract: str) -> Counter[str]:
    """Term counts of a paper: words (3+ letters, no stop word) and adjacent word pairs;
    title words count twice; math spans are left out."""
    out: Counter[str] = Counter()
    for text, weight in ((title, 2), (abstract, 1)):
        plain = " ".join(seg for seg, is_math in split_math(text or "") if not is_math)
        plain = _CONTRACTION.sub(" ", plain)
        for chunk in re.split(r"[.,;:!?()\[\]{}\"]", plain.lower()):
            words = _WORD.findall(chunk)
            prev: str | None = None
            for w in words:
                ok = len(w) >= 3 and w not in STOP and not w.isdigit()
                if ok:
                    out[w] += weight
                    if prev:
                        out[f"{prev} {w}"] += weight
                prev = w if ok else None
    return out


def top(counts: Counter[str], df: Mapping[str, int], n_docs: int, k: int = N_KEYWORDS) -> list[str]:
    """The k terms of highest tf·idf; a word inside a chosen phrase (or a phrase around a
    chosen word) is not chosen again."""
    n = max(n_docs, 1)
    scored = sorted(
        counts.items(),
        key=lambda kv: (-(1 + math.log(kv[1])) * math.log((n + 1) / (df.get(kv[0], 0) + 1)), kv[0]),
    )
    chosen: list[str] = []
    for term, c in scored:
        if " " in term and c < 2 and df.get(term, 0) < 2:
            continue  # a phrase seen once in one paper is chance, not a keyword
        parts = set(re.split(r"[ -]", term))
        if any(parts & set(re.split(r"[ -]", x)) for x in chosen):
            continue
        chosen.append(term)
        if len(chosen) == k:
            break
    return chosen


def vocabulary(docs: Iterable[Counter[str]]) -> Counter[str]:
    """Document frequencies of a batch of term counts."""
    df: Counter[str] = Counter()
    for d in docs:
        df.update(d.keys())
    return df
