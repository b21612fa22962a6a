"""Feeds, sitemap, robots.txt and sharing metadata, parsed as machines parse them."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from briefings import pipeline
from briefings.archive import Entry
from briefings.config import SiteConfig, load_config
from briefings.feeds import _atom_entry, entry_id, sitemap, written_alike
from briefings.kinds import BY_NAME
from tests.conftest import briefing, build, make_archive
from tests.sitetools import page, parse, published_pages

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
TRICKY = "Fish & chips <b>not bold</b> \"quoted\" 'single'"
FILES = {
    "2015/kweiris.md": briefing("Kweiris jets", "2015-09-24T10:00:00+03:00", "[Syria, Russia]"),
    "2015/tricky.md": briefing(
        json.dumps(TRICKY),
        "2015-09-30T08:00:00+03:00",
        "[Syria, 'R&D']",
        source="{name: The Guardian, url: 'https://www.theguardian.com/'}",
        extra="updated: 2015-10-02T09:00:00+03:00\nimage:\n  src: /favicon.svg\n  alt: The site's mark\n",
        body="A body with a [link](../2015/kweiris.md) & an ampersand.",
    ),
    "2016/brexit.md": briefing("Brexit vote", "2016-06-24T07:00:00+01:00", "[UK]", "Europe"),
}
NEWEST_FIRST = ["Brexit vote", TRICKY, "Kweiris jets"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(make_archive(tmp_path_factory.mktemp("feeds"), FILES))


def feeds_of(site: Path) -> list[Path]:
    return sorted(site.rglob("feed.xml"))


def test_every_feed_reads_without_a_warning(site: Path) -> None:
    feeds = feeds_of(site)
    assert [str(f.relative_to(site)) for f in feeds] == [
        "corrections/feed.xml",
        "countries/russia/feed.xml",
        "countries/syria/feed.xml",
        "feed.xml",
        "regions/europe/feed.xml",
        "regions/middle-east/feed.xml",
        "tags/r-d/feed.xml",
        "tags/russia/feed.xml",
        "tags/syria/feed.xml",
        "tags/uk/feed.xml",
    ]  # fmt: skip  (tags/russia/ and tags/syria/ are countries: their feeds go on with the countries' entries)
    for feed in feeds:
        parsed = feedparser.parse(feed.read_bytes())
        assert not parsed.bozo, (feed, parsed.get("bozo_exception"))
        assert parsed.version == "atom10"


def test_main_feed_entries_in_order_with_exact_titles(site: Path) -> None:
    parsed = feedparser.parse((site / "feed.xml").read_bytes())
    assert [e.title for e in parsed.entries] == NEWEST_FIRST
    tricky = parsed.entries[1]
    assert tricky.link == "https://example.org/2015/09/tricky/"
    assert tricky.summary == f"A short summary of {json.dumps(TRICKY)}."  # a plain YAML scalar, kept as written
    assert tricky.author == "The Guardian"
    assert [t.term for t in tricky.tags] == ["r-d", "middle-east", "syria"]  # its tag Syria is the country
    assert [t.label for t in tricky.tags] == ["R&D", "Middle East", "Syria"]
    schemes = ["https://example.org/tags/", "https://example.org/regions/", "https://example.org/countries/"]
    assert [t.scheme for t in tricky.tags] == schemes
    assert 'href="https://example.org/2015/09/kweiris/"' in tricky.content[0].value  # resolved by xml:base
    assert tricky.published == "2015-09-30T08:00:00+03:00"
    assert tricky.updated == "2015-10-02T09:00:00+03:00"


def test_atom_follows_rfc_4287(site: Path) -> None:
    for path in feeds_of(site):
        feed = etree.parse(str(path)).getroot()
        for name in ("id", "title", "updated"):
            assert len(feed.findall(ATOM + name)) == 1, (path, name)
        assert len(feed.findall(f"{ATOM}link[@rel='self']")) == 1
        entries = feed.findall(ATOM + "entry")
        ids = [e.findtext(ATOM + "id") for e in entries]
        assert len(set(ids)) == len(ids)
        full_text = path == site / "feed.xml"  # the default: full text in the site feed, summaries per term
        for entry in entries:
            for name in ("id", "title", "updated", "published", "summary"):
                assert len(entry.findall(ATOM + name)) == 1, (path, name)
            assert len(entry.findall(f"{ATOM}link[@rel='alternate'][@type='text/html']")) == 1
            assert entry.find(f"{ATOM}author/{ATOM}name") is not None
            assert len(entry.findall(ATOM + "content")) == full_text, path
            assert not full_text or entry.find(ATOM + "content").get("type") == "html"
        newest = max((e.findtext(ATOM + "updated") for e in entries), default=None, key=_instant)
        assert newest is None or feed.findtext(ATOM + "updated") == newest


def _instant(stamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(stamp).timestamp()


def test_tag_and_region_feeds_hold_their_entries(site: Path) -> None:
    syria = feedparser.parse((site / "tags/syria/feed.xml").read_bytes())
    assert [e.title for e in syria.entries] == [TRICKY, "Kweiris jets"]
    europe = feedparser.parse((site / "regions/europe/feed.xml").read_bytes())
    assert [e.title for e in europe.entries] == ["Brexit vote"]
    assert europe.feed.link == "https://example.org/regions/europe/"


def entry_ids(site: Path) -> dict[str, str]:
    parsed = feedparser.parse((site / "feed.xml").read_bytes())
    return {e.link.rsplit("/", 2)[-2]: e.id for e in parsed.entries}


def test_ids_survive_rebuilds_title_changes_and_a_new_host_and_base(site: Path, tmp_path: Path) -> None:
    before = entry_ids(site)
    assert before["kweiris"] == "tag:example.org,2015:2015-09-24:kweiris"
    changed = dict(FILES)
    changed["2015/kweiris.md"] = briefing("Kweiris jets, corrected title", "2015-09-24T10:00:00+03:00", "[Syria]")
    moved = build(make_archive(tmp_path / "a", changed), "--base-url", "https://other.example.net/archive/")
    assert entry_ids(moved) == before
    assert feedparser.parse((moved / "feed.xml").read_bytes()).entries[2].link == (
        "https://other.example.net/archive/2015/09/kweiris/"
    )


def test_feeds_are_identical_across_builds(site: Path, tmp_path: Path) -> None:
    again = build(make_archive(tmp_path / "a", FILES))
    for name in ("feed.xml", "feed.json", "sitemap.xml", "tags/syria/feed.xml"):
        assert (again / name).read_bytes() == (site / name).read_bytes()


def test_only_the_latest_50_briefings_are_in_the_main_feed(tmp_path: Path) -> None:
    files = {
        f"2015/b{n:02d}.md": briefing(f"Briefing {n:02d}", f"2015-09-{1 + n % 28:02d}T{n % 24:02d}:00:00Z")
        for n in range(55)
    }
    site = build(make_archive(tmp_path / "a", files))
    parsed = feedparser.parse((site / "feed.xml").read_bytes())
    assert len(parsed.entries) == 50
    assert len(json.loads((site / "feed.json").read_text())["items"]) == 50
    stamps = [_instant(e.published) for e in parsed.entries]
    assert stamps == sorted(stamps, reverse=True)


def test_json_feed_has_the_same_entries_and_required_fields(site: Path) -> None:
    feed = json.loads((site / "feed.json").read_text(encoding="utf-8"))
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert (feed["title"], feed["home_page_url"], feed["feed_url"]) == (
        "Test Archive", "https://example.org/", "https://example.org/feed.json",
    )  # fmt: skip
    items = feed["items"]
    assert [i["title"] for i in items] == NEWEST_FIRST
    assert [i["id"] for i in items] == list(entry_ids(site).values())
    for item in items:
        assert {"id", "url", "title", "content_html", "summary", "date_published", "date_modified"} <= set(item)
    assert items[1]["external_url"] == "https://www.theguardian.com/"
    assert items[1]["image"] == "https://example.org/favicon.svg"


def test_sitemap_lists_every_page_and_only_built_pages(site: Path) -> None:
    root = etree.parse(str(site / "sitemap.xml")).getroot()
    locs = [u.findtext(SITEMAP + "loc") for u in root.findall(SITEMAP + "url")]
    assert all(loc.startswith("https://example.org/") for loc in locs)
    listed = {loc.removeprefix("https://example.org/") + ("index.html" if loc.endswith("/") else "") for loc in locs}
    built = {str(p.relative_to(site)) for p in published_pages(site)} - {"404.html"}
    assert listed == built
    lastmod = {u.findtext(SITEMAP + "loc"): u.findtext(SITEMAP + "lastmod") for u in root.findall(SITEMAP + "url")}
    assert lastmod["https://example.org/2015/09/tricky/"] == "2015-10-02T09:00:00+03:00"
    assert lastmod["https://example.org/"] == "2016-06-24T07:00:00+01:00"


def elementtree_sitemap(config: SiteConfig, locations: list[tuple[str, datetime | None]]) -> bytes:
    """The sitemap as ElementTree writes it: how it was made before it was written as text."""
    ET.register_namespace("", SITEMAP.strip("{}"))
    urlset = ET.Element(f"{SITEMAP}urlset")
    for path, modified in locations:
        url = ET.SubElement(urlset, f"{SITEMAP}url")
        ET.SubElement(url, f"{SITEMAP}loc").text = config.absolute(path)
        if modified:
            ET.SubElement(url, f"{SITEMAP}lastmod").text = modified.isoformat(timespec="seconds")
    ET.indent(urlset, space="")
    return ET.tostring(urlset, encoding="utf-8", xml_declaration=True) + b"\n"


def test_the_sitemap_written_as_text_has_the_bytes_elementtree_writes(tmp_path: Path) -> None:
    config = load_config(make_archive(tmp_path / "a", FILES) / "site.yaml")
    config = replace(config, base_url="https://example.org/fish&chips<b>/")
    when = datetime(2015, 9, 30, 8, 0, 5, 123, tzinfo=timezone(timedelta(hours=3)))
    locations = [
        ("", when),
        ("2015/09/tricky/", None),
        ("tags/r-d/?q=\"x\"&y='z'>", datetime(2016, 6, 24, 7, 0, tzinfo=UTC)),
        ("régions/moyen-orient/\u0661/", when),
        ("broken/\udcff/", None),  # a lone surrogate, from a file name that was not UTF-8: a character reference
    ]
    written = sitemap(config, locations)
    assert written == elementtree_sitemap(config, locations)
    readable = sitemap(config, locations[:-1])  # (no XML parser takes a reference to a surrogate)
    assert [loc.text for loc in etree.fromstring(readable).iter(f"{SITEMAP}loc")][2] == (
        "https://example.org/fish&chips<b>/tags/r-d/?q=\"x\"&y='z'>"
    )
    assert sitemap(config, []) == elementtree_sitemap(config, [])


def elementtree_entry(config: SiteConfig, entry: Entry, html: str | None) -> bytes:
    """An Atom entry as ElementTree writes it, indented as a child of `<feed>`: what
    `feeds._atom_entry` writes by hand (the way it was written before)."""
    atom = ATOM[1:-1]
    ET.register_namespace("", atom)

    def text(parent: ET.Element, name: str, value: str) -> ET.Element:
        child = ET.SubElement(parent, f"{ATOM}{name}")
        child.text = value
        return child

    b = entry.briefing
    element = ET.Element(f"{ATOM}entry")
    if b.language and b.language.casefold() != config.language.casefold():
        element.set("xml:lang", b.language)
    text(element, "id", entry_id(config, entry))
    text(element, "title", b.title)
    link = {"rel": "alternate", "type": "text/html", "href": config.absolute(entry.path)}
    ET.SubElement(element, f"{ATOM}link", link)
    text(element, "published", b.date.isoformat(timespec="seconds"))
    text(element, "updated", b.modified.isoformat(timespec="seconds"))
    author = ET.SubElement(element, f"{ATOM}author")
    text(author, "name", entry.source.name)
    if b.source.url:
        text(author, "uri", b.source.url)
    text(element, "summary", b.summary)
    if html is not None:
        content = text(element, "content", html)
        content.set("type", "html")
        content.set("xml:base", config.absolute(entry.path))
    for kind in ("tags", "regions", "countries"):
        for ref in entry.terms(BY_NAME[kind]):
            attributes = {"term": ref.slug, "scheme": config.absolute(f"{kind}/"), "label": ref.name}
            ET.SubElement(element, f"{ATOM}category", attributes)
    wrapper = ET.Element(f"{ATOM}feed")
    wrapper.append(element)
    ET.indent(wrapper)
    written = ET.tostring(wrapper, encoding="unicode")
    return written[written.index("<entry") : written.rindex("</entry>") + len("</entry>")].encode()


def test_an_entry_written_as_text_has_the_bytes_elementtree_writes(tmp_path: Path) -> None:
    """Each entry of a feed, with and without its body, in the site's language or another,
    with text and addresses that need escaping in character data and in attributes."""
    files = {
        **FILES,
        "2016/langue.md": briefing(
            "Un \"titre\" & <plus>", "2016-07-01T09:00:00+02:00", "['Say \"hi\" <now>', \"Tab\\tbed\"]", "Europe",
            source="{name: 'Le \"Monde\" & co', url: 'https://example.org/?a=1&b=\"2\"'}", extra="language: fr\n",
        ),
    }  # fmt: skip
    root = make_archive(tmp_path / "a", files)
    archive = pipeline.plan(root, pipeline.Options(cache=False))[0]
    config = replace(archive.config, base_url='https://example.org/fish&chips<b>/"q"\t\r\n/')  # escapes in attributes
    assert {entry.briefing.language for entry in archive.entries} == {None, "fr"}
    for entry in archive.entries:
        for html in (None, '<p class="x">A &amp; B\t\r\n"q" \u0661</p>', ""):
            assert _atom_entry(config, entry, html).encode() == elementtree_entry(config, entry, html), entry.path


def test_robots_txt_points_to_the_sitemap(site: Path) -> None:
    lines = (site / "robots.txt").read_text().splitlines()
    assert "User-agent: *" in lines and "Sitemap: https://example.org/sitemap.xml" in lines


def test_every_page_has_sharing_metadata_and_feed_links(site: Path) -> None:
    for file in published_pages(site):
        doc = parse(file)
        meta = {m.get("property") or m.get("name"): m.get("content") for m in doc.xpath("//meta")}
        # Link previews read the title, description and canonical link; og: tags add only what those lack.
        assert doc.findtext(".//title") and meta["description"] and meta["og:type"] and meta["twitter:card"], file
        discovered = doc.xpath("//link[@rel='alternate'][@type='application/atom+xml']/@href")
        if meta["og:type"] == "article":  # a briefing page links the feeds in its footer only
            assert not discovered and "/feed.xml" in doc.xpath("//footer[@class='colophon']//a/@href"), file
        else:
            assert discovered[0] == "/feed.xml", file
        if file.name != "404.html":
            canonical = doc.xpath("//link[@rel='canonical']/@href")
            assert len(canonical) == 1 and canonical[0].startswith("https://example.org/"), file
    tag = page(site, "tags/r-d/")
    assert "/tags/r-d/feed.xml" in tag.xpath("//link[@rel='alternate']/@href")


def test_briefing_pages_describe_a_news_article(site: Path) -> None:
    doc = page(site, "2015/09/tricky/")
    meta = {m.get("property") or m.get("name"): m.get("content") for m in doc.xpath("//meta")}
    assert (meta["og:type"], meta["twitter:card"]) == ("article", "summary_large_image")
    assert meta["og:image"] == "https://example.org/favicon.svg"
    data = json.loads(doc.xpath("//script[@type='application/ld+json']")[0].text)
    assert data["@type"] == "NewsArticle" and data["headline"] == TRICKY
    assert (data["datePublished"], data["dateModified"]) == ("2015-09-30T08:00:00+03:00", "2015-10-02T09:00:00+03:00")
    assert data["author"] == {"@type": "Organization", "name": "The Guardian", "url": "https://www.theguardian.com/"}
    assert data["inLanguage"] == "en"
    assert data["image"] == ["https://example.org/favicon.svg"]
    never_updated = json.loads(page(site, "2015/09/kweiris/").xpath("//script[@type='application/ld+json']")[0].text)
    assert "dateModified" not in never_updated and never_updated["datePublished"] == "2015-09-24T10:00:00+03:00"
    listing = {m.get("property"): m.get("content") for m in page(site, "").xpath("//meta")}
    assert listing["og:type"] == "website"


def test_two_sitemap_files_are_written_alike_when_their_pages_dates_and_offsets_are() -> None:
    """`written_alike` tells whether a sitemap file's bytes would be the same: the same pages in
    the same order, each dated the same moment at the same UTC offset (what `lastmod` writes)."""
    moscow = timezone(timedelta(hours=3))
    day = datetime(2016, 4, 2, 10, tzinfo=moscow)
    rows = (("", day), ("2016/04/a/", day), ("tags/", None))
    assert written_alike(rows, (("", day), ("2016/04/a/", datetime(2016, 4, 2, 10, tzinfo=moscow)), ("tags/", None)))
    assert not written_alike(rows, (("", day), ("2016/04/b/", day), ("tags/", None)))  # another page
    assert not written_alike(rows, rows[:2])
    assert not written_alike(rows, (("", day), ("2016/04/a/", day + timedelta(days=1)), ("tags/", None)))
    assert not written_alike(rows, (("", day), ("2016/04/a/", day.astimezone(UTC)), ("tags/", None)))  # same moment
    assert not written_alike(rows, (("", day), ("2016/04/a/", day), ("tags/", day)))
    dated = rows[:2]  # no page without a date: compared by column
    assert written_alike(dated, (("", day), ("2016/04/a/", datetime(2016, 4, 2, 10, tzinfo=moscow))))
    assert not written_alike(dated, (("", day), ("2016/04/a/", day + timedelta(seconds=1))))
    assert not written_alike(dated, (("", day), ("2016/04/a/", day.astimezone(UTC))))
