"""The preview's instant page: an edited briefing shown before the full build has run.

Owns rendering one briefing's own page from the model the last build left (the warm
build), when the edit leaves every other page as it was. The full incremental build that
follows is what the preview serves afterwards. May not write files.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import jinja2

from briefings.archive import Archive, names_of
from briefings.content import Briefing
from briefings.errors import BuildFailed
from briefings.kinds import KINDS
from briefings.links import resolver
from briefings.markdown import BodyRef, fill, resolve_links
from briefings.pages import briefing_page
from briefings.plan import site_view
from briefings.records import RecordParser
from briefings.render import Renderer
from briefings.sources import read_static
from briefings.urls import output_file


def instant_page(
    root: Path, archive: Archive, repo_path: str, data: bytes, compiled: jinja2.BytecodeCache | None = None
) -> tuple[str, bytes] | None:
    """Render one edited briefing's own page from the last build's model, for the preview.

    Returns (output file, bytes), or None when the edit is invalid or moves the briefing
    (date, slug, draft) or changes its terms of any kind (`kinds.KINDS`): then only a full
    build knows which pages it reaches. The result is a preview of the preview: the full
    incremental build that follows is what the site is made of. `compiled` is where Jinja
    keeps compiled templates.
    """
    index = next((i for i, entry in enumerate(archive.entries) if entry.briefing.path == repo_path), None)
    if index is None:
        return None
    old = archive.entries[index]
    record = RecordParser(archive.config.parsing).parse(repo_path, data)
    new = record.briefing
    if new is None or record.body is None or record.errors:
        return None
    if _place(new) != _place(old.briefing):
        return None
    paths = {entry.briefing.path: entry.path for entry in archive.entries}
    links = resolve_links(record.body.links, archive.config.base_path, resolver(archive.config, paths, {}, new.draft))
    if links.problems:
        return None
    body = BodyRef(record.digest, links.hrefs, inline=fill(record.body.html, links.hrefs))
    entry = replace(old, briefing=new, body=body, site_links=links.site_links)
    model = replace(archive, entries=(*archive.entries[:index], entry, *archive.entries[index + 1 :]))
    page = briefing_page(model, index)
    static = read_static(root)
    renderer = Renderer(root / "templates", site_view(model.config), static, inline_body, compiled)
    try:
        return output_file(page.path), renderer.render(page)
    except BuildFailed:
        return None


def _place(briefing: Briefing) -> tuple[object, ...]:
    """Return what decides where a briefing appears: its URL, whether it is shown, its terms."""
    return (briefing.date, briefing.slug, briefing.draft, *(names_of(kind, briefing) for kind in KINDS))


def inline_body(body: BodyRef) -> str:
    """Return a body rendered outside a build; the preview's instant page has no other."""
    if body.inline is None:
        raise LookupError("this page needs a stored body; the full build will show it")
    return body.inline
