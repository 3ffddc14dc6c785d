"""arXiv's export API (export.arxiv.org/api/query?id_list=...) -> Papers.

Used for what the announcement feeds and OAI cannot give quickly: single ids a reader asks
for, and late or incomplete feed items. The API answers in Atom 1.0; errors come as a feed
with one entry whose id points at arxiv.org/api/errors (with HTTP 400 nowadays).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from lxml import etree

from coolpapers.records import Paper
from coolpapers.sources.arxiv import API_URL
from coolpapers.sources.arxiv._xml import as_utc, child, children, raw_text, text
from coolpapers.sources.arxiv.client import ArxivClient
from coolpapers.sources.arxiv.ids import BadId
from coolpapers.sources.arxiv.ids import parse as parse_id
from coolpapers.sources.arxiv.taxonomy import clean_categories
from coolpapers.sources.http import FetchError
from coolpapers.texmarkup import unwrap

log = logging.getLogger("coolpapers.sources")

# Ids per request: a URL stays short and one answer small.
MAX_IDS = 100


class ApiError(Exception):
    """arXiv rejected the query (its error entry says why, e.g. 'incorrect id format')."""


def query_ids(client: ArxivClient, ids: Sequence[str]) -> list[Paper]:
    """Metadata of `ids` (as accepted by the API: with or without version), in batches of
    at most MAX_IDS; ids arXiv does not know are simply absent from the result."""
    out: list[Paper] = []
    ids = list(dict.fromkeys(ids))
    for i in range(0, len(ids), MAX_IDS):
        chunk = ids[i : i + MAX_IDS]
        params = {"id_list": ",".join(chunk), "start": "0", "max_results": str(len(chunk))}
        try:
            url = client.settings.arxiv_api_url or API_URL
            root = client.get_xml(url, params, expect=("feed",))
        except FetchError as e:
            if e.status == 400 and e.body:
                _raise_error_entry(_parse_or_none(e.body.encode()))
            raise
        out.extend(parse_feed(root))
    return out


def parse_feed(doc: bytes | etree._Element) -> list[Paper]:
    root = etree.fromstring(doc) if isinstance(doc, bytes) else doc
    _raise_error_entry(root)
    papers = []
    for entry in children(root, "entry"):
        try:
            papers.append(parse_entry(entry))
        except (ValueError, BadId) as e:
            log.warning("API entry %s skipped: %s", text(entry, "id"), e)
    return papers


def parse_entry(entry: etree._Element) -> Paper:
    url = text(entry, "id") or ""
    if "/abs/" not in url:
        raise ValueError(f"entry id is not an abstract URL: {url!r}")
    aid = parse_id(url.split("/abs/", 1)[1])
    title = text(entry, "title")  # one line (see oai.parse_record)
    if not title:
        raise ValueError("no title")
    primary = child(entry, "primary_category")
    terms = [primary.get("term") or ""] if primary is not None else []
    terms += [c.get("term") or "" for c in children(entry, "category")]
    return Paper(
        id=aid.id,
        version=aid.version,
        title=title,
        abstract=unwrap(raw_text(entry, "summary") or ""),
        authors=[n for a in children(entry, "author") if (n := text(a, "name"))],
        categories=clean_categories(terms),  # primary first; ACM/MSC terms dropped
        comments=text(entry, "comment"),
        journal_ref=text(entry, "journal_ref"),
        doi=text(entry, "doi"),
        published=_when(text(entry, "published")),
        updated=_when(text(entry, "updated")),
    )


def _raise_error_entry(root: etree._Element | None) -> None:
    if root is None:
        return
    for entry in children(root, "entry"):
        if "/api/errors" in (text(entry, "id") or ""):
            raise ApiError(text(entry, "summary") or text(entry, "id") or "arXiv API error")


def _parse_or_none(body: bytes) -> etree._Element | None:
    try:
        return etree.fromstring(body)
    except etree.XMLSyntaxError:
        return None


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return as_utc(datetime.fromisoformat(value))
    except ValueError:
        return None
