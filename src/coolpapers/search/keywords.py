"""Ten keyphrases per paper: noun phrases a researcher would pick, found by YAKE.

YAKE (Campos et al., Information Sciences 2020; `yake-rust`, the Rust port of the reference
implementation, MIT) proposes a paper's best phrases of one to three words from the statistics
of its own text (position, casing, frequency, spread over sentences, variety of neighbours), a
lower score being more key. Around it:

- the title's Title Case is lowered first: to YAKE a capital means a name or an acronym, and
  every word of a title would otherwise look like one;
- only noun phrases are kept: no stop word anywhere, no word that can only be a verb or an
  adverb ("analysis identifies", "focus solely"), a head that can be a noun; word classes come
  from the SPECIALIST lexicon (`lemminflect`; unknown words, usually new terms, pass);
- a phrase that occurs only inside a longer candidate is a fragment of it and is dropped;
- YAKE sees one paper; the corpus says what is generic: a phrase's score is divided by its
  inverse document frequency (table search_df), and phrases no other paper uses weigh less
  (a title's turn of phrase, rarely a field's term);
- the ten are diverse: a phrase sharing a word with a better one is skipped.

Document frequencies of words and adjacent word pairs are counted as papers are indexed
(`terms`, table search_df, the row "" holds the number of documents), so keywords need no
second pass over the corpus; the first papers of an empty instance get rougher keywords, and
`coolpapers index --rekey` recomputes them all. Measured in bench/related.py.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import lru_cache
from itertools import pairwise

import yake_rust
from lemminflect import getAllLemmas

from coolpapers.texmarkup import split_math

N_KEYWORDS = 10
N_CANDIDATES = 30  # YAKE's best phrases looked at; the filters keep about half
# A single word in more than this share of the papers is too generic to be a keyword (counted
# once the corpus is big enough for shares to mean something)
GENERIC_SHARE = 0.05
GENERIC_FROM_DOCS = 1000
_WORD = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
# don't, model's: never a keyword. The lookbehind lets a match start only where a word starts:
# unanchored, `\w+` would be tried at every position of a long word, each try running to the
# word's end (quadratic: 80k characters took minutes). A match can never start inside a word
# anyway (starting one character earlier would match as well), so the matches are the same.
_CONTRACTION = re.compile(r"(?<!\w)\w+['’]\w+")
_TEX_COMMAND = re.compile(r"\\[A-Za-z]+")
_TITLE_WORD = re.compile(r"\b[A-Z][a-z]+\b")  # "Modeling", not "SIR", "GPT", "DecisionBench"
_LONG_TOKEN = re.compile(r"\S{40,}")
_GLUED = re.compile(r"[a-z]\.[A-Z]")
# What YAKE reads of a paper: a title and an abstract as records.clean keeps them (1,000 and
# 10,000 characters); a longer text costs time, never keyphrases
MAX_CHARS = 12_000
# The boilerplate of abstracts, on top of YAKE's English stop words: never in a keyphrase.
# ("model", "method", "task" are not here: "model collapse", "task planning" are keyphrases.)
_STOP = """a about above across after again against all almost also although always among an and
    another any are around as at based be because been before being below between both but by
    can could did do does doing done due during each either enough especially etc even every
    first for from further furthermore given has have having here how however i if in into is
    it its itself just large less like made mainly make many may more moreover most mostly much
    must near nearly new not now of often on once one only or other our out over overall paper
    per propose proposed provide provides rather recent recently result results same several
    shown show shows significant significantly since so some such than that the their them then
    there therefore these they this those though three through thus to together two under up
    upon us use used uses using various very via was we well were what when where whether which
    while who whose why will with within without work would yet demonstrate demonstrates
    existing novel state-of-the-art outperforms outperform achieve achieves achieving address
    addresses introduce introduces introducing present presents experiments experimental
    extensive leverage leverages leveraging enable enables enabling improve improves improving
    improved remains remain code available https github com http www org
    remarkable exceptional impressive promising superior unprecedented substantial considerable
    notable great crucial important powerful excellent competitive comprehensive effective"""
_BOILERPLATE = frozenset(_STOP.split())
STOP = _BOILERPLATE | frozenset(yake_rust.Yake(language="en").stopwords)
_local = threading.local()
log = logging.getLogger("coolpapers.search")


def _yake() -> yake_rust.Yake:
    """One extractor per thread (building one costs ~0.3 ms, an extraction ~1 ms)."""
    y = getattr(_local, "yake", None)
    if y is None:
        y = _local.yake = yake_rust.Yake(stopwords=set(STOP), ngrams=3)
    return y


def terms(title: str, abstract: str) -> Counter[str]:
    """Words (2+ letters, no boilerplate) and adjacent word pairs of a paper, for the document
    frequencies; title words count twice; math spans are left out. YAKE's stop words are
    counted: the search asks whether a query's words occur at all (service._known_words), and
    a keyphrase never holds one, so their counts change none."""
    out: Counter[str] = Counter()
    for text, weight in ((title, 2), (abstract, 1)):
        plain = _CONTRACTION.sub(" ", _plain(text))
        for chunk in re.split(r"[.,;:!?()\[\]{}\"]", plain.lower()):
            prev: str | None = None
            for w in _WORD.findall(chunk):
                ok = len(w) >= 2 and w not in _BOILERPLATE
                if ok:
                    out[w] += weight
                    if prev:
                        out[f"{prev} {w}"] += weight
                prev = w if ok else None
    return out


def vocabulary(docs: Iterable[Counter[str]]) -> Counter[str]:
    """Document frequencies of a batch of term counts."""
    df: Counter[str] = Counter()
    for d in docs:
        df.update(d.keys())
    return df


def _plain(text: str) -> str:
    """Text without math spans and TeX commands (\\textit{LLM} -> LLM)."""
    plain = " ".join(seg for seg, is_math in split_math(text or "") if not is_math)
    return _TEX_COMMAND.sub(" ", plain).replace("{", " ").replace("}", " ")


def candidates(title: str, abstract: str) -> list[tuple[str, float]]:
    """YAKE's best noun phrases of a paper with their scores (lower is more key), fragments
    of longer candidates left out, best first."""
    title_text = _TITLE_WORD.sub(lambda m: m.group(0).lower(), _plain(title))
    # a "word" of 40+ characters (a URL, a run of junk) is never a keyphrase, and a long one
    # sends the sentence splitter's regex past its backtracking limit
    text = _LONG_TOKEN.sub(" ", f"{title_text}.\n{_plain(abstract)}"[:MAX_CHARS])
    low = text.lower()
    try:
        # a few more than kept, so that which of near-tied phrases make the cut is ours to
        # say (by score to 10 digits, then phrase; see below), not the hash maps' order
        more = _yake().get_n_best(text, n=N_CANDIDATES + 10)
        best = sorted(((p, float(f"{sc:.10g}")) for p, sc in more), key=lambda x: (x[1], x[0]))
        best = best[:N_CANDIDATES]
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as e:  # a Rust panic is a BaseException: one paper, not the index
        log.warning("keywords: YAKE failed on %r...: %s", text[:80], e)
        _local.yake = None
        best = []
    found: list[tuple[str, float]] = []
    for phrase, score in best:
        words = phrase.split()
        if _noun_phrase(words):
            # score to 10 significant digits (above): yake-rust sums in its hash maps' order,
            # which changes from call to call, so scores differed in the last bits
            # (0.0123389264574160 53 and ...67) and a near tie went either way: a paper's
            # keywords changed on a re-index (test_rekey_... failed 1 run in 10)
            found.append((" ".join(_surface(w) for w in words), score))
    keys = [k.lower() for k, _ in found]
    known = set(keys)
    counts = {k: _count(low, k) for k in known}  # one pass over the text each
    out = []
    for (phrase, score), key in zip(found, keys, strict=True):
        # a fragment: every occurrence of it lies inside a longer candidate
        n = counts[key]
        if n and any(key != k and _count(k, key) and counts[k] >= n for k in keys):
            continue
        # "modeling synthetic data", "diagnosing brittle safety": a verb's -ing form before a
        # phrase that is a candidate itself (a title's "Modeling X" models X)
        first, _, rest = key.partition(" ")
        if " " in rest and rest in known and first.endswith("ing") and "VERB" in _readings(first):
            continue
        if rest and "VERB" in _readings(first) and _after_subject(low, key):
            continue  # "agents tackle retrieval": a verb and its object
        out.append((phrase, score))
    return out


def parts(phrase: str) -> list[str]:
    """The search_df terms that say how common a phrase is: its word (one word) or its
    adjacent word pairs."""
    words = _WORD.findall(phrase.lower())
    if len(words) < 2:
        return words
    return [f"{a} {b}" for a, b in pairwise(words)]


def top(
    cands: list[tuple[str, float]], df: Mapping[str, int], n_docs: int, k: int = N_KEYWORDS
) -> list[str]:
    """The k best keyphrases of a paper's candidates: YAKE's score over the corpus' inverse
    document frequency; a phrase no other paper uses, or a plain dictionary word alone,
    weighs less; a phrase sharing a word with a better one is skipped."""
    n = max(n_docs, 1)
    scored = []
    for phrase, score in cands:
        ps = parts(phrase)
        d = min((df.get(p, 0) for p in ps), default=0)
        if " " not in phrase and n >= GENERIC_FROM_DOCS and d > GENERIC_SHARE * n:
            continue  # "models", "data": in every other paper, a keyword of none
        idf = math.log((n + 1) / (d + 1)) + 0.1  # never 0: a candidate in every paper
        weight = idf * (0.6 if d <= 1 else 1.0)
        if len(ps) == 1 and " " not in phrase and _readings(phrase.lower()):
            weight *= 0.7  # "collapse", "choice": phrases and new terms say more
        scored.append((score / weight, phrase))
    scored.sort()
    chosen: list[str] = []
    seen: set[str] = set()
    for _, phrase in scored:
        words = set(re.split(r"[ -]", phrase.lower()))
        if words & seen:
            continue
        chosen.append(phrase)
        seen |= words
        if len(chosen) == k:
            break
    return chosen


def keyphrases(
    title: str, abstract: str, df: Mapping[str, int], n_docs: int, k: int = N_KEYWORDS
) -> list[str]:
    """A paper's k keyphrases (what the indexer stores), given the corpus' frequencies."""
    return top(candidates(title, abstract), df, n_docs, k)


# ---- noun phrases --------------------------------------------------------------------------


@lru_cache(maxsize=200_000)
def _readings(word: str) -> frozenset[str]:
    """The word classes the lexicon knows for a lower-case word (empty: not in it)."""
    return frozenset(getAllLemmas(word))


@lru_cache(maxsize=200_000)
def _noun_lemma(word: str) -> str:
    """The word's lemma as a noun ("agents" -> "agent"), itself when it is none."""
    return getAllLemmas(word, upos="NOUN").get("NOUN", (word,))[0]


def _noun_phrase(words: list[str]) -> bool:
    """Whether YAKE's phrase reads as a noun phrase: modifiers that can be nouns or
    adjectives (or participles: "supervised learning"), a head that can be a noun (or a
    gerund: "spatial reasoning"), no stop word, no subject followed by its verb."""
    low = [w.lower() for w in words]
    if any(w in STOP or not any(c.isalpha() for c in w) for w in low):
        return False
    if any(_GLUED.search(w) for w in words):
        return False  # "Modules.Also": two sentences with the space lost
    if len(low) == 1 and len(low[0]) < 3 and not words[0].isupper():
        return False
    for w in low[:-1]:
        r = _readings(w)
        if r and not r & {"NOUN", "ADJ", "PROPN"} and not w.endswith("ed"):
            return False  # a verb ("identifies", "tackle") or an adverb ("solely")
    head = low[-1].split("-")[-1]
    r = _readings(head)
    if r and "NOUN" not in r and not (head.endswith("ing") and len(low) > 1):
        return False  # alone, "diagnosing" is a verb; after a modifier, a gerund noun
    for a, b in pairwise(low):
        # "agents tackle", "models ingest": a plural noun, then a word that can be a verb
        if a.endswith("s") and _noun_lemma(a) != a and "VERB" in _readings(b):
            return False
    return True


def _surface(word: str) -> str:
    """Acronyms and names with inner capitals keep them (LLM, GPT-4o, DecisionBench, R-CDT);
    other words, capitalised ones too (Fine-Tuning, Re-use, Perlin), are lower case."""
    low = word.lower()
    plain = (low, low.capitalize(), "-".join(p.capitalize() for p in low.split("-")))
    return low if word in plain else word


def _starts(text: str, phrase: str) -> list[int]:
    """Where `phrase` occurs in `text` as whole words."""
    out, i = [], text.find(phrase)
    while i >= 0:
        end = i + len(phrase)
        before = text[i - 1] if i else " "
        after = text[end] if end < len(text) else " "
        if not (before.isalnum() or before == "-") and not (after.isalnum() or after == "-"):
            out.append(i)
        i = text.find(phrase, i + 1)
    return out


def _count(text: str, phrase: str) -> int:
    """Occurrences of `phrase` in `text` as whole words."""
    return len(_starts(text, phrase))


_SUBJECTS = frozenset("we they it this which that who".split())


def _after_subject(text: str, phrase: str) -> bool:
    """Whether every occurrence of `phrase` follows a pronoun or a plural noun ("agents
    tackle ..."): its first word is then a verb, not a modifier."""
    starts = _starts(text, phrase)
    for i in starts:
        before = text[max(0, i - 40) : i].split()
        w = before[-1] if before else ""
        if not (w in _SUBJECTS or (w.endswith("s") and _noun_lemma(w) != w)):
            return False
    return bool(starts)
