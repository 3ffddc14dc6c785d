"""tantivy (papers.cool's engine) behind an HTTP endpoint of the same shape as ours, for
bench/search_http.py: a like-for-like ratio (same uvicorn, same HTTP client, same queries).

  GET /arxiv/search?query=...&sort=date&page=N   an HTML page of 25 results: title with the
                                                 query words marked, authors, an abstract
                                                 snippet (tantivy's SnippetGenerator), Jinja
  GET /api/search?query=...                       the same as JSON

The index holds every paper of the store (title, abstract, authors, categories, day; stored
fields so that a page needs no database). Queries are read with coolpapers' own parser
(search/query.py) and given to tantivy as: every word required over title (boost 4),
abstract and authors (boost 2), phrases as phrases, ti:/au:/abs: on their field, cat: and
date: as filters, -word excluded; sort=date orders by the day (a fast field). It is
tantivy alone, a bound for ours: no database, no semantic half, a plainer card. The app's
keyword engine is tantivy too since issue 15 (search/keyword_tantivy.py), behind its own
database, snippets, fusion and cards.

Run: .venv/bin/python bench/tantivy_http.py --db sqlite:///bench/out/search/real.db \
         --index bench/out/search_http/tantivy-70k --port 8123
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from datetime import date
from pathlib import Path
from typing import Any

import tantivy
import uvicorn
from jinja2 import Environment
from markupsafe import Markup, escape

from coolpapers.search.query import Query, parse

PER_PAGE = 25
FIELDS = {"title": "title", "abstract": "abstract", "authors": "authors"}
EPOCH = date(1970, 1, 1)

PAGE = Environment(autoescape=True).from_string(
    """<!doctype html><html><head><meta charset="utf-8"><title>{{ q }} · search</title></head>
<body><form action="/arxiv/search"><input name="query" value="{{ q }}"></form>
<p class="info">Search: <q>{{ q }}</q> | Total: {{ total }} | Page {{ page }}</p>
<div class="papers">{% for r in rows %}<div class="paper" id="{{ r.pid }}">
<h2 class="title"><a class="title-link" href="/arxiv/{{ r.pid }}">{{ r.title_html }}</a></h2>
<p class="authors">{% for a in r.authors %}<a class="author">{{ a }}</a>
{%- if not loop.last %}, {% endif %}{% endfor %}</p>
<p class="summary">{{ r.abstract }}</p><p class="snippet">{{ r.snippet_html }}</p>
<p class="subjects">{{ r.categories }}</p><p class="date">{{ r.day }}</p></div>
{% endfor %}</div></body></html>"""
)


def schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("pid", stored=True, tokenizer_name="raw")
    for f in FIELDS.values():
        sb.add_text_field(f, stored=True, tokenizer_name="en_stem")
    sb.add_text_field("categories", stored=True, tokenizer_name="raw")
    sb.add_integer_field("day", stored=True, indexed=True, fast=True)
    return sb.build()


def build(db_url: str, path: Path) -> tantivy.Index:
    """Index every paper of the store at `db_url` into `path` (kept: built once per size)."""
    done = path / "done"
    if done.exists():
        return tantivy.Index.open(str(path))
    from coolpapers.store import Store

    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    index = tantivy.Index(schema(), path=str(path))
    writer = index.writer(heap_size=512_000_000, num_threads=2)
    store = Store.open(db_url)
    t = time.perf_counter()
    with store.engine.connect() as c:
        rows = c.exec_driver_sql(
            "SELECT p.id, p.title, p.abstract, p.authors, p.categories, d.day "
            "FROM papers p JOIN search_docs d ON d.paper_id = p.id"
        )
        for pid, title, abstract, authors, cats, day in rows:
            if isinstance(day, str):
                day = date.fromisoformat(day)
            names = json.loads(authors) if authors and authors.startswith("[") else [authors]
            doc = tantivy.Document(
                pid=pid, title=title, abstract=abstract, authors=", ".join(names or [])
            )
            for c_ in (cats or "").split():
                doc.add_text("categories", c_)
            doc.add_integer("day", (day - EPOCH).days if day else 0)
            writer.add_document(doc)
    writer.commit()
    writer.wait_merging_threads()
    store.engine.dispose()
    done.write_text(f"{time.perf_counter() - t:.1f}")
    return tantivy.Index.open(str(path))


def _term(t_words: tuple[str, ...], fld: str | None) -> str:
    words = " ".join(t_words)
    text = f'"{words}"' if len(t_words) > 1 else words
    return f"{FIELDS[fld]}:{text}" if fld else text


def compile_query(index: tantivy.Index, q: Query) -> tantivy.Query | None:
    parts: list[str] = []
    for g in q.groups:
        alts = [_term(t.words, t.field) for t in g]
        parts.append("+(" + " OR ".join(alts) + ")" if len(alts) > 1 else "+" + alts[0])
    parts += ["-" + _term(t.words, t.field) for t in q.exclude]
    if q.categories:
        parts.append("+(" + " OR ".join(f'categories:"{c}"' for c in q.categories) + ")")
    if q.since or q.until:
        lo = (q.since - EPOCH).days if q.since else 0
        hi = (q.until - EPOCH).days if q.until else 10**6
        parts.append(f"+day:[{lo} TO {hi}]")
    if not parts:
        return None
    text = " ".join(parts)
    try:
        return index.parse_query(
            text,
            ["title", "abstract", "authors"],
            field_boosts={"title": 4.0, "authors": 2.0},
        )
    except ValueError:
        return None


class App:
    """A plain ASGI app (no framework: the ratio is the engines', not the routers')."""

    def __init__(self, index: tantivy.Index) -> None:
        self.index = index
        self.searcher = index.searcher()
        self.schema = index.schema

    def search(self, qs: dict[str, str]) -> dict[str, Any]:
        raw = qs.get("query", "")
        page = max(1, int(qs.get("page", "1") or 1)) if qs.get("page", "1").isdigit() else 1
        q = parse(raw)
        tq = compile_query(self.index, q)
        if tq is None:
            return {"query": raw, "total": 0, "page": page, "rows": []}
        offset = (page - 1) * PER_PAGE
        if qs.get("sort") == "date":
            res = self.searcher.search(
                tq, PER_PAGE, count=True, order_by_field="day", offset=offset
            )
        else:
            res = self.searcher.search(tq, PER_PAGE, count=True, offset=offset)
        snip_t = tantivy.SnippetGenerator.create(self.searcher, tq, self.schema, "title")
        snip_a = tantivy.SnippetGenerator.create(self.searcher, tq, self.schema, "abstract")
        snip_a.set_max_num_chars(240)
        rows = []
        for _score, addr in res.hits:
            doc = self.searcher.doc(addr)
            title = doc.get_first("title") or ""
            st = snip_t.snippet_from_doc(doc)
            rows.append(
                {
                    "pid": doc.get_first("pid"),
                    "title_html": Markup(st.to_html()) if st.highlighted() else escape(title),
                    "authors": (doc.get_first("authors") or "").split(", "),
                    "abstract": doc.get_first("abstract") or "",
                    "snippet_html": Markup(snip_a.snippet_from_doc(doc).to_html()),
                    "categories": " ".join(doc.get_all("categories")),
                    "day": str(EPOCH.fromordinal(EPOCH.toordinal() + (doc.get_first("day") or 0))),
                }
            )
        return {"query": raw, "total": res.count, "page": page, "rows": rows}

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        from urllib.parse import parse_qsl

        qs = dict(parse_qsl(scope["query_string"].decode("latin-1")))
        path = scope["path"]
        status, media = 200, "text/html; charset=utf-8"
        if path in ("/search", "/arxiv/search", "/venue/search"):
            out = self.search(qs)
            body = PAGE.render(q=out["query"], total=out["total"], page=out["page"],
                               rows=out["rows"]).encode()  # fmt: skip
        elif path == "/api/search":
            out = self.search(qs)
            for r in out["rows"]:
                r["title_html"], r["snippet_html"] = str(r["title_html"]), str(r["snippet_html"])
            body, media = json.dumps(out).encode(), "application/json"
        elif path == "/":
            body = b"ok"
        else:
            status, body = 404, b"not found"
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", media.encode()),
                                (b"content-length", str(len(body)).encode())]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--port", type=int, default=8123)
    ap.add_argument("--build-only", action="store_true")
    a = ap.parse_args()
    index = build(a.db, a.index)
    if a.build_only:
        return
    index.reload()
    uvicorn.run(App(index), host="127.0.0.1", port=a.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
