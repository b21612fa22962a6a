"""A forked child the parent talks with (`workers.talking_child`): what is said, what is raised, and its end."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import pytest

from briefings.errors import BuildFailed, SourceError
from briefings.workers import ChildFailed, talking_child


def test_the_child_says_things_in_turn_and_its_result_last() -> None:
    def task(tell: Callable[[object], Any]) -> object:
        answer = tell(("pid", os.getpid()))
        return ("done", answer * 2)

    with talking_child(task) as child:
        kind, pid = child.heard()
        assert kind == "pid" and pid != os.getpid()  # said by another process
        child.say(21)
        assert child.heard() == ("done", 42)


def test_the_parent_hears_whether_the_child_has_spoken_without_waiting() -> None:
    def task(tell: Callable[[object], Any]) -> object:
        tell("waiting")  # the parent's answer lets it go on
        return "finished"

    with talking_child(task) as child:
        deadline = time.monotonic() + 30
        while not child.ready():  # until it has said "waiting": then hearing it does not wait
            assert time.monotonic() < deadline, "the child never spoke"
        assert child.heard() == "waiting"
        assert not child.ready()  # it waits for the answer: nothing more said yet
        child.say(None)
        assert child.heard() == "finished"


def test_what_the_child_raises_is_raised_where_the_parent_hears() -> None:
    def failing(tell: Callable[[object], Any]) -> object:
        tell("first")
        raise BuildFailed([SourceError("content/2016/a.md", 3, "a problem")])

    with talking_child(failing) as child:
        assert child.heard() == "first"
        child.say(None)
        with pytest.raises(BuildFailed) as raised:
            child.heard()
    assert raised.value.errors == (SourceError("content/2016/a.md", 3, "a problem"),)

    def missing(tell: Callable[[object], Any]) -> object:
        return open("/nonexistent/file")  # noqa: PTH123 - an OSError with its file

    with talking_child(missing) as child, pytest.raises(FileNotFoundError) as gone:
        child.heard()
    assert gone.value.filename == "/nonexistent/file"


class Unpicklable(Exception):
    def __reduce__(self) -> Any:
        raise TypeError("not this one")


def test_an_error_that_cannot_be_sent_is_said_in_words() -> None:
    def task(tell: Callable[[object], Any]) -> object:
        raise Unpicklable("a lock in it")

    with talking_child(task) as child, pytest.raises(ChildFailed, match="Unpicklable: a lock in it"):
        child.heard()


def test_a_child_that_ends_without_a_word_is_a_failure_not_a_wait() -> None:
    def task(tell: Callable[[object], Any]) -> object:
        os._exit(3)

    with talking_child(task) as child, pytest.raises(ChildFailed, match="ended before it answered"):
        child.heard()


def test_leaving_early_stops_a_child_that_waits_for_an_answer() -> None:
    def task(tell: Callable[[object], Any]) -> object:
        tell(os.getpid())
        return tell("never answered")

    with talking_child(task) as child:
        pid = child.heard()
    with pytest.raises(ProcessLookupError):  # ended and reaped
        os.kill(pid, 0)
