"""The archive model: ordering, the terms of each kind of listing (`kinds.KINDS`), timeline, related.

Owns turning validated briefings into the `Archive` that pages are rendered from, and
the cross-file checks (two briefings at one URL, two tags with one slug). Every sort
states its tie-breaker. May not do I/O.
"""

from __future__ import annotations

import bisect
import functools
import heapq
import itertools
import math
import operator
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar

from briefings.clock import NEWS_WINDOW
from briefings.config import SiteConfig
from briefings.content import Briefing
from briefings.countries import KNOWN_COUNTRIES, Compared, near_misses_since
from briefings.errors import SourceError
from briefings.frozen import compact_pickle, remade, worked_out
from briefings.keys import Memo, digest_text
from briefings.kinds import BY_NAME, KINDS, Kind
from briefings.markdown import BodyRef
from briefings.urls import briefing_path, distinct, fold, href, slugify

RELATED_MAX, RELATED_MIN = 4, 3
BUILTIN = {"countries": KNOWN_COUNTRIES}  # names known without site.yaml, by kind
RELATED_WINDOW = 5  # candidates per tag on each side in time
NEWS_MOST = 1000  # URLs in a news sitemap (Google's limit)
SAME_PASSES = 4  # edited entries looked for in the related lists one pass each; more, in one pass by id


@compact_pickle
@dataclass(frozen=True, slots=True)
class Ref:
    """A link from a briefing to one of its terms."""

    name: str
    slug: str


class _Held:
    """What an `Entry` holds besides its fields: what passes over many entries read of its
    briefing (`file`, `image_src`, `date`, `modified_at`, `revised`, `aliases`), and the values
    of a briefing and body not made yet (`unmade_entry`)."""

    __slots__ = ("_body_row", "_briefing_row", "aliases", "date", "file", "image_src", "modified_at", "revised")


@dataclass(frozen=True, slots=True)
class Entry(_Held):
    """A briefing placed in the archive: its URL path, where its body is, and its terms' links.

    `refs` holds the links to its terms, one tuple per kind of `KINDS`, in that order;
    templates read them by field name (`entry.tags`, `entry.region`: a single field gives
    its one link, or None when it is optional and not given: `entry.story`).

    An entry loaded from the cache makes its briefing and its body when first read
    (`unmade_entry`): a one-edit build at 100,000 briefings reads about 3,000 briefings of the
    model it loads, and making the other 97,000 took a third of loading it. What a pass over
    many entries reads is held apart, made or not: the briefing's `file` path, `image_src`, `date`
    (the sitemap's date of most briefing pages), `modified_at` (the newest of a listing's page is
    looked for in every entry it shows), whether it was `revised` (updated or corrected:
    `revised_ids`) and its `aliases` (`moved_pages`).
    """

    briefing: Briefing
    path: str
    body: BodyRef
    refs: tuple[tuple[Ref, ...], ...]
    site_links: tuple[tuple[int, str], ...] = ()  # (line, "/path/") written in the body

    def __post_init__(self) -> None:
        _set(self, "file", self.briefing.path)
        _set(self, "image_src", self.briefing.image_src)
        _set(self, "date", self.briefing.date)
        _set(self, "modified_at", self.briefing.modified_at)
        _set(self, "revised", self.briefing.revised)
        _set(self, "aliases", self.briefing.aliases)
        _set(self, "_briefing_row", None)
        _set(self, "_body_row", None)

    @property
    def modified(self) -> datetime:
        """Its briefing's date of change (`Briefing.modified`): its date, held, unless it was revised."""
        return self.briefing.modified if self.revised else self.date

    @property
    def body_digest(self) -> str:
        """Its body's digest, read without making its body."""
        return self._body_row[0] if self._body_row is not None else self.body.digest

    @property
    def body_hrefs(self) -> tuple[str, ...]:
        """Its body's resolved hrefs, read without making its body (`BodyRef`'s fields, in order)."""
        return self._body_row[1] if self._body_row is not None else self.body.hrefs

    def terms(self, kind: Kind) -> tuple[Ref, ...]:
        """Return the links to this entry's terms of one kind."""
        return self.refs[_PLACE[kind.name]]

    def __getattr__(self, name: str) -> Any:
        """Return its briefing or body, made now if not made yet (`unmade_entry`); or the terms of
        the kind whose field is `name`: a tuple, or the one link of a single field."""
        if name == "briefing" and self._briefing_row is not None:
            made: Any = remade(Briefing, *self._briefing_row)
            _set(self, "briefing", made)
            _set(self, "_briefing_row", None)
            return made
        if name == "body" and self._body_row is not None:
            made = BodyRef(*self._body_row)
            _set(self, "body", made)
            _set(self, "_body_row", None)
            return made
        kind = _BY_FIELD.get(name)
        if kind is None:
            raise AttributeError(name)
        refs = self.refs[_PLACE[kind.name]]
        return refs if kind.many else (refs[0] if refs else None)

    def __reduce__(self) -> tuple[Callable[..., Entry], tuple[object, ...]]:
        """Pickle as `unmade_entry` takes it: its briefing's and body's values, not the objects."""
        briefing = self._briefing_row or self.briefing.__reduce__()[1][1:]  # (names, values): `remade`
        body = self._body_row or self.body.__reduce__()[1]  # BodyRef's fields: `compact_pickle`
        held = (self.file, self.image_src, self.date, self.modified_at, self.revised, self.aliases)
        return unmade_entry, (*briefing, body, self.path, self.refs, self.site_links, *held)


_set = object.__setattr__  # how a frozen object's slots are set


def unmade_entry(
    names: tuple[str, ...],
    values: tuple[object, ...],
    body: tuple[object, ...],
    path: str,
    refs: tuple[tuple[Ref, ...], ...],
    site_links: tuple[tuple[int, str], ...],
    file: str,
    image_src: str | None,
    date: datetime,
    modified_at: float,
    revised: bool,
    aliases: tuple[str, ...],
) -> Entry:
    """Return an entry whose briefing and body are made when first read: from `names` and
    `values` (as `frozen.remade` takes them) and the fields of its `BodyRef`. What an entry
    pickles as (`Entry.__reduce__`), and the one function of this module a cache file may call."""
    entry = Entry.__new__(Entry)
    _set(entry, "path", path)
    _set(entry, "refs", refs)
    _set(entry, "site_links", site_links)
    _set(entry, "file", file)
    _set(entry, "image_src", image_src)
    _set(entry, "date", date)
    _set(entry, "modified_at", modified_at)
    _set(entry, "revised", revised)
    _set(entry, "aliases", aliases)
    _set(entry, "_briefing_row", (names, values))
    _set(entry, "_body_row", body)
    return entry


_PLACE = {kind.name: place for place, kind in enumerate(KINDS)}
_BY_FIELD = {kind.field: kind for kind in KINDS}
_refs_of = operator.attrgetter("refs")


def links_of(entries: Iterable[Entry], kind: Kind) -> Iterator[Ref]:
    """Return the links of these entries to their terms of one kind, entry after entry, found in C
    (a country's pages count the regions of its briefings: at 100,000, a quarter of them each)."""
    return itertools.chain.from_iterable(map(operator.itemgetter(_PLACE[kind.name]), map(_refs_of, entries)))


@compact_pickle
@dataclass(frozen=True, slots=True)
class Term:
    """A tag, region, source or country with its briefings, newest first."""

    kind: str  # the name of its kind of `KINDS`: "tags", "regions"...
    name: str
    slug: str
    entries: tuple[Entry, ...]
    description: str = ""
    url: str | None = None


@compact_pickle
@dataclass(frozen=True, slots=True)
class Period:
    """A year (month 0) or a month of the timeline, with its briefings newest first."""

    year: int
    month: int
    entries: tuple[Entry, ...]


_Listing = TypeVar("_Listing", Term, Period)


@dataclass(frozen=True)
class GivenWay:
    """A name of one kind listed as a term of another (see `Kind.merges_into`): the tag "Russia"
    is listed as the country. The pages and feed it would have had keep working, pointing there."""

    kind: str  # the kind it was given as: "tags"
    slug: str  # its slug as that kind: /tags/<slug>/
    term: Term  # the term it is listed as
    given: int  # how many briefings give it as `kind` (so how many listing pages it had)
    origin: str  # the file of the newest of them


@dataclass(frozen=True)
class Archive:
    """Everything pages are made from. `entries` are newest first."""

    config: SiteConfig
    entries: tuple[Entry, ...]
    terms: dict[str, tuple[Term, ...]]  # by kind name; A-Z, or in site.yaml's order for its lists
    years: tuple[Period, ...]  # oldest first
    months: tuple[Period, ...]  # oldest first
    related: dict[str, tuple[Entry, ...]] = field(default_factory=dict)  # by entry path
    given_way: tuple[GivenWay, ...] = ()  # ordered by kind, then slug
    scheduled: frozenset[str] = frozenset()  # file paths of entries shown before their date (the preview)
    recent: tuple[Entry, ...] = ()  # published in the two days before the build's clock, newest first
    # How often each name is given, as written, by kind name (of the kinds whose names briefings
    # choose: not regions), with the names given way moved to their kind: what the spelling of
    # each term and "did you mean" are worked out from, again by `with_terms` after a retag.
    names: dict[str, dict[str, int]] = field(default_factory=dict)
    # The token of the ranking its related lists were made from (`Ranking.token`): when the cache
    # keeps that ranking, a retag ranks again from it without reading every briefing's tags.
    ranking: bytes = field(default=b"", compare=False)

    @worked_out
    def modified(self) -> datetime | None:
        """The latest date of change of its briefings (what the pages listing them all give the
        sitemap): worked out once, not once a page."""
        return newest(self.entries)


file_of = operator.attrgetter("file")  # an entry's file path, as `map` takes it
entry_path = operator.attrgetter("path")  # an entry's page path, as `map` takes it (100,000 entries)
_moment_of = operator.attrgetter("briefing.moment")


def _place(entry: Entry) -> tuple[float, str, str]:
    return place_of(entry.briefing)


_modified_at = operator.attrgetter("modified_at")  # listings show 80,000 entries at 10,000 briefings


def newest(entries: Sequence[Entry]) -> datetime | None:
    """Return the latest modification among entries, if any."""
    return max(entries, key=_modified_at).modified if entries else None


def newest_in_order(revised: AbstractSet[int]) -> Callable[[Sequence[Entry]], datetime | None]:
    """Return `newest` for entries in the archive's order (newest first by date), given the ids
    of the entries that were revised (`revised_ids`). Only the first entry and the revised ones
    can be the newest: any other's date of change is its date, no later than the first's date,
    which is no later than the first's date of change (and a tie goes to the first, as in
    `newest`). So a listing's page is dated from those few and the ids of the rest, without
    reading each entry: the listings of 100,000 briefings hold 900,000 entries, and reading one
    is a few cache misses (its briefing, then that briefing's date of change)."""
    is_revised = revised.__contains__

    def newest_listed(entries: Sequence[Entry]) -> datetime | None:
        if not entries:
            return None
        candidates = itertools.chain(entries[:1], itertools.compress(entries, map(is_revised, map(id, entries))))
        return max(candidates, key=_modified_at).modified

    return newest_listed


def revised_ids(entries: Sequence[Entry]) -> frozenset[int]:
    """Return the ids of the entries whose briefing was updated or corrected: those whose date of
    change may not be their date (`newest_in_order`). The entries must stay alive while it is used.
    Found in C: at 100,000 entries, a pass of Python took a tenth of a second under cProfile."""
    return frozenset(map(id, itertools.compress(entries, map(revised_of, entries))))


revised_of = operator.attrgetter("revised")  # updated or corrected: held by each entry
aliases_of = operator.attrgetter("aliases")  # held by each entry


def newest_first(briefings: Iterable[Briefing]) -> list[Briefing]:
    """Order by exact instant, newest first; ties by title A-Z, then by file path."""
    return sorted(briefings, key=place_of)


def place_of(briefing: Briefing) -> tuple[float, str, str]:
    """Return what orders a briefing in the archive (`newest_first`). Timestamps order instants
    as aware datetimes do, 50 times faster."""
    return (-briefing.moment, briefing.title, briefing.path)


def briefing_urls(briefings: Iterable[Briefing]) -> tuple[dict[str, str], list[SourceError]]:
    """Return each briefing's site path by file path, and an error per briefing sharing one."""
    by_url: dict[str, list[Briefing]] = defaultdict(list)
    for briefing in briefings:
        by_url[briefing_path(briefing.date, briefing.slug)].append(briefing)
    errors = [
        SourceError(
            b.path, b.line_of("slug"), f"/{url} is also the URL of {_others(group, b)}; change the slug of one of them"
        )
        for url, group in by_url.items()
        if len(group) > 1
        for b in group
    ]
    return {b.path: url for url, group in by_url.items() for b in group}, errors


def _others(group: list[Briefing], briefing: Briefing) -> str:
    return ", ".join(other.path for other in group if other is not briefing)


def build_archive(
    config: SiteConfig,
    briefings: Iterable[Briefing],
    paths: dict[str, str],
    bodies: dict[str, tuple[BodyRef, tuple[tuple[int, str], ...]]],
    memo: Memo | None = None,
    standins: Iterable[Briefing] = (),
    scheduled: frozenset[str] = frozenset(),
    now: datetime | None = None,
) -> tuple[Archive, list[SourceError]]:
    """Model the archive from briefings, their site paths and bodies with their site links (by
    file path); return it with every problem found across files (none: it may be published).

    `memo` keeps what is slow to work out (related briefings) for the next build. `standins`
    (of files with field errors) are not modelled, but their names are checked with the rest.
    `scheduled` names the briefings given although dated after the build's clock (the preview
    shows them); `now`, the build's clock, decides which are recent (for the news sitemap).
    """
    ordered = newest_first(briefings)
    named = [*ordered, *standins]
    merge = Merge(config, named)
    columns = [merge.column(kind, named) for kind in KINDS]  # each briefing's names of a kind, in `named` order
    refs: list[Callable[[tuple[str, ...]], tuple[Ref, ...]]] = []
    errors: list[SourceError] = []
    given = {kind.name: Counter(itertools.chain.from_iterable(col)) for kind, col in zip(KINDS, columns, strict=True)}
    for kind, column in zip(KINDS, columns, strict=True):
        names, problems = _term_names(config, kind, named, column, given[kind.name], memo)
        slugs = config.term_slugs(kind.name)  # site.yaml fixes some (regions, stories it lists)
        if kind.vocabulary != "site":
            errors += problems + _check_slugs(kind, names.values(), named, merge.names_in, slugs)
        refs.append(_refs(names, slugs, itertools.chain.from_iterable(column)))
    errors += merge.errors
    links: dict[tuple[tuple[int, str], ...], tuple[tuple[int, str], ...]] = {}  # each equal list once, as refs
    entries = tuple(
        Entry(
            briefing=b,
            path=paths[b.path],
            body=bodies[b.path][0],
            site_links=links.setdefault(bodies[b.path][1], bodies[b.path][1]),
            refs=tuple(ref(names) for ref, names in zip(refs, written, strict=True)),
        )
        for b, *written in zip(ordered, *columns, strict=False)  # stand-ins, last in `named`, are not placed
    )
    errors += moved_url_errors(config, entries)
    terms = {kind.name: _kind_terms(config, kind, entries) for kind in KINDS}
    related, ranking = related_entries(entries, memo, _written_tags(entries))
    archive = Archive(
        config=config,
        entries=entries,
        terms=terms,
        years=_periods(entries, _year_of),
        months=_periods(entries, _month_of),
        related=related,
        given_way=merge.given_way(ordered, terms),
        scheduled=scheduled,
        recent=recent_entries(entries, now) if now else (),
        names={kind.name: dict(given[kind.name]) for kind in KINDS if kind.vocabulary != "site"},
        ranking=ranking,
    )
    return archive, errors


def entries_of(archive: Archive, files: AbstractSet[str]) -> dict[str, Entry]:
    """Return the entries of these files (by file path), found in a pass that runs in C."""
    return {entry.file: entry for entry in itertools.compress(archive.entries, _of_files(archive, files))}


def _of_files(archive: Archive, files: AbstractSet[str]) -> Iterator[bool]:
    return map(files.__contains__, map(file_of, archive.entries))


def with_edits(archive: Archive, edits: Mapping[str, Entry], now: datetime) -> Archive | None:
    """Return the archive with the entries of `edits` (by file path) in place of the entries of
    those files, each in the same place of every listing; None when one is not sorted where its
    old self was (an edited title breaks a tie in the order differently).

    This is sound only for edits that keep the model's shape (`stages.model_shape`): each new
    entry has the old one's URL and terms, and the listings are those the old briefings made
    (the briefings shown before their date too). `now` is the build's clock.
    """
    swap: dict[int, Entry] = {}  # by the id of the entry it replaces
    entries = list(archive.entries)
    # Passes over 100,000 entries and their listings run in C (map, compress): 0.23 s in Python loops.
    places = list(itertools.compress(range(len(entries)), _of_files(archive, edits.keys())))
    old = [entries[index] for index in places]
    for index in places:
        swap[id(entries[index])] = entries[index] = edits[entries[index].file]
    for index in places:
        around = entries[max(index - 1, 0) : index + 2]
        if any(place_of(a.briefing) >= place_of(b.briefing) for a, b in itertools.pairwise(around)):
            return None

    replaced = swap.keys()

    def swapped(listed: tuple[Entry, ...]) -> tuple[Entry, ...]:
        return listed if replaced.isdisjoint(map(id, listed)) else tuple(map(swap.get, map(id, listed), listed))

    def swapped_in_order(listed: tuple[Entry, ...]) -> tuple[Entry, ...]:
        """`swapped` for a listing, which is in the archive's order: each old entry is found by
        bisection, not by looking at each of its entries (at 100,000 a briefing's listings hold 180,000)."""
        found = [bisect.bisect_left(listed, place_of(o.briefing), key=_place) for o in old]
        if not all(at < len(listed) and listed[at] is o for at, o in zip(found, old, strict=True)):
            return swapped(listed)  # one is not in it, or not where the order puts it: looked for one by one
        changed = list(listed)
        for at in found:
            changed[at] = swap[id(listed[at])]
        return tuple(changed)

    # The listings that hold an old entry are those its links name (terms are made from them)
    # and its date's: only those are looked through (at 100,000, all of them hold 3 million entries).
    named = {(kind.name, ref.slug) for e in old for kind in KINDS for ref in e.terms(kind)}
    dated = {period(e) for e in old for period in (_year_of, _month_of)}

    def listed_in(listed: tuple[_Listing, ...], holds: Callable[[_Listing], bool]) -> tuple[_Listing, ...]:
        return tuple(_with(listing, swapped_in_order) if holds(listing) else listing for listing in listed)

    terms = {kind: listed_in(listed, lambda t: (t.kind, t.slug) in named) for kind, listed in archive.terms.items()}
    by_slug = {(kind, term.slug): term for kind, listed in terms.items() for term in listed}
    ordered = tuple(entries)
    related = dict(archive.related)
    related.update((path, swapped(related[path])) for path in _holding(related, old))
    return replace(
        archive,
        entries=ordered,
        terms=terms,
        years=listed_in(archive.years, lambda p: (p.year, p.month) in dated),
        months=listed_in(archive.months, lambda p: (p.year, p.month) in dated),
        related=related,
        given_way=tuple(replace(way, term=by_slug[way.term.kind, way.term.slug]) for way in archive.given_way),
        recent=recent_entries(ordered, now),
    )


def _holding(lists: Mapping[str, tuple[Entry, ...]], old: Sequence[Entry]) -> list[str]:
    """Return the keys of the lists that hold one of the `old` entries (the same objects), found
    in passes over every entry of every list that run in C (100,000 related lists: a call a
    list took 0.1 s). A pass per entry compares identities, twice as fast as making every id."""
    ends = list(itertools.accumulate(map(len, lists.values())))  # where each list ends in the flat run
    keys = list(lists)
    flat = lists.values()
    hits: Iterable[int]  # places in the flat run of an entry that is one of `old`
    if len(old) <= SAME_PASSES:
        found = (map(operator.is_, itertools.chain.from_iterable(flat), itertools.repeat(o)) for o in old)
        hits = itertools.chain.from_iterable(itertools.compress(itertools.count(), same) for same in found)
    else:
        ids = {id(o) for o in old}
        every = map(id, itertools.chain.from_iterable(flat))
        hits = itertools.compress(itertools.count(), map(ids.__contains__, every))
    return list(dict.fromkeys(keys[bisect.bisect_right(ends, at)] for at in hits))


def _with(listing: _Listing, swapped: Callable[[tuple[Entry, ...]], tuple[Entry, ...]]) -> _Listing:
    """Return a term or period with its entries swapped (itself when none is)."""
    entries = swapped(listing.entries)
    return listing if entries is listing.entries else replace(listing, entries=entries)


def with_terms(
    archive: Archive,
    edits: Mapping[str, Entry],
    now: datetime,
    memo: Memo | None = None,
    added: Mapping[str, Entry] | None = None,
    removed: AbstractSet[str] = frozenset(),
    rejoining: AbstractSet[str] = frozenset(),
    first_step: bool = False,
    changed_before: AbstractSet[str] = frozenset(),
) -> Archive | None:
    """Return the archive with the entries of `edits` (by file path) in place of the entries of
    those files, as `with_edits` does, and each listed under the names its briefing gives now
    (a retag, another region or source): the terms it left and joined, the names it gives way
    (a tag that is a country's name: `Merge`), the related briefings around it ranked again.
    The entries of `added` (by file path; their `refs` are worked out here) join the archive
    in their places, and those of the `removed` files leave it, as a clean build would list
    them; a file in both *moved* (a new date, slug or link): it leaves, then joins anew. None
    when what the edits give would change more than their own entries' terms (a term's
    spelling, or the names other briefings give way to: a country written in `countries:`), or
    a clean build would refuse it (a name that looks misspelt, or takes another's slug, or is a
    region's; an added briefing at another's URL or alias; a body linking to a removed one, or
    to a moved one's old URL), or `with_edits` gives none. Links to the site paths `rejoining`
    are not to a removed briefing: those of briefings a next step adds (moved ones). The
    `first_step` of two leaves the related lists to the next, which ranks them as if the files
    the first changed (`changed_before`: edited, added, moved) changed in it (from the ranking
    the first's were made from: `related_patched`), and remembers none of its spellings' near
    misses (the next step's are those of the names the archive ends with).

    Sound only for edits whose records have the frame the model was made from (`records.shaped`:
    the same briefings and URLs, the clock where it was; `stages.patched_model` checks it),
    but for the files added, removed and moved, so that only their names changed. Each new entry's
    terms are worked out as `build_archive` works them out, from `Archive.names` updated with
    the edits (how often each name is given): the same spelling of each term, slugs, "did you
    mean" and related briefings.
    """
    config, added = archive.config, added or {}
    if moved := removed & added.keys():  # each step gives the model a clean build makes of its files
        staying = {path: entry for path, entry in added.items() if path not in moved}
        rejoining = {href(config.base_path, added[path].path) for path in moved}
        left = with_terms(archive, edits, now, memo, staying, removed, rejoining, first_step=True)
        if left is None:
            return None
        firsts = edits.keys() | added.keys()
        return with_terms(left, {}, now, memo, {path: added[path] for path in moved}, changed_before=firsts)
    old = entries_of(archive, edits.keys() | removed | added.keys())
    if old.keys() != edits.keys() | removed or not archive.names:
        return None
    # (was, is) of each file: None for a briefing that is not there before, or after.
    pairs = [
        *((old[path].briefing, entry.briefing) for path, entry in edits.items()),
        *((None, entry.briefing) for entry in added.values()),
        *((old[path].briefing, None) for path in sorted(removed)),
    ]
    targets = [kind for kind in KINDS if any(other.merges_into == kind.name for other in KINDS)]
    # The names every briefing gives way to (`Merge`) must stay those the archive lists.
    listed = {kind.name: archive.names.get(kind.name, {}).keys() for kind in targets}
    if not all(_gives_way_alike(config, kind, listed[kind.name], a, b) for kind in targets for a, b in pairs):
        return None
    # Each briefing's names once merged: a tag that is a country's name is the country. What each
    # gives way to is what the full build's `Merge` finds: the names of the kinds given way to
    # are as they were, here (those the archive lists) and in every other briefing.
    merges = {_path_of(a, b): (_merged(config, a, listed), _merged(config, b, listed)) for a, b in pairs}
    if any(merge.errors for pair in merges.values() for merge in pair):
        return None  # (a tag that is a region's name)

    def names(merge: Merge, kind: Kind, briefing: Briefing | None) -> tuple[str, ...]:
        return merge.names_in(kind, briefing) if briefing is not None else ()

    def differ(kind: Kind, a: Briefing | None, b: Briefing | None) -> bool:
        before, after = merges[_path_of(a, b)]
        if a is None or b is None:
            return bool(names(before, kind, a) or names(after, kind, b))
        return bool(getattr(a, kind.field) != getattr(b, kind.field)) or names(before, kind, a) != names(after, kind, b)

    changed = [kind for kind in KINDS if any(differ(kind, a, b) for a, b in pairs)]
    renamed = [(a, b) for a, b in pairs if any(differ(kind, a, b) for kind in changed)]
    counts = dict(archive.names)
    entries = {**edits, **{path: replace(entry, refs=((),) * len(KINDS)) for path, entry in added.items()}}
    for kind in changed:
        place = _PLACE[kind.name]
        used = Counter(counts.get(kind.name, {}))
        for a, b in renamed:
            before, after = merges[_path_of(a, b)]
            used.subtract(names(before, kind, a))
            used.update(names(after, kind, b))
        used = +used  # without the names no briefing gives now
        spelt, meant = _spellings(config, kind, used, None if first_step else memo)
        shown = {fold(term.name): term.name for term in archive.terms[kind.name]}
        slugs = config.term_slugs(kind.name)
        respelt = any(spelt.get(folded, name) != name for folded, name in shown.items())
        if meant or respelt or _shared_slugs(spelt.values(), slugs):
            return None
        if kind.vocabulary != "site":
            counts[kind.name] = dict(used)
        given = {b.path: merges[b.path][1].names_in(kind, b) for _, b in renamed if b is not None}
        ref = _refs(spelt, slugs, itertools.chain.from_iterable(given.values()))
        for path, written in given.items():
            refs = list(entries[path].refs)
            refs[place] = ref(written)
            entries[path] = replace(entries[path], refs=tuple(refs))
    patched = with_edits(archive, {path: entries[path] for path in edits}, now)
    if patched is None:
        return None
    if added or removed:
        patched = _with_files(
            patched, [entries[path] for path in added], [old[path] for path in removed], now, rejoining
        )
        if patched is None:
            return None
    terms = dict(patched.terms)
    moves = [(old.get(path), entries.get(path)) for path in (_path_of(a, b) for a, b in renamed)]
    for kind in changed:
        terms[kind.name] = _moved_terms(config, kind, terms[kind.name], moves)
    given_way = _given_way(patched, terms, [(merges[_path_of(a, b)], a, b) for a, b in renamed])
    if given_way is None:
        return None
    related, ranking = patched.related, patched.ranking  # a first step's: those of the archive before it
    if (BY_NAME["tags"] in changed or added or removed) and not first_step:
        ranked = related_patched(archive, patched, edits.keys() | added.keys() | changed_before, memo)
        related, ranking = ranked or related_entries(patched.entries, memo, _written_tags(patched.entries))
    return replace(patched, terms=terms, given_way=given_way, related=related, names=counts, ranking=ranking)


def _path_of(a: Briefing | None, b: Briefing | None) -> str:
    """Return the file of a briefing before or after a change (the same file)."""
    briefing = b or a
    assert briefing is not None
    return briefing.path


def _merged(config: SiteConfig, briefing: Briefing | None, listed: Mapping[str, Iterable[str]]) -> Merge:
    """Return the names of one briefing (or none) merged against the names the archive lists (`Merge`)."""
    return Merge(config, [briefing] if briefing is not None else [], listed)


def _gives_way_alike(
    config: SiteConfig, kind: Kind, listed: Iterable[str], a: Briefing | None, b: Briefing | None
) -> bool:
    """Return True when a change from `a` to `b` (either None: added, removed) leaves the names of
    `kind` that other kinds give way to (`Merge`: those known, or written as that kind) as they
    were: an edit writes the same ones; an added briefing, only names known or listed; a removed
    one, only names known."""
    if a is not None and b is not None:
        return bool(getattr(a, kind.field) == getattr(b, kind.field))
    known = {fold(name) for name in (*BUILTIN.get(kind.name, ()), *config.known_names(kind.known))}
    if b is not None:
        known.update(map(fold, listed))
    written = names_of(kind, b) if b is not None else names_of(kind, a) if a is not None else ()
    return all(fold(name) in known for name in written)


def _with_files(
    archive: Archive, added: list[Entry], removed: list[Entry], now: datetime, rejoining: AbstractSet[str]
) -> Archive | None:
    """Return the archive with the `added` entries (their terms worked out) placed in its order and
    timeline, and the `removed` ones taken out of them (their terms are left to `_moved_terms`);
    None when a clean build would refuse the result: an added briefing at another's URL or
    alias, or a body linking to a removed one (but at the site paths `rejoining`)."""
    gone = {id(entry) for entry in removed}
    entries = [entry for entry in archive.entries if id(entry) not in gone]
    urls = {entry.path for entry in entries}
    if len(urls | {entry.path for entry in added}) != len(urls) + len(added):
        return None  # two briefings at one URL: the full build says which
    for entry in added:
        bisect.insort(entries, entry, key=_place)
    ordered = tuple(entries)
    if added and moved_url_errors(archive.config, ordered):
        return None
    if linking_to(ordered, {href(archive.config.base_path, entry.path) for entry in removed} - rejoining):
        return None  # a link to a briefing no more: the full build says where
    return replace(
        archive,
        entries=ordered,
        years=_periods_with(archive.years, _year_of, added, removed),
        months=_periods_with(archive.months, _month_of, added, removed),
        scheduled=archive.scheduled - {entry.briefing.path for entry in removed},
        recent=recent_entries(ordered, now),
    )


def linking_to(entries: Iterable[Entry], targets: AbstractSet[str]) -> list[Entry]:
    """Return the entries whose body links to one of the `targets` (site paths under the base path)."""
    if not targets:
        return []
    # Each body's hrefs are read without making the body: a delete at 100,000 made every one.
    return [entry for entry in entries if any(link.partition("#")[0] in targets for link in entry.body_hrefs)]


def _periods_with(
    periods: tuple[Period, ...], key: Callable[[Entry], tuple[int, int]], added: list[Entry], removed: list[Entry]
) -> tuple[Period, ...]:
    """Return the periods with the `added` entries in theirs (a new period placed oldest first) and
    the `removed` ones out of theirs (a period left empty goes), as `_periods` would make them."""
    touched = {key(entry) for entry in (*added, *removed)}
    grouped = {(p.year, p.month): list(p.entries) for p in periods if (p.year, p.month) in touched}
    gone = {id(entry) for entry in removed}
    for at in touched:
        grouped[at] = [entry for entry in grouped.get(at, ()) if id(entry) not in gone]
    for entry in added:
        bisect.insort(grouped[key(entry)], entry, key=_place)
    kept = {(p.year, p.month): p for p in periods if (p.year, p.month) not in touched}
    made = {at: Period(*at, tuple(listed)) for at, listed in grouped.items() if listed}
    return tuple((kept | made)[at] for at in sorted(kept.keys() | made.keys()))


def _given_way(
    patched: Archive,
    terms: dict[str, tuple[Term, ...]],
    renamed: list[tuple[tuple[Merge, Merge], Briefing | None, Briefing | None]],
) -> tuple[GivenWay, ...] | None:
    """Return the names given way (`Merge.given_way`) once the `renamed` briefings (each with the
    merges of its old and new self; no old one for a briefing added, no new one for one removed)
    give what they give now, each with its term among `terms`: as many more or fewer briefings
    giving it, and the newest of them (looked for again, in the archive's order, when the newest
    gave it up); None where they do not add up."""
    ways = {(way.kind, way.slug): way for way in patched.given_way}
    joined: dict[tuple[str, str], list[Briefing]] = defaultdict(list)  # by (kind, folded name)
    left: dict[tuple[str, str], set[str]] = defaultdict(set)
    for (was, now), a, b in renamed:
        if b is not None:
            for key in now.given.keys() - was.given.keys():
                joined[key].append(b)
        if a is not None:
            for key in was.given.keys() - now.given.keys():
                left[key].add(a.path)
    changed = {(kind, slugify(folded)): (kind, folded) for kind, folded in joined.keys() | left.keys()}
    if len(changed) != len(joined.keys() | left.keys()):
        return None  # two names at one slug: the full build says so
    origins = entries_of(patched, {ways[key].origin for key in changed if key in ways})
    by_slug = {(kind, term.slug): term for kind, listed in terms.items() for term in listed}
    by_fold = {kind: {fold(t.name): t for t in terms[kind]} for kind in {k.merges_into for k in KINDS} - {""}}
    found = {key: way for key, way in ways.items() if key not in changed}
    for key, (kind, folded) in changed.items():
        way = ways.get(key)
        count = (way.given if way else 0) + len(joined[kind, folded]) - len(left[kind, folded])
        if count < 0 or (way is None and left[kind, folded]):
            return None
        if count == 0:
            continue
        if way is not None and way.origin not in left[kind, folded]:  # the newest giver still gives it
            if way.origin not in origins:
                return None
            origin = min([*joined[kind, folded], origins[way.origin].briefing], key=place_of).path
        else:  # the newest that gives it now
            source = BY_NAME[kind]
            givers = (e.briefing for e in patched.entries if folded in map(fold, names_of(source, e.briefing)))
            newest = next(givers, None)
            if newest is None:
                return None
            origin = newest.path
        term = by_fold[BY_NAME[kind].merges_into].get(folded)
        if term is None:
            return None
        found[key] = GivenWay(kind, key[1], term, count, origin)
    for key, way in found.items():
        term = by_slug.get((way.term.kind, way.term.slug))
        if term is None:
            return None
        found[key] = replace(way, term=term)
    return tuple(found[key] for key in sorted(found))


def _moved_terms(
    config: SiteConfig, kind: Kind, terms: tuple[Term, ...], moves: list[tuple[Entry | None, Entry | None]]
) -> tuple[Term, ...]:
    """Return a kind's terms with each entry moved from the terms of its old self to those of its
    new self (`moves`: old and new entry; the new one already in the old one's place in each
    listing; no old one for an entry added, no new one for one removed), as `_kind_terms` would
    list them: a term no entry has left out (but site.yaml's own), a new one placed A-Z, each
    term's link worked out again from its entries."""
    place = _PLACE[kind.name]
    touched = {ref.slug for pair in moves for entry in pair if entry is not None for ref in entry.refs[place]}
    made = {term.slug: term for term in terms}
    members = {slug: list(made[slug].entries) for slug in touched if slug in made}  # the others stay as they are
    for before, entry in moves:
        left = {ref.slug for ref in before.refs[place]} if before is not None else set()
        listed = entry or before  # what the listings hold: the new one, or the one removed
        assert listed is not None
        for ref in entry.refs[place] if entry is not None else ():
            if ref.slug in left:
                left.discard(ref.slug)
            elif ref.slug in members:
                bisect.insort(members[ref.slug], listed, key=_place)
            else:
                members[ref.slug] = [listed]
                made[ref.slug] = Term(kind.name, ref.name, ref.slug, ())
        for slug in left:
            members[slug] = [e for e in members[slug] if e is not listed]
    described = {fold(name): text for name, text in config.term_descriptions(kind.name).items()}
    moved = []
    for slug, term in made.items():
        if slug not in touched:
            moved.append(term)
        elif members[slug] or kind.vocabulary == "site":
            url = term.url if kind.vocabulary == "site" else _term_url(kind, members[slug])
            description = term.description if term.entries else described.get(fold(term.name), "")
            moved.append(replace(term, entries=tuple(members[slug]), url=url, description=description))
    if kind.vocabulary == "site":
        return tuple(moved)  # site.yaml's order
    return tuple(sorted(moved, key=lambda term: (fold(term.name), term.slug)))


def recent_entries(entries: tuple[Entry, ...], now: datetime) -> tuple[Entry, ...]:
    """Return the entries published in the two days before `now` (`clock.NEWS_WINDOW`), newest first,
    at most NEWS_MOST (Google News reads no more); `entries` are newest first."""
    published = itertools.dropwhile(lambda e: e.briefing.date > now, entries)  # shown before their date
    recent = itertools.takewhile(lambda e: e.briefing.date > now - NEWS_WINDOW, published)
    return tuple(itertools.islice(recent, NEWS_MOST))


def story_slug(config: SiteConfig, name: str) -> str:
    """Return the slug of a story's page from its name as written: site.yaml's for a story it
    lists, else one made from the name."""
    fixed = {fold(story.name): story.slug for story in config.stories}
    return fixed.get(fold(name)) or slugify(name)


def _ranked_by(briefing: Briefing) -> tuple[float, tuple[str, ...]]:
    """Return what a briefing's related entries are ranked by: its moment and the slugs of its
    tags as written (each as `_written_tags` gives them)."""
    return briefing.moment, tuple(map(slugify, getattr(briefing, BY_NAME["tags"].field)))


def _written_tags(entries: tuple[Entry, ...]) -> list[tuple[str, ...]]:
    """Return the slugs of each entry's tags as written, a tag that became a country included:
    that a briefing's "Russia" is listed as a country does not make it less related."""
    written = list(map(operator.attrgetter(f"briefing.{BY_NAME['tags'].field}"), entries))  # each a tuple: `names_of`
    slugs = {name: slugify(name) for name in set(itertools.chain.from_iterable(written))}  # a few hundred
    return list(map(tuple, map(functools.partial(map, slugs.__getitem__), written)))  # in C: 100,000 entries


def names_of(kind: Kind, briefing: Briefing) -> tuple[str, ...]:
    """Return the names a briefing gives for one kind, as written (a source by its name)."""
    return _as_names(kind, getattr(briefing, kind.field))


def _as_names(kind: Kind, value: Any) -> tuple[str, ...]:
    """Return the names a kind's field value gives: its list, or its one name (a source's name)."""
    if kind.many:
        return value  # type: ignore[no-any-return]
    if value is None:  # an optional field not given (a story)
        return ()
    return (value if type(value) is str else value.name,)


Names = Callable[[Kind, Briefing], tuple[str, ...]]


class Merge:
    """Each briefing's names by kind, with the names a kind gives way to moved to that kind (see
    `Kind.merges_into`): a tag that is a country's name, known or used as one, is that country.
    A tag that is a region's name is an error (`errors`): a briefing has one region, so it cannot
    be listed there as a country can."""

    def __init__(
        self, config: SiteConfig, briefings: list[Briefing], listed: Mapping[str, Iterable[str]] | None = None
    ) -> None:
        """Merge the names of `briefings`; `listed` (by kind name) are names used elsewhere (the
        preview merges one edited briefing against the names its last build listed)."""
        self.moved: dict[str, dict[str, tuple[str, ...]]] = {}  # by file path, the names of kinds that changed
        self.given: dict[tuple[str, str], list[str]] = defaultdict(list)  # (kind, folded name) -> files
        self.errors: list[SourceError] = []
        folded: dict[str, str] = {}
        regions = {fold(region.name): region.name for region in config.regions}
        for kind in KINDS:
            if not kind.merges_into:
                continue
            target = BY_NAME[kind.merges_into]
            known = (*BUILTIN.get(target.name, ()), *config.known_names(target.known))
            used = {name for b in briefings for name in names_of(target, b)}  # folded once per spelling
            used.update((listed or {}).get(target.name, ()))
            into = {fold(name) for name in (*known, *used)}
            for b in briefings:
                own = names_of(kind, b)
                folds = [folded.get(name) or folded.setdefault(name, fold(name)) for name in own]
                self.errors += [_like_a_region(kind, b, regions[f]) for f in folds if f in regions]
                given = [name for name, f in zip(own, folds, strict=True) if f in into]
                if given:
                    names = self.moved.setdefault(b.path, {})
                    names[kind.name] = tuple(name for name in own if folded[name] not in into)
                    names[target.name] = distinct((*names.get(target.name, names_of(target, b)), *given))
                    for name in given:
                        self.given[kind.name, folded[name]].append(b.path)

    def names_in(self, kind: Kind, briefing: Briefing) -> tuple[str, ...]:
        """Return the names a briefing has for one kind once merged."""
        changed = self.moved.get(briefing.path)
        return changed[kind.name] if changed and kind.name in changed else names_of(kind, briefing)

    def column(self, kind: Kind, briefings: list[Briefing]) -> list[tuple[str, ...]]:
        """Return `names_in(kind, b)` for each of `briefings`, in order (in bulk: a call per name is dear)."""
        column = [_as_names(kind, value) for value in map(operator.attrgetter(kind.field), briefings)]
        if self.moved:
            for index, briefing in enumerate(briefings):
                changed = self.moved.get(briefing.path)
                if changed and kind.name in changed:
                    column[index] = changed[kind.name]
        return column

    def given_way(self, ordered: list[Briefing], terms: dict[str, tuple[Term, ...]]) -> tuple[GivenWay, ...]:
        """Return the names given way to, each with the term it is listed as; `ordered`: newest first."""
        place = {b.path: index for index, b in enumerate(ordered)}
        by_name = {kind: {fold(t.name): t for t in terms[kind]} for kind in {k.merges_into for k in KINDS} - {""}}
        found = []
        for (kind, folded), paths in self.given.items():
            listed = [path for path in paths if path in place]  # stand-ins are not listed
            if not listed:
                continue
            term = by_name[BY_NAME[kind].merges_into][folded]
            newest = min(listed, key=place.__getitem__)
            found.append(GivenWay(kind, slugify(folded), term, len(listed), newest))
        return tuple(sorted(found, key=lambda way: (way.kind, way.slug)))


def _like_a_region(kind: Kind, briefing: Briefing, region: str) -> SourceError:
    """Return the error for a name of `kind` that is a region's name: it would make a page beside the region's."""
    message = (
        f'{kind.field}: "{region}" is the name of a region, which `region:` gives; drop it from '
        f"{kind.field}, or name what it means more precisely (a place, an organisation)"
    )
    return SourceError(briefing.path, briefing.line_of(kind.field), message)


def _term_names(
    config: SiteConfig,
    kind: Kind,
    briefings: list[Briefing],
    column: list[tuple[str, ...]],
    used: Counter[str],
    memo: Memo | None = None,
) -> tuple[dict[str, str], list[SourceError]]:
    """Return the one spelling of each of a kind's names, by folded name, and the names that look
    misspelt; `column` holds each briefing's names of the kind (`Merge.column`), `used` how often each is given."""
    names, meant = _spellings(config, kind, used, memo)
    errors = [
        SourceError(
            b.path,
            b.line_of(kind.field),
            f'{kind.field}: "{name}" looks like a misspelling of "{meant[name]}"; did you mean "{meant[name]}"? '
            f'If "{name}" is right, add it to {kind.known} in site.yaml',
        )
        for b, names in (zip(briefings, column, strict=True) if meant else ())
        for name in names
        if name in meant
    ]
    return names, errors


def _spellings(
    config: SiteConfig, kind: Kind, used: Counter[str], memo: Memo | None = None
) -> tuple[dict[str, str], dict[str, str]]:
    """Return the one spelling of each of a kind's names (by folded name), given how often each
    is `used`: site.yaml's for its own lists, a known one, else the most used (then A-Z); and the
    names that look like misspellings of another (`countries.near_misses`), with that other."""
    if kind.vocabulary == "site":  # checked against site.yaml's list when each file was read
        return {fold(r.name): r.name for r in config.regions}, {}
    if kind.vocabulary == "free":
        return _display_names(used.elements()), {}
    builtin = BUILTIN.get(kind.name, ())
    meant = _near_misses(used, config.known_names(kind.known), builtin, memo, kind.name)
    known = {fold(name): name for name in (*builtin, *config.known_names(kind.known))}
    chosen = _display_names(used.elements(), preferred=set(known.values()))
    return {folded: known.get(folded, name) for folded, name in chosen.items()}, meant


def moved_url_errors(config: SiteConfig, entries: Iterable[Entry]) -> list[SourceError]:
    """Return an error for each alias or removed URL that is some briefing's URL, or claimed twice."""
    entries = list(entries)
    current = {"/" + e.path: e.file for e in entries}
    removed = {r.path: r for r in config.removed}
    claimed: dict[str, str] = {}
    errors = []
    for entry in itertools.compress(entries, map(aliases_of, entries)):  # held: no briefing made
        for alias in entry.aliases:
            problem = None
            if alias in current:
                problem = f"is the URL of {current[alias]}; an alias is an earlier URL that no briefing has now"
            elif alias in claimed:
                problem = f"is also an alias of {claimed[alias]}; keep it on one briefing"
            elif alias in removed:
                problem = "is also in site.yaml's removed list; take it off that list to redirect it here"
            claimed.setdefault(alias, entry.file)
            if problem:
                errors.append(
                    SourceError(entry.file, entry.briefing.line_of("aliases"), f'aliases: "{alias}" {problem}')
                )
    for path, withdrawn in removed.items():
        if path in current:
            owner = current[path]
            message = f'removed: "{path}" is still the URL of {owner}; take it off the list, or delete the briefing'
            errors.append(SourceError("site.yaml", withdrawn.line, message))
    return errors


def _display_names(names: Iterable[str], preferred: AbstractSet[str] = frozenset()) -> dict[str, str]:
    """Pick one spelling per folded name: a preferred one, else the most used, then A-Z."""
    counts = Counter(names)
    chosen: dict[str, str] = {}
    for name in sorted(counts, key=lambda n: (n not in preferred, -counts[n], n)):
        chosen.setdefault(fold(name), name)
    return chosen


def _near_misses(
    used: Counter[str], known: Iterable[str], builtin: Iterable[str], memo: Memo | None, kind: str
) -> dict[str, str]:
    """Return `countries.near_misses`, worked out from what the last build compared with the same
    known names (`countries.near_misses_since`): it compares every name with every more used one,
    seconds at a thousand names, and an edit changes no count, an added briefing a few by one."""
    known, builtin = tuple(known), tuple(builtin)
    inputs = digest_text(repr(known), repr(builtin))
    remembered = memo.recall(f"near-misses-{kind}", inputs) if memo else None
    previous = remembered if isinstance(remembered, Compared) else None
    meant, compared = near_misses_since(previous, used, known, builtin)
    if memo and compared != previous:
        memo.remember(f"near-misses-{kind}", inputs, compared)
    return meant


def _refs(
    names: dict[str, str], slugs: dict[str, str] | None = None, written: Iterable[str] = ()
) -> Callable[[tuple[str, ...]], tuple[Ref, ...]]:
    """Return a function from names as written (of `written`) to their Refs: one Ref per display
    name, and one tuple of them per tuple of names given, each shared by every entry that uses it.

    Shared, because the model is kept between builds: 100,000 briefings in six regions held
    100,000 equal one-tuples of a region's Ref, each pickled and unpickled as an object of its own.
    """
    by_display = {display: Ref(display, (slugs or {}).get(display) or slugify(display)) for display in names.values()}
    # A stand-in's name may be none of them (a region not in site.yaml): stand-ins get no Refs.
    by_written = {name: by_display[names[folded]] for name in set(written) if (folded := fold(name)) in names}
    ref, made = by_written.__getitem__, dict[tuple[str, ...], tuple[Ref, ...]]()

    def refs(given: tuple[str, ...]) -> tuple[Ref, ...]:
        found = made.get(given)
        if found is None:
            found = made[given] = tuple(map(ref, given))
        return found

    return refs


def _check_slugs(
    kind: Kind,
    names: Iterable[str],
    briefings: list[Briefing],
    names_in: Names = names_of,
    fixed: dict[str, str] | None = None,
) -> list[SourceError]:
    """Return an error for each slug that two different names share (`fixed`: slugs site.yaml gives, by name)."""
    errors = []
    for slug, group in _shared_slugs(names, fixed).items():
        folded = {fold(name) for name in group}
        first = next(b for b in reversed(briefings) if any(fold(n) in folded for n in names_in(kind, b)))
        spelled = " and ".join(f'"{n}"' for n in sorted(group))
        message = f"{kind.plural} {spelled} would share the URL /{kind.name}/{slug}/; rename one"
        errors.append(SourceError(first.path, first.line_of(kind.field), message))
    return errors


def _shared_slugs(names: Iterable[str], fixed: dict[str, str] | None = None) -> dict[str, set[str]]:
    """Return the names of each slug that two or more of `names` share (`fixed`: slugs site.yaml gives)."""
    fixed = fixed or {}
    by_slug: dict[str, set[str]] = defaultdict(set)
    for name in names:
        by_slug[fixed.get(name) or slugify(name)].add(name)
    return {slug: group for slug, group in by_slug.items() if len(group) > 1}


def _kind_terms(config: SiteConfig, kind: Kind, entries: tuple[Entry, ...]) -> tuple[Term, ...]:
    """Return a kind's terms: site.yaml's list in its order (each one, even with no briefings), else A-Z."""
    place = _PLACE[kind.name]
    if kind.vocabulary == "site":
        by_slug: dict[str, list[Entry]] = defaultdict(list)
        for entry in entries:
            by_slug[entry.refs[place][0].slug].append(entry)
        return tuple(Term(kind.name, r.name, r.slug, tuple(by_slug[r.slug]), r.description) for r in config.regions)
    terms = _terms(kind.name, entries, place)
    if described := {fold(name): text for name, text in config.term_descriptions(kind.name).items()}:
        terms = tuple(replace(t, description=described.get(fold(t.name), "")) for t in terms)
    if kind.many or not any(getattr(getattr(e.briefing, kind.field), "url", None) for e in entries):
        return terms  # (a list of names has no links)
    return tuple(replace(t, url=_term_url(kind, t.entries)) for t in terms)


def _term_url(kind: Kind, entries: Iterable[Entry]) -> str | None:
    """Return the link of a term of a kind whose names have links (a source): its most cited URL."""
    if kind.many:
        return None
    return _most_common(getattr(getattr(e.briefing, kind.field), "url", None) for e in entries)


def _terms(kind: str, entries: tuple[Entry, ...], place: int) -> tuple[Term, ...]:
    """Group entries by their terms at `place` of `Entry.refs`, A-Z by name (then slug)."""
    grouped: dict[int, list[Entry]] = defaultdict(list)  # by the Ref's identity: one Ref per term (`_refs`)
    refs: dict[int, Ref] = {}
    for entry in entries:
        for ref in entry.refs[place]:
            grouped[id(ref)].append(entry)
            refs[id(ref)] = ref
    ordered = sorted(refs.values(), key=lambda ref: (fold(ref.name), ref.slug))
    return tuple(Term(kind, ref.name, ref.slug, tuple(grouped[id(ref)])) for ref in ordered)


def _most_common(values: Iterable[str | None]) -> str | None:
    counts = Counter(v for v in values if v)
    return min(counts, key=lambda v: (-counts[v], v)) if counts else None


def _year_of(entry: Entry) -> tuple[int, int]:
    """Return the year an entry is listed under, as a `Period`'s (year, 0)."""
    return entry.briefing.date.year, 0


def _month_of(entry: Entry) -> tuple[int, int]:
    """Return the month an entry is listed under, as a `Period`'s (year, month)."""
    return entry.briefing.date.year, entry.briefing.date.month


def _periods(entries: tuple[Entry, ...], key: Callable[[Entry], tuple[int, int]]) -> tuple[Period, ...]:
    """Group entries by calendar period as written in front matter, oldest period first."""
    grouped: dict[tuple[int, int], list[Entry]] = defaultdict(list)
    for entry in entries:
        grouped[key(entry)].append(entry)
    return tuple(Period(year, month, tuple(grouped[(year, month)])) for year, month in sorted(grouped))


RANKING_FORMAT = 2  # the layout of the `Ranking` the cache keeps (its memo slot's inputs)


@dataclass(frozen=True)
class Ranking:
    """The related entries of each entry (`related_places`), with what they were worked out from:
    each entry's file path, moment and tag slugs, in the archive's order. The cache keeps the
    last build's, so that the next ranks again only around the entries that changed (`reranked`)."""

    paths: list[str]
    moments: list[float]
    tags: list[tuple[str, ...]]
    ranked: list[tuple[int, ...]]  # places in the same order
    token: bytes = b""  # the digest of what it is worked out from (`ranking_token`): an archive names it so


def ranking_token(paths: list[str], moments: list[float], tags: list[tuple[str, ...]]) -> bytes:
    """Return the digest of what a ranking is worked out from (`Ranking.token`): about 30 ms at 100,000."""
    return digest_text("\0".join(paths), array("d", moments).tobytes(), "\0".join(map("\1".join, tags)))


Related = tuple[dict[str, tuple[Entry, ...]], bytes]  # the related entries by entry path, the ranking's token


def related_entries(
    entries: tuple[Entry, ...], memo: Memo | None = None, tags: list[tuple[str, ...]] | None = None
) -> Related:
    """Return 3-4 related entries per entry (most shared tags, then nearest in time, then newest),
    and the token of the ranking they come from (`Ranking.token`).

    They depend only on each entry's moment and tags (its tags' slugs, or `tags`), in order:
    with a `memo`, an edit that changes neither (a title, a body) reuses the last build's ranking,
    and one that does (a retag, a new briefing) ranks again only the entries around it.
    """
    moments = list(map(_moment_of, entries))
    tags = tags if tags is not None else [tuple(tag.slug for tag in entry.tags) for entry in entries]
    paths = list(map(file_of, entries))
    kept = memo.recall("related", RANKING_FORMAT) if memo else None
    before = kept if isinstance(kept, Ranking) else None
    if before is not None and (before.paths, before.moments, before.tags) == (paths, moments, tags):
        ranking = before
    else:
        updated = reranked(before, paths, moments, tags) if before is not None else None
        ranked = updated if updated is not None else related_places(moments, tags)
        ranking = _remembered(memo, paths, moments, tags, ranked)
    related = map(tuple, map(functools.partial(map, entries.__getitem__), ranking.ranked))  # in C: 100,000 entries
    return dict(zip(map(entry_path, entries), related, strict=True)), ranking.token


def related_patched(before: Archive, patched: Archive, changed: AbstractSet[str], memo: Memo | None) -> Related | None:
    """Return what `related_entries(patched.entries, ...)` returns, worked out from the ranking the
    memo keeps when `before`'s related lists were made from it (`Archive.ranking`), without making
    every briefing: each entry's moment and tags are the kept ones, but for the `changed` files
    (edited or added since `before`: their entries are new), read from their briefings. The related
    lists of the entries no change is near, that hold no changed entry, are `patched`'s. None when
    the memo keeps another ranking.
    """
    if memo is None or not before.ranking:
        return None
    kept = memo.recall(KEPT_RANKING, (RANKING_FORMAT, before.ranking))  # the kept model's (a miss reads no value)
    if not isinstance(kept, Ranking):
        kept = memo.recall("related", RANKING_FORMAT)  # the last build's: the preview's model is that build's
    if not isinstance(kept, Ranking) or kept.token != before.ranking:
        return None
    entries = patched.entries
    paths = list(map(file_of, entries))
    olds = None  # each entry's old place, when the files moved
    if paths == kept.paths:  # the same files in the same places (a retag): found in C
        moments, tags = list(kept.moments), list(kept.tags)
        for index in itertools.compress(range(len(paths)), map(changed.__contains__, paths)):
            moments[index], tags[index] = _ranked_by(entries[index].briefing)
    else:  # by its old place, but for the files changed or new (at `gone`): for 100,000, 27 ms (41 as a loop)
        gone = len(kept.paths)
        olds = _old_places(kept.paths, paths)
        moments, tags = list(map([*kept.moments, 0.0].__getitem__, olds)), list(map([*kept.tags, ()].__getitem__, olds))
        fresh = map(operator.or_, map(gone.__eq__, olds), map(changed.__contains__, paths))
        for index in itertools.compress(range(len(paths)), fresh):
            moments[index], tags[index] = _ranked_by(entries[index].briefing)
    found = _reranked(kept, paths, moments, tags, olds=olds)
    if found is None:
        return related_entries(entries, memo, tags)
    ranked, near = found
    ranking = _remembered(memo, paths, moments, tags, ranked)
    # The lists made again: those ranked again, and those that hold a changed entry or are its own
    # (its entry is a new object, maybe at a new path: a moved one's), found in C.
    at = set(itertools.compress(range(len(paths)), map(changed.__contains__, paths)))
    holding = itertools.compress(range(len(ranked)), map(operator.not_, map(at.isdisjoint, ranked)))
    keys = list(map(entry_path, entries))
    related = dict(zip(keys, map(patched.related.get, keys), strict=True))
    for index in near.union(at, holding):
        related[keys[index]] = tuple(map(entries.__getitem__, ranked[index]))
    return related, ranking.token


def _remembered(
    memo: Memo | None,
    paths: list[str],
    moments: list[float],
    tags: list[tuple[str, ...]],
    ranked: list[tuple[int, ...]],
) -> Ranking:
    """Return the ranking worked out from these, with its token, remembered as the last build's."""
    ranking = Ranking(paths, moments, tags, ranked, ranking_token(paths, moments, tags))
    if memo:
        memo.remember("related", RANKING_FORMAT, ranking)
    return ranking


KEPT_RANKING = "related_kept"  # the memo slot of the ranking of the model the cache keeps


def keep_ranking(memo: Memo, archive: Archive) -> None:
    """Keep the ranking `archive`'s related lists were made from (the last build's, when it is) for
    the builds that patch it while it is the model the cache keeps (`related_patched`): a run of
    retags each patches the model kept before the first, while the last build's ranking is the
    last retag's."""
    kept = memo.recall("related", RANKING_FORMAT)
    if isinstance(kept, Ranking) and archive.ranking and kept.token == archive.ranking:
        memo.remember(KEPT_RANKING, (RANKING_FORMAT, kept.token), kept)


def related_places(moments: list[float], tags: list[tuple[str, ...]]) -> list[tuple[int, ...]]:
    """Return the places of the related entries of each entry, given each one's moment and tag slugs.

    Candidates are, for each tag of the entry, the RELATED_WINDOW entries nearest in time on
    either side that carry that tag; so the work grows with the archive times the tags per
    briefing, however popular a tag is. Where fewer than three share a tag, the nearest
    entries in time fill the list.
    """
    columns = _tag_columns(tags)
    return [_related(index, moments, columns, _places(columns, index, tags[index])) for index in range(len(moments))]


def reranked(
    before: Ranking, paths: list[str], moments: list[float], tags: list[tuple[str, ...]], most: float = 0.5
) -> list[tuple[int, ...]] | None:
    """Return `_reranked`'s ranking alone."""
    found = _reranked(before, paths, moments, tags, most)
    return found[0] if found is not None else None


def _reranked(
    before: Ranking,
    paths: list[str],
    moments: list[float],
    tags: list[tuple[str, ...]],
    most: float = 0.5,
    olds: list[int] | None = None,
) -> tuple[list[tuple[int, ...]], set[int]] | None:
    """Return what `related_places(moments, tags)` returns, ranking again only the entries near one
    that changed (its moment or tags, or it is new or gone), and the places of those (`near`); the
    others keep `before`'s related entries, at their new places. None when the unchanged entries
    are not in their old order (a new title breaking a tie), or more than `most` of the entries
    are near a change: then rank them all. `olds`, if known, is each entry's old place
    (`_old_places`).

    Sound because an entry's candidates are the entries within a window around it, in the
    archive's order (`_nearest`) and in each of its tags' columns (entries newest first),
    ordered by what they share, their distance in time and their place: an entry whose windows
    no changed entry enters or leaves has the same candidates, in the same order.
    """
    in_place = paths == before.paths  # the same files in the same places (a retag): found in C
    old_of: Sequence[int] = range(len(paths))  # each entry's old place (a new one's: len(before.paths))
    if in_place:
        new_of, changed = _in_place(before, moments, tags)
    else:
        new_of, changed, old_of = _moved(before, paths, moments, tags, olds)
        if any(a > b for a, b in itertools.pairwise(index for index in new_of if index >= 0)):
            return None
    columns = _tag_columns(tags)
    near = set(changed)
    for index in changed:
        near.update(range(max(0, index - RELATED_MIN), index + RELATED_MIN + 1))  # `_nearest`'s reach
        for slug, place in _places(columns, index, tags[index]):
            near.update(_seeing(columns[slug], place, len(tags[index])))
    gone = changed if in_place else [o for o, index in enumerate(new_of) if index < 0]
    if gone:
        old_columns = _old_columns(before, columns, old_of, changed, gone)
        for o in gone:
            near.update(new_of[max(0, o - RELATED_MIN) : o + RELATED_MIN + 1])
            for slug, place in _places(old_columns, o, before.tags[o]):
                near.update(new_of[n] for n in _seeing(old_columns[slug], place, len(before.tags[o])))
    near.discard(-1)
    near.intersection_update(range(len(paths)))
    if len(near) > most * len(paths):
        return None
    if in_place:  # an entry no change is near keeps its list as it was: what it ranks kept its place
        ranked = list(before.ranked)
    else:  # each list at its new place, what it ranks too (in C); those near a change are ranked again below
        by_old = list(map(tuple, map(map, itertools.repeat(new_of.__getitem__), before.ranked)))
        ranked = list(map([*by_old, ()].__getitem__, old_of))
    for index in near:
        ranked[index] = _related(index, moments, columns, _places(columns, index, tags[index]))
    return ranked, near


def _in_place(before: Ranking, moments: list[float], tags: list[tuple[str, ...]]) -> tuple[list[int], list[int]]:
    """Return each old place's new place (-1 for an entry whose moment or tags changed) and the
    places of those that changed, for the same files in the same places: in C, over 100,000 entries."""
    differs = map(operator.or_, map(operator.ne, before.moments, moments), map(operator.ne, before.tags, tags))
    changed = list(itertools.compress(range(len(moments)), differs))
    new_of = list(range(len(moments)))
    for index in changed:
        new_of[index] = -1
    return new_of, changed


def _moved(
    before: Ranking, paths: list[str], moments: list[float], tags: list[tuple[str, ...]], olds: list[int] | None
) -> tuple[list[int], list[int], list[int]]:
    """Return each old place's new place (-1 for an entry changed or gone), the new places of the
    entries changed or new, and each new place's old one (`len(before.paths)` for a file new; as
    given in `olds`, if it is), for files added, removed or moved since `before`: in passes in C,
    over 100,000 entries."""
    count = len(before.paths)
    if olds is None:
        olds = _old_places(before.paths, paths)
    # A file new meets NaN and None at `count`, which no moment or tags equal: it differs.
    was_moments, was_tags = [*before.moments, math.nan], [*before.tags, None]
    differs = list(
        map(
            operator.or_,
            map(operator.ne, map(was_moments.__getitem__, olds), moments),
            map(operator.ne, map(was_tags.__getitem__, olds), tags),
        )
    )
    changed = list(itertools.compress(range(len(paths)), differs))
    same = list(itertools.compress(range(len(paths)), map(operator.not_, differs)))
    new_at = dict(zip(map(olds.__getitem__, same), same, strict=True))
    return list(map(new_at.get, range(count), itertools.repeat(-1))), changed, olds


def _old_places(before: list[str], paths: list[str]) -> list[int]:
    """Return the place in `before` of each of the `paths`; len(before) for a file not there."""
    return list(map(dict(zip(before, range(len(before)), strict=True)).get, paths, itertools.repeat(len(before))))


def _seeing(column: list[int], place: int, taken: int) -> list[int]:
    """Return the entries of a tag's column whose candidate windows hold an entry at `place`,
    which takes at most `taken` places from there on (a slug given twice takes two)."""
    return column[max(0, place - RELATED_WINDOW) : place + taken + RELATED_WINDOW]


def _tag_columns(tags: list[tuple[str, ...]]) -> dict[str, list[int]]:
    """Return each tag's column: the places of the entries carrying it, newest first (in order)."""
    columns: dict[str, list[int]] = defaultdict(list)
    for index, slugs in enumerate(tags):
        for slug in slugs:
            columns[slug].append(index)
    return columns


def _old_columns(
    before: Ranking, columns: dict[str, list[int]], old_of: Sequence[int], changed: list[int], gone: list[int]
) -> dict[str, list[int]]:
    """Return the columns `_tag_columns(before.tags)` gives the old tags of the entries `gone`
    (changed or removed, by old place), from this ranking's `columns`, when the entries that did
    not change kept their order (`_reranked` ranks all again otherwise): such an entry carries the
    same tags at its old place (`old_of`, by new place), and an old place is that of an entry
    unchanged, or gone. For each tag, a pass in C over its column, where every column took 25 ms
    at 100,000 entries."""
    is_changed = set(changed).__contains__
    found = {}
    for slug in {slug for o in gone for slug in before.tags[o]}:
        column = list(map(old_of.__getitem__, itertools.filterfalse(is_changed, columns.get(slug, ()))))
        for o in gone:
            for _ in range(before.tags[o].count(slug)):  # as often as it gives the tag (`_tag_columns`)
                bisect.insort(column, o)
        found[slug] = column
    return found


def _places(columns: dict[str, list[int]], index: int, slugs: tuple[str, ...]) -> list[tuple[str, int]]:
    """Return (tag slug, the entry's place in that tag's column) for each tag of the entry at
    `index`: the first, for a slug it gives twice. Found by bisection, when asked: a retag's
    ranking asks for those of the few entries near it, not of every entry."""
    return [(slug, bisect.bisect_left(columns[slug], index)) for slug in slugs]


def _related(
    index: int, moments: list[float], columns: dict[str, list[int]], places: list[tuple[str, int]]
) -> tuple[int, ...]:
    """Return the places of one entry's related entries (`related_places`)."""
    moment = moments[index]
    shared: Counter[int] = Counter()
    for slug, place in places:
        column = columns[slug]
        shared.update(column[max(0, place - RELATED_WINDOW) : place + RELATED_WINDOW + 1])
    del shared[index]
    best = heapq.nsmallest(RELATED_MAX, ((-n, abs(moments[o] - moment), o) for o, n in shared.items()))
    ranked = [o for _, _, o in best]
    if len(ranked) < RELATED_MIN:
        ranked += _nearest(moments, index, exclude=set(ranked), count=RELATED_MIN - len(ranked))
    return tuple(ranked)


def _nearest(moments: list[float], index: int, exclude: set[int], count: int) -> list[int]:
    """Return up to `count` entries nearest in time (entries are sorted, so look both ways)."""
    reach = count + len(exclude)
    window = range(max(0, index - reach), min(len(moments), index + reach + 1))
    candidates = [o for o in window if o != index and o not in exclude]
    return sorted(candidates, key=lambda o: (abs(moments[index] - moments[o]), o))[:count]
