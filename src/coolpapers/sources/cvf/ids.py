"""CVF open access ids in every form a reader may paste.

The Computer Vision Foundation's open access site (https://openaccess.thecvf.com) names a
paper by the base name of its page, which says the conference and year:
`Gandelsman_Double-DIP_Unsupervised_Image_Decomposition_via_Coupled_Deep-Image-Priors_CVPR_2019_paper`
(`<first author>_<title words>_<CONF>_<YEAR>_paper`; the 2013-14 pages put the year first,
`..._2014_CVPR_paper`). The public id (papers.cool's form, the store's key) is that base name
then `@CVF`. Its pages and PDFs live under two layouts:
- up to 2020, `content_<CONF>_<YEAR>/html/<name>.html` and `.../papers/<name>.pdf`
  (`content_cvpr_2018`: the older years in lowercase);
- since 2021, `content/<CONF><YEAR>/html/<name>.html` (`content/WACV2025/...`).
Workshop papers (`..._CVPRW_2019_paper`) add a folder per workshop, which the name does not
tell: their links need the stored page (see `CvfSource.links`). Ids are case-sensitive (they
are file names); CVF has no versions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from coolpapers.sources.base import BadId

SUFFIX = "CVF"
SITE = "https://openaccess.thecvf.com"

# `<name>_<CONF>_<YEAR>_paper` or, 2013-14, `<name>_<YEAR>_<CONF>_paper`: file-name
# characters. Read from the end (`rsplit`): a pattern that finds where the name ends tries
# every "_" of a long title.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")
_CONF = re.compile(r"[A-Z][A-Z0-9]*")
_YEAR = re.compile(r"(?:19|20)\d\d")
# Pages and PDFs in either layout, with a workshop's folder or not; `.html`/`.pdf` required.
_URL = re.compile(
    r"^(?:https?://)?(?:www\.)?openaccess\.thecvf\.com/+"
    r"(?:content_[A-Za-z0-9]+_\d{4}|content/[A-Za-z0-9]+)/+(?:html|papers)/+"
    r"(?:[^/?#]+/+)*(?P<name>[^/?#]+?)\.(?:html|pdf)/?(?:[?#].*)?$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class CvfId:
    """A parsed CVF id (a `SourceId`): `id` the page's base name, and what it tells: the
    `conference` as it writes it ("CVPR", "WACV", "CVPRW": a workshop) and the `year`; no
    versions."""

    id: str
    conference: str
    year: int
    version: None = None

    def __str__(self) -> str:
        return format_id(self.id)

    @property
    def family(self) -> str:
        """The first author's family name as CVF files it (the name's first part)."""
        return self.id.partition("_")[0]


def format_id(local: str, version: int | str | None = None) -> str:
    """The public id `<name>@CVF` (the inverse of `parse`); CVF has no versions."""
    return f"{local}@{SUFFIX}"


def parse(text: str) -> CvfId:
    """An id as a reader wrote it: the base name, `@CVF` (any case), a page or PDF URL."""
    s = text.strip()
    m = _URL.match(s)
    if m:
        s = m.group("name")
    else:
        local, at, suffix = s.rpartition("@")
        if at:
            if suffix.strip().lower() != SUFFIX.lower():
                raise BadId(f"not a CVF open access id: {text!r}")
            s = local.strip()
        s = s.removesuffix(".html").removesuffix(".pdf")
    sid = _split(s)
    if sid is None:
        raise BadId(
            f"not a CVF open access id: {text!r} (a paper's page name, like"
            " Name_Title_Words_CVPR_2019_paper, or its openaccess.thecvf.com URL)"
        )
    return sid


def _split(local: str) -> CvfId | None:
    parts = local.rsplit("_", 3)
    if len(parts) != 4 or parts[3] != "paper" or not _NAME.fullmatch(parts[0]):
        return None
    _, a, b, _ = parts
    if _CONF.fullmatch(a) and _YEAR.fullmatch(b):
        return CvfId(local, a, int(b))
    if _YEAR.fullmatch(a) and _CONF.fullmatch(b):
        return CvfId(local, b, int(a))
    return None


def local_of(text: str) -> str:
    """The local id of a local id or a key (`X_CVPR_2019_paper@CVF` -> `X_CVPR_2019_paper`)."""
    return parse(text).id


def folder(conference: str, year: int) -> str:
    """The site's folder of a conference's papers: `content_CVPR_2019`, `content/WACV2025`
    (see the module's docstring; a workshop's own folder below it is not known here)."""
    if year >= 2021 or (conference == "ACCV" and year >= 2020):
        if conference.endswith("W"):  # workshops: content/CVPR2021W/html/<workshop>/...
            return f"content/{conference[:-1]}{year}W"
        return f"content/{conference}{year}"
    if year < 2017 or (conference == "CVPR" and year < 2019):
        return f"content_{conference.lower()}_{year}"
    return f"content_{conference}_{year}"


def build_links(sid: CvfId | str) -> tuple[str, str]:
    """(page, pdf) built from the name alone: right for main-conference papers."""
    if isinstance(sid, str):
        sid = parse(sid)
    base = f"{SITE}/{folder(sid.conference, sid.year)}"
    return f"{base}/html/{sid.id}.html", f"{base}/papers/{sid.id}.pdf"
