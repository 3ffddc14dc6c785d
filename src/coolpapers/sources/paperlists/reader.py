"""A paperlists file (papercopilot/paperlists: `<conf><year>.json`, plain or gzipped) ->
`Batch`es of papers and venue listings, each paper under the source its links name.

A file is a JSON array of records, one per paper: `title`, `abstract`, `author` and `aff`
(";"-separated, aligned), `track` ("main", "Demo Track", ...), `status` (the decision or
the presentation: "Poster", "Oral", "Reject", ...), `site` (or CVF's `oa`) and `pdf`, and
per conference `id`, `session`, `primary_area`, `keywords`, `tldr`, `bibtex`, `doi`,
`arxiv`, `github`, `project`. The conference and year come from the file name
(`iclr2018.json.gz` -> ICLR, 2018).

Which source a record belongs to is told by the host of its `site`, `oa` or `pdf` (the first
one known): openreview.net -> "openreview" (`<forum>@OpenReview`, the forum from the URL's
`id=` or the record's `id`), openaccess.thecvf.com -> "cvf", ijcai.org -> "ijcai",
aaai.org / ojs.aaai.org / cdn.aaai.org -> "aaai". A record on no known host (PMLR's, NeurIPS's
own proceedings, ...) is skipped and counted in `skipped`, logged once per host and file; a
record without a title or a usable id, a duplicate id, or an element that is no JSON object
is skipped, counted and logged with the file and its index. The rest of the file is kept.
A field that is no text (null, a number) is left out of its record; control characters the
file escapes (a collector's broken decoding) are removed (`load`).

Listings: one per paper, in the edition's group as a reader skims it:
- OpenReview and CVF: the presentation (`status`: Oral, Spotlight, Poster; "<track> Poster"
  outside the main track). CVF's `session` (CVPR 2019: 17 topics, each with orals and
  posters) is kept in `extra["session"]` rather than made the group: two groups, orals
  first, are what a reader skims; 17 topical ones would split each presentation in pieces.
- IJCAI: its track ("Main Track", "Demo Track", "Survey Track", ...); every status is
  "Poster" there.
- AAAI: its technical track (`primary_area`: "Computer Vision I", ...), as the proceedings'
  issues are cut; the track when there is none.
Status: "" for an accepted paper; any status that is no acceptance (Reject, Withdraw, Desk
Reject, ICLR 2018's "Workshop" = invited to the workshop track, "Active" = undecided, ...)
is the listing's status and its group, so pages hide such papers by default yet keep them;
such a paper gets no `journal_ref` nor `published`. Rank: the paper's place in its group in
the order the file lists the records (paperlists sorts them by title). Day: the first day
the edition was held, where `HELD` knows it.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import orjson

from coolpapers.records import Batch, Listing, Paper
from coolpapers.sources.aaai import ids as aaai_ids
from coolpapers.sources.arxiv import ids as arxiv_ids
from coolpapers.sources.base import BadId
from coolpapers.sources.cvf import ids as cvf_ids
from coolpapers.sources.ijcai import ids as ijcai_ids
from coolpapers.texmarkup import unwrap

log = logging.getLogger("coolpapers.sources")

BATCH = 1000  # records per Batch

# How papers.cool spells the conferences whose names are not all capitals; any other is
# upper-cased (iclr -> ICLR).
COLLECTIONS = {
    "neurips": "NeurIPS", "nips": "NeurIPS", "corl": "CoRL", "colm": "COLM",
    "siggraph": "SIGGRAPH", "siggraphasia": "SIGGRAPH Asia", "acmmm": "ACM MM",
    "mm": "ACM MM", "www": "WWW", "thewebconf": "WWW", "colt": "COLT", "uai": "UAI",
    "aistats": "AISTATS", "tmlr": "TMLR", "automl": "AutoML", "rss": "RSS", "3dv": "3DV",
    "coling": "COLING", "conll": "CoNLL", "interspeech": "Interspeech", "lrec": "LREC",
}  # fmt: skip
# The first day each edition in the shared data was held (listing days, and `published` of
# its accepted papers); an edition not here has neither, and sources say its year instead.
HELD: dict[tuple[str, str], date] = {
    ("ICLR", "2018"): date(2018, 4, 30),  # Vancouver, Apr 30 - May 3
    ("CVPR", "2019"): date(2019, 6, 16),  # Long Beach, Jun 16-20
    ("AAAI", "2022"): date(2022, 2, 22),  # virtual, Feb 22 - Mar 1
    ("IJCAI", "2024"): date(2024, 8, 3),  # Jeju, Aug 3-9
    ("WACV", "2025"): date(2025, 2, 28),  # Tucson, Feb 28 - Mar 4
    ("CoRL", "2025"): date(2025, 9, 27),  # Seoul, Sep 27-30
    ("COLM", "2025"): date(2025, 10, 7),  # Montreal, Oct 7-10
}

_NAME = re.compile(r"^(?P<conf>[a-z0-9]+?)(?P<year>(?:19|20)\d\d)(?:\.json)?(?:\.gz)?$")
_FORUM = re.compile(r"^[A-Za-z0-9_\-]{5,40}$")
_FORUM_IN_URL = re.compile(r"[?&]id=([A-Za-z0-9_\-]{5,40})(?:[&#]|$)")
# Statuses that are no acceptance into the edition's proceedings.
_NOT_ACCEPTED = re.compile(
    r"reject|withdr|desk|retract|rescind|workshop|^active$|submitted|pending|under review",
    re.IGNORECASE,
)
_ESCAPE = re.compile(rb"\\(?:[bf]|u00[0-9a-fA-F]{2})")
# What records.clean removes (control characters but tab and newline, lone surrogates).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_MAIN = frozenset({"", "main", "main track", "main conference"})
_MD_LINK = re.compile(r"\]\((https?://[^)\s]+)\)")
_BARE_HOST = re.compile(r"^[\w\-]+(?:\.[\w\-]+)*\.[a-z]{2,}(?:[/?#]\S*)?$", re.IGNORECASE)
_ARXIV_IN = re.compile(r"(?:arxiv\.org/(?:abs|pdf)/|arxiv:\s*)(" + arxiv_ids.PATTERN + ")", re.I)
# BibTeX fields as entries write them (a case-blind pattern, or one from \b, is 10-20 times
# slower than one that starts with its name; an upper-case DOI is tried second)
_BIB_DOI = re.compile(r"doi\s*=\s*[{\"]\s*([^}\"\s]+)")
_BIB_DOI_UPPER = re.compile(r"DOI\s*=\s*[{\"]\s*([^}\"\s]+)")
_BIB_YEAR = re.compile(r"year\s*=\s*[{\"]?\s*(\d{4})")
_BIB_MONTH = re.compile(r"month\s*=\s*[{\"]?\s*(\d{1,2})\b")
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Edition:
    """What a file's name says: `iclr2018.json.gz` -> ICLR's 2018 edition."""

    collection: str  # "ICLR": the venue as papers.cool names it
    edition: str  # "2018"
    day: date | None  # the first day it was held, where HELD knows it

    @property
    def booktitle(self) -> str:
        return f"{self.collection} {self.edition}"

    @property
    def held(self) -> datetime | None:
        """`day` as a `published` time (naive UTC)."""
        return datetime(self.day.year, self.day.month, self.day.day) if self.day else None


def edition_of(
    path: str | Path, collection: str | None = None, edition: str | None = None
) -> Edition:
    """The edition a file lists, from its name (`<conf><year>.json[.gz]`) unless given;
    ValueError for a name that says neither."""
    m = _NAME.match(Path(path).name.lower())
    if m is None and (collection is None or edition is None):
        raise ValueError(
            f"{path}: not a paperlists file name (<conference><year>.json[.gz], like"
            " iclr2018.json.gz); name the collection and edition"
        )
    if collection is None:
        assert m is not None
        conf = m.group("conf")
        collection = COLLECTIONS.get(conf, conf.upper())
    if edition is None:
        assert m is not None
        edition = m.group("year")
    return Edition(collection, edition, HELD.get((collection, edition)))


def looks_like(path: Path, head: bytes) -> bool:
    """Whether a file is a paperlists file, from its first bytes (gunzipped by the caller):
    a JSON array of objects with a `title` and a `track`, `status`, `site` or `oa`, or (when
    the head shows no key yet: a long first record) an array of objects named like one."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text.startswith(b"["):
        return False
    rest = text[1:].lstrip()
    named = _NAME.match(path.name.lower()) is not None and ".json" in path.name.lower()
    if rest.startswith(b"]"):
        return named  # an empty list: only its name tells
    if not rest.startswith(b"{"):
        return False
    keys = (b'"track"', b'"status"', b'"site"', b'"oa"')
    return (b'"title"' in text and any(k in text for k in keys)) or named


def load(path: str | Path) -> list[Any]:
    r"""The records of a file, plain or gzipped (told by its first bytes). ValueError for a
    damaged gzip, text that is not JSON, or JSON that is not a list.

    Control characters that the file escapes (`\u0006`, `\b`: a collector's broken
    decoding, never text) and lone surrogates are removed from every field, as
    `records.clean` would remove them from the stored paper, so that what is read is what
    is stored (and the extras, which `clean` does not see, are clean too)."""
    raw = Path(path).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise ValueError(f"{path}: damaged gzip ({e})") from e
    try:
        data = orjson.loads(raw)
        dirty = _escapes_controls(raw)
    except orjson.JSONDecodeError as e:
        if "surrogate" not in str(e):
            raise ValueError(f"{path}: not JSON ({e})") from e
        try:  # orjson refuses lone surrogates; json keeps them, to be removed below
            data = json.loads(raw)
        except ValueError as e2:
            raise ValueError(f"{path}: not JSON ({e2})") from e2
        dirty = True
    if not isinstance(data, list):
        raise ValueError(
            f"{path}: not a paperlists file (a JSON list of records), but a {type(data).__name__}"
        )
    if dirty:
        data = [_without_controls(r) if r.__class__ is dict else r for r in data]
    return data


def _escapes_controls(raw: bytes) -> bool:
    r"""Whether JSON text escapes a control character: `\b`, `\f`, `\u0000`-`\u001f` but
    tab, newline and return, `\u007f`-`\u009f`. An escaped backslash before a `b` (`\\beta`,
    LaTeX in an abstract) escapes none. Quick: JSON text holds no control character raw,
    and few escapes start so."""
    for m in _ESCAPE.finditer(raw):
        i = j = m.start()
        while j and raw[j - 1] == 0x5C:  # the backslashes before it: an even number, or
            j -= 1  # the escape is an escaped backslash's letter
        if (i - j) % 2:
            continue
        escape = m.group()
        if len(escape) == 2:  # \b, \f
            return True
        code = int(escape[2:], 16)
        if (code < 0x20 and code not in (9, 10, 13)) or 0x7F <= code <= 0x9F:
            return True
    return False


def _without_controls(rec: dict[str, Any]) -> dict[str, Any]:
    return {
        k: _CONTROL.sub("", v) if v.__class__ is str and _CONTROL.search(v) else v
        for k, v in rec.items()
    }


def read(
    path: str | Path,
    *,
    collection: str | None = None,
    edition: str | None = None,
    size: int = BATCH,
) -> Iterator[Batch]:
    """The papers and listings of one paperlists file, `size` records a Batch, in the file's
    order (see the module's docstring for what is skipped). ValueError for a file that
    cannot be read at all (`load`, `edition_of`), before any Batch."""
    ed = edition_of(path, collection, edition)
    records = load(path)
    name = str(path)
    reader = _Reader(ed)
    ranks: dict[str, int] = {}
    seen: set[str] = set()
    unknown: Counter[str] = Counter()
    first_unknown: dict[str, int] = {}
    venue, year, day = ed.collection, ed.edition, ed.day
    for start in range(0, len(records), size):
        batch = Batch()
        papers, listings = batch.papers, batch.listings
        for i in range(start, min(start + size, len(records))):
            rec = records[i]
            if rec.__class__ is not dict:
                log.warning("%s: record %d skipped: a JSON %s, not an object", name, i,
                            type(rec).__name__)  # fmt: skip
                batch.skipped += 1
                continue
            try:
                paper, group, status = reader.record(rec)
            except _UnknownHost as e:
                unknown[e.host] += 1
                first_unknown.setdefault(e.host, i)
                batch.skipped += 1
                continue
            except ValueError as e:  # BadId is one
                log.warning("%s: record %d (id %r) skipped: %s", name, i, rec.get("id"), e)
                batch.skipped += 1
                continue
            key = paper.id
            if key in seen:
                log.warning("%s: record %d skipped: %s listed twice", name, i, key)
                batch.skipped += 1
                continue
            seen.add(key)
            rank = ranks[group] = ranks.get(group, 0) + 1
            papers.append(paper)
            listings.append(Listing(venue, year, group, key, rank, day, status))
        yield batch
    for host, n in unknown.items():
        log.warning("%s: %d records on %s skipped (no source for that host; the first is"
                    " record %d)", name, n, host, first_unknown[host])  # fmt: skip


class _UnknownHost(ValueError):
    def __init__(self, host: str) -> None:
        super().__init__(f"no source for host {host!r}")
        self.host = host


def _host(url: str) -> str:
    """`https://www.ijcai.org/proceedings/...` -> `ijcai.org` (quicker than urlsplit)."""
    _, sep, rest = url.partition("//")
    if not sep:
        return ""
    host = rest.split("/", 1)[0].partition("?")[0].partition("#")[0].rpartition("@")[2]
    return host.partition(":")[0].lower().removeprefix("www.")


def _source_of(host: str) -> str | None:
    if host == "openreview.net" or host.endswith(".openreview.net"):
        return "openreview"
    if host == "thecvf.com" or host.endswith(".thecvf.com"):
        return "cvf"
    if host == "ijcai.org":
        return "ijcai"
    if host == "aaai.org" or host.endswith(".aaai.org"):
        return "aaai"
    return None


_KEYS: dict[str, str | None] = {}  # the source of each URL's scheme and host seen so far


def _route(f: dict[str, str]) -> tuple[str, str]:
    """(source key, the URL that names it) from the first known host of site, oa, pdf."""
    hosts: list[str] = []
    for field in ("site", "oa", "pdf"):
        url = f.get(field)
        if not url:
            continue
        url = url.strip()
        start = url[: url.find("/", 8)]  # "https://host": a few per file, looked up once
        try:
            key = _KEYS[start]
        except KeyError:
            key = _source_of(_host(url))
            if len(_KEYS) < 10_000:
                _KEYS[start] = key
        if key is not None:
            return key, url
        hosts.append(_host(url) or url[:40])
    raise _UnknownHost(hosts[0] if hosts else "(no site nor pdf)")


class _Reader:
    """Turns one file's records into papers; what depends only on the status and track (a
    few values a file) is worked out once."""

    def __init__(self, ed: Edition) -> None:
        self.ed = ed
        self.booktitle = ed.booktitle
        self.held = ed.held
        self.placements: dict[tuple[str, str, str, str], tuple[str, str, bool]] = {}

    def placement(self, key: str, status: str, track: str, area: str) -> tuple[str, str, bool]:
        """(group, status, accepted) of a record."""
        got = self.placements.get((key, status, track, area))
        if got is None:
            accepted = _NOT_ACCEPTED.search(status) is None
            group = _group(key, status, track, area, accepted)
            got = (group, "" if accepted else status, accepted)
            self.placements[key, status, track, area] = got
        return got

    def record(self, rec: dict[str, Any]) -> tuple[Paper, str, str]:
        """(paper, group, status) of one record; ValueError (BadId) for one that cannot be
        used, _UnknownHost for one on no known host."""
        try:
            return self._record(rec)
        except (AttributeError, TypeError):
            # a field that is no text (null, a number, a list): read with the text ones only
            return self._record({k: v for k, v in rec.items() if v.__class__ is str})

    def _record(self, rec: dict[str, Any]) -> tuple[Paper, str, str]:
        # Every field is taken as text (this runs for every record of every file: no check
        # of types up front); one that is not raises AttributeError or TypeError (`record`).
        g = rec.get
        title = _one(g("title", ""))
        if not title:
            raise ValueError("no title")
        key, url = _route(rec)
        extra: dict[str, Any] = {}
        if key == "openreview":
            m = _FORUM_IN_URL.search(url)
            forum = m.group(1) if m else g("id", "").strip()
            if not _FORUM.match(forum):
                raise BadId(f"no OpenReview forum id (id {rec.get('id')!r}, {url})")
            pid = f"{forum}@OpenReview"
        elif key == "cvf":
            cid = cvf_ids.parse(url)
            pid = cvf_ids.format_id(cid.id)
            page, pdf = cvf_ids.build_links(cid)
            _keep_url(extra, "page", g("oa") or g("site", ""), page, "thecvf.com")
            _keep_url(extra, "pdf", g("pdf", ""), pdf, "thecvf.com")
        elif key == "ijcai":
            try:
                iid = ijcai_ids.parse(url)
            except BadId:  # a site URL of another shape: the record's `paper<N>`, the year
                number = g("id", "").strip().removeprefix("paper")
                iid = ijcai_ids.parse(f"{number}@{self.ed.edition}")
            pid = ijcai_ids.format_id(iid.id)
            page, pdf = ijcai_ids.build_links(iid)
            _keep_url(extra, "page", g("site", ""), page, "ijcai.org")
            _keep_url(extra, "pdf", g("pdf", ""), pdf, "ijcai.org")
        else:  # aaai: the OJS article id, from the DOI or the CDN's PDF address
            pid = aaai_ids.format_id(_aaai_local(rec))
            pdf = g("pdf", "").strip()
            if pdf.startswith(("http://", "https://")):
                extra["pdf"] = pdf

        authors, affiliations = _people(g("author", ""), g("aff", ""))
        if any(affiliations):
            extra["affiliations"] = affiliations
        bibtex = g("bibtex", "").strip()
        if bibtex:
            extra["bibtex"] = bibtex
        github, project = g("github"), g("project")
        if github and (link := _link(github.strip())):
            extra["github"] = link
        if project and (link := _link(project.strip())):
            extra["project"] = link
        if g("arxiv") or project or github:
            arxiv = _arxiv(rec)
            if arxiv:
                extra["arxiv"] = arxiv
        supp = g("supp") or g("supplementary_material", "")
        if supp:
            supp = supp.strip()
            if supp.startswith("/") and key == "openreview":
                supp = f"https://openreview.net{supp}"
            if supp.startswith(("http://", "https://")):
                extra["supp"] = supp
        keywords = g("keywords")
        if keywords:
            extra["keywords"] = [k for k in _split(keywords) if k]
        for field in ("tldr", "session", "primary_area"):
            value = g(field)
            if value:
                extra[field] = _one(value)
        track = _one(g("track", ""))
        if track.lower() not in _MAIN:
            extra["track"] = track
        group, status, accepted = self.placement(
            key, _one(g("status", "")), track, extra.get("primary_area", "")
        )
        published = None
        if accepted:
            published = self.held
            if published is None and bibtex:
                published = _bib_month(bibtex)
        abstract = g("abstract", "").strip()
        if "\n" in abstract or "\r" in abstract:
            # hard-wrapped (OpenReview's, IJCAI's): lines joined, paragraphs kept; runs of
            # spaces on one line are left as they are (HTML shows one)
            abstract = unwrap(abstract)
        paper = Paper(
            id=pid,
            title=title,
            abstract=abstract,
            authors=authors,
            categories=[],
            journal_ref=self.booktitle if accepted else None,
            doi=_doi(g("doi", "").strip(), bibtex),
            published=published,
            source=key,
            extra=extra,
        )
        return paper, group, status


def _aaai_local(f: dict[str, str]) -> str:
    for field in ("doi", "pdf", "site"):
        text = f.get(field, "")
        if text:
            try:
                return aaai_ids.parse(text).id
            except BadId:
                continue
    raise BadId(f"no AAAI article id in its doi, pdf or site ({f.get('site', '')})")


def _keep_url(extra: dict[str, Any], field: str, url: str, built: str, host: str) -> None:
    """Keep a page or PDF URL only where the id alone would build another (a workshop's)."""
    url = url.strip()
    if url and url != built and host in _host(url):
        extra[field] = url


def _people(author: str, aff: str) -> tuple[list[str], list[str | None]]:
    """Names from `author` (";"-separated, empty ones dropped) and their affiliations from
    `aff`, aligned (None where empty; none at all where the counts differ)."""
    names = _split(author)
    affs = [a.strip(" ,") for a in _split(aff)] if aff else []
    if len(affs) != len(names):
        affs = [""] * len(names)
    if all(names):  # the common case: no empty name to drop
        return names, [a or None for a in affs]
    kept = [(n, a or None) for n, a in zip(names, affs, strict=True) if n]
    return [n for n, _ in kept], [a for _, a in kept]


def _split(text: str) -> list[str]:
    """A ";"-separated list, each part stripped and on one line."""
    if "  " in text or "\n" in text or "\t" in text or "\r" in text:
        return [" ".join(part.split()) for part in text.split(";")]
    return [part.strip() for part in text.split(";")]


def _one(text: str) -> str:
    """`oneline` for the many short fields, quick where there is nothing to collapse."""
    text = text.strip()
    if "  " in text or "\n" in text or "\t" in text or "\r" in text:
        return " ".join(text.split())
    return text


def _group(key: str, status: str, track: str, area: str, accepted: bool) -> str:
    main = track.lower() in _MAIN
    if not accepted:
        return status
    if key == "ijcai":
        return "Main Track" if main else track
    if key == "aaai":
        return area if main and area else ("Main Track" if main else track)
    # OpenReview, CVF: the presentation, under its track outside the main one
    return status if main else f"{track} {status}".strip()


def _arxiv(f: dict[str, str]) -> str | None:
    """The arXiv id (no version) the record gives in `arxiv`, or as its project or code
    link."""
    given = f.get("arxiv", "")
    if given:
        try:
            return arxiv_ids.parse(given).id
        except BadId:
            pass
    for field in ("arxiv", "project", "github"):
        text = f.get(field)
        m = _ARXIV_IN.search(text) if text and "rxiv" in text.lower() else None
        if m:
            try:
                return arxiv_ids.parse(m.group(1)).id
            except BadId:
                continue
    return None


def _link(text: str) -> str | None:
    """A code or project link as a URL: markdown's `[...](url)` (the first link that is not
    Papers with Code's), a URL, or a bare `host/path` given https://; None for anything else
    (a name, "ATBench")."""
    if not text:
        return None
    if "](" in text:
        urls = [u for u in _MD_LINK.findall(text) if "paperswithcode.com" not in u]
        return urls[0] if urls else None
    if text.startswith(("http://", "https://")):
        return text
    first = text.split(";")[0].strip()
    return f"https://{first}" if _BARE_HOST.match(first) else None


def _doi(doi: str, bibtex: str) -> str | None:
    """The record's DOI, else its BibTeX's; without a resolver's prefix."""
    if not doi and ("doi" in bibtex or "DOI" in bibtex):
        m = _BIB_DOI.search(bibtex) or _BIB_DOI_UPPER.search(bibtex)
        doi = m.group(1) if m else ""
    if not doi:
        return None
    if not doi.startswith("10."):
        doi = _DOI_PREFIX.sub("", doi).strip()
    return doi if doi.startswith("10.") else None


def _bib_month(bibtex: str) -> datetime | None:
    """The first of the month a record's BibTeX gives (IJCAI's `month = {8}`)."""
    y, m = _BIB_YEAR.search(bibtex), _BIB_MONTH.search(bibtex)
    if y and m and 1 <= int(m.group(1)) <= 12:
        return datetime(int(y.group(1)), int(m.group(1)), 1)
    return None
