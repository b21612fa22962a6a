"""Comparing the build's tables: dicts by path (of content files, of outputs) that a build
loads from the cache and checks against what it finds now.

Owns `listed_alike` and `rows_of`. Where a table lists the same paths in the same order as the other (the
rule, after an edit: both are in path order), the two compare by place, in passes that run
in C, with no lookup by path. May not do I/O.
"""

from __future__ import annotations

import operator
from collections.abc import Collection, Iterable, Mapping
from itertools import repeat
from typing import Any


def listed_alike(a: Collection[Any], b: Collection[Any]) -> bool:
    """Return True when two tables (or a table and a list) hold the same keys in the same order,
    found in C: then one compares with the other by place. Of two tables unpickled apart (or a
    table and a folder's listing), each key and its row lie apart in memory from the other's:
    at 100,000 paths, looking each one up took about twice what a pass by place takes
    (docs/performance.md, "The files an edit changed, found by place")."""
    return len(a) == len(b) and all(map(operator.eq, a, b))


def rows_of(table: Mapping[Any, Any], keys: Collection[Any], missing: Any = None) -> Iterable[Any]:
    """Return the row of `table` for each of `keys`, in their order (`missing` for a key it lacks):
    by place where both list the same keys in the same order (`listed_alike`), else by key."""
    return table.values() if listed_alike(table, keys) else map(table.get, keys, repeat(missing))
