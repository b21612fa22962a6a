"""The one configured Markdown parser for briefing bodies.

Owns CommonMark + tables, strikethrough and footnotes via markdown-it-py; heading levels
shifted under the page title with unique ids; link policy (http, https, mailto and
relative only); links to other briefings' `.md` files resolved to their URLs.
May not touch files.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin

from briefings.urls import slugify

SAFE_SCHEMES = ("http", "https", "mailto")
# Repo path of a linked .md file -> its href; raises LookupError("why it cannot be linked").
Resolver = Callable[[str], str]


@dataclass(frozen=True)
class Body:
    """A rendered body, the problems found in it, and its links to site paths, by file line."""

    html: str
    problems: tuple[tuple[int, str], ...] = ()
    site_links: tuple[tuple[int, str], ...] = ()  # (line, "/tags/isis/") as written, checked after rendering


def make_parser(allow_html: bool) -> MarkdownIt:
    """Return the configured markdown-it parser; raw HTML is escaped unless allowed."""
    md = MarkdownIt("commonmark", {"html": allow_html}).enable(["table", "strikethrough"])
    md.use(footnote_plugin)
    md.validateLink = is_safe_link  # type: ignore[method-assign]
    return md


def is_safe_link(url: str) -> bool:
    """Return True for http(s), mailto and relative links; `javascript:` and the like are dropped."""
    scheme = urlsplit(url.strip()).scheme.lower()
    return scheme in SAFE_SCHEMES or (scheme == "" and not url.strip().startswith("//"))


def render_body(
    md: MarkdownIt,
    body: str,
    *,
    path: str,
    first_line: int,
    base_path: str,
    resolve: Resolver,
    reserved_ids: Iterable[str] = (),
) -> Body:
    """Render a body: headings start at h2, links honour the base path, `.md` links resolve."""
    env: dict[str, object] = {}
    tokens = md.parse(body, env)
    _shift_headings(tokens, set(reserved_ids))
    problems: list[tuple[int, str]] = []
    site_links: list[tuple[int, str]] = []
    for token in tokens:
        if token.type == "inline" and token.children:
            start = first_line + (token.map[0] if token.map else 0)
            for line, target, problem in _rewrite_links(token.children, start, path, base_path, resolve):
                if problem:
                    problems.append((line, problem))
                elif target.startswith("/") and not target.startswith("//"):
                    site_links.append((line, target))
    return Body(md.renderer.render(tokens, md.options, env), tuple(problems), tuple(site_links))


def _shift_headings(tokens: list[Token], used_ids: set[str]) -> None:
    """Nest body headings under the page's h1 without skipping a level; give unique ids."""
    stack: list[tuple[int, int]] = []  # (level as written, level on the page)
    for index, token in enumerate(tokens):
        if token.type != "heading_open":
            continue
        written = int(token.tag[1])
        while stack and stack[-1][0] >= written:
            stack.pop()
        level = min(stack[-1][1] + 1 if stack else 2, 6)
        stack.append((written, level))
        token.tag = tokens[index + 2].tag = f"h{level}"
        token.attrSet("id", _unique_id(_plain_text(tokens[index + 1]), used_ids))


def _plain_text(inline: Token) -> str:
    """Return the visible text of an inline token."""
    return "".join(child.content for child in inline.children or () if child.type in ("text", "code_inline"))


def _unique_id(text: str, used: set[str]) -> str:
    """Return a slug id for `text` that is not yet in `used`, and record it."""
    base = slugify(text) if text.strip() else "section"
    candidate, number = base, 2
    while candidate in used:
        candidate, number = f"{base}-{number}", number + 1
    used.add(candidate)
    return candidate


def _rewrite_links(
    children: list[Token], line: int, path: str, base_path: str, resolve: Resolver
) -> Iterator[tuple[int, str, str | None]]:
    """Rewrite the links of one inline run; yield (line, target as written, problem or None)."""
    for child in children:
        if child.type in ("softbreak", "hardbreak"):
            line += 1
        attr = "href" if child.type == "link_open" else "src" if child.type == "image" else None
        target = child.attrGet(attr) if attr else None
        if attr is None or target is None:
            continue
        new, problem = _resolve_target(str(target), path, base_path, resolve)
        child.attrSet(attr, new)
        yield line, str(target), problem


def _resolve_target(target: str, path: str, base_path: str, resolve: Resolver) -> tuple[str, str | None]:
    """Return the href to write for one link target, and a problem if it is broken."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path:
        return target, None
    if parts.path.startswith("/"):
        return base_path + target[1:], None
    if not parts.path.endswith(".md"):
        return target, None
    repo_path = posixpath.normpath(posixpath.join(posixpath.dirname(path), parts.path))
    try:
        if repo_path.startswith(".."):
            raise LookupError(f"points outside the repository ({repo_path}); fix the path")
        href = resolve(repo_path)
    except LookupError as why:
        return target, f'link "{target}" {why}'
    return href + (f"#{parts.fragment}" if parts.fragment else ""), None
