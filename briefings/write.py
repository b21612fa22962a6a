"""The output folder: every file written at once, or none; only what changed is written.

Owns turning a plan into the folder at `_site/`. Outputs whose key is unchanged are not
made again; files whose bytes are unchanged are not written again (they keep their
mtime). The new site is prepared in a second folder, the spare (`.cache/spare_site/`,
which holds the previous version of the site), and exchanged with `_site/` in one atomic
rename, so `_site/` is at every moment either the old site or the new one. Files are
replaced by unlinking first, never written through a hard link. Refuses two files at one
path and any path that would leave the folder. May not know what a briefing is.
"""

from __future__ import annotations

import bisect
import collections
import contextlib
import ctypes
import errno
import functools
import itertools
import operator
import os
import shutil
import tempfile
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from briefings.cache import Cache, Counts, FileState, OutputState, Sizes, TreeState, unlike
from briefings.clock import Position
from briefings.errors import BuildFailed, SourceError, collapse
from briefings.keys import file_digest
from briefings.outputs import SITE_MARKER, Given, Plan, Planned
from briefings.progress import Progress
from briefings.workers import forked_map

NONE: FileState = ("", "", 0)  # what the state says of a file it does not know


NAME_MAX = 255  # bytes in one file name, on the file systems a site is built and served from
CHANGES_LISTED = 1_000  # files written or removed that a report names (a cold build's would be the whole site)
PATH_MAX = 3000  # bytes in a path inside the site, leaving room for where the site itself lives


@dataclass(frozen=True)
class WriteReport:
    """What a build did to the output folder."""

    made: int  # outputs rendered because their key changed
    written: int  # files whose bytes changed
    removed: int  # files no longer part of the site
    sizes: Sizes = ()  # what the site holds, by kind of output
    # The paths of those written and removed, or None when there are more than CHANGES_LISTED
    # (the preview reloads the tabs that show one of them; with None, every tab).
    changed: frozenset[str] | None = frozenset()


def unique_outputs(plan: Plan) -> None:
    """Raise BuildFailed for every output the folder could not hold: two at one path, a file
    where another needs a folder, a path outside the folder, a name too long for a file system.

    The kept outputs (`Plan.kept`) are checked by path; a `Planned` is made of one only for a message.
    """
    seen: dict[str, Planned] = {}
    errors: list[SourceError] = []
    for path in plan.kept:
        if problem := _path_problem(path):
            errors.append(_error_at(plan.recalled(path), problem))
    for output in plan.fresh:
        problem = _path_problem(output.path)
        if problem:
            errors.append(_error_at(output, problem))
        elif output.path in seen or output.path in plan.kept:
            other = seen[output.path] if output.path in seen else plan.recalled(output.path)
            errors.append(_error_at(output, f"/{output.path} is also written by {other.origin}; rename one"))
        else:
            seen[output.path] = output
    paths = seen.keys() | plan.kept.keys()
    for path in sorted(paths) if _folder_is_a_file(paths) else ():
        parts = path.split("/")
        for folder in ("/".join(parts[:depth]) for depth in range(1, len(parts))):
            if folder in paths:
                output, writer = (seen[p] if p in seen else plan.recalled(p) for p in (path, folder))
                message = (f"/{path} needs /{folder} to be a folder, but it is a file ({writer.origin} "
                           "writes it); change the path of one of them")  # fmt: skip
                errors.append(_error_at(output, message))
    if errors:
        raise BuildFailed(errors)


def _error_at(output: Planned, message: str) -> SourceError:
    return SourceError(output.origin, output.line, message)


def _folder_is_a_file(paths: Iterable[str]) -> bool:
    """Return True when some path is the folder of another ("a" and "a/b"): in path order,
    the paths under "a/" come at or after "a/", the first of them right there. First, in C:
    a folder's path begins the paths in it, and the paths one begins come right after it in
    path order, so where none begins the next, none is a folder (a loop of Python over the
    108,000 paths of 100,000 briefings took 80 ms, this 40)."""
    ordered = sorted(paths)
    if not any(map(str.startswith, itertools.islice(ordered, 1, None), ordered)):
        return False
    for path in ordered:
        at = bisect.bisect_left(ordered, path + "/")
        if at < len(ordered) and ordered[at].startswith(path + "/"):
            return True
    return False


def _path_problem(path: str) -> str | None:
    """Return why the output folder cannot hold a file at `path`, or None."""
    if len(path) <= NAME_MAX and path.isascii() and _is_safe(path):
        return None  # (each name and the whole path then fit in NAME_MAX bytes)
    if not _is_safe(path):
        return f"would write outside the site folder ({path!r})"
    if any(len(part.encode("utf-8", "surrogatepass")) > NAME_MAX for part in path.split("/")):
        return f"/{path[:60]}... has a name longer than {NAME_MAX} bytes, more than file systems hold; shorten it"
    if len(path.encode("utf-8", "surrogatepass")) > PATH_MAX:
        return f"/{path[:60]}... is longer than {PATH_MAX} bytes; shorten it"
    return None


def write_site(
    target: Path,
    plan: Plan,
    cache: Cache | None,
    jobs: int,
    progress: Progress,
    stamp: tuple[str, str, Counts, Position] | None = None,
) -> WriteReport:
    """Bring `target` to the planned site, making only outputs whose key changed.

    `stamp` (the build's inputs digests, by content and by listing, its counts and clock
    position) is recorded with the new state, so that the next build with the same inputs at
    the same position can stop before planning.
    """
    _check_target(target)
    _remove_leftovers(target)
    state = _trusted_state(target, cache)
    inputs, listed, counts, position = stamp or ("", "", None, Position())
    live, made_from = state.live.files, _made_from(state, plan)
    to_make, gone = _work(plan, state, made_from)
    recorded = _recorded(plan)  # what the next build needs to tell this site made from this plan

    def sized(files: dict[str, FileState]) -> Sizes:
        if not made_from:
            return site_sizes(plan, files)
        return sizes_since(state.sizes, live, files, to_make, gone, functools.partial(_group_before, plan, state))

    if not to_make and not gone and target.is_dir():
        sizes = sized(live)
        _save(cache, target, OutputState(state.live, state.spare, inputs, listed, counts, sizes, position, *recorded))
        return WriteReport(0, 0, 0, sizes)
    staging, staged = _staging(target, cache, state, progress)
    try:
        made = _make(staging, to_make, staged, jobs, progress)
        files = _files(live, gone, made)
        _sync(staging, target, staged, files, made)
        sizes = sized(files)
    except BaseException:
        # The spare is half-made: removed (which also frees its space on a full disk); the next build
        # makes it again from hard links to the live site, which this build has not touched.
        shutil.rmtree(staging, ignore_errors=True)
        with contextlib.suppress(OSError):
            _save(cache, target, OutputState(state.live, TreeState()))
        if cache is not None:
            cache.done_changing(target.name)  # no spare left to distrust; the live site is as recorded
        raise
    written = [path for path, (_, digest, _) in made.items() if live.get(path, NONE)[1] != digest]
    if not written and not gone and target.is_dir() and state.live.inode >= 0:
        # Same bytes under new keys: both folders hold `files` now; nothing to exchange.
        _save(cache, target, OutputState(TreeState(state.live.inode, files), TreeState(_inode(staging), files),
                                         inputs, listed, counts, sizes, position, *recorded))  # fmt: skip
        return WriteReport(len(to_make), 0, 0, sizes)
    staging.chmod(0o755)
    _exchange(staging, target)
    spare = TreeState(_inode(staging), live) if state.live.inode >= 0 and cache else None
    if spare is None:
        shutil.rmtree(staging, ignore_errors=True)
    _save(
        cache,
        target,
        OutputState(
            TreeState(_inode(target), files), spare or TreeState(), inputs, listed, counts, sizes, position, *recorded
        ),
    )
    changed = frozenset((*written, *gone)) if len(written) + len(gone) <= CHANGES_LISTED else None
    return WriteReport(len(to_make), len(written), len(gone), sizes, changed)


FRESH_RECORDED = 1_000  # fresh outputs of a plan the state records (`_recorded`); past it, the next looks at all


def _made_from(state: OutputState, plan: Plan) -> bool:
    """Return True when the live site was made from the kept keys this plan recalls
    (`Plan.recalled_from`), as the state says: then it holds every output of that plan, as
    that plan gave it, and no other file."""
    return bool(plan.recalled_from) and state.plan == plan.recalled_from and bool(state.sizes)


def _recorded(plan: Plan) -> tuple[bytes, dict[str, str]]:
    """Return what the state records of the plan the site is made from (`OutputState.plan`,
    `OutputState.fresh`), while its fresh outputs are few; else that it is not known."""
    if not plan.kept_as or len(plan.fresh) > FRESH_RECORDED:
        return b"", {}
    return plan.kept_as, {output.path: output.group for output in plan.fresh}


def _work(plan: Plan, state: OutputState, made_from: bool) -> tuple[list[Planned], list[str]]:
    """Return the outputs to make (`_stale`), and the files of the live site no longer planned.

    Where the live site was made from the plan this one recalls (`made_from`: see `_made_from`),
    every kept output is there as planned, since this plan keeps it as that one gave it; and
    the live site holds no file that plan did not give: what it kept, which this plan keeps
    or plans afresh (`plan._recalled_outputs`), and what it planned afresh (`OutputState.fresh`).
    So only the fresh outputs of the two plans are looked at: a few dozen of 108,000 after an
    edit at 100,000 briefings, where looking at all took 60 to 90 ms.
    """
    live = state.live.files
    to_make = [output for output in plan.fresh if _stale(live.get(output.path), output.key)]
    fresh = {output.path for output in plan.fresh}
    if made_from:
        kept = plan.kept
        return to_make, sorted(path for path in state.fresh if path in live and path not in kept and path not in fresh)
    to_make += [plan.recalled(path) for path in _stale_kept(live, plan.kept)]
    return to_make, sorted(live.keys() - plan.kept.keys() - fresh)


def _group_before(plan: Plan, state: OutputState, path: str) -> str:
    """Return the group a file of the live site was counted in, where that site was made from
    the plan this one recalls (see `_work`): the group that plan gave it."""
    group = state.fresh.get(path)
    return group if group is not None else plan.last[path][2]


def _stale(state: FileState | None, key: str) -> bool:
    """Return True if an output is to be made: the site lacks it, or has it under another key."""
    return state is None or state[0] != key


def _stale_kept(live: dict[str, FileState], kept: Mapping[str, Given]) -> Iterator[str]:
    """Yield the outputs kept from the last plan that are to be made (see `_stale`), found in C:
    at 100,000 briefings, 108,000 outputs of which a handful are."""
    live_keys = map(_KEY, map(live.get, kept, itertools.repeat(NONE)))
    return itertools.compress(kept, map(operator.ne, live_keys, map(_KEY, kept.values())))


_KEY = operator.itemgetter(0)  # of a `FileState`, and of a `Given`


def _files(live: dict[str, FileState], gone: Iterable[str], made: dict[str, FileState]) -> dict[str, FileState]:
    """Return what the new site holds: every output is either made or as the live site holds it."""
    files = dict(live)
    for path in gone:
        del files[path]
    files.update(made)
    return files


def site_sizes(plan: Plan, files: dict[str, FileState]) -> Sizes:
    """Return (kind, files, bytes) for each kind of output, largest first."""
    paths, groups = plan.columns()
    counts = collections.Counter(groups)
    totals = dict.fromkeys(counts, 0)
    for group, size in zip(groups, map(_SIZE, map(files.__getitem__, paths)), strict=True):  # the one loop of Python
        totals[group] += size
    return _largest_first((group, counts[group], totals[group]) for group in counts)


_SIZE = operator.itemgetter(2)  # of a `FileState`


def sizes_since(
    sizes: Sizes,
    live: dict[str, FileState],
    files: dict[str, FileState],
    made: Sequence[Planned],
    gone: Iterable[str],
    group_before: Callable[[str], str],
) -> Sizes:
    """Return `site_sizes` of the site that holds `files`, from those of the `live` site it
    was made from (`sizes`): less each file gone and each made again (in the group it was
    counted in, `group_before`), plus each made. At 100,000 briefings, summing every file's
    size took 60 ms of a one-edit build."""
    counts = {group: count for group, count, _ in sizes}
    totals = {group: size for group, _, size in sizes}

    def count(group: str, number: int, size: int) -> None:
        counts[group] = counts.get(group, 0) + number
        totals[group] = totals.get(group, 0) + size

    for path in itertools.chain(gone, (output.path for output in made if output.path in live)):
        count(group_before(path), -1, -live[path][2])
    for output in made:
        count(output.group, 1, files[output.path][2])
    return _largest_first((group, counts[group], totals[group]) for group in counts if counts[group])


def _largest_first(rows: Iterable[tuple[str, int, int]]) -> Sizes:
    return tuple(sorted(rows, key=lambda row: (-row[2], row[0])))


def _check_target(target: Path) -> None:
    """Refuse to replace anything at the output path that the build did not make."""
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        message = "is not a folder made by the build; move it away or delete it, then build again"
        raise BuildFailed([SourceError(f"{target.name}", 0, message)])
    if target.is_dir() and not (target / SITE_MARKER).is_file() and any(target.iterdir()):
        message = f"holds files the build did not make (it has no {SITE_MARKER}); move it away or delete it"
        raise BuildFailed([SourceError(f"{target.name}/", 0, message)])


def _remove_leftovers(target: Path) -> None:
    """Remove temporary folders that an earlier, killed build left beside the output folder."""
    for leftover in target.parent.glob(f".{target.name}.new-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    for leftover in target.parent.glob(f".{target.name}.old-*"):
        shutil.rmtree(leftover, ignore_errors=True)


def _inode(folder: Path) -> int:
    try:
        return folder.stat().st_ino
    except FileNotFoundError:
        return -1


def _trusted_state(target: Path, cache: Cache | None, state: OutputState | None = None) -> OutputState:
    """Return what the output folders hold, trusting the cache only where the folders match it
    (`state`: the state the cache records, if it is loaded already)."""
    if cache is None:
        return OutputState()
    state = cache.load_outputs(target.name) if state is None else state
    if cache.is_changing(target.name):  # a build was killed while changing the folders: trust neither
        return OutputState()
    live, spare = _inode(target), _inode(cache.spare_folder(target.name))
    swapped = (state.live.inode, state.spare.inode) == (spare, live) and live >= 0  # exchanged, then interrupted
    if swapped:
        state = OutputState(state.spare, state.live)
    if state.live.inode != live or live < 0:
        return OutputState()
    trusted_spare = state.spare if state.spare.inode == spare >= 0 else TreeState()
    if swapped:  # (the state's sizes and plan are those of the other folder)
        return OutputState(state.live, trusted_spare)
    return OutputState(state.live, trusted_spare, sizes=state.sizes, plan=state.plan, fresh=state.fresh)


def _staging(
    target: Path, cache: Cache | None, state: OutputState, progress: Progress | None = None
) -> tuple[Path, dict[str, FileState]]:
    """Return the folder to prepare the new site in, and what it already holds.

    The spare when it can be trusted; else a copy of the live site made of hard links (how
    many are made shows on `progress`: the first build after a cold one makes every one, 7 to
    17 s at 100,000 briefings); else an empty folder.
    """
    if cache is None:
        target.parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent)), {}
    spare = cache.spare_folder(target.name)
    cache.mark_changing(target.name)  # until the new state is saved
    if state.spare.inode >= 0:
        return spare, dict(state.spare.files)
    shutil.rmtree(spare, ignore_errors=True)
    spare.mkdir(parents=True)
    if state.live.inode < 0:
        return spare, {}
    _link_all(target, spare, state.live.files, progress=progress)
    return spare, dict(state.live.files)


def _link_all(
    target: Path,
    spare: Path,
    files: Collection[str],
    until: Callable[[], bool] = lambda: False,
    progress: Progress | None = None,
) -> bool:
    """Link each of these files of the live site into the (empty) spare folder, showing how many
    are linked on `progress`; stop, returning False, once `until` is True (asked before each file)."""
    source, into = os.fspath(target) + "/", os.fspath(spare) + "/"  # os-level paths: see `_make`
    label, total = f"Linking {target.name}/ into its spare copy", len(files)
    for done, path in enumerate(files, start=1):
        if until():
            return False
        _linked(source + path, into + path, False)
        if progress is not None:
            progress.update(label, done, total)
    return True


def spare_made_ahead(target: Path, cache: Cache, until: Callable[[], bool] = lambda: False) -> int:
    """Make the spare folder a copy of the live site, of hard links, where the state trusts no
    spare (after a build that wrote the site whole: a cold one): what the first build after it
    would do before writing (`_staging`), done by a caller with time to spare (the preview, once
    its first build is served), so that build writes only what changed. At 100,000 briefings
    the links take 7 to 17 s. Return how many files were linked: none when there is no spare
    to make, or once `until` is True (asked before each file; the state still trusts no spare,
    so the next build makes it again). The live site is not touched, nor marked as changing.
    A copy left half made (one stopped so) is removed first, `until` asked before each of its
    folders: at 100,000 briefings that takes seconds, which a preview told to stop would wait."""
    recorded = cache.load_outputs(target.name)
    state = _trusted_state(target, cache, recorded)
    if state.live.inode < 0 or state.spare.inode >= 0 or recorded.live.inode != state.live.inode:
        return 0  # no live site the state vouches for, a spare it trusts, or folders an exchange left
    spare = cache.spare_folder(target.name)
    if not _removed(spare, until):
        return 0
    spare.mkdir(parents=True)
    if not _link_all(target, spare, state.live.files, until):
        return 0
    cache.save_outputs(target.name, replace(recorded, spare=TreeState(_inode(spare), dict(state.live.files))))
    return len(state.live.files)


def _removed(folder: Path, until: Callable[[], bool]) -> bool:
    """Remove a folder and all it holds, as `shutil.rmtree(folder, ignore_errors=True)` does, but
    ask `until` before emptying each folder of it (its deepest first): once it is True, stop,
    leaving the rest, and return False. A link to a folder is removed, not followed: `folder`
    itself too (where `rmtree` refuses it), never what it points to."""
    if folder.is_symlink():
        with contextlib.suppress(OSError):
            folder.unlink()
        return True
    for parent, folders, files in os.walk(folder, topdown=False):
        if until():
            return False
        for name in files:
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(parent, name))  # noqa: PTH108, PTH118 - (see `_make`)
        for name in folders:  # emptied already (the deepest come first), or links to folders
            path = os.path.join(parent, name)  # noqa: PTH118
            with contextlib.suppress(OSError):
                if os.path.islink(path):  # noqa: PTH114
                    os.unlink(path)  # noqa: PTH108
                else:
                    os.rmdir(path)  # noqa: PTH106
    with contextlib.suppress(OSError):
        folder.rmdir()
    return True


def _make(
    staging: Path, to_make: Sequence[Planned], staged: dict[str, FileState], jobs: int, progress: Progress
) -> dict[str, FileState]:
    """Make outputs (in parallel), writing into `staging` each one whose bytes differ from what it holds.

    Each worker writes a file as soon as it is rendered: memory holds one page per worker,
    never the site. The staging folder is exchanged with the live one only after all are written.
    """

    into = os.fspath(staging) + "/"  # os-level paths: pathlib's objects for 100,000 pages cost seconds

    def make(index: int) -> tuple[str, FileState | list[SourceError]]:
        planned = to_make[index]
        data, errors = planned.attempt()
        if data is None:
            return planned.path, errors
        digest = file_digest(data)
        held = staged.get(planned.path, NONE)
        if held[1] != digest:
            _replace(into + planned.path, data, held is not NONE)
        return planned.path, (planned.key, digest, len(data))

    made: dict[str, FileState] = {}
    errors: list[SourceError] = []
    for done, (path, result) in enumerate(forked_map(make, len(to_make), jobs), start=1):
        if isinstance(result, list):
            errors += result
        else:
            made[path] = result
        progress.update("Rendering", done, len(to_make))
    if errors:
        raise BuildFailed(collapse(errors))
    return made


def _sync(
    staging: Path,
    target: Path,
    staged: dict[str, FileState],
    files: dict[str, FileState],
    made: dict[str, FileState],
) -> None:
    """Bring `staging` to `files`: link unchanged files from the live site, remove what is gone."""
    source, into = os.fspath(target) + "/", os.fspath(staging) + "/"  # os-level paths: see `_make`
    for path, (_, digest, _) in unlike(staged, files):  # (a row shared is the same file)
        held = staged.get(path, NONE)
        if path not in made and held[1] != digest:
            _linked(source + path, into + path, held is not NONE)
    folders: set[Path] = set()
    for path in staged.keys() - files.keys():
        (staging / path).unlink(missing_ok=True)
        folders.update((staging / path).parents)
    for folder in sorted(folders, key=lambda f: len(f.parts), reverse=True):
        if folder.is_relative_to(staging) and folder != staging and not any(folder.iterdir()):
            folder.rmdir()


def _replace(file: str, data: bytes, held: bool) -> None:
    """Write a file anew. One the staging folder holds (`held`: its state lists it) is unlinked
    first, so a hard link shared with the live site is never written through; for any other,
    its folder is made first. Should the state be wrong (a folder changed behind the build's
    back), the file is written all the same.

    A cold build so takes four calls of the OS a page (make its folder, create, write, close)
    where `open` and a try at unlinking took nine (`strace -c`; 12,000 pages at 10,000 briefings)."""
    folder = os.path.dirname(file)  # noqa: PTH120 - (see `_make`)
    if held:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(file)  # noqa: PTH108
    else:
        _made(folder)
    try:
        _create(file, data)
    except FileExistsError:  # there, though the state does not list it
        os.unlink(file)  # noqa: PTH108
        _create(file, data)
    except FileNotFoundError:  # its folder gone, though the state lists the file
        _made(folder)
        _create(file, data)


def _made(folder: str) -> None:
    """Make a folder unless it is there, and its parents as needed: one call where its parent is there."""
    try:
        os.mkdir(folder)  # noqa: PTH102
    except FileExistsError:
        pass
    except FileNotFoundError:
        os.makedirs(folder, exist_ok=True)  # noqa: PTH103


def _create(file: str, data: bytes) -> None:
    """Write a new file (never one that is there), with the calls of the OS it needs and no
    more: `open` also asks whether it is a terminal and where it stands."""
    descriptor = os.open(file, _NEW_FILE, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view) :]
    finally:
        os.close(descriptor)


# Created, never opened if there; bytes as they are (Windows' O_BINARY); not handed to a child process.
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)


def _link(source: Path, file: Path) -> None:
    """Make `file` a hard link to `source` (a copy where links are not possible)."""
    file.unlink(missing_ok=True)
    file.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, file)
    except OSError:
        shutil.copy2(source, file)


def _linked(source: str, file: str, held: bool) -> None:
    """`_link`, with the calls of the OS it needs and no more, as `_replace` writes: one the
    staging folder holds (`held`: its state lists it) is unlinked first; for any other, its
    folder is made first. Should that fail (the state wrong, or no links here), `_link` does
    it all. The first build after a cold one links the whole site into the spare folder."""
    try:
        if held:
            os.unlink(file)  # noqa: PTH108
        else:
            _made(os.path.dirname(file))  # noqa: PTH120
        os.link(source, file)
    except OSError:
        _link(Path(source), Path(file))


def _save(cache: Cache | None, target: Path, state: OutputState) -> None:
    if cache is not None:
        cache.save_outputs(target.name, state)
        cache.done_changing(target.name)


def _exchange(fresh: Path, target: Path) -> None:
    """Put `fresh` at `target` atomically; the old `target` ends up at `fresh`'s path."""
    if not target.exists():
        fresh.rename(target)
        fresh.mkdir()
        return
    if _renameat2_exchange(fresh, target):
        return
    # No atomic exchange here (not Linux, or a filesystem without it): two renames.
    aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent)) / target.name
    target.rename(aside)
    fresh.rename(target)
    aside.rename(fresh)
    aside.parent.rmdir()


def _renameat2_exchange(a: Path, b: Path) -> bool:
    """Swap two paths with Linux's renameat2(RENAME_EXCHANGE); return False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2: Callable[..., int] = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EXDEV, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _is_safe(path: str) -> bool:
    """Return True for a relative path that stays inside the output folder."""
    if not path or path[0] == "/" or "\\" in path or "\0" in path:
        return False
    return ".." not in path or ".." not in path.split("/")  # split only the few paths that hold ".."
