"""Screenshots of every kind of page of the example archive, at 1280 and 390 px, light and dark.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Builds the repository's archive into a temporary folder, serves it on loopback, and saves
what Chromium shows in the first screen of each page (JPEG, so the set stays small enough to
commit), with an index, `README.md`, beside them. Needs Debian's Chromium at /usr/bin/chromium
(or $CHROMIUM) and the Python package playwright (`make test` installs both).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
# Each kind of page, by the path of one example of it in the repository's archive.
PAGES = {
    "home": "",
    "briefing": "2015/09/kweiris-russian-jets/",
    "briefing-in-a-story": "2016/12/aleppo-government-control/",
    "briefing-in-another-language": "2019/11/evo-morales-dimite/",
    "tag": "tags/syrian-civil-war/",
    "region": "regions/middle-east/",
    "country": "countries/syria/",
    "source": "sources/bbc-news/",
    "story": "stories/russia-in-syria/",
    "tags": "tags/",
    "regions": "regions/",
    "countries": "countries/",
    "sources": "sources/",
    "stories": "stories/",
    "corrections": "corrections/",
    "timeline": "timeline/",
    "year": "2016/",
    "month": "2016/12/",
    "search": "search/?q=ceasefire",
    "not-found": "404.html",
}
SIZES = {1280: 900, 390: 844}


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def build(into: Path) -> Path:
    """Build the repository's archive in a copy under `into`; return its _site/."""
    for name in ("site.yaml", "content", "templates", "static"):
        copy = shutil.copytree if (REPO / name).is_dir() else shutil.copy
        copy(REPO / name, into / name)
    subprocess.run([sys.executable, str(REPO / "build.py"), "--quiet", "--root", str(into)], check=True)
    return into / "_site"


def shoot(site: Path, out: Path) -> list[str]:
    """Save every page kind at each size and scheme; return the file names, in order."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    names = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            for (width, height), scheme in ((size, s) for size in SIZES.items() for s in ("light", "dark")):
                page = browser.new_page(viewport={"width": width, "height": height}, color_scheme=scheme)
                for kind, path in PAGES.items():
                    page.goto(f"http://127.0.0.1:{server.server_port}/{path}", wait_until="networkidle")
                    if kind == "search":
                        page.wait_for_selector("#results li .excerpt")
                    name = f"{kind}-{width}-{scheme}.jpg"
                    page.screenshot(path=str(out / name), type="jpeg", quality=70)
                    names.append(name)
                page.close()
            browser.close()
    finally:
        server.shutdown()
    return names


def index(names: list[str]) -> str:
    """Return the README of the screenshots folder: a table of every page kind."""
    lines = [
        "# Screenshots",
        "",
        "The first screen of every kind of page of the example archive, made by",
        "`.venv/bin/python scripts/screenshots.py` (Chromium; 1280 x 900 and 390 x 844 px, light and dark).",
        "",
        "| page | 1280 light | 1280 dark | 390 light | 390 dark |",
        "|---|---|---|---|---|",
    ]
    for kind, path in PAGES.items():
        cells = [f"[{w} {s}]({kind}-{w}-{s}.jpg)" for w in SIZES for s in ("light", "dark")]
        lines.append(f"| {kind} (`/{path}`) | " + " | ".join(cells) + " |")
    assert all(name in " ".join(lines) for name in names)
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob("*.jpg"):
        old.unlink()
    with tempfile.TemporaryDirectory() as folder:
        names = shoot(build(Path(folder)), args.out)
    (args.out / "README.md").write_text(index(names), encoding="utf-8")
    print(f"Wrote {len(names)} screenshots to {args.out}")


if __name__ == "__main__":
    main()
