"""The keyword engine on tantivy (search/textindex.py), with the SQL engine behind it.

Rankings and word matches come from tantivy whenever its index holds every change the
database does (checked per ranking, in one small query); otherwise, and for what it does
not index (venue: filters, queries with no words), the SQL engine of the store answers, as
it does for the few-row work it is fast at (filters of a hundred ids, scores). Snippets are
made in Python from the page's own text (search/snippets.py).

The reader's query is compiled from the parsed `Query` (search/query.py, where words are
letters and digits only): each word or phrase is quoted for tantivy's parser, which runs the
field's analyzer on it, so query and index are stemmed alike; the filters are built as
queries over the index's own fields.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

import tantivy
from sqlalchemy import bindparam, text

from coolpapers.records import Paper
from coolpapers.search import snippets, textindex
from coolpapers.search.keyword import Hit, KeywordEngine, Snippet
from coolpapers.search.query import Query, Term
from coolpapers.sources import registry
from coolpapers.store import Store

log = logging.getLogger("coolpapers.search")
_MUST, _NOT, _SHOULD = tantivy.Occur.Must, tantivy.Occur.MustNot, tantivy.Occur.Should


class Unsupported(Exception):
    """A query the index cannot answer as the SQL engine would (the SQL engine does)."""


class TantivyKeywordEngine(KeywordEngine):
    def __init__(self, store: Store, sql: KeywordEngine, root: Path) -> None:
        super().__init__(store)
        self.sql = sql
        self.root = root
        self._lock = threading.Lock()
        self._index: tantivy.Index | None = None
        self._name: str | None = None  # the build open in _index
        self._stamp: float = -1.0  # current.json's mtime when last read
        # (the connection, the index, its searcher) of the last check: see _searcher
        self._last: tuple[object, tantivy.Index, tantivy.Searcher] | None = None
        self._stem = textindex.analyzer().analyze  # the index's words, for the snippets

    # ---- the index, when it holds everything ------------------------------------------------

    def _searcher(self) -> tuple[tantivy.Index, tantivy.Searcher] | None:
        """The index and a searcher on its latest commit, or None when the index lacks a
        change the database holds (or is missing): then the SQL engine answers."""
        try:
            stamp = (self.root / "current.json").stat().st_mtime
        except OSError:
            return None
        with self._lock:
            if stamp != self._stamp:
                name = textindex.current(self.root)
                if name is None:
                    return None
                if name != self._name:
                    self._index = textindex.open_index(self.root / name)
                    self._name = name
                self._stamp = stamp
            index, name = self._index, self._name
        if index is None or name is None:
            return None
        with self.store.connect() as conn:
            # once per answer: a search page asks here two or three times, each time with the
            # connection its answer holds (Store.reading), and its data do not change meanwhile
            last = self._last
            if last is not None and last[0] is conn and last[1] is index:
                return index, last[2]
            if not textindex.holds_everything(conn, name):
                return None
            index.reload()  # the writer's last commit (cheap when there is none)
            searcher = index.searcher()
            self._last = (conn, index, searcher)
        return index, searcher

    def _ready(self, q: Query) -> tuple[tantivy.Index, tantivy.Searcher, tantivy.Query] | None:
        """`q` compiled for the index, or None: the SQL engine answers it (the index lacks a
        change, or cannot answer `q` as the SQL engine would, or tantivy refused it)."""
        got = self._searcher()
        if got is None:
            return None
        index, searcher = got
        try:
            query = self._compile(index, searcher, q)
        except Unsupported:
            return None
        except ValueError:  # tantivy refused it: the reader still gets results
            log.exception("text index: %r answered by the SQL engine", q)
            return None
        return index, searcher, query

    # ---- compiling a query ------------------------------------------------------------------

    def _compile(self, index: tantivy.Index, searcher: tantivy.Searcher, q: Query) -> tantivy.Query:
        if q.venues or not q.has_text:
            raise Unsupported
        schema = index.schema
        parts: list[tuple[tantivy.Occur, tantivy.Query]] = []
        for group in q.groups:
            parts.append((_MUST, self._text(index, group)))
        if q.exclude:
            parts.append((_NOT, self._text(index, q.exclude)))
        if q.categories:
            cats = [c.lower() for c in q.categories]
            parts.append((_MUST, tantivy.Query.term_set_query(schema, "cat", cats)))
        if q.since or q.until:
            lo = textindex.day_number(q.since) if q.since else None
            hi = textindex.day_number(q.until) if q.until else None
            rng = tantivy.Query.range_query(schema, "day", tantivy.FieldType.Integer, lo, hi)
            parts.append((_MUST, rng))
        if q.branch:
            # A branch is said by the sources the index holds besides arXiv (its term
            # dictionary: a few terms, ~50 us; a deleted paper's until a merge drops it), not
            # by "src is arXiv's": that clause was an intersection with every paper, half of a
            # common word's ranking at 1M (PostgreSQL 1M, "model": 10.0 -> 3.3 ms, alone).
            others = [
                t for t, _ in searcher.terms_with_prefix("src", "") if t != textindex.ARXIV_SRC
            ]
            if q.branch == "venue":
                if not others:
                    return tantivy.Query.empty_query()
                parts.append((_MUST, tantivy.Query.term_set_query(schema, "src", others)))
            elif others:
                parts.append((_NOT, tantivy.Query.term_set_query(schema, "src", others)))
        if q.sources:
            wanted = []
            for key in q.sources:
                try:
                    suffix = registry.get(key).suffix
                except KeyError:
                    continue  # no such source: none of its papers
                wanted.append(suffix if suffix is not None else textindex.ARXIV_SRC)
            if not wanted:
                return tantivy.Query.empty_query()
            parts.append((_MUST, tantivy.Query.term_set_query(schema, "src", wanted)))
        if len(parts) == 1 and parts[0][0] == _MUST:
            # a term alone keeps tantivy's block-max WAND ("model" at 1M: 5.5 -> 3.3 ms)
            return parts[0][1]
        return tantivy.Query.boolean_query(parts)

    def _text(self, index: tantivy.Index, terms: Sequence[Term]) -> tantivy.Query:
        """Any of `terms`, each over its field or over `all` (the three, weighted). Every
        term is quoted: a word as a term, several as a phrase, never an operator."""
        text = " OR ".join(f'{t.field or "all"}:"{" ".join(t.words)}"' for t in terms)
        return index.parse_query(text, ["all"])

    # ---- the interface (`search` is KeywordEngine's, on this `window`) ---------------------

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
        """As KeywordEngine.window; the count is exact (tantivy counts without ranking)."""
        if q.is_empty:
            return 0, True, []
        ready = self._ready(q)
        if ready is None:
            return self.sql.window(q, sort, offset, limit, also, bound, count)
        return self._window(*ready, sort, offset, limit, also, bound, count)

    def _window(
        self,
        index: tantivy.Index,
        searcher: tantivy.Searcher,
        query: tantivy.Query,
        sort: str,
        offset: int,
        limit: int,
        also: Sequence[str],
        bound: int | None,
        count: bool,
    ) -> tuple[int, bool, list[Hit]]:
        by_date = sort == "date"
        if also and by_date:
            with self.store.connect() as conn:
                extra = list(self.sql.docids(conn, also).values())
            if extra:
                either = tantivy.Query.term_set_query(index.schema, "docid", extra)
                query = tantivy.Query.boolean_query([(_SHOULD, query), (_SHOULD, either)])
        if limit <= 0 and not count:
            return 0, False, []
        res = searcher.search(
            query,
            max(limit, 1),
            count=count,
            offset=offset,
            order_by_field="newest" if by_date else None,
        )
        hits = res.hits[:limit] if limit > 0 else []
        docids = searcher.fast_field_values("docid", [addr for _, addr in hits])
        with self.store.connect() as conn:
            names = textindex.ids(conn, [d for d in docids if d is not None])
        out = [
            Hit(names[d], 0.0 if by_date else float(score))
            for (score, _), d in zip(hits, docids, strict=True)
            if d is not None and d in names
        ]
        total = int(res.count or 0) if count else 0
        if bound is not None and total > bound:
            return bound, False, out
        return total, count, out

    def matching_ids(self, q: Query, ids: Sequence[str]) -> set[str]:
        """Those of `ids` that the whole query matches: the query and the ids together, in
        the index (the SQL engine for what the index does not answer)."""
        if q.is_empty or not ids:
            return set()
        ready = self._ready(q)
        if ready is None:
            return self.sql.matching_ids(q, ids)
        index, searcher, query = ready
        with self.store.connect() as conn:
            docids = self.sql.docids(conn, ids)
        if not docids:
            return set()
        among = tantivy.Query.term_set_query(index.schema, "docid", list(docids.values()))
        both = tantivy.Query.boolean_query([(_MUST, query), (_MUST, among)])
        res = searcher.search(both, len(docids), count=False)
        found = set(searcher.fast_field_values("docid", [addr for _, addr in res.hits]))
        return {pid for pid, d in docids.items() if d in found}

    # ---- few rows: the SQL engine ---------------------------------------------------------

    def filter_ids(self, q: Query, ids: Sequence[str]) -> set[str]:
        return self.sql.filter_ids(q, ids)

    def snippets(
        self,
        q: Query,
        ids: Sequence[str],
        papers: Mapping[str, Paper] | None = None,
        titles: bool = True,
    ) -> dict[str, Snippet]:
        """Made here from the page's own text (search/snippets.py), stemmed as the index
        stems, whether or not the index is current: they need no index."""
        if not q.has_text or not ids:
            return {}
        wanted = snippets.Wanted.of(q, self._stem)
        if papers is not None and all(pid in papers for pid in ids):
            rows = [(pid, papers[pid].title, papers[pid].abstract) for pid in ids]
        else:
            stmt = text("SELECT id, title, abstract FROM papers WHERE id IN :ids").bindparams(
                bindparam("ids", expanding=True)
            )
            with self.store.connect() as conn:
                rows = [tuple(r) for r in conn.execute(stmt, {"ids": list(ids)})]
        return {
            pid: snippets.snippet(t or "", a or "", wanted, self._stem, titles)
            for pid, t, a in rows
        }

    def score_ids(self, terms: Sequence[Term], ids: Sequence[str]) -> dict[str, float]:
        return self.sql.score_ids(terms, ids)

    def newest(self, ids: Sequence[str], offset: int, limit: int) -> list[str]:
        return self.sql.newest(ids, offset, limit)

    def uses_index(self) -> bool:
        """Whether rankings come from the text index now (for tests and `coolpapers index`)."""
        return self._searcher() is not None
