"""SQLite FTS5: bm25 with the title weighted highest, porter stemming, diacritics folded."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, text

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

    def snippets(self, q: Query, ids: Sequence[str]) -> dict[str, Snippet]:
        match = self._match(q.groups)
        if not match or not ids:
            return {}
        stmt = text(
            f"SELECT d.paper_id, highlight(search_fts, 0, '{MARK_START}', '{MARK_END}'), "
            f"snippet(search_fts, 1, '{MARK_START}', '{MARK_END}', '…', 40) "
            "FROM search_fts JOIN search_docs d ON d.docid = search_fts.rowid "
            "WHERE search_fts MATCH :m AND d.paper_id IN :ids"
        ).bindparams(bindparam("ids", expanding=True))
        with self.store.engine.connect() as conn:
            rows = conn.execute(stmt, {"m": match, "ids": list(ids)}).all()
        return {pid: Snippet(t or "", a or "") for pid, t, a in rows}
