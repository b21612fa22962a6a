"""Body rendering: heading outline, ids, link policy, raw HTML, links between briefings."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from types import MethodType
from typing import NamedTuple

import lxml.html
from hypothesis import example, given
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.parser_block import ParserBlock
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline.fragments_join import fragments_join

from briefings.markdown import fill, ids_in, line_table, make_parser, resolve_links, template_body


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
        make_parser(), body, path="content/2016/here.md", first_line=12, reserved_ids=("main",), trusted=allow_html
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
    assert [a["id"] for t, a in parsed.tags if t.startswith("h")] == ["main-1", "same", "same-1", "ça-va"]


def test_heading_ids_are_githubs() -> None:
    body = "# Building Node.js from source\n\n## What's new in 2.0?\n\n## C++ & Rust\n\n## under_score\n\n## 日本語"
    _, parsed = render(body)
    ids = [a["id"] for t, a in parsed.tags if t.startswith("h")]
    assert ids == ["building-nodejs-from-source", "whats-new-in-20", "c--rust", "under_score", "日本語"]


def test_raw_html_is_sanitised_as_github_does_unless_trusted() -> None:
    body = (
        '<script>alert(1)</script>\n\n<img src=x onerror="alert(1)">\n\n<!-- lint disable -->\n\n'
        '<a id="CVE-2017-1000">CVE</a> <a href="javascript:x">j</a> <iframe src="https://e.org/"></iframe>\n\n'
        "<details><summary>More</summary>\n\nHidden <kbd>Ctrl</kbd> H<sub>2</sub>O x<sup>2</sup>\n\n</details>\n"
    )
    result, parsed = render(body)
    assert ("img", {"src": "x"}) in parsed.tags  # the image stays, its handler does not
    assert not [t for t, _ in parsed.tags if t in ("script", "iframe")]
    assert "alert" not in result.html and "lint disable" not in result.html and "javascript" not in result.html
    assert ("a", {"id": "CVE-2017-1000"}) in parsed.tags
    assert {"details", "summary", "kbd", "sub", "sup"} <= {t for t, _ in parsed.tags}
    _, trusted = render("<b>bold</b><script>x()</script>", allow_html=True)
    assert ("script", {}) in trusted.tags


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
    assert {"table", "del", "sup", "section"} <= set(names)


@given(st.text(alphabet=" \t\nab#-*>|1.`", max_size=80))
def test_the_line_table_is_upstreams(src: str) -> None:
    # make_parser builds markdown-it's table of lines a line at a time; it must equal upstream's.
    upstream = StateBlock(src, MarkdownIt(), {}, [])
    assert line_table(src) == (upstream.bMarks, upstream.eMarks, upstream.tShift, upstream.sCount)
    upstream = make_parser()
    upstream.block.parse = MethodType(ParserBlock.parse, upstream.block)  # type: ignore[method-assign]
    assert make_parser().render(src) == upstream.render(src)


PIECES = [" ", "\n", "\t", "x", "id=", "name=", ' id="', " name='", ' id="a"', " name='b'", '"', "'", "<h2", ">"]


@example(["<h2", ' id="', "x", " name='b'", '"', ">"])  # a match inside another's value is not one
@example(["<a", " name='b'", ">", "<h2", ' id="a"', ">"])
@given(st.lists(st.sampled_from(PIECES), max_size=30))
def test_the_ids_found_in_a_body_are_those_the_pattern_finds_everywhere(parts: list[str]) -> None:
    # ids_in tries the pattern only where "id=" or "name=" is; it must find what findall finds
    # trying it at every character (matches inside another's value, quotes of either kind).
    html = "".join(parts)
    pattern = re.compile(r"""\s(?:id|name)=(["'])(.*?)\1""")
    assert ids_in(html) == tuple(sorted({found[1] for found in pattern.findall(html)}))


@given(st.text(alphabet=" \nab*_~`[]()!<>", max_size=120))
def test_joining_text_fragments_is_upstreams(src: str) -> None:
    # make_parser joins text fragments in linear time; the tokens must be upstream's.
    upstream = make_parser()
    upstream.inline.ruler2.at("fragments_join", fragments_join)
    assert make_parser().render(src) == upstream.render(src)


def test_code_blocks_can_take_the_keyboards_focus_and_have_a_label() -> None:
    _, parsed = render("```python\nx = 1\n```\n\n    indented\n")
    pres = [a for t, a in parsed.tags if t == "pre"]
    assert pres == [
        {"tabindex": "0", "role": "region", "aria-label": "Code: python"},
        {"tabindex": "0", "role": "region", "aria-label": "Code"},
    ]


def test_bare_urls_and_addresses_are_linked_as_github_links_them() -> None:
    result, _ = render(
        "See https://example.org/a_(b), www.example.com/x. and me@example.org; not README.md or worker.id."
    )
    links = re.findall(r'<a href="([^"]+)">([^<]+)</a>', result.html)
    assert links == [
        ("https://example.org/a_(b)", "https://example.org/a_(b)"),
        ("http://www.example.com/x", "www.example.com/x"),
        ("mailto:me@example.org", "me@example.org"),
    ]


def test_inline_footnotes_are_not_githubs_and_stay_text() -> None:
    result, _ = render("Team lead at ^[Lift](https://example.org/).")
    assert result.html == '<p>Team lead at ^<a href="https://example.org/">Lift</a>.</p>\n'  # as on GitHub


def test_an_empty_header_cell_is_not_an_empty_table_header() -> None:
    # Row labels in the first column leave the corner cell empty; an empty <th> has no name for
    # screen readers (axe: empty-table-header), so it is rendered as a data cell.
    result, _ = render("|  | 2015 | 2016 |\n|---|:-:|---|\n| Syria | 1 | 2 |\n| Iraq |  | 3 |")
    header = lxml.html.fromstring(result.html).xpath("//thead/tr")[0]
    assert [(cell.tag, cell.text_content()) for cell in header] == [("td", ""), ("th", "2015"), ("th", "2016")]
    assert header[1].get("style") == "text-align:center"
    assert all(th.text_content().strip() for th in lxml.html.fromstring(result.html).iter("th"))


def test_a_relative_link_is_resolved_against_the_file_as_github_does() -> None:
    result, _ = render("[pw](../../../../etc/passwd)\n\n![chart](images/chart.png)\n\n[in page](#top)")
    assert [line for line, _ in result.problems] == [12, 14]
    assert result.problems[0][1].startswith('link "../../../../etc/passwd" points outside the repository')
    assert "content/2016/images/chart.png" in result.problems[1][1]  # asked of the resolver, where GitHub looks


def test_inline_footnotes_when_site_yaml_asks_for_them() -> None:
    template = template_body(
        make_parser(inline_footnotes=True), "Lead at ^[Lift].", path="content/2016/a.md", first_line=1
    )
    assert 'class="footnote-ref"' in template.html and "Lift" in template.html
