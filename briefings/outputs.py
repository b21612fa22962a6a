"""An output of the site as the plan gives it to the writer: its path, key and how to make it.

Owns the `Planned` value and the `Plan` of every output, passed from planning to writing,
and the marker every output folder holds. May not do I/O.
"""

from __future__ import annotations

import functools
import itertools
import operator
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from briefings.errors import BuildFailed, SourceError

# What a plan gave an output besides how to make it: its key, origin, group, line of origin and
# template ("" for a feed, which has none): what a plan of the same shape needs of one it does not key.
Given = tuple[str, str, str, int, str]

# Every output folder holds this file: the build replaces only folders that have it.
SITE_MARKER = ".briefings-site"
MARKER_TEXT = b"This folder is made by `python build.py` and replaced by every build; edits here are lost.\n"


@dataclass(frozen=True)
class Planned:
    """One output file: its path in the site, its key, what made it (for messages), and how to make it.

    `group` is the kind of output it is, for the size report ("briefings", "tags", "feeds").
    """

    path: str
    key: str
    origin: str
    make: Callable[[], bytes]
    group: str = "other"
    line: int = 0  # of `origin`, where a line of it decides the path (a slug, an alias)
    reused: bool = False  # its key is the last plan's, its view not digested again (`plan.Keying`)

    def attempt(self) -> tuple[bytes | None, list[SourceError]]:
        """Make the file; return its bytes, or the errors that stopped it."""
        try:
            return self.make(), []
        except BuildFailed as failed:
            return None, list(failed.errors)


@dataclass(frozen=True)
class Plan:
    """Every output of the site: those this build planned (`fresh`), and those it `kept` as the
    last plan of the same shape gave them, by path (each made, if the writer finds the site
    lacks it, by `make_kept(path)`). The two hold no path in common.

    A plan that recalls the last one (`plan.Keying`) plans afresh only the outputs an edit
    reaches: at 100,000 briefings, a few dozen of 108,000. Keeping the others as the last plan
    gave them, not as a `Planned` each, is what lets a one-edit build cost what the edit does.
    Iterating gives every output as a `Planned`, the kept ones too (for `check` and `compare`).

    Such a plan also names the kept keys it recalled (`recalled_from`), with what they gave
    every output (`last`), and the keys it kept for the next plan (`kept_as`), so that the
    writer can tell an output folder made from the plan it recalls: one in which every kept
    output is there as planned (`write.write_site`). Both names are b"" where there are none.
    """

    fresh: list[Planned]
    kept: Mapping[str, Given] = field(default_factory=dict)
    make_kept: Callable[[str], bytes] | None = None
    last: Mapping[str, Given] = field(default_factory=dict)
    recalled_from: bytes = b""
    kept_as: bytes = b""

    def __len__(self) -> int:
        return len(self.fresh) + len(self.kept)

    def __iter__(self) -> Iterator[Planned]:
        yield from self.fresh
        yield from map(self.recalled, self.kept)

    def recalled(self, path: str) -> Planned:
        """Return a kept output as a `Planned`, reused: its key is the last plan's."""
        assert self.make_kept is not None, "kept outputs need make_kept"
        key, origin, group, line, _ = self.kept[path]
        return Planned(path, key, origin, functools.partial(self.make_kept, path), group, line, reused=True)

    def paths(self) -> Iterator[str]:
        """Return every output's path, in C (a build takes them three times: 108,000 at 100,000 briefings)."""
        return itertools.chain(map(_PATH, self.fresh), self.kept)

    def columns(self) -> tuple[list[str], list[str]]:
        """Return every output's path, and its group (its kind, for the size report) in the same
        order: two lists, made in C (108,000 outputs at 100,000 briefings)."""
        paths = [*map(_PATH, self.fresh), *self.kept]
        groups = [*map(_GROUP, self.fresh), *map(_GROUP_GIVEN, self.kept.values())]
        return paths, groups


_PATH, _GROUP = operator.attrgetter("path"), operator.attrgetter("group")  # of a `Planned`
_GROUP_GIVEN = operator.itemgetter(2)  # of a `Given`
