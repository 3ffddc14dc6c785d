"""The OpenReview source: ids, links, BibTeX, and the API v2 harvest of a venue's accepted
papers run end to end (real client, pacing and retries; a real SQLite store).

There is NO recorded OpenReview response to replay: the API refuses anonymous requests since
2026, and nothing here may log in. The server below (`FakeOpenReview`, a real HTTP server on
127.0.0.1, like tests/replay.py's) is built from OpenReview's own documentation in
../shared/docs/openreview instead:
- `POST /login` takes `{"id", "password"}` and answers `{"token", "user"}`
  (api-v2-openapi.yml, /login);
- `GET /notes` filters on `content.venueid`, pages with `limit` and `offset` and answers
  `{"notes": [...], "count": N}` (api-v2-openapi.yml, /notes); accepted papers are the notes
  whose `content.venueid` is the venue id itself
  (how-to-get-all-notes-for-submissions-reviews-rebuttals-etc.md);
- each note has the shape introduction-to-notes.md shows (`id` == `forum` for a submission,
  `content.<field>.value`, `cdate`/`pdate`/`mdate` in milliseconds, `/pdf/<sha1>.pdf`,
  `license`), with the `_bibtex` and `venue` fields accepted papers carry;
- errors have the API's `Error` shape (`status`, `name`, `message`); the refusal of anonymous
  requests is a 403 named `ChallengeRequired`, and a 401 an expired token.
The bearer header is what OpenReview's Python client sends (openreview-py,
`Authorization: Bearer <token>`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from coolpapers.config import Settings
from coolpapers.records import Batch, Paper
from coolpapers.sources import registry
from coolpapers.sources.base import BadId, Links, Source
from coolpapers.sources.http import Clients, FetchError
from coolpapers.sources.openreview import SOURCE, OpenReviewSource, api, editions
from coolpapers.sources.openreview.bibtex import key
from coolpapers.store.store import Store
from tests.replay import FakeSleep

VENUE = "ICLR.cc/2025/Conference"
EMAIL, PASSWORD, TOKEN = "reader@example.org", "s3cret pass", "tok-from-login"
MS_PDATE = 1_737_763_200_000  # 2025-01-25 00:00 UTC
MS_CDATE = 1_727_740_800_000  # 2024-10-01 00:00 UTC


@pytest.fixture
def with_openreview(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The OpenReview source registered as an outside one (the lead adds it to
    DEFAULT_SOURCES with the venue pages)."""
    ep = EntryPoint(name="openreview", value="coolpapers.sources.openreview", group=registry.GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda group: [ep])
    registry.clear()
    yield
    registry.clear()


# ---- ids ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "forum"),
    [
        ("B11bwYgfM@OpenReview", "B11bwYgfM"),
        ("B11bwYgfM@openreview", "B11bwYgfM"),
        (" 0JzWiigkUy@OPENREVIEW ", "0JzWiigkUy"),
        ("SkZ-BnyCW@OpenReview", "SkZ-BnyCW"),
        ("B13njo1R-@OpenReview", "B13njo1R-"),
        ("https://openreview.net/forum?id=0JzWiigkUy", "0JzWiigkUy"),
        ("http://www.openreview.net/forum?id=0JzWiigkUy#discussion", "0JzWiigkUy"),
        ("openreview.net/forum?id=B11bwYgfM&noteId=rJXMpikCZ", "B11bwYgfM"),
        ("https://openreview.net/forum?noteId=rJXMpikCZ&id=B11bwYgfM", "B11bwYgfM"),
        ("https://openreview.net/pdf?id=WEIzUBsDX6", "WEIzUBsDX6"),
        ("https://openreview.net/attachment?id=WEIzUBsDX6&name=pdf", "WEIzUBsDX6"),
        ("https://OpenReview.net/forum?id=Ab_cd-EF12", "Ab_cd-EF12"),
    ],
)
def test_ids_in_every_form(text: str, forum: str) -> None:
    sid = SOURCE.parse_id(text)
    assert (sid.id, sid.version) == (forum, None)
    assert str(sid) == f"{forum}@OpenReview" == SOURCE.format_id(forum)
    assert SOURCE.parse_id(str(sid)) == sid  # format_id is parse_id's inverse


def test_forum_ids_keep_their_case() -> None:
    assert SOURCE.parse_id("b11BWygFm@OpenReview").id == "b11BWygFm"
    assert SOURCE.parse_id("b11BWygFm@OpenReview") != SOURCE.parse_id("B11bwYgfM@OpenReview")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "B11bwYgfM",  # bare: only with its suffix
        "0JzWiigkUy",
        "@OpenReview",
        "B11b@OpenReview",  # too short
        "B11bw YgfM@OpenReview",
        "B11bw.YgfM@OpenReview",
        "~Andrew_McCallum1@OpenReview",  # a profile, not a forum
        "B11bwYgfM@ACL",
        "2309.16354",
        "https://openreview.net/group?id=ICLR.cc/2025/Conference",
        "https://openreview.net/profile?id=~Andrew_McCallum1",
        "https://openreview.net/forum",
        "https://openreview.net/forum?id=",
        "https://openreview.net/forum?id=a/b/c",
        "https://openreview.net/attachment?id=WEIzUBsDX6&name=supplementary_material",
        "https://openreview.net/pdf/0123456789abcdef0123456789abcdef01234567.pdf",
        "https://example.org/forum?id=B11bwYgfM",
    ],
)
def test_bad_ids(text: str) -> None:
    with pytest.raises(BadId):
        SOURCE.parse_id(text)


def test_the_registry_takes_its_suffix_and_urls(with_openreview: None) -> None:
    assert isinstance(SOURCE, Source) and isinstance(SOURCE, OpenReviewSource)
    assert registry.get("openreview") is SOURCE
    assert registry.key("B11bwYgfM@openreview") == "B11bwYgfM@OpenReview"
    assert registry.key("https://openreview.net/pdf?id=B11bwYgfM") == "B11bwYgfM@OpenReview"
    assert registry.source_of("B11bwYgfM@OpenReview") is SOURCE
    assert registry.for_host("api2.openreview.net") is SOURCE
    assert registry.parse("2309.16354")[0].key == "arxiv"  # bare ids stay arXiv's
    with pytest.raises(BadId):
        registry.key("https://openreview.net/group?id=ICLR.cc/2025/Conference")


# ---- links, cite, BibTeX --------------------------------------------------------------------


def _paper(**kw: Any) -> Paper:
    values: dict[str, Any] = {
        "id": "0JzWiigkUy@OpenReview",
        "title": "BEARCUBS: A benchmark for computer-using web agents",
        "abstract": "",
        "authors": ["Yixiao Song", "Katherine Thai", "Mohit Iyyer"],
        "categories": [],
        "published": datetime(2025, 7, 8),
        "source": "openreview",
        "extra": {"venueid": "colmweb.org/COLM/2025/Conference", "venue": "COLM 2025"},
    }
    values.update(kw)
    return Paper(**values)


def test_links_and_cite() -> None:
    page = "https://openreview.net/forum?id=0JzWiigkUy"
    pdf = "https://openreview.net/pdf?id=0JzWiigkUy"
    assert SOURCE.links(_paper()) == Links(page, pdf, None)
    assert SOURCE.id_links("0JzWiigkUy") == SOURCE.id_links("0JzWiigkUy@OpenReview")
    assert SOURCE.id_links("0JzWiigkUy") == Links(page, pdf, None)
    # a PDF of its own (made absolute), or none at all
    own = _paper(extra={"pdf": "/attachment/abc.pdf"})
    assert SOURCE.links(own).pdf == "https://openreview.net/attachment/abc.pdf"
    assert SOURCE.links(_paper(extra={"pdf": "https://x.org/a.pdf"})).pdf == "https://x.org/a.pdf"
    assert SOURCE.links(_paper(extra={"pdf": None})) == Links(page, None, None)
    assert SOURCE.cite("0JzWiigkUy@OpenReview") == "OpenReview 0JzWiigkUy"
    assert SOURCE.author_url("Yixiao Song") is None
    assert SOURCE.fetcher(None, Settings(_env_file=None)) is None  # type: ignore[arg-type]
    assert SOURCE.approx_published(_paper()) == datetime(2025, 1, 1)
    assert SOURCE.approx_published(_paper(extra={})) is None
    assert SOURCE.pace.covers("openreview.net") and SOURCE.pace.covers("api2.openreview.net")


def test_bibtex_is_the_notes_own_when_stored() -> None:
    own = "@inproceedings{\nsong2025bearcubs,\ntitle={X},\nauthor={Y}\n}"
    assert SOURCE.bibtex(_paper(extra={"bibtex": own + "\n"})) == own


def test_bibtex_in_openreviews_style() -> None:
    # paperlists' colm2025.json.gz, entry 0JzWiigkUy (OpenReview's export), but for the
    # booktitle's ordinal ("Second ..."), which only the note's own _bibtex has
    assert SOURCE.bibtex(_paper()) == (
        "@inproceedings{\nsong2025bearcubs,\n"
        "title={{BEARCUBS}: A benchmark for computer-using web agents},\n"
        "author={Yixiao Song and Katherine Thai and Mohit Iyyer},\n"
        "booktitle={Conference on Language Modeling},\n"
        "year={2025},\n"
        "url={https://openreview.net/forum?id=0JzWiigkUy}\n}"
    )
    tmlr = SOURCE.bibtex(_paper(extra={"venueid": "TMLR"}, published=datetime(2024, 3, 1)))
    assert tmlr.startswith("@article{\nsong2024bearcubs,")
    assert "journal={Transactions on Machine Learning Research}" in tmlr
    unknown = SOURCE.bibtex(_paper(extra={"venueid": "X.org/2023/Conf", "venue": "X 2023 Oral"}))
    assert "booktitle={X 2023}" in unknown and "year={2023}" in unknown


@pytest.mark.parametrize(
    ("title", "written"),
    [
        (
            "ALFA: Aligning LLMs to Ask Good Questions",
            "{ALFA}: Aligning {LLM}s to Ask Good Questions",
        ),
        ("LaVA-Man: Learning", "La{VA}-Man: Learning"),
        (
            "Don’t lie & cheat — 50% off",
            r"Don{\textquoteright}t lie \& cheat {\textemdash} 50\% off",
        ),
    ],
)
def test_bibtex_titles_brace_capitals(title: str, written: str) -> None:
    assert f"title={{{written}}}" in SOURCE.bibtex(_paper(title=title))


def test_bibtex_keys_match_openreviews() -> None:
    # keys from paperlists' OpenReview exports (colm2025, corl2025)
    assert key(["Anthony GX-Chen"], "2025", "Language Agents Mirror") == "gx-chen2025language"
    assert key(["Anja Šurina"], "2025", "Algorithm Discovery With LLMs") == "surina2025algorithm"
    assert key(["Yanzhou Li"], "2025", "Impact-driven Context Filtering") == "li2025impactdriven"
    assert key(["Ahmed Masry"], "2025", "BigCharts-R1: Enhanced") == "masry2025bigchartsr"
    assert key([], "2018", "THINK VISUALLY") == "anonymous2018think"


# ---- venue ids and decisions ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("venue_id", "collection", "edition"),
    [
        ("ICLR.cc/2025/Conference", "ICLR", "2025"),
        ("NeurIPS.cc/2024/Conference", "NeurIPS", "2024"),
        ("NeurIPS.cc/2024/Datasets_and_Benchmarks_Track", "NeurIPS", "2024"),
        ("ICML.cc/2024/Workshop/MI", "ICML", "2024"),
        ("colmweb.org/COLM/2024/Conference", "COLM", "2024"),
        ("robot-learning.org/CoRL/2025/Conference", "CoRL", "2025"),
        ("MIDL.io/2024/Conference", "MIDL", "2024"),
        ("Some.org/NewConf/2026/Conference", "NewConf", "2026"),
        ("TMLR", "TMLR", ""),
    ],
)
def test_collection_and_edition_of_a_venue_id(venue_id: str, collection: str, edition: str) -> None:
    assert editions.collection_of(venue_id) == collection
    assert editions.edition_of(venue_id) == edition


@pytest.mark.parametrize(
    ("venue", "venue_id", "group"),
    [
        ("ICLR 2025 Oral", VENUE, "Oral"),
        ("ICLR 2025 Spotlight", VENUE, "Spotlight"),
        ("ICLR 2025 Poster", VENUE, "Poster"),
        ("NeurIPS 2024 poster", "NeurIPS.cc/2024/Conference", "Poster"),
        ("ICLR 2023 notable top 5%", "ICLR.cc/2023/Conference", "Notable top 5%"),
        (
            "NeurIPS 2024 Datasets and Benchmarks Track poster",
            "NeurIPS.cc/2024/Datasets_and_Benchmarks_Track",
            "Datasets and Benchmarks Track Poster",
        ),
        ("COLM 2025", "colmweb.org/COLM/2025/Conference", ""),
        (None, "NeurIPS.cc/2024/Datasets_and_Benchmarks_Track", "Datasets and Benchmarks Track"),
        ("Accepted by TMLR", "TMLR", ""),
        ("Oral", VENUE, "Oral"),
    ],
)
def test_group_of_a_decision(venue: str | None, venue_id: str, group: str) -> None:
    assert editions.group_of(venue, venue_id) == group


# ---- a fake API v2, from OpenReview's documentation ----------------------------------------------


def forum_id(i: int) -> str:
    """A 10-character forum id of the API v2 alphabet (letters, digits, _ and -)."""
    return base64.urlsafe_b64encode(hashlib.sha1(str(i).encode()).digest()).decode()[:10]


def decision(i: int) -> str:
    return "Oral" if i % 50 == 0 else "Spotlight" if i % 10 == 0 else "Poster"


def note(i: int, venue_id: str = VENUE) -> dict[str, Any]:
    """Submission `i` as GET /notes returns it (introduction-to-notes.md's example note,
    accepted: `venueid` the venue's own id, `venue` its decision, a `_bibtex`)."""
    nid = forum_id(i)
    readers = [venue_id, f"{venue_id}/Submission{i}/Authors"]
    title = f"Paper title {i}"
    return {
        "cdate": MS_CDATE + i,
        "content": {
            "abstract": {"value": f"This is an abstract {i}.\n\nIts second paragraph."},
            "authorids": {"readers": readers, "value": [f"~First_User{i}", "author@mail.com"]},
            "authors": {"readers": readers, "value": [f"First User{i}", "Andrew  Mc"]},
            "keywords": {"value": ["machine learning", "nlp"]},
            "paperhash": {"readers": readers, "value": f"user|paper_title_{i}"},
            "pdf": {"value": f"/pdf/{hashlib.sha1(nid.encode()).hexdigest()}.pdf"},
            "title": {"value": title},
            "TLDR": {"value": f"Paper {i} in one sentence."},
            "venue": {"value": f"ICLR 2025 {decision(i)}"},
            "venueid": {"value": venue_id},
            "_bibtex": {
                "value": f"@inproceedings{{\nuser2025paper,\ntitle={{{title}}},\nauthor={{"
                f"First User{i} and Andrew Mc}},\nbooktitle={{The Thirteenth International "
                f"Conference on Learning Representations}},\nyear={{2025}},\n"
                f"url={{https://openreview.net/forum?id={nid}}}\n}}"
            },
        },
        "domain": venue_id,
        "forum": nid,
        "id": nid,
        "invitations": [f"{venue_id}/-/Submission", f"{venue_id}/-/Post_Submission"],
        "license": "CC BY 4.0",
        "mdate": MS_PDATE + 86_400_000,
        "number": i,
        "odate": MS_CDATE + 1000,
        "pdate": MS_PDATE,
        "readers": ["everyone"],
        "replyto": None,
        "signatures": [f"{venue_id}/Submission{i}/Authors"],
        "tcdate": MS_CDATE + i,
        "tmdate": MS_PDATE + 86_400_000,
        "version": 2,
        "writers": [venue_id, f"{venue_id}/Submission{i}/Authors"],
    }


@dataclass(slots=True)
class Hit:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    body: Any = None


@dataclass(slots=True)
class Canned:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def error(status: int, name: str, message: str) -> Canned:
    return Canned(status, {"status": status, "name": name, "message": message})


class FakeOpenReview:
    """API v2 on 127.0.0.1: `notes` served by `content.venueid`, `limit` (capped at 1,000)
    and `offset`, sorted by number; with `auth`, only `Bearer <a token it gave or knows>`
    is answered, anything else gets the 403 ChallengeRequired. `queue[(method, path)]`:
    replies served first, in order (a 429, a 401...)."""

    def __init__(self, notes: list[dict[str, Any]], *, auth: bool = True) -> None:
        self.notes = notes
        self.auth = auth
        self.tokens = {"tok-from-settings"}
        self.hits: list[Hit] = []
        self.queue: dict[tuple[str, str], list[Canned]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.api = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def __enter__(self) -> FakeOpenReview:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def hits_for(self, path: str) -> list[Hit]:
        return [h for h in self.hits if h.path == path]

    def answer(self, hit: Hit) -> Canned:
        with self._lock:
            self.hits.append(hit)
            queued = self.queue.get((hit.method, hit.path))
            if queued:
                return queued.pop(0)
        if (hit.method, hit.path) == ("POST", "/login"):
            body = hit.body or {}
            if body.get("id") == EMAIL and body.get("password") == PASSWORD:
                self.tokens.add(TOKEN)
                return Canned(200, {"token": TOKEN, "user": {"id": EMAIL}})
            return error(400, "InvalidCredentials", "Invalid username or password")
        if (hit.method, hit.path) != ("GET", "/notes"):
            return error(404, "NotFound", "no such route")
        bearer = hit.headers.get("authorization", "")
        if self.auth and bearer.removeprefix("Bearer ") not in self.tokens:
            return error(403, "ChallengeRequired", "Please complete the challenge")
        venue = hit.params.get("content.venueid")
        found = [n for n in self.notes if n["content"]["venueid"]["value"] == venue]
        found.sort(key=lambda n: n["number"])
        offset = int(hit.params.get("offset", "0"))
        limit = min(int(hit.params.get("limit", "1000")), 1000)
        return Canned(200, {"notes": found[offset : offset + limit], "count": len(found)})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _serve(self, method: str) -> None:
        api_: FakeOpenReview = self.server.api  # type: ignore[attr-defined]
        parts = urlsplit(self.path)
        params = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        headers = {k.lower(): v for k, v in self.headers.items()}
        reply = api_.answer(Hit(method, parts.path, params, headers, body))
        data = json.dumps(reply.body).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        for k, v in reply.headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def log_message(self, format: str, *args: object) -> None:
        pass


def settings_for(server: FakeOpenReview, **overrides: object) -> Settings:
    values: dict[str, object] = {"openreview_api": server.url, "database_url": "sqlite://"}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type,call-arg]


def logged_in(server: FakeOpenReview) -> Settings:
    return settings_for(server, openreview_username=EMAIL, openreview_password=PASSWORD)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Store]:
    s = Store.open("sqlite:///" + str(tmp_path / "db.sqlite"))
    yield s
    s.engine.dispose()


@pytest.fixture
def sleep() -> FakeSleep:
    return FakeSleep()


def client(db: Store, settings: Settings, sleep: FakeSleep) -> api.OpenReviewClient:
    """A client whose waits (the 1 s pace, Retry-After) are recorded, not slept."""
    return api.OpenReviewClient(db, settings, sleep=sleep, clock=sleep.now)


def run(db: Store, settings: Settings, sleep: FakeSleep, **kw: Any) -> int:
    return api.run_harvest(db, settings, VENUE, sleep=sleep, clock=sleep.now, **kw)


# ---- authentication ------------------------------------------------------------------------------


def test_login_then_bearer_token(db: Store, sleep: FakeSleep) -> None:
    with (
        FakeOpenReview([note(i) for i in range(1, 4)]) as server,
        client(db, logged_in(server), sleep) as c,
    ):
        batches = list(api.harvest(c, VENUE))
    assert [h.method + " " + h.path for h in server.hits] == ["POST /login", "GET /notes"]
    login, notes = server.hits
    assert login.body == {"id": EMAIL, "password": PASSWORD}
    assert notes.headers["authorization"] == f"Bearer {TOKEN}"
    assert notes.params == {
        "content.venueid": VENUE,
        "limit": "1000",
        "offset": "0",
        "sort": "number:asc",
    }
    assert [len(b.papers) for b in batches] == [3]
    assert batches[0].next_offset is None and batches[0].checkpoint == api.DONE


def test_a_token_from_the_settings_is_used_as_is(db: Store, sleep: FakeSleep) -> None:
    with FakeOpenReview([note(1)]) as server:
        settings = settings_for(server, openreview_token="tok-from-settings")
        assert run(db, settings, sleep) == 1
    assert not server.hits_for("/login")
    assert [h.headers["authorization"] for h in server.hits] == ["Bearer tok-from-settings"]


def test_anonymous_challenge_is_a_clear_error_not_a_retry_loop(db: Store, sleep: FakeSleep) -> None:
    with FakeOpenReview([note(1)]) as server, pytest.raises(api.AuthRequired) as e:
        run(db, settings_for(server), sleep)
    message = str(e.value)
    assert "ChallengeRequired" in message and "anonymous" in message
    assert "COOLPAPERS_OPENREVIEW_TOKEN" in message
    assert "COOLPAPERS_OPENREVIEW_USERNAME" in message
    assert len(server.hits) == 1  # asked once, not again
    assert "authorization" not in server.hits[0].headers
    assert db.count_papers() == 0 and db.get_state(api.checkpoint_key(VENUE)) is None


def test_a_refused_token_or_login_is_a_clear_error(db: Store, sleep: FakeSleep) -> None:
    with FakeOpenReview([note(1)]) as server:
        with pytest.raises(api.AuthRequired, match="refused the configured token"):
            run(db, settings_for(server, openreview_token="stale"), sleep)
        bad = settings_for(server, openreview_username=EMAIL, openreview_password="wrong")
        with pytest.raises(api.AuthRequired, match=r"refused the login of reader@example\.org"):
            run(db, bad, sleep)
    assert [h.path for h in server.hits] == ["/notes", "/login"]  # once each


def test_an_expired_login_token_logs_in_again_once(db: Store, sleep: FakeSleep) -> None:
    with FakeOpenReview([note(i) for i in range(1, 6)]) as server:
        server.queue[("GET", "/notes")] = [error(401, "TokenExpiredError", "jwt expired")]
        assert run(db, logged_in(server), sleep) == 5
        assert [h.method + " " + h.path for h in server.hits] == [
            "POST /login",
            "GET /notes",
            "POST /login",
            "GET /notes",
        ]
        # a second 401 right after the new login is not retried again
        server.queue[("GET", "/notes")] = [error(401, "TokenExpiredError", "x")] * 2
        with pytest.raises(api.AuthRequired):
            run(db, logged_in(server), sleep)


# ---- the harvest -------------------------------------------------------------------------------


def test_pages_of_1000_over_2350_notes(db: Store, sleep: FakeSleep) -> None:
    # another venue's notes in the same API are not asked for and not listed
    notes = [note(i) for i in range(1, 2351)] + [note(9000, "ICLR.cc/2025/Workshop/X")]
    seen: list[api.HarvestReport] = []
    with FakeOpenReview(notes) as server:
        assert run(db, logged_in(server), sleep, progress=lambda r: seen.append(r)) == 2350
    pages = server.hits_for("/notes")
    assert [(h.params["offset"], h.params["limit"]) for h in pages] == [
        ("0", "1000"),
        ("1000", "1000"),
        ("2000", "1000"),
    ]
    assert {h.params["content.venueid"] for h in pages} == {VENUE}
    assert len(seen) == 3 and seen[-1].done and seen[-1].offset == 2350 == seen[-1].count
    assert db.count_papers() == 2350
    assert db.get_state(api.checkpoint_key(VENUE)) == api.DONE
    stored = db.papers([f"{forum_id(i)}@OpenReview" for i in (1, 50, 2350)])
    assert len(stored) == 3
    p = stored[f"{forum_id(50)}@OpenReview"]
    assert (p.title, p.authors, p.source) == (
        "Paper title 50",
        ["First User50", "Andrew Mc"],
        "openreview",
    )
    assert p.abstract == "This is an abstract 50.\n\nIts second paragraph."
    assert (p.published, p.updated) == (datetime(2025, 1, 25), datetime(2025, 1, 26))
    assert (p.license, p.journal_ref, p.categories) == ("CC BY 4.0", "ICLR 2025 Oral", [])
    assert p.extra["venue"] == "ICLR 2025 Oral" and p.extra["venueid"] == VENUE
    assert p.extra["keywords"] == ["machine learning", "nlp"]
    assert p.extra["tldr"] == "Paper 50 in one sentence."
    assert p.extra["bibtex"].startswith("@inproceedings{\nuser2025paper,")
    assert "pdf" not in p.extra  # /pdf/<sha1>.pdf is the forum's own: /pdf?id=<forum>
    assert SOURCE.links(p).pdf == f"https://openreview.net/pdf?id={forum_id(50)}"
    assert SOURCE.bibtex(p) == p.extra["bibtex"]


def test_listings_take_their_group_from_the_decision(db: Store, sleep: FakeSleep) -> None:
    notes = [note(i) for i in range(1, 2351)]
    with FakeOpenReview(notes) as server, client(db, logged_in(server), sleep) as c:
        batches = list(api.harvest(c, VENUE))
    assert [b.offset for b in batches] == [0, 1000, 2000]
    assert [b.next_offset for b in batches] == [1000, 2000, None]
    listings = [x for b in batches for x in b.listings]
    assert len(listings) == 2350
    assert {(x.collection, x.edition, x.status, x.day) for x in listings} == {
        ("ICLR", "2025", "", date(2025, 1, 25))
    }
    groups: dict[str, list[tuple[int, str]]] = {}
    for x in listings:
        groups.setdefault(x.group, []).append((x.rank, x.paper_id))
    assert {g: len(v) for g, v in groups.items()} == {"Oral": 47, "Spotlight": 188, "Poster": 2115}
    for g, ranked in groups.items():
        # ranks count 1.. in the API's order (submission number), across pages
        assert [r for r, _ in ranked] == list(range(1, len(ranked) + 1)), g
    assert groups["Oral"][:2] == [
        (1, f"{forum_id(50)}@OpenReview"),
        (2, f"{forum_id(100)}@OpenReview"),
    ]
    assert batches[1].ranks == {"Oral": 40, "Spotlight": 160, "Poster": 1800}
    assert all(isinstance(b, Batch) for b in batches)


def test_resume_after_a_kill(db: Store, sleep: FakeSleep, monkeypatch: pytest.MonkeyPatch) -> None:
    written: list[api.VenueBatch] = []
    original = Store.write

    def spy(self: Store, batch: Batch, checkpoint: tuple[str, str] | None = None) -> None:
        original(self, batch, checkpoint)
        assert isinstance(batch, api.VenueBatch)
        written.append(batch)

    monkeypatch.setattr(Store, "write", spy)

    class Killed(BaseException):
        pass

    def kill(report: api.HarvestReport) -> None:
        raise Killed  # the process dies right after its first page was committed

    notes = [note(i) for i in range(1, 2351)]
    with FakeOpenReview(notes) as server:
        with pytest.raises(Killed):
            run(db, logged_in(server), sleep, progress=kill)
        assert db.count_papers() == 1000
        saved = db.get_state(api.checkpoint_key(VENUE))
        assert api.decode_checkpoint(saved) == (1000, {"Oral": 20, "Spotlight": 80, "Poster": 900})
        assert run(db, logged_in(server), sleep) == 1350
        offsets = [h.params["offset"] for h in server.hits_for("/notes")]
    assert offsets == ["0", "1000", "2000"]  # the first page is not asked again
    assert db.count_papers() == 2350
    assert db.get_state(api.checkpoint_key(VENUE)) == api.DONE
    ids_written = [p.id for b in written for p in b.papers]
    assert len(ids_written) == len(set(ids_written)) == 2350  # no duplicate, nothing lost
    ranks: dict[str, list[int]] = {}
    for b in written:
        for x in b.listings:
            ranks.setdefault(x.group, []).append(x.rank)
    for g, got in ranks.items():
        assert got == list(range(1, len(got) + 1)), g  # ranks go on where the kill left them


def test_a_finished_venue_is_harvested_afresh(db: Store, sleep: FakeSleep) -> None:
    with FakeOpenReview([note(i) for i in range(1, 4)]) as server:
        assert run(db, logged_in(server), sleep) == 3
        assert run(db, logged_in(server), sleep) == 3
        assert [h.params["offset"] for h in server.hits_for("/notes")] == ["0", "0"]
    assert db.count_papers() == 3


def test_retry_after_is_honoured(db: Store, sleep: FakeSleep) -> None:
    with FakeOpenReview([note(i) for i in range(1, 4)]) as server:
        server.queue[("GET", "/notes")] = [
            Canned(429, {"status": 429, "name": "TooManyRequests"}, {"Retry-After": "30"}),
            Canned(503, {"status": 503, "name": "Unavailable"}, {"Retry-After": "7"}),
        ]
        assert run(db, logged_in(server), sleep) == 3
    assert len(server.hits_for("/notes")) == 3
    waits = sorted(sleep.calls, reverse=True)
    assert waits[0] >= 29 and 6 <= waits[1] <= 8  # the host's wait each time, not our back-off
    assert db.count_papers() == 3


def test_the_pace_is_kept_between_pages(db: Store, sleep: FakeSleep) -> None:
    start = time.time()
    with FakeOpenReview([note(i) for i in range(1, 2351)]) as server:
        run(db, logged_in(server), sleep)
    assert len(server.hits) == 4  # login and three pages
    # one request a second (OpenReview's pace): the sleeps fill what the requests' own time
    # (real, on a loaded machine maybe most of it) left of the three intervals
    assert sum(sleep.calls) + (time.time() - start) >= 2.9


def test_a_host_that_keeps_failing_stops_the_harvest_resumably(db: Store, sleep: FakeSleep) -> None:
    with FakeOpenReview([note(i) for i in range(1, 1501)]) as server:
        down = Canned(502, {"status": 502, "name": "BadGateway"})
        server.queue[("GET", "/notes")] = [
            Canned(200, {"notes": [note(i) for i in range(1, 1001)], "count": 1500})
        ] + [down] * 10
        with pytest.raises(FetchError, match="gave up"):
            run(db, logged_in(server), sleep)
        assert db.count_papers() == 1000
        server.queue.clear()
        assert run(db, logged_in(server), sleep) == 500
    assert db.count_papers() == 1500


def test_a_malformed_note_is_skipped_and_logged(
    db: Store, sleep: FakeSleep, caplog: pytest.LogCaptureFixture
) -> None:
    untitled = note(2)
    del untitled["content"]["title"]
    listed = note(3)
    listed["content"] = ["not", "an", "object"]
    named = note(4)
    named["content"]["authors"] = {"value": "First User4, Andrew Mc"}
    blank = note(5)
    blank["content"]["title"] = {"value": "   "}
    notes = [note(1), untitled, listed, named, blank, note(6), "not a note"]
    with FakeOpenReview([]) as server:
        server.queue[("GET", "/notes")] = [Canned(200, {"notes": notes, "count": len(notes)})]
        with (
            caplog.at_level(logging.WARNING, logger="coolpapers.sources"),
            client(db, logged_in(server), sleep) as c,
        ):
            [batch] = list(api.harvest(c, VENUE))
        db.write(batch, checkpoint=(api.checkpoint_key(VENUE), batch.checkpoint))
    assert batch.skipped == 5
    assert [p.id for p in batch.papers] == [
        f"{forum_id(1)}@OpenReview",
        f"{forum_id(6)}@OpenReview",
    ]
    assert [x.rank for x in batch.listings] == [1, 2]  # skipped notes take no rank
    messages = "\n".join(r.getMessage() for r in caplog.records)
    for i, why in (
        (2, "no title"),
        (3, "content is not an object"),
        (4, "authors"),
        (5, "no title"),
    ):
        assert f"note {forum_id(i)} of {VENUE} skipped: {why}" in messages
    assert "note None of" in messages  # the one that is no object has no id to name
    assert db.count_papers() == 2


def test_a_note_without_pdf_or_optional_fields(db: Store, sleep: FakeSleep) -> None:
    bare = note(1)
    for name in ("pdf", "abstract", "authors", "keywords", "TLDR", "venue", "_bibtex"):
        del bare["content"][name]
    for name in ("pdate", "mdate", "tmdate", "license"):
        del bare[name]
    paper, venue, day = api.parse_note(bare, VENUE)
    assert (paper.title, paper.abstract, paper.authors, venue, day) == (
        "Paper title 1",
        "",
        [],
        None,
        None,
    )
    assert paper.published == paper.updated == datetime(2024, 10, 1, 0, 0, 0, 1000)
    assert paper.extra == {"venueid": VENUE, "pdf": None}
    assert SOURCE.links(paper).pdf is None
    db.write(Batch(papers=[paper]))
    assert db.count_papers() == 1


def test_an_unknown_venue_id_harvests_nothing(
    db: Store, sleep: FakeSleep, caplog: pytest.LogCaptureFixture
) -> None:
    def harvest(venue_id: str, server: FakeOpenReview) -> int:
        return api.run_harvest(db, logged_in(server), venue_id, sleep=sleep, clock=sleep.now)

    with (
        FakeOpenReview([note(1)]) as server,
        caplog.at_level(logging.WARNING, logger="coolpapers.sources"),
    ):
        assert harvest("ICLR.cc/2025/Conference/", server) == 1  # the docs' trailing slash
        assert harvest("ICLR.cc/2031/Conference", server) == 0
    assert "lists no accepted paper" in caplog.text
    assert api.checkpoint_key("ICLR.cc/2025/Conference/") == "openreview:ICLR.cc/2025/Conference"


def test_checkpoints_read_back() -> None:
    assert api.decode_checkpoint(None) == (0, {})
    assert api.decode_checkpoint(api.DONE) is None
    assert api.decode_checkpoint(api.encode_checkpoint(2000, {"Oral": 3})) == (2000, {"Oral": 3})
    assert api.decode_checkpoint("1000") == (1000, {})
    assert api.decode_checkpoint("{broken") == (0, {})


# ---- the FAQ's PDFs ------------------------------------------------------------------------------


def _pdf_requests(settings: Settings, url: str) -> list[httpx.Request]:
    """The requests `Clients` (the FAQ's fetcher) sends for `url`: a PDF, after one redirect
    to a storage host, as the API may answer (MockTransport: the route is the OpenAPI
    document's getPdf, /pdf?id=; no recorded response exists here)."""
    seen: list[httpx.Request] = []

    def reply(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "storage.example.org":
            return httpx.Response(200, content=b"%PDF-1.5 ...")
        return httpx.Response(302, headers={"Location": "https://storage.example.org/f.pdf"})

    with Clients(None, settings, transport=httpx.MockTransport(reply), sleep=lambda s: None) as c:
        assert c.get(url).content.startswith(b"%PDF")
    return seen


def test_pdfs_come_from_the_api_with_the_token_and_it_goes_nowhere_else() -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, openreview_token="tok", openreview_api="https://api2.openreview.net"
    )
    first, redirected = _pdf_requests(settings, "https://openreview.net/pdf?id=ryQu7f-RZ")
    assert str(first.url) == "https://api2.openreview.net/pdf?id=ryQu7f-RZ"
    assert first.headers["authorization"] == "Bearer tok"
    assert redirected.url.host == "storage.example.org"
    assert "authorization" not in redirected.headers


def test_pdfs_without_a_token_are_asked_of_the_site_anonymously() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    first, _ = _pdf_requests(settings, "https://openreview.net/pdf?id=ryQu7f-RZ")
    assert str(first.url) == "https://openreview.net/pdf?id=ryQu7f-RZ"
    assert "authorization" not in first.headers
