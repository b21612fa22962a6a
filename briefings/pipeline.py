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
import stat
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ParamSpec, TypeVar
from urllib.parse import urlsplit

from briefings.archive import Archive, briefing_urls, build_archive
from briefings.bodies import BodyRef, BodyStore, body_store
from briefings.cache import CACHE_DIR, Cache, Signature
from briefings.config import SiteConfig, load_config
from briefings.errors import BuildFailed, SourceError, collapse
from briefings.keys import Memo, digest_text
from briefings.markdown import Resolver, fill, resolve_links
from briefings.pages import briefing_page
from briefings.plan import Planned, plan_site, read_static
from briefings.progress import Progress
from briefings.records import Record, RecordParser, file_digest, parse_settings
from briefings.render import Renderer
from briefings.urls import href, output_file
from briefings.workers import available_cores, forked_map, parallel_map
from briefings.write import WriteReport, unique_outputs, write_site

OUTPUT_DIR = "_site"
# A file changed this recently is read on the next build too: its mtime may not change again
# if it is edited within the same tick of the file system's clock (2 s on FAT).
SETTLED_NS = 2_000_000_000
T = TypeVar("T")
P = ParamSpec("P")
COLLECT_EVERY = 50_000  # allocations between collections of the youngest generation (Python's default: 700)


@dataclass(frozen=True)
class SourceFile:
    """A content file as found: its repository path and the digest of its bytes (not kept),
    or None for a file left for parsing to read and digest (see `read_content`)."""

    path: str
    digest: str | None


@dataclass(frozen=True)
class Content:
    """The content files as found, in path order, and the errors of files refused unread.

    `unread` is None when every file has its digest; otherwise none has, and it holds the
    signature each settled file had before parsing read it, for `remember_digests`.
    """

    files: list[SourceFile]
    refused: list[SourceError]
    unread: dict[str, Signature] | None = None

    def with_digests(self, digests: dict[str, str]) -> Content:
        """Return the same files with the digests parsing found (`digests` by path)."""
        return Content([SourceFile(f.path, digests[f.path]) for f in self.files], self.refused)


@dataclass(frozen=True)
class Options:
    """How to build: which briefings, for which address, with how many processes."""

    drafts: bool = False
    base_url: str | None = None
    jobs: int = 0  # 0: every available core
    cache: bool = True  # False: neither read nor write .cache/

    @property
    def workers(self) -> int:
        """Return the number of worker processes to use."""
        return self.jobs or available_cores()


@dataclass(frozen=True)
class Report:
    """What a build made, for the closing summary."""

    written: WriteReport
    pages: int
    files: int
    briefings: int
    tags: int
    regions: int
    sources: int
    countries: int
    archive: Archive | None = None  # the model, when this build made one (not when nothing changed)


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


def load_records(
    root: Path,
    config: SiteConfig,
    options: Options,
    progress: Progress,
    content: Content,
    cache: Cache | None,
    store: BodyStore,
) -> tuple[list[Record], list[SourceError], bool]:
    """Return a record per content file, in path order, parsing only files whose bytes changed,
    the errors of files refused unread, and whether any record changed since the cached ones.

    Bodies go to the store as they are parsed: records keep only their links.
    """
    files, errors = content.files, content.refused
    settings = parse_settings(config)
    cached = cache.load_records(settings) if cache else {}
    stored = store.digests() if cached else set()
    # A file listed unread (digest None) differs from every record.
    stale = [f for f in files if (r := cached.get(f.path)) is None or r.digest != f.digest or _lost(r, stored)]
    parser = RecordParser(config)
    fresh = {}
    parsed = parallel_map(lambda f: _parse(parser, root, f), stale, options.workers)
    batch: list[tuple[str, str, str]] = []
    for done, (record, kept) in enumerate(parsed, start=1):
        if kept is not None:
            html, words = kept
            batch.append((record.digest, html, words))
        fresh[record.path] = record
        if len(batch) >= 500:
            store.put(batch)
            batch = []
        progress.update("Reading briefings", done, len(stale))
    store.put(batch)
    records = [fresh.get(f.path) or cached[f.path] for f in files]
    changed = bool(fresh) or len(cached) != len(records)
    if cache and changed:
        removed = cached.keys() - {f.path for f in files}
        cache.save_records(settings, {record.path: record for record in records}, set(fresh) | removed)
    if cache:
        remember_digests(cache, content, records)
    return records, errors, changed


def _parse(parser: RecordParser, root: Path, file: SourceFile) -> tuple[Record, tuple[str, str] | None]:
    """Read and parse one file; a file gone or unreadable since it was listed is an error, not a crash."""
    try:
        data = _read(root / file.path)
    except OSError as exc:
        problem = SourceError(file.path, 0, f"cannot be read ({exc.strerror or exc}); build again once it is in place")
        return Record(file.path, file.digest or "", None, None, (problem,)), None
    return parser.parse_apart(file.path, data)


def _lost(record: Record, stored: set[str]) -> bool:
    """Return True for a cached record whose body is missing from the store."""
    return record.body is not None and record.digest not in stored


def _read(file: Path | str) -> bytes:
    with open(file, "rb") as opened:  # noqa: PTH123 - os-level reads: 100,000 Path methods cost seconds
        return opened.read()


def read_content(root: Path, cache: Cache | None = None, *, defer: bool = False) -> Content:
    """Return every `content/**/*.md` in path order with its digest, and the links out refused.

    Bytes are read for the digest and dropped: parsing reads a changed file again, so
    memory never holds the whole archive's text. With a cache, a file whose signature
    (mtime, ctime, size, inode, device) is the one recorded with its digest is not read
    again, as git's index does; a file changed less than `SETTLED_NS` before a build is
    not recorded, so an edit within one tick of the file system's clock is never missed.
    With `defer`, when no digests were ever recorded (a first build, or one without the
    cache: every file is parsed anyway), no file is read here: files are listed without
    digests, and parsing, which reads each file once, digests it.
    """
    started = time.time_ns()
    remembered = cache.recall("digests") if cache else None
    known: dict[str, tuple[Signature, str]] = remembered if isinstance(remembered, dict) else {}
    unread: dict[str, Signature] | None = {} if defer and remembered is None else None
    recorded: dict[str, tuple[Signature, str]] = {}
    found: list[SourceFile] = []
    errors: list[SourceError] = []
    inside = root.resolve()
    for name in markdown_files(root):
        file = os.path.join(root, name)  # noqa: PTH118 - Path objects for 100,000 files cost a tenth of a second
        status = os.lstat(file)
        if stat.S_ISLNK(status.st_mode):
            if not Path(file).resolve().is_relative_to(inside):
                errors.append(SourceError(name, 0, "is a link to a file outside the repository; copy the file in"))
            else:  # a link's target is not tracked
                found.append(SourceFile(name, None if unread is not None else file_digest(_read(file))))
            continue
        signature = (status.st_mtime_ns, status.st_ctime_ns, status.st_size, status.st_ino, status.st_dev)
        settled = max(status.st_mtime_ns, status.st_ctime_ns) < started - SETTLED_NS
        if unread is not None:
            found.append(SourceFile(name, None))
            if settled:
                unread[name] = signature
            continue
        previous = known.get(name)
        digest = previous[1] if previous and previous[0] == signature else file_digest(_read(file))
        if settled:
            recorded[name] = (signature, digest)
        found.append(SourceFile(name, digest))
    if cache and unread is None and recorded != known:
        cache.remember("digests", recorded)
    return Content(found, errors, unread)


def remember_digests(cache: Cache, content: Content, records: Iterable[Record]) -> None:
    """Record the digests parsing found for files listed unread, with the signatures they had before."""
    if content.unread is not None:
        signatures = content.unread
        digests = {r.path: (signatures[r.path], r.digest) for r in records if r.path in signatures and r.digest}
        cache.remember("digests", digests)


def markdown_files(root: Path) -> list[str]:
    """Return the repository path of every `content/**/*.md`, sorted by path components."""
    names = []
    for parent, _, files in os.walk(root / "content"):
        folder = Path(parent).relative_to(root).as_posix()
        names += [f"{folder}/{name}" for name in files if name.endswith(".md")]
    return sorted(names, key=lambda name: name.split("/"))


def model_archive(
    config: SiteConfig,
    records: list[Record],
    drafts: bool,
    unreadable: Iterable[SourceError] = (),
    memo: Memo | None = None,
) -> Archive:
    """Validate across files and model the archive; raise BuildFailed with every problem."""
    errors = [*unreadable, *(error for record in records for error in record.errors)]
    valid = [r for r in records if r.briefing is not None]
    briefings = [r.briefing for r in valid if r.briefing is not None]
    paths, url_errors = briefing_urls(briefings)
    draft_paths = {b.path for b in briefings if b.draft}
    published = [r for r in valid if r.briefing is not None and (drafts or not r.briefing.draft)]
    bodies, link_errors = resolve_bodies(config, published, paths, draft_paths)
    # Model what is valid even when something is not, so that every error shows in one run.
    shown = [r.briefing for r in published if r.briefing is not None]
    archive, model_errors = _safe(lambda: build_archive(config, shown, paths, bodies, memo), None)
    errors += url_errors + link_errors + model_errors
    if errors or archive is None:
        raise BuildFailed(errors)
    return archive


def resolve_bodies(
    config: SiteConfig, records: Iterable[Record], paths: dict[str, str], drafts: set[str]
) -> tuple[dict[str, tuple[BodyRef, tuple[tuple[int, str], ...]]], list[SourceError]]:
    """Resolve every body's links: site paths under the base path, other briefings' files to URLs.

    A published briefing may not link to a draft: the link would break once published,
    so `check` (which sees drafts) and `build` (which does not) report it alike.
    """
    bodies: dict[str, tuple[BodyRef, tuple[tuple[int, str], ...]]] = {}
    errors: list[SourceError] = []
    resolvers = {draft: _resolver(config, paths, drafts, draft) for draft in (False, True)}
    for record in records:
        assert record.briefing is not None and record.body is not None
        resolve = resolvers[record.briefing.draft]
        links = resolve_links(record.body.links, config.base_path, resolve)
        bodies[record.path] = (BodyRef(record.digest, links.hrefs), links.site_links)
        errors += [SourceError(record.path, line, message) for line, message in links.problems]
    return bodies, errors


def _resolver(config: SiteConfig, paths: dict[str, str], drafts: set[str], from_draft: bool) -> Resolver:
    """Return the link resolver for one briefing's body."""

    def resolve(repo_path: str) -> str:
        if repo_path not in paths:
            raise LookupError(f"points to no briefing ({repo_path} does not exist); fix the path")
        if repo_path in drafts and not from_draft:
            raise LookupError(f"points to a draft ({repo_path}); publish it first or remove the link")
        return href(config.base_path, paths[repo_path])

    return resolve


def dangling_references(archive: Archive, paths: set[str]) -> list[SourceError]:
    """Return an error for each image or body link to a site path that no output serves."""
    errors = []
    for entry in archive.entries:
        b = entry.briefing
        if b.image and "://" not in b.image.src and not _serves(paths, b.image.src):
            message = f'image src: "{b.image.src}" is not a file of the site; add it under static/ or fix the path'
            errors.append(SourceError(b.path, b.line_of("image"), message))
        for line, target in entry.site_links:
            if not _serves(paths, target):
                errors.append(SourceError(b.path, line, f'link "{target}" points to no page of the site; fix the path'))
    return errors


def _serves(paths: set[str], target: str) -> bool:
    """Return True when a site path (`/tags/isis/`, `favicon.svg`) will be served by a file."""
    path = urlsplit(target).path.lstrip("/")
    return any(candidate in paths for candidate in (output_file(path), path + "/index.html"))


def load_and_plan(
    root: Path,
    config: SiteConfig,
    options: Options,
    progress: Progress,
    content: Content,
    cache: Cache | None,
    store: BodyStore,
) -> tuple[Archive, list[Planned], dict[str, str]]:
    """Run every stage but writing: the archive, the keyed plan of every output file, and
    each content file's digest by path."""
    records, unreadable, changed = load_records(root, config, options, progress, content, cache, store)
    archive = model_archive(config, records, options.drafts, unreadable, cache)
    compiled = cache.folder / "templates" if cache else None
    digests = {r.path: r.digest for r in records}
    planned = plan_site(root, archive, digests, store.html, compiled, store, cache)
    if cache and changed:  # only now: planning read the previous words of changed files for the search index
        store.keep_only(set(digests.values()))
    unique_outputs(planned)
    dangling = dangling_references(archive, {p.path for p in planned})
    if dangling:
        raise BuildFailed(dangling)
    return archive, planned, digests


def open_store(config: SiteConfig, cache: Cache | None) -> contextlib.AbstractContextManager[BodyStore]:
    """Return the body store: in `.cache/`, or a temporary one without the cache."""
    stamp = digest_text(cache.engine if cache else "", repr(parse_settings(config))).hex()
    return body_store(cache.folder if cache else None, stamp)


@few_collections
def plan(root: Path, options: Options, content: Content | None = None) -> tuple[Archive, list[Planned]]:
    """Return the archive and the keyed plan of its site, making nothing (to compare two revisions).

    `content` is `read_content(root)` when the caller has it already.
    """
    cache = Cache(root) if options.cache else None
    config = load_config_for(root, options)
    with open_store(config, cache) as store:
        found = content or read_content(root, cache)
        archive, planned, _ = load_and_plan(root, config, options, Progress(enabled=False), found, cache, store)
        return archive, planned


@few_collections
def check(root: Path, options: Options | None = None) -> Archive:
    """Validate everything a build would, rendering every page in memory; write no site (only the cache)."""
    options = replace(options or Options(), drafts=True)
    cache = Cache(root) if options.cache else None
    config = load_config_for(root, options)
    with open_store(config, cache) as store:
        content = read_content(root, cache, defer=True)
        archive, planned, _ = load_and_plan(root, config, options, Progress(enabled=False), content, cache, store)
        attempts = forked_map(lambda index: planned[index].attempt()[1], len(planned), options.workers)
        errors = [error for problems in attempts for error in problems]
    if errors:
        raise BuildFailed(collapse(errors))
    return archive


@few_collections
def build(
    root: Path, options: Options | None = None, *, progress: Progress | None = None, output: str = OUTPUT_DIR
) -> Report:
    """Build the site into `root/<output>` (`_site`), swapping it in only when every file is ready."""
    options = options or Options()
    progress = progress or Progress(enabled=False)
    cache = Cache(root) if options.cache else None
    engine = cache.engine if cache else ""
    content = read_content(root, cache, defer=True)
    inputs = inputs_digest(root, options, content, engine) if content.unread is None else None
    if cache and inputs and (unchanged := cache.unchanged_build(root / output, inputs)):
        counts, sizes = unchanged
        return Report(WriteReport(0, 0, 0, sizes), *counts)
    config = load_config_for(root, options)
    with open_store(config, cache) as store:
        archive, planned, digests = load_and_plan(root, config, options, progress, content, cache, store)
        inputs = inputs or inputs_digest(root, options, content.with_digests(digests), engine)
        counts = (
            sum(1 for p in planned if p.path.endswith(".html")),
            len(planned),
            len(archive.entries),
            len(archive.tags),
            len(archive.regions),
            len(archive.sources),
            len(archive.countries),
        )
        try:
            written = write_site(root / output, planned, cache, options.workers, progress, (inputs, counts))
        except OSError as exc:
            message = f"cannot be written: {exc.strerror or exc} ({exc.filename}); make the project folder writable"
            raise BuildFailed([SourceError(f"{output}/", 0, message)]) from None
    return Report(written, *counts, archive=archive)


def quick_page(root: Path, archive: Archive, repo_path: str, data: bytes) -> tuple[str, bytes] | None:
    """Render one edited briefing's own page from the last build's model, for the preview.

    Returns (output file, bytes), or None when the edit is invalid or moves the briefing
    (date, slug, draft) or changes its tags, region, source or countries: then only a full build
    knows which pages it reaches. The result is a preview of the preview: the full
    incremental build that follows is what the site is made of.
    """
    index = next((i for i, entry in enumerate(archive.entries) if entry.briefing.path == repo_path), None)
    if index is None:
        return None
    old = archive.entries[index]
    record = RecordParser(archive.config).parse(repo_path, data)
    new = record.briefing
    if new is None or record.body is None or record.errors:
        return None
    where = (new.date, new.slug, new.draft, new.tags, new.region, new.source.name, new.countries)
    if where != (old.briefing.date, old.briefing.slug, old.briefing.draft, old.briefing.tags,
                 old.briefing.region, old.briefing.source.name, old.briefing.countries):  # fmt: skip
        return None
    paths = {entry.briefing.path: entry.path for entry in archive.entries}
    links = resolve_links(
        record.body.links, archive.config.base_path, _resolver(archive.config, paths, set(), new.draft)
    )
    if links.problems:
        return None
    body = BodyRef(record.digest, links.hrefs, inline=fill(record.body.html, links.hrefs))
    entry = replace(old, briefing=new, body=body, site_links=links.site_links)
    model = replace(archive, entries=(*archive.entries[:index], entry, *archive.entries[index + 1 :]))
    page = briefing_page(model, index)
    static = read_static(root / "static")
    renderer = Renderer(root / "templates", model, static, inline_body, root / CACHE_DIR / "templates")
    try:
        return output_file(page.path), renderer.render(page)
    except BuildFailed:
        return None


def inline_body(body: BodyRef) -> str:
    """Return a body rendered outside a build; the preview's instant page has no other."""
    if body.inline is None:
        raise LookupError("this page needs a stored body; the full build will show it")
    return body.inline


def inputs_digest(root: Path, options: Options, content: Content, engine: str) -> str:
    """Return a digest of everything a build reads: equal digests give byte-identical sites."""
    parts: list[str | bytes] = [engine, repr((options.drafts, options.base_url)), repr(content.refused)]
    for name in ("site.yaml", "templates", "static"):
        for other in sorted((root / name).rglob("*")) if (root / name).is_dir() else [root / name]:
            if other.is_file():
                parts += [other.relative_to(root).as_posix(), other.read_bytes()]
    for source in content.files:
        assert source.digest is not None, "the inputs of a build are digested once every file is"
        parts += [source.path, source.digest]
    return digest_text(*parts).hex()


def _safe(stage: Callable[[], T], fallback: T) -> tuple[T, list[SourceError]]:
    """Run a model stage, turning BuildFailed into errors so all problems are reported together."""
    try:
        return stage(), []
    except BuildFailed as exc:
        return fallback, list(exc.errors)
