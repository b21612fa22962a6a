"""Time two commits' rebuilds in turn, round by round, on two copies of one archive.

    python -m bench.rounds <old checkout> <old archive> <new checkout> <new archive>
        [--change retag|add|add-newest|edit|cold|none] [--rounds 6] [--no-edit | --undo]

Each archive is built by its own checkout (`python <checkout>/build.py --root <archive>
--quiet`, the checkout's bytecode written first, as `bench.run` writes it), first once to
settle (its cache is its engine's own: a copy last built by another commit is built cold
here). Then each round makes one change to both copies and times both builds, then toggles
the newest briefing's title in both and times both builds again (the edit right after the
change; with `--no-edit`, not: each change is then a new shape right after another; with
`--undo`, the change is undone instead: the files it wrote put back as they were). The
order of the two builds alternates from round to round, so that a machine slowing down or
speeding up weighs on both alike; the first round is left
out. Printed: each step's median wall time for each commit, and the median of the rounds'
ratios (new / old) with their range, the honest figure on a noisy machine; the same of the
CPU time (user + system of each build's whole process tree).

The changes: `retag`, the newest briefing's tags set to a tag neither copy has had (a new
shape: every listing of a new tag); `add`, a copy of a briefing from the middle of the
archive under a new slug (the entries after it move); `add-newest`, a copy of the newest
briefing under a new slug, dated a day after it, as most contributions are (it comes first);
`edit`, the newest briefing's title edit alone (a steady one-edit rebuild: no edit after it);
`cold`, the archive's `.cache/` and `_site/` taken away before each build (a cold build,
paired; with `--no-edit`; set aside beside the archive until the rounds end, as `bench.run`
does, so the disk needs room for every round's: about 2.7 GB a build at 100,000); `none`,
nothing changed (each build has nothing to do: its start-up and the check that finds nothing
changed; no edit after it). Give `cold` one copy twice
(`<old checkout> <copy> <new checkout> <copy>`): then both commits build in the same folder,
in turn. On two copies, a cold build's time was partly its folder's while the outputs were
deleted: one copy's builds took 4 to 5 s more system time than the other's whichever commit
built them (docs/performance.md, "Cold builds in turn on two copies" and "Deleted outputs in
the cold builds").
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from bench.run import Run, byte_compiled, first_briefing, set_aside, timed


def retag(root: Path, number: int) -> None:
    """Set the newest briefing's tags to a tag of this round's own."""
    file = first_briefing(root)
    text = re.sub(r"^tags: .*$", f"tags: [Round {number} tag, Topic 001]", file.read_text(), count=1, flags=re.M)
    file.write_text(text)


def add(root: Path, number: int) -> None:
    """Add a copy of a briefing from the middle of the archive, with a new title and slug."""
    files = sorted((root / "content").rglob("*.md"))
    source = files[len(files) // 2 + number]
    text = source.read_text().replace("title: ", f"title: Added {number} ", 1)
    if re.search(r"^slug: ", text, flags=re.M):
        text = re.sub(r"^slug: .*$", f"slug: added-{number}", text, count=1, flags=re.M)
    source.with_name(f"added-{number:03d}-{source.name}").write_text(text)


def add_newest(root: Path, number: int) -> None:
    """Add a copy of the newest briefing, a day newer, with a new title and slug."""
    source = first_briefing(root)  # most likely the one the round before added: its words are put in once
    title = re.compile(r"^title: (?:(?:Added \d+|Edited) )*", flags=re.M)
    text = title.sub(f"title: Added {number} ", source.read_text(), count=1)
    written = re.search(r"^date: (\S+)", text, flags=re.M)
    if written is None:
        raise SystemExit(f"{source}: no date: line to move a day on")
    day = datetime.fromisoformat(written[1]) + timedelta(days=1)
    text = text.replace(written[0], f"date: {day.isoformat()}", 1)
    text = re.sub(r"^slug: .*\n", "", text, count=1, flags=re.M)  # the file's name gives the slug
    folder = root / "content" / str(day.year)  # a briefing's folder is its year's
    folder.mkdir(exist_ok=True)
    (folder / f"zz-added-{number:03d}.md").write_text(text)  # the newest: `first_briefing` finds it next


def toggle_title(root: Path, number: int) -> None:
    """Add "Edited " to the newest briefing's title, or take it away."""
    file = first_briefing(root)
    text = file.read_text()
    edited = "title: Edited "
    file.write_text(text.replace(edited, "title: ", 1) if edited in text else text.replace("title: ", edited, 1))


def cold(root: Path, number: int) -> None:
    """Take away what the last build left, the cache and the site: set aside beside the archive
    (`set_aside_for`) until the rounds end, as `bench.run` sets its cold builds' outputs aside."""
    for folder in (".cache", "_site"):
        set_aside(root / folder, set_aside_for(root))


def set_aside_for(root: Path) -> Path:
    """Return the folder beside the archive at `root` where `cold` sets its outputs aside."""
    return root.with_name(root.name + " set aside")


def nothing(root: Path, number: int) -> None:
    """Change nothing: the build finds nothing to do."""


CHANGES: dict[str, Callable[[Path, int], None]] = {
    "retag": retag, "add": add, "add-newest": add_newest, "edit": toggle_title, "cold": cold, "none": nothing,
}  # fmt: skip


def build(checkout: Path, archive: Path) -> Run:
    """Time one build of an archive by a checkout's build.py."""
    return timed([sys.executable, str(checkout / "build.py"), "--root", str(archive), "--quiet"], checkout)


def undoing(root: Path) -> Callable[..., bool]:
    """Return what puts the archive's briefings back as they are now, once a change wrote some:
    the newest briefing's text (a retag, an edit) and the files there are (an add adds one).
    Called with `dry=True`, it only says whether there is anything to put back."""
    newest = first_briefing(root)
    text, files = newest.read_text(), set((root / "content").rglob("*.md"))

    def undo(dry: bool = False) -> bool:
        added = set((root / "content").rglob("*.md")) - files
        rewritten = newest.read_text() != text
        if not dry:
            for file in added:
                file.unlink()
            if rewritten:
                newest.write_text(text)
        return bool(added) or rewritten

    return undo


def rounds(
    old: tuple[Path, Path], new: tuple[Path, Path], change: str, count: int, edit: bool = True, undo: bool = False
) -> dict[str, list[tuple[Run, Run]]]:
    """Return, for the change and the edit after it (none without `edit`: one change after
    another, each a new shape after a new shape; with `undo`, the change undone instead), each
    round's (old, new) runs, the first left out."""
    for checkout, archive in (old, new):
        byte_compiled(checkout)  # both timed with their bytecode written, whatever the environment
        build(checkout, archive)  # settled: built by this checkout's engine
    undos: dict[Path, Callable[..., bool]] = {}

    def changed(root: Path, number: int) -> None:
        if undo:
            undos[root] = undoing(root)
        CHANGES[change](root, number)
        if undo and not undos[root](True):  # (the archive had this round's change already: an earlier run's)
            sys.exit(f"bench.rounds: round {number + 1}'s {change} changed nothing in {root}; use a fresh copy")

    def undone(root: Path, number: int) -> None:
        undos.pop(root)()

    steps: dict[str, Callable[[Path, int], None]] = {change: changed}
    if undo:
        steps["undone"] = undone
    elif edit and change not in ("edit", "none"):  # (an edit after an edit is the next round's)
        steps["edit after it"] = toggle_title
    timings: dict[str, list[tuple[Run, Run]]] = {step: [] for step in steps}
    try:
        _take_rounds(old, new, change, count, steps, timings)
    finally:
        for _, archive in (old, new):
            shutil.rmtree(set_aside_for(archive), ignore_errors=True)
    return timings


def _take_rounds(
    old: tuple[Path, Path],
    new: tuple[Path, Path],
    change: str,
    count: int,
    steps: dict[str, Callable[[Path, int], None]],
    timings: dict[str, list[tuple[Run, Run]]],
) -> None:
    """Take `count` rounds of `steps` on both archives, adding each round's runs to `timings`
    (the first round left out)."""
    for number in range(count):
        for step, make in steps.items():
            each = change == "cold" and step == change  # made again before each build: both may take one copy
            if not each:
                make(old[1], number)
                make(new[1], number)
            timed: dict[bool, Run] = {}
            for side in (new, old) if number % 2 else (old, new):
                if each:
                    make(side[1], number)
                timed[side is new] = build(*side)
            first, second = timed[False], timed[True]
            print(f"  round {number + 1}, {step}: {first.seconds:.2f} s, {second.seconds:.2f} s", file=sys.stderr)
            if number:
                timings[step].append((first, second))


def summary(timings: dict[str, list[tuple[Run, Run]]]) -> str:
    """Return each step's medians and the median of its rounds' ratios (new / old), with their range."""
    lines = []
    for step, pairs in timings.items():
        old_s = statistics.median(old.seconds for old, _ in pairs)
        new_s = statistics.median(new.seconds for _, new in pairs)
        old_cpu = statistics.median(old.cpu for old, _ in pairs)
        new_cpu = statistics.median(new.cpu for _, new in pairs)
        peak = (max(old.peak_mb for old, _ in pairs), max(new.peak_mb for _, new in pairs))
        lines.append(
            f"{step}: {len(pairs)} rounds, old {old_s:.2f} s, new {new_s:.2f} s, round ratio"
            f" {_spread([new.seconds / old.seconds for old, new in pairs])}; CPU old {old_cpu:.2f} s,"
            f" new {new_cpu:.2f} s, round ratio {_spread([new.cpu / old.cpu for old, new in pairs])};"
            f" peak {peak[0]:.0f} MB, {peak[1]:.0f} MB"
        )
    return "\n".join(lines)


def _spread(ratios: list[float]) -> str:
    """Return the median of the rounds' ratios, with their range."""
    ratios = sorted(ratios)
    return f"{statistics.median(ratios):.2f} ({ratios[0]:.2f} to {ratios[-1]:.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name in ("old_checkout", "old_archive", "new_checkout", "new_archive"):
        parser.add_argument(name, type=Path)
    parser.add_argument("--change", choices=sorted(CHANGES), default="retag")
    parser.add_argument("--rounds", type=int, default=6, help="rounds, the first left out (at least 2)")
    parser.add_argument("--no-edit", action="store_true", help="no title edit between changes: one after another")
    parser.add_argument("--undo", action="store_true", help="after each change, undo it (instead of a title edit)")
    args = parser.parse_args()
    if args.rounds < 2:
        parser.error("--rounds must be at least 2: the first is left out")
    old, new = (args.old_checkout, args.old_archive), (args.new_checkout, args.new_archive)
    print(summary(rounds(old, new, args.change, args.rounds, edit=not args.no_edit, undo=args.undo)))


if __name__ == "__main__":
    main()
