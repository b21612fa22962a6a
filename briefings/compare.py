"""What a change does to the published site: the pull request's view of the archive.

Owns reading the base revision (through `git archive`), comparing it with the working
tree (briefings added, changed and removed; pages that appear, change or disappear) and
the permalink guard: every URL the base published (a briefing, an alias's redirect, a
withdrawn briefing's notice) must still be served, or the check fails naming the files.
Pages are compared by their keys (a digest of what each is made from), so nothing is
rendered. May not write the site.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from briefings import pipeline
from briefings.archive import story_slug
from briefings.errors import BuildFailed, SourceError
from briefings.kinds import KINDS
from briefings.urls import briefing_path, fold, term_path

LISTED = 50  # items shown per list in the summary; the rest are counted
NOT_COMPARED = "not compared until the problems are fixed (the URLs published before were checked)"
STORIES = "site.yaml (stories)"  # the origin of a story's page: the guard's advice names site.yaml's `stories:`


class BaseUnavailable(Exception):
    """The base revision cannot be read (unknown ref, not a git repository)."""


@dataclass(frozen=True)
class Revision:
    """One revision of the archive as published: its briefings and the keys of its pages."""

    files: dict[str, str]  # content file -> digest of its bytes (drafts and invalid files too)
    briefings: dict[str, tuple[str, str]]  # published briefing's file -> (title, URL path "/2015/09/x/")
    pages: dict[str, str]  # URL path of each HTML page -> its key
    permanent: dict[str, str]  # URL path that must keep working -> the file that made it
    sketched: bool = False  # made from the files of a revision with errors: `pages` holds no keys


@dataclass(frozen=True)
class Change:
    """The difference between the base and the working tree, and what the guard found."""

    added: list[tuple[str, str]] = field(default_factory=list)  # (file, title)
    changed: list[tuple[str, str]] = field(default_factory=list)
    removed: list[tuple[str, str]] = field(default_factory=list)
    appear: list[str] = field(default_factory=list)  # URL paths
    change: list[str] = field(default_factory=list)
    disappear: list[str] = field(default_factory=list)
    errors: list[SourceError] = field(default_factory=list)
    base_problem: str = ""  # why the base could not be compared, if it could not
    pages_compared: bool = True  # False when the working tree has errors: pages are not known


def url_of(output: str) -> str:
    """Return the URL path an output file serves (`2015/09/x/index.html` -> `/2015/09/x/`)."""
    return "/" + output.removesuffix("index.html")


def revision(root: Path, options: pipeline.Options) -> Revision:
    """Plan the published site of the archive at root (drafts left out) and describe it; an
    archive with errors is sketched from its files instead."""
    try:
        archive, planned, content = pipeline.plan(root, options)
    except BuildFailed:
        return sketch(pipeline.survey(root, options))
    briefings = {e.briefing.path: (e.briefing.title, "/" + e.path) for e in archive.entries}
    pages = {url_of(p.path): p.key for p in planned if p.path.endswith(".html")}
    permanent = {url_of(p.path): p.origin for p in planned if p.group == "moved"}
    permanent |= {url: path for path, (_, url) in briefings.items()}
    # A developing story's page is cited like a briefing's: its first page is permanent.
    chronicles = [kind.name for kind in KINDS if kind.chronicle]
    permanent |= {
        "/" + term_path(name, t.slug): STORIES for name in chronicles for t in archive.terms[name] if t.entries
    }
    return Revision({path: digest or "" for path, digest in content.files.items()}, briefings, pages, permanent)


def sketch(survey: pipeline.Survey) -> Revision:
    """Describe an archive that has errors from what its files give, without planning it: the
    URLs of its briefings (stand-ins too), their aliases and the removed URLs are what it serves
    for good, which is what the permalink guard needs."""
    read = [r.as_read for r in survey.records if r.as_read is not None and not r.as_read.draft]
    briefings = {b.path: (b.title, "/" + briefing_path(b.date, b.slug)) for b in read}
    served = {url: path for path, (_, url) in briefings.items()}
    served |= {alias: b.path for b in read for alias in b.aliases}
    served |= {removed.path: "site.yaml (removed)" for removed in survey.config.removed}
    served |= {alias: STORIES for story in survey.config.stories for alias in story.aliases}
    served |= {"/" + term_path("stories", story_slug(survey.config, b.story)): STORIES for b in read if b.story}
    files = {path: digest or "" for path, digest in survey.content.files.items()}
    return Revision(files, briefings, dict.fromkeys(served, ""), served, sketched=True)


def base_revision(root: Path, ref: str, options: pipeline.Options) -> Revision:
    """Describe the archive as it is at git revision `ref`, read into a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="briefings-base-") as folder:
        extract(root, ref, Path(folder))
        return revision(Path(folder), pipeline.Options(jobs=options.jobs, cache=False))


def extract(root: Path, ref: str, into: Path) -> None:
    """Write the tree of git revision `ref` of the repository at root into `into`."""
    try:
        result = subprocess.run(
            ["git", "-C", str(root), "archive", "--format=tar", ref], capture_output=True, check=False
        )
    except OSError as exc:
        raise BaseUnavailable(f"git cannot be run ({exc.strerror or exc}); install git") from None
    if result.returncode != 0:
        said = result.stderr.decode(errors="replace").strip().splitlines()
        detail = said[-1] if said else "git archive failed"
        raise BaseUnavailable(f'cannot read revision "{ref}": {detail} (fetch it first, e.g. git fetch origin main)')
    with tarfile.open(fileobj=io.BytesIO(result.stdout)) as tar:
        tar.extractall(into, filter="data")


def compare(base: Revision, head: Revision) -> Change:
    """Return what changes from base to head, with the permalink guard's errors."""
    files = base.files.keys() | head.files.keys()
    title = {**base.briefings, **head.briefings}

    def named(paths: set[str]) -> list[tuple[str, str]]:
        return [(path, title[path][0] if path in title else "") for path in sorted(paths)]

    briefings = Change(
        added=named({f for f in files if f not in base.files}),
        changed=named({f for f in files if f in base.files and f in head.files and base.files[f] != head.files[f]}),
        removed=named({f for f in files if f not in head.files}),
        errors=guard(base, head),
    )
    if head.sketched:  # its pages are not known
        return replace(briefings, pages_compared=False)
    return replace(
        briefings,
        appear=sorted(head.pages.keys() - base.pages.keys()),
        change=sorted(url for url in head.pages.keys() & base.pages.keys() if head.pages[url] != base.pages[url]),
        disappear=sorted(base.pages.keys() - head.pages.keys()),
    )


def guard(base: Revision, head: Revision) -> list[SourceError]:
    """Return an error for each URL the base published that the working tree would no longer serve."""
    served = head.pages.keys()
    errors = []
    for url, origin in sorted(base.permanent.items()):
        if url in served:
            continue
        successor = _successor(base, head, origin)
        if origin == STORIES:
            message = (
                f"{url}, a story's page on the base branch, would stop working; to rename the story, give it "
                f"its old slug under `stories:` in site.yaml (`slug: {url.rstrip('/').rsplit('/', 1)[-1]}`), or "
                f"list `{url}` in its `aliases:` there, so the old page redirects"
            )
            errors.append(SourceError("site.yaml", 0, message))
        elif successor:
            new_url = head.briefings[successor][1]
            message = (
                f"{url}, this briefing's URL on the base branch, would stop working: it is now {new_url}; "
                f"add `aliases: [{url}]` to its front matter, so the old URL redirects here"
            )
            errors.append(SourceError(successor, 1, message))
        else:
            message = (
                f"{url} was published from {origin}, and nothing would be served there; keep it, add "
                f"`aliases: [{url}]` to the briefing that replaces it, or list it under `removed:` in "
                "site.yaml with the reason"
            )
            errors.append(SourceError(origin if origin in base.files else "site.yaml", 0, message))
    return errors


def _successor(base: Revision, head: Revision, origin: str) -> str | None:
    """Return the working tree's briefing that a vanished base briefing became: same file, else same title."""
    if origin in head.briefings:
        return origin
    if origin not in base.briefings:
        return None
    title = fold(base.briefings[origin][0])
    return next((path for path, (other, _) in sorted(head.briefings.items()) if fold(other) == title), None)


def against(root: Path, ref: str, options: pipeline.Options) -> Change:
    """Compare the archive at root with git revision `ref`; a base with errors is reported, not compared."""
    head = revision(root, options)
    try:
        base = base_revision(root, ref, options)
    except BuildFailed as failed:
        return Change(base_problem=f'"{ref}" has {len(failed.errors)} error(s) of its own, so it was not compared')
    return compare(base, head)


def summary(errors: list[SourceError], change: Change | None, ref: str | None, checked: int) -> str:
    """Return the check's report for a pull request, in GitHub-flavoured Markdown."""
    lines = ["## Briefings check", ""]
    if errors:
        lines += [f"**{len(errors)} problem(s) to fix** before this can be merged:", ""]
        lines += [f"- `{_where(e)}`: {_escape(e.message)}" for e in errors[:LISTED]]
        lines += _more(len(errors))
    else:
        lines.append(f"No problems found in {checked} briefing(s).")
    if change is not None and change.base_problem:
        lines += ["", f"The base could not be compared: {change.base_problem}."]
    elif change is not None:
        lines += ["", f"### Compared with `{ref}`", ""]
        for label, items in (("Added", change.added), ("Changed", change.changed), ("Removed", change.removed)):
            named = [f"`{path}`" + (f" {_escape(title)}" if title else "") for path, title in items]
            lines += _section(f"{label} briefings", named)
        if not change.pages_compared:
            lines += ["", f"Pages: {NOT_COMPARED}."]
            return "\n".join(lines) + "\n"
        lines += [
            "",
            f"Pages: {len(change.appear)} will appear, {len(change.change)} will change, "
            f"{len(change.disappear)} will disappear.",
        ]
        for label, urls in (("appear", change.appear), ("change", change.change), ("disappear", change.disappear)):
            lines += _details(f"Pages that will {label}", [f"`{url}`" for url in urls])
    return "\n".join(lines) + "\n"


def _section(title: str, items: list[str]) -> list[str]:
    if not items:
        return []
    return ["", f"**{title} ({len(items)})**", "", *(f"- {item}" for item in items[:LISTED]), *_more(len(items))]


def _details(title: str, items: list[str]) -> list[str]:
    if not items:
        return []
    shown = [f"- {item}" for item in items[:LISTED]] + _more(len(items))
    return ["", f"<details><summary>{title} ({len(items)})</summary>", "", *shown, "", "</details>"]


def _more(count: int) -> list[str]:
    return [f"- ... and {count - LISTED} more"] if count > LISTED else []


def _where(error: SourceError) -> str:
    return f"{error.path}:{error.line}" if error.line else error.path


def _escape(text: str) -> str:
    """Keep Markdown and HTML in titles and messages literal."""
    return "".join(f"\\{c}" if c in "\\`*_[]<>|#" else c for c in text)
