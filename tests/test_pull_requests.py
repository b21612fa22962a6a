"""`check --base REF`: what a pull request changes, and the guard that keeps published URLs working."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import SITE_YAML, briefing, make_archive, run

FILES = {
    "2015/kweiris.md": briefing("Kweiris jets"),
    "2015/aleppo.md": briefing("Aleppo talks", "2015-10-02T10:00:00+03:00", tags="[Syria, Diplomacy]"),
}


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(root), "-c", "user.name=Test", "-c", "user.email=test@example.org", *args],
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An archive committed on `main`, as a pull request's base."""
    root = make_archive(tmp_path / "repo", FILES)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return root


def check_against_main(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], str]:
    """Run `check --base main`; return the status, the error lines and the Markdown summary."""
    summary = root.parent / "summary.md"
    summary.unlink(missing_ok=True)
    status = run(root, "check", "--base", "main", "--summary", str(summary))
    err = capsys.readouterr().err.splitlines()
    return status, err, summary.read_text(encoding="utf-8")


def test_a_renamed_file_without_an_alias_fails_naming_both_urls(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "content/2015/kweiris.md").rename(repo / "content/2015/kweiris-airbase.md")
    status, err, summary = check_against_main(repo, capsys)
    expected = (
        "content/2015/kweiris-airbase.md:1: /2015/09/kweiris/, this briefing's URL on the base branch, would stop "
        "working: it is now /2015/09/kweiris-airbase/; add `aliases: [/2015/09/kweiris/]` to its front matter, "
        "so the old URL redirects here"
    )
    assert (status, err[0]) == (1, expected)
    assert "**1 problem(s) to fix**" in summary and "/2015/09/kweiris-airbase/" in summary


def test_the_same_rename_with_the_alias_passes_and_the_summary_says_what_changes(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (repo / "content/2015/kweiris.md").read_text()
    (repo / "content/2015/kweiris.md").unlink()
    moved = text.replace("---\nBody", "aliases: [/2015/09/kweiris/]\n---\nBody")
    (repo / "content/2015/kweiris-airbase.md").write_text(moved)
    (repo / "content/2016").mkdir()
    (repo / "content/2016/brexit.md").write_text(briefing("Brexit vote", "2016-06-24", region="Europe"))
    status, err, summary = check_against_main(repo, capsys)
    assert (status, err) == (0, [])
    lines = summary.splitlines()
    added = lines[lines.index("**Added briefings (2)**") + 2 : lines.index("**Added briefings (2)**") + 4]
    assert added == ["- `content/2015/kweiris-airbase.md` Kweiris jets", "- `content/2016/brexit.md` Brexit vote"]
    assert "- `content/2015/kweiris.md` Kweiris jets" in lines  # under "Removed briefings (1)"
    assert "No problems found in 3 briefing(s)." in lines
    pages = next(line for line in lines if line.startswith("Pages: "))
    assert pages.startswith("Pages: ") and "will disappear" in pages
    appear = lines.index(next(line for line in lines if line.startswith("<details><summary>Pages that will appear")))
    assert {"- `/2015/09/kweiris-airbase/`", "- `/2016/06/brexit/`", "- `/2016/`"} <= set(lines[appear:])


def test_a_deleted_briefing_fails_unless_it_is_declared_removed(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "content/2015/aleppo.md").unlink()
    status, err, _ = check_against_main(repo, capsys)
    assert status == 1
    assert err[0] == (
        "content/2015/aleppo.md: /2015/10/aleppo/ was published from content/2015/aleppo.md, and nothing would be "
        "served there; keep it, add `aliases: [/2015/10/aleppo/]` to the briefing that replaces it, or list it "
        "under `removed:` in site.yaml with the reason"
    )
    removed = "removed:\n  - url: /2015/10/aleppo/\n    reason: Withdrawn; the talks never took place.\n"
    (repo / "site.yaml").write_text(SITE_YAML + removed)
    status, err, summary = check_against_main(repo, capsys)
    assert (status, err) == (0, [])
    assert "- `content/2015/aleppo.md` Aleppo talks" in summary.splitlines()


def test_a_changed_date_is_a_move_too(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = repo / "content/2015/aleppo.md"
    file.write_text(file.read_text().replace("2015-10-02", "2015-11-02"))
    status, err, _ = check_against_main(repo, capsys)
    assert status == 1 and err[0].startswith("content/2015/aleppo.md:1: /2015/10/aleppo/, this briefing's URL")


def test_errors_in_the_change_are_in_the_summary_too(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = repo / "content/2015/aleppo.md"
    file.write_text(file.read_text().replace("region: Middle East", "region: Middle east"))
    status, err, summary = check_against_main(repo, capsys)
    assert status == 1
    assert err[0].startswith('content/2015/aleppo.md:7: region: "Middle east" is not a known region')
    assert '- `content/2015/aleppo.md:7`: region: "Middle east" is not a known region' in summary


def test_an_unknown_base_is_a_usage_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(repo, "check", "--base", "no-such-branch") == 2
    err = capsys.readouterr().err
    assert err.startswith('error: --base: cannot read revision "no-such-branch"') and "git fetch" in err


def test_the_summary_goes_to_github_step_summary_when_set(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    target = repo.parent / "step-summary.md"
    target.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(target))
    assert run(repo, "check") == 0
    assert target.read_text().splitlines()[:3] == ["earlier step", "## Briefings check", ""]


def test_every_problem_shows_in_one_run(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Field, name, link and permalink problems, in one file and across files, all in one `check`:
    a file with field errors still has its links and names checked, and its URL guarded."""
    (repo / "content/2015/kweiris.md").unlink()
    body = "See [talks](aleppo.md#no-such-heading), [gone](missing.md) and [tags](/tags/nothing/)."
    renamed = briefing(
        "Kweiris jets", tags="[Diplomacy]", region="Middle Eest", extra="countries: [Frnace]\n", body=body
    )
    (repo / "content/2015/kweiris-airbase.md").write_text(renamed)
    (repo / "content/2015/broken.md").write_text(briefing("Broken", tags="[Syria"))
    (repo / "content/2015/near.md").write_text(briefing("Near", tags="[Diplomcy]"))
    aleppo = repo / "content/2015/aleppo.md"
    aleppo.write_text(aleppo.read_text().replace("Body text.", "After [the broken one](broken.md)."))
    status, err, summary = check_against_main(repo, capsys)
    problems = {(line.split(": ")[0], line.split(": ", 1)[1].split(";")[0]) for line in err[:-1]}
    assert problems == {
        ("content/2015/kweiris-airbase.md:7", 'region: "Middle Eest" is not a known region'),
        ("content/2015/kweiris-airbase.md:9", 'countries: "Frnace" looks like a misspelling of "France"'),
        ("content/2015/kweiris-airbase.md:11", 'link "aleppo.md#no-such-heading" points to no heading or anchor of '
         "content/2015/aleppo.md"),
        ("content/2015/kweiris-airbase.md:11", 'link "missing.md" points to no briefing (content/2015/missing.md '
         "does not exist)"),
        ("content/2015/kweiris-airbase.md:11", 'link "/tags/nothing/" points to no page of the site'),
        ("content/2015/kweiris-airbase.md:1", "/2015/09/kweiris/, this briefing's URL on the base branch, would "
         "stop working: it is now /2015/09/kweiris-airbase/"),
        ("content/2015/broken.md:9", "invalid YAML: did not find expected ',' or ']'"),
        ("content/2015/near.md:8", 'tags: "Diplomcy" looks like a misspelling of "Diplomacy"'),
    }  # fmt: skip
    assert status == 1 and err[-1] == "Found 8 errors in 3 files; fix them and run check again."
    assert "**8 problem(s) to fix**" in summary and "Pages: not compared until the problems are fixed" in summary
