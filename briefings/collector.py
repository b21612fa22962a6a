"""When Python's cyclic garbage collector runs during a build.

Owns `few_collections` (a build stage's setting), and `hide` and `out_of_sight` (for data
loaded or held for the rest of a stage). A build holds millions of long-lived objects
(records, the model, keys) and makes few reference cycles; the collector still visits
every object it tracks each time it runs a full collection, and every new object twice
before that. Measured on a one-edit build of 100,000 briefings, that was 6 s of 26.
May not hold build logic.
"""

from __future__ import annotations

import contextlib
import functools
import gc
from collections.abc import Callable, Iterator
from typing import ParamSpec, TypeVar

T = TypeVar("T")
P = ParamSpec("P")
COLLECT_EVERY = 50_000  # allocations between collections of the youngest generation (Python's default: 700)


def few_collections(stage: Callable[P, T]) -> Callable[P, T]:
    """Run a whole build stage with the youngest generation collected 70 times less often, and
    what `out_of_sight` hid during it back in the collector's sight when it returns.

    At Python's default threshold (a collection every 700 allocations) the collector scanned
    the build's objects again and again: a fifth of a one-edit build at 10,000 briefings.
    Both settings are restored when the stage returns, so a process that runs many builds
    (the preview, the tests) collects the garbage of each in its time.
    """

    @functools.wraps(stage)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        threshold = gc.get_threshold()
        gc.set_threshold(COLLECT_EVERY, *threshold[1:])
        try:
            return stage(*args, **kwargs)
        finally:
            gc.set_threshold(*threshold)
            gc.unfreeze()

    return run


def hide() -> None:
    """Move every object the process holds out of the collector's sight (`gc.freeze`) until the
    stage returns (`few_collections`): a collection then never visits them. A cycle that is
    garbage already is freed only when the stage returns.

    Called before forking workers too: they inherit the objects hidden, so their collections
    do not touch the parent's objects (which would copy each memory page touched), and they
    inherit the collector running (a worker that renders pages makes garbage cycles).
    """
    gc.freeze()


@contextlib.contextmanager
def out_of_sight() -> Iterator[None]:
    """Run a block with the collector paused and everything it made hidden after (see `hide`).

    For blocks that make data kept to the end of the stage and no garbage cycles: unpickling
    what the cache kept (the records, a model, the plan's keys).
    """
    enabled = gc.isenabled()
    gc.disable()
    hide()
    try:
        yield
    finally:
        hide()
        if enabled:
            gc.enable()
