"""ACL Anthology ids in every form a reader may paste.

The Anthology has two id schemes (https://aclanthology.org/info/ids/):
- since 2020, `YEAR.VENUE-VOLUME.NUMBER`: `2024.acl-long.1` (venue and volume lowercase
  letters and digits);
- before, `CYY-VPPP` or, for workshops (and C69, and D19 volumes 5 on), `CYY-VVPP`: a
  collection letter, two digits of year, then four digits of volume and paper (`P17-1001`,
  `W17-1001`). Ids minted before 2020 stay in this form, whatever the year of the paper.
A revised PDF is `<id>v2.pdf`; `v2` is taken as the version here. The public id (papers.cool's
form, the store's key) is the id then `@ACL`. Paper 0 of a volume is its front matter: an id
all the same (its PDF exists), so it parses; the importer skips it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from coolpapers.sources.base import BadId

SUFFIX = "ACL"
SITE = "https://aclanthology.org"

_NEW = r"(?P<year>\d{4})\.(?P<venue>[a-z0-9]+)-(?P<vol>[a-z0-9]+)\.(?P<num>\d+)"
_OLD = r"(?P<letter>[a-z])(?P<yy>\d{2})-(?P<digits>\d{4})"
_ID = re.compile(rf"^(?:{_NEW}|{_OLD})(?:v(?P<v>\d+))?$", re.IGNORECASE)
# The Anthology's pages and PDFs, and the older aclweb.org/anthology addresses that papers
# still cite (they redirect there); `.pdf` and a trailing slash are both optional.
_URL = re.compile(
    r"^(?:https?://)?(?:www\.)?(?:aclanthology\.org|aclweb\.org/anthology)/+"
    r"(?P<rest>[^/?#]+?)(?:\.pdf)?/?(?:[?#].*)?$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class AclId:
    """A parsed Anthology id (a `SourceId`): `id` canonical (new style lowercase, old style's
    letter uppercase, paper numbers without leading zeros), `version` the PDF revision."""

    id: str
    version: int | None = None

    def __str__(self) -> str:
        return format_id(self.id, self.version)


def format_id(local: str, version: int | str | None = None) -> str:
    """The public id: `2024.acl-long.1@ACL`, `2024.eacl-long.69v2@ACL` (the inverse of
    `parse`)."""
    return f"{local}v{version}@{SUFFIX}" if version else f"{local}@{SUFFIX}"


def parse(text: str) -> AclId:
    """An id as a reader wrote it: bare, `@ACL` (any case), an Anthology URL; BadId else."""
    s = text.strip()
    m = _URL.match(s)
    if m:
        s = m.group("rest")
    local, at, suffix = s.rpartition("@")
    if at:
        if suffix.strip().lower() != SUFFIX.lower():
            raise BadId(f"not an ACL Anthology id: {text!r}")
        s = local.strip()
    m = _ID.match(s)
    if m is None:
        raise BadId(f"not an ACL Anthology id: {text!r}")
    v = m.group("v")
    version = int(v) if v else None
    if version == 0:
        raise BadId(f"not an ACL Anthology id: {text!r} (versions count from 1)")
    if m.group("year"):
        venue, vol = m.group("venue").lower(), m.group("vol").lower()
        return AclId(f"{m['year']}.{venue}-{vol}.{int(m['num'])}", version)
    return AclId(f"{m['letter'].upper()}{m['yy']}-{m['digits']}", version)


def local_of(text: str) -> str:
    """The local id of a local id or a key (`2024.acl-long.1@ACL` -> `2024.acl-long.1`):
    callers hold either (a Paper's `id` is its key)."""
    return parse(text).id


def is_new_style(collection_id: str) -> bool:
    return collection_id[:1].isdigit()  # new-style ids are year-first


def _two_digit_volumes(collection_id: str, volume_id: str) -> bool:
    """Old-style collections whose ids spend two digits on the volume (the Anthology's rule:
    workshops, which filled a collection with many volumes, and two odd ones)."""
    return (
        collection_id.startswith("W")
        or collection_id == "C69"
        or (collection_id == "D19" and int(volume_id) >= 5)
    )


def build_id(collection_id: str, volume_id: str, paper_id: str) -> str:
    """The id of paper `paper_id` of volume `volume_id` of a collection, as the data files
    number them: ("2024.acl", "long", "1") -> 2024.acl-long.1; ("P17", "1", "1") -> P17-1001;
    ("W17", "10", "1") -> W17-1001. ValueError for numbers that do not fit the scheme."""
    if is_new_style(collection_id):
        return f"{collection_id}-{volume_id}.{int(paper_id)}"
    vol, num = int(volume_id), int(paper_id)
    if _two_digit_volumes(collection_id, volume_id):
        if not (0 <= vol < 100 and 0 <= num < 100):
            raise ValueError(f"{collection_id} volume {volume_id} paper {paper_id}: too big")
        return f"{collection_id}-{vol:02d}{num:02d}"
    if not (0 <= vol < 10 and 0 <= num < 1000):
        raise ValueError(f"{collection_id} volume {volume_id} paper {paper_id}: too big")
    return f"{collection_id}-{vol}{num:03d}"


def year(local: str) -> int | None:
    """The year an id was minted in: a new-style id's first four digits; an old-style
    collection's two (60-99: the 1900s, as the Anthology reads them); None for neither."""
    if local[:4].isdigit() and local[4:5] == ".":
        return int(local[:4])
    yy = local[1:3]
    if len(local) > 3 and local[:1].isalpha() and yy.isdigit():
        return (1900 if int(yy) >= 60 else 2000) + int(yy)
    return None
