"""The output folder: every file written at once, or none.

Owns writing a complete site into a fresh folder beside the target and swapping it in
only when everything was written, refusing two files at one path and any path that
would leave the folder. May not know what a briefing is.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from briefings.errors import BuildFailed, SourceError


@dataclass(frozen=True)
class Output:
    """One file of the site: its path inside the output folder, its bytes, and its origin."""

    path: str
    data: bytes
    origin: str  # what made it, for collision messages: "templates/term.html", "static/x.css"


def unique_outputs(outputs: Iterable[Output]) -> dict[str, Output]:
    """Return outputs by path; raise BuildFailed naming both origins of any collision."""
    by_path: dict[str, Output] = {}
    errors: list[SourceError] = []
    for output in outputs:
        if not _is_safe(output.path):
            errors.append(SourceError(output.origin, 0, f"would write outside the site folder ({output.path!r})"))
        elif output.path in by_path:
            other = by_path[output.path].origin
            errors.append(SourceError(output.origin, 0, f"/{output.path} is also written by {other}; rename one"))
        else:
            by_path[output.path] = output
    if errors:
        raise BuildFailed(errors)
    return by_path


def write_site(target: Path, outputs: dict[str, Output]) -> None:
    """Write every output into a new folder beside `target`, then swap it in."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    try:
        for path in sorted(outputs):
            file = fresh / path
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_bytes(outputs[path].data)
        fresh.chmod(0o755)
        _swap(fresh, target)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise


def _swap(fresh: Path, target: Path) -> None:
    """Put `fresh` at `target`; the old folder is moved aside first, then removed."""
    if not target.exists():
        fresh.replace(target)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    target.replace(old / target.name)
    fresh.replace(target)
    shutil.rmtree(old, ignore_errors=True)


def _is_safe(path: str) -> bool:
    """Return True for a relative path that stays inside the output folder."""
    parts = PurePosixPath(path).parts
    return bool(parts) and not path.startswith("/") and ".." not in parts and "\\" not in path
