"""The home page's calendar in a real browser: a new visitor (no categories picked) gets the
instance's watched categories for a day, with JavaScript and without; after picking, the
reader's own listing."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

import pytest

from tests.e2e.conftest import DAYS

pytestmark = pytest.mark.e2e
WATCHED = "/arxiv/cs.AI+cs.CL+cs.CV+cs.LG"  # COOLPAPERS_WATCH_CATEGORIES' default


def cards(page: Any) -> int:
    return page.locator("div.papers div.paper").count()


def test_a_new_visitor_opens_a_day_from_the_calendar(new_page: Any) -> None:
    page = new_page()
    page.goto("/")
    assert page.inner_text("#my-listing") == "pick categories below"
    links = page.locator("a.day-link")
    assert links.count() == len(DAYS)
    assert links.first.get_attribute("data-date") == DAYS[-1]
    assert page.inner_text("p.recent span.day-cats") == WATCHED.removeprefix("/arxiv/")
    links.nth(1).click()
    page.wait_for_url(re.compile(re.escape(f"{WATCHED}?date={DAYS[1]}") + "$"))
    assert cards(page) > 0 and DAYS[1] in page.inner_text("p.info")
    # the date picker is a form: pick a day, press open
    page.goto("/")
    page.fill("#my-date", DAYS[0])
    page.click("#my-day-go")
    page.wait_for_url(re.compile(re.escape(f"{WATCHED}?date={DAYS[0]}") + "$"))
    assert cards(page) > 0
    # once the reader follows categories, the calendar opens their listing instead
    page.goto("/")
    page.click("button.pick[data-cat='cs.CL']")
    page.click("button.pick[data-cat='cs.LG']")
    page.click("button.pick[data-cat='cs.LG']")  # follow -> exclude
    mine = "/arxiv/cs.CL-cs.LG"
    assert page.get_attribute("#my-listing", "href") == mine
    assert page.locator("a.day-link").first.get_attribute("href") == f"{mine}?date={DAYS[-1]}"
    page.fill("#my-date", DAYS[1])
    page.dispatch_event("#my-date", "change")
    assert page.get_attribute("#my-listing", "href") == f"{mine}?date={DAYS[1]}"
    page.click("#my-day-go")
    page.wait_for_url(re.compile(re.escape(f"{mine}?date={DAYS[1]}") + "$"))
    page.goto("/")
    page.click("a.day-link >> nth=0")
    page.wait_for_url(re.compile(re.escape(f"{mine}?date={DAYS[-1]}") + "$"))
    # clear: back to the watched categories
    page.goto("/")
    page.click("#my-clear")
    assert page.locator("a.day-link").first.get_attribute("href") == f"{WATCHED}?date={DAYS[-1]}"


def test_the_calendar_works_with_javascript_off(new_page: Any) -> None:
    page = new_page(js=False)
    page.goto("/")
    href = page.locator("a.day-link").first.get_attribute("href")
    assert href == f"{WATCHED}?date={DAYS[-1]}"
    page.fill("#my-date", DAYS[1])
    page.click("#my-day-go")
    page.wait_for_url(re.compile(r"\?date="))
    assert unquote(page.url).endswith(f"{WATCHED}?date={DAYS[1]}")
    assert cards(page) > 0 and DAYS[1] in page.inner_text("p.info")
