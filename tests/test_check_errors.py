"""`check` on one fixture per error kind: exact `file:line: message`, all in one run."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from briefings.errors import BuildFailed
from briefings.pipeline import check
from tests.conftest import FIXTURES, briefing, make_archive, run

INVALID = FIXTURES / "invalid"
ALLOWED_KEYS = (
    "title, date, summary, source, credit, region, countries, tags, image, updated, draft, slug, corrections, "
    "language, aliases, story"
)
REGIONS = "Middle East, Europe, Africa, Asia-Pacific, Americas, Global"
DATE_HINT = "write it like 2015-09-24 or 2015-09-24T10:00:00+03:00"
QUOTE_HINT = "if a value contains : # [ { or starts with a quote, put it in quotes"

# Fixture name -> the one error `check` must report for it (line, message).
EXPECTED = {
    "unknown-key": (9, f"photographer: unknown key in front matter; allowed keys: {ALLOWED_KEYS}"),
    "missing-title": (2, "title: missing from front matter; add `title: ...`"),
    "region-typo": (9, 'region: "Middle east" is not a known region; did you mean "Middle East"?'),
    "region-norway-code": (9, f'region: "NO" is not a known region; use one of: {REGIONS}'),
    "title-too-long": (2, "title: is 201 characters long; at most 200 are allowed"),
    "source-url-not-http": (
        7,
        'source url: "javascript:alert(1)" is not an http(s) URL; write it like https://example.org/page',
    ),
    "date-not-iso": (3, f'date: "24/09/2015" is not an ISO 8601 date or date-time; {DATE_HINT}'),
    "date-impossible": (3, f'date: "2015-02-30" is not an ISO 8601 date or date-time; {DATE_HINT}'),
    "updated-before-date": (10, "updated: is before date; updated must be on or after date"),
    "slug-invalid": (
        10,
        'slug: "Kweiris_Jets" is not a valid slug: character 1, "K", is an uppercase letter (a slug holds '
        "lowercase a-z, 0-9 and hyphens, and neither starts nor ends with a hyphen)",
    ),
    "tags-empty": (10, "tags: is empty; give at least one tag"),
    "tags-too-many": (10, "tags: has 13 items; at most 12 are allowed"),
    "tags-not-a-list": (10, 'tags: expected a list such as [a, b], found "Syria"'),
    "tags-share-a-slug": (10, 'tags "C#" and "C++" would share the URL /tags/c/; rename one'),
    "draft-yes": (10, 'draft: expected true or false, found "yes"'),
    "image-without-alt": (11, "alt: missing from image; add `alt: ...`"),
    "image-javascript-src": (
        11,
        'image src: "javascript:alert(1)" must be an http(s) URL or a path such as /images/photo.jpg',
    ),
    "yaml-syntax": (5, f"invalid YAML: did not find expected ',' or ']'; {QUOTE_HINT}"),
    "yaml-alias-bomb": (3, "YAML aliases (*name) are not allowed; write the value out"),
    "yaml-python-tag": (
        8,
        "the YAML tag !!python/object/apply:os.system is not allowed; "
        "remove it (values are plain text, lists and mappings)",
    ),
    "duplicate-key": (9, "title: appears twice (first on line 2); keep one"),
    "no-front-matter": (1, "must start with a line `---` that opens the front matter (title, date, ...)"),
    "front-matter-not-closed": (1, "the front matter opened on line 1 is never closed; add a line `---` after it"),
    "wrong-year-folder": (3, "date: is in 2016 but the file is in content/2015/; move it to content/2016/"),
    "broken-briefing-link": (
        14,
        'link "../2014/missing.md" points to no briefing (content/2014/missing.md does not exist); fix the path',
    ),
    "correction-without-text": (11, "text: missing from a correction; add `text: ...`"),
    "countries-not-a-list": (10, 'countries: expected a list such as [a, b], found "Syria"'),
    "country-misspelt": (
        10,
        'countries: "Syira" looks like a misspelling of "Syria"; did you mean "Syria"? '
        'If "Syira" is right, add it to known_countries in site.yaml',
    ),
    "credit-empty": (8, "credit: is empty; write the credit after the colon"),
    "invalid-utf8": (4, "is not valid UTF-8 (byte 0xe9); save the file with UTF-8 encoding"),
}


def archive_of(tmp_path: Path, *names: str) -> Path:
    """Make the example site.yaml archive holding the named invalid fixtures in content/2015/."""
    root = make_archive(tmp_path / "archive", {}, (Path(__file__).parent.parent / "site.yaml").read_text())
    (root / "content" / "2015").mkdir(parents=True)
    for name in names:
        shutil.copy(INVALID / f"{name}.md", root / "content" / "2015" / f"{name}.md")
    return root


def test_every_fixture_has_an_expectation() -> None:
    assert sorted(p.stem for p in INVALID.glob("*.md")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_check_reports_one_precise_error(tmp_path: Path, name: str) -> None:
    root = archive_of(tmp_path, name)
    with pytest.raises(BuildFailed) as failed:
        check(root)
    line, message = EXPECTED[name]
    assert [str(e) for e in failed.value.errors] == [f"content/2015/{name}.md:{line}: {message}"]


def test_check_reports_every_error_in_one_run_sorted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = archive_of(tmp_path, *EXPECTED)
    assert run(root, "check") == 1
    err = capsys.readouterr().err.splitlines()
    expected = [f"content/2015/{name}.md:{line}: {msg}" for name, (line, msg) in sorted(EXPECTED.items())]
    assert err[:-1] == expected
    assert err[-1] == f"Found {len(EXPECTED)} errors in {len(EXPECTED)} files; fix them and run check again."
    assert "Traceback" not in "\n".join(err)


def test_alias_bomb_is_rejected_in_under_a_second(tmp_path: Path) -> None:
    root = archive_of(tmp_path, "yaml-alias-bomb")
    started = time.perf_counter()
    with pytest.raises(BuildFailed):
        check(root)
    assert time.perf_counter() - started < 1.0


def test_duplicate_urls_name_both_files(archive) -> None:
    from tests.conftest import briefing

    root = archive(
        {
            "2015/kweiris.md": briefing(),
            "2015/other.md": briefing(title="Other", extra="slug: kweiris\n"),
        }
    )
    with pytest.raises(BuildFailed) as failed:
        check(root)
    assert [str(e) for e in failed.value.errors] == [
        "content/2015/kweiris.md:1: /2015/09/kweiris/ is also the URL of content/2015/other.md; "
        "change the slug of one of them",
        "content/2015/other.md:9: /2015/09/kweiris/ is also the URL of content/2015/kweiris.md; "
        "change the slug of one of them",
    ]


def test_image_that_is_not_in_static_is_an_error(archive) -> None:
    from tests.conftest import briefing

    image = "image:\n  src: /images/missing.jpg\n  alt: Nothing here\n"
    root = archive(
        {
            "2015/pic.md": briefing(extra=image),
            "2015/ok.md": briefing(extra=image.replace("/images/missing.jpg", "favicon.svg")),
        }
    )
    with pytest.raises(BuildFailed) as failed:
        check(root)
    assert [str(e) for e in failed.value.errors] == [
        'content/2015/pic.md:9: image src: "/images/missing.jpg" is not a file of the site; '
        "add it under static/ or fix the path"
    ]


def test_published_briefing_may_not_link_to_a_draft(archive, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.conftest import briefing

    root = archive(
        {
            "2015/draft.md": briefing("Draft", extra="draft: true\n", body="[ok](published.md) from a draft is fine"),
            "2015/published.md": briefing("Published", body="See [the draft](draft.md)."),
        }
    )
    expected = (
        'content/2015/published.md:10: link "draft.md" points to content/2015/draft.md, a draft; '
        "link to it once it is published, or remove the link"
    )
    for command in ("check", "build"):
        assert run(root, command) == 1
        assert capsys.readouterr().err.splitlines()[0] == expected


def test_body_links_to_site_paths_must_exist(archive) -> None:
    from tests.conftest import briefing

    body = "Good: [tags](/tags/syria/), [icon](/favicon.svg#x), [home](/).\n"
    body += "Bad: [tag](/tags/nope/) and ![pic](/img/none.png)."
    root = archive({"2015/links.md": briefing(body=body)})
    with pytest.raises(BuildFailed) as failed:
        check(root)
    assert [str(e) for e in failed.value.errors] == [
        'content/2015/links.md:11: link "/img/none.png" points to no page of the site; fix the path',
        'content/2015/links.md:11: link "/tags/nope/" points to no page of the site; fix the path',
    ]


def test_file_names_with_runs_of_hyphens_are_valid_slugs(archive, capsys: pytest.CaptureFixture[str]) -> None:
    # Real post names: a run of hyphens where a title had a dash or an abbreviation's full stops.
    names = ["a-day-in-the-life---ingeniero-en-18f", "improving-the-way-the-u-s--tax-court-engages-with-the-public"]
    root = archive({f"2015/{name}.md": briefing(f"Post {n}", f"2015-09-2{n}") for n, name in enumerate(names)})
    assert run(root, "check") == 0 and run(root, "--quiet") == 0
    assert all((root / "_site" / "2015" / "09" / name / "index.html").is_file() for name in names)


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("-leading", "it starts with a hyphen"),
        ("trailing-", "it ends with a hyphen"),
        ("two_words", 'character 4, "_", is not allowed'),
        ("Caps", 'character 1, "C", is an uppercase letter'),
        ("café", 'character 4, "é", is not allowed'),
        ("a b", "character 2, ' ', is not allowed"),
    ],
)
def test_a_refused_file_name_says_which_character_is_wrong(
    archive, capsys: pytest.CaptureFixture[str], name: str, problem: str
) -> None:
    root = archive({f"2015/{name}.md": briefing()})
    assert run(root, "check") == 1
    err = capsys.readouterr().err
    assert f'content/2015/{name}.md:1: file name "{name}" is not a valid slug: {problem} (' in err, err
    assert "rename the file or add slug:" in err


def test_a_tag_named_like_a_region_is_an_error(archive) -> None:
    """A tag page "Europe" beside the region page Europe would list other briefings; a briefing
    has one region, so the tag cannot simply join it as a country's name does."""
    root = archive({"2016/brexit.md": briefing("Brexit vote", "2016-06-24", "[Brexit, europe]", region="Europe")})
    with pytest.raises(BuildFailed) as failed:
        check(root)
    assert [str(e) for e in failed.value.errors] == [
        'content/2016/brexit.md:8: tags: "Europe" is the name of a region, which `region:` gives; drop it from '
        "tags, or name what it means more precisely (a place, an organisation)"
    ]


def test_dangling_references_name_each_briefing_whose_link_or_image_no_output_serves() -> None:
    """Each briefing whose link or image no output serves is named, at its line, in the
    briefings' order, and no other (most briefings share their tuple of links with others)."""
    from briefings.links import Unplaced, dangling_references
    from tests.test_content import parse

    image = "image:\n  src: /images/missing.jpg\n  alt: Nothing here\n"
    texts = [briefing(f"Briefing {n}", extra=image if n == 3 else "") for n in range(5)]
    made = [parse(text, f"content/2015/b{n}.md")[0] for n, text in enumerate(texts)]
    briefings = [b for b in made if b is not None]
    good, bad = ((9, "/tags/syria/"), (10, "/")), ((9, "/tags/syria/"), (12, "/tags/nope/"))
    paths = {"index.html", "tags/syria/index.html"}

    def linked(site_links: list[tuple[tuple[int, str], ...]]) -> list[Unplaced]:
        return [Unplaced(b, links) for b, links in zip(briefings, site_links, strict=True)]

    missing_image = (
        'content/2015/b3.md:9: image src: "/images/missing.jpg" is not a file of the site; '
        "add it under static/ or fix the path"
    )
    assert [str(e) for e in dangling_references(linked([good] * 5), paths)] == [missing_image]
    assert [str(e) for e in dangling_references(linked([()] * 5), paths)] == [missing_image]
    errors = [str(e) for e in dangling_references(linked([good, bad, good, good, bad]), paths)]
    assert errors == [
        'content/2015/b1.md:12: link "/tags/nope/" points to no page of the site; fix the path',
        missing_image,
        'content/2015/b4.md:12: link "/tags/nope/" points to no page of the site; fix the path',
    ]
    assert dangling_references(linked([good] * 5), paths | {"images/missing.jpg"}) == []
