"""PMLR ids in every form a reader may paste.

PMLR (https://proceedings.mlr.press/) names a paper by its volume and a paper id unique in
that volume: `v336` and `aamand26a`, at `https://proceedings.mlr.press/v336/aamand26a.html`.
Paper ids are minted by PMLR's volume tool (mlresearch/papersite) as the first author's
family name, the publication year's two digits and a letter (`a`, `b`, ... `aa` for the
27th), passed through ActiveSupport's `parameterize`: ASCII, lowercase, `-` between words
(`cesa-bianchi26a`, `van-der-poel26a`). Volumes before 2017 kept their organisers' keys
(`agakov12`, `abbasi-yadkori12`), lowercase all the same. So ids are taken lowercase: a
capitalised paste (`Aamand26a`, `V336`) names the same paper, and the site's addresses are
all lowercase. Volumes are `v<number>`; PMLR's reissues of older proceedings are
`r<number>` (`https://proceedings.mlr.press/r12/...`); leading zeros are dropped.

The local id (the store's key minus the suffix) is `<paper>@<volume>`; the public id, as
papers.cool writes it, is `<paper>@<volume>@PMLR` (`aamand26a@v336@PMLR`). PMLR has no
numbered versions: a corrected PDF replaces the old one, so `version` is always None.

Accepted: the public id (suffix in any case), the local id, `v336/aamand26a`, and the
addresses of a paper's page and PDF: `proceedings.mlr.press/v336/aamand26a.html`,
`.../v336/aamand26a/aamand26a.pdf`, `.../v336/aamand26a.pdf` (volumes 28-53's layout),
`raw.githubusercontent.com/mlresearch/v336/main/assets/aamand26a/aamand26a.pdf` (where
recent volumes' PDFs live: their posts link there), the same file on github.com, and the
old JMLR W&CP addresses `jmlr.org/proceedings/papers/v37/ioffe15.html` (and `.pdf`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from coolpapers.sources.base import BadId

SUFFIX = "PMLR"
SITE = "https://proceedings.mlr.press"

# a paper's id; never one ending in -supp, which names its supplement (v37/ioffe15-supp.pdf)
_PAPER = r"[a-z0-9][a-z0-9_-]*(?<!-supp)"
_VOLUME = r"[vr]\d{1,5}"
_LOCAL = re.compile(rf"^(?P<paper>{_PAPER})@(?P<vol>{_VOLUME})$", re.IGNORECASE)
# a path on PMLR's site (or JMLR W&CP's): /v336/x.html, /v336/x, /v336/x/x.pdf, /v336/x.pdf
_PATH = re.compile(
    rf"^/*(?P<vol>{_VOLUME})/+(?P<paper>{_PAPER})"
    rf"(?:\.html?|\.pdf|/+(?P<again>{_PAPER})\.pdf)?/?$",
    re.IGNORECASE,
)
_SITE_URL = re.compile(
    r"^(?:https?://)?(?:www\.)?(?:proceedings\.mlr\.press|jmlr\.org/proceedings/papers)"
    r"(?P<path>(?:/[^?#]*)?)(?:[?#].*)?$",
    re.IGNORECASE,
)
# a volume's repository: raw.githubusercontent.com/mlresearch/v336/main/assets/x/x.pdf, and
# github.com/mlresearch/v336/blob/main/assets/x/x.pdf (or /raw/)
_GITHUB_URL = re.compile(
    rf"^(?:https?://)?(?:raw\.githubusercontent\.com|(?:www\.)?github\.com)/mlresearch/"
    rf"(?P<vol>{_VOLUME})/(?:(?:blob|raw)/)?[^/?#]+/assets/(?P<paper>{_PAPER})/"
    rf"(?P<again>{_PAPER})\.pdf(?:[?#].*)?$",
    re.IGNORECASE,
)
_YEAR = re.compile(r"(\d{2})[a-z]{0,2}$")


@dataclass(frozen=True, slots=True)
class PmlrId:
    """A parsed PMLR id (a `SourceId`): `id` the local id `<paper>@<volume>`, lowercase."""

    id: str
    version: None = None

    @property
    def paper(self) -> str:
        return self.id.partition("@")[0]

    @property
    def volume(self) -> str:
        return self.id.partition("@")[2]

    def __str__(self) -> str:
        return format_id(self.id)


def format_id(local: str, version: int | str | None = None) -> str:
    """The public id: `aamand26a@v336@PMLR` (the inverse of `parse`). PMLR has no versions:
    `version` is ignored."""
    return f"{local}@{SUFFIX}"


def build(paper: str, volume: str) -> PmlrId:
    """The id of paper `aamand26a` of volume `v336` (or `336`); BadId if either is no PMLR
    paper or volume id."""
    vol = volume.strip()
    if vol.isdigit():
        vol = f"v{vol}"
    return parse(f"{paper.strip()}@{vol}")


def parse(text: str) -> PmlrId:
    """An id as a reader wrote it (see the module's list of forms); BadId for anything else."""
    s = text.strip()
    m = _GITHUB_URL.match(s)
    if m:
        return _checked(m["paper"], m["vol"], m["again"], text)
    m = _SITE_URL.match(s)
    if m:
        path = _PATH.match(m["path"])
        if path is None:
            raise BadId(f"not a PMLR paper address: {text!r}")
        return _checked(path["paper"], path["vol"], path["again"], text)
    local, at, suffix = s.rpartition("@")
    if at and suffix.strip().lower() == SUFFIX.lower():
        s = local.strip()
    m = _LOCAL.match(s)
    if m:
        return _checked(m["paper"], m["vol"], None, text)
    if "://" not in s and "@" not in s:
        path = _PATH.match(s)  # v336/aamand26a, as PMLR's own references write it
        if path is not None:
            return _checked(path["paper"], path["vol"], path["again"], text)
    raise BadId(
        f"not a PMLR id: {text!r} (expected <paper>@<volume>@PMLR like aamand26a@v336@PMLR,"
        " v336/aamand26a, or a proceedings.mlr.press address)"
    )


def _checked(paper: str, vol: str, again: str | None, text: str) -> PmlrId:
    if not paper:
        raise BadId(f"not a PMLR id: {text!r} (no paper id)")
    if again is not None and again.lower() != paper.lower():
        raise BadId(f"not a PMLR paper's PDF: {text!r} (a supplement or another file)")
    number = int(vol[1:])
    if number == 0:
        raise BadId(f"not a PMLR id: {text!r} (volumes count from 1)")
    return PmlrId(f"{paper.lower()}@{vol[0].lower()}{number}")


def local_of(text: str) -> str:
    """The local id of a local id or a key (`aamand26a@v336@PMLR` -> `aamand26a@v336`):
    callers hold either (a Paper's `id` is its key)."""
    return parse(text).id


def split(local: str) -> tuple[str, str]:
    """(paper, volume) of a local id or key: ("aamand26a", "v336")."""
    sid = parse(local)
    return sid.paper, sid.volume


def page_url(local: str) -> str:
    paper, vol = split(local)
    return f"{SITE}/{vol}/{paper}.html"


def pdf_url(local: str) -> str:
    """The PDF's address in PMLR's standard layout, which its site serves for every volume
    (recent volumes' posts link the copy in the volume's repository instead)."""
    paper, vol = split(local)
    return f"{SITE}/{vol}/{paper}/{paper}.pdf"


def year(local: str) -> int | None:
    """The year a paper id was minted for: its two digits before the letters (`aamand26a`:
    2026, `agakov12`: 2012); PMLR (JMLR W&CP before it) began in 2007, so always 20xx.
    None for an id that ends otherwise."""
    m = _YEAR.search(split(local)[0])
    return 2000 + int(m.group(1)) if m else None
