"""Announcement feeds (RSS 2.0 and Atom) -> papers and announcements.

No real rss.arxiv.org feed was recorded. The feeds below follow the documented format: they
are built only from the examples in arXiv's own specifications
(../shared/docs/arxiv/rss_specifications.md and atom_specifications.md), each channel element
and the one example item copied verbatim (test_snippets_are_the_documented_ones checks that).
The documents do not show namespace declarations; the URIs used are arXiv's (named in the API
manual: http://arxiv.org/schemas/atom) and Dublin Core's. Variants (another announce type, a
missing title) are marked where they are made.
"""

from __future__ import annotations

import logging
import re
from datetime import date

import pytest

from coolpapers.records import Announcement, Kind
from coolpapers.sources.arxiv import rss
from tests.replay import DOCS, require_shared

ABSTRACT = (
    "We consider first order local minimization problems of the form "
    "$\\min \\int_{\\mathbb{R}^N}f(u,\\nabla u)$ under a mass constraint "
    "$\\int_{\\mathbb{R}^N}u=m$. We prove that the minimal energy function $H(m)$ is always "
    "concave, and that relevant rescalings of the energy, depending on a small parameter "
    "$\\varepsilon$, $\\Gamma$-converge towards the $H$-mass, defined for atomic measures "
    "$\\sum_i m_i\\delta_{x_i}$ as $\\sum_i H(m_i)$. We also consider Lagrangians depending on "
    "$\\varepsilon$, as well as space-inhomogeneous Lagrangians and $H$-masses. Our result holds "
    "under mild assumptions on $f$, and covers in particular $\\alpha$-masses in any dimension "
    "$N\\geq 2$ for exponents $\\alpha$ above a critical threshold, and all concave $H$-masses in "
    "dimension $N=1$. Our result yields in particular the concentration of Cahn-Hilliard fluids "
    "into droplets, and is related to the approximation of branched transport by elliptic "
    "energies."
)
JOURNAL = "Journal de l'\\'Ecole polytechnique - Math\\'ematiques, Tome 11 (2024), pp. 431-472"
TITLE = "Mass concentration in rescaled first order integral functionals"

# rss_specifications.md, "RSS Channel Elements" (in the documented order)
RSS_CHANNEL = """\
<title>math.OC updates on arXiv.org</title>
<link>http://rss.arxiv.org/rss/math.OC</link>
<description>math.OC updates on the arXiv.org e-print archive.</description>
<atom:link href="http://rss.arxiv.org/rss/math.OC" rel="self" type="application/rss+xml"/>
<docs>http://www.rssboard.org/rss-specification</docs>
<language>en-us</language>
<lastBuildDate>Fri, 23 Feb 2024 05:00:11 +0000</lastBuildDate>
<managingEditor>rss-help@arxiv.org</managingEditor>
<pubDate>Fri, 23 Feb 2024 00:00:00 -0500</pubDate>
<skipDays>
      <day>Saturday</day>
      <day>Sunday</day>
</skipDays>
"""

# rss_specifications.md, "RSS Item Elements"
RSS_ITEM = f"""\
<title>{TITLE}</title>
<link>https://arxiv.org/abs/2203.01250</link>
<description>arXiv:2203.01250v3 Announce Type: replace-cross
Abstract: {ABSTRACT}</description>
<guid isPermaLink="false">oai:arXiv.org:2203.01250v3</guid>
<category>math.AP</category>
<category>math.OC</category>
<pubDate>Fri, 23 Aug 2024 00:00:00 -0400</pubDate>
<arxiv:announce_type>replace-cross</arxiv:announce_type>
<dc:rights>http://creativecommons.org/licenses/by/4.0/</dc:rights>
<arxiv:DOI>10.5802/jep.257</arxiv:DOI>
<arxiv:journal_reference>{JOURNAL}</arxiv:journal_reference>
<dc:creator>Antonin Monteil, Paul Pegon</dc:creator>
"""

# atom_specifications.md, "ATOM Channel Elements"
ATOM_CHANNEL = """\
<id>http://rss.arxiv.org/atom/</id>
<title>math.OC updates on arXiv.org</title>
<updated>2024-02-23T16:08:30.941605+00:00</updated>
<link href="http://rss.arxiv.org/atom/math.OC" rel="self" type="application/atom+xml"/>
<subtitle>math.OC updates on the arXiv.org e-print archive.</subtitle>
"""

# atom_specifications.md, "ATOM Entry Elements"
ATOM_ENTRY = f"""\
<id>oai:arXiv.org:2203.01250v3</id>
<title>{TITLE}</title>
<updated>2024-02-23T16:08:30.942190+00:00</updated>
<link href="https://arxiv.org/abs/2203.01250" rel="alternate" type="text/html"/>
<summary>arXiv:2203.01250v3 Announce Type: replace-cross
Abstract: {ABSTRACT}</summary>
<category term="math.AP"/>
<category term="math.OC"/>
<published>2024-08-23T00:00:00-04:00</published>
<arxiv:announce_type>replace-cross</arxiv:announce_type>
<dc:rights>http://creativecommons.org/licenses/by/4.0/</dc:rights>
<arxiv:journal_reference>{JOURNAL}</arxiv:journal_reference>
<arxiv:DOI>10.5802/jep.257</arxiv:DOI>
<dc:creator>Antonin Monteil, Paul Pegon</dc:creator>
"""

DAY = date(2024, 8, 23)  # the documented item's pubDate

NS = (
    'xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:atom="http://www.w3.org/2005/Atom"'
)


def rss_feed(*items: str, channel: str = RSS_CHANNEL) -> bytes:
    body = "".join(f"<item>\n{i}</item>\n" for i in items)
    return f'<rss {NS} version="2.0">\n<channel>\n{channel}{body}</channel>\n</rss>\n'.encode()


def atom_feed(*entries: str) -> bytes:
    body = "".join(f"<entry>\n{e}</entry>\n" for e in entries)
    ns = NS.replace(
        'xmlns:atom="http://www.w3.org/2005/Atom"', 'xmlns="http://www.w3.org/2005/Atom"'
    )
    return f"<feed {ns}>\n{ATOM_CHANNEL}{body}</feed>\n".encode()


def _code_lines(doc: str) -> set[str]:
    blocks = re.findall(r"```\n(.*?)```", doc, re.S)
    return {line.strip() for b in blocks for line in b.splitlines() if line.strip()}


@pytest.mark.parametrize(
    ("doc", "parts"),
    [
        ("rss_specifications.md", [RSS_CHANNEL, RSS_ITEM]),
        ("atom_specifications.md", [ATOM_CHANNEL, ATOM_ENTRY]),
    ],
)
def test_snippets_are_the_documented_ones(doc: str, parts: list[str]) -> None:
    require_shared()
    documented = _code_lines((DOCS / doc).read_text("utf-8"))
    for part in parts:
        for line in part.splitlines():
            assert line.strip() in documented, line


def check_documented_item(feed: rss.Feed) -> None:
    assert feed.categories == ["math.OC"]  # from the feed's own link
    assert feed.day == date(2024, 8, 23)
    assert feed.batch.skipped == 0
    [paper] = feed.batch.papers
    assert (paper.id, paper.version) == ("2203.01250", 3)
    assert paper.title == TITLE
    assert paper.authors == ["Antonin Monteil", "Paul Pegon"]
    assert paper.categories == ["math.AP", "math.OC"]
    assert paper.abstract == ABSTRACT
    assert paper.doi == "10.5802/jep.257"
    assert paper.journal_ref == JOURNAL
    assert paper.license == "http://creativecommons.org/licenses/by/4.0/"
    # the announcement date, not a submission date: stays unknown here
    assert paper.published is None
    assert feed.batch.announcements == [
        Announcement(date(2024, 8, 23), "math.OC", "2203.01250", Kind.REPLACE_CROSS)
    ]
    assert feed.listed == {("math.OC", DAY): {"2203.01250": Kind.REPLACE_CROSS}}


def test_rss_item() -> None:
    feed = rss.parse_feed(rss_feed(RSS_ITEM))
    check_documented_item(feed)
    assert feed.skip_days == ["Saturday", "Sunday"]


def test_atom_entry() -> None:
    check_documented_item(rss.parse_feed(atom_feed(ATOM_ENTRY)))


def test_day_is_the_new_york_date() -> None:
    # Variant: the documented pubDate written in UTC (04:00Z is midnight in New York).
    item = RSS_ITEM.replace("Fri, 23 Aug 2024 00:00:00 -0400", "Fri, 23 Aug 2024 04:00:00 +0000")
    assert rss.parse_feed(rss_feed(item)).day == date(2024, 8, 23)
    item = RSS_ITEM.replace("Fri, 23 Aug 2024 00:00:00 -0400", "Fri, 23 Aug 2024 03:59:00 +0000")
    assert rss.parse_feed(rss_feed(item)).day == date(2024, 8, 22)


@pytest.mark.parametrize(
    ("announce", "ap", "oc"),
    [
        ("new", Kind.NEW, Kind.CROSS),
        ("replace-cross", Kind.REPLACE, Kind.REPLACE_CROSS),
    ],
)
def test_combined_feed_announces_in_each_requested_category(
    announce: str, ap: Kind, oc: Kind
) -> None:
    # Variant: the documented item with the announce type `announce`, in a math.AP+math.OC
    # feed: listed in both; cross-listed where math.AP (first, the primary) is not the category.
    item = RSS_ITEM.replace(
        "<arxiv:announce_type>replace-cross<", f"<arxiv:announce_type>{announce}<"
    )
    feed = rss.parse_feed(rss_feed(item), ["math.AP", "math.OC"])
    kinds = {(a.category, a.paper_id): a.kind for a in feed.batch.announcements}
    assert kinds == {("math.AP", "2203.01250"): ap, ("math.OC", "2203.01250"): oc}


def test_combined_feed_url() -> None:
    assert rss.feed_url("https://rss.arxiv.org/", ["cs.AI", "cs.CL"]) == (
        "https://rss.arxiv.org/rss/cs.AI+cs.CL"
    )
    assert rss.categories_of_url("https://rss.arxiv.org/rss/cs.AI+cs.NA") == ["cs.AI", "math.NA"]


def test_malformed_items_are_skipped_and_the_rest_kept(caplog: pytest.LogCaptureFixture) -> None:
    # Variants of the documented item: one without any id (no guid, link or arXiv: line),
    # one with its id but no title.
    no_id = "\n".join(
        line
        for line in RSS_ITEM.splitlines()
        if not line.startswith(("<guid", "<link", "<description", "Abstract:"))
    )
    no_id = no_id.replace(TITLE, "An item without id")
    no_title = RSS_ITEM.replace("2203.01250", "2203.01251").replace(f"<title>{TITLE}</title>", "")
    with caplog.at_level(logging.WARNING, logger="coolpapers.sources"):
        feed = rss.parse_feed(rss_feed(no_id + "\n", RSS_ITEM, no_title))
    assert feed.batch.skipped == 2
    assert [p.id for p in feed.batch.papers] == ["2203.01250"]
    assert "An item without id" in caplog.text and "2203.01251" in caplog.text
    # The untitled one was still listed by arXiv: check_complete will fetch its metadata.
    assert set(feed.listed[("math.OC", DAY)]) == {"2203.01250", "2203.01251"}
    # ... but only what is stored gets an announcement now
    assert [a.paper_id for a in feed.batch.announcements] == ["2203.01250"]


def test_empty_day() -> None:
    # The documented channel with no items (arXiv's weekend and holiday feeds: skipDays).
    feed = rss.parse_feed(rss_feed())
    assert feed.empty
    assert feed.batch.papers == [] and feed.batch.announcements == []
    assert feed.skip_days == ["Saturday", "Sunday"]
    assert feed.day == date(2024, 2, 23)  # the channel's pubDate
    assert rss.parse_feed(atom_feed()).empty


def test_not_a_feed() -> None:
    with pytest.raises(ValueError, match="not an arXiv announcement feed"):
        rss.parse_feed(b"<html><body>Service unavailable</body></html>")
