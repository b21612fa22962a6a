"""The repository's own documentation: every relative link resolves, and the field rules match the checker's."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from markdown_it import MarkdownIt

from briefings.pipeline import check
from tests.conftest import REPO

FIELD_ROW = re.compile(r"^\| `(\w+)` \| (yes|no) \| (.*) \|$", re.M)

DOCS = [
    REPO / "README.md",
    REPO / "CONTRIBUTING.md",
    REPO / ".github" / "pull_request_template.md",
    *sorted((REPO / "docs").glob("*.md")),
]


def links(file: Path) -> list[str]:
    """Return the targets of a Markdown file's links and images (code spans and blocks hold none)."""
    found = []
    for token in MarkdownIt("commonmark").enable("table").parse(file.read_text(encoding="utf-8")):
        for child in token.children or ():
            target = child.attrGet("href") if child.type == "link_open" else child.attrGet("src")
            if child.type in ("link_open", "image") and target is not None:
                found.append(str(target))
    return found


def anchors(file: Path) -> set[str]:
    """Return the ids GitHub gives a Markdown file's headings: lowercase, punctuation dropped, spaces to hyphens."""
    ids = set()
    for token in MarkdownIt("commonmark").parse(file.read_text(encoding="utf-8")):
        if token.type == "inline" and token.map is not None and token.content:
            ids.add(re.sub(r"[^\w\- ]", "", token.content.lower()).replace(" ", "-"))
    return ids


@pytest.mark.parametrize("file", DOCS, ids=lambda f: f.relative_to(REPO).as_posix())
def test_every_relative_link_resolves(file: Path) -> None:
    broken = []
    for target in links(file):
        parts = urlsplit(target)
        if parts.scheme or parts.netloc:
            continue  # an address on the web
        path = (file.parent / unquote(parts.path)).resolve() if parts.path else file
        if not path.exists() or not path.is_relative_to(REPO):
            broken.append(f"{target}: no such file in the repository")
        elif parts.fragment and path.suffix == ".md" and parts.fragment not in anchors(path):
            broken.append(f"{target}: no heading #{parts.fragment}")
    assert broken == [], f"{file.name}: {broken}"


def test_the_link_check_sees_links_and_catches_a_broken_one(tmp_path: Path) -> None:
    page = REPO / "docs" / "reference.md"
    assert "architecture.md" in links(page) and "../README.md" in links(page)
    assert "urls" in anchors(page) and "front-matter" in anchors(page)
    broken = tmp_path / "broken.md"
    broken.write_text("See [the contract](../shared/DESIGN.md) and `[not a link](nowhere.md)`.\n")
    assert links(broken) == ["../shared/DESIGN.md"]


def field_rows(file: Path) -> dict[str, tuple[bool, str]]:
    """Return a doc's front matter table: field -> (required, rule)."""
    return {m[1]: (m[2] == "yes", m[3]) for m in FIELD_ROW.finditer(file.read_text(encoding="utf-8"))}


def limits(schema: Any) -> set[int]:
    """Return every length and count limit a schema states, nested ones included."""
    if isinstance(schema, list):
        return set().union(*(limits(item) for item in schema))
    if not isinstance(schema, dict):
        return set()
    own = {schema[k] for k in ("maxLength", "maxItems") if k in schema}
    return own.union(*(limits(value) for value in schema.values()))


@pytest.mark.parametrize("name", ["CONTRIBUTING.md", "docs/reference.md"])
def test_the_field_tables_state_the_checkers_rules(name: str) -> None:
    schema = json.loads((REPO / "briefing.schema.json").read_text(encoding="utf-8"))
    rows = field_rows(REPO / name)
    assert sorted(rows) == sorted(schema["properties"]), "one row per field"
    assert {field for field, (required, _) in rows.items() if required} == set(schema["required"])
    if name == "CONTRIBUTING.md":  # the contributors' table states every limit and the regions
        for field, (_, rule) in rows.items():
            numbers = {int(n) for n in re.findall(r"\b\d+\b", re.sub(r"`[^`]*`", "", rule))}
            assert limits(schema["properties"][field]) <= numbers, f"{field}: {rule}"
        regions = rows["region"][1].split("exactly one of: ")[1]
        assert regions.split(", ") == schema["properties"]["region"]["enum"]


def test_the_briefing_in_contributing_md_passes_the_check_as_pasted(tmp_path: Path) -> None:
    text = (REPO / "CONTRIBUTING.md").read_text(encoding="utf-8")
    block = re.search(r"```markdown\n(.*?)```", text, re.S)
    assert block is not None
    pasted = "\n".join(line.removeprefix("   ") for line in block[1].splitlines()) + "\n"
    for name in ("site.yaml", "content", "templates", "static"):
        copy = shutil.copytree if (REPO / name).is_dir() else shutil.copy
        copy(REPO / name, tmp_path / name)
    (tmp_path / "content" / "2026").mkdir(exist_ok=True)
    (tmp_path / "content" / "2026" / "ceasefire-holds-in-idlib.md").write_text(pasted, encoding="utf-8")
    planning = check(tmp_path)
    entry = next(e for e in planning.archive.entries if e.briefing.path == "content/2026/ceasefire-holds-in-idlib.md")
    assert entry.path == "2026/11/ceasefire-holds-in-idlib/"


def test_the_documented_sequence_works_in_a_fresh_copy_with_the_plain_python(tmp_path: Path) -> None:
    # After `make site` (which makes .venv), CONTRIBUTING says `python build.py new/check` and
    # `python build.py`: with a Python that lacks the dependencies, build.py runs itself with .venv.
    listed = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    for name in (n for n in listed if not n.startswith("tests/")):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, tmp_path / name)
    (tmp_path / ".venv").symlink_to(REPO / ".venv")
    python = str(Path(sys.base_prefix) / "bin" / "python3")

    def step(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([python, "build.py", *args], cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done

    made = step("new", "Ceasefire holds in Idlib", "--region", "Middle East", "--tags", "Syrian civil war,Ceasefires")
    file = tmp_path / made.stdout.splitlines()[0]
    file.write_text(file.read_text(encoding="utf-8").replace("TODO: ", ""), encoding="utf-8")  # as a writer fills it in
    assert step("check").stdout.splitlines()[0].endswith("briefings: no problems found.")
    assert "Built " in step().stdout
    plain = subprocess.run([python, "-c", "import markdown_it"], capture_output=True, check=False).returncode
    if plain != 0:  # this Python lacks the dependencies: build.py said which one it used
        assert "using .venv/bin/python (made by `make site`)" in made.stderr


def test_the_readme_is_a_users_guide() -> None:
    """A newcomer reaches publishing within the first third; every optional field and every option
    of the commands is named; benchmark tables live in docs/performance.md, not here."""
    from briefings.content import FIELDS, REQUIRED

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", readme, re.M)
    assert headings[:4] == [
        "Quick start",
        "Writing and checking a briefing",
        "Previewing",
        "Publishing on GitHub Pages",
    ]
    assert readme.index("## Publishing") < len(readme) / 3
    optional = readme[readme.index("Optional:") : readme.index("Every rule is in")]
    assert [f for f in FIELDS if f not in REQUIRED and f"`{f}`" not in optional] == []
    commands = readme[readme.index("## Commands") : readme.index("## What a build makes")]
    for option in ("--root", "--base-url", "--drafts", "--jobs", "--no-cache", "--quiet", "--sizes", "--host",
                   "--port", "--open", "--base", "--format", "--summary"):  # fmt: skip
        assert option in commands, option
    assert "wall s" not in readme and "| seconds |" not in readme
    assert "wall s | CPU s" in (REPO / "docs" / "performance.md").read_text(encoding="utf-8")
