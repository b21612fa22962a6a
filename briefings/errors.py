"""Problems found in the user's files, as values.

Owns `SourceError` (one problem at `file:line`), `Problem` (raised at a line while one
file is read) and `BuildFailed` (a stage gave up).
May not import the rest of the package.
"""

from __future__ import annotations

import errno
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class SourceError:
    """One problem in one file, printed as `file:line: message`."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"


class Problem(Exception):
    """A problem at one line of the file being read; the reader adds the file's name."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class BuildFailed(Exception):
    """A stage found problems in the user's files; nothing was written."""

    def __init__(self, errors: Iterable[SourceError]) -> None:
        self.errors = tuple(sorted(set(errors)))
        super().__init__(f"{len(self.errors)} error(s)")

    def __reduce__(self) -> tuple[type[BuildFailed], tuple[tuple[SourceError, ...]]]:
        """Pickle as its errors (raised in a child process, it is raised again in the parent)."""
        return BuildFailed, (self.errors,)


def github_annotation(error: SourceError, title: str) -> str:
    """Return an error as a GitHub Actions workflow command, which shows it on the pull request's diff.

    The message is escaped as workflow-command data (`%`, CR, LF); the file and title as
    properties, which also escape `:` and `,`.
    """
    where = f"file={_property(error.path)}" + (f",line={error.line}" if error.line else "")
    return f"::error {where},title={_property(title)}::{_data(error.message)}"


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def plural(count: int, noun: str, nouns: str = "") -> str:
    """Return "1 error" / "2 errors" ("1 country" / "2 countries" when given `nouns`)."""
    return f"{count} {noun}" if count == 1 else f"{count:,} {nouns or noun + 's'}"


def collapse(errors: Iterable[SourceError]) -> list[SourceError]:
    """Report one error per file line: a template mistake fails every page that uses it."""
    by_line: dict[tuple[str, int], list[SourceError]] = {}
    for error in sorted(set(errors)):
        by_line.setdefault((error.path, error.line), []).append(error)
    return [
        group[0] if len(group) == 1 else SourceError(group[0].path, group[0].line, f"{group[0].message} "
                                                     f"(and the same on {plural(len(group) - 1, 'more page')})")
        for group in by_line.values()
    ]  # fmt: skip


class CacheDamaged(Exception):
    """A cache file (the body store) was found damaged or changed while the build was using it."""


def os_problem(exc: OSError) -> str:
    """Return what went wrong with a file, and what to do, in words (no traceback)."""
    cause = exc.strerror or str(exc)
    if exc.errno == errno.ENOSPC:
        return f"{cause}; free some space on that disk and build again"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{cause}; make the project folder writable"
    if exc.errno == errno.ENAMETOOLONG:
        return f"{cause}; shorten the slug or alias that names it"
    return cause
