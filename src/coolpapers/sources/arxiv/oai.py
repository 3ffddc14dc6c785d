"""arXiv's OAI-PMH interface: ListRecords in the `arXiv` and `arXivRaw` metadata formats.

Two generations of the service answer differently and both are handled:
- export.arxiv.org/oai2 (until 2025): `<resumptionToken cursor=".." completeListSize="..">
  726959|1001</resumptionToken>`, and no token element on the last page;
- oaipmh.arxiv.org/oai (2025+): `<resumptionToken expirationDate='..'>` holding a
  URL-encoded query (`...skip=N`) that expires daily, and an empty `<resumptionToken/>` on
  the last page.
A token is opaque to us either way: it is sent back exactly as received.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime

from lxml import etree

from coolpapers.records import Batch, Paper
from coolpapers.sources.arxiv import OAI_URL
from coolpapers.sources.arxiv._xml import (
    all_text,
    child,
    children,
    local,
    raw_text,
    split_authors,
    text,
)
from coolpapers.sources.arxiv.client import ArxivClient
from coolpapers.sources.arxiv.ids import BadId
from coolpapers.sources.arxiv.ids import parse as parse_id
from coolpapers.sources.arxiv.taxonomy import clean_categories
from coolpapers.texmarkup import unwrap

log = logging.getLogger("coolpapers.sources")

FORMATS = ("arXiv", "arXivRaw")


class OaiError(Exception):
    """The repository answered with an OAI-PMH error (other than noRecordsMatch)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"OAI-PMH error {code}: {message}")
        self.code, self.message = code, message


class BadResumptionToken(OaiError):
    """The token is unknown or expired (arXiv's current tokens expire daily)."""


@dataclass(slots=True)
class Page:
    batch: Batch
    token: str | None  # None: the list is complete
    cursor: int | None = None  # old service only
    complete_list_size: int | None = None  # old service only
    deleted: int = 0
    response_date: str | None = None


def list_params(
    metadata_prefix: str = "arXivRaw",
    set_spec: str | None = None,
    from_date: date | str | None = None,
    until: date | str | None = None,
) -> dict[str, str]:
    """Arguments of the first ListRecords request (later ones carry only the token)."""
    if metadata_prefix not in FORMATS:
        raise ValueError(f"unsupported metadataPrefix {metadata_prefix!r}; use one of {FORMATS}")
    params = {"verb": "ListRecords", "metadataPrefix": metadata_prefix}
    if set_spec:
        params["set"] = set_spec
    if from_date:
        params["from"] = str(from_date)
    if until:
        params["until"] = str(until)
    return params


def resume_params(token: str) -> dict[str, str]:
    # resumptionToken is an exclusive argument in OAI-PMH: nothing else goes with it.
    return {"verb": "ListRecords", "resumptionToken": token}


def fetch_page(client: ArxivClient, params: dict[str, str]) -> Page:
    root = client.get_xml(client.settings.arxiv_oai_url or OAI_URL, params, expect=("OAI-PMH",))
    return parse_list_records(root)


def list_records(
    client: ArxivClient,
    metadata_prefix: str = "arXivRaw",
    set_spec: str | None = None,
    from_date: date | str | None = None,
    until: date | str | None = None,
) -> Iterator[Page]:
    """All pages of one ListRecords request (no checkpointing: see harvest.harvest_oai)."""
    params = list_params(metadata_prefix, set_spec, from_date, until)
    while True:
        page = fetch_page(client, params)
        yield page
        if not page.token:
            return
        params = resume_params(page.token)


def parse_list_records(doc: bytes | etree._Element) -> Page:
    root = etree.fromstring(doc) if isinstance(doc, bytes) else doc
    response_date = text(root, "responseDate")
    errors = children(root, "error")
    if errors:
        codes = [(e.get("code") or "unknown", _squash(e)) for e in errors]
        if all(code == "noRecordsMatch" for code, _ in codes):
            # An empty result (e.g. nothing changed since `from`) is not a failure.
            return Page(Batch(), None, response_date=response_date)
        code, message = next((c, m) for c, m in codes if c != "noRecordsMatch")
        cls = BadResumptionToken if code == "badResumptionToken" else OaiError
        raise cls(code, message)
    body = child(root, "ListRecords")
    if body is None:
        raise OaiError("badResponse", "neither <ListRecords> nor <error> in the response")
    page = Page(Batch(), None, response_date=response_date)
    for rec in children(body, "record"):
        _add_record(page, rec)
    tok = child(body, "resumptionToken")
    if tok is not None:
        page.token = (tok.text or "").strip() or None
        page.cursor = _int(tok.get("cursor"))
        page.complete_list_size = _int(tok.get("completeListSize"))
    return page


def _add_record(page: Page, rec: etree._Element) -> None:
    header = child(rec, "header")
    ident = text(header, "identifier") if header is not None else None
    if header is not None and header.get("status") == "deleted":
        page.deleted += 1
        return
    try:
        paper = parse_record(rec)
    except (ValueError, BadId) as e:
        log.warning("OAI record %s skipped: %s", ident, e)
        page.batch.skipped += 1
        return
    page.batch.papers.append(paper)


def parse_record(rec: etree._Element) -> Paper:
    """One <record> in the arXiv or arXivRaw format -> Paper (ValueError when unusable)."""
    metadata = child(rec, "metadata")
    meta = next((c for c in metadata if local(c)), None) if metadata is not None else None
    if meta is None:
        raise ValueError("no metadata")
    fmt = local(meta)
    if fmt not in FORMATS:
        raise ValueError(f"unsupported metadata format <{fmt}>")
    raw_id = text(meta, "id")
    # One line: continuation lines of titles are indented, which unwrap would read as
    # paragraph starts (it is meant for abstracts).
    title = text(meta, "title")
    cats = clean_categories((text(meta, "categories") or "").split())
    if not raw_id or not title or not cats:
        raise ValueError(f"missing id, title or categories (id={raw_id!r})")
    aid = parse_id(raw_id)
    paper = Paper(
        id=aid.id,
        title=title,
        abstract=unwrap(raw_text(meta, "abstract") or ""),
        authors=[],
        categories=cats,  # arXiv writes the primary category first
        comments=text(meta, "comments"),
        journal_ref=text(meta, "journal-ref"),
        doi=text(meta, "doi"),
        license=text(meta, "license"),
    )
    if fmt == "arXiv":
        authors = child(meta, "authors")
        if authors is not None:
            paper.authors = [_name(a) for a in children(authors, "author")]
        # The arXiv format has dates only and no version number.
        created = _day(text(meta, "created"))
        paper.published = created
        paper.updated = _day(text(meta, "updated")) or created
    else:
        paper.authors = split_authors(text(meta, "authors") or "")
        versions = sorted(_versions(meta))
        if versions:
            paper.version = versions[-1][0]
            paper.published = versions[0][1]
            paper.updated = versions[-1][1]
    paper.authors = [a for a in paper.authors if a]
    return paper


def _name(author: etree._Element) -> str:
    parts = (text(author, "forenames"), text(author, "keyname"), text(author, "suffix"))
    return " ".join(p for p in parts if p)


def _versions(meta: etree._Element) -> Iterator[tuple[int, datetime | None]]:
    """arXivRaw's `<version version="v2"><date>Fri, 28 Sep 2007 15:13:43 GMT</date>`."""
    for v in children(meta, "version"):
        label = (v.get("version") or "").lstrip("v")
        if not label.isdigit():
            continue
        when = text(v, "date")
        try:
            dt = parsedate_to_datetime(when).astimezone(UTC) if when else None
        except (TypeError, ValueError):
            dt = None
        yield int(label), dt


def _day(value: str | None) -> datetime | None:
    """`2014-12-29` -> midnight UTC of that day (the arXiv format has dates only)."""
    if not value:
        return None
    try:
        return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
    except ValueError:
        return None


def _squash(el: etree._Element) -> str:
    return " ".join(all_text(el).split())


def _int(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None
