"""SQLite FTS5: bm25 with the title weighted highest, porter stemming, diacritics folded."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, text

from coolpapers.records import Paper
from coolpapers.search.keyword import MARK_END, MARK_START, KeywordEngine, Snippet
from coolpapers.search.query import Query, Term

# bm25 weights per FTS column: title, abstract, authors
WEIGHTS = "4.0, 1.0, 2.0"


def _term(t: Term) -> str:
    # words are letters and digits only (query.py), so quoting cannot be escaped from;
    # a multi-word term is an FTS5 phrase
    phrase = '"' + " ".join(t.words) + '"'
    return f"{t.field} : {phrase}" if t.field else phrase


class SqliteKeywordEngine(KeywordEngine):
    def _match(self, terms: Sequence[Sequence[Term]]) -> str | None:
        groups = [" OR ".join(_term(t) for t in g) for g in terms if g]
        return " AND ".join(f"({g})" for g in groups) or None

    def _from_match(self, params: dict[str, Any]) -> tuple[str, str, str]:
        return (
            "search_fts JOIN search_docs d ON d.docid = search_fts.rowid",
            "search_fts MATCH :m",
            f"-bm25(search_fts, {WEIGHTS})",
        )

    def _matches(self, param: str) -> str:
        return f"d.docid IN (SELECT rowid FROM search_fts WHERE search_fts MATCH :{param})"

    def _matches_row(self, param: str) -> str:
        return self._matches(param)

    def matching_ids(self, q: Query, ids: Sequence[str]) -> set[str]:
        """The words first, by rowid inside FTS5 (one MATCH, a seek per id; a correlated
        MATCH per row would load a common word's whole doclist each time), then the filters
        and exclusions on those few."""
        if q.is_empty or not ids:
            return set()
        if not q.has_text:
            return self.filter_ids(q, ids)
        match = self._match(q.groups)
        if not match:
            return set()
        stmt = text(
            "SELECT rowid FROM search_fts WHERE search_fts MATCH :m AND rowid IN :docids"
        ).bindparams(bindparam("docids", expanding=True))
        with self.store.connect() as conn:
            docids = self.docids(conn, ids)
            if not docids:
                return set()
            hit = set(conn.execute(stmt, {"m": match, "docids": list(docids.values())}).scalars())
        words = [p for p, d in docids.items() if d in hit]
        return self.filter_ids(q, words) if words else set()

    def _plain_page(self, sort: str) -> str | None:
        # Ranked in FTS5 alone, then joined for the page's ids: the join per match costs more
        # than the bm25 itself. Ties by docid, as the joined query orders them.
        if sort == "date":
            return None
        return (
            "SELECT d.paper_id, r.score FROM (SELECT rowid AS docid, "
            f"-bm25(search_fts, {WEIGHTS}) AS score FROM search_fts WHERE search_fts MATCH :m "
            "ORDER BY score DESC, rowid LIMIT :lim OFFSET :off) r "
            "JOIN search_docs d ON d.docid = r.docid ORDER BY r.score DESC, r.docid"
        )

    def _plain_count(self) -> str | None:
        # every FTS5 row has its search_docs row (the index follows it): no join to count
        return (
            "SELECT count(*) FROM (SELECT 1 FROM search_fts WHERE search_fts MATCH :m LIMIT :bound)"
        )

    def snippets(
        self,
        q: Query,
        ids: Sequence[str],
        papers: Mapping[str, Paper] | None = None,
        titles: bool = True,  # the SQL marks both in one statement: titles always marked
    ) -> dict[str, Snippet]:
        match = self._match(q.groups)
        if not match or not ids:
            return {}
        with self.store.connect() as conn:
            docids = self.docids(conn, ids)
            if not docids:
                return {}
            # the page's rows by rowid inside FTS5 (seeks), not every match joined to them
            stmt = text(
                f"SELECT rowid, highlight(search_fts, 0, '{MARK_START}', '{MARK_END}'), "
                f"snippet(search_fts, 1, '{MARK_START}', '{MARK_END}', '…', 40) "
                "FROM search_fts WHERE search_fts MATCH :m AND rowid IN :docids"
            ).bindparams(bindparam("docids", expanding=True))
            rows = conn.execute(stmt, {"m": match, "docids": list(docids.values())}).all()
        pid = {d: p for p, d in docids.items()}
        return {pid[r]: Snippet(t or "", a or "") for r, t, a in rows if r in pid}
