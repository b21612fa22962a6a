"""Every HTML page of the site, as (path, template, view data).

Owns which pages exist, their URLs (through `urls`) and the plain data each template
receives: pagination, neighbours, counts. Each page is a pure function of the archive,
so pages can be rendered in any order or in parallel. May not render, or write files.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import operator
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, NamedTuple, TypeVar

from briefings import urls
from briefings.archive import (
    Archive,
    Entry,
    Period,
    Ref,
    Term,
    aliases_of,
    entry_path,
    links_of,
    newest,
    newest_in_order,
    revised_ids,
    revised_of,
)
from briefings.clock import MONTHS
from briefings.content import Briefing, Correction
from briefings.kinds import BY_NAME, KINDS, Kind

HOME_ENTRIES = 20  # the home page shows the latest briefings; the timeline has them all
HOME_REGION_ENTRIES = 3  # and each region's latest, as a way in by region
YEAR_MONTH_ENTRIES = 5  # a year page shows each month's latest briefings and links to the rest
BRIEFING_TEMPLATE = "briefing.html"


@dataclass(frozen=True)
class Page:
    """One HTML file to render: its site path, its template and the template's data."""

    path: str
    template: str
    title: str
    context: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    modified: datetime | None = None  # newest change among the briefings shown: the sitemap's lastmod
    feeds: tuple[tuple[str, str], ...] = ()  # (title, path) of this page's own Atom feed
    kind: str = "website"  # Open Graph type: "article" for briefings
    language: str = ""  # the page's BCP 47 language when it is not the site's
    image: str | None = None  # absolute URL of the sharing image
    image_alt: str = ""


@dataclass(frozen=True)
class TermInfo:
    """A tag, region or source as listings show it: without its entries, only how many."""

    kind: str
    name: str
    slug: str
    count: int
    description: str = ""
    url: str | None = None


def term_info(term: Term) -> TermInfo:
    """Return what a page shows of a term."""
    return TermInfo(term.kind, term.name, term.slug, len(term.entries), term.description, term.url)


@dataclass(frozen=True)
class Pager:
    """Where one page of a listing sits: page `number` of `count`, with neighbour paths."""

    number: int
    count: int
    total: int
    first: str
    prev: str | None
    next: str | None
    last: str


@dataclass(frozen=True)
class StoryPlace:
    """Where a briefing sits in its developing story: part `number` of `count`, with the parts before and after."""

    term: TermInfo
    number: int
    count: int
    earlier: Entry | None
    later: Entry | None


@dataclass(frozen=True)
class CorrectionItem:
    """One correction in the corrections record, with the briefing it corrects."""

    entry: Entry
    correction: Correction


@dataclass(frozen=True)
class Deferred:
    """A briefing's page not made yet (`site_pages`): what the sitemap lists of it, what made
    it, and how to make it when it is wanted after all."""

    path: str
    modified: datetime
    template: str
    briefing: Briefing
    make: Callable[[], Page]


@dataclass(frozen=True)
class Dated:
    """A listing's page not made at all (`site_pages`' `dated_only`): what the sitemap lists of it.
    A plan keeps it as the last plan of the shape before gave it (`plan.Keying.recall_prior`)."""

    path: str
    modified: datetime | None


def site_pages(
    archive: Archive,
    wanted: Callable[[str], bool] | None = None,
    left_out: AbstractSet[int] = frozenset(),
    revised: frozenset[int] | None = None,
    dated_only: AbstractSet[int] = frozenset(),
) -> list[Page | Deferred | Dated]:
    """Return every HTML page of the site, in a fixed order (the home page, each briefing's in the
    archive's order, then the listings: `site_dates` depends on it); a briefing's page whose path
    is not `wanted` (when given) only as a `Deferred`, made when asked for, and those of the
    entries at the places `left_out` not at all (a plan keeps them as it was: `plan`); the pages
    of the terms and months whose ids are in `dated_only` as `Dated` (after a retag at 100,000
    briefings, making the pages of the terms it did not touch took 0.29 s, dating them a tenth of it).
    `revised` is `archive.revised_ids` of its entries, worked out here when not given."""
    places = story_places(archive)
    revised = revised_ids(archive.entries) if revised is None else revised
    dated = newest_in_order(revised)  # listings in the archive's order, dated cheaply

    def briefing(index: int) -> Page | Deferred:
        entry = archive.entries[index]
        if wanted is None or wanted(entry.path):
            return briefing_page(archive, index, places)
        made = functools.partial(briefing_page, archive, index, places)
        b = entry.briefing  # dated as `Briefing.modified` dates it, without working it out (and keeping it) for each
        return Deferred(entry.path, b.modified if id(entry) in revised else b.date, BRIEFING_TEMPLATE, b, made)

    return [
        home_page(archive),
        *map(briefing, itertools.filterfalse(left_out.__contains__, range(len(archive.entries)))),
        *term_index_pages(archive),
        *(
            page
            for kind in KINDS
            for term in archive.terms[kind.name]
            for page in (term_dates if id(term) in dated_only else term_pages)(archive, term, dated)
        ),
        timeline_page(archive),
        *year_pages(archive),
        *month_pages(archive, dated, dated_only),
        *corrections_pages(archive),
        *([search_page(archive)] if archive.config.search else []),
        not_found_page(),
    ]


def site_dates(
    archive: Archive, pages: Sequence[Page | Deferred | Dated], revised: frozenset[int]
) -> dict[str, datetime | None]:
    """Return the date of every page of the site by path, in `site_pages`' order (the sitemap's),
    given what `site_pages` gave: the briefing pages it left out are dated as the others, from
    their briefing's date of change (`Briefing.modified`), found in C (`revised`: `archive.revised_ids`)."""
    entries, home = archive.entries, pages[0]
    dates: dict[str, datetime | None] = {home.path: home.modified}
    dates.update(zip(map(entry_path, entries), map(_date_of, entries), strict=True))  # most briefings' date of change
    for entry in itertools.compress(entries, map(revised.__contains__, map(id, entries))):
        dates[entry.path] = entry.briefing.modified
    dates.update((page.path, page.modified) for page in itertools.islice(pages, 1, None))
    return dates


_date_of = operator.attrgetter("date")  # held by each entry: no briefing made


def not_found_page() -> Page:
    """Return `/404.html`, which GitHub Pages serves for any path the site lacks."""
    return Page("404.html", "404.html", "Page not found")


def story_places(archive: Archive, unshared_with: Archive | None = None) -> dict[str, StoryPlace]:
    """Return, by entry path, where each briefing of a developing story (a `chronicle` kind) sits
    in it; with `unshared_with`, only in the stories that model does not hold as the same
    objects (a story both hold places its briefings alike in both: the same entries)."""
    return {
        path: place
        for kind in KINDS
        if kind.chronicle
        for term in _unshared(archive.terms[kind.name], unshared_with.terms[kind.name] if unshared_with else ())
        for path, place in places_in(term).items()
    }


def _unshared(terms: Sequence[Term], others: Sequence[Term]) -> Sequence[Term]:
    """Return the terms that are not also, as the same objects, among `others`."""
    if not others:
        return terms
    shared = set(map(id, others))
    return [term for term in terms if id(term) not in shared]


def places_in(term: Term) -> dict[str, StoryPlace]:
    """Return, by entry path, where each briefing of one developing story sits in it."""
    told = term.entries[::-1]  # oldest first, as a story is read
    info, count = term_info(term), len(told)
    return {
        entry.path: StoryPlace(
            info, number, count, told[number - 2] if number > 1 else None, told[number] if number < count else None
        )
        for number, entry in enumerate(told, start=1)
    }


def corrections(archive: Archive) -> tuple[CorrectionItem, ...]:
    """Return every correction of the archive's briefings, newest first (ties: by briefing, newest first).
    The briefings with corrections are among the revised ones, found in C without making every
    briefing (`Entry.revised`): a few among all, which a loop of Python looked into one by one."""
    revised = itertools.compress(archive.entries, map(revised_of, archive.entries))
    items = [CorrectionItem(entry, c) for entry in revised for c in entry.briefing.corrections]
    return tuple(sorted(items, key=lambda item: item.correction.date.timestamp(), reverse=True))  # stable


def corrections_pages(archive: Archive) -> Iterator[Page]:
    """Yield `/corrections/` and its further pages: every correction, newest first, with its briefing."""
    items = corrections(archive)
    yield from paginate(
        archive,
        "corrections/",
        "corrections.html",
        "Corrections",
        items,
        modified=lambda shown: max((item.correction.date for item in shown), default=None),
        description=f"Every correction made to {archive.config.title}'s briefings, newest first.",
        feeds=(("Corrections", "corrections/feed.xml"),),
        total_corrected=len({item.entry.path for item in items}),
    )


def search_page(archive: Archive) -> Page:
    """Return `/search/`: the form, filled in and answered by static/search.js from search/*.json.

    It filters by each kind of listing that has a facet, then by year: `filters` holds
    (facet, label, lowercase noun) for each.
    """
    filters = tuple((kind.facet, kind.label_one, kind.singular) for kind in KINDS if kind.facet)
    return Page(
        "search/",
        "search.html",
        "Search",
        {"total": len(archive.entries), "filters": filters},
        f"Search {len(archive.entries)} briefings by word, {', '.join(label for _, _, label in filters)} and year.",
        archive.modified,
    )


def moved_pages(archive: Archive) -> list[Page]:
    """Return the pages at URLs given up: a redirect at each alias, a notice at each removed URL.

    They are not in the sitemap or the feeds: `site_pages` is what the site publishes.
    """
    redirects = [
        briefing_redirect(alias.lstrip("/"), entry.briefing, entry.path)
        for entry in itertools.compress(archive.entries, map(aliases_of, archive.entries))
        for alias in entry.aliases
    ]
    notices = [
        Page(removed.path.lstrip("/"), "withdrawn.html", "Briefing withdrawn", {"reason": removed.reason})
        for removed in archive.config.removed
    ]
    stories = {t.slug: t for t in archive.terms.get("stories", ()) if t.entries}
    moved_stories = [
        Page(
            alias.lstrip("/"),
            "redirect.html",
            story.name,
            {"target": urls.term_path("stories", story.slug), "story_line": story.line},
        )
        for story in archive.config.stories
        if story.slug in stories
        for alias in story.aliases
    ]
    return redirects + notices + moved_stories


def briefing_redirect(at: str, briefing: Briefing, target: str) -> Page:
    """Return the redirect at a site path a briefing left (an alias, or its URL before it moved)
    to its page at `target`."""
    return Page(at, "redirect.html", briefing.title, {"target": target, "briefing": briefing})


def given_way_pages(archive: Archive) -> list[Page]:
    """Return a redirect at each listing page a name given way to would have had (`/tags/russia/`
    and its further pages), to the term it is listed as (`/countries/russia/`). Like the listing
    it stands for, it lasts as long as some briefing gives that name: it is not a moved URL."""
    return [
        Page(
            urls.page_path(urls.term_path(way.kind, way.slug), number),
            "redirect.html",
            way.term.name,
            {"target": urls.term_path(way.term.kind, way.term.slug), "origin": way.origin},
        )
        for way in archive.given_way
        for number in range(1, max(1, math.ceil(way.given / archive.config.per_page)) + 1)
    ]


Section = Literal["site", "moved", "given way"]  # which of the three functions above gives a page
Dating = Callable[[Sequence[Entry]], datetime | None]  # a listing page's date from its entries (`newest`)
T = TypeVar("T")


class PagesByPath:
    """The pages of `site_pages`, `moved_pages` and `given_way_pages` one path at a time, each made
    with the pages of its listing before it only (kept for the next ask), not with every page of
    the site: for a plan that keys again a few outputs of a large archive, or makes one whose key
    it remembers (`plan`). The path decides where a page can be (`urls`); a path in none of those
    places is looked for among the moved and given-way pages, made all at once when first asked.

    A listing's pages are made in order up to the one asked for, and the rest left to a later
    ask: an edit reaches the first page of most listings it is in, and a tag's every page (each
    with its date, the newest of its entries) is work in proportion to the tag."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self._found: dict[str, tuple[Section, Page]] = {}
        self._listings: dict[str, Iterator[Page]] = {}  # by first page: the pages not made yet
        self._entries: dict[str, int] = {}
        self._terms: dict[str, dict[str, Term]] = {}
        self._places: dict[str, StoryPlace] = {}  # in the stories of the briefing pages made
        self._elsewhere = False  # the moved and given-way pages are in `_found`

    def at(self, path: str) -> tuple[Section, Page] | None:
        """Return the page at a site path (`tags/syria/page/2/`) and where it comes from; None if none."""
        if path not in self._found:
            first = urls.listing_first(path)
            pages = self._listings.get(first)
            if pages is None:
                pages = self._listings[first] = iter(self._listing(first))
            for page in pages:
                self._found[page.path] = ("site", page)
                if page.path == path:
                    break
        if path not in self._found and not self._elsewhere:
            self._elsewhere = True
            self._found |= {page.path: ("moved", page) for page in moved_pages(self.archive)}
            self._found |= {page.path: ("given way", page) for page in given_way_pages(self.archive)}
        return self._found.get(path)

    def _listing(self, first: str) -> Iterable[Page]:
        """Return the pages of the listing whose first page is at `first` (one page if it is not paginated)."""
        archive = self.archive
        single = {"": home_page, "timeline/": timeline_page, "search/": search_page}
        if first in single:
            return [single[first](archive)] if first != "search/" or archive.config.search else []
        if first == "corrections/":
            return corrections_pages(archive)
        if first == "404.html":
            return [not_found_page()]
        parts = first.split("/")[:-1] if first.endswith("/") else []
        if parts and parts[0] in BY_NAME:
            kind = BY_NAME[parts[0]]
            if len(parts) == 1:
                return kind_index_pages(archive, kind)
            term = self._term(kind.name, parts[1]) if len(parts) == 2 else None
            return term_pages(archive, term) if term else []
        if not parts or not all(part.isdigit() for part in parts[:2]):
            return []
        if len(parts) == 1:
            years = [i for i, y in enumerate(archive.years) if urls.year_path(y.year) == first]
            return [_year_page(archive, years[0])] if years else []
        if len(parts) == 2:
            month = month_at(archive.months, int(parts[0]), int(parts[1]))
            return _month_pages(archive, month) if month is not None else []
        place = self._entry_at(first, int(parts[0]), int(parts[1])) if len(parts) == 3 else None
        return [self._briefing(place)] if place is not None else []

    def _term(self, kind: str, slug: str) -> Term | None:
        if kind not in self._terms:
            self._terms[kind] = {term.slug: term for term in self.archive.terms[kind]}
        return self._terms[kind].get(slug)

    def _entry_at(self, path: str, year: int, month: int) -> int | None:
        """Return the place in the model of the entry whose page is at `path` (in `year`'s
        `month`), or None: looked for among its month's entries, then among all by its instant
        (they are newest first: `newest_first`), not in a table of every entry's path, which
        took 35 to 65 ms to make at 100,000 briefings for the one page an edit reaches."""
        at = month_at(self.archive.months, year, month)
        period = self.archive.months[at] if at is not None else None
        entry = next((e for e in period.entries if e.path == path), None) if period else None
        if entry is None:
            return None
        entries, moment = self.archive.entries, entry.date.timestamp()
        place = bisect.bisect_left(entries, -moment, key=_newest_first)
        while place < len(entries) and entries[place].date.timestamp() == moment:
            if entries[place] is entry:
                return place
            place += 1
        # Not there only in a model patched wrong (its month lists an entry the model no longer
        # has), which a build's check finds: looked up in every entry, as before.
        return self._entry_index().get(path)

    def _entry_index(self) -> dict[str, int]:
        if not self._entries:
            self._entries = dict(zip(map(entry_path, self.archive.entries), itertools.count()))
        return self._entries

    def _briefing(self, index: int) -> Page:
        self._place_in_stories(self.archive.entries[index])
        return briefing_page(self.archive, index, self._places)

    def _place_in_stories(self, entry: Entry) -> None:
        """Add to `_places` where the briefings of an entry's story sit in it (`story_places`),
        looking at that story alone: a plan that keys again a few briefing pages made the places
        of every story for them (30 ms at 100,000 briefings)."""
        for kind in KINDS:
            for ref in entry.terms(kind) if kind.chronicle else ():
                term = self._term(kind.name, ref.slug)
                if term is not None and entry.path not in self._places:
                    self._places |= places_in(term)


def month_at(months: Sequence[Period], year: int, month: int) -> int | None:
    """Return the place of a month among an archive's months (oldest first), or None if it lists none."""
    at = bisect.bisect_left(months, (year, month), key=_year_month)
    return at if at < len(months) and _year_month(months[at]) == (year, month) else None


def _year_month(period: Period) -> tuple[int, int]:
    return period.year, period.month


def _newest_first(entry: Entry) -> float:
    """Return what orders entries newest first, as far as their instants do (`archive.place_of`)."""
    moment: float = entry.date.timestamp()  # (the date an entry holds: `Entry`)
    return -moment


def page_count(listed: int, per_page: int) -> int:
    """Return how many pages a listing of `listed` items takes (one, when empty)."""
    return max(1, math.ceil(listed / per_page))


def _listing_pages(first: str, listed: int, per_page: int) -> list[str]:
    """Return the site path of each page of a listing of `listed` items whose first page is `first`."""
    return [urls.page_path(first, number) for number in range(1, page_count(listed, per_page) + 1)]


def _dated_pages(paths: list[str], entries: Sequence[Entry], dated: Dating, per_page: int) -> Iterator[Dated]:
    """Return each page of a listing (its `paths`, in order) as `Dated`, dated as `paginate` dates it."""
    return map(Dated, paths, map(dated, _page_slices(entries, per_page)))


def _page_slices(entries: Sequence[T], per_page: int) -> Iterator[Sequence[T]]:
    """Yield what each page of a listing shows (`page_count` pages: one, empty, for no entries)."""
    for number in range(1, page_count(len(entries), per_page) + 1):
        yield entries[(number - 1) * per_page : number * per_page]


def paginate(
    archive: Archive,
    first: str,
    template: str,
    title: str,
    entries: Sequence[Any],
    modified: Callable[[Sequence[Any]], datetime | None] = newest,
    **context: Any,
) -> Iterator[Page]:
    """Yield the pages of a listing of entries (or other items, with their `modified`): `first`,
    then `first/page/2/` and on."""
    per_page = archive.config.per_page
    count = page_count(len(entries), per_page)
    description = context.pop("description", "")
    feeds = context.pop("feeds", ())
    for number, shown in enumerate(_page_slices(entries, per_page), start=1):
        pager = Pager(
            number=number,
            count=count,
            total=len(entries),
            first=first,
            prev=urls.page_path(first, number - 1) if number > 1 else None,
            next=urls.page_path(first, number + 1) if number < count else None,
            last=urls.page_path(first, count),
        )
        page_title = title if number == 1 else f"{title} (page {number} of {count})"
        yield Page(
            urls.page_path(first, number),
            template,
            page_title,
            {"entries": shown, "pager": pager, **context},
            description,
            modified(shown),
            feeds,
        )


def home_page(archive: Archive) -> Page:
    """Return `/`: the latest briefings, pointing to the timeline and indexes for the rest.

    It is not paginated: paging through the whole archive is what month pages are for,
    and a second copy of every listing would cost a tenth of the site's size.
    """
    shown = archive.entries[:HOME_ENTRIES]
    regions = tuple((term_info(t), t.entries[:HOME_REGION_ENTRIES]) for t in archive.terms["regions"])
    return Page(
        "",
        "index.html",
        archive.config.title,
        {"entries": shown, "total": len(archive.entries), "regions": regions},
        archive.config.description,
        newest(shown),
    )


def briefing_page(archive: Archive, index: int, places: dict[str, StoryPlace] | None = None) -> Page:
    """Return a briefing's page with its related briefings, and its place in its story if it has one.

    It does not link its neighbours in time: across every region and tag they are
    unrelated stories, and the links cost 4% of a large site; month pages list them.
    Within a developing story it does (`places`, from `story_places`): that is how a story is read.
    The page is made from its `BriefingInputs` alone.
    """
    entry, related, place, scheduled, base_url = briefing_inputs(
        archive, index, story_places(archive) if places is None else places
    )
    b = entry.briefing
    return Page(
        entry.path,  # and its date of change below: what a `Deferred` says of it
        BRIEFING_TEMPLATE,
        b.title,
        {
            "entry": entry,
            "related": related,
            "story": place,
            # Shown only in the preview and check: why it is not on the published site.
            "status": "draft" if b.draft else "scheduled" if scheduled else "",
        },
        b.summary,
        b.modified,
        kind="article",
        language=b.language or "",
        image=urls.src_url(base_url, b.image.src) if b.image else None,  # for sharing cards
        image_alt=b.image.alt if b.image else "",
    )


class BriefingInputs(NamedTuple):
    """All a briefing's page is made from (`briefing_page`): equal inputs make equal pages."""

    entry: Entry
    related: tuple[Entry, ...]
    place: StoryPlace | None  # in its story, if it is in one
    scheduled: bool  # published, but not yet due (shown only in the preview)
    base_url: str  # of its sharing image


def briefing_inputs(archive: Archive, index: int, places: dict[str, StoryPlace]) -> BriefingInputs:
    """Return what the page of the entry at `index` is made from (`places` from `story_places`)."""
    entry = archive.entries[index]
    path = entry.path
    scheduled = entry.briefing.path in archive.scheduled
    return BriefingInputs(entry, archive.related.get(path, ()), places.get(path), scheduled, archive.config.base_url)


def unchanged_briefing_pages(before: Archive, after: Archive) -> set[str]:
    """Return the site paths of the briefing pages `after` makes as `before` made them: those whose
    `BriefingInputs` are equal, field by field (an entry the two models share, the same object;
    equal related entries, place in a story, scheduling and base URL). After a retag, or a
    briefing added or removed, most: the model is patched, and shares the entries it did not
    replace. Compared a field at a time over the whole archive: making every page's inputs for
    both models took 0.77 s at 100,000 briefings under cProfile, this 0.43 s."""
    if before.config.base_url != after.config.base_url:
        return set()
    # Each pass in C: a loop of Python over 100,000 entries costs a tenth of a second. An entry
    # shared is found by its identity (a frozen entry is at one path), not in a table by path.
    held = set(map(id, before.entries))
    kept = list(map(entry_path, itertools.compress(after.entries, map(held.__contains__, map(id, after.entries)))))
    related, was = after.related, before.related
    moved = map(operator.ne, map(related.get, kept, itertools.repeat(())), map(was.get, kept, itertools.repeat(())))
    same = set(kept)
    same.difference_update(itertools.compress(kept, moved))
    places, placed = story_places(after, unshared_with=before), story_places(before, unshared_with=after)
    same -= {path for path in places.keys() | placed.keys() if places.get(path) != placed.get(path)}
    rescheduled = before.scheduled ^ after.scheduled  # (file paths)
    return same - {e.path for e in after.entries if e.briefing.path in rescheduled} if rescheduled else same


def unchanged_term_outputs(before: Archive, after: Archive) -> set[str]:
    """Return the output files of the pages and feeds of the terms `after` lists as `before`
    did: the same `Term` object, with the same settings. A page of a term, and its feed, are made
    from the term alone (its entries, name, description, link) and the settings (`term_pages`,
    `feeds.feed_jobs`). After a retag, or a briefing added or removed, most: the model is
    patched, and shares the terms no changed briefing is listed under."""
    if before.config != after.config:
        return set()
    per_page, found = after.config.per_page, set[str]()
    for kind in KINDS:
        was = {id(term) for term in before.terms[kind.name]}
        for term in after.terms[kind.name]:
            if id(term) not in was:
                continue
            found.update(map(urls.output_file, term_pages_of(term, per_page)))
            if kind.feed:
                found.add(term_feed_path(term))
    return found


def unchanged_month_outputs(before: Archive, after: Archive) -> set[str]:
    """Return the output files of the pages of the months `after` lists as `before` did: the same
    `Period` object (its entries), between neighbours of the same months, with the same settings:
    a month's pages are made from these alone (`month_pages`). After a retag, or a briefing added
    or removed, all but its month's: the model is patched, and shares the months it did not change."""
    if before.config != after.config:
        return set()
    was = {id(month): index for index, month in enumerate(before.months)}
    per_page, found = after.config.per_page, set[str]()
    for index, month in enumerate(after.months):
        old = was.get(id(month))
        if old is not None and _neighbours(before.months, old) == _neighbours(after.months, index):
            found.update(map(urls.output_file, month_pages_of(month, per_page)))
    return found


def term_index_pages(archive: Archive) -> Iterator[Page]:
    """Yield the index of each kind of listing (`/tags/`, `/regions/`...), listing its terms with counts."""
    for kind in KINDS:
        yield from kind_index_pages(archive, kind)


def kind_index_pages(archive: Archive, kind: Kind) -> Iterator[Page]:
    """Yield the index of one kind of listing (`/tags/`): its terms with counts, or its stories' spans."""
    if kind.chronicle:
        yield from stories_index_pages(archive, kind)
        return
    terms = archive.terms[kind.name]
    counts = sorted((len(t.entries) for t in terms), reverse=True)
    # "Most used": the top tenth by count, at least one term, never a term with none.
    threshold = max(1, counts[max(0, len(counts) // 10 - 1)]) if counts else 1
    yield Page(
        f"{kind.name}/",
        kind.index_template,
        kind.label,
        {
            "kind": kind.name,
            "terms": tuple(term_info(t) for t in terms),
            "threshold": threshold,
            "order": "in the order site.yaml lists them" if kind.vocabulary == "site" else "A–Z",
        },
        f"All {len(terms)} {kind.plural} of {archive.config.title}, with their briefings.",
        archive.modified,
    )


@dataclass(frozen=True)
class Span:
    """A developing story as its index lists it: the term, and the dates of its first and latest briefing."""

    term: TermInfo
    first: datetime
    latest: datetime


def stories_index_pages(archive: Archive, kind: Kind) -> Iterator[Page]:
    """Yield the index of a chronicle kind (`/stories/`): each story with its span, latest first,
    `per_page` to a page (an archive may hold thousands of stories; no page grows with it)."""
    terms = [t for t in archive.terms[kind.name] if t.entries]  # (dates held by the entries: no briefing made)
    spans = tuple(
        Span(term_info(t), t.entries[-1].date, t.entries[0].date)
        for t in sorted(terms, key=lambda t: t.entries[0].date.timestamp(), reverse=True)
    )
    yield from paginate(
        archive,
        f"{kind.name}/",
        kind.index_template,
        kind.label,
        spans,
        modified=lambda shown: max((s.latest for s in shown), key=datetime.timestamp, default=None),
        kind=kind.name,
        description=f"{len(spans)} developing {kind.singular if len(spans) == 1 else kind.plural} of "
        f"{archive.config.title}, each told from its start.",
    )


def term_pages(archive: Archive, term: Term, dated: Dating = newest) -> Iterator[Page]:
    """Yield the paginated pages of one term (a tag, a region...); a story's read oldest first.
    `dated` gives a page's date from its entries in the archive's order (`archive.newest_in_order`)."""
    kind = BY_NAME[term.kind]
    extra: dict[str, Any] = {}
    if kind.chronicle:
        extra = {"span": (term.entries[-1].briefing.date, term.entries[0].briefing.date), **touched(term)}
    order = "oldest first" if kind.chronicle else "newest first"
    if not kind.chronicle:  # a country is in the region most of its briefings are
        is_country = term.kind == "countries" and term.entries
        extra["region"] = touched(term, ("regions",))["regions"][0] if is_country else None
    yield from paginate(
        archive,
        urls.term_path(term.kind, term.slug),
        kind.template,
        f"{kind.label_one}: {term.name}",
        *_term_listing(term, dated),
        term=term_info(term),
        label=kind.label_one,
        plural=kind.label,
        description=term.description or f"Briefings about {term.name}, {order}.",
        feeds=((f"{kind.label_one}: {term.name}", term_feed_path(term)),) if kind.feed else (),
        **extra,
    )


def term_dates(archive: Archive, term: Term, dated: Dating = newest) -> Iterator[Dated]:
    """Yield the path and date of each page of one term, as `term_pages` dates them, making none."""
    entries, modified = _term_listing(term, dated)
    return _dated_pages(term_pages_of(term, archive.config.per_page), entries, modified, archive.config.per_page)


def _term_listing(term: Term, dated: Dating) -> tuple[Sequence[Entry], Dating]:
    """Return a term's entries in the order its pages list them, and what dates a page of them:
    a story's are read oldest first, so its pages are dated from all their entries."""
    if BY_NAME[term.kind].chronicle:
        return term.entries[::-1], newest
    return term.entries, dated


def term_pages_of(term: Term, per_page: int) -> list[str]:
    """Return the site path of each page of a term (`term_pages`), in order."""
    return _listing_pages(urls.term_path(term.kind, term.slug), len(term.entries), per_page)


def touched(term: Term, kinds: tuple[str, ...] = ("regions", "countries")) -> dict[str, tuple[Ref, ...]]:
    """Return the terms of these kinds a term's briefings touched, most often first (ties A-Z)."""
    found: dict[str, tuple[Ref, ...]] = {}
    for name in kinds:
        links = list(links_of(term.entries, BY_NAME[name]))
        slugs = list(map(_slug_of, links))  # a term's own within a kind (hashing a Ref is dear)
        counts, refs = Counter(slugs), dict(zip(slugs, links, strict=True))
        found[name] = tuple(sorted(refs.values(), key=lambda r: (-counts[r.slug], r.name)))
    return found


_slug_of = operator.attrgetter("slug")


def term_feed_path(term: Term) -> str:
    """Return the site path of a term's Atom feed (its kind must have feeds)."""
    return f"{term.kind}/{term.slug}/feed.xml"


def timeline_page(archive: Archive) -> Page:
    """Return `/timeline/`: every year and month with counts, and a chart of months."""
    years = [
        {
            "period": slim(year),
            "count": len(year.entries),
            "months": [_month_count(archive, year.year, m) for m in range(1, 13)],
        }
        for year in archive.years
    ]
    peak = max((len(m.entries) for m in archive.months), default=0)
    return Page(
        "timeline/",
        "timeline.html",
        "Timeline",
        {"years": years, "peak": peak, "month_names": MONTHS, "total": len(archive.entries)},
        f"{len(archive.entries)} briefings by year and month.",
        archive.modified,
    )


def _month_count(archive: Archive, year: int, month: int) -> dict[str, Any]:
    at = month_at(archive.months, year, month)
    count = len(archive.months[at].entries) if at is not None else 0
    return {"year": year, "month": month, "name": MONTHS[month - 1], "count": count}


def year_pages(archive: Archive) -> Iterator[Page]:
    """Yield `/YYYY/` pages: each month of the year with its count and latest briefings."""
    for index in range(len(archive.years)):
        yield _year_page(archive, index)


def _year_page(archive: Archive, index: int) -> Page:
    """Return the page of the year at `index` in `archive.years`."""
    year = archive.years[index]
    in_year = [m for m in reversed(archive.months) if m.year == year.year]
    latest = [m.entries[:YEAR_MONTH_ENTRIES] for m in in_year]
    months = [
        {"period": slim(m), "count": len(m.entries), "latest": shown} for m, shown in zip(in_year, latest, strict=True)
    ]
    return Page(
        urls.year_path(year.year),
        "year.html",
        str(year.year),
        {
            "period": slim(year),
            "total": len(year.entries),
            "months": months,
            "month_names": MONTHS,
            **_neighbours(archive.years, index),
        },
        f"{len(year.entries)} briefings from {year.year}.",
        newest([entry for shown in latest for entry in shown]),  # among those it shows, as every listing
    )


def month_pages(
    archive: Archive, dated: Dating = newest, dated_only: AbstractSet[int] = frozenset()
) -> Iterator[Page | Dated]:
    """Yield the paginated `/YYYY/MM/` pages, with neighbour months that have briefings; those
    of the months whose ids are in `dated_only` only as `Dated` (see `site_pages`)."""
    per_page = archive.config.per_page
    for index, month in enumerate(archive.months):
        if id(month) in dated_only:
            yield from _dated_pages(month_pages_of(month, per_page), month.entries, dated, per_page)
        else:
            yield from _month_pages(archive, index, dated)


def month_pages_of(month: Period, per_page: int) -> list[str]:
    """Return the site path of each page of a month (`month_pages`), in order."""
    return _listing_pages(urls.month_path(month.year, month.month), len(month.entries), per_page)


def _month_pages(archive: Archive, index: int, dated: Dating = newest) -> Iterator[Page]:
    """Yield the pages of the month at `index` in `archive.months` (`dated`: see `term_pages`)."""
    month = archive.months[index]
    title = f"{MONTHS[month.month - 1]} {month.year}"
    yield from paginate(
        archive,
        urls.month_path(month.year, month.month),
        "month.html",
        title,
        month.entries,
        dated,
        period=slim(month),
        month_names=MONTHS,
        description=f"{len(month.entries)} briefings from {title}.",
        **_neighbours(archive.months, index),
    )


def slim(period: Period) -> Period:
    """Return a period without its briefings: what a page needs to name and link it."""
    return Period(period.year, period.month, ())


def _neighbours(periods: tuple[Period, ...], index: int) -> dict[str, Any]:
    return {
        "earlier": slim(periods[index - 1]) if index > 0 else None,
        "later": slim(periods[index + 1]) if index + 1 < len(periods) else None,
    }


def period_path(period: Period) -> str:
    """Return the site path of a year or month."""
    return urls.month_path(period.year, period.month) if period.month else urls.year_path(period.year)
