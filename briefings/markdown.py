"""The one configured Markdown parser for briefing bodies.

Owns CommonMark + tables, strikethrough and footnotes via markdown-it-py; heading levels
shifted under the page title with unique ids; link policy (http, https, mailto and
relative only); links to other briefings' `.md` files resolved to their URLs.
May not touch files.
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from types import MethodType
from typing import Any
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.parser_block import ParserBlock
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType
from mdit_py_plugins.footnote import footnote_plugin

from briefings.frozen import compact_pickle
from briefings.sanitize import sanitize
from briefings.urls import fragment_of

SAFE_SCHEMES = ("http", "https", "mailto")
# Repo path of a linked .md file -> its href; raises LookupError("why it cannot be linked").
Resolver = Callable[[str], str]


@compact_pickle
@dataclass(frozen=True, slots=True)
class Link:
    """A link whose href depends on the rest of the site: a site path or another briefing's file."""

    line: int
    written: str  # the target as written, for messages
    repo_path: str | None  # `content/2015/x.md` for a link to a briefing, else None (a site path)


@compact_pickle
@dataclass(frozen=True, slots=True)
class BodyTemplate:
    """A rendered body whose links are placeholders, so it can be cached per file.

    It depends only on the file's bytes and the parser settings: not on the base URL, nor
    on where other briefings live. `resolve_links` and `fill` put the links in.
    """

    html: str  # link i is written as PLACEHOLDER + str(i) + PLACEHOLDER
    links: tuple[Link, ...] = ()
    ids: tuple[str, ...] = ()  # every id (and anchor name) in the body, for links to its #fragments
    fragments: tuple[tuple[int, str], ...] = ()  # (line, fragment) of each link within the page: "#top"


@compact_pickle
@dataclass(frozen=True, slots=True)
class BodyRef:
    """Where a briefing's body is: its template's digest and its resolved hrefs, or the HTML itself.

    `inline` is for a body rendered outside a build (the preview's instant page), which
    the store never holds.
    """

    digest: str
    hrefs: tuple[str, ...] = ()
    inline: str | None = None


@compact_pickle
@dataclass(frozen=True, slots=True)
class ResolvedLinks:
    """A body's links resolved: hrefs in placeholder order, problems and site paths, by file line."""

    hrefs: tuple[str, ...] = ()
    problems: tuple[tuple[int, str], ...] = ()
    site_links: tuple[tuple[int, str], ...] = ()  # (line, "/tags/isis/") as written, checked after rendering


# markdown-it turns every NUL of the source into U+FFFD, so NUL never occurs in its output.
PLACEHOLDER = "\x00"


def make_parser(inline_footnotes: bool = False) -> MarkdownIt:
    """Return the configured markdown-it parser: GitHub Flavored Markdown's tables, strikethrough
    and footnotes (Pandoc's inline `^[...]` ones, which GitHub lacks, only when asked); raw
    HTML passes through, to be sanitised (`template_body`)."""
    md = MarkdownIt("commonmark", {"html": True, "linkify": True}).enable(["table", "strikethrough", "linkify"])
    md.use(footnote_plugin, inline=inline_footnotes)
    # GitHub links http(s):// URLs, www. addresses and e-mail addresses; not README.md or worker.id.
    linkify = md.linkify
    assert linkify is not None, "linkify-it-py is installed with the project"
    linkify.set({"fuzzy_link": False, "fuzzy_email": True})
    linkify.add("www.", {"validate": _www_address, "normalize": _with_http})
    # linkify-it's pretest runs a large case-folded pattern on every paragraph: more than half of a
    # body's parse. A link needs "://", "www." or "@", which a plain search rules out far sooner.
    full_pretest = linkify.pretest
    linkify.pretest = lambda text: _may_link(text) and full_pretest(text)
    md.inline.ruler2.at("fragments_join", join_fragments)
    for rule in ("fence", "code_block"):
        md.add_render_rule(rule, _focusable(md.renderer.rules[rule]))  # type: ignore[attr-defined]
    # GitHub marks ~~struck~~ text as deleted: <del>, not markdown-it's <s>.
    md.add_render_rule("s_open", lambda *_: "<del>")
    md.add_render_rule("s_close", lambda *_: "</del>")
    md.validateLink = is_safe_link  # type: ignore[method-assign]
    md.block.parse = MethodType(_parse_blocks, md.block)  # type: ignore[method-assign]
    return md


def _may_link(text: str) -> bool:
    """Return True if text holds "://", "@" or "www." (in any case): what any autolink needs.
    Searched for as strings, not by a case-blind pattern of three choices, which the pattern
    engine tries at every character of every paragraph (docs/performance.md, "The engine's own
    parse, trimmed")."""
    return "://" in text or "@" in text or "www." in text.lower()


_WWW_TAIL_RE = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*[^\s<]*")
_TRAILING = "?!.,:*_~"  # GFM: not part of an autolink at its end


def _www_address(_: object, text: str, at: int) -> int:
    """Return the length of a `www.` autolink's rest at `at` (after "www."), as GFM's extension finds it."""
    found = _WWW_TAIL_RE.match(text, at)
    if found is None:
        return 0
    tail = found.group(0)
    while tail:
        if tail[-1] in _TRAILING or (tail.endswith(")") and tail.count(")") > tail.count("(")):
            tail = tail[:-1]
        else:
            break
    return len(tail)


def _with_http(_: object, match: Any) -> None:
    match.url = "http://" + match.url


def _focusable(render: Any) -> Any:
    """Wrap a code block renderer so its `<pre>` can take the keyboard's focus, with a label: a
    wide block scrolls, and a region that scrolls must be reachable without a mouse (axe:
    scrollable-region-focusable)."""

    def rendered(self: Any, tokens: list[Token], index: int, options: Any, env: Any) -> str:
        language = tokens[index].info.split(maxsplit=1)[0] if tokens[index].info.strip() else ""
        label = f"Code: {escapeHtml(language)}" if language else "Code"
        html: str = render(tokens, index, options, env)
        return html.replace("<pre>", f'<pre tabindex="0" role="region" aria-label="{label}">', 1)

    return rendered


def join_fragments(state: StateInline) -> None:
    """markdown-it's `fragments_join` (merge adjacent text tokens, set every token's level) in
    linear time: upstream adds each fragment to a growing string, which made a 136 KB body of
    unmatched `*` take 20 s; here each run of text is joined once."""
    level = 0
    kept: list[Token] = []
    run: list[Token] = []
    for token in state.tokens:
        if token.nesting < 0:
            level -= 1
        token.level = level
        if token.nesting > 0:
            level += 1
        if token.type == "text":
            run.append(token)
            continue
        _merge(run, kept)
        kept.append(token)
    _merge(run, kept)
    state.tokens[:] = kept


def _merge(run: list[Token], kept: list[Token]) -> None:
    """Keep the last token of a run of text tokens with the run's text (as upstream does); empty the run."""
    if run:
        if len(run) > 1:
            run[-1].content = "".join(token.content for token in run)
        kept.append(run[-1])
        run.clear()


class LineTable(StateBlock):
    """markdown-it-py's block state, with its table of lines made a line at a time.

    `StateBlock.__init__` walks the source one character at a time in Python: a fifth of
    the time to parse a 5 KB body. The table is the same (tests compare the two).
    """

    def __init__(self, src: str, md: MarkdownIt, env: EnvType, tokens: list[Token]) -> None:
        super().__init__("", md, env, tokens)  # every other attribute, as upstream sets it
        self.src = src
        self.bMarks, self.eMarks, self.tShift, self.sCount = line_table(src)
        self.bsCount = [0] * len(self.bMarks)
        self.lineMax = len(self.bMarks) - 1


def line_table(src: str) -> tuple[list[int], list[int], list[int], list[int]]:
    """Return each line's start, end, indent and indent with tabs expanded, plus upstream's end marker."""
    starts: list[int] = []
    ends: list[int] = []
    indents: list[int] = []
    columns: list[int] = []
    start, length = 0, len(src)
    while start < length:
        end = src.find("\n", start)
        line = src[start:] if end < 0 else src[start:end]
        text = line.lstrip(" \t")
        if end < 0:
            if not text:
                break  # upstream never ends a last line of only spaces and tabs
            end = length
        indent = len(line) - len(text)
        column = indent
        if "\t" in line[:indent]:
            column = 0
            for character in line[:indent]:
                column += 4 - column % 4 if character == "\t" else 1
        starts.append(start)
        ends.append(end)
        indents.append(indent)
        columns.append(column)
        start = end + 1
    return [*starts, length], [*ends, length], [*indents, 0], [*columns, 0]


def _parse_blocks(self: ParserBlock, src: str, md: MarkdownIt, env: EnvType, tokens: list[Token]) -> None:
    """`ParserBlock.parse` with `LineTable` for its state."""
    if src:
        state = LineTable(src, md, env, tokens)
        self.tokenize(state, state.line, state.lineMax)


def is_safe_link(url: str) -> bool:
    """Return True for http(s), mailto and relative links; `javascript:` and the like are dropped."""
    scheme = urlsplit(url.strip()).scheme.lower()
    return scheme in SAFE_SCHEMES or (scheme == "" and not url.strip().startswith("//"))


def template_body(
    md: MarkdownIt, body: str, *, path: str, first_line: int, reserved_ids: Iterable[str] = (), trusted: bool = False
) -> BodyTemplate:
    """Render a body with headings from h2 and unique ids; site links become placeholders.

    Authors' HTML goes through the allowlist sanitiser (`sanitize`), unless `trusted`.
    """
    env: dict[str, Any] = {}
    tokens = md.parse(body, env)
    _shift_headings(tokens, set(reserved_ids))
    _empty_header_cells_as_data(tokens)
    links: list[Link] = []
    fragments: list[tuple[int, str]] = []
    defined = _definitions(env, first_line)
    lines = body.split("\n")
    for token in tokens:
        if token.type == "inline" and token.children:
            start = first_line + (token.map[0] if token.map else 0)
            fragments += _fragment_links(token.children, start)
            found = list(_placeholder_links(token.children, start, path, len(links)))
            if found:  # the lines of a block with links, where a link's path is looked for
                block = "\n".join(lines[token.map[0] : token.map[1]]) if token.map else ""
                links += (_at_definition(link, block, defined) for link in found)
    html = md.renderer.render(tokens, md.options, env)
    # Without raw HTML, markdown-it escaped every character of the text and checked every link:
    # its own markup is all in the allowlist, so only a body with raw HTML needs the sanitiser.
    html = html if trusted or not _has_raw_html(tokens) else sanitize(html)
    return BodyTemplate(html, tuple(links), ids_in(html), tuple(fragments))


def _has_raw_html(tokens: list[Token]) -> bool:
    """Return True when a body holds HTML as written (a block, or tags inside a paragraph)."""
    return any(
        token.type == "html_block" or (token.children and any(c.type == "html_inline" for c in token.children))
        for token in tokens
    )


_ID_RE = re.compile(r"""\s(?:id|name)=(["'])(.*?)\1""")


def ids_in(html: str) -> tuple[str, ...]:
    """Return the ids (and anchor names) of a body's HTML, sorted: what `_ID_RE.findall` finds, tried
    only where "id=" or "name=" is, not at every whitespace character of the text (the pattern's
    first), as findall tries it."""
    found: set[str] = set()
    start = 0
    while True:  # each match where findall would find it: from the earliest place, none overlapping
        places = [at for at in (html.find("id=", start + 1), html.find("name=", start + 1)) if at > 0]
        if not places:
            return tuple(sorted(found))
        at = min(places) - 1  # where the pattern's whitespace would be
        match = _ID_RE.match(html, at)
        if match is None:
            start = at + 1
        else:
            found.add(match[2])
            start = match.end()


def _definitions(env: dict[str, Any], first_line: int) -> dict[str, int]:
    """Return the file line of each reference definition (`[chart]: images/chart.png`), by its target."""
    references = env.get("references") or {}
    return {ref["href"]: first_line + ref["map"][0] for ref in references.values() if ref.get("map")}


def _at_definition(link: Link, block: str, defined: dict[str, int]) -> Link:
    """Return a link written by reference (`![chart][c]`) at the line of its definition, where its path is."""
    written = link.written
    if written in defined and f"]({written}" not in block and f"](<{written}>" not in block:
        return replace(link, line=defined[written])
    return link


def _fragment_links(children: list[Token], line: int) -> Iterator[tuple[int, str]]:
    """Yield (line, fragment) of each link of an inline run to a place in the same page (`#top`)."""
    for child in children:
        if child.type in ("softbreak", "hardbreak"):
            line += 1
        href = child.attrGet("href") if child.type == "link_open" else None
        if isinstance(href, str) and href.startswith("#") and len(href) > 1:
            yield line, href[1:]


def resolve_links(links: Iterable[Link], base_path: str, resolve: Resolver) -> ResolvedLinks:
    """Resolve a body's links: site paths under the base path, `.md` files as their URLs."""
    hrefs: list[str] = []
    problems: list[tuple[int, str]] = []
    site_links: list[tuple[int, str]] = []
    for link in links:
        href, problem = _href(link, base_path, resolve)
        hrefs.append(href)
        if problem:
            problems.append((link.line, problem))
        elif link.repo_path is None:
            site_links.append((link.line, link.written))
    return ResolvedLinks(tuple(hrefs), tuple(problems), tuple(site_links))


def fill(html: str, hrefs: tuple[str, ...]) -> str:
    """Put resolved hrefs in place of a body template's placeholders."""
    if not hrefs:
        return html
    parts = html.split(PLACEHOLDER)
    for index, href in enumerate(hrefs):
        parts[2 * index + 1] = escapeHtml(href)
    return "".join(parts)


def _href(link: Link, base_path: str, resolve: Resolver) -> tuple[str, str | None]:
    """Return the href of one link, and a problem when it is broken."""
    if link.repo_path is None:
        return base_path + link.written[1:], None
    try:
        if link.repo_path.startswith(".."):
            raise LookupError(f"points outside the repository ({link.repo_path}); fix the path")
        href = resolve(link.repo_path)
    except LookupError as why:
        return link.written, f'link "{link.written}" {why}'
    fragment = fragment_of(link.written)
    return href + (f"#{fragment}" if fragment else ""), None


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


def _empty_header_cells_as_data(tokens: list[Token]) -> None:
    """Render an empty header cell (the corner above row labels) as `<td>`.

    An empty `<th>` is announced as a header with no name (axe: empty-table-header);
    a `<td>` in the header row is valid HTML and reads as the blank corner it is.
    """
    for index, token in enumerate(tokens):
        if token.type == "th_open" and not tokens[index + 1].content.strip():
            token.tag = tokens[index + 2].tag = "td"


def _plain_text(inline: Token) -> str:
    """Return the visible text of an inline token."""
    return "".join(child.content for child in inline.children or () if child.type in ("text", "code_inline"))


def heading_id(text: str) -> str:
    """Return the id GitHub gives a heading (github-slugger): lowercased, every character but
    letters, digits, marks, `-` and `_` dropped, spaces as hyphens. "Node.js 2.0" -> "nodejs-20"."""
    kept = "".join(c for c in text.lower() if c in " -_" or unicodedata.category(c)[0] in "LNM")
    return kept.replace(" ", "-")


def _unique_id(text: str, used: set[str]) -> str:
    """Return GitHub's id for a heading that is not yet in `used` (repeats get -1, -2...), and record it.

    The page's own ids are in `used` from the start, so a heading "Main" gets "main-1".
    """
    base = heading_id(text) or "section"
    candidate, number = base, 1
    while candidate in used:
        candidate, number = f"{base}-{number}", number + 1
    used.add(candidate)
    return candidate


def _placeholder_links(children: list[Token], line: int, path: str, numbered: int) -> Iterator[Link]:
    """Put a placeholder in each link or image of one inline run that needs the site to resolve."""
    for child in children:
        if child.type in ("softbreak", "hardbreak"):
            line += 1
        attr = "href" if child.type == "link_open" else "src" if child.type == "image" else None
        target = child.attrGet(attr) if attr else None
        if attr is None or target is None:
            continue
        link = _site_link(str(target), line, path)
        if link is not None:
            child.attrSet(attr, f"{PLACEHOLDER}{numbered}{PLACEHOLDER}")
            numbered += 1
            yield link


def _site_link(target: str, line: int, path: str) -> Link | None:
    """Return the Link for a target that points into the site, or None for one kept as written."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path:
        return None
    if parts.path.startswith("/"):
        return Link(line, target, None)
    # Relative to the file, as GitHub reads it: a briefing's .md file, or something the site cannot serve.
    return Link(line, target, posixpath.normpath(posixpath.join(posixpath.dirname(path), parts.path)))
