"""Bodies render as GitHub renders them: a differential test against cmark-gfm, GitHub's own renderer.

Both renderings go through the same sanitiser (GitHub sanitises its output too) and are then
compared after a stated normalisation, which is the list of intended differences in
docs/reference.md ("Differences from GitHub"):

- heading levels: the site nests body headings under the page's title (`#` is an `h2`);
- ids: GitHub adds its ids after cmark-gfm runs (the site gives the same ones: see
  test_markdown); footnotes are numbered alike but marked up differently;
- code blocks carry `tabindex`, `role` and `aria-label` (keyboard access to a wide block);
- table alignment is `style="text-align:..."` where cmark-gfm writes `align`;
- an empty header cell is a `td` (an empty `th` is announced as a header with no name).
"""

from __future__ import annotations

import re
from pathlib import Path

import lxml.html
import pytest
from cmarkgfm.cmark import Options, markdown_to_html_with_extensions
from hypothesis import given, settings
from hypothesis import strategies as st

from briefings.markdown import fill, make_parser, template_body
from briefings.sanitize import sanitize
from tests.conftest import FIXTURES, REAL_MARKDOWN, REPO, briefing, build, run

GITHUB = Options.CMARK_OPT_UNSAFE | Options.CMARK_OPT_FOOTNOTES
# GitHub's extensions but its tag filter, which shows <script> and the like as text: the site removes them.
EXTENSIONS = ["table", "strikethrough", "autolink"]
DROPPED_ATTRIBUTES = {
    "id", "class", "lang", "tabindex", "role", "aria-label", "rel", "data-footnotes", "data-footnote-ref",
    "data-footnote-backref", "aria-describedby", "data-footnote-backref-idx",
}  # fmt: skip


def ours(body: str) -> str:
    md = make_parser()
    template = template_body(md, body, path="content/2016/here.md", first_line=1)
    return fill(template.html, tuple(link.written for link in template.links))


def githubs(body: str) -> str:
    return sanitize(markdown_to_html_with_extensions(body, options=GITHUB, extensions=EXTENSIONS))


def normalised(html: str) -> list[str]:
    """Return the rendering as a list of tags, kept attributes and whitespace-folded text."""
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    for element in root.xpath("//hr[contains(@class, 'footnotes-sep')]"):
        element.drop_tree()
    for link in root.xpath("//sup//a[starts-with(@href, '#fn')] | //a[starts-with(@href, '#fnref')]"):
        link.text = ""  # "[1]" and "1", "↩︎" and "↩"
        for child in link:
            child.drop_tree()
    out: list[str] = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        tag = "h" if re.fullmatch(r"h[1-6]", element.tag) else element.tag
        if tag == "th" and not (element.text_content() or "").strip():
            tag = "td"
        attributes = dict(element.attrib)
        style = attributes.pop("style", "")
        if found := re.search(r"text-align:\s*(\w+)", style):
            attributes["align"] = found[1]
        href = attributes.get("href", "")
        if href.startswith("#fn"):
            attributes["href"] = "#fn" + ("ref" if href.startswith("#fnref") else "")
        kept = sorted((k, v) for k, v in attributes.items() if k not in DROPPED_ATTRIBUTES)
        out.append(f"<{tag} {kept}>")
        for text in (element.text, element.tail):
            folded = " ".join((text or "").split())
            if folded:
                out.append(folded)
    return out


def body_of(file: Path) -> str:
    text = file.read_text(encoding="utf-8")
    return text.split("\n---\n", 1)[1] if text.startswith("---\n") else text


BODIES = {
    **{f.relative_to(REPO).as_posix(): body_of(f) for f in sorted((REPO / "content").rglob("*.md"))},
    **{f.relative_to(REPO).as_posix(): body_of(f) for f in sorted((FIXTURES / "small").rglob("*.md"))},
    "REAL_MARKDOWN": REAL_MARKDOWN.split("\n---\n", 1)[1],
}


@pytest.mark.parametrize("name", sorted(BODIES))
def test_a_real_body_renders_as_on_github(name: str) -> None:
    assert normalised(ours(BODIES[name])) == normalised(githubs(BODIES[name]))


# Markdown as people write it: the blocks and inline forms of GitHub Flavored Markdown.
words = st.sampled_from(["Aleppo", "ceasefire", "talks", "the", "UN", "2016", "Kweiris", "jets", "said", "é"])
url = st.sampled_from(["https://example.org/", "https://example.org/a_(b)", "http://x.org/p?q=1&r=2#f"])
inline = st.one_of(
    words,
    words.map(lambda w: f"*{w}*"),
    words.map(lambda w: f"**{w}**"),
    words.map(lambda w: f"~~{w}~~"),
    words.map(lambda w: f"`{w}`"),
    st.tuples(words, url).map(lambda p: f"[{p[0]}]({p[1]})"),
    url.map(lambda u: f"<{u}>"),
    url,
    st.sampled_from(
        [
            "www.example.org/docs",
            "press@example.org",
            "<kbd>K</kbd>",
            "H<sub>2</sub>O",
            "x<sup>2</sup>",
            '<a id="anchor">here</a>',
            "<!-- a comment -->",
            "a & b",
            "1 < 2",
            "&copy;",
        ]
    ),
)
line = st.lists(inline, min_size=1, max_size=6).map(" ".join)
block = st.one_of(
    line,
    line.map(lambda t: f"## {t}"),
    line.map(lambda t: f"> {t}"),
    st.lists(line, min_size=1, max_size=3).map(lambda items: "\n".join(f"- {i}" for i in items)),
    st.lists(line, min_size=1, max_size=3).map(lambda items: "\n".join(f"{n}. {i}" for n, i in enumerate(items, 1))),
    st.lists(words, min_size=2, max_size=2).map(lambda c: f"| {c[0]} | {c[1]} |\n|:--|--:|\n| 1 | 2 |"),
    words.map(lambda w: f"```python\nprint({w!r})\n```"),
    st.just("<details><summary>More</summary>\n\nHidden.\n\n</details>"),
    st.just("A note.[^n]\n\n[^n]: The note."),
    st.just("---"),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(block, min_size=1, max_size=6).map("\n\n".join))
def test_generated_markdown_renders_as_on_github(body: str) -> None:
    assert normalised(ours(body)) == normalised(githubs(body))


def test_links_to_fragments_are_checked_in_the_page_and_across_briefings(
    archive, capsys: pytest.CaptureFixture[str]
) -> None:
    here = (
        "## What's new in 2.0?\n\n"
        '[ok](#whats-new-in-20) [bad](#whats-new) [anchor](#CVE-1) <a id="CVE-1">x</a> [top](#main) note[^1]\n\n'
        "[other](b.md#background) [bad other](b.md#backgrund)\n\n[^1]: A note, linked as [#fnref1](#fnref1)."
    )
    root = archive({
        "2015/a.md": briefing("A", body=here),
        "2015/b.md": briefing("B", body="## Background\n\nText."),
    })  # fmt: skip
    assert run(root, "check") == 1
    assert capsys.readouterr().err.splitlines()[:-1] == [
        'content/2015/a.md:12: link "#whats-new" points to no heading or anchor of this briefing; '
        'did you mean "#whats-new-in-20"?',
        'content/2015/a.md:14: link "b.md#backgrund" points to no heading or anchor of content/2015/b.md; '
        'did you mean "#background"?',
    ]


PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\x1f\x15\xc4\x89" + bytes(20)


def test_an_image_beside_the_briefing_is_published_as_github_shows_it(
    archive, capsys: pytest.CaptureFixture[str]
) -> None:
    root = archive({"2015/a.md": briefing("A", body="![A chart](images/chart.png)\n\n![Gone](images/gone.png)")})
    assert run(root, "check") == 1
    assert capsys.readouterr().err.splitlines()[1] == (
        'content/2015/a.md:12: link "images/gone.png" is relative to the file, so it was looked for at '
        "content/2015/images/gone.png, which does not exist; put the file there (as GitHub's preview expects), "
        "or under static/ and link /its/path"
    )
    (root / "content/2015/images").mkdir()
    (root / "content/2015/images/chart.png").write_bytes(PNG)
    (root / "content/2015/images/.DS_Store").write_bytes(b"junk")
    (root / "content/2015/a.md").write_text(briefing("A", body="![A chart](images/chart.png)"))
    site = build(root)
    page = lxml.html.fromstring((site / "2015/09/a/index.html").read_bytes())
    assert page.xpath("//div[@class='body']//img/@src") == ["/media/2015/images/chart.png"]
    assert (site / "media/2015/images/chart.png").read_bytes() == PNG
    assert not (site / "media/2015/images/.DS_Store").exists()


def test_a_reference_style_image_is_reported_at_its_definition(archive, capsys: pytest.CaptureFixture[str]) -> None:
    body = "Intro.\n\n![A chart][chart] and [the source][src].\n\n[chart]: images/none.png\n[src]: ../2014/gone.md"
    root = archive({"2015/a.md": briefing("A", body=body)})
    assert run(root, "check") == 1
    errors = capsys.readouterr().err.splitlines()[:-1]
    assert [error.split(": link")[0] for error in errors] == ["content/2015/a.md:14", "content/2015/a.md:15"]
    assert "content/2015/images/none.png" in errors[0] and "content/2014/gone.md" in errors[1]
