"""How the frozen value classes of the model pickle (in the build cache, and back from workers).

Owns `compact_pickle` and `compact_dict_pickle` (with `remade`, what the second pickles as a
call to), and `worked_out`: a value a frozen class works out once per object.
May not import the rest of the package.
"""

from __future__ import annotations

import dataclasses
import itertools
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
    """Pickle a frozen dataclass without slots as its field values, in field order, and the values
    `worked_out` kept beside them (if any): `remade` puts them back in a new object in one call.

    By default such an object pickles as its `__dict__`, names and all, which unpickling builds
    as a dict, then copies into the object name by name. The briefings of the model kept at
    100,000 briefings (41 MB) took 0.42 to 0.56 s to unpickle so; 0.33 to 0.35 s as values
    (36 MB) (docs/performance.md, "Briefings unpickled as their values").
    """
    names = tuple(field.name for field in dataclasses.fields(cls))
    values = operator.attrgetter(*names)
    count = len(names)
    setattr(cls, _FIELDS, names)  # what `remade` puts the values back under

    def __reduce__(self: object) -> tuple[Callable[..., object], tuple[object, ...]]:
        kept = self.__dict__  # the fields first, in order (`__init__` sets them so, and `remade`)
        found = dict(itertools.islice(kept.items(), count, None)) if len(kept) > count else None
        return remade, (cls, values(self), found)

    cls.__reduce__ = __reduce__  # type: ignore[assignment]
    return cls


_FIELDS = "_pickled_fields"


def remade(cls: type, values: tuple[object, ...], found: dict[str, object] | None) -> object:
    """Return an object of a class `compact_dict_pickle` marked, with these field values and
    values worked out; any other class is refused (a cache file may call this: `cache._ValuesOnly`)."""
    names = cls.__dict__.get(_FIELDS) if isinstance(cls, type) else None
    if not isinstance(names, tuple) or len(names) != len(values):
        raise TypeError(f"{cls!r} is not remade from {len(values)} values")
    made: object = object.__new__(cls)
    kept = made.__dict__
    kept.update(zip(names, values, strict=True))
    if found:
        kept.update(found)
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
