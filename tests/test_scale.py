"""Scale: lean feeds and their settings, pages that stay small as the archive grows, the sitemap
past 50,000 URLs, the size report, the body store, and writing pages as they are rendered."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from bench.generate import generate, write_archive
from briefings import pipeline, stages
from briefings.bodies import BodyStore
from briefings.errors import CacheDamaged
from briefings.feeds import sitemap, sitemap_index, sitemap_views
from briefings.keys import file_digest
from briefings.pages import site_pages
from briefings.records import RecordParser
from tests.conftest import REPO, SITE_YAML, briefing, build, make_archive, run
from tests.test_incremental import clean_build, no_processes_left, tree

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
FILES = {
    f"2016/b{n}.md": briefing(f"Briefing {n}", f"2016-0{1 + n % 3}-{10 + n}T10:00:00+03:00", "[Syria, Aleppo]")
    for n in range(6)
}


def test_by_default_the_site_feeds_carry_full_text_and_term_feeds_summaries(tmp_path: Path) -> None:
    site = build(make_archive(tmp_path / "a", FILES))
    site_feed, tag_feed = feedparser.parse(site / "feed.xml"), feedparser.parse(site / "tags/syria/feed.xml")
    assert len(site_feed.entries) == 6 and all(e.content[0].value.startswith("<p>") for e in site_feed.entries)
    assert len(tag_feed.entries) == 6 and not any("content" in e for e in tag_feed.entries)
    assert all(e.summary.startswith("A short summary of") for e in tag_feed.entries)


def test_feed_settings_choose_how_many_entries_and_which_feeds_carry_full_text(tmp_path: Path) -> None:
    settings = "feeds:\n  entries: 2\n  term_entries: 1\n  full_text: all\n"
    site = build(make_archive(tmp_path / "all", FILES, SITE_YAML + settings))
    site_feed, tag_feed = feedparser.parse(site / "feed.xml"), feedparser.parse(site / "tags/syria/feed.xml")
    assert [e.title for e in site_feed.entries] == ["Briefing 5", "Briefing 2"]  # newest first
    assert [e.title for e in tag_feed.entries] == ["Briefing 5"] and "content" in tag_feed.entries[0]
    site = build(make_archive(tmp_path / "none", FILES, SITE_YAML + "feeds:\n  full_text: none\n"))
    assert not any("content" in e for e in feedparser.parse(site / "feed.xml").entries)
    items = json.loads((site / "feed.json").read_text())["items"]
    assert all("content_html" not in item and item["content_text"] == item["summary"] for item in items)


def test_a_wrong_feed_setting_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_archive(tmp_path / "a", FILES, SITE_YAML + "feeds:\n  full_text: everything\n  entries: 0\n")
    assert run(root) == 1
    err = capsys.readouterr().err
    assert 'site.yaml:16: full_text: "everything" is not a known full_text; use one of: site, all, none' in err
    assert "site.yaml:17: entries: expected a whole number from 1 to 1000" in err


def test_past_the_limit_the_sitemap_is_an_index_of_parts_at_the_root(tmp_path: Path) -> None:
    archive = pipeline.check(make_archive(tmp_path / "a", FILES)).archive
    pages = [(page.path, page.modified) for page in site_pages(archive)]
    views = sitemap_views(pages, limit=5)
    jobs = {path: (sitemap_index if view.index else sitemap)(archive.config, view.locations) for path, view in views}
    index = etree.fromstring(jobs["sitemap.xml"])
    assert index.tag == f"{SITEMAP}sitemapindex"
    parts = [loc.text for loc in index.iter(f"{SITEMAP}loc")]
    assert parts == [f"https://example.org/sitemap-{n}.xml" for n in range(1, len(jobs))]
    listed = []
    for number in range(1, len(jobs)):
        urls = [loc.text for loc in etree.fromstring(jobs[f"sitemap-{number}.xml"]).iter(f"{SITEMAP}loc")]
        assert 0 < len(urls) <= 5
        listed += urls
    assert listed == [archive.config.absolute(path) for path, _ in pages if path != "404.html"]
    assert [path for path, _ in sitemap_views(pages)] == ["sitemap.xml"]  # under the limit: one


def dense_archive(root: Path, count: int) -> Path:
    """An archive whose briefings all share one month, region, source and tags: every listing is long."""
    moment = "2016-03-01T{:02}:{:02}:00+03:00"
    files = {
        f"2016/b{n:04}.md": briefing(f"Briefing number {n:04}", moment.format(n // 60, n % 60), "[Syria, Aleppo]")
        for n in range(count)
    }
    return make_archive(root, files, SITE_YAML.replace("per_page: 3", "per_page: 10"))


def largest_page(site: Path) -> tuple[int, str]:
    return max((file.stat().st_size, file.relative_to(site).as_posix()) for file in site.rglob("*.html"))


def test_no_page_grows_with_the_archive(tmp_path: Path) -> None:
    # Four times the briefings in one month, region, source and tags: every listing is paginated or
    # summarised, so the largest page stays the same size (a page that listed them all would grow 4x).
    small, small_page = largest_page(build(dense_archive(tmp_path / "small", 60)))
    large, large_page = largest_page(build(dense_archive(tmp_path / "large", 240)))
    assert large <= small * 1.05, (small_page, small, large_page, large)
    assert large < 20_000, large_page


def test_the_build_reports_the_size_of_the_site_by_kind(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_archive(tmp_path / "a", FILES)
    assert run(root, "--sizes") == 0
    out = capsys.readouterr().out.splitlines()
    rows = {line.split()[0]: line.split() for line in out if line.startswith("  ")}
    files = [f for f in (root / "_site").rglob("*") if f.is_file()]
    assert int(rows["total"][1].replace(",", "")) == len(files)
    assert int(rows["briefings"][1]) == 6
    total = sum(f.stat().st_size for f in files)
    assert f"the site is {total / 1000:.1f} kB in {len(files)} files" in out[0]
    assert run(root, "--sizes") == 0  # nothing changed: the same report, from the recorded state
    assert capsys.readouterr().out.splitlines()[1:] == out[1:]


def test_a_lost_or_broken_body_store_only_costs_a_rebuild(tmp_path: Path) -> None:
    root = make_archive(tmp_path / "a", FILES)
    expected = tree(build(root))
    store = root / ".cache" / "bodies.sqlite"
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT count(*) FROM bodies").fetchone() == (6,)
    for damage in (store.unlink, lambda: store.write_bytes(b"not a database")):
        damage()
        (root / "content/2016/b1.md").write_text(briefing("Briefing 1 again", "2016-02-11T10:00:00+03:00"))
        assert tree(build(root)) == clean_build(root, tmp_path / "clean")
    assert tree(build(root)) != expected  # the edit is in


def test_the_body_store_holds_the_bodies_of_the_files_there_are_build_after_build(tmp_path: Path) -> None:
    root = make_archive(tmp_path / "a", FILES)

    def stored() -> set[str]:
        with contextlib.closing(sqlite3.connect(root / ".cache" / "bodies.sqlite")) as db:
            return {digest for (digest,) in db.execute("SELECT digest FROM bodies")}

    def files() -> set[str]:
        return {file_digest(path.read_bytes()) for path in (root / "content").rglob("*.md")}

    build(root)
    assert stored() == files()
    (root / "content/2016/b1.md").write_text(briefing("Briefing 1 again", "2016-02-11T10:00:00+03:00"))
    (root / "content/2016/b2.md").unlink()
    (root / "content/2016/b9.md").write_text(briefing("Briefing 9", "2016-03-19T10:00:00+03:00"))
    build(root)  # one body changed, one gone, one new: the store put two and deleted two
    assert stored() == files()
    (root / "content/2016/b1.md").write_text(FILES["2016/b1.md"])  # back as it was: its old body again
    build(root)
    assert stored() == files()


def test_the_body_store_answers_its_digests_as_its_rows_are_after_puts_and_deletes(tmp_path: Path) -> None:
    """A build asks the store for its digests before parsing and once planned: read once, the
    answer is kept true as the store puts and deletes bodies, and is what its rows hold."""
    store = BodyStore(tmp_path / "bodies.sqlite", "stamp", b"k" * 32)
    store.put([("a", "<p>A</p>", "a"), ("b", "<p>B</p>", "b")])
    assert store.digests() == {"a", "b"}
    store.put([("c", "<p>C</p>", "c")])
    store.keep_only({"a", "c"})
    assert store.digests() == {"a", "c"}
    store.close()
    with contextlib.closing(sqlite3.connect(tmp_path / "bodies.sqlite")) as db:
        assert {digest for (digest,) in db.execute("SELECT digest FROM bodies")} == {"a", "c"}
    assert BodyStore(tmp_path / "bodies.sqlite", "stamp", b"k" * 32).digests() == {"a", "c"}


def test_the_body_store_digests_read_ahead_are_its_rows_and_a_damaged_store_is_said_as_ever(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read ahead in a thread (`read_digests_ahead`), the digests are what the rows hold, the
    store's own connection asked nothing; none stored, none; a store SQLite cannot read is read
    again where they are asked for, which says it is damaged."""
    file = tmp_path / "bodies.sqlite"
    BodyStore(file, "stamp", b"k" * 32).put([(f"{n:032x}", "<p>A</p>", "a") for n in range(1000)])
    store = BodyStore(file, "stamp", b"k" * 32)
    store.read_digests_ahead()
    monkeypatch.setattr(store, "_db", lambda: pytest.fail("read again, not ahead"))
    assert store.digests() == {f"{n:032x}" for n in range(1000)}
    monkeypatch.undo()
    empty = BodyStore(tmp_path / "empty.sqlite", "stamp", b"k" * 32)
    empty.read_digests_ahead()
    assert empty.digests() == set()
    damaged = BodyStore(file, "stamp", b"k" * 32)
    file.write_bytes(b"not a database" * 1000)
    damaged.read_digests_ahead()
    damaged.finish_reading_ahead()
    with pytest.raises(CacheDamaged, match=r"bodies\.sqlite: file is not a database"):
        damaged.digests()


def test_a_build_without_the_cache_removes_its_temporary_body_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    temporary = tmp_path / "tmp"  # its own: other tests' builds make and remove stores in the shared one
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    root = make_archive(tmp_path / "a", FILES)
    build(root, "--no-cache")
    assert not list(temporary.iterdir())
    assert not (root / ".cache").exists()


def test_a_build_killed_while_writing_pages_leaves_the_old_site_whole(tmp_path: Path) -> None:
    # Pages are written as they are rendered, into the spare folder: kill the build once the spare
    # holds some new pages but not all, and `_site/` must still be the old site, every byte of it.
    root = tmp_path / "archive"
    write_archive(root, generate(400, seed=3))
    old = tree(build(root))
    base = root / "templates" / "base.html"
    base.write_text(base.read_text().replace("</body>", "<!-- new -->\n</body>"))  # every page changes
    new = {name: data.replace(b"</body>", b"<!-- new -->\n</body>") for name, data in old.items()}
    spare = root / ".cache" / "spare_site"
    build_command = [sys.executable, str(REPO / "build.py"), "--quiet", "--root", str(root)]
    process = subprocess.Popen(build_command)
    written = 0
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        written = _new_pages(spare)
        if written >= 50:
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.005)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the build ended before enough pages were written"
    total = sum(1 for name in new if name.endswith(".html"))
    assert 50 <= _new_pages(spare) < total  # it was killed mid-write
    assert no_processes_left(root)
    assert tree(root / "_site") == old
    assert tree(build(root)) == new


def _new_pages(folder: Path) -> int:
    """Count the pages in a folder that already carry the new template's mark."""
    count = 0
    for parent, _, names in os.walk(folder):
        for name in names:
            if name.endswith(".html"):
                try:
                    with open(os.path.join(parent, name), "rb") as file:  # noqa: PTH118, PTH123
                        count += b"<!-- new -->" in file.read()
                except OSError:
                    continue  # replaced while we looked
    return count


def test_a_file_gone_between_listing_and_parsing_is_an_error_not_a_crash(tmp_path: Path) -> None:
    # Files are digested when listed and read again when parsed (memory never holds the archive's
    # text); one deleted in between, say by a `git checkout` during a preview build, is reported.
    root = make_archive(tmp_path / "a", FILES)
    parser = RecordParser(pipeline.load_config_for(root, pipeline.Options()).parsing)
    record, html = stages._parse(parser, root, "content/2016/gone.md", "0" * 32)
    assert html is None and record.briefing is None
    assert [str(e) for e in record.errors] == [
        "content/2016/gone.md: cannot be read (No such file or directory); build again once it is in place"
    ]
