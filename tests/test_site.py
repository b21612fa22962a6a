"""`python build.py` on fixture archives: every page kind, links, order, counts, safety."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, SITE_YAML, briefing, build, make_archive, run
from tests.sitetools import LISTED, LISTED_ITEMS, broken_links, html_files, page, parse, texts

# Tags: "Civil war" on 4 briefings (2 pages at per_page 3), "Airstrikes" on exactly 3 (1 page).
# (A tag that names a country, such as "Syria", is listed as the country: see test_countries.)
FILES = {
    "2015/kweiris.md": briefing("Kweiris jets", "2015-09-24T10:00:00+03:00", "[Civil war, Airstrikes, Aleppo]"),
    "2015/same-day-early.md": briefing("Zeta early", "2015-09-30T08:00:00+03:00", "[Civil war, Airstrikes]"),
    "2015/same-day-late-b.md": briefing("Beta late", "2015-09-30T18:00:00+03:00", "[Civil war]"),
    "2015/same-day-late-a.md": briefing("Alpha late", "2015-09-30T18:00:00+03:00", "[Civil war, Airstrikes]"),
    "2015/paris.md": briefing("Paris attacks", "2015-11-13", "[Terrorism, ISIL]", "Europe", source="France 24"),
    "2016/brexit.md": briefing(
        "Brexit vote",
        "2016-06-24T07:00:00+01:00",
        "[UK]",
        "Europe",
        source="{name: The Guardian, url: 'https://www.theguardian.com/'}",
        body="Links to [Paris](../2015/paris.md).\n\n# Results\n\n## By nation",
    ),
    "2016/draft.md": briefing("Unfinished draft", "2016-07-01", "[Draft]", extra="draft: true\n"),
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(make_archive(tmp_path_factory.mktemp("site"), FILES))


def test_every_page_kind_is_at_its_permanent_url(site: Path) -> None:
    for path in [
        "index.html",
        "2015/09/kweiris/index.html",
        "2016/06/brexit/index.html",
        "timeline/index.html",
        "2015/index.html",
        "2015/09/index.html",
        "2015/09/page/2/index.html",
        "2016/06/index.html",
        "tags/index.html",
        "tags/civil-war/index.html",
        "tags/civil-war/page/2/index.html",
        "tags/isis/index.html",
        "regions/index.html",
        "regions/europe/index.html",
        "regions/middle-east/page/2/index.html",
        "sources/index.html",
        "sources/the-guardian/index.html",
        "sources/france-24/index.html",
        "404.html",
        ".nojekyll",
        "css/style.css",
        "favicon.svg",
    ]:
        assert (site / path).is_file(), path


def test_no_broken_internal_links_at_root(site: Path) -> None:
    assert broken_links(site, "/") == []


def test_no_broken_internal_links_under_a_project_base_path(tmp_path: Path) -> None:
    root = make_archive(tmp_path / "a", FILES)
    project = build(root, "--base-url", "https://user.github.io/archive/")
    assert broken_links(project, "/archive/") == []
    hrefs = {h for f in html_files(project) for h in parse(f).xpath("//a/@href | //link/@href")}
    assert all(h.startswith(("/archive/", "https://", "#")) for h in hrefs), sorted(hrefs)[:5]


def test_drafts_are_built_only_with_drafts_flag(site: Path, tmp_path: Path) -> None:
    assert not (site / "2016/07/draft").exists()
    with_drafts = build(make_archive(tmp_path / "a", FILES), "--drafts")
    assert (with_drafts / "2016/07/draft/index.html").is_file()


def test_home_lists_newest_first_with_same_day_ties_by_time_then_title(site: Path) -> None:
    home = page(site, "")
    titles = texts(home, "//article[@class='lead']/h2") + texts(home, "//section[@class='latest']/article/h3")
    assert titles == ["Brexit vote", "Paris attacks", "Alpha late", "Beta late", "Zeta early", "Kweiris jets"]
    assert not (site / "page").exists()  # the home page is not paginated: month pages hold the whole archive


def test_pagination_boundaries(site: Path) -> None:
    russia = page(site, "tags/airstrikes/")  # exactly per_page
    assert len(russia.xpath(LISTED_ITEMS)) == 3 and not russia.xpath("//nav[@class='pager']")
    assert not (site / "tags/airstrikes/page/2").exists()
    syria1, syria2 = page(site, "tags/civil-war/"), page(site, "tags/civil-war/page/2/")  # per_page + 1
    assert len(syria1.xpath(LISTED_ITEMS)) == 3 and len(syria2.xpath(LISTED_ITEMS)) == 1
    assert texts(syria2, "//nav[@class='pager']/p") == ["Page 2 of 2 · 4 briefings"]
    assert syria2.xpath("//a[@rel='prev']/@href") == ["/tags/civil-war/"]
    assert syria1.xpath("//a[@rel='next']/@href") == ["/tags/civil-war/page/2/"]
    assert syria1.xpath("//nav[@class='pager']//a[text()='Last »']/@href") == ["/tags/civil-war/page/2/"]


def test_index_pages_count_their_briefings(site: Path) -> None:
    tags = dict(t.rsplit(" ", 1) for t in texts(page(site, "tags/"), "//ul[@class='terms']/li"))
    assert tags == {"Airstrikes": "3", "Aleppo": "1", "Civil war": "4", "ISIS": "1", "Terrorism": "1", "UK": "1"}
    assert texts(page(site, "tags/"), "//li[@class='top']/a") == ["Civil war"]
    regions = texts(page(site, "regions/"), "//ul[@class='terms']/li")
    assert regions == ["Middle East 4", "Europe 2"]


def test_timeline_counts_months_and_links_neighbours(site: Path) -> None:
    timeline = page(site, "timeline/")
    assert len(timeline.xpath("//svg[@class='chart']")) == 2
    assert len(timeline.xpath("//svg[@class='chart']//*[local-name()='rect'][not(@class='hit')]")) == 24
    assert timeline.xpath("//svg[@class='chart']//*[local-name()='a']/@href")[0] == "/2016/06/"  # the bars link
    assert texts(timeline, "//section[h2/@id='y2015']//ul[@class='months']/li") == ["September 4", "November 1"]
    sept, sept2 = page(site, "2015/09/"), page(site, "2015/09/page/2/")  # 4 briefings at per_page 3
    assert len(sept.xpath(LISTED_ITEMS)) == 3
    assert texts(sept2, LISTED) == ["Kweiris jets"]
    assert sept.xpath("//nav[@class='pager']//a[@rel='next']/@href") == ["/2015/09/page/2/"]
    later = "//nav[@class='neighbours']//li[@class='newer']/a/@href"
    assert sept.xpath(later) == ["/2015/11/"] and not sept.xpath("//nav[@class='neighbours']//li[@class='older']")
    assert page(site, "2016/").xpath("//nav[@class='neighbours']//li[@class='older']/a/@href") == ["/2015/"]
    year = page(site, "2015/")  # each month with its count and latest briefings
    assert texts(year, "//section[@class='month']/h2") == ["November 1", "September 4"]


def test_briefing_page_shows_everything(site: Path) -> None:
    doc = page(site, "2016/06/brexit/")
    assert texts(doc, "//h1") == ["Brexit vote"]
    assert doc.xpath("//header//time/@datetime") == ["2016-06-24T07:00:00+01:00"]
    assert doc.xpath("//header/p[@class='meta']/a[text()='The Guardian']/@href") == ["/sources/the-guardian/"]
    assert doc.xpath("//a[text()='original']/@href") == ["https://www.theguardian.com/"]
    assert doc.xpath("//ul[@class='tags']//a/@href") == ["/tags/uk/"]
    assert doc.xpath("//div[@class='body']//a/@href") == ["/2015/11/paris/"]
    assert [h.tag for h in doc.xpath("//div[@class='body']/*[self::h2 or self::h3]")] == ["h2", "h3"]
    assert not doc.xpath("//a[@rel='prev' or @rel='next']")  # no neighbours in time: month pages list them


def test_related_briefings_prefer_shared_tags(site: Path) -> None:
    related = texts(page(site, "2015/09/kweiris/"), "//section[@id='related']//li/a")
    # Two shared tags each (nearest in time first), then one shared tag.
    assert related == ["Zeta early", "Alpha late", "Beta late"]


def test_404_links_are_absolute_under_the_base_path(site: Path) -> None:
    links = parse(site / "404.html").xpath("//main//a/@href")
    assert links and all(link.startswith("/") for link in links)


def test_favicon_and_stylesheet_are_linked_under_the_base_path(site: Path) -> None:
    doc = page(site, "")
    assert doc.xpath("//link[@rel='icon']/@href")[0].startswith("/favicon.svg?v=")
    assert doc.xpath("//link[@rel='stylesheet']/@href")[0].startswith("/css/style.css?v=")


def tree_digest(site: Path) -> dict[str, str]:
    return {
        str(p.relative_to(site)): hashlib.sha256(p.read_bytes()).hexdigest() for p in site.rglob("*") if p.is_file()
    }


def test_two_builds_are_byte_identical(tmp_path: Path) -> None:
    first = tree_digest(build(make_archive(tmp_path / "a", FILES)))
    second = tree_digest(build(make_archive(tmp_path / "b", FILES)))
    assert first == second


def test_failed_build_leaves_previous_site_untouched(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_archive(tmp_path / "a", FILES)
    before = tree_digest(build(root))
    template = root / "templates" / "term.html"
    lines = template.read_text().splitlines()
    lines.insert(4, "{{ term.no_such_field.deeper }}")
    template.write_text("\n".join(lines) + "\n")
    assert run(root, "--quiet") == 1
    err = capsys.readouterr().err
    # One error for the template line, not one per term page that uses it.
    assert err.startswith("templates/term.html:5: template error while rendering /regions/europe/")
    assert "(and the same on 13 more pages)" in err and err.count("templates/term.html:5") == 1
    assert tree_digest(root / "_site") == before
    assert [p.name for p in root.iterdir() if p.name.startswith("._site")] == []


def test_pages_of_deleted_briefings_do_not_linger(tmp_path: Path) -> None:
    root = make_archive(tmp_path / "a", FILES)
    build(root)
    (root / "content/2015/paris.md").unlink()
    (root / "content/2016/brexit.md").write_text(briefing("Brexit vote", "2016-06-24", "[UK]", "Europe"))
    site = build(root)
    assert not (site / "2015/11/paris").exists() and not (site / "tags/terrorism").exists()


def test_month_boundary_offsets_never_collide(tmp_path: Path) -> None:
    files = {
        "2015/late.md": briefing("Late in Chicago", "2015-09-30T23:30:00-05:00", extra="slug: boundary\n"),
        "2015/early.md": briefing("Early in Istanbul", "2015-10-01T01:00:00+03:00", extra="slug: boundary\n"),
    }
    site = build(make_archive(tmp_path / "a", files))
    assert (site / "2015/09/boundary/index.html").is_file() and (site / "2015/10/boundary/index.html").is_file()
    # Istanbul's 1 October 01:00 is 30 September 22:00 UTC: earlier than Chicago's 23:30 (04:30 UTC).
    home = page(site, "")
    listed = texts(home, "//article[@class='lead']/h2") + texts(home, "//section[@class='latest']/article/h3")
    assert listed == ["Late in Chicago", "Early in Istanbul"]


HOSTILE = {
    "2015/hostile.md": briefing(
        title="'<script>alert(1)</script>'",
        tags="['<img src=x onerror=alert(1)>', Syria]",
        body='[x](javascript:alert(1)) <img src=x onerror="alert(1)"> <script>alert(2)</script>\n\n'
        "[y](  JaVaScRiPt:alert(3)) ![z](javascript:alert(4))",
    ),
}


def test_hostile_content_stays_inert_on_every_page(tmp_path: Path) -> None:
    site = build(make_archive(tmp_path / "a", HOSTILE))
    for file in html_files(site):
        doc = parse(file)
        # The only scripts are JSON-LD data blocks, each of which parses as JSON, and the search page's own.
        scripts = [s for s in doc.xpath("//script") if s.get("src", "").split("?")[0] != "/search.js"]
        assert len(scripts) == len(doc.xpath("//script")) - (file.parent.name == "search"), file
        assert all(s.get("type") == "application/ld+json" for s in scripts), file
        assert all(json.loads(s.text) for s in scripts)
        assert not doc.xpath("//@*[starts-with(name(), 'on')]"), file
        links = doc.xpath("//@href | //@src")
        assert not [link for link in links if "javascript" in link.lower()], file
    hostile = page(site, "2015/09/hostile/")
    assert texts(hostile, "//h1") == ["<script>alert(1)</script>"]
    assert json.loads(hostile.xpath("//script")[0].text)["headline"] == "<script>alert(1)</script>"
    assert "</script>" not in hostile.xpath("//script")[0].text


def test_raw_html_allowed_by_site_yaml(tmp_path: Path) -> None:
    files = {"2015/html.md": briefing(body='<p class="note">Allowed</p>')}
    site = build(make_archive(tmp_path / "a", files, SITE_YAML + "markdown:\n  allow_html: true\n"))
    assert texts(page(site, "2015/09/html/"), "//p[@class='note']") == ["Allowed"]


def built_loading(root: Path, module: str) -> tuple[int, bool]:
    """Build the archive in a fresh process; return its exit status and whether it loaded `module`."""
    script = (
        "import sys; from briefings.cli import main; "
        f"print(main(['--quiet', '--jobs', '1', '--root', sys.argv[1]]), {module!r} in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", script, str(root)], cwd=REPO, capture_output=True, text=True)
    status, loaded = done.stdout.split()
    return int(status), loaded == "True"


def test_only_a_process_that_sanitises_raw_html_loads_the_sanitiser(tmp_path: Path) -> None:
    """`nh3` is loaded on the first body with raw HTML, not at every build's start; the page of
    such a body is sanitised all the same."""
    root = make_archive(tmp_path / "a", {"2015/plain.md": briefing("Plain")})
    assert built_loading(root, "nh3") == (0, False)
    (root / "content/2015/raw.md").write_text(briefing("Raw", body="<b>Kept</b><script>alert(1)</script>"))
    assert built_loading(root, "nh3") == (0, True)
    assert texts(page(root / "_site", "2015/09/raw/"), "//main//b") == ["Kept"]
    assert not page(root / "_site", "2015/09/raw/").xpath("//main//script")


def test_a_build_with_nothing_to_do_never_loads_jinja(tmp_path: Path) -> None:
    """Jinja, a sixth of a no-change build's time at 10,000 briefings, is loaded by the builds that
    render alone: not by one whose files are as they were, nor by one whose files were touched."""
    root = make_archive(tmp_path / "a", {"2015/plain.md": briefing("Plain")})
    assert built_loading(root, "jinja2") == (0, True)  # the first build renders every page
    assert built_loading(root, "jinja2") == (0, False)
    os.utime(root / "content/2015/plain.md")  # its bytes as they were: read, compared, nothing made
    assert built_loading(root, "jinja2") == (0, False)
    (root / "content/2015/plain.md").write_text(briefing("Plain, edited"))
    assert built_loading(root, "jinja2") == (0, True)
    assert texts(page(root / "_site", "2015/09/plain/"), "//h1") == ["Plain, edited"]


def test_related_falls_back_to_nearest_in_time(site: Path) -> None:
    # "UK" is on no other briefing: the three nearest in time stand in.
    related = texts(page(site, "2016/06/brexit/"), "//section[@id='related']//li/a")
    assert related == ["Paris attacks", "Alpha late", "Beta late"]


def test_image_caption_credit_countries_and_corrections_are_shown(tmp_path: Path) -> None:
    extra = (
        "countries: [Syria, Russia]\nimage:\n  src: /favicon.svg\n  alt: The mark\n  caption: A caption.\n"
        "corrections:\n  - date: 2015-09-25\n    text: Older fix.\n  - date: 2015-09-28\n    text: Newer fix.\n"
    )
    site = build(make_archive(tmp_path / "a", {"2015/full.md": briefing("Full", extra=extra)}))
    doc = page(site, "2015/09/full/")
    assert doc.xpath("//figure/img/@alt") == ["The mark"] and doc.xpath("//figure/img/@src") == ["/favicon.svg"]
    assert texts(doc, "//figcaption") == ["A caption. Photo by Reuters"]
    assert texts(doc, "//dt[text()='Countries']/following-sibling::dd[1]//a") == ["Syria", "Russia"]
    assert texts(doc, "//section[@id='corrections']//li") == [
        "28 September 2015: Newer fix.",
        "25 September 2015: Older fix.",
    ]
    assert doc.xpath("//section[@id='corrections']//time/@datetime")[0].startswith("2015-09-28")


def test_an_empty_archive_builds_a_working_site(tmp_path: Path) -> None:
    import feedparser

    site = build(make_archive(tmp_path / "a", {}))
    assert texts(page(site, ""), "//p[@class='empty']") == ["No briefings here yet."]
    assert broken_links(site, "/") == []
    feed = feedparser.parse((site / "feed.xml").read_bytes())
    assert not feed.bozo and feed.entries == []


def test_static_file_at_a_page_url_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_archive(tmp_path / "a", FILES)
    (root / "static/tags").mkdir(parents=True)
    (root / "static/tags/index.html").write_text("<p>mine</p>")
    assert run(root, "--quiet") == 1
    assert capsys.readouterr().err.splitlines()[0] == (
        "templates/terms.html: /tags/index.html is also written by static/tags/index.html; rename one"
    )
    assert not (root / "_site").exists()


def test_tags_differing_in_case_or_accents_are_one_tag(tmp_path: Path) -> None:
    files = {
        "2015/a.md": briefing("A", "2015-09-01", "[Réfugiés, isis]"),
        "2015/b.md": briefing("B", "2015-09-02", "[REFUGIES, Islamic State]"),
        "2015/c.md": briefing("C", "2015-09-03", "[Réfugiés]"),
    }
    site = build(make_archive(tmp_path / "a", files))
    # The most used spelling names the tag; an alias target in site.yaml always wins.
    assert texts(page(site, "tags/"), "//ul[@class='terms']/li") == ["ISIS 2", "Réfugiés 3"]
    assert sorted(p.name for p in (site / "tags").iterdir() if p.is_dir()) == ["isis", "refugies"]


def test_the_regions_index_says_the_order_it_lists_them_in(tmp_path: Path) -> None:
    site = build(make_archive(tmp_path / "a", {"2015/a.md": briefing()}))
    regions = " ".join(page(site, "regions/").xpath("string(//p[@class='lede'])").split())
    tags = " ".join(page(site, "tags/").xpath("string(//p[@class='lede'])").split())
    assert regions.startswith("2 regions, in the order site.yaml lists them.") and "A–Z" in tags
