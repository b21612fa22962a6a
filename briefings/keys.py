"""Output keys: a digest of exactly the data an output is made from.

Owns `Hasher`, which digests view data (strings, numbers, dates, tuples, dicts and frozen
dataclasses such as `Entry`, `Term` and `Page`) and remembers the digest of each object
for the length of one build, so an entry shown on a thousand pages is digested once; it
also finds which of the objects a caller names (a model's entries) a view holds.
A page's key is the digest of the data its template receives, of the templates it uses
and of the site-wide inputs; equal keys mean equal bytes. May not do I/O.
"""

from __future__ import annotations

import dataclasses
import hashlib
import marshal
import operator
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from itertools import chain
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
DIGEST_SIZE = 16
_PLAIN = {str, int, float, bool, type(None), bytes, datetime, date}
_MARSHALLED = frozenset((str, int, float, bool, type(None)))  # written by `marshal` as they are
LONG = 16  # items from which a sequence is first tried as objects all digested before
SHORT = 64  # bytes up to which a value's digest is remembered by value (digests: not files' contents)


class Memo(Protocol):
    """Where a stage keeps what it worked out, by name, for the next build (the build cache).

    Each slot is kept with the inputs it was worked out from (a digest, or any value that
    compares equal exactly when the inputs are the same), and comes back only to a stage
    asking with equal inputs; otherwise None. What comes back has the type the stage gave:
    a stage still checks that before using it.
    """

    def recall(self, name: str, inputs: object) -> object: ...

    def remember(self, name: str, inputs: object, value: object) -> None: ...

    def set_aside(self, name: str, as_name: str) -> None:
        """Keep what was remembered under `name` under `as_name` instead (none: none)."""
        ...

    def forget(self, name: str) -> None:
        """Drop what was remembered under `name`, if anything."""
        ...

    def recall_tables(self, name: str, inputs: object) -> tuple[tuple[dict[Any, Any], ...], object] | None:
        """Return the tables (dicts, the caller's to change) and the rest kept by `remember_tables`, or None."""
        ...

    def remember_tables(self, name: str, inputs: object, tables: tuple[dict[Any, Any], ...], rest: object) -> None:
        """Keep tables whose rows change a few at a time (their values never changed in place), and the rest."""
        ...


def digest_text(*parts: str | bytes) -> bytes:
    """Return the digest of a sequence of strings, separated so that ("ab", "c") != ("a", "bc")."""
    hasher = hashlib.blake2b(digest_size=DIGEST_SIZE)
    for part in parts:
        data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
        hasher.update(len(data).to_bytes(8, "little"))
        hasher.update(data)
    return hasher.digest()


def file_digest(data: bytes) -> str:
    """Return the content digest of a file's bytes (hex): what decides whether a file changed."""
    return hashlib.blake2b(data, digest_size=DIGEST_SIZE).hexdigest()


def _blake(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=DIGEST_SIZE).digest()


def _plain_rows(parts: list[Any]) -> bool:
    """Return True if every part is a tuple of plain values, looked at in C: rows that hold no
    object a caller names: a sitemap's 50,000 paths and dates, which a loop of Python looked into
    row by row before."""
    kinds = set(map(type, parts))
    return kinds == {tuple} and set(map(type, chain.from_iterable(parts))) <= _PLAIN


Shapes = dict[type, tuple[bytes, Callable[[Any], Any], int]]  # see `Hasher._shape`


class Hasher:
    """Digests view data; objects seen before (by identity) are not digested again.

    Objects must stay alive and unchanged while the hasher is in use: the archive model
    and its pages are frozen and live for the whole build.
    """

    def __init__(self, known: Callable[[Any], bytes | None] | None = None, shapes: Shapes | None = None) -> None:
        # The digest of an object whose content is known by other means (a briefing, by its
        # file's digest), or None: asked of each frozen dataclass met the first time, so that
        # only the objects a build digests are (a build that keys a few pages, a few).
        self._known = known
        self._memo: dict[int, bytes] = {}
        self._alive: list[object] = []  # keeps memoised objects alive, so ids stay unique
        # Per dataclass type: the encoding's prefix, a getter of every field at once, how many fields;
        # `shapes` shares the table between hashers (it holds what follows from each type alone).
        self._fields: Shapes = shapes if shapes is not None else {}
        self._zones: dict[int, bytes] = {}  # the encoding of each time zone met, by id (see `_zone`)
        self._bytes: dict[bytes, bytes] = {}  # the digest of each bytes value given to `digest`, by value

    def known(self, value: object) -> bytes | None:
        """Return the digest of a dataclass digested or seeded before, or None."""
        return self._memo.get(id(value))

    def known_all(self, values: Iterable[object]) -> list[bytes | None]:
        """Return the digest of each of these values digested or seeded before, or None (`known`), found in C."""
        return list(map(self._memo.get, map(id, values)))

    def seed(self, value: object, digest: bytes) -> None:
        """Declare the digest of a dataclass whose content is known by other means (see `known`)."""
        self._memo[id(value)] = digest
        self._alive.append(value)

    def seed_all(self, values: tuple[object, ...], digests: tuple[bytes, ...]) -> None:
        """Declare the digests of many dataclasses at once (`seed`), in their order: the
        tuple is kept alive with them."""
        self._memo.update(zip(map(id, values), digests, strict=True))
        self._alive.append(values)

    def reads(
        self, value: Any, atoms: Mapping[int, T], found: set[T], named: Callable[[object], T | None] | None = None
    ) -> None:
        """Add to `found` what `atoms` names (by `id`) of the objects a value holds, at any depth:
        an object it names is an input of its own (an entry, by its place in the model), not looked
        into; so is a dataclass that `named` names (a briefing, by its file). The caller keeps
        those objects alive (a model's entries live for its build)."""
        stack = [value]
        while stack:
            item = stack.pop()
            name = atoms.get(id(item))
            if name is not None:
                found.add(name)
                continue
            kind = type(item)
            if kind is tuple or kind is list:
                names = list(map(atoms.get, map(id, item)))  # a listing's entries, related ones: all atoms, at once
                if None not in names:
                    found.update(names)  # type: ignore[arg-type]  # none is None
                    continue
                parts = [part for part in item if type(part) not in _PLAIN]
                if not _plain_rows(parts):
                    stack += parts
            elif kind is dict:
                stack += [part for part in item.values() if type(part) not in _PLAIN]
            elif kind in self._fields or (dataclasses.is_dataclass(item) and not isinstance(item, type)):
                if named is not None and (name := named(item)) is not None:
                    found.add(name)
                    continue
                _, fields, count = self._shape(kind)
                values = fields(item) if count != 1 else (fields(item),)
                stack += [part for part in values if type(part) not in _PLAIN]

    def key(self, *values: Any) -> str:
        """Return the hex key of a sequence of values."""
        return _blake(b"".join(self.digest(value) for value in values)).hex()

    def digest(self, value: Any) -> bytes:
        """Return the digest of one value."""
        found = self._memo.get(id(value))
        if found is not None:
            return found
        kind = type(value)
        if kind in self._fields or (dataclasses.is_dataclass(value) and not isinstance(value, type)):
            return self._dataclass(value)  # known or remembered there (a page, an entry: what most keys digest)
        if kind is bytes and len(value) <= SHORT:  # by value: the site-wide digest and a template's, in every key
            found = self._bytes.get(value)
            if found is None:
                found = self._bytes[value] = _blake(marshal.dumps((b"b" + value,), 2))
            return found
        return _blake(marshal.dumps(self._parts((value,)), 2))  # (only dataclasses are remembered: see `_parts`)

    def _parts(self, items: tuple[Any, ...] | list[Any]) -> tuple[Any, ...]:
        """Return items as `marshal` (version 2: no references, so equal values give equal bytes)
        writes them, each kind of value as a kind of its own: text, numbers, None and booleans
        as they are; a sequence as a tuple of its parts; a dict as a list (of its keys and
        values, in order); a dataclass as bytes, b"c" and its (remembered) digest; a date as
        bytes, b"d" and its fields; bytes as b"b" and them. Only dataclasses are remembered
        (`seed`), so the parts of a value never depend on what was digested before it."""
        memo = self._memo
        if len(items) >= LONG:  # a listing's entries, digested before: all at once, the same parts
            try:
                return tuple(map(b"c".__add__, map(memo.__getitem__, map(id, items))))
            except KeyError:
                pass
        parts: list[Any] = []
        for item in items:
            kind = type(item)
            if kind in _MARSHALLED:
                parts.append(item)
            elif kind is tuple or kind is list:  # (before the memo: it holds dataclasses alone)
                parts.append(self._parts(item) if item else ())
            elif kind is datetime or kind is date:
                # Its fields as pickle keeps them (fold too: 4 bytes a date, 10 a datetime) and its
                # zone: a fraction of the time `isoformat` takes, for the sitemaps' 100,000.
                state = item.__reduce_ex__(4)[1]  # protocol 4: with the fold
                parts.append(b"d%d:%s%s" % (len(state[0]), state[0], self._zone(state[1] if len(state) > 1 else None)))
            elif (known := memo.get(id(item))) is not None:  # a dataclass (kept alive: the id is its own)
                parts.append(b"c" + known)
            elif kind is dict:
                parts.append(list(self._parts([part for key in sorted(item, key=str) for part in (key, item[key])])))
            elif kind is bytes:
                parts.append(b"b" + item)
            elif kind in self._fields or (dataclasses.is_dataclass(item) and not isinstance(item, type)):
                parts.append(b"c" + self._dataclass(item))
            else:
                raise TypeError(f"cannot digest a {kind.__name__}; give templates plain view data")
        return tuple(parts)

    def _zone(self, zone: object) -> bytes:
        """Return the encoding of a time zone (or None): its repr (offset and name, or a zone's
        key), worked out once per object. By identity: `timezone` objects of one offset are
        equal whatever their names."""
        known = self._zones.get(id(zone))
        if known is None:
            name = repr(zone).encode("utf-8", "surrogatepass")
            known = self._zones[id(zone)] = b"%d:%s" % (len(name), name)
            self._alive.append(zone)
        return known

    def _dataclass(self, value: Any) -> bytes:
        """Digest a frozen dataclass as its type's name and every field, in order (or as it is known)."""
        if self._known is not None and (known := self._known(value)) is not None:
            self.seed(value, known)
            return known
        prefix, fields, count = self._shape(type(value))
        values = fields(value)
        result = _blake(prefix + marshal.dumps(self._parts(values if count != 1 else (values,)), 2))
        self.seed(value, result)
        return result

    def _shape(self, kind: type) -> tuple[bytes, Callable[[Any], Any], int]:
        """Return a dataclass type's encoding prefix, a getter of every field at once, and how many fields."""
        shape = self._fields.get(kind)
        if shape is None:
            names = tuple(f.name for f in dataclasses.fields(kind))
            getter = operator.attrgetter(*names) if names else lambda _: ()
            shape = self._fields[kind] = (kind.__qualname__.encode() + b":", getter, len(names))
        return shape
