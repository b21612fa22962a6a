"""The plan of a build: every output file with its key and how to make it.

Owns deciding what the site consists of (pages, feeds, static files) and keying each
output by a digest of exactly what it is made from: the view data its template receives,
the templates it uses, the site-wide inputs (settings, static fingerprints). Nothing is
rendered here; an output is made only when the writer finds its key changed.
May not write files (the search index's postings go to the memo it is given).
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import itertools
import operator
import os
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import jinja2

from briefings.archive import Archive, Entry, entry_path, file_of, revised_ids
from briefings.collector import out_of_sight
from briefings.config import SiteConfig
from briefings.content import Briefing
from briefings.errors import BuildFailed, SourceError
from briefings.feeds import SITEMAP_FILE, feed_jobs, sitemap_parts, written_alike
from briefings.keys import Hasher, Memo, digest_text
from briefings.kinds import BY_NAME, KINDS
from briefings.markdown import BodyRef
from briefings.outputs import MARKER_TEXT, SITE_MARKER, Given, Plan, Planned
from briefings.pages import (
    BRIEFING_TEMPLATE,
    Dated,
    Deferred,
    Page,
    PagesByPath,
    Section,
    given_way_pages,
    month_pages_of,
    moved_pages,
    site_dates,
    site_pages,
    term_pages_of,
    unchanged_briefing_pages,
    unchanged_month_outputs,
    unchanged_term_outputs,
)
from briefings.render import Renderer
from briefings.search import Words, build_index, postings_from, postings_tables
from briefings.sources import read_static
from briefings.tables import listed_alike
from briefings.urls import media_path, output_file, page_paths
from briefings.workers import forked_map, in_background, in_child

CHILD_INDEX_FROM = 20_000  # briefings; below, forking costs more than the memory it returns
INDEX_HERE_AT_MOST = 100  # briefings patched; up to it, postings updated in place are updated here (`search_index`)
ITEM = array("I").itemsize  # bytes a place takes in `Readers.holds`
PARALLEL_KEYS_FROM = 2_000  # outputs to key again; below, forking costs more than the workers save
_TEMPLATE_GIVEN = operator.itemgetter(4)  # of a `Given`
_LISTED_PATH = operator.itemgetter(0)  # of a `feeds.Listed`


@dataclass(frozen=True)
class Readers:
    """The briefings each output holds, in a model of one shape (`stages.model_shape`): what a
    plan found, for the next plans of that shape, which look up the changed files' outputs
    without going through every output. Kept as found, not inverted: for each output in turn the
    places in the model of the entries its view holds, as one `array` of unsigned ints in bytes
    (about 6 MB at 100,000 briefings), which a plan searches for the few places it wants."""

    files: tuple[str, ...]  # each entry's file path, in the model's order: its place
    outputs: tuple[str, ...]  # output paths, in the order their places are in `holds`
    holds: bytes  # the places each output holds, one output after another
    ends: bytes  # where each output's places end in `holds` (counted in places), as `array("I")` bytes
    none: frozenset[str]  # the outputs that hold none

    def holding(self, files: Iterable[str]) -> set[str]:
        """Return the outputs that hold any of these files."""
        return set(map(self.outputs.__getitem__, self.holders(files)))

    def holders(self, files: Iterable[str]) -> set[int]:
        """Return the outputs that hold any of these files, by their place in `outputs`."""
        files = set(files)
        if len(files) <= SEARCHED_AT_MOST:
            wanted = {self.files.index(path) for path in files if path in self.files}
        else:
            wanted = {place for place, path in enumerate(self.files) if path in files}
        ends = array("I", self.ends)
        if len(wanted) > SEARCHED_AT_MOST:  # many: one pass over every output's places
            holds = array("I", self.holds)
            spans = itertools.pairwise(itertools.chain((0,), ends))
            return {output for output, (a, b) in enumerate(spans) if not wanted.isdisjoint(holds[a:b])}
        found: set[int] = set()
        for place in wanted:  # each found where its bytes start a place (not across two)
            pattern = array("I", (place,)).tobytes()
            at = self.holds.find(pattern)
            while at != -1:
                if at % ITEM == 0:
                    found.add(bisect.bisect_right(ends, at // ITEM))
                at = self.holds.find(pattern, at + 1)
        return found

    def held(self, holders: Iterable[int]) -> set[int]:
        """Return the places in the model of the entries these outputs hold (by place in `outputs`)."""
        ends, holds = array("I", self.ends), memoryview(self.holds).cast("I")
        found: set[int] = set()
        for output in holders:
            found.update(holds[ends[output - 1] if output else 0 : ends[output]])
        return found


SEARCHED_AT_MOST = 64  # changed files `Readers.holding` searches for one by one; more, it reads every output's


def changed_files(before: dict[str, str], now: dict[str, str]) -> set[str]:
    """Return the files whose digest differs between two tables (path: digest): changed, added or
    removed. Found in passes that run in C; where both list the same files in the same order (an
    edit), by place, with no lookup by path (`tables.listed_alike`)."""
    if listed_alike(before, now):
        return set(itertools.compress(now, map(operator.ne, before.values(), now.values())))
    changed = set(itertools.compress(now, map(operator.ne, map(before.get, now), now.values())))
    return changed | (before.keys() - now.keys())


@dataclass(frozen=True)
class PlanKeys:
    """What a plan gave each output (`Given`), in its order, with what it gave them from: the
    site-wide inputs, each content file's digest and each template's (with what it extends,
    includes or imports); and the site's pages with their dates, in the sitemap's order.
    `token` tells one kept apart from another, for the `PlanSince` that follows it."""

    outputs: dict[str, Given]
    site_wide: bytes
    atoms: dict[str, str]
    templates: dict[str, bytes]
    listed: dict[str, datetime | None]
    token: bytes = b""


@dataclass(frozen=True)
class PlanSince:
    """What the plans of a shape changed since its `PlanKeys` (the one with this `token`) were
    kept: a plan that keys again a few outputs keeps these few, not all 25 MB again (at
    100,000 briefings). Outputs keyed again, files changed and pages whose date changed.
    `mark` tells one kept apart from any other (`Keying.kept_as`)."""

    token: bytes
    outputs: dict[str, Given]
    atoms: dict[str, str]
    dates: dict[str, datetime | None]
    mark: bytes = b""

    def applied(self, base: PlanKeys) -> PlanKeys:
        """Return the base as these changes leave it."""
        merged = replace(base, outputs=base.outputs | self.outputs, atoms=base.atoms | self.atoms)
        return replace(merged, listed=base.listed | self.dates) if self.dates else merged


@dataclass(frozen=True)
class Prior:
    """The model a model of a new shape was patched from (`stages.patched_model`: for a retag, or
    briefings added, removed or moved), and its shape, whose last plan gave most of the briefing
    pages the keys the new plan would (`Keying.recall_prior`)."""

    shape: bytes
    model: Archive


@dataclass(frozen=True)
class Recalled:
    """What a plan of a new shape keeps of the last plan of the shape before (`Keying.recall_prior`):
    the outputs it recalls (briefing pages, the pages and feeds of terms, the pages of months,
    sitemap files: `recall_sitemaps`), by output path,
    what that plan gave them (`Given`; none whose template changed since), and what each holds,
    at this model's places (`Readers`' holds, ends and each output's place in them)."""

    pages: frozenset[str]
    outputs: dict[str, Given]  # every output of that plan, the recalled pages among them
    holds: bytes
    bounds: array[int]  # where each output's places start in `holds`, then where the last ends (in places)
    places: dict[str, int]
    listed: dict[str, datetime | None]  # the pages that plan's sitemap listed, with their dates, in its order

    def held_by(self, path: str) -> bytes:
        """Return what a recalled page holds, as `Readers` keeps it."""
        place, bounds = self.places[path], self.bounds
        return self.holds[bounds[place] * ITEM : bounds[place + 1] * ITEM]

    def held_by_all(self, paths: list[str]) -> list[bytes]:
        """Return what each of these recalled pages holds (`held_by`), sliced in C."""
        places, at = list(map(self.places.__getitem__, paths)), self.bounds.__getitem__
        starts = map(operator.mul, map(at, places), itertools.repeat(ITEM))
        stops = map(operator.mul, map(at, map(operator.add, places, itertools.repeat(1))), itertools.repeat(ITEM))
        return list(map(self.holds.__getitem__, map(slice, starts, stops)))


SINCE_AT_MOST = 10  # a `PlanSince` holding more than this share of the outputs is kept as new `PlanKeys` instead
DIGESTS_KEPT_FROM = 10  # `keep_digests` digests at most one in this many entries of a model itself


@dataclass(frozen=True)
class KeptEntries:
    """The entries of a model a build made or kept (`stages.Warm`), with the token that tells that
    model from any other. A plan that knows the digest of every entry of the model kept for the
    builds after it keeps them in the memo (`entry_digests`, in the model's order, by its token);
    a plan of a model patched from it (an edit, a retag) seeds the hasher with the digests of the
    entries it did not patch: the same objects, whose files are those they were digested with
    (`stages.patched_model` patches the entries of every file changed since)."""

    token: bytes
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class Job:
    """An output not keyed yet: what its key digests (its template's digest, or `key_also` for a
    feed, and its view) and what `Planned` holds of it."""

    path: str
    template: str
    view: object
    origin: str
    make: Callable[[], bytes]
    group: str
    line: int = 0
    key_also: str = ""
    later: Callable[[], object] | None = None  # makes the view, when it is not made yet (`view` is None)


def plan_site(
    root: Path,
    archive: Archive,
    digests: dict[str, str],
    body: Callable[[BodyRef], str],
    compiled: jinja2.BytecodeCache | None = None,
    words: Words | None = None,
    memo: Memo | None = None,
    assets: tuple[str, ...] = (),
    shape: bytes = b"",
    jobs: int = 1,
    kept: KeptEntries | None = None,
    made: KeptEntries | None = None,
    prior: Prior | None = None,
    later: contextlib.ExitStack | None = None,
) -> Plan:
    """Return every output of the site, keyed; `digests` are the content files' digests by path.

    `body` returns a body's HTML (from the store); `compiled` is where Jinja may keep
    compiled templates between builds; `words` has the words of each body for the
    search index (made when search is on), which is made here and keyed by its bytes;
    `memo` keeps its postings between builds, so that an edit updates them instead of
    making them again. `assets` are the other files under `content/` (images beside a
    briefing), copied as they are to /media/. `shape` is the model's shape
    (`stages.model_shape`): given one, the memo keeps which outputs hold each briefing,
    and a plan of the same shape keys again only the outputs that hold a changed file.
    Many keys to work out (a new shape's every page) are worked out by `jobs` forked workers.
    The hasher knows the digests the memo keeps for the `kept` model's entries (those of the model
    this one was patched from, or this one); those of the entries of the model kept for the builds
    after this one (`made`) are kept in the memo, when this plan knows them all. A model patched
    from one of another shape (`prior`: a retag, briefings added, removed or moved) keeps the
    keys that shape's last plan gave the briefing pages it makes as that model made them.
    Given `later` (`stages.Session.later`), what a new shape's plan keeps for the next is
    written by a forked child while the build goes on (`Keying.keep`).
    """
    # Started first, while this process is smallest: past CHILD_INDEX_FROM the index is made
    # in a forked child (which starts as large as this process is) while pages are planned here.
    patched_from = kept.entries if kept is not None else None
    with search_index(archive, words if archive.config.search else None, memo, shape, patched_from) as index:
        hasher = Hasher(functools.partial(_known_briefing, digests))
        memo = memo if shape else None
        plan = _plan_outputs(
            root, archive, digests, body, compiled, hasher, memo, shape, jobs, kept, made, prior, later
        )
        files = [
            Planned(path, hasher.key(data), "search index", _constant(data), "search") for path, data in index().items()
        ]
    for name in assets:
        data = (root / name).read_bytes()
        files.append(Planned(media_path(name), hasher.key(data), name, _constant(data), "media"))
    return replace(plan, fresh=plan.fresh + files)


def _plan_outputs(
    root: Path,
    archive: Archive,
    digests: dict[str, str],
    body: Callable[[BodyRef], str],
    compiled: jinja2.BytecodeCache | None,
    hasher: Hasher,
    memo: Memo | None = None,
    shape: bytes = b"",
    jobs: int = 1,
    kept: KeptEntries | None = None,
    made: KeptEntries | None = None,
    prior: Prior | None = None,
    later: contextlib.ExitStack | None = None,
) -> Plan:
    """Return every output but the search index, keyed (see plan_site).

    Each key is the digest of exactly what its output is made from: the view its template
    or feed writer receives, the templates it uses, and `site`, the settings as templates
    and feeds see them. An entry is digested as the dataclass it is (every field), with its
    briefing known by its file's path and bytes, which with the settings decide it.
    """
    static = read_static(root)
    site = site_view(archive.config)
    renderer = Renderer(root / "templates", site, static, body, compiled, memo)
    site_wide = hasher.digest((site, {name: hasher.digest(data) for name, data in static.items()}))
    keying = Keying(hasher, renderer, site_wide, digests, memo, shape, archive.entries, jobs, kept, made, later)
    if prior is not None:
        keying.recall_prior(prior.shape, functools.partial(_unchanged_outputs, prior.model, archive))
    planned = [
        Planned(name, hasher.key(data), f"static/{name}", _constant(data), "static") for name, data in static.items()
    ]
    planned.append(Planned(".nojekyll", "", "build", _constant(b"")))
    planned.append(Planned(SITE_MARKER, "", "build", _constant(MARKER_TEXT)))
    recalled = _recalled_outputs(keying, renderer, archive, site, body) if keying.recalls() else None
    if recalled is not None:
        plan = replace(recalled, fresh=planned + recalled.fresh)
    else:
        keyed = _keyed_outputs(keying, renderer, archive, site, body)
        plan = replace(keyed, fresh=planned + keyed.fresh)
    keying.keep_digests()
    renderer.keep_references()
    return plan


def _unchanged_outputs(before: Archive, after: Archive) -> set[str]:
    """Return the outputs `after` makes from what `before` made them from: briefing pages, and the
    pages and feeds of terms, the pages of months (`pages.unchanged_briefing_pages`,
    `pages.unchanged_term_outputs`, `pages.unchanged_month_outputs`)."""
    return {
        *map(output_file, unchanged_briefing_pages(before, after)),
        *unchanged_term_outputs(before, after),
        *unchanged_month_outputs(before, after),
    }


def _keyed_outputs(
    keying: Keying, renderer: Renderer, archive: Archive, site: SiteConfig, body: Callable[[BodyRef], str]
) -> Plan:
    """Return every page and feed, each keyed again or with the key remembered (`Keying`); the
    briefing pages recalled from the shape before (`Keying.recall_prior`), and the pages of the
    terms and months every page of which is recalled, are kept as that shape's last plan gave
    them (`Plan.kept`), made by their path if the site lacks them."""
    # Every page, its job and feed (300,000 objects at 100,000 briefings) is kept to the end of the
    # plan, and none is in a cycle: the collector's passes over them are left out (in one retag at
    # 100,000 it paused 0.61 s before, 0.20 s after: docs/performance.md, "A new shape's plan").
    # The briefing pages recalled (most, after a retag) are kept as they were, found in passes in C:
    # no page, job or maker of Python for each of them (100,000 at 100,000 briefings).
    recalled = keying.recalled.pages if keying.recalled else frozenset()
    files = list(map(output_file, map(entry_path, archive.entries))) if recalled else []
    left_out = frozenset(itertools.compress(range(len(files)), map(recalled.__contains__, files)))
    revised = revised_ids(archive.entries)  # for the pages' dates, worked out once
    dated_only = _recalled_listings(archive, recalled)
    with out_of_sight():
        pages = site_pages(
            archive, lambda path: keying.needs_view(output_file(path), BRIEFING_TEMPLATE), left_out, revised, dated_only
        )
        # A page whose key is remembered, or is keyed by workers that make its view, is `Deferred`:
        # this process makes its view only if the page is made. One recalled is only `Dated`.
        work = [
            _deferred(renderer, page) if isinstance(page, Deferred) else _page_job(renderer, "site", page, archive)
            for page in pages
            if not isinstance(page, Dated)
        ]
        work += (_page_job(renderer, "moved", page, archive) for page in moved_pages(archive))
        work += (_page_job(renderer, "given way", page, archive) for page in given_way_pages(archive))
        listed = site_dates(archive, pages, revised)
        rows = tuple(listed.items())  # (path, date) in the sitemap's order
        keying.recall_sitemaps(rows)
        feeds = feed_jobs(site, archive, rows, body)
    # A feed's view is made where it is keyed (a feed recalled needs none: `recall_prior`).
    work += (_feed_job(path, None, make, view) for path, view, make in feeds)
    planned = keying.planned_all(work)
    dated = [output_file(page.path) for page in pages if isinstance(page, Dated)] if dated_only else []
    kept = keying.kept_prior([*map(files.__getitem__, sorted(left_out)), *dated])
    keying.keep(listed)
    finder = PagesByPath(archive)
    return Plan(planned, kept, lambda path: _make_at(renderer, finder, path))


def _recalled_listings(archive: Archive, recalled: frozenset[str]) -> frozenset[int]:
    """Return the ids of the terms and months every page of which a plan recalls (`Keying.recall_prior`)."""
    if not recalled:
        return frozenset()
    per_page = archive.config.per_page
    listings = [
        *((term, term_pages_of(term, per_page)) for kind in KINDS for term in archive.terms[kind.name]),
        *((month, month_pages_of(month, per_page)) for month in archive.months),
    ]
    return frozenset(id(listing) for listing, paths in listings if recalled.issuperset(map(output_file, paths)))


def _recalled_outputs(
    keying: Keying, renderer: Renderer, archive: Archive, site: SiteConfig, body: Callable[[BodyRef], str]
) -> Plan | None:
    """Return every page and feed of a plan of the last plan's shape, making only the views of
    the outputs keyed again (`Keying.again`); None if one of them, or a feed, is not where that
    plan had it.

    The others are kept as that plan gave them (`Plan.kept`), and made (by path:
    `pages.PagesByPath`) only if the writer finds the site lacks them. The sitemap's pages
    keep their dates but for those keyed again: a page's date is its briefings', and the
    briefings of every other page are as they were. If none of those dates changed (a title
    edit), the sitemaps are as they were too, and are kept.
    """
    before, again = keying.before, keying.again()
    assert before is not None  # see `Keying.recalls`
    keying.seed_kept(reached=True)  # the entries of the listings keyed again: all but the edited ones known
    finder = PagesByPath(archive)
    fresh: list[Planned] = []
    dates: dict[str, datetime | None] = {}
    again_feeds = []
    for path in sorted(again):
        if not before.outputs[path][4]:
            again_feeds.append(path)  # a feed: below
            continue
        found = _page_at(finder, path)
        if found is None:
            return None
        fresh.append(keying.planned(_page_job(renderer, *found, archive)))
        if found[0] == "site":
            dates[found[1].path] = found[1].modified
    listed = before.listed | dates
    redated = any(not _same_date(before.listed.get(path), date) for path, date in dates.items())
    # Their views are made for those keyed again alone (`feeds.feed_jobs`): a title edit makes no sitemap's.
    feeds = {path: (view, make) for path, view, make in feed_jobs(site, archive, tuple(listed.items()), body)}
    if (
        len(feeds) != sum(1 for given in before.outputs.values() if not given[4])
        or not feeds.keys() <= before.outputs.keys()
    ):
        return None
    for path in again_feeds:
        if redated or not SITEMAP_FILE.fullmatch(path):
            view, make_feed = feeds[path]
            fresh.append(keying.planned(_feed_job(path, view(), make_feed)))
    kept = dict(before.outputs)
    for output in fresh:
        del kept[output.path]

    def make(path: str) -> bytes:
        return _make_at(renderer, finder, path) if kept[path][4] else feeds[path][1]()

    keying.keep(listed, dates)
    return Plan(fresh, kept, make, before.outputs, keying.before_as, keying.kept_as)


def _same_date(a: datetime | None, b: datetime | None) -> bool:
    """Return True if two dates are the same and written the same (a `Sitemap`'s key digests its zone)."""
    return a is b or (a == b and repr(a) == repr(b))


def _page_at(finder: PagesByPath, output: str) -> tuple[Section, Page] | None:
    """Return the page an output file serves, if any."""
    return next((found for path in page_paths(output) if (found := finder.at(path)) is not None), None)


def _make_at(renderer: Renderer, finder: PagesByPath, output: str) -> bytes:
    """Make the page a plan remembered at this output path."""
    found = _page_at(finder, output)
    if found is None:
        message = "is in the last plan of this shape but not in the site; delete .cache/ and build again"
        raise BuildFailed([SourceError(output, 0, message)])
    return renderer.render(found[1])


def _page_job(renderer: Renderer, section: Section, page: Page, archive: Archive) -> Job:
    """Return a page's output, unkeyed, with what made it: its briefing's slug or alias, site.yaml, or its template."""
    path, make = output_file(page.path), renderer.page_maker(page)
    if section == "given way":
        return Job(path, page.template, page, page.context["origin"], make, page.path.split("/")[0])
    if section == "site":
        b = _briefing_of(page)
        origin, line = (b.path, b.line_of("slug")) if b else (f"templates/{page.template}", 0)
        return Job(path, page.template, page, origin, make, _page_group(page), line)
    if b := page.context.get("briefing"):
        origin, line = b.path, b.line_of("aliases")
    elif "story_line" in page.context:
        origin, line = "site.yaml (stories)", page.context["story_line"]
    else:
        removed = next((r.line for r in archive.config.removed if r.path.lstrip("/") == page.path), 0)
        origin, line = "site.yaml (removed)", removed
    return Job(path, page.template, page, origin, make, "moved", line)


def _feed_job(path: str, view: object, make: Callable[[], bytes], later: Callable[[], object] | None = None) -> Job:
    """Return a feed, the sitemap or robots.txt, unkeyed (its view given, or made `later`): its key
    digests its path, having no template."""
    return Job(path, "", view, "feeds", make, _feed_group(path), key_also=path, later=later)


class Keying:
    """Keys the views of one plan, and given the model's shape, remembers them for the next plan.

    A view's key is the digest of the site-wide inputs, its template's digest and the view. A
    plan of the same shape as the last (`stages.model_shape`: the same listings, order and
    links; the files that differ differ only in what pages show), with the same site-wide
    inputs, keys again only the outputs that hold a briefing whose file changed, and those
    that hold none (the sitemaps, the timeline: they may show what every briefing gives);
    every other output's view is what it was, so its key is the one remembered.

    A plan of a shape other than the last one's keys every output, and finds which briefings
    each output's view holds as it keys it (in the same workers, `planned_all`): both are kept
    for the edits after it, so the first of them is recalled. But where its model was patched from
    the last one (a retag, briefings added, removed or moved: `recall_prior`), it makes most
    briefing pages from what that one made them from, and those keep the keys the last plan of
    that shape gave them, with what they hold.
    The keys kept for a shape stay true for it whatever came in between: each is a function of
    the shape, the site-wide part, its template and the files of the briefings it holds.
    """

    def __init__(
        self, hasher: Hasher, renderer: Renderer, site_wide: bytes, digests: dict[str, str], memo: Memo | None,
        shape: bytes, entries: Sequence[Entry] = (), jobs: int = 1, kept: KeptEntries | None = None,
        made: KeptEntries | None = None, later: contextlib.ExitStack | None = None,
    ) -> None:  # fmt: skip
        self.hasher, self.renderer, self.site_wide, self.digests = hasher, renderer, site_wide, digests
        self.memo, self.shape, self.entries, self.jobs, self.kept = memo, shape, entries, jobs, kept
        self.made, self.later = made, later
        self.given: dict[str, Given] = {}
        self.templates: dict[str, bytes] = {}
        self.readers, self.base, self.since = _last_plan(memo, shape, site_wide) if memo else (None, None, None)
        self.before = self.since.applied(self.base) if self.since and self.base else self.base
        # Which kept keys `before` is (a `PlanSince`'s mark, or the `PlanKeys`' token), and which
        # this plan kept (`keep`, when it keeps them in this process): see `Plan.recalled_from`.
        self.before_as = self.since.mark if self.since else self.base.token if self.base else b""
        self.kept_as = b""
        # A new shape's plan whose model was patched: the briefing pages made as the last model made
        # them, with what the last plan of its shape gave them and what each holds (`recall_prior`).
        self.recalled: Recalled | None = None
        # What each output holds is found as it is keyed (every output is), for the edits after this one.
        self.finding = memo is not None and self.readers is None
        self.holds: list[bytes] = []  # while `finding`: what each output holds (`Readers`), in `given`'s order
        # Each entry's index in the model, by its id (`_declare_atoms`); and by its file, for a briefing
        # a view holds apart from its entry (`_briefing_place`: worked out when one is met).
        self.atoms: dict[int, int] = {}
        self.places: dict[str, int] | None = None
        # Many pages to key again: briefings' pages keyed by workers that make their views too (`planned_all`).
        self.deferring = jobs > 1 and len(entries) >= PARALLEL_KEYS_FROM
        self.reached: set[str] = set()  # the outputs that hold a file `changed`
        self.changed: set[str] = set()  # files whose digest is not the one the last plan of this shape had
        self.clash = False  # two outputs at one path: a plan `unique_outputs` refuses, so nothing of it is kept
        # The last plan's files are those of the shape before, whose model is the one kept: set aside
        # as this plan's are kept, for the next new shape patched from that model (`recall_prior`).
        self.aside = False
        self.reached_at: set[int] = set()  # the same, by place in the readers' outputs
        if self.readers and self.before:
            self.changed = changed_files(self.before.atoms, digests)
            self.reached_at = self.readers.holders(self.changed)
            self.reached = set(map(self.readers.outputs.__getitem__, self.reached_at))

    def recall_prior(self, shape: bytes, unchanged: Callable[[], set[str]]) -> None:
        """Before keying a new shape whose model was patched from one of the `shape` before (a
        retag; briefings added, removed or moved), recall what the last plan of that shape gave
        the outputs `unchanged` names (the briefing pages made as that model made them: most), so
        that only the others are keyed; what each holds comes with it, for the next plans, each
        entry at its place in this model (those that hold an entry this one lacks are keyed).
        The last plan was of that shape, or of another new shape patched from the same model,
        which set that shape's aside (`keep`): two retags or adds in a row recall alike."""
        if self.memo is None or not self.finding:
            return
        readers, base, since = _kept_plan(self.memo, shape, self.site_wide)
        self.aside = readers is not None and base is not None
        if readers is None:  # the last plan was of another new shape: the files it set aside (`keep`)
            readers, base, since = _kept_plan(self.memo, shape, self.site_wide, ASIDE)
        if readers is None or base is None:
            return
        files, holds, leaving = tuple(map(file_of, self.entries)), readers.holds, set()
        if readers.files != files:  # briefings added, removed or moved since: places differ
            place = dict(zip(files, range(len(files)), strict=True))
            leaving = readers.holding(path for path in readers.files if path not in place)
            # Each old place's new one (0: held only by those leaving), in a list: looking a place up
            # in it gives an int it holds, where an `array` makes one (1.6 million at 100,000 briefings).
            moved = list(map(place.get, readers.files, itertools.repeat(0)))
            holds = array("I", map(moved.__getitem__, array("I", holds))).tobytes()
        last = since.applied(base) if since else base
        # A file whose bytes are not those that plan keyed from (edited since the model was kept,
        # then put back as it was in this build): the pages that hold it are keyed again.
        # (A file added holds no output of that plan; one gone, the outputs `leaving` holds.)
        undone = readers.holding(changed_files(last.atoms, self.digests))
        # Only the keys and the sitemap's pages are kept: not the files' digests (about 15 MB at
        # 100,000 briefings, while the workers run).
        outputs, templates, listed = last.outputs, last.templates, last.listed
        del last
        places = dict(zip(readers.outputs, range(len(readers.outputs)), strict=True))
        pages = unchanged()  # (narrowed in place: each copy of a set of 100,000 paths takes a few ms)
        pages.intersection_update(outputs.keys())
        pages.difference_update(leaving, undone)
        digest = self.renderer.template_digest
        if changed := {name for name, known in templates.items() if digest(name) != known}:  # keyed again
            pages = {path for path in pages if outputs[path][4] not in changed}
        bounds = array("I", (0,)) + array("I", readers.ends)
        self.recalled = Recalled(frozenset(pages), outputs, holds, bounds, places, listed)

    def recall_sitemaps(self, listed: tuple[tuple[str, datetime | None], ...]) -> None:
        """Recall the sitemap files (`recall_prior`) that list the pages of this plan's sitemap
        (`listed`: each page's path and date, in its order) that the last plan of the shape
        before listed in them, with the same dates: a file's bytes are those pages and dates
        alone, and after a retag at 100,000 briefings most files list the briefing pages alone,
        which it did not move. Only the dates of the pages not recalled are compared: comparing
        every date of two files of 50,000 took 0.18 to 0.26 s after a retag."""
        recalled = self.recalled
        if recalled is None:
            return
        parts, before = sitemap_parts(listed), sitemap_parts(tuple(recalled.listed.items()))
        same = set()
        for (name, rows), (was, others) in zip(parts, before, strict=False):
            paths = list(map(_LISTED_PATH, rows))
            if name != was or name not in recalled.outputs or paths != list(map(_LISTED_PATH, others)):
                continue
            # A page recalled is listed with the date that plan listed: its key, recalled, digests its
            # view, date and all. The others' dates are compared (after a retag, a few of 50,000).
            fresh = map(operator.not_, map(recalled.pages.__contains__, map(output_file, paths)))
            unsure = list(itertools.compress(range(len(rows)), fresh))
            if written_alike(tuple(map(rows.__getitem__, unsure)), tuple(map(others.__getitem__, unsure))):
                same.add(name)
        self.recalled = replace(recalled, pages=recalled.pages | same)

    def recalls(self) -> bool:
        """Return True when every output but those keyed again (`again`) keeps what the last plan
        gave it, so that only those need a view: the plan has the last one's shape, what each
        output holds is known, and no template changed since."""
        if self.before is None or self.readers is None:
            return False
        digest = self.renderer.template_digest
        if any(digest(name) != known for name, known in self.before.templates.items()):
            return False
        self.templates = dict(self.before.templates)
        return True

    def again(self) -> set[str]:
        """Return the outputs keyed again: those holding a briefing whose file changed, and those holding none."""
        assert self.before is not None and self.readers is not None  # see `recalls`
        return (self.reached | self.readers.none) & self.before.outputs.keys()

    def planned_all(self, work: list[Job]) -> list[Planned]:
        """Return each output of `work` (`planned`). Where there are many to key again, their
        keys are worked out by the build's forked workers: a key is a function of its job alone
        (the hasher's memo changes its speed, not its digests), so where it is worked out does
        not change it. The workers inherit the views, or make those not made yet (`Job.later`):
        this process then makes only those of the pages it renders."""
        # The entries most views hold (a listing two hundred) are known, but for those patched,
        # if their digests were kept (`KeptEntries`).
        self.seed_kept()
        if self.jobs <= 1 or len(work) < PARALLEL_KEYS_FROM:  # too few to look through twice
            return [self.planned(job) for job in work]
        again = [job for job in work if self._remembered(job.path, job.template, self._template(job)) is None]
        if len(again) < PARALLEL_KEYS_FROM:
            return [self.planned(job) for job in work]
        # The other entries first: each digested by one worker, then known to every worker that
        # keys the views (as a digest known by other means).
        entries = tuple(entry for entry in self.entries if self.hasher.known(entry) is None)
        digests = forked_map(lambda n: self.hasher.digest(entries[n]), len(entries), self.jobs)
        for entry, digest in zip(entries, digests, strict=True):
            self.hasher.seed(entry, digest)
        if self.finding:
            self._declare_atoms()  # before the workers start: they find what each view holds too
        # The key of each output, and what it holds (as `array` bytes: about 6 MB at 100,000, not 80 as ints).
        keyed = forked_map(lambda n: self._keyed_holding(again[n]), len(again), self.jobs)
        keys = dict(zip(map(id, again), keyed, strict=True))
        return [self.planned(job, *keys.get(id(job), (None, None))) for job in work]

    def seed_kept(self, reached: bool = False) -> None:
        """Seed the hasher with the kept digests of the kept model's entries (`KeptEntries`), if
        the memo has them. This model shares the entries it did not patch with that one, as the
        same objects: by identity, those are known; the others it holds are new objects, digested
        when met.

        With `reached`, only the entries the outputs `reached` held in the last plan (`Readers`):
        what a plan that recalls the last one keys again holds (an edit of the newest of 100,000
        briefings: 1,640 of them, where seeding all took 50 ms). Any other it meets is digested: the digests
        are the same either way, seeded or not. Not while the model kept for the builds after this
        one is this plan's: it keeps every entry's digest (`keep_digests`)."""
        kept = self.kept
        known = self.memo.recall("entry_digests", kept.token) if self.memo and kept else None
        if kept is None or not isinstance(known, tuple) or len(known) != len(kept.entries):
            return
        if not reached or self.readers is None or self.made is not None:
            self.hasher.seed_all(kept.entries, known)
            return
        places = sorted(place for place in self.readers.held(self.reached_at) if place < len(known))
        self.hasher.seed_all(tuple(map(kept.entries.__getitem__, places)), tuple(map(known.__getitem__, places)))

    def keep_digests(self) -> None:
        """Keep the digests of the entries of the model kept for the builds after this one
        (`made`). The plan knows all of them if it keyed every page; if it was seeded, all but
        those of the entries patched that no view keyed again holds (a plan after the build that
        patched them, with the same files): those few are digested here, and not many more (a
        model made afresh whose plan was recalled: nothing is kept)."""
        if self.memo is None or self.made is None:
            return
        entries = self.made.entries
        digests = self.hasher.known_all(entries)  # (in C, as are those it does not know: 100,000 entries)
        unknown = list(itertools.compress(range(len(digests)), map(operator.is_, digests, itertools.repeat(None))))
        if len(unknown) * DIGESTS_KEPT_FROM > len(entries):
            return
        for place in unknown:
            digests[place] = self.hasher.digest(entries[place])
        self.memo.remember("entry_digests", self.made.token, tuple(digests))

    def planned(self, job: Job, key: str | None = None, holds: bytes | None = None) -> Planned:
        """Return one output, keyed again (or given its `key`, and what it `holds` when that is being
        found, worked out by `planned_all`) or with the key remembered (see the class)."""
        digest = self._template(job)
        if job.template:
            self.templates[job.template] = digest
        reused = key is None and (key := self._remembered(job.path, job.template, digest)) is not None
        if reused and self.recalled is not None:  # a term's page or feed recalled: what it holds comes with it
            holds = self.recalled.held_by(job.path)
        if key is None:
            key, holds = self._keyed_holding(job)
        if self.memo is not None:
            self.clash = self.clash or job.path in self.given
            self.given[job.path] = (key, job.origin, job.group, job.line, job.template)
        if self.finding:
            assert holds is not None  # (while finding, no key is remembered: see `_remembered`)
            self.holds.append(holds)
        return Planned(job.path, key, job.origin, job.make, job.group, job.line, reused)

    def kept_prior(self, paths: list[str]) -> dict[str, Given]:
        """Return what the last plan of the shape before gave these briefing pages, which this plan
        recalls (`recall_prior`), by path; keep it for this shape, with what each holds (found in C:
        after a retag at 100,000 briefings, 100,000 pages)."""
        recalled = self.recalled
        if recalled is None:
            return {}
        kept = dict(zip(paths, map(recalled.outputs.__getitem__, paths), strict=True))
        self.clash = self.clash or len(kept) < len(paths) or not self.given.keys().isdisjoint(kept)
        self.given.update(kept)
        self.holds += recalled.held_by_all(paths)
        # Their templates are this plan's too (each digest is the one that plan had: `recall_prior`),
        # so that the next plan recalls them only while none changed (`recalls`).
        for template in set(map(_TEMPLATE_GIVEN, kept.values())) - {""}:  # (a feed has none)
            self.templates[template] = self.renderer.template_digest(template)
        self.recalled = None  # done with the shape before: it goes before this plan's is kept (pickled whole)
        return kept

    def _template(self, job: Job) -> bytes:
        return self.renderer.template_digest(job.template) if job.template else b""

    def _keyed_holding(self, job: Job) -> tuple[str, bytes | None]:
        """Return a job's key, worked out again (its view made first, if it was not), and while
        they are being found (`finding`), the entries its view holds: their indexes in the model,
        as the bytes of an `array` of unsigned ints."""
        view = job.view if job.view is not None or job.later is None else job.later()
        assert view is not None, f"{job.path}: deferred, but its key is not remembered"
        key = self.hasher.key(self.site_wide, job.key_also or self._template(job), view)
        if not self.finding:
            return key, None
        self._declare_atoms()
        found: set[int] = set()
        self.hasher.reads(view, self.atoms, found, self._briefing_place)
        return key, array("I", found).tobytes()

    def _declare_atoms(self) -> None:
        """Name each entry by its index in the model (`Hasher.reads`), once: what holds it holds
        that file's content. A briefing is named by its file (`_briefing_place`), not here: naming
        each by its id would make every briefing of a model loaded from the cache (`Entry`)."""
        if not self.atoms:
            self.atoms = dict(zip(map(id, self.entries), range(len(self.entries)), strict=True))

    def _briefing_place(self, value: object) -> int | None:
        """Return the index in the model of the entry of a briefing a view holds (by its file), or
        None for any other value (`Hasher.reads`)."""
        if type(value) is not Briefing:
            return None
        if self.places is None:
            self.places = dict(zip(map(file_of, self.entries), range(len(self.entries)), strict=True))
        return self.places.get(value.path)

    def needs_view(self, path: str, template: str) -> bool:
        """Return True unless the output's key is the one remembered (its view is not needed to key
        it), or workers will make its view to key it (`deferring`)."""
        return not self.deferring and self._remembered(path, template, self.renderer.template_digest(template)) is None

    def _remembered(self, path: str, template: str, digest: bytes) -> str | None:
        if (recalled := self.recalled) is not None:  # an output recalled (`recall_prior`), or none
            return recalled.outputs[path][0] if path in recalled.pages else None
        if self.before is None or self.readers is None or path in self.reached or path in self.readers.none:
            return None
        if template and self.before.templates.get(template) != digest:
            return None
        given = self.before.outputs.get(path)
        return given[0] if given else None

    def keep(self, listed: dict[str, datetime | None], dates: dict[str, datetime | None] | None = None) -> None:
        """Remember, for this plan's shape, what it gave each output and the sitemap's pages, and
        which outputs hold each briefing if they were found (`finding`). A plan that recalled
        the last one's (`recalls`) gives `dates`, those of the pages it keyed again: what it
        changed is then kept apart (`PlanSince`) while it is small. A new shape's plan that
        recalled the last plan, of the shape of the model kept (not this one's), sets that plan's
        files aside first (`ASIDE`), for the next new shape patched from that model; a plan
        whose model is kept drops those set aside. A new shape's plan keeps all of it, which a
        forked child writes while the build goes on, given `later` (half a second at 100,000)."""
        if self.memo is None or self.clash:
            return
        if self.finding and self.later is not None:  # a new shape's: all of it (25 MB at 100,000 briefings)
            in_background(self.later, functools.partial(self._keep, self.memo, listed, dates))
        else:
            self._keep(self.memo, listed, dates)

    def _keep(self, memo: Memo, listed: dict[str, datetime | None], dates: dict[str, datetime | None] | None) -> None:
        for name in PLAN_FILES:
            if self.made is not None:  # the model kept for the builds after is this plan's: none set aside
                memo.forget(ASIDE + name)
            elif self.aside:  # it is the one the last plan was of
                memo.set_aside(name, ASIDE + name)
        if self.finding:
            files = tuple(map(file_of, self.entries))
            ends = array("I", itertools.accumulate(len(holds) // ITEM for holds in self.holds)).tobytes()
            outputs = tuple(self.given)  # (no path twice: a plan with a `clash` keeps nothing)
            none = frozenset(path for path, holds in zip(outputs, self.holds, strict=True) if not holds)
            readers = Readers(files, outputs, b"".join(self.holds), ends, none)
            memo.remember("readers", self.shape, readers)
        if dates is not None and self.base is not None and self._keep_since(dates):
            return
        # A plan that recalled the last one gave only the outputs it keyed again; the rest are the last one's.
        given = self.given if dates is None or self.before is None else self.before.outputs | self.given
        kept = PlanKeys(given, self.site_wide, dict(self.digests), self.templates, listed, os.urandom(8))
        memo.remember("plan_keys", self.shape, kept)
        self.kept_as = kept.token

    def _keep_since(self, dates: dict[str, datetime | None]) -> bool:
        """Keep what this plan changed since the base `PlanKeys` (with what the plans between
        changed), unless that is no longer a small share of it; return True if kept."""
        assert self.memo is not None and self.base is not None
        base, since = self.base, self.since or PlanSince(self.base.token, {}, {}, {})
        changed = since.outputs | self.given  # what the plans between changed, then what this one keyed again
        outputs = {path: given for path, given in changed.items() if base.outputs.get(path) != given}
        # Files differ from the base's if they did in the plans between or do since the last (not all 100,000).
        digests, files = self.digests, since.atoms.keys() | self.changed
        atoms = {path: digests[path] for path in files if path in digests and base.atoms.get(path) != digests[path]}
        if max(len(outputs), len(atoms)) * SINCE_AT_MOST > len(base.outputs):
            return False
        kept = PlanSince(base.token, outputs, atoms, since.dates | dates, os.urandom(8))
        self.memo.remember("plan_since", self.shape, kept)
        self.kept_as = kept.mark
        return True


PLAN_FILES = ("readers", "plan_keys", "plan_since")  # what a plan keeps for its shape (`Keying.keep`)
ASIDE = "aside-"  # before each, for the shape of the model kept while the last plan was of another


def _kept_plan(
    memo: Memo, shape: bytes, site_wide: bytes, prefix: str = ""
) -> tuple[Readers | None, PlanKeys | None, PlanSince | None]:
    """Return what the memo keeps of the last plan of a shape (or, with the `ASIDE` prefix, of
    the shape set aside): what each output holds, the keys it gave them (if the site-wide inputs
    are the same) and what plans changed since (for those keys)."""
    readers = memo.recall(prefix + "readers", shape)
    if not isinstance(readers, Readers):
        return None, None, None
    base = memo.recall(prefix + "plan_keys", shape)
    if not isinstance(base, PlanKeys) or base.site_wide != site_wide:
        return readers, None, None
    since = memo.recall(prefix + "plan_since", shape)
    return readers, base, since if isinstance(since, PlanSince) and since.token == base.token else None


def _last_plan(memo: Memo, shape: bytes, site_wide: bytes) -> tuple[Readers | None, PlanKeys | None, PlanSince | None]:
    """Return what the memo keeps of the last plan of a shape (`_kept_plan`). If that is the
    shape of the model kept, and plans of another came since (a retag, a briefing added, then
    undone), its files were set aside (`Keying.keep`): they are put back and given, as if no
    other plan had come between, and those of the other shape are dropped."""
    found = _kept_plan(memo, shape, site_wide)
    if found[0] is None and (found := _kept_plan(memo, shape, site_wide, ASIDE))[0] is not None:
        for name in PLAN_FILES:
            memo.set_aside(ASIDE + name, name)
    return found


def output_paths(root: Path, archive: Archive, assets: Iterable[str] = ()) -> set[str]:
    """Return the path of every output but the search index's, unkeyed: what a failed build
    would have served, for checking links in the same run."""
    pages = site_pages(archive)
    paths = {".nojekyll", SITE_MARKER, *read_static(root), *map(media_path, assets)}
    paths |= {output_file(page.path) for page in (*pages, *moved_pages(archive), *given_way_pages(archive))}
    listed = [(page.path, page.modified) for page in pages]
    return paths | {path for path, _, _ in feed_jobs(site_view(archive.config), archive, listed, lambda _: "")}


@contextlib.contextmanager
def search_index(
    archive: Archive,
    words: Words | None,
    memo: Memo | None,
    shape: bytes = b"",
    patched_from: tuple[Entry, ...] | None = None,
) -> Iterator[Callable[[], dict[str, bytes]]]:
    """Start making the search index's files (none without `words`); yield a function that waits for them.

    The postings the memo kept are updated (and the new ones kept). Past CHILD_INDEX_FROM
    briefings they are made in a forked child, but for an update in place of a few: postings kept
    for this model's `shape` (a memo slot says so without loading them), with at most
    INDEX_HERE_AT_MOST entries not those of the model it was `patched_from` (those of the files an
    edit changed). There the child did little
    but load the postings, and while it lived each page of memory this process wrote to was first
    copied (copy on write): an edit at 100,000 briefings took 0.45 s more CPU time so, for the same wall time
    (docs/performance.md, "The search index of an edit, made in this process").
    """

    def make_index() -> dict[str, bytes]:
        if words is None:
            return {}
        kept = memo.recall_tables("postings", words.stamp) if memo else None
        index, postings = build_index(archive, words, postings_from(*kept) if kept else None, shape)
        if memo:
            memo.remember_tables("postings", words.stamp, *postings_tables(postings))
            memo.remember("postings_shape", words.stamp, shape)  # what the next build decides by
        return index.files

    if (
        words is None
        or len(archive.entries) <= CHILD_INDEX_FROM
        or _updated_here(memo, words, shape, patched_from, archive.entries)
    ):
        yield make_index
        return
    # At scale its working memory (about 130 MB at 100,000 briefings) goes with the child.
    with in_child(make_index) as made:
        yield made


def _updated_here(
    memo: Memo | None, words: Words, shape: bytes, patched_from: tuple[Entry, ...] | None, entries: tuple[Entry, ...]
) -> bool:
    """Return True when the postings the memo keeps are updated in place for a few briefings
    (`search_index`): kept for this shape, with at most INDEX_HERE_AT_MOST of the `entries` not
    those of the model they were `patched_from`, place by place (found in C; a model of another
    length has briefings added or removed)."""
    if memo is None or not shape or patched_from is None or len(patched_from) != len(entries):
        return False
    if sum(map(operator.is_not, patched_from, entries)) > INDEX_HERE_AT_MOST:
        return False
    return memo.recall("postings_shape", words.stamp) == shape


def _known_briefing(digests: dict[str, str], value: object) -> bytes | None:
    """Return the digest a briefing is known by (its file's path and digest, which with the
    settings decide it), or None for anything else (`keys.Hasher`)."""
    if type(value) is not Briefing:
        return None
    return digest_text(value.path, digests[value.path])


def _deferred(renderer: Renderer, page: Deferred) -> Job:
    """Return a briefing's page not made yet, unkeyed: its key is remembered, or worked out from
    the view `later` makes; here it is made (view and all) only if it is made."""
    b, path = page.briefing, output_file(page.path)
    make = functools.partial(_render_later, renderer, page.make)
    return Job(path, page.template, None, b.path, make, "briefings", b.line_of("slug"), later=page.make)


def _render_later(renderer: Renderer, make: Callable[[], Page]) -> bytes:
    """Make a deferred page's view, then render it."""
    return renderer.page_maker(make())()


def _briefing_of(page: Page) -> Briefing | None:
    """Return the briefing whose own page this is, if it is one."""
    entry = page.context.get("entry")
    return entry.briefing if page.template == BRIEFING_TEMPLATE and entry is not None else None


def site_view(config: SiteConfig) -> SiteConfig:
    """Return the settings as templates and feeds see them (what their keys digest): all but the
    removed URLs, which reach only their own notice pages, so editing that list rebuilds nothing else."""
    return replace(config, removed=())


def _page_group(page: Page) -> str:
    """Return the kind of page, for the size report."""
    if page.template == BRIEFING_TEMPLATE:
        return "briefings"
    if page.template in ("timeline.html", "year.html", "month.html"):
        return "timeline"
    if (first := page.path.split("/")[0]) in BY_NAME or first == "corrections":
        return first
    if page.template == "search.html":
        return "search"
    return "home" if page.template == "index.html" else "other"


def _feed_group(path: str) -> str:
    """Return the kind of machine-readable file, for the size report."""
    if path.endswith(("feed.xml", "feed.json")):
        return "feeds"
    return "sitemap" if "sitemap" in path else "other"


def _constant(data: bytes) -> Callable[[], bytes]:
    return lambda: data
