"""A PMLR volume -> `PmlrBatch`es: its papers (with what has no column in their `extra`) and
their venue listings.

Every PMLR volume is a Jekyll site in its own repository (github.com/mlresearch/v336), built
by PMLR's tool (mlresearch/papersite) from the organisers' BibTeX:
- `_config.yml`: the volume: `booktitle`, `shortname` (COLT), `year`, `volume`, `published`,
  `start`/`end` and `date_str` (the conference's dates), `editor` [{given, family}] and
  `bibtex_editor`, `sections` [{name, title}] where the volume has parts (Preface, Original
  Papers, Open Problems), `conference` {name, url, location};
- `_posts/<date>-<id>.md`: one paper each, as YAML front matter: `id`, `title` and
  `tex_title` (the title as written in TeX), `author` [{given, family}] and `bibtex_author`,
  `abstract` (LaTeX math as written, `$...$`), `firstpage`/`lastpage`/`page`, `order` (the
  first page as a number: PMLR lists a volume in that order), `section` (a section's name),
  `pdf`, `date`, and where there are any `openreview`, `software`, `video`, `extras`.
`read` takes the volume's directory, its `_config.yml`, or its BibTeX (bibfile.py: the
organisers' file the posts were built from, or PMLR's export): both give the same papers.

Keys are `<paper>@<volume>@PMLR`. A paper's title is its `tex_title` with TeX's protective
braces taken out (math kept as written): the posts' `title` has had every brace stripped, math
included (`$\\sqrtn$` for `$\\sqrt{n}$`). Listings: the collection is the volume's
`shortname`, the edition its `year`, the group the paper's section's title (none where the
volume has no sections), ranked within the group by `order` then file (or BibTeX) order; the
day is the conference's first day, else the section's or volume's publication date.

A whole volume is read before any batch is out (ranks need the whole order), then handed
over in batches of `CHUNK` papers: ICML's volumes are the largest, about 3,300 posts.
Measured on v336 (197 posts, 390 KB of YAML): about 0.1 s, most of it libyaml.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from coolpapers.records import Batch, Listing, Paper
from coolpapers.sources.base import BadId
from coolpapers.sources.pmlr import ids
from coolpapers.sources.pmlr.bibtex import names
from coolpapers.texmarkup import accents_to_unicode, oneline, split_math

log = logging.getLogger("coolpapers.sources")

SOURCE_KEY = "pmlr"
CHUNK = 1000  # papers per batch
_HEAD = 65_536  # bytes `looks_like` reads of a file

# libyaml's loader is 5-10x faster than the pure-Python one; PyYAML may be built without it.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Links a post may carry beside its PDF, kept in Paper.extra under the same names.
_LINKS = ("openreview", "software", "video", "arxiv", "website", "code", "supplementary")


class Person(NamedTuple):
    """A name as PMLR splits it (its YAML's given/family, and BibTeX's von and Jr parts)."""

    given: str
    family: str
    prefix: str = ""  # "van" of "Tim van Erven", where the BibTeX left it unbraced
    suffix: str = ""  # "Jr."

    @property
    def full(self) -> str:
        """As pages write a name: "Given prefix Family suffix"."""
        return " ".join(p for p in (self.given, self.prefix, self.family, self.suffix) if p)


@dataclass(frozen=True, slots=True)
class Section:
    name: str  # as posts name it: "Original Papers"
    title: str  # as the volume shows it (the same, in every volume seen)
    published: date | None = None  # a volume published in cycles dates each part


@dataclass(frozen=True, slots=True)
class Volume:
    """One volume as its `_config.yml` (or BibTeX @Proceedings entry) describes it."""

    dir: str  # "v336": the volume in PMLR's addresses and in paper ids
    collection: str  # "COLT": the venue as papers.cool names it
    edition: str  # "2026"
    booktitle: str  # "Proceedings of Thirty Ninth Conference on Learning Theory"
    published: date | None = None
    start: date | None = None  # the conference's first and last days
    end: date | None = None
    dates: str | None = None  # "29 Jun--03 Jul": the `month` of PMLR's BibTeX
    editors: tuple[Person, ...] = ()
    bibtex_editor: str | None = None  # "Hanneke, Steve and Lattimore, Tor"
    sections: tuple[Section, ...] = ()
    name: str | None = None  # "The Thirty Ninth Annual Conference on Learning Theory"
    location: str | None = None  # "San Diego, California"

    @property
    def number(self) -> str:
        """The volume's number as PMLR's BibTeX writes `volume`: 336 (a reissue: R12)."""
        return self.dir[1:] if self.dir.startswith("v") else self.dir.upper()

    def section(self, name: str) -> Section | None:
        return next((s for s in self.sections if s.name == name), None)

    def group(self, section: str) -> str:
        """The listing group of a post's section: its title; "" where the volume has no
        sections (a section the config does not list keeps its own name)."""
        if not self.sections:
            return ""
        found = self.section(section)
        return found.title if found else section


@dataclass(slots=True)
class PmlrBatch(Batch):
    """Papers and listings of (part of) one volume (a `records.Batch`, so `Store.write` takes
    it), and the volume they are in."""

    volume: Volume | None = None


@dataclass(slots=True)
class Entry:
    """One paper as a post or a BibTeX entry gives it, before it becomes a `Paper`."""

    where: str  # for messages: the post's file, or "<file>.bib: entry <key>"
    paper: str  # "aamand26a"
    title: str  # as written in TeX (`tex_title`), braces and all
    authors: list[Person]
    bibtex_author: str | None = None  # as PMLR's BibTeX writes them, LaTeX accents and all
    abstract: str = ""
    first: str = ""  # first and last pages as written ("1", "i")
    last: str = ""
    order: int = 0
    section: str = ""
    published: date | None = None
    pdf: str | None = None
    doi: str | None = None
    links: dict[str, Any] = field(default_factory=dict)


# ---- reading ---------------------------------------------------------------------------------


def read(path: str | Path) -> Iterator[PmlrBatch]:
    """The papers and listings of the volume at `path`: its directory (`_config.yml` and
    `_posts/`), its `_config.yml`, or its `.bib` (see bibfile.py). A post or entry that
    cannot be read (YAML that does not parse, no title or id) is logged and counted in the
    first batch's `skipped`; the rest is kept. A missing or broken volume description (the
    config, or the BibTeX's @Proceedings) raises ValueError naming the file."""
    p = Path(path)
    if p.suffix.lower() == ".bib":
        from coolpapers.sources.pmlr import bibfile

        vol, entries, skipped = bibfile.entries(p)
    elif p.is_dir() or p.suffix.lower() in (".yml", ".yaml"):
        config = p / "_config.yml" if p.is_dir() else p
        vol = read_config(config)
        posts = config.parent / "_posts"
        if not posts.is_dir():
            raise ValueError(f"{posts}: no _posts directory beside the volume's config")
        entries, skipped = _posts(vol, posts)
    else:
        raise ValueError(f"{p}: not a PMLR volume (its directory, its _config.yml, or its .bib)")
    yield from assemble(vol, entries, skipped)


def looks_like(path: str | Path, head: bytes = b"") -> bool:
    """Whether `path` is, at a glance, a PMLR volume `read` takes: a directory with
    `_config.yml` and `_posts/`, such a `_config.yml`, or a volume's BibTeX (PMLR's export,
    keyed `pmlr-v336-...`, or an organisers' file with the @Proceedings entry PMLR's
    specification asks for). Reads at most the first 64 KB of one file (`head`, what
    sources/formats.py passes every format, is not enough for a .bib's first entry)."""
    p = Path(path)
    try:
        if p.is_dir():
            return (p / "_posts").is_dir() and _pmlr_config(p / "_config.yml")
        if p.name == "_config.yml":
            return (p.parent / "_posts").is_dir() and _pmlr_config(p)
        if p.suffix.lower() == ".bib" and p.is_file():
            return _PMLR_BIB.search(_head(p)) is not None
    except OSError:
        return False
    return False


_PMLR_CONFIG = re.compile(
    r"Proceedings of Machine Learning Research|proceedings\.mlr\.press|mlresearch", re.IGNORECASE
)
_PMLR_BIB = re.compile(
    r"@InProceedings\s*[{(]\s*pmlr-[vr]\d+-|proceedings\.mlr\.press"
    r"|@Proceedings\s*[{(][^@]*?\bpublished\s*=",  # PMLR's spec: the volume's publication day
    re.IGNORECASE | re.DOTALL,
)


def _head(path: Path) -> str:
    with open(path, "rb") as f:
        return f.read(_HEAD).decode("utf-8", "replace")


def _pmlr_config(path: Path) -> bool:
    return path.is_file() and _PMLR_CONFIG.search(_head(path)) is not None


# ---- the volume -------------------------------------------------------------------------------


def read_config(path: Path) -> Volume:
    """The volume a `_config.yml` describes; ValueError (naming the file) for one missing,
    not YAML, or lacking what a volume needs (volume, booktitle, a short name, a year)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: cannot read the volume's config: {e}") from e
    try:
        data = yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as e:
        raise ValueError(f"{path}: the volume's config is not YAML: {e}") from e
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a PMLR volume's config (no mapping)")
    return volume_of(data, str(path))


def volume_of(data: Mapping[str, Any], where: str) -> Volume:
    """A Volume from a config's fields (or a BibTeX @Proceedings entry's, as bibfile.py
    shapes them alike)."""
    number = text_of(data.get("volume"))
    vol_dir = (text_of(data.get("volume_dir")) or "").lower()
    if not vol_dir and number:
        vol_dir = f"v{number}" if number.isdigit() else number.lower()
    try:
        vol_dir = ids.build("x", vol_dir).volume if vol_dir else ""
    except BadId:
        vol_dir = ""
    if not vol_dir:
        raise ValueError(f"{where}: no volume number (volume: {number!r})")
    booktitle = tex_text(text_of(data.get("booktitle")) or "")
    if not booktitle:
        raise ValueError(f"{where}: no booktitle")
    collection = text_of(data.get("shortname"))
    if not collection:  # `id: COLT2026`, `id: ICML-2025`: the name without the year
        m = re.match(r"^(.*?\D)[-_ ]?(?:19|20)\d\d$", text_of(data.get("id")) or "")
        collection = m.group(1) if m else None
    if not collection:
        raise ValueError(f"{where}: no short name of the conference (shortname)")
    published, start, end = (as_date(data.get(k)) for k in ("published", "start", "end"))
    year = text_of(data.get("year"))
    if not year or not year.isdigit():
        known = published or start
        if known is None:
            raise ValueError(f"{where}: no year")
        year = str(known.year)
    conference = data.get("conference")
    conference = conference if isinstance(conference, dict) else {}
    return Volume(
        dir=vol_dir,
        collection=oneline(collection),
        edition=year,
        booktitle=booktitle,
        published=published,
        start=start,
        end=end,
        dates=text_of(data.get("date_str")) or date_range(start, end),
        editors=tuple(persons(data.get("editor"))),
        bibtex_editor=text_of(data.get("bibtex_editor")),
        sections=tuple(_sections(data.get("sections"))),
        name=tex_text(text_of(conference.get("name")) or "") or None,
        location=tex_text(text_of(conference.get("location")) or "") or None,
    )


def _sections(value: Any) -> Iterator[Section]:
    for s in value if isinstance(value, list) else []:
        if isinstance(s, dict) and (name := text_of(s.get("name"))):
            yield Section(name, text_of(s.get("title")) or name, as_date(s.get("published")))


def persons(value: Any) -> Iterator[Person]:
    """People of a YAML list of {given, family, prefix, suffix}."""
    for a in value if isinstance(value, list) else []:
        if isinstance(a, dict):
            given, family, prefix, suffix = (
                name_text(text_of(a.get(k)) or "") for k in ("given", "family", "prefix", "suffix")
            )
            if given or family:
                yield Person(given, family, prefix, suffix)


def date_range(start: date | None, end: date | None) -> str | None:
    """PMLR's `date_str` of a conference's days, as its tool writes it: "29 Jun--03 Jul",
    "13--19 Jul", "22 Jul"."""
    if start is None or end is None:
        return None
    if (start.year, start.month) == (end.year, end.month):
        return f"{end:%d %b}" if start.day == end.day else f"{start:%d}--{end:%d %b}"
    return f"{start:%d %b}--{end:%d %b}"


# ---- the posts --------------------------------------------------------------------------------

_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*\r?$", re.MULTILINE)


def _posts(vol: Volume, folder: Path) -> tuple[list[Entry], int]:
    entries: list[Entry] = []
    skipped = 0
    files = sorted(f for f in folder.iterdir() if f.suffix in (".md", ".markdown"))
    for f in files:
        try:
            entries.append(_post(vol, f))
        except (OSError, UnicodeDecodeError, yaml.YAMLError, ValueError) as e:
            reason = " ".join(str(e).split())
            log.warning("%s: post skipped: %s", f, reason)
            skipped += 1
    return entries, skipped


def _post(vol: Volume, path: Path) -> Entry:
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---"):
        raise ValueError("no YAML front matter")
    start = text.find("\n") + 1
    end = _CLOSE.search(text, start)
    if not start or end is None:
        raise ValueError("its front matter does not end")
    data = yaml.load(text[start : end.start()], Loader=_LOADER)
    if not isinstance(data, dict):
        raise ValueError("its front matter is no mapping")
    paper = text_of(data.get("id"))
    if not paper:
        raise ValueError("no id")
    title = text_of(data.get("tex_title")) or text_of(data.get("title"))
    if not title or not tex_text(title):
        raise ValueError("no title")
    first, last = text_of(data.get("firstpage")) or "", text_of(data.get("lastpage")) or ""
    if not first and (page := text_of(data.get("page"))):
        first, _, last = page.partition("-")
    order = data.get("order")
    links = {k: v for k in _LINKS if (v := text_of(data.get(k)))}
    extras = [
        {"label": str(x["label"]), "link": str(x["link"])}
        for x in data.get("extras") or []
        if isinstance(x, dict) and x.get("label") and x.get("link")
    ]
    if extras:
        links["extras"] = extras
    return Entry(
        where=str(path),
        paper=paper,
        title=title,
        authors=list(persons(data.get("author"))),
        bibtex_author=text_of(data.get("bibtex_author")),
        abstract=oneline(text_of(data.get("abstract")) or ""),
        first=first.strip(),
        last=(last or first).strip(),
        order=order if isinstance(order, int) else page_order(first),
        section=text_of(data.get("section")) or "",
        published=as_date(data.get("date")),
        pdf=text_of(data.get("pdf")),
        doi=text_of(data.get("doi")),
        links=links,
    )


def page_order(first: str) -> int:
    """PMLR's `order` of a first page: its number; 0 for a roman one (a preface's "i")."""
    first = first.strip()
    return int(first) if first.isdigit() else 0


# ---- papers and listings ----------------------------------------------------------------------


def assemble(vol: Volume, entries: Iterable[Entry], skipped: int = 0) -> Iterator[PmlrBatch]:
    """Papers and listings of a volume's entries, in PMLR's order (section by section as the
    volume lists them, then `order`, then as read), `CHUNK` papers a batch."""
    kept: list[tuple[Entry, str]] = []
    seen: set[str] = set()
    for e in entries:
        try:
            local = ids.build(e.paper, vol.dir).id
        except BadId:
            log.warning("%s: skipped: bad paper id %r", e.where, e.paper)
            skipped += 1
            continue
        if local in seen:
            log.warning("%s: skipped: paper id %r already in volume %s", e.where, e.paper, vol.dir)
            skipped += 1
            continue
        seen.add(local)
        kept.append((e, local))
    position = {s.name: i for i, s in enumerate(vol.sections)}
    order = sorted(
        range(len(kept)),
        key=lambda i: (position.get(kept[i][0].section, len(position)), kept[i][0].order, i),
    )
    kept = [kept[i] for i in order]
    bibtex_editor = vol.bibtex_editor
    if bibtex_editor and oneline(bibtex_editor) == names([p.full for p in vol.editors]):
        bibtex_editor = None  # what bibtex.py writes from the editors' names anyway
    ranks: dict[str, int] = {}
    batch = PmlrBatch(volume=vol, skipped=skipped)
    for e, local in kept:
        paper = _paper(vol, e, local, bibtex_editor)
        group = vol.group(e.section)
        ranks[group] = ranks.get(group, 0) + 1
        batch.papers.append(paper)
        batch.listings.append(
            Listing(vol.collection, vol.edition, group, paper.id, ranks[group], _day(vol, e))
        )
        if len(batch.papers) == CHUNK:
            yield batch
            batch = PmlrBatch(volume=vol)
    if batch.papers or batch.skipped or not kept:
        yield batch


def _day(vol: Volume, e: Entry) -> date | None:
    section = vol.section(e.section)
    return vol.start or (section.published if section else None) or vol.published


def _paper(vol: Volume, e: Entry, local: str, bibtex_editor: str | None) -> Paper:
    title = tex_text(e.title)
    authors = [p.full for p in e.authors]
    section = vol.section(e.section)
    day = e.published or (section.published if section else None) or vol.published
    published = datetime(day.year, day.month, day.day) if day else None
    # Paper.extra: plain JSON, and only what neither the id nor the other fields tell
    extra: dict[str, Any] = {"bibkey": f"pmlr-{vol.dir}-{local.partition('@')[0]}"}
    if e.first:
        extra["pages"] = f"{e.first}--{e.last or e.first}"  # as PMLR's BibTeX writes them
    if e.pdf and e.pdf != ids.pdf_url(local):
        extra["pdf"] = e.pdf  # recent volumes: the copy in the volume's repository
    group = vol.group(e.section)
    if group:
        extra["section"] = group
    extra.update(e.links)
    # for bibtex.py, which writes PMLR's own entry: what it could not rebuild from the rest
    if oneline(e.title) != title:
        extra["tex_title"] = oneline(e.title)  # capitals braced: {DDPM} Score Matching
    if e.bibtex_author and oneline(e.bibtex_author) != names(authors):
        extra["bibtex_author"] = oneline(e.bibtex_author)  # B{\l}asiok; {Di Gregorio}
    if vol.editors:
        extra["editors"] = [p.full for p in vol.editors]
    if bibtex_editor:
        extra["bibtex_editor"] = oneline(bibtex_editor)
    if vol.dates:
        extra["month"] = vol.dates  # "29 Jun--03 Jul", PMLR's BibTeX `month`
    if published is None or str(published.year) != vol.edition:
        extra["year"] = vol.edition
    return Paper(
        id=ids.format_id(local),
        title=title,
        abstract=e.abstract,
        authors=authors,
        categories=[],
        journal_ref=vol.booktitle,  # what a citation of the paper needs: where it appeared
        doi=e.doi,
        published=published,
        source=SOURCE_KEY,
        extra=extra,
    )


# ---- text -------------------------------------------------------------------------------------

_FORMAT = re.compile(
    r"\\(?:emph|textit|textbf|textsc|textrm|textsf|texttt|textsl|textup|textnormal|mbox|text)"
    r"\s*(?=\{)"
)
_ESCAPED = re.compile(r"\\([&%#_{}])")
_PUNCTUATION = (("---", "—"), ("--", "–"), ("``", "“"), ("''", "”"))
# and, in TeX that PMLR's tool has not been through yet (a .bib), single quotes as it turns
# them: d'Orsi -> d’Orsi (outside math, where ' is a prime)
_QUOTES = (*_PUNCTUATION, ("`", "‘"), ("'", "’"))
_SPACES = re.compile(r"~|\\\\|\\(?=\s)")


def tex_text(text: str) -> str:
    """A title (or booktitle) as written in TeX, as text on one line: accents to Unicode,
    dashes and double quotes to their characters, formatting commands and the braces that
    protect capitals taken out (`{DDPM}`, `\\emph{not}`), `\\&` to `&`; math spans kept as
    written (`$\\sqrt{n}$`), and `\\$` kept escaped so that it opens none."""
    text = accents_to_unicode(text)
    if not any(c in text for c in "\\{}-`'~"):
        return oneline(text)
    out: list[str] = []
    for seg, is_math in split_math(text):
        if not is_math:
            seg = _FORMAT.sub("", seg)
            for tex, char in _PUNCTUATION:
                seg = seg.replace(tex, char)
            seg = seg.replace("~", " ")
            # braces out, escaped ones kept as their characters (\\{ -> {, \\& -> &)
            seg = "".join(
                _ESCAPED.sub(r"\1", piece)
                for piece in re.split(r"(\\[&%#_{}])|[{}]", seg)
                if piece is not None
            )
        out.append(seg)
    return oneline("".join(out))


def decode_marks(text: str) -> str:
    """TeX from a .bib as PMLR's tool decodes it for a post's `abstract` and `tex_title`:
    accents, dashes and quotes outside math to their characters, on one line; braces and
    commands kept. (The tool decodes math too: `$L_\\infty$` becomes `$L_∞$`, a prime `’`;
    math is left as written here.)"""
    text = accents_to_unicode(text)
    out: list[str] = []
    for seg, is_math in split_math(text):
        if not is_math:
            for tex, char in _QUOTES:
                seg = seg.replace(tex, char)
            seg = _SPACES.sub(" ", seg)  # ~, "\\ " and a forced line break "\\\\": a space
        out.append(seg)
    return oneline("".join(out))


def name_text(text: str, *, quotes: bool = False) -> str:
    """A name (or part of one) as text: accents to Unicode, braces out, one line; with
    `quotes`, a .bib's apostrophe as PMLR writes it (d'Orsi -> d’Orsi)."""
    text = accents_to_unicode(text)
    if quotes:
        text = text.replace("'", "’").replace("`", "‘")
    return oneline(text.replace("{", "").replace("}", "").replace("~", " "))


def text_of(value: Any) -> str | None:
    """A YAML scalar as text (`volume: 336` may be a number); None for none or a structure."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str | int | float):
        return str(value).strip() or None
    return None


def as_date(value: Any) -> date | None:
    """A YAML date (libyaml reads `2026-06-29` as one) or ISO text; None for anything else."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None
