"""The links between briefings and to the rest of the site, checked.

Owns resolving each body's links (site paths under the base path, another briefing's `.md`
file to its URL; a published briefing may not link a draft) and finding links and images
that no output of the site serves. Every problem is an error at `file:line`.
May not do I/O.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import unquote

from briefings.config import SiteConfig
from briefings.content import Briefing
from briefings.errors import SourceError
from briefings.markdown import BodyRef, Resolver, resolve_links
from briefings.records import PAGE_IDS, Record
from briefings.urls import fragment_of, href, media_path, output_file, path_of

# Each body by file path: where it is (digest and resolved hrefs) and its site links by line.
Bodies = dict[str, tuple[BodyRef, tuple[tuple[int, str], ...]]]


def resolve_bodies(
    config: SiteConfig,
    records: Iterable[Record],
    paths: dict[str, str],
    unpublished: Mapping[str, str],
    assets: frozenset[str] = frozenset(),
    linked: Iterable[Record] | None = None,
) -> tuple[Bodies, list[SourceError]]:
    """Resolve every body's links: site paths under the base path, other briefings' files to URLs.

    A published briefing may not link to an unpublished one (a draft, or one scheduled for
    later: `unpublished` says which, by file path, with why): the link would break, so `check`
    (which sees them) and `build` (which does not) report it alike. `assets` are the other
    files under `content/` (images beside a briefing), served under /media/. `linked` are the
    records whose headings a link's #fragment may name: `records` unless given.
    """
    bodies: Bodies = {}
    errors: list[SourceError] = []
    resolvers = {hidden: resolver(config, paths, unpublished, hidden, assets) for hidden in (False, True)}
    records = list(records)
    ids = _Ids({r.path: r.body.ids for r in (records if linked is None else linked) if r.body is not None})
    for record in records:
        assert record.as_read is not None and record.body is not None
        resolve = resolvers[record.path in unpublished]
        links = resolve_links(record.body.links, config.base_path, resolve)
        # Interned: bodies link to a few pages (a region's, a tag's) and briefings, many alike:
        # the model, kept between builds, holds each href once.
        bodies[record.path] = (BodyRef(record.digest, tuple(map(sys.intern, links.hrefs))), links.site_links)
        errors += [SourceError(record.path, line, message) for line, message in links.problems]
        errors += [SourceError(record.path, line, message) for line, message in _missing_fragments(record, ids)]
    return bodies, errors


class _Ids:
    """The ids a link's fragment may name on each briefing's page, made only for pages a fragment names."""

    def __init__(self, written: dict[str, tuple[str, ...]]) -> None:
        self.written = written  # each body's heading and anchor ids, by file path
        self.made: dict[str, frozenset[str]] = {}

    def of(self, path: str | None) -> frozenset[str] | None:
        """Return the ids of the page of the briefing at `path` (None: no briefing's body is there)."""
        if path is None or path not in self.written:
            return None
        if path not in self.made:
            self.made[path] = frozenset((*self.written[path], *PAGE_IDS))
        return self.made[path]


def _missing_fragments(record: Record, ids: _Ids) -> Iterator[tuple[int, str]]:
    """Yield (line, message) for each link to a #fragment that its page does not have."""
    assert record.body is not None
    for line, fragment in record.body.fragments:
        own = ids.of(record.path) or frozenset()
        if unquote(fragment) not in own:
            yield line, f'link "#{fragment}" points to no heading or anchor of this briefing{_meant(fragment, own)}'
    for link in record.body.links:
        fragment = fragment_of(link.written)
        target = ids.of(link.repo_path) if fragment else None
        if target is not None and unquote(fragment) not in target:
            where = f"{link.repo_path}{_meant(fragment, target)}"
            yield link.line, f'link "{link.written}" points to no heading or anchor of {where}'


def _meant(fragment: str, ids: frozenset[str]) -> str:
    """Return "; did you mean ...?" with the nearest id, or a hint where none is near."""
    near = difflib.get_close_matches(unquote(fragment), sorted(ids), n=1, cutoff=0.6)
    return f'; did you mean "#{near[0]}"?' if near else "; link a heading by its id as GitHub shows it"


def resolver(
    config: SiteConfig,
    paths: dict[str, str],
    unpublished: Mapping[str, str],
    from_unpublished: bool,
    assets: frozenset[str] = frozenset(),
) -> Resolver:
    """Return the link resolver for one briefing's body: another briefing's file, or a file beside it.

    `unpublished` gives, by file path, why a briefing is not published ("a draft", "scheduled
    for ..."); only a briefing that is not published either may link to one.
    """

    def resolve(repo_path: str) -> str:
        if not repo_path.endswith(".md"):
            if repo_path not in assets:
                raise LookupError(
                    f"is relative to the file, so it was looked for at {repo_path}, which does not exist; put the "
                    "file there (as GitHub's preview expects), or under static/ and link /its/path"
                )
            return href(config.base_path, media_path(repo_path))
        if repo_path not in paths:
            raise LookupError(f"points to no briefing ({repo_path} does not exist); fix the path")
        if repo_path in unpublished and not from_unpublished:
            why = unpublished[repo_path]
            raise LookupError(f"points to {repo_path}, {why}; link to it once it is published, or remove the link")
        return href(config.base_path, paths[repo_path])

    return resolve


class Linking(Protocol):
    """A briefing as `dangling_references` checks it: an archive's `Entry`, or `Unplaced`."""

    @property
    def briefing(self) -> Briefing: ...  # read only for an error's line

    @property
    def file(self) -> str: ...

    @property
    def image_src(self) -> str | None: ...

    @property
    def site_links(self) -> tuple[tuple[int, str], ...]: ...


@dataclass(frozen=True)
class Unplaced:
    """A briefing no listing holds (a stand-in), with its body's site links, as `Linking`."""

    briefing: Briefing
    site_links: tuple[tuple[int, str], ...]

    @property
    def file(self) -> str:
        return self.briefing.path

    @property
    def image_src(self) -> str | None:
        return self.briefing.image_src


def dangling_references(linking: Iterable[Linking], paths: set[str]) -> list[SourceError]:
    """Return an error for each image or body link to a site path that no output serves. Each
    target is looked up once: most links of an archive go to a few pages (its regions, its
    tags). A briefing is read only for an error's file and line: an archive's entries hold
    their image's src and site links apart (a model loaded from the cache makes a briefing
    when it is first read: `archive.unmade_entry`)."""
    errors = []
    served: dict[str, bool] = {}
    for linked in linking:
        src = linked.image_src
        if src and "://" not in src and not _serves(paths, src):
            message = f'image src: "{src}" is not a file of the site; add it under static/ or fix the path'
            errors.append(SourceError(linked.file, linked.briefing.line_of("image"), message))
        for line, target in linked.site_links:
            found = served.get(target)
            if found is None:
                found = served[target] = _serves(paths, target)
            if not found:
                message = f'link "{target}" points to no page of the site; fix the path'
                errors.append(SourceError(linked.file, line, message))
    return errors


def _serves(paths: set[str], target: str) -> bool:
    """Return True when a site path (`/tags/isis/`, `favicon.svg`) will be served by a file."""
    path = path_of(target).lstrip("/")
    return any(candidate in paths for candidate in (output_file(path), path + "/index.html"))
