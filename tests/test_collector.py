"""The garbage collector during a build: what the cache gives back is out of its sight while
the stage runs and back in sight after, and the content listing is freed as soon as it is dropped."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from briefings import pipeline, sources
from briefings.cache import Cache
from briefings.collector import few_collections
from briefings.workers import forked_map
from tests.conftest import briefing, make_archive


@pytest.fixture
def collector_paused() -> Iterator[None]:
    """Run a test with no automatic collection, so that it counts what `gc.collect` finds."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def test_the_content_listing_is_freed_as_soon_as_it_is_dropped(tmp_path: Path, collector_paused: None) -> None:
    files = {f"2015/b{n:02d}.md": briefing(title=f"Briefing {n}") for n in range(30)}
    root = make_archive(tmp_path / "site", files)
    names, found, problems = sources.walk(root, "content", ".md")
    assert len(names) == len(found) == 30 and not problems
    del names, found, problems
    assert gc.collect() == 0  # no cycle held it: dropping it freed it


def test_what_the_cache_gives_back_is_out_of_the_collectors_sight_until_the_stage_returns(tmp_path: Path) -> None:
    cache = Cache(make_archive(tmp_path / "site", {}))
    cache.remember("slot", "inputs", {"kept": ["for", "the", "build"]})

    def tracked(value: object) -> bool:
        return any(found is value for found in gc.get_objects())

    @few_collections
    def stage() -> object:
        value = cache.recall("slot", "inputs")
        assert value == {"kept": ["for", "the", "build"]}
        assert gc.get_freeze_count() > 0 and not tracked(value)
        assert gc.isenabled()
        return value

    threshold = gc.get_threshold()
    value = stage()
    assert gc.get_freeze_count() == 0 and tracked(value)
    assert gc.get_threshold() == threshold and gc.isenabled()


def test_a_build_and_a_rebuild_leave_the_collector_as_they_found_it(tmp_path: Path) -> None:
    files = {f"2015/b{n:02d}.md": briefing(title=f"Briefing {n}") for n in range(5)}
    root = make_archive(tmp_path / "site", files)
    threshold = gc.get_threshold()
    pipeline.build(root)
    (root / "content/2015/b01.md").write_text(briefing(title="Edited"), encoding="utf-8")
    assert pipeline.build(root).written.written > 0  # the cache's records were loaded: out of sight
    assert gc.get_freeze_count() == 0 and gc.isenabled() and gc.get_threshold() == threshold


def test_forked_workers_inherit_the_parents_objects_hidden_and_collect_their_own_garbage() -> None:
    @few_collections
    def stage() -> list[tuple[bool, bool]]:
        return list(forked_map(lambda _: (gc.isenabled(), gc.get_freeze_count() > 0), 100, 2))

    assert set(stage()) == {(True, True)}
    assert gc.get_freeze_count() == 0
