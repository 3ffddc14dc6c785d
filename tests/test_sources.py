"""The source seam: the registry of sources, and arXiv as one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from importlib.metadata import EntryPoint

import pytest

from coolpapers.config import Settings
from coolpapers.records import Paper
from coolpapers.sources import registry
from coolpapers.sources.arxiv import PACE_KEY, SOURCE, ArxivSource
from coolpapers.sources.arxiv.ids import ArxivId
from coolpapers.sources.arxiv.ondemand import OnDemand
from coolpapers.sources.base import BadId, Links, Source
from coolpapers.store.store import Store
from tests.fake_sources import fake_conf

# ---- an outside source, as another package would install it --------------------------------


CONF = fake_conf()
# registry.DEFAULT_SOURCES, in order
BUILT_IN = ["arxiv", "acl", "pmlr", "openreview", "cvf", "ijcai", "aaai"]


@pytest.fixture
def with_conf(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    ep = EntryPoint(name="conf", value=f"{__name__}:CONF", group=registry.GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda group: [ep])
    registry.clear()
    yield
    registry.clear()


# ---- the registry ---------------------------------------------------------------------------


def test_arxiv_is_built_in_and_is_a_source() -> None:
    assert isinstance(SOURCE, Source)
    assert registry.get("arxiv") is SOURCE
    assert SOURCE in registry.all_sources()
    with pytest.raises(KeyError):
        registry.get("nope")


@pytest.mark.parametrize(
    "text", ["2309.16354v2", "arXiv:2309.16354v2", "https://arxiv.org/abs/2309.16354v2"]
)
def test_bare_ids_go_to_arxiv(text: str) -> None:
    source, sid = registry.parse(text)
    assert source is SOURCE
    assert (sid.id, sid.version, str(sid)) == ("2309.16354", 2, "2309.16354v2")


def test_unknown_ids_and_suffixes_are_bad() -> None:
    for text in ["not an id", "2024.p-1@Conf", "2309.16354@Nowhere", ""]:
        with pytest.raises(BadId):
            registry.parse(text)


def test_an_outside_source_takes_its_suffix(with_conf: None) -> None:
    assert registry.get("conf") is CONF
    assert [s.key for s in registry.all_sources()] == [*BUILT_IN, "conf"]  # built-ins first
    for text in ["2024.p-1@Conf", "2024.p-1@conf"]:
        source, sid = registry.parse(text)
        assert source is CONF and sid.id == "2024.p-1" and str(sid) == text[:-5] + "@Conf"
    assert registry.parse("2309.16354")[0] is SOURCE
    assert registry.for_host("proceedings.example.org") is CONF


def test_pages_take_every_link_from_the_paper_s_source(with_conf: None) -> None:
    from coolpapers.web.app import make_env

    env = make_env()
    p = Paper(id="2024.p-1@Conf", title="T", abstract="A", authors=["A B"], categories=["cs.CL"])
    p.source = "conf"
    # the card as rendered before it is kept (web/cards.py keeps it on a site)
    card = str(env.globals["card_body"](p, 1))
    assert 'data-page="https://proceedings.example.org/2024.p-1/"' in card
    assert (
        'class="title-pdf notranslate" href="https://proceedings.example.org/2024.p-1.pdf"' in card
    )
    assert "arxiv.org" not in card and "title-html" not in card
    assert '<a class="author notranslate">A B</a>' in card  # this source has no author pages
    footer = env.get_template("base.html").render()
    assert '<a href="https://arxiv.org/">arXiv</a> (thank you to arXiv for use of its' in footer
    assert '<a href="https://proceedings.example.org/">Example Proceedings</a> · PDFs' in footer


SECOND_ARXIV = ArxivSource()


def test_an_outside_source_never_takes_a_built_in_key(monkeypatch: pytest.MonkeyPatch) -> None:
    eps = [
        EntryPoint(name="again", value="coolpapers.sources.arxiv", group=registry.GROUP),
        EntryPoint(name="mine", value=f"{__name__}:SECOND_ARXIV", group=registry.GROUP),
        EntryPoint(name="broken", value="no_such_module_here", group=registry.GROUP),
    ]
    monkeypatch.setattr(registry, "entry_points", lambda group: eps)
    registry.clear()
    try:
        # the built-in listed again is itself; another "arxiv" and a broken one are left out
        assert [s.key for s in registry.all_sources()] == BUILT_IN
        assert registry.get("arxiv") is SOURCE
    finally:
        registry.clear()


def test_hosts_find_their_source() -> None:
    for host in ["arxiv.org", "www.arxiv.org", "export.arxiv.org", "RSS.arXiv.org"]:
        assert registry.for_host(host) is SOURCE
    assert registry.for_host("example.org") is None


# ---- arXiv as a source ----------------------------------------------------------------------


def paper(**kw: object) -> Paper:
    values: dict[str, object] = {
        "id": "2309.16354",
        "title": "Transformer-VQ: Linear-Time  Transformers via Vector Quantization",
        "abstract": "",
        "authors": ["Lucas D. Lingle", "Lucas D. Lingle"],
        "categories": ["cs.LG", "cs.CL"],
        "version": 2,
        "published": datetime(2023, 9, 28, 17, 59, 42),
    }
    values.update(kw)
    return Paper(**values)  # type: ignore[arg-type]


def test_arxiv_ids_and_pace() -> None:
    assert SOURCE.key == "arxiv" and SOURCE.suffix is None
    assert SOURCE.parse_id("math.GT/0309136v1") == ArxivId("math/0309136", 1)
    assert SOURCE.format_id("2309.16354", 2) == "2309.16354v2"
    assert SOURCE.format_id("hep-th/9901001") == "hep-th/9901001"
    with pytest.raises(BadId):
        SOURCE.parse_id("2024.p-1@Conf")
    assert SOURCE.pace.key == PACE_KEY == "arxiv.pace" and SOURCE.pace.interval == 3.0


def test_arxiv_links() -> None:
    assert SOURCE.links(paper(id="2402.01234")) == Links(
        "https://arxiv.org/abs/2402.01234v2",
        "https://arxiv.org/pdf/2402.01234v2",
        "https://arxiv.org/html/2402.01234v2",
    )
    # arXiv has HTML only for papers since December 2023
    assert SOURCE.links(paper()).html is None
    old = SOURCE.links(paper(id="hep-th/9901001", version=None))
    assert old == Links(
        "https://arxiv.org/abs/hep-th/9901001", "https://arxiv.org/pdf/hep-th/9901001", None
    )


def test_arxiv_links_of_ids_names_and_authors() -> None:
    # links of an id alone (not found; another version than the stored one)
    assert SOURCE.id_links("2402.01234", 1) == SOURCE.links(paper(id="2402.01234", version=1))
    assert SOURCE.id_links("hep-th/9901001").page == "https://arxiv.org/abs/hep-th/9901001"
    assert SOURCE.cite("2309.16354", 2) == "arXiv:2309.16354v2"
    assert SOURCE.cite("hep-th/9901001") == "arXiv:hep-th/9901001"
    assert SOURCE.author_url("Paul Erdős") == (
        "https://arxiv.org/search/?searchtype=author&query=Paul%20Erd%C5%91s"
    )
    assert SOURCE.homepage == "https://arxiv.org/"
    assert SOURCE.category_scheme == "http://arxiv.org/schemas/atom"
    assert SOURCE.credit and "open access interoperability" in SOURCE.credit


def test_arxiv_stand_in_time_sorts_undated_papers_by_id() -> None:
    # what reader.js computed from the id before: Date.UTC(2000 + yy, mm - 1) + number
    got = SOURCE.approx_published(paper(id="2606.05168", published=None))
    assert got == datetime(2026, 6, 1, 0, 0, 5, 168000)
    assert SOURCE.approx_published(paper(id="hep-th/9901001", published=None)) is None
    assert SOURCE.approx_published(paper(id="0713.0001", published=None)) is None  # no month 13


def test_arxiv_bibtex_is_the_reader_s() -> None:
    # the entry reader.js's [Copy] made of the same card (now fetched from the source)
    assert SOURCE.bibtex(paper()) == "\n".join(
        [
            "@misc{lingle2023transformer,",
            "      title={Transformer-VQ: Linear-Time Transformers via Vector Quantization},",
            "      author={Lucas D. Lingle},",
            "      year={2023},",
            "      eprint={2309.16354},",
            "      archivePrefix={arXiv},",
            "      primaryClass={cs.LG},",
            "      url={https://arxiv.org/abs/2309.16354},",
            "}",
        ]
    )
    # no publish time: the id's year; no authors: "anon"; no category: no primaryClass
    bare = SOURCE.bibtex(paper(authors=[], categories=[], published=None, title="On it"))
    assert bare.startswith("@misc{anon2023,\n") and "primaryClass" not in bare
    accented = SOURCE.bibtex(paper(authors=["Paul Erdős"], id="math/0309136", published=None))
    assert accented.startswith("@misc{erdos")


def test_arxiv_fetches_on_demand(sqlite_store: Store) -> None:
    fetcher = ArxivSource().fetcher(sqlite_store, Settings(_env_file=None))  # type: ignore[call-arg]
    assert isinstance(fetcher, OnDemand)
    fetcher.close()
