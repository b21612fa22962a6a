"""The build, as a list of stages: load -> validate -> model -> plan -> write.

Owns running the stages in order and the two entry points, `check` (everything but
writing) and `build`. Loading is per file, cached by content digest and parallel; the
complete archive is then modelled in memory, every output of the site is planned with a
key (a digest of exactly what it is made from), and only outputs whose key changed are
made. See docs/architecture.md. May not hold page logic.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import ParamSpec, TypeVar

from briefings import sources
from briefings.archive import Archive, briefing_urls, build_archive
from briefings.bodies import BodyStore, body_store
from briefings.cache import CACHE_DIR, Cache
from briefings.clock import Position, build_time, is_due, position
from briefings.config import SiteConfig, load_config
from briefings.content import Briefing
from briefings.errors import BuildFailed, CacheDamaged, SourceError, collapse, os_problem
from briefings.keys import digest_text
from briefings.kinds import KINDS
from briefings.links import dangling_references, resolve_bodies
from briefings.lock import one_at_a_time
from briefings.outputs import Planned
from briefings.plan import output_paths, plan_site
from briefings.progress import Progress
from briefings.records import Record, RecordParser
from briefings.sources import (
    Content,
    SourceFile,
    inputs_digest,
    list_content,
    listed_inputs_digest,
    read_content,
    remember_digests,
)
from briefings.urls import output_file
from briefings.workers import available_cores, forked_map, parallel_map
from briefings.write import WriteReport, unique_outputs, write_site

OUTPUT_DIR = "_site"
T = TypeVar("T")
P = ParamSpec("P")
COLLECT_EVERY = 50_000  # allocations between collections of the youngest generation (Python's default: 700)


@dataclass(frozen=True)
class Options:
    """How to build: which briefings, for which address, with how many processes."""

    drafts: bool = False
    base_url: str | None = None
    scheduled: bool = False  # also briefings dated after the build's clock, with a banner (the preview, check)
    jobs: int = 0  # 0: every available core
    cache: bool = True  # False: neither read nor write .cache/

    @property
    def workers(self) -> int:
        """Return the number of worker processes to use."""
        return self.jobs or available_cores()


@dataclass(frozen=True)
class Report:
    """What a build made, for the closing summary: pages, files, briefings and terms of each kind."""

    written: WriteReport
    pages: int
    files: int
    briefings: int
    terms: tuple[tuple[str, int], ...]  # (kind name, how many), in the order of `KINDS`
    scheduled: int = 0  # briefings dated after the build's clock: checked, not published
    archive: Archive | None = None  # the model, when this build made one (not when nothing changed)


@dataclass(frozen=True)
class Session:
    """One run of the stages over the archive at `root`: its settings, options, cache and body store."""

    root: Path
    config: SiteConfig
    options: Options
    progress: Progress
    cache: Cache | None
    store: BodyStore
    now: datetime  # the build's clock (`clock.build_time`)


def few_collections(stage: Callable[P, T]) -> Callable[P, T]:
    """Run a whole build stage with the cyclic garbage collector run 70 times less often.

    A build makes hundreds of thousands of long-lived objects (records, the model, keys)
    and few reference cycles. At Python's default threshold (a collection every 700
    allocations) the collector scans them again and again: a fifth of a one-edit build at
    10,000 briefings. The setting is restored when the stage returns.
    """

    @functools.wraps(stage)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        threshold = gc.get_threshold()
        gc.set_threshold(COLLECT_EVERY, *threshold[1:])
        try:
            return stage(*args, **kwargs)
        finally:
            gc.set_threshold(*threshold)

    return run


def load_config_for(root: Path, options: Options) -> SiteConfig:
    """Read site.yaml, served from `--base-url` when given."""
    config = load_config(root / "site.yaml")
    return config.with_base_url(options.base_url) if options.base_url else config


@contextlib.contextmanager
def session(
    root: Path, options: Options, progress: Progress, cache: Cache | None, now: datetime | None = None
) -> Iterator[Session]:
    """Open a run of the stages at the build's clock (read now unless given): read site.yaml, open
    the body store (in the cache, or a temporary one)."""
    config = load_config_for(root, options)
    now = now or build_time()
    stamp = digest_text(cache.engine if cache else "", repr(config.parsing)).hex()
    with body_store(cache.folder if cache else None, stamp, cache.key if cache else os.urandom(32)) as store:
        yield Session(root, config, options, progress, cache, store, now)


def usable_cache(root: Path, options: Options, progress: Progress) -> Cache | None:
    """Return the archive's cache, or None without one (`--no-cache`, or `.cache` is not a folder)."""
    if not options.cache:
        return None
    folder = root / CACHE_DIR
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        progress.note(f"{CACHE_DIR} is not a folder, so this build keeps no cache; delete it to have one")
        return None
    return Cache(root)


def exclusive(stage: Callable[[Path, Options, Progress], T]) -> Callable[[Path, Options, Progress], T]:
    """Run a stage holding the archive's build lock; if the cache proves damaged, clear it and run it once more."""

    @functools.wraps(stage)
    def run(root: Path, options: Options, progress: Progress) -> T:
        with one_at_a_time(root, lambda: progress.note("Waiting for another build of this archive to finish...")):
            try:
                return stage(root, options, progress)
            except CacheDamaged as damage:
                progress.note(f"{CACHE_DIR}/{damage}: the cache was cleared and the build runs again without it")
                Cache(root).clear()
                return stage(root, options, progress)

    return run


def load_records(run: Session, content: Content) -> tuple[list[Record], list[SourceError], bool]:
    """Return a record per content file, in path order, parsing only files whose bytes changed,
    the errors of files refused unread, and whether any record changed since the cached ones.

    Bodies go to the store as they are parsed: records keep only their links.
    """
    files, errors, cache, store = content.files, content.refused, run.cache, run.store
    settings = run.config.parsing
    cached = cache.load_records(settings) if cache else {}
    stored = store.digests() if cached else set()
    # A file listed unread (digest None) differs from every record.
    stale = [f for f in files if (r := cached.get(f.path)) is None or r.digest != f.digest or _lost(r, stored)]
    parser = RecordParser(settings)
    fresh = {}
    parsed = parallel_map(lambda f: _parse(parser, run.root, f), stale, run.options.workers)
    batch: list[tuple[str, str, str]] = []
    for done, (record, kept) in enumerate(parsed, start=1):
        if kept is not None:
            html, words = kept
            batch.append((record.digest, html, words))
        fresh[record.path] = record
        if len(batch) >= 500:
            store.put(batch)
            batch = []
        run.progress.update("Reading briefings", done, len(stale))
    store.put(batch)
    records = [fresh.get(f.path) or cached[f.path] for f in files]
    changed = bool(fresh) or len(cached) != len(records)
    if cache and changed:
        removed = cached.keys() - {f.path for f in files}
        cache.save_records(settings, {record.path: record for record in records}, set(fresh) | removed)
    if cache:
        remember_digests(run.root, cache, content, ((r.path, r.digest) for r in records))
    return records, errors, changed


def _parse(parser: RecordParser, root: Path, file: SourceFile) -> tuple[Record, tuple[str, str] | None]:
    """Read and parse one file; a file gone or unreadable since it was listed is an error, not a crash."""
    try:
        data = sources.read_bytes(root / file.path)
    except OSError as exc:
        problem = SourceError(file.path, 0, f"cannot be read ({exc.strerror or exc}); build again once it is in place")
        return Record(file.path, file.digest or "", None, None, (problem,)), None
    return parser.parse_apart(file.path, data)


def _lost(record: Record, stored: set[str]) -> bool:
    """Return True for a cached record whose body is missing from the store."""
    return record.body is not None and record.digest not in stored


def model_archive(
    run: Session, records: list[Record], unreadable: list[SourceError], assets: frozenset[str] = frozenset()
) -> tuple[Archive, list[SourceError]]:
    """Validate across files and model the archive of the valid ones; return it with every
    problem found (none: it may be published)."""
    config, options = run.config, run.options
    errors = [*unreadable, *(error for record in records for error in record.errors)]
    unpublished = unpublished_briefings(records, run.now)
    # Files with field errors take part through their stand-ins (never published), so that
    # every error shows in one run: their links and names are checked, links to them found.
    read = [r for r in records if r.as_read is not None and shown_at(r.as_read, run.now, options)]
    paths, url_errors = briefing_urls(r.as_read for r in records if r.as_read is not None)
    # A link to a file whose errors hide its URL is not an error of its own: that file's are.
    hidden = {r.path: "" for r in records if r.as_read is None} | {e.path: "" for e in unreadable}
    bodies, link_errors = resolve_bodies(config, read, paths | hidden, unpublished, assets)
    shown = [r.briefing for r in read if r.briefing is not None]
    standins = [r.standin for r in read if r.standin is not None]
    scheduled = frozenset(b.path for b in shown if not is_due(b.date, run.now))
    archive, model_errors = build_archive(config, shown, paths, bodies, run.cache, standins, scheduled, run.now)
    errors += url_errors + link_errors + model_errors
    if errors:  # the links no output would serve, found without planning the site
        served = output_paths(run.root, archive, assets) | {output_file(paths[b.path]) for b in standins}
        linking = [*((e.briefing, e.site_links) for e in archive.entries), *((b, bodies[b.path][1]) for b in standins)]
        errors += dangling_references(linking, served)
    return archive, errors


def shown_at(briefing: Briefing, now: datetime, options: Options) -> bool:
    """Return True when a briefing is in the site built at `now`: published, or a draft or a
    scheduled briefing the options ask for (the preview, check)."""
    if briefing.draft:
        return options.drafts
    return options.scheduled or is_due(briefing.date, now)


def unpublished_briefings(records: list[Record], now: datetime) -> dict[str, str]:
    """Return why each briefing that is not published at `now` is not (a draft, scheduled), by file path."""
    found = {}
    for record in records:
        b = record.as_read
        if b is not None and b.draft:
            found[b.path] = "a draft"
        elif b is not None and not is_due(b.date, now):
            found[b.path] = f"which is scheduled: it goes live at {b.date.isoformat(timespec='minutes')}"
    return found


@dataclass(frozen=True)
class Planning:
    """What every stage but writing gives: the archive, the keyed plan of every output file, each
    content file's digest by path, and when the briefings not yet due are (by file path)."""

    archive: Archive
    planned: list[Planned]
    digests: dict[str, str]
    scheduled: dict[str, datetime]
    position: Position


def load_and_plan(run: Session, content: Content) -> Planning:
    """Run every stage but writing (see `Planning`)."""
    records, unreadable, changed = load_records(run, content)
    archive, errors = model_archive(run, records, unreadable, frozenset(content.assets))
    if errors:
        raise BuildFailed(errors)
    cache, store = run.cache, run.store
    compiled = cache.compiled_templates() if cache else None
    digests = {r.path: r.digest for r in records}
    planned = plan_site(run.root, archive, digests, store.html, compiled, store, cache, content.assets)
    if cache and changed:  # only now: planning read the previous words of changed files for the search index
        store.keep_only(set(digests.values()))
    unique_outputs(planned)
    dangling = dangling_references(((e.briefing, e.site_links) for e in archive.entries), {p.path for p in planned})
    if dangling:
        raise BuildFailed(dangling)
    published = [r.briefing for r in records if r.briefing is not None and not r.briefing.draft]
    scheduled = {b.path: b.date for b in published if not is_due(b.date, run.now)}
    clock = position(run.now, (b.date for b in published), run.config.news_sitemap)
    return Planning(archive, planned, digests, scheduled, clock)


@few_collections
def plan(root: Path, options: Options) -> tuple[Archive, list[Planned], Content]:
    """Return the archive, the keyed plan of its site and its content files, making nothing (to
    compare two revisions)."""
    return _plan(root, options, Progress(enabled=False))


@exclusive
def _plan(root: Path, options: Options, progress: Progress) -> tuple[Archive, list[Planned], Content]:
    cache = usable_cache(root, options, progress)
    with session(root, options, progress, cache) as run:
        content = read_content(root, run.cache)
        planning = load_and_plan(run, content)
        return planning.archive, planning.planned, content


@dataclass(frozen=True)
class Survey:
    """What an archive with errors still tells: its settings, its files and what each one gave."""

    config: SiteConfig
    content: Content
    records: list[Record]


@few_collections
def survey(root: Path, options: Options) -> Survey:
    """Read and parse every file, checking nothing across files (for an archive that cannot be planned)."""
    return _survey(root, options, Progress(enabled=False))


@exclusive
def _survey(root: Path, options: Options, progress: Progress) -> Survey:
    cache = usable_cache(root, options, progress)
    with session(root, options, progress, cache) as run:
        content = read_content(root, run.cache)
        records, _, _ = load_records(run, content)
        return Survey(run.config, content, records)


@few_collections
def check(root: Path, options: Options | None = None, progress: Progress | None = None) -> Planning:
    """Validate everything a build would (drafts and scheduled briefings too), rendering every
    page in memory; write no site (only the cache)."""
    checking = replace(options or Options(), drafts=True, scheduled=True)
    return _check(root, checking, progress or Progress(enabled=False))


@exclusive
def _check(root: Path, options: Options, progress: Progress) -> Planning:
    cache = usable_cache(root, options, progress)
    with session(root, options, progress, cache) as run:
        planning = load_and_plan(run, read_content(root, run.cache, defer=True))
        _say_damage(cache, progress)
        planned = planning.planned
        attempts = forked_map(lambda index: planned[index].attempt()[1], len(planned), options.workers)
        errors = [error for problems in attempts for error in problems]
    if errors:
        raise BuildFailed(collapse(errors))
    return planning


@few_collections
def build(
    root: Path, options: Options | None = None, *, progress: Progress | None = None, output: str = OUTPUT_DIR
) -> Report:
    """Build the site into `root/<output>` (`_site`), swapping it in only when every file is ready."""
    stage = functools.partial(_build, output=output)
    return exclusive(stage)(root, options or Options(), progress or Progress(enabled=False))


def _build(root: Path, options: Options, progress: Progress, output: str) -> Report:
    cache = usable_cache(root, options, progress)
    engine = cache.engine if cache else ""
    shaping = (options.drafts, options.scheduled, options.base_url)  # the options that change the output
    now = build_time()
    listing = list_content(root)
    # Nothing to do if the files look as they did (100,000 briefings decided in a few tenths of a
    # second), or if their bytes are as they were (touched, or checked out again: each changed one is read).
    listed = listed_inputs_digest(root, shaping, listing, engine) if cache else ""
    if cache and listed and (unchanged := cache.unchanged_build(root / output, now, listed=listed)):
        return Report(WriteReport(0, 0, 0, unchanged[1]), *unchanged[0])
    content = read_content(root, cache, defer=True, listing=listing)
    inputs = inputs_digest(root, shaping, content, engine) if content.unread is None else ""
    if cache and inputs and (unchanged := cache.unchanged_build(root / output, now, inputs=inputs, listed=listed)):
        return Report(WriteReport(0, 0, 0, unchanged[1]), *unchanged[0])
    with session(root, options, progress, cache, now) as run:
        planning = load_and_plan(run, content)
        archive, planned = planning.archive, planning.planned
        _say_damage(cache, progress)
        inputs = inputs or inputs_digest(root, shaping, content.with_digests(planning.digests), engine)
        terms = tuple((kind.name, len(archive.terms[kind.name])) for kind in KINDS)
        pages = sum(1 for p in planned if p.path.endswith(".html"))
        counts = (pages, len(planned), len(archive.entries), terms, len(planning.scheduled))
        stamp = (inputs, listed, counts, planning.position)
        try:
            written = write_site(root / output, planned, run.cache, options.workers, run.progress, stamp)
        except OSError as exc:
            where = _site_path(root, output, exc.filename)
            raise BuildFailed([SourceError(where, 0, f"cannot be written: {os_problem(exc)}")]) from None
    return Report(written, *counts, archive=archive)


def _say_damage(cache: Cache | None, progress: Progress) -> None:
    """Say, in one line, which cache files were ignored as damaged (what they held was made again)."""
    if cache and cache.damaged:
        shown = ", ".join(sorted(set(cache.damaged))[:3]) + (" and others" if len(set(cache.damaged)) > 3 else "")
        progress.note(f"{shown}: damaged or not written by this build, so ignored; what it held was made again")


def _site_path(root: Path, output: str, filename: object) -> str:
    """Return the file an I/O error names as the user knows it: a file of `_site/` for one of its spare."""
    if not isinstance(filename, str) or not filename:
        return f"{output}/"
    path = Path(filename).absolute()
    for folder, shown in ((root / CACHE_DIR / f"spare{output}", output), (root, "")):
        with contextlib.suppress(ValueError):
            return f"{shown}/{path.relative_to(folder.absolute()).as_posix()}".lstrip("/")
    return filename
