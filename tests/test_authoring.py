"""Writing briefings: `python build.py new` and the JSON Schema of front matter (briefing.schema.json)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jsonschema
import pytest

from briefings.config import load_config
from briefings.content import split_front_matter
from briefings.editor_schema import schema_json
from briefings.errors import BuildFailed
from briefings.pipeline import check
from briefings.yamlnodes import Mapping, Node, Scalar, Seq, parse_yaml
from tests.conftest import FIXTURES, REPO, SITE_YAML, briefing, make_archive, run

# Invalid fixtures whose problem is the shape of a value, which a JSON Schema can state.
# The others (a date that does not exist, YAML syntax, a file in the wrong year's folder,
# links, two tags with one slug...) are for `check` alone.
SCHEMA_REJECTS = (
    "unknown-key", "missing-title", "region-typo", "region-norway-code", "title-too-long",
    "source-url-not-http", "date-not-iso", "slug-invalid", "tags-empty", "tags-too-many",
    "tags-not-a-list", "draft-yes", "image-without-alt", "correction-without-text",
    "countries-not-a-list", "credit-empty",
)  # fmt: skip


def as_an_editor_reads(node: Node | None) -> Any:
    """Return front matter as JSON the way a YAML 1.2 editor sees it (core schema: no dates)."""
    if isinstance(node, Mapping):
        return {key.text: as_an_editor_reads(value) for key, value in node.items}
    if isinstance(node, Seq):
        return [as_an_editor_reads(item) for item in node.items]
    assert isinstance(node, Scalar)
    if not node.plain:
        return node.text
    if node.text in ("", "~", "null"):
        return None
    if node.text in ("true", "false"):
        return node.text == "true"
    if re.fullmatch(r"[-+]?\d+", node.text):
        return int(node.text)
    if re.fullmatch(r"[-+]?(\.\d+|\d+(\.\d*)?)([eE][-+]?\d+)?", node.text):
        return float(node.text)
    return node.text


def front_matter(file: Path) -> Any:
    yaml, _, _ = split_front_matter(file.read_text(encoding="utf-8"))
    return as_an_editor_reads(parse_yaml(yaml))


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    schema = json.loads((REPO / "briefing.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def test_the_committed_schema_is_the_generated_one() -> None:
    generated = schema_json(load_config(REPO / "site.yaml"))
    assert (REPO / "briefing.schema.json").read_text(encoding="utf-8") == generated, (
        "run: python build.py schema > briefing.schema.json"
    )


def test_the_schema_accepts_every_example_briefing(validator: jsonschema.Draft7Validator) -> None:
    files = sorted((REPO / "content").rglob("*.md"))
    assert len(files) > 40
    for file in files:
        assert [e.message for e in validator.iter_errors(front_matter(file))] == [], file


@pytest.mark.parametrize("name", SCHEMA_REJECTS)
def test_the_schema_rejects_the_invalid_fixtures_it_can_express(
    validator: jsonschema.Draft7Validator, name: str
) -> None:
    assert list(validator.iter_errors(front_matter(FIXTURES / "invalid" / f"{name}.md"))), name


def test_regions_are_an_enum_from_site_yaml(validator: jsonschema.Draft7Validator) -> None:
    region = validator.schema["properties"]["region"]
    assert region["enum"] == [r.name for r in load_config(REPO / "site.yaml").regions]


def test_new_writes_a_complete_briefing_that_check_flags_until_filled(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], validator: jsonschema.Draft7Validator
) -> None:
    root = make_archive(tmp_path / "a", {"2015/ok.md": briefing()})
    before = datetime.now(ZoneInfo("Europe/Istanbul")).replace(microsecond=0)
    assert (
        run(root, "new", 'Ceasefire holds in Idlib: "mostly"', "--region", "Middle East", "--tags", "Syria, Idlib") == 0
    )
    out = capsys.readouterr().out.splitlines()
    path = f"content/{before.year}/ceasefire-holds-in-idlib-mostly.md"
    assert out[0] == path
    data = front_matter(root / path)
    assert data["title"] == 'Ceasefire holds in Idlib: "mostly"'
    assert (data["region"], data["tags"]) == ("Middle East", ["Syria", "Idlib"])
    written = datetime.fromisoformat(data["date"])
    assert written.utcoffset() == before.utcoffset() and 0 <= (written - before).total_seconds() < 60
    assert list(validator.iter_errors(data))  # the placeholders are not valid front matter either
    with pytest.raises(BuildFailed) as failed:
        check(root)
    fields = [str(e).split(": ", 2)[1] for e in failed.value.errors]
    assert fields == ["summary", "source name", "credit", "body"], failed.value.errors
    assert all(str(e).startswith(f"{path}:") for e in failed.value.errors)
    text = (root / path).read_text()
    for placeholder in re.findall(r'"(TODO:[^"]*)"', text):
        text = text.replace(placeholder, "Filled in")
    (root / path).write_text(re.sub(r"(?m)^TODO:.*$", "What happened, in our words.", text))
    check(root)


def test_new_never_overwrites_and_checks_the_region(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_archive(tmp_path / "a", {}, SITE_YAML)
    assert run(root, "new", "Same title") == 0
    path = root / capsys.readouterr().out.splitlines()[0]
    path.write_text("edited")
    assert run(root, "new", "Same title") == 2
    assert capsys.readouterr().err.strip() == (
        f"error: {path.relative_to(root).as_posix()} already exists; edit it, or choose another title"
    )
    assert path.read_text() == "edited"
    assert run(root, "new", "Other", "--region", "Middle east") == 2
    assert capsys.readouterr().err.strip() == (
        'error: --region: "Middle east" is not a region of site.yaml; did you mean "Middle East"?'
    )


def test_without_a_region_the_placeholder_names_the_choices(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_archive(tmp_path / "a", {}, SITE_YAML)
    assert run(root, "new", "Untitled story", "--source", "Reuters") == 0
    data = front_matter(root / capsys.readouterr().out.splitlines()[0])
    assert data["region"] == "TODO: one of Middle East, Europe"
    assert data["source"] == {"name": "Reuters"}
