"""Page models of the Venue branch: what /venue pages show, computed from the store.

Read through `store.venues.VenueListings` (the one listing interface, store/listings.py),
never from its tables. Routes (web/venue.py) turn requests into calls here; templates only
lay out what these return.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from coolpapers.records import Paper
from coolpapers.store import Store
from coolpapers.store.venues import Edition, VenueListings, split_name
from coolpapers.web.views import NotFound

STATUS_ALL = "all"  # ?status=all: rejected and withdrawn papers too, after the accepted ones
STATUSES = ("accepted", STATUS_ALL)  # what ?status= may say; "accepted" is the default


@dataclass(frozen=True, slots=True)
class VGroup:
    """A group as a page shows it: of one edition, labelled and counted."""

    edition: str  # "ACL.2024"
    name: str  # "Long"; "" for an edition with no groups
    label: str  # "Long"; "ACL.2024 - Long" on a page of several editions; "TACL.2024"
    anchor: str  # the id of its heading
    count: int  # papers of the page in it (all of them, not only the cards shown)
    start: int  # the 1-based number of its first paper


@dataclass(frozen=True, slots=True)
class VItem:
    """A card of a venue page: the paper, its group and its status ("" = accepted)."""

    paper: Paper
    group: VGroup
    status: str = ""
    kind: None = None  # what feed.xml and the arXiv card macros read of a listing's items


@dataclass(frozen=True, slots=True)
class NavGroup:
    """A group in the page's nav: every group of the editions, the ones filtered out too."""

    edition: str
    name: str
    label: str
    count: int
    href: str
    current: bool


@dataclass
class VenuePage:
    names: list[str]  # the editions, canonical, as the path names them ("ACL.2024")
    editions: list[Edition]
    group: str | None  # ?group=
    everything: bool  # ?status=all
    entries: list[tuple[str, int]]  # the whole page: (paper key, index into all_groups)
    all_groups: list[VGroup]  # of each edition, in page order, empty ones too
    nav: list[NavGroup]
    hidden: int  # rejected and withdrawn papers left out (0 with ?status=all)
    items: list[VItem] = field(default_factory=list)  # full rows of the cards shown
    offset: int = 0

    @property
    def spec(self) -> str:
        return ",".join(self.names)

    @property
    def total(self) -> int:
        return len(self.entries)

    @property
    def groups(self) -> list[VGroup]:
        """The groups with papers on this page."""
        return [g for g in self.all_groups if g.count]

    @property
    def title(self) -> str:
        t = " + ".join(self.names)
        return f"{t} - {self.group}" if self.group else t

    @property
    def query(self) -> dict[str, str]:
        """The page's own parameters, for the links that must keep them (/more, show all)."""
        q = {}
        if self.group:
            q["group"] = self.group
        if self.everything:
            q["status"] = STATUS_ALL
        return q

    @property
    def path(self) -> str:
        return f"/venue/{quote(self.spec, safe=',@')}"

    def link(self, **change: str | None) -> str:
        """This page with its parameters changed (None drops one): ?group=, ?status=, ?show=."""
        q = {k: v for k, v in {**self.query, **change}.items() if v is not None}
        return self.path + (f"?{urlencode(q)}" if q else "")

    @property
    def more(self) -> str:
        """/more's URL; app.js appends `&offset=&limit=`, so it always has a '?'."""
        return f"{self.path}/more?" + urlencode(self.query)

    @property
    def feed(self) -> str:
        q = urlencode(self.query)
        return f"{self.path}/feed" + (f"?{q}" if q else "")


def anchor(label: str, taken: set[str]) -> str:
    """An id for a group heading: readable (`g-Long`), unique on the page, whatever the
    name a source gave the group (spaces, quotes or markup would make a poor fragment)."""
    base = "g-" + (re.sub(r"[^A-Za-z0-9._]+", "-", label).strip("-") or "group")
    out, n = base, 2
    while out in taken:
        out, n = f"{base}-{n}", n + 1
    taken.add(out)
    return out


def group_label(edition: str, name: str, several: bool) -> str:
    """papers.cool's form: "ACL.2024 - Long" (the edition only where a page has several or
    the edition has no groups: "TACL.2024")."""
    if not name:
        return edition
    return f"{edition} - {name}" if several else name


def page(
    store: Store,
    editions: list[Edition],
    group: str | None,
    everything: bool,
    offset: int = 0,
    limit: int | None = None,
) -> VenuePage:
    """The papers of `editions` (in that order), of `group` only when given (in each edition
    that has it), with full rows for entries [offset, offset + limit). A paper listed in two
    of the editions is shown once, in the first (as a category union shows a paper once).
    NotFound for a group none of them has, naming theirs."""
    listings = VenueListings(store, everything=everything)
    names = [e.name for e in editions]
    several = len(editions) > 1
    if group is not None and not any(g.name == group for e in editions for g in e.groups):
        raise _no_group(names, editions, group)
    entries: list[tuple[str, int]] = []
    groups: list[VGroup] = []
    counts: dict[int, int] = {}
    seen: set[str] = set()
    taken: set[str] = set()
    for ed in editions:
        base = len(groups)
        for name in listings.groups(ed.name):
            label = group_label(ed.name, name, several)
            groups.append(VGroup(ed.name, name, label, anchor(label, taken), 0, 0))
        for key, gi in listings.entries([group] if group is not None else [], [], ed.name):
            if key not in seen:
                seen.add(key)
                entries.append((key, base + gi))
                counts[base + gi] = counts.get(base + gi, 0) + 1
    # numbered across the page: a group starts after the papers of the groups before it
    start = 1
    for i, g in enumerate(groups):
        n = counts.get(i, 0)
        groups[i] = VGroup(g.edition, g.name, g.label, g.anchor, n, start)
        start += n
    end = None if limit is None else offset + limit
    window = entries[offset:end]
    statuses: dict[str, str] = {}
    if everything:  # only a page with rejected papers has statuses to say
        by_edition: dict[str, list[str]] = {}
        for key, gi in window:
            by_edition.setdefault(groups[gi].edition, []).append(key)
        for name, keys in by_edition.items():
            statuses.update(listings.statuses(name, keys))
    found = store.papers([k for k, _ in window])
    items = [VItem(found[k], groups[gi], statuses.get(k, "")) for k, gi in window if k in found]
    return VenuePage(
        names,
        editions,
        group,
        everything,
        entries,
        groups,
        _nav(editions, group, everything, several),
        0 if everything else _hidden(editions, group),
        items,
        offset,
    )


def _hidden(editions: list[Edition], group: str | None) -> int:
    """Rejected and withdrawn papers a page of `group` (None: all) leaves out."""
    return sum(
        g.total - g.listed for e in editions for g in e.groups if group is None or g.name == group
    )


def _no_group(names: list[str], editions: list[Edition], group: str) -> NotFound:
    known = list(dict.fromkeys(g.name for e in editions for g in e.groups if g.name))
    lower = {k.lower(): k for k in known}
    close = [lower[c] for c in difflib.get_close_matches(group.lower(), list(lower), n=6)]
    path = f"/venue/{quote(','.join(names), safe=',@')}?"
    suggestions = [(path + urlencode({"group": k}), k) for k in (close or known)]
    what = " or ".join(names)
    if not known:
        return NotFound(f"{what} has no groups: drop ?group= for all of its papers.", [])
    return NotFound(f"{what} has no group {group!r}; its groups: {', '.join(known)}.", suggestions)


def _nav(
    editions: list[Edition], group: str | None, everything: bool, several: bool
) -> list[NavGroup]:
    """Every group of the editions with its count (of the papers a page with it would show),
    each linking the page of that group alone (of its own edition on a union)."""
    out: list[NavGroup] = []
    for ed in editions:
        for g in ed.groups:
            n = g.total if everything else g.listed
            if not n or not g.name:
                continue
            q = {"group": g.name, **({"status": STATUS_ALL} if everything else {})}
            path = f"/venue/{quote(ed.name, safe='')}"
            out.append(
                NavGroup(
                    ed.name,
                    g.name,
                    group_label(ed.name, g.name, several),
                    n,
                    path + "?" + urlencode(q),
                    group == g.name and not several,
                )
            )
    return out


# ---- the list of venues: the home page's Venue column and /venue ----------------------------


@dataclass(frozen=True, slots=True)
class Collection:
    name: str  # "ACL"
    editions: list[Edition]  # newest first

    @property
    def count(self) -> int:
        return sum(e.listed for e in self.editions)


def collections(store: Store) -> list[Collection]:
    """Every collection with an accepted paper, by name (case aside), each with its editions
    newest first and their paper counts."""
    by: dict[str, list[Edition]] = {}
    for e in VenueListings(store).all():  # oldest first
        if e.listed:
            by.setdefault(e.collection, []).append(e)
    return [Collection(c, eds[::-1]) for c, eds in sorted(by.items(), key=lambda x: x[0].lower())]


# ---- what a path of editions names ----------------------------------------------------------


def resolve(store: Store, parts: list[str]) -> tuple[list[Edition], list[str]]:
    """The editions `parts` name ("ACL.2024", "ACL" for its latest edition, any case), in
    that order, once each, and the canonical spelling of each part (where that differs from
    the part, the route redirects). NotFound naming the closest venues for a part that names
    none."""
    every = VenueListings(store, everything=True).all()  # oldest first
    by_name = {e.name: e for e in every}
    lower = {e.name.lower(): e.name for e in every}
    # a collection's latest edition: its newest with accepted papers, else its newest
    newest = {e.collection: e for e in every}
    listed = {e.collection: e for e in every if e.listed}
    latest = {c: listed.get(c, e) for c, e in newest.items()}
    coll_lower = {c.lower(): c for c in latest}
    out: list[Edition] = []
    canonical: list[str] = []
    for part in parts:
        if part in by_name:
            ed, canon = by_name[part], part
        elif part.lower() in lower:
            canon = lower[part.lower()]
            ed = by_name[canon]
        elif part.lower() in coll_lower:
            canon = coll_lower[part.lower()]
            ed = latest[canon]
        else:
            raise _unknown(part, every)
        if canon not in canonical:
            canonical.append(canon)
        if ed not in out:
            out.append(ed)
    return out, canonical


def _unknown(part: str, every: list[Edition]) -> NotFound:
    collection, edition = split_name(part)
    known = {e.collection.lower(): e.collection for e in every}
    if collection.lower() in known:  # the venue is here, not this edition of it
        c = known[collection.lower()]
        eds = [e for e in every if e.collection == c][::-1]
        return NotFound(
            f"No edition {edition!r} of {c} here; its editions: "
            f"{', '.join(e.edition for e in eds)}.",
            [(f"/venue/{quote(e.name, safe='')}", e.name) for e in eds[:8]],
        )
    names = {e.name.lower(): e.name for e in every} | known
    close = difflib.get_close_matches(part.lower(), list(names), n=8, cutoff=0.5)
    close += [
        k for k in difflib.get_close_matches(collection.lower(), list(known), n=4, cutoff=0.5)
    ]
    found = [(f"/venue/{quote(names[k], safe='')}", names[k]) for k in dict.fromkeys(close)]
    if every:
        found.append(("/venue", "all venues"))
    return NotFound(f"No venue {part!r} here.", found[:9])
