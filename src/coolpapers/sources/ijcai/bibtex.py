"""BibTeX for an IJCAI paper, in IJCAI's own export style:

    @inproceedings{ijcai2024p176,
      title     = {1DFormer: ...},
      author    = {Yin, Shi and Huang, Shijie and ...},
      booktitle = {Proceedings of the Thirty-Third International Joint Conference on
                   Artificial Intelligence, {IJCAI-24}},
      publisher = {International Joint Conferences on Artificial Intelligence Organization},
      ...
      year      = {2024},
      month     = {8},
      note      = {Main Track},
      doi       = {10.24963/ijcai.2024/176},
      url       = {https://doi.org/10.24963/ijcai.2024/176},
    }

A paper whose record brought IJCAI's own entry (`extra["bibtex"]`, nearly all do) gets it as
it is; one built here lacks what the stored fields do not tell (editor, pages).
"""

from __future__ import annotations

from coolpapers.records import Paper
from coolpapers.sources.acl.bibtex import split_name
from coolpapers.sources.ijcai import ids

_UNITS = (
    "First Second Third Fourth Fifth Sixth Seventh Eighth Ninth Tenth Eleventh Twelfth "
    "Thirteenth Fourteenth Fifteenth Sixteenth Seventeenth Eighteenth Nineteenth"
).split()
_TENS = "Twent Thirt Fort Fift Sixt Sevent Eight Ninet".split()  # + "ieth" / "y-"
PUBLISHER = "International Joint Conferences on Artificial Intelligence Organization"


def ordinal(n: int) -> str:
    """33 -> "Thirty-Third", as IJCAI's booktitles spell their edition (1 to 99)."""
    if n < 20:
        return _UNITS[n - 1]
    tens, unit = divmod(n, 10)
    stem = _TENS[tens - 2]
    return f"{stem}ieth" if unit == 0 else f"{stem}y-{_UNITS[unit - 1]}"


def edition(year: int) -> int | None:
    """The IJCAI of a year: biennial (odd years) from the 1st in 1969 to the 24th in 2015,
    yearly since (the 25th in 2016, the 33rd in 2024)."""
    if year >= 2016:
        return year - 1991
    if 1969 <= year <= 2015 and year % 2:
        return 24 - (2015 - year) // 2
    return None


def booktitle(year: int) -> str:
    n = edition(year)
    nth = f"the {ordinal(n)} " if n and n < 100 else "the "
    return (
        f"Proceedings of {nth}International Joint Conference on\n"
        f"               Artificial Intelligence, {{IJCAI-{year % 100:02d}}}"
    )


def bibtex(paper: Paper) -> str:
    own = paper.extra.get("bibtex")
    if isinstance(own, str) and own.strip():
        return own.strip()
    sid = ids.parse(paper.id)
    names = " and ".join(
        f"{last}, {first}" if first else last for first, last in map(split_name, paper.authors)
    )
    track = paper.extra.get("track")
    fields = [
        ("title", paper.title),
        ("author", names),
        ("booktitle", booktitle(sid.year)),
        ("publisher", PUBLISHER),
        ("year", str(sid.year)),
    ]
    if paper.published is not None:
        fields.append(("month", str(paper.published.month)))
    fields.append(("note", track if isinstance(track, str) and track else "Main Track"))
    if paper.doi:
        fields += [("doi", paper.doi), ("url", f"https://doi.org/{paper.doi}")]
    else:
        fields.append(("url", ids.build_links(sid.id)[0]))
    body = "".join(f"  {k:<9} = {{{v}}},\n" for k, v in fields)
    return f"@inproceedings{{ijcai{sid.year}p{sid.number},\n{body}}}"
