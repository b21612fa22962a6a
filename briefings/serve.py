"""The preview server: `python build.py serve`.

Owns serving the preview folder (`_preview/`, never `_site/`) under the site's base path
on loopback, watching the archive's inputs, rebuilding through the same incremental
build as `python build.py`, and telling open tabs to reload. While a build error stands,
every page it serves is that error, as HTML. May not hold build logic.

livereload is kept only as the WebSocket layer (its protocol handler and its client
script); its own file watching polls every 800 ms and drops reloads that come within 3 s
of the last one, so changes are watched with watchfiles (inotify) instead.
"""

from __future__ import annotations

import collections
import html
import json
import mimetypes
import os
import queue
import signal
import socket
import sys
import threading
import time
import webbrowser
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit, urlunsplit

import watchfiles
from livereload.handlers import LiveReloadHandler, LiveReloadJSHandler
from tornado import httpserver, ioloop, netutil, web

from briefings import pipeline
from briefings.archive import Archive
from briefings.cache import Cache
from briefings.errors import BuildFailed, CacheDamaged, SourceError, plural
from briefings.preview import instant_page, moved_redirects, restyled_pages
from briefings.progress import Progress
from briefings.search import FOLDER as SEARCH_FOLDER
from briefings.sources import INPUTS
from briefings.urls import output_file

if TYPE_CHECKING:  # the stages load only when a build has work (see `briefings.stages`)
    from briefings.stages import Warm

PREVIEW_DIR = "_preview"
SAID_FROM_S = 1.0  # the spare copy made after the first build is said when it takes this long (`ready_spare`)
STOP_WAIT_S = 2.0  # how long Ctrl-C waits for a build in progress before abandoning it
WATCHED = tuple(name for name in INPUTS if name != "site.yaml")  # folders; site.yaml is watched on its own
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
QUIET_MS = 50  # a burst of saves closer together than this is one change
STARTUP_S = 0.5  # time for the file watches to be set up
OPEN_PAGES_AHEAD = 8  # open tabs' pages rendered ahead of the build after a template or static file changed
# After a page is shown at once, the full build waits this long: the tabs' reload is then
# served without the build competing for the interpreter (it would add about 70 ms).
RELOAD_GRACE_S = 0.3
# Files a page loads: a change to one reloads every tab. (Feeds, sitemaps and the like are
# read by no page; the search index only by the search page.)
PAGE_RESOURCES = (".css", ".js", ".mjs", ".svg", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".ico", ".woff2")
ROUNDS_KEPT = 100  # rounds of reloads remembered for tabs that connect late (see `Clients`)
Changed = frozenset[str] | None  # preview files written or removed, by path in the folder; None: any may have


@dataclass(frozen=True)
class ServeOptions:
    """Where to listen and what to build."""

    host: str = "127.0.0.1"
    port: int = 8000
    drafts: bool = False
    open_browser: bool = False
    jobs: int = 0
    base_path: str | None = None  # the path to serve under (from --base-url), instead of site.yaml's


class Preview:
    """One archive's preview: builds it into `_preview/` and remembers the errors that stand."""

    def __init__(self, root: Path, options: pipeline.Options, say: Callable[[str], None]) -> None:
        self.root = root
        self.options = options
        self.say = say
        self.folder = root / PREVIEW_DIR
        self.base_path = urlsplit(options.base_url or "/").path
        self.errors: tuple[SourceError, ...] = ()
        self.lock = threading.Lock()  # one build at a time
        self.model: Archive | None = None  # the archive as the last build modelled it
        self.warm: Warm | None = None  # the records and model the next build starts from (`stages.Warm`)
        self.compiled = Cache(root).compiled_templates() if options.cache else None
        # Pages rendered ahead of the builds, with the generation of the save that made them (None:
        # a deleted briefing's page, gone ahead of the build): a build drops only the pages of
        # saves made before it started reading the files.
        self.overlay: dict[Path, tuple[int, bytes | None]] = {}
        # Redirects from the URLs briefings were moved from during this preview, to where they
        # went: served where no file is, so a tab left on an old URL follows (kept while it runs).
        self.moved: dict[Path, bytes] = {}
        self.generation = 0
        self.overlay_lock = threading.Lock()  # the save-watching thread and the build thread both change it
        self.quiet_until = 0.0  # monotonic time before which a build should not start (see RELOAD_GRACE_S)

    def quick(self, changed: set[str], open_pages: frozenset[str] = frozenset()) -> frozenset[str]:
        """Show one edited, new or renamed briefing's page at once, before the build, or take a
        deleted one's away; after a save in `templates/` or `static/`, show the `open_pages` (the
        tabs' preview files) as they now look. Return the preview files it changed (its page,
        and its old URL's if it moved), none if it could not."""
        content = (self.root / "content").resolve()
        paths = [Path(path).resolve() for path in changed]
        styling = [(self.root / name).resolve() for name in ("templates", "static")]
        restyled = bool(paths) and all(any(map(path.is_relative_to, styling)) for path in paths)
        if restyled and self.model is not None and not self.errors:
            return self._restyled(paths, open_pages)
        briefings = [path for path in paths if path.suffix == ".md"]
        saved = [path for path in briefings if path.is_file()]
        gone = [path for path in briefings if path not in saved]
        # One briefing saved, or deleted, or both (a rename); an editor's temporary files beside it do not count.
        if self.model is None or self.errors or not briefings or len(saved) > 1 or len(gone) > 1:
            return frozenset()
        if not all(path.is_relative_to(content) for path in paths):
            return frozenset()
        top = self.root.resolve()
        was = [path.relative_to(top).as_posix() for path in gone]
        if not saved:
            return self._gone_ahead(was[0])
        file = saved[0]
        started = time.monotonic()
        repo_path = file.relative_to(top).as_posix()
        made = instant_page(self.root, self.model, repo_path, file.read_bytes(), self.compiled, *was)
        if made is None:
            return frozenset()
        (path, _), *moves = made
        # The redirect is ahead of the build too: until the build removes the page at the old
        # URL, a tab that reloads there would be served it, and follow only after the build.
        self._ahead(made, {(self.folder / old).resolve(): redirect for old, redirect in moves})
        self.say(f"Showed {repo_path} in {time.monotonic() - started:.2f} s; rebuilding the rest")
        return frozenset((path, *(old for old, _ in moves)))

    def _ahead(self, files: Iterable[tuple[str, bytes | None]], moved: dict[Path, bytes] | None = None) -> None:
        """Serve these preview files (None: not found) ahead of the build, as the newest
        generation (see `rebuild`), with redirects from the URLs briefings `moved` from; hold
        the next build back while the tabs reload (`RELOAD_GRACE_S`)."""
        with self.overlay_lock:
            self.generation += 1
            ahead = {(self.folder / output).resolve(): (self.generation, data) for output, data in files}
            self.overlay = {**self.overlay, **ahead}
            if moved:
                self.moved = {**self.moved, **moved}
        self.quiet_until = time.monotonic() + RELOAD_GRACE_S

    def _restyled(self, paths: list[Path], open_pages: frozenset[str]) -> frozenset[str]:
        """Render the open tabs' pages with the templates and static files as they are now, and
        serve the static files saved, ahead of the build; return the preview files shown."""
        assert self.model is not None  # see `quick`
        started = time.monotonic()
        pages = restyled_pages(self.root, self.model, sorted(open_pages)[:OPEN_PAGES_AHEAD], self.compiled)
        static = (self.root / "static").resolve()
        saved = [(path.relative_to(static).as_posix(), path) for path in paths if path.is_relative_to(static)]
        files = [(name, path.read_bytes()) for name, path in saved if path.is_file()]
        if not pages:
            return frozenset()
        self._ahead((*pages, *files))
        self.say(f"Showed {plural(len(pages), 'open page')} as restyled in {time.monotonic() - started:.2f} s; "
                 "rebuilding the rest")  # fmt: skip
        return frozenset(output for output, _ in pages)

    def _gone_ahead(self, repo_path: str) -> frozenset[str]:
        """Serve a deleted briefing's page as not found from now, before the build removes it;
        return its preview file, none if the model has no page for it."""
        assert self.model is not None  # see `quick`
        entry = next((e for e in self.model.entries if e.briefing.path == repo_path), None)
        if entry is None:
            return frozenset()
        page = output_file(entry.path)
        self._ahead([(page, None)])
        self.say(f"Took /{entry.path} away ({repo_path} is gone); rebuilding the rest")
        return frozenset({page})

    def ready_spare(self, stop: threading.Event) -> None:
        """Make the preview folder's spare copy now, if the first build wrote the folder whole
        (`pipeline.ready_spare`), so that the build of the first save writes only what changed:
        at 100,000 briefings the links take 7 to 17 s. Run once the first build is served, in a
        thread of its own; the build of a save made meanwhile waits for it. Stops when `stop` is
        set (the server stopping), leaving the copy for the next build to make."""
        with self.lock:
            started = time.monotonic()
            try:
                linked = pipeline.ready_spare(self.root, self.options, PREVIEW_DIR, stop.is_set)
            except (OSError, CacheDamaged) as exc:  # the next build makes the copy, and says what stands
                self.say(f"The preview's spare copy was left for the next build to make ({exc})")
                return
        took = time.monotonic() - started
        if linked and took >= SAID_FROM_S:
            self.say(f"Linked {linked} files of {PREVIEW_DIR}/ into its spare copy for the next builds ({took:.1f} s)")

    def rebuild(self) -> Changed:
        """Build the preview; return the files it changed that the tabs had not been shown
        ahead of it (None: any file, or the errors, may have changed)."""
        with self.lock:
            covered = self.generation  # saves up to here are on disk before this build reads the files
            shown = self.overlay
            try:
                changed = self._rebuild()
            finally:  # the folder now holds what those pages showed, or the errors stand
                with self.overlay_lock:
                    self.overlay = {file: page for file, page in self.overlay.items() if page[0] > covered}
            if changed is None:
                return None
            return frozenset(path for path in changed if not self._as_shown(path, shown, covered))

    def _as_shown(self, path: str, shown: dict[Path, tuple[int, bytes | None]], covered: int) -> bool:
        """Return True when a file the build wrote (or removed) is what the tabs were shown ahead of it."""
        file = (self.folder / path).resolve()
        ahead = shown.get(file)
        if ahead is None or ahead[0] > covered:
            return False
        try:
            return file.read_bytes() == ahead[1]
        except FileNotFoundError:
            return ahead[1] is None
        except OSError:
            return False

    def _rebuild(self) -> Changed:
        """Run the incremental build into the preview folder; report what it changed."""
        started = time.monotonic()
        try:
            report = pipeline.build(self.root, self.options, output=PREVIEW_DIR, progress=Progress(), warm=self.warm)
        except BuildFailed as failed:
            self.errors = failed.errors
            for error in failed.errors:
                self.say(str(error))
            self.say(f"Found {plural(len(failed.errors), 'error')}; the preview shows them until they are fixed.")
            return None
        except OSError as exc:
            self.errors = (SourceError(exc.filename or "build", 0, exc.strerror or str(exc)),)
            self.say(f"error: {exc}")
            return None
        had_errors, self.errors = bool(self.errors), ()
        before, self.model = self.model, report.archive or self.model
        if before is not None and report.archive is not None and report.written.removed:
            self._follow_renames(before, report.archive)
        self.warm = report.warm or self.warm
        done = report.written
        self.say(
            f"Rebuilt in {time.monotonic() - started:.2f} s: {done.made} made, {done.written} written, "
            f"{done.removed} removed"
        )
        return None if had_errors else done.changed

    def _follow_renames(self, before: Archive, after: Archive) -> None:
        """Serve a redirect at the old URL of each briefing this build found renamed (`moved_redirects`):
        the build an earlier save started may have seen a rename before `quick` could show it."""
        moves = moved_redirects(self.root, before, after, self.compiled)
        if moves:
            with self.overlay_lock:
                self.moved = {**self.moved, **{(self.folder / old).resolve(): data for old, data in moves}}

    def served(self, file: Path) -> bytes | None:
        """Return what serves a preview file: its page (or a moved briefing's redirect) ahead of
        the build, else its bytes, else the redirect from a moved briefing's old URL (None if
        none: a deleted briefing's page, gone ahead of the build, or a page that was only ahead,
        dropped by the build that just finished)."""
        ahead = self.overlay.get(file)
        if ahead:
            return ahead[1]
        try:
            return file.read_bytes()
        except OSError:
            return self.moved.get(file)

    def page_of(self, file: Path | None) -> str | None:
        """Return a preview file's path in the folder, as a build's report names it (None if outside)."""
        try:
            return file.resolve().relative_to(self.folder.resolve()).as_posix() if file else None
        except ValueError:
            return None

    def file_for(self, request_path: str) -> Path | None:
        """Return the preview file that serves a request path, or None (outside, missing, or a folder);
        a page shown ahead of the build (the overlay) or a moved briefing's old URL counts although
        no file is there."""
        path = unquote(request_path)
        if not path.startswith(self.base_path):
            return None
        parts = [part for part in path[len(self.base_path) :].split("/") if part]
        if any(part in (".", "..") or "\\" in part or "\0" in part for part in parts):
            return None
        try:  # a name too long for the file system is simply not there
            file = self.folder.joinpath(*parts)
            if path.endswith("/") or file.is_dir():
                file = file / "index.html"
            resolved = file.resolve()
            if not resolved.is_relative_to(self.folder.resolve()):
                return None
            if not resolved.is_file() and resolved not in self.overlay and resolved not in self.moved:
                return None
        except OSError:
            return None
        return resolved


class Clients:
    """The browser tabs connected over livereload's WebSocket; used on the IO loop only.

    `version` counts the rounds of reloads sent; the latest rounds are kept with what each
    changed. Each page is served with the version it was served at, and asks once its socket
    is connected whether a round since changed it: a build that finished while the page was
    loading (its old socket closed, its new one not yet open) still reloads it.
    """

    def __init__(self) -> None:
        self.sockets: set[ReloadSocket] = set()
        self.version = 0
        # The preview files the tabs show, as one value: read by the thread that watches saves.
        self.shown: frozenset[str] = frozenset()
        self.rounds: collections.deque[tuple[int, Changed]] = collections.deque(maxlen=ROUNDS_KEPT)

    def reload(self, changed: Changed = None) -> None:
        """Tell the tabs that show a changed page to reload (`changed`: see `reloads`)."""
        self.version += 1
        self.rounds.append((self.version, changed))
        message = {"command": "reload", "path": "*", "liveCSS": False, "liveImg": False}
        for client in list(self.sockets):
            if reloads(client.page, changed):
                client.send_message(message)

    def note_shown(self) -> None:
        """Take note of the pages the tabs show, after a tab said which, or closed."""
        self.shown = frozenset(client.page for client in self.sockets if client.page is not None)

    def stale(self, since: int, page: str | None) -> bool:
        """Return True when a tab showing `page`, served after round `since`, should have reloaded since."""
        if since < self.version - len(self.rounds):  # rounds no longer kept came after it
            return True
        return any(reloads(page, changed) for version, changed in self.rounds if version > since)


def reloads(page: str | None, changed: Changed) -> bool:
    """Return True when a tab showing `page` (a preview file's path; None: not known yet) must
    reload after `changed` (files written or removed; None: any may have been)."""
    if page is None or changed is None or page in changed:
        return True
    if any(path.endswith(PAGE_RESOURCES) for path in changed):
        return True
    return page == f"{SEARCH_FOLDER}/index.html" and any(path.startswith(f"{SEARCH_FOLDER}/") for path in changed)


def own_host(host: str, allowed: Iterable[str]) -> bool:
    """Return True when a `Host` value (name and port) names this server, not some other site's
    name pointed at it (DNS rebinding: a page elsewhere reading the preview, drafts included)."""
    name = urlsplit(f"//{host}").hostname or ""
    return name in allowed


class ReloadSocket(LiveReloadHandler):  # type: ignore[misc]  # livereload is untyped
    """livereload's protocol handler, registering tabs with our `Clients` instead of its class globals."""

    def initialize(self, clients: Clients, hosts: tuple[str, ...], page_of: Callable[[str], str | None]) -> None:
        self.clients = clients
        self.hosts = hosts
        self.page_of = page_of  # the preview file a URL's path serves
        self.page: str | None = None  # the one this tab shows, once it has said (livereload's "info")

    def check_origin(self, origin: str) -> bool:
        """Accept only the preview's own pages (livereload accepts any)."""
        return own_host(urlsplit(origin).netloc, self.hosts) and own_host(self.request.host, self.hosts)

    def on_message(self, message: str | bytes) -> None:
        said = json.loads(message)
        command = said.get("command")
        if command == "info" and isinstance(said.get("url"), str):
            self.page = self.page_of(urlsplit(said["url"]).path)
        if command == "hello":  # registered before the answer, so no reload falls between the two
            self.clients.sockets.add(self)
            protocols = ["http://livereload.com/protocols/official-7"]
            self.send_message({"command": "hello", "protocols": protocols, "serverName": "briefings"})
        self.clients.note_shown()

    def on_close(self) -> None:
        self.clients.sockets.discard(self)
        self.clients.note_shown()


class VersionHandler(web.RequestHandler):
    """Answers `/livereload/version` with the number of rounds of reloads sent so far (see `Clients`)."""

    def initialize(self, clients: Clients) -> None:
        self.clients = clients

    def get(self) -> None:
        self.set_header("Cache-Control", "no-store")
        self.set_header("Content-Type", "text/plain")
        self.finish(str(self.clients.version))


class StaleHandler(web.RequestHandler):
    """Answers `/livereload/stale?since=N&path=P` with "yes" when the page at path P, served
    after round N of reloads, changed in a round since (see `Clients.stale`), else "no"."""

    def initialize(self, clients: Clients, page_of: Callable[[str], str | None]) -> None:
        self.clients = clients
        self.page_of = page_of

    def get(self) -> None:
        self.set_header("Cache-Control", "no-store")
        self.set_header("Content-Type", "text/plain")
        since = self.get_argument("since", "")
        page = self.page_of(self.get_argument("path", ""))
        self.finish("yes" if not since.isdigit() or self.clients.stale(int(since), page) else "no")


# Reload when a build changed this page between its being served and its socket connecting.
CATCH_UP = (
    '<script>document.addEventListener("LiveReloadConnect",()=>fetch("/livereload/stale?since=%d&path="'
    '+encodeURIComponent(location.pathname),{cache:"no-store"}).then(r=>r.text()).then(s=>{if(s==="yes")'
    "location.reload()}))</script>"
)


class PreviewHandler(web.RequestHandler):
    """Serves the preview folder under the base path, with the reload script in every page."""

    def initialize(self, preview: Preview, clients: Clients, port: int, hosts: tuple[str, ...]) -> None:
        self.preview = preview
        self.clients = clients
        self.port = port
        self.hosts = hosts

    @property
    def script(self) -> bytes:
        """The reload scripts, stamped with the version of the site this page is served from."""
        loader = f'<script src="/livereload.js?port={self.port}"></script>'
        return (loader + CATCH_UP % self.clients.version).encode()

    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", "no-store")

    def prepare(self) -> None:
        """Answer only requests made to this server by its own name (see `own_host`)."""
        if not own_host(self.request.host, self.hosts):
            self.set_status(421)  # Misdirected Request
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            self.finish(b"This preview answers only at its own address, such as http://127.0.0.1.\n")

    def get(self, _: str = "") -> None:
        path = self.request.path
        if path == "/" and self.preview.base_path != "/":
            self.redirect(self.preview.base_path)
        elif self.preview.errors:
            self.send(500, "text/html; charset=utf-8", error_page(self.preview.errors))
        elif (file := self.preview.file_for(path)) is not None and (data := self.preview.served(file)) is not None:
            kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            self.send(200, kind + ("; charset=utf-8" if kind.startswith("text/") else ""), data)
        else:
            missing = self.preview.folder / "404.html"
            page = missing.read_bytes() if missing.is_file() else b"<!doctype html><title>Not found</title>Not found"
            self.send(404, "text/html; charset=utf-8", page)

    def head(self, _: str = "") -> None:
        self.get()

    def send(self, status: int, kind: str, data: bytes) -> None:
        """Send a response; HTML gets the reload script."""
        if kind.startswith("text/html"):
            data = inject(data, self.script)
        self.set_status(status)
        self.set_header("Content-Type", kind)
        self.finish(data)


def inject(page: bytes, script: bytes) -> bytes:
    """Put the reload script before `</body>` (any case), or at the end of a page without one."""
    at = page.lower().rfind(b"</body>")
    return page[:at] + script + page[at:] if at >= 0 else page + script


def error_page(errors: Iterable[SourceError]) -> bytes:
    """Return a page listing build errors as `file:line: message`, escaped, readable without JavaScript."""
    items = "\n".join(f"<li><code>{html.escape(str(error))}</code></li>" for error in errors)
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>Build failed · preview</title>\n<style>body{font:1rem/1.5 system-ui,sans-serif;margin:2rem;"
        "max-width:60rem}h1{color:#b00020}code{white-space:pre-wrap}li{margin:.5rem 0}</style>\n</head>\n<body>\n"
        "<main>\n<h1>The build failed</h1>\n<p>Fix these and save: the page reloads by itself.</p>\n"
        f'<ul class="errors">\n{items}\n</ul>\n</main>\n</body>\n</html>\n'
    ).encode()


def watch(root: Path, changes: queue.Queue[set[str]], stop: threading.Event) -> list[threading.Thread]:
    """Start threads that put each batch of changed paths on `changes`."""
    folders = [root / name for name in WATCHED if (root / name).is_dir()]

    def run(paths: list[Path], recursive: bool, keep: Callable[[str], bool]) -> None:
        for batch in watchfiles.watch(*paths, recursive=recursive, step=QUIET_MS, stop_event=stop, debounce=400,
                                      raise_interrupt=False):  # fmt: skip
            kept = {path for _, path in batch if keep(path)}
            if kept:
                changes.put(kept)

    site_yaml = str(root / "site.yaml")
    threads = [
        threading.Thread(target=run, args=(folders, True, lambda _: True), daemon=True),
        # site.yaml is watched through its folder, so a save by rename is still seen.
        threading.Thread(target=run, args=([root], False, lambda p: p == site_yaml), daemon=True),
    ]
    for thread in threads:
        thread.start()
    # watchfiles sets its watches asynchronously: one check once they are up catches a save made meanwhile.
    catch_up = threading.Timer(STARTUP_S, changes.put, args=({"(startup)"},))
    catch_up.daemon = True
    catch_up.start()
    return threads


def rebuild_on_change(
    preview: Preview,
    changes: queue.Queue[set[str]],
    stop: threading.Event,
    notify: Callable[[Changed], None],
    open_pages: Callable[[], frozenset[str]] = frozenset,
) -> None:
    """Show each edited page at once, and rebuild after each burst of changes; after each, tell
    the tabs what changed."""
    pending = threading.Event()

    def build() -> None:  # one build at a time; saves made during a build make one more
        while not stop.is_set():
            if pending.wait(timeout=0.2):
                stop.wait(max(0.0, preview.quiet_until - time.monotonic()))
                pending.clear()
                if (changed := preview.rebuild()) is None or changed:
                    notify(changed)

    threading.Thread(target=build, daemon=True).start()
    while not stop.is_set():
        try:
            changed = changes.get(timeout=0.2)
        except queue.Empty:
            continue
        while not changes.empty():
            changed |= changes.get_nowait()
        if shown := preview.quick(changed, open_pages()):
            notify(shown)
        pending.set()


def bind(host: str, port: int) -> list[socket.socket]:
    """Bind the listening sockets; raise OSError with a clear message when the port is taken."""
    try:
        return netutil.bind_sockets(port, host)
    except OSError as exc:
        if exc.errno in (98, 48, 10048):  # EADDRINUSE on Linux, macOS, Windows
            message = f"port {port} is in use; choose another with --port (--port 0 picks a free one)"
            raise OSError(exc.errno, message) from None
        raise


def preview_url(root: Path, host: str, port: int, base_path: str | None = None) -> str:
    """Return the preview's base URL: this host and port, with the production base path (or `base_path`)."""
    base_path = base_path or urlsplit(pipeline.load_config_for(root, pipeline.Options()).base_url).path
    shown = f"[{host}]" if ":" in host else host
    return urlunsplit(("http", f"{shown}:{port}", base_path, "", ""))


def serve(root: Path, options: ServeOptions, say: Callable[[str], None]) -> int:
    """Build, serve and rebuild on change until Ctrl-C or SIGTERM; return the exit status."""
    sockets = bind(options.host, options.port)
    port = sockets[0].getsockname()[1]
    try:
        url = preview_url(root, options.host, port, options.base_path)
    except BuildFailed as failed:  # an unreadable site.yaml: serve its errors at /
        url, preview_errors = f"http://{options.host}:{port}/", failed.errors
    else:
        preview_errors = ()
    # The preview shows what is scheduled (with a banner), as it shows drafts with --drafts.
    build_options = pipeline.Options(drafts=options.drafts, base_url=url, jobs=options.jobs, scheduled=True)
    preview = Preview(root, build_options, say)
    if preview_errors:
        preview.errors = preview_errors
    preview.rebuild()
    clients = Clients()
    hosts = (*LOCAL_HOSTS, options.host.strip("[]"))
    page_of = lambda path: preview.page_of(preview.file_for(path))  # noqa: E731
    app = web.Application([
        (r"/livereload", ReloadSocket, {"clients": clients, "hosts": hosts, "page_of": page_of}),
        (r"/livereload\.js", LiveReloadJSHandler),
        (r"/livereload/version", VersionHandler, {"clients": clients}),
        (r"/livereload/stale", StaleHandler, {"clients": clients, "page_of": page_of}),
        (r"/(.*)", PreviewHandler, {"preview": preview, "clients": clients, "port": port, "hosts": hosts}),
    ])  # fmt: skip
    server = httpserver.HTTPServer(app)
    server.add_sockets(sockets)
    loop = ioloop.IOLoop.current()
    stop = threading.Event()
    changes: queue.Queue[set[str]] = queue.Queue()
    watch(root, changes, stop)
    notify = lambda changed: loop.add_callback(clients.reload, changed)  # noqa: E731 - called from the build thread
    shown = lambda: clients.shown  # noqa: E731 - read from the thread that watches saves
    threading.Thread(target=rebuild_on_change, args=(preview, changes, stop, notify, shown), daemon=True).start()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.asyncio_loop.add_signal_handler(signum, loop.stop)  # type: ignore[attr-defined]
    say(f"Serving {url} (Ctrl-C to stop)")
    threading.Thread(target=preview.ready_spare, args=(stop,), daemon=True).start()
    if options.open_browser:
        webbrowser.open(url)
    loop.start()
    stop.set()
    server.stop()
    if preview.lock.acquire(timeout=STOP_WAIT_S):  # no build running, or one about to finish
        preview.lock.release()
        say("Stopped.")
        return 0
    # A build is running, which a thread cannot be told to stop (at 100,000 briefings it takes
    # half a minute). Leaving it is safe: like a killed `build`, it has either exchanged its
    # folder whole or not at all, its workers end with this process, and the next build
    # distrusts what it was changing.
    say("Stopped; the build in progress was abandoned (_preview/ keeps the last complete one).")
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(0)
