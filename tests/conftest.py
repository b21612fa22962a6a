"""Shared helpers: build small archives in tmp_path with the repository's templates."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from briefings.cli import main

# Property tests check what code returns, not how fast: no per-example deadline and no speed
# check, which failed test_properties on a machine loaded by other work (an example over 200 ms).
settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("suite")

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


# A briefing written as contributors write for GitHub: what its preview renders, the site must too.
# (Its code block is wider than any page, on purpose.)
REAL_MARKDOWN = """\
---
title: Release notes, rendered as GitHub renders them
date: 2016-07-19T17:09:26.413Z
updated: 2016-07-20T08:00:00.5+03:00
summary: Raw HTML, bare links, GitHub's heading ids, a wide code block and fractions of a second.
source: {name: Example Project, url: "https://example.org/releases"}
credit: Text by the project
region: Global
tags: [Software]
---
<!-- lint disable maximum-line-length -->
See the [changes](#whats-new-in-20) below, <a id="CVE-2016-1000">CVE-2016-1000</a> and
https://example.org/releases, www.example.org/docs. Questions: security@example.org.

## What's new in 2.0?

Press <kbd>Ctrl</kbd>+<kbd>C</kbd>; H<sub>2</sub>O and x<sup>2</sup>; <math><mi>x</mi><mo>=</mo><mn>2</mn></math>.

<details><summary>Full list</summary>

| Change | Count |
|:-------|------:|
| Fixed  |    12 |

</details>

## What's new in 2.0?

```sh
WIDE_LINE
```

<pre style="color: red">coloured <b>output</b></pre>

A note.[^1] <script>alert(1)</script>

[^1]: As written on GitHub.
""".replace(
    "WIDE_LINE",
    "curl --fail --silent --show-error --location https://example.org/releases/2.0/install.sh "
    "--output install.sh && sh install.sh --prefix /usr/local --with-everything",
)


def add_real_markdown(root: Path) -> Path:
    """Add REAL_MARKDOWN to an archive copied from the example; return its file."""
    file = root / "content" / "2016" / "real-markdown.md"
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(REAL_MARKDOWN, encoding="utf-8")
    return file
