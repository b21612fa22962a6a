"""Time the stages of a rebuild, each on its own, in one process.

    python -m bench.stages <archive> [--runs 3] [--profile model|page views|plan] [--only STAGE ...]

This loads the cached records of an archive built before by the same commit (the cache is
the engine's own: run `python build.py --root <archive>` first), then runs the model, the
related ranking (made afresh, and updated after the newest briefing's first tag is changed,
as a retag's build updates it: `archive.reranked`, and after the newest briefing is deleted),
the page views, their digests (`page keys`: every view digested by one `keys.Hasher`, as a
plan of a new shape does) and the plan (every output's key, the page views made again inside
it; not the search index) `--runs` times each, and prints each stage's median (min to max)
in seconds.
When the cache keeps a model for these records (a build that finds none kept for its files
keeps the one it made), "kept model" times loading and patching it, which replaces the model.
When it keeps what each output holds and the keys of the last plan of this shape (the last
build had these files), "plan, same shape" times the plan a one-edit rebuild makes
(`plan._recalled_outputs`), here with nothing edited; what it would keep for the next
build is kept in memory, not written.
These are the stages a one-edit rebuild runs over the whole archive; nothing is written.
The machine's noise is in every figure: compare two commits by running this on each in turn.
With `--profile`, one run of that stage is also profiled (cProfile: its number of function
calls, which the noise does not change, and where its time went). With `--only`, only the
stages named are printed; `--only "kept model" "plan, same shape"` (either or both) makes no model
afresh, planning from the kept one: at 100,000 briefings that takes seconds, where every
stage takes many minutes.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import functools
import gc
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

if TYPE_CHECKING:
    from briefings.archive import Archive
    from briefings.keys import Memo
    from briefings.pages import Dated, Deferred, Page
    from briefings.sources import Content
    from briefings.stages import Records, Session

T = TypeVar("T")


def timed(times: list[float], runs: int, stage: Callable[[], T], profile: bool = False) -> T:
    """Run a stage `runs` times, adding each run's seconds to `times`; return its last result.
    With `profile`, run it once more under cProfile and print the profile."""
    result = None
    for _ in range(runs):
        started = time.perf_counter()
        result = stage()
        times.append(time.perf_counter() - started)
    if profile:
        profiler = cProfile.Profile()
        result = profiler.runcall(stage)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    assert result is not None
    return result


@contextlib.contextmanager
def opened(root: Path) -> Iterator[tuple[Session, Content]]:
    """Open a run of the engine's stages over an archive built before (its cache in place), as
    a build does, with its content files listed; exit with a message if it has no cache."""
    from briefings import stages
    from briefings.pipeline import Options, load_config_for, usable_cache
    from briefings.progress import Progress
    from briefings.sources import read_content

    options, progress = Options(), Progress(enabled=False)
    cache = usable_cache(root, options, progress)
    if cache is None:
        sys.exit(build_first(root))
    content = read_content(root, cache, defer=True)
    with stages.session(root, load_config_for(root, options), options, progress, cache) as run:
        yield run, content


def build_first(root: Path) -> str:
    """Return the message for an archive this commit has not built."""
    return f"bench: build {root} with this commit first (`python build.py --root {root}`)"


def measure(root: Path, runs: int, profile: str = "", only: Collection[str] = ()) -> dict[str, list[float]]:
    """Return the seconds of each run of each stage on the archive at `root` (those named in
    `only`, if any), profiling the stage named `profile` once more."""
    from briefings import stages
    from briefings.collector import COLLECT_EVERY
    from briefings.pages import site_pages
    from briefings.plan import plan_site

    gc.set_threshold(COLLECT_EVERY, 50, 1000)  # as a build runs
    times: dict[str, list[float]] = {name: [] for name in STAGES}
    with opened(root) as (run, content):
        loaded, unread, changed = timed(times["records"], 1, lambda: stages.load_records(run, content))
        if changed:  # some files were parsed, not loaded: a rebuild would not time what is timed here
            sys.exit(build_first(root))
        assets = frozenset(content.assets)
        inputs = stages.records_shape(run, loaded.facts, assets)
        if only and set(only) <= {"kept model", "plan, same shape"}:  # neither needs a model made afresh
            patched = _kept_model(times, runs, run, loaded, assets, inputs)
            if patched is not None and "plan, same shape" in only:
                digests = {path: summary.digest for path, summary in loaded.index.items()}
                _same_shape(times, runs, root, run, patched, digests, inputs, profile)
            return {name: seconds for name, seconds in times.items() if name in only and seconds}
        records = timed(times["records"], 1, loaded.every)  # what a build that makes the model loads
        times["records"] = [sum(times["records"])]
        archive, errors = timed(
            times["model"], runs, lambda: stages.model_archive(run, records, unread, assets), profile == "model"
        )
        if errors:
            sys.exit(f"bench: {root} has errors; `python build.py check --root {root}` lists them")
        _kept_model(times, runs, run, loaded, assets, inputs)
        if archive.entries:
            timed_ranking(times, runs, archive)
        views = timed(times["page views"], runs, lambda: site_pages(archive), profile == "page views")
        digests = {r.path: r.digest for r in records}
        timed(times["page keys"], runs, lambda: page_keys(views, digests))
        timed(times["plan"], runs, lambda: plan_site(root, archive, digests, run.store.html), profile == "plan")
        _same_shape(times, runs, root, run, archive, digests, inputs, profile)
    return {name: seconds for name, seconds in times.items() if not only or name in only}


def _same_shape(
    times: dict[str, list[float]], runs: int, root: Path, run: Session, archive: Archive,
    digests: dict[str, str], inputs: bytes, profile: str,
) -> None:  # fmt: skip
    """Time the plan a one-edit rebuild makes (`plan._recalled_outputs`), nothing edited, if the
    cache keeps what each output holds for this model's shape; else leave the stage out."""
    from briefings import stages
    from briefings.plan import plan_site

    shape = stages.model_shape(inputs, archive)
    if run.cache and run.cache.recall("readers", shape) is not None:
        memo = InMemory(run.cache)
        again = lambda: plan_site(root, archive, digests, run.store.html, memo=memo, shape=shape)  # noqa: E731
        timed(times["plan, same shape"], runs, again, profile == "plan, same shape")
    else:
        del times["plan, same shape"]


def _kept_model(
    times: dict[str, list[float]], runs: int, run: Session, loaded: Records, assets: frozenset[str], inputs: bytes
) -> Archive | None:
    """Time loading the model the cache keeps for these records and patching it (nothing edited),
    if it keeps one, and return it patched; else leave the stage out."""
    from briefings import stages

    cache = run.cache
    if cache and stages.kept_model(cache, inputs):

        def kept() -> Archive | None:
            warm = stages.kept_model(cache, inputs)
            return stages.patched_model(run, loaded, assets, warm, inputs, warm.frame) if warm else None

        return timed(times["kept model"], runs, kept)
    del times["kept model"]
    return None


RANKING = ("related, afresh", "related, one retagged", "related, one deleted")
STAGES = ("records", "model", "kept model", *RANKING, "page views", "page keys", "plan", "plan, same shape")


def timed_ranking(times: dict[str, list[float]], runs: int, archive: Archive) -> None:
    """Time the related ranking of every entry made afresh, and updated from it after the newest
    entry's first tag changed, and after the newest entry is gone (or ranked again, where most
    entries are near that change)."""
    from briefings.archive import Ranking, related_places, reranked

    entries = archive.entries
    paths, moments = [e.briefing.path for e in entries], [e.briefing.moment for e in entries]
    tags = [tuple(tag.slug for tag in entry.tags) for entry in entries]
    before = Ranking(paths, moments, tags, timed(times[RANKING[0]], runs, lambda: related_places(moments, tags)))
    retagged = [("bench-retagged", *tags[0][1:]), *tags[1:]]
    updated = lambda: reranked(before, paths, moments, retagged) or related_places(moments, retagged)  # noqa: E731
    timed(times[RANKING[1]], runs, updated)
    left = paths[1:], moments[1:], tags[1:]
    timed(times[RANKING[2]], runs, lambda: reranked(before, *left) or related_places(*left[1:]))


def page_keys(views: list[Page | Deferred | Dated], digests: dict[str, str]) -> list[bytes]:
    """Digest every page's view as a plan keys it (`keys.Hasher`), with a hasher that knows none yet."""
    from briefings.keys import Hasher
    from briefings.plan import _known_briefing

    hasher = Hasher(functools.partial(_known_briefing, digests))
    return [hasher.digest(view) for view in views]


class InMemory:
    """A memo (`keys.Memo`) that recalls what the cache keeps and keeps what it is given in
    memory, so that the cache is as the last build left it."""

    def __init__(self, cache: Memo) -> None:
        self.cache = cache
        self.kept: dict[str, tuple[object, object]] = {}
        self.aside: dict[str, str | None] = {}  # names set aside: the name the cache keeps each under, None: none

    def recall(self, name: str, inputs: object) -> object:
        kept = self.kept.get(name)
        if kept and kept[0] == inputs:
            return kept[1]
        if name in self.aside and name not in self.kept:
            cached = self.aside[name]
            return self.cache.recall(cached, inputs) if cached is not None else None
        return self.cache.recall(name, inputs)

    def remember(self, name: str, inputs: object, value: object) -> None:
        self.kept[name] = (inputs, value)

    def set_aside(self, name: str, as_name: str) -> None:
        kept = self.kept.pop(name, None)
        if kept is not None:
            self.kept[as_name] = kept
        else:
            self.kept.pop(as_name, None)
            self.aside[as_name] = self.aside.get(name, name)
        self.aside[name] = None  # moved: recalled as nothing until remembered again

    def forget(self, name: str) -> None:
        self.kept.pop(name, None)
        self.aside[name] = None

    def recall_tables(self, name: str, inputs: object) -> tuple[tuple[dict[Any, Any], ...], object] | None:
        kept = self.kept.get(name)
        if not kept or kept[0] != inputs:
            return self.cache.recall_tables(name, inputs)
        tables, rest = cast("tuple[tuple[dict[Any, Any], ...], object]", kept[1])
        return tuple(map(dict, tables)), rest

    def remember_tables(self, name: str, inputs: object, tables: tuple[dict[Any, Any], ...], rest: object) -> None:
        self.kept[name] = (inputs, (tables, rest))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("archive", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    profiled = ("model", "page views", "plan", "plan, same shape")
    parser.add_argument("--profile", choices=profiled, default="", help="also profile this stage once")
    parser.add_argument("--only", nargs="+", choices=STAGES, default=(), metavar="STAGE", help="time only these")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs: give 1 or more")
    if not (args.archive / "content").is_dir():
        parser.error(f"{args.archive} has no content/ folder: give an archive (`python -m bench.generate <folder>`)")
    for name, seconds in measure(args.archive, args.runs, args.profile, args.only).items():
        spread = f"{min(seconds):.2f} to {max(seconds):.2f}, {len(seconds)} runs"
        print(f"{name}: {statistics.median(seconds):.2f} s ({spread})")


if __name__ == "__main__":
    main()
