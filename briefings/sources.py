"""The read stage: which files a build reads, and the digest of each.

Owns listing `content/**/*.md` with each file's digest (taken without reading a file whose
signature is the one recorded, as git's index does), and the digest of every input of a
build, which decides whether there is anything to do at all. `INPUTS` names what a build
reads; the preview server watches the same. May not parse briefings or know the site's pages.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from briefings.cache import CACHE_DIR, Cache, Signature
from briefings.errors import BuildFailed, SourceError
from briefings.keys import digest_text, file_digest

# Everything a build reads, relative to the archive's folder (besides the engine and the options).
CONTENT = "content"
INPUTS = ("site.yaml", "templates", "static", CONTENT)
# A file changed this recently is read on the next build too: its mtime may not change again
# if it is edited within the same tick of the file system's clock (2 s on FAT).
SETTLED_NS = 2_000_000_000


@dataclass(frozen=True)
class SourceFile:
    """A content file as found: its repository path and the digest of its bytes (not kept),
    or None for a file left for parsing to read and digest (see `read_content`)."""

    path: str
    digest: str | None


@dataclass(frozen=True)
class Content:
    """The content files as found, in path order, and the errors of files refused unread.

    `unread` is None when every file has its digest; otherwise none has, and it holds the
    signature each settled file had before parsing read it, for `remember_digests`.
    """

    files: list[SourceFile]
    refused: list[SourceError]
    unread: dict[str, Signature] | None = None
    assets: tuple[str, ...] = ()  # the other files under content/ (images beside briefings), by repository path

    def with_digests(self, digests: dict[str, str]) -> Content:
        """Return the same files with the digests parsing found (`digests` by path)."""
        return Content([SourceFile(f.path, digests[f.path]) for f in self.files], self.refused, None, self.assets)


def read_bytes(file: Path | str) -> bytes:
    """Return a file's bytes."""
    with open(file, "rb") as opened:  # noqa: PTH123 - os-level reads: 100,000 Path methods cost seconds
        return opened.read()


def read_content(root: Path, cache: Cache | None = None, *, defer: bool = False) -> Content:
    """Return every `content/**/*.md` in path order with its digest, and the links out refused.

    Bytes are read for the digest and dropped: parsing reads a changed file again, so
    memory never holds the whole archive's text. With a cache, a file whose signature
    (mtime, ctime, size, inode, device) is the one recorded with its digest is not read
    again, as git's index does; a file changed less than `SETTLED_NS` before a build is
    not recorded, so an edit within one tick of the file system's clock is never missed.
    With `defer`, when no digests were ever recorded (a first build, or one without the
    cache: every file is parsed anyway), no file is read here: files are listed without
    digests, and parsing, which reads each file once, digests it.
    """
    started = time.time_ns()
    remembered = cache.recall("digests", str(root.resolve())) if cache else None
    known: dict[str, tuple[Signature, str]] = remembered if isinstance(remembered, dict) else {}
    unread: dict[str, Signature] | None = {} if defer and remembered is None else None
    recorded: dict[str, tuple[Signature, str]] = {}
    found: list[SourceFile] = []
    listed, errors = walk(root, CONTENT)
    # The other files beside the briefings (images), but hidden ones (.DS_Store and the like).
    assets = tuple(name for name, _ in listed if not name.endswith(".md") and "/." not in name)
    for name, status in (item for item in listed if item[0].endswith(".md")):
        file = os.path.join(root, name)  # noqa: PTH118 - Path objects for 100,000 files cost a tenth of a second
        if stat.S_ISLNK(status.st_mode):  # a link inside content/: its target's signature is not tracked
            found.append(SourceFile(name, None if unread is not None else file_digest(read_bytes(file))))
            continue
        signature = (status.st_mtime_ns, status.st_ctime_ns, status.st_size, status.st_ino, status.st_dev)
        settled = max(status.st_mtime_ns, status.st_ctime_ns) < started - SETTLED_NS
        if unread is not None:
            found.append(SourceFile(name, None))
            if settled:
                unread[name] = signature
            continue
        previous = known.get(name)
        digest = previous[1] if previous and previous[0] == signature else file_digest(read_bytes(file))
        if settled:
            recorded[name] = (signature, digest)
        found.append(SourceFile(name, digest))
    if cache and unread is None and recorded != known:
        cache.remember("digests", str(root.resolve()), recorded)
    return Content(found, errors, unread, assets)


def remember_digests(root: Path, cache: Cache, content: Content, digests: Iterable[tuple[str, str]]) -> None:
    """Record the digests parsing found (path, digest) for files listed unread, with the signatures they had before."""
    if content.unread is not None:
        signatures = content.unread
        found = {path: (signatures[path], d) for path, d in digests if path in signatures and d}
        cache.remember("digests", str(root.resolve()), found)


def walk(root: Path, folder: str, suffix: str = "") -> tuple[list[tuple[str, os.stat_result]], list[SourceError]]:
    """Return the repository path of every file under `root/folder` (ending with `suffix`) with its
    `lstat`, sorted by path components, and an error for each thing a build may not take silently.

    A link is taken only when it points to a file inside the same folder and outside
    `.git` and `.cache` (a link elsewhere could publish secrets); a folder that is a link,
    a folder that cannot be read and a file that is not a regular file (a FIFO would hang
    the build) are errors, never silent omissions.
    """
    top = root / folder
    problems: list[SourceError] = []
    if top.is_symlink():
        return [], [SourceError(folder, 0, "is a link; make it a folder of the repository")]
    if not top.is_dir():
        return [], []
    inside, private = top.resolve(), [(root / name).resolve() for name in (".git", CACHE_DIR)]

    def unreadable(exc: OSError) -> None:
        where = Path(exc.filename or top).relative_to(root).as_posix()
        problems.append(SourceError(where, 0, f"cannot be read ({exc.strerror}); fix its permissions"))

    names = []
    for parent, folders, files in os.walk(top, onerror=unreadable):
        here = Path(parent).relative_to(root).as_posix()
        for name in sorted(folders):
            if os.path.islink(os.path.join(parent, name)):  # noqa: PTH114, PTH118 - cheaper than Path at 100,000 files
                problems.append(SourceError(f"{here}/{name}", 0, "is a link to a folder; make it a real folder"))
        prefix = parent + os.sep
        for name in files:
            if not name.endswith(suffix):
                continue
            status = os.lstat(prefix + name)
            # A regular file is the rule (100,000 of them): only anything else is looked at closely.
            problem = None if stat.S_ISREG(status.st_mode) else _file_problem(prefix + name, status, inside, private)
            if problem:
                problems.append(SourceError(f"{here}/{name}", 0, problem.replace("FOLDER", folder)))
            else:
                names.append((f"{here}/{name}", status))
    return sorted(names, key=lambda item: item[0].split("/")), problems


def _file_problem(path: str, status: os.stat_result, inside: Path, private: list[Path]) -> str | None:
    """Return why a build may not take a file (a link out of its folder, not a regular file), or None."""
    if stat.S_ISLNK(status.st_mode):
        target = Path(path).resolve()
        if not target.is_relative_to(inside) or any(target.is_relative_to(p) for p in private):
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
    listed, problems = walk(root, "static")
    if problems:
        raise BuildFailed(problems)
    return {name.removeprefix("static/"): (root / name).read_bytes() for name, _ in listed}


def inputs_digest(root: Path, options: object, content: Content, engine: str) -> str:
    """Return a digest of everything a build reads (`INPUTS`, the engine, the options that shape
    the output): equal digests give byte-identical sites."""
    parts: list[str | bytes] = [engine, repr(options), repr(content.refused)]
    for name in INPUTS:
        if name == CONTENT:  # by the digests already taken, and the bytes of the files beside them
            for source in content.files:
                assert source.digest is not None, "the inputs of a build are digested once every file is"
                parts += [source.path, source.digest]
            for asset in content.assets:
                parts += [asset, (root / asset).read_bytes()]
            continue
        for other in sorted((root / name).rglob("*")) if (root / name).is_dir() else [root / name]:
            if other.is_file() or other.is_symlink():  # a link's target, or that it dangles
                parts += [other.relative_to(root).as_posix(), other.read_bytes() if other.is_file() else b"?"]
    return digest_text(*parts).hex()
