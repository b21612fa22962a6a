"""Incremental builds: after any sequence of changes, the output equals a clean build, byte for byte."""

from __future__ import annotations

import contextlib
import io
import operator
import os
import pickle
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bench.generate import generate, write_archive
from briefings import archive, feeds, keys, pages, pipeline, plan, records, search, sources, stages, urls, write
from briefings import cache as cache_module
from briefings.cache import Cache, _shard, changes
from briefings.config import parse_config
from briefings.content import Source
from briefings.errors import BuildFailed
from briefings.pages import PagesByPath, given_way_pages, moved_pages, site_pages
from briefings.records import Record, RecordParser
from briefings.search import term_key
from briefings.workers import ChildFailed
from tests.conftest import REPO, briefing, build, make_archive, run

TAGS = ("Syria", "Russia", "Aleppo", "ISIS", "Energy", "Elections")


def tree(folder: Path) -> dict[str, bytes]:
    """Return every file under a folder by relative path, with its bytes."""
    return {f.relative_to(folder).as_posix(): f.read_bytes() for f in sorted(folder.rglob("*")) if f.is_file()}


def inputs(root: Path) -> dict[str, bytes]:
    """Return the archive's inputs (not its output or cache)."""
    return {k: v for k, v in tree(root).items() if not k.startswith(("_site/", ".cache/"))}


def clean_build(root: Path, scratch: Path) -> dict[str, bytes]:
    """Copy the archive's inputs to a new folder and build it from nothing (without a cache: none
    to start from, and none to keep)."""
    copy_inputs(root, scratch)
    return tree(build(scratch, "--no-cache"))


def clean_site_and_model(root: Path, scratch: Path) -> tuple[dict[str, bytes], archive.Archive | None]:
    """Copy the archive's inputs to a new folder and build it without a cache: its site and model."""
    copy_inputs(root, scratch)
    report = pipeline.build(scratch, pipeline.Options(cache=False))
    return tree(scratch / "_site"), report.archive


def clean_model(root: Path) -> archive.Archive:
    """Return the model a clean build of the archive makes, without writing its site: planning
    and building make it in one stage (`stages.load_and_plan`); writing is most of a small
    build's time (compiling every template)."""
    return pipeline.plan(root, pipeline.Options(cache=False))[0]


def copy_inputs(root: Path, scratch: Path) -> None:
    """Make `scratch` hold the archive's inputs alone."""
    if scratch.exists():
        shutil.rmtree(scratch)
    for name, data in inputs(root).items():
        (scratch / name).parent.mkdir(parents=True, exist_ok=True)
        (scratch / name).write_bytes(data)


def text(number: int, tags: list[str], day: int = 1, body: str = "Body text.", title: str = "") -> str:
    return briefing(
        title or f"Briefing {number}",
        f"2016-03-{day:02d}T10:00:00+03:00",
        "[" + ", ".join(tags) + "]",
        "Middle East" if number % 2 else "Europe",
        body=body,
    )


def test_a_rebuild_writes_only_files_whose_bytes_changed(tmp_path: Path) -> None:
    files = {f"2016/briefing-{n}.md": text(n, [TAGS[n % 3]], day=n + 1) for n in range(6)}
    root = make_archive(tmp_path / "a", files)
    site = build(root)
    stamps = {name: (site / name).stat().st_mtime_ns for name in tree(site)}
    target = root / "content" / "2016" / "briefing-2.md"
    target.write_text(target.read_text().replace("Body text.", "A corrected body."))
    build(root)
    changed = {name for name in tree(site) if (site / name).stat().st_mtime_ns != stamps.get(name)}
    # Its page and the site feeds, which carry its body; no listing or per-term feed shows the body.
    assert {name for name in changed if not name.startswith("search/")} == {
        "2016/03/briefing-2/index.html",
        "feed.xml",
        "feed.json",
    }
    # In the search index, only the shards of the words it lost or gained ("text"; "a", "corrected").
    assert {name for name in changed if name.startswith("search/")} <= {
        f"search/t/{term_key(word)}.json" for word in ("text", "a", "corrected")
    } | {"search/index.json"}


def test_an_edit_rewrites_one_small_file_of_cached_records(tmp_path: Path) -> None:
    """Records are kept in up to 16 files per content folder: at 10,000 briefings a folder, an
    edit rewrites a sixteenth of it, and no single load holds the interpreter for long."""
    files = {f"2016/briefing-{n}.md": text(n, [TAGS[n % 3]], day=n % 28 + 1) for n in range(60)}
    root = make_archive(tmp_path / "a", files)
    build(root)
    shards = root / ".cache" / "records"
    stamps = {shard.name: shard.stat().st_mtime_ns for shard in shards.iterdir()}
    assert 8 <= len(stamps) <= 16
    target = root / "content" / "2016" / "briefing-7.md"
    target.write_text(target.read_text().replace("Body text.", "A corrected body."))
    build(root)
    assert sum(shard.stat().st_mtime_ns != stamps[shard.name] for shard in shards.iterdir()) == 1
    assert tree(root / "_site") == clean_build(root, tmp_path / "clean")


def test_an_edit_saves_the_rows_it_changed_in_the_state_the_digests_the_postings_and_the_record_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The output folders' state (216,000 files at 100,000 briefings), the files' digests, the
    search index's postings and the records' index took 0.1 to 0.5 s each to save whole after
    each edit: an edit saves the rows it changed beside them, and the next build reads both. Edits that go back
    and forth reach files the spare folder holds an older version of, and add and remove words
    in shards of the index that other words are in ("textile" beside "text", "bodywork" beside
    "body"): what is read back must be what was saved."""
    monkeypatch.setattr(sources, "SETTLED_NS", 0)  # as if every file had been written long ago: digests kept
    files = {f"2016/briefing-{n}.md": text(n, [TAGS[n % 3]], day=n % 28 + 1) for n in range(60)}
    root = make_archive(tmp_path / "a", files)
    build(root)
    cached, target = root / ".cache", root / "content" / "2016" / "briefing-7.md"
    original = target.read_text()
    target.write_text(original.replace("Body text.", "Body textile."))
    build(root)  # the spare folder was empty: its state changed whole, and is saved whole
    whole = {
        f"{name}.pickle": (cached / f"{name}.pickle").read_bytes()
        for name in ("outputs_site", "digests", "postings", "records")
    }
    for body in ("Body bodywork.", "Body text.", "Body textile.", "Body bodywork."):
        target.write_text(original.replace("Body text.", body))
        page = (build(root) / "2016" / "03" / "briefing-7" / "index.html").read_text()
        assert body in page
        assert {name: (cached / name).read_bytes() for name in whole} == whole
        assert all((cached / name.replace(".pickle", ".since.pickle")).is_file() for name in whole)
    assert tree(root / "_site") == clean_build(root, tmp_path / "clean")


@pytest.mark.parametrize("edited", [1, 2, 6])  # up to archive.SAME_PASSES, the related lists are searched by identity
def test_a_model_patched_with_edits_equals_the_one_made_from_the_edited_files(tmp_path: Path, edited: int) -> None:
    """`with_edits` finds the old entries, and the listings and related lists holding them, in
    passes that run in C (by bisection in listings, in the archive's order): what it gives is
    the model made afresh, for one edit and for several."""
    files = {f"2016/b{n:02d}.md": text(n, [TAGS[n % 6], TAGS[(n + 1) % 6]], day=n % 28 + 1) for n in range(40)}
    root = make_archive(tmp_path / "a", files)
    before = clean_model(root)
    changed = [f"content/2016/b{n:02d}.md" for n in range(3, 40, 40 // edited)][:edited]
    for path in changed:
        (root / path).write_text((root / path).read_text().replace("Body text.", "A corrected body."))
    after = clean_model(root)
    assert before != after
    edits = archive.entries_of(after, set(changed))
    assert len(edits) == edited
    patched = archive.with_edits(before, edits, after.entries[0].briefing.date)
    assert patched is not None
    assert replace(patched, recent=after.recent) == after
    held = {id(entry) for listed in after.related.values() for entry in listed}
    assert all(id(entry) in held for entry in edits.values())  # so related lists were patched too


def test_kept_tables_save_their_changes_while_few_and_are_saved_whole_again_when_many(tmp_path: Path) -> None:
    first = Cache(tmp_path, engine="test")
    rows = {f"row {n}": (n, "as made") for n in range(100)}
    first.remember_tables("t", "inputs", (rows,), "extra 0")
    whole = (tmp_path / ".cache" / "t.pickle").read_bytes()
    second = Cache(tmp_path, engine="test")
    recalled = second.recall_tables("t", "inputs")
    assert recalled == ((rows,), "extra 0")
    (table,), _ = recalled
    table["row 1"] = (1, "changed")  # the caller's own dict: changing it changes nothing kept
    del table["row 2"]
    table["row 100"] = (100, "added")
    second.remember_tables("t", "inputs", (table,), "extra 1")
    assert (tmp_path / ".cache" / "t.pickle").read_bytes() == whole
    third = Cache(tmp_path, engine="test")
    assert third.recall_tables("t", "other inputs") is None
    assert third.recall_tables("t", "inputs") == ((table,), "extra 1")
    many = dict.fromkeys(table, (0, "all changed"))
    third.remember_tables("t", "inputs", (many,), "extra 2")
    assert not (tmp_path / ".cache" / "t.since.pickle").exists()
    assert Cache(tmp_path, engine="test").recall_tables("t", "inputs") == ((many,), "extra 2")


@pytest.mark.parametrize(
    ("now", "changed", "removed"),
    [
        ({"a": 1, "b": 2, "c": 3}, {}, set()),
        ({"a": 1, "b": 2, "c": 3, "d": 4}, {"d": 4}, set()),  # added only: no set of every key taken
        ({"a": 1, "c": 3}, {}, {"b"}),
        ({"a": 1, "c": 3, "d": 4}, {"d": 4}, {"b"}),  # as many added as removed: the lengths are equal
        ({"a": 1, "b": 20, "c": 3}, {"b": 20}, set()),
    ],
)
def test_the_changes_between_tables_are_the_rows_added_or_changed_and_the_keys_removed(
    now: dict[str, int], changed: dict[str, int], removed: set[str]
) -> None:
    assert changes({"a": 1, "b": 2, "c": 3}, now) == (changed, removed)


rows = st.dictionaries(st.sampled_from("abcdefgh"), st.one_of(st.none(), st.tuples(st.integers(0, 3))), max_size=8)


@given(rows, rows, st.sets(st.sampled_from("abcdefgh")))
def test_changes_are_found_whether_rows_are_shared_copied_or_none(
    base: dict[str, Any], now: dict[str, Any], shared: set[str]
) -> None:
    """`changes` looks at the rows that are not the same objects (`unlike`), found in C: rows equal
    but made anew, and None where a key is missing, are told apart as a plain comparison does."""
    now = {key: base[key] if key in shared and key in base else row for key, row in now.items()}
    expected = {key: row for key, row in now.items() if key not in base or base[key] != row}
    assert changes(base, now) == (expected, base.keys() - now.keys())


@given(
    rows,
    st.lists(st.one_of(st.none(), st.tuples(st.integers(0, 3))), min_size=8, max_size=8),
    st.sets(st.integers(0, 7)),
)
def test_changes_between_tables_of_the_same_keys_in_order_are_found_by_place(
    base: dict[str, Any], rows_now: list[Any], shared: set[int]
) -> None:
    """Where both tables list the same keys in the same order (an edit), `unlike` compares rows by
    place: what it finds is what a comparison key by key finds."""
    now = {key: row if place in shared else rows_now[place] for place, (key, row) in enumerate(base.items())}
    expected = {key: row for key, row in now.items() if base[key] != row}
    assert changes(base, now) == (expected, frozenset())


def test_cached_records_follow_files_removed_and_folders_emptied(tmp_path: Path) -> None:
    """Only the folders holding a changed or removed file are sorted into record files again:
    a removed file leaves its record file, a folder emptied leaves none of its own, and the
    records kept are exactly the files there are."""
    files = {
        f"{year}/briefing-{n}.md": text(n, [TAGS[n % 3]], day=n % 28 + 1).replace("2016-03-", f"{year}-03-")
        for year in (2015, 2016)
        for n in range(40)
    }
    root = make_archive(tmp_path / "a", files)
    build(root)
    shards = root / ".cache" / "records"

    def kept() -> set[str]:
        paths: set[str] = set()
        cache = Cache(root)
        for shard in shards.iterdir():
            stored = cache._load(f"records/{shard.name}", parse_config((root / "site.yaml").read_text()).parsing)
            assert isinstance(stored, dict), shard.name
            paths |= stored.keys()
        return paths

    before = {shard.name for shard in shards.iterdir()}
    (root / "content" / "2016" / "briefing-3.md").unlink()
    build(root)
    assert kept() == {f"content/{name}" for name in files} - {"content/2016/briefing-3.md"}
    shutil.rmtree(root / "content" / "2015")
    build(root)
    assert kept() == {f"content/2016/briefing-{n}.md" for n in range(40)} - {"content/2016/briefing-3.md"}
    assert {shard.name for shard in shards.iterdir()} < before
    assert tree(root / "_site") == clean_build(root, tmp_path / "clean")


def linking_archive(root: Path) -> Path:
    """Return an archive of 28 briefings of 2016, no two at one instant (no ties in the order),
    in which briefing-5 links to briefing-9."""
    files = {f"2016/briefing-{n}.md": text(n, [TAGS[n % 3]], day=n + 1) for n in range(28)}
    files["2016/briefing-5.md"] = text(5, ["Syria"], day=6, body="See [the other](briefing-9.md).")
    return make_archive(root, files)


def test_an_edit_that_keeps_the_shape_loads_only_the_cached_records_it_links_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build whose edits keep the model's shape (a title) loads, of the cached records, only
    those of the files edited since the model was kept and of the briefings they link to
    (their URLs and headings are checked): the index of every record (`Summary`) decides the
    rest. So does a retag (the model is patched: `archive.with_terms`), unless it writes another
    country: then the model is made again from every record. Each build equals a clean one."""
    root = linking_archive(tmp_path / "a")
    build(root)  # the cache keeps the model it made: it kept none

    def retitle(number: int) -> None:
        file = root / "content" / "2016" / f"briefing-{number}.md"
        file.write_text(file.read_text().replace("title: ", "title: Edited ", 1))

    asked: list[list[str] | None] = []
    loading = Cache.load_records

    def spy(self: Cache, settings: object, paths: Any = None) -> dict[str, Record]:
        asked.append(None if paths is None else sorted(paths))
        return loading(self, settings, paths)

    monkeypatch.setattr(Cache, "load_records", spy)
    retitle(2)
    build(root)
    assert asked == []
    retitle(5)
    build(root)
    # briefing-2 was edited since the model was kept (its entry is patched again); 5 links to 9.
    assert asked == [["content/2016/briefing-2.md"], ["content/2016/briefing-9.md"]]
    assert tree(root / "_site") == clean_build(root, tmp_path / "clean")
    file = root / "content" / "2016" / "briefing-2.md"
    file.write_text(file.read_text().replace("tags: [Aleppo]", "tags: [Energy]"))
    build(root)
    assert asked[2:] == [["content/2016/briefing-5.md"], ["content/2016/briefing-9.md"]]
    assert tree(root / "_site") == clean_build(root, tmp_path / "clean")
    file = root / "content" / "2016" / "briefing-3.md"
    file.write_text(file.read_text().replace("tags: [Syria]", "tags: [Energy]"))  # a country's name given up
    build(root)
    edited = ["content/2016/briefing-2.md", "content/2016/briefing-5.md"]  # since the model was kept
    assert asked[4:] == [edited, ["content/2016/briefing-9.md"]]
    assert tree(root / "_site") == clean_build(root, tmp_path / "clean")
    file = root / "content" / "2016" / "briefing-4.md"
    file.write_text(file.read_text().replace("tags: [", "countries: [Turkey]\ntags: [", 1))
    build(root)
    edited = [*edited[:1], "content/2016/briefing-3.md", *edited[1:]]
    assert asked[6:] == [edited, ["content/2016/briefing-9.md"], None]
    assert tree(root / "_site") == clean_build(root, tmp_path / "clean")


def test_a_record_file_changed_behind_the_build_clears_the_cache(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Record files that do not hold what their index lists (two swapped, each still sealed by
    this cache) are damage: the cache is cleared, the build runs again without it, and says so."""
    root = linking_archive(tmp_path / "a")
    build(root)
    retitled = root / "content" / "2016" / "briefing-1.md"
    retitled.write_text(retitled.read_text().replace("title: ", "title: Edited ", 1))
    build(root)  # the model is kept: the next edit's build loads only briefing-9's record file
    shards = root / ".cache" / "records"
    target = shards / _shard("content/2016/briefing-9.md")
    other = next(shard for shard in shards.iterdir() if shard != target)
    swapped = other.read_bytes()
    other.write_bytes(target.read_bytes())
    target.write_bytes(swapped)
    linking = root / "content" / "2016" / "briefing-5.md"
    linking.write_text(linking.read_text().replace("title: ", "title: Edited ", 1))
    capsys.readouterr()
    assert run(root) == 0
    err = capsys.readouterr().err
    assert err == (
        ".cache/records: the record of content/2016/briefing-9.md is not the one the index lists: "
        "the cache was cleared and the build runs again without it\n"
    )
    assert tree(root / "_site") == clean_build(root, tmp_path / "clean")


def test_unchanged_files_are_not_read_again_and_an_edit_that_keeps_size_and_mtime_is_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources, "SETTLED_NS", 0)  # as if every file had been written long ago
    reads: list[str] = []
    real_read = sources.read_bytes
    monkeypatch.setattr(sources, "read_bytes", lambda file: reads.append(Path(file).name) or real_read(file))
    root = make_archive(tmp_path / "a", {f"2016/b{n}.md": text(n, [TAGS[n]]) for n in range(4)})
    build(root)
    assert sorted(reads) == ["b0.md", "b1.md", "b2.md", "b3.md"]  # a first build reads each file once, to parse it
    reads.clear()
    build(root)
    assert reads == []  # the signatures parsing recorded match: nothing is read, not even to digest it
    target = root / "content" / "2016" / "b2.md"
    before = target.stat()
    target.write_text(target.read_text().replace("Body text.", "Body test."))  # same size
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))  # and the same mtime, as a racy edit has
    site = build(root)
    assert "Body test." in (site / "2016" / "03" / "b2" / "index.html").read_text()
    assert "b2.md" in reads and "b0.md" not in reads  # its ctime changed: it alone was read


def test_the_signatures_recorded_follow_edits_removals_and_additions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each build records only what changed in the table of signatures and digests: a file read
    again is not read by the next build, one removed leaves the table, one added joins it, and
    the table always names exactly the files there are, with the digests of their bytes."""
    monkeypatch.setattr(sources, "SETTLED_NS", 0)  # as if every file had been written long ago
    reads: list[str] = []
    real_read = sources.read_bytes
    monkeypatch.setattr(sources, "read_bytes", lambda file: reads.append(Path(file).name) or real_read(file))
    root = make_archive(tmp_path / "a", {f"2016/b{n}.md": text(n, [TAGS[n]]) for n in range(4)})
    folder = root / "content" / "2016"

    def rebuilt() -> list[str]:
        reads.clear()
        build(root)
        kept = Cache(root).recall_tables(sources.DIGESTS, str(root.resolve()))
        assert kept is not None
        signatures, digests = kept[0]
        files = {f"content/2016/{file.name}": file for file in folder.iterdir()}
        assert signatures.keys() == digests.keys() == files.keys()
        assert all(digests[path] == keys.file_digest(file.read_bytes()) for path, file in files.items())
        return sorted(set(reads))  # (a file read to digest it is read again to parse it)

    build(root)
    assert rebuilt() == []
    (folder / "b2.md").write_text((folder / "b2.md").read_text().replace("Body text.", "Body edited."))
    assert rebuilt() == ["b2.md"]
    assert rebuilt() == []  # the edit's row was recorded
    (folder / "b3.md").unlink()
    assert rebuilt() == []
    (folder / "b4.md").write_text(text(4, [TAGS[0]]))
    assert rebuilt() == ["b4.md"]
    assert rebuilt() == []
    assert tree(root / "_site") == clean_build(root, tmp_path / "clean")


def test_a_briefing_that_is_a_link_is_read_every_time_its_target_may_have_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources, "SETTLED_NS", 0)  # as if every file had been written long ago
    root = make_archive(tmp_path / "a", {f"2016/b{n}.md": text(n, [TAGS[n]]) for n in range(3)})
    target = root / "content" / "2016" / ".b1.real"  # hidden: not an asset, not a briefing
    (root / "content" / "2016" / "b1.md").rename(target)
    (root / "content" / "2016" / "b1.md").symlink_to(target.name)
    build(root)
    build(root)  # the link's own signature is now as it was: only the target can tell a change
    target.write_text(target.read_text().replace("Body text.", "Linked text."))
    site = build(root)
    assert "Linked text." in (site / "2016" / "03" / "b1" / "index.html").read_text()


def test_a_file_changed_just_before_a_build_is_read_by_the_next_one_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[str] = []
    parsed: list[str] = []
    real_read, real_parse = sources.read_bytes, stages._parse
    monkeypatch.setattr(sources, "read_bytes", lambda file: reads.append(Path(file).name) or real_read(file))
    monkeypatch.setattr(stages, "_parse", lambda p, r, path, d: parsed.append(path) or real_parse(p, r, path, d))
    root = make_archive(tmp_path / "a", {"2016/b0.md": text(0, [TAGS[0]])})
    build(root)
    reads.clear()
    parsed.clear()
    build(root)  # written a moment ago: an edit in the same tick of the clock would keep its mtime
    assert reads == ["b0.md"]
    assert parsed == []  # read to digest it, which is the record's: not parsed again


def test_an_edit_updates_the_search_postings_and_reuses_related_briefings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[str] = []
    real_postings, real_related, real_listing = search._postings, archive.related_places, search._listing
    monkeypatch.setattr(search, "_postings", lambda *a: made.append("postings") or real_postings(*a))
    monkeypatch.setattr(archive, "related_places", lambda *a: made.append("related") or real_related(*a))
    monkeypatch.setattr(search, "_listing", lambda *a: made.append("facets") or real_listing(*a))
    files = {f"2016/b{n}.md": text(n, [TAGS[n % 3], TAGS[3]], day=n + 1) for n in range(6)}
    root = make_archive(tmp_path / "a", files)
    build(root)
    assert made == ["related", "postings", "facets"]

    def rebuilt() -> list[str]:
        made.clear()
        site = tree(build(root))
        remade = list(made)
        assert site == clean_build(root, tmp_path / "clean")
        return remade

    def edit(name: str, old: str, new: str) -> list[str]:
        file = root / "content" / "2016" / name
        assert old in file.read_text()
        file.write_text(file.read_text().replace(old, new, 1))
        return rebuilt()

    # Words gained and lost, a title: neither places nor moments nor tags move (nor the model's shape,
    # which decides the facets and documents).
    assert edit("b2.md", "Body text.", "Zanzibar ferry text.") == []
    assert edit("b3.md", "title: Briefing 3", "title: Ferry news") == []
    # New tags change the related lists and the facets. The search knows a briefing by its place
    # counted from the oldest: a new newest one moves no other, and the postings are updated; a
    # new oldest one moves them all, and they are renumbered; so are they for one removed.
    assert edit("b4.md", f"tags: [{TAGS[1]}, {TAGS[3]}]", f"tags: [{TAGS[5]}]") == ["related", "facets"]
    (root / "content" / "2016" / "b9.md").write_text(text(9, [TAGS[0]], day=28))
    assert rebuilt() == ["related", "facets"]
    (root / "content" / "2016" / "b10.md").write_text(text(10, [TAGS[0]], day=1))  # after b0 by title
    assert rebuilt() == ["related", "facets"]
    (root / "content" / "2016" / "b1.md").unlink()
    assert rebuilt() == ["related", "facets"]
    # Most briefings moved at once (their order reversed): made afresh.
    for n in range(2, 6):
        file = root / "content" / "2016" / f"b{n}.md"
        file.write_text(file.read_text().replace(f"2016-03-{n + 1:02d}", f"2016-03-{20 - n:02d}", 1))
    assert "postings" in rebuilt()


# An archive as `related_places` sees it: by file path, each briefing's (moment, tag slugs, title).
# Few moments and tags, so that ties, shared windows and the ends of windows all occur.
ENTRY = st.tuples(st.integers(0, 12).map(float), st.lists(st.sampled_from("abc"), max_size=3), st.sampled_from("xyz"))
EDIT = st.tuples(st.sampled_from(["retag", "redate", "retitle", "add", "delete"]), st.integers(0, 999), ENTRY)


def ordered(found: dict[str, tuple[float, list[str], str]]) -> tuple[list[str], list[float], list[tuple[str, ...]]]:
    """Return paths, moments and tags in the archive's order: newest first, then by title, then by path."""
    paths = sorted(found, key=lambda path: (-found[path][0], found[path][2], path))
    return paths, [found[path][0] for path in paths], [tuple(found[path][1]) for path in paths]


def edited(
    found: dict[str, tuple[float, list[str], str]], edits: list[tuple[str, int, tuple[float, list[str], str]]]
) -> dict[str, tuple[float, list[str], str]]:
    """Return the archive `found` (as `ordered` reads it) with the edits made: each adds an entry,
    or picks one to delete, retag, redate or retitle."""
    found = dict(found)
    for n, (kind, pick, (moment, new_tags, title)) in enumerate(edits):
        path = sorted(found)[pick % len(found)] if found else None
        if kind == "add" or path is None:
            found[f"content/new-{n}.md"] = (moment, new_tags, title)
        elif kind == "delete":
            del found[path]
        else:
            was_moment, was_tags, was_title = found[path]
            changes = {"retag": (was_moment, new_tags, was_title), "redate": (moment, was_tags, was_title)}
            found[path] = changes.get(kind, (was_moment, was_tags, title))  # or retitled
    return found


@settings(max_examples=1000, deadline=None)
@given(st.lists(ENTRY, max_size=60), st.lists(EDIT, min_size=1, max_size=4))
def test_a_ranking_updated_around_the_changes_is_the_ranking_made_afresh(
    entries: list[tuple[float, list[str], str]], edits: list[tuple[str, int, tuple[float, list[str], str]]]
) -> None:
    found = {f"content/{n:03d}.md": (moment, tags, title) for n, (moment, tags, title) in enumerate(entries)}
    paths, moments, tags = ordered(found)
    before = archive.Ranking(paths, moments, tags, archive.related_places(moments, tags))
    paths, moments, tags = ordered(edited(found, edits))
    updated = archive.reranked(before, paths, moments, tags, most=1.0)
    retitled = any(kind == "retitle" for kind, *_ in edits)  # only a new title may reorder the unchanged
    assert updated == archive.related_places(moments, tags) or (updated is None and retitled)


@settings(max_examples=500, deadline=None)
@given(st.lists(ENTRY, max_size=40), st.lists(EDIT, min_size=1, max_size=4))
def test_the_old_columns_of_the_tags_of_entries_changed_or_gone_are_those_of_the_ranking_before(
    entries: list[tuple[float, list[str], str]], edits: list[tuple[str, int, tuple[float, list[str], str]]]
) -> None:
    """`archive._old_columns` finds the columns of the old tags of the entries changed or gone from
    the new columns and the entries' old places (`archive._moved`), where the entries that did not
    change kept their order: exactly those every old entry gives (`archive._tag_columns`), an
    entry that gives a tag twice in it twice."""
    found = {f"content/{n:03d}.md": (moment, tags, title) for n, (moment, tags, title) in enumerate(entries)}
    paths, moments, tags = ordered(found)
    before = archive.Ranking(paths, moments, tags, [])
    paths, moments, tags = ordered(edited(found, edits))
    new_of, changed, old_of = archive._moved(before, paths, moments, tags, None)
    kept = [index for index in new_of if index >= 0]
    assume(kept == sorted(kept))  # (else `_reranked` ranks all again: a new title broke a tie)
    gone = [o for o, index in enumerate(new_of) if index < 0]
    every = archive._tag_columns(before.tags)
    wanted = {slug: every[slug] for o in gone for slug in before.tags[o]}
    assert archive._old_columns(before, archive._tag_columns(tags), old_of, changed, gone) == wanted


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from("abc"), max_size=4).map(tuple), max_size=40))
def test_an_entrys_place_in_each_of_its_tags_columns_is_where_it_first_joined_it(tags: list[tuple[str, ...]]) -> None:
    """A place is found by bisection when asked (`archive._places`): the number of entries that joined
    that column before this one, the same for a slug it gives twice."""
    columns = archive._tag_columns(tags)
    joined: dict[str, int] = {}
    for index, slugs in enumerate(tags):
        assert archive._places(columns, index, slugs) == [(slug, joined.get(slug, 0)) for slug in slugs]
        for slug in slugs:
            joined[slug] = joined.get(slug, 0) + 1


# A briefing as a listing dates it: its moment (few, so that ties occur), its offset (a tie between
# two offsets is two different dates), and hours to its update and corrections (before it, too).
DATED = st.tuples(
    st.integers(0, 6),
    st.sampled_from([0, 1, -5]),
    st.none() | st.integers(-2, 8),
    st.lists(st.integers(-2, 8), max_size=2),
)


@settings(max_examples=500, deadline=None)
@given(st.lists(DATED, min_size=1, max_size=30), st.integers(0, 29), st.integers(1, 30))
def test_a_listing_page_is_dated_from_its_first_entry_and_its_revised_ones_as_from_all(
    dated: list[tuple[int, int, int | None, list[int]]], start: int, size: int
) -> None:
    """`archive.newest_in_order` gives a page of entries in the archive's order the very date
    `archive.newest` finds among all of them, reading only the first and the revised ones."""
    from briefings.content import Correction
    from briefings.kinds import KINDS
    from briefings.markdown import BodyRef
    from tests.test_content import parse

    made, _ = parse(briefing())
    assert made is not None
    entries = []
    for n, (hour, offset, updated, corrected) in enumerate(dated):
        date = datetime(2015, 9, 1, 10 + hour, tzinfo=UTC).astimezone(timezone(timedelta(hours=offset)))
        b = replace(
            made,
            path=f"content/2015/b{n}.md",
            title=f"Briefing {n}",
            date=date,
            updated=None if updated is None else date + timedelta(hours=updated),
            corrections=tuple(Correction(date + timedelta(hours=h), "Fixed.") for h in sorted(corrected, reverse=True)),
        )
        entries.append(archive.Entry(b, f"2015/09/b{n}/", BodyRef(str(n)), ((),) * len(KINDS)))
    entries.sort(key=lambda entry: archive.place_of(entry.briefing))
    shown = tuple(entries)[start : start + size]
    dated_in_order = archive.newest_in_order(archive.revised_ids(entries))
    assert dated_in_order(shown) is archive.newest(shown)


def test_a_retag_ranks_again_only_the_entries_near_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Counted: one briefing retagged in 400 ranks a few dozen again, and the rest keep their lists."""
    found = {f"content/{n:03d}.md": (float(n // 2), [TAGS[n % 6], TAGS[n % 4]], "t") for n in range(400)}
    paths, moments, tags = ordered(found)
    before = archive.Ranking(paths, moments, tags, archive.related_places(moments, tags))
    found["content/123.md"] = (61.0, [TAGS[5], "Retagged"], "t")
    paths, moments, tags = ordered(found)
    ranked: list[int] = []
    real = archive._related
    monkeypatch.setattr(archive, "_related", lambda index, *a: ranked.append(index) or real(index, *a))
    assert archive.reranked(before, paths, moments, tags) == archive.related_places(moments, tags)
    assert paths.index("content/123.md") in ranked[:60] and 0 < len(ranked) - 400 < 60


def test_a_retag_in_a_larger_archive_ranks_again_only_the_briefings_near_it_and_equals_a_clean_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tags = [[TAGS[n % 6], f"Topic {n % 5}"] for n in range(60)]
    files = {f"2016/b{n:02d}.md": text(n, tags[n], day=n % 28 + 1) for n in range(60)}
    root = make_archive(tmp_path / "a", files)
    build(root)
    ranked: list[int] = []
    real = archive._related
    monkeypatch.setattr(archive, "_related", lambda index, *a: ranked.append(index) or real(index, *a))
    file = root / "content" / "2016" / "b30.md"
    file.write_text(file.read_text().replace("[" + ", ".join(tags[30]) + "]", f"[{TAGS[5]}, Retagged]"))
    site = tree(build(root))
    assert 0 < len(ranked) < 30  # the others keep their lists
    assert site == clean_build(root, tmp_path / "clean")
    ranked.clear()
    (root / "content" / "2016" / "b60.md").write_text(text(60, [TAGS[2]], day=14))  # every older one moves a place
    site = tree(build(root))
    assert 0 < len(ranked) < 30  # at their new places
    assert site == clean_build(root, tmp_path / "clean")


def test_a_one_edit_rebuild_plans_again_only_the_outputs_that_show_the_briefing(tmp_path: Path) -> None:
    """Counted, not timed: an edit to what pages only show (a title) keys again the outputs that show
    that briefing, and those that show none (the indexes: they may show what every briefing
    gives) but the sitemap, whose pages' dates did not change; every other output keeps the
    key the last plan gave it."""
    titles = [f"Title {n:02d} of forty" for n in range(40)]
    tags = [[TAGS[n % 6], f"Topic {n % 7}"] for n in range(40)]
    files = {f"2016/b{n:02d}.md": text(n, tags[n], day=n % 28 + 1, title=titles[n]) for n in range(40)}
    root = make_archive(tmp_path / "a", files)
    first = pipeline.build(root)
    # A plan of the same shape again: the first build found what each output holds as it keyed
    # it, so this one keys again only outputs that hold no briefing (no date changed: not the sitemap).
    _, planned, _ = pipeline.plan(root, pipeline.Options())
    views = {p.path for p in planned if p.group not in ("static", "search", "media") and p.origin != "build"}
    assert first.replanned is not None and views <= first.replanned  # a first build plans every output
    again = {p.path for p in planned if not p.reused} & views
    assert "timeline/index.html" in again and not again & {"index.html", "sitemap.xml", "2016/index.html"}

    file = root / "content" / "2016" / "b17.md"
    file.write_text(file.read_text().replace(titles[17], "Renamed seventeen"))
    report = pipeline.build(root)
    site = tree(root / "_site")
    assert site == clean_build(root, tmp_path / "clean")
    showing = {path for path in views if b"Renamed seventeen" in site[path]}
    showing_none = {path for path in views if not any(t.encode() in site[path] for t in titles[:17] + titles[18:])}
    assert report.replanned is not None
    assert "sitemap.xml" in showing_none
    assert report.replanned & views == (showing | showing_none) - {"sitemap.xml"}
    assert len(showing) >= 8 and len(showing | showing_none) < len(views) / 3, (len(showing), len(views))


def test_a_site_made_from_the_plan_an_edit_recalls_is_brought_up_to_it_from_the_fresh_outputs_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the live site was made from the plan a build recalls, the writer finds what to make and
    remove, and the site's sizes, from the two plans' fresh outputs alone, not from every kept
    output (counted: `_stale_kept` is not asked); a search index file no longer planned goes; the
    site and its sizes are a clean build's. A build whose site was made otherwise looks at every output."""
    files: dict[str, str | bytes] = {f"2016/b{n:02d}.md": text(n, [TAGS[n % 6]], day=n % 28 + 1) for n in range(12)}
    root = make_archive(tmp_path / "a", files)
    looked_at_all = []
    stale_kept = write._stale_kept
    monkeypatch.setattr(write, "_stale_kept", lambda *a: looked_at_all.append(1) or stale_kept(*a))

    def rebuilt(change: Callable[[], object]) -> bool:
        """Change the archive and build it, as a clean build would; return whether every kept output was looked at."""
        change()
        looked_at_all.clear()
        sizes = pipeline.build(root).written.sizes
        looked = bool(looked_at_all)
        clean = tmp_path / "clean"
        copy_inputs(root, clean)
        assert sizes == pipeline.build(clean, pipeline.Options(cache=False)).written.sizes
        assert tree(root / "_site") == tree(clean / "_site")
        return looked

    def retitle(number: int, title: str) -> Callable[[], object]:
        file = root / "content" / "2016" / f"b{number:02d}.md"
        return lambda: file.write_text(re.sub(r"(?m)^title: .*$", f"title: {title}", file.read_text()))

    assert rebuilt(lambda: None)  # a cold build: nothing recalled
    assert rebuilt(retitle(3, "A new title"))  # (a cold build's plan is kept apart: the first edit does not know it)
    assert not rebuilt(retitle(3, "Another title"))
    assert not rebuilt(retitle(5, "Zanzibar"))
    shard = root / "_site" / "search" / "t" / f"{search.term_key('zanzibar')}.json"
    assert shard.is_file()
    assert not rebuilt(retitle(5, "A title"))  # the word's shard of the search index, planned afresh, goes
    assert not shard.exists()
    assert not rebuilt(lambda: None)
    # The state names the plan its site was made from: a state that names none, the next build looks at all.
    state = Cache(root).load_outputs("_site")
    assert state.plan
    Cache(root).save_outputs("_site", replace(state, plan=b""))
    assert rebuilt(retitle(5, "Its title once more"))
    assert not rebuilt(retitle(5, "And again"))


def test_a_warm_build_patches_the_model_unless_an_edit_moves_a_briefing_in_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted, not timed: a build given what the last one left (`stages.Warm`, as the preview
    does) patches the model for an edit to what pages only show or to the names a briefing is
    listed under, or for one that moves a briefing (a new date: it leaves the model, then joins
    it anew), and makes it again for a title that breaks a tie in the order the other way."""
    made: list[int] = []
    real = stages.model_archive
    monkeypatch.setattr(stages, "model_archive", lambda *a: made.append(1) or real(*a))
    files = {f"2016/b{n}.md": text(n, [TAGS[n % 3]], day=max(n, 1), title=f"B{n} briefing") for n in range(6)}
    root = make_archive(tmp_path / "a", files)  # b0 and b1 share a moment: b0's title places it first
    warm = pipeline.build(root).warm

    def made_for(name: str, old: str, new: str) -> int:
        nonlocal warm
        made.clear()
        file = root / "content" / "2016" / name
        file.write_text(file.read_text().replace(old, new, 1))
        report = pipeline.build(root, warm=warm)
        warm, count = report.warm, len(made)
        assert tree(root / "_site") == clean_build(root, tmp_path / "clean"), f"{name}: {old} -> {new}"
        return count

    assert made_for("b3.md", "B3 briefing", "Ferry news") == 0
    assert made_for("b3.md", "Body text.", "Zanzibar ferry text.") == 0
    assert made_for("b0.md", "B0 briefing", "A0 briefing") == 0  # still first of the two
    assert made_for("b0.md", "A0 briefing", "C0 briefing") == 1  # now after b1
    assert made_for("b4.md", f"tags: [{TAGS[1]}]", f"tags: [{TAGS[2]}]") == 0  # a retag: patched too
    assert made_for("b4.md", "2016-03-04T", "2016-03-25T") == 0  # a date: the briefing moves
    assert made_for("b4.md", "B4 briefing", "Oil news") == 0


def named(number: int, tags: str, region: str = "Europe", source: str = "TRT World", extra: str = "") -> str:
    """Return a briefing of March 2016 (one a day: no two at one instant) with these names."""
    return briefing(f"Briefing {number}", f"2016-03-{number + 1:02d}T10:00:00+03:00", tags, region, source, extra)


NAMED = {
    **{f"2016/b{n:02d}.md": named(n, f"[{('Energy', 'Elections', 'Aleppo', 'Oil')[n % 4]}, Rail]") for n in range(20)},
    "2016/b04.md": named(4, "[Energy, Oil]"),
    "2016/b06.md": named(6, "[Elections, Solar]"),  # the one briefing tagged Solar
    "2016/b08.md": named(8, "[Energy, Rail]", extra="story: Grid crisis\n"),
    "2016/b09.md": named(9, "[Oil, Rail]", source="{name: Reuters, url: 'https://www.reuters.com/'}"),
}
# (file number, text before, text after, whether the model is patched): every kind of name a
# retag changes, and the changes that make the model again (a country written, a term's
# spelling changed).
RENAMES = [
    (4, "[Energy, Oil]", "[Energy, Aleppo]", True),
    (4, "[Energy, Aleppo]", "[Energy, Shipping]", True),  # a new tag: its term is made
    (6, "[Elections, Solar]", "[Elections, Rail]", True),  # Solar's last briefing: its term goes
    (5, "region: Europe", "region: Middle East", True),
    (7, "source: TRT World", "source: Reuters", True),  # the source's link is worked out again
    (9, "url: 'https://www.reuters.com/'", "url: 'https://www.reuters.com/world/'", True),
    (8, "story: Grid crisis", "story: Grid crisis, later", True),
    (10, "[Aleppo, Rail]", "[Aleppo, Rail, Storms]", True),
    (11, "[Oil, Rail]", "[Oil, Russia]", True),  # a country's name: given way, listed as the country
    (15, "[Oil, Rail]", "[Oil, Russia]", True),  # the newest to give it
    (11, "[Oil, Russia]", "[Oil, Rail]", True),
    (15, "[Oil, Russia]", "[Oil, Rail]", True),  # no longer given
    (16, "[Energy, Rail]", "[Energy, Rail]\ncountries: [Turkey]", False),  # a country written: made again
    (12, "[Energy, Rail]", "[energy, Rail]", True),  # another spelling of a term: listed as the term
    (14, "[Aleppo, Rail]", "[Aleppo, Rail, storms]", True),  # as often as "Storms": that spelling, A-Z first
    (10, "[Aleppo, Rail, Storms]", "[Aleppo, Rail, storms]", False),  # the term's spelling changes
    (13, "[Elections, Rail]", "[Elections, Rail, Ports]", True),
]


def test_a_retag_patches_the_model_of_the_last_build_as_the_full_build_makes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted, not timed: a build given what the last one left (the preview's) patches the model
    for an edit to the names a briefing is listed under, of every kind (`archive.with_terms`):
    a tag, a new tag, a tag's last briefing gone, a region, a source and its link, a story. The
    model is the one a clean build makes (the terms, each term's spelling, the related briefings,
    how often each name is given, the names given way), and so is the site. A country written,
    or a name that changes how a term is spelt, makes the model again."""
    made: list[int] = []
    real = stages.model_archive
    monkeypatch.setattr(stages, "model_archive", lambda *a: made.append(1) or real(*a))
    root = make_archive(tmp_path / "a", NAMED)
    warm = pipeline.build(root).warm
    for number, old, new, patched in RENAMES:
        made.clear()
        file = root / "content" / "2016" / f"b{number:02d}.md"
        assert old in file.read_text(), (number, old)
        file.write_text(file.read_text().replace(old, new, 1))
        report = pipeline.build(root, warm=warm)
        assert report.warm is not None
        warm = report.warm
        assert bool(made) != patched, (number, new)
        assert (tree(root / "_site"), report.archive) == clean_site_and_model(root, tmp_path / "clean"), (number, new)


def test_retags_of_several_briefings_in_one_build_patch_the_model_as_a_clean_build_makes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted: two briefings retagged since the last build, both into a tag no briefing had and
    one out of another's last place, with a title edit beside them, patch the model once; the
    model and the site are a clean build's."""
    made: list[int] = []
    real = stages.model_archive
    monkeypatch.setattr(stages, "model_archive", lambda *a: made.append(1) or real(*a))
    root = make_archive(tmp_path / "a", NAMED)
    warm = pipeline.build(root).warm
    made.clear()
    content = root / "content" / "2016"
    for number, old, new in ((3, "[Oil, Rail]", "[Oil, Tides]"), (6, "[Elections, Solar]", "[Tides, Elections]")):
        file = content / f"b{number:02d}.md"
        file.write_text(file.read_text().replace(old, new, 1))
    file = content / "b07.md"
    file.write_text(file.read_text().replace("Briefing 7", "Briefing seven", 1))
    report = pipeline.build(root, warm=warm)
    assert not made
    assert tree(root / "_site") == clean_build(root, tmp_path / "clean")
    assert report.archive == clean_model(tmp_path / "clean")
    assert [t.name for t in report.archive.terms["tags"]].count("Tides") == 1


RECENT = datetime.now(UTC) - timedelta(hours=1)  # in the news sitemap's window
# (file number, its text or None to delete it, whether the model is patched): briefings added
# and removed, with names of every kind, new and old, and those a patch leaves to a clean build.
FILES = [
    (20, named(20, "[Energy, Rail]"), True),  # the newest, at its own moment: the clock moves on
    (21, named(21, "[Oil, Tides]", extra="story: Grid crisis\n"), True),  # a new tag; a story
    (22, named(22, "[Oil, Russia]", region="Middle East"), True),  # a country's name: given way
    (6, None, True),  # the one briefing tagged Solar: its term goes
    (15, None, True),
    (22, None, True),  # the newest giver of "Russia" gone
    (
        30,
        briefing("Briefing 30", "2016-02-10T10:00:00+03:00", "[Elections, Rail]", "Europe"),
        True,
    ),  # a month of its own
    (30, None, True),  # and its month gone
    (23, named(23, "[Oil, Rail]", source="{name: Reuters, url: 'https://www.reuters.com/'}"), True),
    (24, named(24, "[Energy, Electons]"), False),  # looks misspelt: the full build refuses it
    (24, named(24, "[Energy, Oil]"), True),
    (25, named(25, "[Energy]\ncountries: [Wakanda]"), False),  # a country written no briefing lists
    (25, None, False),  # the model kept is the one with it: made again
    (26, named(26, "[energy, Rail]"), True),  # another spelling of a term: listed as the term
    (16, None, True),
    (31, briefing("Briefing 31", RECENT.isoformat(timespec="seconds")), True),
    (31, None, True),  # a recent briefing (the news sitemap's) added and removed
    # Moved (a new date or slug): it leaves the model, then joins it anew.
    (10, briefing("Briefing 10", "2016-02-20T10:00:00+03:00", "[Aleppo, Rail]", "Europe"), True),  # a month of its own
    (10, named(10, "[Aleppo, Rail]"), True),  # back: that month gone
    (12, named(12, "[Energy, Tides]").replace("title: ", "slug: twelfth\ntitle: ", 1), True),  # retagged too
    (13, briefing("Briefing 13", "2016-03-14T09:00:00+03:00", "[Oil, Rail]", "Europe"), True),  # earlier that day
]


def test_briefings_added_and_removed_patch_the_model_of_the_last_build_as_the_full_build_makes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted, not timed: a build given what the last one left (the preview's) patches the model
    for briefings added and removed (`archive.with_terms`): each is placed in or taken out of the
    order, its terms (a new term made, one left empty gone), its year and month (a new month
    made, one left empty gone), the names given way and the related lists around it. The model
    is the one a clean build makes, and so is the site; a name a clean build refuses, or a
    country no briefing lists, makes the model again."""
    made: list[int] = []
    real = stages.model_archive
    monkeypatch.setattr(stages, "model_archive", lambda *a: made.append(1) or real(*a))
    root = make_archive(tmp_path / "a", NAMED)
    warm = pipeline.build(root).warm
    for number, written, patched in FILES:
        made.clear()
        year = "2016" if number < 31 else str(RECENT.year)
        file = root / "content" / year / f"b{number:02d}.md"
        if written is None:
            file.unlink()
        else:
            file.parent.mkdir(exist_ok=True)
            file.write_text(written)
        report = pipeline.build(root, warm=warm) if "Electons" not in (written or "") else None
        if report is None:
            with pytest.raises(BuildFailed) as refused:
                pipeline.build(root, warm=warm)
            assert [str(e) for e in refused.value.errors] == [
                'content/2016/b24.md:8: tags: "Electons" looks like a misspelling of "Elections"; did you mean '
                '"Elections"? If "Electons" is right, add it to known_tags in site.yaml'
            ]
            assert made, number
            continue
        assert report.warm is not None
        warm = report.warm
        assert bool(made) != patched, (number, written)
        assert (tree(root / "_site"), report.archive) == clean_site_and_model(root, tmp_path / "clean"), number


def test_briefings_added_and_removed_since_the_cache_kept_the_model_patch_it_or_fail_as_a_clean_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Counted: builds from the command line patch the model the cache keeps with every briefing
    added or removed since (`stages.fits_files`); each equals a clean build. What a clean build
    refuses, the patch leaves to it, and the build fails as a clean one does: a body linking to a
    removed briefing, an added one at another's URL, or at a draft's, or with another's URL as an alias,
    an added draft at another's URL, a heading gone that a body links to. A briefing moved (a new
    slug or date) leaves the model and joins it anew, and the bodies linking to it are resolved
    again. Settings changed make the model again."""
    made: list[int] = []
    real = stages.model_archive
    monkeypatch.setattr(stages, "model_archive", lambda *a: made.append(1) or real(*a))
    root = linking_archive(tmp_path / "a")
    content = root / "content" / "2016"
    clean = tmp_path / "clean"
    build(root)  # the cache keeps the model: it kept none

    def built() -> int:
        made.clear()
        assert run(root, "--quiet") == 0
        count = len(made)
        assert tree(root / "_site") == clean_build(root, clean)
        return count

    def refused() -> tuple[int, str]:
        made.clear()
        capsys.readouterr()
        assert run(root, "--quiet") == 1
        count, said = len(made), capsys.readouterr().err
        shutil.rmtree(clean, ignore_errors=True)
        shutil.copytree(root, clean, ignore=shutil.ignore_patterns(".cache", "_site"))
        assert run(clean, "--quiet") == 1
        assert capsys.readouterr().err == said
        return count, said

    (content / "briefing-40.md").write_text(text(40, ["Tides"], day=29))
    assert built() == 0  # added: a new tag, the newest briefing
    (content / "briefing-41.md").write_text(text(41, ["Energy"], day=29, title="An earlier title"))
    assert built() == 0  # both added since the model was kept
    (content / "briefing-3.md").unlink()
    assert built() == 0
    linked = (content / "briefing-9.md").read_text()
    (content / "briefing-9.md").unlink()  # briefing-5 links to it
    count, said = refused()
    assert count == 1 and "briefing-5.md" in said and "briefing-9.md does not exist" in said
    (content / "briefing-9.md").write_text(linked)
    assert built() == 0
    taken = text(42, ["Energy"], day=12).replace("title: ", "slug: briefing-11\ntitle: ", 1)
    (content / "briefing-42.md").write_text(taken)  # the URL of briefing-11
    assert refused()[0] == 1
    (content / "briefing-42.md").write_text(taken.replace("slug: briefing-11", 'aliases: ["/2016/03/briefing-11/"]'))
    assert refused()[0] == 1  # its alias is briefing-11's URL
    (content / "briefing-42.md").write_text(text(42, ["Energy"], day=12))
    assert built() == 0
    (content / "draft.md").write_text(text(43, ["Energy"], day=30).replace("title: ", "draft: true\ntitle: ", 1))
    assert built() == 0  # a draft added: not listed, but its URL is taken
    (content / "briefing-44.md").write_text(text(44, ["Energy"], day=30).replace("title: ", "slug: draft\ntitle: ", 1))
    assert refused()[0] == 1  # the draft's URL
    (content / "briefing-44.md").unlink()
    assert built() == 0
    drafted = text(44, ["Energy"], day=12).replace("title: ", "slug: briefing-11\ndraft: true\ntitle: ", 1)
    (content / "briefing-44.md").write_text(drafted)
    assert refused()[0] == 1  # a draft at briefing-11's URL
    (content / "briefing-44.md").unlink()
    assert built() == 0
    (content / "briefing-45.md").write_text(text(45, ["Energy"], day=30))
    moved = content / "briefing-7.md"
    moved.write_text(moved.read_text().replace("title: ", "slug: seventh\ntitle: ", 1))
    assert built() == 0  # added beside a briefing moved to a new URL (its slug): it leaves, then joins anew
    # Later the same day (the same URL), into a month of its own, then not yet due at the build's clock.
    for date in ("2016-03-21T11:30:00+03:00", "2016-04-02T09:00:00+03:00", "2016-12-31T09:00:00+00:00"):
        moved = content / "briefing-20.md"
        moved.write_text(re.sub(r"(?m)^date: .*$", f"date: {date}", moved.read_text(), count=1))
        if date.startswith("2016-12"):
            monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(datetime(2016, 12, 31, tzinfo=UTC).timestamp())))
        assert built() == 0, date
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    (content / "briefing-46.md").write_text(text(46, ["Energy"], day=30))
    (root / "site.yaml").write_text((root / "site.yaml").read_text().replace("slug: europe", "slug: the-eu"))
    assert built() == 1  # added beside settings the model is made from (a region's URL): made again
    (content / "briefing-47.md").write_text(text(47, ["Energy"], day=30))
    assert built() == 0
    # briefing-5 links to briefing-9, by its heading, in the model kept (the settings made it again).
    (content / "briefing-9.md").write_text(text(9, ["Russia"], day=10, body="## Background\n\nText."))
    (content / "briefing-5.md").write_text(text(5, ["Syria"], day=6, body="See [it](briefing-9.md#background)."))
    (root / "site.yaml").write_text((root / "site.yaml").read_text().replace("slug: the-eu", "slug: europe"))
    assert built() == 1
    linked = content / "briefing-9.md"  # moved: briefing-5's body is resolved again, as a clean build resolves it
    for old, new in (("2016-03-10T10:00", "2016-03-10T12:00"), ("2016-03-10T12:00", "2016-04-10T12:00")):
        linked.write_text(linked.read_text().replace(old, new, 1))  # later the same day, then into April
        assert built() == 0, new
    linked.write_text(linked.read_text().replace("2016-04-10", "2016-04-11").replace("## Background", "## Later"))
    count, said = refused()  # moved, and the heading briefing-5 links to is gone
    assert count == 1 and 'briefing-9.md#background" points to no heading' in said
    linked.write_text(linked.read_text().replace("## Later", "## Background"))
    assert built() == 0


TAGGED = ["Energy", "energy", "Oil", "Rail", "Tides", "Solar", "Russia"]  # a term's other spelling, a country
NAMES = st.fixed_dictionaries(
    {
        "tags": st.lists(st.sampled_from(TAGGED), min_size=1, max_size=3),
        "region": st.sampled_from(["Europe", "Middle East"]),
        "source": st.sampled_from(["TRT World", "Reuters", "{name: Reuters, url: 'https://www.reuters.com/'}"]),
        "story": st.sampled_from(["", "story: Grid crisis\n", "story: Port strike\n"]),
    }
)
# A date for `write_named` instead of the briefing's own: the same day later (the same URL), another month.
MOVED = st.fixed_dictionaries({"date": st.sampled_from(["T11:30:00+03:00", "2016-02-15T10:00:00+03:00"])})


def write_named(root: Path, number: int, names: dict[str, Any] | None) -> None:
    """Write briefing `number` of March 2016 with these names (`NAMES`), or delete it (None)."""
    file = root / "content" / "2016" / f"b{number:02d}.md"
    if names is None:
        file.unlink(missing_ok=True)
        return
    tags = "[" + ", ".join(names["tags"]) + "]"
    written = named(number, tags, names["region"], names["source"], extra=names["story"])
    if date := names.get("date"):
        written = (
            written.replace("T10:00:00+03:00", date)
            if date.startswith("T")
            else re.sub(r"(?m)^date: .*$", f"date: {date}", written, count=1)
        )
    file.write_text(written)


def clean_models(
    tags: Callable[[int], list[str]], changes: list[tuple[int, dict[str, Any] | None]]
) -> tuple[archive.Archive, archive.Archive]:
    """Return the models clean builds make of twelve briefings with these `tags` (by number; a
    story on every fifth), and of them once the `changes` are written (`write_named`)."""
    with tempfile.TemporaryDirectory() as folder:
        root = make_archive(Path(folder), {})
        (root / "content" / "2016").mkdir(parents=True)
        for number in range(12):
            story = "story: Grid crisis\n" if number % 5 == 0 else ""
            write_named(root, number, {"tags": tags(number), "region": "Europe", "source": "TRT World", "story": story})
        before = clean_model(root)
        for number, names in changes:
            write_named(root, number, names)
        after = clean_model(root)
    return before, after


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 11), NAMES), min_size=1, max_size=3))
def test_a_model_patched_for_retags_is_the_model_a_clean_build_makes(edits: list[tuple[int, dict[str, Any]]]) -> None:
    """Any names given to a few of twelve briefings (tags spelt as a term is or not, a country's
    name, a region, a source with or without its link, a story): `with_terms` gives the model a
    clean build makes of the edited files, or none (the model is then made again)."""
    # "Energy" three times, "energy" twice: a retag or two may respell the term.
    before, after = clean_models(lambda n: ["Energy" if n < 3 else "energy" if n < 5 else "Oil", "Rail"], [*edits])
    places = archive.entries_of(before, {f"content/2016/b{number:02d}.md" for number, _ in edits})
    made = archive.entries_of(after, places.keys())
    changed = {
        path: replace(entry, briefing=made[path].briefing, body=made[path].body, site_links=made[path].site_links)
        for path, entry in places.items()
    }
    patched = archive.with_terms(before, changed, after.entries[0].briefing.date)
    assert patched is None or replace(patched, recent=after.recent) == after  # (built at another clock)


@settings(max_examples=15, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 15), st.none() | NAMES | st.tuples(NAMES, MOVED).map(lambda pair: pair[0] | pair[1])),
        min_size=1,
        max_size=3,
    )
)
def test_a_model_patched_for_briefings_added_and_removed_is_the_model_a_clean_build_makes(
    changes: list[tuple[int, dict[str, Any] | None]],
) -> None:
    """Any of sixteen briefings added (the last four), removed, given other names or moved (a new
    date), a few at a time: `with_terms` gives the model a clean build makes of the files as they
    are then, or none (a moved file is both removed and added)."""

    def tags(n: int) -> list[str]:  # "Russia", a country's name, on odd ones: given way
        return ["Energy" if n < 3 else "energy" if n < 5 else "Oil", "Rail", "Russia"][: 2 + n % 2]

    before, after = clean_models(tags, changes)
    old = {e.briefing.path: e for e in before.entries}
    new = {e.briefing.path: e for e in after.entries}
    moved = {path for path, entry in new.items() if path in old and entry.briefing.date != old[path].briefing.date}
    edited = {
        path: replace(old[path], briefing=entry.briefing, body=entry.body, site_links=entry.site_links)
        for path, entry in new.items()
        if path in old and path not in moved and entry.briefing != old[path].briefing
    }
    added = {path: replace(entry, refs=()) for path, entry in new.items() if path not in old or path in moved}
    removed = old.keys() - new.keys() | moved
    patched = archive.with_terms(before, edited, after.entries[0].briefing.date, None, added, removed)
    assert patched is None or replace(patched, recent=after.recent) == after  # (built at another clock)


def test_a_retag_that_a_clean_build_refuses_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A retag whose names a clean build refuses (a tag that looks like another's misspelling, two
    tags at one URL) is not patched in: the model is made again, and the build fails as a clean
    one does, naming the file. Put right, the next build is a clean one's."""
    made: list[int] = []
    real = stages.model_archive
    monkeypatch.setattr(stages, "model_archive", lambda *a: made.append(1) or real(*a))
    root = make_archive(tmp_path / "a", NAMED | {"2016/b15.md": named(15, "[Oil, Gas & Oil]")})
    build(root)
    retitled = root / "content" / "2016" / "b05.md"
    retitled.write_text(retitled.read_text().replace("Briefing 5", "Briefing five", 1))
    build(root)  # the shape again: the cache keeps the model
    patched: list[bool] = []
    real_patch = archive.with_terms
    monkeypatch.setattr(stages, "with_terms", lambda *a: patched.append(True) or real_patch(*a))
    file = root / "content" / "2016" / "b04.md"
    for new, said in (("[Energy, Electons]", "looks like a misspelling"), ("[Energy, Gas-Oil]", "share the URL")):
        made.clear()
        file.write_text(named(4, new))
        capsys.readouterr()
        assert run(root, "--quiet") == 1, new
        assert patched and made, new  # patching was tried, and gave way to making the model
        assert said in capsys.readouterr().err, new
    file.write_text(named(4, "[Energy, Oil]"))
    assert tree(build(root)) == clean_build(root, tmp_path / "clean")


@pytest.mark.parametrize("in_child", [False, True])
def test_the_cache_keeps_a_model_once_its_shape_repeats_and_the_next_builds_patch_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, in_child: bool
) -> None:
    """Counted, not timed: builds from the command line keep the model in the cache when it keeps
    none that fits, or their inputs have the last build's shape or frame (`stages.keep_model`),
    and the builds after patch it for every file edited since, retags, briefings added and
    dates changed too; a damaged one is made again. A large model (here, any) is written by a
    forked child while the build goes on, and kept by the time the build ends."""
    made: list[int] = []
    real = stages.model_archive
    monkeypatch.setattr(stages, "model_archive", lambda *a: made.append(1) or real(*a))
    children: list[int] = []
    if in_child:
        monkeypatch.setattr(stages, "KEPT_IN_CHILD_FROM", 1)
        started, parent = stages.in_background, os.getpid()

        def slow(later: contextlib.ExitStack, task: Callable[[], object]) -> None:
            """The first child takes its time: the build must wait for it, not end it."""
            first = not children
            children.append(1)
            started(later, lambda: (first and os.getpid() != parent and time.sleep(0.5)) or task())

        monkeypatch.setattr(stages, "in_background", slow)
    files = {f"2016/b{n}.md": text(n, [TAGS[n % 3]], day=n + 1, title=f"B{n} briefing") for n in range(6)}
    root = make_archive(tmp_path / "a", files)

    def made_for(name: str, old: str, new: str) -> int:
        made.clear()
        file = root / "content" / "2016" / name
        file.write_text(file.read_text().replace(old, new, 1))
        assert run(root, "--quiet", "--jobs", "2") == 0
        count = len(made)
        assert tree(root / "_site") == clean_build(root, tmp_path / "clean"), f"{name}: {old} -> {new}"
        return count

    assert run(root, "--quiet", "--jobs", "2") == 0
    assert len(list((root / ".cache").glob("model-*.pickle"))) == 1  # the cache kept none: it keeps this one
    assert children == ([1, 1] if in_child else [])  # the records' child, then the model's
    assert made_for("b3.md", "B3 briefing", "Ferry news") == 0
    assert made_for("b3.md", "Body text.", "Zanzibar ferry text.") == 0
    assert made_for("b2.md", "B2 briefing", "Oil news") == 0  # b3 and b2 edited since it was kept
    assert made_for("b4.md", f"tags: [{TAGS[1]}]", f"tags: [{TAGS[2]}]") == 0  # a retag: patched
    assert made_for("b4.md", "tags: [", "countries: [Turkey]\ntags: [") == 1  # a country written
    assert made_for("b5.md", f"tags: [{TAGS[2]}]", "tags: [Energy]") == 0  # the frame again: kept, and patched
    assert made_for("b4.md", "B4 briefing", "Grain news") == 0
    (root / "content" / "2016" / "b6.md").write_text(text(6, ["Energy"], day=7, title="B6 briefing"))
    assert made_for("b6.md", "B6 briefing", "B6 briefing") == 0  # a briefing added: patched in
    assert made_for("b6.md", "B6 briefing", "Grain news") == 0  # and again, from the same kept model
    assert made_for("b4.md", "Grain news", "Grain news, later") == 0
    assert made_for("b6.md", "2016-03-07T", "2016-03-08T") == 0  # (added since the model was kept)
    assert made_for("b3.md", "2016-03-04T", "2016-03-20T") == 0  # a date: the briefing moves
    assert made_for("b5.md", "B5 briefing", "Barley news") == 0
    kept = next((root / ".cache").glob("model-*.pickle"))
    kept.write_bytes(kept.read_bytes()[:-10] + b"0123456789")
    assert made_for("b5.md", "B5 briefing", "Wheat news") == 1
    assert len(children) > 2 if in_child else not children  # (each model kept: a child's)
    assert not list((root / ".cache").glob(".new.*"))


def kept_entry_digests(root: Path) -> tuple[tuple[bytes, ...], tuple[bytes, ...]] | None:
    """Return the digests the cache keeps for the kept model's entries (`plan.Keying.keep_digests`)
    and those a hasher of its own gives them, or None if it keeps none for that model."""
    cache = Cache(root)
    [file] = cache.folder.glob("model-*.pickle")
    read = cache_module._read_sealed(cache.folder, cache.key, file.name)
    assert read is not None
    stream = io.BytesIO(read[1])
    cache_module._ValuesOnly(stream).load()  # (the engine and the inputs it was kept for)
    model = cache_module._ValuesOnly(stream).load()
    assert isinstance(model, stages.Warm)
    kept = cache.recall("entry_digests", model.token)
    if not isinstance(kept, tuple):
        return None
    hasher = keys.Hasher(lambda value: plan._known_briefing(model.digests, value))
    return kept, tuple(hasher.digest(entry) for entry in model.archive.entries)


def test_the_digests_kept_for_a_kept_models_entries_are_theirs(tmp_path: Path) -> None:
    """The digests the cache keeps for the entries of the model it keeps, which the next builds'
    hashers are seeded with, are those each entry has, model after model: edits, retags, a
    country written, a briefing added, dates moved."""
    files = {f"2016/b{n}.md": text(n, [TAGS[n % 3]], day=n + 1, title=f"B{n} briefing") for n in range(6)}
    root = make_archive(tmp_path / "a", files)
    assert run(root, "--quiet", "--jobs", "2") == 0
    checked = 0
    for name, old, new in [
        ("b3.md", "B3 briefing", "Ferry news"),
        ("b2.md", "B2 briefing", "Oil news"),
        ("b4.md", f"tags: [{TAGS[1]}]", f"tags: [{TAGS[2]}]"),
        ("b5.md", f"tags: [{TAGS[2]}]", "tags: [Energy]"),
        ("b4.md", "B4 briefing", "Grain news"),
        ("b4.md", "tags: [", "countries: [Turkey]\ntags: ["),
        ("b6.md", "B6 briefing", "B6 briefing"),
        ("b6.md", "B6 briefing", "Grain news"),
        ("b4.md", "Grain news", "Grain news, later"),
        ("b6.md", "2016-03-07T", "2016-03-08T"),
        ("b3.md", "2016-03-04T", "2016-03-20T"),
        ("b5.md", "B5 briefing", "Barley news"),
        ("b2.md", "Oil news", "Oil and gas news"),
    ]:
        if name == "b6.md" and not (root / "content/2016/b6.md").exists():
            (root / "content/2016/b6.md").write_text(text(6, ["Energy"], day=7, title="B6 briefing"))
        file = root / "content" / "2016" / name
        file.write_text(file.read_text().replace(old, new, 1))
        assert run(root, "--quiet", "--jobs", "2") == 0
        if (digests := kept_entry_digests(root)) is not None:
            assert digests[0] == digests[1], f"{name}: {old} -> {new}"
            checked += 1
    assert checked >= 3


def test_a_cold_builds_records_are_kept_by_a_child_the_build_waits_for_and_the_next_build_parses_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted, not timed: a build that parsed every file (a cold one, of many; here, any) leaves
    its records and the files' digests to a forked child while it makes its model
    (`stages.load_records`), and ends only once the child has: the next build, one file edited,
    parses that file alone. Each build equals a clean one."""
    monkeypatch.setattr(stages, "KEPT_IN_CHILD_FROM", 1)
    kept: list[str] = []
    started, parent = stages.in_background, os.getpid()

    def slow(later: contextlib.ExitStack, task: Callable[[], object]) -> None:
        """Each child takes its time: the build must wait for it, not end it."""
        kept.append(getattr(task, "func", task).__name__)
        started(later, lambda: (os.getpid() != parent and time.sleep(0.3)) or task())

    monkeypatch.setattr(stages, "in_background", slow)
    files = {f"2016/b{n}.md": text(n, [TAGS[n % 3]], day=n + 1, title=f"B{n} briefing") for n in range(6)}
    root = make_archive(tmp_path / "a", files)
    assert run(root, "--quiet", "--jobs", "2") == 0
    assert kept[0] == "_keep_records"
    assert (root / ".cache" / "records.pickle").is_file() and (root / ".cache" / "digests.pickle").is_file()
    assert not list((root / ".cache").rglob(".new.*"))  # every file the child wrote is in place
    assert tree(root / "_site") == clean_build(root, tmp_path / "clean")
    parsed: list[str] = []
    real = stages._parse
    monkeypatch.setattr(
        stages, "_parse", lambda parser, folder, path, digest: parsed.append(path) or real(parser, folder, path, digest)
    )
    file = root / "content" / "2016" / "b4.md"
    file.write_text(file.read_text().replace("B4 briefing", "Ferry news"))
    kept.clear()
    assert run(root, "--quiet", "--jobs", "1") == 0  # (parsed in this process, where it is counted)
    assert parsed == ["content/2016/b4.md"] and "_keep_records" not in kept
    assert tree(root / "_site") == clean_build(root, tmp_path / "clean")


def test_a_new_shapes_plan_is_kept_by_a_child_the_build_waits_for_and_the_next_edit_recalls_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted, not timed: a retag's plan (a new shape's: all of it) is written by a forked child
    while the build goes on (`plan.Keying.keep`, a large model's; here, any); the build ends only
    once the child has, so the next build, an edit, finds it and keys again only the outputs the
    edit reaches. Each build equals a clean one."""
    monkeypatch.setattr(stages, "KEPT_IN_CHILD_FROM", 1)
    children: list[int] = []
    started, parent = plan.in_background, os.getpid()

    def slow(later: contextlib.ExitStack, task: Callable[[], object]) -> None:
        """Each child takes its time: the build must wait for it, not end it."""
        children.append(1)
        started(later, lambda: (os.getpid() != parent and time.sleep(0.3)) or task())

    monkeypatch.setattr(plan, "in_background", slow)
    files = {f"2016/b{n}.md": text(n, [TAGS[n % 3]], day=n + 1, title=f"B{n} briefing") for n in range(6)}
    root = make_archive(tmp_path / "a", files)
    assert run(root, "--quiet", "--jobs", "2") == 0
    file = root / "content" / "2016" / "b4.md"
    file.write_text(file.read_text().replace(f"tags: [{TAGS[1]}]", "tags: [Ferries]"))
    children.clear()
    assert run(root, "--quiet", "--jobs", "2") == 0
    assert children == [1]  # the retag's plan, kept by a child
    assert tree(root / "_site") == clean_build(root, tmp_path / "clean")
    file.write_text(file.read_text().replace("B4 briefing", "Ferry news"))
    children.clear()
    report = pipeline.build(root, pipeline.Options(jobs=2))
    assert not children  # the retag's shape: only what changed since is kept, here
    assert report.replanned is not None and "2016/03/b4/index.html" in report.replanned
    assert "2016/03/b0/index.html" not in report.replanned
    assert tree(root / "_site") == clean_build(root, tmp_path / "clean")
    assert not list((root / ".cache").glob(".new.*"))


def test_a_build_that_fails_says_why_whatever_befell_the_model_kept_by_its_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The model is written by a child while the build goes on (`stages.in_background`); a build
    that then fails (a link to a page the site lacks) reports that, with its file and line, not
    what the child met (here, a cache it could not write)."""
    monkeypatch.setattr(stages, "KEPT_IN_CHILD_FROM", 1)
    parent = os.getpid()
    real = Cache.remember_for

    def refused(self: Cache, *args: Any) -> None:
        if os.getpid() != parent:
            raise OSError(28, "No space left on device")
        real(self, *args)

    monkeypatch.setattr(Cache, "remember_for", refused)
    body = "See [the list](/tags/no-such-tag/)."
    root = make_archive(tmp_path / "a", {"2016/b1.md": text(1, ["Syria"], body=body)})
    capsys.readouterr()
    assert run(root, "--quiet", "--jobs", "2") == 1
    err = capsys.readouterr().err
    assert "content/2016/b1.md:" in err and "/tags/no-such-tag/" in err, err
    assert "No space left" not in err and "Traceback" not in err


def test_a_model_patched_for_a_briefing_added_or_a_retag_is_kept_from_the_second_build_of_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted, not timed: after a briefing is added, or one retagged, the kept model is patched
    for it (`archive.with_terms`); the next build of the same inputs (an edit to what pages only
    show) patches it again and keeps the result (`stages.inputs_repeated`), and the builds after
    that load it and patch only what they edit. Builds that go back and forth between two sets
    of files keep nothing. Each site is the one a clean build makes."""
    files = {f"2016/b{n}.md": text(n, [TAGS[n % 3]], day=n + 1, title=f"B{n} briefing") for n in range(6)}
    root = make_archive(tmp_path / "a", files)
    build(root)
    patched: list[bool] = []
    real_patch = archive.with_terms
    monkeypatch.setattr(stages, "with_terms", lambda *a: patched.append(True) or real_patch(*a))

    def patches(name: str, old: str, new: str) -> int:
        patched.clear()
        file = root / "content" / "2016" / name
        file.write_text(file.read_text().replace(old, new, 1))
        assert run(root, "--quiet") == 0
        assert tree(root / "_site") == clean_build(root, tmp_path / "clean"), f"{name}: {old} -> {new}"
        return len(patched)

    (root / "content" / "2016" / "b6.md").write_text(text(6, ["Energy"], day=7, title="B6 briefing"))
    assert patches("b6.md", "B6 briefing", "B6 briefing") == 1  # added: patched in
    assert patches("b3.md", "B3 briefing", "Ferry news") == 1  # the same inputs: patched again, and kept
    assert patches("b3.md", "Ferry news", "Grain news") == 0  # the model kept: the edit alone
    assert patches("b4.md", f"tags: [{TAGS[1]}]", f"tags: [{TAGS[2]}]") == 1  # a retag
    assert patches("b2.md", "B2 briefing", "Oil news") == 1  # the same inputs: kept
    assert patches("b6.md", "B6 briefing", "Barley news") == 0
    assert len(list((root / ".cache").glob("model-*.pickle"))) == 1
    kept: list[bool] = []
    real_keep = stages.keep_model
    monkeypatch.setattr(stages, "keep_model", lambda *a, **k: kept.append(True) or real_keep(*a, **k))
    added = root / "content" / "2016" / "b7.md"
    for _ in range(2):  # back and forth between two sets of files: each added build patches, none keeps
        added.write_text(text(7, ["Energy"], day=8, title="B7 briefing"))
        assert patches("b7.md", "B7 briefing", "B7 briefing") == 1
        added.unlink()
        assert run(root, "--quiet") == 0
        assert tree(root / "_site") == clean_build(root, tmp_path / "clean")
    assert not kept


@pytest.mark.parametrize(
    ("old", "new"),
    [("title: Briefing 2", "title: Ferry news"), (f"tags: [{TAGS[2]}]", "tags: [Ferries]")],
    ids=["an edit", "a retag"],
)
def test_a_page_whose_key_is_remembered_is_made_when_the_site_lacks_it(tmp_path: Path, old: str, new: str) -> None:
    """A briefing's page an edit does not reach is not even viewed (`pages.Deferred`), and one a
    retag (a new shape) does not reach is not made at all, keeping the key the shape before gave
    it (`plan.Keying.recall_prior`); when the output folder is gone either is made all the same,
    found by its path, as a clean build makes it."""
    files = {f"2016/b{n}.md": text(n, [TAGS[n % 3]], day=n + 1) for n in range(6)}
    root = make_archive(tmp_path / "a", files)
    build(root)
    pipeline.plan(root, pipeline.Options())  # the shape again: what each output holds
    shutil.rmtree(root / "_site")
    file = root / "content" / "2016" / "b2.md"
    file.write_text(file.read_text().replace(old, new))
    report = pipeline.build(root)
    assert report.replanned is not None and "2016/03/b2/index.html" in report.replanned
    assert "2016/03/b4/index.html" not in report.replanned  # kept as the last plan gave it
    assert tree(root / "_site") == clean_build(root, tmp_path / "clean")


def test_every_page_is_found_by_its_path_alone_as_the_whole_site_makes_it(tmp_path: Path) -> None:
    """`pages.PagesByPath` makes a page from its path (with its listing's other pages only): for
    every page of a site with further pages, stories, an alias, a removed URL and a tag given
    way to a country, it gives the page `site_pages`, `moved_pages` or `given_way_pages` does."""
    root = tmp_path / "a"
    write_archive(root, generate(60, seed=5))
    settings = root / "site.yaml"
    settings.write_text(
        settings.read_text().replace("per_page: 200", "per_page: 4")
        + "removed:\n  - url: /2014/01/gone/\n    reason: Withdrawn.\n"
    )
    file = sorted((root / "content").rglob("*.md"))[3]
    text = file.read_text()
    file.write_text(text.replace("tags: [", "aliases: [/2014/02/old-name/]\ntags: [Russia, ", 1))
    model = pipeline.check(root).archive
    whole = {page.path: ("site", page) for page in site_pages(model)}
    whole |= {page.path: ("moved", page) for page in moved_pages(model)}
    whole |= {page.path: ("given way", page) for page in given_way_pages(model)}
    assert {"2014/01/gone/", "2014/02/old-name/", "tags/russia/", "regions/europe/page/2/"} <= whole.keys()
    shapes = (r"stories/page/2/", r"stories/[^/]+/", r"\d{4}/", r"\d{4}/\d{2}/", r"corrections/", r"search/")
    assert all(any(re.fullmatch(shape, path) for path in whole) for shape in shapes)
    finder = PagesByPath(model)
    for path in sorted(whole, reverse=True):  # further pages first: each listing is made when first asked
        assert finder.at(path) == whole[path], path
    finder = PagesByPath(model)
    assert finder.at("regions/europe/") == whole["regions/europe/"]
    assert "regions/europe/page/2/" not in finder._found  # a listing's pages are made up to the one asked
    for path in sorted(whole):  # first pages first: the rest of each listing is made when asked
        assert finder.at(path) == whole[path], path
    for missing in ("tags/no-such-tag/", "2015/01/page/99/", "tags/page/99/", "2015/13/", "feed.xml"):
        assert finder.at(missing) is None, missing
    for path in whole:  # and from the file it is written to, as a remembered plan knows it
        assert path in urls.page_paths(urls.output_file(path)), path
        assert urls.page_paths(urls.output_file(path))[0] == path, path


def test_a_briefing_page_is_found_by_its_month_and_instant_not_by_a_table_of_every_path(tmp_path: Path) -> None:
    """`PagesByPath` finds a briefing's place among the entries from its month and its instant
    (they are newest first), making no table of every entry's path: briefings written at one
    instant (titles apart; one in another month as written, by its offset) and in other zones
    are each found where `site_pages` has them, and a path of no briefing is not."""
    dates = [
        "2016-03-01T01:00:00+02:00",  # the same instant as the next three, in March as written
        "2016-02-29T23:00:00+00:00",  # in February
        "2016-02-29T23:00:00Z",
        "2016-02-29T18:00:00-05:00",
        "2016-03-01T01:00:00+03:00",  # an hour earlier
        "2016-02-10T09:00:00+05:30",
        "2016-04-01T00:00:00+14:00",  # March 31 in UTC, listed in April
    ]
    files = {
        f"2016/b{n}.md": briefing(f"Briefing {'ZYXWVUT'[n]}", date, f"[{TAGS[n % 3]}]") for n, date in enumerate(dates)
    }
    root = make_archive(tmp_path / "a", files)
    model = pipeline.check(root).archive
    whole = {page.path: page for page in site_pages(model)}
    finder = PagesByPath(model)
    for entry in model.entries:
        assert finder.at(entry.path) == ("site", whole[entry.path]), entry.path
    assert not finder._entries  # no table of every path was made
    assert finder.at("2016/03/no-such-briefing/") is None
    assert finder.at("2016/05/b1/") is None  # a month with no briefings


def test_a_plan_of_a_repeated_shape_makes_only_the_views_it_keys_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted, not timed: once what each output holds is known, a one-edit plan makes the
    view of no page it does not key again (`plan._recalled_outputs`): each other page is made
    by path only if the writer needs it (here, after `_site/` is lost: all of them)."""
    root = tmp_path / "a"
    write_archive(root, generate(40, seed=7))
    build(root)
    pipeline.plan(root, pipeline.Options())  # the shape again: what each output holds
    made: list[str] = []
    real = pages.Page.__init__

    def counted(self: pages.Page, path: str, *args: Any, **kwargs: Any) -> None:
        made.append(path)
        real(self, path, *args, **kwargs)

    monkeypatch.setattr(pages.Page, "__init__", counted)
    file = sorted((root / "content").rglob("*.md"))[5]
    file.write_text(file.read_text().replace("title: ", "title: Renamed, ", 1))
    report = pipeline.build(root)
    assert report.replanned is not None
    keyed = {path for path in report.replanned if path.endswith(".html")}
    assert 0 < len(made) < 40 and {pipeline_output(path) for path in made} <= keyed | {"404.html"}
    made.clear()
    shutil.rmtree(root / "_site")
    file.write_text(file.read_text().replace("title: Renamed, ", "title: Renamed again, ", 1))
    pipeline.build(root, pipeline.Options(jobs=1))  # made here, where they are counted
    assert len(made) > 100
    assert tree(root / "_site") == clean_build(root, tmp_path / "clean")


def test_what_plans_change_is_kept_apart_while_small_and_every_build_equals_a_clean_one(tmp_path: Path) -> None:
    """A plan that keys again a few outputs keeps only what it changed (`plan.PlanSince`), and
    the next plan starts from both: edits to other briefings' dates of change, one after
    another, each leave the sitemap and every page as a clean build makes them."""
    root = tmp_path / "a"
    write_archive(root, generate(150, seed=11))
    build(root)
    pipeline.plan(root, pipeline.Options())  # the shape again: what each output holds
    since = root / ".cache" / "plan_since.pickle"
    for number, file in enumerate(sorted((root / "content").rglob("*.md"))[10:13], start=1):
        text = file.read_text()
        file.write_text(text.replace("\nsummary: ", f"\nupdated: 2025-0{number}-02T10:00:00+01:00\nsummary: ", 1))
        report = pipeline.build(root)
        assert report.replanned is not None and len({p for p in report.replanned if p.endswith(".html")}) < 40
        assert since.exists()
        assert tree(root / "_site") == clean_build(root, tmp_path / "clean"), file.name


def test_two_outputs_at_one_path_are_refused_however_often_the_shape_repeats(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What a plan gave each output is kept by path: a plan with two outputs at one path (an
    alias at a tag's URL) keeps nothing for its shape, so every build of it refuses them."""
    files = {
        "2015/a.md": briefing("A", "2015-09-01", "[Syria]").replace("tags:", "aliases: [/tags/syria/]\ntags:"),
        "2015/b.md": briefing("B", "2015-09-02", "[Syria]"),
    }
    root = make_archive(tmp_path / "a", files)
    file = root / "content" / "2015" / "b.md"
    for title in ("B", "Second", "Third", "Fourth"):
        file.write_text(re.sub(r"(?m)^title: .*$", f"title: {title}", file.read_text(), count=1))
        assert run(root, "--quiet") == 1, title
        assert "/tags/syria/index.html is also written by" in capsys.readouterr().err
    assert not (root / "_site").exists()


@pytest.mark.parametrize("alias", ["/feed.xml/", "/2015/09/b/index.html/"])
def test_a_file_where_a_folder_is_needed_is_refused_however_often_the_shape_repeats(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], alias: str
) -> None:
    """A plan of a repeated shape keeps the outputs no edit reaches as the last plan gave them
    (`outputs.Plan.kept`), that one refused or not, and paths found sound are not checked again
    (`stages.check_output_paths`): paths refused are checked in every build, so an alias onto a
    file of the site (a feed, another briefing's page) is refused each time."""
    files = {
        "2015/a.md": briefing("A", "2015-09-01", "[Syria]").replace("tags:", f"aliases: ['{alias}']\ntags:"),
        "2015/b.md": briefing("B", "2015-09-02", "[Syria]"),
    }
    root = make_archive(tmp_path / "a", files)
    file = root / "content" / "2015" / "b.md"
    folder = alias.strip("/")
    for title in ("B", "A", "B", "A"):  # words the search index has: the same paths each time
        file.write_text(re.sub(r"(?m)^title: .*$", f"title: {title}", file.read_text(), count=1))
        assert run(root, "--quiet") == 1, title
        assert f"/{folder}/index.html needs /{folder} to be a folder, but it is a file" in capsys.readouterr().err
    assert not (root / "_site").exists()


def test_output_paths_found_sound_are_not_checked_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Counted, not timed: the paths of a site are checked (`write.unique_outputs`) once; an edit
    that keeps them (a title) does not check them again, one that adds a path (a new briefing,
    a word that starts a new file of the search index) does, and its undo does not."""
    files = {f"2015/b{n}.md": briefing(f"B{n}", f"2015-09-0{n}", "[Syria]") for n in range(1, 4)}
    root = make_archive(tmp_path / "a", files)
    checked: list[int] = []
    real = stages.unique_outputs

    def counted(plan: Any) -> None:
        checked.append(len(plan))
        real(plan)

    monkeypatch.setattr(stages, "unique_outputs", counted)
    assert run(root, "--quiet") == 0 and len(checked) == 1
    file = root / "content" / "2015" / "b2.md"
    # Words the search index has (no new file), then one it has not ("zebra": search/t/007a0065.json).
    for title, times in (("Short summary", 1), ("Summary of B1", 1), ("Zebra", 2), ("Short", 2), ("Zebra", 2)):
        file.write_text(re.sub(r"(?m)^title: .*$", f"title: {title}", file.read_text(), count=1))
        assert run(root, "--quiet") == 0 and len(checked) == times, title
    assert checked[1] == checked[0] + 1
    (root / "content" / "2015" / "b4.md").write_text(briefing("B4", "2015-09-04", "[Syria]"))
    assert run(root, "--quiet") == 0 and len(checked) == 3


def pipeline_output(path: str) -> str:
    """Return the file a page's path is written to."""
    return path + "index.html" if path == "" or path.endswith("/") else path


def test_what_each_output_holds_is_found_as_a_new_shape_is_keyed_so_the_next_edit_is_recalled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted: a plan of a shape other than the last one's keys every output but the briefing
    pages made as the last plan of the shape before made them (a retag's: `Keying.recall_prior`),
    and finds which briefings each holds as it keys it (one look through each view it keys), or
    recalls it with their keys. The first edit after a retag then keys again only the outputs it
    reaches, as every edit after it does."""
    walks: list[int] = []
    real = keys.Hasher.reads
    monkeypatch.setattr(keys.Hasher, "reads", lambda self, *a: walks.append(1) or real(self, *a))
    root = make_archive(tmp_path / "a", {f"2016/b{n}.md": text(n, [TAGS[n % 3]], day=n + 1) for n in range(24)})
    file = root / "content" / "2016" / "b2.md"

    def counted(old: str, new: str) -> tuple[int, int]:
        """Return how many outputs the build keyed again (pages, feeds: not the search index's
        files, which come and go with words), and how many views it looked through."""
        walks.clear()
        file.write_text(file.read_text().replace(old, new, 1))
        report = pipeline.build(root)
        assert report.replanned is not None
        return sum(1 for path in report.replanned if not path.startswith("search/t/")), len(walks)

    first = pipeline.build(root)
    assert first.replanned
    everything = len(first.replanned)
    assert len(walks) > everything / 2  # each page and feed (not the static files, the search index)
    for retag in ((TAGS[2], TAGS[4]), (TAGS[4], TAGS[5])):
        keyed, looked = counted(*(f"tags: [{tag}]" for tag in retag))  # another shape: each keyed looked through
        assert 0 < looked <= keyed < everything
        # The edit right after it is recalled: it keys again what the edit after that does, no more.
        right_after = counted("title: Briefing 2", "title: Ferry news")
        assert right_after == counted("title: Ferry news", "title: Briefing 2")
        assert right_after[0] < everything * 2 / 3 and right_after[1] == 0
    assert tree(root / "_site") == clean_build(root, tmp_path / "clean")


def two_groups_built(root: Path) -> tuple[Path, archive.Archive]:
    """Make and build an archive of 24 briefings in two groups of tags (b00 to b11, b12 to b23),
    none related to a briefing of the other group; return its folder and model."""
    groups = [("Syria", "Russia"), ("Energy", "Elections")]
    files = {
        f"2016/b{n:02d}.md": text(n, [groups[n // 12][n % 2], f"{groups[n // 12][0]} topic"], n + 1) for n in range(24)
    }
    make_archive(root, files)
    model = pipeline.build(root).archive
    assert model is not None
    return root, model


def test_a_retag_keys_again_only_the_briefing_pages_whose_entry_related_briefings_or_story_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted: a retag's model has another shape, patched from the last one (the same briefings in
    the same order). The briefing pages it makes from what the last one made them from (entry,
    related briefings, place in a story: `pages.BriefingInputs`) keep the keys the last plan of
    that shape gave them (`plan.Keying.recall_prior`), and are made only if the site lacks them
    (here, all: the output folder is gone). The briefings of one group of tags here are related
    to none of the other's: a retag in one keys again no page of the other's."""
    root, model = two_groups_built(tmp_path / "a")
    page_of = {e.briefing.path: urls.output_file(e.path) for e in model.entries}
    recalled: list[int] = []
    real = plan.Keying.recall_prior

    def counted(self: plan.Keying, *args: Any) -> None:
        real(self, *args)
        recalled.append(len(self.recalled.pages & set(page_of.values())) if self.recalled else 0)

    monkeypatch.setattr(plan.Keying, "recall_prior", counted)
    file = root / "content" / "2016" / "b03.md"
    file.write_text(file.read_text().replace("tags: [Russia, Syria topic]", "tags: [Aleppo, Syria topic]"))
    shutil.rmtree(root / "_site")
    report = pipeline.build(root)
    assert report.replanned is not None
    keyed = {path for path, page in page_of.items() if page in report.replanned}
    assert "content/2016/b03.md" in keyed and keyed <= {f"content/2016/b{n:02d}.md" for n in range(12)}, keyed
    assert recalled == [24 - len(keyed)]
    assert tree(root / "_site") == clean_build(root, tmp_path / "clean")


@pytest.mark.parametrize("change", ["retag", "add", "delete"])
def test_a_new_shape_keys_again_no_page_or_feed_of_a_term_it_does_not_touch(tmp_path: Path, change: str) -> None:
    """Counted: a retag, or a briefing added or deleted, patches the last model, which shares
    with it the terms no changed briefing is listed under (the same objects). Their pages and
    feeds are made from the term and the settings alone, so they keep the keys the last plan of
    that model's shape gave them (`pages.unchanged_term_outputs`, `plan.Keying.recall_prior`):
    a change in one group of tags keys again none of the other group's. The terms it touches,
    and those listing every briefing (the region, the source), are keyed again; the site is a
    clean build's, also after an edit in the other group right after it."""
    root, model = two_groups_built(tmp_path / "a")
    others = [t for t in model.terms["tags"] if all(e.briefing.path >= "content/2016/b12.md" for e in t.entries)]
    assert len(others) == 3  # Energy, Elections, Energy topic
    outputs = {f"tags/{t.slug}/{name}" for t in others for name in ("index.html", "feed.xml")}
    folder = root / "content" / "2016"
    if change == "retag":
        file = folder / "b03.md"
        file.write_text(file.read_text().replace("tags: [Russia, Syria topic]", "tags: [Aleppo, Syria topic]"))
    elif change == "add":
        (folder / "added.md").write_text(text(30, ["Russia", "Syria topic"], 28))
    else:
        (folder / "b05.md").unlink()
    report = pipeline.build(root)
    assert report.replanned is not None
    assert not report.replanned & outputs, sorted(report.replanned & outputs)
    region = "europe" if change == "add" else "middle-east"  # (the changed briefing's)
    assert {
        "tags/syria-topic/index.html",
        "tags/syria-topic/feed.xml",
        f"regions/{region}/index.html",
    } <= report.replanned
    assert tree(root / "_site") == clean_build(root, tmp_path / "clean")
    edited = folder / "b20.md"
    edited.write_text(edited.read_text().replace("Briefing 20", "Ferry news"))
    report = pipeline.build(root)
    assert report.replanned is not None
    site = tree(root / "_site")
    assert {path for path in outputs if b"Ferry news" in site[path]} <= report.replanned
    assert site == clean_build(root, tmp_path / "clean")


def test_a_term_template_changed_in_the_build_of_a_new_shape_reaches_every_term_page(tmp_path: Path) -> None:
    """The pages of the terms a retag does not touch are recalled only while their template is
    the one the last plan keyed them with: changed in the same build, every term page is keyed
    and made again."""
    root, _ = two_groups_built(tmp_path / "a")
    file = root / "content" / "2016" / "b03.md"
    file.write_text(file.read_text().replace("tags: [Russia, Syria topic]", "tags: [Aleppo, Syria topic]"))
    template = root / "templates" / "term.html"
    text = template.read_text()
    opening = "{% block main %}"
    assert opening in text
    template.write_text(text.replace(opening, opening + "<p>Listed here</p>", 1))
    report = pipeline.build(root)
    assert report.replanned is not None and "tags/energy/index.html" in report.replanned
    site = tree(root / "_site")
    assert b"Listed here" in site["tags/energy/index.html"]
    assert site == clean_build(root, tmp_path / "clean")


@pytest.mark.parametrize("change", ["retag", "add", "delete"])
def test_a_new_shape_makes_no_page_of_a_term_it_does_not_touch_unless_the_site_lacks_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    """Counted: the pages of the terms a retag, an add or a delete does not touch are recalled
    (`pages.unchanged_term_outputs`), so a new shape's plan does not make them: `site_pages`
    only dates them (`pages.Dated`), for the sitemap, as their pages date themselves. A second
    change of the kind, with the output folder gone, makes them (one process: counted here),
    and the site is a clean build's either way."""
    root, model = two_groups_built(tmp_path / "a")
    others = {t.slug for t in model.terms["tags"] if all(e.briefing.path >= "content/2016/b12.md" for e in t.entries)}
    assert others == {"energy", "elections", "energy-topic"}
    made: list[str] = []
    real = pages.term_pages
    monkeypatch.setattr(pages, "term_pages", lambda a, term, *rest: made.append(term.slug) or real(a, term, *rest))
    folder = root / "content" / "2016"

    def retag(name: str, tag: str) -> None:
        (folder / name).write_text((folder / name).read_text().replace("tags: [Russia,", f"tags: [{tag},"))

    steps: list[Callable[[], object]] = {
        "retag": [lambda: retag("b03.md", "Aleppo"), lambda: retag("b05.md", "Homs")],
        "add": [
            lambda: (folder / "added.md").write_text(text(30, ["Russia", "Syria topic"], 28)),
            lambda: (folder / "added-2.md").write_text(text(31, ["Russia", "Syria topic"], 29)),
        ],
        "delete": [(folder / "b05.md").unlink, (folder / "b07.md").unlink],
    }[change]
    for number, step in enumerate(steps):
        step()
        if number == 1:
            shutil.rmtree(root / "_site")
        made.clear()
        report = pipeline.build(root, pipeline.Options(jobs=1))
        assert "syria-topic" in made  # (a term it touches)
        assert set(made) & others == (others if number == 1 else set()), made
        assert report.replanned is not None
        assert {p for p in report.replanned if p.startswith("tags/energy")} == set()
        assert tree(root / "_site") == clean_build(root, tmp_path / f"clean-{number}")


@pytest.mark.parametrize("change", ["retag", "add in a new month", "delete"])
def test_a_new_shape_keys_and_makes_no_page_of_a_month_it_does_not_touch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    """Counted: the months a retag, an add or a delete does not touch are the same objects in the
    patched model; their pages are made from the month and its neighbours alone, so they keep
    their keys (`pages.unchanged_month_outputs`) and are only dated. A briefing added in a new
    month changes the neighbour of the month before it, which is keyed and made again. The
    site is a clean build's."""
    files = {
        f"2016/b{n:02d}.md": briefing(
            f"Briefing {n}", f"2016-{n // 2 + 1:02d}-{n % 2 + 10}T10:00:00+03:00", f"[{TAGS[n % 3]}]"
        )
        for n in range(24)
    }
    root = make_archive(tmp_path / "a", files)
    pipeline.build(root)
    made: list[int] = []
    real = pages._month_pages
    monkeypatch.setattr(pages, "_month_pages", lambda a, index, *rest: made.append(index) or real(a, index, *rest))
    folder = root / "content" / "2016"
    if change == "retag":  # March's
        file = folder / "b05.md"
        file.write_text(file.read_text().replace(f"tags: [{TAGS[2]}]", "tags: [Homs]"))
        touched = {"2016/03/index.html"}
    elif change == "add in a new month":  # after December: its neighbour
        (root / "content" / "2017").mkdir()
        (root / "content" / "2017" / "added.md").write_text(briefing("Added", "2017-01-05T10:00:00+03:00", "[Aleppo]"))
        touched = {"2016/12/index.html", "2017/01/index.html"}
    else:  # one of June's two
        (folder / "b10.md").unlink()
        touched = {"2016/06/index.html"}
    report = pipeline.build(root, pipeline.Options(jobs=1))
    assert report.replanned is not None and report.archive is not None
    month_page = re.compile(r"(\d{4}/\d\d/)(page/\d+/)?index\.html")
    assert {m[1] + "index.html" for p in report.replanned if (m := month_page.fullmatch(p))} == touched
    assert [report.archive.months[index] for index in made] == [
        m for m in report.archive.months if f"{m.year}/{m.month:02d}/index.html" in touched
    ]
    assert tree(root / "_site") == clean_build(root, tmp_path / "clean")


def test_a_new_shape_recalls_the_sitemap_files_that_list_the_same_pages_with_the_same_dates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted: past `feeds.SITEMAP_LIMIT` pages the sitemap is in files. After a retag, those
    that list only briefing pages it did not move, with the same dates written alike, keep the
    keys the last plan of the shape before gave them (`plan.Keying.recall_sitemaps`): neither
    keyed nor made again. The files that list the tag page it adds are; so is the file listing
    a briefing whose date of change moved in the same build, or is written at another UTC
    offset (the same moment). The site is a clean build's after each."""
    monkeypatch.setattr(feeds, "SITEMAP_LIMIT", 10)
    root, model = two_groups_built(tmp_path / "a")
    files = tree(root / "_site")
    parts = sorted(name for name in files if re.fullmatch(r"sitemap-\d+\.xml", name))
    assert len(parts) > 3
    newest = root / model.entries[0].briefing.path  # listed in the first file, after the home page
    assert f"/{model.entries[0].path}</loc>" in files["sitemap-1.xml"].decode()
    retagged = root / "content" / "2016" / "b03.md"
    was = {"tag": "Russia", "date": ""}

    def build_after(tag: str = "", date: str = "") -> set[str]:
        if tag:
            retagged.write_text(retagged.read_text().replace(f"tags: [{was['tag']},", f"tags: [{tag},"))
            was["tag"] = tag
        if date:
            text = newest.read_text()
            old, new = (
                (f"updated: {was['date']}", f"updated: {date}")
                if was["date"]
                else ("tags: [", f"updated: {date}\ntags: [")
            )
            newest.write_text(text.replace(old, new, 1))
            was["date"] = date
        report = pipeline.build(root)
        assert report.replanned is not None
        assert tree(root / "_site") == clean_build(root, tmp_path / f"clean-{tag}-{date}")
        return {name for name in parts if name in report.replanned}

    keyed = build_after(tag="Aleppo")
    assert "sitemap-1.xml" not in keyed and "sitemap-2.xml" not in keyed  # home and briefing pages: as they were
    assert keyed & set(parts[2:])  # (tags/aleppo/ is listed in one of them)
    assert "sitemap-1.xml" in build_after(date="2016-04-02T10:00:00+03:00")  # (the same shape: `_recalled_outputs`)
    keyed = build_after(tag="Homs", date="2016-04-02T07:00:00Z")  # the same moment
    assert "sitemap-1.xml" in keyed and "sitemap-2.xml" not in keyed
    keyed = build_after(tag="Idlib", date="2016-04-03T07:00:00Z")  # a day later
    assert "sitemap-1.xml" in keyed and "sitemap-2.xml" not in keyed


def test_a_template_changed_after_a_new_shape_reaches_the_term_pages_that_shape_recalled(tmp_path: Path) -> None:
    """The plan of a new shape keeps the digest of the templates of the pages it recalls: a story
    page a retag did not touch (recalled, not made) is made again by the build after it, in
    which only the story's template changed."""
    groups = [("Syria", "Russia"), ("Energy", "Elections")]
    files = {
        f"2016/b{n:02d}.md": briefing(
            f"Briefing {n}",
            f"2016-03-{n + 1:02d}T10:00:00+03:00",
            f"[{groups[n // 12][n % 2]}]",
            extra="story: Grid crisis\n" if n >= 20 else "",
        )
        for n in range(24)
    }
    root = make_archive(tmp_path / "a", files)
    pipeline.build(root)
    file = root / "content" / "2016" / "b03.md"
    file.write_text(file.read_text().replace("tags: [Russia]", "tags: [Aleppo]"))
    report = pipeline.build(root)
    assert report.replanned is not None and "stories/grid-crisis/index.html" not in report.replanned
    template = root / "templates" / "story.html"
    opening = "{% block main %}"
    assert opening in template.read_text()
    template.write_text(template.read_text().replace(opening, opening + "<p>Told in order</p>", 1))
    pipeline.build(root)
    site = tree(root / "_site")
    assert b"Told in order" in site["stories/grid-crisis/index.html"]
    assert site == clean_build(root, tmp_path / "clean")


def test_a_briefing_added_or_deleted_keys_again_only_the_pages_it_changes_and_the_edit_after_it_too(
    tmp_path: Path,
) -> None:
    """Counted: a briefing added or deleted patches the last model too (`stages.model_of_files`),
    each entry it did not replace now at another place in it; the briefing pages made from what
    that one made them from keep their keys (`plan.Keying.recall_prior`), and what each holds
    is moved to the entries' new places. The briefings of one group of tags here are related to
    none of the other's: a briefing added to one, or deleted from it, keys again no page of the
    other's; a title edited in the other group between them reaches the pages that show it."""
    root, model = two_groups_built(tmp_path / "a")
    other = {urls.output_file(e.path) for e in model.entries if e.briefing.path >= "content/2016/b12.md"}
    folder = root / "content" / "2016"
    edited = folder / "b20.md"
    steps = [  # the edit between keeps the model of the first new shape, for the second to patch
        lambda: (folder / "added.md").write_text(text(30, ["Russia", "Syria topic"], 28)),
        lambda: edited.write_text(edited.read_text().replace("Briefing 20", "Ferry news")),
        lambda: (folder / "b05.md").unlink(),
    ]
    for number, step in enumerate(steps):
        step()
        report = pipeline.build(root)
        assert report.replanned is not None
        site = tree(root / "_site")
        assert site == clean_build(root, tmp_path / "clean"), number
        if number == 1:  # what the recalled pages hold was moved to the new places: the edit reaches them
            showing = {path for path in other if b"Ferry news" in site[path]}
            assert len(showing) > 2 and showing <= report.replanned  # its page, and those it is related to
        else:
            assert not report.replanned & other, (number, sorted(report.replanned & other))


@pytest.mark.parametrize("change", ["add", "retag"])
def test_two_new_shapes_in_a_row_key_again_only_the_pages_they_change(tmp_path: Path, change: str) -> None:
    """Counted: a retag or an add keeps no model (`stages.inputs_repeated`), so the next one is
    patched from the model kept before both, and recalls what the plan of that model's shape
    gave the pages it does not change: that plan's files were set aside by the plan between
    (`plan.Keying.keep`). Each build equals a clean one; a title edited after them reaches the
    pages that show it, and keeps the model (the files set aside are dropped)."""
    root, model = two_groups_built(tmp_path / "a")
    other = {urls.output_file(e.path) for e in model.entries if e.briefing.path >= "content/2016/b12.md"}
    folder = root / "content" / "2016"
    aside = root / ".cache" / "aside-plan_keys.pickle"

    def step(number: int) -> None:
        if change == "add":
            (folder / f"added-{number}.md").write_text(text(30 + number, ["Russia", "Syria topic"], 20 + number))
        else:
            file = folder / f"b0{number}.md"
            file.write_text(file.read_text().replace("Syria topic]", f"Syria topic, Aleppo {number}]"))

    for number in range(1, 4):
        step(number)
        report = pipeline.build(root)
        assert report.replanned is not None
        assert not report.replanned & other, (number, sorted(report.replanned & other))
        assert tree(root / "_site") == clean_build(root, tmp_path / "clean"), number
        assert aside.exists()
    edited = folder / "b20.md"
    edited.write_text(edited.read_text().replace("Briefing 20", "Ferry news"))
    report = pipeline.build(root)
    site = tree(root / "_site")
    assert site == clean_build(root, tmp_path / "clean")
    assert report.replanned is not None and {path for path in other if b"Ferry news" in site[path]} <= report.replanned
    assert not aside.exists()


@pytest.mark.parametrize("change", ["add", "retag"])
def test_a_new_shape_undone_recalls_the_plan_of_the_model_kept(tmp_path: Path, change: str) -> None:
    """Counted: a retag or an add, then undone. The model is the one kept again, and the last plan
    of its shape was set aside by the plan between (`plan.Keying.keep`): it is put back
    (`plan._last_plan`), so the build keys again what a steady edit would (no briefing page the
    change did not touch), not every output. Each build, and an edit right after, equals a
    clean build."""
    root, model = two_groups_built(tmp_path / "a")
    other = {urls.output_file(e.path) for e in model.entries if e.briefing.path >= "content/2016/b12.md"}
    folder = root / "content" / "2016"
    file, added = folder / "b03.md", folder / "added.md"
    original = file.read_text()
    if change == "add":
        added.write_text(text(30, ["Russia", "Syria topic"], 28))
    else:
        file.write_text(original.replace("tags: [Russia, Syria topic]", "tags: [Aleppo, Syria topic]"))
    pipeline.build(root)
    assert (root / ".cache" / "aside-plan_keys.pickle").exists()
    added.unlink(missing_ok=True)
    file.write_text(original)
    report = pipeline.build(root)
    assert report.replanned is not None
    everything = {urls.output_file(e.path) for e in model.entries}
    assert not report.replanned & other, sorted(report.replanned & other)
    assert len(report.replanned & everything) <= 6, sorted(report.replanned & everything)
    assert tree(root / "_site") == clean_build(root, tmp_path / "clean")
    edited = folder / "b20.md"
    edited.write_text(edited.read_text().replace("Briefing 20", "Ferry news"))
    report = pipeline.build(root)
    site = tree(root / "_site")
    assert report.replanned is not None and {path for path in other if b"Ferry news" in site[path]} <= report.replanned
    assert site == clean_build(root, tmp_path / "clean")


@pytest.mark.parametrize("change", ["add", "retag"])
def test_an_edit_undone_in_the_build_of_a_new_shape_reaches_the_pages_that_show_it(tmp_path: Path, change: str) -> None:
    """A title edited (a build: the model kept stays the one before it), then put back as it was
    in the same build as a briefing added or a retag: the new shape is patched from the model
    kept, in which that briefing is as it is now, so its page and those it is related to are
    made as that model made them; but the last plan of that model's shape keyed them from the
    edited title. They are keyed again (`plan.Keying.recall_prior`), and the site is a clean
    build's: without that, five pages went on showing the title undone."""
    root, _ = two_groups_built(tmp_path / "a")
    folder = root / "content" / "2016"
    edited = folder / "b20.md"
    original = edited.read_text()
    edited.write_text(original.replace("Briefing 20", "Ferry news"))
    pipeline.build(root)
    assert any(b"Ferry news" in data for data in tree(root / "_site").values())
    edited.write_text(original)
    if change == "add":
        (folder / "added.md").write_text(text(30, ["Russia", "Syria topic"], 28))
    else:
        file = folder / "b03.md"
        file.write_text(file.read_text().replace("tags: [Russia, Syria topic]", "tags: [Aleppo, Syria topic]"))
    pipeline.build(root)
    site = tree(root / "_site")
    assert not any(b"Ferry news" in data for data in site.values())
    assert site == clean_build(root, tmp_path / "clean")


def test_the_briefing_pages_found_unchanged_are_those_made_from_equal_inputs(tmp_path: Path) -> None:
    """`pages.unchanged_briefing_pages` compares a field of `BriefingInputs` at a time over the
    whole archive; it finds what comparing each page's inputs (`pages.briefing_inputs`, what
    `briefing_page` makes the page from) finds, after retags of tags and of a story."""

    def file(n: int, tags: str, story: str) -> str:
        return briefing(f"Briefing {n}", f"2016-03-{n + 1:02d}T10:00:00+03:00", tags, extra=f"story: {story}\n")

    stories = ["Aleppo", "Mosul", "Ferries"]
    files = {f"2016/b{n:02d}.md": file(n, f"[{TAGS[n % 4]}]", stories[n % 3]) for n in range(24)}
    root = make_archive(tmp_path / "a", files)
    first = pipeline.build(root)
    (root / "content" / "2016" / "b03.md").write_text(file(3, f"[{TAGS[5]}]", stories[0]))
    (root / "content" / "2016" / "b07.md").write_text(file(7, f"[{TAGS[3]}]", stories[2]))
    second = pipeline.build(root, warm=first.warm)  # patched from the first model: entries shared
    before, after = first.archive, second.archive
    assert before is not None and after is not None
    assert [e.path for e in before.entries] == [e.path for e in after.entries]
    was, now = pages.story_places(before), pages.story_places(after)
    inputs = zip(range(len(after.entries)), after.entries, strict=True)
    equal = {e.path for i, e in inputs if pages.briefing_inputs(before, i, was) == pages.briefing_inputs(after, i, now)}
    assert pages.unchanged_briefing_pages(before, after) == equal
    assert 0 < len(equal) < len(after.entries) - 8  # the two stories' every part has a new place


def test_past_the_threshold_the_index_is_made_in_a_child_but_for_an_update_in_place_of_a_few(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cold build, a new shape and an edit of many make the index in a child while pages are
    planned; an edit of a few updates the postings kept for its shape in this process."""
    made_by = tmp_path / "pids"
    real_index = plan.build_index

    def recorded(*args: Any) -> Any:
        with made_by.open("a") as pids:
            pids.write(f"{os.getpid()}\n")
        return real_index(*args)

    def edit(*names: str) -> None:
        for name in names:
            file = root / "content" / "2016" / f"{name}.md"
            file.write_text(file.read_text().replace("Body text.", f"Zanzibar ferry text {name}."))

    files = {f"2016/b{n}.md": text(n, [TAGS[n % 3]], day=n + 1) for n in range(6)}
    root = make_archive(tmp_path / "a", files)
    sites = []
    with monkeypatch.context() as patched:
        patched.setattr(plan, "CHILD_INDEX_FROM", 0)
        patched.setattr(plan, "INDEX_HERE_AT_MOST", 2)
        patched.setattr(plan, "build_index", recorded)
        build(root)  # cold: in a child
        (root / "content" / "2016" / "b1.md").write_text(text(1, [TAGS[4]], day=2))
        sites.append(tree(build(root)))  # a retag, one entry patched: a new shape, in a child
        edit("b2")
        sites.append(tree(build(root)))  # two entries patched since the model kept, of the retag's shape: here
        edit("b3", "b4", "b5")
        sites.append(tree(build(root)))  # three or more: in a child
    here = str(os.getpid())
    assert [pid == here for pid in made_by.read_text().split()] == [False, False, True, False]
    assert sites[0] != sites[1] != sites[2] and "search/index.json" in sites[-1]
    assert sites[-1] == clean_build(root, tmp_path / "clean")


def test_a_setting_that_changes_the_words_of_unchanged_files_remakes_the_search_index(tmp_path: Path) -> None:
    # Escaped, raw HTML is text ("span" is a word); allowed, it is markup. No file changes.
    files = {f"2016/b{n}.md": text(n, [TAGS[n]], body=f"A <span>quokka</span> {n}.") for n in range(3)}
    root = make_archive(tmp_path / "a", files)
    build(root)
    (root / "site.yaml").write_text((root / "site.yaml").read_text() + "markdown:\n  allow_html: true\n")
    assert tree(build(root)) == clean_build(root, tmp_path / "clean")


def test_nothing_changed_writes_nothing_and_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_archive(tmp_path / "a", {"2016/one.md": text(1, ["Syria"])})
    site = build(root)
    before = {name: (site / name).stat().st_mtime_ns for name in tree(site)}
    build(root)
    assert {name: (site / name).stat().st_mtime_ns for name in tree(site)} == before


def test_a_no_change_build_decides_from_the_stamp_without_the_file_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The output folder's file list is 16 MB at 100,000 briefings; a build with nothing to do
    reads only the stamp beside it. A build stopped before its stamp was saved leaves none, and
    the next one takes the full path."""
    root = make_archive(tmp_path / "a", {"2016/one.md": text(1, ["Syria"])})
    site = build(root)
    loaded: list[str] = []
    real = Cache.load_outputs
    monkeypatch.setattr(Cache, "load_outputs", lambda self, name: loaded.append(name) or real(self, name))
    before = {name: (site / name).stat().st_mtime_ns for name in tree(site)}
    build(root)
    assert loaded == []
    (root / ".cache" / "stamp_site.pickle").unlink()
    build(root)
    assert loaded == ["_site"]
    assert {name: (site / name).stat().st_mtime_ns for name in tree(site)} == before
    build(root)
    assert loaded == ["_site"]  # the full path saved the stamp again


def test_a_no_change_build_decides_from_the_listing_and_a_touched_file_by_its_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files whose signatures are the ones the last build listed are not even looked up among the
    recorded digests; a file touched (same bytes) is read, the build still does nothing, and the
    stamp takes the new listing."""
    monkeypatch.setattr(sources, "SETTLED_NS", 0)  # as if every file had been written long ago
    digested: list[str] = []
    real_read_content = pipeline.read_content
    monkeypatch.setattr(pipeline, "read_content", lambda *a, **k: digested.append("all") or real_read_content(*a, **k))
    reads: list[str] = []
    real_read = sources.read_bytes
    monkeypatch.setattr(sources, "read_bytes", lambda file: reads.append(Path(file).name) or real_read(file))
    root = make_archive(tmp_path / "a", {f"2016/b{n}.md": text(n, [TAGS[n]]) for n in range(3)})
    site = build(root)
    before = {name: (site / name).stat().st_mtime_ns for name in tree(site)}

    def nothing_done(expected_reads: list[str], expected_digesting: list[str]) -> None:
        digested.clear()
        reads.clear()
        build(root)
        assert (sorted(reads), digested) == (expected_reads, expected_digesting)
        assert {name: (site / name).stat().st_mtime_ns for name in tree(site)} == before

    nothing_done([], [])
    target = root / "content" / "2016" / "b1.md"
    os.utime(target, ns=(target.stat().st_atime_ns, target.stat().st_mtime_ns - 1_000_000_000))
    nothing_done(["b1.md"], ["all"])  # touched: read, found the same
    nothing_done([], [])  # the stamp took the new listing

    target.write_text(text(1, [TAGS[1]], title="Renamed"))  # an edit: seen, and built
    assert "Renamed" in (build(root) / "2016" / "03" / "b1" / "index.html").read_text()


def test_content_listed_in_a_child_gives_the_site_a_clean_build_makes_and_the_model_loaded_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """From `SURVEYED_APART_FROM` briefings (here from none), a build lists and reads the content in
    a child while it loads the records' index and the model the last build kept (`load_early`,
    stopped once the child has found nothing to do).
    A build with nothing to do writes nothing; after an edit, a retag, a briefing added and one
    deleted, the site is a clean build's; the parent loads the model and the records' index once,
    the table of digests not at all (the child reads and keeps it), and what the child found
    damaged is said."""
    monkeypatch.setattr(pipeline, "SURVEYED_APART_FROM", 0)
    monkeypatch.setattr(sources, "SETTLED_NS", 0)  # as if every file had been written long ago
    children: list[int] = []
    real_child = pipeline.talking_child
    monkeypatch.setattr(pipeline, "talking_child", lambda task: children.append(1) or real_child(task))
    loaded: list[str] = []  # by this process: the child's loads are the child's
    real_stored = cache_module.Cache._stored

    def stored(self: Cache, name: str, *rest: Any) -> object:
        loaded.append(name)
        return real_stored(self, name, *rest)

    monkeypatch.setattr(cache_module.Cache, "_stored", stored)
    root = make_archive(tmp_path / "a", {f"2016/b{n}.md": text(n, [TAGS[n]], day=n + 1) for n in range(4)})
    site = build(root, "--jobs", "2")
    assert children == []  # the first build: no site before it, nor its count of briefings

    before = {name: (site / name).stat().st_mtime_ns for name in tree(site)}
    loaded.clear()
    build(root, "--jobs", "2")
    assert children == [1]
    assert {name: (site / name).stat().st_mtime_ns for name in tree(site)} == before

    edited = root / "content" / "2016" / "b1.md"
    changes: list[tuple[str, Callable[[], object]]] = [
        ("an edit", lambda: edited.write_text(text(1, [TAGS[1]], day=2, title="Retitled"))),
        ("a retag", lambda: edited.write_text(text(1, [TAGS[4]], day=2, title="Retitled"))),
        ("a briefing added", lambda: (root / "content" / "2016" / "b9.md").write_text(text(9, [TAGS[2]], day=9))),
        ("a briefing deleted", lambda: (root / "content" / "2016" / "b2.md").unlink()),
    ]
    for number, (label, change) in enumerate(changes):
        change()
        loaded.clear()
        assert tree(build(root, "--jobs", "2")) == clean_build(root, tmp_path / f"clean{number}"), label
        assert children == [1] * (number + 2), label
        early = [name for name in loaded if name.startswith(("model-", "records."))]  # (loaded early)
        assert early and len(early) == len(set(early)), (label, early)
        assert not any(name.startswith("digests") for name in loaded), label
    assert any(name.startswith("model-") for name in loaded)  # (the last builds patched the model kept)

    table = root / ".cache" / "digests.pickle"
    table.write_bytes(table.read_bytes()[:-1] + b"!")
    edited.write_text(text(1, [TAGS[4]], day=2, title="Retitled again"))
    capsys.readouterr()
    assert run(root, "--jobs", "2") == 0
    assert ".cache/digests.pickle: damaged or not written by this build" in capsys.readouterr().err
    assert tree(site) == clean_build(root, tmp_path / "clean-last")


def test_an_edit_takes_what_was_worked_out_from_the_index_and_a_change_of_shape_date_files_or_clock_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The digests of every file's shape and frame and the clock's position (`stages.IndexFacts`)
    are kept with the records' index. A build whose parsed files keep their shape, frame and
    moment, none added or removed, takes them while the position holds (a title edited), and
    works them out again otherwise: a retag, a date moved, a briefing added, deleted or renamed
    (as many files as before), the clock past a scheduled briefing's date. Each site is a clean
    build's."""
    worked: list[str] = []
    real = stages.index_facts
    monkeypatch.setattr(stages, "index_facts", lambda run, index: worked.append("") or real(run, index))

    def clock(day: int) -> None:
        monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(datetime(2016, 3, day, 12, tzinfo=UTC).timestamp())))

    clock(20)
    files = {f"2016/b{n}.md": text(n, [TAGS[n]], day=n + 1) for n in range(4)}
    root = make_archive(tmp_path / "a", {**files, "2016/later.md": text(7, [TAGS[0]], day=25)})  # scheduled
    build(root)
    edited, added = root / "content" / "2016" / "b1.md", root / "content" / "2016" / "b8.md"
    renamed = edited.with_name("b1-renamed.md")
    steps: list[tuple[str, Callable[[], object], bool]] = [
        ("a title edited", lambda: edited.write_text(text(1, [TAGS[1]], day=2, title="Retitled")), False),
        ("a retag", lambda: edited.write_text(text(1, [TAGS[4]], day=2, title="Retitled")), True),
        ("a title edited after it", lambda: edited.write_text(text(1, [TAGS[4]], day=2, title="Again")), False),
        ("a date moved", lambda: edited.write_text(text(1, [TAGS[4]], day=3, title="Again")), True),
        ("a briefing added", lambda: added.write_text(text(8, [TAGS[2]], day=9)), True),
        ("a briefing deleted", added.unlink, True),
        ("a briefing renamed", lambda: edited.rename(renamed), True),
        ("the clock past the scheduled briefing", lambda: clock(26), True),
        ("a title edited then", lambda: renamed.write_text(text(1, [TAGS[4]], day=3, title="Last")), False),
    ]
    for number, (label, change, again) in enumerate(steps):
        change()
        worked.clear()
        build(root)
        assert worked == ([""] if again else []), label
        assert tree(root / "_site") == clean_build(root, tmp_path / f"clean{number}"), label


def test_the_child_that_reads_the_content_digests_the_inputs_and_a_file_touched_is_found_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From `SURVEYED_APART_FROM` briefings (here from none), the child that reads the content
    digests the build's inputs too (`inputs_digest`), which the parent would do once it has heard
    the content. A file touched, its bytes the same, is then found unchanged from that digest:
    nothing is written; after an edit the site is a clean build's. Neither digest is the parent's."""
    monkeypatch.setattr(pipeline, "SURVEYED_APART_FROM", 0)
    monkeypatch.setattr(sources, "SETTLED_NS", 0)  # as if every file had been written long ago
    calls = tmp_path / "digested"  # who digested the inputs, one pid a line (the child's list is its own)
    real_digest = pipeline.inputs_digest

    def digest(*args: Any) -> str:
        with calls.open("a") as out:
            out.write(f"{os.getpid()}\n")
        return real_digest(*args)

    monkeypatch.setattr(pipeline, "inputs_digest", digest)
    root = make_archive(tmp_path / "a", {f"2016/b{n}.md": text(n, [TAGS[n]], day=n + 1) for n in range(4)})
    site = build(root, "--jobs", "2")
    build(root, "--jobs", "2")  # (the first build with a child: the second, once the cache counts the briefings)
    before = {name: (site / name).stat().st_mtime_ns for name in tree(site)}
    touched = root / "content" / "2016" / "b1.md"
    os.utime(touched, ns=(touched.stat().st_atime_ns, touched.stat().st_mtime_ns + 10**9))
    calls.unlink()
    build(root, "--jobs", "2")
    assert {name: (site / name).stat().st_mtime_ns for name in tree(site)} == before
    pids = calls.read_text().split()
    assert len(pids) == 1 and int(pids[0]) != os.getpid()

    touched.write_text(text(1, [TAGS[1]], day=2, title="Retitled"))
    calls.unlink()
    build(root, "--jobs", "2")
    pids = calls.read_text().split()
    assert len(pids) == 1 and int(pids[0]) != os.getpid()
    assert tree(site) == clean_build(root, tmp_path / "clean")


@pytest.mark.parametrize("child_done", [False, True], ids=["child-still-reading", "child-done-at-once"])
def test_while_the_child_reads_the_parent_loads_what_the_last_build_loaded_next_each_file_once(
    child_done: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the child reads what changed, the parent loads the files the last build loaded after
    the model, in its order (`Cache.load_early` of those `read_ahead` reads), until the child has
    said the content. Here the child is seen as still reading until every one is loaded, or as done
    at once (the loads stop at the first file). Either way the site is a clean build's after an
    edit, a retag and a briefing added, and the parent loads no file twice: what it loaded ahead is
    what the build's own loads take (a file written since is loaded again)."""
    monkeypatch.setattr(pipeline, "SURVEYED_APART_FROM", 0)
    monkeypatch.setattr(sources, "SETTLED_NS", 0)  # as if every file had been written long ago
    monkeypatch.setattr(cache_module, "READ_AHEAD_FROM", 1)  # (a small archive's cache)
    real_child = pipeline.talking_child

    @contextlib.contextmanager
    def seen_child(task: Callable[..., object]) -> Any:
        with real_child(task) as talk:
            talk.ready = lambda: child_done  # type: ignore[method-assign]  # (heard() waits, as ever)
            yield talk

    monkeypatch.setattr(pipeline, "talking_child", seen_child)
    parent, loaded, ahead, taken = os.getpid(), [], [], []
    real_stored, real_load = cache_module.Cache._stored, cache_module.Cache._load

    def stored(self: Cache, name: str, settings: object, *rest: Any) -> object:
        if os.getpid() == parent:  # (the child's loads are the child's)
            with contextlib.suppress(OSError):
                found = (self.folder / name).stat()
                loaded.append((name, found.st_ino, found.st_mtime_ns, found.st_size))  # the file as it was
            if settings is cache_module._ANY and not name.startswith(("model-", "records.")):
                ahead.append(len(loaded) - 1)  # (its place in `loaded`)
        return real_stored(self, name, settings, *rest)

    def load(self: Cache, name: str, *rest: Any, **named: Any) -> object:
        if name in self._early:
            taken.append(name)
        return real_load(self, name, *rest, **named)

    monkeypatch.setattr(cache_module.Cache, "_stored", stored)
    monkeypatch.setattr(cache_module.Cache, "_load", load)
    root = make_archive(tmp_path / "a", {f"2016/b{n}.md": text(n, [TAGS[n]], day=n + 1) for n in range(4)})
    build(root, "--jobs", "2")
    edited = root / "content" / "2016" / "b1.md"
    changes: list[tuple[str, Callable[[], object]]] = [
        ("an edit", lambda: edited.write_text(text(1, [TAGS[1]], day=2, title="Retitled"))),
        ("another edit", lambda: edited.write_text(text(1, [TAGS[1]], day=2, title="Retitled again"))),
        ("a retag", lambda: edited.write_text(text(1, [TAGS[4]], day=2, title="Retitled again"))),
        ("a briefing added", lambda: (root / "content" / "2016" / "b9.md").write_text(text(9, [TAGS[2]], day=9))),
    ]
    for number, (label, change) in enumerate(changes):
        change()
        for found in (loaded, ahead, taken):
            found.clear()
        assert tree(build(root, "--jobs", "2")) == clean_build(root, tmp_path / f"clean{number}"), label
        if child_done:  # asked as each file's value is read: the first, small here, may be read whole
            assert len(ahead) <= 1, label
            continue
        assert ahead, label
        since = loaded[ahead[0] :]  # from the first file loaded ahead on, none loaded twice as it was
        assert len(since) == len(set(since)), (label, [file for file in since if since.count(file) > 1])
        assert {loaded[at][0] for at in ahead} & set(taken), label  # what the build's loads took


class Child:
    """A child that has asked (`question`) or not yet (None), or whose question cannot be heard."""

    def __init__(self, question: str | None = None, fails: bool = False) -> None:
        self.question, self.fails, self.said = question, fails, []

    def ready(self) -> bool:
        return self.question is not None

    def heard(self) -> str:
        if self.fails:
            raise ChildFailed("the child process ended before it answered")
        assert self.question is not None, "heard while the child is silent: the build would wait for ever"
        question, self.question = self.question, None
        return question

    def say(self, value: object) -> None:
        self.said.append(value)


class Decided:
    def __init__(self, work: bool | Exception) -> None:
        self.answer = work

    def go_on(self, listed: str) -> bool:
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_the_child_listing_the_content_is_answered_once_as_soon_as_it_asks() -> None:
    """`pipeline._Answer`: while the build loads early, the child's question is answered the moment
    it is asked (the loading stops when there is nothing to do), never twice; what hearing or
    deciding raised is raised again where the answer is needed, and never leaves the build waiting."""
    child = Child()
    answer = pipeline._Answer(child, Decided(False))  # type: ignore[arg-type]
    assert answer.nothing_to_do() is False  # not asked yet: loading goes on
    child.question = "listed"
    assert answer.nothing_to_do() is True
    assert answer.nothing_to_do() is True and answer.work() is False
    assert child.said == [False]  # once

    child = Child("listed")
    answer = pipeline._Answer(child, Decided(True))  # type: ignore[arg-type]
    assert answer.nothing_to_do() is False and answer.work() is True
    assert child.said == [True]

    for child, decided in ((Child(fails=True), Decided(True)), (Child("listed"), Decided(OSError("stamp")))):
        answer = pipeline._Answer(child, decided)  # type: ignore[arg-type]
        with contextlib.suppress(ChildFailed, OSError):  # (what `load_early` does with it)
            answer.nothing_to_do() if child.ready() else answer.work()
        assert answer.nothing_to_do() is False  # asked again, it does not wait
        with pytest.raises((ChildFailed, OSError)):
            answer.work()
        assert child.said == []


def test_deleting_the_cache_gives_the_same_site(tmp_path: Path) -> None:
    root = make_archive(tmp_path / "a", {f"2016/b{n}.md": text(n, [TAGS[n]]) for n in range(4)})
    first = tree(build(root))
    shutil.rmtree(root / ".cache")
    assert tree(build(root)) == first


def test_a_build_without_the_cache_is_the_same_and_leaves_no_cache(tmp_path: Path) -> None:
    root = make_archive(tmp_path / "a", {f"2016/b{n}.md": text(n, [TAGS[n]]) for n in range(4)})
    cached = tree(build(root))
    shutil.rmtree(root / ".cache")
    (root / "content" / "2016" / "b0.md").write_text(text(0, [TAGS[0]], title="Changed"))
    uncached = tree(build(root, "--no-cache"))
    assert not (root / ".cache").exists()
    assert uncached != cached and uncached == clean_build(root, tmp_path / "clean")
    assert [p.name for p in root.iterdir() if p.name.startswith("._site")] == []


def test_outputs_made_with_the_same_bytes_are_not_made_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_archive(tmp_path / "a", {"2016/one.md": text(1, ["Syria"])})
    build(root)
    file = root / "content" / "2016" / "one.md"
    file.write_text(file.read_text() + "\n")  # new bytes, new keys, but a trailing blank line shows nowhere
    assert run(root) == 0 and ", 0 written" in capsys.readouterr().out
    site = root / "site.yaml"
    site.write_text(site.read_text() + "# a comment\n")  # another input changes, no output does
    assert run(root) == 0 and ": nothing changed;" in capsys.readouterr().out


def test_a_failed_build_without_the_cache_leaves_nothing_behind(tmp_path: Path) -> None:
    root = make_archive(tmp_path / "a", {"2016/one.md": text(1, ["Syria"])})
    (root / "templates" / "term.html").write_text("{{ no_such_thing.at_all }}")
    assert run(root, "--quiet", "--no-cache") == 1
    assert [p.name for p in root.iterdir() if p.name.startswith(("._site", "_site", ".cache"))] == []


def test_parallel_and_serial_builds_are_identical(tmp_path: Path) -> None:
    archive = tmp_path / "generated"
    write_archive(archive, generate(80, seed=3))
    shutil.copytree(archive, tmp_path / "serial")
    parallel = tree(build(archive, "--jobs", "2"))
    serial = tree(build(tmp_path / "serial", "--jobs", "1"))
    assert len(parallel) > 200 and parallel == serial


def processes_on(root: Path) -> list[int]:
    """Return the ids of running processes whose command line names `root` (builds and their workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and str(root).encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue  # it ended while we looked
    return found


def no_processes_left(root: Path, timeout: float = 10) -> bool:
    """Wait until nothing runs on `root` any more; workers end shortly after their parent."""
    deadline = time.monotonic() + timeout
    while processes_on(root):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def build_locked(root: Path) -> bool:
    """Return True while some process holds the archive's build lock (an flock on its folder)."""
    inode = f":{root.stat().st_ino} "
    return any(inode in line for line in Path("/proc/locks").read_text().splitlines())


def rewritten(root: Path, since_ns: int, sample: list[str]) -> int:
    """Return how many of the `sample` files of the spare output folder were written since `since_ns`
    (a sample, so that looking is quick enough to catch each moment)."""
    spare, count = root / ".cache" / "spare_site", 0
    for name in sample:
        with contextlib.suppress(OSError):  # not there yet, or the folder is being exchanged
            count += (spare / name).stat().st_mtime_ns >= since_ns
    return count


def moments(root: Path, changed: list[str]) -> list[tuple[str, Callable[[int], bool]]]:
    """Return the observable moments of a build that rewrites the files `changed`, each as a test
    on the build's start time in ns: starting (the imports), holding the lock (reading and
    planning), and a first, half and every file of a sample of them written to the spare folder
    (then comes the exchange)."""
    sample = sorted(changed)[:: max(1, len(changed) // 40)]
    return [
        ("starting", lambda _: True),
        ("holding the lock", lambda _: build_locked(root)),
        ("writing the first pages", lambda t: rewritten(root, t, sample) >= 1),
        ("half the pages written", lambda t: rewritten(root, t, sample) >= len(sample) // 2),
        ("every page written", lambda t: rewritten(root, t, sample) >= len(sample)),
    ]


def signal_when(process: subprocess.Popen[Any], ready: Callable[[int], bool], started: int, signum: int) -> bool:
    """Send `signum` as soon as `ready(started)` holds; return False if the process ended first."""
    while process.poll() is None:
        if ready(started):
            process.send_signal(signum)
            return True
        time.sleep(0.002)
    return False


def template_variants(tmp_path: Path, seed: int, count: int) -> tuple[Path, Path, list[str], list[dict[str, bytes]]]:
    """Return a generated archive built with the first of `count` base templates, the template's
    path, the variants, and the site each gives when built cleanly. Each variant changes every
    page, and none is the one before (whose site the spare output folder holds, so that a switch
    back would write nothing). A variant's site is the first's with its mark in place of the
    first's, which a clean build of the last variant confirms."""
    root = tmp_path / "archive"
    write_archive(root, generate(200, seed=seed))
    base = root / "templates" / "base.html"
    original = base.read_text()
    marks = [f"<!-- variant {n} -->".encode() for n in range(count)]
    variants = [original.replace("</body>", f"{mark.decode()}\n</body>") for mark in marks]
    base.write_text(variants[0])
    first = clean_build(root, tmp_path / "clean")
    sites = [{name: data.replace(marks[0], mark) for name, data in first.items()} for mark in marks]
    base.write_text(variants[-1])
    assert clean_build(root, tmp_path / "clean") == sites[-1]
    base.write_text(variants[0])
    assert tree(build(root)) == sites[0]
    return root, base, variants, sites


def test_a_killed_build_leaves_a_whole_site_and_the_next_build_is_correct(tmp_path: Path) -> None:
    root, base, variants, sites = template_variants(tmp_path, seed=5, count=6)
    changed = [name for name, data in sites[0].items() if data != sites[1].get(name)]  # by each switch
    interrupted = []
    for step, (moment, ready) in enumerate(moments(root, changed)):
        old, new = sites[step], sites[step + 1]
        base.write_text(variants[step + 1])  # every page changes
        started = time.time_ns()
        killed = subprocess.Popen([sys.executable, str(REPO / "build.py"), "--quiet", "--root", str(root)])
        if signal_when(killed, ready, started, signal.SIGKILL):
            interrupted.append(moment)
        killed.wait()
        assert no_processes_left(root), f"a worker outlived its build killed {moment}"
        assert tree(root / "_site") in (old, new), f"killed {moment}"
        assert [p.name for p in root.iterdir() if p.name.startswith("._site")] == []
        assert tree(build(root)) == new, f"the build after a kill {moment}"
    assert len(interrupted) >= 4, interrupted  # the last moment may come as the build ends


def test_cached_records_pickle_as_their_constructor_arguments(tmp_path: Path) -> None:
    """Records and what they hold come back equal, rebuilt by their constructors (dataclasses'
    own way for classes with slots sets each field in a Python loop: twice as slow)."""
    root = tmp_path / "archive"
    write_archive(root, generate(3, seed=1))
    parser = RecordParser(parse_config((root / "site.yaml").read_text()).parsing)
    path = sorted(str(p.relative_to(root)) for p in (root / "content").rglob("*.md"))[0]
    record, _ = parser.parse_apart(path, (root / path).read_bytes())
    assert record.briefing is not None and record.body is not None
    assert record.__reduce__()[0] is Record and record.briefing.source.__reduce__()[0] is Source
    assert pickle.loads(pickle.dumps(record)) == record


def test_the_record_index_is_kept_as_plain_rows_and_read_back_whole_or_not_at_all() -> None:
    """The summaries come back equal from their rows, which unpickle without a call to a class;
    a row of another length, or anything else, gives no summary (every file is then parsed
    again), never a wrong one."""
    index = {
        "content/2015/a.md": records.Summary("d1", "s1", True, 1442000000.0, "f1"),
        "content/2015/b.md": records.Summary("d2", "s2", False, None, "f2"),
    }
    rows = records.index_rows(index)
    assert all(type(row) is tuple for row in rows.values())
    paths, missing = list(index), records.Summary("", "", False, None, "")

    def index_from(rows: object, paths: list[str] = paths) -> dict[str, records.Summary]:
        summaries, kept = records.summaries_from(rows, paths, missing)
        found = {path: s for path, s in zip(paths, summaries, strict=True) if s is not missing}
        assert found.keys() <= kept  # (the files it holds)
        return found

    assert index_from(pickle.loads(pickle.dumps(rows))) == index
    assert index_from({path: rows[path] for path in reversed(paths)}) == index  # by path, not by place
    assert index_from(rows, [*paths, "content/2015/new.md"]) == index  # a file added: no summary
    assert index_from({**rows, "content/2015/c.md": ("d3", "s3", True)}) == {}
    assert index_from({"content/2015/a.md": None}) == {}
    assert index_from(list(rows.items())) == {}
    assert index_from(None) == {}
    # After an edit the rows kept are taken as they are, but the edited file's: by place where the
    # index lists the files in the kept order, by path where it does not.
    kept = pickle.loads(pickle.dumps(rows))
    edited = {**index, "content/2015/b.md": index["content/2015/b.md"]._replace(digest="d9")}
    for table in (edited, dict(reversed(edited.items()))):
        again = records.index_rows(table, ["content/2015/b.md"], kept)
        assert again == {path: tuple(summary) for path, summary in table.items()}
        assert again["content/2015/a.md"] is kept["content/2015/a.md"]


def test_the_model_kept_holds_each_value_its_briefings_share_once(tmp_path: Path) -> None:
    """The model is kept between builds and unpickled by each (most of a one-edit build's model
    load): a value many briefings hold is one object in it, not a copy per briefing. The links to
    region, a source; a country's name and a story's; the site links and hrefs bodies share;
    each file's path and digest, held by its entry and by the model's digests."""
    body = "See [the region](/regions/europe/) and [the first](b0.md)."
    files = {
        f"2016/b{n}.md": briefing(
            f"Briefing {n}",
            f"2016-03-{n + 1:02d}T10:00:00+03:00",
            "[Energy]",
            "Europe",
            extra=f"countries: [{'Germany, France' if n % 2 else 'France'}]\nstory: Gas prices\n",
            body=body if n else "The first.",
        )
        for n in range(4)
    }
    root = make_archive(tmp_path / "a", files)
    build(root)  # a cold build keeps the model it made
    cache = Cache(root)
    made = cache.recall("model_files", None)
    assert isinstance(made, stages.ModelFiles)
    warm = stages.kept_model(cache, inputs=made.inputs)
    assert warm is not None
    entries = [e for e in warm.archive.entries if e.briefing.path != "content/2016/b0.md"]
    first, *others = entries
    regions, sources_ = archive.BY_NAME["regions"], archive.BY_NAME["sources"]
    for other in others:
        assert other.terms(regions) is first.terms(regions) and other.terms(sources_) is first.terms(sources_)
        assert other.site_links is first.site_links and other.briefing.story is first.briefing.story
        assert other.briefing.countries[-1] is first.briefing.countries[-1]  # France
        assert other.body.hrefs == first.body.hrefs == ("/regions/europe/", "/2016/03/b0/")
        assert all(map(operator.is_, other.body.hrefs, first.body.hrefs))
    # Kept with its entries' strings, though the digests a build finds are other copies of them
    # (from the cache's tables, or workers): made here as copies, equal but other objects.
    copies = {"".join(list(path)): "".join(list(digest)) for path, digest in warm.digests.items()}
    stages.keep_model(cache, replace(warm, digests=copies, clock=None), {}, always=True)
    again = stages.kept_model(cache, inputs=made.inputs)
    assert again is not None and again.digests == warm.digests
    for entry in again.archive.entries:
        key = next(path for path in again.digests if path == entry.briefing.path)
        assert key is entry.briefing.path and again.digests[key] is entry.body.digest


def test_an_edit_makes_only_the_briefings_its_pages_show_of_the_model_it_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted: an entry of the model loaded from the cache makes its briefing and its body
    when first read (`archive.unmade_entry`). An edit to one briefing's summary makes those
    the pages it reaches show, not every briefing: the passes over every entry read what an
    entry holds apart (its file, image src, date of change and site links). The site is a clean
    build's, and the model kept after it holds the briefings made and not made alike."""
    root = tmp_path / "a"
    write_archive(root, generate(150, seed=11))
    settings = root / "site.yaml"
    settings.write_text(settings.read_text().replace("per_page: 200", "per_page: 10"))  # as 200 of 100,000
    build(root)  # keeps the model it made
    made: list[str] = []
    real = archive.remade
    monkeypatch.setattr(archive, "remade", lambda cls, names, row: made.append(row[0]) or real(cls, names, row))
    oldest = sorted((root / "content").rglob("*.md"))[0]
    oldest.write_text(oldest.read_text().replace("summary: ", "summary: Edited. ", 1))
    report = pipeline.build(root, pipeline.Options(jobs=1))
    assert report.archive is not None and report.replanned is not None
    assert 0 < len(made) < 150 // 2, len(made)  # 46: those of its term, month, year and related pages
    site, model = clean_site_and_model(root, tmp_path / "clean")
    assert model is not None and report.archive.modified == model.modified
    assert tree(root / "_site") == site
    kept = pickle.loads(pickle.dumps(report.archive.entries))
    assert kept == report.archive.entries
    assert [e.file for e in kept] == [e.briefing.path for e in report.archive.entries]


def test_an_edit_seeds_the_hasher_with_the_entries_its_outputs_held_and_digests_none_of_the_kept_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted: a plan that recalls the last one seeds its hasher with the kept digests of the
    entries the outputs it keys again held in the last plan (`Keying.seed_kept`, found in
    `Readers`), not with every entry's, and digests no entry of the kept model itself: each it
    meets was seeded (the edited entry is a new one). The site is a clean build's."""
    root = tmp_path / "a"
    write_archive(root, generate(150, seed=11))
    settings = root / "site.yaml"
    settings.write_text(settings.read_text().replace("per_page: 200", "per_page: 10"))  # as 200 of 100,000
    build(root)  # keeps the model it made, and its entries' digests
    seeded: list[int] = []
    digested: list[object] = []
    real_seed, real_digest = keys.Hasher.seed_all, keys.Hasher._dataclass

    def seed_all(self: keys.Hasher, values: tuple[object, ...], digests: tuple[bytes, ...]) -> None:
        seeded.append(len(values))
        real_seed(self, values, digests)

    def digest(self: keys.Hasher, value: Any) -> bytes:
        if type(value) is archive.Entry:
            digested.append(value)
        return real_digest(self, value)

    monkeypatch.setattr(keys.Hasher, "seed_all", seed_all)
    monkeypatch.setattr(keys.Hasher, "_dataclass", digest)
    oldest = sorted((root / "content").rglob("*.md"))[0]
    oldest.write_text(oldest.read_text().replace("summary: ", "summary: Edited. ", 1))
    report = pipeline.build(root, pipeline.Options(jobs=1))
    assert report.archive is not None and report.replanned is not None
    assert len(seeded) == 1 and 0 < seeded[0] < 150 // 2, seeded
    assert [entry.file for entry in digested] == [oldest.relative_to(root).as_posix()]  # (the edited one)
    assert tree(root / "_site") == clean_build(root, tmp_path / "clean")


def test_a_run_of_retags_adds_and_moves_ranks_related_briefings_from_the_kept_ranking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted: each change that reranks related briefings (a retag, a briefing added, one moved
    to another date or slug, a retag and a move at once, one deleted) does so from the ranking of the model it
    patches (`archive.related_patched`: the model kept names it by `Archive.ranking`, and the
    cache keeps it beside the last build's, `KEPT_RANKING`), so the briefings whose tags did not
    change are not made to read their tags.
    Each build patches the model kept before the first: it is not kept again until a shape
    repeats. None reads every briefing's tags (`_written_tags`), and the first makes fewer than
    half the briefings (the pages it reaches show the others; those the builds after it reach
    show more); none makes half the bodies (a move or a delete looks for the bodies linking to
    it: `archive.linking_to`, `Entry.body_hrefs`). Each site and each model's related lists are
    a clean build's."""
    root = tmp_path / "a"
    write_archive(root, generate(150, seed=12))
    settings = root / "site.yaml"
    settings.write_text(settings.read_text().replace("per_page: 200", "per_page: 10"))  # as 200 of 100,000
    build(root)
    made: list[str] = []
    real = archive.remade
    monkeypatch.setattr(archive, "remade", lambda cls, names, row: made.append(row[0]) or real(cls, names, row))
    every: list[int] = []
    written_tags = archive._written_tags
    monkeypatch.setattr(archive, "_written_tags", lambda entries: every.append(1) or written_tags(entries))
    bodies: list[str] = []
    real_body = archive.BodyRef
    monkeypatch.setattr(archive, "BodyRef", lambda *row: bodies.append(row[0]) or real_body(*row))
    files = sorted((root / "content").rglob("*.md"))

    def retag(file: Path, tags: str) -> None:
        file.write_text(re.sub(r"^tags: .*$", f"tags: [{tags}]", file.read_text(), count=1, flags=re.M))

    def add(file: Path) -> None:
        text = re.sub(r"^title: ", "title: Added ", files[0].read_text(), count=1, flags=re.M)
        file.write_text(re.sub(r"^slug: .*\n", "", text, count=1, flags=re.M))

    def move(file: Path) -> None:
        written = re.search(r"^date: (\S+)", file.read_text(), flags=re.M)
        assert written is not None
        day = datetime.fromisoformat(written[1]) + timedelta(days=3)
        file.write_text(file.read_text().replace(written[0], f"date: {day.isoformat()}", 1))

    def slug(file: Path) -> None:
        text = re.sub(r"^slug: .*\n", "", file.read_text(), count=1, flags=re.M)
        file.write_text(text.replace("\ntitle: ", "\nslug: chosen-slug\ntitle: ", 1))

    changes: list[Callable[[], object]] = [
        lambda: retag(files[0], "A new tag, Topic 001"),
        lambda: retag(files[1], "Another new tag"),  # the model kept is the one before the first
        lambda: add(files[0].with_name("added.md")),
        lambda: move(files[2]),
        lambda: (retag(files[3], "Topic 001"), move(files[4])),  # in one build: two steps (`with_terms`)
        lambda: slug(files[-1]),  # moved, to the same place in the order (far from the others): only its entry is new
        lambda: files[-2].unlink(),  # the bodies that link to it are looked for without making every body
    ]
    for number, change in enumerate(changes):
        made.clear()
        every.clear()  # (a clean model reads them all)
        bodies.clear()
        change()
        report = pipeline.build(root, pipeline.Options(jobs=1))
        assert report.archive is not None and report.replanned is not None
        assert not every and 0 < len(made) < (150 // 2 if number == 0 else 150), (number, len(made))
        assert len(bodies) < 150 // 2, (number, len(bodies))
        site, model = clean_site_and_model(root, tmp_path / f"clean{number}")
        assert model is not None and report.archive.related == model.related, number
        assert tree(root / "_site") == site, number
        kept = Cache(root).recall("related", archive.RANKING_FORMAT)
        assert isinstance(kept, archive.Ranking) and kept.token == report.archive.ranking != b"", number
