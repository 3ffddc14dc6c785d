"""Venue listings in the store (store/venues.py), on SQLite and PostgreSQL: the ACL
Anthology's real 2024 ACL file written as an import writes it, then read back as pages read
it (editions, groups in order with their counts, entries in page order), with papers'
`extra`, their listing days, re-imports and changes."""

from __future__ import annotations

from datetime import date

import pytest

from coolpapers.records import Batch, Listing, Paper
from coolpapers.sources.acl import anthology
from coolpapers.store import Store
from coolpapers.store.venues import VenueListings, link, linked, placements, split_name
from tests.conftest import shared

ACL_2024 = ("data", "venues", "acl-anthology", "2024.acl.xml.gz")


@pytest.fixture(scope="module")
def acl_batches() -> list[anthology.AclBatch]:
    return list(anthology.read(shared(*ACL_2024)))


def _write_all(store: Store, batches: list[anthology.AclBatch]) -> None:
    for b in batches:
        store.write(b)


def test_an_edition_with_its_groups_and_counts(
    store: Store, acl_batches: list[anthology.AclBatch]
) -> None:
    _write_all(store, acl_batches)
    venues = VenueListings(store)
    assert venues.editions() == ["ACL.2024"]
    assert venues.editions(["NAACL"]) == []
    ed = venues.edition("ACL.2024")
    assert ed is not None and ed.source == "acl" and ed.day == date(2024, 8, 1)
    assert [(g.name, g.listed) for g in ed.groups] == [
        ("Long", 771),
        ("Short", 68),
        ("Demo", 38),
        ("SRW", 50),
        ("Tutorial", 6),
    ]
    assert ed.listed == ed.total == 933
    assert venues.groups("ACL.2024") == ["Long", "Short", "Demo", "SRW", "Tutorial"]
    assert venues.sizes() == {"ACL": 933}
    entries = venues.entries([], [], "ACL.2024")
    assert len(entries) == 933
    assert entries[0] == ("2024.acl-long.1@ACL", 0) and entries[1] == ("2024.acl-long.2@ACL", 0)
    assert entries[771] == ("2024.acl-short.1@ACL", 1)
    assert [g for _, g in entries] == sorted(g for _, g in entries)  # by group, in order
    short = venues.entries(["Short"], [], "ACL.2024")
    assert len(short) == 68 and {g for _, g in short} == {1}
    assert len(venues.entries([], ["Long"], "ACL.2024")) == 933 - 771
    assert venues.edition("ACL.1999") is None and venues.entries([], [], "ACL.1999") == []
    # the source's own listings are the same; another source's see none of it
    assert VenueListings(store, "acl").editions() == ["ACL.2024"]
    assert VenueListings(store, "pmlr").editions() == []


def test_papers_keep_extra_and_listing_days(
    store: Store, acl_batches: list[anthology.AclBatch]
) -> None:
    _write_all(store, acl_batches)
    p = store.papers(["2024.acl-long.1@ACL"])["2024.acl-long.1@ACL"]
    assert p.source == "acl"
    assert p.extra["pages"] == "1--17" and p.extra["bibkey"] == "zhang-etal-2024-quantized"
    assert p.extra["affiliations"][1] == "Peng Cheng Laborotary"
    assert store.first_days(["2024.acl-long.1@ACL"]) == {"2024.acl-long.1@ACL": date(2024, 8, 1)}
    assert placements(store, ["2024.acl-short.3@ACL", "2309.16354"]) == {
        "2024.acl-short.3@ACL": [("ACL", "2024", "Short")]
    }


def test_reimport_is_idempotent_and_updates(
    store: Store, acl_batches: list[anthology.AclBatch]
) -> None:
    _write_all(store, acl_batches)
    gen = store.generation()
    _write_all(store, acl_batches)
    venues = VenueListings(store)
    ed = venues.edition("ACL.2024")
    assert ed is not None and ed.total == 933 and len(venues.entries([], [], "ACL.2024")) == 933
    assert store.count_papers() == 933 and store.generation() != gen
    # a corrected title and a DOI added later update the paper; its extra stays
    first = acl_batches[0].papers[0]
    fixed = Paper(
        id=first.id,
        title="A corrected title",
        abstract=first.abstract,
        authors=first.authors,
        categories=[],
        doi="10.18653/v1/2024.acl-long.1",
        source="acl",
    )
    store.write(Batch(papers=[fixed]))
    got = store.papers([first.id])[first.id]
    assert got.title == "A corrected title" and got.doi == "10.18653/v1/2024.acl-long.1"
    assert got.extra["pages"] == "1--17"


def test_statuses_hide_papers_and_groups_keep_their_order(store: Store) -> None:
    def paper(n: int) -> Paper:
        return Paper(f"p{n}@ACL", f"Title {n}", "", ["A B"], [], source="acl")

    store.write(
        Batch(
            papers=[paper(n) for n in range(1, 6)],
            listings=[
                Listing("TEST", "2025", "Oral", "p1@ACL", 1),
                Listing("TEST", "2025", "Poster", "p2@ACL", 1),
                Listing("TEST", "2025", "Poster", "p3@ACL", 2, status="Withdraw"),
                Listing("TEST", "2025", "Reject", "p4@ACL", 1, status="Reject"),
            ],
        )
    )
    venues = VenueListings(store)
    assert venues.groups("TEST.2025") == ["Oral", "Poster"]
    assert venues.entries([], [], "TEST.2025") == [("p1@ACL", 0), ("p2@ACL", 1)]
    everything = VenueListings(store, everything=True)
    assert everything.groups("TEST.2025") == ["Oral", "Poster", "Reject"]
    assert everything.entries([], [], "TEST.2025") == [
        ("p1@ACL", 0),
        ("p2@ACL", 1),
        ("p3@ACL", 1),
        ("p4@ACL", 2),
    ]
    ed = venues.edition("TEST.2025")
    assert ed is not None and (ed.listed, ed.total) == (2, 4)
    # no day given: an edition named by its year dates its papers on its 1st of January
    assert store.first_days(["p1@ACL"]) == {"p1@ACL": date(2025, 1, 1)}
    # a later batch: a paper accepted after all moves group; a new group comes last
    store.write(
        Batch(
            listings=[
                Listing("TEST", "2025", "Oral", "p3@ACL", 2),
                Listing("TEST", "2025", "Workshop", "p5@ACL", 1),
            ]
        )
    )
    assert venues.groups("TEST.2025") == ["Oral", "Poster", "Workshop"]
    assert venues.entries([], [], "TEST.2025") == [
        ("p1@ACL", 0),
        ("p3@ACL", 0),
        ("p2@ACL", 1),
        ("p5@ACL", 2),
    ]
    assert venues.editions(["TEST"]) == ["TEST.2025"] and venues.sizes() == {"TEST": 4}
    assert venues.statuses("TEST.2025", ["p4@ACL", "p1@ACL"]) == {"p4@ACL": "Reject"}


def test_edition_names() -> None:
    assert split_name("ACL.2024") == ("ACL", "2024")
    assert split_name("ACL") == ("ACL", "")
    assert split_name("ICML.2024.W") == ("ICML.2024", "W")


def test_linked_versions_both_ways(store: Store) -> None:
    gen = store.generation()
    assert link(store, [("2024.acl-long.1@ACL", "2402.00001", "source")]) == 1
    assert store.generation() != gen  # cached cards must show it
    gen = store.generation()
    link(store, [("2024.acl-long.1@ACL", "2402.00001", "source")])
    assert store.generation() == gen  # the same link again changes nothing
    link(store, [("2024.acl-long.1@ACL", "2402.00001", "doi"), ("x@ACL", "x@ACL", "title")])
    assert linked(store, ["2402.00001", "2024.acl-long.1@ACL", "x@ACL"]) == {
        "2402.00001": ["2024.acl-long.1@ACL"],
        "2024.acl-long.1@ACL": ["2402.00001"],
    }
