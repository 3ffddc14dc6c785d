"""The ACL Anthology source: ids, links, BibTeX, and its real data files
(../shared/data/venues/acl-anthology) parsed into papers and venue listings."""

from __future__ import annotations

import gzip
import logging
from collections.abc import Iterator
from datetime import date, datetime
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from coolpapers.records import Paper, clean
from coolpapers.sources import registry
from coolpapers.sources.acl import SOURCE, AclSource, anthology, ids
from coolpapers.sources.acl.anthology import AclBatch
from coolpapers.sources.acl.bibtex import key, split_name
from coolpapers.sources.base import BadId, Links, Source
from coolpapers.store.store import Store
from tests.conftest import shared

VENUES = ("data", "venues", "acl-anthology")


def _read(name: str) -> list[AclBatch]:
    return list(anthology.read(shared(*VENUES, name)))


def _papers(name: str) -> dict[str, Paper]:
    return {p.id: p for b in _read(name) for p in b.papers}


@pytest.fixture
def with_acl(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The ACL source registered as an outside one (it joins DEFAULT_SOURCES with the
    venue pages, which change every footer)."""
    ep = EntryPoint(name="acl", value="coolpapers.sources.acl", group=registry.GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda group: [ep])
    registry.clear()
    yield
    registry.clear()


# ---- ids ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "local", "version"),
    [
        ("2024.acl-long.1", "2024.acl-long.1", None),
        ("2024.acl-long.1@ACL", "2024.acl-long.1", None),
        ("2024.acl-long.1@acl", "2024.acl-long.1", None),
        (" 2024.ACL-Long.1@Acl ", "2024.acl-long.1", None),
        ("P17-1001", "P17-1001", None),
        ("p17-1001@ACL", "P17-1001", None),
        ("W17-1001", "W17-1001", None),
        ("https://aclanthology.org/2024.acl-long.1/", "2024.acl-long.1", None),
        ("https://aclanthology.org/2024.acl-long.1", "2024.acl-long.1", None),
        ("https://aclanthology.org/2024.acl-long.1.pdf", "2024.acl-long.1", None),
        ("http://www.aclanthology.org/2024.acl-long.1/#abstract", "2024.acl-long.1", None),
        ("aclanthology.org/P17-1001.pdf", "P17-1001", None),
        ("https://aclanthology.org/2024.eacl-long.69v2.pdf", "2024.eacl-long.69", 2),
        ("2024.eacl-long.69v2", "2024.eacl-long.69", 2),
        ("2024.eacl-long.69v2@ACL", "2024.eacl-long.69", 2),
        ("https://www.aclweb.org/anthology/P17-1001.pdf", "P17-1001", None),
        ("https://aclweb.org/anthology/P17-1001/", "P17-1001", None),
        ("2024.acl-long.01", "2024.acl-long.1", None),
    ],
)
def test_ids_in_every_form(text: str, local: str, version: int | None) -> None:
    sid = SOURCE.parse_id(text)
    assert (sid.id, sid.version) == (local, version)
    assert str(sid) == SOURCE.format_id(local, version)
    assert SOURCE.parse_id(str(sid)) == sid  # format_id is parse_id's inverse


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2309.16354",
        "2024.acl-long.1@OpenReview",
        "2024.acl-long",
        "2024.acl-long.x",
        "P17-100",
        "P17-10011",
        "17-1001",
        "2024.acl-long.1v0",
        "https://arxiv.org/abs/2024.acl-long.1",
        "https://aclanthology.org/people/some-one/",
        "2024.acl long.1",
    ],
)
def test_bad_ids(text: str) -> None:
    with pytest.raises(BadId):
        SOURCE.parse_id(text)


def test_ids_are_built_as_the_anthology_numbers_them() -> None:
    assert ids.build_id("2024.acl", "long", "1") == "2024.acl-long.1"
    assert ids.build_id("P17", "1", "1") == "P17-1001"
    assert ids.build_id("P17", "5", "12") == "P17-5012"
    assert ids.build_id("W17", "10", "1") == "W17-1001"  # workshops: two digits of volume
    assert ids.build_id("D19", "5", "3") == "D19-0503"
    assert ids.build_id("D19", "1", "3") == "D19-1003"
    with pytest.raises(ValueError):
        ids.build_id("P17", "1", "1000")
    assert (ids.year("2024.acl-long.1"), ids.year("P17-1001"), ids.year("C69-0101")) == (
        2024,
        2017,
        1969,
    )


def test_the_registry_takes_its_suffix(with_acl: None) -> None:
    assert isinstance(SOURCE, Source) and isinstance(SOURCE, AclSource)
    assert registry.get("acl") is SOURCE
    # the registry routes ids by suffix and URLs by host
    assert registry.key("https://aclanthology.org/2024.acl-long.1.pdf") == "2024.acl-long.1@ACL"
    assert registry.key("aclanthology.org/P17-1001/") == "P17-1001@ACL"
    assert registry.key("https://arxiv.org/abs/2309.16354v2") == "2309.16354"
    with pytest.raises(BadId):
        registry.key("https://aclanthology.org/events/acl-2024/")
    assert registry.key("2024.acl-long.1@acl") == "2024.acl-long.1@ACL"
    assert registry.key("P17-1001@ACL") == "P17-1001@ACL"
    assert registry.source_of("2024.acl-long.1@ACL") is SOURCE
    assert registry.for_host("aclanthology.org") is SOURCE
    assert registry.parse("2309.16354")[0].key == "arxiv"  # bare ids stay arXiv's


def test_a_default_source() -> None:
    registry.clear()
    assert "coolpapers.sources.acl" in registry.DEFAULT_SOURCES
    assert registry.get("acl") is SOURCE


# ---- links, cite, BibTeX --------------------------------------------------------------------


def test_links_from_a_paper_s_key_and_from_ids() -> None:
    p = Paper(id="2024.acl-long.1@ACL", title="T", abstract="", authors=[], categories=[])
    page, pdf = (
        "https://aclanthology.org/2024.acl-long.1/",
        "https://aclanthology.org/2024.acl-long.1.pdf",
    )
    assert SOURCE.links(p) == Links(page, pdf, None)
    p.version = 2  # revised: `<id>.pdf` is still the latest
    assert SOURCE.links(p) == Links(page, pdf, None)
    assert SOURCE.id_links("2024.acl-long.1") == Links(page, pdf, None)
    assert SOURCE.id_links("2024.acl-long.1@ACL", 1).pdf == (
        "https://aclanthology.org/2024.acl-long.1v1.pdf"
    )  # pages hand it a key (web/app.links) and an older version a reader asked for
    assert SOURCE.id_links("P17-1001").page == "https://aclanthology.org/P17-1001/"
    assert SOURCE.cite("2024.acl-long.1@ACL") == "ACL Anthology 2024.acl-long.1"
    assert SOURCE.cite("2024.eacl-long.69", 2) == "ACL Anthology 2024.eacl-long.69v2"
    assert SOURCE.author_url("Iryna Gurevych") is None
    assert SOURCE.fetcher(None, None) is None  # type: ignore[arg-type]
    assert SOURCE.listings(None).source == "acl"  # type: ignore[arg-type,union-attr]
    assert SOURCE.pace.key == "aclanthology.pace" and SOURCE.pace.interval == 1.0
    assert SOURCE.pace.covers("www.aclanthology.org") and not SOURCE.pace.covers("arxiv.org")


def test_bibtex_of_a_proceedings_paper() -> None:
    p = _papers("2024.acl.xml.gz")["2024.acl-long.1@ACL"]
    assert SOURCE.bibtex(p) == (
        "@inproceedings{zhang-etal-2024-quantized,\n"
        '    title = "Quantized Side Tuning: Fast and Memory-Efficient Tuning of Quantized Large'
        ' Language Models",\n'
        '    author = "Zhang, Zhengxin  and\n'
        "      Zhao, Dan  and\n"
        "      Miao, Xupeng  and\n"
        "      Oliaro, Gabriele  and\n"
        "      Zhang, Zhihao  and\n"
        "      Li, Qing  and\n"
        "      Jiang, Yong  and\n"
        '      Jia, Zhihao",\n'
        '    editor = "Ku, Lun-Wei  and\n'
        "      Martins, Andre  and\n"
        '      Srikumar, Vivek",\n'
        '    booktitle = "Proceedings of the 62nd Annual Meeting of the Association for'
        ' Computational Linguistics (Volume 1: Long Papers)",\n'
        "    month = aug,\n"
        '    year = "2024",\n'
        '    address = "Bangkok, Thailand",\n'
        '    publisher = "Association for Computational Linguistics",\n'
        '    url = "https://aclanthology.org/2024.acl-long.1/",\n'
        '    pages = "1--17"\n'
        "}"
    )


def test_bibtex_of_a_journal_paper_and_an_old_style_one() -> None:
    tacl = _papers("2024.tacl.xml.gz")["2024.tacl-1.1@ACL"]
    bib = SOURCE.bibtex(tacl)
    assert bib.startswith("@article{glockner-etal-2024-ambifc,\n")
    assert '    title = "{AmbiFC}: Fact-Checking Ambiguous Claims with Evidence",\n' in bib
    assert '    journal = "Transactions of the Association for Computational Linguistics",\n' in bib
    assert '    volume = "12",\n    year = "2024",\n' in bib
    assert "month" not in bib and "booktitle" not in bib  # TACL's file has no month
    assert '    doi = "10.1162/tacl_a_00629",\n    pages = "1--18"\n}' in bib
    old = SOURCE.bibtex(_papers("P17.xml.gz")["P17-1001@ACL"])
    assert old.startswith("@inproceedings{liu-etal-2017-adversarial,\n")
    assert "    month = jul,\n" in old and '    doi = "10.18653/v1/P17-1001",\n' in old
    assert '    url = "https://aclanthology.org/P17-1001/",\n' in old


def test_bibtex_escapes_and_math() -> None:
    p = Paper(
        id="2024.acl-long.9@ACL",
        title='Q&A at 100% for "M$^3$CoT" and $\\mu$PLAN',
        abstract="",
        authors=["Marie-Catherine de Marneffe", "Mausam", "Seong Kim"],
        categories=[],
        journal_ref="Proceedings of X & Y",
    )
    bib = SOURCE.bibtex(p)
    assert bib.startswith("@inproceedings{de-marneffe-etal-2024-q,\n")
    assert '    title = "{Q\\&A} at 100\\% for {"}{M$^3$CoT}{"} and {$\\mu$PLAN}",\n' in bib
    assert (
        'author = "de Marneffe, Marie-Catherine  and\n      Mausam  and\n      Kim, Seong"' in bib
    )
    assert '    booktitle = "Proceedings of X \\& Y",\n' in bib
    assert '    year = "2024",\n' in bib  # no month known: the id's year


def test_bibtex_of_a_cl_issue() -> None:
    p = Paper(
        id="2024.cl-1.3@ACL",
        title="A Survey",
        abstract="",
        authors=["Ada Lovelace"],
        categories=[],
        journal_ref="Computational Linguistics, Volume 50, Issue 1 - March 2024",
        published=datetime(2024, 3, 1),
    )
    bib = SOURCE.bibtex(p)
    assert bib.startswith("@article{lovelace-2024-survey,\n")
    assert '    journal = "Computational Linguistics",\n    volume = "50",\n' in bib
    assert '    number = "1",\n    month = mar,\n' in bib


def test_bibtex_keys_match_the_anthology_s() -> None:
    """The keys the Anthology itself gave (<bibkey>), recomputed from the stored fields: the
    same but where names lost their first/last split ("Von Däniken") or the Anthology
    lengthened a key two papers would share (it adds title words)."""
    same = longer = total = 0
    for name in ["2024.acl.xml.gz", "2024.eacl.xml.gz", "2024.tacl.xml.gz", "P17.xml.gz"]:
        for b in _read(name):
            assert b.volume is not None
            for p in b.papers:
                mine = key([split_name(a) for a in p.authors], str(b.volume.year), p.title)
                theirs = p.extra["bibkey"]
                total += 1
                same += mine == theirs
                longer += theirs.startswith(mine + "-")
    assert total == 1610
    assert same / total > 0.95 and (same + longer) / total > 0.98


# ---- the data files -------------------------------------------------------------------------


def test_2024_acl_volumes_and_listings() -> None:
    batches = _read("2024.acl.xml.gz")
    got = [(b.volume.id, b.volume.group, len(b.papers), b.skipped) for b in batches if b.volume]
    assert got == [
        ("2024.acl-long", "Long", 771, 0),
        ("2024.acl-short", "Short", 68, 0),
        ("2024.acl-demos", "Demo", 38, 0),
        ("2024.acl-srw", "SRW", 50, 0),
        ("2024.acl-tutorials", "Tutorial", 6, 0),
    ]
    long = batches[0]
    assert [(x.rank, x.paper_id) for x in long.listings[:2]] == [
        (1, "2024.acl-long.1@ACL"),
        (2, "2024.acl-long.2@ACL"),
    ]
    assert [x.rank for x in long.listings] == list(range(1, 772))
    first = long.listings[0]
    assert (first.collection, first.edition, first.group) == ("ACL", "2024", "Long")
    assert (first.day, first.status) == (date(2024, 8, 1), "")
    vol = long.volume
    assert vol is not None
    assert vol.editors == ("Lun-Wei Ku", "Andre Martins", "Vivek Srikumar")
    assert (vol.address, vol.publisher, vol.month) == (
        "Bangkok, Thailand",
        "Association for Computational Linguistics",
        8,
    )
    # no front matter (2024.acl-long.0) among the papers
    assert all(not p.id.endswith(".0@ACL") for b in batches for p in b.papers)
    assert {p.source for b in batches for p in b.papers} == {"acl"}


def test_a_known_paper() -> None:
    batch = _read("2024.acl.xml.gz")[0]
    p = batch.papers[0]
    assert p.id == "2024.acl-long.1@ACL" and p.source == "acl"
    assert p.title == (
        "Quantized Side Tuning: Fast and Memory-Efficient Tuning of Quantized Large Language Models"
    )
    assert p.authors == [
        "Zhengxin Zhang",
        "Dan Zhao",
        "Xupeng Miao",
        "Gabriele Oliaro",
        "Zhihao Zhang",
        "Qing Li",
        "Yong Jiang",
        "Zhihao Jia",
    ]
    assert p.extra["affiliations"] == [
        None,
        "Peng Cheng Laborotary",  # sic, as the file writes it
        "Purdue University",
        None,
        None,
        "Peng Cheng Laboratory",
        "Tsinghua University",
        "School of Computer Science, Carnegie Mellon University",
    ]
    assert p.abstract.startswith("Finetuning large language models (LLMs) has been empirically")
    # <tex-math> becomes $...$ for the typesetter; the file's own × stays as it is
    assert "by up to 2.3× and speed up the finetuning process by up to 3$\\times$ while" in (
        p.abstract
    )
    assert p.abstract.endswith("reduce the total memory footprint up to 7$\\times$.")
    assert p.categories == [] and p.comments is None and p.license is None and p.doi is None
    assert p.published == datetime(2024, 8, 1) and p.version is None and p.updated is None
    assert p.journal_ref == (
        "Proceedings of the 62nd Annual Meeting of the Association for Computational"
        " Linguistics (Volume 1: Long Papers)"
    )
    assert p.extra["pages"] == "1--17"
    assert p.extra["bibkey"] == "zhang-etal-2024-quantized"
    assert SOURCE.approx_published(p) == datetime(2024, 1, 1)


def test_markup_is_reduced_to_text_and_math() -> None:
    papers = _papers("2024.acl.xml.gz")
    # <fixed-case> unwrapped, text kept
    assert (
        papers["2024.acl-long.3@ACL"].title == "MAGE: Machine-generated Text Detection in the Wild"
    )
    assert papers["2024.acl-long.7@ACL"].title == (
        "BitDistiller: Unleashing the Potential of Sub-4-Bit LLMs via Self-Distillation"
    )
    # <tex-math> in a title
    assert papers["2024.acl-long.446@ACL"].title.startswith("M$^3$CoT: A Novel Benchmark")
    # <b> and <url> reduced to their text
    six = papers["2024.acl-long.6@ACL"].abstract
    assert (
        "which utilizes a Chain-of-Thought(CoT) method for Multi-modal Metaphor Detection." in six
    )
    assert six.endswith("publicly available at https://github.com/xyz189411yt/C4MMD.")
    # <i>
    assert any("This paper proposes IBE-Eval, a framework" in p.abstract for p in papers.values())
    assert all("<" not in p.title and "  " not in p.abstract for p in papers.values())
    # a literal dollar opens no math span
    eacl = _papers("2024.eacl.xml.gz")["2024.eacl-long.160@ACL"]
    assert eacl.abstract.startswith("Cyber attacks cause over \\$1 trillion loss every year.")


def test_old_style_ids_and_groups_from_booktitles() -> None:
    batches = _read("P17.xml.gz")
    got = [(b.volume.id, b.volume.collection, b.volume.group, len(b.papers)) for b in batches]  # type: ignore[union-attr]
    assert got == [
        ("P17-1", "ACL", "Long", 195),
        ("P17-2", "ACL", "Short", 107),
        ("P17-3", "ACL", "SRW", 23),  # "Proceedings of ACL 2017, Student Research Workshop"
        ("P17-4", "ACL", "Demo", 21),
        ("P17-5", "ACL", "Tutorial", 6),
    ]
    papers = {p.id: p for b in batches for p in b.papers}
    p = papers["P17-1001@ACL"]
    assert p.title == "Adversarial Multi-task Learning for Text Classification"
    assert p.authors == ["Pengfei Liu", "Xipeng Qiu", "Xuanjing Huang"]
    assert p.doi == "10.18653/v1/P17-1001" and p.published == datetime(2017, 7, 1)
    assert p.abstract.endswith("publicly available at http://nlp.fudan.edu.cn/data/.")
    assert "P17-2001@ACL" in papers and "P17-5006@ACL" in papers
    assert "Mausam" in papers["P17-2050@ACL"].authors  # <first/>: one name
    assert papers["P17-2103@ACL"].version == 2  # a revision without a date
    assert batches[0].listings[0].day == date(2017, 7, 1)


def test_2024_tacl_a_journal_with_dois() -> None:
    (batch,) = _read("2024.tacl.xml.gz")
    assert batch.volume is not None
    assert (batch.volume.collection, batch.volume.group, batch.volume.journal) == (
        "TACL",
        "",
        True,
    )
    assert len(batch.papers) == 44
    assert all(p.doi and p.doi.startswith("10.1162/tacl_a_") for p in batch.papers)
    first = batch.papers[0]
    assert (first.id, first.doi) == ("2024.tacl-1.1@ACL", "10.1162/tacl_a_00629")
    assert first.title == "AmbiFC: Fact-Checking Ambiguous Claims with Evidence"
    assert "Ieva Staliūnaitė" in first.authors
    # no month in the file: no publish time, no listing day; the id's year stands in
    assert first.published is None and batch.listings[0].day is None
    assert SOURCE.approx_published(first) == datetime(2024, 1, 1)
    assert first.extra["pages"] == "1--18"


def test_revisions_set_the_version() -> None:
    papers = _papers("2024.eacl.xml.gz")
    assert len(papers) == 281
    p = papers["2024.eacl-long.69@ACL"]
    assert (p.version, p.updated) == (2, datetime(2024, 3, 21))
    assert papers["2024.eacl-long.1@ACL"].version is None


def test_a_workshop_alone_in_its_collection_has_no_group() -> None:
    (batch,) = _read("2024.iscls.xml.gz")
    assert batch.volume is not None
    assert (batch.volume.collection, batch.volume.group, len(batch.papers)) == ("ISCLS", "", 10)
    assert {x.group for x in batch.listings} == {""}


# ---- malformed input, from a real file hand-edited ------------------------------------------


def _iscls() -> str:
    return gzip.decompress(shared(*VENUES, "2024.iscls.xml.gz").read_bytes()).decode()


def test_a_malformed_paper_is_skipped_and_the_rest_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    xml = _iscls()
    # paper 2 loses its title, paper 5 gets an id that is no number
    xml = xml.replace(
        "<title>Context and <fixed-case>WSD</fixed-case>: Analysing <fixed-case>G</fixed-case>oogle"
        " <fixed-case>T</fixed-case>ranslate’s <fixed-case>S</fixed-case>anskrit to <fixed-case>E"
        "</fixed-case>nglish Output of Bhagavadgītā Verses for Word Meaning</title>",
        "",
    )
    xml = xml.replace('<paper id="5">', '<paper id="five">')
    # a name in another script beside the Latin one, which stays the name
    xml = xml.replace(
        "<author><first>Gérard</first><last>Huet</last></author>",
        '<author><first>Gérard</first><last>Huet</last><variant script="hani"><first>G</first>'
        "<last>H</last></variant></author>",
    )
    # a paper the Anthology took down, left out without counting as malformed
    xml = xml.replace('<paper id="7">', '<paper id="7"><removed date="2024-05-01">x</removed>')
    path = tmp_path / "2024.iscls.xml"  # plain XML, not gzipped
    path.write_text(xml, encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="coolpapers.sources"):
        (batch,) = anthology.read(path)
    assert batch.skipped == 2
    kept = [p.id for p in batch.papers]
    assert kept == [f"2024.iscls-1.{n}@ACL" for n in (1, 3, 4, 6, 8, 9, 10)]
    assert [x.rank for x in batch.listings] == list(range(1, 8))
    assert batch.papers[2].authors == ["Gérard Huet"]
    messages = [r.getMessage() for r in caplog.records]
    assert any("paper '2'" in m and "no title" in m for m in messages)
    assert any("paper 'five'" in m and "bad paper id" in m for m in messages)


def test_several_workshops_in_one_old_style_collection(tmp_path: Path) -> None:
    """W17-style: two volumes naming no group each get their booktitle as group, and ids
    spend two digits on the volume."""
    xml = _iscls().replace('<collection id="2024.iscls">', '<collection id="W17">')
    start, end = xml.index("<volume"), xml.index("</volume>") + len("</volume>")
    second = xml[start:end].replace('<volume id="1"', '<volume id="12"')
    second = second.replace("7th International", "8th International")
    xml = xml[:end] + second + xml[end:]
    path = tmp_path / "W17.xml.gz"
    path.write_bytes(gzip.compress(xml.encode()))
    one, two = anthology.read(path)
    assert one.papers[0].id == "W17-0101@ACL" and two.papers[9].id == "W17-1210@ACL"
    assert (one.listings[0].collection, one.listings[0].group) == (
        "WS",
        "7th International Sanskrit Computational Linguistics Symposium",
    )
    assert two.listings[0].group == "8th International Sanskrit Computational Linguistics Symposium"


def test_not_xml_raises(tmp_path: Path) -> None:
    from lxml import etree

    path = tmp_path / "broken.xml"
    path.write_text("<collection id='2024.acl'><volume", encoding="utf-8")
    with pytest.raises(etree.XMLSyntaxError):
        list(anthology.read(path))


# ---- into the store -------------------------------------------------------------------------


def test_papers_are_stored_under_their_keys(sqlite_store: Store, with_acl: None) -> None:
    batches = _read("2024.acl.xml.gz")
    for b in batches:
        for p in b.papers:
            assert clean(p) == []  # real records need no cleaning
        sqlite_store.write(b)  # its listings wait for the venue step; the papers are kept
    got = sqlite_store.papers(["2024.acl-long.1@ACL", "2024.acl-tutorials.6@ACL"])
    assert set(got) == {"2024.acl-long.1@ACL", "2024.acl-tutorials.6@ACL"}
    p = got["2024.acl-long.1@ACL"]
    assert p.source == "acl" and p.authors[0] == "Zhengxin Zhang"
    assert "3$\\times$" in p.abstract and p.published == datetime(2024, 8, 1)
    assert p.journal_ref is not None and p.journal_ref.endswith("(Volume 1: Long Papers)")
    # written again: the same rows (upserts by key)
    sqlite_store.write(batches[0])
    assert len(sqlite_store.papers(p.id for b in batches for p in b.papers)) == 933
