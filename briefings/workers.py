"""Parallel work across processes, with a serial path that gives identical results.

Owns the process pools: `parallel_map` for picklable work (parsing files) and
`forked_map` for work over data the parent already holds (rendering pages), which
workers inherit by `fork` instead of receiving it pickled. Results always come back in
input order, so output never depends on scheduling. May not hold build logic.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from briefings.collector import hide

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.pool import Pool

T = TypeVar("T")
R = TypeVar("R")

# Below this many items a pool costs more than it saves.
MIN_PARALLEL = 64
PR_SET_PDEATHSIG = 1


def available_cores() -> int:
    """Return how many cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    """Return True where worker processes can inherit the parent's memory."""
    import multiprocessing  # here: a build with little to do starts no process and need not load it

    return "fork" in multiprocessing.get_all_start_methods()


# The most items a worker handles before sending their results back: the parent then holds
# a few small chunks of results at a time, never a quarter of the archive's records.
MAX_CHUNK = 250


def chunks(count: int, jobs: int) -> list[range]:
    """Split range(count) into contiguous chunks: at least four per worker, for load balance."""
    size = max(1, min(-(-count // (jobs * 4)), MAX_CHUNK))
    return [range(start, min(start + size, count)) for start in range(0, count, size)]


# The task of the current worker process: set once per worker by `_start`, never in the parent.
_task: Callable[[int], Any] | None = None


def _start(task: Callable[[int], Any], parent: int) -> None:
    _settle(parent)
    global _task
    _task = task


def _settle(parent: int) -> None:
    """Set a forked child's signals as a worker's, and make it end with its `parent`."""
    # Ctrl-C reaches the whole process group: the parent handles it and stops the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The pool ends a worker with SIGTERM. A parent running an event loop (the preview
    # server) has a handler for it that writes to a wakeup fd the worker shares: the
    # worker's own SIGTERM would stop the parent's server. Workers take the default.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    with contextlib.suppress(ValueError):
        signal.set_wakeup_fd(-1)
    # The worker was forked with SIGTERM held back (see `_pool`): one the pool sent before this
    # ran (a pool ended at once) arrives now, and ends it, instead of reaching the parent's handler.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    _die_with(parent)


def _die_with(parent: int) -> None:
    """Make this worker end when its parent does, even if the parent is killed outright."""
    import ctypes  # in the worker, once

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)  # Linux: the kernel signals us when the parent dies
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before we asked
        os._exit(1)


def _run(indexes: range) -> list[Any]:
    assert _task is not None
    return [_task(index) for index in indexes]


def forked_map(task: Callable[[int], R], count: int, jobs: int) -> Iterator[R]:
    """Yield task(0) ... task(count - 1) in order, computed by `jobs` forked workers.

    `task` may close over anything the parent holds: workers inherit it, nothing is pickled
    but the results.
    """
    if jobs <= 1 or count < MIN_PARALLEL or not can_fork():
        yield from (task(index) for index in range(count))
        return
    yield from _pooled(task, chunks(count, jobs), jobs)


@contextlib.contextmanager
def in_child(task: Callable[[], R]) -> Iterator[Callable[[], R]]:
    """Start task() in one forked process now; yield a function that waits for its result.

    The parent goes on with other work meanwhile (on another core), and the memory the
    task takes while it works is given back when the child ends (Python keeps what it
    freed). Leaving the block early stops the child. Where fork is not, the task runs when
    its result is asked for.
    """
    if not can_fork():
        yield task
        return
    with _pool(lambda _: task(), 1) as pool:
        pending = pool.apply_async(_run, (range(1),))
        yield lambda: pending.get()[0]


class Talk:
    """The parent's end of a conversation with a forked child (`talking_child`): the child
    says things (`heard`) and the parent answers (`say`), in turn."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def heard(self) -> Any:
        """Return what the child said next, waiting for it; raise what the child raised instead
        (an error it could not send, as `ChildFailed`), or `ChildFailed` if it ended without a word."""
        try:
            kind, value = self._connection.recv()
        except EOFError:
            raise ChildFailed("the child process ended before it answered") from None
        if kind == _RAISED:
            raise value
        return value

    def ready(self) -> bool:
        """Return True if the child has said something not heard yet (or ended): `heard` will not wait."""
        return self._connection.poll()

    def say(self, value: object) -> None:
        """Tell the child something (it waits for it: `talking_child`)."""
        self._connection.send(value)


class ChildFailed(Exception):
    """A child process (`talking_child`) ended without answering, or raised what could not be sent."""


_SAID, _RAISED = "said", "raised"


@contextlib.contextmanager
def talking_child(task: Callable[[Callable[[object], Any]], object]) -> Iterator[Talk]:
    """Start task(tell) in a forked child now and yield the parent's end of the talk with it.

    `tell(value)` in the child sends the parent a value and returns the parent's answer: the
    child waits for it, the parent goes on with other work meanwhile (on another core) and
    answers once it needs to hear (`Talk.heard`, `Talk.say`). What the task returns is said
    last, without waiting for an answer; what it raises is raised where the parent hears it.
    Leaving the block stops the child if it is still running. Only where `can_fork`.
    """
    import multiprocessing  # (see `can_fork`)

    context = multiprocessing.get_context("fork")
    ours, theirs = context.Pipe()
    for stream in (sys.stdout, sys.stderr):  # else the child, as it ends, writes what they held again
        with contextlib.suppress(OSError, ValueError, AttributeError):
            stream.flush()
    child = context.Process(target=_talking, args=(task, theirs, os.getpid()), daemon=True)
    try:
        with _forking():
            child.start()
        theirs.close()  # the child's end is the child's alone: its end ends the talk (EOFError)
        yield Talk(ours)
    finally:
        if child.is_alive():
            child.terminate()
        child.join()
        ours.close()


def _talking(task: Callable[[Callable[[object], Any]], object], connection: Connection, parent: int) -> None:
    _settle(parent)

    def tell(value: object) -> Any:
        connection.send((_SAID, value))
        return connection.recv()

    try:
        connection.send((_SAID, task(tell)))
    except BaseException as exc:  # noqa: BLE001 - raised where the parent hears it
        try:
            connection.send((_RAISED, exc))
        except Exception:  # noqa: BLE001 - it does not pickle: said in words
            connection.send((_RAISED, ChildFailed(f"{type(exc).__name__}: {exc}")))


def in_background(later: contextlib.ExitStack, task: Callable[[], object]) -> None:
    """Start task() in a forked child (`in_child`, on the other core) that `later` waits
    for as it closes: unless it closes on Ctrl-C or a kill, which stops the child (what it was
    writing is a `.new.*` file, cleared by the next build). Where fork is not, the task runs then."""
    done = later.enter_context(in_child(task))

    def wait(kind: type[BaseException] | None, *_: object) -> None:
        if kind is None:
            done()
        elif issubclass(kind, Exception):  # a build that fails keeps what it kept, and says why it failed
            with contextlib.suppress(Exception):
                done()

    later.push(wait)


@contextlib.contextmanager
def _pool(task: Callable[[int], Any], jobs: int) -> Iterator[Pool]:
    """Yield a pool of `jobs` forked workers that run `task`; stop them when the block ends."""
    import multiprocessing  # (see `can_fork`)

    context = multiprocessing.get_context("fork")
    with _forking():
        pool = context.Pool(jobs, initializer=_start, initargs=(task, os.getpid()))
    try:
        yield pool
    finally:
        pool.terminate()
        pool.join()


@contextlib.contextmanager
def _forking() -> Iterator[None]:
    """Fork children in the block (a pool's workers, `talking_child`'s child) with what they
    inherit out of the collector's sight (`hide`: their collections would copy every page of
    it they touched), and Ctrl-C and SIGTERM held back until it ends.

    A Ctrl-C while children start would leave those made so far running: it arrives once they
    exist, where the caller stops them. SIGTERM is held back too, so that children start with it
    held until `_settle` has given it its default action: the parent may end one before then, and
    the parent's own handler would ignore it."""
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    hide()
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def _pooled(task: Callable[[int], R], work: list[range], jobs: int) -> Iterator[R]:
    """Yield task(index) for every index of `work`, in order, from `jobs` forked workers."""
    with _pool(task, jobs) as pool:
        for results in pool.imap(_run, work):
            yield from results


def parallel_map(function: Callable[[T], R], items: Sequence[T], jobs: int) -> Iterator[R]:
    """Yield function(item) for each item, in order, across `jobs` workers."""
    yield from forked_map(lambda index: function(items[index]), len(items), jobs)
