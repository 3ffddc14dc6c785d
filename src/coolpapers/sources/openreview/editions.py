"""Where an OpenReview paper is listed: a venue id and a note's decision -> the collection,
edition and group of its `records.Listing`.

A venue id is the path of the venue's group (docs/openreview/how-do-i-find-a-venue-id.md):
`ICLR.cc/2025/Conference`, `NeurIPS.cc/2024/Datasets_and_Benchmarks_Track`,
`colmweb.org/COLM/2024/Conference`, `robot-learning.org/CoRL/2025/Conference`,
`ICML.cc/2024/Workshop/MI`, `TMLR`. Accepted papers carry it in `content.venueid`, and
their decision in `content.venue`: "ICLR 2025 Oral", "NeurIPS 2024 poster",
"ICLR 2023 notable top 5%".

Rules:
- edition: the first path segment that is a year (`2025`); none (journals: TMLR): the
  caller uses the paper's year;
- collection: the segment before the year, else the first one, without a domain's last
  part (`ICLR.cc` -> `ICLR`), spelt as papers.cool spells it where `COLLECTIONS` knows it
  (`neurips` -> `NeurIPS`, `corl` -> `CoRL`), else as the id writes it;
- group: what `content.venue` says after the year ("ICLR 2025 Oral" -> "Oral",
  "NeurIPS 2024 Datasets and Benchmarks Track poster" -> "Datasets and Benchmarks Track
  Poster"), its first letter and the words oral, spotlight and poster capitalised; where
  the venue string names no year or nothing after it, the venue id's segments after the
  year but "Conference" (`Datasets_and_Benchmarks_Track` -> "Datasets and Benchmarks
  Track"; `Conference` alone -> "").
"""

from __future__ import annotations

import re

# Lowercased names (or domains) -> the collection as papers.cool writes it.
COLLECTIONS = {
    "iclr": "ICLR", "neurips": "NeurIPS", "nips": "NeurIPS", "icml": "ICML",
    "colm": "COLM", "colmweb": "COLM", "corl": "CoRL", "robot-learning": "CoRL",
    "uai": "UAI", "auai": "UAI", "midl": "MIDL", "aistats": "AISTATS", "tmlr": "TMLR",
    "emnlp": "EMNLP", "acl": "ACL", "aaai": "AAAI", "eccv": "ECCV", "iccv": "ICCV",
    "cvpr": "CVPR", "ijcai": "IJCAI", "kdd": "KDD", "thewebconf": "WWW", "lod": "LOD",
    "automl": "AutoML", "logconference": "LoG", "log": "LoG", "clear": "CLeaR",
}  # fmt: skip
_YEAR = re.compile(r"^(?:19|20)\d\d$")
_YEAR_IN_TEXT = re.compile(r"\b(?:19|20)\d\d\b")
_DECISION = re.compile(r"\b(oral|spotlight|poster)\b", re.IGNORECASE)


def _parts(venue_id: str) -> list[str]:
    return [p for p in venue_id.strip().split("/") if p.strip()]


def _year_at(parts: list[str]) -> int | None:
    return next((i for i, p in enumerate(parts) if _YEAR.match(p)), None)


def edition_of(venue_id: str) -> str:
    """`2025` of `ICLR.cc/2025/Conference`; "" when the id names no year."""
    parts = _parts(venue_id)
    i = _year_at(parts)
    return parts[i] if i is not None else ""


def collection_of(venue_id: str) -> str:
    """`ICLR` of `ICLR.cc/2025/Conference`, `COLM` of `colmweb.org/COLM/2024/Conference`."""
    parts = _parts(venue_id)
    if not parts:
        return ""
    i = _year_at(parts)
    name = parts[i - 1] if i else parts[0]
    if "." in name:
        name = name.rsplit(".", 1)[0]  # a domain: ICLR.cc, MIDL.io
    return COLLECTIONS.get(name.lower(), name)


def track_of(venue_id: str) -> str:
    """The venue id's segments after its year, "Conference" left out, as words:
    `Datasets and Benchmarks Track`, `Workshop MI`; "" for a main conference."""
    parts = _parts(venue_id)
    i = _year_at(parts)
    rest = parts[i + 1 :] if i is not None else parts[1:]
    return " ".join(p.replace("_", " ") for p in rest if p != "Conference").strip()


def group_of(venue: str | None, venue_id: str) -> str:
    """The group of a paper whose decision reads `venue` (see the module's rules)."""
    text = " ".join((venue or "").split())
    m = _YEAR_IN_TEXT.search(text)
    rest = text[m.end() :].strip(" -:,") if m else ""
    if not m and _DECISION.fullmatch(text):
        rest = text
    if not rest:
        return track_of(venue_id)
    rest = _DECISION.sub(lambda d: d.group().capitalize(), rest)
    return rest[:1].upper() + rest[1:]


def venue_name(venue: str) -> str:
    """The venue without its decision: "ICLR 2025" of "ICLR 2025 Oral"."""
    text = " ".join(venue.split())
    m = _YEAR_IN_TEXT.search(text)
    return text[: m.end()] if m else text
