"""The ACL Anthology's data files (`data/xml/<collection>.xml`, RELAX NG schema
`schema.rnc`) -> one `AclBatch` per volume: its papers (with what has no column in their
`extra`: affiliations, pages, the Anthology's BibTeX key, the volume's editors, publisher
and place) and their venue listings.

Read with lxml's iterparse, one <volume> at a time, each freed once read. 2024.acl (1.9 MB,
933 papers) parses whole in about the same time (7-15 ms either way, measured), but a year's
Findings or LREC hold a few thousand papers and an import reads a thousand files: memory
stays one volume's worth whatever the file.
"""

from __future__ import annotations

import gzip
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import IO, NamedTuple

from lxml import etree

from coolpapers.records import Batch, Listing, Paper
from coolpapers.sources.acl import ids

log = logging.getLogger("coolpapers.sources")

SOURCE_KEY = "acl"

# Old-style collection letters (https://aclanthology.org/info/ids/): only those that name one
# conference or journal; others keep their letter. W held every workshop of a year.
_LETTERS = {
    "P": "ACL", "N": "NAACL", "D": "EMNLP", "E": "EACL", "Q": "TACL", "J": "CL",
    "C": "COLING", "K": "CoNLL", "S": "SemEval", "L": "LREC", "I": "IJCNLP", "W": "WS",
}  # fmt: skip
# New-style venue ids that are not written in capitals; every other one is (acl -> ACL).
_VENUES = {"conll": "CoNLL", "semeval": "SemEval", "starsem": "*SEM"}
# Volume ids that name their group (2024.acl-long); numbered volumes (P17-1) say it in
# their booktitle instead, after its last "(", ":" or "," (see _KEYWORDS).
_GROUPS = {
    "long": "Long", "short": "Short", "findings": "Findings", "demo": "Demo",
    "demos": "Demo", "srw": "SRW", "tutorial": "Tutorial", "tutorials": "Tutorial",
    "industry": "Industry", "main": "Main",
}  # fmt: skip
_KEYWORDS = (
    ("long paper", "Long"), ("short paper", "Short"), ("demonstration", "Demo"),
    ("student research workshop", "SRW"), ("tutorial", "Tutorial"), ("industry", "Industry"),
    ("findings", "Findings"),
)  # fmt: skip
_MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
_MONTH = re.compile(r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b", re.I)
_DASHES = re.compile(r"\s*[-–—]+\s*")  # page ranges: 1-17, 1–18
_PROCEEDINGS = re.compile(r"^proceedings\s+of\s+(?:the\s+)?", re.I)


@dataclass(frozen=True, slots=True)
class Volume:
    """One volume as its <meta> describes it, and where the venue pages list it."""

    id: str  # "2024.acl-long", "P17-1"
    number: str  # its id in its collection, as the file writes it: "long", "1"
    collection: str  # "ACL": the venue as papers.cool names it
    edition: str  # "2024"
    group: str  # "Long"; "" for a journal, or a collection's one volume that names none
    # whether the volume's id or booktitle names its group; if not, the group is the
    # booktitle without "Proceedings of" (several workshops in one collection: W17)
    named: bool
    booktitle: str
    journal: bool  # type="journal": TACL, CL
    year: int
    month: int | None
    editors: tuple[str, ...] = ()
    publisher: str | None = None
    address: str | None = None


@dataclass(slots=True)
class AclBatch(Batch):
    """A volume's papers and listings (a `records.Batch`, so `Store.write` takes it), and
    the volume they are in."""

    volume: Volume | None = None


def looks_like(path: Path, head: bytes) -> bool:
    """Whether a file is one of the Anthology's data files (sources/formats.py): XML whose
    root is a <collection> with an id."""
    start = head.lstrip()[:4096]
    return start.startswith((b"<?xml", b"<collection")) and b"<collection id=" in start


def read(path: str | Path) -> Iterator[AclBatch]:
    """The volumes of one data file, plain or gzipped (told by its first bytes), in order.
    A paper that cannot be read (no title, a bad id) is logged and counted in `skipped`; the
    rest of the file is kept. XML that is not well-formed raises lxml's XMLSyntaxError once
    the volumes before the fault are out; a damaged gzip, gzip's error."""
    with open(path, "rb") as raw:
        gz = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        f: IO[bytes] = gzip.GzipFile(fileobj=raw) if gz else raw
        yield from _file(f, str(path))


def _file(f: IO[bytes], name: str) -> Iterator[AclBatch]:
    # Whether a volume is its file's only one decides the group of one that names none (see
    # `_settle`): known once a second volume is read or the file ends, so the first waits.
    volumes = _volumes(f, name)
    first = next(volumes, None)
    if first is None:
        return
    try:
        second = next(volumes, None)
    except etree.XMLSyntaxError:
        # broken XML after the first volume: there was more than one, and the first is whole
        yield _settle(first, lone=False)
        raise
    yield _settle(first, lone=second is None)
    if second is not None:
        yield _settle(second, lone=False)
        for batch in volumes:
            yield _settle(batch, lone=False)


def _volumes(f: IO[bytes], name: str) -> Iterator[AclBatch]:
    # No entities, no network: a data file is text, never a request.
    events = etree.iterparse(
        f, events=("end",), tag=("volume", "event"), resolve_entities=False, no_network=True
    )
    for _, el in events:
        if el.tag == "volume":  # an <event> lists talks and co-located volumes: no papers
            parent = el.getparent()
            collection_id = (parent.get("id") if parent is not None else None) or ""
            yield _volume(collection_id.strip(), el, name)
        # free the volume and everything before it: memory stays one volume
        el.clear()
        while el.getprevious() is not None:
            del el.getparent()[0]


def _settle(batch: AclBatch, *, lone: bool) -> AclBatch:
    """A file's only volume that names no group (a workshop's proceedings) is listed under
    none: its booktitle would only repeat the collection's name."""
    vol = batch.volume
    if vol is None or vol.named or not lone:
        return batch
    batch.volume = replace(vol, group="")
    for listing in batch.listings:
        listing.group = ""
    return batch


def _volume(collection_id: str, el: etree._Element, name: str) -> AclBatch:
    volume_id = (el.get("id") or "").strip()
    papers = el.findall("paper")
    try:
        vol = _meta(collection_id, volume_id, el)
    except ValueError as e:
        log.warning("%s: volume %r left out (%s papers): %s", name, volume_id, len(papers), e)
        return AclBatch(skipped=len(papers))
    batch = AclBatch(volume=vol)
    day = date(vol.year, vol.month, 1) if vol.month else None
    keys = _Keys(collection_id, vol)
    for p in papers:
        try:
            got = _paper(keys, vol, p)
        except ValueError as e:
            log.warning("%s: paper %r of volume %s skipped: %s", name, p.get("id"), vol.id, e)
            batch.skipped += 1
            continue
        if got is None:
            continue  # front matter, or a paper the Anthology removed
        key = got.paper.id
        batch.papers.append(got.paper)
        rank = len(batch.papers)  # its place among the volume's listed papers
        batch.listings.append(
            Listing(vol.collection, vol.edition, vol.group, key, rank, day, got.status)
        )
    return batch


def _meta(collection_id: str, volume_id: str, el: etree._Element) -> Volume:
    if not collection_id or not volume_id:
        raise ValueError("no collection or volume id")
    meta = el.find("meta")
    if meta is None:
        raise ValueError("no <meta>")
    booktitle = markup(meta.find("booktitle"))
    if not booktitle:
        raise ValueError("no booktitle")
    year_text = (meta.findtext("year") or "").strip()
    year = int(year_text) if year_text.isdigit() else ids.year(collection_id)
    if year is None:
        raise ValueError(f"no year ({year_text!r})")
    m = _MONTH.search(meta.findtext("month") or "")
    journal = el.get("type") == "journal"
    collection, group, named = _names(collection_id, volume_id, booktitle, journal)
    return Volume(
        id=f"{collection_id}-{volume_id}",
        number=volume_id,
        collection=collection,
        edition=str(year),
        group=group,
        named=named,
        booktitle=booktitle,
        journal=journal,
        year=year,
        month=_MONTHS[m.group(1).lower()] if m else None,
        editors=tuple(n for e in meta.findall("editor") if (n := _person(e)[0])),
        publisher=_oneline(meta.findtext("publisher")),
        address=_oneline(meta.findtext("address")),
    )


def _names(
    collection_id: str, volume_id: str, booktitle: str, journal: bool
) -> tuple[str, str, bool]:
    """(collection, group, whether the volume named the group) of a volume:
    2024.acl + long -> ("ACL", "Long"); 2024.findings + emnlp -> ("EMNLP", "Findings");
    P17 + 1 -> ("ACL", "Long") from its booktitle "... (Volume 1: Long Papers)"."""
    if ids.is_new_style(collection_id):
        venue = collection_id.partition(".")[2]
        if venue == "findings":  # 2024.findings-emnlp: EMNLP's Findings
            return _venue(volume_id), "Findings", True
        collection = _venue(venue)
    else:
        collection = _LETTERS.get(collection_id[:1], collection_id[:1])
    group = _GROUPS.get(volume_id.lower())
    # a numbered volume says its part after the booktitle's last "(", ":" or ","; a title
    # with none of those is a whole event's ("Workshop on Industry-Scale NLP": no group)
    parts = re.split(r"[(:,]", booktitle)
    if group is None and len(parts) > 1:
        group = next((g for word, g in _KEYWORDS if word in parts[-1].lower()), None)
    if group is not None:
        return collection, group, True
    return collection, "" if journal else _PROCEEDINGS.sub("", booktitle), journal


def _venue(venue_id: str) -> str:
    return _VENUES.get(venue_id.lower(), venue_id.upper())


class _Read(NamedTuple):
    paper: Paper
    status: str  # the listing's: "Retracted", else ""


class _Keys:
    """The local ids of one volume's papers, and what they share. Whether the volume's ids
    come out canonical as built (lowercase, the store's form) is checked by `ids.parse` once,
    on the first paper: parsing every id cost a fifth of the reading."""

    def __init__(self, collection_id: str, vol: Volume) -> None:
        self.collection_id, self.volume_id = collection_id, vol.number
        self.canonical: bool | None = None  # not known before the first paper
        # the papers' date: one object for the volume, which the parser process pickles
        # once (pickle keeps one copy of an object met twice; a third of the unpickling)
        self.published = datetime(vol.year, vol.month, 1) if vol.month else None

    def local(self, number: str) -> str:
        built = ids.build_id(self.collection_id, self.volume_id, number)
        if self.canonical:
            return built
        local = ids.parse(built).id  # BadId (a ValueError) for an id of no known form
        self.canonical = local == built
        return local


def _paper(keys: _Keys, vol: Volume, el: etree._Element) -> _Read | None:
    """A <paper>; None for what is no paper to list, ValueError for one that cannot be read.
    One pass over its children (a dozen finds per paper cost a third of the parse)."""
    number = (el.get("id") or "").strip()
    if not number.isdigit():
        raise ValueError(f"bad paper id {number!r}")
    if int(number) == 0:
        return None  # front matter, numbered 0 by the Anthology's convention
    local = keys.local(number)
    title = abstract = ""
    doi = pages = bibkey = None
    status = ""
    authors: list[str] = []
    affiliations: list[str | None] = []
    revisions: list[etree._Element] = []
    for c in el:
        tag = c.tag
        if tag == "author":
            name, affiliation = _person(c)
            if name:  # a <first/> with an empty <last> is no author
                authors.append(name)
                affiliations.append(affiliation)
        elif tag == "title":
            title = markup(c)
        elif tag == "abstract":
            abstract = markup(c)
        elif tag == "doi":
            doi = _oneline(c.text)
        elif tag == "pages":
            pages = _oneline(c.text)
        elif tag == "bibkey":
            bibkey = _oneline(c.text)
        elif tag == "revision":
            revisions.append(c)
        elif tag == "retracted":
            status = "Retracted"
        elif tag == "removed":
            return None  # taken down by the Anthology: no PDF, no page
    if not title:
        raise ValueError("no title")
    version, updated = _revision(revisions)
    paper = Paper(
        id=ids.format_id(local),
        title=title,
        abstract=abstract,
        authors=authors,
        categories=[],
        version=version,
        journal_ref=vol.booktitle,  # what a citation of the paper needs: where it appeared
        doi=doi,
        published=keys.published,
        updated=updated,
        source=SOURCE_KEY,
    )
    # Paper.extra: plain JSON; only what is there (most papers name no affiliation)
    extra = paper.extra
    if any(affiliations):
        extra["affiliations"] = affiliations  # aligned with authors; None: not named
    if pages:
        extra["pages"] = _DASHES.sub("--", pages)  # "1--17", as BibTeX writes ranges
    if bibkey:
        extra["bibkey"] = bibkey  # the Anthology's own BibTeX key
    if vol.editors:
        extra["editors"] = list(vol.editors)
    if vol.publisher:
        extra["publisher"] = vol.publisher
    if vol.address:
        extra["address"] = vol.address
    return _Read(paper, status)


def _person(el: etree._Element) -> tuple[str | None, str | None]:
    """("First Last", affiliation) of an <author> or <editor>. A <variant> (the name in
    another script) is left aside: the Latin-script name is the one the Anthology lists and
    cites."""
    first = last = ""
    affiliation = None
    for c in el:
        tag = c.tag
        if tag == "first":
            first = c.text or ""
        elif tag == "last":
            last = c.text or ""
        elif tag == "affiliation":
            affiliation = _oneline(c.text)
    return _squash(f"{first} {last}") or None, affiliation


def _revision(revisions: list[etree._Element]) -> tuple[int | None, datetime | None]:
    """The latest <revision> (its number is the PDF's vN) and its date; (None, None) when the
    paper was never revised. The store keeps the highest version it has seen."""
    best: tuple[int, datetime | None] | None = None
    for r in revisions:
        rid = (r.get("id") or "").strip()
        if not rid.isdigit():
            continue
        when = r.get("date")
        try:
            day = datetime.strptime(when.strip(), "%Y-%m-%d") if when else None
        except ValueError:
            day = None
        if best is None or int(rid) > best[0]:
            best = (int(rid), day)
    return best if best is not None else (None, None)


def markup(el: etree._Element | None) -> str:
    """The text of a title, abstract or booktitle (MarkupText in the schema), on one line:
    <fixed-case>, <i>, <b> and <url> reduced to their text, <tex-math> to $...$ (which the
    site typesets), and a literal "$" escaped (\\$) so it opens no math span."""
    if el is None:
        return ""
    if len(el) == 0:  # plain text, no markup (most abstracts): no walk
        return _squash(_dollars(el.text or ""))
    out: list[str] = []
    _walk(el, out)
    return _squash("".join(out))


def _walk(el: etree._Element, out: list[str]) -> None:
    if el.text:
        out.append(_dollars(el.text))
    for c in el:
        if c.tag == "tex-math":
            tex = " ".join("".join(c.itertext()).split())
            if tex:
                out.append(f"${tex}$")
        elif isinstance(c.tag, str):  # not a comment or processing instruction
            _walk(c, out)
        if c.tail:
            out.append(_dollars(c.tail))


def _dollars(text: str) -> str:
    return text.replace("$", r"\$") if "$" in text else text


def _oneline(text: str | None) -> str | None:
    return (_squash(text) or None) if text else None


def _squash(text: str) -> str:
    """`text` on one line, its runs of whitespace one space: " ".join(text.split()), with a
    quick way out for text that has no whitespace but single spaces (nearly all: a tenth of
    the cost of splitting a whole abstract into words). Every whitespace character but the
    space (tabs, newlines, NBSP, thin spaces) is one `isprintable` rejects."""
    if "  " not in text and text.isprintable():
        return text.strip()
    return " ".join(text.split())
