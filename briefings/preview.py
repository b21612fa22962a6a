"""The preview's instant pages: an edited, new or renamed briefing shown before the full build
has run, and the open tabs' pages after a template or a static file changed.

Owns rendering one briefing's own page from the model the last build left (the warm
build), patched with the edit or the new briefing: its terms of every kind (tags, region,
countries, source, story), its moment and its URL; and rendering given pages of that model
with the templates and static files as they are now. The full incremental build that follows
is what the preview serves afterwards, other pages included. May not write files.
"""

from __future__ import annotations

import bisect
import contextlib
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import jinja2

from briefings.archive import BUILTIN, Archive, Entry, Merge, Ref, Term, place_of
from briefings.clock import build_time, is_due
from briefings.content import Briefing
from briefings.errors import BuildFailed
from briefings.kinds import KINDS
from briefings.links import resolver
from briefings.markdown import BodyRef, fill, resolve_links
from briefings.pages import PagesByPath, briefing_page, briefing_redirect
from briefings.plan import site_view
from briefings.records import RecordParser
from briefings.render import Renderer
from briefings.sources import read_static
from briefings.urls import briefing_path, fold, output_file, page_paths, slugify


def instant_page(
    root: Path,
    archive: Archive,
    repo_path: str,
    data: bytes,
    compiled: jinja2.BytecodeCache | None = None,
    replaces: str | None = None,
) -> tuple[tuple[str, bytes], ...] | None:
    """Render one edited or new briefing's own page from the last build's model, for the preview:
    (output file, bytes) for its page and, when the edit moved it (its slug, or its date's
    year or month), for a redirect at its old URL, so the open tab follows it.

    A file the model lacks is a new briefing, shown where the full build will list it; with
    `replaces` (the file it was renamed from, gone now), it takes that briefing's place, as an
    edit that moved it. None when the edit is invalid, or changes whether the briefing is
    published (draft, or a date on the other side of the build's clock: a new briefing must be
    published), or takes another briefing's URL: only the full build knows every page those
    reach. Its terms of every kind (`kinds.KINDS`) are placed in the model as the full build
    would place them, so a new tag links its page and a new story shows the briefing's part in
    it; its related briefings are the last build's (none for a new one) until the full build
    ranks them again. The result is a preview of the preview: the full incremental build that
    follows is what the site is made of. `compiled` is where Jinja keeps compiled templates.
    """
    was = replaces or repo_path
    old = next((entry for entry in archive.entries if entry.briefing.path == was), None)
    if replaces is not None and (old is None or any(e.briefing.path == repo_path for e in archive.entries)):
        return None  # renamed from a file the model lacks, or onto one it has: the full build sorts it out
    record = RecordParser(archive.config.parsing).parse(repo_path, data)
    new = record.briefing
    if new is None or record.body is None or record.errors:
        return None
    try:
        now = build_time()
    except BuildFailed:  # the full build says what is wrong with the clock
        return None
    was_listed = (False, True) if old is None else (old.briefing.draft, is_due(old.briefing.date, now))
    if (new.draft, is_due(new.date, now)) != was_listed:
        return None
    path = briefing_path(new.date, new.slug)
    paths = {entry.briefing.path: entry.path for entry in archive.entries if entry is not old} | {repo_path: path}
    if path in (entry.path for entry in archive.entries if entry is not old):
        return None  # two briefings at one URL: the full build's error says so
    links = resolve_links(record.body.links, archive.config.base_path, resolver(archive.config, paths, {}, new.draft))
    if links.problems:
        return None
    body = BodyRef(record.digest, links.hrefs, inline=fill(record.body.html, links.hrefs))
    entry = Entry(new, path, body, _refs(archive, new), links.site_links)
    model = _patched(archive, old, entry)
    pages = [briefing_page(model, next(i for i, e in enumerate(model.entries) if e is entry))]
    if old is not None and path != old.path:
        pages.append(briefing_redirect(old.path, new, path))
    renderer = _renderer(root, model, compiled)
    try:
        return tuple((output_file(page.path), renderer.render(page)) for page in pages)
    except BuildFailed:
        return None


def moved_redirects(
    root: Path, before: Archive, after: Archive, compiled: jinja2.BytecodeCache | None = None
) -> tuple[tuple[str, bytes], ...]:
    """Return (output file, bytes) of a redirect at the old URL of each briefing a build found
    renamed: a file of `before` gone from `after` whose bytes (its digest) are a new file's, at
    another URL. `Preview.quick` shows a rename ahead of the build; a build an earlier save
    started may see the rename first, and then this is what sends a tab on the old URL on."""
    kept = {entry.briefing.path for entry in after.entries}
    gone = {entry.body.digest: entry for entry in before.entries if entry.briefing.path not in kept}
    if not gone:
        return ()
    was = {entry.briefing.path for entry in before.entries}
    pages = [
        briefing_redirect(old.path, new.briefing, new.path)
        for new in after.entries
        if new.briefing.path not in was and (old := gone.get(new.body.digest)) is not None and old.path != new.path
    ]
    if not pages:
        return ()
    renderer, made = _renderer(root, after, compiled), []
    for page in pages:
        with contextlib.suppress(BuildFailed):  # a template with an error: the tab waits for the fix
            made.append((output_file(page.path), renderer.render(page)))
    return tuple(made)


def restyled_pages(
    root: Path, archive: Archive, outputs: Iterable[str], compiled: jinja2.BytecodeCache | None = None
) -> tuple[tuple[str, bytes], ...]:
    """Render these pages (output files: the ones the open tabs show) from the last build's
    model with the templates and static files as they are now, for the preview after a save
    in `templates/` or `static/`: (output file, bytes) for each that could be. A briefing's
    page is its `instant_page` (its body is read again from its file); any other page is made
    from the model (`pages.PagesByPath`). A page that cannot be (a template with an error, a
    page whose template shows a body the model keeps only in the store) is left to the build."""
    briefings = {output_file(entry.path): entry.briefing.path for entry in archive.entries}
    finder, renderer = PagesByPath(archive), None
    made: list[tuple[str, bytes]] = []
    for output in outputs:
        try:
            if output in briefings:
                data = (root / briefings[output]).read_bytes()
                shown = instant_page(root, archive, briefings[output], data, compiled)
                made += shown[:1] if shown else ()
            elif found := next(filter(None, map(finder.at, page_paths(output))), None):
                renderer = renderer or _renderer(root, archive, compiled)
                made.append((output, renderer.render(found[1])))
        except (BuildFailed, LookupError, OSError):
            continue
    return tuple(made)


def _renderer(root: Path, archive: Archive, compiled: jinja2.BytecodeCache | None) -> Renderer:
    """Return a renderer of the model's pages with the templates and static files as they are now."""
    return Renderer(root / "templates", site_view(archive.config), read_static(root), inline_body, compiled)


def _refs(archive: Archive, briefing: Briefing) -> tuple[tuple[Ref, ...], ...]:
    """Return the briefing's links to its terms, one tuple per kind, as the full build would make them:
    a name the archive lists has its term's spelling and slug, a tag that names a country is the
    country (`archive.Merge`), a new name is spelt as a known name or as written."""
    config = archive.config
    merge = Merge(config, [briefing], {kind: [t.name for t in terms] for kind, terms in archive.terms.items()})
    names = {kind.name: merge.names_in(kind, briefing) for kind in KINDS}
    refs = []
    for kind in KINDS:
        listed = {fold(t.name): Ref(t.name, t.slug) for t in archive.terms[kind.name]}
        known = {fold(n): n for n in (*BUILTIN.get(kind.name, ()), *config.known_names(kind.known))}
        known |= {fold(r.name): r.name for r in config.regions} if kind.vocabulary == "site" else {}
        slugs = config.term_slugs(kind.name)
        spelled = (known.get(fold(n), n) for n in names[kind.name])
        refs.append(tuple(listed.get(fold(n)) or Ref(n, slugs.get(n) or slugify(n)) for n in spelled))
    return tuple(refs)


def _patched(archive: Archive, old: Entry | None, new: Entry) -> Archive:
    """Return the model with `old` replaced by `new` everywhere (`new` added, when `old` is None):
    in the archive's order (by its moment) and in the terms of every kind, leaving the terms it
    left and joining (or starting) the terms it names. Each list is in order already: `new` is
    placed by binary search."""
    if old is not None and place_of(old.briefing) == place_of(new.briefing):
        entries = tuple(new if e is old else e for e in archive.entries)
    else:
        entries = _placed([e for e in archive.entries if e is not old], new)
    terms = {}
    for place, kind in enumerate(KINDS):
        left, joined = {r.slug for r in old.refs[place]} if old else set(), {r.slug for r in new.refs[place]}
        kept = []
        for term in archive.terms[kind.name]:
            if term.slug in left or term.slug in joined:
                members = [e for e in term.entries if e is not old]
                term = replace(term, entries=_placed(members, new) if term.slug in joined else tuple(members))
            kept.append(term)
        listed = {term.slug for term in kept}
        kept += [Term(kind.name, ref.name, ref.slug, (new,)) for ref in new.refs[place] if ref.slug not in listed]
        terms[kind.name] = tuple(kept)
    related = {**archive.related, new.path: archive.related.get(old.path, ()) if old else ()}
    return replace(archive, entries=entries, terms=terms, related=related)


def _placed(entries: list[Entry], entry: Entry) -> tuple[Entry, ...]:
    """Return `entries` (in the archive's order) with `entry` in its place."""
    bisect.insort(entries, entry, key=lambda e: place_of(e.briefing))
    return tuple(entries)


def inline_body(body: BodyRef) -> str:
    """Return a body rendered outside a build; the preview's instant page has no other."""
    if body.inline is None:
        raise LookupError("this page needs a stored body; the full build will show it")
    return body.inline
