"""An output of the site as the plan gives it to the writer: its path, key and how to make it.

Owns the `Planned` value passed from planning to writing, and the marker every output
folder holds. May not do I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from briefings.errors import BuildFailed, SourceError

# Every output folder holds this file: the build replaces only folders that have it.
SITE_MARKER = ".briefings-site"
MARKER_TEXT = b"This folder is made by `python build.py` and replaced by every build; edits here are lost.\n"


@dataclass(frozen=True)
class Planned:
    """One output file: its path in the site, its key, what made it (for messages), and how to make it.

    `group` is the kind of output it is, for the size report ("briefings", "tags", "feeds").
    """

    path: str
    key: str
    origin: str
    make: Callable[[], bytes]
    group: str = "other"
    line: int = 0  # of `origin`, where a line of it decides the path (a slug, an alias)
    reused: bool = False  # its key is the last plan's, its view not digested again (`plan.Keying`)

    def attempt(self) -> tuple[bytes | None, list[SourceError]]:
        """Make the file; return its bytes, or the errors that stopped it."""
        try:
            return self.make(), []
        except BuildFailed as failed:
            return None, list(failed.errors)
