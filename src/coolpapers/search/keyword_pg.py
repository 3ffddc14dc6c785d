"""PostgreSQL full text: a weighted tsvector (A title, B abstract, C authors) with a GIN index,
the `search_en` configuration (english stemming, unaccent when the extension is there).

PostgreSQL has no BM25: ts_rank with length normalisation ranks, the weights favour the title.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, text

from coolpapers.records import Paper
from coolpapers.search.keyword import MARK_END, MARK_START, KeywordEngine, Snippet
from coolpapers.search.query import Query, Term

_WEIGHT = {"title": ":A", "abstract": ":B", "authors": ":C"}
_HEADLINE = (
    f"StartSel={MARK_START}, StopSel={MARK_END}, MaxFragments=2, MaxWords=30, MinWords=12, "
    'FragmentDelimiter=" … "'
)


def _term(t: Term) -> str:
    # words are letters and digits only (query.py); quoted, they cannot be operators
    w = _WEIGHT.get(t.field or "", "")
    return "(" + " <-> ".join(f"'{x}'{w}" for x in t.words) + ")"


class PgKeywordEngine(KeywordEngine):
    def _match(self, terms: Sequence[Sequence[Term]]) -> str | None:
        groups = [" | ".join(_term(t) for t in g) for g in terms if g]
        return " & ".join(f"({g})" for g in groups) or None

    def _from_match(self, params: dict[str, Any]) -> tuple[str, str, str]:
        return (
            "search_docs d CROSS JOIN to_tsquery('search_en', :m) AS tq",
            "d.doc @@ tq",
            "ts_rank(d.doc, tq, 1)",
        )

    def _matches(self, param: str) -> str:
        return f"d.doc @@ to_tsquery('search_en', :{param})"

    def _matches_row(self, param: str) -> str:
        return self._matches(param)

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
        stmt = text(
            "SELECT p.id, ts_headline('search_en', p.title, tq, :all), "
            "ts_headline('search_en', p.abstract, tq, :opts) "
            "FROM papers p CROSS JOIN to_tsquery('search_en', :m) AS tq WHERE p.id IN :ids"
        ).bindparams(bindparam("ids", expanding=True))
        params = {
            "m": match,
            "ids": list(ids),
            "opts": _HEADLINE,
            "all": f"HighlightAll=true, StartSel={MARK_START}, StopSel={MARK_END}",
        }
        with self.store.connect() as conn:
            rows = conn.execute(stmt, params).all()
        return {pid: Snippet(t or "", a or "") for pid, t, a in rows}
