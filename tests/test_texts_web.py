"""TL;DRs and translations on the web (web/texts.py) against the local fake LLM server and a
real worker pool: the kept texts of a page's cards, one paper's status and the text so far,
a reader's request (single flight, rate limit), bad input answered 400/404 (never 500), what
the model writes and what a paper carries escaped in `html`, the JSON API's `tldr`, the feeds'
summaries, the admin page."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import etree, html

from coolpapers.config import Settings
from coolpapers.llm import texts
from coolpapers.llm.service import FaqService
from coolpapers.llm.texts import ABSTRACT, TITLE, TLDR
from coolpapers.llm.worker import Workers
from coolpapers.store import Store
from coolpapers.web.app import create_app
from tests.llm_server import FakeLLM
from tests.llm_support import add_papers, clean_faq, faq_settings, paper, wait_for

MATHY = "We bound $x^2 \\le y$ on 12.5% of arXiv:2309.16354.\n\nA second paragraph."
EVIL = "<script>alert(1)</script><img src=x onerror=alert(1)>"
TLDR_TEXT = "This paper bounds $x^2$ and finds that it works."


def answer(messages: list[dict[str, Any]]) -> str:
    """A TL;DR, or a 'translation' keeping the [M1] placeholders (tests/test_llm_texts.py)."""
    user = messages[-1]["content"]
    if "Translate" not in user:
        return f"TL;DR: {TLDR_TEXT}"
    return "译：" + user.split("\n\n", 1)[1]


def evil(messages: list[dict[str, Any]]) -> str:
    user = messages[-1]["content"]
    if "Translate" not in user:
        return f"{EVIL} works."
    return EVIL + " " + user.split("\n\n", 1)[1]


class Env:
    def __init__(self, store: Store, settings: Settings, workers: bool = True) -> None:
        self.store, self.settings = store, settings
        self.client = TestClient(create_app(settings, store))
        self.workers = (
            Workers(FaqService(store, settings), slots=2, poll=0.02).start() if workers else None
        )

    def stop(self) -> None:
        if self.workers is not None:
            self.workers.stop()

    def until_done(self, pid: str, task: str, lang: str = "zh") -> dict[str, Any]:
        url = f"/api/papers/{pid}/texts/{task}"
        out: dict[str, Any] = {}

        def done() -> bool:
            out.update(self.client.get(url, params={"lang": lang}).json())
            return out["state"] in ("done", "failed")

        wait_for(done)
        return out


@pytest.fixture
def texts_store(store: Store) -> Iterator[Store]:
    clean_faq(store)
    add_papers(
        store,
        [
            paper("2606.00001", abstract=MATHY),
            paper("2606.00002", title="A <b>bold</b> $x<y$ title <script>alert(2)</script>"),
            paper("2606.00003"),
        ],
    )
    yield store


@pytest.fixture
def env(texts_store: Store) -> Iterator[tuple[Env, FakeLLM]]:
    with FakeLLM(answer=answer, delay=0.001) as llm:
        e = Env(texts_store, faq_settings(llm.url, llm_admin_token="s3cret"))
        yield e, llm
        e.stop()


def test_a_reader_asks_for_a_tldr_and_it_is_kept(env: tuple[Env, FakeLLM]) -> None:
    e, llm = env
    c = e.client
    assert c.get("/api/texts", params={"ids": "2606.00001", "task": "tldr"}).json() == {}
    j = c.get("/api/papers/2606.00001/texts/tldr").json()
    assert j["state"] == "none" and j["configured"] is True and "text" not in j
    r = c.post("/api/papers/2606.00001/texts/tldr")
    assert r.status_code == 200 and r.json()["state"] in ("pending", "running", "done")
    done = e.until_done("2606.00001", TLDR)
    assert done["state"] == "done" and done["lang"] == "en"
    assert done["text"] == TLDR_TEXT and done["model"] == "fake-model"
    assert done["prompt_version"] == texts.PROMPT_VERSION
    assert '<span class="math notranslate" translate="no">$x^2$</span>' in done["html"]
    kept = c.get("/api/texts", params={"ids": "2606.00001,2606.00002", "task": "tldr"}).json()
    assert list(kept) == ["2606.00001"]
    assert kept["2606.00001"] == {
        "text": TLDR_TEXT,
        "html": done["html"],
        "model": "fake-model",
        "prompt_version": texts.PROMPT_VERSION,
    }
    # Asked again: the kept one, no call.
    n = len(llm.calls)
    again = c.post("/api/papers/2606.00001/texts/tldr").json()
    assert again["text"] == TLDR_TEXT and len(llm.calls) == n == 1
    # A TL;DR is in the paper's language whatever a client names.
    assert c.get("/api/papers/2606.00001/texts/tldr?lang=zh").json()["text"] == TLDR_TEXT


def test_a_translation_keeps_math_and_paragraphs(env: tuple[Env, FakeLLM]) -> None:
    e, _ = env
    c = e.client
    for task in (ABSTRACT, TITLE):
        assert c.post(f"/api/papers/2606.00001/texts/{task}", params={"lang": "zh"}).is_success
    ab = e.until_done("2606.00001", ABSTRACT)
    assert ab["text"] == "译：" + MATHY
    assert "<br><br>" in ab["html"]  # paragraphs, as the card's abstract
    assert '<span class="math notranslate" translate="no">$x^2 \\le y$</span>' in ab["html"]
    ti = e.until_done("2606.00001", TITLE)
    assert ti["text"] == "译：A paper about $x_{1}$"
    kept = c.get("/api/texts", params={"ids": "2606.00001", "task": "abstract", "lang": "zh"})
    assert kept.json()["2606.00001"]["html"] == ab["html"]
    # other languages are texts of their own
    assert c.get("/api/texts?ids=2606.00001&task=abstract&lang=ja").json() == {}


def test_many_readers_at_once_start_one_generation(texts_store: Store) -> None:
    with FakeLLM(answer=answer, delay=0.02, piece=4) as llm:
        e = Env(texts_store, faq_settings(llm.url, llm_rate_limit=1))
        try:
            codes: list[int] = []

            def ask(i: int) -> None:
                client = TestClient(e.client.app, client=(f"198.51.100.{i}", 40000))
                r = client.post("/api/papers/2606.00003/texts/abstract?lang=de")
                codes.append(r.status_code)

            threads = [threading.Thread(target=ask, args=(i,)) for i in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert codes == [200] * 8
            done = e.until_done("2606.00003", ABSTRACT, "de")
            assert done["state"] == "done"
        finally:
            e.stop()
    assert len(llm.calls) == 1


def test_partial_text_while_it_is_written(texts_store: Store) -> None:
    with FakeLLM(answer=answer, delay=0.05, piece=3) as llm:
        e = Env(texts_store, faq_settings(llm.url))
        try:
            e.client.post("/api/papers/2606.00001/texts/abstract?lang=zh")
            seen: dict[str, Any] = {}

            def partial() -> bool:
                j = e.client.get("/api/papers/2606.00001/texts/abstract?lang=zh").json()
                if j["state"] == "running" and j.get("partial"):
                    seen.update(j)
                    return True
                return False

            wait_for(partial)
            assert "译" in seen["partial"] and "[M" not in seen["partial_html"]
            assert e.until_done("2606.00001", ABSTRACT)["state"] == "done"
        finally:
            e.stop()


def test_rate_limit_charges_only_new_work(texts_store: Store) -> None:
    settings = faq_settings("http://127.0.0.1:9/v1", llm_rate_limit=2)
    e = Env(texts_store, settings, workers=False)  # no workers: jobs stay pending
    c = e.client
    assert c.post("/api/papers/2606.00001/texts/tldr").json()["state"] == "pending"
    assert c.post("/api/papers/2606.00002/texts/tldr").json()["position"] == 2
    r = c.post("/api/papers/2606.00003/texts/tldr")
    assert r.status_code == 429 and "too many" in r.json()["error"]
    # joining a pending job and reading are free
    assert c.post("/api/papers/2606.00001/texts/tldr").status_code == 200
    assert c.get("/api/papers/2606.00003/texts/tldr").json()["state"] == "none"
    # another address has its own allowance
    other = TestClient(c.app, client=("198.51.100.9", 40000))
    assert other.post("/api/papers/2606.00003/texts/tldr").status_code == 200


def test_bad_input_is_400_or_404_never_500(env: tuple[Env, FakeLLM]) -> None:
    c = env[0].client
    assert c.get("/api/texts?ids=2606.00001&task=evil").status_code == 400
    assert c.get("/api/texts?ids=2606.00001&task=title&lang=<script>").status_code == 400
    assert (
        c.get("/api/texts?ids=" + ",".join(f"2606.{i:05d}" for i in range(300))).status_code == 400
    )
    assert c.get("/api/texts?ids=not-an-id,,%00,2606.00001").json() == {}
    assert c.get("/api/texts").json() == {}
    for method in ("GET", "POST"):
        assert c.request(method, "/api/papers/2606.00001/texts/poem").status_code == 400
        r = c.request(method, "/api/papers/2606.00001/texts/title?lang=x1")
        assert r.status_code == 400 and "error" in r.json()
        assert c.request(method, "/api/papers/9999.99999/texts/tldr").status_code == 404
        assert c.request(method, "/api/papers/not%20an%20id/texts/tldr").status_code == 404
        assert c.request(method, "/api/papers/2606.00001/texts/").status_code in (400, 404, 405)


def test_no_model_configured_is_a_clear_503(texts_store: Store) -> None:
    c = TestClient(create_app(faq_settings(""), texts_store))
    r = c.post("/api/papers/2606.00001/texts/tldr")
    assert r.status_code == 503 and r.json()["configured"] is False
    assert "COOLPAPERS_LLM_BASE_URL" in r.json()["error"]
    j = c.get("/api/papers/2606.00001/texts/tldr").json()
    assert j["configured"] is False and "COOLPAPERS_LLM_BASE_URL" in j["message"]
    assert c.get("/api/texts/info").json()["configured"] is False
    info = TestClient(create_app(faq_settings("http://127.0.0.1:9/v1"), texts_store))
    langs = info.get("/api/texts/info").json()["languages"]
    assert langs[0] == {"code": "zh", "name": texts.LANGUAGES["zh"]}


def test_model_text_and_paper_markup_come_back_escaped(texts_store: Store) -> None:
    with FakeLLM(answer=evil) as llm:
        e = Env(texts_store, faq_settings(llm.url))
        try:
            for pid in ("2606.00001", "2606.00002"):
                for task in (TLDR, TITLE, ABSTRACT):
                    assert e.client.post(f"/api/papers/{pid}/texts/{task}?lang=zh").is_success
            out = [
                e.until_done(pid, task)
                for pid in ("2606.00001", "2606.00002")
                for task in (TLDR, TITLE, ABSTRACT)
            ]
        finally:
            e.stop()
    for j in out:
        assert j["state"] == "done"
        frag = html.fromstring(f"<div>{j['html']}</div>")
        # nothing but text and math spans (and <br>): no script, no img, no handler
        assert {x.tag for x in frag.iter()} <= {"div", "span", "br"}
        assert not frag.xpath("//@onerror | //@src")
        if "<script>" in j["text"]:
            assert "&lt;script&gt;" in j["html"] and "<script" not in j["html"]
    title = next(j for j in out if j["paper"] == "2606.00002" and j["task"] == TITLE)
    assert "&lt;b&gt;bold&lt;/b&gt;" in title["html"] and "&lt;script&gt;alert(2)" in title["html"]
    assert '<span class="math notranslate" translate="no">$x&lt;y$</span>' in title["html"]


def _tldr_kept(e: Env, pid: str) -> None:
    e.client.post(f"/api/papers/{pid}/texts/tldr")
    assert e.until_done(pid, TLDR)["state"] == "done"


def test_the_json_api_and_feeds_carry_the_tldr(env: tuple[Env, FakeLLM]) -> None:
    e, _ = env
    _tldr_kept(e, "2606.00001")
    c = e.client
    one = c.get("/api/papers/2606.00001").json()
    want = {"text": TLDR_TEXT, "model": "fake-model", "prompt_version": texts.PROMPT_VERSION}
    assert one["tldr"] == want
    assert c.get("/api/papers/2606.00002").json()["tldr"] is None
    many = c.get("/api/papers?ids=2606.00002,2606.00001").json()["papers"]
    assert [p["tldr"] for p in many] == [None, want]
    listing = c.get("/api/listing/cs.CL?date=2026-06-04").json()
    by_id = {x["paper"]["id"]: x["paper"]["tldr"] for x in listing["entries"]}
    assert by_id["2606.00001"] == want and by_id["2606.00003"] is None
    ns = {"a": "http://www.w3.org/2005/Atom"}
    for url in ("/arxiv/2606.00001,2606.00002/feed", "/arxiv/cs.CL/feed?date=2026-06-04"):
        feed = etree.fromstring(c.get(url).content)
        sums = {
            x.findtext("a:id", namespaces=ns).rsplit("/", 1)[1]: x.findtext(
                "a:summary", namespaces=ns
            )
            for x in feed.findall("a:entry", ns)
        }
        assert sums["2606.00001"].startswith(f"TL;DR: {TLDR_TEXT}\n\n")
        assert sums["2606.00001"].endswith(MATHY)
        assert sums["2606.00002"] == "We study the abstract problem of testing."
    # the listing pages stay free of TL;DRs (cached and shared; texts.js fetches them)
    assert TLDR_TEXT not in c.get("/arxiv/2606.00001").text


def test_admin_page_shows_usage_and_needs_the_token(env: tuple[Env, FakeLLM]) -> None:
    e, _ = env
    _tldr_kept(e, "2606.00001")
    c = e.client
    assert c.get("/admin/llm").status_code == 403
    assert c.get("/admin/llm", headers={"Authorization": "s3cret"}).status_code == 403
    assert c.get("/admin/llm", headers={"Authorization": "Bearer wrong"}).status_code == 403
    r = c.get("/admin/llm", headers={"Authorization": "Bearer s3cret"})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    doc = html.fromstring(r.text)
    trs = doc.xpath("//table[@id='llm-usage']//tbody/tr")
    rows = [[td.text_content() for td in tr.xpath("td")] for tr in trs]
    assert [(x[1], x[2], x[3]) for x in rows] == [("tldr", "readers", "1")]
    assert "no daily budget set" in doc.xpath("//p[@id='llm-today']")[0].text_content()
    # no token configured: nobody is admin
    open_ = TestClient(create_app(faq_settings("http://127.0.0.1:9/v1"), e.store))
    assert open_.get("/admin/llm", headers={"Authorization": "Bearer "}).status_code == 403
