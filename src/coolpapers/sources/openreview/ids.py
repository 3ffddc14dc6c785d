"""OpenReview ids in every form a reader may paste.

A paper on OpenReview is a forum: its submission note, whose `id` is also its `forum`
(docs/openreview/introduction-to-notes.md: "For a submission, `forum == id`"). Forum ids
are short strings of letters, digits, `_` and `-`, and case-sensitive (`B11bwYgfM`,
`SkZ-BnyCW`, `0JzWiigkUy`, `WEIzUBsDX6`): API v1 minted 9 characters, API v2 mints 10; the
oldest venues (ICLR 2013-14) have a few longer ones. Accepted here: 5 to 32 characters of
that alphabet, kept exactly as written.

Written forms:
- the public id (papers.cool's form, the store's key): `<forum>@OpenReview`, the suffix in
  any case;
- a bare forum id only with that suffix: alone, `B11bwYgfM` looks like too many other
  things (an arXiv old-style id without its archive, a word) to be taken for a forum;
- the site's URLs: `openreview.net/forum?id=X` (`&noteId=Y` names a reply in forum X: the
  paper is X), `openreview.net/pdf?id=X`, `openreview.net/attachment?id=X&name=pdf`, with
  or without scheme and `www.`.
OpenReview numbers no versions in its ids (revisions are edits of the note): `version` is
always None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs

from coolpapers.sources.base import BadId

SUFFIX = "OpenReview"
SITE = "https://openreview.net"

FORUM = re.compile(r"^[A-Za-z0-9_-]{5,32}$")
# /forum, /pdf and /attachment with a query that names the note in `id`.
_URL = re.compile(
    r"^(?:https?://)?(?:www\.)?openreview\.net/+(?P<page>forum|pdf|attachment)/?"
    r"\?(?P<query>[^#]*)(?:#.*)?$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class OpenReviewId:
    """A parsed OpenReview id (a `SourceId`): `id` is the forum id, as written."""

    id: str
    version: None = None

    def __str__(self) -> str:
        return format_id(self.id)


def format_id(local: str, version: int | str | None = None) -> str:
    """The public id `<forum>@OpenReview` (the inverse of `parse`); OpenReview has no
    versions, so `version` is ignored."""
    return f"{local}@{SUFFIX}"


def parse(text: str) -> OpenReviewId:
    """An id as a reader wrote it: `<forum>@OpenReview` (any case of the suffix), or an
    OpenReview forum, PDF or attachment URL; BadId for anything else."""
    s = text.strip()
    m = _URL.match(s)
    if m:
        query = parse_qs(m.group("query"), keep_blank_values=True)
        ids = query.get("id") or []
        if len(ids) != 1 or not FORUM.match(ids[0]):
            raise BadId(f"not an OpenReview id: {text!r} (no forum id in the URL)")
        if m.group("page").lower() == "attachment" and (query.get("name") or [""])[0] != "pdf":
            # other attachments (supplementary material) are files, not the paper
            raise BadId(f"not an OpenReview paper: {text!r} (an attachment other than its PDF)")
        return OpenReviewId(ids[0])
    local, at, suffix = s.rpartition("@")
    if not at or suffix.strip().lower() != SUFFIX.lower():
        raise BadId(f"not an OpenReview id: {text!r} (write it <forum>@OpenReview)")
    local = local.strip()
    if not FORUM.match(local):
        raise BadId(f"not an OpenReview id: {text!r}")
    return OpenReviewId(local)


def local_of(text: str) -> str:
    """The forum id of a public id, a key or a URL (`B11bwYgfM@OpenReview` -> `B11bwYgfM`);
    a bare forum id is taken as is (callers hold keys or forum ids)."""
    s = text.strip()
    if FORUM.match(s):
        return s
    return parse(s).id
