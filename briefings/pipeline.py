"""The build, as a list of stages: load -> validate -> model -> plan -> write.

Owns running the stages in order and the two entry points, `check` (everything but
writing) and `build`. Loading is per file, cached by content digest and parallel; the
complete archive is then modelled in memory, every output of the site is planned with a
key (a digest of exactly what it is made from), and only outputs whose key changed are
made. See docs/architecture.md. The stages themselves are in `stages`, imported only once a
build knows it has work to do, or while a child lists the content (`_survey_apart`). May not
hold page logic.
"""

from __future__ import annotations

import contextlib
import functools
import operator
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from briefings.cache import CACHE_DIR, RECORD_INDEX, Cache, Counts, Sizes, slot_files, table_files
from briefings.clock import build_time
from briefings.collector import few_collections
from briefings.errors import BuildFailed, CacheDamaged, SourceError, collapse, os_problem
from briefings.kinds import KINDS
from briefings.lock import one_at_a_time
from briefings.progress import Progress
from briefings.sources import (
    Content,
    inputs_digest,
    list_content,
    listed_inputs_digest,
    read_content,
    settings_digest,
)
from briefings.workers import Talk, available_cores, can_fork, forked_map, talking_child
from briefings.write import WriteReport, spare_made_ahead, write_site

if TYPE_CHECKING:  # the stages load only when there is work (see `briefings.stages`)
    from briefings.archive import Archive
    from briefings.config import SiteConfig
    from briefings.outputs import Plan
    from briefings.records import Record
    from briefings.stages import Planning, Warm

OUTPUT_DIR = "_site"
T = TypeVar("T")


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
    replanned: frozenset[str] | None = None  # outputs whose key this build worked out (`plan.Keying`); None: no plan
    warm: Warm | None = None  # what the next build in this process may start from (`stages.Warm`); None: no plan


def load_config_for(root: Path, options: Options) -> SiteConfig:
    """Read site.yaml, served from `--base-url` when given."""
    from briefings.config import load_config  # with YAML's parser: not needed by a build with nothing to do

    config = load_config(root / "site.yaml")
    return config.with_base_url(options.base_url) if options.base_url else config


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


@few_collections
def plan(root: Path, options: Options) -> tuple[Archive, Plan, Content]:
    """Return the archive, the keyed plan of its site and its content files, making nothing (to
    compare two revisions)."""
    return _plan(root, options, Progress(enabled=False))


@exclusive
def _plan(root: Path, options: Options, progress: Progress) -> tuple[Archive, Plan, Content]:
    from briefings import stages  # loaded only now that there is work (see its docstring)

    cache = usable_cache(root, options, progress)
    with stages.session(root, load_config_for(root, options), options, progress, cache) as run:
        content = read_content(root, run.cache)
        planning = stages.load_and_plan(run, content)
        return planning.archive, planning.plan, content


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
    from briefings import stages  # loaded only now that there is work (see its docstring)

    cache = usable_cache(root, options, progress)
    with stages.session(root, load_config_for(root, options), options, progress, cache) as run:
        content = read_content(root, run.cache)
        records, _, _ = stages.load_records(run, content)
        return Survey(run.config, content, records.every())


@few_collections
def check(root: Path, options: Options | None = None, progress: Progress | None = None) -> Planning:
    """Validate everything a build would (drafts and scheduled briefings too), rendering every
    page in memory; write no site (only the cache)."""
    checking = replace(options or Options(), drafts=True, scheduled=True)
    return _check(root, checking, progress or Progress(enabled=False))


@exclusive
def _check(root: Path, options: Options, progress: Progress) -> Planning:
    from briefings import stages  # loaded only now that there is work (see its docstring)

    cache = usable_cache(root, options, progress)
    with stages.session(root, load_config_for(root, options), options, progress, cache) as run:
        planning = stages.load_and_plan(run, read_content(root, run.cache, defer=True))
        _say_damage(cache, progress)
        planned = list(planning.plan)
        attempts = forked_map(lambda index: planned[index].attempt()[1], len(planned), options.workers)
        errors = [error for problems in attempts for error in problems]
    if errors:
        raise BuildFailed(collapse(errors))
    return planning


@few_collections
def build(
    root: Path,
    options: Options | None = None,
    *,
    progress: Progress | None = None,
    output: str = OUTPUT_DIR,
    warm: Warm | None = None,
) -> Report:
    """Build the site into `root/<output>` (`_site`), swapping it in only when every file is ready.

    `warm` is what the last build in this process left (`Report.warm`): the preview passes it,
    so that unchanged files' records are not loaded again and the model an edit to what pages
    only show patches is the one in memory, not the cache's (`stages.load_and_plan`).
    """
    warmth = iter((warm, None))  # a build run again once the cache proved damaged starts cold

    def stage(root: Path, options: Options, progress: Progress) -> Report:
        return _build(root, options, progress, output, next(warmth))

    return exclusive(stage)(root, options or Options(), progress or Progress(enabled=False))


@few_collections
def ready_spare(root: Path, options: Options, output: str, until: Callable[[], bool] = lambda: False) -> int:
    """Make the spare copy of the output folder `output` now, if the last build wrote the folder
    whole (`write.spare_made_ahead`), holding the archive's build lock: a build started meanwhile
    waits for it. Return how many files it linked (none: nothing to make, no cache, or `until`)."""
    cache = usable_cache(root, options, Progress(enabled=False))
    if cache is None:
        return 0
    with one_at_a_time(root, lambda: None):
        return spare_made_ahead(root / output, cache, until)


def _build(root: Path, options: Options, progress: Progress, output: str, warm: Warm | None) -> Report:
    cache = usable_cache(root, options, progress)
    engine = cache.engine if cache else ""
    shaping = (options.drafts, options.scheduled, options.base_url)  # the options that change the output
    now = build_time()
    settings = settings_digest(root, shaping, engine)  # site.yaml, templates/ and static/: read once
    # Nothing to do if the files look as they did (100,000 briefings decided in a few tenths of a
    # second), or if their bytes are as they were (touched, or checked out again: each changed one is read).
    decision = _Decision(cache, root / output, now)
    if cache and warm is None and _survey_apart_pays(cache, root / output, options):
        surveyed = _survey_apart(root, cache, settings, decision)
    else:
        surveyed = _surveyed(root, cache, settings, decision.go_on_here)
    if surveyed is None:
        assert decision.unchanged is not None  # (see `_Decision.go_on`)
        return Report(WriteReport(0, 0, 0, decision.unchanged[1]), *decision.unchanged[0])
    content, inputs = surveyed
    listed = decision.listed
    if cache and inputs and (unchanged := cache.unchanged_build(root / output, now, inputs=inputs, listed=listed)):
        return Report(WriteReport(0, 0, 0, unchanged[1]), *unchanged[0])
    from briefings import stages  # loaded only now that there is work (see its docstring)

    with stages.session(root, load_config_for(root, options), options, progress, cache, now) as run:
        planning = stages.load_and_plan(run, content, warm)
        archive, site_plan = planning.archive, planning.plan
        said = _say_damage(cache, progress)
        inputs = inputs or inputs_digest(root, settings, content.with_digests(planning.digests))
        terms = tuple((kind.name, len(archive.terms[kind.name])) for kind in KINDS)
        pages = sum(map(operator.methodcaller("endswith", ".html"), site_plan.paths()))
        counts = (pages, len(site_plan), len(archive.entries), terms, len(planning.scheduled))
        stamp = (inputs, listed, counts, planning.position)
        try:
            written = write_site(root / output, site_plan, run.cache, options.workers, run.progress, stamp)
        except OSError as exc:
            where = _site_path(root, output, exc.filename)
            raise BuildFailed([SourceError(where, 0, f"cannot be written: {os_problem(exc)}")]) from None
        _say_damage(cache, progress, said)  # what writing found (the output folders' state)
        if cache:
            cache.keep_load_order()
    replanned = frozenset(p.path for p in site_plan.fresh if not p.reused)
    return Report(written, *counts, archive=archive, replanned=replanned, warm=planning.warm)


class _Decision:
    """Whether a build has work, decided from the listing of the content (`_surveyed`): none if
    the build that made the site had these very inputs (`Cache.unchanged_build`)."""

    def __init__(self, cache: Cache | None, target: Path, now: datetime) -> None:
        self.cache, self.target, self.now = cache, target, now
        self.listed = ""  # the listing's digest (`listed_inputs_digest`), once decided
        self.unchanged: tuple[Counts, Sizes] | None = None  # the site's counts and sizes, when there is no work

    def go_on(self, listed: str) -> bool:
        """Return True if the build has work, given the digest of the listing (none without a cache)."""
        self.listed = listed
        if self.cache and listed:
            self.unchanged = self.cache.unchanged_build(self.target, self.now, listed=listed)
        return self.unchanged is None

    def go_on_here(self, listed: str) -> bool:
        """`go_on`, for a build that reads the content itself: with work, the cache files it loads
        are read and sealed on the other core meanwhile (`Cache.read_ahead`)."""
        if not self.go_on(listed):
            return False
        if self.cache:
            self.cache.read_ahead()
        return True


def _surveyed(
    root: Path, cache: Cache | None, settings: bytes, go_on: Callable[[str], bool]
) -> tuple[Content, str] | None:
    """List `content/` and ask `go_on` whether there is work, given the digest of the listing
    (`listed_inputs_digest`; "" without a cache): if there is, return every content file with
    its digest (`read_content`, reading only those that changed), and the digest of the
    inputs (`inputs_digest`; "" while a file is left unread); None if there is not."""
    listing = list_content(root)
    if not go_on(listed_inputs_digest(settings, listing) if cache else ""):
        return None
    content = read_content(root, cache, defer=True, listing=listing)
    return content, inputs_digest(root, settings, content) if content.unread is None else ""


# Briefings (in the last build) from which the content is listed and read in a child process: below,
# listing takes less time than importing the stages meanwhile (about 0.1 s), which a build with
# nothing to do would wait for (docs/performance.md, "The content listed in a child while the build loads").
SURVEYED_APART_FROM = 20_000


def _survey_apart_pays(cache: Cache, target: Path, options: Options) -> bool:
    """Return True when listing and reading the content in a child (`_survey_apart`) saves time:
    the last build's archive was large, the build may use another core, and processes can fork."""
    counts = cache.last_counts(target)
    return counts is not None and counts[2] >= SURVEYED_APART_FROM and options.workers > 1 and can_fork()


def _survey_apart(root: Path, cache: Cache, settings: bytes, decision: _Decision) -> tuple[Content, str] | None:
    """`_surveyed`, run in a forked child (on the other core) while this process imports the
    stages and loads what a build with work loads first: the records' index and the model the
    last build kept (`Cache.load_early`; at 100,000 briefings, listing takes about 0.4 s and
    reading what changed 0.25 s, loading the index 0.1 s and the model 0.7 to 0.9 s); the
    child digests the inputs too, where it waits for this process (20 ms at 100,000 files).
    The child asks whether there is work once it has listed the files: it is answered as soon as
    it asks, between two reads of those loads (`_Answer`), so that a build with nothing to do stops
    loading then and one with work has the child read what changed while the model loads. Should
    the child still be reading then, this process goes on to load the files the last build loaded
    next, in its order, until the child has said the content (on a slow hour at 100,000 briefings,
    the plan's keys and more: docs/performance.md, "Loading ahead while the child reads")."""
    said = len(cache.damaged)

    def survey(tell: Callable[[object], Any]) -> tuple[tuple[Content, str] | None, list[str]]:
        return _surveyed(root, cache, settings, tell), cache.damaged[said:]  # (the child's own findings)

    with talking_child(survey) as child:
        from briefings import stages  # loaded now that the listing is under way (see its docstring)

        answer = _Answer(child, decision)
        cache.load_early(*table_files(RECORD_INDEX), slot_files(stages.MODEL_SLOT), until=answer.nothing_to_do)
        if not answer.work():
            return None
        cache.load_early(*cache.read_ahead(), until=child.ready)  # (see above)
        found: tuple[tuple[Content, str] | None, list[str]] = child.heard()
    cache.damaged += found[1]
    return found[0]


class _Answer:
    """The answer to the question a child listing the content asks (`_survey_apart`): whether the
    build has work (`_Decision.go_on`), given once, as soon as it is asked or when it is needed."""

    def __init__(self, child: Talk, decision: _Decision) -> None:
        self.child, self.decision = child, decision
        self.given: bool | None = None  # the answer, once given
        self.failed: BaseException | None = None  # what hearing or deciding raised (the child's error, say)

    def work(self) -> bool:
        """Return whether the build has work, hearing the question (waiting for it) and answering
        it first if that is not done; raise what hearing or deciding raised, if it did."""
        if self.failed is not None:
            raise self.failed
        if self.given is None:
            try:
                self.given = self.decision.go_on(self.child.heard())
            except BaseException as exc:  # (the child waits for an answer it will not get: asked again, this raises)
                self.failed = exc
                raise
            self.child.say(self.given)
        return self.given

    def nothing_to_do(self) -> bool:
        """Return True once the answer given is that there is no work: answer first if the child has
        asked (without waiting for it to)."""
        if self.given is None and self.failed is None and self.child.ready():
            self.work()
        return self.given is False


def _say_damage(cache: Cache | None, progress: Progress, said: int = 0) -> int:
    """Say, in one line, which cache files were ignored as damaged (what they held was made again),
    but the first `said` of them; return how many have been said."""
    found = cache.damaged[said:] if cache else []
    if found:
        shown = ", ".join(sorted(set(found))[:3]) + (" and others" if len(set(found)) > 3 else "")
        progress.note(f"{shown}: damaged or not written by this build, so ignored; what it held was made again")
    return said + len(found)


def _site_path(root: Path, output: str, filename: object) -> str:
    """Return the file an I/O error names as the user knows it: a file of `_site/` for one of its spare."""
    if not isinstance(filename, str) or not filename:
        return f"{output}/"
    path = Path(filename).absolute()
    for folder, shown in ((root / CACHE_DIR / f"spare{output}", output), (root, "")):
        with contextlib.suppress(ValueError):
            return f"{shown}/{path.relative_to(folder.absolute()).as_posix()}".lstrip("/")
    return filename
