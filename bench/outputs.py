"""Time a cold build's outputs by kind: each made and written in turn, in this process.

    python -m bench.outputs <copy of an archive> [--runs 1]

Deletes the archive's `.cache/` and `_site/` (give it a copy), then builds it cold with this
checkout's engine, in this process, as `python build.py` would but for one thing: the
writer's workers are replaced by a loop that makes and writes every output in turn and
times each (rendering it, and writing it into the spare output folder). Printed, for each
kind of output (briefing pages, year and month pages, the pages of each kind of listing,
the files at the top of the site: home page, feeds, sitemaps), the seconds its outputs
took, how many there are, and the milliseconds and kilobytes of each; with `--runs N`, N
cold builds and the median of each figure. What the workers would do on every core is here
done on one, so the seconds are CPU time and waits of the writing alone, not the build's.

Compare two commits by running it from each checkout in turn on one copy: the folder's
own speed then weighs on both alike (on this project's machine, creating a file and its
folder took 80 to 260 µs depending on where).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

from bench.rounds import cold

TOP = "the site's top files (home page, feeds, sitemaps...)"


@dataclass
class Kind:
    """What the outputs of one kind took in one build."""

    seconds: float = 0.0
    files: int = 0
    size: int = 0  # bytes


def kind_of(path: str) -> str:
    """Return the kind of an output by its path in the site."""
    parts = path.split("/")
    if len(parts) == 1:
        return TOP
    if parts[0].isdigit():  # 2015/09/<slug>/index.html; a year's and month's pages, and their next pages
        briefing = len(parts) == 4 and parts[1].isdigit() and parts[2] != "page"
        return "briefing pages" if briefing else "year and month pages"
    return f"{parts[0]}/"


def measure(root: Path, runs: int = 1) -> list[dict[str, Kind]]:
    """Build the archive at `root` cold `runs` times, each output made in turn; return what each
    kind of output took in each build."""
    from briefings import pipeline, write
    from briefings.errors import BuildFailed

    builds = []
    for _ in range(runs):
        cold(root, 0)
        kinds: dict[str, Kind] = {}
        try:
            with mock.patch.object(write, "forked_map", _in_turn(kinds)):
                pipeline.build(root, pipeline.Options())
        except BuildFailed:
            sys.exit(f"bench: {root} has errors; `python build.py check --root {root}` lists them")
        builds.append(kinds)
    return builds


def _in_turn(kinds: dict[str, Kind]) -> Callable[[Callable[[int], Any], int, int], Iterator[Any]]:
    """Return what stands for `workers.forked_map` in the writer: each output made in turn and timed."""

    def in_turn(make: Callable[[int], Any], count: int, jobs: int) -> Iterator[Any]:
        for index in range(count):
            started = time.perf_counter()
            path, state = made = make(index)
            kind = kinds.setdefault(kind_of(path), Kind())
            kind.seconds += time.perf_counter() - started
            kind.files += 1
            kind.size += state[2] if isinstance(state, tuple) else 0  # (key, digest, size), or its errors
            yield made

    return in_turn


def report(builds: list[dict[str, Kind]]) -> str:
    """Return each kind's median seconds, its files, and the milliseconds and kilobytes of each, the slowest first."""
    names = {name for kinds in builds for name in kinds}

    def median(name: str, figure: Callable[[Kind], float]) -> float:
        return statistics.median(figure(kinds.get(name, Kind())) for kinds in builds)

    seconds = {name: median(name, lambda kind: kind.seconds) for name in names}
    lines = []
    for name in sorted(names, key=lambda n: (-seconds[n], n)):
        files = median(name, lambda kind: kind.files)
        size = median(name, lambda kind: kind.size)
        each = f"{1000 * seconds[name] / files:.2f} ms and {size / files / 1000:.1f} kB each" if files else ""
        lines.append(f"{name}: {seconds[name]:.2f} s, {files:.0f} files, {each}")
    total = statistics.median(sum(kind.seconds for kind in kinds.values()) for kinds in builds)
    lines.append(f"every output: {total:.2f} s ({len(builds)} builds, medians)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("archive", type=Path, help="a copy of an archive: its .cache/ and _site/ are deleted")
    parser.add_argument("--runs", type=int, default=1, help="cold builds, each kind's median printed")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs: give 1 or more")
    if not (args.archive / "content").is_dir():
        parser.error(f"{args.archive} has no content/ folder: give an archive (`python -m bench.generate <folder>`)")
    print(report(measure(args.archive, args.runs)))


if __name__ == "__main__":
    main()
