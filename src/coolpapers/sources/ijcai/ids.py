"""IJCAI proceedings ids in every form a reader may paste.

IJCAI numbers the papers of each year's proceedings from 1 (https://www.ijcai.org/proceedings/
2024/176, its PDF `.../2024/0176.pdf`, its DOI `10.24963/ijcai.2024/176`, its BibTeX key
`ijcai2024p176`). The local id is `<num>@<year>` (the number without leading zeros), the
public id (papers.cool's form, the store's key) `<num>@<year>@IJCAI`. No versions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from coolpapers.sources.base import BadId

SUFFIX = "IJCAI"
SITE = "https://www.ijcai.org"

_LOCAL = re.compile(r"^(?P<num>\d{1,5})@(?P<year>\d{4})$")
_URL = re.compile(
    r"^(?:https?://)?(?:www\.)?ijcai\.org/+proceedings/+(?P<year>\d{4})/+(?P<num>\d{1,5})"
    r"(?:\.pdf)?/?(?:[?#].*)?$",
    re.IGNORECASE,
)
_DOI = re.compile(
    r"^(?:(?:https?://)?(?:dx\.)?doi\.org/|doi:\s*)?10\.24963/ijcai\.(?P<year>\d{4})/(?P<num>\d{1,5})$",
    re.IGNORECASE,
)
_BIBKEY = re.compile(r"^ijcai(?P<year>\d{4})p(?P<num>\d{1,5})$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class IjcaiId:
    """A parsed IJCAI id (a `SourceId`): `id` is `<num>@<year>`; no versions."""

    id: str
    version: None = None

    def __str__(self) -> str:
        return format_id(self.id)

    @property
    def year(self) -> int:
        return int(self.id.partition("@")[2])

    @property
    def number(self) -> int:
        return int(self.id.partition("@")[0])


def format_id(local: str, version: int | str | None = None) -> str:
    """The public id `176@2024@IJCAI` (the inverse of `parse`); IJCAI has no versions."""
    return f"{local}@{SUFFIX}"


def parse(text: str) -> IjcaiId:
    """An id as a reader wrote it: `176@2024`, `176@2024@IJCAI` (any case), a proceedings
    page or PDF URL, the DOI, the BibTeX key `ijcai2024p176`; BadId else."""
    s = text.strip()
    m = _LOCAL.match(s) or _URL.match(s) or _DOI.match(s) or _BIBKEY.match(s)
    if m is None:
        local, at, suffix = s.rpartition("@")
        if at and suffix.strip().lower() == SUFFIX.lower():
            m = _LOCAL.match(local.strip())
    if m is None:
        raise BadId(
            f"not an IJCAI id: {text!r} (<number>@<year>@IJCAI, or an ijcai.org/proceedings URL)"
        )
    year, num = int(m.group("year")), int(m.group("num"))
    if not 1969 <= year <= 2200 or num < 1:
        raise BadId(f"not an IJCAI id: {text!r} (no paper {num} in {year})")
    return IjcaiId(f"{num}@{year}")


def local_of(text: str) -> str:
    """The local id of a local id or a key (`176@2024@IJCAI` -> `176@2024`)."""
    return parse(text).id


def build_links(sid: IjcaiId | str) -> tuple[str, str]:
    """(page, pdf): `.../proceedings/2024/176` and `.../proceedings/2024/0176.pdf`."""
    if isinstance(sid, str):
        sid = parse(sid)
    base = f"{SITE}/proceedings/{sid.year}"
    return f"{base}/{sid.number}", f"{base}/{sid.number:04d}.pdf"
