"""Progress shows on a terminal only, after its delay, and clears before the summary."""

from __future__ import annotations

import io
from pathlib import Path

from bench.generate import generate, write_archive
from briefings import pipeline
from briefings.progress import Progress
from tests.conftest import build


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_shown_on_a_terminal_and_cleared() -> None:
    out = Terminal()
    progress = Progress(out, delay=0)
    for done in range(1, 51):
        progress.update("Rendering pages", done, 50)
    progress.clear()
    assert "\rRendering pages 25/50" in out.getvalue() and "\rRendering pages 50/50" in out.getvalue()
    assert out.getvalue().endswith("\r\x1b[K")


def test_progress_is_silent_when_not_a_terminal_quiet_or_quick() -> None:
    for progress, out in [
        (Progress(pipe := io.StringIO(), delay=0), pipe),
        (Progress(quiet := Terminal(), enabled=False, delay=0), quiet),
        (Progress(quick := Terminal(), delay=3600), quick),
    ]:
        progress.update("Rendering pages", 50, 50)
        progress.clear()
        assert out.getvalue() == ""


def test_the_first_build_after_a_cold_one_shows_the_site_linked_into_its_spare_copy(tmp_path: Path) -> None:
    """A build that wrote the site whole leaves no spare copy: the next build links every file of
    `_site/` into one before writing (7 to 17 s at 100,000 briefings), and says how far it is on
    a terminal; the build after that has its spare and links none."""
    root = tmp_path / "a"
    write_archive(root, generate(5, seed=3))
    site = build(root)
    files = sum(1 for path in site.rglob("*") if path.is_file())
    label = "Linking _site/ into its spare copy"
    for number, expected in enumerate((f"\r{label} {files}/{files}", None)):
        first = sorted((root / "content").rglob("*.md"))[0]
        first.write_text(first.read_text().replace("title: ", f"title: Edit {number} ", 1))
        out = Terminal()
        pipeline.build(root, progress=Progress(out, delay=0))
        if expected is None:
            assert label not in out.getvalue()
        else:
            assert expected in out.getvalue() and f"\r{label} 25/{files}" in out.getvalue()
