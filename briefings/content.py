"""Briefings: find, split, parse and validate `content/**/*.md`.

Owns the `Briefing` model and the front matter schema of docs/reference.md. `parse_briefing` is
pure (bytes in, briefing and errors out): reading files is `sources.py`'s.
May not do I/O, or know pages or templates.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date as Date
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import PurePosixPath
from typing import Any
from zoneinfo import ZoneInfo

from briefings.config import ParseSettings
from briefings.errors import Problem, SourceError
from briefings.frozen import compact_dict_pickle, compact_pickle, worked_out
from briefings.schema import PLACEHOLDER, FieldReader, forbidden_character, optional
from briefings.urls import SLUG_RULE, distinct, site_path_problem, slug_problem
from briefings.yamlnodes import Mapping, Node, Scalar, Seq, describe, parse_yaml

FIELDS = (
    "title", "date", "summary", "source", "credit", "region", "countries", "tags",
    "image", "updated", "draft", "slug", "corrections", "language", "aliases", "story",
)  # fmt: skip
FIELD_INDEX = {field: index for index, field in enumerate(FIELDS)}
REQUIRED = ("title", "date", "summary", "source", "credit", "region", "tags")
# The Briefing fields that pages and feeds only show, each with its empty value: no listing,
# order, link or URL of the model depends on them (the title breaks ties in the order, which
# the plan checks on its own), so a view that shows one holds the briefing's entry. A record's
# `shape` leaves them out: an edit to them alone keeps the archive's shape, and a rebuild then
# plans again only the outputs that hold the edited briefings (`plan`). Any other field, or a
# new one, changes the shape: the safe default.
SHOWN_ONLY: dict[str, Any] = {
    "title": "", "summary": "", "credit": "", "updated": None, "image": None, "language": None,
    "lines": (), "body_line": 0,
}  # fmt: skip
# The longest text each field takes, and the longest lists (checked here, and stated in the
# JSON Schema that `python build.py schema` prints).
LIMITS = {
    "title": 200, "summary": 400, "credit": 300, "source name": 120, "image alt": 300,
    "image caption": 400, "correction text": 1000, "language": 35,
    "tags": 12, "tag": 60, "countries": 30, "country": 80, "aliases": 20, "story": 120,
}  # fmt: skip
ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$")
_DATE_HINT = "write it like 2015-09-24 or 2015-09-24T10:00:00+03:00"
# A well-formed BCP 47 language tag (RFC 5646): language, extlangs, script, region, variants,
# extensions, private use. Whether the subtags are registered is not checked.
LANGUAGE_TAG_RE = re.compile(
    r"^[a-zA-Z]{2,3}(-[a-zA-Z]{3}){0,3}(-[a-zA-Z]{4})?(-([a-zA-Z]{2}|[0-9]{3}))?"
    r"(-([a-zA-Z0-9]{5,8}|[0-9][a-zA-Z0-9]{3}))*(-[0-9a-wyzA-WYZ](-[a-zA-Z0-9]{2,8})+)*(-x(-[a-zA-Z0-9]{1,8})+)?$"
)


@compact_pickle
@dataclass(frozen=True, slots=True)
class Source:
    """Who reported it: a name, and a URL when known."""

    name: str
    url: str | None = None


@compact_pickle
@dataclass(frozen=True, slots=True)
class Image:
    """An illustration; `alt` is required whenever there is a `src`."""

    src: str
    alt: str
    caption: str | None = None


@compact_pickle
@dataclass(frozen=True, slots=True)
class Correction:
    """A dated note of what was corrected."""

    date: datetime
    text: str


@compact_dict_pickle
@dataclass(frozen=True)
class Briefing:
    """One validated briefing. Dates are aware and keep the offset they were written in."""

    path: str  # as shown in messages: content/2015/kweiris.md
    slug: str
    title: str
    date: datetime
    date_has_time: bool
    summary: str
    source: Source
    credit: str
    region: str
    tags: tuple[str, ...]
    body: str
    body_line: int  # file line of the body's first line
    countries: tuple[str, ...] = ()
    image: Image | None = None
    updated: datetime | None = None
    draft: bool = False
    corrections: tuple[Correction, ...] = ()  # newest first
    language: str | None = None  # a BCP 47 tag; None: the site's language
    aliases: tuple[str, ...] = ()  # earlier site paths of this briefing ("/2015/09/old-slug/"), first the oldest
    story: str | None = None  # the developing story it is part of, as written
    # The file line of each of FIELDS, in its order (0: not written), for later cross-file errors.
    # Small ints, which Python shares: (name, line) pairs took 11 MB of a 10,000 build's 160 MB peak.
    lines: tuple[int, ...] = ()

    def line_of(self, field: str) -> int:
        """Return the file line a field was written on (1 when it was not written)."""
        index = FIELD_INDEX[field]
        return (self.lines[index] if index < len(self.lines) else 0) or 1

    @property
    def revised(self) -> bool:
        """Return True if it was updated or corrected: its date of change may not be its date."""
        return self.updated is not None or bool(self.corrections)

    @property
    def image_src(self) -> str | None:
        """Return its image's src, if it has an image."""
        return self.image.src if self.image else None

    @worked_out
    def modified(self) -> datetime:
        """Return when it last changed: the latest of date, updated and corrections. Most briefings
        have neither: theirs is their date, found without a list (a plan of a new shape asks it
        of every briefing: 100,000 at that size)."""
        if not self.revised:
            return self.date
        return max([self.date, *([self.updated] if self.updated else []), *(c.date for c in self.corrections)])

    @worked_out
    def modified_at(self) -> float:
        """Return `modified` as a POSIX timestamp: comparing aware datetimes costs far more.
        Most briefings were never updated or corrected: theirs is their `moment`, found without
        working out `modified` (the newest of 100,000 briefings is looked for after each edit)."""
        if not self.revised:
            return self.moment
        return self.moment if self.modified is self.date else self.modified.timestamp()

    @worked_out
    def moment(self) -> float:
        """Return `date` as a POSIX timestamp: the instant, which orders briefings (see `modified_at`)."""
        return self.date.timestamp()


def share_values(briefings: Iterable[Briefing]) -> None:
    """Make the values that many briefings hold copies of one object each, in place: a tag, a
    region, a credit, a country and a list of them, a story, a source, a date's time zone, where
    their fields were written. Each briefing keeps equal values (a date keeps its instant and
    its offset), so nothing that compares, orders or shows them changes; only how many objects
    hold them.

    Files parsed in other processes, or loaded from other cache files, hold a copy each: at
    100,000 briefings there were 19,000 equal time zones and a copy of each tag per file, and
    the model kept between builds pickled each of them, then loaded each of them again on
    every build (docs/performance.md, "Values many briefings share"). In place, because a
    copy of each briefing would hold both the records' and the model's for the whole build.
    """
    pool: dict[object, object] = {}
    zones: dict[tzinfo, tzinfo] = {}
    shared, intern = pool.setdefault, sys.intern
    for briefing in briefings:
        values = briefing.__dict__  # a frozen dataclass refuses setattr; equal values change nothing it promises
        values["tags"] = tuple(map(intern, briefing.tags))
        values["region"], values["credit"] = intern(briefing.region), intern(briefing.credit)
        values["countries"] = tuple(map(intern, briefing.countries))
        if briefing.story is not None:
            values["story"] = intern(briefing.story)
        for name in ("countries", "source", "lines"):  # few distinct ones: the same tuple or Source
            values[name] = shared(values[name], values[name])
        zone = briefing.date.tzinfo  # a fixed offset: parsing names none, so an equal one is written the same
        if type(zone) is timezone and (one := zones.setdefault(zone, zone)) is not zone:
            values["date"] = briefing.date.replace(tzinfo=one)
            values.pop("modified", None)  # worked out from the old date object: worked out again if asked


def parse_briefing(
    data: bytes, path: str, config: ParseSettings, *, lenient: bool = False
) -> tuple[Briefing | None, list[SourceError]]:
    """Check one briefing file; return it (or None) and every problem found.

    With `lenient`, a file with field errors whose date and slug are valid still gives a
    briefing: a *stand-in*, whose fields in error are empty, so that its links and names can
    be checked in the same run and links to it found. It must never be published.
    """
    try:
        front, body, body_line = split_front_matter(decode(data))
        root = parse_yaml(front, first_line=2)
    except Problem as problem:
        return None, [SourceError(path, problem.line, problem.message)]
    if root is None:
        return None, [SourceError(path, 1, "front matter is empty; it needs " + ", ".join(REQUIRED))]
    reader = FieldReader(path)
    renderable = _check_body(reader, body, body_line, config.max_body_kb)
    briefing = _read_briefing(reader, root, path, body, body_line, config)
    return (briefing if not reader.errors or (lenient and renderable) else None), reader.errors


def _check_body(reader: FieldReader, body: str, first_line: int, max_kb: int) -> bool:
    """Refuse a body over the size limit, or with characters that pages and feeds cannot carry;
    return False when it is too big to be rendered at all."""
    size = len(body.encode("utf-8"))
    if size > max_kb * 1024:
        reader.error(
            first_line,
            f"body: is {size / 1024:.0f} KB; at most {max_kb} KB are allowed (site.yaml max_body_kb); "
            "split it into several briefings",
        )
        return False
    for index, line in enumerate(body.split("\n") if PLACEHOLDER in body else ()):
        if line.lstrip().startswith(PLACEHOLDER):
            reader.error(first_line + index, f'body: "{line.strip()}" is a placeholder; write the briefing there')
    if (bad := forbidden_character(body)) is not None:
        index = next(i for i, line in enumerate(body.split("\n")) if forbidden_character(line))
        reader.error(first_line + index, f"body: contains {bad}, which pages and feeds cannot carry; delete it")
    return True


def decode(data: bytes) -> str:
    """Return UTF-8 text with a BOM dropped and line endings made `\\n`."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start : exc.start + 1].hex()
        raise Problem(line, f"is not valid UTF-8 (byte 0x{bad}); save the file with UTF-8 encoding") from None
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def split_front_matter(text: str) -> tuple[str, str, int]:
    """Return (front matter YAML, body, the body's first line)."""
    lines = text.split("\n")
    if lines[0].rstrip() != "---":
        raise Problem(1, "must start with a line `---` that opens the front matter (title, date, ...)")
    for index, line in enumerate(lines[1:], start=1):
        if line.rstrip() in ("---", "..."):
            return "\n".join(lines[1:index]), "\n".join(lines[index + 1 :]), index + 2
    raise Problem(1, "the front matter opened on line 1 is never closed; add a line `---` after it")


def parse_when(text: str, tz: ZoneInfo) -> tuple[datetime, bool] | None:
    """Read an ISO 8601 date or date-time; no offset means `tz`. Return (moment, has_time)."""
    if not ISO_RE.match(text):
        return None
    try:
        if len(text) == 10:
            day = Date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=tz), False
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=tz), True
    return moment.replace(tzinfo=_offset(moment.utcoffset())), True


@functools.cache
def _offset(offset: timedelta | None) -> tzinfo:
    """Return the one `timezone` of an offset: `fromisoformat` makes one per date it reads, and
    100,000 briefings then hold (and the cache pickles) 100,000 equal objects."""
    return timezone(offset or timedelta(0))


def _read_briefing(
    reader: FieldReader, root: Node, path: str, body: str, body_line: int, config: ParseSettings
) -> Briefing | None:
    """Read every field; return a Briefing when the date and slug are valid, with the fields in
    error left empty (the caller tells a stand-in by `reader.errors`)."""
    found = reader.fields(root, "front matter", FIELDS, REQUIRED)
    tz, regions = config.tz, list(config.regions)
    when = optional(found, "date", lambda n: _when(reader, n, "date", tz))
    updated = optional(found, "updated", lambda n: _when(reader, n, "updated", tz))
    title = optional(found, "title", lambda n: reader.text(n, "title", LIMITS["title"]))
    summary = optional(found, "summary", lambda n: reader.text(n, "summary", LIMITS["summary"]))
    source = optional(found, "source", lambda n: _source(reader, n))
    credit = optional(found, "credit", lambda n: reader.text(n, "credit", LIMITS["credit"]))
    region = optional(found, "region", lambda n: reader.choice(n, "region", regions))
    tags = optional(found, "tags", lambda n: _tags(reader, n, config))
    countries = optional(found, "countries", lambda n: _countries(reader, n))
    image = optional(found, "image", lambda n: _image(reader, n))
    draft = optional(found, "draft", lambda n: reader.boolean(n, "draft"))
    corrections = optional(found, "corrections", lambda n: _corrections(reader, n, tz))
    language = optional(found, "language", lambda n: _language(reader, n))
    aliases = optional(found, "aliases", lambda n: _aliases(reader, n))
    story = optional(found, "story", lambda n: reader.text(n, "story", LIMITS["story"]))
    slug = _slug(reader, found.get("slug"), path)
    if when and updated and updated[0] < when[0]:
        reader.error(found["updated"].line, "updated: is before date; updated must be on or after date")
    if when:
        _check_folder(reader, found["date"], when[0], path)
    if not (when and slug):
        return None
    return Briefing(
        path=path, slug=slug, title=title or "", date=when[0], date_has_time=when[1], summary=summary or "",
        source=source or Source(""), credit=credit or "", region=region or "", tags=tags or (), body=body,
        body_line=body_line,
        countries=countries or (), image=image, updated=updated[0] if updated else None,
        draft=bool(draft), corrections=corrections or (), language=language, aliases=aliases or (),
        story=story, lines=_key_lines(root),
    )  # fmt: skip


def _key_lines(root: Node) -> tuple[int, ...]:
    """Return the line each of FIELDS was written on, in its order (0 where it was not)."""
    lines = [0] * len(FIELDS)
    for key, _ in root.items if isinstance(root, Mapping) else ():
        if (index := FIELD_INDEX.get(key.text)) is not None:
            lines[index] = key.line
    return tuple(lines)


def _when(reader: FieldReader, node: Node, field: str, tz: ZoneInfo) -> tuple[datetime, bool] | None:
    """Read a date field, reporting what was written when it is not ISO 8601."""
    text = reader.text(node, field)
    if text is None:
        return None
    parsed = parse_when(text, tz)
    if parsed is None:
        reader.error(node.line, f'{field}: "{text}" is not an ISO 8601 date or date-time; {_DATE_HINT}')
    return parsed


def _language(reader: FieldReader, node: Node) -> str | None:
    """Read `language`: a BCP 47 tag such as `es` or `pt-BR`."""
    text = reader.text(node, "language", LIMITS["language"])
    if text is not None and not LANGUAGE_TAG_RE.match(text):
        reader.error(node.line, f'language: "{text}" is not a BCP 47 language tag; write it like es, pt-BR or zh-Hant')
        return None
    return text


def _aliases(reader: FieldReader, node: Node) -> tuple[str, ...] | None:
    """Read `aliases`: earlier paths of the briefing, each of which gets a redirect page."""
    paths = reader.text_list(node, "aliases", LIMITS["aliases"])
    if paths is None:
        return None
    for path in paths:
        problem = site_path_problem(path)
        if problem:
            reader.error(node.line, f'aliases: "{path}" is not a path of this site; {problem}')
            return None
    return tuple(dict.fromkeys(paths))


def _source(reader: FieldReader, node: Node) -> Source | None:
    """Read `source: Name` or `source: {name, url}`."""
    if isinstance(node, Scalar):
        name = reader.text(node, "source", LIMITS["source name"])
        return Source(name) if name else None
    found = reader.fields(node, "source", ("name", "url"), ("name",))
    name = reader.text(found["name"], "source name", LIMITS["source name"]) if "name" in found else None
    url = reader.url(found["url"], "source url") if "url" in found else None
    if name is None or ("url" in found and url is None):
        return None
    return Source(name, url)


def _tags(reader: FieldReader, node: Node, config: ParseSettings) -> tuple[str, ...] | None:
    """Read 1-12 tags, mapping aliases to their canonical tag and dropping repeats."""
    tags = reader.text_list(node, "tags", LIMITS["tags"])
    if tags is None:
        return None
    if not tags:
        reader.error(node.line, "tags: is empty; give at least one tag")
        return None
    if any(len(tag) > LIMITS["tag"] for tag in tags):
        reader.error(node.line, f"tags: a tag is longer than {LIMITS['tag']} characters; shorten it")
        return None
    canonical = [config.canonical_tag(tag) for tag in tags]
    return distinct(canonical)


def _countries(reader: FieldReader, node: Node) -> tuple[str, ...] | None:
    """Read up to 30 country names, dropping repeats (case and accents do not count)."""
    countries = reader.text_list(node, "countries", LIMITS["countries"])
    if countries is None:
        return None
    if any(len(country) > LIMITS["country"] for country in countries):
        reader.error(node.line, f"countries: a name is longer than {LIMITS['country']} characters; shorten it")
        return None
    return distinct(countries)


def _image(reader: FieldReader, node: Node) -> Image | None:
    """Read `image: {src, alt, caption}`; alt is required, src must be a safe path or URL."""
    found = reader.fields(node, "image", ("src", "alt", "caption"), ("src", "alt"))
    src = reader.text(found["src"], "image src") if "src" in found else None
    alt = reader.text(found["alt"], "image alt", LIMITS["image alt"]) if "alt" in found else None
    caption = reader.text(found["caption"], "image caption", LIMITS["image caption"]) if "caption" in found else None
    if src is not None and not _safe_src(src):
        reader.error(
            found["src"].line, f'image src: "{src}" must be an http(s) URL or a path such as /images/photo.jpg'
        )
        return None
    return Image(src, alt, caption) if src and alt else None


def _safe_src(src: str) -> bool:
    """Return True for http(s) URLs and site paths that stay inside the site."""
    if src.startswith(("https://", "http://")):
        return True
    parts = PurePosixPath(src).parts
    return ":" not in src and not src.startswith("//") and ".." not in parts and "\\" not in src


def _corrections(reader: FieldReader, node: Node, tz: ZoneInfo) -> tuple[Correction, ...] | None:
    """Read `corrections: [{date, text}, ...]`, newest first."""
    if not isinstance(node, Seq):
        reader.error(node.line, f"corrections: expected a list of `- date: ... text: ...`, found {describe(node)}")
        return None
    result: list[Correction] = []
    for item in node.items:
        found = reader.fields(item, "a correction", ("date", "text"), ("date", "text"))
        when = _when(reader, found["date"], "correction date", tz) if "date" in found else None
        text = reader.text(found["text"], "correction text", LIMITS["correction text"]) if "text" in found else None
        if when and text:
            result.append(Correction(when[0], text))
    return tuple(sorted(result, key=lambda c: (c.date, c.text), reverse=True))


def _slug(reader: FieldReader, node: Node | None, path: str) -> str | None:
    """Return the `slug` field, or the file name when it is a valid slug."""
    if node is not None:
        slug = reader.text(node, "slug")
        problem = slug_problem(slug) if slug is not None else None
        if problem:
            reader.error(node.line, f'slug: "{slug}" is not a valid slug: {problem} ({SLUG_RULE})')
            return None
        return slug
    stem = PurePosixPath(path).stem
    problem = slug_problem(stem)
    if problem:
        message = f'file name "{stem}" is not a valid slug: {problem} ({SLUG_RULE}); rename the file or add slug:'
        reader.error(1, message)
        return None
    return stem


def _check_folder(reader: FieldReader, node: Node, when: datetime, path: str) -> None:
    """Require content/YYYY/ to match the year of the date, so the tree stays findable."""
    folder = PurePosixPath(path).parent
    if folder.name != f"{when.year:04d}" or folder.parent.name != "content":
        reader.error(
            node.line, f"date: is in {when.year} but the file is in {folder}/; move it to content/{when.year:04d}/"
        )
