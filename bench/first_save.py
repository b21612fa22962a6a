"""Time the preview's build of the first saves after it starts on an archive it never previewed.

    python -m bench.first_save <checkout> <archive> [--saves 3] [--settle 15]

Copies the archive's inputs (not `.cache/`, `_site/` or `_preview/`) to a folder of its own,
starts `python <checkout>/build.py serve` on the copy (its first build is a cold one, whatever
the checkout, and writes `_preview/` whole), waits `--settle` seconds (a writer reading the
page first; at 100,000 briefings, 90), then toggles the newest briefing's title `--saves`
times (`bench.rounds.toggle_title`), each once the build of the last is done, and prints
each save's build time as the server says it ("Rebuilt in ..."). The first
build after one that wrote the folder whole links every file into the spare copy the builds
write into (`write._staging`), unless the preview made that copy while the writer read
(`serve.Preview.ready_spare`, since the commit that added this tool): run it for two
checkouts to see the first save's difference. The copy is deleted at the end.
"""

from __future__ import annotations

import argparse
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.rounds import toggle_title
from bench.serve_latency import forward

SAID = "Rebuilt in "


def copy_archive(archive: Path, into: Path) -> Path:
    """Copy the archive's inputs, not its cache or output folders; return the copy."""
    ignored = shutil.ignore_patterns(".cache", "_site", "_preview")
    shutil.copytree(archive, into, symlinks=True, ignore=ignored)
    return into


def first_saves(checkout: Path, root: Path, saves: int, settle: float) -> list[str]:
    """Start the checkout's preview on `root`; return what it says of each save's build."""
    server = subprocess.Popen(
        [sys.executable, str(checkout / "build.py"), "serve", "--root", str(root), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        for line in server.stdout or ():
            if line.startswith("Serving "):
                break
        else:
            sys.exit("bench: the server did not start")
        said: queue.Queue[str] = queue.Queue()
        threading.Thread(target=forward, args=(server, said), daemon=True).start()
        time.sleep(settle)
        while not said.empty():  # what it said while the writer read (the spare copy made, if it was)
            print(f"  {said.get().strip()}")
        found = []
        for number in range(saves):
            toggle_title(root, number)
            found.append(_build_said(said))
        return found
    finally:
        server.terminate()
        server.wait(timeout=60)


def _build_said(said: queue.Queue[str], timeout: float = 1200) -> str:
    """Return what the server says of the next build that made something (one with nothing to do
    is the watcher's, not the save's); exit if the build failed."""
    deadline = time.monotonic() + timeout
    while True:
        line = said.get(timeout=max(deadline - time.monotonic(), 0.01)).strip()
        if line.startswith("Found"):
            sys.exit(f"bench: the save made the archive fail to build: {line}")
        if line.startswith(SAID) and not line.split(": ", 1)[1].startswith("0 made"):
            return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkout", type=Path)
    parser.add_argument("archive", type=Path)
    parser.add_argument("--saves", type=int, default=3)
    parser.add_argument("--settle", type=float, default=15.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="first-save-", dir=args.archive.parent) as scratch:
        root = copy_archive(args.archive, Path(scratch) / "archive")
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(args.checkout / "briefings")], check=True)
        for number, line in enumerate(first_saves(args.checkout.resolve(), root, args.saves, args.settle), start=1):
            print(f"save {number}: {line}")


if __name__ == "__main__":
    main()
