"""The read stage: which files a build reads, and the digest of each.

Owns listing `content/**/*.md` with each file's digest (taken without reading a file whose
signature is the one recorded, as git's index does), and the digest of every input of a
build, which decides whether there is anything to do at all. `INPUTS` names what a build
reads; the preview server watches the same. May not parse briefings or know the site's pages.
"""

from __future__ import annotations

import functools
import itertools
import operator
import os
import stat
import time
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from briefings.cache import CACHE_DIR, Cache, Signature, signature_of
from briefings.errors import BuildFailed, SourceError
from briefings.keys import digest_text, file_digest
from briefings.tables import rows_of

# Everything a build reads, relative to the archive's folder (besides the engine and the options).
CONTENT = "content"
INPUTS = ("site.yaml", "templates", "static", CONTENT)
# A file changed this recently is read on the next build too: its mtime may not change again
# if it is edited within the same tick of the file system's clock (2 s on FAT).
SETTLED_NS = 2_000_000_000


@dataclass(frozen=True)
class Content:
    """The content files as found: the digest of each (None for a file left for parsing to read
    and digest: see `read_content`) by repository path, in path order; the errors of files
    refused unread; and the other files beside them.

    `unread` is None when every file has its digest; otherwise none has, and it holds the
    signature each settled file had before parsing read it, for `remember_digests`.
    """

    files: dict[str, str | None]
    refused: list[SourceError]
    unread: dict[str, Signature] | None = None
    assets: tuple[str, ...] = ()  # the other files under content/ (images beside briefings), by repository path

    def with_digests(self, digests: dict[str, str]) -> Content:
        """Return the same files with the digests parsing found (`digests` by path)."""
        files: dict[str, str | None] = dict(zip(self.files, map(digests.__getitem__, self.files), strict=True))
        return Content(files, self.refused, None, self.assets)


def read_bytes(file: Path | str) -> bytes:
    """Return a file's bytes, with the calls of the OS that takes: four for a briefing (open,
    read, read its end, close), where `open(...).read()` also asks whether it is a terminal,
    where it stands and how large it is (`strace -c`). os-level calls: 100,000 Path methods
    cost seconds."""
    descriptor = os.open(file, _READ)
    try:
        parts = []
        while part := os.read(descriptor, _READ_SIZE):
            parts.append(part)
        return b"".join(parts)  # one part: itself, not a copy
    finally:
        os.close(descriptor)


_READ = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)  # (see `write._NEW_FILE`)
# Bytes a read asks for: a briefing in one. Under the 128 KiB above which the C library maps
# memory for each buffer, which would add two calls of the OS a read.
_READ_SIZE = 1 << 16


# A file's mode and whether it is a briefing, taken in C (its signature: `cache.signature_of`).
_MODE = operator.attrgetter("st_mode")
_IS_BRIEFING = operator.methodcaller("endswith", ".md")


@dataclass(frozen=True)
class Listing:
    """The files under `content/` as listed, in path order: their repository paths, the
    signature of each and those that are links; the errors of files refused unread; and when
    the listing began (nanoseconds since the epoch).

    Kept as columns, not a row per file: at 100,000 files, each pass over them is then a
    call into C (`map`, `zip`, `max`) instead of a loop of Python.
    """

    names: list[str]
    signatures: list[Signature]
    links: frozenset[str]
    refused: list[SourceError]
    taken_ns: int

    def settled(self, signature: Signature) -> bool:
        """Return True for a file that changed at least `SETTLED_NS` before the listing: its
        signature stands for its bytes (an edit in the same tick of the clock keeps it)."""
        before = self.taken_ns - SETTLED_NS
        return signature[0] < before and signature[1] < before

    def all_settled(self) -> bool:
        """Return True when every file is `settled`: the newest mtime and ctime are, found in C."""
        if not self.signatures:
            return True
        newest: int = max(max(self.signatures)[0], max(map(operator.itemgetter(1), self.signatures)))
        return newest < self.taken_ns - SETTLED_NS


def list_content(root: Path) -> Listing:
    """List `content/` (see `walk`), reading no file."""
    taken = time.time_ns()
    names, found, refused = walk(root, CONTENT)
    links: frozenset[str] = frozenset()
    if any(map(stat.S_ISLNK, map(_MODE, found))):  # hardly ever: only then looked for file by file
        links = frozenset(name for name, s in zip(names, found, strict=True) if stat.S_ISLNK(s.st_mode))
    return Listing(names, list(map(signature_of, found)), links, refused, taken)


def listing_digest(listing: Listing) -> str:
    """Return a digest of every content file's path and signature, or "" when these cannot stand
    for the files' bytes: a file changed less than `SETTLED_NS` before the listing (an edit in
    the same tick of the clock keeps its signature), a link (its target is not tracked), or a
    file refused. Equal digests taken so mean the same bytes, as git's index trusts them."""
    if listing.refused or listing.links or not listing.all_settled():
        return ""
    return digest_text("\0".join(listing.names), *_packed(listing.signatures)).hex()


def _packed(signatures: list[Signature]) -> tuple[str, bytes]:
    """Return the signatures' numbers as bytes, packed in C, 8 bytes each, with the packing's
    name; as text where one does not fit (a file dated before 1970)."""
    try:
        return "u64", array("Q", itertools.chain.from_iterable(signatures)).tobytes()
    except OverflowError:
        return "text", repr(signatures).encode()


DIGESTS = "digests"  # the cache's tables: each content file's signature, and its digest, by path


def read_content(
    root: Path, cache: Cache | None = None, *, defer: bool = False, listing: Listing | None = None
) -> Content:
    """Return every `content/**/*.md` in path order with its digest, and the links out refused.

    Bytes are read for the digest and dropped: parsing reads a changed file again, so
    memory never holds the whole archive's text. With a cache, a file whose signature
    (mtime, ctime, size, inode, device) is the one recorded with its digest is not read
    again, as git's index does; a file changed less than `SETTLED_NS` before a build is
    not recorded, so an edit within one tick of the file system's clock is never missed.
    With `defer`, when no digests were ever recorded (a first build, or one without the
    cache: every file is parsed anyway), no file is read here: files are listed without
    digests, and parsing, which reads each file once, digests it. `listing` is the folder as
    listed (listed now when not given).
    """
    listing = listing or list_content(root)
    remembered = cache.recall_tables(DIGESTS, str(root.resolve())) if cache else None
    names, signatures = listing.names, listing.signatures
    assets: tuple[str, ...] = ()
    if all(map(_IS_BRIEFING, names)):
        paths, found = names, signatures
    else:  # files beside the briefings (images), but hidden ones (.DS_Store and the like)
        kept = [(name, s) for name, s in zip(names, signatures, strict=True) if name.endswith(".md")]
        paths, found = [name for name, _ in kept], [s for _, s in kept]
        assets = tuple(name for name in names if not name.endswith(".md") and "/." not in name)
    links = listing.links
    if defer and remembered is None:
        unread = {p: s for p, s in zip(paths, found, strict=True) if p not in links and listing.settled(s)}
        return Content(dict.fromkeys(paths), listing.refused, unread, assets)
    known, digested = remembered[0] if remembered and len(remembered[0]) == 2 else ({}, {})
    recorded = known.get
    was = rows_of(known, paths)  # the files as recorded
    changed = list(itertools.compress(zip(paths, found, strict=True), map(operator.ne, was, found)))
    if links:  # read each build: their target's signature is not tracked
        changed += [(p, s) for p, s in zip(paths, found, strict=True) if p in links and recorded(p) == s]
    files = dict(zip(paths, rows_of(digested, paths), strict=True))
    top = f"{root}{os.sep}"  # os-level paths: Path objects for 100,000 files cost a tenth of a second
    for path, _ in changed:
        files[path] = file_digest(read_bytes(top + path))
    if cache and (changed or len(paths) != len(known)):
        tables = _recorded(known, digested, paths, changed, files, listing)
        cache.remember_tables(DIGESTS, str(root.resolve()), tables, None)
    return Content(files, listing.refused, None, assets)


def _recorded(
    known: dict[str, Signature],
    digested: dict[str, str],
    paths: list[str],
    changed: list[tuple[str, Signature]],
    files: dict[str, str | None],
    listing: Listing,
) -> tuple[dict[str, Signature], dict[str, str]]:
    """Return the signatures and digests to record: those recorded, with the rows of the files
    read again (settled files that are not links) and without those of files gone. Rows not
    changed stay the same objects, which the cache finds unchanged at a glance."""
    signatures, digests = dict(known), dict(digested)
    still = len(paths) - sum(path not in known for path, _ in changed)  # the recorded files still here
    for path in known.keys() - set(paths) if still != len(known) else ():
        del signatures[path], digests[path]
    for path, signature in changed:
        if path in listing.links or not listing.settled(signature):
            signatures.pop(path, None)
            digests.pop(path, None)
        else:
            signatures[path], digests[path] = signature, files[path]  # type: ignore[assignment]
    return signatures, digests


def remember_digests(root: Path, cache: Cache, content: Content, digests: Iterable[tuple[str, str]]) -> None:
    """Record the digests parsing found (path, digest) for files listed unread, with the signatures they had before."""
    if content.unread is not None:
        signatures = content.unread
        found = {path: d for path, d in digests if path in signatures and d}
        cache.remember_tables(DIGESTS, str(root.resolve()), ({p: signatures[p] for p in found}, found), None)


def walk(root: Path, folder: str, suffix: str = "") -> tuple[list[str], list[os.stat_result], list[SourceError]]:
    """Return the repository path of every file under `root/folder` (ending with `suffix`) sorted
    by path components, the `lstat` of each, and an error for each thing a build may not take silently.

    A link is taken only when it points to a file inside the same folder and outside
    `.git` and `.cache` (a link elsewhere could publish secrets); a folder that is a link,
    a folder that cannot be read and a file that is not a regular file (a FIFO would hang
    the build) are errors, never silent omissions.
    """
    top = root / folder
    problems: list[SourceError] = []
    if top.is_symlink():
        return [], [], [SourceError(folder, 0, "is a link; make it a folder of the repository")]
    if not top.is_dir():
        return [], [], []
    inside, private = top.resolve(), [(root / name).resolve() for name in (".git", CACHE_DIR)]

    found = _Found(root, folder, inside, private, [], [], problems)
    _visit(os.fspath(top), folder, suffix, found)
    return found.names, found.stats, problems


@dataclass(frozen=True)
class _Found:
    """Where `walk` puts what it finds, and what it checks links against, handed to `_visit`.
    That is a function of the module, not one nested in `walk`: a nested function that calls
    itself is a reference cycle, and everything it holds (the listing, a stat result per
    file: 75 MB at 100,000 files) would outlive the build's use of it until the garbage
    collector happened by."""

    root: Path
    folder: str
    inside: Path
    private: list[Path]
    names: list[str]
    stats: list[os.stat_result]
    problems: list[SourceError]


def _visit(folder_path: str, here: str, suffix: str, found: _Found) -> None:
    """Add the files under one folder to `found`, each folder's entries in name order, depth
    first: the listing comes out sorted by path components with no sort of the whole.

    A folder of regular files alone (a year of briefings: the rule) is taken in C, its names
    listed and each one's `lstat` taken with `map`; any other folder, entry by entry.
    (os-level calls: Path objects for 100,000 files cost seconds.)
    """
    try:
        names = sorted(os.listdir(folder_path))  # noqa: PTH208 - (see the docstring)
    except OSError as exc:
        where = Path(exc.filename or folder_path).relative_to(found.root).as_posix()
        found.problems.append(SourceError(where, 0, f"cannot be read ({exc.strerror}); fix its permissions"))
        return
    stats = _lstat_all(folder_path, names)
    ending = operator.methodcaller("endswith", suffix)
    if all(map(stat.S_ISREG, map(_MODE, stats))) and all(map(ending, names)):
        found.names.extend(map(f"{here}/".__add__, names))
        found.stats.extend(stats)
        return
    paths = map(f"{folder_path}{os.sep}".__add__, names)
    for name, path, status in zip(names, paths, stats, strict=True):
        if stat.S_ISDIR(status.st_mode):
            _visit(path, f"{here}/{name}", suffix, found)
        elif stat.S_ISLNK(status.st_mode) and os.path.isdir(path):  # noqa: PTH112 - (see the docstring)
            found.problems.append(SourceError(f"{here}/{name}", 0, "is a link to a folder; make it a real folder"))
        elif name.endswith(suffix):
            problem = None if stat.S_ISREG(status.st_mode) else _file_problem(path, status, found)
            if problem:
                found.problems.append(SourceError(f"{here}/{name}", 0, problem.replace("FOLDER", found.folder)))
            else:
                found.names.append(f"{here}/{name}")
                found.stats.append(status)


def _lstat_all(folder_path: str, names: list[str]) -> list[os.stat_result]:
    """Return the `lstat` of each of a folder's entries, taken in C: relative to the folder, opened
    once, where the system allows it, so that the kernel looks up one name per file, not every
    folder of its path (at 100,000 files, about 5% less time listing them: docs/performance.md)."""
    if not _AT_FOLDER:
        return list(map(os.lstat, map(f"{folder_path}{os.sep}".__add__, names)))
    folder = os.open(folder_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        return list(map(functools.partial(os.stat, dir_fd=folder, follow_symlinks=False), names))
    finally:
        os.close(folder)


# Linux and macOS, not Windows (`os.stat` with `follow_symlinks=False` is `os.lstat`).
_AT_FOLDER = os.stat in os.supports_dir_fd and os.stat in os.supports_follow_symlinks and hasattr(os, "O_DIRECTORY")


def _file_problem(path: str, status: os.stat_result, found: _Found) -> str | None:
    """Return why a build may not take a file (a link out of its folder, not a regular file), or None."""
    if stat.S_ISLNK(status.st_mode):
        target = Path(path).resolve()
        if not target.is_relative_to(found.inside) or any(target.is_relative_to(p) for p in found.private):
            return "is a link to a file outside FOLDER/; copy the file in"
        try:
            status = Path(path).stat()
        except OSError:
            return "is a link to a file that does not exist; remove it"
    if not stat.S_ISREG(status.st_mode):
        return "is not a regular file; remove it or replace it with one"
    return None


def read_static(root: Path) -> dict[str, bytes]:
    """Return `static/` as-is, by path inside it; raise BuildFailed for what it may not hold (see `walk`)."""
    names, _, problems = walk(root, "static")
    if problems:
        raise BuildFailed(problems)
    return {name.removeprefix("static/"): (root / name).read_bytes() for name in names}


def settings_digest(root: Path, options: object, engine: str) -> bytes:
    """Return a digest of every input of a build but `content/`: the engine, the options that
    shape the output, and `site.yaml`, `templates/` and `static/` by their bytes."""
    parts: list[str | bytes] = [engine, repr(options)]
    for name in INPUTS:
        if name == CONTENT:
            continue
        for other in sorted((root / name).rglob("*")) if (root / name).is_dir() else [root / name]:
            if other.is_file() or other.is_symlink():  # a link's target, or that it dangles
                parts += [other.relative_to(root).as_posix(), other.read_bytes() if other.is_file() else b"?"]
    return digest_text(*parts)


def inputs_digest(root: Path, settings: bytes, content: Content) -> str:
    """Return a digest of everything a build reads (`INPUTS`, the engine, the options that shape
    the output), given the `settings_digest`: equal digests give byte-identical sites."""
    assert None not in content.files.values(), "digested once every file is"
    parts: list[str | bytes] = [settings, "content", repr(content.refused)]
    # One part for them all: a path holds no NUL and a digest is hex, so the joining is unambiguous.
    parts.append("\0".join(itertools.chain.from_iterable(content.files.items())))  # type: ignore[arg-type]
    for asset in content.assets:  # the files beside the briefings, by their bytes
        parts += [asset, (root / asset).read_bytes()]
    return digest_text(*parts).hex()


def listed_inputs_digest(settings: bytes, listing: Listing) -> str:
    """Return a digest of everything a build reads, given the `settings_digest`, taking content
    files by their signatures (see `listing_digest`), or "" when they cannot stand for the
    files' bytes. Equal digests give byte-identical sites; unequal ones say nothing (a file
    touched keeps its bytes)."""
    listed = listing_digest(listing)
    return digest_text(settings, "listed", listed).hex() if listed else ""
