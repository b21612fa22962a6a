"""Developing stories and the corrections record, as readers, feed readers and crawlers meet them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import feedparser
import lxml.etree
import pytest

from briefings.errors import BuildFailed
from briefings.pipeline import check
from tests.conftest import SITE_YAML, briefing, build, make_archive, run
from tests.sitetools import page, texts
from tests.test_incremental import clean_build, tree
from tests.test_pull_requests import check_against_main, git

STORY = "story: The fall of Aleppo\n"
# A story told across a year's end and three offsets: by calendar date as written, the
# Istanbul briefing (1 January) would come after the London one (31 December); by instant it
# comes first. Another story's briefing and a draft fall between them in time.
FILES = {
    "2015/first.md": briefing("First", "2015-12-31T23:30:00+03:00", extra=STORY),  # 20:30 UTC
    "2015/second.md": briefing("Second", "2015-12-31T22:00:00+00:00", extra=STORY),  # 22:00 UTC
    "2016/other.md": briefing("Other story", "2016-01-02T10:00:00+03:00", extra="story: Mosul\n"),
    "2016/unpublished.md": briefing("Unpublished", "2016-01-03T10:00:00+03:00", extra=STORY + "draft: true\n"),
    "2016/third.md": briefing("Third", "2016-01-01T01:00:00-05:00", extra=STORY),  # 06:00 UTC, 1 January
    "2016/fourth.md": briefing("Fourth", "2016-02-10", extra=STORY),
    "2016/alone.md": briefing("Alone", "2016-03-01", extra="story: A story of one\n"),
    "2016/none.md": briefing("No story", "2016-03-02"),
}


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return build(make_archive(tmp_path / "archive", FILES))


def neighbours(site: Path, path: str) -> tuple[str | None, str | None]:
    """Return the titles a briefing page links as the earlier and later parts of its story."""
    doc = page(site, path)
    earlier = texts(doc, "//nav[@class='neighbours']//a[@rel='prev']")
    later = texts(doc, "//nav[@class='neighbours']//a[@rel='next']")
    return (earlier[0] if earlier else None), (later[0] if later else None)


def test_a_story_page_tells_its_briefings_oldest_first_by_instant(site: Path) -> None:
    doc = page(site, "stories/the-fall-of-aleppo/")
    assert texts(doc, "//h1") == ["The fall of Aleppo"]
    assert texts(doc, "//ol[@class='story']/li/h2") == ["First", "Second", "Third"]  # per_page: 3; no draft
    assert texts(doc, "//ol[@class='story']/li/p[not(@class)]")[0] == "A short summary of First."
    assert texts(doc, "//p[@class='count']") == ["4 briefings, December 2015 to February 2016 · page 1 of 2"]
    later = page(site, "stories/the-fall-of-aleppo/page/2/")
    assert texts(later, "//ol[@class='story']/li/h2") == ["Fourth"] and later.xpath("//ol[@start='4']")
    assert texts(later, "//nav[@class='pager']//a[@rel='prev']") == ["‹ Earlier"]
    assert texts(doc, "//dl[@class='touched']/dd[1]//a") == ["Middle East"]
    feed = feedparser.parse((site / "stories/the-fall-of-aleppo/feed.xml").read_bytes())
    assert atom_problems((site / "stories/the-fall-of-aleppo/feed.xml").read_bytes()) == []
    assert not feed.bozo and [e.title for e in feed.entries] == ["Fourth", "Third", "Second", "First"]


def test_each_briefing_says_where_it_sits_and_links_its_neighbours_in_the_story(site: Path) -> None:
    parts = {
        "2015/12/first/": ("1 of 4", None, "Second"),
        "2015/12/second/": ("2 of 4", "First", "Third"),
        "2016/01/third/": ("3 of 4", "Second", "Fourth"),  # not "Other story", not the draft
        "2016/02/fourth/": ("4 of 4", "Third", None),
    }
    for path, (place, earlier, later) in parts.items():
        assert texts(page(site, path), "//p[@class='part']") == [f"Part of: The fall of Aleppo ({place})"], path
        assert neighbours(site, path) == (earlier, later), path
    assert texts(page(site, "2016/03/alone/"), "//p[@class='part']") == ["Part of: A story of one (1 of 1)"]
    assert neighbours(site, "2016/03/alone/") == (None, None)
    assert not page(site, "2016/03/alone/").xpath("//nav[@class='neighbours']")
    assert not page(site, "2016/03/none/").xpath("//p[@class='part']")


def test_the_stories_index_lists_stories_by_their_latest_briefing(site: Path) -> None:
    doc = page(site, "stories/")
    assert texts(doc, "//ul[@class='stories']/li/h2") == ["A story of one", "The fall of Aleppo", "Mosul"]
    assert texts(doc, "//ul[@class='stories']/li/p[@class='meta']")[1] == "4 briefings, December 2015 to February 2016"
    index = json.loads((site / "search/f/story.json").read_text())
    assert sorted(index) == ["A story of one", "Mosul", "The fall of Aleppo"]


def test_the_stories_index_is_paged_like_other_listings(tmp_path: Path) -> None:
    files = FILES | {"2014/early.md": briefing("Early", "2014-05-01", extra="story: An early story\n")}
    site = build(make_archive(tmp_path / "archive", files))  # four stories at per_page 3
    first, second = page(site, "stories/"), page(site, "stories/page/2/")
    assert texts(first, "//ul[@class='stories']/li/h2") == ["A story of one", "The fall of Aleppo", "Mosul"]
    assert texts(second, "//ul[@class='stories']/li/h2") == ["An early story"]
    assert texts(first, "//nav[@class='pager']/p") == ["Page 1 of 2 · 4 stories"]


def json_ld(doc: object) -> list[dict[str, object]]:
    return [json.loads(text) for text in doc.xpath("//script[@type='application/ld+json']/text()")]  # type: ignore[attr-defined]


def test_structured_data_says_what_story_a_briefing_is_part_of(site: Path) -> None:
    [article] = json_ld(page(site, "2016/01/third/"))
    assert article["isPartOf"] == {
        "@type": "CreativeWorkSeries",
        "name": "The fall of Aleppo",
        "url": "https://example.org/stories/the-fall-of-aleppo/",
    }
    [series] = json_ld(page(site, "stories/the-fall-of-aleppo/"))
    assert series["@type"] == "CreativeWorkSeries"
    assert [part["headline"] for part in series["hasPart"]] == ["First", "Second", "Third"]  # type: ignore[index]
    assert "isPartOf" not in json_ld(page(site, "2016/03/none/"))[0]


STORIES_YAML = (
    SITE_YAML
    + """\
stories:
  - name: The fall of Aleppo
    slug: aleppo
    description: Four years of a divided city.
corrections_policy: /about/corrections/
publishing_principles: https://example.org/principles
"""
)


def test_site_yaml_gives_a_story_its_slug_and_description_and_names_the_policies(tmp_path: Path) -> None:
    site = build(make_archive(tmp_path / "archive", FILES, STORIES_YAML))
    doc = page(site, "stories/aleppo/")
    assert texts(doc, "//p[@class='lede']") == ["Four years of a divided city."]
    assert not (site / "stories/the-fall-of-aleppo").exists()
    assert texts(page(site, "2015/12/first/"), "//p[@class='part']/a") == ["The fall of Aleppo"]
    publisher = json_ld(page(site, "corrections/"))[0]
    assert publisher["correctionsPolicy"] == "https://example.org/about/corrections/"
    assert publisher["publishingPrinciples"] == "https://example.org/principles"


def test_a_misspelt_story_gets_did_you_mean(tmp_path: Path) -> None:
    files = FILES | {"2016/typo.md": briefing("Typo", "2016-02-11", extra="story: The fall of Alepo\n")}
    with pytest.raises(BuildFailed) as failed:
        check(make_archive(tmp_path / "archive", files))
    [error] = failed.value.errors
    assert (error.path, error.line) == ("content/2016/typo.md", 9)
    assert 'did you mean "The fall of Aleppo"?' in error.message


def test_renaming_a_story_keeps_its_url_only_with_its_old_slug_or_an_alias(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_archive(tmp_path / "repo", FILES)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    for file in (root / "content").rglob("*.md"):
        file.write_text(file.read_text().replace("The fall of Aleppo", "The battle for Aleppo"))
    status, err, _ = check_against_main(root, capsys)
    assert status == 1
    assert err[0].startswith("site.yaml: /stories/the-fall-of-aleppo/, a story's page on the base branch, would stop")
    assert "`slug: the-fall-of-aleppo`" in err[0]
    renamed = SITE_YAML + "stories:\n  - name: The battle for Aleppo\n    aliases: [/stories/the-fall-of-aleppo/]\n"
    (root / "site.yaml").write_text(renamed)
    status, err, _ = check_against_main(root, capsys)
    assert (status, err) == (0, []), err
    site = build(root)
    assert page(site, "stories/the-fall-of-aleppo/").xpath("//meta[@http-equiv='refresh']")
    assert texts(page(site, "stories/the-battle-for-aleppo/"), "//h1") == ["The battle for Aleppo"]
    (root / "site.yaml").write_text(
        SITE_YAML + "stories:\n  - name: The battle for Aleppo\n    slug: the-fall-of-aleppo\n"
    )
    assert check_against_main(root, capsys)[:2] == (0, [])


CORRECTED = {
    "2015/first.md": briefing(
        "First",
        "2015-09-24T10:00:00+03:00",
        extra="corrections:\n  - date: 2015-09-25\n    text: The first fix.\n"
        "  - date: 2015-10-01\n    text: The second fix.\n",
    ),
    "2016/second.md": briefing(
        "Second", "2016-01-05", extra="corrections:\n  - date: 2016-01-06T09:00:00Z\n    text: Another fix.\n"
    ),
    "2016/clean.md": briefing("Clean", "2016-01-07"),
}
ATOM = "{http://www.w3.org/2005/Atom}"


RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def atom_problems(data: bytes) -> list[str]:
    """Return what breaks RFC 4287's rules (its MUSTs on feed and entry elements) in an Atom document."""
    feed = lxml.etree.fromstring(data)
    problems = [] if feed.tag == f"{ATOM}feed" else [f"the root is {feed.tag}"]
    entries = feed.findall(f"{ATOM}entry")
    for element, where in ((feed, "feed"), *((e, f"entry {n}") for n, e in enumerate(entries, start=1))):
        for name in ("id", "title", "updated"):
            if len(element.findall(f"{ATOM}{name}")) != 1:
                problems.append(f"{where}: needs exactly one atom:{name}")
        for name in ("updated", "published"):
            problems += [
                f"{where}: {name} {d.text!r}" for d in element.findall(f"{ATOM}{name}") if not RFC3339.match(d.text)
            ]
        if len(element.findall(f"{ATOM}summary")) > 1:
            problems.append(f"{where}: more than one atom:summary")
    for number, entry in enumerate(entries, start=1):
        alternate = [link for link in entry.findall(f"{ATOM}link") if link.get("rel", "alternate") == "alternate"]
        if not alternate and entry.find(f"{ATOM}content") is None:
            problems.append(f"entry {number}: neither atom:content nor a link rel=alternate")
        if feed.find(f"{ATOM}author") is None and entry.find(f"{ATOM}author") is None:
            problems.append(f"entry {number}: no atom:author, and the feed has none")
    ids = [entry.findtext(f"{ATOM}id") for entry in entries]
    return problems + (["two entries share an id"] if len(set(ids)) != len(ids) else [])


def corrections_feed(site: Path) -> list[tuple[str, str, str]]:
    """Return (id, summary, link) of each entry of the corrections feed, parsed as XML."""
    root = lxml.etree.fromstring((site / "corrections/feed.xml").read_bytes())
    return [
        (e.findtext(f"{ATOM}id"), e.findtext(f"{ATOM}summary"), e.find(f"{ATOM}link").get("href"))
        for e in root.iter(f"{ATOM}entry")
    ]


def test_the_corrections_record_lists_every_correction_newest_first(tmp_path: Path) -> None:
    site = build(make_archive(tmp_path / "archive", CORRECTED))
    doc = page(site, "corrections/")
    assert texts(doc, "//ul[@class='record']/li/p[2]") == ["Another fix.", "The second fix.", "The first fix."]
    assert texts(doc, "//ul[@class='record']/li/p[3]/a") == ["Second", "First", "First"]
    assert texts(doc, "//p[@class='count']") == ["3 corrections to 2 briefings"]
    assert doc.xpath("//footer[@class='colophon']//a[@href='/corrections/']")
    briefing_page = page(site, "2015/09/first/")
    assert briefing_page.xpath("//section[@id='corrections']//a[@href='/corrections/']")
    [article] = json_ld(briefing_page)
    assert article["correction"] == [
        {"@type": "CorrectionComment", "datePublished": "2015-10-01T00:00:00+03:00", "text": "The second fix."},
        {"@type": "CorrectionComment", "datePublished": "2015-09-25T00:00:00+03:00", "text": "The first fix."},
    ]
    assert "correction" not in json_ld(page(site, "2016/01/clean/"))[0]


def test_the_corrections_feed_has_an_entry_per_correction_with_ids_that_last(tmp_path: Path) -> None:
    root = make_archive(tmp_path / "archive", CORRECTED)
    site = build(root)
    parsed = feedparser.parse((site / "corrections/feed.xml").read_bytes())
    assert not parsed.bozo and parsed.version == "atom10"
    assert atom_problems((site / "corrections/feed.xml").read_bytes()) == []
    before = corrections_feed(site)
    assert [summary for _, summary, _ in before] == ["Another fix.", "The second fix.", "The first fix."]
    assert before[0] == (
        "tag:example.org,2015:2016-01-05:second:correction:2016-01-06T09:00:00+00:00",
        "Another fix.",
        "https://example.org/2016/01/second/#corrections",
    )
    # A correction made later is a new entry; the others keep their ids, and the title edit changes none.
    first = root / "content/2015/first.md"
    text = first.read_text().replace("corrections:\n", "corrections:\n  - date: 2016-02-01\n    text: A late fix.\n")
    first.write_text(text.replace("title: First", "title: First, retitled"))
    after = corrections_feed(build(root))
    assert after[0][1] == "A late fix." and after[1:] == before
    assert len({entry_id for entry_id, _, _ in after}) == 4


def test_incremental_builds_equal_clean_ones_as_stories_and_corrections_change(tmp_path: Path) -> None:
    root = make_archive(tmp_path / "archive", FILES)
    build(root)
    content = root / "content"
    steps = [
        ("add a briefing to the story", lambda: (content / "2016/fifth.md").write_text(
            briefing("Fifth", "2016-02-12", extra=STORY))),
        ("move one to another story", lambda: (content / "2016/third.md").write_text(
            (content / "2016/third.md").read_text().replace(STORY, "story: Mosul\n"))),
        ("take one out of its story", lambda: (content / "2015/second.md").write_text(
            (content / "2015/second.md").read_text().replace(STORY, ""))),
        ("add a correction", lambda: (content / "2016/fourth.md").write_text(
            (content / "2016/fourth.md").read_text().replace(
                STORY, STORY + "corrections:\n  - date: 2016-02-11\n    text: Fixed.\n"))),
        ("remove the briefing of a story of one", lambda: (content / "2016/alone.md").unlink()),
    ]  # fmt: skip
    for step, change in steps:
        change()
        assert run(root, "--quiet") == 0, step
        assert tree(root / "_site") == clean_build(root, tmp_path / "clean"), step
    doc = page(root / "_site", "stories/the-fall-of-aleppo/")
    assert texts(doc, "//ol[@class='story']/li/h2") == ["First", "Fourth", "Fifth"]
    assert not (root / "_site/stories/a-story-of-one").exists()
