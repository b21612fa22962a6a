"""The example site in headless Chromium: no console errors, no failed requests, axe clean.

Screenshots land in tests/artifacts/ (git-ignored) for a reviewer to look at.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.conftest import REPO, add_real_markdown, run

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))  # Debian's; CI may point to another build
AXE = REPO / ".tools/node_modules/axe-core/axe.min.js"
ARTIFACTS = REPO / "tests/artifacts"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGES = {
    "home": "",
    "briefing": "2015/09/kweiris-russian-jets/",
    "tag": "tags/isis/",
    "timeline": "timeline/",
    "story": "stories/russia-in-syria/",
    "corrections": "corrections/",
    "country": "countries/syria/",
    "month": "2016/12/",
    "not-found": "404.html",
    "search": "search/?q=ceasefire&region=Middle+East",
    "markdown": "2016/07/real-markdown/",  # authors' HTML, a wide code block, bare links
}

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Build the example archive under /archive/ and serve it over HTTP on loopback."""
    out = tmp_path_factory.mktemp("served")
    for name in ("site.yaml", "content", "templates", "static"):
        copy = shutil.copytree if (REPO / name).is_dir() else shutil.copy
        copy(REPO / name, out / name)
    add_real_markdown(out)
    assert run(out, "--quiet", "--base-url", "http://127.0.0.1/archive/") == 0
    (out / "www").mkdir()
    (out / "_site").rename(out / "www" / "archive")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(out / "www"))
    )
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/archive/"
    server.shutdown()
    server.server_close()
    thread.join()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serve files without logging every request; close each connection after answering."""

    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: run scripts/install-test-tools (make test does)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield launched
        launched.close()


@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize("width", [1280, 320])
def test_page_loads_cleanly_and_passes_axe(browser: Browser, base_url: str, name: str, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
    page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    response = page.goto(base_url + PAGES[name], wait_until="networkidle")
    assert response is not None and response.status == 200
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
    # Nothing overflows sideways at 320 px.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    serious = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], json.dumps(serious, indent=1)[:2000]
    assert problems == []
    context.close()


def test_dark_scheme_is_applied(browser: Browser, base_url: str) -> None:
    page = browser.new_page(color_scheme="dark")
    page.goto(base_url)
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.screenshot(path=str(ARTIFACTS / "home-dark.png"))
    assert background == "rgb(22, 23, 26)"
    page.close()


def test_keyboard_focus_reaches_skip_link_first(browser: Browser, base_url: str) -> None:
    page = browser.new_page()
    page.goto(base_url)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    page.close()


def test_a_listing_reads_as_a_column_of_dates_beside_titles_on_a_phone(browser: Browser, base_url: str) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(base_url + "tags/syrian-civil-war/")
    headings = page.locator("main h2.period").all_inner_texts()
    assert headings[:2] == ["2019", "2018"]
    for item in page.locator("ol.dated > li").all()[:6]:
        date, title = item.locator("span").first.bounding_box(), item.locator("a").first.bounding_box()
        assert date and title and date["x"] + date["width"] <= title["x"]  # the date column, then the title
        assert abs(date["y"] - title["y"]) < 8  # on the title's first line
    page.close()


def test_a_phone_gets_one_row_of_masthead_and_the_trail_home(browser: Browser, base_url: str) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(base_url + "2016/12/aleppo-government-control/")
    masthead = page.locator("header.masthead").bounding_box()
    assert masthead and masthead["height"] < 70  # one row: the name and the sections beside it
    crumbs = page.locator("nav.crumbs a")
    assert crumbs.all_inner_texts() == ["Home", "Regions", "Middle East"] and crumbs.first.is_visible()
    # The sections overflow the row, and its edges carry the scrolling shadows that say so (the
    # covers scroll with the links, the shadows stay at the edges).
    nav = "document.getElementById('site-nav')"
    assert page.evaluate(f"{nav}.scrollWidth > {nav}.clientWidth")
    assert page.evaluate(f"getComputedStyle({nav}).backgroundAttachment") == "local, local, scroll, scroll"
    page.locator("nav#site-nav a", has_text="Search").scroll_into_view_if_needed()
    assert page.locator("nav#site-nav a", has_text="Search").is_visible()  # the sections scroll sideways
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.close()
