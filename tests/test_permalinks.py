"""Published URLs keep working: `aliases` redirect, `removed` URLs say why, ids survive a move."""

from __future__ import annotations

from pathlib import Path

import feedparser
import pytest
from lxml import etree

from briefings.errors import BuildFailed
from briefings.pipeline import check
from tests.conftest import SITE_YAML, briefing, build, make_archive
from tests.sitetools import page, texts

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
REMOVED = """\
removed:
  - url: /2015/09/hoax/
    reason: Withdrawn on 1 October 2015 because its only source retracted the report.
"""
FILES = {
    "2015/kweiris-airbase.md": briefing(
        "Kweiris jets", extra="aliases: [/2015/09/kweiris/, /old/kweiris.html]\nlanguage: es\n"
    ),
    "2015/other.md": briefing("Other story", "2015-09-25T10:00:00+03:00"),
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(make_archive(tmp_path_factory.mktemp("moved"), FILES, SITE_YAML + REMOVED))


def test_each_alias_is_a_redirect_page_to_the_briefing(site: Path) -> None:
    for alias in ("2015/09/kweiris/", "old/kweiris.html"):
        doc = etree.parse(str(site / (alias + "index.html" if alias.endswith("/") else alias)), etree.HTMLParser())
        target = "https://example.org/2015/09/kweiris-airbase/"
        assert doc.xpath("//link[@rel='canonical']/@href") == [target]
        assert doc.xpath("//meta[@http-equiv='refresh']/@content") == [f"0; url={target}"]
        assert doc.xpath("//meta[@name='robots']/@content") == ["noindex"]
        assert doc.xpath("//body//a/@href") == [target] and doc.xpath("//body//a/@lang") == ["es"]
    assert texts(page(site, "2015/09/kweiris-airbase/"), "//h1") == ["Kweiris jets"]


def test_redirects_and_withdrawn_pages_are_not_in_the_sitemap_or_feeds(site: Path) -> None:
    locations = {loc.text for loc in etree.parse(str(site / "sitemap.xml")).iter(f"{SITEMAP}loc")}
    assert "https://example.org/2015/09/kweiris-airbase/" in locations
    assert not {loc for loc in locations if "kweiris/" in loc or "hoax" in loc or "old/" in loc}
    feed = feedparser.parse((site / "feed.xml").read_bytes())
    assert [e.link for e in feed.entries] == [
        "https://example.org/2015/09/other/",
        "https://example.org/2015/09/kweiris-airbase/",
    ]


def test_a_moved_briefing_keeps_its_feed_entry_id(site: Path) -> None:
    feed = feedparser.parse((site / "feed.xml").read_bytes())
    ids = {e.link: e.id for e in feed.entries}
    assert ids["https://example.org/2015/09/kweiris-airbase/"] == "tag:example.org,2015:2015-09-24:kweiris"
    assert ids["https://example.org/2015/09/other/"] == "tag:example.org,2015:2015-09-25:other"


def test_a_removed_url_keeps_a_page_that_says_why(site: Path) -> None:
    doc = page(site, "2015/09/hoax/")
    assert texts(doc, "//h1") == ["This briefing was withdrawn"]
    assert texts(doc, "//p[@class='lede']") == [
        "Withdrawn on 1 October 2015 because its only source retracted the report."
    ]
    assert doc.xpath("//meta[@name='robots']/@content") == ["noindex"]


@pytest.mark.parametrize(
    ("extra", "site_yaml", "expected"),
    [
        (
            "aliases: [2015/09/kweiris/]\n",
            "",
            'content/2015/a.md:9: aliases: "2015/09/kweiris/" is not a path of this site; '
            "write it as a path from the site's root, without the host: /2015/09/old-slug/",
        ),
        (
            "aliases: [/2015/09/b/]\n",
            "",
            'content/2015/a.md:9: aliases: "/2015/09/b/" is the URL of content/2015/b.md; '
            "an alias is an earlier URL that no briefing has now",
        ),
        (
            "aliases: [/2015/09/gone/]\n",
            "removed:\n  - url: /2015/09/gone/\n    reason: Withdrawn.\n",
            'content/2015/a.md:9: aliases: "/2015/09/gone/" is also in site.yaml\'s removed list; '
            "take it off that list to redirect it here",
        ),
        (
            "",
            "removed:\n  - url: /2015/09/b/\n    reason: Withdrawn.\n",
            'site.yaml:16: removed: "/2015/09/b/" is still the URL of content/2015/b.md; '
            "take it off the list, or delete the briefing",
        ),
        (
            "",
            "removed:\n  - url: /2015/09/gone/\n",
            "site.yaml:16: reason: missing from a removed URL; add `reason: ...`",
        ),
    ],
)
def test_moved_and_removed_urls_are_checked(tmp_path: Path, extra: str, site_yaml: str, expected: str) -> None:
    files = {"2015/a.md": briefing("A", extra=extra), "2015/b.md": briefing("B")}
    root = make_archive(tmp_path / "a", files, SITE_YAML + site_yaml)
    with pytest.raises(BuildFailed) as failed:
        check(root)
    assert [str(e) for e in failed.value.errors] == [expected]
