"""OAI-PMH ListRecords parsing on arXiv's real responses (../shared/fixtures/arxiv-oai)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest

from coolpapers.sources.arxiv import oai
from coolpapers.sources.arxiv._xml import split_authors
from coolpapers.store.store import Store
from tests.replay import FakeSleep, Replay, fake_client, require_shared, settings_for


@pytest.fixture
def server() -> Iterator[Replay]:
    with Replay() as r:
        yield r


def fixture(name: str) -> bytes:
    return (require_shared() / "fixtures" / "arxiv-oai" / name).read_bytes()


def new_style_token(skip: int) -> str:
    """A token as oaipmh.arxiv.org writes it (arXiv/oaipmh, processors/resume.py: the
    request's arguments plus skip=N, urlencoded and then quoted)."""
    args = {"verb": "ListRecords", "metadataPrefix": "arXivRaw", "from": "2014-10-01"}
    return quote(urlencode({**args, "skip": skip}))


def test_arxivraw_page_with_versions_and_old_token() -> None:
    page = oai.parse_list_records(fixture("ListRecordsResponse.xml"))
    assert (page.token, page.cursor, page.complete_list_size) == ("726959|1001", 0, 58011)
    assert page.response_date == "2015-01-06T20:49:59Z"
    papers = {p.id: p for p in page.batch.papers}
    assert list(papers) == [
        "0704.0471",
        "0704.0716",
        "0704.0874",
        "0704.1109",
        "0704.1114",
        "0704.1586",
    ]
    p = papers["0704.0716"]
    assert p.version == 4
    assert p.published == datetime(2007, 4, 5, 12, 45, 3, tzinfo=UTC)
    assert p.updated == datetime(2008, 11, 14, 9, 7, 25, tzinfo=UTC)
    assert p.categories == ["math-ph"]  # "math-ph math.MP": the alias merged
    assert p.comments == (
        "54 pages, 2 figures; v2 updated and slightly expanded; v3 changes in some proofs; "
        "v4 slightly expanded"
    )
    assert p.license == "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
    assert p.journal_ref and p.journal_ref.startswith("Polygons, polyominoes and polycubes")
    q = papers["0704.0471"]
    assert q.title == (
        "Density dependence of the symmetry energy and the nuclear equation of state: "
        "A Dynamical and Statistical model perspective"
    )
    assert q.authors == ["D.V. Shetty", "S.J. Yennello", "G.A. Souliotis"]
    assert q.categories == ["nucl-ex", "nucl-th"]  # primary first
    assert q.doi == "10.1103/PhysRevC.76.024606 10.1103/PhysRevC.76.039902"
    assert q.version == 1 and q.published == q.updated
    assert 'extremely " stiff " and " soft "' in q.abstract
    assert "\n" not in q.abstract and q.abstract.startswith("The density dependence")
    assert papers["0704.1109"].authors == ["Valeria M. Rosa", "Patricio S. letelier"]


def test_arxiv_format_page() -> None:
    page = oai.parse_list_records(
        fixture("listrecords_should-list-identifiers-from-arxiv_1_200.xml")
    )
    assert page.token is None  # the old service wrote no token on the last page
    a, b = page.batch.papers
    assert a.id == "1412.8544" and a.version is None  # the arXiv format has no versions
    assert a.authors == ["Sander Uijlen", "Bas Westerbaan"]
    assert a.title == "A Kochen-Specker system has at least 22 vectors (extended abstract)"
    assert a.categories == ["cs.DM"]
    assert a.published == a.updated == datetime(2014, 12, 29, tzinfo=UTC)
    assert (a.doi, a.journal_ref) == ("10.4204/EPTCS.172.11", "EPTCS 172, 2014, pp. 154-164")
    assert a.comments == "In Proceedings QPL 2014, arXiv:1412.8102"
    # two paragraphs in the abstract stay two paragraphs
    assert a.abstract.count("\n\n") == 1 and a.abstract.split("\n\n")[1].startswith("Continuing")
    assert (b.id, b.authors, b.categories) == ("hep-th/9504118", ["M. Requardt"], ["hep-th"])


def test_new_service_token_and_empty_last_token() -> None:
    raw = fixture("ListRecordsResponse.xml").decode()
    token = new_style_token(3500)
    new = raw.replace(
        '<resumptionToken cursor="0" completeListSize="58011">726959|1001</resumptionToken>',
        f"<resumptionToken expirationDate='2026-01-02T00:00:00Z'>{token}</resumptionToken>",
    )
    page = oai.parse_list_records(new.encode())
    assert page.token == token and page.cursor is None and page.complete_list_size is None
    last = raw.replace(
        '<resumptionToken cursor="0" completeListSize="58011">726959|1001</resumptionToken>',
        "<resumptionToken/>",
    )
    assert oai.parse_list_records(last.encode()).token is None


def test_no_records_match_is_an_empty_result() -> None:
    page = oai.parse_list_records(fixture("ErrorResponseNoRecordsMatch.xml"))
    assert page.batch.papers == [] and page.token is None


@pytest.mark.parametrize(
    ("name", "code", "cls"),
    [
        ("ErrorResponseBadResumptionToken.xml", "badResumptionToken", oai.BadResumptionToken),
        ("ErrorResponseBadArgument.xml", "badArgument", oai.OaiError),
        ("ErrorResponseBadVerb.xml", "badVerb", oai.OaiError),
        ("ErrorResponseIdDoesNotExist.xml", "idDoesNotExist", oai.OaiError),
    ],
)
def test_errors_raise(name: str, code: str, cls: type[oai.OaiError]) -> None:
    with pytest.raises(cls) as err:
        oai.parse_list_records(fixture(name))
    assert err.value.code == code
    assert code in str(err.value) and err.value.message  # arXiv's explanation is kept


def test_deleted_and_malformed_records_are_skipped(caplog: pytest.LogCaptureFixture) -> None:
    # Variant of the real page: the first record deleted, the second without a title.
    raw = fixture("ListRecordsResponse.xml").decode()
    raw = raw.replace("<header>", '<header status="deleted">', 1)
    raw = raw.replace("<title>Limit distributions and scaling functions</title>", "")
    with caplog.at_level(logging.WARNING, logger="coolpapers.sources"):
        page = oai.parse_list_records(raw.encode())
    assert page.deleted == 1 and page.batch.skipped == 1
    assert [p.id for p in page.batch.papers] == ["0704.0874", "0704.1109", "0704.1114", "0704.1586"]
    assert "oai:arXiv.org:0704.0716" in caplog.text


def test_list_records_through_the_recorded_503(
    server: Replay, tmp_path: Path, sqlite_store: Store
) -> None:
    server.load_oai_fixtures()
    sleep = FakeSleep()
    with fake_client(sqlite_store, settings_for(server), sleep) as client:
        pages = list(
            oai.list_records(
                client, metadata_prefix="arXiv", from_date="2015-01-01", until="2015-01-03"
            )
        )
    assert [len(p.batch.papers) for p in pages] == [2]
    hits = server.hits_for("/oai2")
    assert len(hits) == 2 and 9.5 < max(sleep.calls) <= 10  # Retry-After: 10 honoured
    assert hits[0].params == {
        "verb": "ListRecords",
        "metadataPrefix": "arXiv",
        "from": "2015-01-01",
        "until": "2015-01-03",
    }


def test_only_the_two_arxiv_formats() -> None:
    with pytest.raises(ValueError, match="oai_dc"):
        oai.list_params("oai_dc")
    assert oai.list_params("arXiv", "cs:cs:AI", "2025-01-01") == {
        "verb": "ListRecords",
        "metadataPrefix": "arXiv",
        "set": "cs:cs:AI",
        "from": "2025-01-01",
    }


def test_split_authors() -> None:
    # arXivRaw strings from the fixtures
    assert split_authors("D.V. Shetty, S.J. Yennello, and G.A. Souliotis") == [
        "D.V. Shetty",
        "S.J. Yennello",
        "G.A. Souliotis",
    ]
    assert split_authors("Joshua Berger, Maxim Perelstein, Michael Saelim and Philip Tanedo") == [
        "Joshua Berger",
        "Maxim Perelstein",
        "Michael Saelim",
        "Philip Tanedo",
    ]
    # affiliations as arXiv's metadata help writes them: their commas do not split names
    assert split_authors("Author One (1 and 2), Author Two (2) ((1) Inst One, (2) Inst Two)") == [
        "Author One",
        "Author Two",
    ]
    assert split_authors("Alexander Anderson") == ["Alexander Anderson"]
