"""The preview's instant page: for any edit of a briefing that keeps it published, the page shown
at once is the page the full build then makes (its related list aside, which only the full build
ranks); a briefing that moves leaves a redirect at its old URL for the open tab to follow."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import lxml.html
import pytest

from briefings import pipeline
from briefings.preview import instant_page, restyled_pages
from tests.conftest import SITE_YAML, briefing, make_archive

STORY = "story: The fall of Aleppo\n"
FILES = {
    "2015/kweiris.md": briefing("Kweiris", "2015-09-24T10:00:00+03:00", "[Syrian civil war, Air strikes]"),
    "2015/paris.md": briefing("Paris", "2015-11-14T10:00:00+01:00", "[Terrorism]", "Europe", extra=STORY),
    "2015/palmyra.md": briefing("Palmyra", "2015-09-10T10:00:00+03:00", "[Syrian civil war]", extra=STORY),
    "2015/latakia.md": briefing("Latakia", "2015-09-30T10:00:00+03:00", "[Air strikes]", extra=STORY),
    "2015/ankara.md": briefing("Ankara", "2015-10-10T10:00:00+03:00", "[Terrorism]", source="Reuters"),
    "2016/geneva.md": briefing("Geneva", "2016-02-01T10:00:00+01:00", "[Talks]", "Europe"),
}
EDITED = "content/2015/kweiris.md"
RELATED = re.compile(rb'<section id="related".*?</section>\n', re.S)

# Edits that keep the URL (2015/09/kweiris/), each as (old text, new text) in the file.
EDITS: dict[str, tuple[str, str]] = {
    "a title": ("title: Kweiris", "title: Kweiris airbase"),
    "a tag the archive has": ("[Syrian civil war, Air strikes]", "[Syrian civil war, Terrorism]"),
    "a new tag": ("[Syrian civil war, Air strikes]", "[Syrian civil war, Sieges]"),
    "a tag that names a country": ("[Syrian civil war, Air strikes]", "[Air strikes, russia]"),
    "the region": ("region: Middle East", "region: Europe"),
    "the source": ("source: TRT World", "source: Reuters"),
    "countries": ("tags:", "countries: [Syria, Turkey]\ntags:"),
    "joining a story": ("tags:", "story: The fall of Aleppo\ntags:"),
    "starting a story": ("tags:", "story: The siege of Kweiris\ntags:"),
    "the moment, within the month": ("2015-09-24T10:00:00+03:00", "2015-09-05T08:00:00+03:00"),
    "the moment, and a story": ("date: 2015-09-24T10:00:00+03:00", "date: 2015-09-28\nstory: The fall of Aleppo"),
}


def warm(root: Path) -> pipeline.Report:
    """Build as the preview does (scheduled briefings shown), returning the report with its model."""
    return pipeline.build(root, pipeline.Options(scheduled=True))


@pytest.mark.parametrize("edit", EDITS)
def test_the_instant_page_is_the_page_the_full_build_makes(tmp_path: Path, edit: str) -> None:
    root = make_archive(tmp_path / "a", FILES)
    model = warm(root).archive
    assert model is not None
    file = root / EDITED
    old, new = EDITS[edit]
    assert old in file.read_text()
    file.write_text(file.read_text().replace(old, new, 1))
    shown = instant_page(root, model, EDITED, file.read_bytes())
    assert shown is not None, f"{edit}: no instant page"
    [(path, html)] = shown
    warm(root)
    built = (root / "_site" / path).read_bytes()
    assert RELATED.sub(b"", html) == RELATED.sub(b"", built)
    if "tag" not in edit and "moment" not in edit:  # related briefings depend only on tags and moments
        assert html == built


def test_a_new_story_and_a_new_tag_link_their_pages(tmp_path: Path) -> None:
    root = make_archive(tmp_path / "a", FILES)
    model = warm(root).archive
    assert model is not None
    file = root / EDITED
    text = file.read_text().replace("tags:", "story: The siege of Kweiris\ntags:")
    file.write_text(text.replace("Air strikes", "Sieges"))
    shown = instant_page(root, model, EDITED, file.read_bytes())
    assert shown is not None
    html = shown[0][1].decode()
    assert 'href="/tags/sieges/"' in html and 'href="/stories/the-siege-of-kweiris/"' in html
    assert "(1 of 1)" in html


@pytest.mark.parametrize(
    ("change", "moved_to"),
    [
        (("2015-09-24T10:00:00+03:00", "2015-10-24T10:00:00+03:00"), "2015/10/kweiris/index.html"),
        (("tags:", "slug: kweiris-airbase\ntags:"), "2015/09/kweiris-airbase/index.html"),
        (
            ("date: 2015-09-24T10:00:00+03:00", "date: 2015-12-02\nstory: The fall of Aleppo"),
            "2015/12/kweiris/index.html",
        ),
    ],
    ids=["another month", "a new slug", "another month, and a story"],
)
def test_a_briefing_that_moves_is_shown_at_its_new_url_and_its_old_one_redirects_there(
    tmp_path: Path, change: tuple[str, str], moved_to: str
) -> None:
    root = make_archive(tmp_path / "a", FILES)
    model = warm(root).archive
    assert model is not None
    file = root / EDITED
    file.write_text(file.read_text().replace(*change, 1))
    shown = instant_page(root, model, EDITED, file.read_bytes())
    assert shown is not None
    [(path, html), (old, redirect)] = shown
    assert (path, old) == (moved_to, "2015/09/kweiris/index.html")
    target = "https://example.org/" + moved_to.removesuffix("index.html")
    assert lxml.html.fromstring(redirect).xpath("//link[@rel='canonical']/@href") == [target]
    warm(root)
    assert RELATED.sub(b"", html) == RELATED.sub(b"", (root / "_site" / path).read_bytes())
    assert not (root / "_site" / old).exists()


# New briefings, each as (file, text): where the full build will list it, with what it names.
NEW = {
    "in a month the archive has": ("2015/homs.md", briefing("Homs", "2015-09-26T09:00:00+03:00", "[Syrian civil war]")),
    "with a new tag and a new story": (
        "2015/aleppo.md",
        briefing("Aleppo", "2015-10-02T09:00:00+03:00", "[Sieges]", extra="story: The siege of Aleppo\n"),
    ),
    "joining a story, in a new month": (
        "2015/raqqa.md",
        briefing("Raqqa", "2015-12-01T09:00:00+03:00", "[Air strikes]", source="Reuters", extra=STORY),
    ),
    "the newest": ("2016/vienna.md", briefing("Vienna", "2016-03-01T10:00:00+01:00", "[Talks]", "Europe")),
}


@pytest.mark.parametrize("case", NEW)
def test_a_new_briefing_is_shown_at_once_as_the_full_build_then_makes_its_page(tmp_path: Path, case: str) -> None:
    root = make_archive(tmp_path / "a", FILES)
    model = warm(root).archive
    assert model is not None
    name, text = NEW[case]
    file = root / "content" / name
    file.write_text(text)
    shown = instant_page(root, model, f"content/{name}", file.read_bytes())
    assert shown is not None, f"{case}: no instant page"
    [(path, html)] = shown
    assert not (root / "_site" / path).exists()  # not built yet
    warm(root)
    assert RELATED.sub(b"", html) == RELATED.sub(b"", (root / "_site" / path).read_bytes())


def test_a_renamed_briefing_is_shown_at_its_new_url_and_its_old_one_redirects_there(tmp_path: Path) -> None:
    root = make_archive(tmp_path / "a", FILES)
    model = warm(root).archive
    assert model is not None
    renamed = root / "content" / "2015" / "kweiris-airbase.md"
    (root / EDITED).rename(renamed)
    shown = instant_page(root, model, "content/2015/kweiris-airbase.md", renamed.read_bytes(), replaces=EDITED)
    assert shown is not None
    [(path, html), (old, redirect)] = shown
    assert (path, old) == ("2015/09/kweiris-airbase/index.html", "2015/09/kweiris/index.html")
    target = "https://example.org/2015/09/kweiris-airbase/"
    assert lxml.html.fromstring(redirect).xpath("//link[@rel='canonical']/@href") == [target]
    warm(root)
    assert html == (root / "_site" / path).read_bytes()  # the same tags and moment: the same related list too


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("2015/homs.md", briefing("Homs", "2015-09-26T09:00:00+03:00", extra="draft: true\n")),
        ("2015/homs.md", briefing("Homs", "2015-09-26T09:00:00+03:00", "[Syria")),  # invalid
        ("2015/homs.md", briefing("Homs", "2015-11-02T09:00:00+03:00", extra="slug: paris\n")),  # Paris's URL
        ("2999/homs.md", briefing("Homs", "2999-01-01T09:00:00+03:00")),  # not due: the full build shows it scheduled
    ],
    ids=["draft", "invalid", "taken", "scheduled"],
)
def test_a_new_briefing_that_is_not_published_or_is_an_error_waits_for_the_full_build(
    tmp_path: Path, name: str, text: str
) -> None:
    root = make_archive(tmp_path / "a", FILES)
    model = warm(root).archive
    assert model is not None
    file = root / "content" / name
    file.parent.mkdir(exist_ok=True)
    file.write_text(text)
    assert instant_page(root, model, f"content/{name}", file.read_bytes()) is None


def test_a_rename_onto_a_briefing_the_model_has_or_from_one_it_lacks_waits_for_the_full_build(tmp_path: Path) -> None:
    root = make_archive(tmp_path / "a", FILES)
    model = warm(root).archive
    assert model is not None
    data = (root / EDITED).read_bytes()
    assert instant_page(root, model, "content/2015/paris.md", data, replaces=EDITED) is None
    assert instant_page(root, model, "content/2015/homs.md", data, replaces="content/2015/nowhere.md") is None


@pytest.mark.parametrize(
    "change",
    [
        lambda text: text.replace("tags:", "draft: true\ntags:"),
        lambda text: text.replace("tags:", "tags: [\ntags:"),  # invalid
        lambda text: text.replace("2015-09-24T10:00:00+03:00", "2015-11-02").replace("tags:", "slug: paris\ntags:"),
    ],  # the last takes another briefing's URL: an error the full build reports
    ids=["draft", "invalid", "taken"],
)
def test_an_edit_that_hides_the_briefing_or_is_an_error_waits_for_the_full_build(
    tmp_path: Path, change: Callable[[str], str]
) -> None:
    root = make_archive(tmp_path / "a", FILES)
    model = warm(root).archive
    assert model is not None
    file = root / EDITED
    file.write_text(change(file.read_text()))
    assert instant_page(root, model, EDITED, file.read_bytes()) is None


def test_a_date_moved_past_the_clock_waits_for_the_full_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1443600000")  # 30 September 2015, 08:00 UTC
    root = make_archive(tmp_path / "a", {k: v for k, v in FILES.items() if "2015" in k and "latakia" not in k})
    model = warm(root).archive
    assert model is not None
    file = root / EDITED
    file.write_text(file.read_text().replace("2015-09-24T10:00:00+03:00", "2015-09-30T20:00:00+03:00"))
    assert instant_page(root, model, EDITED, file.read_bytes()) is None  # it became scheduled: a banner


def test_a_story_site_yaml_names_keeps_its_spelling_and_fixed_slug_on_the_instant_page(tmp_path: Path) -> None:
    """No briefing tells the story yet, so the model has no term for it: site.yaml's entry gives
    the spelling and the slug, as the full build does."""
    stories = "stories:\n  - name: The siege of Kweiris\n    slug: kweiris\n    description: A long siege.\n"
    root = make_archive(tmp_path / "a", FILES, SITE_YAML + stories)
    model = warm(root).archive
    assert model is not None
    file = root / EDITED
    file.write_text(file.read_text().replace("tags:", "story: the SIEGE of kweiris\ntags:"))
    shown = instant_page(root, model, EDITED, file.read_bytes())
    assert shown is not None
    [(path, html)] = shown
    warm(root)
    assert html == (root / "_site" / path).read_bytes()
    assert 'href="/stories/kweiris/"' in html.decode()


RESTYLED = ("2015/09/kweiris/index.html", "index.html", "tags/terrorism/index.html", "2015/index.html")


@pytest.mark.parametrize(
    ("name", "old", "new"),
    [
        ("templates/base.html", "</footer>", "<p>Restyled</p></footer>"),
        ("static/css/style.css", "body", "html { color: black; }\nbody"),  # every page's fingerprint of it changes
    ],
    ids=["a template", "the stylesheet"],
)
def test_open_pages_restyled_ahead_of_the_build_are_the_pages_it_makes(
    tmp_path: Path, name: str, old: str, new: str
) -> None:
    root = make_archive(tmp_path / "a", FILES)
    model = warm(root).archive
    assert model is not None
    before = {output: (root / "_site" / output).read_bytes() for output in RESTYLED}
    file = root / name
    assert old in file.read_text()
    file.write_text(file.read_text().replace(old, new, 1))
    shown = dict(restyled_pages(root, model, RESTYLED))
    assert shown.keys() == set(RESTYLED)
    warm(root)
    for output in RESTYLED:
        assert shown[output] != before[output], output
        assert shown[output] == (root / "_site" / output).read_bytes(), output


def test_a_page_that_cannot_be_restyled_ahead_is_left_to_the_build(tmp_path: Path) -> None:
    root = make_archive(tmp_path / "a", FILES)
    model = warm(root).archive
    assert model is not None
    (root / "templates" / "base.html").write_text("{% block nothing %}")  # an error: the build reports it
    assert restyled_pages(root, model, ("index.html", "2015/09/kweiris/index.html")) == ()
    assert restyled_pages(root, model, ("no/such/page/index.html",)) == ()
