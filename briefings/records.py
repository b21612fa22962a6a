"""One content file to one cacheable record: path and bytes -> briefing and body template.

Owns the per-file stage of the build: everything about a briefing that depends only on
its own path and bytes and on `ParseSettings` (the parser receives nothing else), so it
can be cached by path and content digest and run in any process.
May not do I/O, or know other briefings or the base URL.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable, KeysView
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from briefings.config import ParseSettings
from briefings.content import SHOWN_ONLY, Briefing, parse_briefing
from briefings.errors import SourceError
from briefings.frozen import compact_pickle
from briefings.keys import Hasher, Shapes, digest_text, file_digest
from briefings.kinds import KINDS
from briefings.markdown import BodyTemplate, make_parser, template_body
from briefings.tables import listed_alike
from briefings.words import words_of

# Ids the base layout uses; body headings never take them.
PAGE_IDS = ("main", "site-nav", "related", "related-title", "corrections", "corrections-title")


@compact_pickle
@dataclass(frozen=True, slots=True)
class Record:
    """What one file gives: its briefing (body text dropped) and body, or its errors.

    A file with field errors whose date and slug are valid keeps a `standin` (see
    `content.parse_briefing`) and its body, so that its links and names are checked in the
    same run; it is never published.
    """

    path: str
    digest: str  # of the file's bytes
    briefing: Briefing | None
    body: BodyTemplate | None
    errors: tuple[SourceError, ...] = ()
    standin: Briefing | None = None
    shape: str = ""  # the digest of all it holds but its bytes' digest and SHOWN_ONLY fields (`shaped`)
    frame: str = ""  # the same but for the names it lists the briefing under too (`shaped`)

    @property
    def as_read(self) -> Briefing | None:
        """The briefing, or the stand-in of a file with field errors."""
        return self.briefing or self.standin


class Summary(NamedTuple):
    """What a build needs of every file's record, kept apart so that a build whose edits keep the
    model's shape loads the records of the edited files alone (`stages.Records`): what decides
    whether the file is parsed again, the model's shape and frame, and the clock's position. A
    tuple, which the cache keeps as a plain row (`index_rows`)."""

    digest: str  # the record's `digest`
    shape: str  # the record's `shape`
    body: bool  # it has a body, kept in the body store under its digest
    moment: float | None  # its briefing's `moment`, if it has a briefing that is not a draft
    frame: str  # the record's `frame`


def summary(record: Record) -> Summary:
    """Return what the build needs of a record without loading it (see `Summary`)."""
    b = record.briefing
    moment = b.moment if b and not b.draft else None
    return Summary(record.digest, record.shape, record.body is not None, moment, record.frame)


def index_rows(index: dict[str, Summary], fresh: Iterable[str] = (), kept: object = None) -> dict[str, tuple[Any, ...]]:
    """Return the summaries by path as plain tuples, as the cache keeps them (a table of
    `Cache.remember_tables`): a `Summary` would pickle as a call to its class.

    `kept` is the rows `summaries_from` made `index` from, but for the `fresh` paths: their rows
    are taken as they are, the same objects, which the cache finds unchanged at a glance. Where
    they list the same files in the same order (an edit), the table is a copy of `kept`, by
    place (`tables.listed_alike`): its paths the same objects too, looked up at once.
    """
    if not isinstance(kept, dict):
        return {path: tuple(s) for path, s in index.items()}
    alike = listed_alike(kept, index)
    rows: dict[str, Any] = dict(kept) if alike else dict(zip(index, map(kept.get, index), strict=True))
    rows.update((path, tuple(index[path])) for path in fresh)
    return rows


def summaries_from(rows: object, paths: Collection[str], missing: Summary) -> tuple[list[Summary], KeysView[str]]:
    """Return the summary of each of `paths`, in their order, from the rows `index_rows` gave
    (`missing` for a path they lack), and the paths they hold; from anything else, none (every
    file is then parsed again), never a wrong one. Where the rows list the same paths in the same
    order (an edit: `tables.listed_alike`), by place, and no table of summaries by path is made
    (at 100,000 files, that table took 40 ms; the list, 17)."""
    if not isinstance(rows, dict) or set(map(type, rows.values())) - {tuple}:
        return [missing] * len(paths), {}.keys()
    if set(map(len, rows.values())) - {len(Summary._fields)}:  # a row of another length
        return [missing] * len(paths), {}.keys()
    if listed_alike(rows, paths):
        return list(map(_summary_of, rows.values())), rows.keys()
    return [missing if row is None else _summary_of(row) for row in map(rows.get, paths)], rows.keys()


# A row as a `Summary`, made in C: `Summary._make` is a call of Python's a row (60 ms at 100,000).
_summary_of = functools.partial(tuple.__new__, Summary)


class RecordParser:
    """Turns files into records with one configured Markdown parser."""

    def __init__(self, config: ParseSettings) -> None:
        self.config = config
        self.md = make_parser(config.inline_footnotes)
        self.shapes: Shapes = {}  # each record's hashers share their table of dataclass shapes (`shaped`)

    def parse(self, path: str, data: bytes, digest: str | None = None) -> Record:
        """Parse and validate one file and render its body; `digest` is its bytes' digest, if known."""
        digest = digest or file_digest(data)
        briefing, errors = parse_briefing(data, path, self.config, lenient=True)
        if briefing is None:
            return shaped(Record(path, digest, None, None, tuple(errors)), self.shapes)
        body = template_body(
            self.md, briefing.body, path=path, first_line=briefing.body_line, reserved_ids=PAGE_IDS,
            trusted=self.config.allow_html,
        )  # fmt: skip
        read = replace(briefing, body="")
        if errors:
            return shaped(Record(path, digest, None, body, tuple(errors), standin=read), self.shapes)
        return shaped(Record(path, digest, read, body), self.shapes)

    def parse_apart(self, path: str, data: bytes) -> tuple[Record, tuple[str, str] | None]:
        """Parse one file; return its record without the body's HTML, and for the body store that
        HTML and the words search finds the briefing by."""
        record = self.parse(path, data)
        if record.body is None:
            return record, None
        lean = replace(record, body=replace(record.body, html=""))
        b = record.as_read  # with search off, no words: the index is not made
        if b is None or not self.config.search:
            return lean, (record.body.html, "")
        names = (*b.tags, *b.countries)  # a tag or country is a word it is found by
        words = words_of(b.title, b.summary, record.body.html, b.date.year, names, self.config.stemmed)
        return lean, (record.body.html, words)


def shaped(record: Record, shapes: Shapes | None = None) -> Record:
    """Return the record with its `shape`: the digest of everything in it but its bytes' digest,
    the body's HTML, the lines its links are on and the briefing's SHOWN_ONLY fields. Records of
    equal shape make the same model but for what those show (see `content.SHOWN_ONLY`; a link's
    line is in messages, and in the briefing's own entry). So a field added above the body keeps it.

    And its `frame`: the same digest without the names of every kind of listing (`kinds.KINDS`:
    tags, region, source...). Records of equal frame make a model with the same briefings at
    the same URLs in the same order, listed under other terms perhaps (`stages.patched_model`).
    The shape is the digest of the frame and those names. `shapes` is a table of dataclass shapes
    its hashers share with those of other records (`keys.Hasher`)."""

    def bare(b: Briefing | None) -> Briefing | None:  # without what pages only show, or its names
        return replace(b, **_BARE) if b is not None else None

    body = record.body
    if body is not None:
        links = tuple(replace(link, line=0) for link in body.links)
        body = replace(body, html="", links=links, fragments=tuple((0, name) for _, name in body.fragments))
    unnamed = replace(record, digest="", briefing=bare(record.briefing), standin=bare(record.standin), body=body)
    frame = Hasher(shapes=shapes).digest(unnamed)
    names = Hasher(shapes=shapes).digest((_names(record.briefing), _names(record.standin)))
    return replace(record, shape=digest_text(frame, names).hex(), frame=frame.hex())


# A briefing's fields replaced for its record's frame: what pages only show, and the names it
# is listed under (of every kind of listing). One `replace`: each costs a call of __init__.
_BARE: dict[str, Any] = {**SHOWN_ONLY, **{kind.field: None for kind in KINDS}}


def _names(briefing: Briefing | None) -> tuple[object, ...]:
    """Return the names a briefing is listed under, a field of each kind of listing (a source with its link)."""
    return tuple(getattr(briefing, kind.field) for kind in KINDS) if briefing is not None else ()
