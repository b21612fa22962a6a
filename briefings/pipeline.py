"""The build, as a list of stages: load -> validate -> model -> render -> write.

Owns running the stages in order and the two entry points, `check` (everything but
writing) and `build`. The complete archive is modelled in memory before anything is
written. May not hold page logic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from briefings.archive import Archive, briefing_urls, build_archive
from briefings.config import SiteConfig, load_config
from briefings.content import Briefing, load_briefings
from briefings.errors import BuildFailed, SourceError
from briefings.feeds import feed_outputs
from briefings.markdown import Body, Resolver, make_parser, render_body
from briefings.pages import site_pages
from briefings.progress import Progress
from briefings.render import PAGE_IDS, Renderer
from briefings.urls import href, output_file
from briefings.write import Output, unique_outputs, write_site

OUTPUT_DIR = "_site"
T = TypeVar("T")


@dataclass(frozen=True)
class Report:
    """What a build made, for the closing summary."""

    pages: int
    files: int
    briefings: int
    tags: int
    regions: int
    sources: int


def load_archive(root: Path, *, drafts: bool = False, base_url: str | None = None) -> Archive:
    """Load, validate and model the archive; raise BuildFailed with every problem."""
    config = load_config(root / "site.yaml")
    if base_url:
        config = config.with_base_url(base_url)
    briefings, errors = load_briefings(root, config)
    paths, url_errors = briefing_urls(briefings)
    published = [b for b in briefings if drafts or not b.draft]
    bodies, link_errors = render_bodies(config, published, paths, {b.path for b in briefings if b.draft})
    # Model what is valid even when something is not, so that every error shows in one run.
    archive, model_errors = _safe(lambda: build_archive(config, published, paths, bodies), None)
    errors += url_errors + link_errors + model_errors
    if errors or archive is None:
        raise BuildFailed(errors)
    return archive


def render_bodies(
    config: SiteConfig, briefings: Iterable[Briefing], paths: dict[str, str], drafts: set[str]
) -> tuple[dict[str, Body], list[SourceError]]:
    """Render every body to HTML; links to other briefings' files become their URLs.

    A published briefing may not link to a draft: the link would break once published,
    so `check` (which sees drafts) and `build` (which does not) report it alike.
    """
    md = make_parser(config.allow_html)

    bodies: dict[str, Body] = {}
    errors: list[SourceError] = []
    for briefing in briefings:
        body = render_body(
            md,
            briefing.body,
            path=briefing.path,
            first_line=briefing.body_line,
            base_path=config.base_path,
            resolve=_resolver(config, paths, drafts, briefing.draft),
            reserved_ids=PAGE_IDS,
        )
        bodies[briefing.path] = body
        errors += [SourceError(briefing.path, line, message) for line, message in body.problems]
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


def render_site(root: Path, archive: Archive, progress: Progress) -> dict[str, Output]:
    """Render every file of the site in memory."""
    static = read_static(root / "static")
    renderer = Renderer(root / "templates", archive, static)
    pages = site_pages(archive)
    outputs = [Output(name, data, f"static/{name}") for name, data in static.items()]
    for done, page in enumerate(pages, start=1):
        outputs.append(Output(output_file(page.path), renderer.render(page), f"templates/{page.template}"))
        progress.update("Rendering pages", done, len(pages))
    outputs.append(Output(".nojekyll", b"", "build"))
    outputs += feed_outputs(archive, pages)
    written = unique_outputs(outputs)
    dangling = dangling_references(archive, written)
    if dangling:
        raise BuildFailed(dangling)
    return written


def dangling_references(archive: Archive, outputs: dict[str, Output]) -> list[SourceError]:
    """Return an error for each image or body link to a site path that will not exist."""
    errors = []
    for entry in archive.entries:
        b = entry.briefing
        if b.image and "://" not in b.image.src and not _serves(outputs, b.image.src):
            message = f'image src: "{b.image.src}" is not a file of the site; add it under static/ or fix the path'
            errors.append(SourceError(b.path, b.line_of("image"), message))
        for line, target in entry.site_links:
            if not _serves(outputs, target):
                errors.append(SourceError(b.path, line, f'link "{target}" points to no page of the site; fix the path'))
    return errors


def _serves(outputs: dict[str, Output], target: str) -> bool:
    """Return True when a site path (`/tags/isis/`, `favicon.svg`) will be served by a file."""
    path = urlsplit(target).path.lstrip("/")
    return any(candidate in outputs for candidate in (output_file(path), path + "/index.html"))


def read_static(folder: Path) -> dict[str, bytes]:
    """Read `static/` as-is, by path inside it; files linking outside the repository are skipped."""
    if not folder.is_dir():
        return {}
    repo = folder.parent.resolve()
    return {
        file.relative_to(folder).as_posix(): file.read_bytes()
        for file in sorted(folder.rglob("*"))
        if file.is_file() and file.resolve().is_relative_to(repo)
    }


def check(root: Path) -> Archive:
    """Validate everything a build would, rendering in memory; write nothing."""
    archive = load_archive(root, drafts=True)
    render_site(root, archive, Progress(enabled=False))
    return archive


def build(root: Path, *, drafts: bool = False, base_url: str | None = None, progress: Progress) -> Report:
    """Build the site into `root/_site`, swapping it in only when every file is ready."""
    archive = load_archive(root, drafts=drafts, base_url=base_url)
    outputs = render_site(root, archive, progress)
    write_site(root / OUTPUT_DIR, outputs)
    return Report(
        pages=sum(1 for path in outputs if path.endswith(".html")),
        files=len(outputs),
        briefings=len(archive.entries),
        tags=len(archive.tags),
        regions=len(archive.regions),
        sources=len(archive.sources),
    )


def _safe(stage: Callable[[], T], fallback: T) -> tuple[T, list[SourceError]]:
    """Run a model stage, turning BuildFailed into errors so all problems are reported together."""
    try:
        return stage(), []
    except BuildFailed as exc:
        return fallback, list(exc.errors)
