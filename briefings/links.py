"""The links between briefings and to the rest of the site, checked.

Owns resolving each body's links (site paths under the base path, another briefing's `.md`
file to its URL; a published briefing may not link a draft) and finding links and images
that no output of the site serves. Every problem is an error at `file:line`.
May not do I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from briefings.archive import Archive
from briefings.config import SiteConfig
from briefings.errors import SourceError
from briefings.markdown import BodyRef, Resolver, resolve_links
from briefings.records import Record
from briefings.urls import href, output_file

# Each body by file path: where it is (digest and resolved hrefs) and its site links by line.
Bodies = dict[str, tuple[BodyRef, tuple[tuple[int, str], ...]]]


def resolve_bodies(
    config: SiteConfig, records: Iterable[Record], paths: dict[str, str], drafts: set[str]
) -> tuple[Bodies, list[SourceError]]:
    """Resolve every body's links: site paths under the base path, other briefings' files to URLs.

    A published briefing may not link to a draft: the link would break once published,
    so `check` (which sees drafts) and `build` (which does not) report it alike.
    """
    bodies: Bodies = {}
    errors: list[SourceError] = []
    resolvers = {draft: resolver(config, paths, drafts, draft) for draft in (False, True)}
    for record in records:
        assert record.briefing is not None and record.body is not None
        resolve = resolvers[record.briefing.draft]
        links = resolve_links(record.body.links, config.base_path, resolve)
        bodies[record.path] = (BodyRef(record.digest, links.hrefs), links.site_links)
        errors += [SourceError(record.path, line, message) for line, message in links.problems]
    return bodies, errors


def resolver(config: SiteConfig, paths: dict[str, str], drafts: set[str], from_draft: bool) -> Resolver:
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
