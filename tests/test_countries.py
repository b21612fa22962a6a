"""Country pages: /countries/ and /countries/<slug>/, their feeds, folding and "did you mean"."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import feedparser
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from briefings import countries
from briefings.countries import near_misses, near_misses_since
from briefings.errors import BuildFailed
from briefings.pipeline import check
from tests.conftest import SITE_YAML, briefing, build, make_archive, run
from tests.sitetools import LISTED, page, texts

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
FILES = {
    f"2016/s{n}.md": briefing(f"Story {n}", f"2016-03-0{n}", "[Civil war]", extra=f"countries: [{countries}]\n")
    for n, countries in enumerate(("Syria, Turkey", "syria", "SYRIA, Türkiye", "Sýria, Russia", "Gambia, Zambia"), 1)
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(make_archive(tmp_path_factory.mktemp("countries"), FILES))


def test_a_country_page_lists_its_briefings_whatever_the_case_or_accents(site: Path) -> None:
    doc = page(site, "countries/syria/")  # per_page is 3 in the test site.yaml: four briefings, two pages
    assert texts(doc, "//h1") == ["Syria"]  # the built-in spelling, though nobody wrote it first
    assert texts(doc, LISTED) == ["Story 4", "Story 3", "Story 2"]
    assert doc.xpath("//a[@rel='next']/@href") == ["/countries/syria/page/2/"]
    assert texts(page(site, "countries/syria/page/2/"), LISTED) == ["Story 1"]
    assert doc.xpath("//nav[@class='crumbs']//a/@href") == ["/", "/countries/"]
    assert texts(doc, "//nav[@class='crumbs']//li") == ["Home", "Countries", "Syria"]
    assert texts(doc, "//p[@class='lede']/a") == ["Middle East"]  # the region most of its briefings are in
    assert not (site / "countries" / "sýria").exists() and not (site / "countries" / "SYRIA").exists()


def test_the_briefing_page_links_each_of_its_countries(site: Path) -> None:
    doc = page(site, "2016/03/s1/")
    links = doc.xpath("//dt[text()='Countries']/following-sibling::dd[1]//a")
    assert [(a.text, a.get("href")) for a in links] == [
        ("Syria", "/countries/syria/"),
        ("Turkey", "/countries/turkey/"),
    ]


def test_two_known_spellings_stay_two_countries_and_close_known_names_both_stand(site: Path) -> None:
    doc = page(site, "countries/")
    names = [(a.text, a.get("href")) for a in doc.xpath("//ul[@class='terms']/li/a")]
    assert names == [
        ("Gambia", "/countries/gambia/"),
        ("Russia", "/countries/russia/"),
        ("Syria", "/countries/syria/"),
        ("Turkey", "/countries/turkey/"),
        ("Türkiye", "/countries/turkiye/"),
        ("Zambia", "/countries/zambia/"),
    ]
    assert texts(doc, "//ul[@class='terms']/li/span") == ["1", "1", "4", "1", "1", "1"]


def test_each_country_has_a_feed_and_its_pages_are_in_the_sitemap(site: Path) -> None:
    feed = feedparser.parse((site / "countries" / "syria" / "feed.xml").read_bytes())
    assert not feed.bozo and feed.feed.title == "Test Archive: Country Syria"
    assert [e.title for e in feed.entries] == ["Story 4", "Story 3", "Story 2", "Story 1"]
    assert feed.feed.link == "https://example.org/countries/syria/"
    doc = page(site, "countries/syria/")
    assert doc.xpath("//link[@type='application/atom+xml']/@href")[-1] == "/countries/syria/feed.xml"
    locations = etree.parse(str(site / "sitemap.xml")).findall(f"{SITEMAP}url/{SITEMAP}loc")
    listed = {loc.text for loc in locations}
    assert {"https://example.org/countries/", "https://example.org/countries/syria/page/2/"} <= listed


def test_a_misspelt_country_names_the_file_line_and_the_name_meant(tmp_path: Path) -> None:
    root = make_archive(tmp_path / "a", {"2015/typo.md": briefing(extra="countries: [Russia, Untied States]\n")})
    with pytest.raises(BuildFailed) as failed:
        check(root)
    assert [str(e) for e in failed.value.errors] == [
        'content/2015/typo.md:9: countries: "Untied States" looks like a misspelling of "United States"; '
        'did you mean "United States"? If "Untied States" is right, add it to known_countries in site.yaml'
    ]
    (root / "site.yaml").write_text(SITE_YAML + "known_countries: [Untied States]\n")
    check(root)


def test_near_misses_compare_again_only_the_names_whose_counts_or_more_used_names_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every name is compared with every more used one (seconds at a thousand stories): an edit that
    leaves the names alone compares none, one that adds a misspelling compares the names it
    reaches, not all, and the misspelling is caught."""
    compared: list[str] = []
    real = countries._closest
    monkeypatch.setattr(countries, "_closest", lambda folded, *args: compared.append(folded) or real(folded, *args))
    files = {**FILES, **{f"2016/t{n}.md": briefing(f"T{n}", "2016-02-01", f"[Tag {n}]") for n in "abcdefgh"}}
    root = make_archive(tmp_path / "a", files)
    assert run(root, "--quiet") == 0
    assert {f"tag {n}" for n in "abcdefgh"} <= set(compared)
    compared.clear()
    s1 = root / "content/2016/s1.md"
    s1.write_text(s1.read_text().replace("Story 1", "Story one"))
    assert run(root, "--quiet") == 0
    assert compared == []
    s1.write_text(s1.read_text().replace("countries: [Syria, Turkey]", "countries: [Syira, Turkey]"))
    with pytest.raises(BuildFailed) as failed:
        check(root)
    assert 'countries: "Syira" looks like a misspelling of "Syria"' in str(failed.value.errors[0])
    assert "syira" in compared and not {f"tag {n}" for n in "abcdefgh"} & set(compared)


NAMES = st.sampled_from(["Kurdistan", "Kurdestan", "kurdistan", "Syira", "Atlantis", "Atlantys", "COP 26", "COP 27"])


@given(st.lists(st.dictionaries(NAMES, st.integers(1, 4)), min_size=2, max_size=5))
def test_near_misses_worked_out_from_the_last_ones_are_those_worked_out_afresh(counts: list[dict[str, int]]) -> None:
    previous = None
    for used in map(Counter, counts):
        found, previous = near_misses_since(previous, used, ["Atlantis"])
        assert found == near_misses(used, ["Atlantis"])


def test_a_rare_spelling_of_a_name_others_use_more_is_a_near_miss() -> None:
    used = Counter({"Kurdistan": 3, "Kurdestan": 1, "Somaliland": 1, "Atlantis": 1})
    assert near_misses(used) == {"Kurdestan": "Kurdistan"}  # Somaliland is known; Atlantis is near nothing
    assert near_misses(used, extra=["Kurdistan", "Kurdestan"]) == {}  # both declared right
    assert near_misses(Counter({"Kurdistan": 1, "Kurdestan": 1})) == {}  # neither is more used: no guess


def test_known_countries_must_be_a_list(tmp_path: Path) -> None:
    root = make_archive(tmp_path / "a", {"2016/ok.md": briefing()}, SITE_YAML + "known_countries: Kurdistan\n")
    with pytest.raises(BuildFailed) as failed:
        check(root)
    assert [str(e) for e in failed.value.errors] == [
        'site.yaml:15: known_countries: expected a list such as [a, b], found "Kurdistan"'
    ]


def test_a_tag_close_to_a_more_used_one_gets_did_you_mean(archive, capsys: pytest.CaptureFixture[str]) -> None:
    files = {f"2015/b{n}.md": briefing(f"B{n}", f"2015-09-{n + 10}T10:00:00+03:00", "[Ceasefires]") for n in range(3)}
    files["2015/new.md"] = briefing("New", "2015-09-20T10:00:00+03:00", "[Syrian civil war, Ceasefire]")
    root = archive(files)
    assert run(root, "check") == 1
    assert capsys.readouterr().err.splitlines()[0] == (
        'content/2015/new.md:8: tags: "Ceasefire" looks like a misspelling of "Ceasefires"; did you mean '
        '"Ceasefires"? If "Ceasefire" is right, add it to known_tags in site.yaml'
    )
    (root / "site.yaml").write_text(SITE_YAML + "known_tags: [Ceasefire, Ceasefires]\n")  # both meant
    assert run(root, "check") == 0


def test_names_that_differ_in_their_numbers_are_not_misspellings() -> None:
    used = Counter({"COP 26": 5, "COP 27": 1, "G7": 4, "G8": 1, "Topic 113": 1, "Topic 183": 3})
    assert near_misses(used, builtin=()) == {}
    assert near_misses(Counter({"Ceasefires": 3, "Ceasefire": 1}), builtin=()) == {"Ceasefire": "Ceasefires"}


def test_a_tag_that_names_a_country_is_that_country_and_its_tag_urls_keep_working(tmp_path: Path) -> None:
    """Readers meet one Russia page: tagged or listed as a country, a briefing is on /countries/russia/;
    /tags/russia/ (and each page it had) redirects there, and its feed goes on under its own id."""
    files = {
        "2016/a.md": briefing("A", "2016-03-01", "[russia, Airstrikes]"),
        "2016/b.md": briefing("B", "2016-03-02", "[Russia]", extra="countries: [Syria]\n"),
        "2016/c.md": briefing("C", "2016-03-03", "[Russia, Airstrikes]"),
        "2016/d.md": briefing("D", "2016-03-04", "[Kurdistan, Russia]"),
        "2016/e.md": briefing("E", "2016-03-05", "[Airstrikes]", extra="countries: [Russia, Kurdistan]\n"),
    }
    site = build(make_archive(tmp_path / "a", files))
    first, second = page(site, "countries/russia/"), page(site, "countries/russia/page/2/")  # per_page is 3
    listed = texts(first, LISTED) + texts(second, LISTED)
    assert listed == ["E", "D", "C", "B", "A"]
    # A name only used as a country elsewhere ("Kurdistan") is a country too.
    assert texts(page(site, "countries/kurdistan/"), LISTED) == ["E", "D"]
    assert texts(page(site, "tags/"), "//ul[@class='terms']/li/a") == ["Airstrikes"]
    b = page(site, "2016/03/b/")
    assert texts(b, "//dt[text()='Countries']/following-sibling::dd[1]//a") == ["Syria", "Russia"]
    assert not b.xpath("//dt[text()='Tags']")  # its only tag is a country
    # As a tag, Russia had four briefings: two pages, each now a redirect.
    for old, new in (
        ("tags/russia/", "countries/russia/"),
        ("tags/russia/page/2/", "countries/russia/"),
        ("tags/kurdistan/", "countries/kurdistan/"),
    ):
        refresh = page(site, old).xpath("//meta[@http-equiv='refresh']/@content")
        assert refresh == [f"0; url=https://example.org/{new}"], old
    assert not (site / "tags/russia/page/3").exists() and not (site / "tags/kurdistan/page/2").exists()
    feed = feedparser.parse((site / "tags/russia/feed.xml").read_bytes())
    assert feed.feed.id == "tag:example.org,2015:feed/tags/russia/" and len(feed.entries) == 5
    sitemap = etree.parse(str(site / "sitemap.xml")).getroot()
    locations = [u.findtext(SITEMAP + "loc") for u in sitemap]
    assert "https://example.org/countries/russia/" in locations and "https://example.org/tags/russia/" not in locations
