"""The keyword engine interface, and what both engines share (filters, paging).

One interface, two engines: `keyword_sqlite` (FTS5, bm25) and `keyword_pg` (tsvector + GIN,
ts_rank), chosen by the store's dialect in `engine_for`. Both compile the same parsed
`Query`; only the text-match part differs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, text

from coolpapers.records import Paper
from coolpapers.search.query import Query, Term
from coolpapers.sources import registry
from coolpapers.store import Store, driver

if TYPE_CHECKING:
    from coolpapers.config import Settings

MARK_START, MARK_END = "\x02", "\x03"  # highlight sentinels: no paper text contains them


@dataclass(slots=True)
class Hit:
    paper_id: str
    score: float


@dataclass(slots=True)
class Snippet:
    title: str  # with MARK_START/MARK_END around matches; still untrusted text
    abstract: str


class KeywordEngine:
    """Shared SQL: date and category filters, exclusions, order, paging."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # ---- what each engine provides ----------------------------------------------------------

    def _match(self, terms: Sequence[Sequence[Term]]) -> str | None:
        """The engine's query string for AND-of-OR groups (None: nothing to match)."""
        raise NotImplementedError

    def _from_match(self, params: dict[str, Any]) -> tuple[str, str, str]:
        """(FROM clause, WHERE condition, score expression) for a positive match."""
        raise NotImplementedError

    def _matches(self, param: str) -> str:
        """A condition on `d` true for documents that match the engine query in :`param`
        (usable beside OR, unlike the join of `_from_match`)."""
        raise NotImplementedError

    def _matches_row(self, param: str) -> str:
        """A condition on one row `d` of search_docs, checked row by row (for a few rows
        found by another index: it must not scan every match of the query)."""
        raise NotImplementedError

    def _plain_page(self, sort: str) -> str | None:
        """A faster page query for a match with no filter (:m, :lim, :off), or None."""
        return None

    def _plain_count(self) -> str | None:
        """A faster bounded count (:m, :bound) for a match with no filter, or None."""
        return None

    def snippets(
        self,
        q: Query,
        ids: Sequence[str],
        papers: Mapping[str, Paper] | None = None,
        titles: bool = True,
    ) -> dict[str, Snippet]:
        """The title marked and the abstract's best part, of each of `ids` (from `papers`,
        when the caller has them, or read). `titles` False: the title may come unmarked (a
        caller that shows only the abstract's part; an engine may mark it anyway)."""
        raise NotImplementedError

    # ---- shared -----------------------------------------------------------------------------

    def _filters(self, q: Query, params: dict[str, Any]) -> tuple[list[str], bool]:
        """WHERE conditions for dates, categories and exclusions; whether `papers p` is needed."""
        where: list[str] = []
        if q.since:
            where.append("d.day >= :since")
            params["since"] = q.since
        if q.until:
            where.append("d.day <= :until")
            params["until"] = q.until
        need_papers = False
        if q.categories:
            need_papers = True
            ors = []
            for i, c in enumerate(q.categories):
                # categories are space-separated; an archive (cs) matches all of its (cs.*)
                params[f"cat{i}"] = f"% {c} %"
                ors.append(f"(' ' || p.categories || ' ') LIKE :cat{i}")
                if "." not in c:
                    params[f"arch{i}"] = f"% {c}.%"
                    ors.append(f"(' ' || p.categories || ' ') LIKE :arch{i}")
            where.append("(" + " OR ".join(ors) + ")")
        where += _sources(q, params)
        if q.venues:
            ors = []
            for i, v in enumerate(q.venues):
                collection, dot, edition = v.rpartition(".")
                if not dot:
                    collection, edition = v, ""
                params[f"vc{i}"] = collection.lower()
                cond = f"lower(v.collection) = :vc{i}"
                if edition:
                    params[f"ve{i}"] = edition
                    cond += f" AND v.edition = :ve{i}"
                ors.append(f"({cond})")
            where.append(
                "EXISTS (SELECT 1 FROM venue_listings v WHERE v.paper_id = d.paper_id "
                f"AND v.status = '' AND ({' OR '.join(ors)}))"
            )
        neg = self._any(q.exclude) if q.exclude else None
        if neg:
            params["neg"] = neg
            where.append(f"NOT ({self._matches('neg')})")
        return where, need_papers

    def _any(self, terms: Sequence[Term]) -> str:
        return self._match([list(terms)]) or ""

    def _query(self, q: Query, params: dict[str, Any]) -> tuple[str, str, str, bool] | None:
        """(FROM, WHERE, score, whether words are matched) of `q`; None: it can match nothing."""
        where, need_papers = self._filters(q, params)
        match = self._match(q.groups) if q.has_text else None
        if q.has_text and not match:
            return None
        if match:
            params["m"] = match
            frm, cond, score = self._from_match(params)
            where.insert(0, cond)
        else:
            frm, score = "search_docs d", "0.0"
        if need_papers:
            frm += " JOIN papers p ON p.id = d.paper_id"
        return frm, " AND ".join(where) or "1=1", score, bool(match)

    def search(
        self,
        q: Query,
        sort: str = "relevance",
        offset: int = 0,
        limit: int = 25,
        also: Sequence[str] = (),
    ) -> tuple[int, list[Hit]]:
        """(total matches, one page of hits). Without words: filters only, newest first.
        `also`: papers that belong to the results though they do not match the words (the
        semantic hits of a hybrid search, already held to the filters), in date order with
        the matches (`sort="date"` only; relevance order is the fusion's, service.py)."""
        total, _, hits = self.window(q, sort, offset, limit, also=also)
        return total, hits

    def window(
        self,
        q: Query,
        sort: str = "relevance",
        offset: int = 0,
        limit: int = 25,
        also: Sequence[str] = (),
        bound: int | None = None,
        count: bool = True,
    ) -> tuple[int, bool, list[Hit]]:
        """`search`, with the count stopped at `bound` matches: (count, whether it is exact,
        hits). Counting stops there because a reader never pages through 50,000 matches,
        and PostgreSQL counts them one row at a time. `count=False`: no count (0, False)."""
        if q.is_empty:
            return 0, True, []
        params: dict[str, Any] = {"lim": limit, "off": offset}
        if bound is not None:
            params["bound"] = bound + 1  # one more: "more than `bound`"
        if also and sort == "date":
            return self._newest_with(q, also, params, count)
        plain = q.has_text and self._plain(q)
        built = self._query(q, params)
        if built is None:
            return 0, True, []
        frm, cond, score, matched = built
        order = (
            "score DESC, d.docid"
            if matched and sort != "date"
            else "d.day DESC NULLS LAST, d.docid DESC"
        )
        page_sql = self._plain_page(sort) if plain else None
        if page_sql is None:
            page_sql = (
                f"SELECT d.paper_id, {score} AS score FROM {frm} WHERE {cond} "
                f"ORDER BY {order} LIMIT :lim OFFSET :off"
            )
        count_sql = (self._plain_count() if plain else None) or (
            f"SELECT count(*) FROM (SELECT 1 FROM {frm} WHERE {cond} LIMIT :bound) c"
        )
        if bound is None:
            params["bound"] = -1 if self.store.dialect == "sqlite" else None  # no limit
        with self.store.connect() as conn:
            total = int(conn.execute(text(count_sql), params).scalar() or 0) if count else 0
            rows = conn.execute(text(page_sql), params).all()
        hits = [Hit(pid, float(s)) for pid, s in rows]
        if bound is not None and total > bound:
            return bound, False, hits
        return total, count, hits

    def _plain(self, q: Query) -> bool:
        """Whether `q` is words alone: no filter, exclusion, category, branch or source."""
        where, need_papers = self._filters(q, {})
        return not where and not need_papers

    def _newest_with(
        self, q: Query, also: Sequence[str], params: dict[str, Any], count: bool = True
    ) -> tuple[int, bool, list[Hit]]:
        """The matches of `q` and the papers `also` in one list, newest first (score 0: the
        order is the date's). One count for both, so the total is the relevance order's."""
        where, need_papers = self._filters(q, params)
        match = self._match(q.groups) if q.has_text else None
        params["also"] = list(also)
        if match:
            params["m"] = match
            where.insert(0, f"({self._matches('m')} OR d.paper_id IN :also)")
        else:
            where.insert(0, "d.paper_id IN :also")
        frm = "search_docs d" + (" JOIN papers p ON p.id = d.paper_id" if need_papers else "")
        cond = " AND ".join(where)
        bound = params.get("bound")
        if bound is None:
            params["bound"] = -1 if self.store.dialect == "sqlite" else None
        counter = text(f"SELECT count(*) FROM (SELECT 1 FROM {frm} WHERE {cond} LIMIT :bound) c")
        page = text(
            f"SELECT d.paper_id FROM {frm} WHERE {cond} "
            "ORDER BY d.day DESC NULLS LAST, d.docid DESC LIMIT :lim OFFSET :off"
        )
        also_ids = bindparam("also", expanding=True)
        with self.store.connect() as conn:
            total = conn.execute(counter.bindparams(also_ids), params).scalar() if count else 0
            rows = conn.execute(page.bindparams(also_ids), params).scalars().all()
        hits = [Hit(pid, 0.0) for pid in rows]
        if bound is not None and int(total or 0) >= bound:
            return bound - 1, False, hits
        return int(total or 0), count, hits

    def newest(self, ids: Sequence[str], offset: int, limit: int) -> list[str]:
        """`ids` in the date order of a search (newest first), one page of them."""
        if not ids:
            return []
        sql = (
            "SELECT d.paper_id FROM search_docs d WHERE d.paper_id IN :ids "
            "ORDER BY d.day DESC NULLS LAST, d.docid DESC LIMIT :lim OFFSET :off"
        )
        params = {"ids": list(ids), "lim": limit, "off": offset}
        with self.store.connect() as conn:
            return driver.column(conn, sql, params)

    def matching_ids(self, q: Query, ids: Sequence[str]) -> set[str]:
        """Those of `ids` that the whole query matches (words, filters and exclusions),
        checked row by row: the query may match 50,000 papers, `ids` are a hundred."""
        if q.is_empty or not ids:
            return set()
        params: dict[str, Any] = {"ids": list(ids)}
        where, need_papers = self._filters(q, params)
        if q.has_text:
            match = self._match(q.groups)
            if not match:
                return set()
            params["m"] = match
            where.insert(0, self._matches_row("m"))
        frm = "search_docs d" + (" JOIN papers p ON p.id = d.paper_id" if need_papers else "")
        cond = " AND ".join(["d.paper_id IN :ids", *where])
        with self.store.connect() as conn:
            sql = f"SELECT d.paper_id FROM {frm} WHERE {cond}"
            return set(driver.column(conn, sql, params))

    def filter_ids(self, q: Query, ids: Sequence[str]) -> set[str]:
        """Those of `ids` that pass the query's filters and exclusions (for semantic hits)."""
        if not ids:
            return set()
        if not (q.since or q.until or q.categories or q.sources or q.venues or q.exclude):
            # no filter but the branch, which the key tells (_sources): no read (the
            # neighbours of every unfiltered search page: 3 % of its CPU)
            if q.branch is None:
                return set(ids)
            return {pid for pid in ids if ("@" in pid) == (q.branch == "venue")}
        params: dict[str, Any] = {"ids": list(ids)}
        where, need_papers = self._filters(q, params)
        frm = "search_docs d" + (" JOIN papers p ON p.id = d.paper_id" if need_papers else "")
        cond = " AND ".join(["d.paper_id IN :ids", *where])
        with self.store.connect() as conn:
            sql = f"SELECT d.paper_id FROM {frm} WHERE {cond}"
            return set(driver.column(conn, sql, params))

    def score_ids(self, terms: Sequence[Term], ids: Sequence[str]) -> dict[str, float]:
        """Relevance of each of `ids` to any of `terms` (the ❤ sort's keyword half)."""
        match = self._any(terms)
        if not ids or not match:
            return {}
        params: dict[str, Any] = {"m": match, "ids": list(ids)}
        frm, cond, score = self._from_match(params)
        stmt = text(
            f"SELECT d.paper_id, {score} FROM {frm} WHERE {cond} AND d.paper_id IN :ids"
        ).bindparams(bindparam("ids", expanding=True))
        with self.store.connect() as conn:
            return {pid: float(s) for pid, s in conn.execute(stmt, params)}

    def docids(self, conn: Connection, ids: Sequence[str]) -> dict[str, int]:
        sql = "SELECT paper_id, docid FROM search_docs WHERE paper_id IN :ids"
        return dict(driver.rows(conn, sql, {"ids": list(ids)}))


def _sources(q: Query, params: dict[str, Any]) -> list[str]:
    """Conditions for the query's sources and branch, on the key alone (no join): a key names
    its source (sources/registry.key): arXiv's are bare, every other ends in `@<Suffix>`."""
    where: list[str] = []
    if q.branch or q.sources:
        params["keyed"] = "%@%"
    if q.branch == "arxiv":
        where.append("d.paper_id NOT LIKE :keyed")
    elif q.branch == "venue":
        where.append("d.paper_id LIKE :keyed")
    if q.sources:
        ors = []
        for i, key in enumerate(q.sources):
            try:
                suffix = registry.get(key).suffix
            except KeyError:
                ors.append("1=0")  # no such source: none of its papers
                continue
            if suffix is None:
                ors.append("d.paper_id NOT LIKE :keyed")
            else:
                params[f"src{i}"] = f"%@{suffix}"
                ors.append(f"d.paper_id LIKE :src{i}")
        where.append("(" + " OR ".join(ors) + ")")
    return where


def sql_engine_for(store: Store) -> KeywordEngine:
    if store.dialect == "postgresql":
        from coolpapers.search.keyword_pg import PgKeywordEngine

        return PgKeywordEngine(store)
    from coolpapers.search.keyword_sqlite import SqliteKeywordEngine

    return SqliteKeywordEngine(store)


def engine_for(store: Store, settings: Settings | None = None) -> KeywordEngine:
    """The store's keyword engine: tantivy in front of the SQL engine (the default,
    COOLPAPERS_SEARCH_ENGINE=tantivy), or the SQL engine alone."""
    from coolpapers.config import get_settings
    from coolpapers.search import textindex

    settings = settings or get_settings()
    sql = sql_engine_for(store)
    root = textindex.directory(store, settings)
    if settings.search_engine != "tantivy" or root is None:
        return sql
    from coolpapers.search.keyword_tantivy import TantivyKeywordEngine

    return TantivyKeywordEngine(store, sql, root)
