"""Every page of the example site is valid HTML according to the W3C Nu checker."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO, add_real_markdown, run

VNU = REPO / ".tools/node_modules/vnu-jar/build/dist/vnu.jar"


def test_example_site_has_no_html_errors(tmp_path: Path) -> None:
    if not VNU.exists() or shutil.which("java") is None:
        pytest.fail("the Nu checker is missing: run scripts/install-test-tools (make test does)")
    for name in ("site.yaml", "content", "templates", "static"):
        copy = shutil.copytree if (REPO / name).is_dir() else shutil.copy
        copy(REPO / name, tmp_path / name)
    add_real_markdown(tmp_path)  # fractions of a second, authors' HTML, MathML, a wide code block
    # A redirect page (an alias) and a withdrawn briefing's page are checked too.
    first = sorted((tmp_path / "content").rglob("*.md"))[0]
    first.write_text(first.read_text().replace("\n---\n", "\naliases: [/old/first/]\n---\n", 1))
    with (tmp_path / "site.yaml").open("a") as settings:
        settings.write("removed:\n  - url: /2014/01/withdrawn/\n    reason: Its source retracted it.\n")
    assert run(tmp_path, "--quiet") == 0
    assert (tmp_path / "_site/old/first/index.html").is_file()
    assert (tmp_path / "_site/2014/01/withdrawn/index.html").is_file()
    pages = sorted(str(p) for p in (tmp_path / "_site").rglob("*.html"))
    result = subprocess.run(
        ["java", "-jar", str(VNU), "--format", "json", "--stdout", *pages],
        capture_output=True,
        text=True,
        timeout=300,
    )
    messages = json.loads(result.stdout)["messages"]
    problems = [f"{m.get('url', '')}:{m.get('lastLine')}: {m['message']}" for m in messages if m["type"] != "info"]
    assert problems == []
    assert len(pages) > 100
    page = (tmp_path / "_site/2016/07/real-markdown/index.html").read_text(encoding="utf-8")
    assert '<time datetime="2016-07-19T17:09:26+00:00">' in page and ".413" not in page
