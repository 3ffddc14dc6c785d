"""Tables. The Alembic migrations in `migrations/` create exactly these; keep them in step."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    Table,
    Text,
)

metadata = MetaData()

# One row per paper, at its latest known version. `id` is the paper's key: its public id
# without version, which names its source (bare for arXiv, `2024.acl-long.1@ACL`; see
# sources/registry.key); every feature's table names papers by this key.
papers = Table(
    "papers",
    metadata,
    Column("id", Text, primary_key=True),
    Column("version", Integer),
    Column("title", Text, nullable=False),
    Column("authors", Text, nullable=False),  # JSON array of names
    Column("abstract", Text, nullable=False),
    Column("categories", Text, nullable=False),  # space-separated, canonical, primary first
    Column("comments", Text),
    Column("journal_ref", Text),
    Column("doi", Text),
    Column("license", Text),
    Column("published", DateTime),  # v1, UTC
    Column("updated", DateTime),  # latest version, UTC
    Column("ingested", DateTime, nullable=False),
    Column("source", Text, nullable=False, server_default="arxiv"),  # its key in sources/
    # The first and latest day its source listed it (arXiv: announcement days), kept by the
    # listings' writer: the search index's dates and the FAQ's priority read these (0002).
    Column("first_listed", Date),
    Column("last_listed", Date),
    # What the source knows that no column holds (records.Paper.extra), as a JSON object:
    # affiliations, pages, its own BibTeX, PDF and page URLs its id does not tell, the arXiv
    # id of the same paper (0003). NULL: nothing.
    Column("extra", Text),
)

# A paper listed on an announcement day (New York date) in one category, with its announce type.
announcements = Table(
    "announcements",
    metadata,
    Column("category", Text, primary_key=True),
    Column("day", Date, primary_key=True),
    Column("paper_id", Text, primary_key=True),
    Column("kind", SmallInteger, nullable=False),  # records.Kind
)
Index("ix_announcements_paper", announcements.c.paper_id)

# Counts per (category, day), kept in step with announcements: they drive the home page,
# the calendar and previous/next links without scanning announcements.
day_counts = Table(
    "day_counts",
    metadata,
    Column("category", Text, primary_key=True),
    Column("day", Date, primary_key=True),
    Column("total", Integer, nullable=False),
    Column("listed", Integer, nullable=False),  # new + cross: papers first shown that day
)
Index("ix_day_counts_day", day_counts.c.day)

# Small key/value state: harvest checkpoints, import progress, the shared arXiv pace, the
# data generation that invalidates page caches.
state = Table(
    "state",
    metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
)

# A venue paper in one edition of a collection, in one of its groups (records.Listing): ACL
# 2024 lists 2024.acl-long.1@ACL under "Long", first. The venue counterpart of announcements
# (0003). `status` is "" for an accepted paper; "Reject", "Withdraw"... where a source's
# list keeps those too (pages hide them unless asked).
venue_listings = Table(
    "venue_listings",
    metadata,
    Column("collection", Text, primary_key=True),  # "ACL", as papers.cool names venues
    Column("edition", Text, primary_key=True),  # "2024"
    Column("paper_id", Text, primary_key=True),
    Column("grp", Text, nullable=False),  # the group ("group" is an SQL keyword); "" for none
    Column("rank", Integer, nullable=False),  # its place in the group, from 1
    Column("status", Text, nullable=False, server_default=""),
)
Index("ix_venue_listings_paper", venue_listings.c.paper_id)

# One row per edition, kept in step with venue_listings by the writer (store/venues.py):
# the home page's Venue column, an edition page's groups and counts, and /venue/latest/feed
# read it without scanning the listings.
venue_editions = Table(
    "venue_editions",
    metadata,
    Column("collection", Text, primary_key=True),
    Column("edition", Text, primary_key=True),
    Column("source", Text, nullable=False),  # the source key of its papers
    Column("day", Date),  # when it was held or published, if its source says
    Column("added", DateTime, nullable=False),  # when it was first stored here, UTC
    Column("listed", Integer, nullable=False),  # accepted papers
    Column("total", Integer, nullable=False),  # all papers, rejected and withdrawn too
    # JSON [[group, accepted, all], ...] in page order: groups keep the order in which the
    # source first listed them (ACL's volumes: Long, Short, ...; Oral, Spotlight, Poster)
    Column("groups", Text, nullable=False),
)

# The same work under two keys: a venue paper and its arXiv version (2024.acl-long.1@ACL and
# 2402.12345), found from the source's own arXiv link, a shared DOI, or the same normalised
# title and first author (store/venues.py link()). Both directions are stored, so a card
# finds its other versions with one indexed read whichever key it has (0003).
paper_links = Table(
    "paper_links",
    metadata,
    Column("paper_id", Text, primary_key=True),
    Column("other_id", Text, primary_key=True),
    Column("how", Text, nullable=False),  # "source", "doi", "title"
)
