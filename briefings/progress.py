"""Progress on a terminal for long builds.

Owns the one status line shown while pages render: shown only on a terminal, only once
a build has run for a second, and never with `--quiet`. May not hold build logic.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Reports `label done/total` on one rewritten terminal line."""

    def __init__(self, stream: TextIO | None = None, enabled: bool = True, delay: float = 1.0) -> None:
        self.stream = stream or sys.stderr
        self.talks = enabled  # one-line notices (`note`), terminal or not; off with --quiet
        self.enabled = enabled and self.stream.isatty()
        self.start = time.monotonic()
        self.delay = delay
        self.shown = False

    def update(self, label: str, done: int, total: int) -> None:
        """Show how far a stage is, once the build has taken longer than `delay`."""
        if not self.enabled or time.monotonic() - self.start < self.delay:
            return
        if done % 25 and done != total:
            return
        self.stream.write(f"\r{label} {done}/{total}\x1b[K")
        self.stream.flush()
        self.shown = True

    def note(self, message: str) -> None:
        """Say something the user should know about this build, on a line of its own."""
        if self.talks:
            self.clear()
            self.stream.write(message + "\n")
            self.stream.flush()

    def clear(self) -> None:
        """Remove the status line before the summary is printed."""
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False

    def elapsed(self) -> float:
        """Return seconds since the build started."""
        return time.monotonic() - self.start
