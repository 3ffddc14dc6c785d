"""Why a path under /arxiv/ names nothing, told so that the reader can fix it.

spec.parse says what failed first; here a failed path is looked at again as a whole: a code in
the wrong case is redirected (CS.CL -> cs.CL), a mix of ids and categories is named as such
(never blaming its valid part), and an unknown code gets the closest known ones.
"""

from __future__ import annotations

import difflib
import re
from functools import cache
from urllib.parse import quote

from coolpapers.sources.arxiv import taxonomy
from coolpapers.web import spec, views


class Moved(Exception):
    """The path names a listing once its codes are spelled in arXiv's case."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


@cache
def _lower() -> dict[str, str]:
    """Every code and alias, lower-cased, to its own spelling (no two differ only in case)."""
    return {c.lower(): c for c in [*taxonomy.categories(), *taxonomy.ALIASES]}


@cache
def _codes() -> re.Pattern[str]:
    # longest first, as in spec: codes contain '-' (math-ph, cond-mat.mes-hall)
    codes = sorted(_lower().values(), key=len, reverse=True)
    alt = "|".join(map(re.escape, codes))
    return re.compile(rf"(?<![^+\-,\s])({alt})(?=[+\-,\s]|$)", re.IGNORECASE)


def recased(path: str) -> str:
    """`path` with each category code in arXiv's own case; ids and unknown words untouched."""
    return _codes().sub(lambda m: _lower()[m.group(1).lower()], path)


def moved(path: str) -> str | None:
    """The listing `path` means when only the case of its codes was wrong."""
    fixed = recased(path)
    if fixed == path:
        return None
    try:
        spec.parse(fixed)
    except spec.BadSpec:
        return None
    return fixed


def close_categories(word: str, n: int = 6) -> list[str]:
    """The known categories nearest to `word`, case aside; its archive first when it names
    one (cs.XX: all of cs, then cs.AI, cs.AR, ...)."""
    lower = {c.lower(): c for c in taxonomy.categories()}
    out: list[str] = []
    archive = word.split(".")[0].lower()
    if "." in word and archive in lower:
        out.append(lower[archive])
    for m in difflib.get_close_matches(word.lower(), list(lower), n=n * 2, cutoff=0.6):
        if lower[m] not in out:
            out.append(lower[m])
    return out[:n]


def _unknown_word(part: str) -> str:
    """The first piece of a category expression that is no known code."""
    text = re.sub(r"[,\s]+", "+", part)
    pos = 0
    while pos < len(text):
        m = _codes().match(text, pos + (text[pos] in "+-"))
        if m is None:
            rest = text[pos:].lstrip("+-").split("+")[0]
            # stop at a '-' that starts an exclusion of a known code (cs.XX-cs.CY)
            cut = next(
                (i for i, ch in enumerate(rest) if ch == "-" and _codes().match(rest, i + 1)),
                len(rest),
            )
            return rest[:cut]
        pos = m.end()
    return part


def explain(path: str, err: spec.BadSpec) -> views.NotFound:
    """A 404 for `path`, naming its bad part and offering what it may have meant."""
    parts = [p for p in re.split(r"[,\s]+", path.strip()) if p]
    ids: list[str] = []
    cats: list[str] = []
    for part in parts:
        try:
            parsed = spec.parse(part)
        except spec.BadSpec as e:
            return _bad_part(part, e)
        (ids if isinstance(parsed, spec.IdList) else cats).append(part)
    if ids and cats:
        return views.NotFound(
            f"{path!r} mixes paper ids ({', '.join(ids)}) and categories ({', '.join(cats)}): "
            "a page lists either papers by id or the papers of categories.",
            [
                (f"/arxiv/{quote(','.join(ids), safe='/,')}", ", ".join(ids)),
                (f"/arxiv/{quote(','.join(cats), safe='/,+')}", ", ".join(cats)),
            ],
        )
    return views.NotFound(f"{err}.")


def _bad_part(part: str, err: spec.BadSpec) -> views.NotFound:
    if str(err).startswith("not an arXiv id"):
        return views.NotFound(f"{err}.")
    word = _unknown_word(part)
    found = [(f"/arxiv/{c}", f"{c} ({taxonomy.name(c)})") for c in close_categories(word)]
    search = (f"/arxiv/search?query={quote(word)}", f"search for {word!r}")
    return views.NotFound(f"unknown arXiv category: {word!r}.", [*found, search])
