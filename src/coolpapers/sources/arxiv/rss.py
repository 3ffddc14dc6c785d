"""arXiv's announcement feeds (rss.arxiv.org/rss/<cats> and /atom/<cats>) -> records.

Written from arXiv's RSS and Atom feed specifications (docs/arxiv/rss_specifications.md,
atom_specifications.md): each item carries the id with version (`oai:arXiv.org:2203.01250v3`),
title, `dc:creator` (comma separated), a description/summary whose abstract follows
"Abstract:", categories, the announcement date and `arxiv:announce_type`
(new / cross / replace / replace-cross). Feeds are empty on weekends and holidays.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import unquote, urlparse

from lxml import etree

from coolpapers.records import Announcement, Batch, Kind, Paper
from coolpapers.sources.arxiv._xml import child, children, local, raw_text, split_authors, text
from coolpapers.sources.arxiv.ids import BadId
from coolpapers.sources.arxiv.ids import parse as parse_id
from coolpapers.sources.arxiv.taxonomy import clean_categories, known
from coolpapers.sources.arxiv.timetable import ET
from coolpapers.texmarkup import unwrap

log = logging.getLogger("coolpapers.sources")

_ANNOUNCE = re.compile(r"Announce Type:\s*(\S+)")
_ABSTRACT = re.compile(r"Abstract:\s*")
_DESC_ID = re.compile(r"^\s*arXiv:(\S+)")


@dataclass(slots=True)
class Feed:
    """One fetched feed: its records plus what it listed, per category, for completeness
    checks (including items whose metadata was too incomplete to store)."""

    batch: Batch
    categories: list[str]
    day: date | None = None  # the announcement day it lists; None when it lists nothing
    # (category, day) -> {paper id: announce type}: every listing, stored or not
    listed: dict[tuple[str, date], dict[str, Kind]] = field(default_factory=dict)
    skip_days: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.listed


def feed_url(base: str, categories: Sequence[str], fmt: str = "rss") -> str:
    """`https://rss.arxiv.org/rss/cs.AI+cs.CL`: arXiv serves several categories in one feed."""
    return f"{base.rstrip('/')}/{fmt}/{'+'.join(categories)}"


def categories_of_url(url: str) -> list[str]:
    """The categories a feed URL asks for (its last path segment, joined by '+')."""
    last = unquote(urlparse(url).path.rstrip("/").rsplit("/", 1)[-1])
    return clean_categories(last.replace(" ", "+").split("+")) if last else []


def parse_feed(doc: bytes | etree._Element, categories: Sequence[str] | None = None) -> Feed:
    """Parse an RSS 2.0 or Atom announcement feed. `categories` are the ones requested (the
    feed's own link names them when not given)."""
    root = etree.fromstring(doc) if isinstance(doc, bytes) else doc
    if local(root) == "rss":
        channel = child(root, "channel")
        if channel is None:
            raise ValueError("RSS document without <channel>")
        container, items, is_atom = channel, children(channel, "item"), False
    elif local(root) == "feed":
        container, items, is_atom = root, children(root, "entry"), True
    else:
        raise ValueError(f"not an arXiv announcement feed: <{local(root)}>")

    wanted = clean_categories(list(categories)) if categories else _own_categories(container)
    feed = Feed(batch=Batch(), categories=wanted, skip_days=_skip_days(container))
    days: Counter[date] = Counter()
    for el in items:
        item = _atom_item(el) if is_atom else _rss_item(el)
        _add_item(feed, item, days)
    if days:
        feed.day = days.most_common(1)[0][0]
    elif not is_atom:
        # An empty feed still says which announcement date it stands for.
        when = _rfc822(text(container, "pubDate"))
        feed.day = when.astimezone(ET).date() if when else None
    return feed


# ---- items ---------------------------------------------------------------------------------


@dataclass(slots=True)
class _Item:
    raw_id: str | None
    title: str | None
    description: str | None
    announce: str | None
    categories: list[str]
    when: datetime | None
    creators: str | None
    rights: str | None
    doi: str | None
    journal_ref: str | None
    link: str | None


def _rss_item(el: etree._Element) -> _Item:
    desc = raw_text(el, "description")
    return _Item(
        raw_id=text(el, "guid") or _id_from_description(desc) or text(el, "link"),
        title=text(el, "title"),
        description=desc,
        announce=text(el, "announce_type") or _announce_from_description(desc),
        categories=[t for c in children(el, "category") if (t := (c.text or "").strip())],
        when=_rfc822(text(el, "pubDate")),
        creators=text(el, "creator"),
        rights=text(el, "rights"),
        doi=text(el, "DOI"),
        journal_ref=text(el, "journal_reference"),
        link=text(el, "link"),
    )


def _atom_item(el: etree._Element) -> _Item:
    desc = raw_text(el, "summary")
    link = next(
        (c.get("href") for c in children(el, "link") if c.get("rel", "alternate") == "alternate"),
        None,
    )
    return _Item(
        raw_id=text(el, "id") or _id_from_description(desc) or link,
        title=text(el, "title"),
        description=desc,
        announce=text(el, "announce_type") or _announce_from_description(desc),
        categories=[t for c in children(el, "category") if (t := (c.get("term") or "").strip())],
        when=_iso(text(el, "published")),
        creators=text(el, "creator"),
        rights=text(el, "rights"),
        doi=text(el, "DOI"),
        journal_ref=text(el, "journal_reference"),
        link=link,
    )


def _add_item(feed: Feed, item: _Item, days: Counter[date]) -> None:
    what = f"title={item.title!r} link={item.link!r}"
    try:
        aid = parse_id(_strip_oai(item.raw_id)) if item.raw_id else None
    except BadId:
        aid = None
    if aid is None:
        log.warning("feed item without a usable arXiv id skipped (%s, id=%r)", what, item.raw_id)
        feed.batch.skipped += 1
        return
    cats = clean_categories(item.categories)
    day = item.when.astimezone(ET).date() if item.when else None
    if day:
        days[day] += 1
    kind = _kind(item.announce)
    listings: list[Announcement] = []
    if day is not None and kind is not None:
        listings = [
            Announcement(day, c, aid.id, k) for c, k in _announced_in(feed.categories, cats, kind)
        ]
    for a in listings:
        feed.listed.setdefault((a.category, a.day), {})[a.paper_id] = a.kind
    if not listings:
        log.warning(
            "feed item %s not listed: date %s, type %r, categories %s, feed %s",
            aid,
            day,
            item.announce,
            cats,
            feed.categories,
        )
    if not item.title or not cats:
        # Neither paper nor announcement is stored, but arXiv did list it: `listed` keeps
        # it, and check_complete fetches its metadata from the export API.
        log.warning("feed item %s skipped: no title or categories (%s)", aid, what)
        feed.batch.skipped += 1
        return
    feed.batch.announcements.extend(listings)
    feed.batch.papers.append(
        Paper(
            id=aid.id,
            version=aid.version,
            title=item.title,
            abstract=_abstract(item.description),
            authors=split_authors(item.creators or ""),
            categories=cats,
            doi=item.doi,
            journal_ref=item.journal_ref,
            license=item.rights,
        )
    )


def _announced_in(wanted: list[str], cats: list[str], kind: Kind) -> list[tuple[str, Kind]]:
    """The categories of the request this item is listed in, each with its announce type.

    A single-category feed states the type for that category: taken as is. A combined feed
    (cs.AI+cs.CL) lists a paper once for several categories, so per category the type follows
    arXiv's definitions: a listing outside the primary category (the first one given) is a
    cross-list, and a replacement stays a replacement."""
    if len(wanted) <= 1:
        return [(c, kind) for c in wanted]
    replaced = kind in (Kind.REPLACE, Kind.REPLACE_CROSS)
    primary = cats[0] if cats else ""
    out = []
    for c in cats:
        if c in wanted:
            if c == primary:
                out.append((c, Kind.REPLACE if replaced else Kind.NEW))
            else:
                out.append((c, Kind.REPLACE_CROSS if replaced else Kind.CROSS))
    return out


def _kind(text: str | None) -> Kind | None:
    if not text:
        return None
    try:
        return Kind.parse(text)
    except KeyError:
        log.warning("unknown arxiv:announce_type %r", text)
        return None


def _abstract(description: str | None) -> str:
    if not description:
        return ""
    m = _ABSTRACT.search(description)
    if m:
        return unwrap(description[m.end() :])
    return "" if _DESC_ID.match(description) else unwrap(description)


def _strip_oai(raw: str) -> str:
    raw = raw.strip()
    return raw.split(":", 2)[2] if raw.lower().startswith("oai:arxiv.org:") else raw


def _id_from_description(desc: str | None) -> str | None:
    m = _DESC_ID.match(desc or "")
    return m.group(1) if m else None


def _announce_from_description(desc: str | None) -> str | None:
    m = _ANNOUNCE.search(desc or "")
    return m.group(1) if m else None


# ---- channel -------------------------------------------------------------------------------


def _own_categories(container: etree._Element) -> list[str]:
    """The feed's categories from its self link (`http://rss.arxiv.org/rss/math.OC`)."""
    links = [c.get("href") or (c.text or "") for c in children(container, "link")]
    for href in links:
        # Only known categories: the Atom feed's <id> ends in '/atom/', not in a category.
        cats = [c for c in categories_of_url(href.strip()) if known(c)]
        if cats:
            return cats
    return []


def _skip_days(container: etree._Element) -> list[str]:
    skip = child(container, "skipDays")
    if skip is None:
        return []
    return [t for d in children(skip, "day") if (t := (d.text or "").strip())]


def _rfc822(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        dt = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        log.warning("unreadable feed date %r", value)
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=ET)


def _iso(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        log.warning("unreadable feed date %r", value)
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=ET)
