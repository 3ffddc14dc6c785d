"""The PMLR source: ids, links, BibTeX, and a real volume (../shared/data/venues/pmlr/v336,
COLT 2026: `_config.yml`, 197 posts, the organisers' `colt2026.bib`) read into papers and
venue listings, from its posts and from its BibTeX alike."""

from __future__ import annotations

import copy
import logging
import shutil
from collections.abc import Iterator
from datetime import date, datetime
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest

from coolpapers.records import Paper, clean
from coolpapers.sources import registry
from coolpapers.sources.base import BadId, Links, Source
from coolpapers.sources.pmlr import SOURCE, PmlrSource, bibfile, ids, volume
from coolpapers.sources.pmlr.volume import PmlrBatch
from coolpapers.store.store import Store
from tests.conftest import shared

V336 = ("data", "venues", "pmlr", "v336")
KEY = "adil26a@v336@PMLR"
BOOKTITLE = "Proceedings of Thirty Ninth Conference on Learning Theory"


def _papers(batches: list[PmlrBatch]) -> dict[str, Paper]:
    return {p.id: p for b in batches for p in b.papers}


def _without(extra: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in extra.items() if k not in keys}


@pytest.fixture(scope="module")
def v336() -> Path:
    return shared(*V336)


@pytest.fixture(scope="module")
def posts(v336: Path) -> list[PmlrBatch]:
    """The volume read once from its posts (every test here reads, none writes it)."""
    return list(volume.read(v336))


@pytest.fixture(scope="module")
def from_bib(v336: Path) -> list[PmlrBatch]:
    return list(volume.read(v336 / "colt2026.bib"))


@pytest.fixture
def with_pmlr(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The PMLR source registered as an outside one (it joins DEFAULT_SOURCES with the
    venue pages)."""
    ep = EntryPoint(name="pmlr", value="coolpapers.sources.pmlr", group=registry.GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda group: [ep])
    registry.clear()
    yield
    registry.clear()


def _copy_volume(v336: Path, to: Path) -> Path:
    """A writable copy of the volume (the shared files are read-only)."""
    (to / "_posts").mkdir(parents=True)
    for f in [v336 / "_config.yml", v336 / "colt2026.bib", *(v336 / "_posts").iterdir()]:
        shutil.copyfile(f, to / f.relative_to(v336))
    return to


# ---- ids ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "local"),
    [
        ("adil26a@v336@PMLR", "adil26a@v336"),
        ("adil26a@v336@pmlr", "adil26a@v336"),
        (" Adil26a@V336@Pmlr ", "adil26a@v336"),
        ("adil26a@v336", "adil26a@v336"),
        ("v336/adil26a", "adil26a@v336"),
        ("https://proceedings.mlr.press/v336/adil26a.html", "adil26a@v336"),
        ("http://proceedings.mlr.press/v336/adil26a.html", "adil26a@v336"),
        ("proceedings.mlr.press/v336/adil26a.html#abstract", "adil26a@v336"),
        ("https://proceedings.mlr.press/v336/adil26a", "adil26a@v336"),
        ("https://proceedings.mlr.press/v336/adil26a/adil26a.pdf", "adil26a@v336"),
        ("https://proceedings.mlr.press/v37/ioffe15.pdf", "ioffe15@v37"),
        (
            "https://raw.githubusercontent.com/mlresearch/v336/main/assets/adil26a/adil26a.pdf",
            "adil26a@v336",
        ),
        ("https://github.com/mlresearch/v336/blob/main/assets/adil26a/adil26a.pdf", "adil26a@v336"),
        ("http://jmlr.org/proceedings/papers/v37/ioffe15.html", "ioffe15@v37"),
        ("van-der-poel26a@v336@PMLR", "van-der-poel26a@v336"),
        ("agakov12@v22@PMLR", "agakov12@v22"),
        ("https://proceedings.mlr.press/r12/jaakkola99a.html", "jaakkola99a@r12"),
        ("adil26a@v0336@PMLR", "adil26a@v336"),
    ],
)
def test_ids_in_every_form(text: str, local: str) -> None:
    sid = SOURCE.parse_id(text)
    assert (sid.id, sid.version) == (local, None)
    assert str(sid) == SOURCE.format_id(local) == f"{local}@PMLR"
    assert SOURCE.parse_id(str(sid)) == sid  # format_id is parse_id's inverse


@pytest.mark.parametrize(
    "text",
    [
        "",
        "adil26a",
        "adil26a@PMLR",
        "adil26a@336@PMLR",
        "adil26a@v336@ACL",
        "adil26a@x336@PMLR",
        "adil26a@v0@PMLR",
        "adil 26a@v336@PMLR",
        "v336",
        "2309.16354",
        "https://proceedings.mlr.press/v336/",
        "https://proceedings.mlr.press/v336/adil26a/adil26a-supp.pdf",
        "https://proceedings.mlr.press/",
        "https://arxiv.org/abs/2309.16354",
        "https://raw.githubusercontent.com/other/v336/main/assets/adil26a/adil26a.pdf",
    ],
)
def test_bad_ids(text: str) -> None:
    with pytest.raises(BadId):
        SOURCE.parse_id(text)


def test_id_helpers() -> None:
    assert ids.split(KEY) == ("adil26a", "v336")
    assert ids.build("Adil26a", "336").id == "adil26a@v336"
    assert ids.local_of(KEY) == "adil26a@v336"
    assert (ids.year("adil26a@v336"), ids.year("agakov12@v22"), ids.year("x@v1")) == (
        2026,
        2012,
        None,
    )
    with pytest.raises(BadId, match="expected <paper>@<volume>@PMLR"):
        ids.parse("nonsense")


def test_the_registry_takes_its_suffix(with_pmlr: None) -> None:
    assert isinstance(SOURCE, Source) and isinstance(SOURCE, PmlrSource)
    assert registry.get("pmlr") is SOURCE
    assert registry.key("x@v336@PMLR") == "x@v336@PMLR"
    assert registry.key("Adil26a@V336@pmlr") == KEY
    source, sid = registry.parse("x@v336@PMLR")
    assert source is SOURCE and sid.id == "x@v336"
    assert registry.source_of(KEY) is SOURCE
    assert registry.for_host("proceedings.mlr.press") is SOURCE
    assert registry.for_host("www.proceedings.mlr.press") is SOURCE
    with pytest.raises(BadId):
        registry.key("x@336@PMLR")
    assert registry.parse("2309.16354")[0].key == "arxiv"  # bare ids stay arXiv's


# ---- links, cite, BibTeX --------------------------------------------------------------------


def test_links_cite_and_the_rest() -> None:
    p = Paper(id=KEY, title="T", abstract="", authors=[], categories=[])
    page = "https://proceedings.mlr.press/v336/adil26a.html"
    standard = "https://proceedings.mlr.press/v336/adil26a/adil26a.pdf"
    assert SOURCE.links(p) == Links(page, standard, None)
    p.extra["pdf"] = "https://raw.githubusercontent.com/mlresearch/v336/main/assets/x/x.pdf"
    assert SOURCE.links(p) == Links(page, p.extra["pdf"], None)
    assert SOURCE.id_links("adil26a@v336") == Links(page, standard, None)
    assert SOURCE.id_links(KEY, 2) == Links(page, standard, None)  # no versions at PMLR
    assert SOURCE.cite(KEY) == "PMLR v336 adil26a"
    assert SOURCE.cite("adil26a@v336") == "PMLR v336 adil26a"
    assert SOURCE.author_url("Tor Lattimore") is None
    assert SOURCE.fetcher(None, None) is None  # type: ignore[arg-type]
    assert SOURCE.approx_published(p) == datetime(2026, 1, 1)
    assert SOURCE.pace.key == "pmlr.pace" and SOURCE.pace.interval == 1.0
    assert SOURCE.pace.covers("proceedings.mlr.press") and not SOURCE.pace.covers("arxiv.org")
    assert (SOURCE.key, SOURCE.name, SOURCE.suffix) == ("pmlr", "PMLR", "PMLR")
    assert SOURCE.homepage == "https://proceedings.mlr.press/"
    assert SOURCE.credit is None and SOURCE.category_scheme is None


def test_no_host_is_shared_with_another_source() -> None:
    from coolpapers.sources.acl import SOURCE as ACL
    from coolpapers.sources.arxiv import SOURCE as ARXIV

    for other in (ACL, ARXIV):
        assert not SOURCE.pace.hosts & other.pace.hosts
        assert SOURCE.pace.key != other.pace.key


def test_bibtex_in_pmlr_s_export_style(posts: list[PmlrBatch]) -> None:
    p = _papers(posts)["aamand26a@v336@PMLR"]
    assert SOURCE.bibtex(p) == (
        "@InProceedings{pmlr-v336-aamand26a,\n"
        "  title = \t {How fast can you find a good hypothesis?},\n"
        "  author =       {Aamand, Anders and Aliakbarpour, Maryam and Chen, Justin Y. and"
        " Silwal, Sandeep},\n"
        "  booktitle = \t {Proceedings of Thirty Ninth Conference on Learning Theory},\n"
        "  pages = \t {1--2},\n"
        "  year = \t {2026},\n"
        "  editor = \t {Hanneke, Steve and Lattimore, Tor},\n"
        "  volume = \t {336},\n"
        "  series = \t {Proceedings of Machine Learning Research},\n"
        "  month = \t {29 Jun--03 Jul},\n"
        "  publisher =    {PMLR},\n"
        "  pdf = \t {https://raw.githubusercontent.com/mlresearch/v336/main/assets/aamand26a/"
        "aamand26a.pdf},\n"
        "  url = \t {https://proceedings.mlr.press/v336/aamand26a.html},\n"
        "  abstract = \t {Hypothesis selection asks for a distribution close to an unknown $P$,"
        " given samples from $P$ and access to $n$ candidate hypotheses. We study the"
        " computational complexity of achieving statistically optimal sample complexity and"
        " approximation constants.}\n"
        "}"
    )


def _norm(text: str) -> str:
    return " ".join(text.split())


def test_bibtex_fields_match_the_volume_s_own(v336: Path, posts: list[PmlrBatch]) -> None:
    """Each paper's BibTeX, parsed back, against its entry in colt2026.bib, field by field:
    titles and authors as the volume wrote them in TeX (B{\\l}asiok, {DDPM}), page ranges."""
    theirs_all, bad = bibfile.parse((v336 / "colt2026.bib").read_text(encoding="utf-8"))
    assert bad == 0
    theirs_in = [b for b in theirs_all if b.kind == "inproceedings"]
    _, entries, _ = bibfile.entries(v336 / "colt2026.bib")  # the same order, ids minted
    papers = _papers(posts)
    same_title = same_abstract = 0
    for entry, theirs in zip(entries, theirs_in, strict=True):
        paper = papers[f"{entry.paper}@v336@PMLR"]
        (mine,), _ = bibfile.parse(SOURCE.bibtex(paper))
        assert mine.kind == "inproceedings" and mine.key == f"pmlr-v336-{entry.paper}"
        assert _norm(mine.fields["author"]) == _norm(theirs.fields["author"]), entry.paper
        assert mine.fields["pages"] == theirs.fields["pages"].replace("--", "-").replace("-", "--")
        # the TeX as PMLR's tool decodes it for a post (Polyak--Ruppert -> Polyak–Ruppert)
        same_title += mine.fields["title"] == volume.decode_marks(theirs.fields["title"])
        same_abstract += mine.fields.get("abstract", "") == volume.decode_marks(
            theirs.fields.get("abstract", "")
        )
        assert mine.fields["booktitle"] == BOOKTITLE
        assert (mine.fields["volume"], mine.fields["year"]) == ("336", "2026")
        assert mine.fields["url"] == f"https://proceedings.mlr.press/v336/{entry.paper}.html"
    # the one title PMLR's tool rewrote: $L_\infty$ -> $L_∞$ (it decodes symbols in math)
    assert same_title == 196
    # abstracts are PMLR's decoded ones (“quotes”, ’, some \{ lost): most are as written
    assert same_abstract > 120
    adil = SOURCE.bibtex(papers[KEY])
    assert "  author =       {Adil, Deeksha and B{\\l}asiok, Jaros{\\l}aw and Chen" in adil
    chewi = SOURCE.bibtex(papers["chewi26a@v336@PMLR"])
    assert "  title = \t {{DDPM} Score Matching and Distribution Learning" in chewi


def test_bibtex_of_a_bare_paper() -> None:
    """A paper with nothing in `extra`: rebuilt from its fields and id."""
    p = Paper(
        id="smith26a@v336@PMLR",
        title="A Title",
        abstract="",
        authors=["John Smith", "Tim van Erven", "Plato"],
        categories=[],
        journal_ref="Proceedings of X",
        published=datetime(2026, 6, 29),
        extra={"editors": ["Ada Lovelace"]},
    )
    bib = SOURCE.bibtex(p)
    assert bib.startswith("@InProceedings{pmlr-v336-smith26a,\n  title = \t {A Title},\n")
    assert "  author =       {Smith, John and van Erven, Tim and Plato},\n" in bib
    assert "  editor = \t {Lovelace, Ada},\n" in bib
    assert "  pdf = \t {https://proceedings.mlr.press/v336/smith26a/smith26a.pdf},\n" in bib
    assert bib.endswith("  url = \t {https://proceedings.mlr.press/v336/smith26a.html}\n}")
    assert "abstract" not in bib and "pages" not in bib and "month" not in bib


# ---- the volume from its posts --------------------------------------------------------------


def test_the_volume(posts: list[PmlrBatch]) -> None:
    assert len(posts) == 1  # 197 papers: one batch
    (batch,) = posts
    assert (len(batch.papers), len(batch.listings), batch.skipped) == (197, 197, 0)
    vol = batch.volume
    assert vol is not None
    assert (vol.dir, vol.number, vol.collection, vol.edition) == ("v336", "336", "COLT", "2026")
    assert vol.booktitle == "Proceedings of Thirty Ninth Conference on Learning Theory"
    assert (vol.published, vol.start, vol.end) == (
        date(2026, 6, 29),
        date(2026, 6, 29),
        date(2026, 7, 3),
    )
    assert vol.dates == "29 Jun--03 Jul" == volume.date_range(vol.start, vol.end)
    assert [p.full for p in vol.editors] == ["Steve Hanneke", "Tor Lattimore"]
    assert [s.title for s in vol.sections] == ["Preface", "Original Papers", "Open Problems"]
    assert (vol.name, vol.location) == (
        "The Thirty Ninth Annual Conference on Learning Theory",
        "San Diego, California",
    )
    assert {p.source for p in batch.papers} == {"pmlr"}
    assert all(p.id.endswith("@v336@PMLR") for p in batch.papers)


def test_listings_by_section_in_page_order(posts: list[PmlrBatch]) -> None:
    listings = [x for b in posts for x in b.listings]
    groups: dict[str, list[int]] = {}
    for x in listings:
        groups.setdefault(x.group, []).append(x.rank)
        assert (x.collection, x.edition, x.day, x.status) == ("COLT", "2026", date(2026, 6, 29), "")
    assert list(groups) == ["Preface", "Original Papers", "Open Problems"]  # the volume's order
    assert {g: len(r) for g, r in groups.items()} == {
        "Preface": 1,
        "Original Papers": 191,
        "Open Problems": 5,
    }
    assert all(r == list(range(1, len(r) + 1)) for r in groups.values())
    first = [(x.paper_id, x.group, x.rank) for x in listings[:3]]
    assert first == [
        ("hanneke26a@v336@PMLR", "Preface", 1),
        ("aamand26a@v336@PMLR", "Original Papers", 1),
        ("adil26a@v336@PMLR", "Original Papers", 2),
    ]
    assert listings[-1].paper_id == "nissim26a@v336@PMLR"
    # page order: each paper starts after the one before it in its section
    papers = _papers(posts)
    starts = [
        int(papers[x.paper_id].extra["pages"].split("--")[0])
        for x in listings
        if x.group == "Original Papers"
    ]
    assert starts == sorted(starts) and starts[0] == 1


def test_a_known_paper(posts: list[PmlrBatch]) -> None:
    p = _papers(posts)[KEY]
    assert p.title == "On efficient robust regression with subquadratic samples"
    assert p.authors == [
        "Deeksha Adil",
        "Jarosław Błasiok",
        "Hongjie Chen",
        "Deepak Narayanan Sridharan",
    ]
    assert p.abstract.startswith(
        "We revisit the problem of robust linear regression under Gaussian covariates with an"
        " unknown covariance matrix of condition number $\\kappa$. For this fundamental"
    )
    # LaTeX math kept as written, for the typesetter
    assert "uses $\\widetilde{O}(d/\\varepsilon^4)$ samples" in p.abstract
    assert "achieves prediction error $O(\\sqrt{\\varepsilon\\kappa})$ under" in p.abstract
    assert p.abstract.endswith("the trivial estimator that always guesses $0$.")
    assert p.published == datetime(2026, 6, 29)
    assert p.journal_ref == "Proceedings of Thirty Ninth Conference on Learning Theory"
    assert p.categories == [] and p.version is None and p.doi is None and p.updated is None
    assert p.extra == {
        "bibkey": "pmlr-v336-adil26a",
        "pages": "3--74",
        "pdf": "https://raw.githubusercontent.com/mlresearch/v336/main/assets/adil26a/adil26a.pdf",
        "section": "Original Papers",
        "bibtex_author": "Adil, Deeksha and B{\\l}asiok, Jaros{\\l}aw and Chen, Hongjie and"
        " Sridharan, Deepak Narayanan",
        "editors": ["Steve Hanneke", "Tor Lattimore"],
        "month": "29 Jun--03 Jul",
    }
    assert SOURCE.links(p).pdf == p.extra["pdf"]
    assert SOURCE.approx_published(p) == datetime(2026, 1, 1)


def test_titles_keep_math_and_lose_protective_braces(posts: list[PmlrBatch]) -> None:
    papers = _papers(posts)
    # the post's `title` reads "$\sqrtn$" (PMLR stripped every brace): the tex_title's math
    carpentier = papers["carpentier26a@v336@PMLR"]
    assert carpentier.title == (
        "Phase Transition for Stochastic Block Model with more than $\\sqrt{n}$ Communities"
    )
    assert "tex_title" not in carpentier.extra
    chewi = papers["chewi26a@v336@PMLR"]
    assert chewi.title == "DDPM Score Matching and Distribution Learning (Extended Abstract)"
    assert chewi.extra["tex_title"] == (
        "{DDPM} Score Matching and Distribution Learning (Extended Abstract)"
    )
    assert all("{" not in p.title or "$" in p.title for p in papers.values())
    assert all("  " not in p.title and "  " not in p.abstract for p in papers.values())
    assert papers["hanneke26a@v336@PMLR"].abstract == ""  # the preface has none
    assert papers["hanneke26a@v336@PMLR"].extra["pages"] == "i--i"
    # names as PMLR writes them, accents and all
    assert "Nicolò Cesa-Bianchi" in papers["bressan26b@v336@PMLR"].authors
    assert "Tommaso d’Orsi" in papers["bressan26b@v336@PMLR"].authors
    assert papers["van-der-poel26a@v336@PMLR"].authors[0] == "Sam van der Poel"
    assert (
        papers["di-gregorio26a@v336@PMLR"]
        .extra["bibtex_author"]
        .startswith("{Di Gregorio}, Simone and")
    )


def test_supplements_and_other_links_are_kept(posts: list[PmlrBatch]) -> None:
    papers = _papers(posts)
    assert papers["deng26a@v336@PMLR"].extra["extras"] == [
        {
            "label": "Supplementary ZIP",
            # sic: PMLR's post links assets/assets/
            "link": "https://raw.githubusercontent.com/mlresearch/v336/main/assets/assets/deng26a/"
            "deng26a-supp.zip",
        }
    ]
    assert sum("extras" in p.extra for p in papers.values()) == 2
    assert not any("openreview" in p.extra for p in papers.values())  # COLT: none


def test_records_need_no_cleaning(posts: list[PmlrBatch]) -> None:
    for p in _papers(posts).values():
        before = copy.deepcopy(p)
        assert clean(p) == []
        assert p == before


def test_batches_of_chunk_papers(v336: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(volume, "CHUNK", 50)
    batches = list(volume.read(v336 / "_config.yml"))  # the config names the volume too
    assert [len(b.papers) for b in batches] == [50, 50, 50, 47]
    assert all(len(b.listings) == len(b.papers) for b in batches)
    ranks = [x.rank for b in batches for x in b.listings if x.group == "Original Papers"]
    assert ranks == list(range(1, 192))


# ---- the volume from its BibTeX -------------------------------------------------------------


def test_both_readers_give_the_same_papers(
    posts: list[PmlrBatch], from_bib: list[PmlrBatch]
) -> None:
    mine, theirs = _papers(posts), _papers(from_bib)
    assert len(theirs) == 197 and sum(b.skipped for b in from_bib) == 0
    # ids minted from the first author's name, as PMLR's tool does: every one the same
    assert list(mine) == list(theirs)
    assert [p.id for p in theirs.values()][:2] == ["hanneke26a@v336@PMLR", "aamand26a@v336@PMLR"]
    for key, p in mine.items():
        q = theirs[key]
        assert q.authors == p.authors, key
        assert q.published == p.published and q.journal_ref == p.journal_ref
        # all but the links to files, which only the posts name (the PDF's, supplements')
        assert q.extra == _without(p.extra, "pdf", "extras"), key
        if key != "asadi26a@v336@PMLR":
            assert q.title == p.title, key
    # the .bib keeps $L_\infty$ that PMLR's tool turned into $L_∞$ in the post
    assert mine["asadi26a@v336@PMLR"].title.endswith("for $L_∞$ Robust MDPs")
    assert theirs["asadi26a@v336@PMLR"].title.endswith("for $L_\\infty$ Robust MDPs")
    listings = [(x.paper_id, x.group, x.rank, x.day) for b in posts for x in b.listings]
    assert listings == [(x.paper_id, x.group, x.rank, x.day) for b in from_bib for x in b.listings]
    same = sum(theirs[k].abstract == p.abstract for k, p in mine.items())
    assert same >= 175  # the rest differ where PMLR's tool rewrote math (\{ dropped, … for \dots)
    assert theirs["aamand26a@v336@PMLR"].abstract == mine["aamand26a@v336@PMLR"].abstract


def test_pmlr_s_export_reads_back(v336: Path, posts: list[PmlrBatch], tmp_path: Path) -> None:
    """A file of PMLR-style entries (keyed pmlr-v336-...) beside the volume's config: the ids
    come from the keys, the papers are the posts'."""
    papers = _papers(posts)
    shutil.copyfile(v336 / "_config.yml", tmp_path / "_config.yml")
    bib = tmp_path / "bibliography.bib"
    bib.write_text("\n\n".join(SOURCE.bibtex(p) for p in papers.values()), encoding="utf-8")
    assert volume.looks_like(bib)
    back = _papers(list(volume.read(bib)))
    assert list(back) == list(papers)
    for key, p in papers.items():
        q = back[key]
        assert (q.title, q.authors, q.abstract) == (p.title, p.authors, p.abstract), key
        # the pdf too (the export names it); not the section, which PMLR's export leaves out
        assert q.extra == _without(p.extra, "section", "extras"), key


def test_names_and_minted_ids() -> None:
    person = bibfile.person
    assert person("{van der Poel}, Sam").full == "Sam van der Poel"
    assert person("{van der Poel}, Sam").family == "van der Poel"
    assert person("van Erven, Tim")[:3] == ("Tim", "Erven", "van")
    assert person("Tim van Erven")[:3] == ("Tim", "Erven", "van")
    assert person("d'Orsi, Tommaso").full == "Tommaso d’Orsi"
    assert person("Cesa-Bianchi, Nicol\\`{o}").full == "Nicolò Cesa-Bianchi"
    assert person('G{\\"o}bel, Andreas').family == "Göbel"
    assert person("Smith, Jr., John").full == "John Smith Jr."
    assert person("Plato").full == "Plato"
    assert bibfile.split_authors("A, B and {C and D}, E\nand F, G") == [
        "A, B",
        "{C and D}, E",
        "F, G",
    ]
    assert bibfile.parameterize("göbel26a") == "gobel26a"
    assert bibfile.parameterize("van der poel26a") == "van-der-poel26a"
    assert bibfile.parameterize("błasiok26a") == "blasiok26a"
    assert [bibfile.letters(n) for n in (0, 1, 25, 26, 27)] == ["a", "b", "z", "aa", "ab"]
    taken = {"ghazi26a"}
    assert bibfile.mint("Ghazi", "26", taken) == "ghazi26b"
    assert bibfile.mint("Di Gregorio", "26", taken) == "di-gregorio26a"


# ---- bad input ------------------------------------------------------------------------------


def test_bad_posts_are_skipped_and_logged(
    v336: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    vol = _copy_volume(v336, tmp_path / "v336")
    posts = vol / "_posts"
    broken = posts / "2026-06-29-amsel26a.md"  # YAML that does not parse
    broken.write_text(
        broken.read_text(encoding="utf-8").replace("title: ", "title: [unclosed ", 1),
        encoding="utf-8",
    )
    untitled = posts / "2026-06-29-ahmadi26a.md"  # no title at all
    text = untitled.read_text(encoding="utf-8")
    lines = [ln for ln in text.split("\n") if not ln.startswith(("title:", "tex_title:"))]
    untitled.write_text("\n".join(lines), encoding="utf-8")
    no_id = posts / "2026-06-29-zhao26a.md"
    no_id.write_text(no_id.read_text(encoding="utf-8").replace("\nid: zhao26a\n", "\n"))
    (posts / "notes.txt").write_text("not a post", encoding="utf-8")  # not a post: ignored
    adil = posts / "2026-06-29-adil26a.md"  # as ICML's posts have it: an OpenReview forum
    text = adil.read_text(encoding="utf-8")
    adil.write_text(text.replace("\nid: adil26a\n", "\nid: adil26a\nopenreview: zL6ljQvPzZ\n"))
    with caplog.at_level(logging.WARNING, logger="coolpapers.sources"):
        (batch,) = volume.read(vol)
    assert batch.skipped == 3
    kept = {p.id for p in batch.papers}
    assert len(kept) == 194 and KEY in kept
    assert next(p for p in batch.papers if p.id == KEY).extra["openreview"] == "zL6ljQvPzZ"
    assert not kept & {"amsel26a@v336@PMLR", "ahmadi26a@v336@PMLR", "zhao26a@v336@PMLR"}
    ranks = [x.rank for x in batch.listings if x.group == "Original Papers"]
    assert ranks == list(range(1, 189))
    messages = [r.getMessage() for r in caplog.records]
    assert any(str(broken) in m and "post skipped" in m for m in messages)
    assert any(str(untitled) in m and "no title" in m for m in messages)
    assert any(str(no_id) in m and "no id" in m for m in messages)


def test_a_missing_or_broken_config_raises(v336: Path, tmp_path: Path) -> None:
    vol = _copy_volume(v336, tmp_path / "v336")
    config = vol / "_config.yml"
    config.write_text("booktitle: [unclosed\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"_config\.yml: the volume's config is not YAML"):
        list(volume.read(vol))
    config.write_text("booktitle: Proceedings of X\nyear: '2026'\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"_config\.yml: no volume number"):
        list(volume.read(vol))
    config.unlink()
    with pytest.raises(ValueError, match=r"_config\.yml: cannot read"):
        list(volume.read(vol))
    with pytest.raises(ValueError, match="not a PMLR volume"):
        list(volume.read(v336 / "_posts" / "2026-06-29-adil26a.md"))
    (vol / "_config.yml").write_text((v336 / "_config.yml").read_text(encoding="utf-8"))
    shutil.rmtree(vol / "_posts")
    with pytest.raises(ValueError, match="no _posts"):
        list(volume.read(vol))


def test_bad_bibtex_entries_are_skipped_and_logged(
    v336: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    text = (v336 / "colt2026.bib").read_text(encoding="utf-8")
    # aamand26 loses its closing brace (it runs into adil26's entry); ahmadi26 its author
    text = text.replace(
        "title     = {How fast can you find a good hypothesis?},",
        "title     = {How fast can you find a good hypothesis?,",
    )
    text = text.replace(
        "author    = {Ahmadi, Ali and Banihashem, Kiarash and Gholami, Iman and Hajiaghayi,"
        " Mohammad Taghi and Olkowski, Jan},\n",
        "",
    )
    bib = tmp_path / "colt2026.bib"
    bib.write_text(text, encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="coolpapers.sources"):
        (batch,) = volume.read(bib)
    assert batch.skipped == 2
    kept = [p.id for p in batch.papers]
    assert len(kept) == 195 and KEY in kept
    assert "aamand26a@v336@PMLR" not in kept and "ahmadi26a@v336@PMLR" not in kept
    messages = [r.getMessage() for r in caplog.records]
    assert any("colt2026.bib:25" in m and "entry skipped" in m for m in messages)
    assert any("entry ahmadi26" in m and "no author" in m for m in messages)
    # the volume is told by the @Proceedings entry; without it (or a _config.yml) none is
    bib.write_text(text[text.index("@InProceedings{hanneke26") :], encoding="utf-8")
    with pytest.raises(ValueError, match="no @Proceedings entry"):
        list(volume.read(bib))


def test_looks_like(v336: Path, tmp_path: Path) -> None:
    assert volume.looks_like(v336)
    assert volume.looks_like(v336 / "_config.yml")
    assert volume.looks_like(v336 / "colt2026.bib")
    assert volume.looks_like(str(v336))
    assert not volume.looks_like(v336 / "_posts")
    assert not volume.looks_like(tmp_path)
    assert not volume.looks_like(tmp_path / "missing.bib")
    other = tmp_path / "refs.bib"
    other.write_text("@inproceedings{x, title = {T}, year = {2024}}\n", encoding="utf-8")
    assert not volume.looks_like(other)
    blog = tmp_path / "blog"
    (blog / "_posts").mkdir(parents=True)
    (blog / "_config.yml").write_text("title: My blog\n", encoding="utf-8")
    assert not volume.looks_like(blog)


# ---- into the store -------------------------------------------------------------------------


def test_papers_are_stored_under_their_keys(
    tmp_path: Path, posts: list[PmlrBatch], with_pmlr: None
) -> None:
    store = Store.open("sqlite:///" + str(tmp_path / "db.sqlite"))
    try:
        for b in posts:
            store.write(b)
        got = store.papers([KEY, "nissim26a@v336@PMLR", "missing26a@v336@PMLR"])
        assert set(got) == {KEY, "nissim26a@v336@PMLR"}
        p = got[KEY]
        mine = _papers(posts)[KEY]
        assert (p.title, p.authors, p.abstract) == (mine.title, mine.authors, mine.abstract)
        assert p.source == "pmlr" and p.published == datetime(2026, 6, 29)
        assert p.extra == mine.extra
        for b in posts:  # written again: the same rows (upserts by key)
            store.write(b)
        assert len(store.papers(p.id for b in posts for p in b.papers)) == 197
    finally:
        store.engine.dispose()
