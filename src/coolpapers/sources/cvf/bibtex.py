"""BibTeX for a CVF paper, in CVF open access's own export style:

    @InProceedings{Gandelsman_2019_CVPR,
        author    = {Gandelsman, Yosef and Shocher, Assaf and Irani, Michal},
        title     = {"Double-DIP": Unsupervised Image ...},
        booktitle = {Proceedings of the IEEE/CVF Conference on Computer Vision and Pattern
                     Recognition (CVPR)},
        month     = {June},
        year      = {2019}
    }

keyed `<first author's family>_<year>_<CONF>` (`_Workshops` after it for a workshop paper),
the family being the page name's first part as CVF files it; values in braces, unescaped, as
CVF writes them. CVF also writes `pages`, which no paperlists record has: left out rather than
guessed. A paper whose record brought its own entry (`extra["bibtex"]`) gets that one.
"""

from __future__ import annotations

from coolpapers.records import Paper
from coolpapers.sources.acl.bibtex import split_name
from coolpapers.sources.cvf import ids

_MONTHS = (
    "January February March April May June July August September October November December"
).split()
_BOOKTITLES = {
    "CVPR": "Proceedings of the IEEE/CVF Conference on Computer Vision and Pattern Recognition"
    " (CVPR)",
    "ICCV": "Proceedings of the IEEE/CVF International Conference on Computer Vision (ICCV)",
    "WACV": "Proceedings of the IEEE/CVF Winter Conference on Applications of Computer Vision"
    " (WACV)",
    "ECCV": "Proceedings of the European Conference on Computer Vision (ECCV)",
    "ACCV": "Proceedings of the Asian Conference on Computer Vision (ACCV)",
}
# WACV's entries dropped "IEEE/CVF" from 2025 on
_WACV_2025 = "Proceedings of the Winter Conference on Applications of Computer Vision (WACV)"


def booktitle(conference: str, year: int) -> str:
    """`CVPRW` -> CVPR's booktitle then " Workshops", as CVF writes a workshop's."""
    workshop = conference.endswith("W") and conference[:-1] in _BOOKTITLES
    main = conference[:-1] if workshop else conference
    title = _WACV_2025 if main == "WACV" and year >= 2025 else _BOOKTITLES.get(main)
    if title is None:
        title = f"Proceedings of {main}"
    return f"{title} Workshops" if workshop else title


def bibtex(paper: Paper) -> str:
    own = paper.extra.get("bibtex")
    if isinstance(own, str) and own.strip():
        return own.strip()
    sid = ids.parse(paper.id)
    conference, year = sid.conference, sid.year
    workshop = conference.endswith("W") and conference[:-1] in _BOOKTITLES
    key = f"{sid.family}_{year}_{conference[:-1] + '_Workshops' if workshop else conference}"
    names = " and ".join(
        f"{last}, {first}" if first else last for first, last in map(split_name, paper.authors)
    )
    fields = [
        ("author", names),
        ("title", paper.title),
        ("booktitle", booktitle(conference, year)),
    ]
    if paper.published is not None:
        fields.append(("month", _MONTHS[paper.published.month - 1]))
    fields.append(("year", str(year)))
    body = ",\n".join(f"    {k:<9} = {{{v}}}" for k, v in fields)
    return f"@InProceedings{{{key},\n{body}\n}}"
