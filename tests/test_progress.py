"""Progress shows on a terminal only, after its delay, and clears before the summary."""

from __future__ import annotations

import io

from briefings.progress import Progress


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
