"""Measure save-to-reload latency of `python build.py serve` in headless Chromium.

    python -m bench.serve_latency [--count 10000] [--edits 7] [--kind title|tags|story]

Starts the preview server on a copy of the example archive (or, with `--count`, of a
generated archive), opens a briefing in Debian's Chromium, then edits that briefing's
title `--edits` times; with `--kind tags` each edit also gives it a new tag, with
`--kind story` a new story (edits that change which listings it is in). Each latency runs
from just before the file is written until the reloaded page shows the new title; the
median is reported.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from bench.generate import generate, write_archive

REPO = Path(__file__).resolve().parent.parent
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


def prepare(folder: Path, count: int | None) -> tuple[Path, str]:
    """Return an archive to serve and the briefing to edit (its repository path)."""
    root = folder / "archive"
    root.mkdir()
    if count:
        write_archive(root, generate(count))
    else:
        for name in ("site.yaml", "content", "templates", "static"):
            (shutil.copytree if (REPO / name).is_dir() else shutil.copy)(REPO / name, root / name)
    newest = max((root / "content").rglob("*.md"))
    return root, newest.relative_to(root).as_posix()


def start(root: Path) -> tuple[subprocess.Popen[str], str]:
    """Start the server; return it and its URL once the first build is done."""
    server = subprocess.Popen(
        [sys.executable, str(REPO / "build.py"), "serve", "--root", str(root), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    for line in server.stdout:
        if line.startswith("Serving "):
            return server, line.split()[1]
    sys.exit("bench: the server did not start")


def page_url(root: Path, base: str, file: str) -> str:
    """Return the preview URL of a briefing: /YYYY/MM/slug/ from its front matter date."""
    text = (root / file).read_text(encoding="utf-8")
    date = next(line for line in text.splitlines() if line.startswith("date:")).split()[1]
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
        lines.append(line)
    return "\n".join(lines), title


def measure(root: Path, file: str, edits: int, kind: str = "title") -> list[float]:
    """Return the save-to-reload latency of each edit, in seconds."""
    server, base = start(root)
    latencies = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
            page = browser.new_page()
            page.goto(page_url(root, base, file))
            page.wait_for_function("window.LiveReload?.connector?.protocol")
            source = root / file
            original = source.read_text(encoding="utf-8")
            for number in range(edits):
                text, title = edited(original, number, kind)
                time.sleep(0.5)  # let the previous reload settle
                started = time.perf_counter()
                source.write_text(text, encoding="utf-8")
                page.wait_for_function(f"document.querySelector('h1')?.textContent === {title!r}", timeout=60000)
                latencies.append(time.perf_counter() - started)
                print(f"  edit {number + 1}: {latencies[-1] * 1000:.0f} ms", file=sys.stderr)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, help="serve a generated archive of this many briefings")
    parser.add_argument("--edits", type=int, default=7)
    parser.add_argument("--kind", choices=("title", "tags", "story"), default="title", help="what each edit changes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="briefings-latency-") as folder:
        root, file = prepare(Path(folder), args.count)
        latencies = measure(root, file, args.edits, args.kind)
    label = f"{args.count:,} generated briefings" if args.count else "the example archive"
    edit = {"title": "title", "tags": "title and tags", "story": "title and story"}[args.kind]
    print(f"Save-to-reload ({edit} edited) on {label}: median {statistics.median(latencies) * 1000:.0f} ms "
          f"(min {min(latencies) * 1000:.0f}, max {max(latencies) * 1000:.0f}, {len(latencies)} edits)")  # fmt: skip


if __name__ == "__main__":
    main()
