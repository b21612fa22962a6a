"""A fresh build of the small fixture equals the committed tree, file for file, byte for byte."""

from __future__ import annotations

import difflib
from pathlib import Path

from tests.golden import EXPECTED, build_small

REGENERATE = "if the change is intended: .venv/bin/python -m tests.golden, then review git diff"


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_build_matches_the_committed_golden_tree(tmp_path: Path) -> None:
    built, expected = tree(build_small(tmp_path)), tree(EXPECTED)
    assert sorted(built) == sorted(expected), REGENERATE
    for name, data in expected.items():
        if built[name] != data:
            diff = difflib.unified_diff(
                data.decode().splitlines(), built[name].decode().splitlines(), "expected", "built", lineterm=""
            )
            raise AssertionError(f"{name} differs ({REGENERATE}):\n" + "\n".join(list(diff)[:40]))
