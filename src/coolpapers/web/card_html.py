"""A paper's card as HTML: the markup of every card on every page (listings, search,
related papers, venues, a paper's own page).

The card was a Jinja macro (_card.html's `card_body`) until issue 15: a search page under
load is bound by one worker's GIL, and a new card cost 0.23 ms in the macro, a fifth of a new
search page's Python (py-spy --gil, SQLite 70k, 32 clients on new URLs), spread over the
macro's own machinery (a Markup per output expression, an attribute lookup through the
environment per `p.id`, a context per call) rather than one hot spot. Written here it is the
same bytes (checked on every one of the 69,708 real papers of ../shared/data/arxiv-daily and
the demo's venue papers, at every day/kind/version/status a page passes) at a fraction of the
cost; `web/cards.py` keeps it per paper and data generation as before.

Every piece of paper text goes through `esc` (render.esc: markupsafe's escape as a str, a
fifth of its cost) or render.tex/paragraphs/linked, which escape, as the template's
autoescape did; what is not escaped is markup of our own; a feature's part and the card's
number (a slot while the card is kept) go through markupsafe.escape, which leaves Markup as
it is and escapes anything else. Clients parse this markup (papers.cool's Zotero translator
and RSSHub route, reader.js, faq.js), so it is kept to the byte; tests/test_card_html.py
holds its shape.

What a card shows, in order: div.paper (its links and times in data- attributes, the
features' attributes), h2.title (number, title, status, [PDF], [HTML], the features'
buttons), a note when an older version was asked for, authors (the first views.MAX_AUTHORS,
the rest folded) and their affiliations, the abstract, subjects and venue placements, other
versions, comments, the journal, the date in papers.cool's form, updates and the announce
type, the features' panels.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from markupsafe import Markup, escape

from coolpapers.records import Kind, Paper
from coolpapers.web import views
from coolpapers.web.render import esc, linked, paragraphs, tex

if TYPE_CHECKING:
    from coolpapers.web.venue import Author

_SEP = " · "


class CardBody:
    """`card_body(p, n, day, kind, want, status)`: one card, uncached (web/cards.Cards keeps
    it). Reads the environment's globals at each call: `card_links` (the site's, which knows
    venues) and the parts the features add (`card_attrs`, `card_buttons`, `card_panels`,
    filled by feature.install after the environment is made)."""

    def __init__(self, globals_: Mapping[str, Any]) -> None:
        self.g = globals_

    def __call__(
        self,
        p: Paper,
        n: int | str,
        day: date | None = None,
        kind: Kind | None = None,
        want: int | str | None = None,
        status: str = "",
    ) -> Markup:
        """want: the version the reader asked for (2309.16354v1); the source's links then go
        to it. Every link to the source comes from the source (sources/), and the card
        carries them in data-page and data-pdf for reader.js; data-time: when the paper has
        no publish time, the source's stand-in, for the sort by publish time. An author
        links to the source's list of their papers, where it has one. `card_links` finds all
        of these in one call, with what the card shows of venues (web/venue.py): its
        placements, in papers.cool's form "ACL.2024 - Long", its other versions (a venue
        paper's arXiv one and back), its authors' affiliations. status: a venue paper's
        ("Reject"), on a page that shows those too."""
        g = self.g
        at = g["card_links"](p, want)
        pid = esc(p.id)
        page = esc(at.page)
        pdf = esc(at.pdf) if at.pdf else ""
        out = [f'<div id="{pid}" class="panel paper" data-page="{page}"']
        if pdf:
            out.append(f' data-pdf="{pdf}"')
        if at.time is not None:
            out.append(f' data-time="{at.time}"')
        out += [escape(attr(p)) for attr in g["card_attrs"]]
        if kind is not None:
            out.append(f' data-kind="{esc(kind.label)}"')
        status_ = esc(status) if status else ""
        if status_:
            out.append(f' data-status="{status_}"')
        out.append(
            f'>\n<h2 class="title">\n<a class="index notranslate" href="{page}" title="'
            f'{esc(at.cite)} on {esc(at.host)}">#{escape(n)}</a>\n<a id="title-{pid}" '
            f'class="title-link" href="{esc(at.path)}">{tex(p.title)}</a>\n'
        )
        if status_:
            out.append(f'<span class="venue-status">{status_}</span>\n')
        if pdf:
            # papers.cool's clients read the PDF's URL from [PDF]'s `data` (Zotero translator)
            # and from its onclick call (RSSHub); reader.js opens it inline by its own
            # listener, the global is a no-op
            out.append(
                f'<a id="pdf-{pid}" class="title-pdf notranslate" href="{pdf}" data="{pdf}" '
                f"onclick=\"togglePdf('{pid}', '{pdf}', this)\" rel=\"noopener\" "
                f'target="_blank">[PDF]</a>\n'
            )
        if at.html:
            out.append(
                f'<a id="html-{pid}" class="title-html notranslate" href="{esc(at.html)}" '
                f'rel="noopener" target="_blank">[HTML]</a>\n'
            )
        out += [escape(button(p)) for button in g["card_buttons"]]
        out.append("</h2>")
        if want and p.version and want != p.version:
            out.append(
                f'<p class="notice version-note">v{esc(want)} requested; this is '
                f'v{esc(p.version)}. <a href="{page}" rel="noopener">{esc(at.cite)}</a> '
                f"on {esc(at.host)}</p>"
            )
        if p.authors:
            _authors(out, p, at)
        out.append(f'<p id="summary-{pid}" class="summary">{paragraphs(p.abstract)}</p>')
        _subjects(out, p, at)
        if at.venue.also:
            also = "; ".join(
                f'<a class="also-version" href="{esc(href)}">{esc(label)}</a>'
                for label, href in at.venue.also
            )
            out.append(f'<p class="metainfo also"><strong>Also</strong>: {also}</p>')
        if p.comments:
            out.append(
                f'<p class="metainfo comments"><strong>Comments</strong>: {linked(p.comments)}</p>'
            )
        if p.journal_ref:
            head = "Published in" if at.venue.placements else "Journal"
            doi: str = esc(p.doi) if p.doi else ""
            if doi:
                doi = f' · <a href="https://doi.org/{doi}" rel="noopener">doi:{doi}</a>'
            out.append(
                f'<p class="metainfo journal"><strong>{head}</strong>: '
                f"{esc(p.journal_ref)}{doi}</p>"
            )
        _dates(out, p, day, kind)
        out += [escape(panel(p)) for panel in g["card_panels"]]
        out.append("</div>")
        return Markup("".join(out))


def _author(a: Author) -> str:
    url = f' href="{esc(a.url)}" rel="noopener"' if a.url else ""
    aff = f' title="{esc(a.affiliation)}"' if a.affiliation else ""
    mark = f'<sup class="aff">{esc(a.mark)}</sup>' if a.mark else ""
    return f'<a class="author notranslate"{url}{aff}>{esc(a.name)}</a>{mark}'


def _authors(out: list[str], p: Paper, at: Any) -> None:
    """The authors' line (the rest folded behind "Show all") and their affiliations: numbered
    only where numbers tell authors apart, a long list folded as authors are."""
    shown = ", ".join(map(_author, at.shown))
    more = f' <span class="et-al">et al. ({len(at.hidden)} more)</span>' if at.hidden else ""
    out.append(
        f'<p id="authors-{esc(p.id)}" class="metainfo authors notranslate"><strong>Authors'
        f"</strong>:\n{shown}{more}</p>"
    )
    if at.hidden:
        out.append(
            f'<details class="more-authors"><summary>Show all {len(p.authors)} authors</summary>'
            f'\n<p class="metainfo authors notranslate">{", ".join(map(_author, at.hidden))}</p>'
            "\n</details>"
        )
    affs = at.venue.affiliations
    if not affs:
        return
    numbered = at.venue.numbered
    line = "; ".join(
        (f'<sup class="aff">{i}</sup>' if numbered else "")
        + f'<span class="affiliation">{esc(a)}</span>'
        for i, a in enumerate(affs, 1)
    )
    if len(affs) > 8:
        out.append(
            f'<details class="metainfo affiliations"><summary>{len(affs)} affiliations'
            f"</summary>{line}</details>"
        )
    else:
        s = "s" if len(affs) > 1 else ""
        out.append(f'<p class="metainfo affiliations"><strong>Affiliation{s}</strong>: {line}</p>')


def _subjects(out: list[str], p: Paper, at: Any) -> None:
    """arXiv's categories, then a venue paper's placements ("ACL.2024 - Long"), which the
    Zotero translator reads on venue pages (the text of the first "p.subjects a")."""
    cats = views.subjects(p)
    links = [
        f'<a class="subject-{i}{" primary" if i == 1 else ""}" href="/arxiv/{esc(code)}" '
        f'data-cat="{esc(code)}">{esc(name)} ({esc(code)})</a>'
        for i, (code, name) in enumerate(cats, 1)
    ]
    places = "".join(
        ("; " if cats or i else "")
        + f'<a class="venue{" primary" if i == 0 and not cats else ""}" href="{esc(href)}">'
        f"{esc(label)}</a>"
        for i, (label, href) in enumerate(at.venue.placements)
    )
    out.append(
        f'<p id="subjects-{esc(p.id)}" class="metainfo subjects"><strong>Subjects</strong>:'
        f"\n{'; '.join(links)}{places}</p>"
    )


def _dates(out: list[str], p: Paper, day: date | None, kind: Kind | None) -> None:
    """papers.cool's form, which its clients parse: span.date-data (Zotero) as the last node
    of p.date (RSSHub), "YYYY-MM-DD HH:MM:SS UTC". Daily files carry no submission time: then
    the announcement day, which is all a reader sees; the time of day clients need is arXiv's
    announcement hour (views.announced_at), hidden, not a midnight shown as if known. Only a
    publish time is a <time> here: reader.js sorts by the first p.date time. Then the
    versions line: updated, announced, vN, the announce type of a replacement."""
    if p.published:
        when = (
            f'<strong>Publish</strong>: <span class="date-data"><time datetime="'
            f'{p.published.isoformat()}Z">{views.fmt_stamp(p.published)}</time></span>'
        )
    elif day:
        clock = views.fmt_clock(views.announced_at(day, p.source))
        when = (
            f'<strong>Announced</strong>: <span class="date-data">{views.fmt_date(day)}'
            f'<span class="date-clock" hidden>{clock}</span></span>'
        )
    else:
        when = '<span class="date-data"></span>'
    out.append(f'<p class="metainfo date">{when}</p>')
    parts: list[str] = []
    if p.updated and p.updated != p.published:
        parts.append(
            f'<strong>Updated</strong>: <time datetime="{p.updated.isoformat()}Z">'
            f"{views.fmt_time(p.updated)}</time>"
        )
    if day and p.published:
        parts.append(f"<strong>Announced</strong>: {views.fmt_date(day)}")
    if p.version:
        parts.append(f'<span class="version">v{esc(p.version)}</span>')
    if kind is not None and kind.value >= 2:
        parts.append(f'<span class="kind">{esc(views.kind_label(kind, p))}</span>')
    if parts:
        out.append(f'<p class="metainfo versions">{_SEP.join(parts)}</p>')
