"""BibTeX for an Anthology paper, in the Anthology's own export style.

The Anthology writes `@inproceedings` (`@article` for its journals) keyed
`<names>-<year>-<first title word>` (`zhang-etal-2024-quantized`), fields as `key = "value"`
with 4-space indents, authors and editors as "Last, First" joined by "  and" and a new line,
months as BibTeX's macros (`month = aug`), then address, publisher, url, doi and pages. The
key, editors, address, publisher and pages come from the paper's `extra` as the data file
gave them; where the file had no key, one is built as the Anthology builds them, which cannot
know where two papers would share a key (it lengthens one with more title words), nor where a
stored "First Last" name split (Pius Von Däniken: last name "Von Däniken").
"""

from __future__ import annotations

import re
import unicodedata
from itertools import chain, zip_longest

from coolpapers.records import Paper
from coolpapers.sources.acl import ids
from coolpapers.texmarkup import split_math

_MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()
# Journals among the Anthology's venues (its JOURNAL_IDS; J and Q before 2020): @article.
_JOURNALS = {"cl", "tacl", "tal", "lilt", "ijclclp", "nejlt"}
_JOURNAL_LETTERS = {"J", "Q"}
# "Transactions of the ACL, Volume 12" / "Computational Linguistics, Volume 50, Issue 1 ..."
_JOURNAL_REF = re.compile(
    r"^(?P<journal>.+?),\s*Volume\s+(?P<volume>[^,\s]+)"
    r"(?:,\s*(?:Issue|Number)\s+(?P<number>[^,\s]+))?",
    re.IGNORECASE,
)
# Lowercase name particles that belong to the last name (BibTeX's own "von" rule):
# "Marie-Catherine de Marneffe" -> "de Marneffe, Marie-Catherine".
_PARTICLE = re.compile(r"^[a-z]")
# Title words the Anthology's keys skip: NLTK's English stopwords, which its keys match
# ("Can Your Model Tell ..." -> `...-model`, "Not All Experts ..." -> `...-experts`; "Towards"
# is kept). Of the 1,620 keys in the shared data files, 1,549 come out equal, 48 are those
# the Anthology lengthened, 23 differ by a last name of two capitalised words.
_STOPWORDS = frozenset(
    "i me my myself we our ours ourselves you your yours yourself yourselves he him his "
    "himself she her hers herself it its itself they them their theirs themselves what which "
    "who whom this that these those am is are was were be been being have has had having do "
    "does did doing a an the and but if or because as until while of at by for with about "
    "against between into through during before after above below to from up down in out on "
    "off over under again further then once here there when where why how all any both each "
    "few more most other some such no nor not only own same so than too very s t can will "
    "just don should now d ll m o re ve y ain aren couldn didn doesn hadn hasn haven isn ma "
    "mightn mustn needn shan shouldn wasn weren won wouldn".split()
)
_ASCII = str.maketrans({"ß": "ss", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "æ": "ae",
                        "Æ": "AE", "œ": "oe", "Œ": "OE", "đ": "d", "Đ": "D", "ı": "i"})  # fmt: skip
_PUNCTUATION = "\"'’”)]},.;:!?"
_LATEX_SPECIAL = re.compile(r"(?<!\\)([&%#_{}])")


def is_journal(local: str) -> bool:
    if ids.is_new_style(local):
        return local.partition(".")[2].partition("-")[0] in _JOURNALS
    return local[:1] in _JOURNAL_LETTERS


def bibtex(paper: Paper) -> str:
    local = ids.local_of(paper.id)
    year = str(paper.published.year) if paper.published else str(ids.year(local) or "")
    authors = [split_name(a) for a in paper.authors]
    extra = paper.extra
    fields: list[tuple[str, str]] = [("title", f'"{_title(paper.title)}"')]
    if authors:
        fields.append(("author", f'"{_text(_names(authors))}"'))
    editors = extra.get("editors")
    if editors and isinstance(editors, list):
        fields.append(("editor", f'"{_text(_names([split_name(str(e)) for e in editors]))}"'))
    journal = is_journal(local)
    if paper.journal_ref:
        m = _JOURNAL_REF.match(paper.journal_ref) if journal else None
        if m:
            fields.append(("journal", f'"{_text(m["journal"])}"'))
            fields.append(("volume", f'"{m["volume"]}"'))
            if m["number"]:
                fields.append(("number", f'"{m["number"]}"'))
        else:
            fields.append(("journal" if journal else "booktitle", f'"{_text(paper.journal_ref)}"'))
    if paper.published:
        fields.append(("month", _MONTHS[paper.published.month - 1]))  # a macro: no quotes
    if year:
        fields.append(("year", f'"{year}"'))
    for name in ("address", "publisher"):
        if extra.get(name):
            fields.append((name, f'"{_text(str(extra[name]))}"'))
    fields.append(("url", f'"{ids.SITE}/{local}/"'))
    if paper.doi:
        fields.append(("doi", f'"{paper.doi}"'))
    if extra.get("pages"):
        fields.append(("pages", f'"{extra["pages"]}"'))
    kind = "article" if journal else "inproceedings"
    body = ",\n".join(f"    {k} = {v}" for k, v in fields)
    bibkey = extra.get("bibkey") or key(authors, year, paper.title)
    return f"@{kind}{{{bibkey},\n{body}\n}}"


def _names(names: list[tuple[str, str]]) -> str:
    return "  and\n      ".join(f"{last}, {first}" if first else last for first, last in names)


def split_name(name: str) -> tuple[str, str]:
    """("First", "Last") of a "First Last" name: the last word and the lowercase particles
    before it (van, de, von) are the last name, as BibTeX itself splits such a name."""
    words = name.split()
    if len(words) <= 1:
        return "", name.strip()
    i = len(words) - 1
    while i > 1 and _PARTICLE.match(words[i - 1]):
        i -= 1
    return " ".join(words[:i]), " ".join(words[i:])


def key(authors: list[tuple[str, str]], year: str, title: str) -> str:
    """The Anthology's key: one author's last name, two joined by "-", or the first's then
    "etal"; the year; the first title word that is not a stopword; all as ASCII slugs."""
    lasts = [_slug(last) for _, last in authors]
    if not lasts:
        names = "anonymous"
    elif len(lasts) == 1:
        names = lasts[0]
    elif len(lasts) == 2:
        names = f"{lasts[0]}-{lasts[1]}"
    else:
        names = f"{lasts[0]}-etal"
    # math keeps its letters and digits, run together: M$^3$CoT -> m3cot, as the Anthology's
    plain = "".join(
        re.sub(r"\\[A-Za-z]+|[^A-Za-z0-9]", "", seg) if is_math else seg
        for seg, is_math in split_math(title)
    )
    words = [w for w in _slug(plain).split("-") if w and w not in _STOPWORDS]
    return "-".join(p for p in (names, year, words[0] if words else "") if p)


def _slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.translate(_ASCII))
    ascii_ = folded.encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_).strip("-")


def _text(text: str) -> str:
    """A value inside "...": LaTeX's specials outside math escaped, a double quote braced
    (it would end the value)."""
    out = []
    for seg, is_math in split_math(text):
        if not is_math:
            seg = _LATEX_SPECIAL.sub(r"\\\1", seg).replace('"', '{"}')
        out.append(seg)
    return "".join(out)


def _title(title: str) -> str:
    """The title with the capitals of acronyms and names kept: BibTeX styles lowercase a
    title but for what is in braces. The Anthology braces exactly what its <fixed-case> marks,
    which the stored title no longer shows; a word with a capital past its first letter
    or that of a hyphenated part (LLMs, PrivLM-Bench, M$^3$CoT; not Fact-Checking) is braced
    whole instead. Words run across math: M$^3$CoT is one."""
    words: list[list[tuple[str, bool]]] = [[]]
    spaces: list[str] = []
    for seg, is_math in split_math(title):
        if is_math:
            words[-1].append((seg, True))
            continue
        for i, piece in enumerate(re.split(r"(\s+)", seg)):
            if i % 2:  # the whitespace between two words
                spaces.append(piece)
                words.append([])
            elif piece:
                words[-1].append((piece, False))
    out = [_protect(w) for w in words]
    return "".join(chain.from_iterable(zip_longest(out, spaces, fillvalue="")))


def _protect(word: list[tuple[str, bool]]) -> str:
    if not word:
        return ""
    # punctuation at either end stays outside the braces: "(LLMs)," -> ({LLMs}),
    lead = trail = ""
    if not word[0][1]:
        lead = re.match(r"[^\w$\\]*", word[0][0]).group()  # type: ignore[union-attr]
        word = [(word[0][0][len(lead) :], False), *word[1:]]
    if not word[-1][1]:
        end = word[-1][0]
        trail = end[len(end.rstrip(_PUNCTUATION)) :]
        word = [*word[:-1], (end[: len(end) - len(trail)], False)]
    core = "".join(seg if is_math else _text(seg) for seg, is_math in word)
    shape = "".join("x" if is_math else seg for seg, is_math in word)  # math: one letter
    capital = any(c.isupper() for part in shape.split("-") for c in part[1:])
    return _text(lead) + (f"{{{core}}}" if capital and core else core) + _text(trail)
