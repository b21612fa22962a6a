"""Parsing briefings: what valid input becomes."""

from __future__ import annotations

import pickle
from datetime import timedelta

from briefings.config import parse_config
from briefings.content import parse_briefing, share_values
from briefings.frozen import remade
from tests.conftest import SITE_YAML, briefing

CONFIG = parse_config(SITE_YAML).parsing
PATH = "content/2015/kweiris.md"


def parse(text: str | bytes, path: str = PATH):
    data = text.encode() if isinstance(text, str) else text
    return parse_briefing(data, path, CONFIG)


def test_valid_briefing_parses_with_file_name_as_slug() -> None:
    parsed, errors = parse(briefing())
    assert errors == []
    assert parsed is not None
    assert (parsed.slug, parsed.title, parsed.region, parsed.tags) == (
        "kweiris",
        "A valid briefing",
        "Middle East",
        ("Syria",),
    )
    assert parsed.body.strip() == "Body text."
    assert parsed.body_line == 10


def test_yaml_11_traps_keep_the_text_as_written() -> None:
    parsed, errors = parse(briefing(tags="[2016, yes, NO, 1e3, ~x]", title="2016", source="true"))
    assert errors == []
    assert parsed is not None
    assert parsed.tags == ("2016", "yes", "NO", "1e3", "~x")
    assert parsed.title == "2016"
    assert parsed.source.name == "true"


def test_bom_and_crlf_line_endings_are_accepted_with_right_lines() -> None:
    text = "\ufeff" + briefing(title="Crlf").replace("\n", "\r\n")
    parsed, errors = parse(text.encode("utf-8"))
    assert errors == []
    assert parsed is not None and parsed.title == "Crlf"
    bad = "\ufeff" + briefing(region="Middle east").replace("\n", "\r\n")
    _, errors = parse(bad.encode("utf-8"))
    assert [e.line for e in errors] == [7]


def test_date_without_offset_is_read_in_site_timezone_not_utc() -> None:
    parsed, _ = parse(briefing(date="2015-09-24T10:00:00"))
    assert parsed is not None
    assert parsed.date.utcoffset() == timedelta(hours=3)  # Europe/Istanbul, summer time
    assert parsed.date_has_time


def test_date_only_is_midnight_in_site_timezone() -> None:
    parsed, _ = parse(briefing(date="2015-09-24"))
    assert parsed is not None
    assert (parsed.date.hour, parsed.date_has_time, str(parsed.date.tzinfo)) == (0, False, "Europe/Istanbul")


def test_calendar_date_as_written_is_kept_whatever_the_offset() -> None:
    parsed, _ = parse(briefing(date="2015-09-30T23:30:00-05:00"))
    assert parsed is not None
    assert (parsed.date.year, parsed.date.month, parsed.date.day) == (2015, 9, 30)


def test_tag_aliases_map_to_canonical_and_repeats_are_dropped() -> None:
    parsed, _ = parse(briefing(tags="[Islamic State, isil, ISIS, Syria, syria]"))
    assert parsed is not None
    assert parsed.tags == ("ISIS", "Syria")


def test_source_mapping_and_optional_fields() -> None:
    extra = (
        "countries: [Syria, Russia]\nupdated: 2015-09-25\ndraft: true\nslug: kweiris-jets\n"
        "image:\n  src: /images/jet.jpg\n  alt: A jet on a runway\n  caption: An Su-30SM\n"
        "corrections:\n  - date: 2015-09-25\n    text: First fix.\n  - date: 2015-09-27\n    text: Second fix.\n"
    )
    parsed, errors = parse(briefing(source="{name: TRT World, url: 'https://www.trtworld.com/'}", extra=extra))
    assert errors == []
    assert parsed is not None
    assert parsed.source.url == "https://www.trtworld.com/"
    assert parsed.countries == ("Syria", "Russia")
    assert parsed.draft and parsed.slug == "kweiris-jets"
    assert parsed.image is not None and parsed.image.alt == "A jet on a runway"
    assert [c.text for c in parsed.corrections] == ["Second fix.", "First fix."]
    assert parsed.modified.date().isoformat() == "2015-09-27"


def test_one_file_reports_all_its_errors() -> None:
    _, errors = parse(briefing(region="Middle east", tags="[]", extra="draft: maybe\n"))
    assert [(e.line, e.message.split(":")[0]) for e in errors] == [(7, "region"), (8, "tags"), (9, "draft")]


def test_a_briefings_date_of_change_is_worked_out_once_and_survives_pickling() -> None:
    b, errors = parse(briefing(extra="updated: 2015-09-25T09:00:00+03:00\n"))
    assert b is not None and not errors
    assert "modified" not in vars(b)
    assert b.modified == b.updated and b.modified_at == b.updated.timestamp()
    assert vars(b)["modified"] is b.modified  # kept: a later use is a lookup
    copy = pickle.loads(pickle.dumps(b))
    assert copy == b and copy.modified == b.modified
    assert vars(copy) == vars(b)  # what was worked out comes back with it, not worked out again
    # As its values, with one tuple of their names for every briefing of its layout (`compact_dict_pickle`).
    other, _ = parse(briefing(title="Another", extra="updated: 2015-09-25T09:00:00+03:00\n"))
    assert other is not None and other.modified_at
    (call, (_, names, _)), (_, (_, other_names, _)) = b.__reduce__(), other.__reduce__()
    assert call is remade and names is other_names


def test_values_many_briefings_hold_become_one_object_each_and_stay_equal() -> None:
    """Briefings parsed in other processes (here: each through a pickle of its own) hold equal
    copies of their tags, region, credit, source, zone and field lines; the model shares them."""
    texts = [
        briefing(title=f"Number {n}", tags="[Syria, Iraq]", extra="updated: 2015-09-25T09:00:00+03:00\n")
        for n in (1, 2)
    ]
    parsed = [pickle.loads(pickle.dumps(parse(text)[0])) for text in texts]
    a, b = parsed
    assert a is not None and b is not None
    _ = a.modified  # worked out before, from the date object about to be replaced
    before = [pickle.loads(pickle.dumps(x)) for x in parsed]
    assert a.tags[0] is not b.tags[0] and a.date.tzinfo is not b.date.tzinfo and a.source is not b.source
    share_values([a, b])
    assert a.tags[0] is b.tags[0] and a.tags[1] is b.tags[1]
    assert (a.region, a.credit, a.source, a.lines) == (b.region, b.credit, b.source, b.lines)
    assert a.region is b.region and a.credit is b.credit and a.source is b.source and a.lines is b.lines
    assert a.date.tzinfo is b.date.tzinfo
    assert [a, b] == before and [repr(x) for x in (a, b)] == [repr(x) for x in before]
    assert a.modified == a.updated and a.modified_at == before[0].modified_at and a.moment == before[0].moment
