"""How the frozen value classes of the model pickle (in the build cache, and back from workers).

Owns `compact_pickle` and `compact_dict_pickle` (with `remade`, what the second pickles as a
call to), and `worked_out`: a value a frozen class works out once per object.
May not import the rest of the package.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

C = TypeVar("C", bound=type)
V = TypeVar("V")


def compact_pickle(cls: C) -> C:
    """Pickle a frozen dataclass with slots as its constructor's arguments, in field order.

    dataclasses give a class with slots a generic `__setstate__` that loops over its fields in
    Python: unpickling 50,000 small objects so took twice as long as calling their constructor.
    """
    fields = dataclasses.fields(cls)
    if not all(field.init and not field.kw_only for field in fields):
        raise TypeError(f"{cls.__qualname__}: every field must be a positional argument of __init__")
    values = operator.attrgetter(*(field.name for field in fields))
    single = len(fields) == 1  # attrgetter of one name gives the value, not a tuple

    def __reduce__(self: object) -> tuple[type, tuple[object, ...]]:
        return cls, (values(self),) if single else values(self)

    cls.__reduce__ = __reduce__  # type: ignore[assignment]
    return cls


def compact_dict_pickle(cls: C) -> C:
    """Pickle a frozen dataclass without slots as the names in its `__dict__` (its fields and
    what `worked_out` kept) and their values: `remade` puts them back in a new object in one call.

    By default such an object pickles as its `__dict__`, which unpickling builds as a dict,
    then copies into the object name by name. The names are one tuple for every object of a
    layout (the fields, then what was worked out, in that order), which a pickle holds once.
    """
    layouts: dict[tuple[str, ...], tuple[str, ...]] = {}  # each layout as one tuple (a few)
    setattr(cls, _MARK, True)

    def __reduce__(self: object) -> tuple[Callable[..., object], tuple[object, ...]]:
        kept = self.__dict__
        names = tuple(kept)
        return remade, (cls, layouts.setdefault(names, names), tuple(kept.values()))

    cls.__reduce__ = __reduce__  # type: ignore[assignment]
    return cls


_MARK = "_remade_from_values"  # the mark `compact_dict_pickle` gives a class


def remade(cls: type, names: tuple[str, ...], values: tuple[object, ...]) -> object:
    """Return an object of a class `compact_dict_pickle` marked, with these names and values in its
    `__dict__`; any other class is refused (a cache file may call this: `cache._ValuesOnly`)."""
    if not isinstance(cls, type) or cls.__dict__.get(_MARK) is not True or len(names) != len(values):
        raise TypeError(f"{cls!r} is not remade from values")
    made: object = object.__new__(cls)
    made.__dict__.update(zip(names, values))  # noqa: B905 - the lengths are equal
    return made


class worked_out(Generic[V]):  # a decorator, named like `property`
    """A property worked out on first use and kept in the object's `__dict__`, where every
    later use finds it without a call (a frozen dataclass without slots; the value must
    follow from the fields).

    `functools.cached_property` does the same, but on Python 3.11 takes a lock on each first
    use: 2.3 µs a first use against 1.0 here (100,000 objects, timed on the project's 2-core
    machine). A build works out three for every briefing it loads (its date of change, as a
    datetime and as a timestamp, and its moment): 300,000 at 100,000 briefings.
    """

    def __init__(self, work: Callable[[Any], V]) -> None:
        self.work = work
        self.name = work.__name__
        self.__doc__ = work.__doc__

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> worked_out[V]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> V: ...

    def __get__(self, instance: object, owner: type | None = None) -> V | worked_out[V]:
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.work(instance)
        return value
