"""What `/arxiv/<spec>` names: a category set (papers.cool syntax) or a list of paper ids.

cs.CL                one category
cs.AI,cs.CL          union (also cs.AI+cs.CL)
cs.AI+cs.LG-cs.CY    union minus papers that are also in cs.CY
2309.16354,1406.2661 papers by id (any arXiv id form)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from coolpapers.sources.arxiv import ids, taxonomy


class BadSpec(ValueError):
    """Neither a known category set nor arXiv ids; the message says what was wrong."""


@dataclass(frozen=True, slots=True)
class CategorySet:
    include: tuple[str, ...]
    exclude: tuple[str, ...]

    @property
    def canonical(self) -> str:
        s = "+".join(self.include)
        return s + "".join(f"-{c}" for c in self.exclude)


@dataclass(frozen=True, slots=True)
class IdList:
    ids: tuple[ids.ArxivId, ...]


@cache
def _codes() -> re.Pattern[str]:
    """All category codes, longest first: names contain '-' (math-ph, q-fin.EC), so a '-'
    is an exclusion only where a whole known code ends before it."""
    codes = sorted([*taxonomy.categories(), *taxonomy.ALIASES], key=len, reverse=True)
    return re.compile(r"([+\-]?)(" + "|".join(map(re.escape, codes)) + r")(?=[+\-]|$)")


def parse(spec: str) -> CategorySet | IdList:
    spec = spec.strip()
    if not spec:
        raise BadSpec("empty path")
    # ids contain '/' only in the old style (hep-th/9901001); categories never do
    parts = [p for p in re.split(r"[,\s]+", spec) if p]
    if all(_looks_like_id(p) for p in parts):
        try:
            return IdList(tuple(ids.parse(p) for p in parts))
        except ids.BadId as e:
            raise BadSpec(str(e)) from e
    include: list[str] = []
    exclude: list[str] = []
    text = re.sub(r"[,\s]+", "+", spec)
    pos = 0
    while pos < len(text):
        m = _codes().match(text, pos)
        if not m or (pos == 0 and m.group(1) == "+"):
            bad = re.split(r"[+\-](?=[a-z])", text[pos:].lstrip("+-"))[0]
            if _looks_like_id(bad):
                raise BadSpec(f"not an arXiv id: {bad!r}")
            raise BadSpec(f"unknown arXiv category: {bad!r}")
        pos = m.end()
        sign, code = m.groups()
        target = exclude if sign == "-" else include
        for c in taxonomy.expand(code):
            if c not in target:
                target.append(c)
    if not include:
        raise BadSpec("no category to include")
    return CategorySet(tuple(include), tuple(exclude))


def _looks_like_id(p: str) -> bool:
    return bool(re.match(r"^(arxiv:)?\d", p, re.I) or "/" in p)
