"""`python build.py serve`: a real server in a subprocess, driven over HTTP and in Chromium."""

from __future__ import annotations

import contextlib
import http.client
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import lxml.html
import pytest

from briefings import pipeline
from briefings.cache import Cache
from briefings.serve import ROUNDS_KEPT, Clients, Preview, reloads
from tests.conftest import REPO, SITE_YAML, briefing, make_archive, run
from tests.test_incremental import build_locked, no_processes_left, tree

if TYPE_CHECKING:
    from playwright.sync_api import Page

FILES = {
    "2015/kweiris.md": briefing("Kweiris jets", "2015-09-24T10:00:00+03:00", "[Syria, Russia]"),
    "2015/paris.md": briefing("Paris attacks", "2015-11-13", "[France]", "Europe"),
}


@dataclass
class Server:
    """A running preview server: its process, its base URL, the archive it serves and what it printed."""

    process: subprocess.Popen[str]
    url: str
    root: Path
    lines: list[str]
    reader: threading.Thread

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
        """Request a raw path (sent exactly as given); return status, headers and body."""
        parts = urlsplit(self.url)
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        body = response.read().decode("utf-8", "replace")
        connection.close()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body

    def page(self, path: str) -> str:
        return self.get(urlsplit(self.url).path + path)[2]


def wait_for(check: Callable[[], bool], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def start(root: Path, *args: str) -> Server:
    """Start the server on a free port; return once it prints its URL."""
    process = subprocess.Popen(
        [sys.executable, str(REPO / "build.py"), "serve", "--root", str(root), "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("Serving "):
            lines: list[str] = []
            reader = threading.Thread(target=lines.extend, args=(process.stdout,), daemon=True)
            reader.start()
            return Server(process, line.split()[1], root, lines, reader)
    pytest.fail(f"the server did not start: {process.stderr.read() if process.stderr else ''}")


def stop(server: Server, signum: int = signal.SIGINT) -> tuple[int, str, str]:
    server.process.send_signal(signum)
    server.process.wait(timeout=20)
    server.reader.join(timeout=5)
    err = server.process.stderr.read() if server.process.stderr else ""
    for pipe in (server.process.stdout, server.process.stderr):
        if pipe:
            pipe.close()
    return server.process.returncode, "".join(server.lines), err


def served(folder: Path) -> Iterator[Server]:
    """Serve the test archive, made in `folder`, under /archive/; stop the server afterwards."""
    running = start(
        make_archive(folder, FILES, SITE_YAML.replace("https://example.org/", "https://example.org/archive/"))
    )
    yield running
    if running.process.poll() is None:
        stop(running)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """A server of its own, for a test that edits the archive or stops the server."""
    yield from served(tmp_path / "a")


@pytest.fixture(scope="module")
def untouched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the tests that only ask it for pages (starting one takes a second or two)."""
    yield from served(tmp_path_factory.mktemp("untouched") / "a")


def save(file: Path, text: str) -> None:
    """Save as editors do, atomically: a plain write can be read half-written, or seen as two saves."""
    saved = file.with_name(f".{file.name}.swp")
    saved.write_text(text)
    saved.replace(file)


def served_after(page: Page, reloads: int) -> None:
    """Wait until the tab shows a page served after the preview's `reloads`-th reload, fully loaded."""
    stamp = "(document.documentElement.innerHTML.match(/since=(\\d+)/) || [0, -1])[1]"
    page.wait_for_function(f"document.readyState === 'complete' && {stamp} >= {reloads}", timeout=15000)


def title(html: str) -> str:
    return lxml.html.fromstring(html).findtext(".//h1") or ""


def test_serves_under_the_base_path_with_reload_script_and_no_caching(untouched: Server) -> None:
    assert urlsplit(untouched.url).path == "/archive/"
    status, headers, body = untouched.get("/")
    assert status in (301, 302) and headers["location"] == "/archive/"
    status, headers, body = untouched.get("/archive/2015/09/kweiris/")
    assert status == 200 and title(body) == "Kweiris jets"
    assert headers["cache-control"] == "no-store"
    assert '<script src="/livereload.js?port=' in body
    # Links point at the preview's own address, under the same base path as production.
    assert 'href="/archive/countries/syria/"' in body
    assert untouched.get("/archive/css/style.css")[0] == 200
    assert not (untouched.root / "_site").exists() and (untouched.root / "_preview").is_dir()


def test_edits_additions_and_deletions_are_served(server: Server) -> None:
    content = server.root / "content"
    file = content / "2015" / "kweiris.md"
    file.write_text(file.read_text().replace("title: Kweiris jets", "title: Kweiris jets, edited"))
    wait_for(lambda: title(server.page("2015/09/kweiris/")) == "Kweiris jets, edited")

    (content / "2015" / "new.md").write_text(briefing("A new one", "2015-10-01", "[Syria]"))
    wait_for(lambda: "A new one" in server.page("countries/syria/"))
    assert server.get("/archive/2015/10/new/")[0] == 200

    (content / "2015" / "new.md").unlink()
    wait_for(lambda: server.get("/archive/2015/10/new/")[0] == 404)  # at once: its page is taken away first
    wait_for(lambda: "A new one" not in server.page("countries/syria/"))  # then the full build lists it no more


def test_the_spare_copy_is_made_once_the_first_build_is_served_and_stops_with_the_server(server: Server) -> None:
    """The first build writes _preview/ whole; the spare copy of hard links that each build writes
    into before the exchange is made right after it, in the background (at 100,000 briefings, 7
    to 11 s of links the first save's build would otherwise wait for). A save is served as ever."""
    preview, spare = server.root / "_preview", server.root / ".cache" / "spare_preview"
    wait_for(lambda: Cache(server.root).load_outputs("_preview").spare.inode >= 0)
    state = Cache(server.root).load_outputs("_preview")
    assert state.spare.inode == spare.stat().st_ino and state.spare.files == state.live.files
    assert all((spare / path).samefile(preview / path) for path in state.live.files)
    file = server.root / "content" / "2015" / "kweiris.md"
    save(file, file.read_text().replace("title: Kweiris jets", "title: Kweiris jets, edited"))
    wait_for(lambda: title(server.page("2015/09/kweiris/")) == "Kweiris jets, edited")
    code, out, err = stop(server)
    assert code == 0 and "Stopped." in out and "Traceback" not in err


def test_an_edited_page_is_shown_before_the_rest_is_rebuilt(server: Server) -> None:
    # Once the watches are up (the startup check has reported): a save before that is caught by the
    # startup check's full build, which shows no page first.
    wait_for(lambda: any(line.startswith("Rebuilt") for line in server.lines))
    file = server.root / "content" / "2015" / "kweiris.md"
    saved = file.with_name(".kweiris.md.tmp")  # saved as editors do: a temporary file renamed over it
    saved.write_text(file.read_text().replace("title: Kweiris jets", "title: Kweiris, quickly"))
    saved.replace(file)
    wait_for(lambda: title(server.page("2015/09/kweiris/")) == "Kweiris, quickly")
    wait_for(lambda: "Kweiris, quickly" in server.page("2015/11/paris/"))  # its neighbour, from the full build
    wait_for(lambda: any(line.startswith("Showed content/2015/kweiris.md") for line in server.lines))
    shown = [n for n, line in enumerate(server.lines) if line.startswith("Showed content/2015/kweiris.md")]
    # The rebuilt folder can be served a moment before the server prints that it rebuilt.
    wait_for(lambda: any(line.startswith("Rebuilt") for line in server.lines[shown[-1] :]))


def test_a_new_tag_and_story_are_shown_before_the_rest_is_rebuilt(server: Server) -> None:
    wait_for(lambda: any(line.startswith("Rebuilt") for line in server.lines))
    file = server.root / "content" / "2015" / "kweiris.md"
    file.write_text(file.read_text().replace("tags: [Syria, Russia]", "story: Kweiris airbase\ntags: [Sieges]"))
    wait_for(lambda: 'href="/archive/tags/sieges/"' in server.page("2015/09/kweiris/"))
    assert 'href="/archive/stories/kweiris-airbase/"' in server.page("2015/09/kweiris/")
    wait_for(lambda: any(line.startswith("Showed content/2015/kweiris.md") for line in server.lines))
    wait_for(lambda: server.get("/archive/tags/sieges/")[0] == 200)  # the full build makes the tag's page


def test_a_new_briefing_is_shown_at_its_url_before_the_rest_is_rebuilt(server: Server) -> None:
    wait_for(lambda: any(line.startswith("Rebuilt") for line in server.lines))
    save(server.root / "content" / "2015" / "homs.md", briefing("Homs", "2015-09-26T09:00:00+03:00", "[Syria]"))
    wait_for(lambda: title(server.page("2015/09/homs/")) == "Homs")
    wait_for(lambda: any(line.startswith("Showed content/2015/homs.md") for line in server.lines))
    shown = [n for n, line in enumerate(server.lines) if line.startswith("Showed content/2015/homs.md")]
    wait_for(lambda: any(line.startswith("Rebuilt") for line in server.lines[shown[-1] :]))
    wait_for(lambda: "Homs" in server.page("countries/syria/"))  # the full build lists it


def test_a_briefing_that_moves_is_shown_at_its_new_url_and_the_open_tab_follows(server: Server) -> None:
    wait_for(lambda: any(line.startswith("Rebuilt") for line in server.lines))
    file = server.root / "content" / "2015" / "kweiris.md"
    file.write_text(file.read_text().replace("date: 2015-09-24T10:00:00+03:00", "date: 2015-10-24T10:00:00+03:00"))
    wait_for(lambda: server.get("/archive/2015/10/kweiris/")[0] == 200)
    # The page can be served a moment before the server prints that it showed it.
    wait_for(lambda: any(line.startswith("Showed content/2015/kweiris.md") for line in server.lines))
    shown = [n for n, line in enumerate(server.lines) if line.startswith("Showed content/2015/kweiris.md")]
    wait_for(lambda: any(line.startswith("Rebuilt") for line in server.lines[shown[-1] :]))
    # The built preview, like the site, has nothing at the old URL; the preview still sends a tab
    # left there on to the new one while it runs.
    assert not (server.root / "_preview/2015/09/kweiris").exists()
    status, _, body = server.get("/archive/2015/09/kweiris/")
    assert status == 200 and 'http-equiv="refresh" content="0; url=http://127.0.0.1:' in body
    assert "/archive/2015/10/kweiris/" in lxml.html.fromstring(body).xpath("//link[@rel='canonical']/@href")[0]


def test_template_static_and_settings_changes_are_served(server: Server) -> None:
    template = server.root / "templates" / "briefing.html"
    template.write_text(template.read_text().replace("<h1>{{ b.title }}</h1>", "<h1>Now: {{ b.title }}</h1>"))
    wait_for(lambda: title(server.page("2015/09/kweiris/")) == "Now: Kweiris jets")
    css = server.root / "static" / "css" / "style.css"
    css.write_text(css.read_text() + "\n.added-by-test { color: red }\n")
    wait_for(lambda: ".added-by-test" in server.page("css/style.css"))
    site = server.root / "site.yaml"  # saved by rename, as editors do
    site.with_name("site.yaml.tmp").write_text(site.read_text().replace("title: Test Archive", "title: Renamed"))
    site.with_name("site.yaml.tmp").replace(site)
    wait_for(lambda: "Renamed" in (lxml.html.fromstring(server.page("")).findtext(".//title") or ""))


def test_drafts_are_previewed_with_drafts(tmp_path: Path) -> None:
    files = {**FILES, "2015/unfinished.md": briefing("Unfinished", "2015-10-02", "[Syria]", extra="draft: true\n")}
    plain, drafts = start(make_archive(tmp_path / "a", files)), start(make_archive(tmp_path / "b", files), "--drafts")
    try:
        assert plain.get("/2015/10/unfinished/")[0] == 404
        assert title(drafts.page("2015/10/unfinished/")) == "Unfinished"
    finally:
        stop(plain)
        stop(drafts)


def test_an_error_is_shown_on_every_page_until_it_is_fixed(server: Server) -> None:
    file = server.root / "content" / "2015" / "paris.md"
    good = file.read_text()
    file.write_text(good.replace("region: Europe", "region: <Europa>"))
    wait_for(lambda: server.get("/archive/")[0] == 500)
    for path in ("/archive/", "/archive/2015/09/kweiris/", "/archive/no/such/page/"):
        status, _, body = server.get(path)
        doc = lxml.html.fromstring(body)
        assert status == 500
        assert 'content/2015/paris.md:7: region: "<Europa>" is not a known region' in doc.text_content()
        assert "<Europa>" not in body  # escaped
    file.write_text(good)
    wait_for(lambda: server.get("/archive/")[0] == 200)
    assert title(server.page("2015/11/paris/")) == "Paris attacks"


def test_a_burst_of_saves_causes_one_rebuild(server: Server) -> None:
    # Past the startup check (a rebuild half a second after start): counted once it has said so, however slow.
    wait_for(lambda: any(line.startswith("Rebuilt") for line in server.lines))
    rebuilds = sum(line.startswith("Rebuilt") for line in server.lines)
    folder = server.root / "content" / "2015"
    for number in range(8):  # an editor's atomic saves: write a temporary file, rename it over the briefing
        temporary = folder / f".paris.md.swp{number}"
        temporary.write_text(briefing(f"Paris attacks {number}", "2015-11-13", "[France]", "Europe"))
        temporary.replace(folder / "paris.md")
        time.sleep(0.005)
    wait_for(lambda: title(server.page("2015/11/paris/")) == "Paris attacks 7")
    # The page is shown before the build; once the build has said so, no second one follows.
    wait_for(lambda: sum(line.startswith("Rebuilt") for line in server.lines) > rebuilds)
    time.sleep(0.5)
    assert sum(line.startswith("Rebuilt") for line in server.lines) == rebuilds + 1


@pytest.mark.parametrize(
    "path", ["/../site.yaml", "/archive/../site.yaml", "/archive/%2e%2e/site.yaml", "/archive/..%2fsite.yaml",
             "/archive/%2e%2e%2fcontent/2015/paris.md", "/archive/css/", "/site.yaml", "/archive/.cache/"],
)  # fmt: skip
def test_nothing_outside_the_preview_is_served(untouched: Server, path: str) -> None:
    status, _, body = untouched.get(path)
    assert status == 404
    assert "title: Paris attacks" not in body and "base_url" not in body


@pytest.mark.parametrize("path", ["/archive/" + "a" * 300 + "/", "/archive/" + "a/" * 2100])
def test_a_path_too_long_for_the_file_system_is_not_found(untouched: Server, path: str) -> None:
    status, _, _ = untouched.get(path)
    assert status == 404
    assert untouched.get("/archive/")[0] == 200  # and the server is still well
    assert "Traceback" not in "".join(untouched.lines)


def test_only_the_previews_own_address_is_answered(untouched: Server) -> None:
    port = urlsplit(untouched.url).port
    for host in ("attacker.example", f"attacker.example:{port}", "127.0.0.1.attacker.example"):
        status, _, body = untouched.get("/archive/2015/11/paris/", {"Host": host})
        assert status == 421 and "Paris attacks" not in body
    for host in (f"localhost:{port}", f"127.0.0.1:{port}"):
        assert untouched.get("/archive/2015/11/paris/", {"Host": host})[0] == 200


def test_the_reload_socket_accepts_only_the_previews_own_pages(untouched: Server) -> None:
    parts = urlsplit(untouched.url)
    handshake = {
        "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    }  # fmt: skip
    for origin, expected in (("https://attacker.example", 403), (f"http://127.0.0.1:{parts.port}", 101)):
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
        connection.request("GET", "/livereload", headers={**handshake, "Origin": origin})
        assert connection.getresponse().status == expected
        connection.close()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_stops_cleanly_on_ctrl_c_and_sigterm(server: Server, signum: int) -> None:
    code, out, err = stop(server, signum)
    assert code == 0 and "Stopped." in out and "Traceback" not in err
    leftovers = [p.name for p in server.root.iterdir() if p.name.startswith(".") and p.name != ".cache"]
    assert leftovers == []


def test_ctrl_c_during_a_long_build_stops_at_once_and_leaves_a_complete_preview(server: Server) -> None:
    """At 100,000 briefings a build takes half a minute; Ctrl-C does not wait for it. A template
    that takes seconds a page makes the build long here; the signal comes once it holds the lock."""
    wait_for(lambda: any(line.startswith("Rebuilt") for line in server.lines))
    before = tree(server.root / "_preview")
    base = server.root / "templates" / "base.html"
    base.write_text(base.read_text().replace("</body>", "{% for _ in range(30000000) %}{% endfor %}</body>"))
    wait_for(lambda: build_locked(server.root))
    started = time.monotonic()
    code, out, err = stop(server)
    assert time.monotonic() - started < 10  # a page alone takes longer
    assert code == 0 and "Traceback" not in err
    assert "Stopped; the build in progress was abandoned (_preview/ keeps the last complete one)." in out
    assert no_processes_left(server.root)
    assert tree(server.root / "_preview") == before
    base.write_text(base.read_text().replace("{% for _ in range(30000000) %}{% endfor %}", "<!-- fast -->"))
    assert run(server.root, "--quiet") == 0  # the next builds are right, whatever the abandoned one left
    assert "<!-- fast -->" in (server.root / "_site" / "index.html").read_text(encoding="utf-8")
    again = start(server.root)
    try:
        assert "<!-- fast -->" in again.page("")
    finally:
        stop(again)


def test_a_port_in_use_gets_a_clear_message(tmp_path: Path) -> None:
    root = make_archive(tmp_path / "a", FILES)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, str(REPO / "build.py"), "serve", "--root", str(root), "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert done.returncode == 2
    assert f"port {port} is in use" in done.stderr and "--port 0" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("page", "changed", "expected"),
    [
        ("2015/09/kweiris/index.html", frozenset({"2015/09/kweiris/index.html", "feed.xml"}), True),
        ("index.html", frozenset({"2015/09/kweiris/index.html", "feed.xml", "sitemap.xml"}), False),
        ("index.html", frozenset({"css/style.css"}), True),  # what every page loads
        ("search/index.html", frozenset({"search/t/ab.json"}), True),  # the search page reads its index
        ("index.html", frozenset({"search/t/ab.json"}), False),
        (None, frozenset({"feed.xml"}), True),  # a tab that has not said what it shows
        ("index.html", None, True),  # a build that changed too much to list, or failed
        ("index.html", frozenset(), False),
    ],
)
def test_a_tab_reloads_only_when_its_page_or_what_it_loads_changed(
    page: str | None, changed: frozenset[str] | None, expected: bool
) -> None:
    assert reloads(page, changed) is expected


def test_a_tab_that_connects_late_asks_whether_a_round_since_it_was_served_changed_its_page() -> None:
    clients = Clients()
    clients.reload(frozenset({"2015/09/kweiris/index.html"}))  # round 1: a page shown ahead
    clients.reload(frozenset({"index.html", "feed.xml"}))  # round 2: the full build's listings
    assert clients.stale(0, "2015/09/kweiris/index.html") and not clients.stale(1, "2015/09/kweiris/index.html")
    assert clients.stale(1, "index.html") and not clients.stale(2, "index.html")
    assert clients.stale(1, None)  # a page that is not a file (a 404) reloads
    for _ in range(ROUNDS_KEPT):
        clients.reload(frozenset({"index.html"}))
    assert clients.stale(1, "2015/09/kweiris/index.html")  # served before the rounds kept: reloads
    assert not clients.stale(clients.version - ROUNDS_KEPT, "2015/09/kweiris/index.html")


def test_the_build_after_a_page_shown_ahead_names_the_pages_it_changed_but_that_one(tmp_path: Path) -> None:
    root = make_archive(tmp_path / "a", FILES)
    said: list[str] = []
    options = pipeline.Options(base_url="http://127.0.0.1:1/", scheduled=True)
    preview = Preview(root, options, said.append)
    preview.rebuild()  # the first build
    assert preview.rebuild() == frozenset()  # nothing to do
    file = root / "content" / "2015" / "kweiris.md"
    save(file, file.read_text().replace("title: Kweiris jets", "title: Shown ahead"))
    assert preview.quick({str(file)}) == {"2015/09/kweiris/index.html"}
    changed = preview.rebuild()
    assert changed is not None and "2015/09/kweiris/index.html" not in changed  # its tabs have it already
    assert {"index.html", "2015/09/index.html"} <= changed  # the listings that show its title
    save(file, file.read_text().replace("title: Shown ahead", "title: Not shown ahead"))
    changed = preview.rebuild()  # no page shown ahead: every page it wrote
    assert changed is not None and {"2015/09/kweiris/index.html", "index.html"} <= changed
    save(file, file.read_text().replace("region: Middle East", "region: Middle Earth"))
    assert preview.quick({str(file)}) == frozenset()  # an error is not shown ahead
    assert preview.rebuild() is None  # every tab shows the error


def test_the_old_url_of_a_briefing_shown_moved_ahead_of_the_build_redirects_at_once(tmp_path: Path) -> None:
    """The page at the old URL is still on disk until the build removes it: the redirect is served
    in its place from the moment the moved page is shown, so a tab reloaded there follows at once."""
    root = make_archive(tmp_path / "a", FILES)
    options = pipeline.Options(base_url="http://127.0.0.1:1/", scheduled=True)
    preview = Preview(root, options, [].append)
    preview.rebuild()
    old, new = (root / "_preview" / month / "kweiris" / "index.html" for month in ("2015/09", "2015/10"))
    file = root / "content" / "2015" / "kweiris.md"
    save(file, file.read_text().replace("date: 2015-09-24T10:00:00+03:00", "date: 2015-10-24T10:00:00+03:00"))
    assert preview.quick({str(file)}) == {"2015/10/kweiris/index.html", "2015/09/kweiris/index.html"}
    assert old.is_file()  # not built yet
    for moment in ("before the build", "after it"):
        redirect = lxml.html.fromstring(preview.served(old.resolve()) or b"")
        assert redirect.xpath("//link[@rel='canonical']/@href") == ["http://127.0.0.1:1/2015/10/kweiris/"], moment
        assert title(preview.served(new.resolve()) or b"<p>") == "Kweiris jets", moment
        preview.rebuild()
    assert not old.exists()


def test_a_rename_a_build_sees_before_the_preview_shows_it_still_redirects_the_old_url(tmp_path: Path) -> None:
    """A build an earlier save started may find a file renamed before the preview has shown the
    rename ahead of it (a race seen in Chromium: the tab on the old URL then waited on a page
    not found). The old URL redirects all the same, so a tab there follows."""
    root = make_archive(tmp_path / "a", FILES)
    options = pipeline.Options(base_url="http://127.0.0.1:1/", scheduled=True)
    preview = Preview(root, options, [].append)
    preview.rebuild()
    old = root / "content" / "2015" / "kweiris.md"
    old.rename(old.with_name("kweiris-airbase.md"))
    changed = preview.rebuild()  # not shown ahead: the build saw it first
    gone = root / "_preview" / "2015" / "09" / "kweiris" / "index.html"
    assert changed is not None and "2015/09/kweiris/index.html" in changed and not gone.exists()
    redirect = lxml.html.fromstring(preview.served(gone.resolve()) or b"")
    assert redirect.xpath("//link[@rel='canonical']/@href") == ["http://127.0.0.1:1/2015/09/kweiris-airbase/"]


def test_a_new_or_renamed_briefing_is_served_at_its_url_before_the_build(tmp_path: Path) -> None:
    """A new file is shown where the full build will put it; a rename takes the old briefing's
    place, its old URL redirecting; an editor's temporary file beside a save does not count."""
    root = make_archive(tmp_path / "a", FILES)
    options = pipeline.Options(base_url="http://127.0.0.1:1/", scheduled=True)
    preview = Preview(root, options, [].append)
    preview.rebuild()
    folder = root / "_preview"
    added = root / "content" / "2015" / "homs.md"
    save(added, briefing("Homs", "2015-09-26T09:00:00+03:00", "[Syrian civil war]"))
    swap = added.with_name(".homs.md.swp")  # gone by now, as `save` leaves it
    assert preview.quick({str(added), str(swap)}) == {"2015/09/homs/index.html"}
    page = folder / "2015" / "09" / "homs" / "index.html"
    assert not page.exists()  # not built yet
    assert title(preview.served(page.resolve()) or b"<p>") == "Homs"
    assert preview.file_for("/2015/09/homs/") == page.resolve()
    preview.rebuild()
    assert title(page.read_bytes()) == "Homs"

    old = root / "content" / "2015" / "kweiris.md"
    renamed = old.rename(old.with_name("kweiris-airbase.md"))
    moved = {"2015/09/kweiris-airbase/index.html", "2015/09/kweiris/index.html"}
    assert preview.quick({str(old), str(renamed)}) == moved
    redirect = lxml.html.fromstring(preview.served((folder / "2015/09/kweiris/index.html").resolve()) or b"")
    assert redirect.xpath("//link[@rel='canonical']/@href") == ["http://127.0.0.1:1/2015/09/kweiris-airbase/"]
    assert title(preview.served((folder / "2015/09/kweiris-airbase/index.html").resolve()) or b"<p>") == "Kweiris jets"
    third = root / "content" / "2015" / "paris.md"
    assert preview.quick({str(renamed), str(third), str(added)}) == frozenset()  # three saved: the build shows them


def test_a_deleted_briefings_page_is_not_found_before_the_build_removes_it(tmp_path: Path) -> None:
    """The tab on it reloads once, to the 404 page: the build that removes the file changes
    nothing more it shows."""
    root = make_archive(tmp_path / "a", FILES)
    options = pipeline.Options(base_url="http://127.0.0.1:1/", scheduled=True)
    said: list[str] = []
    preview = Preview(root, options, said.append)
    preview.rebuild()
    page = (root / "_preview" / "2015" / "09" / "kweiris" / "index.html").resolve()
    file = root / "content" / "2015" / "kweiris.md"
    file.unlink()
    assert preview.quick({str(file)}) == {"2015/09/kweiris/index.html"}
    assert said[-1] == "Took /2015/09/kweiris/ away (content/2015/kweiris.md is gone); rebuilding the rest"
    assert page.is_file() and preview.served(page) is None  # on disk until the build: served as not found
    changed = preview.rebuild()
    assert not page.exists() and preview.served(page) is None
    assert changed is not None and "2015/09/kweiris/index.html" not in changed and "2015/09/index.html" in changed
    assert preview.quick({str(root / "content" / "2015" / "nowhere.md")}) == frozenset()  # no page of the model's


def test_the_open_tabs_pages_are_restyled_before_the_build_after_a_template_or_stylesheet_save(tmp_path: Path) -> None:
    """Only the pages the tabs show are made ahead (the build makes every other); the stylesheet
    saved is served ahead too, as the fingerprint in those pages names it."""
    root = make_archive(tmp_path / "a", FILES)
    options = pipeline.Options(base_url="http://127.0.0.1:1/", scheduled=True)
    said: list[str] = []
    preview = Preview(root, options, said.append)
    preview.rebuild()
    folder = root / "_preview"
    base, css = root / "templates" / "base.html", root / "static" / "css" / "style.css"
    save(base, base.read_text().replace("</footer>", "<p>Restyled</p></footer>"))
    save(css, css.read_text() + "\nhtml { color: black; }\n")
    open_pages = frozenset({"2015/09/kweiris/index.html", "index.html"})
    assert preview.quick({str(base), str(css)}, open_pages) == open_pages
    assert said[-1].startswith("Showed 2 open pages as restyled in ")
    for output in open_pages:
        page = preview.served((folder / output).resolve()) or b""
        assert b"<p>Restyled</p>" in page and b"<p>Restyled</p>" not in (folder / output).read_bytes()
    assert preview.served((folder / "css" / "style.css").resolve()) == css.read_bytes()  # ahead of the build
    assert b"Restyled" not in (folder / "2015" / "11" / "paris" / "index.html").read_bytes()  # no tab: the build's
    changed = preview.rebuild()
    assert changed is not None and not changed & open_pages  # the tabs have them as built
    assert "2015/11/paris/index.html" in changed and b"Restyled" in (folder / "2015/11/paris/index.html").read_bytes()
    assert preview.quick({str(base)}) == frozenset()  # no tab open: nothing to show ahead


def test_the_preview_keeps_its_model_warm_and_patches_it_for_an_edit_pages_only_show(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted, not timed: the preview's builds start from what the last one left, so a new title
    patches the model (`stages.patched_model`), and so does a retag, a country's name given up
    too (`archive.with_terms`), and a new date (the briefing leaves the model, then joins it
    anew). Each equals a clean build."""
    from briefings import stages

    made: list[int] = []
    real = stages.model_archive
    monkeypatch.setattr(stages, "model_archive", lambda *a: made.append(1) or real(*a))
    root = make_archive(tmp_path / "a", FILES)
    options = pipeline.Options(base_url="http://127.0.0.1:1/", scheduled=True)
    preview = Preview(root, options, [].append)
    preview.rebuild()
    file = root / "content" / "2015" / "kweiris.md"
    edits = (
        ("Kweiris jets", "Kweiris airbase", 0),
        ("[Syria, Russia]", "[Syria, Airbases]", 0),
        ("2015-09-24T10", "2015-09-25T10", 0),
    )
    for old, new, models in edits:
        made.clear()
        save(file, file.read_text().replace(old, new))
        assert preview.rebuild(), f"{old} -> {new}"
        assert len(made) == models, f"{old} -> {new}"
        clean = tmp_path / f"clean-{len(new)}"
        shutil.copytree(root, clean, ignore=shutil.ignore_patterns("_preview", "_site", ".cache"))
        pipeline.build(clean, options, output="_preview")
        assert tree(root / "_preview") == tree(clean / "_preview"), f"{old} -> {new}"


@pytest.mark.browser
def test_a_saved_change_reloads_the_open_page_in_chromium(server: Server) -> None:
    from playwright.sync_api import sync_playwright

    from tests.test_browser import ARTIFACTS, CHROMIUM, FLAGS

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        page = browser.new_page()
        # Each page the tab loads writes its heading down, in the tab's session storage.
        page.add_init_script(
            "addEventListener('DOMContentLoaded', () => sessionStorage.shown = (sessionStorage.shown || '')"
            " + document.querySelector('h1').textContent + '|')"
        )
        page.goto(server.url + "2015/09/kweiris/")
        page.wait_for_function("window.LiveReload?.connector?.protocol")  # the WebSocket handshake is done
        file = server.root / "content" / "2015" / "kweiris.md"
        good = file.read_text().replace("title: Kweiris jets", "title: Reloaded by itself")
        reloads = int(server.get("/livereload/version")[2])
        builds = sum(line.startswith("Rebuilt") for line in server.lines)
        save(file, good)
        served_after(page, reloads + 1)  # the page shown at once
        assert page.inner_text("h1") == "Reloaded by itself"
        # The full build changed the listings that show the title (a second round of reloads) and
        # made this page as it was shown: this tab is not reloaded again.
        wait_for(lambda: int(server.get("/livereload/version")[2]) >= reloads + 2)
        # Its line reaches us through a pipe and a reader thread, maybe after the reload did.
        wait_for(lambda: sum(line.startswith("Rebuilt") for line in server.lines) > builds)
        save(file, good.replace("title: Reloaded by itself", "title: Saved twice"))
        page.wait_for_function("document.querySelector('h1')?.textContent === 'Saved twice'", timeout=15000)
        assert page.evaluate("sessionStorage.shown") == "Kweiris jets|Reloaded by itself|Saved twice|"
        wait_for(lambda: sum(line.startswith("Rebuilt") for line in server.lines) > builds + 1)  # its full build
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "serve-reloaded.png"))
        reloads = int(server.get("/livereload/version")[2])
        save(file, good.replace("region: Middle East", "region: Middle Earth"))
        served_after(page, reloads + 1)  # a page with errors is not shown ahead: the failed build's reload only
        assert page.inner_text("h1") == "The build failed"
        assert "content/2015/kweiris.md:7: region" in page.inner_text("main")
        page.screenshot(path=str(ARTIFACTS / "serve-error.png"))
        save(file, good)
        page.wait_for_function("document.querySelector('h1').textContent === 'Reloaded by itself'", timeout=15000)
        browser.close()


@contextlib.contextmanager
def open_tabs(server: Server, *paths: str) -> Iterator[list[Page]]:
    """Open each preview path in its own Chromium tab, once the server's start-up check is done,
    and yield the tabs once each is connected for reloads."""
    from playwright.sync_api import sync_playwright

    from tests.test_browser import CHROMIUM, FLAGS

    wait_for(lambda: any(line.startswith("Rebuilt") for line in server.lines))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        tabs = [browser.new_page() for _ in paths]
        for tab, path in zip(tabs, paths, strict=True):
            tab.goto(server.url + path)
        for tab in tabs:
            tab.wait_for_function("window.LiveReload?.connector?.protocol")
        yield tabs
        browser.close()


@pytest.mark.browser
def test_the_open_tab_follows_a_briefing_whose_date_moves_it_in_chromium(server: Server) -> None:
    with open_tabs(server, "2015/09/kweiris/") as [page]:
        file = server.root / "content" / "2015" / "kweiris.md"
        moved = file.read_text().replace("2015-09-24T10:00:00+03:00", "2015-10-24T10:00:00+03:00")
        file.write_text(moved.replace("title: Kweiris jets", "title: Kweiris, a month on"))
        page.wait_for_function("document.querySelector('h1')?.textContent === 'Kweiris, a month on'", timeout=15000)
        assert page.url == server.url + "2015/10/kweiris/"


@pytest.mark.browser
def test_tabs_show_a_new_briefing_where_they_wait_for_it_and_follow_a_renamed_one_in_chromium(server: Server) -> None:
    with open_tabs(server, "2015/09/homs/", "2015/09/kweiris/") as [waiting, on_it]:  # the first: not found yet
        save(server.root / "content" / "2015" / "homs.md", briefing("Homs", "2015-09-26T09:00:00+03:00", "[Syria]"))
        waiting.wait_for_function("document.querySelector('h1')?.textContent === 'Homs'", timeout=15000)
        wait_for(lambda: any(line.startswith("Showed content/2015/homs.md") for line in server.lines))  # its own save
        # Renamed once that save's build is done: a build still reading the files would find the
        # rename before `quick` could show it (the tab then follows by the build's redirect, and
        # nothing is shown ahead of it, which is what this test is about).
        homs = next(n for n, line in enumerate(server.lines) if line.startswith("Showed content/2015/homs.md"))
        wait_for(lambda: any(line.startswith("Rebuilt") for line in server.lines[homs:]))
        file = server.root / "content" / "2015" / "kweiris.md"
        file.rename(file.with_name("kweiris-airbase.md"))  # one change: the file is gone and the other there
        # Waited for as it ends: the tab may be sent to the new address and reloaded again as the
        # build that follows lands, and Playwright's `wait_for_url` fails on the first of those
        # navigations that the next one cuts short (net::ERR_ABORTED), though the tab ends right.
        moved = "2015/09/kweiris-airbase/"
        shown = "url => location.href === url && document.querySelector('h1')?.textContent === 'Kweiris jets'"
        try:
            on_it.wait_for_function(shown, arg=server.url + moved, timeout=15000)
        except Exception:  # with where the tab is and what the server said, for whoever reads the failure
            print(f"the tab is at {on_it.url}; the server said:", *server.lines, sep="\n")
            raise
    # Its line reaches us through a pipe and a reader thread, maybe after the tab was shown the page.
    wait_for(lambda: any(line.startswith("Showed content/2015/kweiris-airbase.md") for line in server.lines))


@pytest.mark.browser
def test_an_open_tab_shows_a_template_edit_before_the_build_is_done_in_chromium(server: Server) -> None:
    with open_tabs(server, "2015/09/kweiris/") as [page]:
        base = server.root / "templates" / "base.html"
        save(base, base.read_text().replace("</footer>", '<p id="restyled">Restyled</p></footer>'))
        page.wait_for_function("document.getElementById('restyled')?.textContent === 'Restyled'", timeout=15000)
    wait_for(lambda: any(line.startswith("Showed 1 open page as restyled") for line in server.lines))
    shown = [n for n, line in enumerate(server.lines) if line.startswith("Showed 1 open page as restyled")]
    wait_for(lambda: any(line.startswith("Rebuilt") for line in server.lines[shown[-1] :]))


@pytest.mark.browser
def test_a_page_still_loading_when_a_build_finishes_reloads_once_connected(server: Server) -> None:
    """The reload is sent while the tab has no socket (its reload script still loading): the page
    is stale when its socket opens, and must reload then rather than wait for the next save."""
    from playwright.sync_api import Route, sync_playwright

    from tests.test_browser import CHROMIUM, FLAGS

    held: list[Route] = []
    wait_for(lambda: any(line.startswith("Rebuilt") for line in server.lines))  # the start-up check is done
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        page = browser.new_page()
        page.route("**/livereload.js*", lambda route: held.append(route))
        page.goto(server.url + "2015/09/kweiris/", wait_until="commit")
        while not held:  # the page asked for its reload script, which is held back
            page.wait_for_timeout(20)
        builds = sum(line.startswith("Rebuilt") for line in server.lines)
        file = server.root / "content" / "2015" / "kweiris.md"
        file.write_text(file.read_text().replace("title: Kweiris jets", "title: Built while loading"))
        wait_for(lambda: sum(line.startswith("Rebuilt") for line in server.lines) > builds)
        assert page.text_content("h1") == "Kweiris jets"
        held[0].continue_()
        page.wait_for_function("document.querySelector('h1').textContent === 'Built while loading'", timeout=15000)
        browser.close()


def test_serve_honours_base_url(tmp_path: Path) -> None:
    running = start(make_archive(tmp_path / "a", FILES), "--base-url", "https://user.github.io/briefings/")
    try:
        assert urlsplit(running.url).path == "/briefings/"
        assert title(running.page("2015/11/paris/")) == "Paris attacks"
        assert 'href="/briefings/tags/' in running.page("")
    finally:
        stop(running)
