"""The archive as readers use it: listings that scan by date, a home page with hierarchy, and a
way back from every page (breadcrumbs, the masthead, the 404's search box)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from briefings.render import DENSE_YEAR, by_period
from tests.conftest import SITE_YAML, briefing, build, make_archive
from tests.sitetools import LISTED, page, published_pages, texts

FILES = {
    "2015/kweiris.md": briefing("Kweiris jets", "2015-09-24T10:00:00+03:00", tags="[Airstrikes]"),
    "2015/raids.md": briefing("Raids widen", "2015-12-01", tags="[Airstrikes]", extra="countries: [Syria]\n"),
    "2016/truce.md": briefing("Truce holds", "2016-02-27", tags="[Airstrikes]", source="Reuters"),
    "2016/ukraine.md": briefing("Minsk talks", "2016-03-01", region="Europe", tags="[Diplomacy]"),
    "2016/aleppo.md": briefing(
        "Alepo cae", "2016-12-22", tags="[Airstrikes]", extra="language: es\ncountries: [Syria]\n"
    ),
}
DESCRIBED = SITE_YAML + "descriptions:\n  tags:\n    airstrikes: Strikes from the air, by any side.\n"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(make_archive(tmp_path_factory.mktemp("design") / "archive", FILES, DESCRIBED))


def test_a_listing_has_its_dates_in_a_column_under_year_headings_newest_with_summaries(site: Path) -> None:
    doc = page(site, "tags/airstrikes/")  # four briefings, per_page 3: two pages
    assert texts(doc, "//main/h2[@class='period']") == ["2016", "2015"]
    assert texts(doc, "//ol[@class='dated']/li/span[1]") == ["22 Dec", "27 Feb", "1 Dec"]
    assert texts(doc, LISTED) == ["Alepo cae", "Truce holds", "Raids widen"]
    assert texts(doc, "//ol[@class='dated']/li//p[@class='gist']")[0] == "A short summary of Alepo cae."
    assert texts(doc, "//p[@class='lede']") == ["Strikes from the air, by any side."]  # site.yaml's description
    later = page(site, "tags/airstrikes/page/2/")
    assert texts(later, LISTED) == ["Kweiris jets"] and not later.xpath("//p[@class='gist']")  # summaries: page 1


def test_a_dense_year_is_split_into_months() -> None:
    def entry(month: int, day: int) -> object:
        return SimpleNamespace(briefing=SimpleNamespace(date=datetime(2016, month, day)))

    dense = [entry(12 - n // 28, 28 - n % 28) for n in range(DENSE_YEAR + 1)]  # December, then November
    groups = by_period(dense)
    assert [(g.label, g.level, len(g.entries), g.start) for g in groups] == [
        ("2016", 2, 0, 0), ("December", 3, 28, 0), ("November", 3, 3, 28),
    ]  # fmt: skip
    sparse = by_period([entry(12, 1), SimpleNamespace(briefing=SimpleNamespace(date=datetime(2015, 3, 1)))])
    assert [(g.label, g.level, len(g.entries), g.start) for g in sparse] == [("2016", 2, 1, 0), ("2015", 2, 1, 1)]


def test_every_page_below_the_home_page_has_breadcrumbs_from_home(site: Path) -> None:
    for file in published_pages(site):
        relative = file.relative_to(site).as_posix()
        if relative in ("index.html", "404.html"):
            continue
        doc = page(site, relative)
        trail = doc.xpath("//nav[@class='crumbs']//li")
        assert trail and trail[0].xpath("a/@href") == ["/"], relative
    assert texts(page(site, "2016/12/aleppo/"), "//nav[@class='crumbs']//a") == ["Home", "Regions", "Middle East"]
    assert texts(page(site, "2016/12/"), "//nav[@class='crumbs']//li") == ["Home", "Timeline", "2016", "December"]


def test_the_home_page_leads_with_the_latest_and_has_a_way_in_by_region(site: Path) -> None:
    home = page(site, "")
    assert texts(home, "//article[@class='lead']/h2") == ["Alepo cae"]
    assert home.xpath("//article[@class='lead']/h2/a/@lang") == ["es"]
    assert texts(home, "//article[@class='lead']//span[@class='lang']") == ["Spanish"]  # a visible language label
    links = home.xpath("//article[@class='lead']/p[@class='meta']/a/@href")
    assert links == ["/regions/middle-east/", "/sources/trt-world/"]
    assert texts(home, "//section[@class='by-region']/h3/a") == ["Middle East", "Europe"]
    assert texts(home, "//section[@class='by-region']/ol[1]/li/span[1]") == ["22 Dec 2016", "27 Feb 2016", "1 Dec 2015"]


def test_the_masthead_404_timeline_and_country_pages_show_the_way(site: Path) -> None:
    home = page(site, "")
    assert texts(home, "//nav[@id='site-nav']//a") == [
        "Timeline", "Regions", "Countries", "Tags", "Sources", "Search",
    ]  # fmt: skip
    missing = page(site, "404.html")
    assert missing.xpath("//form[@role='search']/@action") == ["/search/"] and missing.xpath("//input[@name='q']")
    chart = page(site, "timeline/").xpath("//section[h2/@id='y2016']//svg//a/@href")
    assert chart == ["/2016/02/", "/2016/03/", "/2016/12/"]  # each bar with briefings links its month
    assert texts(page(site, "countries/syria/"), "//p[@class='lede']/a") == ["Middle East"]


def test_the_briefing_page_puts_its_source_by_a_dateline_written_for_readers(site: Path) -> None:
    meta = page(site, "2015/09/kweiris/").xpath("//article/header/p[@class='meta']")[0]
    assert " ".join(meta.text_content().split()).startswith("24 September 2015, 10:00 (UTC+3) · TRT World")
    assert meta.xpath("a/@href")[0] == "/sources/trt-world/"
    assert meta.xpath("time/@datetime") == ["2015-09-24T10:00:00+03:00"]
