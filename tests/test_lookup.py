"""One lookup for pages, the JSON API and the FAQ: the store, else the key's source on demand.

One policy everywhere: a source that cannot answer now (`Unavailable`) keeps what it found and
makes the rest pending (503 with Retry-After); any other failure is logged and its keys are
missing (404, never a 500); an id of no registered source is no paper (404 or 400)."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from importlib.metadata import EntryPoint

import pytest
from fastapi.testclient import TestClient
from lxml import html

from coolpapers.config import Settings
from coolpapers.records import Batch, Paper
from coolpapers.sources import registry
from coolpapers.sources.base import Fetcher, Unavailable
from coolpapers.store import Store
from coolpapers.web.app import create_app
from coolpapers.web.lookup import Lookup
from tests.fake_sources import CONF as FAKE_CONF
from tests.fake_sources import Venue

STORED, ABSENT, ACL_KEY = "2401.00001", "2401.99999", "2024.p-1@Conf"


def settings(on_demand: bool = True) -> Settings:
    return Settings(_env_file=None, database_url="sqlite://", fetch_on_demand=on_demand)  # type: ignore[call-arg]


def paper(key: str, source: str = "arxiv") -> Paper:
    p = Paper(key, f"Title of {key}", "An abstract.", ["A. Author"], ["cs.CL"], version=1)
    p.source = source
    return p


@pytest.fixture
def store(sqlite_store: Store) -> Store:
    sqlite_store.write(Batch(papers=[paper(STORED)]))
    return sqlite_store


def busy(found: Sequence[str] = ()) -> Fetcher:
    """A source that is paced now: what it has, and the rest in 7.6 s."""

    def fetch(keys: Sequence[str]) -> dict[str, Paper]:
        have = {k: paper(k) for k in keys if k in found}
        raise Unavailable(have, [k for k in keys if k not in have], 7.6, "arXiv is busy")

    return fetch


def broken(keys: Sequence[str]) -> dict[str, Paper]:
    raise RuntimeError("boom")


def client(store: Store, fetcher: Fetcher | None, on_demand: bool = True) -> TestClient:
    return TestClient(
        create_app(settings(on_demand), store, fetcher), raise_server_exceptions=False
    )


# ---- the lookup itself ----------------------------------------------------------------------


def test_unavailable_keeps_what_was_found_and_names_the_pending(store: Store) -> None:
    got = Lookup(store, settings(), busy(found=["2401.00002"]))(
        [ABSENT, STORED, "2401.00002", STORED]
    )
    assert sorted(got.found) == [STORED, "2401.00002"]
    assert got.pending == [ABSENT] and got.missing == [] and got.fetching
    assert got.retry == 7 and got.reason == "arXiv is busy"
    assert got.message == f"{ABSENT}: arXiv is busy; try again in 7 s"


def test_a_failing_fetcher_is_logged_and_its_keys_are_missing(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="coolpapers.web"):
        got = Lookup(store, settings(), broken)([STORED, ABSENT])
    assert list(got.found) == [STORED] and got.missing == [ABSENT] and not got.pending
    assert got.fetching and f"on-demand fetch of ['{ABSENT}'] failed: boom" in caplog.text


def test_no_source_is_asked_with_fetching_off_or_nothing_missing(store: Store) -> None:
    got = Lookup(store, settings(on_demand=False), broken)([STORED, ABSENT])
    assert got.missing == [ABSENT] and not got.fetching
    got = Lookup(store, settings(), broken)([STORED])
    assert list(got.found) == [STORED] and not got.fetching


# ---- pending: 503 with Retry-After on pages, the API and the FAQ ----------------------------


def test_page_of_a_pending_paper_is_503_with_retry_after(store: Store) -> None:
    c = client(store, busy())
    r = c.get(f"/arxiv/{STORED},{ABSENT}")
    assert r.status_code == 503
    assert r.headers["retry-after"] == "7" and r.headers["cache-control"] == "no-store"
    doc = html.fromstring(r.text)
    assert doc.xpath(f"//div[@id='{STORED}']")  # what is here is shown meanwhile
    assert "arXiv is busy" in doc.text_content() and ABSENT in doc.text_content()


def test_api_answers_503_when_nothing_is_found_yet(store: Store) -> None:
    c = client(store, busy())
    for url in (
        f"/api/papers/{ABSENT}",
        f"/api/papers?ids={ABSENT}",
        f"/api/papers/{ABSENT}/bibtex",
    ):
        r = c.get(url)
        assert r.status_code == 503 and r.headers["retry-after"] == "7", url
        assert r.json()["detail"] == f"{ABSENT}: arXiv is busy; try again in 7 s"
    # some found: the papers there are, the rest listed as missing, as before
    j = c.get(f"/api/papers?ids={STORED},{ABSENT}").json()
    assert [p["id"] for p in j["papers"]] == [STORED] and j["missing"] == [ABSENT]


def test_faq_of_a_pending_paper_is_503_with_retry_after(store: Store) -> None:
    c = client(store, busy())
    for r in (c.get(f"/api/papers/{ABSENT}/faq"), c.post(f"/api/papers/{ABSENT}/faq")):
        assert r.status_code == 503 and r.headers["retry-after"] == "7"
        assert r.json() == {"error": f"{ABSENT}: arXiv is busy; try again in 7 s", "retry_after": 7}
    r = c.get(f"/arxiv/kimi?paper={ABSENT}")
    assert r.status_code == 503 and r.headers["retry-after"] == "7"
    assert "arXiv is busy" in r.text
    assert c.get(f"/api/papers/{STORED}/faq").json()["paper"] == STORED


# ---- failures and unknown ids: 404 (or the API's 400), never a 500 --------------------------


def test_a_failing_fetcher_is_404_everywhere(store: Store) -> None:
    c = client(store, broken)
    assert c.get(f"/arxiv/{ABSENT}").status_code == 404
    assert c.get(f"/arxiv/{STORED},{ABSENT}").status_code == 200
    assert c.get(f"/api/papers/{ABSENT}").status_code == 404
    assert c.get(f"/api/papers?ids={ABSENT}").json() == {"papers": [], "missing": [ABSENT]}
    assert c.get(f"/api/papers/{ABSENT}/faq").json() == {"error": f"no paper {ABSENT}"}
    assert c.get(f"/arxiv/kimi?paper={ABSENT}").status_code == 404


def test_ids_of_no_registered_source_are_no_paper(store: Store) -> None:
    c = client(store, broken)
    unknown = "2024.acl-long.1@Nowhere"
    assert c.get(f"/arxiv/{unknown}").status_code == 404
    assert c.get(f"/api/papers/{unknown}/faq").status_code == 404
    assert c.post(f"/api/papers/{unknown}/click?kind=pdf").status_code == 404
    assert c.get(f"/arxiv/related/{unknown}").status_code == 404
    assert c.get(f"/api/related/{unknown}").status_code == 404
    r = c.get(f"/api/papers/{unknown}")
    assert r.status_code == 400 and "not an arXiv id" in r.json()["detail"]


# ---- a second source: its keys go to its own fetcher ----------------------------------------


class FetchingConf(Venue):
    def __init__(self) -> None:
        super().__init__(**FAKE_CONF)
        self.fetched: list[list[str]] = []  # the keys each fetch was asked for
        self.busy = False

    def fetcher(self, store: Store, settings: Settings) -> Fetcher:
        def fetch(keys: Sequence[str]) -> dict[str, Paper]:
            self.fetched.append(list(keys))
            if self.busy:
                raise Unavailable({}, list(keys), 30.0, "the proceedings site is busy")
            return {k: paper(k, "conf") for k in keys}

        return fetch


CONF = FetchingConf()


@pytest.fixture
def with_conf(monkeypatch: pytest.MonkeyPatch) -> Iterator[FetchingConf]:
    ep = EntryPoint(name="conf", value=f"{__name__}:CONF", group=registry.GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda group: [ep])
    registry.clear()
    CONF.fetched.clear()
    CONF.busy = False
    yield CONF
    registry.clear()


def test_a_second_source_fetches_its_own_keys(store: Store, with_conf: FetchingConf) -> None:
    c = client(store, None)  # each source's own fetcher, as `serve` builds them
    j = c.get(f"/api/papers?ids={STORED},2024.p-1@conf").json()
    assert [(p["id"], p["source"]) for p in j["papers"]] == [(STORED, "arxiv"), (ACL_KEY, "conf")]
    assert with_conf.fetched == [[ACL_KEY]]  # only its keys, as keys (its suffix as it writes it)
    assert c.get(f"/api/papers/{ACL_KEY}/faq").json()["paper"] == ACL_KEY
    with_conf.busy = True
    r = c.get("/api/papers/2024.p-2@Conf")
    assert r.status_code == 503 and r.headers["retry-after"] == "30"
    assert "the proceedings site is busy" in r.json()["detail"]


def test_a_source_without_fetching_on_is_not_asked(store: Store, with_conf: FetchingConf) -> None:
    c = client(store, None, on_demand=False)
    assert c.get(f"/api/papers/{ACL_KEY}").status_code == 404
    assert with_conf.fetched == []
