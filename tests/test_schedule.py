"""Publishing on time: scheduled briefings, the build's clock, the news sitemap and WebSub pings."""

from __future__ import annotations

import http.server
import threading
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

import lxml.etree
import pytest

from briefings import pipeline, workers
from briefings.archive import Entry, recent_entries
from briefings.config import parse_config
from briefings.feeds import NEWS_NS, SITEMAP_NS, news_language, news_sitemap, sitemap_views
from tests.conftest import SITE_YAML, briefing, make_archive, run
from tests.sitetools import LISTED, page, texts
from tests.test_incremental import clean_build, tree

LIVE = "2016-03-10T06:00:00+02:00"  # when the scheduled briefing goes live (04:00 UTC)
FILES = {
    "2016/earlier.md": briefing("Earlier", "2016-03-01T10:00:00+02:00", tags="[Syria]"),
    "2016/unrelated.md": briefing("Unrelated", "2016-02-01T10:00:00+02:00", tags="[Energy]", region="Europe"),
    **{  # its related briefings: the scheduled one does not join them
        f"2016/energy-{day}.md": briefing(f"Energy {day}", f"2016-01-{day:02d}", tags="[Energy]", region="Europe")
        for day in (10, 11, 12)
    },
    "2016/embargoed.md": briefing("Embargoed report", LIVE, tags="[Syria]"),
}


def epoch(moment: str) -> str:
    return str(int(datetime.fromisoformat(moment).timestamp()))


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Set the build's clock: at(\"2016-03-10T05:59:59+02:00\")."""

    def set_clock(moment: str) -> None:
        monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch(moment))

    yield set_clock


def site_text(site: Path) -> str:
    return "\n".join(f.read_text(encoding="utf-8", errors="replace") for f in sorted(site.rglob("*")) if f.is_file())


def test_a_scheduled_briefing_is_nowhere_until_its_time(tmp_path: Path, at, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_archive(tmp_path / "archive", FILES)
    at("2016-03-10T05:59:59+02:00")
    assert run(root) == 0
    assert "1 scheduled" in capsys.readouterr().out
    site = root / "_site"
    assert not (site / "2016/03/embargoed").exists()
    assert "Embargoed report" not in site_text(site) and "embargoed" not in site_text(site)  # listings, feeds, search
    assert run(root, "check") == 0
    said = capsys.readouterr().out.splitlines()
    assert said[-1] == "Scheduled: content/2016/embargoed.md goes live at 10 March 2016, 06:00 (UTC+2)."
    # A published briefing may not link to it until then: the error says when it goes live.
    earlier = root / "content/2016/earlier.md"
    earlier.write_text(earlier.read_text().replace("Body text.", "See [the report](embargoed.md)."))
    assert run(root, "check") == 1
    assert capsys.readouterr().err.splitlines()[0] == (
        'content/2016/earlier.md:10: link "embargoed.md" points to content/2016/embargoed.md, which is scheduled: '
        "it goes live at 2016-03-10T06:00+02:00; link to it once it is published, or remove the link"
    )
    at(LIVE)
    assert run(root, "--quiet") == 0 and (site / "2016/03/embargoed/index.html").is_file()


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_the_jobs_option_neither_publishes_a_scheduled_briefing_nor_is_ignored(
    tmp_path: Path, at, monkeypatch: pytest.MonkeyPatch, jobs: str
) -> None:
    """`--jobs N` once reached the build as "show scheduled briefings" (a positional argument
    in the wrong place): the embargoed page went out, built on every core."""
    root = make_archive(tmp_path / "archive", FILES)
    at("2016-03-10T05:59:59+02:00")
    pools = []
    monkeypatch.setattr(workers, "MIN_PARALLEL", 1)  # a pool for any work, when more than one job is asked
    real_pool = workers._pool
    monkeypatch.setattr(workers, "_pool", lambda task, count: pools.append(count) or real_pool(task, count))
    assert run(root, "--quiet", "--jobs", jobs) == 0
    assert not (root / "_site/2016/03/embargoed").exists()
    assert "Embargoed report" not in site_text(root / "_site")
    assert set(pools) == ({int(jobs)} if jobs != "1" else set())


def test_when_it_falls_due_only_what_shows_it_changes_and_incremental_equals_clean(tmp_path: Path, at) -> None:
    root = make_archive(tmp_path / "archive", FILES)
    at("2016-03-10T05:59:59+02:00")
    before = tree(pipeline_build(root))
    at("2016-03-10T05:59:59+02:00")
    assert pipeline.build(root).written.made == 0  # the same clock position: a no-change build
    at("2016-03-09T12:00:00+02:00")  # a day later, still before the next event (it falls due)
    assert pipeline.build(root).written.made == 0
    at(LIVE)
    report = pipeline.build(root)
    after = tree(root / "_site")
    assert after == clean_build(root, tmp_path / "clean")
    changed = {path for path in after.keys() | before.keys() if after.get(path) != before.get(path)}
    assert report.written.written + report.written.removed == len(changed)  # nothing rewritten needlessly
    assert "2016/03/embargoed/index.html" in changed and "news-sitemap.xml" in changed and "sitemap.xml" in changed
    assert "countries/syria/feed.xml" in changed and "feed.xml" in changed
    unchanged = ("2016/02/unrelated/index.html", "tags/energy/index.html", "regions/europe/feed.xml", "robots.txt")
    assert not changed & set(unchanged)
    assert texts(page(root / "_site", "countries/syria/"), LISTED) == [
        "Embargoed report",
        "Earlier",
    ]


def pipeline_build(root: Path) -> Path:
    pipeline.build(root)
    return root / "_site"


def test_the_preview_shows_a_scheduled_briefing_with_a_banner(tmp_path: Path, at) -> None:
    root = make_archive(tmp_path / "archive", FILES)
    at("2016-03-01T12:00:00+02:00")
    pipeline.build(root, pipeline.Options(scheduled=True), output="_preview")
    doc = page(root / "_preview", "2016/03/embargoed/")
    assert texts(doc, "//p[@class='banner']") == [
        "Scheduled for 10 March 2016, 06:00 (UTC+2): not published until then."
    ]
    assert not page(root / "_preview", "2016/03/earlier/").xpath("//p[@class='banner']")


def test_a_clock_that_is_not_a_number_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_archive(tmp_path / "archive", FILES)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    assert run(root) == 1
    err = capsys.readouterr().err
    assert 'SOURCE_DATE_EPOCH is "yesterday"; set it to whole seconds since 1970-01-01 UTC, or unset it' in err
    assert not (root / "_site").exists()


def news_entries(site: Path) -> list[dict[str, str]]:
    """Parse the news sitemap: each URL with its news elements, by local name."""
    root = lxml.etree.parse(str(site / "news-sitemap.xml")).getroot()
    assert root.tag == f"{{{SITEMAP_NS}}}urlset" and root.nsmap.get("news", NEWS_NS) == NEWS_NS
    found = []
    for url in root.findall(f"{{{SITEMAP_NS}}}url"):
        news = url.find(f"{{{NEWS_NS}}}news")
        found.append(
            {
                "loc": url.findtext(f"{{{SITEMAP_NS}}}loc"),
                "name": news.findtext(f"{{{NEWS_NS}}}publication/{{{NEWS_NS}}}name"),
                "language": news.findtext(f"{{{NEWS_NS}}}publication/{{{NEWS_NS}}}language"),
                "date": news.findtext(f"{{{NEWS_NS}}}publication_date"),
                "title": news.findtext(f"{{{NEWS_NS}}}title"),
            }
        )
    return found


def test_the_news_sitemap_lists_the_last_two_days_by_googles_rules(tmp_path: Path, at) -> None:
    files = {
        "2016/two-days.md": briefing("Exactly two days before", "2016-03-08T06:00:00+02:00"),
        "2016/just-inside.md": briefing("Just inside", "2016-03-08T06:00:01+02:00", extra="language: pt-BR\n"),
        "2016/now.md": briefing("At the clock", LIVE),
        "2016/later.md": briefing("A second later", "2016-03-10T06:00:01+02:00"),
    }
    root = make_archive(tmp_path / "archive", files)
    at(LIVE)
    assert run(root, "--quiet") == 0
    site = root / "_site"
    assert news_entries(site) == [
        {"loc": "https://example.org/2016/03/now/", "name": "Test Archive", "language": "en",
         "date": "2016-03-10T06:00:00+02:00", "title": "At the clock"},
        {"loc": "https://example.org/2016/03/just-inside/", "name": "Test Archive", "language": "pt",
         "date": "2016-03-08T06:00:01+02:00", "title": "Just inside"},
    ]  # fmt: skip
    assert "Sitemap: https://example.org/news-sitemap.xml" in (site / "robots.txt").read_text().splitlines()
    at("2016-03-12T06:00:01+02:00")  # everything is older than two days: present, and empty
    assert run(root, "--quiet") == 0
    assert news_entries(site) == []
    (root / "site.yaml").write_text(SITE_YAML + "news_sitemap: false\n")
    assert run(root, "--quiet") == 0
    assert not (site / "news-sitemap.xml").exists() and "news" not in (site / "robots.txt").read_text()


def test_the_news_sitemap_holds_at_most_a_thousand_and_the_sitemap_index_lists_it() -> None:
    config = parse_config(SITE_YAML)
    now = datetime(2016, 3, 10, tzinfo=UTC)
    entries = tuple(
        Entry(briefing_at(now - timedelta(minutes=minute)), f"2016/03/b{minute}/", None, ())  # type: ignore[arg-type]
        for minute in range(1200)
    )
    recent = recent_entries(entries, now)
    assert len(recent) == 1000 and recent[0] is entries[0] and recent[-1] is entries[999]
    items = [(e.path, e.briefing.title, e.briefing.date, "") for e in recent]
    assert len(lxml.etree.fromstring(news_sitemap(config, items)).findall(f"{{{SITEMAP_NS}}}url")) == 1000
    pages = [(f"p{n}/", None) for n in range(7)]
    views = dict(sitemap_views(pages, limit=5, news=now))
    assert [loc for loc, _ in views["sitemap.xml"].locations] == ["sitemap-1.xml", "sitemap-2.xml", "news-sitemap.xml"]
    assert [loc for loc, _ in dict(sitemap_views(pages, limit=5))["sitemap.xml"].locations][-1] == "sitemap-2.xml"


def briefing_at(moment: datetime) -> object:
    from briefings.content import Briefing, Source

    return Briefing("content/2016/x.md", "x", "A title", moment, True, "", Source("S"), "", "Global", (), "", 1)


def test_news_languages_are_iso_639_codes() -> None:
    assert [news_language(t) for t in ("en-GB", "pt-BR", "es", "zh-Hant", "zh-TW", "zh-Hans", "zh")] == [
        "en", "pt", "es", "zh-tw", "zh-tw", "zh-cn", "zh-cn",
    ]  # fmt: skip


class Hub(http.server.BaseHTTPRequestHandler):
    """A WebSub hub that records each publish request."""

    requests: ClassVar[list[dict[str, list[str]]]] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        assert self.headers["Content-Type"] == "application/x-www-form-urlencoded"
        self.requests.append(urllib.parse.parse_qs(self.rfile.read(length).decode()))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def hub() -> Iterator[tuple[str, list[dict[str, list[str]]]]]:
    Hub.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hub", Hub.requests
    server.shutdown()
    server.server_close()


def test_ping_tells_the_hub_of_exactly_the_feeds_that_changed(
    tmp_path: Path, hub: tuple[str, list[dict[str, list[str]]]], capsys: pytest.CaptureFixture[str]
) -> None:
    url, requests = hub
    root = make_archive(tmp_path / "archive", FILES, SITE_YAML + f"websub_hub: {url}\n")
    assert run(root, "--quiet") == 0
    atom = lxml.etree.parse(str(root / "_site/feed.xml")).getroot()
    assert atom.find("{http://www.w3.org/2005/Atom}link[@rel='hub']").get("href") == url
    assert '"hubs": [\n  {\n   "type": "WebSub",' in (root / "_site/feed.json").read_text()
    assert run(root, "ping") == 0  # the first deploy: recorded, nothing sent
    assert requests == [] and "recorded" in capsys.readouterr().out
    unrelated = root / "content/2016/unrelated.md"
    unrelated.write_text(unrelated.read_text().replace("title: Unrelated", "title: Unrelated, retitled"))
    assert run(root, "--quiet") == 0
    assert run(root, "ping") == 0
    topics = sorted(request["hub.url"][0] for request in requests)
    assert topics == [
        "https://example.org/feed.json",
        "https://example.org/feed.xml",
        "https://example.org/regions/europe/feed.xml",
        "https://example.org/tags/energy/feed.xml",
    ]
    assert all(request["hub.mode"] == ["publish"] and len(request) == 2 for request in requests)
    assert "Told http://127.0.0.1" in capsys.readouterr().out
    requests.clear()
    assert run(root, "--quiet") == 0 and run(root, "ping") == 0  # a deploy that changed nothing
    assert requests == []


def test_a_dead_hub_is_a_warning_and_the_feeds_are_sent_next_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("briefings.ping.RETRY_AFTER", 0.0)
    dead = "http://127.0.0.1:9/hub"  # the discard port: nothing listens
    root = make_archive(tmp_path / "archive", FILES, SITE_YAML + f"websub_hub: {dead}\n")
    assert run(root, "--quiet") == 0 and run(root, "ping") == 0
    feed = root / "content/2016/earlier.md"
    feed.write_text(feed.read_text().replace("title: Earlier", "title: Earlier, retitled"))
    assert run(root, "--quiet") == 0
    capsys.readouterr()
    assert run(root, "ping") == 0
    out, err = capsys.readouterr()
    assert f"warning: the hub {dead} could not be reached" in err
    assert "0 changed feeds" in out and "not sent (sent again next time)" in out
    record = (root / ".cache/websub.json").read_text()
    assert run(root, "ping") == 0 and "could not be reached" in capsys.readouterr().err  # still owed
    assert (root / ".cache/websub.json").read_text() == record
