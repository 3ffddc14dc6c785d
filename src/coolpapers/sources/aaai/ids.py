"""AAAI proceedings ids in every form a reader may paste.

The Proceedings of the AAAI Conference on Artificial Intelligence are published on AAAI's OJS
site since AAAI-20 (volume 34), which numbers every article once across all years: the
article id, `19922` in https://ojs.aaai.org/index.php/AAAI/article/view/19922, in its DOI
`10.1609/aaai.v36i1.19922` (volume 36 = 2022, issue 1) and in its PDF's address on AAAI's
CDN (`https://cdn.aaai.org/ojs/19922/19922-13-23935-1-2-20220628.pdf`). The public id
(papers.cool's form, the store's key) is that number then `@AAAI`; no versions.

AAAI's newer pages (`https://aaai.org/papers/00444-2-5-1-d-spatio-temporal-...`) carry the
conference's own paper number, not the article id, and no way back to it: refused with a
message saying which link to paste instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from coolpapers.sources.base import BadId

SUFFIX = "AAAI"
OJS = "https://ojs.aaai.org/index.php/AAAI"

_NUM = re.compile(r"^\d{1,7}$")
_URL = re.compile(
    r"^(?:https?://)?(?:www\.)?(?:ojs\.aaai\.org|aaai\.org/ojs)/+index\.php/+AAAI/+article/+"
    r"(?:view|download)/+(?P<num>\d{1,7})(?:/+\d+)?/?(?:[?#].*)?$",
    re.IGNORECASE,
)
_CDN = re.compile(
    r"^(?:https?://)?cdn\.aaai\.org/+ojs/+(?P<num>\d{1,7})/+[^/?#]*(?:[?#].*)?$", re.IGNORECASE
)
_DOI = re.compile(
    r"^(?:(?:https?://)?(?:dx\.)?doi\.org/|doi:\s*)?"
    r"10\.1609/aaai\.v(?P<volume>\d+)i(?P<issue>\d+)\.(?P<num>\d{1,7})$",
    re.IGNORECASE,
)
_PAPERS = re.compile(r"^(?:https?://)?(?:www\.)?aaai\.org/+papers/", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class AaaiId:
    """A parsed AAAI id (a `SourceId`): `id` the OJS article number; no versions."""

    id: str
    version: None = None

    def __str__(self) -> str:
        return format_id(self.id)


def format_id(local: str, version: int | str | None = None) -> str:
    """The public id `19922@AAAI` (the inverse of `parse`); AAAI has no versions."""
    return f"{local}@{SUFFIX}"


def parse(text: str) -> AaaiId:
    """An id as a reader wrote it: `19922`, `19922@AAAI` (any case), an ojs.aaai.org article
    URL, the CDN's PDF URL, the DOI; BadId else."""
    s = text.strip()
    m = _URL.match(s) or _CDN.match(s) or _DOI.match(s)
    if m is not None:
        s = m.group("num")
    else:
        local, at, suffix = s.rpartition("@")
        if at:
            if suffix.strip().lower() != SUFFIX.lower():
                raise BadId(f"not an AAAI id: {text!r}")
            s = local.strip()
    if _NUM.match(s) is None or int(s) == 0:
        if _PAPERS.match(text.strip()):
            raise BadId(
                f"not an AAAI id: {text!r} (an aaai.org/papers/ page names the paper by the"
                " conference's number, not its article id: paste its ojs.aaai.org link or DOI)"
            )
        raise BadId(
            f"not an AAAI id: {text!r} (<article id>@AAAI, an ojs.aaai.org article URL or an"
            " AAAI DOI 10.1609/aaai...)"
        )
    return AaaiId(str(int(s)))


def local_of(text: str) -> str:
    """The local id of a local id or a key (`19922@AAAI` -> `19922`)."""
    return parse(text).id


def volume_of(doi: str) -> tuple[int, int] | None:
    """(volume, issue) of an AAAI DOI: `10.1609/aaai.v36i1.19922` -> (36, 1)."""
    m = _DOI.match(doi.strip())
    return (int(m.group("volume")), int(m.group("issue"))) if m else None


def year_of_volume(volume: int) -> int:
    """The year of a volume of the proceedings: volume 34 is AAAI-20, one a year."""
    return volume + 1986


def page(local: str) -> str:
    return f"{OJS}/article/view/{local}"
