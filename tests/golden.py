"""The golden fixture: tests/fixtures/small/ built with the repository's templates and static.

Regenerate the expected tree after an intended change to the output, then review its diff:

    .venv/bin/python -m tests.golden
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from briefings.cli import main

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
SOURCE = TESTS / "fixtures" / "small"
EXPECTED = TESTS / "fixtures" / "small-site"


def build_small(workdir: Path) -> Path:
    """Build the small fixture archive in workdir and return its _site/."""
    shutil.copytree(SOURCE, workdir, dirs_exist_ok=True)
    for folder in ("templates", "static"):
        shutil.copytree(REPO / folder, workdir / folder, dirs_exist_ok=True)
    if main(["--quiet", "--root", str(workdir)]) != 0:
        raise SystemExit("the small fixture failed to build")
    return workdir / "_site"


def regenerate() -> None:
    """Replace the expected tree with a fresh build."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        site = build_small(Path(tmp))
        shutil.rmtree(EXPECTED, ignore_errors=True)
        shutil.copytree(site, EXPECTED)
    print(f"wrote {EXPECTED.relative_to(REPO)}; review it with git diff", file=sys.stderr)


if __name__ == "__main__":
    regenerate()
