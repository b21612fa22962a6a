"""The archive model: ordering, tags, regions, sources, countries, timeline, related.

Owns turning validated briefings into the `Archive` that pages are rendered from, and
the cross-file checks (two briefings at one URL, two tags with one slug). Every sort
states its tie-breaker. May not do I/O.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from briefings.bodies import BodyRef
from briefings.config import SiteConfig
from briefings.content import Briefing
from briefings.countries import KNOWN_COUNTRIES, near_misses
from briefings.errors import BuildFailed, SourceError
from briefings.keys import Memo, digest_text
from briefings.urls import briefing_path, fold, slugify

RELATED_MAX, RELATED_MIN = 4, 3
RELATED_WINDOW = 5  # candidates per tag on each side in time


@dataclass(frozen=True)
class Ref:
    """A link from a briefing to one of its terms."""

    name: str
    slug: str


@dataclass(frozen=True)
class Entry:
    """A briefing placed in the archive: its URL path, where its body is, and term links."""

    briefing: Briefing
    path: str
    body: BodyRef
    tags: tuple[Ref, ...]
    region: Ref
    source: Ref
    countries: tuple[Ref, ...] = ()
    site_links: tuple[tuple[int, str], ...] = ()  # (line, "/path/") written in the body


@dataclass(frozen=True)
class Term:
    """A tag, region, source or country with its briefings, newest first."""

    kind: str  # "tags", "regions", "sources" or "countries"
    name: str
    slug: str
    entries: tuple[Entry, ...]
    description: str = ""
    url: str | None = None


@dataclass(frozen=True)
class Period:
    """A year (month 0) or a month of the timeline, with its briefings newest first."""

    year: int
    month: int
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class Archive:
    """Everything pages are made from. `entries` are newest first."""

    config: SiteConfig
    entries: tuple[Entry, ...]
    tags: tuple[Term, ...]  # A-Z
    regions: tuple[Term, ...]  # in site.yaml's order
    sources: tuple[Term, ...]  # A-Z
    countries: tuple[Term, ...]  # A-Z
    years: tuple[Period, ...]  # oldest first
    months: tuple[Period, ...]  # oldest first
    related: dict[str, tuple[Entry, ...]] = field(default_factory=dict)  # by entry path


def newest_first(briefings: Iterable[Briefing]) -> list[Briefing]:
    """Order by exact instant, newest first; ties by title A-Z, then by file path."""
    by_name = sorted(briefings, key=lambda b: (b.title, b.path))
    # Stable: ties keep A-Z order. Timestamps order instants as aware datetimes do, 50 times faster.
    return sorted(by_name, key=lambda b: b.date.timestamp(), reverse=True)


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
) -> Archive:
    """Model the archive from briefings, their site paths and bodies with their site links (by file path).

    `memo` keeps what is slow to work out (related briefings) for the next build.
    """
    ordered = newest_first(briefings)
    tag_names = _display_names((tag for b in ordered for tag in b.tags), preferred={t for _, t in config.tag_aliases})
    source_names = _display_names(b.source.name for b in ordered)
    country_names, errors = _country_names(config, ordered)
    errors += _check_slugs("tag", tag_names.values(), ordered, lambda b: b.tags)
    errors += _check_slugs("source", source_names.values(), ordered, lambda b: (b.source.name,))
    errors += _check_slugs("country", country_names.values(), ordered, lambda b: b.countries)
    if errors:
        raise BuildFailed(errors)
    regions = {r.name: Ref(r.name, r.slug) for r in config.regions}
    tag_ref, source_ref, country_ref = _refs(tag_names), _refs(source_names), _refs(country_names)
    entries = tuple(
        Entry(
            briefing=b,
            path=paths[b.path],
            body=bodies[b.path][0],
            site_links=bodies[b.path][1],
            tags=tuple(tag_ref(t) for t in b.tags),
            region=regions[b.region],
            source=source_ref(b.source.name),
            countries=tuple(country_ref(c) for c in b.countries),
        )
        for b in ordered
    )
    moved = moved_url_errors(config, entries)
    if moved:
        raise BuildFailed(moved)
    return Archive(
        config=config,
        entries=entries,
        tags=_terms("tags", entries, lambda e: e.tags),
        regions=_region_terms(config, entries),
        sources=_source_terms(entries),
        countries=_terms("countries", entries, lambda e: e.countries),
        years=_periods(entries, lambda e: (e.briefing.date.year, 0)),
        months=_periods(entries, lambda e: (e.briefing.date.year, e.briefing.date.month)),
        related=related_entries(entries, memo),
    )


def moved_url_errors(config: SiteConfig, entries: Iterable[Entry]) -> list[SourceError]:
    """Return an error for each alias or removed URL that is some briefing's URL, or claimed twice."""
    entries = list(entries)
    current = {"/" + e.path: e.briefing.path for e in entries}
    removed = {r.path: r for r in config.removed}
    claimed: dict[str, str] = {}
    errors = []
    for entry in entries:
        b = entry.briefing
        for alias in b.aliases:
            problem = None
            if alias in current:
                problem = f"is the URL of {current[alias]}; an alias is an earlier URL that no briefing has now"
            elif alias in claimed:
                problem = f"is also an alias of {claimed[alias]}; keep it on one briefing"
            elif alias in removed:
                problem = "is also in site.yaml's removed list; take it off that list to redirect it here"
            claimed.setdefault(alias, b.path)
            if problem:
                errors.append(SourceError(b.path, b.line_of("aliases"), f'aliases: "{alias}" {problem}'))
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


def _country_names(config: SiteConfig, briefings: list[Briefing]) -> tuple[dict[str, str], list[SourceError]]:
    """Pick one spelling per country (a known one first); return it with an error per name that looks misspelt."""
    used = Counter(name for b in briefings for name in b.countries)
    meant = near_misses(used, config.known_countries)
    errors = [
        SourceError(
            b.path,
            b.line_of("countries"),
            f'countries: "{name}" looks like a misspelling of "{meant[name]}"; did you mean "{meant[name]}"? '
            f'If "{name}" is right, add it to known_countries in site.yaml',
        )
        for b in briefings
        for name in b.countries
        if name in meant
    ]
    known = {fold(name): name for name in (*KNOWN_COUNTRIES, *config.known_countries)}
    chosen = _display_names(used.elements())
    return {folded: known.get(folded, name) for folded, name in chosen.items()}, errors


def _refs(names: dict[str, str]) -> Callable[[str], Ref]:
    """Return a function from a name as written to its one Ref (shared by every entry that uses it)."""
    by_display = {display: Ref(display, slugify(display)) for display in set(names.values())}
    by_written: dict[str, Ref] = {}

    def ref(name: str) -> Ref:
        if name not in by_written:
            by_written[name] = by_display[names[fold(name)]]
        return by_written[name]

    return ref


def _check_slugs(
    kind: str, names: Iterable[str], briefings: list[Briefing], of: Callable[[Briefing], Iterable[str]]
) -> list[SourceError]:
    """Return an error for each slug that two different names share."""
    by_slug: dict[str, set[str]] = defaultdict(set)
    for name in names:
        by_slug[slugify(name)].add(name)
    errors = []
    for slug, group in by_slug.items():
        if len(group) > 1:
            first = next(b for b in reversed(briefings) if any(slugify(n) == slug for n in of(b)))
            spelled = " and ".join(f'"{n}"' for n in sorted(group))
            field = {"tag": "tags", "source": "source", "country": "countries"}[kind]
            plural = "countries" if kind == "country" else f"{kind}s"
            line = first.line_of(field)
            message = f"{plural} {spelled} would share the URL /{plural}/{slug}/; rename one"
            errors.append(SourceError(first.path, line, message))
    return errors


def _terms(kind: str, entries: tuple[Entry, ...], refs: Callable[[Entry], Iterable[Ref]]) -> tuple[Term, ...]:
    """Group entries by term, A-Z by name (then slug)."""
    grouped: dict[Ref, list[Entry]] = defaultdict(list)
    for entry in entries:
        for ref in refs(entry):
            grouped[ref].append(entry)
    ordered = sorted(grouped.items(), key=lambda item: (fold(item[0].name), item[0].slug))
    return tuple(Term(kind, ref.name, ref.slug, tuple(group)) for ref, group in ordered)


def _region_terms(config: SiteConfig, entries: tuple[Entry, ...]) -> tuple[Term, ...]:
    """Return every configured region, in site.yaml's order, even when it has no briefings."""
    return tuple(
        Term("regions", r.name, r.slug, tuple(e for e in entries if e.region.slug == r.slug), r.description)
        for r in config.regions
    )


def _source_terms(entries: tuple[Entry, ...]) -> tuple[Term, ...]:
    """Group by source; a source's URL is its most cited one (then A-Z)."""
    terms = _terms("sources", entries, lambda e: (e.source,))
    return tuple(
        Term(t.kind, t.name, t.slug, t.entries, url=_most_common(e.briefing.source.url for e in t.entries))
        for t in terms
    )


def _most_common(values: Iterable[str | None]) -> str | None:
    counts = Counter(v for v in values if v)
    return min(counts, key=lambda v: (-counts[v], v)) if counts else None


def _periods(entries: tuple[Entry, ...], key: Callable[[Entry], tuple[int, int]]) -> tuple[Period, ...]:
    """Group entries by calendar period as written in front matter, oldest period first."""
    grouped: dict[tuple[int, int], list[Entry]] = defaultdict(list)
    for entry in entries:
        grouped[key(entry)].append(entry)
    return tuple(Period(year, month, tuple(grouped[(year, month)])) for year, month in sorted(grouped))


def related_entries(entries: tuple[Entry, ...], memo: Memo | None = None) -> dict[str, tuple[Entry, ...]]:
    """Return 3-4 related entries per entry: most shared tags, then nearest in time, then newest.

    They depend only on each entry's moment and tags, in order: with a `memo`, an edit that
    changes neither (a title, a body) reuses the last build's ranking.
    """
    moments = [entry.briefing.date.timestamp() for entry in entries]
    tags = [tuple(tag.slug for tag in entry.tags) for entry in entries]
    inputs = digest_text(repr(moments), repr(tags))
    remembered = memo.recall("related") if memo else None
    if isinstance(remembered, tuple) and len(remembered) == 2 and remembered[0] == inputs:
        ranked = remembered[1]
    else:
        ranked = related_places(moments, tags)
        if memo:
            memo.remember("related", (inputs, ranked))
    return {entry.path: tuple(entries[o] for o in places) for entry, places in zip(entries, ranked, strict=True)}


def related_places(moments: list[float], tags: list[tuple[str, ...]]) -> list[tuple[int, ...]]:
    """Return the places of the related entries of each entry, given each one's moment and tag slugs.

    Candidates are, for each tag of the entry, the RELATED_WINDOW entries nearest in time on
    either side that carry that tag; so the work grows with the archive times the tags per
    briefing, however popular a tag is. Where fewer than three share a tag, the nearest
    entries in time fill the list.
    """
    by_tag: dict[str, list[int]] = defaultdict(list)  # indexes, newest first
    places: list[list[tuple[str, int]]] = []  # per entry: (tag slug, its place in by_tag[slug])
    for index, slugs in enumerate(tags):
        places.append([(slug, len(by_tag[slug])) for slug in slugs])
        for slug in slugs:
            by_tag[slug].append(index)
    related: list[tuple[int, ...]] = []
    for index, moment in enumerate(moments):
        shared: Counter[int] = Counter()
        for slug, place in places[index]:
            column = by_tag[slug]
            shared.update(column[max(0, place - RELATED_WINDOW) : place + RELATED_WINDOW + 1])
        del shared[index]
        best = heapq.nsmallest(RELATED_MAX, ((-n, abs(moments[o] - moment), o) for o, n in shared.items()))
        ranked = [o for _, _, o in best]
        if len(ranked) < RELATED_MIN:
            ranked += _nearest(moments, index, exclude=set(ranked), count=RELATED_MIN - len(ranked))
        related.append(tuple(ranked))
    return related


def _nearest(moments: list[float], index: int, exclude: set[int], count: int) -> list[int]:
    """Return up to `count` entries nearest in time (entries are sorted, so look both ways)."""
    reach = count + len(exclude)
    window = range(max(0, index - reach), min(len(moments), index + reach + 1))
    candidates = [o for o in window if o != index and o not in exclude]
    return sorted(candidates, key=lambda o: (abs(moments[index] - moments[o]), o))[:count]
