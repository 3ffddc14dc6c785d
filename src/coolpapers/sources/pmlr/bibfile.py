"""A PMLR volume's BibTeX -> the same entries as its posts (volume.py makes the papers).

Two kinds of file:
- the organisers' file PMLR builds a volume from (its specification,
  proceedings.mlr.press/spec.html; `colt2026.bib`): an `@Proceedings` entry describing the
  volume (booktitle, shortname, sections, editor, volume, year, start, end, published, ...)
  and one `@InProceedings` per paper, keyed as the organisers liked (`aamand26`,
  `open-problem-lau26`). PMLR's tool (mlresearch/papersite, `extractpapers`) mints each
  paper's id from its first author's family name: `parameterize(family + yy + letter)`, the
  letter counting up (a, b, ... z, aa) past ids taken earlier in the file, `yy` the
  volume's publication year. That is done again here, so the ids come out as the posts'.
- PMLR's export (a paper page's BibTeX, a volume's `bibliography.bib`): entries keyed
  `pmlr-v336-aamand26a` with `url` and `pdf`; the id is read from the key (or the url).
  These carry no @Proceedings: the volume comes from a `_config.yml` beside the file.

The parser is small and only for this well-formed format: `@type{key, name = {value}, ...}`,
values in braces (nested), in quotes, or bare (numbers, @string macros). An entry that does
not parse (unbalanced braces, a value running into the next entry) is logged and skipped; the
scan resumes at the next line that starts an entry.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from coolpapers.sources.base import BadId
from coolpapers.sources.pmlr import ids
from coolpapers.sources.pmlr.volume import (
    Entry,
    Person,
    Volume,
    as_date,
    decode_marks,
    name_text,
    page_order,
    read_config,
    tex_text,
    volume_of,
)
from coolpapers.texmarkup import oneline

log = logging.getLogger("coolpapers.sources")

_START = re.compile(r"@[ \t]*([A-Za-z]+)[ \t\r\n]*([{(])")
_LINE_START = re.compile(r"^[ \t]*@[ \t]*[A-Za-z]+[ \t\r\n]*[{(]", re.MULTILINE)
_KEY = re.compile(r"[ \t\r\n]*([^\s,={}()\"#%'@]+)[ \t\r\n]*,")
_NAME = re.compile(r"[ \t\r\n]*([A-Za-z][A-Za-z0-9_:.+/-]*)[ \t\r\n]*=[ \t\r\n]*")
_BARE = re.compile(r"[A-Za-z0-9_:.+/-]+")
_BRACES = re.compile(r"[{}]")
_PARENS = re.compile(r"[{}()]")
_QUOTED = re.compile(r'[{}"]')
_EXPORT_KEY = re.compile(r"^pmlr-(?P<vol>[vr]\d+)-(?P<paper>[a-z0-9][a-z0-9_-]*)$", re.I)
_LINKS = ("openreview", "software", "video", "arxiv", "website", "code", "supplementary")
_MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()


class Malformed(ValueError):
    pass


@dataclass(slots=True)
class BibEntry:
    kind: str  # lowercase: "inproceedings", "proceedings"
    key: str
    fields: dict[str, str]  # names lowercase; values as written, outer braces/quotes off
    line: int


def parse(text: str, name: str = "<bib>") -> tuple[list[BibEntry], int]:
    """The entries of a BibTeX text, and how many could not be parsed (each logged)."""
    out: list[BibEntry] = []
    bad = 0
    macros = {m: m for m in _MONTHS}
    lines = _Lines(text)
    pos = 0
    while (m := _START.search(text, pos)) is not None:
        kind = m.group(1).lower()
        closer = "}" if m.group(2) == "{" else ")"
        try:
            if kind in ("comment", "preamble"):
                pos = _skip(text, m.end(), closer)
                continue
            if kind == "string":
                fields, pos = _fields(text, m.end(), closer, macros)
                macros.update(fields)
                continue
            k = _KEY.match(text, m.end())
            if k is None:
                raise Malformed("no key")
            fields, pos = _fields(text, k.end(), closer, macros)
            out.append(BibEntry(kind, k.group(1), fields, lines.at(m.start())))
        except Malformed as e:
            line = lines.at(m.start())
            log.warning("%s:%d: BibTeX entry skipped: %s", name, line, e)
            bad += 1
            nxt = _LINE_START.search(text, m.end())
            pos = nxt.start() if nxt else len(text)
    return out, bad


class _Lines:
    """Line numbers of positions asked in increasing order, counted once overall."""

    def __init__(self, text: str) -> None:
        self.text, self.pos, self.line = text, 0, 1

    def at(self, pos: int) -> int:
        if pos >= self.pos:
            self.line += self.text.count("\n", self.pos, pos)
            self.pos = pos
        return self.line


def _skip(text: str, pos: int, closer: str) -> int:
    """The position after the closer of an entry whose body starts at `pos`."""
    depth = 1
    marks = _BRACES if closer == "}" else _PARENS
    for m in marks.finditer(text, pos):
        depth += 1 if m.group() in "{(" else -1
        if depth == 0:
            return m.end()
    raise Malformed("no end")


def _fields(text: str, pos: int, closer: str, macros: dict[str, str]) -> tuple[dict[str, str], int]:
    """The fields from `pos` to the entry's closer: (fields, the position after it)."""
    fields: dict[str, str] = {}
    n = len(text)
    while True:
        while pos < n and (text[pos].isspace() or text[pos] == ","):
            pos += 1
        if pos >= n:
            raise Malformed("the entry does not end")
        if text[pos] == closer:
            return fields, pos + 1
        m = _NAME.match(text, pos)
        if m is None:
            raise Malformed(f"a field expected at {text[pos : pos + 20]!r}")
        parts: list[str] = []
        pos = m.end()
        while True:  # value # value ...
            value, pos = _value(text, pos, macros)
            parts.append(value)
            while pos < n and text[pos].isspace():
                pos += 1
            if pos < n and text[pos] == "#":
                pos += 1
                while pos < n and text[pos].isspace():
                    pos += 1
                continue
            break
        value = "".join(parts)
        if _LINE_START.search(value):
            raise Malformed(f"field {m.group(1)!r} runs into the next entry")
        fields[m.group(1).lower()] = value


def _value(text: str, pos: int, macros: dict[str, str]) -> tuple[str, int]:
    """A value at `pos` (braced, quoted or bare) and the position after it. Braces count
    whether escaped or not, as BibTeX counts them (`\\{x\\}` is balanced)."""
    if pos >= len(text):
        raise Malformed("a value expected")
    opener = text[pos]
    if opener in '{"':
        depth = 0
        for m in (_BRACES if opener == "{" else _QUOTED).finditer(text, pos + 1):
            c = m.group()
            if c == "{":
                depth += 1
            elif c == "}":
                if depth == 0:
                    if opener == "{":
                        return text[pos + 1 : m.start()], m.end()
                    raise Malformed("unbalanced braces in a quoted value")
                depth -= 1
            elif depth == 0:  # the closing quote
                return text[pos + 1 : m.start()], m.end()
        raise Malformed("a value does not end (unbalanced braces)")
    m = _BARE.match(text, pos)
    if m is None:
        raise Malformed(f"a value expected at {text[pos : pos + 20]!r}")
    word = m.group()
    return macros.get(word.lower(), word), m.end()


# ---- names ------------------------------------------------------------------------------------


def split_authors(field: str) -> list[str]:
    """The names of an author or editor field: split at "and" outside braces."""
    out: list[str] = []
    depth = 0
    start = 0
    i = 0
    n = len(field)
    while i < n:
        c = field[i]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif (
            depth == 0
            and c.isspace()
            and field[i + 1 : i + 4].lower() == "and"
            and i + 4 < n
            and field[i + 4].isspace()
        ):
            out.append(field[start:i])
            start = i + 4
            i += 4
            continue
        i += 1
    out.append(field[start:])
    return [s.strip() for s in out if s.strip()]


def _split_top(text: str, sep: str | None) -> list[str]:
    """`text` split at `sep` (None: whitespace) outside braces."""
    if "{" not in text:  # most names
        if sep:
            return [p.strip() for p in text.split(sep)]
        return text.replace("~", " ").split()
    parts: list[str] = []
    depth = 0
    cur: list[str] = []
    for c in text:
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        if depth == 0 and (c == sep or (sep is None and (c.isspace() or c == "~"))):
            parts.append("".join(cur))
            cur = []
            continue
        cur.append(c)
    parts.append("".join(cur))
    return [p.strip() for p in parts] if sep else [p for p in parts if p]


def _lower(word: str) -> bool:
    """Whether a name word starts lowercase, as BibTeX decides its von part: by its first
    letter outside braces, or inside a special character ({\\'e}); a braced group counts as
    uppercase ({van der Poel} stays the family name)."""
    i = 0
    while i < len(word):
        c = word[i]
        if c == "{":
            if word[i + 1 : i + 2] == "\\":
                m = re.match(r"\{\\(?:[^A-Za-z]|[A-Za-z]+)\s*\{?\s*([A-Za-z])", word[i:])
                return bool(m and m.group(1).islower())
            return False
        if c.isalpha():
            return c.islower()
        i += 1
    return False


def person(name: str) -> Person:
    """A BibTeX name ("von Last, First", "von Last, Jr, First" or "First von Last"), each
    part as text."""
    parts = _split_top(name, ",")
    if len(parts) == 1:
        words = _split_top(parts[0], None)
        if len(words) <= 1:
            given, von, last, jr = [], [], words, ""
        else:
            lower = [i for i, w in enumerate(words[:-1]) if _lower(w)]
            if lower:
                a, b = lower[0], lower[-1] + 1
                given, von, last = words[:a], words[a:b], words[b:]
            else:
                given, von, last = words[:-1], [], words[-1:]
            jr = ""
    else:
        words = _split_top(parts[0], None)
        lower = [i for i, w in enumerate(words[:-1]) if _lower(w)]
        cut = lower[-1] + 1 if lower else 0
        von, last = words[:cut], words[cut:]
        jr = parts[1] if len(parts) > 2 else ""
        given = _split_top(parts[-1], None)
    return Person(
        name_text(" ".join(given), quotes=True),
        name_text(" ".join(last), quotes=True),
        name_text(" ".join(von), quotes=True),
        name_text(jr, quotes=True),
    )


# ---- ids as PMLR's tool mints them ------------------------------------------------------------

_ASCII = str.maketrans({"ß": "ss", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "æ": "ae",
                        "Æ": "AE", "œ": "oe", "Œ": "OE", "đ": "d", "Đ": "D", "ı": "i",
                        "þ": "th", "Þ": "Th", "ð": "d", "Ð": "D"})  # fmt: skip


def parameterize(text: str) -> str:
    """ActiveSupport's `parameterize`, which PMLR's ids pass through: ASCII (Göbel ->
    gobel), lowercase, runs of anything but letters, digits, `-` and `_` to one `-`, none at
    either end."""
    folded = unicodedata.normalize("NFKD", text.translate(_ASCII))
    plain = folded.encode("ascii", "ignore").decode().lower()
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9_-]+", "-", plain)).strip("-")


def letters(count: int) -> str:
    """papersite's `disambiguate_chars`: 0 -> a, 25 -> z, 26 -> aa."""
    div, mod = divmod(count, 26)
    return chr(97 + mod) if div == 0 else letters(div - 1) + chr(97 + mod)


def mint(family: str, yy: str, taken: set[str]) -> str:
    """The next id PMLR's tool gives a paper whose first author is `family`."""
    count = 0
    while (stub := parameterize(family.lower() + yy + letters(count))) in taken:
        count += 1
    return stub


# ---- the file ---------------------------------------------------------------------------------


def entries(path: Path) -> tuple[Volume, list[Entry], int]:
    """(the volume, its papers' entries in file order, how many were skipped) of a .bib;
    ValueError (naming the file) when it cannot be read or tells no volume."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: cannot read the volume's BibTeX: {e}") from e
    parsed, skipped = parse(text, str(path))
    proceedings = next((b for b in parsed if b.kind == "proceedings"), None)
    papers = [b for b in parsed if b.kind == "inproceedings"]
    if proceedings is not None:
        vol = _volume(proceedings, f"{path}: @Proceedings{{{proceedings.key}}}")
    elif (path.parent / "_config.yml").is_file():
        vol = read_config(path.parent / "_config.yml")
    else:
        raise ValueError(
            f"{path}: no @Proceedings entry describing the volume, nor a _config.yml beside it"
        )
    published = _first_published(proceedings) or vol.published
    yy = f"{published:%y}" if published else vol.edition[-2:]
    taken: set[str] = set()
    out: list[Entry] = []
    for b in papers:
        where = f"{path}:{b.line}: entry {b.key}"
        try:
            e = _entry(vol, b, where, yy, taken)
        except ValueError as err:
            log.warning("%s skipped: %s", where, err)
            skipped += 1
            continue
        taken.add(e.paper)
        out.append(e)
    return vol, out, skipped


def _first_published(b: BibEntry | None) -> date | None:
    if b is None:
        return None
    return as_date(b.fields.get("firstpublished", "")) or as_date(
        b.fields.get("published", "").split("|")[0]
    )


def _volume(b: BibEntry, where: str) -> Volume:
    f = b.fields
    names = f.get("sections", "")
    days = f.get("published", "").split("|")
    sections = []
    if names:
        parts = names.split("|")
        for i, s in enumerate(parts):
            name, _, title = s.partition("=")
            day = as_date(days[i]) if len(days) == len(parts) else None
            title = (title or name).strip()
            sections.append({"name": name.strip(), "title": title, "published": day})
    editor = f.get("editor", "")
    data: dict[str, Any] = {
        "volume": f.get("volume"),
        "booktitle": f.get("booktitle"),
        "shortname": f.get("shortname"),
        "id": b.key,
        "year": f.get("year"),
        "published": days[0] if len(days) == 1 else None,
        "start": f.get("start"),
        "end": f.get("end"),
        "editor": [p._asdict() for p in map(person, split_authors(editor))],
        "bibtex_editor": oneline(editor) or None,
        "sections": sections,
        "conference": {"name": f.get("name"), "location": f.get("address")},
    }
    return volume_of(data, where)


def _entry(vol: Volume, b: BibEntry, where: str, yy: str, taken: set[str]) -> Entry:
    f = b.fields
    title = f.get("title", "")
    if not tex_text(title):
        raise ValueError("no title")
    authors = [person(n) for n in split_authors(f.get("author", ""))]
    paper = _given_id(vol, b)
    if paper is None:
        if not authors or not authors[0].family:
            raise ValueError("no author to mint its id from")  # as PMLR's tool skips it
        paper = mint(authors[0].family, yy, taken)
    elif paper in taken:
        raise ValueError(f"paper id {paper!r} given twice")
    first, _, last = f.get("pages", "").partition("-")
    last = last.lstrip("-")
    section = f.get("section", "").strip()
    found = vol.section(section)
    return Entry(
        where=where,
        paper=paper,
        title=decode_marks(title),
        authors=authors,
        bibtex_author=oneline(f["author"]) if f.get("author") else None,
        abstract=decode_marks(f.get("abstract", "")),
        first=first.strip(),
        last=(last or first).strip(),
        order=page_order(first),
        section=section,
        published=(found.published if found else None) or vol.published,
        pdf=f.get("pdf", "").strip() or None,
        doi=f.get("doi", "").strip() or None,
        links={k: v for k in _LINKS if (v := f.get(k, "").strip())},
    )


def _given_id(vol: Volume, b: BibEntry) -> str | None:
    """The id an export-style entry states: by its key `pmlr-v336-<id>`, or its url."""
    m = _EXPORT_KEY.match(b.key)
    if m and m["vol"].lower() == vol.dir:
        return m["paper"].lower()
    url = b.fields.get("url", "").strip()
    if url:
        try:
            sid = ids.parse(url)
        except BadId:
            return None
        if sid.volume == vol.dir:
            return sid.paper
    return None
