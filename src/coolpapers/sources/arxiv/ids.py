"""arXiv identifiers in all their written forms.

New style: YYMM.NNNN (2007-2014) or YYMM.NNNNN (2015-), old style: archive/YYMMNNN, each
optionally with vN. Two written variants are normalised to arXiv's canonical form:
- a 4-digit-era id written with 5 digits (1406.02661 -> 1406.2661), a common typo;
- an old id written with its subject class (math.GT/0309136 -> math/0309136), as in many
  pre-2007 arxiv.org URLs. The number is unique within its archive and arXiv's interfaces
  answer with the archive form, so keeping the class would give one paper two ids.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from coolpapers.sources.base import BadId

# What an arXiv id looks like, in pieces: the anchored patterns below (with their groups) and
# the unanchored, group-free `PATTERN` (web/api.py routes paths with it) are built from them, so
# there is one definition of the shape. The shape only: `parse` checks months and digit counts.
_YYMM = r"\d{4}"
_NEW_NUM = r"\d{4,5}"
_ARCHIVE = r"[a-z][a-z\-]*"
_CLASS = r"(?:\.[A-Z]{2})?"  # the subject class some pre-2007 ids are written with
_OLD_NUM = r"\d{7}"
_VERSION = r"\d+"

# A new-style id (`2309.16354`, `1406.2661v2`): groups yymm, num, v.
NEW_STYLE = re.compile(rf"^(?P<yymm>{_YYMM})\.(?P<num>{_NEW_NUM})(?:v(?P<v>{_VERSION}))?$")
_OLD = re.compile(rf"^(?P<arch>{_ARCHIVE}){_CLASS}/(?P<num>{_OLD_NUM})(?:v(?P<v>{_VERSION}))?$")
# Either style, optionally versioned, with no anchor and no group: to embed in other patterns.
PATTERN = rf"(?:{_YYMM}\.{_NEW_NUM}|{_ARCHIVE}{_CLASS}/{_OLD_NUM})(?:v{_VERSION})?"
_URL = re.compile(
    r"^(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/(?P<rest>.+?)(?:\.pdf)?/?$",
    re.IGNORECASE,  # arXiv writes its own host as arXiv.org
)


@dataclass(frozen=True, slots=True)
class ArxivId:
    """A parsed arXiv id (a `SourceId`): its public form is the id itself, `vN` appended."""

    id: str  # canonical, no version
    version: int | None

    def __str__(self) -> str:
        return f"{self.id}v{self.version}" if self.version else self.id


def parse(text: str) -> ArxivId:
    """Parse an id in any accepted form (also `arXiv:` prefixes and arxiv.org URLs)."""
    s = text.strip()
    m = _URL.match(s)
    if m:
        s = m.group("rest")
    if s.lower().startswith("arxiv:"):
        s = s[6:]
    m = NEW_STYLE.match(s)
    if m:
        yymm, num = m.group("yymm"), m.group("num")
        month = int(yymm[2:])
        if not 1 <= month <= 12:
            raise BadId(f"not an arXiv id: {text!r} (month {month:02d})")
        if yymm < "0704":
            raise BadId(f"not an arXiv id: {text!r} (new-style ids start with 0704)")
        five_digits = yymm >= "1501"
        if five_digits and len(num) == 4:
            raise BadId(f"not an arXiv id: {text!r} (ids since 2015 have 5 digits)")
        if not five_digits and len(num) == 5:
            if num[0] != "0":
                raise BadId(f"not an arXiv id: {text!r} (ids before 2015 have 4 digits)")
            num = num[1:]
        v = m.group("v")
        return ArxivId(f"{yymm}.{num}", int(v) if v else None)
    m = _OLD.match(s)
    if m:
        month = int(m.group("num")[2:4])
        if not 1 <= month <= 12:
            raise BadId(f"not an arXiv id: {text!r} (month {month:02d})")
        v = m.group("v")
        return ArxivId(f"{m.group('arch')}/{m.group('num')}", int(v) if v else None)
    raise BadId(f"not an arXiv id: {text!r}")


def split_version(text: str) -> tuple[str, int | None]:
    """`2309.16354v2` -> ("2309.16354", 2); lenient for ids that arXiv itself emitted."""
    m = re.match(r"^(.*?)v(\d+)$", text.strip())
    if m:
        return m.group(1), int(m.group(2))
    return text.strip(), None


def has_html(paper_id: str) -> bool:
    """arXiv renders HTML only for papers submitted since December 2023 (new-style ids from
    2312 on); for older ones its /html/ link is a dead end."""
    yymm, dot, _ = paper_id.partition(".")
    return bool(dot) and yymm.isdigit() and len(yymm) == 4 and yymm >= "2312"
