"""Shared helpers: build small archives in tmp_path with the repository's templates."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from briefings.cli import main

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"

SITE_YAML = """\
title: Test Archive
description: A small archive for tests.
base_url: https://example.org/
language: en
timezone: Europe/Istanbul
per_page: 3
id_authority: example.org,2015
regions:
  - name: Middle East
    slug: middle-east
  - name: Europe
    slug: europe
tag_aliases:
  ISIS: [IS, ISIL, Islamic State]
"""


def briefing(
    title: str = "A valid briefing",
    date: str = "2015-09-24T10:00:00+03:00",
    tags: str = "[Syria]",
    region: str = "Middle East",
    source: str = "TRT World",
    extra: str = "",
    body: str = "Body text.",
) -> str:
    """Return the text of a valid briefing, with fields overridable."""
    return (
        f"---\ntitle: {title}\ndate: {date}\nsummary: A short summary of {title}.\n"
        f"source: {source}\ncredit: Photo by Reuters\nregion: {region}\ntags: {tags}\n{extra}---\n{body}\n"
    )


def make_archive(root: Path, files: dict[str, str | bytes], site_yaml: str = SITE_YAML) -> Path:
    """Write an archive (site.yaml, content files, the repo's templates and static) under root."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "site.yaml").write_text(site_yaml, encoding="utf-8")
    for name, text in files.items():
        path = root / "content" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text), encoding="utf-8")
    for folder in ("templates", "static"):
        if not (root / folder).exists():
            shutil.copytree(REPO / folder, root / folder)
    return root


def run(root: Path, *args: str) -> int:
    """Run the command line in-process against the archive at root."""
    return main([*args, "--root", str(root)])


def build(root: Path, *args: str) -> Path:
    """Build the archive at root quietly, require success, and return its _site/."""
    assert run(root, "--quiet", *args) == 0
    return root / "_site"


@pytest.fixture
def archive(tmp_path: Path):
    """Return a factory for archives in tmp_path."""

    def factory(files: dict[str, str | bytes], site_yaml: str = SITE_YAML) -> Path:
        return make_archive(tmp_path / "archive", files, site_yaml)

    return factory
