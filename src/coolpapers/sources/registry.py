"""The sources this instance knows: the built-in ones, listed here, and outside ones.

As datasette lists its default plugins in one module and loads them with the same hooks as
outside plugins, the built-in sources are named in `DEFAULT_SOURCES` and loaded exactly like a
source another package installs under the entry-point group `coolpapers.sources`:

    [project.entry-points."coolpapers.sources"]
    mysource = "mypackage.mysource"          # a module exposing SOURCE
    # or "mypackage.mysource:SOURCE", the object itself

A built-in that fails to load is a bug and raises; an outside source that fails to load, or
takes a key or suffix already taken, is logged and left out, so one broken plugin does not
take the site down. Built-ins come first, so they keep their keys and suffixes.
"""

from __future__ import annotations

import logging
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType

from coolpapers.sources.base import BadId, Source, SourceId

log = logging.getLogger("coolpapers.sources")

GROUP = "coolpapers.sources"
# Module paths, each exposing SOURCE. Order matters only among sources with bare ids
# (suffix None): `parse` tries them in this order.
DEFAULT_SOURCES: tuple[str, ...] = (
    "coolpapers.sources.arxiv",
    "coolpapers.sources.acl",
    "coolpapers.sources.pmlr",
    "coolpapers.sources.openreview",
    "coolpapers.sources.cvf",
    "coolpapers.sources.ijcai",
    "coolpapers.sources.aaai",
)


def all_sources() -> tuple[Source, ...]:
    return tuple(_registry().values())


def get(key: str) -> Source:
    """The source of `key` ("arxiv"); KeyError when there is none."""
    try:
        return _registry()[key]
    except KeyError:
        raise KeyError(f"no source {key!r}; known: {', '.join(_registry())}") from None


def parse(public_id: str) -> tuple[Source, SourceId]:
    """The source of a public id and the id parsed by it. An id whose last '@' is followed by
    a source's suffix (any case) is that source's; any other goes to the sources with bare
    ids (arXiv), which reject what is not theirs. BadId when no source takes it."""
    text = public_id.strip()
    _, at, suffix = text.rpartition("@")
    if at:
        source = _by_suffix().get(suffix.strip().lower())
        if source is not None:
            return source, source.parse_id(text)
    # a URL goes to the source whose pace covers its host (aclanthology.org, openreview.net),
    # which knows its own pages' paths; a host none covers goes on to the bare sources
    host = _host(text)
    if host is not None and (by_host := for_host(host)) is not None:
        return by_host, by_host.parse_id(text)
    error = BadId(f"not a paper id: {public_id!r}")
    for source in _registry().values():
        if source.suffix is None:
            try:
                return source, source.parse_id(text)
            except BadId as e:
                error = e  # with one bare source, its own message says what is wrong
    raise error


def key(public_id: str) -> str:
    """The key the store files a paper under, from its id in any form a source accepts: the
    public id without version (`2309.16354`, `2024.acl-long.1@ACL`). Every table that names
    a paper (papers, the FAQ's cache, queue and counters, the search index and so the
    vectors) uses this key, so each key names its source too: the suffix after its last '@',
    none for arXiv, whose bare keys predate other sources and stay as they are. BadId for
    text that no source takes."""
    source, sid = parse(public_id)
    return source.format_id(sid.id)


def source_of(paper_key: str) -> Source:
    """The source of a stored key (see `key`); BadId for a key no source takes."""
    return parse(paper_key)[0]


def _host(text: str) -> str | None:
    """The host of a URL, written with or without its scheme ("arxiv.org/abs/..."); None
    for text that is no URL (an id has no '/' before a '.' of a domain name)."""
    rest = text.split("://", 1)[1] if "://" in text else text
    head = rest.split("/", 1)[0].split("?", 1)[0]
    if "." not in head or "@" in head or ("://" not in text and "/" not in rest):
        return None
    return head.split(":", 1)[0].lower() or None


def for_host(host: str) -> Source | None:
    """The source whose pace covers `host` (arxiv.org, export.arxiv.org, ...), if any."""
    return next((s for s in _registry().values() if s.pace.covers(host)), None)


@cache
def _by_suffix() -> dict[str, Source]:
    return {s.suffix.lower(): s for s in _registry().values() if s.suffix is not None}


@cache
def _registry() -> dict[str, Source]:
    builtin = [EntryPoint(name=path, value=path, group=GROUP) for path in DEFAULT_SOURCES]
    out: dict[str, Source] = {}
    suffixes: set[str] = set()
    for ep in [*builtin, *entry_points(group=GROUP)]:
        try:
            source = _load(ep)
        except Exception:
            if ep in builtin:
                raise
            log.exception("source %s (%s) failed to load; left out", ep.name, ep.value)
            continue
        if out.get(source.key) is source:
            continue  # the same source listed twice (a built-in also declared as entry point)
        suffix = source.suffix.lower() if source.suffix is not None else None
        if source.key in out or (suffix is not None and suffix in suffixes):
            what = f"key {source.key!r}" if source.key in out else f"suffix {source.suffix!r}"
            if ep in builtin:
                raise ValueError(f"built-in source {ep.value} reuses the {what}")
            log.error("source %s (%s) reuses the %s; left out", ep.name, ep.value, what)
            continue
        out[source.key] = source
        if suffix is not None:
            suffixes.add(suffix)
    return out


def _load(ep: EntryPoint) -> Source:
    obj = ep.load()
    if isinstance(obj, ModuleType):
        obj = getattr(obj, "SOURCE", None)
    if not isinstance(obj, Source):
        raise TypeError(f"{ep.value} is not a Source (nor a module exposing SOURCE)")
    return obj


def clear() -> None:
    """Forget the loaded sources, so the next call loads them again (for tests)."""
    _registry.cache_clear()
    _by_suffix.cache_clear()
