"""Reading ahead: files read in a thread of their own, in order, while a build does other work.

Owns `ReadAhead`. A second thread gets a core to itself only while the main thread is inside
a call that lets go of the interpreter's lock, but reading a file and sealing it (`hashlib`
lets go of it for large buffers) are such calls: a build that reads ahead the cache files it
loads next has them read and checked on the other core while it lists and reads the content
(docs/performance.md, "Cache files read ahead"). May not hold build logic.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

T = TypeVar("T")


class NotRead:
    """What `ReadAhead.take` gives for a name the thread did not read: the caller reads it."""


NOT_READ = NotRead()


class ReadAhead(Generic[T]):
    """`read(name)` for each name, in order, in a thread of its own; `take(name)` gives the
    calling thread its result, once.

    A name taken before the thread started on it is left to the caller (`NOT_READ`): the thread
    skips it, so the caller never waits for names ahead of it in the list that it does not need
    yet. Where `read` raised, the result is `NOT_READ` too: the caller's own read raises it where
    it is handled. The thread is the process's own: a forked child takes nothing (`NOT_READ`).
    """

    def __init__(self, read: Callable[[str], T], names: Iterable[str]) -> None:
        self._read = read
        self._lock = threading.Lock()
        self._started: dict[str, threading.Event | None] = dict.fromkeys(names)  # None: not started
        self._results: dict[str, T | NotRead] = {}
        self._process = os.getpid()
        self._thread = threading.Thread(target=self._run, name="briefings-read-ahead", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for name in list(self._started):
            with self._lock:
                if name not in self._started:  # taken before the thread got to it
                    continue
                done = self._started[name] = threading.Event()
            result: T | NotRead
            try:
                result = self._read(name)
            except Exception:  # noqa: BLE001 - the caller reads it again, and handles what this raised
                result = NOT_READ
            self._results[name] = result
            done.set()

    def take(self, name: str) -> T | NotRead:
        """Return what the thread read of `name` (waiting for it if it is being read), or
        `NOT_READ`: not in the list, taken before, not started on yet, or a forked child's."""
        if os.getpid() != self._process:
            return NOT_READ
        with self._lock:
            if name not in self._started:
                return NOT_READ
            done = self._started.pop(name)
        if done is None:
            return NOT_READ
        done.wait()
        return self._results.pop(name)

    def finish(self) -> None:
        """Wait for the thread to end; what it read stays to be taken. Called before a build
        forks: a child must not start with a thread of the parent's half-way through a file
        (and Python warns of a fork while other threads run, since 3.12)."""
        self._thread.join()
