"""Measure time to first search result on /search/ in headless Chromium.

    python -m bench.search_latency [--count 10000] [--runs 5]

Builds the example archive (or, with `--count`, a generated one), serves `_site/` over
HTTP on loopback, and for a common and a rare word opens /search/ in a fresh browser
context (nothing cached), submits the word, and times until the first page of results is
shown: titles, dates and excerpts, which come from the result pages. Medians of `--runs`.
Loopback has no network latency: on a phone, add a round trip per file fetched (the
index's summary, one shard per word, one metadata chunk, then the result pages).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright

from bench.generate import generate, write_archive
from bench.serve_latency import FLAGS

REPO = Path(__file__).resolve().parent.parent


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def build(folder: Path, count: int | None) -> tuple[Path, dict[str, str]]:
    """Build the archive to search; return its _site/ and the words to search for."""
    root = folder / "archive"
    root.mkdir()
    if count:
        write_archive(root, generate(count))
        words = {"common": "ceasefire", "rare": str(count // 2)}  # every title ends with its number
    else:
        for name in ("site.yaml", "content", "templates", "static"):
            (shutil.copytree if (REPO / name).is_dir() else shutil.copy)(REPO / name, root / name)
        words = {"common": "ceasefire", "rare": "Kweiris"}
    subprocess.run([sys.executable, str(REPO / "build.py"), "--quiet", "--root", str(root)], check=True)
    return root / "_site", words


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, help="search a generated archive of this many briefings")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="briefings-search-") as folder:
        site, words = build(Path(folder), args.count)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_port}/search/"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
            for kind, word in words.items():
                first = []
                for _ in range(args.runs):
                    context = browser.new_context()
                    page = context.new_page()
                    page.goto(url)
                    page.wait_for_selector("#search:not([hidden])")
                    page.fill("#q", word)
                    start = page.evaluate("performance.now()")
                    page.press("#q", "Enter")
                    page.wait_for_selector("#results h2 a")
                    first.append(page.evaluate("performance.now()") - start)
                    found = page.locator("#search-status").inner_text()
                    context.close()
                print(f"{kind} word {word!r} ({found}): results shown in {statistics.median(first):.0f} ms "
                      f"(median of {args.runs})")  # fmt: skip
            browser.close()
        server.shutdown()


if __name__ == "__main__":
    main()
