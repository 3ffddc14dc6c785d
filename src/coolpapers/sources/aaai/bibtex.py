"""BibTeX for an AAAI paper, in the style AAAI's OJS site exports (its citation plugin):
one line, `@article`, keyed by every author's family name and the year joined by "_":

    @article{Cherian_Hori_Marks_Le Roux_2022, title={...}, volume={36},
    url={https://ojs.aaai.org/index.php/AAAI/article/view/19922},
    DOI={10.1609/aaai.v36i1.19922}, number={1}, journal={Proceedings of the AAAI Conference
    on Artificial Intelligence}, author={Cherian, Anoop and ...}, year={2022} }

(wrapped here; written on one line). OJS also writes the abstract, month and pages; the
month and pages are in no paperlists record, and the abstract is left out as most citations
leave it. Family names are split from the stored "First Last" names the way BibTeX splits
them, so a two-word family name (Le Roux) comes out as its last word. A paper whose record
brought its own entry (`extra["bibtex"]`) gets that one.
"""

from __future__ import annotations

from coolpapers.records import Paper
from coolpapers.sources.aaai import ids
from coolpapers.sources.acl.bibtex import split_name

JOURNAL = "Proceedings of the AAAI Conference on Artificial Intelligence"


def bibtex(paper: Paper) -> str:
    own = paper.extra.get("bibtex")
    if isinstance(own, str) and own.strip():
        return own.strip()
    local = ids.local_of(paper.id)
    vol = ids.volume_of(paper.doi) if paper.doi else None
    if vol is not None:
        year: int | None = ids.year_of_volume(vol[0])
    else:
        year = paper.published.year if paper.published else None
    names = [split_name(a) for a in paper.authors]
    key = "_".join([last for _, last in names] + ([str(year)] if year else []))
    fields = [("title", paper.title)]
    if vol is not None:
        fields.append(("volume", str(vol[0])))
    fields.append(("url", ids.page(local)))
    if paper.doi:
        fields.append(("DOI", paper.doi))
    if vol is not None:
        fields.append(("number", str(vol[1])))
    fields.append(("journal", JOURNAL))
    if names:
        fields.append(
            ("author", " and ".join(f"{last}, {first}" if first else last for first, last in names))
        )
    if year:
        fields.append(("year", str(year)))
    body = ", ".join(f"{k}={{{v}}}" for k, v in fields)
    return f"@article{{{key or local}, {body} }}"
