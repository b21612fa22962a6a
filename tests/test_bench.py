"""The benchmark's own arithmetic: cold builds taken in turn, ratios to Hugo paired by round; its stage
timer; the floor of the required libraries."""

from __future__ import annotations

import hmac
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bench import floor, outputs, seals, stages
from bench import rounds as bench_rounds
from bench import run as bench
from bench.generate import generate, write_archive
from briefings import cache, pipeline
from tests.conftest import REPO, build


def test_jobs_are_taken_in_turn_in_every_round_and_the_warm_up_is_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    order: list[str] = []
    seconds = iter(range(1, 100))

    def timed(command: list[str], cwd: Path) -> bench.Run:
        order.append(command[0])
        return bench.Run(float(next(seconds)), 1.0, 10.0)

    monkeypatch.setattr(bench, "timed", timed)
    jobs = {"cold": lambda: ["ours"], "Hugo cold": lambda: ["hugo"]}
    ours, hugo = bench.in_turn(2, jobs, Path())
    assert order == ["ours", "hugo"] * 3
    assert [r.seconds for r in ours.runs] == [3.0, 5.0] and [r.seconds for r in hugo.runs] == [4.0, 6.0]
    assert ours.seconds == 4.0 and hugo.seconds == 5.0


def test_an_output_set_aside_is_moved_whole_beside_the_others_and_a_missing_one_is_skipped(tmp_path: Path) -> None:
    aside = tmp_path / "set aside"
    for round_ in range(2):
        (tmp_path / "_site" / "tags").mkdir(parents=True)
        (tmp_path / "_site" / "tags" / "index.html").write_text(f"round {round_}")
        bench.set_aside(tmp_path / "_site", aside)
        assert not (tmp_path / "_site").exists()
    bench.set_aside(tmp_path / "never made", aside)
    kept = sorted(page.read_text() for page in aside.glob("*/_site/tags/index.html"))
    assert kept == ["round 0", "round 1"] and len(list(aside.iterdir())) == 2


def test_a_run_without_room_for_the_outputs_set_aside_is_refused_before_it_starts(tmp_path: Path) -> None:
    assert bench.room_needed([1000, 10000], 3) == 11_000 * 4 * bench.SET_ASIDE_PER_BRIEFING
    assert bench.lacking_room([1000], 1, tmp_path) == ""  # 128 MB: any test machine has that
    said = bench.lacking_room([10**9], 3, tmp_path)
    assert said.startswith("bench: the cold builds set their outputs aside") and "GB free" in said
    assert "--runs" in said and "TMPDIR" in said


def test_cold_ratios_are_the_median_of_each_rounds_ratio() -> None:
    def timing(scenario: str, walls: list[float], paired: bool = True) -> bench.Timing:
        runs = tuple(bench.Run(w, 2 * w, 1.0) for w in walls)
        return bench.Timing(scenario, sorted(walls)[1], 2 * sorted(walls)[1], 1.0, runs, paired)

    # Rounds whose ratios are 1.3, 1.1 and 1.25: the median is 1.25, where the ratio of the two
    # columns' medians (22 s against 20 s) would be 1.1.
    hugo = timing("Hugo cold", [10.0, 20.0, 40.0])
    ours = timing("cold", [13.0, 22.0, 50.0])
    assert bench.ratios(ours, hugo) == pytest.approx((1.25, 1.25))
    edit = timing("one briefing edited", [1.0, 2.0, 3.0], paired=False)  # not taken in the same rounds: medians
    assert bench.ratios(edit, hugo) == pytest.approx((0.1, 0.1))


def test_a_report_gives_every_rounds_ratio_to_hugo_beside_their_median() -> None:
    """On a noisy machine the rounds disagree: the report shows how far, in the order they ran."""
    runs = lambda *walls: tuple(bench.Run(w, 2 * w, 1.0) for w in walls)  # noqa: E731
    hugo = bench.Timing("Hugo cold", 20.0, 40.0, 1.0, runs(10.0, 20.0, 40.0), paired=True)
    ours = bench.Timing("cold", 22.0, 44.0, 1.0, runs(13.0, 22.0, 50.0), paired=True)
    edit = bench.Timing("one briefing edited", 2.0, 4.0, 1.0, runs(1.0, 2.0, 3.0))
    assert bench.round_ratios(ours, hugo) == pytest.approx([(1.3, 1.3), (1.1, 1.1), (1.25, 1.25)])
    assert bench.round_ratios(edit, hugo) == []  # not taken in turn with Hugo's
    table = bench.report({1000: ([ours, hugo, edit], [])}, runs=3)
    spread = [line for line in table.splitlines() if line.startswith("- 1,000, ")]
    assert spread == ["- 1,000, cold: wall 1.30, 1.10, 1.25; CPU 1.30, 1.10, 1.25"]
    row = next(line for line in table.splitlines() if line.startswith("| 1,000 | cold |"))
    assert row.endswith("| 1.25x | 1.25x |")
    alone = bench.report({1000: ([edit], [])}, runs=3)
    assert "Each round's ratio" not in alone


def test_the_output_table_gives_each_size_as_a_share_of_githubs_gigabyte() -> None:
    # 1,055,307,304 bytes: the 100,000-briefing site; GitHub's deploy action counts 1 GB as 2**30 bytes.
    site = bench.Output("briefings", 1_055_307_304, 108_160, (75_633, "corrections/index.html"), 189_900_000)
    table = bench.report({100_000: ([bench.Timing("cold", 1.0, 2.0, 3.0)], [site])}, runs=1)
    row = next(line for line in table.splitlines() if line.startswith("| 100,000 | briefings |"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[3:5] == ["1055.3", "98.3%"] and cells[6:] == ["189.9", "17.7%"]


def test_a_report_says_the_cold_builds_ran_in_turn_only_when_they_ran() -> None:
    """A run with `--no-cold` times the scenarios alone: its report does not describe cold rounds."""
    cold = bench.Timing("cold", 1.0, 2.0, 3.0, paired=True)
    hugo = bench.Timing("Hugo cold", 1.0, 2.0, 3.0, paired=True)
    scenarios = bench.Timing("no change", 0.4, 0.4, 100.0)
    assert "run in turn" in bench.report({1000: ([cold, hugo, scenarios], [])}, runs=1)
    alone = bench.report({1000: ([scenarios], [])}, runs=1)
    assert "run in turn" not in alone and "No cold build ran" in alone


def test_the_stage_timer_times_each_stage_of_a_built_archive_without_writing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_archive(tmp_path, generate(30))
    pipeline.build(tmp_path)
    before = sorted((p, p.stat().st_mtime_ns) for p in (tmp_path / "_site").rglob("*"))
    times = stages.measure(tmp_path, runs=2, profile="model")
    assert "function calls" in capsys.readouterr().out  # the model's profile, once
    runs = {name: len(seconds) for name, seconds in times.items()}
    each = dict.fromkeys((*stages.RANKING, "page views", "page keys", "plan", "plan, same shape"), 2)
    # The first build keeps its model, its keys and what each output holds: the plan of a one-edit rebuild is timed.
    assert runs == {"records": 1, "model": 2, "kept model": 2, **each}
    assert all(s > 0 for seconds in times.values() for s in seconds)
    assert sorted((p, p.stat().st_mtime_ns) for p in (tmp_path / "_site").rglob("*")) == before
    # Planned from the kept model, none made afresh: the stages a one-edit rebuild runs, in seconds at 100,000.
    only = ["kept model", "plan, same shape"]
    assert {name: len(s) for name, s in stages.measure(tmp_path, runs=3, only=only).items()} == dict.fromkeys(only, 3)
    assert {name: len(s) for name, s in stages.measure(tmp_path, runs=1, only=only[1:]).items()} == {only[1]: 1}


def test_the_timeline_shows_each_stage_of_the_next_build_in_the_order_they_began(tmp_path: Path) -> None:
    """`bench.timeline` builds the archive in its own process (a cold build, then one edit, a
    retag, then nothing to do), printing the stages each build ran, in order, and the whole; the
    site it writes is a build's."""
    write_archive(tmp_path, generate(30))

    def timeline(*options: str) -> list[str]:
        command = [sys.executable, "-m", "bench.timeline", str(tmp_path), "--min-ms", "0", *options]
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True)
        rows = [line.split() for line in done.stdout.splitlines()[1:]]
        assert all(float(began) <= float(ended) for began, ended, *_ in rows)
        assert [float(row[0]) for row in rows[:-1]] == sorted(float(row[0]) for row in rows[:-1])
        assert rows[-1][3:] == ["the", "build,", "from", "this", "command's", "start"]
        return [row[3] for row in rows[:-1]]

    cold = timeline()
    assert cold[:3] == ["list_content", "read_content", "load_records"]
    assert {"model_archive", "plan_site", "Keying.planned_all", "write_site"} <= set(cold)
    assert (tmp_path / "_site" / "index.html").is_file()
    bench_rounds.toggle_title(tmp_path, 0)
    edited = timeline("--", "--jobs", "1")  # (build.py's own options after --)
    assert {"kept_model", "patched_model", "_recalled_outputs", "write_site"} <= set(edited)
    assert "model_archive" not in edited
    bench_rounds.retag(tmp_path, 1)  # a new shape: the model patched, the last plan's keys recalled
    retagged = timeline("--", "--jobs", "1")
    assert {"with_terms", "Keying.recall_prior", "site_pages", "Keying.kept_prior"} <= set(retagged)
    # Nothing to do: it stops at the listing, or (a file changed within the clock's tick) once it
    # read the files and found the inputs' digest the last build's.
    assert timeline() in (["list_content"], ["list_content", "read_content", "inputs_digest"])


def test_the_stage_timer_asks_for_a_build_first(tmp_path: Path) -> None:
    write_archive(tmp_path, generate(3))
    with pytest.raises(SystemExit, match="with this commit first"):
        stages.measure(tmp_path, runs=1)


def test_the_seal_timer_times_the_caches_own_seal_and_the_one_before_over_its_files(tmp_path: Path) -> None:
    write_archive(tmp_path, generate(5))
    pipeline.build(tmp_path)
    files = seals.cache_files(tmp_path)
    assert files and all(files)
    times = seals.measure(files, runs=2)
    assert {name: len(seconds) for name, seconds in times.items()} == dict.fromkeys(seals.SEALS, 2)
    # What it times first is what the cache seals with: a file's seal is its HMAC-SHA-256 under the key.
    key = (tmp_path / ".cache" / "key").read_bytes()
    head = len(cache._MAGIC)
    sealed = files[0][head : head + cache.SEAL_SIZE]
    assert sealed == hmac.new(key, files[0][head + cache.SEAL_SIZE :], "sha256").digest()
    assert seals.SEALS["HMAC-SHA-256 (cache.seal)"] is cache.seal


def test_the_floor_times_each_librarys_share_of_a_briefing_and_bounds_a_cold_build() -> None:
    measured = floor.measure(sample=12, runs=1)
    assert list(measured.per_briefing) == ["PyYAML", "markdown-it-py", "Jinja2", "the OS, writing the page"]
    assert all(ms > 0 for ms in measured.per_briefing.values())
    # Beside it, the engine's own parse of a file, which holds the first two. Not compared with
    # them: one run of a dozen files, timed while other tests run, can take less than either.
    assert list(measured.engine) == ["the engine's parse of a file"]
    assert measured.engine["the engine's parse of a file"] > 0
    # 100,000 briefings at their sum of milliseconds each, shared by two cores.
    per_briefing = sum(measured.per_briefing.values())
    assert measured.seconds(100_000, 2) == pytest.approx(per_briefing * 50)


@pytest.mark.parametrize(("date", "moved"), [("2025-01-31", "2025-02-28"), ("2024-12-25", "2024-11-25")])
def test_a_date_edit_of_the_latency_benchmark_moves_a_briefing_within_its_year_and_back(date: str, moved: str) -> None:
    """Within its year: a briefing's year must be its folder's, or the preview shows an error."""
    from bench.serve_latency import edited

    original = f"---\ntitle: A\ndate: {date}T09:00:00+02:00\nregion: Europe\n---\nBody.\n"
    text, title = edited(original, 0, "date")
    assert title == "Latency probe 0"
    assert text == original.replace("title: A", "title: Latency probe 0").replace(date, moved)
    back, _ = edited(original, 1, "date")
    assert back == original.replace("title: A", "title: Latency probe 1")


def test_rounds_time_both_builds_of_each_step_and_leave_the_first_round_out(tmp_path: Path) -> None:
    """Two copies of one archive, built in turn by (here) the same checkout: each round's change
    and the edit after it reach both copies alike, and each is timed on both."""
    copies = (tmp_path / "old", tmp_path / "new")
    for copy in copies:
        write_archive(copy, generate(40))
    timings = bench_rounds.rounds((REPO, copies[0]), (REPO, copies[1]), "add", 3)
    assert {step: len(pairs) for step, pairs in timings.items()} == {"add": 2, "edit after it": 2}
    assert "title: Edited " in bench.first_briefing(copies[1]).read_text()  # toggled three times
    assert all(run.seconds > 0 for pairs in timings.values() for pair in pairs for run in pair)
    files = [sorted(p.relative_to(c).as_posix() for p in (c / "content").rglob("*.md")) for c in copies]
    assert files[0] == files[1] and sum("/added-" in name for name in files[0]) == 3
    assert [(copy / "_site").is_dir() for copy in copies] == [True, True]
    assert "add: 2 rounds, old " in bench_rounds.summary(timings)


def test_rounds_of_edits_time_the_edit_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--change edit`: each round toggles the newest title in both copies and times both builds,
    with no edit after it (that is the next round's). Each checkout's bytecode is written before
    its first build: where PYTHONDONTWRITEBYTECODE is set, one without it compiles every build."""
    copies = (tmp_path / "old", tmp_path / "new")
    for copy in copies:
        write_archive(copy, generate(20))
    compiled: list[Path] = []
    monkeypatch.setattr(bench_rounds, "byte_compiled", compiled.append)
    timings = bench_rounds.rounds((REPO, copies[0]), (REPO, copies[1]), "edit", 3)
    assert compiled == [REPO, REPO]
    assert {step: len(pairs) for step, pairs in timings.items()} == {"edit": 2}
    assert all("title: Edited " in bench.first_briefing(copy).read_text() for copy in copies)  # toggled three times


def test_rounds_of_nothing_time_builds_with_nothing_to_do(tmp_path: Path) -> None:
    """`--change none`: both copies are built in turn, each finding nothing to do; no edit between."""
    copies = (tmp_path / "old", tmp_path / "new")
    for copy in copies:
        write_archive(copy, generate(20))
    before = [{p.relative_to(c).as_posix(): p.read_bytes() for p in (c / "content").rglob("*.md")} for c in copies]
    timings = bench_rounds.rounds((REPO, copies[0]), (REPO, copies[1]), "none", 3)
    assert {step: len(pairs) for step, pairs in timings.items()} == {"none": 2}
    after = [{p.relative_to(c).as_posix(): p.read_bytes() for p in (c / "content").rglob("*.md")} for c in copies]
    assert after == before
    said = subprocess.run(
        [sys.executable, "build.py", "--root", str(copies[1])], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert "nothing changed" in said.stdout + said.stderr  # what each timed build found too


@pytest.mark.parametrize("change", ["retag", "add-newest"])
def test_rounds_with_undo_time_each_change_and_its_undoing(tmp_path: Path, change: str) -> None:
    """`--undo`: each round's change is undone in both copies (the files it wrote put back, those it
    added deleted) and that build is timed too; the archives end as they began."""
    copies = (tmp_path / "old", tmp_path / "new")
    for copy in copies:
        write_archive(copy, generate(20))
    before = [{p.relative_to(c).as_posix(): p.read_bytes() for p in (c / "content").rglob("*.md")} for c in copies]
    timings = bench_rounds.rounds((REPO, copies[0]), (REPO, copies[1]), change, 3, undo=True)
    assert {step: len(pairs) for step, pairs in timings.items()} == {change: 2, "undone": 2}
    after = [{p.relative_to(c).as_posix(): p.read_bytes() for p in (c / "content").rglob("*.md")} for c in copies]
    assert after == before


def test_rounds_with_undo_refuse_a_change_the_archive_had_already(tmp_path: Path) -> None:
    """An archive an earlier run left with a round's retag: that round would time two builds with
    nothing to do, as if they were the change's. It stops, saying so."""
    copies = (tmp_path / "old", tmp_path / "new")
    for copy in copies:
        write_archive(copy, generate(10))
        bench_rounds.retag(copy, 1)  # what an earlier run's second round left
    with pytest.raises(SystemExit, match="round 2's retag changed nothing"):
        bench_rounds.rounds((REPO, copies[0]), (REPO, copies[1]), "retag", 3, undo=True)


@pytest.mark.parametrize("copies", [2, 1])
def test_cold_rounds_build_each_copy_from_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, copies: int) -> None:
    """`--change cold`: the cache and site are deleted before each build, so each timed build is a
    cold one, on two copies or on one copy given twice (both commits then build in one folder)."""
    folders = (tmp_path / "old", tmp_path / "new")[:copies]
    for folder in folders:
        write_archive(folder, generate(10))
    cached: list[bool] = []
    aside: list[int] = []
    real = bench_rounds.build

    def build(checkout: Path, at: Path) -> bench_rounds.Run:
        cached.append((at / ".cache").exists())
        kept = bench_rounds.set_aside_for(at)
        aside.append(len(list(kept.glob("*/.cache"))) if kept.exists() else 0)
        return real(checkout, at)

    monkeypatch.setattr(bench_rounds, "build", build)
    timings = bench_rounds.rounds((REPO, folders[0]), (REPO, folders[-1]), "cold", 2, edit=False)
    assert {step: len(pairs) for step, pairs in timings.items()} == {"cold": 1}
    assert cached[2:] == [False] * 4  # two rounds of both: each from nothing
    # The outputs taken away were set aside, not deleted, while the rounds ran; deleted after them.
    assert aside[2:] == ([1, 1, 2, 2] if copies == 2 else [1, 2, 3, 4])
    assert not any(bench_rounds.set_aside_for(folder).exists() for folder in folders)
    assert "cold: 1 rounds, old " in bench_rounds.summary(timings) and "; CPU old " in bench_rounds.summary(timings)


def test_a_round_retags_the_newest_briefing_to_a_tag_of_its_own(tmp_path: Path) -> None:
    write_archive(tmp_path, generate(5))
    newest = bench.first_briefing(tmp_path)
    bench_rounds.retag(tmp_path, 7)
    assert "\ntags: [Round 7 tag, Topic 001]\n" in newest.read_text()
    bench_rounds.toggle_title(tmp_path, 7)
    assert "\ntitle: Edited " in newest.read_text()
    bench_rounds.toggle_title(tmp_path, 8)
    assert "\ntitle: Edited " not in newest.read_text()


def test_a_round_adds_a_briefing_a_day_newer_than_the_newest_in_its_years_folder(tmp_path: Path) -> None:
    write_archive(tmp_path, generate(5))
    for number in (1, 2):
        newest = bench.first_briefing(tmp_path)
        bench_rounds.add_newest(tmp_path, number)
        added = bench.first_briefing(tmp_path)
        assert added.name == f"zz-added-{number:03d}.md" and added.parent.name == str(date_of(added).year)
        assert date_of(added) - date_of(newest) == timedelta(days=1)
        assert f"\ntitle: Added {number} " in added.read_text() and "\nslug:" not in added.read_text()
        assert "Added 1 " not in added.read_text() or number == 1  # not piled up round after round
    build(tmp_path)  # as the engine takes them: each in its year's folder, named for its slug


def date_of(file: Path) -> datetime:
    found = re.search(r"^date: (\S+)$", file.read_text(), flags=re.M)
    assert found is not None
    return datetime.fromisoformat(found[1])


def test_rounds_without_the_edit_make_one_change_after_another(tmp_path: Path) -> None:
    copies = (tmp_path / "old", tmp_path / "new")
    for copy in copies:
        write_archive(copy, generate(20))
    timings = bench_rounds.rounds((REPO, copies[0]), (REPO, copies[1]), "add-newest", 3, edit=False)
    assert {step: len(pairs) for step, pairs in timings.items()} == {"add-newest": 2}
    for copy in copies:
        assert [f.name for f in sorted((copy / "content").rglob("zz-added-*.md"))] == [
            f"zz-added-{n:03d}.md" for n in range(3)
        ]
        assert "title: Edited " not in bench.first_briefing(copy).read_text()


def test_outputs_are_timed_by_kind_and_every_file_of_the_site_is_counted_once(tmp_path: Path) -> None:
    """`bench.outputs`: a cold build, each output made in turn and timed; every file of the
    site it leaves is counted under one kind, and each briefing has its page."""
    write_archive(tmp_path, generate(12))
    build(tmp_path)  # what it deletes first
    (kinds,) = outputs.measure(tmp_path, runs=1)
    site = [path for path in (tmp_path / "_site").rglob("*") if path.is_file()]
    assert sum(kind.files for kind in kinds.values()) == len(site)
    assert sum(kind.size for kind in kinds.values()) == sum(path.stat().st_size for path in site)
    assert kinds["briefing pages"].files == 12 and kinds[outputs.TOP].files >= 4  # home page, feeds, sitemap
    assert all(kind.seconds > 0 for kind in kinds.values())
    assert outputs.report([kinds]).splitlines()[-1].startswith("every output: ")
    assert [outputs.kind_of(p) for p in ("2015/09/a/index.html", "2015/09/index.html", "2015/page/2/index.html")] == [
        "briefing pages", "year and month pages", "year and month pages",
    ]  # fmt: skip
