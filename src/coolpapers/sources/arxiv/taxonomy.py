"""arXiv's category taxonomy, aliases merged.

The table ships with the package (data/arxiv-taxonomy.tsv, from arXiv's own test database).
arXiv lists some categories under two names; a paper carries either, so every category that
enters the store is mapped to one canonical name here and listings of an alias show the
canonical category.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

# alias -> canonical, as arXiv's taxonomy page states them
ALIASES: dict[str, str] = {
    "cs.NA": "math.NA",
    "cs.SY": "eess.SY",
    "math.IT": "cs.IT",
    "math.MP": "math-ph",
    "q-fin.EC": "econ.GN",
    "stat.TH": "math.ST",
}

# Archives that were categories of their own before they got subject classes.
_BARE_ARCHIVES = {"astro-ph", "cond-mat"}

# Names that changed since the table was exported (arXiv's current taxonomy page).
_RENAMED = {"cs.LG": "Machine Learning"}

# Real feeds carry ACM/MSC codes (I.4, 68T45) among categories; those are not arXiv categories.
_CATEGORY = re.compile(r"^[a-z\-]+(\.[A-Za-z\-]+)?$")


@dataclass(frozen=True, slots=True)
class Category:
    code: str
    name: str
    archive: str
    archive_name: str
    group: str
    group_name: str
    active: bool


def canonical(code: str) -> str:
    return ALIASES.get(code, code)


def is_category(code: str) -> bool:
    return bool(_CATEGORY.match(code))


def clean_categories(codes: list[str]) -> list[str]:
    """Canonical categories, primary first, no duplicates, non-arXiv codes dropped."""
    out: list[str] = []
    for c in codes:
        c = canonical(c.strip())
        if c and is_category(c) and c not in out:
            out.append(c)
    return out


@cache
def categories() -> dict[str, Category]:
    """All canonical categories by code (aliases excluded: they resolve through `canonical`)."""
    text = resources.files("coolpapers.data").joinpath("arxiv-taxonomy.tsv").read_text("utf-8")
    out: dict[str, Category] = {}
    for row in csv.DictReader(text.splitlines(), delimiter="\t"):
        code = row["category"]
        if code in ALIASES:
            continue
        out[code] = Category(
            code=code,
            name=_RENAMED.get(code, row["category_name"]),
            archive=row["archive"],
            archive_name=row["archive_name"],
            group=row["group"],
            group_name=row["group_name"],
            active=row["active"] == "1",
        )
    return out


def known(code: str) -> bool:
    return canonical(code) in categories()


def name(code: str) -> str:
    c = categories().get(canonical(code))
    return c.name if c else code


def expand(code: str) -> list[str]:
    """A category, or an archive that has categories (`cs`, `astro-ph`) as all of them."""
    c = canonical(code)
    children = [k for k, v in categories().items() if v.archive == c and k != c]
    if children:
        # an archive's aliased categories (cs.NA, cs.SY) are listed under their canonical names
        children += [t for a, t in ALIASES.items() if a.split(".")[0] == c and t not in children]
        if c in _BARE_ARCHIVES:  # old papers carry the bare archive (astro-ph before 2009)
            children.append(c)
    return children or [c]
