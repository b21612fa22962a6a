"""Keys by construction: after any change to any input, an incremental build equals a clean one.

The changes are generated from what the engine declares: every front-matter field
(`content.FIELDS`; the fields of the kinds of listing take their values from
`kinds.KINDS`), every `site.yaml` key (`config._KEYS`), every template and static file in
the archive (partials, macros, imports and inheritance included), and a content file's
path and bytes. A field or setting this file cannot change yet fails
`test_every_input_has_a_change`, so a new one is covered before it ships.
"""

from __future__ import annotations

import itertools
import json
import shutil
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.generate import generate, write_archive
from briefings import archive as archive_model
from briefings import config, content, feeds, keys, pipeline, plan, stages, tables, workers
from briefings import render as rendering
from briefings.archive import Ref
from briefings.cache import Cache
from briefings.kinds import KINDS, Kind
from tests.conftest import SITE_YAML, make_archive, run
from tests.test_incremental import tree

SETTINGS = yaml.safe_load(SITE_YAML) | {"known_countries": ["Kurdistan"], "search": True}
# Names each kind of listing may take, by where its names come from.
NAMES = {
    "site": [r["name"] for r in SETTINGS["regions"]],
    "known": ["Syria", "Russia", "Turkey", "Kurdistan"],
    "free": ["Syria", "Russia", "Aleppo", "ISIS", "Energy", "Islamic State", "TRT World", "Reuters"],
}


def names(kind: Kind, choice: int) -> object:
    """Return a value of a kind's field: one name, or a list of one to three."""
    pool = NAMES[kind.vocabulary]
    if kind.field == "story" and choice % 4 == 3:  # an optional field: sometimes left out
        return None
    if not kind.many:
        return pool[choice % len(pool)]
    return [pool[(choice + step) % len(pool)] for step in range(choice % 3 + (kind.field == "tags"))]


# How each front-matter field that is not a kind's changes: choice -> value (None: the field is left out).
FIELD_VALUES: dict[str, Callable[[int], object]] = {
    "title": lambda c: f"Briefing edited {c}",
    "date": lambda c: ("2016-03-{:02d}T10:00:00+03:00", "2016-04-{:02d} 09:30", "2016-02-{:02d}")[c % 3].format(c + 1),
    "summary": lambda c: f"A summary, version {c}.",
    "credit": lambda c: f"Photo by agency {c}",
    "image": lambda c: None if c % 2 else {"src": "/favicon.svg", "alt": f"Icon {c}", "caption": "A caption"},
    "updated": lambda c: None if c % 2 else "2016-06-01T12:00:00+03:00",
    "draft": lambda c: c % 2 == 1,
    "slug": lambda c: None if c % 2 else f"chosen-slug-{c}",
    "corrections": lambda c: None if c % 2 else [{"date": "2016-05-02", "text": f"Corrected {c}."}],
    "language": lambda c: (None, "es", "pt-BR")[c % 3],
    "aliases": lambda c: None if c % 2 else [f"/2010/01/earlier-{c}/"],
}
# How each site.yaml key changes: (settings, choice) -> new settings.
SITE_VALUES: dict[str, Callable[[dict[str, object], int], dict[str, object]]] = {
    "title": lambda s, c: s | {"title": f"Archive {c}"},
    "description": lambda s, c: s | {"description": f"About the archive, version {c}."},
    "base_url": lambda s, c: s | {"base_url": ("https://example.org/", "https://example.org/archive/")[c % 2]},
    "language": lambda s, c: s | {"language": ("en", "en-GB")[c % 2]},
    "timezone": lambda s, c: s | {"timezone": ("Europe/Istanbul", "UTC", "America/New_York")[c % 3]},
    "per_page": lambda s, c: s | {"per_page": 2 + c % 3},
    "id_authority": lambda s, c: s | {"id_authority": f"example.org,{2015 + c % 3}"},
    "regions": lambda s, c: s
    | {"regions": [*SETTINGS["regions"], {"name": "Africa", "slug": f"africa-{c}"}][: 2 + c % 2]},
    "tag_aliases": lambda s, c: s | {"tag_aliases": {"ISIS": ["IS"], "Syria": ["Aleppo"]} if c % 2 else {}},
    "known_countries": lambda s, c: s | {"known_countries": ["Kurdistan", "Rojava"][: 1 + c % 2]},
    "known_tags": lambda s, c: s | {"known_tags": ["Russian", "Energy"][: c % 3]},
    "removed": lambda s, c: s | {"removed": [{"url": f"/2009/0{1 + c % 3}/gone/", "reason": "Withdrawn."}]},
    "search": lambda s, c: s | {"search": c % 2 == 0},
    "markdown": lambda s, c: s | {"markdown": {"allow_html": c % 2 == 1, "inline_footnotes": c % 3 == 1}},
    "max_body_kb": lambda s, c: s | {"max_body_kb": 64 + c},
    "feeds": lambda s, c: s
    | {"feeds": {"entries": 1 + c % 3, "term_entries": 1 + c % 2, "full_text": ("site", "all", "none")[c % 3]}},
    "stories": lambda s, c: s
    | {"stories": [{"name": "Syria", "slug": f"syria-{c % 2}", "description": f"About {c}.", "aliases": ["/s/"]}]},
    "corrections_policy": lambda s, c: s | {"corrections_policy": ("/about/fixes/", "https://example.org/")[c % 2]},
    "publishing_principles": lambda s, c: s | {"publishing_principles": f"/about/principles-{c % 2}/"},
    "news_sitemap": lambda s, c: s | {"news_sitemap": c % 2 == 0},
    "websub_hub": lambda s, c: s | {"websub_hub": f"https://hub.example.org/{c % 2}"},
    "descriptions": lambda s, c: s | {"descriptions": {"tags": {"Syria": f"About Syria, {c}."}}},
}
# Templates the archive adds to the repository's, so that every way of using one is changed:
# a partial included with whitespace control, macros imported, and a layout extended twice.
EXTRA_TEMPLATES = {
    "_note.html": '<p class="note">A note</p>\n',
    "_extra.html": "{% macro source_line(entry) %}<p>Edit <code>{{ entry.briefing.path }}</code></p>{% endmacro %}\n",
    "layout.html": '{% extends "base.html" %}\n{% block head %}<meta name="layout" content="one">{% endblock %}\n',
}


@dataclass
class Archive:
    """The archive's inputs as the test keeps them: front matter by file, bodies, settings."""

    root: Path
    files: dict[str, dict[str, object]] = field(default_factory=dict)  # repo path -> front matter
    bodies: dict[str, str] = field(default_factory=dict)
    settings: dict[str, object] = field(default_factory=lambda: dict(SETTINGS))

    def write(self) -> None:
        """Write every file whose text changed, remove the ones gone."""
        wanted = {path: render(front, self.bodies[path]) for path, front in self.files.items()}
        for old in (self.root / "content").rglob("*.md"):
            if old.relative_to(self.root).as_posix() not in wanted:
                old.unlink()
        for path, text in wanted.items():
            target = self.root / path
            if not target.is_file() or target.read_text(encoding="utf-8") != text:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
        site = yaml.safe_dump(self.settings, sort_keys=False, allow_unicode=True)
        if (self.root / "site.yaml").read_text(encoding="utf-8") != site:
            (self.root / "site.yaml").write_text(site, encoding="utf-8")


def render(front: dict[str, object], body: str) -> str:
    """Return a briefing's text: each field as JSON (which YAML reads as written), then the body."""
    lines = [f"{name}: {json.dumps(value, ensure_ascii=False)}" for name, value in front.items() if value is not None]
    return "---\n" + "\n".join(lines) + "\n---\n" + body


def briefing(number: int) -> dict[str, object]:
    """Return the front matter of briefing `number`, every kind of listing set."""
    front: dict[str, object] = {
        "title": f"Briefing {number}",
        "date": f"2016-03-{number + 1:02d}T10:00:00+03:00",
        "summary": f"What happened, part {number}.",
        "credit": "Photo by Reuters",
    }
    return front | {kind.field: names(kind, number) for kind in KINDS}


def new_archive(base: Path) -> Archive:
    """Return a six-briefing archive whose templates print each briefing's file and use every kind of template."""
    root = make_archive(base, {})
    templates = root / "templates"
    for name, text in EXTRA_TEMPLATES.items():
        (templates / name).write_text(text, encoding="utf-8")
    edit(
        templates / "base.html",
        '<main id="main"',
        '{%+ include "_note.html" %}<main id="main"',
    )
    edit(templates / "briefing.html", '{% extends "base.html" %}', '{% extends "layout.html" %}')
    edit(
        templates / "briefing.html",
        "{% block main %}",
        '{% block main %}{% from "_extra.html" import source_line %}{{ source_line(entry) }}',
    )
    archive = Archive(root)
    for number in range(6):
        path = f"content/2016/briefing-{number}.md"
        archive.files[path] = briefing(number)
        link = f"[the one before](briefing-{number - 1}.md)" if number else "[the tag](/tags/syria/)"
        archive.bodies[path] = f"Body of {number}, with {link}.\n\n## A heading\n\n<b>bold</b> text.\n"
    archive.write()
    return archive


def edit(file: Path, old: str, new: str) -> None:
    text = file.read_text(encoding="utf-8")
    assert old in text, f"{file.name} no longer has {old!r}"
    file.write_text(text.replace(old, new, 1), encoding="utf-8")


Change = Callable[[Archive, int, int], None]


def field_change(name: str) -> Change:
    """Return the change of one front-matter field in one briefing."""
    kind = next((k for k in KINDS if k.field == name), None)

    def change(archive: Archive, which: int, choice: int) -> None:
        if not archive.files:
            return
        path = sorted(archive.files)[which % len(archive.files)]
        value = names(kind, choice) if kind else FIELD_VALUES[name](choice)
        archive.files[path] = archive.files[path] | {name: value}

    return change


def setting_change(key: str) -> Change:
    def change(archive: Archive, which: int, choice: int) -> None:
        archive.settings = SITE_VALUES[key](archive.settings, choice + which)

    return change


def file_change(operation: str) -> Change:
    """Return a change of a content file as a whole: its path, its bytes, its existence."""

    def change(archive: Archive, which: int, choice: int) -> None:
        paths = sorted(archive.files)
        path = paths[which % len(paths)] if paths else None
        if operation == "add" or path is None:
            new = f"content/201{6 + choice % 2}/added-{which}-{choice}.md"
            archive.files[new], archive.bodies[new] = briefing(which + choice), f"Added body {choice}.\n"
        elif operation == "delete":
            del archive.files[path]
        elif operation == "rename":  # keeps its URL when it has a slug: only the path changes
            new = path.replace(".md", f"-moved{choice}.md") if choice % 2 else f"content/2015/{path.split('/')[-1]}"
            archive.files[new], archive.bodies[new] = archive.files.pop(path), archive.bodies[path]
            archive.files[new].setdefault("slug", path.split("/")[-1].removesuffix(".md"))
        else:  # body
            archive.bodies[path] = archive.bodies[path] + f"\nA paragraph added, version {choice}.\n"

    return change


def asset_change(archive: Archive, which: int, choice: int) -> None:
    """Add, change or remove a file kept beside the briefings (an image, published under /media/)."""
    file = archive.root / "content" / "2016" / "images" / f"chart-{which % 2}.png"
    if choice % 3 == 0:
        file.unlink(missing_ok=True)
    else:
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes([choice]) * 16)


def folder_change(folder: str, name: str) -> Change:
    """Return a change of one template or static file: text inside its first block, or appended."""

    def change(archive: Archive, which: int, choice: int) -> None:
        file = archive.root / folder / name
        text = file.read_text(encoding="utf-8")
        mark = f"<!-- {name} {choice} -->" if folder == "templates" else f"\n/* {choice} */\n"
        for opening in ("{% block main %}", "{% block head %}", "{% macro ", "<body>"):
            if folder == "templates" and opening in text:
                at = text.index("%}", text.index(opening)) + 2 if opening.startswith("{%") else text.index(opening)
                file.write_text(text[:at] + mark + text[at:], encoding="utf-8")
                return
        file.write_text((mark + text) if folder == "templates" else text + mark, encoding="utf-8")

    return change


def changes(root: Path) -> dict[str, Change]:
    """Return every change this test makes, by name, generated from the engine's declarations."""
    found = {f"field {name}": field_change(name) for name in content.FIELDS}
    found |= {f"site.yaml {key}": setting_change(key) for key in config._KEYS}
    found |= {f"file {op}": file_change(op) for op in ("add", "delete", "rename", "body")}
    found["file beside a briefing"] = asset_change
    for folder in ("templates", "static"):
        for file in sorted((root / folder).rglob("*")):
            if file.is_file():
                name = file.relative_to(root / folder).as_posix()
                found[f"{folder}/{name}"] = folder_change(folder, name)
    return found


def clean_status_and_site(archive: Archive, scratch: Path) -> tuple[int, dict[str, bytes]]:
    """Copy the archive's inputs to a new folder, build it from nothing (without a cache); return
    its status and site."""
    if scratch.exists():
        shutil.rmtree(scratch)
    shutil.copytree(archive.root, scratch, ignore=shutil.ignore_patterns("_site", ".cache"))
    status = run(scratch, "--quiet", "--no-cache")
    return status, tree(scratch / "_site") if status == 0 else {}


def check_step(archive: Archive, scratch: Path, label: str) -> None:
    """Build incrementally and from nothing; both fail, or both give the same bytes."""
    archive.write()
    status = run(archive.root, "--quiet")
    clean_status, clean = clean_status_and_site(archive, scratch)
    assert status == clean_status, f"after {label}: incremental exit {status}, clean exit {clean_status}"
    if status == 0:
        incremental = tree(archive.root / "_site")
        differ = sorted(name for name in incremental.keys() | clean.keys() if incremental.get(name) != clean.get(name))
        assert not differ, f"after {label}, the incremental build differs from a clean one in {differ[:10]}"


def test_every_input_has_a_change(tmp_path: Path) -> None:
    kinds = {kind.field for kind in KINDS}
    assert set(FIELD_VALUES) | kinds == set(content.FIELDS), "a front-matter field this test cannot change"
    assert not set(FIELD_VALUES) & kinds, "a kind's field takes its values from the registry"
    assert set(SITE_VALUES) == set(config._KEYS), "a site.yaml key this test cannot change"
    archive = new_archive(tmp_path / "a")
    assert {"templates/_note.html", "templates/_extra.html", "templates/layout.html"} <= set(changes(archive.root))


@pytest.mark.parametrize("part", [0, 1])
def test_every_change_once_in_turn_equals_a_clean_build(tmp_path: Path, part: int) -> None:
    """Every change, one after another, each checked against a clean build. In two parts that
    run side by side (the longest test of the suite otherwise): the second makes the first
    part's changes unchecked, with no build between them, then checks each of its own."""
    archive = new_archive(tmp_path / "a")
    assert run(archive.root, "--quiet") == 0
    listed = list(changes(archive.root).items())
    middle = len(listed) * 2 // 5  # the first changes (front matter, site.yaml) rebuild more: about half the time
    for number, (label, change) in enumerate(listed[: middle if part == 0 else None]):
        change(archive, number, number)
        if part == 0 or number >= middle:
            check_step(archive, tmp_path / "clean", label)


def test_a_new_base_url_first_of_all_equals_a_clean_build(tmp_path: Path) -> None:
    """The compiled templates are cached: a filter of a constant that Jinja folded while compiling
    (`{{ 'feed.xml' | url }}`) would keep the old base URL. The sweep above reaches the base URL
    only after template edits, which compile the templates again; the random sequences found it."""
    archive = new_archive(tmp_path / "a")
    assert run(archive.root, "--quiet") == 0
    changes(archive.root)["site.yaml base_url"](archive, 0, 1)
    check_step(archive, tmp_path / "clean", "site.yaml base_url")


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_sequences_of_changes_equal_a_clean_build(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    base = tmp_path_factory.mktemp("keys")
    archive = new_archive(base / "a")
    available = changes(archive.root)
    # Each change is built, or made together with the next (a field set back to an earlier value
    # in the same build as another change: an edit undone beside a briefing added).
    steps = data.draw(
        st.lists(
            st.tuples(st.sampled_from(sorted(available)), st.integers(0, 5), st.integers(0, 5), st.booleans()),
            min_size=1,
            max_size=5,
        )
    )
    assert run(archive.root, "--quiet") == 0
    made: list[str] = []
    for number, (label, which, choice, built) in enumerate(steps):
        available[label](archive, which, choice)
        made.append(label)
        if built or number == len(steps) - 1:
            check_step(archive, base / "clean", " and ".join(made))
            made.clear()


def test_a_key_that_drops_an_input_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sweep above can fail: a briefing known by its bytes alone (not its path) leaves a stale page."""
    real = plan.digest_text
    monkeypatch.setattr(plan, "digest_text", lambda *parts: real(*parts[1:]))
    archive = new_archive(tmp_path / "a")
    assert run(archive.root, "--quiet") == 0
    archive.files[path := "content/2016/briefing-5.md"] |= {"slug": "briefing-5"}  # no body links it
    check_step(archive, tmp_path / "clean", "a slug")
    file_change("rename")(archive, 5, 1)
    with pytest.raises(AssertionError, match="differs from a clean one"):
        check_step(archive, tmp_path / "clean", f"renaming {path}")


SHOWN_ONLY_FIELDS = [name for name in content.FIELDS if name in content.SHOWN_ONLY]


def shown_only_edits(
    archive: Archive, tmp: Path, monkeypatch: pytest.MonkeyPatch, fields: list[str] = SHOWN_ONLY_FIELDS
) -> list[tuple[str, int, int]]:
    """Edit each of these fields pages only show (`content.SHOWN_ONLY`), each in another briefing,
    to two values that differ from what it holds, building after each edit; return (field,
    outputs keyed again, models made) for each edit. The first edit of a field starts from the
    model the cache keeps (as the command line's builds do); the second from what the first
    build left in this process (`stages.Warm`), as the preview's builds do."""
    made: list[int] = []
    real = stages.model_archive
    monkeypatch.setattr(stages, "model_archive", lambda *a: made.append(1) or real(*a))
    keyed = []
    for number, name in enumerate(fields):
        path = sorted(archive.files)[number % len(archive.files)]
        applied, warm = 0, None
        for value in (FIELD_VALUES[name](choice) for choice in range(number, number + 4)):
            if applied == 2 or archive.files[path].get(name) == value:
                continue
            applied += 1
            archive.files[path] = archive.files[path] | {name: value}
            archive.write()
            made.clear()
            report = pipeline.build(archive.root, warm=warm)
            assert report.replanned is not None
            keyed.append((name, len(report.replanned), len(made)))
            warm = report.warm
            check_step(archive, tmp, f"{name} of {path} to {value!r}")
    return keyed


def test_an_edit_pages_only_show_plans_again_only_some_outputs_and_equals_a_clean_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sweep above edits each field once, sometimes to the value it held; here each field
    pages only show is edited twice or more, to new values, on the path that keys again only
    the outputs holding the edited briefing (`plan.Keying`), patching the model
    (`stages.patched_model`) kept in the cache or in memory."""
    assert set(SHOWN_ONLY_FIELDS) == {"title", "summary", "credit", "updated", "image", "language"}
    archive = new_archive(tmp_path / "a")
    assert run(archive.root, "--quiet") == 0
    _, planned, _ = pipeline.plan(archive.root, pipeline.Options())
    keyed = shown_only_edits(archive, tmp_path / "clean", monkeypatch)
    assert len(keyed) == 12
    # The plan above was the shape's second: it found what each output holds. Six briefings: most hold each.
    assert all(count < len(planned) for _, count, _ in keyed), (keyed, len(planned))
    assert [made for _, _, made in keyed] == [0] * 12, keyed  # the plan above kept the model (its shape again)


def test_an_output_keyed_again_only_for_its_briefings_is_caught_if_it_shows_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The test above can fail: reusing the key of an output that holds no briefing (the sitemap,
    which shows each page's date of change) leaves it stale when a briefing is updated."""
    real = plan.Keying._remembered

    def careless(self: plan.Keying, path: str, template: str, digest: bytes) -> str | None:
        if self.before is not None and path not in self.reached and path in self.before.outputs:
            return self.before.outputs[path][0]
        return real(self, path, template, digest)

    monkeypatch.setattr(plan.Keying, "_remembered", careless)
    archive = new_archive(tmp_path / "a")
    assert run(archive.root, "--quiet") == 0
    pipeline.plan(archive.root, pipeline.Options())  # the shape's second plan: what each output holds
    with pytest.raises(AssertionError, match="differs from a clean one"):
        shown_only_edits(archive, tmp_path / "clean", monkeypatch, ["updated"])


def test_a_patched_model_that_misses_a_listing_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The test above can fail on the patched path too: a model whose order has the edited entry
    but whose terms and periods list the old one leaves their pages showing the old title."""
    monkeypatch.setattr(archive_model, "_with", lambda listing, swapped: listing)
    archive = new_archive(tmp_path / "a")
    assert run(archive.root, "--quiet") == 0
    with pytest.raises(AssertionError, match="differs from a clean one"):
        shown_only_edits(archive, tmp_path / "clean", monkeypatch, ["title"])


def test_renaming_a_file_that_keeps_its_slug_updates_a_page_printing_its_path(tmp_path: Path) -> None:
    archive = new_archive(tmp_path / "a")
    archive.files["content/2016/briefing-5.md"] |= {"slug": "kept"}
    archive.write()
    assert run(archive.root, "--quiet") == 0
    (archive.root / "content/2016/briefing-5.md").rename(archive.root / "content/2016/renamed.md")
    archive.files["content/2016/renamed.md"] = archive.files.pop("content/2016/briefing-5.md")
    archive.bodies["content/2016/renamed.md"] = archive.bodies.pop("content/2016/briefing-5.md")
    assert run(archive.root, "--quiet") == 0
    page = (archive.root / "_site/2016/03/kept/index.html").read_text(encoding="utf-8")
    assert "<code>content/2016/renamed.md</code>" in page


def test_a_partial_included_with_whitespace_control_reaches_every_page(tmp_path: Path) -> None:
    archive = new_archive(tmp_path / "a")
    assert run(archive.root, "--quiet") == 0
    (archive.root / "templates/_note.html").write_text('<p class="note">A new note</p>\n', encoding="utf-8")
    assert run(archive.root, "--quiet") == 0
    laid_out = [
        p for p in (archive.root / "_site").rglob("*.html") if '<main id="main"' in p.read_text(encoding="utf-8")
    ]
    assert len(laid_out) > 20
    assert [p.name for p in laid_out if "A new note" not in p.read_text(encoding="utf-8")] == []


def test_a_template_named_at_run_time_makes_its_pages_depend_on_every_template(tmp_path: Path) -> None:
    archive = new_archive(tmp_path / "a")
    (archive.root / "templates/_aside.html").write_text("<p>Aside</p>\n", encoding="utf-8")
    edit(
        archive.root / "templates/404.html",
        "{% block main %}",
        "{% block main %}{% include page.context.get('part', '_aside.html') %}",
    )
    assert run(archive.root, "--quiet") == 0
    (archive.root / "templates/_aside.html").write_text("<p>Changed</p>\n", encoding="utf-8")
    assert run(archive.root, "--quiet") == 0
    assert "<p>Changed</p>" in (archive.root / "_site/404.html").read_text(encoding="utf-8")


def test_a_template_is_parsed_for_its_references_only_when_its_source_is_new(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding what a template includes is most of a template digest's cost: it is kept between
    builds by the template's name and source, and a changed template is parsed again (its new
    include counted in the keys: the sweep above checks that)."""
    parsed: list[str] = []
    real = rendering.meta.find_referenced_templates
    monkeypatch.setattr(rendering.meta, "find_referenced_templates", lambda ast: parsed.append("") or real(ast))
    archive = new_archive(tmp_path / "a")
    assert run(archive.root, "--quiet") == 0
    first = len(parsed)
    assert first >= len(list((archive.root / "templates").glob("*.html"))) - 2  # a few serve no page here
    edit(archive.root / "content/2016/briefing-5.md", "title: ", "title: Edited ")
    assert run(archive.root, "--quiet") == 0
    assert len(parsed) == first
    (archive.root / "templates/_note.html").write_text('<p class="note">A new note</p>\n', encoding="utf-8")
    assert run(archive.root, "--quiet") == 0
    assert len(parsed) == first + 1
    assert "A new note" in (archive.root / "_site/index.html").read_text(encoding="utf-8")


def test_a_long_run_of_objects_digested_before_has_the_digest_it_has_item_by_item(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    refs = [Ref(f"Name {i}", f"name-{i}") for i in range(keys.LONG * 2)]
    runs = (refs, refs[::-1], [*refs, "text", 3, None], [*refs[:-1], Ref("Other", "other")])

    def digests() -> list[bytes]:
        hasher = keys.Hasher()
        for ref in refs:
            hasher.digest(ref)
        return [hasher.digest(run) for run in runs]

    at_once = digests()
    monkeypatch.setattr(keys, "LONG", 10**9)  # item by item only
    assert at_once == digests()
    assert len(set(at_once)) == len(runs)


def test_dates_digest_as_their_fields_fold_and_zone_and_equal_ones_alike() -> None:
    from datetime import date, datetime, timedelta, timezone
    from zoneinfo import ZoneInfo

    def at(offset: timezone | ZoneInfo | None, **change: int) -> datetime:
        return datetime(2024, 11, 3, 1, 30, tzinfo=offset).replace(**change)

    plus3 = timezone(timedelta(hours=3))
    london, new_york = ZoneInfo("Europe/London"), ZoneInfo("America/New_York")
    different = [
        at(plus3), at(timezone(timedelta(hours=3), "EAT")), at(timezone(timedelta(hours=2))), at(None),
        at(london), at(new_york), at(new_york, fold=1), at(plus3, second=1), at(plus3, microsecond=1),
        date(2024, 11, 3), date(2024, 11, 4),
    ]  # fmt: skip
    hasher = keys.Hasher()
    assert len({hasher.digest((value,)) for value in different}) == len(different)
    again = keys.Hasher()  # equal values, other objects (each parsed date has its own zone): the same digest
    assert again.digest((at(timezone(timedelta(hours=3))),)) == hasher.digest((at(plus3),))
    assert again.digest((date(2024, 11, 3),)) == hasher.digest((date(2024, 11, 3),))


def test_values_of_different_kinds_never_digest_alike_and_a_digest_does_not_depend_on_what_came_before() -> None:
    from datetime import date

    ref = Ref("Name", "name")
    hasher = keys.Hasher()
    digest = hasher.digest(ref)
    # Each pair writes the same parts unless every kind is written as a kind of its own.
    different = [
        {"a": 1}, ("m", ("a", 1)), ["a", 1], ("a", 1),  # a dict, a tuple, a list (a list is a sequence too)
        b"c" + digest, ("b", ref), b"b", "b", ("b", b"x"), b"x",  # bytes, a dataclass's digest, text
        date(2024, 11, 3), b"d4:" + date(2024, 11, 3).__reduce_ex__(4)[1][0] + b"4:None",
        1, 1.0, True, "1", None, "None", (), ((),),
    ]  # fmt: skip
    digests = [hasher.digest((value,)) for value in different]
    assert digests[2] == digests[3] and len(set(digests)) == len(different) - 1  # a list is the tuple it holds
    fresh = keys.Hasher()  # the same values, nothing digested before them: the same digests
    assert [fresh.digest((value,)) for value in different] == digests
    direct = [hasher.digest(value) for value in different]  # each alone, as keys digest them (short bytes:
    assert direct[2] == direct[3] and len(set(direct)) == len(different) - 1  # remembered by value)
    assert [hasher.digest(value) for value in different] == direct == [keys.Hasher().digest(v) for v in different]


def test_reads_finds_every_named_object_a_view_holds_and_none_in_rows_of_plain_values() -> None:
    """What an output holds is found at any depth: in a listing of named objects, in a dict, in a
    dataclass, in a row beside plain values; rows of plain values alone (a sitemap's paths and
    dates, looked at in C) hold none, even beside rows that hold one."""
    from datetime import UTC, date, datetime

    a, b, c, d = (Ref(name, name.lower()) for name in "ABCD")
    atoms = {id(a): 0, id(b): 1, id(c): 2, id(d): 3}
    rows = tuple((f"2016/03/b{n}/", datetime(2016, 3, 1, tzinfo=UTC) if n % 2 else None) for n in range(100))

    def reads(view: object) -> set[int]:
        found: set[int] = set()
        keys.Hasher().reads(view, atoms, found)
        return found

    assert reads(feeds.Sitemap(rows)) == set()
    assert reads((*rows, ("2016/04/", date(2016, 4, 1)), ("x", (1, 2.0, b"z")))) == set()
    assert reads((*rows, ("2016/03/b/", a))) == {0}  # one row of many holds one
    assert reads({"listed": (b, b), "rows": rows, "deep": [[{"k": ("x", c)}]]}) == {1, 2}
    assert reads(feeds.Sitemap((*rows, (d,)))) == {3}  # type: ignore[arg-type]  # (a view of another shape)


def test_keys_worked_out_by_forked_workers_are_those_one_process_works_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plan with many outputs to key again (a new shape's every page) has its keys worked out
    by forked workers (here from one output on), the entries' digests first, the briefings'
    pages made there too: each is the key this process works out, each goes to its own output,
    and the site is the one a single process makes."""
    root = tmp_path / "a"
    write_archive(root, generate(workers.MIN_PARALLEL + 6, seed=5))

    def keys_with(jobs: int) -> dict[str, str]:
        planning = pipeline.check(root, pipeline.Options(jobs=jobs, cache=False))
        return {output.path: output.key for output in planning.plan}

    alone = keys_with(1)
    monkeypatch.setattr(plan, "PARALLEL_KEYS_FROM", 1)
    forks: list[tuple[int, int]] = []
    forked_map = plan.forked_map

    def counted(task: Callable[[int], str], count: int, jobs: int) -> Iterator[str]:
        forks.append((count, jobs))
        return forked_map(task, count, jobs)

    monkeypatch.setattr(plan, "forked_map", counted)
    assert keys_with(2) == alone
    # The workers did digest the entries, then key the outputs.
    assert forks[0] == (workers.MIN_PARALLEL + 6, 2) and forks[1][0] > workers.MIN_PARALLEL and forks[1][1] == 2
    pipeline.build(root, pipeline.Options(jobs=2, cache=False))
    forked_site = tree(root / "_site")
    monkeypatch.undo()
    pipeline.build(root, pipeline.Options(jobs=1, cache=False))
    assert forked_site == tree(root / "_site")


def counted_forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Return a list that gets how many tasks each of the plan's forked maps is given."""
    forks: list[int] = []
    forked_map = plan.forked_map

    def counted(task: Callable[[int], str], count: int, jobs: int) -> Iterator[str]:
        forks.append(count)
        return forked_map(task, count, jobs)

    monkeypatch.setattr(plan, "forked_map", counted)
    return forks


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.sampled_from([0, 1, 2, 255, 256, 257, 65_536, 65_537, 99_999]), max_size=6)),
    st.sets(st.integers(0, 99_999), max_size=plan.SEARCHED_AT_MOST * 2),
)
def test_the_outputs_holding_some_files_are_found_in_the_places_kept_as_bytes(
    held: list[list[int]], changed: set[int]
) -> None:
    """`Readers` keeps what each output holds as one array of places; the outputs holding a few
    files are found by searching its bytes (a place's bytes may also run across two places: not
    a match), many by reading every output's. Either way: those a plain inversion finds."""
    files = tuple(f"content/b{n}.md" for n in range(100_000))
    outputs = tuple(f"out{n}/index.html" for n in range(len(held)))
    ends = array("I", itertools.accumulate(map(len, held))).tobytes()
    holds = array("I", itertools.chain.from_iterable(held)).tobytes()
    readers = plan.Readers(files, outputs, holds, ends, frozenset())
    wanted = {files[place] for place in changed} | {f"content/b{n}.md" for n in (0, 256, 65_537)}
    inverted = {outputs[n] for n, places in enumerate(held) if wanted & {files[p] for p in places}}
    assert readers.holding(wanted) == inverted
    assert readers.holding(list(wanted)[:3]) == {
        outputs[n] for n, places in enumerate(held) if set(list(wanted)[:3]) & {files[p] for p in places}
    }


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(st.sampled_from([f"content/b{n}.md" for n in range(8)]), st.sampled_from("abc"), max_size=8),
    st.dictionaries(st.sampled_from([f"content/b{n}.md" for n in range(8)]), st.sampled_from("abc"), max_size=8),
    st.booleans(),
)
def test_the_files_changed_since_the_last_plan_are_those_whose_digest_differs(
    before: dict[str, str], now: dict[str, str], same_files: bool
) -> None:
    """`plan.changed_files` compares two tables of digests by place when they list the same files
    in the same order (an edit), else by path: either way, every file changed, added or removed.
    The tables are copied key by key, so that equal paths are other objects, as two unpickled are."""
    if same_files:  # the same files in the same order: only digests differ
        now = {path: now.get(path, digest) for path, digest in before.items()}
    copied = {"".join(path): digest for path, digest in now.items()}
    expected = {path for path in before.keys() | now.keys() if before.get(path) != now.get(path)}
    assert tables.listed_alike(before, copied) == (list(before) == list(copied))
    assert plan.changed_files(before, copied) == expected
    assert plan.changed_files(before, dict(reversed(copied.items()))) == expected  # another order: by path


def test_workers_that_key_a_new_shape_find_what_each_output_holds_as_one_process_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plan of a new shape finds which briefings each output holds as it keys it: in forked
    workers where they work out the keys, the same as one process finds; and the edit after it
    is recalled from what either kept, keying again the same outputs."""
    root = tmp_path / "a"
    write_archive(root, generate(workers.MIN_PARALLEL + 6, seed=5))
    newest = max((root / "content").rglob("*.md"))
    found: list[plan.Readers] = []
    remember = Cache.remember

    def kept(cache: Cache, name: str, inputs: object, value: object) -> None:
        if name == "readers":
            assert isinstance(value, plan.Readers)
            found.append(value)
        remember(cache, name, inputs, value)

    monkeypatch.setattr(Cache, "remember", kept)
    forks = counted_forks(monkeypatch)

    def found_by(jobs: int) -> tuple[dict[str, set[str]], frozenset[str], frozenset[str]]:
        """Return the outputs that hold each file, those that hold none, and those the edit after keys again."""
        shutil.rmtree(root / ".cache", ignore_errors=True)
        found.clear()
        pipeline.build(root, pipeline.Options(jobs=jobs))
        (kept,) = found
        newest.write_text(newest.read_text().replace("title: ", "title: Edited ", 1))
        again = pipeline.build(root, pipeline.Options(jobs=jobs)).replanned
        newest.write_text(newest.read_text().replace("title: Edited ", "title: ", 1))
        assert again is not None and len(found) == 1  # recalled: nothing found again
        return {name: kept.holding([name]) for name in kept.files}, kept.none, again

    alone = found_by(1)
    assert not forks
    monkeypatch.setattr(plan, "PARALLEL_KEYS_FROM", 1)
    assert found_by(2) == alone
    assert len(forks) == 2  # the entries' digests, then the keys and what each holds
    held_by, none, again = alone
    assert len(held_by) == workers.MIN_PARALLEL + 6 and "timeline/index.html" in none
    assert any("tags/" in path for path in held_by[str(newest.relative_to(root))]), held_by
    pages = {path for path in again if path.endswith((".html", ".xml", ".json")) and not path.startswith("search/")}
    assert "index.html" in pages and pages <= none | set(held_by[str(newest.relative_to(root))])


def test_the_digests_a_kept_models_plan_works_out_itself_are_those_the_next_edit_is_keyed_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plan that keeps the model a retag patched knows the digests of the entries it seeded, not
    of the one it patched if no view it keyed again holds it: `Keying.keep_digests` works that one
    out before keeping them all. The next build, an edit to another briefing, seeds its hasher
    with them, the retagged entry's too, and every key it gives is the one a clean plan gives."""
    root = tmp_path / "a"
    write_archive(root, generate(workers.MIN_PARALLEL + 6, seed=5))
    files = sorted((root / "content").rglob("*.md"))
    newest, other = max(files), files[len(files) // 2]
    monkeypatch.setattr(plan, "PARALLEL_KEYS_FROM", 1)
    options = pipeline.Options(jobs=2)
    pipeline.build(root, options)
    worked_out: list[int] = []  # how many entries of the model kept each plan had to digest itself
    real = plan.Keying.keep_digests

    def keep_digests(self: plan.Keying) -> None:
        if self.made is not None:
            worked_out.append(sum(digest is None for digest in self.hasher.known_all(self.made.entries)))
        real(self)

    monkeypatch.setattr(plan.Keying, "keep_digests", keep_digests)
    tags = next(line for line in newest.read_text().splitlines() if line.startswith("tags:"))
    newest.write_text(newest.read_text().replace(tags, "tags: [Retagged, Topic 001]"))
    pipeline.build(root, options)  # the kept model patched: a new shape
    pipeline.plan(root, options)  # the same files again: this plan keeps the model it patched
    assert worked_out == [1]  # one plan kept the model: the retagged entry, no view of it keyed again, digested here
    other.write_text(other.read_text().replace("title: ", "title: Edited ", 1))
    pipeline.build(root, options)  # patched from the model kept, its hasher seeded with those digests
    keys = {output.path: output.key for output in pipeline.plan(root, options)[1]}
    clean = tmp_path / "clean"
    shutil.copytree(root, clean, ignore=shutil.ignore_patterns(".cache", "_site"))
    alone = pipeline.plan(clean, pipeline.Options(cache=False, jobs=1))[1]
    assert keys == {output.path: output.key for output in alone}


def test_a_retag_seeds_the_entries_it_did_not_patch_with_the_digests_kept_for_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted: a plan of a model patched for a retag from the one the cache keeps digests only the
    retagged entry (`plan.KeptEntries`), and one patched for a briefing added only the entries of
    the files changed since; the others have the digests the plan that made or kept the model
    kept. Each retag is planned twice (a build, then a plan): the second recalls the keys of the
    first (its shape), and keeps the model it patched (`stages.inputs_repeated`), with its
    entries' digests, for the next retag to patch. Every key is the one a clean plan of the
    same files works out."""
    root = tmp_path / "a"
    write_archive(root, generate(workers.MIN_PARALLEL + 6, seed=5))
    newest = max((root / "content").rglob("*.md"))
    tags = next(line for line in newest.read_text().splitlines() if line.startswith("tags:"))
    monkeypatch.setattr(plan, "PARALLEL_KEYS_FROM", 1)
    forks = counted_forks(monkeypatch)
    options = pipeline.Options(jobs=2)
    pipeline.build(root, options)
    clean = tmp_path / "clean"
    original = tags
    for retagged in ("tags: [Retagged, Topic 001]", tags, "tags: [Retagged, Topic 002]"):
        newest.write_text(newest.read_text().replace(tags, retagged))
        tags = retagged
        forks.clear()
        pipeline.build(root, options)  # the model the cache keeps, patched: a new shape, every output keyed
        # The entries' digests first: but for the retagged one, those kept for the model's.
        assert forks[0] == 1, retagged
        forks.clear()
        keys = {output.path: output.key for output in pipeline.plan(root, options)[1]}
        assert not forks  # the same shape: the build's keys recalled, a few keyed again
        shutil.rmtree(clean, ignore_errors=True)
        shutil.copytree(root, clean, ignore=shutil.ignore_patterns(".cache", "_site"))
        alone = pipeline.plan(clean, pipeline.Options(cache=False, jobs=1))[1]
        assert keys == {output.path: output.key for output in alone}, retagged
    newest.write_text(newest.read_text().replace(tags, original))
    added = newest.with_name("an-added-briefing.md")
    added.write_text(newest.read_text().replace("title: ", "title: Added ", 1))
    forks.clear()
    pipeline.build(root, options)  # added since the model was kept: patched in
    # The added entry's digest and the one retagged since the model was kept; the others' are those kept.
    assert forks[0] == 2
    keys = {output.path: output.key for output in pipeline.plan(root, options)[1]}
    shutil.rmtree(clean)
    shutil.copytree(root, clean, ignore=shutil.ignore_patterns(".cache", "_site"))
    alone = pipeline.plan(clean, pipeline.Options(cache=False, jobs=1))[1]
    assert keys == {output.path: output.key for output in alone}


def test_an_edit_keys_its_listings_again_digesting_only_the_edited_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted: a plan that recalls the last one's keys (a title edit) keys again the listings
    holding the edited briefing, each of many entries; it digests the edited entry alone, the
    others having the digests kept for the model it patched (`plan.KeptEntries`). Every key is
    the one a clean plan of the same files works out."""
    root = tmp_path / "a"
    write_archive(root, generate(workers.MIN_PARALLEL + 6, seed=5))
    monkeypatch.setattr(plan, "PARALLEL_KEYS_FROM", 1)  # the cold build keeps its entries' digests
    options = pipeline.Options(jobs=2)
    newest = max((root / "content").rglob("*.md"))
    pipeline.build(root, options)  # the model made and kept, with its entries' digests, and its shape
    newest.write_text(newest.read_text().replace("title: ", "title: Edited ", 1))
    pipeline.build(root, options)  # the same shape: what each output holds found
    digested: list[str] = []
    dataclass_digest = keys.Hasher._dataclass

    def counted(self: keys.Hasher, value: object) -> bytes:
        if isinstance(value, archive_model.Entry):
            digested.append(value.path)
        return dataclass_digest(self, value)

    monkeypatch.setattr(keys.Hasher, "_dataclass", counted)
    newest.write_text(newest.read_text().replace("title: Edited ", "title: Edited again ", 1))
    planned = pipeline.plan(root, options)[1]
    again = [output for output in planned if not output.reused and output.path.endswith(".html")]
    assert len(again) > 3  # its page and listings
    assert [path.split("/")[-2] for path in digested] == [newest.stem], digested  # its URL's last part
    clean = tmp_path / "clean"
    shutil.copytree(root, clean, ignore=shutil.ignore_patterns(".cache", "_site"))
    alone = pipeline.plan(clean, pipeline.Options(cache=False, jobs=1))[1]
    assert {output.path: output.key for output in planned} == {output.path: output.key for output in alone}


def test_a_title_edit_makes_no_sitemap_view_and_a_new_date_of_change_makes_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted: a feed's view is made when first asked for (`feeds.feed_jobs`). A plan that
    recalls the last one's keys makes the sitemaps' views only when a page's date of change
    moved (the sitemaps show it), so not for a title edit; the site is a clean build's."""
    root = tmp_path / "a"
    write_archive(root, generate(40, seed=3))
    newest = max((root / "content").rglob("*.md"))
    pipeline.build(root)
    newest.write_text(newest.read_text().replace("title: ", "title: Edited ", 1))
    pipeline.build(root)  # the same shape: what each output holds found
    made: list[int] = []
    sitemap_views = feeds.sitemap_views
    monkeypatch.setattr(feeds, "sitemap_views", lambda *a, **k: made.append(1) or sitemap_views(*a, **k))
    newest.write_text(newest.read_text().replace("title: Edited ", "title: Edited again ", 1))
    report = pipeline.build(root)
    assert report.replanned and "index.html" in report.replanned  # the plan was recalled: few keyed again
    assert "sitemap.xml" not in report.replanned and not made

    def clean_site(scratch: Path) -> dict[str, bytes]:
        shutil.copytree(root, scratch, ignore=shutil.ignore_patterns("_site", ".cache"))
        assert run(scratch, "--quiet", "--no-cache") == 0
        return tree(scratch / "_site")

    assert tree(root / "_site") == clean_site(tmp_path / "clean")  # (a build of every output: views made)
    made.clear()
    newest.write_text(newest.read_text().replace("---\n", "---\nupdated: 2030-01-02T10:00:00Z\n", 1))
    report = pipeline.build(root)
    assert report.replanned and "sitemap.xml" in report.replanned and made == [1]
    assert tree(root / "_site") == clean_site(tmp_path / "clean2")
