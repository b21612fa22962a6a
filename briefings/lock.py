"""One build at a time per archive.

Owns the archive's build lock: an advisory lock (`flock`) on the archive's folder itself,
held by `build`, `check` and each of the preview server's builds while they read and write
`.cache/` and the output folders. A second build waits for the first, saying so once; the
operating system releases the lock when its process ends however it ends, so a killed
build never leaves it held. May not hold build logic.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from pathlib import Path


@contextlib.contextmanager
def one_at_a_time(root: Path, waiting: Callable[[], None]) -> Iterator[None]:
    """Hold the build lock of the archive at `root`; call `waiting` once if another build holds it."""
    descriptor = os.open(root, os.O_RDONLY)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            waiting()
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # releases the lock
