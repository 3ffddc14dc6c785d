"""A paper's full text: the PDF its source links (`links(paper).pdf`), fetched through the
paced client of the PDF host's pace (`sources.http.Clients`), text extracted with pypdfium2,
cleaned and stored once per version (llm/context.py fits it to the model's window). A paper
whose source links no PDF has no full text: the FAQ answers from its abstract.

A reader may be watching while the PDF is fetched: `get` reports each step to a `progress`
callback (fetching, each retry and why, falling back to the abstract), and a download waits
at most PDF_DEADLINE seconds and PDF_RETRIES retries (the client's `deadline`): an unreachable
or overloaded host costs the reader under a minute, then the FAQ answers from the abstract
(and says so), instead of the harvest's minutes of back-off.

Why pypdfium2: measured on the shared real PDFs (1,289 pages) it is the fastest maintained
extractor (2.05 s; PyMuPDF 2.61 s, pypdf 30 s, pdfminer.six 65 s), and it is Apache-2.0/BSD,
where PyMuPDF is AGPL. Its quirks are normalised here: `\\r\\n` line ends and U+FFFE where a
word was hyphenated at a line end.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
import weakref
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pypdfium2 as pdfium
from sqlalchemy import select

from coolpapers.config import Settings
from coolpapers.llm.schema import faq_fulltext
from coolpapers.records import Paper
from coolpapers.sources import registry
from coolpapers.sources.http import Clients, FetchError, PacedClient
from coolpapers.store import Store

log = logging.getLogger("coolpapers.llm")

# A reader may be waiting on the download (see the module's docstring).
PDF_DEADLINE = 45.0  # seconds
PDF_RETRIES = 3
Progress = Callable[[str], object]  # told each step, in words for readers

LIGATURES = {"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"}
_LIG = re.compile("|".join(LIGATURES))
_SOFT = "\ufffe"
# A hyphen (or pypdfium2's U+FFFE marker) at a line end between two lowercase word parts.
# The lookbehind: a match starts only where a word does, not at each letter of a long word
# (each try ran to the word's end: quadratic); one starting inside a word never won anyway.
_BREAK = re.compile(r"(?<![A-Za-z])([A-Za-z]*[a-z])(?:-\n|\ufffe\n?)([a-z][A-Za-z]*)")
_WORD = re.compile(r"[A-Za-z]+")
_PAGE_NO = re.compile(r"^\s*(?:page\s*)?\d{1,4}(?:\s*(?:/|of)\s*\d{1,4})?\s*$", re.I)
# Headings on a line of their own. A heading's leading space is that of its own line
# (`[^\S\n]*`, not `\s*`: from each line start of a run of blank lines `\s*` ran over the whole
# run, quadratic on many blank lines); _finditer puts the blank lines before it back.
_REFS = re.compile(
    r"^[^\S\n]*(?:\d+\.?\s*|[IVX]+\.\s*)?(?:references|bibliography)\s*$", re.I | re.M
)
_APPX = re.compile(
    r"^[^\S\n]*(?:(?i:appendix|appendices|supplementary material)"
    r"|[A-H](?:\.\d)?\s+[A-Z][\w ,:-]{3,80})\s*$",  # "A Proofs", "B.1 Setup"
    re.M,
)


@dataclass(slots=True)
class Extracted:
    text: str
    pages: int


def extract(pdf: bytes) -> Extracted:
    """Cleaned text of a PDF (bytes). Raises ValueError on a file that is not a PDF."""
    try:
        doc = pdfium.PdfDocument(pdf)
    except pdfium.PdfiumError as e:
        raise ValueError(f"not a readable PDF: {e}") from e
    try:
        pages = []
        for i in range(len(doc)):
            page = doc[i]
            textpage = page.get_textpage()
            pages.append(textpage.get_text_range())
            textpage.close()
            page.close()
    finally:
        doc.close()
    return Extracted(clean(pages), len(pages))


def clean(pages: list[str]) -> str:
    """Page texts -> one text: line ends and ligatures normalised, running headers, footers and
    page numbers dropped, words hyphenated at line ends joined again."""
    pages = [
        _LIG.sub(lambda m: LIGATURES[m.group()], p.replace("\r\n", "\n").replace("\r", "\n"))
        for p in pages
    ]
    lines = [p.split("\n") for p in pages]
    repeated = _running_lines(lines)
    kept: list[str] = []
    for page in lines:
        body = [ln for ln in page if not _PAGE_NO.match(ln) and _key(ln) not in repeated]
        kept.append("\n".join(body))
    text = "\n".join(kept)
    text = _dehyphenate(text)
    text = text.replace(_SOFT, "")  # any marker left (not between two word parts)
    text = unicodedata.normalize("NFC", text)
    text = re.sub(r"(?<![ \t])[ \t]+\n", "\n", text)  # not tried at each space of a run
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _key(line: str) -> str:
    # Page numbers inside a header ("Title — 3") differ page to page: compare without digits.
    return re.sub(r"\d+", "#", line.strip().lower())


def _running_lines(pages: list[list[str]]) -> set[str]:
    """Lines that open or close at least half of the pages (3 or more): headers and footers."""
    if len(pages) < 3:
        return set()
    seen: Counter[str] = Counter()
    for page in pages:
        edge = [ln for ln in page if ln.strip()]
        seen.update({_key(ln) for ln in edge[:2] + edge[-2:]})
    need = max(3, len(pages) // 2)
    return {k for k, n in seen.items() if n >= need and len(k) > 3}


def _dehyphenate(text: str) -> str:
    """`transduc-tion` -> `transduction`, but `sequence-aligned` stays: the paper itself is the
    dictionary (a joined form used elsewhere wins; two parts that are words on their own keep
    the hyphen)."""
    words = Counter(w.lower() for w in _WORD.findall(text.replace(_SOFT, "-")))

    def fix(m: re.Match[str]) -> str:
        left, right = m.group(1), m.group(2)
        joined = (left + right).lower()
        if words[joined] or not (words[left.lower()] > 1 and words[right.lower()] > 1):
            return left + right
        return f"{left}-{right}"

    return _BREAK.sub(fix, text)


def shorter(text: str) -> list[str]:
    """The paper without references (appendix kept), then without the appendix too: the
    versions to try, longest first, when the whole text does not fit."""
    body, appendix = split(text)
    out = [body + "\n\n" + appendix] if appendix else []
    if body != text:
        out.append(body)
    return out


def split(text: str) -> tuple[str, str]:
    """(body, appendix), the references dropped; the appendix may be empty."""
    refs = _last(_REFS, text)
    if refs is not None:
        appx = next(_finditer(_APPX, text, refs), None)
        return text[:refs].rstrip(), text[appx[0] :] if appx else ""
    appx = _last(_APPX, text, only=("appendix", "appendices"))
    if appx is not None and appx > len(text) // 2:
        return text[:appx].rstrip(), text[appx:]
    return text, ""


def _last(pattern: re.Pattern[str], text: str, only: tuple[str, ...] = ()) -> int | None:
    hits = [p for p, m in _finditer(pattern, text) if not only or m.group().strip().lower() in only]
    return hits[-1] if hits else None


def _finditer(
    pattern: re.Pattern[str], text: str, pos: int = 0
) -> Iterator[tuple[int, re.Match[str]]]:
    """(start, match) of a heading pattern, the start moved up over the blank lines right
    before the heading (not before `pos` or the previous match): where a `^\\s*` pattern's
    match began. Linear: each stretch of text is looked back over once."""
    floor = pos
    for m in pattern.finditer(text, pos):
        start = m.start()
        while start > floor:
            nl = text.rfind("\n", max(floor - 1, 0), start - 1)
            line = nl + 1 if nl != -1 else 0
            if (nl == -1 and floor > 0) or not text[line:start].isspace():
                break
            start = line
        yield start, m
        floor = m.end()


# ---- stored text ---------------------------------------------------------------------------


@dataclass(slots=True)
class FullText:
    source: str  # "pdf" or "abstract"
    text: str
    pages: int
    note: str = ""  # why the abstract, when a download was just tried (for readers)


def pdf_url(paper: Paper) -> str | None:
    """The PDF the paper's source links, at its stored version; None when it links none.
    (Where the request really goes is the client's business: arXiv's `arxiv_pdf_url`.)"""
    return registry.get(paper.source).links(paper).pdf


def get(
    store: Store,
    clients: Clients | None,
    settings: Settings,
    paper: Paper,
    progress: Progress | None = None,
) -> FullText:
    """The paper's text for the model: stored if extracted before (for this version), else
    downloaded once and stored; the abstract when there is no PDF (or no `clients`: a reader's
    follow-up only reads what the FAQ stored). `settings` is kept for callers: the clients
    carry their own. `progress` is told each step of a download."""
    tell = progress or (lambda _step: None)
    row = _stored(store, paper)
    note = ""
    if not _fresh(row, paper) and clients is not None:
        # One download per paper in this process: the zh and en FAQs of a paper often start
        # together; the second waits and then reads what the first stored.
        with _downloading(paper.id):
            row = _stored(store, paper)
            if not _fresh(row, paper):
                row, note = _download(store, clients, paper, tell)
    if row is not None and row["source"] == "pdf" and row["text"]:
        return FullText("pdf", str(row["text"]), int(row["pages"] or 0))
    return FullText("abstract", paper.abstract, 0, note)


class _Attempts:
    """Turns one download's HTTP requests into steps for readers: the first request, then
    each retry with why the one before failed (its status, or no answer at all)."""

    def __init__(self, host: str, tell: Progress) -> None:
        self.host, self.tell = host, tell
        self.n = 0
        self.last: str | None = None  # why the previous attempt failed, if it answered
        self.redirected = False

    def request(self, _request: httpx.Request) -> None:
        if self.redirected:  # a hop of the same attempt, not a retry
            self.redirected = False
            return
        self.n += 1
        if self.n == 1:
            self.tell(f"Fetching the PDF from {self.host}…")
            return
        why = self.last or "no connection"
        self.tell(f"Fetching the PDF from {self.host}: retry {self.n - 1} ({why})…")
        self.last = None

    def response(self, response: httpx.Response) -> None:
        if response.is_redirect:
            self.redirected = True
        elif response.status_code >= 400:
            self.last = f"{self.host} answered HTTP {response.status_code}"


# The download being made on each thread, for the clients' event hooks (a client is shared by
# the threads of a worker pool; each request is made on the thread that asked for it).
_current = threading.local()
_hooked: weakref.WeakSet[httpx.Client] = weakref.WeakSet()
_hook_lock = threading.Lock()


def _on_request(request: httpx.Request) -> None:
    attempts: _Attempts | None = getattr(_current, "attempts", None)
    if attempts is not None:
        attempts.request(request)


def _on_response(response: httpx.Response) -> None:
    attempts: _Attempts | None = getattr(_current, "attempts", None)
    if attempts is not None:
        attempts.response(response)


def _hook(client: PacedClient) -> None:
    """Let this thread's download see its client's requests (httpx event hooks, once per
    client): the client retries inside one call, and a reader should see each try."""
    with _hook_lock:
        http = client.http
        if http in _hooked:
            return
        hooks = http.event_hooks
        hooks.setdefault("request", []).append(_on_request)
        hooks.setdefault("response", []).append(_on_response)
        http.event_hooks = hooks
        _hooked.add(http)


def _fetch(clients: Clients, url: str, tell: Progress) -> bytes:
    """The PDF's bytes, each try told to `tell`; FetchError when it cannot be had in time."""
    client = clients.for_url(url)
    _hook(client)
    _current.attempts = _Attempts(httpx.URL(client.aim(url)).host or url, tell)
    try:
        with client.deadline(PDF_DEADLINE, PDF_RETRIES):
            return client.get(url).content
    finally:
        _current.attempts = None


def _short(e: FetchError) -> str:
    """Why a download failed, in a few words for readers (the URL and retry count aside)."""
    host = httpx.URL(e.url).host if e.url.startswith("http") else ""
    if e.status is not None:
        return f"{host or 'the host'} answered HTTP {e.status}"
    if "busy" in str(e):
        return f"{host or 'the host'} is busy"
    return f"{host or 'the host'} could not be reached"


_locks: dict[str, tuple[threading.Lock, int]] = {}  # paper id -> (lock, threads using it)
_locks_guard = threading.Lock()


@contextmanager
def _downloading(paper_id: str) -> Iterator[None]:
    with _locks_guard:
        lock, users = _locks.get(paper_id, (threading.Lock(), 0))
        _locks[paper_id] = (lock, users + 1)
    try:
        with lock:
            yield
    finally:
        with _locks_guard:
            lock, users = _locks[paper_id]
            if users == 1:
                del _locks[paper_id]
            else:
                _locks[paper_id] = (lock, users - 1)


def _stored(store: Store, paper: Paper) -> Mapping[str, Any] | None:
    with store.engine.connect() as conn:
        return (
            conn.execute(select(faq_fulltext).where(faq_fulltext.c.paper_id == paper.id))
            .mappings()
            .first()
        )


def _fresh(row: Mapping[str, Any] | None, paper: Paper) -> bool:
    return row is not None and (row["version"] or 0) >= (paper.version or 0)


def _download(
    store: Store, clients: Clients, paper: Paper, tell: Progress
) -> tuple[dict[str, Any] | None, str]:
    """The stored row after a download (None: nothing remembered), and why the abstract is
    used instead, if it is."""
    try:
        url = pdf_url(paper)
    except KeyError as e:  # its source is not installed (now): nothing is remembered
        log.warning("no full text for %s: %s", paper.id, e)
        return None, ""
    source, text, pages, note = "missing", "", 0, ""
    if url is None:
        # Its source links no PDF: remembered like a missing one, so that the abstract is
        # used without asking again (until a new version).
        log.info("no full text for %s: its source links no PDF", paper.id)
        note = "This paper has no PDF: answering from its abstract."
    else:
        try:
            got = extract(_fetch(clients, url, tell))
            if got.text.strip():
                source, text, pages = "pdf", got.text, got.pages
                tell(f"Read the PDF ({pages} pages).")
            else:
                note = "The PDF has no text: answering from the abstract."
        except FetchError as e:
            if e.status is None or e.status >= 500 or e.status == 429:
                # The host unreachable or overloaded (the client has retried): nothing is
                # remembered, so the next conversation asks for the PDF again.
                log.warning("full text of %s unavailable for now: %s", paper.id, e)
                note = f"Could not get the PDF ({_short(e)}): answering from the abstract."
                tell(note)
                return None, note
            # No PDF (withdrawn, or the host says 404): remembered for this version, so the
            # abstract is used without asking the host again.
            log.warning("no full text for %s: %s", paper.id, e)
            note = f"No PDF ({_short(e)}): answering from the abstract."
        except ValueError as e:  # not a readable PDF: the same again next time
            log.warning("no full text for %s: %s", paper.id, e)
            note = "The PDF could not be read: answering from the abstract."
    if note:
        tell(note)
    row = {
        "paper_id": paper.id,
        "version": paper.version,
        "source": source,
        "text": text,
        "pages": pages,
        "extracted": datetime.now(UTC).replace(tzinfo=None),
    }
    with store.engine.begin() as conn:
        conn.execute(faq_fulltext.delete().where(faq_fulltext.c.paper_id == paper.id))
        conn.execute(faq_fulltext.insert().values(**row))
    return row, note
