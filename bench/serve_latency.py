"""Measure save-to-reload latency of `python build.py serve` in headless Chromium.

    python -m bench.serve_latency [--count 10000] [--edits 7]
        [--kind title|tags|story|date|new|rename|delete|template]

Starts the preview server on a copy of the example archive (or, with `--count`, of a
generated archive), opens a briefing in Debian's Chromium, then edits that briefing's
title `--edits` times; with `--kind tags` each edit also gives it a new tag, with
`--kind story` a new story (edits that change which listings it is in), with `--kind date`
a date in the month before its own (after, in January: a briefing stays in its year's folder),
then its own again (edits that move it: its URL, its place in every listing, its month; the
open tab follows it to the new URL). With `--kind new` each edit is a new briefing instead (the
edited one's text under a new file name, so a new URL, with a new title), the tab waiting at
the URL it will have; with `--kind rename` the briefing's file is renamed (its URL is its
file's name) as its title changes, and the tab follows it from the old URL; with `--kind delete`
its file is deleted, the tab on its page waiting for the site's "Page not found" (then put back,
and built, before the next); with `--kind template` the briefing is left as it is and each edit
puts a new line in the footer of `templates/base.html`, which every page shows. Each latency runs
from just before the file is written until the reloaded page shows the new title (the
page shown at once); each rebuild time, until the server says the full build that follows
is done (every listing up to date). Medians are reported.
"""

from __future__ import annotations

import argparse
import datetime
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

from bench.generate import generate, write_archive

REPO = Path(__file__).resolve().parent.parent
PROBE = "document.getElementById('latency-probe')"  # the line `--kind template` puts in the footer
NOT_FOUND = "Page not found"  # the heading of templates/404.html, which generated archives use too
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


def prepare(folder: Path, count: int | None, published: bool = False) -> tuple[Path, str]:
    """Return an archive to serve and the briefing to edit (its repository path): the newest by
    path, or with `published` the newest whose date has come (the example archive has one
    scheduled for years ahead; a new briefing copied from it would be scheduled too)."""
    root = folder / "archive"
    root.mkdir()
    if count:
        write_archive(root, generate(count))
    else:
        for name in ("site.yaml", "content", "templates", "static"):
            (shutil.copytree if (REPO / name).is_dir() else shutil.copy)(REPO / name, root / name)
    today = datetime.date.today().isoformat()
    files = (root / "content").rglob("*.md")
    newest = max(path for path in files if not published or date_of(path.read_text(encoding="utf-8")) <= today)
    return root, newest.relative_to(root).as_posix()


def date_of(text: str) -> str:
    """Return the date a briefing's front matter gives, as written (`2024-12-25T01:40:45-05:00`)."""
    return next(line for line in text.splitlines() if line.startswith("date:")).split()[1]


def start(root: Path) -> tuple[subprocess.Popen[str], str, queue.Queue[str]]:
    """Start the server; return it, its URL once the first build is done, and the lines it prints after."""
    server = subprocess.Popen(
        [sys.executable, str(REPO / "build.py"), "serve", "--root", str(root), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    for line in server.stdout:
        if line.startswith("Serving "):
            said: queue.Queue[str] = queue.Queue()
            threading.Thread(target=forward, args=(server, said), daemon=True).start()
            return server, line.split()[1], said
    sys.exit("bench: the server did not start")


def forward(server: subprocess.Popen[str], said: queue.Queue[str]) -> None:
    """Put each line the server prints in `said`."""
    for line in server.stdout or ():
        said.put(line)


def rebuilt(said: queue.Queue[str], timeout: float = 1200) -> None:
    """Wait until the server says a build that made something is done (or failed); a build with
    nothing to do (the watcher seeing the first build's files) is not the edit's."""
    deadline = time.monotonic() + timeout
    while True:
        line = said.get(timeout=max(deadline - time.monotonic(), 0.01))
        if line.startswith("Found") or (line.startswith("Rebuilt") and not line.split(": ", 1)[1].startswith("0 made")):
            break
    if line.startswith("Found"):
        sys.exit(f"bench: the edit made the archive fail to build: {line.strip()}")


def page_url(root: Path, base: str, file: str, text: str | None = None) -> str:
    """Return the preview URL of a briefing: /YYYY/MM/slug/ from its front matter date (in
    `text`, or its file's)."""
    date = date_of(text if text is not None else (root / file).read_text(encoding="utf-8"))
    return f"{base}{date[:4]}/{date[5:7]}/{Path(file).stem}/"


def edited(original: str, number: int, kind: str) -> tuple[str, str]:
    """Return the briefing's text after edit `number` of this kind, and the title it shows."""
    title = f"Latency probe {number}"
    lines = []
    for line in original.split("\n"):
        if line.startswith("title:"):
            line = f"title: {title}"
            if kind == "story":
                line += f"\nstory: Latency story {number}"
        elif line.startswith("tags:") and kind == "tags":
            line = f"tags: [Latency tag {number}]"
        elif line.startswith("story:") and kind == "story":
            continue
        elif line.startswith("date:") and kind == "date" and number % 2 == 0:
            line = f"date: {other_month(line.split(None, 1)[1])}"
        lines.append(line)
    return "\n".join(lines), title


def other_month(written: str) -> str:
    """Return a front matter date (`2024-12-25T01:40:45-05:00`) moved into the month before (in
    January, the month after: a briefing's year is its folder's), its day at most the 28th,
    its time and offset as written."""
    year, month, day = written[:4], int(written[5:7]), int(written[8:10])
    return f"{year}-{month - 1 if month > 1 else 2:02d}-{min(day, 28):02d}{written[10:]}"


def measure(root: Path, file: str, edits: int, kind: str = "title") -> tuple[list[float], list[float]]:
    """Return the save-to-reload latency of each edit, and the time from each save until the full
    build that follows is done, in seconds."""
    server, base, said = start(root)
    latencies, rebuilds = [], []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
            page = browser.new_page()
            page.goto(page_url(root, base, file))
            page.wait_for_function("window.LiveReload?.connector?.protocol")
            source = root / file
            original = source.read_text(encoding="utf-8")
            layout = root / "templates" / "base.html"
            template = layout.read_text(encoding="utf-8")
            for number in range(edits):
                text, title = edited(original, number, kind)
                target = source.with_name(f"latency-probe-{number}.md") if kind in ("new", "rename") else source
                if kind == "new":  # the tab waits where the new briefing will be (a 404 until then)
                    time.sleep(0.5)  # the reload the last build sent first: it would abort the visit
                    page.goto(page_url(root, base, target.relative_to(root).as_posix(), text))
                    page.wait_for_function("window.LiveReload?.connector?.protocol")
                time.sleep(0.5)  # let the previous reload settle
                started = time.perf_counter()
                if kind == "delete":
                    source.unlink()
                    title = NOT_FOUND
                elif kind == "template":
                    footer = f'<p id="latency-probe">{title}</p></footer>'
                    layout.write_text(template.replace("</footer>", footer, 1), encoding="utf-8")
                else:
                    target.write_text(text, encoding="utf-8")
                if kind == "rename":  # the file moves: the text under its new name, then the old name gone
                    source.unlink()
                    source = target
                shown_by = PROBE if kind == "template" else "document.querySelector('h1')"
                try:
                    page.wait_for_function(f"{shown_by}?.textContent === {title!r}", timeout=60000)
                except PlaywrightTimeout:
                    said_since = [said.get_nowait().rstrip() for _ in range(said.qsize())]
                    sys.exit(f"bench: edit {number + 1} was not shown within 60 s; the server said: {said_since}")
                latencies.append(time.perf_counter() - started)
                rebuilt(said)
                rebuilds.append(time.perf_counter() - started)
                shown, done = latencies[-1] * 1000, rebuilds[-1]
                print(f"  edit {number + 1}: {shown:.0f} ms, full build done {done:.2f} s", file=sys.stderr)
                if kind == "delete":  # put back, and built, with the tab on it again
                    source.write_text(original, encoding="utf-8")
                    rebuilt(said)
                    time.sleep(0.5)  # the reload the build sent first: it would abort the visit
                    page.goto(page_url(root, base, file))
                    page.wait_for_function("window.LiveReload?.connector?.protocol")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return latencies, rebuilds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, help="serve a generated archive of this many briefings")
    parser.add_argument("--edits", type=int, default=7)
    kinds = ("title", "tags", "story", "date", "new", "rename", "delete", "template")
    parser.add_argument("--kind", choices=kinds, default="title", help="what each edit changes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="briefings-latency-") as folder:
        root, file = prepare(Path(folder), args.count, published=args.kind == "new")
        latencies, rebuilds = measure(root, file, args.edits, args.kind)
    label = f"{args.count:,} generated briefings" if args.count else "the example archive"
    edited_fields = {"tags": "title and tags", "story": "title and story", "date": "title and date",
                     "rename": "title and file name"}  # fmt: skip
    edit = {"new": "a new briefing", "delete": "a briefing deleted", "template": "a template edited"}.get(args.kind)
    edit = edit or f"{edited_fields.get(args.kind, 'title')} edited"
    print(f"Save-to-reload ({edit}) on {label}: median {statistics.median(latencies) * 1000:.0f} ms "
          f"(min {min(latencies) * 1000:.0f}, max {max(latencies) * 1000:.0f}, {len(latencies)} edits); "
          f"save to full build done: median {statistics.median(rebuilds):.2f} s "
          f"(min {min(rebuilds):.2f}, max {max(rebuilds):.2f})")  # fmt: skip


if __name__ == "__main__":
    main()
