"""site.yaml: settings are checked like content, with file:line errors."""

from __future__ import annotations

import pytest

from briefings.config import parse_config
from briefings.errors import BuildFailed
from tests.conftest import SITE_YAML


def errors_of(text: str) -> list[str]:
    with pytest.raises(BuildFailed) as failed:
        parse_config(text)
    return [str(e) for e in failed.value.errors]


def test_example_settings_parse() -> None:
    config = parse_config(SITE_YAML)
    assert (config.base_path, config.per_page, config.allow_html) == ("/", 3, False)
    assert [r.slug for r in config.regions] == ["middle-east", "europe"]
    assert config.parsing.canonical_tag("islamic state") == "ISIS"


def test_base_url_path_is_kept_for_project_sites() -> None:
    config = parse_config(SITE_YAML.replace("https://example.org/", "https://user.github.io/briefings"))
    assert (config.base_url, config.base_path) == ("https://user.github.io/briefings/", "/briefings/")


def test_unknown_and_invalid_settings_are_reported_together() -> None:
    text = SITE_YAML.replace("per_page: 3", "per_page: lots\ntimezon: UTC").replace(
        "timezone: Europe/Istanbul", "timezone: Mars/Olympus"
    )
    assert errors_of(text) == [
        'site.yaml:5: timezone: "Mars/Olympus" is not an IANA timezone; write one such as UTC or Europe/Istanbul',
        'site.yaml:6: per_page: expected a whole number from 1 to 500, found "lots"',
        'site.yaml:7: timezon: unknown key in site.yaml; did you mean "timezone"?',
    ]


def test_region_and_alias_mistakes() -> None:
    text = SITE_YAML.replace("slug: europe", "slug: Europe!") + "  Syria: [IS]\n"
    assert errors_of(text) == [
        'site.yaml:12: slug: "Europe!" is not a valid slug: character 1, "E", is an uppercase letter '
        "(a slug holds lowercase a-z, 0-9 and hyphens, and neither starts nor ends with a hyphen)",
        'site.yaml:15: tag_aliases: "IS" is an alias of both "ISIS" and "Syria"',
    ]


def test_bad_base_url_and_html_flag() -> None:
    text = SITE_YAML.replace("https://example.org/", "ftp://example.org") + "markdown:\n  allow_html: yes\n"
    assert errors_of(text) == [
        'site.yaml:3: base_url: "ftp://example.org" is not an http(s) URL such as https://example.org/archive/',
        'site.yaml:16: allow_html: expected true or false, found "yes"',
    ]


def test_id_authority_must_be_a_tag_uri_authority() -> None:
    text = SITE_YAML.replace("id_authority: example.org,2015", "id_authority: https://example.org")
    assert errors_of(text) == [
        'site.yaml:7: id_authority: "https://example.org" is not a tag URI authority; '
        "write a domain you own and a year, e.g. example.org,2015"
    ]
