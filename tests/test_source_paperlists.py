"""paperlists files (../shared/data/venues/paperlists: two OpenReview conferences and ICLR 2018
with its rejected papers, CVPR 2019 and WACV 2025 from CVF, IJCAI 2024, AAAI 2022) read into
papers of the sources their links name, and the CVF, IJCAI and AAAI sources: ids, links,
BibTeX."""

from __future__ import annotations

import gzip
import json
import logging
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest

from coolpapers.records import Listing, Paper, clean
from coolpapers.sources import aaai, cvf, ijcai, registry
from coolpapers.sources.aaai import AaaiSource
from coolpapers.sources.base import BadId, Links, Source
from coolpapers.sources.cvf import CvfSource
from coolpapers.sources.ijcai import IjcaiSource
from coolpapers.sources.paperlists import edition_of, load, looks_like, read
from coolpapers.store.store import Store
from tests.conftest import shared

FOLDER = ("data", "venues", "paperlists")
FILES = ("aaai2022", "colm2025", "corl2025", "cvpr2019", "iclr2018", "ijcai2024", "wacv2025")

DIP = (
    "Gandelsman_Double-DIP_Unsupervised_Image_Decomposition_via_Coupled_Deep-Image-Priors"
    "_CVPR_2019_paper"
)
PANT = (
    "Wang_360PanT_Training-Free_Text-Driven_360-Degree_Panorama-to-Panorama_Translation"
    "_WACV_2025_paper"
)


class Read:
    """One file read once: its batches, and its papers and listings by key."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.batches = list(read(path))
        self.papers = {p.id: p for b in self.batches for p in b.papers}
        self.listings = {x.paper_id: x for b in self.batches for x in b.listings}
        self.skipped = sum(b.skipped for b in self.batches)


@pytest.fixture(scope="module")
def files() -> dict[str, Read]:
    return {name: Read(shared(*FOLDER, f"{name}.json.gz")) for name in FILES}


@pytest.fixture
def with_sources(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The CVF, IJCAI and AAAI sources registered as outside ones (they join DEFAULT_SOURCES
    with the venue pages)."""
    eps = [
        EntryPoint(name=k, value=f"coolpapers.sources.{k}", group=registry.GROUP)
        for k in ("cvf", "ijcai", "aaai")
    ]
    monkeypatch.setattr(registry, "entry_points", lambda group: eps)
    registry.clear()
    yield
    registry.clear()


# ---- the files ------------------------------------------------------------------------------


def _groups(r: Read) -> dict[tuple[str, str], int]:
    return dict(Counter((x.group, x.status) for x in r.listings.values()))


def test_every_file_is_read_whole(files: dict[str, Read]) -> None:
    got = {
        n: (len(r.papers), r.skipped, [len(b.papers) for b in r.batches]) for n, r in files.items()
    }
    assert got == {
        "aaai2022": (1319, 0, [1000, 319]),  # batches of 1,000 records
        "colm2025": (418, 0, [418]),
        "corl2025": (263, 0, [263]),
        "cvpr2019": (1294, 0, [1000, 294]),
        "iclr2018": (995, 0, [995]),
        "ijcai2024": (1048, 0, [1000, 48]),
        "wacv2025": (929, 0, [929]),
    }
    sources = {n: {p.source for p in r.papers.values()} for n, r in files.items()}
    assert sources == {
        "aaai2022": {"aaai"},
        "colm2025": {"openreview"},
        "corl2025": {"openreview"},
        "cvpr2019": {"cvf"},
        "iclr2018": {"openreview"},  # a third of them with an iclr.cc site: their PDF says
        "ijcai2024": {"ijcai"},
        "wacv2025": {"cvf"},
    }
    suffixes = {"aaai": "@AAAI", "openreview": "@OpenReview", "cvf": "@CVF", "ijcai": "@IJCAI"}
    for r in files.values():
        assert all(p.id.endswith(suffixes[p.source]) for p in r.papers.values())
        assert len(r.listings) == len(r.papers)  # one listing each, no id twice


def test_editions_and_days(files: dict[str, Read]) -> None:
    got = {
        n: {(x.collection, x.edition, x.day) for x in r.listings.values()} for n, r in files.items()
    }
    assert got == {
        "aaai2022": {("AAAI", "2022", date(2022, 2, 22))},
        "colm2025": {("COLM", "2025", date(2025, 10, 7))},
        "corl2025": {("CoRL", "2025", date(2025, 9, 27))},
        "cvpr2019": {("CVPR", "2019", date(2019, 6, 16))},
        "iclr2018": {("ICLR", "2018", date(2018, 4, 30))},
        "ijcai2024": {("IJCAI", "2024", date(2024, 8, 3))},
        "wacv2025": {("WACV", "2025", date(2025, 2, 28))},
    }


def test_groups_and_statuses(files: dict[str, Read]) -> None:
    assert _groups(files["iclr2018"]) == {
        ("Poster", ""): 314,
        ("Oral", ""): 23,
        ("Reject", "Reject"): 496,
        ("Withdraw", "Withdraw"): 69,
        ("Workshop", "Workshop"): 90,  # invited to the workshop track: not the conference's
        ("Active", "Active"): 3,  # never decided
    }
    assert _groups(files["corl2025"]) == {("Poster", ""): 221, ("Oral", ""): 42}
    assert _groups(files["colm2025"]) == {("Poster", ""): 418}
    assert _groups(files["cvpr2019"]) == {("Poster", ""): 1006, ("Oral", ""): 288}
    assert _groups(files["wacv2025"]) == {("Poster", ""): 929}
    assert _groups(files["ijcai2024"]) == {
        ("Main Track", ""): 790,
        ("Demo Track", ""): 61,
        ("AI for Good", ""): 49,
        ("Survey Track", ""): 48,
        ("AI, Arts & Creativity", ""): 26,
        ("Sister Conferences Best Papers", ""): 19,
        ("Doctoral Consortium", ""): 17,
        ("Journal Track", ""): 15,
        ("Early Career", ""): 12,
        ("Human-Centred AI", ""): 11,
    }
    aaai_groups = _groups(files["aaai2022"])
    assert len(aaai_groups) == 20 and sum(aaai_groups.values()) == 1319
    assert aaai_groups[("Computer Vision I", "")] == 128
    assert aaai_groups[("Speech and Natural Language Processing", "")] == 151
    assert all(status == "" for _, status in aaai_groups)


def test_ranks_count_each_group_in_file_order(files: dict[str, Read]) -> None:
    for r in files.values():
        by_group: dict[str, list[int]] = {}
        for b in r.batches:
            for x in b.listings:
                by_group.setdefault(x.group, []).append(x.rank)
        for ranks in by_group.values():
            assert ranks == list(range(1, len(ranks) + 1))  # across batches too
    cvpr = files["cvpr2019"].listings
    assert cvpr[f"{DIP}@CVF"].rank == 1  # the first Oral the file lists
    assert files["aaai2022"].listings["19922@AAAI"] == Listing(
        "AAAI", "2022", "Computer Vision I", "19922@AAAI", 1, date(2022, 2, 22), ""
    )


# ---- a known record of each source ------------------------------------------------------------


def test_an_openreview_paper(files: dict[str, Read]) -> None:
    p = files["colm2025"].papers["0JzWiigkUy@OpenReview"]
    assert p.source == "openreview" and p.categories == []
    assert p.title == "BEARCUBS: A benchmark for computer-using web agents"
    assert p.authors == [
        "Yixiao Song",
        "Katherine Thai",
        "Chau Minh Pham",
        "Yapei Chang",
        "Mazin Nadaf",
        "Mohit Iyyer",
    ]
    assert p.extra["affiliations"] == [
        "University of Massachusetts at Amherst",
        "University of Massachusetts at Amherst",
        None,  # "" in the file
        "University of Maryland, College Park+University of Massachusetts at Amherst",
        "University of Maryland, College Park",
        "University of Maryland, College Park",
    ]
    assert p.extra["keywords"] == ["computer-use agent", "benchmark", "multimodal"]
    assert p.extra["bibtex"].startswith("@inproceedings{\nsong2025bearcubs,\n")
    assert p.extra["supp"].startswith("https://openreview.net/attachment/")
    assert p.abstract.startswith("Modern web agents possess computer use abilities")
    assert (p.journal_ref, p.doi, p.published) == ("COLM 2025", None, datetime(2025, 10, 7))
    assert "pdf" not in p.extra and "page" not in p.extra  # the forum id tells them


def test_iclr_2018_keeps_rejected_and_withdrawn_papers(files: dict[str, Read]) -> None:
    r = files["iclr2018"]
    withdrawn = r.papers["B11bwYgfM@OpenReview"]
    assert withdrawn.title == (
        "Robust Task Clustering for Deep and Diverse Multi-Task and Few-Shot Learning"
    )
    assert withdrawn.authors[:2] == ["Mo Yu", "Xiaoxiao Guo"] and len(withdrawn.authors) == 8
    assert "affiliations" not in withdrawn.extra  # ";;;;;;;": none known
    assert withdrawn.extra["tldr"].startswith("We propose a matrix-completion based task")
    # not published there: no booktitle, no date; listed, but with its status
    assert (withdrawn.journal_ref, withdrawn.published) == (None, None)
    assert r.listings[withdrawn.id].status == "Withdraw"
    # an accepted poster whose site is ICLR's own page: its OpenReview PDF names it
    poster = r.papers["B12Js_yRb@OpenReview"]
    assert (
        poster.title == "Learning to Count Objects in Natural Images for Visual Question Answering"
    )
    assert poster.authors == ["Yan Zhang", "Jonathon Hare", "Adam Prügel-Bennett"]
    assert (r.listings[poster.id].group, r.listings[poster.id].status) == ("Poster", "")
    assert (poster.journal_ref, poster.published) == ("ICLR 2018", datetime(2018, 4, 30))
    # the markdown badge reduced to its link; Papers with Code's own links dropped
    assert poster.extra["github"] == "https://github.com/Cyanogenoid/vqa-counting"
    assert all("paperswithcode" not in p.extra.get("github", "") for p in r.papers.values())
    # hard-wrapped abstracts joined back; math and LaTeX kept as written
    deep = next(
        p for p in r.papers.values() if p.abstract.startswith("In this paper, a deep boosting")
    )
    assert "\n" not in deep.abstract and "developed to learn more discriminative" in deep.abstract
    assert any("$" in p.abstract for p in r.papers.values())


def test_a_cvpr_2019_paper(files: dict[str, Read]) -> None:
    p = files["cvpr2019"].papers[f"{DIP}@CVF"]
    assert p.source == "cvf"
    assert p.title == '"Double-DIP": Unsupervised Image Decomposition via Coupled Deep-Image-Priors'
    assert p.authors == ["Yosef Gandelsman", "Assaf Shocher", "Michal Irani"]  # "a;  b;  c"
    assert p.extra == {"session": "Low-Level & Optimization"}  # no affiliation, no code
    assert (p.journal_ref, p.published) == ("CVPR 2019", datetime(2019, 6, 16))
    x = files["cvpr2019"].listings[p.id]
    assert (x.group, x.status) == ("Oral", "")
    base = "https://openaccess.thecvf.com/content_CVPR_2019"
    assert cvf.SOURCE.links(p) == Links(f"{base}/html/{DIP}.html", f"{base}/papers/{DIP}.pdf", None)
    # a project link to arXiv is the paper's arXiv id
    kirillov = files["cvpr2019"].papers["Kirillov_Panoptic_Segmentation_CVPR_2019_paper@CVF"]
    assert kirillov.extra["arxiv"] == "1801.00868"
    assert kirillov.extra["affiliations"][0] == (
        "Facebook AI Research (FAIR) + HCI/IWR, Heidelberg University, Germany"
    )


def test_a_wacv_2025_paper(files: dict[str, Read]) -> None:
    r = files["wacv2025"]
    p = r.papers[f"{PANT}@CVF"]
    assert p.title == (
        "360PanT: Training-Free Text-Driven 360-Degree Panorama-to-Panorama Translation"
    )
    assert p.authors == ["Hai Wang", "Jing-Hao Xue"]
    assert p.extra["affiliations"] == ["University College London", "University College London"]
    assert p.extra["arxiv"] == "2409.08397"
    assert p.extra["github"] == "https://github.com/littlewhitesea/360PanT"
    assert p.extra["supp"] == (
        "https://openaccess.thecvf.com/content/WACV2025/supplemental/"
        "Wang_360PanT_Training-Free_Text-Driven_WACV_2025_supplemental.pdf"
    )
    base = "https://openaccess.thecvf.com/content/WACV2025"
    assert cvf.SOURCE.links(p) == Links(
        f"{base}/html/{PANT}.html", f"{base}/papers/{PANT}.pdf", None
    )
    # built from the id: the same links, so none is stored
    assert "page" not in p.extra and "pdf" not in p.extra
    # "2412.07199v2" in the file: no version kept
    assert sum("arxiv" in q.extra for q in r.papers.values()) == 511
    pal = next(q for q in r.papers.values() if q.extra.get("arxiv") == "2412.07199")
    assert pal.id.startswith("Pal_A_Parametric_Approach_to_Adversarial_Augmentation")
    # bare "github.com/..." links get their scheme; names that are no link are dropped
    assert all(q.extra.get("project", "https://").startswith("http") for q in r.papers.values())
    assert any(
        q.extra.get("github") == "https://github.com/shakeebmurtaza/wsol_model_selection"
        for q in r.papers.values()
    )


def test_an_ijcai_paper(files: dict[str, Read]) -> None:
    p = files["ijcai2024"].papers["176@2024@IJCAI"]
    assert p.source == "ijcai"
    assert p.title == (
        "1DFormer: A Transformer Architecture Learning 1D Landmark Representations for Facial"
        " Landmark Tracking"
    )
    assert p.authors[:2] == ["Shi Yin", "Shijie Huang"] and len(p.authors) == 8
    assert p.extra["affiliations"][:2] == [
        "iFLYTEK Research + Institute of Artificial Intelligence, Hefei Comprehensive National"
        " Science Center",
        "iFLYTEK Research",
    ]
    assert p.doi == "10.24963/ijcai.2024/176"  # from its BibTeX
    assert p.extra["primary_area"] == "Computer Vision"
    assert (
        p.extra["keywords"][0]
        == "Computer Vision: CV: Biometrics, face, gesture and pose recognition"
    )
    assert "track" not in p.extra  # the main track
    assert ijcai.SOURCE.links(p) == Links(
        "https://www.ijcai.org/proceedings/2024/176",
        "https://www.ijcai.org/proceedings/2024/0176.pdf",
        None,
    )
    assert ijcai.SOURCE.bibtex(p) == p.extra["bibtex"]  # IJCAI's own entry
    assert ijcai.SOURCE.bibtex(p).startswith("@inproceedings{ijcai2024p176,\n")
    assert ijcai.SOURCE.approx_published(p) == datetime(2024, 1, 1)
    # titles written with runs of spaces come out on one line
    assert all("  " not in q.title for q in files["ijcai2024"].papers.values())


def test_an_ijcai_demo_without_its_bibtex(files: dict[str, Read]) -> None:
    p = files["ijcai2024"].papers["1019@2024@IJCAI"]
    assert p.title == "Place Anything into Any Video" and p.doi is None
    assert p.extra["track"] == "Demo Track"
    assert files["ijcai2024"].listings[p.id].group == "Demo Track"
    assert ijcai.SOURCE.links(p).pdf == "https://www.ijcai.org/proceedings/2024/1019.pdf"
    assert ijcai.SOURCE.bibtex(p) == (
        "@inproceedings{ijcai2024p1019,\n"
        "  title     = {Place Anything into Any Video},\n"
        "  author    = {Liu, Ziling and Yang, Jinyu and Gao, Mingqi and Zheng, Feng},\n"
        "  booktitle = {Proceedings of the Thirty-Third International Joint Conference on\n"
        "               Artificial Intelligence, {IJCAI-24}},\n"
        "  publisher = {International Joint Conferences on Artificial Intelligence Organization},\n"
        "  year      = {2024},\n"
        "  month     = {8},\n"
        "  note      = {Demo Track},\n"
        "  url       = {https://www.ijcai.org/proceedings/2024/1019},\n"
        "}"
    )
    assert sum("bibtex" not in q.extra for q in files["ijcai2024"].papers.values()) == 4


def test_an_aaai_paper(files: dict[str, Read]) -> None:
    p = files["aaai2022"].papers["19922@AAAI"]
    assert p.source == "aaai"
    assert p.title == "(2.5+1)D Spatio-Temporal Scene Graphs for Video Question Answering"
    assert p.authors == ["Anoop Cherian", "Chiori Hori", "Tim K. Marks", "Jonathan Le Roux"]
    assert (
        p.extra["affiliations"] == ["Mitsubishi Electric Research Labs (MERL), Cambridge, MA"] * 4
    )
    assert p.doi == "10.1609/aaai.v36i1.19922"
    assert p.extra["primary_area"] == "Computer Vision I"
    assert aaai.SOURCE.links(p) == Links(
        "https://ojs.aaai.org/index.php/AAAI/article/view/19922",
        "https://cdn.aaai.org/ojs/19922/19922-13-23935-1-2-20220628.pdf",  # as the record says
        None,
    )
    # no record of the file brings BibTeX: built in OJS's style
    assert aaai.SOURCE.bibtex(p) == (
        "@article{Cherian_Hori_Marks_Roux_2022, title={(2.5+1)D Spatio-Temporal Scene Graphs for"
        " Video Question Answering}, volume={36},"
        " url={https://ojs.aaai.org/index.php/AAAI/article/view/19922},"
        " DOI={10.1609/aaai.v36i1.19922}, number={1},"
        " journal={Proceedings of the AAAI Conference on Artificial Intelligence},"
        " author={Cherian, Anoop and Hori, Chiori and Marks, Tim K. and Roux, Jonathan Le},"
        " year={2022} }"
    )
    assert aaai.SOURCE.approx_published(p) == datetime(2022, 1, 1)  # volume 36
    papers = files["aaai2022"].papers.values()
    assert all(q.doi and q.doi.startswith("10.1609/aaai.v36i") for q in papers)
    assert sum("arxiv" in q.extra for q in papers) == 13  # project links to arXiv


def test_real_records_need_no_cleaning(files: dict[str, Read]) -> None:
    for r in files.values():
        for p in r.papers.values():
            before = (p.title, p.abstract, list(p.authors), p.journal_ref, p.doi)
            assert clean(p) == []
            assert (p.title, p.abstract, p.authors, p.journal_ref, p.doi) == before
            aff = p.extra.get("affiliations")
            assert aff is None or len(aff) == len(p.authors)
            assert all(a and a == a.strip() for a in p.authors)
            json.dumps(p.extra)  # plain JSON values only


# ---- ids --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "local"),
    [
        (DIP, DIP),
        (f"{DIP}@CVF", DIP),
        (f" {DIP}@cvf ", DIP),
        (f"{DIP}.html", DIP),
        (f"https://openaccess.thecvf.com/content_CVPR_2019/html/{DIP}.html", DIP),
        (f"http://openaccess.thecvf.com/content_CVPR_2019/papers/{DIP}.pdf", DIP),
        (f"openaccess.thecvf.com/content/WACV2025/html/{PANT}.html", PANT),
        (f"https://openaccess.thecvf.com/content/WACV2025/papers/{PANT}.pdf#page=2", PANT),
        (
            "https://openaccess.thecvf.com/content_CVPRW_2019/html/CVFAD/A_Title_CVPRW_2019_paper.html",
            "A_Title_CVPRW_2019_paper",
        ),
        (
            "https://openaccess.thecvf.com/content_cvpr_2014/papers/Girshick_Rich_Feature_Hierarchies_2014_CVPR_paper.pdf",
            "Girshick_Rich_Feature_Hierarchies_2014_CVPR_paper",
        ),
    ],
)
def test_cvf_ids(text: str, local: str) -> None:
    sid = cvf.SOURCE.parse_id(text)
    assert (sid.id, sid.version) == (local, None)
    assert str(sid) == cvf.SOURCE.format_id(local) == f"{local}@CVF"
    assert cvf.SOURCE.parse_id(str(sid)) == sid


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2309.16354",
        f"{DIP}@ACL",
        "Gandelsman_Double-DIP",
        "Gandelsman_Double-DIP_cvpr_2019_paper",  # CVF writes the conference in capitals
        "Gandelsman_CVPR_2019",
        "https://openaccess.thecvf.com/CVPR2019",
        f"https://example.org/content_CVPR_2019/html/{DIP}.html",
        "https://openaccess.thecvf.com/content/WACV2025/supplemental/"
        "Wang_360PanT_Training-Free_Text-Driven_WACV_2025_supplemental.pdf",
    ],
)
def test_bad_cvf_ids(text: str) -> None:
    with pytest.raises(BadId):
        cvf.SOURCE.parse_id(text)


@pytest.mark.parametrize(
    "text",
    [
        "176@2024@IJCAI",
        "176@2024@ijcai",
        " 176@2024 ",
        "0176@2024",
        "https://www.ijcai.org/proceedings/2024/176",
        "http://ijcai.org/proceedings/2024/176/",
        "https://www.ijcai.org/proceedings/2024/0176.pdf",
        "10.24963/ijcai.2024/176",
        "https://doi.org/10.24963/ijcai.2024/176",
        "ijcai2024p176",
    ],
)
def test_ijcai_ids(text: str) -> None:
    sid = ijcai.SOURCE.parse_id(text)
    assert (sid.id, sid.version, sid.year, sid.number) == ("176@2024", None, 2024, 176)
    assert str(sid) == ijcai.SOURCE.format_id("176@2024") == "176@2024@IJCAI"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "176",
        "176@IJCAI",
        "0@2024",
        "176@24",
        "176@2024@AAAI",
        "https://www.ijcai.org/proceedings/2024",
        "https://www.ijcai.org/proceedings/2024/176/extra",
        "10.1609/aaai.v36i1.19922",
    ],
)
def test_bad_ijcai_ids(text: str) -> None:
    with pytest.raises(BadId):
        ijcai.SOURCE.parse_id(text)


@pytest.mark.parametrize(
    ("text", "local"),
    [
        ("19922", "19922"),
        ("19922@AAAI", "19922"),
        (" 019922@aaai", "19922"),
        ("https://ojs.aaai.org/index.php/AAAI/article/view/19922", "19922"),
        ("https://ojs.aaai.org/index.php/AAAI/article/download/19922/19681", "19922"),
        ("https://cdn.aaai.org/ojs/19922/19922-13-23935-1-2-20220628.pdf", "19922"),
        ("10.1609/aaai.v36i1.19922", "19922"),
        ("https://doi.org/10.1609/aaai.v36i1.19922", "19922"),
        ("https://aaai.org/ojs/index.php/AAAI/article/view/5358", "5358"),  # the OJS's old home
    ],
)
def test_aaai_ids(text: str, local: str) -> None:
    sid = aaai.SOURCE.parse_id(text)
    assert (sid.id, sid.version) == (local, None)
    assert str(sid) == aaai.SOURCE.format_id(local) == f"{local}@AAAI"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "0",
        "abc@AAAI",
        "19922@IJCAI",
        "10.1609/aaai.v36i1",
        "https://ojs.aaai.org/index.php/AAAI/issue/view/507",
    ],
)
def test_bad_aaai_ids(text: str) -> None:
    with pytest.raises(BadId):
        aaai.SOURCE.parse_id(text)


def test_aaai_s_own_pages_say_what_to_paste_instead() -> None:
    url = "https://aaai.org/papers/00444-2-5-1-d-spatio-temporal-scene-graphs-for-video-question-answering/"
    with pytest.raises(BadId, match=r"ojs\.aaai\.org link or DOI"):
        aaai.SOURCE.parse_id(url)


def test_the_registry_takes_their_suffixes(with_sources: None) -> None:
    for module, cls in ((cvf, CvfSource), (ijcai, IjcaiSource), (aaai, AaaiSource)):
        assert isinstance(module.SOURCE, Source) and isinstance(module.SOURCE, cls)
        assert registry.get(module.SOURCE.key) is module.SOURCE
    assert registry.key(f"{DIP}@cvf") == f"{DIP}@CVF"
    assert registry.key("0176@2024@ijcai") == "176@2024@IJCAI"
    assert registry.key("019922@AAAI") == "19922@AAAI"
    assert registry.source_of("176@2024@IJCAI") is ijcai.SOURCE
    assert registry.parse(f"{PANT}@CVF")[1].id == PANT
    with pytest.raises(BadId):
        registry.key("abc@AAAI")
    assert registry.for_host("openaccess.thecvf.com") is cvf.SOURCE
    assert registry.for_host("www.ijcai.org") is ijcai.SOURCE
    assert registry.for_host("cdn.aaai.org") is aaai.SOURCE
    assert registry.parse("2309.16354")[0].key == "arxiv"
    for key in ("cvf", "ijcai", "aaai"):
        assert f"coolpapers.sources.{key}" in registry.DEFAULT_SOURCES


def test_paces_do_not_overlap(with_sources: None) -> None:
    paces = [s.pace for s in registry.all_sources()]
    assert len({p.key for p in paces}) == len(paces)
    for i, a in enumerate(paces):
        for b in paces[i + 1 :]:
            assert not a.hosts & b.hosts, (a.key, b.key)
    assert {p.key for p in paces} >= {"cvf.pace", "ijcai.pace", "aaai.pace"}


# ---- links, BibTeX and the rest of the protocol -----------------------------------------------


def test_links_from_ids_alone() -> None:
    assert cvf.SOURCE.id_links(f"{DIP}@CVF").pdf == (
        f"https://openaccess.thecvf.com/content_CVPR_2019/papers/{DIP}.pdf"
    )
    old = "He_Deep_Residual_Learning_CVPR_2016_paper"
    assert cvf.SOURCE.id_links(old).page == (
        f"https://openaccess.thecvf.com/content_cvpr_2016/html/{old}.html"
    )
    iccv = "Liu_Swin_Transformer_ICCV_2021_paper"
    assert cvf.SOURCE.id_links(iccv).page == (
        f"https://openaccess.thecvf.com/content/ICCV2021/html/{iccv}.html"
    )
    # a stored page wins (a workshop's folder is in no id)
    ws = "A_Title_CVPRW_2019_paper"
    page = f"https://openaccess.thecvf.com/content_CVPRW_2019/html/CVFAD/{ws}.html"
    p = Paper(
        id=f"{ws}@CVF", title="T", abstract="", authors=[], categories=[], extra={"page": page}
    )
    assert cvf.SOURCE.links(p).page == page
    assert ijcai.SOURCE.id_links("7@2019").pdf == "https://www.ijcai.org/proceedings/2019/0007.pdf"
    assert aaai.SOURCE.id_links("19922@AAAI") == Links(
        "https://ojs.aaai.org/index.php/AAAI/article/view/19922", None, None
    )  # OJS's download address needs a galley number no id tells
    assert cvf.SOURCE.cite(f"{DIP}@CVF") == f"CVF {DIP}"
    assert ijcai.SOURCE.cite("176@2024@IJCAI") == "IJCAI 2024 paper 176"
    assert aaai.SOURCE.cite("19922") == "AAAI article 19922"
    for s in (cvf.SOURCE, ijcai.SOURCE, aaai.SOURCE):
        assert s.author_url("Ada Lovelace") is None
        assert s.fetcher(None, None) is None  # type: ignore[arg-type]
        assert s.credit is None and s.category_scheme is None and s.pace.interval == 1.0
    assert cvf.SOURCE.approx_published(
        Paper(id=f"{PANT}@CVF", title="T", abstract="", authors=[], categories=[])
    ) == datetime(2025, 1, 1)


def test_cvf_bibtex(files: dict[str, Read]) -> None:
    dip = files["cvpr2019"].papers[f"{DIP}@CVF"]
    assert cvf.SOURCE.bibtex(dip) == (
        "@InProceedings{Gandelsman_2019_CVPR,\n"
        "    author    = {Gandelsman, Yosef and Shocher, Assaf and Irani, Michal},\n"
        '    title     = {"Double-DIP": Unsupervised Image Decomposition via Coupled'
        " Deep-Image-Priors},\n"
        "    booktitle = {Proceedings of the IEEE/CVF Conference on Computer Vision and Pattern"
        " Recognition (CVPR)},\n"
        "    month     = {June},\n"
        "    year      = {2019}\n"
        "}"
    )
    pant = cvf.SOURCE.bibtex(files["wacv2025"].papers[f"{PANT}@CVF"])
    assert pant.startswith(
        "@InProceedings{Wang_2025_WACV,\n    author    = {Wang, Hai and Xue, Jing-Hao},\n"
    )
    assert (
        "    booktitle = {Proceedings of the Winter Conference on Applications of Computer Vision"
        " (WACV)},\n" in pant
    )
    assert "    month     = {February},\n" in pant
    ws = Paper(
        id="Smith_A_Title_CVPRW_2019_paper@CVF",
        title="A",
        abstract="",
        authors=["Jo Smith"],
        categories=[],
    )
    assert cvf.SOURCE.bibtex(ws).startswith("@InProceedings{Smith_2019_CVPR_Workshops,\n")
    assert "Recognition (CVPR) Workshops},\n" in cvf.SOURCE.bibtex(ws)
    assert "month" not in cvf.SOURCE.bibtex(ws)  # no date known


def test_ijcai_booktitles_count_the_editions() -> None:
    from coolpapers.sources.ijcai.bibtex import booktitle, edition, ordinal

    assert [ordinal(n) for n in (1, 12, 20, 21, 33, 40, 99)] == [
        "First", "Twelfth", "Twentieth", "Twenty-First", "Thirty-Third", "Fortieth",
        "Ninety-Ninth",
    ]  # fmt: skip
    assert (edition(1969), edition(2015), edition(2016), edition(2024), edition(2014)) == (
        1, 24, 25, 33, None,
    )  # fmt: skip
    assert booktitle(2016).startswith("Proceedings of the Twenty-Fifth International")
    assert booktitle(2016).endswith("{IJCAI-16}")


# ---- the format: names, heads, broken input ----------------------------------------------------


def test_editions_from_file_names() -> None:
    got = [
        (e.collection, e.edition)
        for e in map(
            edition_of,
            [
                "neurips2023.json",
                "nips2017.json",
                "corl2025.json.gz",
                "www2024.json",
                "kdd2023.json",
                "3dv2024.json",
                "foo2020.json",
            ],
        )
    ]
    assert got == [
        ("NeurIPS", "2023"),
        ("NeurIPS", "2017"),
        ("CoRL", "2025"),
        ("WWW", "2024"),
        ("KDD", "2023"),
        ("3DV", "2024"),
        ("FOO", "2020"),  # unknown: in capitals
    ]
    assert edition_of("iclr2018.json").day == date(2018, 4, 30)
    assert edition_of("iclr2019.json").day is None  # not in HELD
    with pytest.raises(ValueError, match="iclr2018"):
        edition_of("papers.json")
    assert edition_of("papers.json", "ICLR", "2018").collection == "ICLR"


def test_looks_like(files: dict[str, Read], tmp_path: Path) -> None:
    for r in files.values():
        head = gzip.decompress(r.path.read_bytes())[:8192]
        assert looks_like(r.path, head)
    anon = tmp_path / "data.json"
    assert looks_like(anon, b'[\n  {"title": "T", "status": "Poster", "abstract": "A"')
    assert not looks_like(anon, b'{"id": "2309.16354", "title": "T"}\n{"id": "2309.16355"}')
    assert not looks_like(anon, b'<?xml version="1.0"?><collection id="2024.acl">')
    assert not looks_like(anon, b'[{"name": "x", "value": 1}]')
    assert not looks_like(anon, b"[1, 2, 3]")
    assert looks_like(tmp_path / "iclr2018.json", b"[]")  # empty, but named like one
    assert not looks_like(anon, b"[]")
    # a long first record whose keys the head does not reach yet, named like a list
    assert looks_like(tmp_path / "icml2024.json", b'[{"abstract": "' + b"x" * 8000)


def _colm() -> list[dict[str, Any]]:
    return load(shared(*FOLDER, "colm2025.json.gz"))


def test_bad_records_are_skipped_and_the_rest_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    records: list[Any] = _colm()
    n = len(records)
    del records[1]["title"]  # no title
    records[2] = "not an object"
    records[3]["site"] = "https://proceedings.mlr.press/v1/x.html"  # no source for the host
    records[4]["site"] = "https://proceedings.mlr.press/v1/y.html"
    records[5] = dict(records[0])  # the same paper twice
    records[6]["site"], records[6]["id"] = "https://openreview.net/forum", "?!"  # no forum
    records[7]["author"] = "Ada Lovelace;; ;Alan Turing"  # empty names dropped
    records[7]["aff"] = "Cambridge;x;y;Manchester"
    records[8]["keywords"], records[8]["tldr"] = None, 5  # no text: left out, paper kept
    path = tmp_path / "colm2025.json"  # plain JSON, not gzipped
    path.write_bytes(json.dumps(records).encode())
    with caplog.at_level(logging.WARNING, logger="coolpapers.sources"):
        batches = list(read(path, size=100))
    assert [len(b.papers) + b.skipped for b in batches] == [100, 100, 100, 100, 18]
    assert sum(b.skipped for b in batches) == 6
    papers = [p for b in batches for p in b.papers]
    assert len(papers) == n - 6 and len({p.id for p in papers}) == len(papers)
    listings = [x for b in batches for x in b.listings]
    assert [x.rank for x in listings] == list(range(1, n - 5))  # ranks close the gaps
    seventh = next(p for p in papers if p.id == f"{records[7]['id']}@OpenReview")
    assert seventh.authors == ["Ada Lovelace", "Alan Turing"]
    assert seventh.extra["affiliations"] == ["Cambridge", "Manchester"]
    eighth = next(p for p in papers if p.id == f"{records[8]['id']}@OpenReview")
    assert "keywords" not in eighth.extra and "tldr" not in eighth.extra
    assert eighth.title == records[8]["title"] and eighth.extra["bibtex"]
    messages = [r.getMessage() for r in caplog.records]
    assert all(str(path) in m for m in messages)
    assert any("record 1 " in m and "no title" in m for m in messages)
    assert any("record 2 " in m and "not an object" in m for m in messages)
    assert any(
        "2 records on proceedings.mlr.press skipped" in m and "record 3" in m for m in messages
    )
    assert any("record 5 " in m and "listed twice" in m for m in messages)
    assert any("record 6 " in m and "forum" in m for m in messages)


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b'{"title": "T"}', "not a paperlists file"),
        (b'"a string"', "not a paperlists file"),
        (b'[{"title": "T", ', "not JSON"),
        (b"", "not JSON"),
    ],
)
def test_files_that_are_no_list(tmp_path: Path, content: bytes, error: str) -> None:
    path = tmp_path / "iclr2018.json"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=error):
        list(read(path))


def test_a_truncated_gzip_is_a_clear_error(tmp_path: Path) -> None:
    whole = shared(*FOLDER, "corl2025.json.gz").read_bytes()
    path = tmp_path / "corl2025.json.gz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ValueError, match="damaged gzip"):
        list(read(path))
    # and gzip told by its bytes, not its name
    named_plain = tmp_path / "corl2025.json"
    named_plain.write_bytes(whole)
    assert sum(len(b.papers) for b in read(named_plain)) == 263


# ---- into the store ------------------------------------------------------------------------------


def test_the_store_takes_the_batches(files: dict[str, Read], tmp_path: Path) -> None:
    store = Store.open("sqlite:///" + str(tmp_path / "db.sqlite"))
    try:
        for r in files.values():
            for b in r.batches:
                store.write(b)
        keys = [
            "0JzWiigkUy@OpenReview",
            f"{DIP}@CVF",
            "176@2024@IJCAI",
            "19922@AAAI",
            "B11bwYgfM@OpenReview",
        ]
        got = store.papers(keys)
        assert set(got) == set(keys)
        for key in keys:
            mine = next(r.papers[key] for r in files.values() if key in r.papers)
            stored = got[key]
            assert (stored.title, stored.authors, stored.source) == (
                mine.title,
                mine.authors,
                mine.source,
            )
            assert (stored.doi, stored.journal_ref, stored.published) == (
                mine.doi,
                mine.journal_ref,
                mine.published,
            )
            assert stored.extra == mine.extra
        total = sum(len(r.papers) for r in files.values())
        every = [k for r in files.values() for k in r.papers]
        assert len(store.papers(every)) == total == 6266
    finally:
        store.engine.dispose()


def test_escaped_control_characters_are_removed(files: dict[str, Read], tmp_path: Path) -> None:
    # real ones: "Anna Levit;\u0006 Daniel Crawford", "Universitat Aut\bf1noma de Barcelona"
    levit = files["iclr2018"].papers["HkMhoDITb@OpenReview"]
    assert levit.authors[:2] == ["Anna Levit", "Daniel Crawford"]
    assert "\x06" not in levit.extra["bibtex"]
    affs = [a for p in files["wacv2025"].papers.values() for a in p.extra.get("affiliations", [])]
    assert "CVC, Universitat Autf1noma de Barcelona" in affs
    # lone surrogates (orjson refuses them), C1 controls; LaTeX's escaped backslashes stay
    path = tmp_path / "iclr2018.json"
    path.write_bytes(
        b'[{"id": "B12Js_yRb", "site": "https://openreview.net/forum?id=B12Js_yRb",'
        b' "status": "Poster", "title": "A \\ud800title\\u0085", "author": "Ada\\u0007 L",'
        b' "abstract": "Let $\\\\beta = \\\\frac{1}{2}$ \\ud83d\\ude00.", "aff": "\\f"}]'
    )
    (batch,) = read(path)
    (p,) = batch.papers
    assert (p.title, p.authors) == ("A title", ["Ada L"])
    assert p.abstract == "Let $\\beta = \\frac{1}{2}$ \U0001f600."
    assert "affiliations" not in p.extra and clean(p) == []
