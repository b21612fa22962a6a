"""A briefing in another language than the site's: `language:` in front matter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree

from tests.conftest import briefing, build, make_archive, run
from tests.sitetools import page

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
ATOM = "{http://www.w3.org/2005/Atom}"
FILES = {
    "2016/english.md": briefing("Ceasefire talks resume", "2016-02-01", "[Syria]"),
    "2016/espanol.md": briefing("Se reanudan las conversaciones", "2016-02-02", "[Syria]", extra="language: es\n"),
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(make_archive(tmp_path_factory.mktemp("language"), FILES))


def test_the_briefing_page_is_in_its_language_and_the_site_words_in_the_sites(site: Path) -> None:
    doc = page(site, "2016/02/espanol/")
    assert doc.get("lang") == "es"
    assert doc.xpath("//h1")[0].get("lang") is None  # the title inherits the page's language
    assert {e.get("lang") for e in doc.xpath("//header[@class='masthead'] | //footer")} == {"en"}
    data = json.loads(doc.xpath("//script[@type='application/ld+json']")[0].text)
    assert data["inLanguage"] == "es"
    english = page(site, "2016/02/english/")
    assert english.get("lang") == "en"
    assert [e.text for e in english.xpath("//*[@lang][not(self::html)]")] == ["Se reanudan las conversaciones"]
    assert json.loads(english.xpath("//script[@type='application/ld+json']")[0].text)["inLanguage"] == "en"


def test_listings_mark_the_title_and_summary_with_their_language(site: Path) -> None:
    home = page(site, "")
    assert home.xpath("//a[text()='Se reanudan las conversaciones']/@lang") == ["es", "es"]  # latest, by region
    assert home.xpath("//p[starts-with(., 'A short summary of Se reanudan')]/@lang") == ["es"]
    assert home.xpath("//a[text()='Ceasefire talks resume']/@lang") == []
    assert page(site, "countries/syria/").xpath("//a[text()='Se reanudan las conversaciones']/@lang") == ["es"]
    related = page(site, "2016/02/english/").xpath("//section[@id='related']//a/@lang")
    assert related == ["es"]


def test_feed_entries_carry_their_language(site: Path) -> None:
    for feed in ("feed.xml", "tags/syria/feed.xml", "regions/middle-east/feed.xml"):
        root = etree.parse(str(site / feed)).getroot()
        assert root.get(XML_LANG) == "en"
        langs = {e.findtext(f"{ATOM}title"): e.get(XML_LANG) for e in root.iter(f"{ATOM}entry")}
        assert langs == {"Se reanudan las conversaciones": "es", "Ceasefire talks resume": None}, feed


@pytest.mark.parametrize("value", ["spanish", "es_ES", "e", "'es-'"])
def test_a_language_that_is_not_a_bcp_47_tag_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    root = make_archive(tmp_path / "a", {"2016/x.md": briefing(extra=f"language: {value}\n", date="2016-01-01")})
    assert run(root, "check") == 1
    shown = value.strip("'")
    expected = (
        f'content/2016/x.md:9: language: "{shown}" is not a BCP 47 language tag; write it like es, pt-BR or zh-Hant'
    )
    assert expected in capsys.readouterr().err


@pytest.mark.parametrize("value", ["es", "pt-BR", "zh-Hant", "sr-Latn-RS", "es-419", "de-CH-1996", "en-x-private"])
def test_well_formed_language_tags_are_accepted(tmp_path: Path, value: str) -> None:
    root = make_archive(tmp_path / "a", {"2016/x.md": briefing(extra=f"language: {value}\n", date="2016-01-01")})
    assert run(root, "check") == 0
