"""Time the stages of one build as they happen, in one process: where its wall time goes.

    python -m bench.timeline <archive> [--min-ms 5] [-- <build.py options>]

Runs `python build.py --root <archive> --quiet` in this process with each stage of the
pipeline named in `STAGES` wrapped, and prints each call that took at least `--min-ms`: when it
began and ended (milliseconds since this command began, after Python's own start) and how long
it took, in the order the calls began; then the whole build. A stage inside another (the
plan's parts inside the plan) overlaps it. A stage run in a forked child (records or a model kept
in the background, keys worked out by the workers, the content listed and read from 20,000
briefings: there `Cache.load_early` is the parent's loading meanwhile, and `Talk.heard` its
waits for the child's question and its content) is not shown: its time is the child's. The
engine's modules are imported before the build begins, to be wrapped: their import is not in
the build's time.

Make the change to time first (`bench.rounds.toggle_title(Path(<archive>), 0)` toggles the
newest briefing's title, as `bench.rounds --change edit` does), then run this: it times the
next build. The machine's noise is in every figure: one run shows where the time goes, not
how long a build takes (`bench.run`, `bench.rounds`).
"""

from __future__ import annotations

import argparse
import functools
import importlib
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

USAGE = "python -m bench.timeline <archive> [--min-ms 5] [-- <build.py options>]"
# (module, name) of each stage wrapped, or (module, class, name) of a method: in the order a build runs them.
STAGES: tuple[tuple[str, ...], ...] = (
    ("briefings.pipeline", "list_content"),
    ("briefings.pipeline", "read_content"),
    ("briefings.cache", "Cache", "load_early"),
    ("briefings.workers", "Talk", "heard"),
    ("briefings.pipeline", "inputs_digest"),
    ("briefings.stages", "load_records"),
    ("briefings.stages", "_keep_records"),
    ("briefings.stages", "index_facts"),
    ("briefings.stages", "clock_position"),
    ("briefings.stages", "records_shape"),
    ("briefings.stages", "model_archive"),
    ("briefings.stages", "kept_model"),
    ("briefings.stages", "patched_model"),
    ("briefings.stages", "with_terms"),
    ("briefings.archive", "related_entries"),
    ("briefings.archive", "related_patched"),
    ("briefings.archive", "_reranked"),
    ("briefings.archive", "with_edits"),
    ("briefings.stages", "plan_site"),
    ("briefings.plan", "Keying", "__init__"),
    ("briefings.plan", "Keying", "recall_prior"),
    ("briefings.plan", "_kept_plan"),
    ("briefings.plan", "_unchanged_outputs"),
    ("briefings.plan", "_recalled_outputs"),
    ("briefings.plan", "Keying", "seed_kept"),
    ("briefings.plan", "_keyed_outputs"),
    ("briefings.plan", "site_pages"),
    ("briefings.plan", "site_dates"),
    ("briefings.plan", "Keying", "recall_sitemaps"),
    ("briefings.plan", "Keying", "planned_all"),
    ("briefings.plan", "Keying", "kept_prior"),
    ("briefings.stages", "check_output_paths"),
    ("briefings.stages", "dangling_references"),
    ("briefings.pipeline", "write_site"),
    ("briefings.write", "site_sizes"),
)


@dataclass(frozen=True)
class Mark:
    """One call of a stage: its name, and when it began and ended (seconds, `time.perf_counter`)."""

    stage: str
    began: float
    ended: float


def wrapped(stage: str, function: Callable[..., Any], marks: list[Mark]) -> Callable[..., Any]:
    """Return `function` noting each call's span in `marks`, under the name `stage`."""

    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            marks.append(Mark(stage, began, time.perf_counter()))

    return timed


def wrap_stages(marks: list[Mark], stages: tuple[tuple[str, ...], ...] = STAGES) -> None:
    """Wrap every stage of `stages` where the build calls it (the name in its caller's module);
    one the engine lacks (an older commit's, timed from its checkout) is left out."""
    for module_name, *path in stages:
        owner: Any = importlib.import_module(module_name)
        for part in path[:-1]:
            owner = getattr(owner, part, None)
        name = path[-1]
        if owner is not None and hasattr(owner, name):
            setattr(owner, name, wrapped(".".join(path), getattr(owner, name), marks))


def report(marks: list[Mark], began: float, ended: float, min_ms: float) -> str:
    """Return the calls that took at least `min_ms`, in the order they began, then the whole."""

    def row(start: float, end: float, stage: str) -> str:
        return f"{1000 * (start - began):9.0f} {1000 * (end - began):9.0f} {1000 * (end - start):8.0f}  {stage}"

    shown = [mark for mark in sorted(marks, key=lambda m: m.began) if 1000 * (mark.ended - mark.began) >= min_ms]
    lines = [f"{'began ms':>9} {'ended ms':>9} {'took ms':>8}  stage"]
    lines += [row(mark.began, mark.ended, mark.stage) for mark in shown]
    lines.append(row(began, ended, "the build, from this command's start"))
    return "\n".join(lines)


def main() -> None:
    began = time.perf_counter()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter, usage=USAGE
    )
    parser.add_argument("archive", type=Path)
    parser.add_argument("--min-ms", type=float, default=5.0, help="leave out calls shorter than this (default 5)")
    argv = sys.argv[1:]
    split = argv.index("--") if "--" in argv else len(argv)  # after it: options for build.py (--jobs 1, --no-cache)
    args, build_options = parser.parse_args(argv[:split]), argv[split + 1 :]
    if not (args.archive / "content").is_dir():
        parser.error(f"{args.archive} has no content/ folder: give an archive (`python -m bench.generate <folder>`)")
    from briefings import cli

    marks: list[Mark] = []
    wrap_stages(marks)

    def end(status: int) -> None:  # as build.py ends: once the summary is out, without freeing the model
        print(report(marks, began, time.perf_counter(), args.min_ms), flush=True)
        os._exit(status)

    status = cli.main(["--root", str(args.archive), "--quiet", *build_options], end=end)
    sys.exit(status)  # (a build that failed: its errors are printed; nothing is timed)


if __name__ == "__main__":
    main()
