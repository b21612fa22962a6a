"""Full-text search: the static index `/search/` queries, made from the words of each briefing.

Owns the index files under `search/` (the words themselves, and how text is cut into
them, are `words.py`'s):

- `search/index.json`: the number of briefings, the filter values with their counts, and
  the names of the term shards;
- `search/t/<key>.json`: for the terms that start with the same two characters (the key
  is their UTF-16 code units in hex, as JavaScript sees them), each term's postings;
- `search/f/<facet>.json`: postings of each tag, region, source, country and year;
- `search/d/<n>.json`: the slug and date (so the path) of briefings n*500 to n*500+499;
  a result's title and excerpt come from its page, which the client fetches anyway.

A briefing is known by its place in the archive, newest first, so results come newest
first. Postings are base64: the gaps between places as LEB128 varints ("v"), or a bitmap
("b") where that is smaller (a word in more than about one briefing in eight). Words are
computed when a file is parsed, in parallel, and cached with its body; the index is a
single pass over them, or, after an edit, an update of the postings the last build kept
(`Postings`). May not do I/O.
"""

from __future__ import annotations

import base64
import bisect
import json
from array import array
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from briefings.archive import Archive, Entry
from briefings.kinds import KINDS

FOLDER = "search"  # the search page and its index files, under /search/
DOCS_PER_CHUNK = 500  # briefings per metadata file: a page of results fetches one or two
YEAR = "year"  # the facet every archive has, besides those of `kinds.KINDS`


def term_key(term: str) -> str:
    """Return the shard of a term: its first two UTF-16 code units, in hex."""
    units = term.encode("utf-16-be")[:4]
    return units.hex()


def encode_postings(places: Iterable[int], count: int) -> str:
    """Return ascending places as a bitmap or as varint gaps, whichever is smaller, in base64."""
    ordered = list(places)
    if len(ordered) * 8 > count:  # every gap takes a byte at least: the bitmap is smaller
        return "b" + base64.b64encode(_bitmap(ordered, count)).decode()
    steps = [place - previous for previous, place in zip([-1, *ordered], ordered, strict=False)]
    if max(steps, default=0) < 0x80:  # each gap is one byte: the usual case, done in C
        gaps = bytearray(steps)
    else:
        gaps = bytearray()
        for gap in steps:
            while gap >= 0x80:
                gaps.append((gap & 0x7F) | 0x80)
                gap >>= 7
            gaps.append(gap)
    if len(gaps) * 8 <= count:
        return "v" + base64.b64encode(bytes(gaps)).decode()
    return "b" + base64.b64encode(_bitmap(ordered, count)).decode()


_BINARY_DIGITS = bytes.maketrans(b"\x00\x01", b"01")


def _bitmap(places: list[int], count: int) -> bytes:
    """Return a bitmap of `count` bits, bit `place % 8` of byte `place // 8` set for each place."""
    flags = bytearray(count)
    for place in places:
        flags[place] = 1
    # One bit per flag, in C: the flags as binary digits, last place first, make the number.
    return int(b"0" + flags.translate(_BINARY_DIGITS)[::-1], 2).to_bytes((count + 7) // 8, "little")


def decode_postings(encoded: str, count: int) -> list[int]:
    """Return the places encoded by `encode_postings` (the client does the same in JavaScript)."""
    data = base64.b64decode(encoded[1:])
    if encoded[0] == "b":
        return [place for place in range(count) if data[place >> 3] >> (place & 7) & 1]
    places, value, shift, previous = [], 0, 0, -1
    for byte in data:
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            previous += value
            places.append(previous)
            value, shift = 0, 0
    return places


@dataclass(frozen=True)
class SearchIndex:
    """The files of the index, by site path."""

    files: dict[str, bytes]

    @property
    def size(self) -> int:
        """Return the index's size in bytes."""
        return sum(len(data) for data in self.files.values())


@dataclass
class Postings:
    """The index's working state, kept between builds so that an edit updates it in place.

    `stamp` is the words' (see `Words`); `docs` is the body digest at each place; `terms`
    each term's places, ascending (the bytes of an `array("I")`: quicker to load than
    arrays); `encoded` each term's `encode_postings`; `shards` each shard's terms, sorted;
    `files` each shard's file. `listing` holds the files of the facets and of the documents,
    with what the index's summary says of the facets, for the model's `shape` they were made
    for (`stages.model_shape`): a model of that shape has the same ones.
    """

    stamp: str
    docs: tuple[str, ...]
    terms: dict[str, bytes]
    encoded: dict[str, str]
    shards: dict[str, list[str]]
    files: dict[str, bytes]
    shape: bytes = b""
    listing: tuple[dict[str, bytes], dict[str, list[list[object]]]] = field(default_factory=lambda: ({}, {}))


def postings_tables(postings: Postings) -> tuple[tuple[dict[Any, Any], ...], object]:
    """Return the postings as tables and the rest, as `Memo.remember_tables` keeps them: an edit
    changes a few rows of each (at 100,000 briefings, 51 MB saved whole took half a second)."""
    tables = (postings.terms, postings.encoded, postings.shards, postings.files, *postings.listing)
    return tables, (postings.stamp, postings.shape, "\n".join(postings.docs))  # a digest holds no newline


def postings_from(tables: tuple[dict[Any, Any], ...], rest: object) -> Postings | None:
    """Return the postings `postings_tables` gave as tables, or None for anything else."""
    if len(tables) != 6 or not isinstance(rest, tuple) or len(rest) != 3 or not isinstance(rest[2], str):
        return None
    terms, encoded, shards, files, listed, counts = tables
    docs = tuple(rest[2].split("\n")) if rest[2] else ()
    return Postings(rest[0], docs, terms, encoded, shards, files, rest[1], (listed, counts))


class Words(Protocol):
    """Where the words of each body are kept (the body store)."""

    stamp: str  # what they were made with (engine, parse settings): postings made with others are not theirs

    def words(self, digests: Collection[str] | None = None) -> Iterable[tuple[str, str]]:
        """Yield (body digest, words) of the bodies with these digests, or of every body for None."""
        ...


def build_index(
    archive: Archive, words: Words, previous: Postings | None = None, shape: bytes = b""
) -> tuple[SearchIndex, Postings]:
    """Return the index of the archive, and its postings for the next build.

    With the postings of the previous build (which this updates in place), only the terms of
    briefings whose body changed are encoded again, and only their shards made again,
    provided every briefing kept its place; else the index is made afresh. The facets and
    documents are made again only for a model of another `shape` (none: always).
    The files are the same either way.
    """
    entries = archive.entries
    count = len(entries)
    docs = tuple(entry.body.digest for entry in entries)
    postings = (previous and _updated(previous, docs, words)) or _postings(docs, words)
    if not shape or postings.shape != shape:
        postings.shape, postings.listing = shape, _listing(archive)
    listed, facet_counts = postings.listing
    files = {f"{FOLDER}/t/{key}.json": data for key, data in postings.files.items()} | listed
    summary = {
        "count": count,
        "chunk": DOCS_PER_CHUNK,
        "stem": "en" if archive.config.stemmed else "",  # queries are stemmed as the words were
        "shards": sorted(postings.files),
        "facets": facet_counts,
    }
    files[f"{FOLDER}/index.json"] = _json(summary)
    return SearchIndex(files), postings


def _listing(archive: Archive) -> tuple[dict[str, bytes], dict[str, list[list[object]]]]:
    """Return the files of the facets and of the documents, and what the summary says of the facets."""
    entries = archive.entries
    count = len(entries)
    files = {}
    facets = _facets(archive)
    for facet, values in facets.items():
        files[f"{FOLDER}/f/{facet}.json"] = _json({name: encode_postings(p, count) for name, p in values.items()})
    for start in range(0, count, DOCS_PER_CHUNK):
        chunk = [_document(entry) for entry in entries[start : start + DOCS_PER_CHUNK]]
        files[f"{FOLDER}/d/{start // DOCS_PER_CHUNK}.json"] = _json(chunk)
    counts = {facet: [[name, len(p)] for name, p in values.items()] for facet, values in facets.items()}
    return files, counts


def _postings(docs: tuple[str, ...], words: Words) -> Postings:
    """Return the postings of every term, from the words of every body."""
    places: dict[str, list[int]] = defaultdict(list)
    for place, digest in enumerate(docs):
        places[digest].append(place)
    found: dict[str, array[int]] = defaultdict(lambda: array("I"))
    for digest, text in words.words():
        for place in places.get(digest, ()):
            for term in text.split():
                found[term].append(place)
    packed, encoded = {}, {}
    shards: dict[str, list[str]] = defaultdict(list)
    for term in sorted(found):
        ordered = array("I", sorted(found.pop(term)))  # one term at a time: memory stays flat
        packed[term] = ordered.tobytes()
        encoded[term] = encode_postings(ordered, len(docs))
        shards[term_key(term)].append(term)
    files = {key: _json({term: encoded[term] for term in shard}) for key, shard in shards.items()}
    return Postings(words.stamp, docs, packed, encoded, dict(shards), files)


def _updated(previous: Postings, docs: tuple[str, ...], words: Words) -> Postings | None:
    """Return the previous postings updated for the bodies that changed, or None when every
    briefing did not keep its place (or the words of a changed body are not at hand)."""
    if previous.stamp != words.stamp or len(previous.docs) != len(docs):
        return None
    changed = [place for place, (old, new) in enumerate(zip(previous.docs, docs, strict=True)) if old != new]
    if len(changed) > len(docs) // 4:
        return None  # made afresh sooner
    known = dict(words.words({previous.docs[place] for place in changed} | {docs[place] for place in changed}))
    if any(previous.docs[place] not in known or docs[place] not in known for place in changed):
        return None
    terms: dict[str, array[int]] = {}  # the terms touched

    def places_of(term: str) -> array[int]:
        if term not in terms:
            terms[term] = array("I")
            terms[term].frombytes(previous.terms.get(term, b""))
        return terms[term]

    for place in changed:
        # Only the terms it gained or lost: most words of an edited briefing are still there, and
        # encoding their postings again (a common word's is a bitmap of every briefing) changed nothing.
        was, now = set(known[previous.docs[place]].split()), set(known[docs[place]].split())
        for term in was - now:
            places = places_of(term)
            at = bisect.bisect_left(places, place)
            if at == len(places) or places[at] != place:
                return None  # not the postings those words made
            del places[at]
        for term in now - was:
            bisect.insort(places_of(term), place)
    dirty = set()
    for term, places in terms.items():
        key = term_key(term)
        dirty.add(key)
        shard = previous.shards[key] = list(previous.shards.get(key, ()))  # a new list: the kept one is unchanged
        if not places:
            del previous.terms[term], previous.encoded[term]
            shard.remove(term)
        else:
            if term not in previous.encoded:
                bisect.insort(shard, term)
            previous.terms[term] = places.tobytes()
            previous.encoded[term] = encode_postings(places, len(docs))
    for key in dirty:
        if previous.shards[key]:
            previous.files[key] = _json({term: previous.encoded[term] for term in previous.shards[key]})
        else:
            del previous.shards[key], previous.files[key]
    previous.docs = docs
    return previous


def _facets(archive: Archive) -> dict[str, dict[str, list[int]]]:
    """Return each facet's values (in the order the filters list them) with their places."""
    place = {entry.path: number for number, entry in enumerate(archive.entries)}
    facets = {
        kind.facet: {
            term.name: [place[e.path] for e in term.entries] for term in archive.terms[kind.name] if term.entries
        }
        for kind in KINDS
        if kind.facet
    }
    years: dict[str, list[int]] = {}
    for number, entry in enumerate(archive.entries):
        years.setdefault(str(entry.briefing.date.year), []).append(number)
    return {**facets, YEAR: dict(sorted(years.items(), reverse=True))}


def _document(entry: Entry) -> str:
    """Return where a briefing is: `YYYY-MM-DD/slug` (its path is `YYYY/MM/slug/`)."""
    b = entry.briefing  # entry.path is urls.briefing_path(b.date, b.slug): the date as written
    return f"{b.date:%Y-%m-%d}/{b.slug}"


def _json(data: object) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
