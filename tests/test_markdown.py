"""Body rendering: heading outline, ids, link policy, raw HTML, links between briefings."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import NamedTuple

import lxml.html
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from mdit_py_plugins.footnote import footnote_plugin

from briefings.markdown import fill, is_safe_link, line_table, make_parser, resolve_links, template_body


class Rendered(NamedTuple):
    """A body as a briefing page shows it: its HTML with links in place, and what was wrong."""

    html: str
    problems: tuple[tuple[int, str], ...]
    site_links: tuple[tuple[int, str], ...]


class Collect(HTMLParser):
    """Collect tags with their attributes, and the text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def render(body: str, allow_html: bool = False, paths: dict[str, str] | None = None, base: str = "/"):
    known = paths or {}

    def resolve(path: str) -> str:
        if path not in known:
            raise LookupError(f"points to no briefing ({path} does not exist); fix the path")
        return base + known[path]

    template = template_body(
        make_parser(allow_html), body, path="content/2016/here.md", first_line=12, reserved_ids=("main",)
    )
    links = resolve_links(template.links, base, resolve)
    result = Rendered(fill(template.html, links.hrefs), links.problems, links.site_links)
    parsed = Collect()
    parsed.feed(result.html)
    return result, parsed


def test_headings_nest_under_the_page_title_without_skipping() -> None:
    _, parsed = render("# One\n\n#### Deep\n\n### Mid\n\n# Two\n\n###### Six")
    assert [t for t, _ in parsed.tags if t.startswith("h")] == ["h2", "h3", "h3", "h2", "h3"]


def test_heading_ids_are_unique_and_avoid_page_ids() -> None:
    _, parsed = render("# Main\n\n## Same\n\n## Same\n\n## Ça va")
    assert [a["id"] for t, a in parsed.tags if t.startswith("h")] == ["main-2", "same", "same-2", "ca-va"]


def test_raw_html_is_escaped_unless_allowed() -> None:
    _, parsed = render('<script>alert(1)</script>\n\n<img src=x onerror="alert(1)">')
    assert not [t for t, _ in parsed.tags if t in ("script", "img")]
    assert "<script>alert(1)</script>" in "".join(parsed.text)
    _, allowed = render("<b>bold</b>", allow_html=True)
    assert ("b", {}) in allowed.tags


def test_unsafe_link_schemes_are_dropped() -> None:
    body = "[a](javascript:alert(1)) [b](JAVASCRIPT:x) [c](data:text/html,x) [d](vbscript:x) ![e](javascript:x)"
    _, parsed = render(body + " [ok](https://example.org/) [m](mailto:a@example.org) [r](other/)")
    hrefs = [a.get("href") or a.get("src") for t, a in parsed.tags if t in ("a", "img")]
    assert hrefs == ["https://example.org/", "mailto:a@example.org", "other/"]


def test_links_to_briefing_files_resolve_to_their_urls_under_the_base_path() -> None:
    paths = {"content/2015/kweiris.md": "2015/09/kweiris/"}
    result, parsed = render("[k](../2015/kweiris.md#top) [root](/tags/)", paths=paths, base="/archive/")
    assert [a["href"] for t, a in parsed.tags if t == "a"] == ["/archive/2015/09/kweiris/#top", "/archive/tags/"]
    assert result.problems == ()


def test_link_to_missing_briefing_is_a_problem_on_its_line() -> None:
    result, _ = render("Intro.\n\nFirst line\nthen [gone](missing.md) here.")
    assert result.problems == (
        (15, 'link "missing.md" points to no briefing (content/2016/missing.md does not exist); fix the path'),
    )


def test_link_outside_the_repository_is_a_problem() -> None:
    result, _ = render("[up](../../../etc/passwd.md)")
    assert result.problems == (
        (12, 'link "../../../etc/passwd.md" points outside the repository (../etc/passwd.md); fix the path'),
    )


def test_tables_strikethrough_and_footnotes() -> None:
    _, parsed = render("| a | b |\n|---|---|\n| 1 | 2 |\n\n~~old~~ text[^1]\n\n[^1]: A note.")
    names = [t for t, _ in parsed.tags]
    assert {"table", "s", "sup", "section"} <= set(names)


@given(st.text(alphabet=" \t\nab#-*>|1.`", max_size=80))
def test_the_line_table_is_upstreams(src: str) -> None:
    # make_parser builds markdown-it's table of lines a line at a time; it must equal upstream's.
    upstream = StateBlock(src, MarkdownIt(), {}, [])
    assert line_table(src) == (upstream.bMarks, upstream.eMarks, upstream.tShift, upstream.sCount)
    plain = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    plain.use(footnote_plugin)
    plain.validateLink = is_safe_link  # type: ignore[method-assign]
    assert make_parser(False).render(src) == plain.render(src)


def test_an_empty_header_cell_is_not_an_empty_table_header() -> None:
    # Row labels in the first column leave the corner cell empty; an empty <th> has no name for
    # screen readers (axe: empty-table-header), so it is rendered as a data cell.
    result, _ = render("|  | 2015 | 2016 |\n|---|:-:|---|\n| Syria | 1 | 2 |\n| Iraq |  | 3 |")
    header = lxml.html.fromstring(result.html).xpath("//thead/tr")[0]
    assert [(cell.tag, cell.text_content()) for cell in header] == [("td", ""), ("th", "2015"), ("th", "2016")]
    assert header[1].get("style") == "text-align:center"
    assert all(th.text_content().strip() for th in lxml.html.fromstring(result.html).iter("th"))


def test_a_relative_link_to_anything_but_a_briefing_is_a_problem() -> None:
    result, _ = render("[pw](../../../../etc/passwd)\n\n![chart](images/chart.png)\n\n[in page](#top)")
    served = "which the site does not serve; link a briefing's .md file or a site path such as /tags/syria/"
    assert [line for line, _ in result.problems] == [12, 14]
    assert result.problems[0][1].startswith('link "../../../../etc/passwd" points outside the repository')
    assert result.problems[1][1].startswith(
        f'link "images/chart.png" is relative to the file (content/2016/images/chart.png), {served}'
    )
