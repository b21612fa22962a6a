"""The stages between listing the files and writing the site: records, model, plan.

Owns turning the content files into records (parsed per file, cached by content digest,
in parallel), validating across files and modelling the archive, and planning every
output with its key. `pipeline` runs them, and imports this module only once it knows
there is work to do: a build with nothing to do never loads the parser, the templates or
the model (about a tenth of a second of every command's start). May not hold page logic.
"""

from __future__ import annotations

import contextlib
import functools
import marshal
import operator
import os
from collections.abc import Callable, Iterable, Iterator, KeysView
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import chain, compress, repeat
from pathlib import Path
from typing import TYPE_CHECKING

from briefings import sources
from briefings.archive import (
    Archive,
    Entry,
    briefing_urls,
    build_archive,
    entries_of,
    entry_path,
    keep_ranking,
    linking_to,
    with_edits,
    with_terms,
)
from briefings.bodies import BodyStore, body_store
from briefings.cache import Cache, slot_files
from briefings.clock import Position, build_time, is_due, position
from briefings.config import ParseSettings, SiteConfig
from briefings.content import Briefing, share_values
from briefings.errors import BuildFailed, CacheDamaged, SourceError
from briefings.keys import Hasher, digest_text
from briefings.links import Unplaced, dangling_references, resolve_bodies
from briefings.outputs import Plan
from briefings.plan import KeptEntries, Prior, output_paths, plan_site
from briefings.progress import Progress
from briefings.records import Record, RecordParser, Summary, index_rows, summaries_from, summary
from briefings.sources import Content, remember_digests
from briefings.tables import rows_of
from briefings.urls import briefing_path, href, output_file
from briefings.workers import in_background, parallel_map
from briefings.write import unique_outputs

if TYPE_CHECKING:
    from briefings.pipeline import Options


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
    # Work started in the background (`in_background`), which the session waits for as it closes.
    later: contextlib.ExitStack


@contextlib.contextmanager
def session(
    root: Path,
    config: SiteConfig,
    options: Options,
    progress: Progress,
    cache: Cache | None,
    now: datetime | None = None,
) -> Iterator[Session]:
    """Open a run of the stages with these settings at the build's clock (read now unless given):
    open the body store (in the cache, or a temporary one). Closing it waits for the work the
    stages left in the background (`Session.later`)."""
    now = now or build_time()
    stamp = digest_text(cache.engine if cache else "", repr(config.parsing)).hex()
    folder, key = (cache.folder, cache.key) if cache else (None, os.urandom(32))
    with body_store(folder, stamp, key) as store, contextlib.ExitStack() as later:
        yield Session(root, config, options, progress, cache, store, now, later)


@dataclass(frozen=True)
class Records:
    """A record per content file, loaded only when asked for: a build whose edits keep the
    model's shape needs the edited files' records and the summaries of the others (`Summary`:
    at 100,000, the records took 2.5 to 3.6 s to load, their summaries 0.5 s).

    `index` has every listed file's summary, in path order; `fresh` the records parsed in this
    build; `load` gives the others' by path (from the cache's shards), with others kept beside
    them, or every one; `kept` holds every record loaded (in the preview, since it started);
    `facts` what the build works out from the whole index (`IndexFacts`).
    """

    index: dict[str, Summary]
    fresh: dict[str, Record]
    load: Callable[[Iterable[str] | None], dict[str, Record]]
    facts: IndexFacts
    kept: dict[str, Record] = field(default_factory=dict)

    def of(self, paths: Iterable[str]) -> list[Record]:
        """Return the records of these listed files."""
        paths = list(paths)
        wanted = [path for path in paths if path not in self.fresh]
        missing = [path for path in wanted if path not in self.kept]
        if missing:
            self.kept.update(self.load(missing))
        gone = [path for path in wanted if path not in self.kept or self.kept[path].digest != self.index[path].digest]
        if gone:  # a record its index does not list: the shards were changed behind the build
            raise CacheDamaged(f"records: the record of {gone[0]} is not the one the index lists")
        return [self.fresh.get(path) or self.kept[path] for path in paths]

    def every(self) -> list[Record]:
        """Return every listed file's record, in path order."""
        if len(self.kept) + len(self.fresh) < len(self.index):
            self.kept.update(self.load(None))
        return self.of(self.index)


@dataclass(frozen=True)
class IndexFacts:
    """What a build works out from every file's summary: the digest of each file's path with its
    record's `shape`, and with its `frame` (`listing_digest`, of which `records_shape` is made),
    and the clock's position among the briefings' moments (`clock_position`; `news`: with the
    news sitemap's events). Kept with the index (`Cache.save_records`); a build whose parsed files
    kept their shape, frame and moment, none added or removed, takes them while the position
    holds at its clock (`_kept_facts`): at 100,000 briefings, an edit skips 50 ms of passes."""

    shapes: bytes
    frames: bytes
    clock: Position
    news: bool


def index_facts(run: Session, index: dict[str, Summary]) -> IndexFacts:
    """Return the `IndexFacts` of an index, worked out from every summary."""
    news = run.config.news_sitemap
    return IndexFacts(listing_digest(index), listing_digest(index, framed=True), clock_position(run, index), news)


def _kept_facts(
    run: Session, kept: object, index: dict[str, Summary], fresh: dict[str, Record], summaries: list[Summary]
) -> IndexFacts | None:
    """Return the facts kept with the last index (`kept`) if they are this `index`'s, which lists
    as many files: each file parsed again (`fresh`) has the shape, frame and moment it had
    (`summaries`: each file's summary in the last index, `_UNKNOWN` for one it did not list,
    which has no shape: so the index lists the files that one did), the news sitemap is as it
    was and the clock's position holds now. Else None."""
    if not isinstance(kept, IndexFacts) or kept.news != run.config.news_sitemap or not kept.clock.holds(run.now):
        return None
    was = compress(zip(index, summaries, strict=True), map(fresh.__contains__, index))
    for path, before in was:
        now = index[path]
        if (before.shape, before.frame, before.moment) != (now.shape, now.frame, now.moment):
            return None
    return kept


def _none(paths: Iterable[str] | None) -> dict[str, Record]:
    """Load no record: where every record is in memory, or there is no cache."""
    return {}


def load_records(
    run: Session, content: Content, warm: Records | None = None
) -> tuple[Records, list[SourceError], bool]:
    """Return the records of the content files, parsing only files whose bytes changed, the
    errors of files refused unread, and whether any record changed since the cached ones (or
    since `warm`: the records of the last build in this process, parsed with these settings).

    Bodies go to the store as they are parsed: records keep only their links.
    """
    files, errors, cache, store = content.files, content.refused, run.cache, run.store
    settings = run.config.parsing
    rows: object = None  # the cached summaries as the cache keeps them
    summaries: list[Summary]  # each file's cached summary
    cached: KeysView[str]  # the files with one
    known: object = None  # the facts of the cached index (`IndexFacts`)
    if warm is not None:  # the cache's shards are as its build left them, or CacheDamaged says otherwise
        summaries, cached, load = list(rows_of(warm.index, files, _UNKNOWN)), warm.index.keys(), warm.load
        known = warm.facts
    elif cache:
        rows, known = cache.load_record_index(settings)
        if rows is not None:  # (read on the other core while the summaries are made)
            store.read_digests_ahead()
        summaries, cached = summaries_from(rows, files, _UNKNOWN)
        load = functools.partial(cache.load_records, settings)
    else:
        summaries, cached, load = [_UNKNOWN] * len(files), {}.keys(), _none
    stored: AbstractSet[str] = store.digests() if cached else set()
    stale = _stale(files, summaries, stored)
    parser = RecordParser(settings)
    if cache:  # the build's first fork may be here: the threads reading ahead end first
        cache.finish_reading_ahead()
        store.finish_reading_ahead()
    fresh = {}
    parsed = parallel_map(lambda file: _parse(parser, run.root, *file), stale, run.options.workers)
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
    # In path order; every file not cached is fresh, so none is left `_UNKNOWN`.
    index = dict(zip(files, summaries, strict=True))
    index.update((path, summary(record)) for path, record in fresh.items())
    changed = bool(fresh) or len(cached) != len(index)
    found = _kept_facts(run, known, index, fresh, summaries) if len(cached) == len(index) else None  # (see there)
    facts = found or index_facts(run, index)
    if cache:
        keep = functools.partial(
            _keep_records, run.root, cache, content, settings, index, fresh, rows, cached, facts, changed or not found
        )
        later = _later(run, len(fresh)) if len(fresh) == len(index) else None
        if later is not None:
            in_background(later, keep)  # while the model is made here, where a core would wait
        else:
            keep()
    records = Records(index, fresh, load, facts, {**warm.kept, **warm.fresh} if warm is not None else {})
    return records, errors, changed


def _keep_records(
    root: Path, cache: Cache, content: Content, settings: ParseSettings, index: dict[str, Summary],
    fresh: dict[str, Record], rows: object, cached: KeysView[str], facts: IndexFacts, changed: bool,
) -> None:  # fmt: skip
    """Keep the records parsed (`fresh`) for the next build, with the index of every record and
    its `facts`, if any `changed` (or those facts were worked out again); and the digests
    parsing found for files listed unread, with their signatures.
    Where every record was parsed (a cold build) this build loads none from the cache, so from
    `KEPT_IN_CHILD_FROM` records a forked child writes them (`load_records`), on the core that
    would otherwise wait while this process makes the model, which no worker shares."""
    if changed:
        cache.save_records(settings, index_rows(index, fresh, rows), fresh, cached - index.keys(), facts)
    remember_digests(root, cache, content, ((path, s.digest) for path, s in index.items()))


def _stale(
    files: dict[str, str | None], summaries: list[Summary], stored: AbstractSet[str]
) -> list[tuple[str, str | None]]:
    """Return the files (path, digest) to parse: those whose digest is not their cached record's
    (`summaries`: each file's, `_UNKNOWN` if none; a file listed unread, digest None, differs
    from every record), and those whose record's body is missing from the store. Found in C:
    at 100,000 files, a loop of Python took 60 ms."""
    stale = list(compress(files.items(), map(operator.ne, map(_digest_of, summaries), files.values())))
    lost = set(compress(map(_digest_of, summaries), map(_BODY, summaries))) - stored
    if lost:  # hardly ever: a store deleted or damaged
        kept = zip(files.items(), summaries, strict=True)
        stale += [(path, digest) for (path, digest), s in kept if s.digest in lost and s.digest == digest]
    return stale


_UNKNOWN = Summary("", "", False, None, "")  # the summary of a file not cached: no digest is ""
_BODY, _MOMENT = operator.attrgetter("body"), operator.attrgetter("moment")


def _parse(parser: RecordParser, root: Path, path: str, digest: str | None) -> tuple[Record, tuple[str, str] | None]:
    """Read and parse one file (its digest, if known); a file gone or unreadable since it was
    listed is an error, not a crash."""
    try:
        data = sources.read_bytes(root / path)
    except OSError as exc:
        problem = SourceError(path, 0, f"cannot be read ({exc.strerror or exc}); build again once it is in place")
        return Record(path, digest or "", None, None, (problem,)), None
    return parser.parse_apart(path, data)


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
    share_values(shown)  # the model is kept between builds: each equal value pickled once
    standins = [r.standin for r in read if r.standin is not None]
    scheduled = frozenset(b.path for b in shown if not is_due(b.date, run.now))
    archive, model_errors = build_archive(config, shown, paths, bodies, run.cache, standins, scheduled, run.now)
    errors += url_errors + link_errors + model_errors
    if errors:  # the links no output would serve, found without planning the site
        served = output_paths(run.root, archive, assets) | {output_file(paths[b.path]) for b in standins}
        errors += dangling_references([*archive.entries, *(Unplaced(b, bodies[b.path][1]) for b in standins)], served)
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
class Warm:
    """What a build leaves for the next (`patched_model`): the shape of what its model was made
    from (`records_shape`), each file's digest, the model and its shape (`model_shape`), the
    frame of its inputs (`records_shape` without the names briefings are listed under), a
    token that tells this model from any other (the digests of its entries are kept by it:
    `plan.KeptEntries`), and what else its inputs hold (`decided_inputs`) and the clock's
    position, for builds with files added, removed or moved since (`fits_files`); in the same
    process (the preview) also its records, parsed with `parsing`, which the next build's
    records start from. The cache keeps one without records (`keep_model`)."""

    parsing: ParseSettings
    inputs: bytes
    digests: dict[str, str]
    archive: Archive
    shape: bytes
    frame: bytes = b""
    token: bytes = b""  # made afresh for each model made or patched
    records: Records | None = None
    decided: bytes = b""  # what its inputs hold but the records and the clock (`decided`)
    clock: Position | None = None  # the clock's position among its briefings' dates


FILES_PATCHED_AT_MOST = 100  # files added, removed or moved since a model that a build patches it with


@dataclass(frozen=True)
class ModelFiles:
    """What the model the cache keeps was made from, file by file (`frames`: each file's frame),
    for telling without loading it whether it can be patched into the model of other files: the
    same but for a few added, removed or moved (`fits_files`). Kept beside it (`keep_model`)."""

    inputs: bytes  # what the model is kept for (`records_shape`)
    decided: bytes
    clock: Position
    frames: dict[str, str]


@dataclass(frozen=True)
class Planning:
    """What every stage but writing gives: the archive, the keyed plan of every output file, each
    content file's digest by path, when the briefings not yet due are (by file path), and what
    the next build in this process may start from."""

    archive: Archive
    plan: Plan
    digests: dict[str, str]
    scheduled: dict[str, datetime]
    position: Position
    warm: Warm


def load_and_plan(run: Session, content: Content, warm: Warm | None = None) -> Planning:
    """Run every stage but writing (see `Planning`). The model is patched (`patched_model`), not
    made again, when the edits since a model was last kept (`warm`, given by the preview, or
    the cache's) keep its shape, or its frame (a retag)."""
    warm = warm if warm is not None and warm.parsing == run.config.parsing else None
    records, unreadable, changed = load_records(run, content, warm.records if warm else None)
    cache, store = run.cache, run.store
    assets = frozenset(content.assets)
    clock = records.facts.clock
    inputs = records_shape(run, records.facts, assets)
    digests = dict(zip(records.index, map(_digest_of, records.index.values()), strict=True))
    decided = decided_inputs(run, assets)
    repeated = cache is not None and inputs_repeated(cache, inputs)
    in_process, files = warm, None
    if warm is not None and warm.inputs == inputs:
        frame = warm.frame  # (equal shapes have equal frames)
    else:
        found = kept_model(cache, inputs=inputs) if cache and not unreadable else None
        frame = found.frame if found else records_shape(run, records.facts, assets, framed=True)
        if found is None and warm is not None and warm.frame == frame:
            found = warm  # the preview's, for a retag: nothing to load
        elif found is None and cache and not unreadable:
            found = kept_model(cache, frame=frame)
        if found is None and not unreadable:  # files added, removed or moved since it was made
            found, files = model_of_files(run, records.index, decided, warm, cache) or (None, None)
        warm = found
    if cache:  # a model loaded before it was asked for, not this one: let go before one is made
        cache.let_go_early(slot_files(MODEL_SLOT))
    fits = warm is not None and files is None  # a model of these files' frame: kept for them, or the preview's
    archive = patched_model(run, records, assets, warm, inputs, frame, files) if warm and not unreadable else None
    shape = model_shape(inputs, archive) if archive else b""
    token = os.urandom(8)  # this build's model: made or patched
    kept: KeptEntries | None  # the model whose entries' digests the memo may keep: this one's, or the warm one's
    keeps: KeptEntries | None = None  # the model kept for the builds after this one, if this one is
    prior: Prior | None = None  # the model this one was patched from, of another shape: its plan keyed most pages
    if archive is None or warm is None or (warm.inputs == inputs and shape != warm.shape):
        archive, errors = model_archive(run, records.every(), unreadable, assets)
        if errors:
            raise BuildFailed(errors)
        shape = model_shape(inputs, archive)
        if cache:
            made = Warm(run.config.parsing, inputs, digests, archive, shape, frame, token, None, decided, clock)
            # Outside the preview a build keeps a model of files none kept has the frame of, for the
            # builds after it to patch: those with files added or removed since too (`fits_files`).
            keep_model(
                cache,
                made,
                records.index,
                always=not fits and in_process is None,
                later=_later(run, len(archive.entries)),
            )
        kept = keeps = KeptEntries(token, archive.entries)  # its entries' digests are kept, if the plan knows them all
    else:  # the entries it did not patch have the digests kept for the warm model's, if any
        kept = KeptEntries(warm.token, warm.archive.entries) if warm.token else None
        if warm.inputs != inputs:  # a retag, or briefings added, removed or moved: a new shape
            prior = Prior(warm.shape, warm.archive)
        if cache and repeated and in_process is None and warm.inputs != inputs:  # patched: for files, or names
            patched = Warm(run.config.parsing, inputs, digests, archive, shape, frame, token, None, decided, clock)
            keep_model(cache, patched, records.index, always=True, later=_later(run, len(archive.entries)))
            keeps = KeptEntries(token, archive.entries)
    compiled = cache.compiled_templates() if cache else None
    plan = plan_site(
        run.root, archive, digests, store.html, compiled, store, cache, content.assets, shape, run.options.workers,
        kept, keeps, prior, _later(run, len(archive.entries)),
    )  # fmt: skip
    if cache and changed:  # only now: planning read the previous words of changed files for the search index
        store.keep_only(set(digests.values()))
    check_output_paths(cache, plan)
    dangling = dangling_references(archive.entries, set(plan.paths()))
    if dangling:
        raise BuildFailed(dangling)
    scheduled = scheduled_briefings(run, records)
    warmed = Warm(run.config.parsing, inputs, digests, archive, shape, frame, token, records, decided, clock)
    return Planning(archive, plan, digests, scheduled, clock, warmed)


_digest_of = operator.attrgetter("digest")
SOUND_PATHS_KEPT = 8  # sets of output paths found sound that the cache remembers (an edit and its undo are two)


def check_output_paths(cache: Cache | None, plan: Plan) -> None:
    """Refuse outputs the folder could not hold (`write.unique_outputs`), unless a build found
    these very paths sound before: the check reads nothing else. At 100,000 briefings it takes
    a third of a second; sorting and digesting the paths, a tenth. The last few sets found sound
    are remembered, by digest (a word added to a body and taken out again adds a search index
    file, then removes it); a path refused is never remembered, so every build of it refuses it."""
    # A sorted list, not a set: two outputs at one path must not digest as one. marshal writes it unambiguously.
    paths = digest_text(marshal.dumps(sorted(plan.paths()), 2))
    kept = cache.recall("sound_paths", SOUND_PATHS_KEPT) if cache else None
    sound = kept if isinstance(kept, tuple) else ()
    if paths in sound:
        return
    unique_outputs(plan)
    if cache:
        cache.remember("sound_paths", SOUND_PATHS_KEPT, (paths, *sound[: SOUND_PATHS_KEPT - 1]))


def clock_position(run: Session, index: dict[str, Summary]) -> Position:
    """Return the build's clock's position among the dates of the published briefings."""
    moments = list(map(_MOMENT, index.values()))
    published = compress(moments, map(operator.is_not, moments, repeat(None)))
    return position(run.now, published, run.config.news_sitemap)


def scheduled_briefings(run: Session, records: Records) -> dict[str, datetime]:
    """Return when each published briefing not yet due at the build's clock goes live, by file
    path (only those dated within a second of the clock or later are loaded)."""
    since = run.now.timestamp() - 1
    near = [path for path, s in records.index.items() if s.moment is not None and s.moment >= since]
    found = (r.briefing for r in records.of(near))
    return {b.path: b.date for b in found if b is not None and not is_due(b.date, run.now)}


MODEL_SLOT = "model"  # the cache's slot of the model kept (`keep_model`): one file, named for its inputs


def kept_model(cache: Cache, inputs: bytes = b"", frame: bytes = b"") -> Warm | None:
    """Return the model the cache keeps for these inputs (`records_shape`), or for inputs of
    this frame (`records_shape(framed=True)`: retags since, for `patched_model`), if it keeps one."""
    if frame:
        kept_for = cache.recall("model_frame", frame)
        inputs = kept_for if isinstance(kept_for, bytes) else b""
    kept = cache.recall_for(MODEL_SLOT, inputs) if inputs else None
    return kept if isinstance(kept, Warm) else None


KEPT_IN_CHILD_FROM = 5_000  # briefings; below, a child to keep a model, a plan or records costs more than pickling here


def _later(run: Session, count: int) -> contextlib.ExitStack | None:
    """Return where a model of `count` briefings, a new shape's plan (`plan.Keying.keep`) or
    `count` records parsed are kept in the background (`keep_model`, `load_records`): nowhere
    with one job (no process of its own: `--jobs 1`), or for a small count."""
    return run.later if run.options.workers > 1 and count >= KEPT_IN_CHILD_FROM else None


def keep_model(
    cache: Cache, made: Warm, index: dict[str, Summary], always: bool = False, later: contextlib.ExitStack | None = None
) -> None:
    """Keep a model just made, without its records, for the next build, when its inputs' shape
    or frame is the last build's, or `always`: a run of edits that each change the frame (dates)
    then pays for no more than a few bytes, and a run of edits to what pages show, or to the
    names briefings are listed under (retags), pays once: the builds after it patch it. Which
    inputs it was kept for is kept by their frame too (`kept_model`), and each file's frame
    (`ModelFiles`, from `index`), for builds with files added or removed since to patch it.

    The model holds its briefings: a build that patches it loads the records of the edited
    files alone (`Records`). It is kept before planning: kept after it (so with what planning
    worked out for each briefing, its dates of change) it made one-edit builds at 100,000 no
    faster and their peak memory about 100 MB larger (docs/performance.md). Only each
    briefing's date of change is worked out first: the newest of them is looked for in every
    build that patches the model, and most are the briefing's `moment`, which pickles as a
    reference to it.

    Given `later` (`Session.later`), it is written by a forked child while this build plans and
    writes the site (`in_background`): pickling the model took a third of the build after a
    retag at 100,000 briefings (the build that keeps it), in this process.
    """
    seen = cache.recall("model_inputs", made.inputs) is True or cache.recall("model_frames", made.frame) is True
    if seen or always:
        _ = made.archive.modified  # each briefing's date of change, worked out now, is kept with it

        def write() -> None:
            cache.remember_for(MODEL_SLOT, made.inputs, replace(made, digests=_sharing_entries(made)))
            keep_ranking(cache, made.archive)
            cache.remember("model_frame", made.frame, made.inputs)
            if made.clock is not None:
                frames = dict(zip(index, map(_frame_of, index.values()), strict=True))
                cache.remember("model_files", None, ModelFiles(made.inputs, made.decided, made.clock, frames))

        if later is None:
            write()
        else:
            in_background(later, write)
    if not seen:
        cache.remember("model_inputs", made.inputs, True)
        cache.remember("model_frames", made.frame, True)


def _sharing_entries(made: Warm) -> dict[str, str]:
    """Return the model's files' digests with the strings its entries hold: each listed briefing's
    path and digest are its briefing's path and its body's digest (equal, from other cache
    files or workers), so the model kept pickles them once, not twice (200,000 strings at
    100,000 briefings, unpickled by every build that loads it)."""
    held = {entry.file: entry for entry in made.archive.entries}
    shared = {}
    for path, digest in made.digests.items():
        entry = held.get(path)
        if entry is None:
            shared[path] = digest
        else:
            shared[entry.file] = entry.body_digest if entry.body_digest == digest else digest
    return shared


def inputs_repeated(cache: Cache, inputs: bytes) -> bool:
    """Return True if the last build that planned had inputs of this shape (`records_shape`);
    remember them for the next build, if they are new.

    A model patched for files added or removed since the kept one, or for names changed
    (`archive.with_terms`), is kept when its inputs repeat: each build after an added
    briefing or a retag patched the kept model again (1.2 s at 100,000 briefings); from the
    second of them, the builds after load the model that one kept, and patch only what
    they edit. Not the first: keeping the model (pickling 83 MB at 100,000) costs about what
    the patch saves, so a run of adds or retags, each with new inputs, pays no more than
    before, nor do builds that go back and forth between two (a briefing added, then taken
    out again)."""
    if cache.recall("last_inputs", None) == inputs:
        return True
    cache.remember("last_inputs", None, inputs)
    return False


def model_of_files(
    run: Session, index: dict[str, Summary], decided: bytes, warm: Warm | None, cache: Cache | None
) -> tuple[Warm, frozenset[str]] | None:
    """Return the preview's model (`warm`), else the one the cache keeps, when it was made from
    these files but for a few added, removed or moved (`fits_files`), with the files moved;
    None when neither was."""
    files: object = None
    if warm is not None and warm.records is not None and warm.clock is not None:
        frames = dict(zip(warm.records.index, map(_frame_of, warm.records.index.values()), strict=True))
        files = ModelFiles(warm.inputs, warm.decided, warm.clock, frames)
    elif cache is not None:
        files = cache.recall("model_files", None)
    moved = fits_files(run, index, decided, files) if isinstance(files, ModelFiles) else None
    if moved is None:
        return None
    assert isinstance(files, ModelFiles)
    if warm is not None and warm.inputs == files.inputs:
        return warm, moved
    found = kept_model(cache, inputs=files.inputs) if cache else None
    return (found, moved) if found is not None else None


def fits_files(run: Session, index: dict[str, Summary], decided: bytes, files: ModelFiles) -> frozenset[str] | None:
    """Return the files *moved* since a model was made from `files` (those of `index` whose frame
    changed: a new date, slug or link), when the files of `index` are the model's but for a few
    added, removed or moved; else None. The model with the removed and moved ones taken out and
    the added and moved ones put in (`archive.with_terms`) is what a clean build makes, once the
    settings and the clock decide as they did (the clock is among the same dates)."""
    frames = files.frames
    added = sum(1 for path in index if path not in frames)
    removed = len(frames) - (len(index) - added)
    if added + removed > FILES_PATCHED_AT_MOST or files.decided != decided or not files.clock.holds(run.now):
        return None
    # Compared in a pass that runs in C (100,000 files): an added file's frame is compared with itself.
    new = list(map(_frame_of, index.values()))
    kept = map(frames.get, index, new)
    moved = frozenset(compress(index, map(operator.ne, kept, new)))
    if not 0 < added + removed + len(moved) <= FILES_PATCHED_AT_MOST:
        return None
    return moved


def patched_model(
    run: Session,
    records: Records,
    assets: frozenset[str],
    warm: Warm,
    inputs: bytes,
    frame: bytes,
    files: frozenset[str] | None = None,
) -> Archive | None:
    """Return the warm model with the briefings edited since it was made put in their entries'
    places, when the model's `inputs` have the shape they had (`records_shape`: only what pages
    show changed, a title, a summary, the body's text), or their `frame` (the names briefings
    are listed under changed too: `archive.with_terms`), or the caller found they have it but
    for files added, removed or moved (`files`, the files moved: `fits_files`), which join or
    leave it (a file moved leaves it, then joins it anew); None when the model must be made again.

    For inputs of its shape, the caller compares the shape of the result with the warm one: that
    is what makes it sound (the order and what the clock decided are in it). The warm model was
    made without errors, so records that did not change have none.
    """
    if warm.inputs != inputs and warm.frame != frame and files is None:
        return None
    index = records.index  # compared in passes that run in C (100,000 files)
    changed = map(operator.ne, rows_of(warm.digests, index), map(_digest_of, index.values()))
    edited = records.of(compress(index, changed))
    if any(r.errors or r.briefing is None for r in edited):
        return None
    moved = files or frozenset()
    gone = warm.digests.keys() - index.keys() if files is not None else set()
    places = entries_of(warm.archive, {r.path for r in edited} | gone)
    # The bodies that link to a briefing moved are resolved again: its URL, or its headings, changed.
    old_urls = {href(run.config.base_path, places[path].path) for path in moved if path in places}
    linking = {e.file for e in linking_to(warm.archive.entries, old_urls)} - places.keys()
    if linking:
        edited += records.of(sorted(linking))
        places |= entries_of(warm.archive, linking)
    removed = (gone | moved) & places.keys()  # (a draft removed was not listed)
    shown = [r for r in edited if r.path in places and r.path not in moved]
    new = [r for r in edited if r.path not in warm.digests or r.path in moved]
    added = [r for r in new if r.briefing is not None and shown_at(r.briefing, run.now, run.options)]
    if not all(r.briefing is not None and _published(r.briefing, run) for r in added):
        return None  # a draft or a briefing not yet due that the preview shows: the full build places it
    placed = [*shown, *added]
    # Only the briefings the edited ones link to are looked up: their URLs, whether they are
    # published and their headings are as they were (their shape is).
    targets = {link.repo_path for r in placed if r.body is not None for link in r.body.links if link.repo_path}
    near = [*placed, *records.of(sorted(targets.intersection(records.index) - {r.path for r in placed}))]
    paths = {r.path: briefing_path(b.date, b.slug) for r in near if (b := r.as_read) is not None}
    urls = {r.path: briefing_path(b.date, b.slug) for r in new if (b := r.briefing) is not None}
    leaving = gone | moved
    if urls and not _urls_free(run, records, urls, {e.path for e in warm.archive.entries if e.file not in leaving}):
        return None
    visible = [r for r in near if r.as_read is not None and shown_at(r.as_read, run.now, run.options)]
    unpublished = unpublished_briefings(near, run.now)
    bodies, errors = resolve_bodies(run.config, placed, paths, unpublished, assets, visible)
    if errors:
        return None
    edits, joining = {}, {}
    for r in placed:
        body, site_links = bodies[r.path]
        assert r.briefing is not None  # see above
        if r.path in places and r.path not in moved:
            edits[r.path] = replace(places[r.path], briefing=r.briefing, body=body, site_links=site_links)
        else:
            joining[r.path] = Entry(r.briefing, paths[r.path], body, (), site_links)
    model = replace(warm.archive, config=run.config)
    if warm.inputs == inputs:
        return with_edits(model, edits, run.now)
    return with_terms(model, edits, run.now, run.cache, joining, removed)


def _published(briefing: Briefing, run: Session) -> bool:
    """Return True for a briefing a build at the run's clock lists as published (not a draft, due)."""
    return not briefing.draft and is_due(briefing.date, run.now)


def _urls_free(run: Session, records: Records, urls: dict[str, str], listed: set[str]) -> bool:
    """Return True when none of the `urls` of files added (by path; drafts too) is another's: of
    another added, of a briefing the model lists (`listed`, but those removed), or of a file it
    does not list (a draft, a briefing not yet due). A clean build refuses two files at one URL."""
    since = run.now.timestamp()
    hidden = [p for p, s in records.index.items() if (s.moment is None or s.moment > since) and p not in urls]
    taken = listed | {briefing_path(b.date, b.slug) for r in records.of(hidden) if (b := r.as_read) is not None}
    return len(set(urls.values())) == len(urls) and taken.isdisjoint(urls.values())


def records_shape(run: Session, facts: IndexFacts, assets: Iterable[str], framed: bool = False) -> bytes:
    """Return the digest of what the model is made from but for what its pages only show; or,
    `framed`, but for the names its briefings are listed under too (each record's `frame`).

    The model is made from these alone (see `model_archive`): the settings, the options that
    choose the briefings, the clock's position among the briefings' dates, the other files
    under content/, and each record but its SHOWN_ONLY fields (`Record.shape`): the `facts`
    of the index (`IndexFacts`).
    """
    decided = Hasher().digest((decided_inputs(run, assets), facts.clock))
    return digest_text(decided, b"f" if framed else b"", facts.frames if framed else facts.shapes)


def listing_digest(index: dict[str, Summary], framed: bool = False) -> bytes:
    """Return the digest of each file's path with its record's `shape` (or `frame`), in order."""
    digest = _frame_of if framed else _shape_of  # one text: no path holds a NUL, and a digest is hex
    return digest_text("\0".join(chain.from_iterable(zip(index, map(digest, index.values()), strict=True))))


_shape_of, _frame_of = operator.attrgetter("shape"), operator.attrgetter("frame")


def decided_inputs(run: Session, assets: Iterable[str]) -> bytes:
    """Return the digest of what a model's inputs hold but the records and the clock's position
    (`records_shape`): the settings, the options that choose the briefings, the other files."""
    options = run.options
    return Hasher().digest((run.config, options.drafts, options.scheduled, tuple(sorted(assets))))


def model_shape(inputs: bytes, archive: Archive) -> bytes:
    """Return the digest of every listing, order, link and URL in the model made from `inputs`
    (`records_shape`): what `plan.Keying` compares between plans. The title is one of what pages
    only show, and it breaks ties in the order: so the order itself is in, and what the clock
    decided (the briefings not yet due, the recent ones)."""
    return digest_text(  # one text a list: no site path or file path holds a NUL, and none is empty
        inputs,
        "\0".join(map(entry_path, archive.entries)),
        "\0".join(map(entry_path, archive.recent)),
        "\0".join(sorted(archive.scheduled)),
    )
