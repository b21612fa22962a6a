"""The plan of a build: every output file with its key and how to make it.

Owns deciding what the site consists of (pages, feeds, static files) and keying each
output by a digest of exactly what it is made from: the view data its template receives,
the templates it uses, the site-wide inputs (settings, static fingerprints). Nothing is
rendered here; an output is made only when the writer finds its key changed.
May not write files (the search index's postings go to the memo it is given).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path

import jinja2

from briefings.archive import Archive
from briefings.config import SiteConfig
from briefings.content import Briefing
from briefings.feeds import feed_jobs
from briefings.keys import Hasher, Memo, digest_text
from briefings.kinds import BY_NAME
from briefings.markdown import BodyRef
from briefings.outputs import MARKER_TEXT, SITE_MARKER, Planned
from briefings.pages import Page, given_way_pages, moved_pages, site_pages
from briefings.render import Renderer
from briefings.search import Postings, Words, build_index
from briefings.sources import read_static
from briefings.urls import media_path, output_file
from briefings.workers import in_child

CHILD_INDEX_FROM = 20_000  # briefings; below, forking costs more than the memory it returns


def plan_site(
    root: Path,
    archive: Archive,
    digests: dict[str, str],
    body: Callable[[BodyRef], str],
    compiled: jinja2.BytecodeCache | None = None,
    words: Words | None = None,
    memo: Memo | None = None,
    assets: tuple[str, ...] = (),
) -> list[Planned]:
    """Return every output of the site, keyed; `digests` are the content files' digests by path.

    `body` returns a body's HTML (from the store); `compiled` is where Jinja may keep
    compiled templates between builds; `words` has the words of each body for the
    search index (made when search is on), which is made here and keyed by its bytes;
    `memo` keeps its postings between builds, so that an edit updates them instead of
    making them again. `assets` are the other files under `content/` (images beside a
    briefing), copied as they are to /media/.
    """
    # Started first, while this process is smallest: past CHILD_INDEX_FROM the index is made
    # in a forked child (which starts as large as this process is) while pages are planned here.
    with search_index(archive, words if archive.config.search else None, memo) as index:
        hasher = Hasher()
        planned = _plan_outputs(root, archive, digests, body, compiled, hasher, memo)
        for path, data in index().items():
            planned.append(Planned(path, hasher.key(data), "search index", _constant(data), "search"))
    for name in assets:
        data = (root / name).read_bytes()
        planned.append(Planned(media_path(name), hasher.key(data), name, _constant(data), "media"))
    return planned


def _plan_outputs(
    root: Path,
    archive: Archive,
    digests: dict[str, str],
    body: Callable[[BodyRef], str],
    compiled: jinja2.BytecodeCache | None,
    hasher: Hasher,
    memo: Memo | None = None,
) -> list[Planned]:
    """Return every output but the search index, keyed (see plan_site).

    Each key is the digest of exactly what its output is made from: the view its template
    or feed writer receives, the templates it uses, and `site`, the settings as templates
    and feeds see them. An entry is digested as the dataclass it is (every field), with its
    briefing known by its file's path and bytes, which with the settings decide it.
    """
    static = read_static(root)
    site = site_view(archive.config)
    renderer = Renderer(root / "templates", site, static, body, compiled, memo)
    for entry in archive.entries:
        path = entry.briefing.path
        hasher.seed(entry.briefing, digest_text(path, digests[path]))
    site_wide = hasher.digest((site, {name: hasher.digest(data) for name, data in static.items()}))
    planned = [
        Planned(name, hasher.key(data), f"static/{name}", _constant(data), "static") for name, data in static.items()
    ]
    planned.append(Planned(".nojekyll", "", "build", _constant(b"")))
    planned.append(Planned(SITE_MARKER, "", "build", _constant(MARKER_TEXT)))
    pages = site_pages(archive)
    for page in pages:
        key = hasher.key(site_wide, renderer.template_digest(page.template), page)
        origin, line = (b.path, b.line_of("slug")) if (b := _briefing_of(page)) else (f"templates/{page.template}", 0)
        make = renderer.page_maker(page)
        planned.append(Planned(output_file(page.path), key, origin, make, _page_group(page), line))
    removed = {r.path.lstrip("/"): r.line for r in archive.config.removed}
    for page in moved_pages(archive):
        key = hasher.key(site_wide, renderer.template_digest(page.template), page)
        b = page.context.get("briefing")
        if b:
            origin, line = b.path, b.line_of("aliases")
        elif "story_line" in page.context:
            origin, line = "site.yaml (stories)", page.context["story_line"]
        else:
            origin, line = "site.yaml (removed)", removed.get(page.path, 0)
        planned.append(Planned(output_file(page.path), key, origin, renderer.page_maker(page), "moved", line))
    for page in given_way_pages(archive):
        key = hasher.key(site_wide, renderer.template_digest(page.template), page)
        make, group = renderer.page_maker(page), page.path.split("/")[0]
        planned.append(Planned(output_file(page.path), key, page.context["origin"], make, group))
    for path, view, make in feed_jobs(site, archive, pages, body):
        planned.append(Planned(path, hasher.key(site_wide, path, view), "feeds", make, _feed_group(path)))
    renderer.keep_references()
    return planned


def output_paths(root: Path, archive: Archive, assets: Iterable[str] = ()) -> set[str]:
    """Return the path of every output but the search index's, unkeyed: what a failed build
    would have served, for checking links in the same run."""
    pages = site_pages(archive)
    paths = {".nojekyll", SITE_MARKER, *read_static(root), *map(media_path, assets)}
    paths |= {output_file(page.path) for page in (*pages, *moved_pages(archive), *given_way_pages(archive))}
    return paths | {path for path, _, _ in feed_jobs(site_view(archive.config), archive, pages, lambda _: "")}


@contextlib.contextmanager
def search_index(archive: Archive, words: Words | None, memo: Memo | None) -> Iterator[Callable[[], dict[str, bytes]]]:
    """Start making the search index's files (none without `words`); yield a function that waits for them.

    The postings the memo kept are updated (and the new ones kept).
    """

    def make_index() -> dict[str, bytes]:
        if words is None:
            return {}
        previous = memo.recall("postings", words.stamp) if memo else None
        index, postings = build_index(archive, words, previous if isinstance(previous, Postings) else None)
        if memo:
            memo.remember("postings", words.stamp, postings)
        return index.files

    if words is None or len(archive.entries) <= CHILD_INDEX_FROM:
        yield make_index
        return
    # At scale its working memory (about 130 MB at 100,000 briefings) goes with the child.
    with in_child(make_index) as made:
        yield made


def _briefing_of(page: Page) -> Briefing | None:
    """Return the briefing whose own page this is, if it is one."""
    entry = page.context.get("entry")
    return entry.briefing if page.template == "briefing.html" and entry is not None else None


def site_view(config: SiteConfig) -> SiteConfig:
    """Return the settings as templates and feeds see them (what their keys digest): all but the
    removed URLs, which reach only their own notice pages, so editing that list rebuilds nothing else."""
    return replace(config, removed=())


def _page_group(page: Page) -> str:
    """Return the kind of page, for the size report."""
    if page.template == "briefing.html":
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
