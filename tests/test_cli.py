"""The command line as users run it: real processes, exit codes, no tracebacks."""

from __future__ import annotations

import os
import pstats
import subprocess
import sys
from pathlib import Path

import pytest

from briefings.cli import end_now, main, watched
from tests.conftest import REPO, briefing, make_archive


def cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "build.py"), *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_check_on_the_example_archive_is_clean() -> None:
    result = cli("check")
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first.startswith("Checked ") and first.endswith("no problems found.")
    assert result.stderr == ""


def test_content_errors_exit_1_without_traceback(tmp_path: Path) -> None:
    root = make_archive(tmp_path / "a", {"2015/bad.md": briefing(region="Middle east")})
    result = cli("check", "--root", str(root))
    assert result.returncode == 1
    assert result.stderr.splitlines()[0].startswith("content/2015/bad.md:7: region:")
    assert "Traceback" not in result.stderr


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert cli("publish").returncode == 2
    assert cli("--no-such-flag").returncode == 2
    bad_url = cli("check", "--base-url", "not a url")
    assert bad_url.returncode == 2 and "--base-url" in bad_url.stderr
    not_archive = cli("check", "--root", str(tmp_path))
    assert not_archive.returncode == 2 and "is not an archive" in not_archive.stderr


def test_missing_site_yaml_is_a_content_error(tmp_path: Path) -> None:
    root = make_archive(tmp_path / "a", {"2015/ok.md": briefing()})
    (root / "site.yaml").unlink()
    result = cli("check", "--root", str(root))
    assert result.returncode == 1
    assert result.stderr.startswith("site.yaml: not found; the archive needs a site.yaml")


def test_quiet_build_prints_nothing_and_summary_otherwise(tmp_path: Path) -> None:
    root = make_archive(tmp_path / "a", {"2015/ok.md": briefing()})
    quiet = cli("--quiet", "--root", str(root))
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
    loud = cli("--root", str(root))
    assert loud.stdout.startswith("Built ") and "(1 briefing, 0 tags, 2 regions, 1 source, 1 country)" in loud.stdout


def test_a_build_ends_its_process_once_everything_it_printed_is_out(tmp_path: Path, capsys) -> None:
    """build.py ends a successful build's process without freeing what the build made
    (`end_now`): its summary and size table still arrive whole through a pipe, and `main` hands
    over the status only once they are printed."""
    root = make_archive(tmp_path / "a", {"2015/ok.md": briefing()})
    buffered = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}  # as on most machines
    command = [sys.executable, str(REPO / "build.py"), "--sizes", "--root", str(root)]
    piped = subprocess.run(command, capture_output=True, text=True, timeout=120, env=buffered)
    lines = piped.stdout.splitlines()
    assert piped.returncode == 0 and piped.stderr == ""
    assert lines[0].startswith("Built ") and lines[1].startswith("Site size by kind")
    assert lines[-1].split()[:3] == ["total", str(sum(1 for f in (root / "_site").rglob("*") if f.is_file())), "files"]
    printed_before_end: list[tuple[int, str]] = []
    status = main(
        ["--sizes", "--root", str(root)], end=lambda s: printed_before_end.append((s, capsys.readouterr().out))
    )
    assert status == 0 and len(printed_before_end) == 1
    ended_with, printed = printed_before_end[0]
    assert ended_with == 0 and printed.splitlines()[0].startswith("Built ") and "total" in printed.splitlines()[-1]
    profiled = [sys.executable, "-m", "cProfile", "-o", str(tmp_path / "build.prof"), *command[1:]]
    assert subprocess.run(profiled, capture_output=True, timeout=120).returncode == 0  # as docs/performance.md says
    assert pstats.Stats(str(tmp_path / "build.prof")).total_calls > 0  # a profiler writes its report as it ends
    failing = make_archive(tmp_path / "b", {"2015/bad.md": briefing(region="Middle east")})
    ended: list[int] = []
    assert main(["--quiet", "--root", str(failing)], end=ended.append) == 1 and ended == []  # errors: returned as ever


class _Monitoring:
    """`sys.monitoring` as Python 3.12 has it, with these tools registered (id: name)."""

    def __init__(self, tools: dict[int, str]) -> None:
        self.tools = tools

    def get_tool(self, tool: int) -> str | None:
        return self.tools.get(tool)


def test_a_profiler_watching_through_sys_monitoring_lets_the_process_end_as_usual(monkeypatch) -> None:
    """From Python 3.12 cProfile watches through `sys.monitoring`, where `sys.getprofile()` is
    None: `end_now` still returns, so that the profiler writes its report, and ends the process
    when no tool is registered."""
    ended: list[int] = []
    monkeypatch.setattr(os, "_exit", ended.append)
    monkeypatch.setattr(sys, "monitoring", _Monitoring({2: "cProfile"}), raising=False)  # PROFILER_ID
    assert watched()
    end_now(0)
    monkeypatch.setattr(sys, "monitoring", _Monitoring({5: "an optimizer"}), raising=False)  # the last id
    end_now(0)
    assert ended == []
    monkeypatch.setattr(sys, "monitoring", _Monitoring({}), raising=False)
    assert not watched()
    end_now(3)
    assert ended == [3]


@pytest.mark.parametrize("command", [["check"], ["--sizes"]], ids=["check", "build"])
def test_a_reader_that_stops_reading_ends_the_output_not_the_command(tmp_path: Path, command: list[str]) -> None:
    """`build.py check | head -1`: stdout closed before anything is printed is no error of the
    command; it says nothing more, and its status is the work's (here, a site built)."""
    root = make_archive(tmp_path / "a", {"2015/ok.md": briefing()})
    run = [sys.executable, str(REPO / "build.py"), *command, "--root", str(root)]
    process = subprocess.Popen(run, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None
    process.stdout.close()  # the reader is gone before the command writes
    _, stderr = process.communicate(timeout=120)
    assert (process.returncode, stderr.decode()) == (0, "")
    if command != ["check"]:
        assert (root / "_site" / "index.html").is_file()


def test_github_format_prints_escaped_workflow_commands(tmp_path: Path) -> None:
    from briefings.errors import SourceError, github_annotation

    error = SourceError("content/2015/a,b:c.md", 9, "50% done\r\nnext: line, more")
    assert github_annotation(error, "briefings check: 1") == (
        "::error file=content/2015/a%2Cb%3Ac.md,line=9,title=briefings check%3A 1::50%25 done%0D%0Anext: line, more"
    )
    assert github_annotation(SourceError("site.yaml", 0, "x"), "t") == "::error file=site.yaml,title=t::x"
    root = make_archive(tmp_path / "a", {"2015/typo.md": briefing(region="Middle east")})
    result = cli("check", "--format", "github", "--root", str(root))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "::error file=content/2015/typo.md,line=7,title=briefings check::"
        'region: "Middle east" is not a known region; did you mean "Middle East"?'
    ]
    assert result.stderr.splitlines() == ["Found 1 error in 1 file; fix them and run check again."]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["serve", "--sizes"], "--sizes: `serve` does not use it (it is for build)"),
        (["serve", "--no-cache"], "--no-cache: `serve` does not use it (it is for build, check)"),
        (["build", "--host", "0.0.0.0"], "--host: `build` does not use it (it is for serve)"),
        (["schema", "--drafts"], "--drafts: `schema` does not use it (it is for build, serve)"),
    ],
)
def test_an_option_a_command_does_not_use_is_a_usage_error(
    args: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*args, "--root", str(REPO)])
    assert exited.value.code == 2
    assert said in capsys.readouterr().err


def test_help_names_every_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "130 interrupted (Ctrl-C)" in " ".join(capsys.readouterr().out.split())
