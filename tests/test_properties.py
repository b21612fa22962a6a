"""Property tests: no input makes the loader raise; it returns errors instead."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from briefings.config import parse_config
from briefings.content import parse_briefing
from tests.conftest import SITE_YAML, briefing

CONFIG = parse_config(SITE_YAML).parsing
YAMLISH = st.text(alphabet=st.sampled_from(list("abc:-[]{},&*!|>'\"#%@`? \n\t\r\\0129\ufeff\x00é")), max_size=300)
FIELD_VALUES = st.one_of(YAMLISH, st.sampled_from(["", "~", "yes", "NO", "2016", "[a, b]", "{x: 1}", "&a x", "*a"]))


def assert_well_formed(data: bytes) -> None:
    parsed, errors = parse_briefing(data, "content/2015/x.md", CONFIG)
    assert (parsed is None) == bool(errors)
    lines = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").count(b"\n") + 2  # as the loader counts lines
    assert all(0 <= e.line <= lines and e.message for e in errors)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    assert_well_formed(data)


@settings(max_examples=300)
@given(YAMLISH, YAMLISH)
def test_arbitrary_front_matter_never_raises(front: str, body: str) -> None:
    assert_well_formed(f"---\n{front}\n---\n{body}".encode())


@settings(max_examples=200)
@given(
    st.sampled_from(["title", "date", "summary", "source", "credit", "region", "tags", "image", "draft"]), FIELD_VALUES
)
def test_any_value_in_any_field_never_raises(field: str, value: str) -> None:
    lines = [line if not line.startswith(f"{field}:") else f"{field}: {value}" for line in briefing().split("\n")]
    assert_well_formed("\n".join(lines).encode())
