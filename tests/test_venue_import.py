"""`coolpapers import` of venue files (sources/formats.py): formats told by content, resume
after an interruption, idempotent re-runs, files that break off; and the arXiv versions of
venue papers found and linked (sources/versions.py)."""

from __future__ import annotations

import contextlib
import gzip
import logging
import shutil
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from coolpapers.cli.main import app
from coolpapers.config import get_settings
from coolpapers.records import Batch, Paper
from coolpapers.sources import formats
from coolpapers.sources.acl import anthology
from coolpapers.sources.versions import _other_name, family, head, link_versions, norm_title
from coolpapers.store import Store
from coolpapers.store.store import Rows
from coolpapers.store.venues import VenueListings, linked
from tests.conftest import SAMPLE, shared

ACL = ("data", "venues", "acl-anthology")


def test_formats_are_told_by_content(tmp_path: Path) -> None:
    acl = shared(*ACL, "2024.eacl.xml.gz")
    found = formats.venue_format(acl)
    assert found is not None and found[0] == "ACL Anthology XML"
    plain = tmp_path / "renamed.data"  # the name says nothing; the content does
    plain.write_bytes(gzip.decompress(acl.read_bytes()))
    assert formats.venue_format(plain) is not None
    daily = sorted(Path(SAMPLE).glob("*.jsonl.gz"))[0]
    assert formats.venue_format(daily) is None  # arXiv's JSON lines: the arXiv importer's


def _import(*paths: Path) -> tuple[int, str]:
    r = CliRunner().invoke(app, ["import", *map(str, paths)])
    return r.exit_code, r.output


def test_import_then_rerun_writes_nothing_twice(db_url: str) -> None:
    files = [shared(*ACL, n) for n in ("2024.acl.xml.gz", "2024.eacl.xml.gz", "P17.xml.gz")]
    code, out = _import(*files)
    assert code == 0, out
    assert "imported 1566 venue papers from 3 files (0 malformed records skipped)" in out
    store = Store.open(get_settings().database_url)
    assert store.count_papers() == 1566
    venues = VenueListings(store)
    assert venues.editions() == ["ACL.2017", "EACL.2024", "ACL.2024"]
    gen = store.generation()
    code, out = _import(*files)
    assert code == 0 and "imported 0 venue papers from 3 files" in out
    assert store.generation() == gen  # nothing was written again
    assert store.count_papers() == 1566


def test_an_interrupted_import_resumes_after_its_last_batch(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = shared(*ACL, "2024.acl.xml.gz")  # five volumes: 771, 68, 24, 43 and 27 papers
    store = Store.open(db_url)
    real = Store.write_rows
    calls = {"n": 0}

    def dying(self: Store, rows: Rows, *args: Any, **kw: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # killed while writing the second transaction
        real(self, rows, *args, **kw)

    monkeypatch.setattr(Store, "write_rows", dying)
    report = formats.VenueReport()
    with pytest.raises(KeyboardInterrupt):
        # 800 papers a transaction: the first holds the first two volumes (839 papers)
        formats.import_venue(store, path, anthology, report, batch_papers=800)
    assert store.count_papers() == 771 + 68  # the first two volumes, whole
    monkeypatch.setattr(Store, "write_rows", real)
    again = formats.VenueReport()
    formats.import_venue(store, path, anthology, again)
    assert again.resumed == {"2024.acl.xml.gz": 2}
    assert again.stored == 933 - 771 - 68 and store.count_papers() == 933
    ed = VenueListings(store).edition("ACL.2024")
    assert ed is not None and [g.name for g in ed.groups][:2] == ["Long", "Short"]


def test_small_batches_of_several_files_are_written_together(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A volume is a batch, but a transaction holds ~5,000 papers of one file or several,
    with each file's checkpoint: the same papers, listings and resume points as batch by
    batch, in a few commits."""
    files = [shared(*ACL, n) for n in ("2024.eacl.xml.gz", "2024.tacl.xml.gz", "P17.xml.gz")]
    store = Store.open(db_url)
    real = Store.write_rows
    written: list[tuple[int, list[tuple[str, str]]]] = []

    def counting(self: Store, rows: Rows, *args: Any, **kw: Any) -> None:
        written.append((len(rows.papers), list(kw.get("checkpoints", ()))))
        real(self, rows, *args, **kw)

    monkeypatch.setattr(Store, "write_rows", counting)
    report = formats.VenueReport()
    found = [(f, anthology) for f in files]
    formats.import_venues(store, found, report)
    batches = sum(1 for f in files for _ in anthology.read(f))
    assert len(written) == 1 < batches  # 677 papers in several volumes: one transaction
    assert [k.rsplit("/", 1)[1].split(":")[0] for k, _ in written[0][1]] == [f.name for f in files]
    assert report.stored == written[0][0] == store.count_papers() == 281 + 44 + 352
    venues = VenueListings(store)
    assert venues.editions() == ["ACL.2017", "TACL.2024", "EACL.2024"]
    again = formats.VenueReport()
    formats.import_venues(store, found, again)
    assert again.stored == 0 and len(written) == 1  # every file checkpointed at its end


def test_big_imports_are_parsed_in_other_processes(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Past PIPELINE_BYTES, files are parsed in parser processes: the same papers, the
    readers' warnings logged by the writer, a file that breaks off reported with what it
    had, and the files' order kept."""
    monkeypatch.setattr(formats, "PIPELINE_BYTES", 1)
    whole = gzip.decompress(shared(*ACL, "2024.acl.xml.gz").read_bytes())
    cut = whole.index(b'<volume id="short"')
    broken = tmp_path / "2024.acl.xml"  # the long volume, then broken XML
    broken.write_bytes(whole[:cut] + b'<volume id="short" ingest-date="x"><meta><paper')
    bad = tmp_path / "2024.eacl.xml"  # one paper without a title: skipped and logged
    eacl = gzip.decompress(shared(*ACL, "2024.eacl.xml.gz").read_bytes())
    start = eacl.index(b"<title>", eacl.index(b'<paper id="1">'))
    end = eacl.index(b"</title>", start) + len(b"</title>")
    bad.write_bytes(eacl[:start] + eacl[end:])
    store = Store.open(db_url)
    report = formats.VenueReport()
    pools: list[object] = []
    real = formats.parser_pool

    @contextlib.contextmanager
    def spy(wanted: bool) -> Iterator[Any]:
        with real(wanted) as pool:
            pools.append(pool)
            yield pool

    monkeypatch.setattr(formats, "parser_pool", spy)
    files = [(broken, anthology), (bad, anthology), (shared(*ACL, "P17.xml.gz"), anthology)]
    with caplog.at_level(logging.WARNING, "coolpapers"):
        formats.import_venues(store, files, report)
    assert len(pools) == 1 and isinstance(pools[0], ProcessPoolExecutor)
    assert (
        report.failed.keys() == {"2024.acl.xml"}
        and "XMLSyntaxError" in report.failed["2024.acl.xml"]
    )
    assert report.skipped == 1 and "no title" in caplog.text and "2024.eacl.xml" in caplog.text
    assert store.count_papers() == report.stored == 771 + 280 + 352
    assert VenueListings(store).editions() == ["ACL.2017", "EACL.2024", "ACL.2024"]


def test_a_file_that_breaks_off_keeps_what_came_before(db_url: str, tmp_path: Path) -> None:
    whole = gzip.decompress(shared(*ACL, "2024.acl.xml.gz").read_bytes())
    cut = whole.index(b'<volume id="short"')  # the long volume, then broken XML
    broken = tmp_path / "2024.acl.xml"
    broken.write_bytes(whole[:cut] + b'<volume id="short" ingest-date="x"><meta><paper')
    good = tmp_path / "2024.eacl.xml.gz"
    shutil.copy(shared(*ACL, "2024.eacl.xml.gz"), good)
    code, out = _import(broken, good)
    assert code == 1
    assert "1 files not imported to their end" in out and "2024.acl.xml: XMLSyntaxError" in out
    store = Store.open(db_url)
    assert store.count_papers() == 771 + 281  # ACL's long volume, and all of EACL


def _paper(key: str, title: str, first: str, source: str, **kw: object) -> Paper:
    return Paper(key, title, "An abstract.", [first, "Other Person"], [], source=source, **kw)


def test_versions_are_linked_by_source_doi_and_title(store: Store) -> None:
    title = "Quantized Side Tuning: Fast and Memory-Efficient Tuning of Quantized LLMs"
    store.write(
        Batch(
            papers=[
                _paper("2401.00001", title, "Zhengxin Zhang", "arxiv"),
                _paper("2401.00002", "Some Title That Is Long", "A Person", "arxiv"),
                _paper("2401.00003", "Something else entirely here", "B C", "arxiv", doi="10.1/X"),
                _paper("2401.00004", "Same Title But Another Author", "Ann Other", "arxiv"),
                _paper("2401.00005", "Short Title", "D E", "arxiv"),
                # a sequel by the same lab: many words and people shared, another name
                _paper(
                    "2401.00007",
                    "EasyEdit2: An Easy-to-use Steering Framework for Editing Large Language "
                    "Models",
                    "Ziwen Xu",
                    "arxiv",
                ),
                _paper(
                    "2401.00006",
                    "Scaling Laws of Synthetic Data for Language Models",
                    "Zeyu Qin",
                    "arxiv",
                ),
                # the venue versions
                _paper(
                    "v1@ACL",
                    "Quantized side-tuning: fast and memory-efficient tuning of quantized LLMs",
                    "Zhengxin Zhang",
                    "acl",
                ),
                _paper("v2@ACL", "A renamed title", "X Y", "acl", extra={"arxiv": "2401.00002v3"}),
                _paper("v3@ACL", "Published version", "B C", "acl", doi="10.1/x"),
                _paper("v4@ACL", "Same Title But Another Author", "Someone Else", "acl"),
                _paper("v5@ACL", "Short Title", "D E", "acl"),
                _paper("v6@ACL", "Not on arXiv here", "F G", "acl", extra={"arxiv": "2402.9"}),
                _paper(
                    "v8@ACL",
                    "EasyEdit: An Easy-to-use Knowledge Editing Framework for Large Language "
                    "Models",
                    "Ziwen Xu",
                    "acl",
                ),
                # the title edited between versions, by the same people
                _paper(
                    "v7@ACL", "Scaling Laws of Synthetic Data for Language Model", "Zeyu Qin", "acl"
                ),
            ]
        )
    )
    report = link_versions(store)
    assert report.venue_papers == 8
    assert report.pairs == {"title": 1, "source": 1, "doi": 1, "similar": 1}
    got = linked(store, [f"v{n}@ACL" for n in range(1, 9)] + ["2401.00001"])
    assert got == {
        "v1@ACL": ["2401.00001"],
        "v2@ACL": ["2401.00002"],
        "v3@ACL": ["2401.00003"],
        "v7@ACL": ["2401.00006"],
        "2401.00001": ["v1@ACL"],
    }
    assert link_versions(store).linked == 4  # again: the same pairs, nothing doubled


def test_title_and_name_normalisation() -> None:
    assert norm_title("Attention Is All You Need!") == "attention is all you need"
    assert norm_title("Schrödinger's $\\ell_1$ Cat") == "schrodinger s cat"
    assert family("Marie-Catherine de Marneffe") == "marneffe"
    assert family("Zoë Müller") == "muller" and family("") == ""
    assert head("EasyEdit2: An Easy-to-use Steering Framework") == "easyedit2"
    assert head("A Study: Of Many Many Long Words Before") == "a study"
    assert head("No Colon Here") == "" and head("One two three four five: x") == ""
    assert _other_name("easyedit", "easyedit2")
    assert not _other_name("evalagent", "evalagents") and not _other_name("", "x")
    assert not _other_name("saes improve unlearning", "saes can improve unlearning")


def test_an_import_without_venue_files_compares_only_its_own_arxiv_papers(store: Store) -> None:
    title = "A Sufficiently Long Title About Linking Versions"
    store.write(Batch(papers=[_paper("old@ACL", title, "Ada Lovelace", "acl")]))
    store.write(Batch(papers=[_paper("2401.00010", title, "Ada Lovelace", "arxiv")]))
    later = datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=1)
    assert link_versions(store, arxiv_since=later).linked == 0  # stored before: not read
    assert link_versions(store).linked == 1  # a whole pass finds it
    since = datetime.now(UTC).replace(tzinfo=None)  # the next writes are stored after it
    store.write(Batch(papers=[_paper("new@ACL", "Another Long Title For The Test", "B C", "acl")]))
    store.write(
        Batch(papers=[_paper("2401.00011", "Another Long Title For The Test", "B C", "arxiv")])
    )
    assert link_versions(store, arxiv_since=since).pairs == {"title": 1}
    assert linked(store, ["new@ACL"]) == {"new@ACL": ["2401.00011"]}
