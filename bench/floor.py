"""The CPU time the required libraries alone take per briefing, and the cold build it bounds.

    python -m bench.floor [--sample 1000] [--runs 3] [--count 100000] [--cores 2]

Generates `--sample` briefings (`bench.generate`, seed 1) into a temporary folder and builds
them once, then times in this process, per briefing, the work no cold build can skip:

- PyYAML: its front matter parsed by PyYAML's fastest loader (libyaml's, when PyYAML has it);
- markdown-it-py: its body rendered by the project's configured parser (`make_parser().render`);
- Jinja2: its page rendered from its planned view (`Planned.attempt`, the writer's own call,
  the body's HTML taken from the store);
- the OS: that page written to a new file, its folders made as needed.

Each is the median of `--runs` passes over the sample, in milliseconds per briefing. Their sum
times `--count`, divided by `--cores`, is the wall time under which a cold build of that many
briefings cannot go on that many cores even if nothing else took any time (reading and
writing files, the model, the listings, the feeds, the search index) and no core ever waited.
The machine's noise is in every figure; the floor is only as steady as they are.

Beside the floor it prints the engine's own parse of a file, timed the same way
(`RecordParser.parse_apart`, what a build's workers run for each file: the front matter read
and checked, the body rendered, the record's shape digested, the words search finds it by):
how far above the first two libraries' share the engine's parsing stands.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import yaml

from bench.generate import generate, write_archive
from bench.stages import opened

T = TypeVar("T")


@dataclass(frozen=True)
class Floor:
    """Milliseconds per briefing of each library's share of a cold build (median of the runs)."""

    per_briefing: dict[str, float]
    engine: dict[str, float] = field(default_factory=dict)  # beside the floor, not in it (see the module)

    def seconds(self, count: int, cores: int) -> float:
        """Return the least wall time of a cold build of `count` briefings on `cores` cores."""
        return sum(self.per_briefing.values()) * count / cores / 1000


def per_item(runs: int, items: Sequence[T], work: Callable[[T], object]) -> float:
    """Return the median over `runs` passes of the milliseconds `work` takes per item."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        for item in items:
            work(item)
        times.append((time.perf_counter() - started) / len(items) * 1000)
    return statistics.median(times)


def measure(sample: int, runs: int) -> Floor:
    """Build `sample` generated briefings in a temporary folder and time each library's share."""
    from briefings import pipeline, stages
    from briefings.content import decode, split_front_matter
    from briefings.markdown import make_parser
    from briefings.plan import plan_site
    from briefings.records import RecordParser

    with tempfile.TemporaryDirectory(prefix="briefings-floor-") as folder:
        root = Path(folder)
        write_archive(root, generate(sample))
        pipeline.build(root)
        files = sorted((root / "content").rglob("*.md"))
        read = [(file.relative_to(root).as_posix(), file.read_bytes()) for file in files]
        texts = [split_front_matter(decode(data))[:2] for _, data in read]
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        parser = make_parser()
        floor = {
            "PyYAML": per_item(runs, [front for front, _ in texts], lambda front: yaml.load(front, loader)),
            "markdown-it-py": per_item(runs, [body for _, body in texts], parser.render),
        }
        with opened(root) as (run, content):
            records_of = RecordParser(run.config.parsing)
            engine = {"the engine's parse of a file": per_item(runs, read, lambda file: records_of.parse_apart(*file))}
            records, unread, _ = stages.load_records(run, content)
            archive, _ = stages.model_archive(run, records.every(), unread)
            digests = {path: s.digest for path, s in records.index.items()}
            planned = plan_site(root, archive, digests, run.store.html)
            pages = [output for output in planned if output.group == "briefings"]
            floor["Jinja2"] = per_item(runs, pages, lambda output: output.attempt()) * len(pages) / len(files)
            made = [(output.path, output.attempt()[0] or b"") for output in pages]
        writes = [per_item(1, made, write_under(root / "written" / str(number))) for number in range(runs)]
        floor["the OS, writing the page"] = statistics.median(writes)  # each pass into a folder of its own
    return Floor(floor, engine)


def write_under(folder: Path) -> Callable[[tuple[str, bytes]], object]:
    """Return a function that writes a page's bytes to a new file at its path under `folder`."""

    def write(page: tuple[str, bytes]) -> None:
        file = folder / page[0]
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(page[1])

    return write


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sample", type=int, default=1000, help="briefings to time (default 1,000)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--count", type=int, default=100_000, help="the archive size to bound (default 100,000)")
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args()
    if min(args.sample, args.runs, args.count, args.cores) < 1:
        parser.error("--sample, --runs, --count and --cores: give 1 or more")
    floor = measure(args.sample, args.runs)
    for library, ms in floor.per_briefing.items():
        print(f"{library}: {ms:.3f} ms a briefing (median of {args.runs} passes over {args.sample:,})")
    total = sum(floor.per_briefing.values())
    seconds = floor.seconds(args.count, args.cores)
    cores = f"{args.cores} core" + ("s" if args.cores > 1 else "")
    print(f"together: {total:.3f} ms a briefing; {args.count:,} briefings on {cores}: at least {seconds:.1f} s")
    for step, ms in floor.engine.items():
        held = "PyYAML's and markdown-it-py's share in it"
        print(f"beside it, {step}: {ms:.3f} ms a briefing (median of {args.runs} passes; {held})")


if __name__ == "__main__":
    main()
