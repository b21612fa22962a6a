"""Full-text search: the static index `/search/` queries, made from the words of each briefing.

Owns the index files under `search/` (the words themselves, and how text is cut into
them, are `words.py`'s):

- `search/index.json`: the number of briefings, the filter values with their counts, and
  the names of the term shards;
- `search/t/<key>.json`: for the terms that start with the same two characters (the key
  is their UTF-16 code units in hex, as JavaScript sees them), each term's postings;
- `search/f/<facet>.json`: postings of each tag, region, source, country and year;
- `search/d/<n>.json`: the slug and date (so the path) of the briefings numbered n*500 to
  n*500+499 (see below); a result's title and excerpt come from its page, which the client
  fetches anyway.

A briefing is known by its number: its place in the archive counted from the oldest (0),
so that a briefing added as the newest, as most are, leaves every other's number as it was,
and with it the postings of every word it lacks. Results come newest first: the client reads
the numbers from the highest down. Postings are base64: the gaps between numbers as LEB128
varints ("v"), or a bitmap up to the highest number ("b") where that is smaller (a word in
more than about one briefing in eight); either way they depend on the numbers alone, not on
how many briefings there are. Words are computed when a file is parsed, in parallel, and
cached with its body; the index is a single pass over them, or, after a change, an update of
the postings the last build kept (`Postings`). May not do I/O.
"""

from __future__ import annotations

import base64
import bisect
import json
import sys
from array import array
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from itertools import compress, count
from operator import attrgetter, ne, sub
from typing import Any, NamedTuple, Protocol

from briefings.archive import Archive, Entry
from briefings.kinds import KINDS
from briefings.urls import briefing_slug

FOLDER = "search"  # the search page and its index files, under /search/
DOCS_PER_CHUNK = 500  # briefings per metadata file: a page of results fetches one or two
YEAR = "year"  # the facet every archive has, besides those of `kinds.KINDS`


def term_key(term: str) -> str:
    """Return the shard of a term: its first two UTF-16 code units, in hex."""
    units = term.encode("utf-16-be")[:4]
    return units.hex()


def encode_postings(numbers: Iterable[int]) -> str:
    """Return ascending numbers as a bitmap or as varint gaps, whichever is smaller, in base64."""
    ordered = list(numbers)
    size = ordered[-1] // 8 + 1 if ordered else 0  # the bitmap's bytes, up to the highest number
    if len(ordered) > size:  # every gap takes a byte at least: the bitmap is smaller
        return "b" + base64.b64encode(_bitmap(ordered, size)).decode()
    steps = [number - previous for previous, number in zip([-1, *ordered], ordered, strict=False)]
    if max(steps, default=0) < 0x80:  # each gap is one byte: the usual case, done in C
        gaps = bytearray(steps)
    else:
        gaps = bytearray()
        for gap in steps:
            while gap >= 0x80:
                gaps.append((gap & 0x7F) | 0x80)
                gap >>= 7
            gaps.append(gap)
    if len(gaps) <= size:
        return "v" + base64.b64encode(bytes(gaps)).decode()
    return "b" + base64.b64encode(_bitmap(ordered, size)).decode()


_BINARY_DIGITS = bytes.maketrans(b"\x00\x01", b"01")


def _bitmap(numbers: list[int], size: int) -> bytes:
    """Return a bitmap of `size` bytes, bit `number % 8` of byte `number // 8` set for each number."""
    flags = bytearray(size * 8)
    for number in numbers:
        flags[number] = 1
    # One bit per flag, in C: the flags as binary digits, last number first, make the integer.
    return int(b"0" + flags.translate(_BINARY_DIGITS)[::-1], 2).to_bytes(size, "little")


def decode_postings(encoded: str) -> list[int]:
    """Return the numbers encoded by `encode_postings` (the client does the same in JavaScript)."""
    data = base64.b64decode(encoded[1:])
    if encoded[0] == "b":
        return [number for number in range(len(data) * 8) if data[number >> 3] >> (number & 7) & 1]
    numbers, value, shift, previous = [], 0, 0, -1
    for byte in data:
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            previous += value
            numbers.append(previous)
            value, shift = 0, 0
    return numbers


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

    `stamp` is the words' (see `Words`); `docs` is the body digest of each number; `terms`
    each term's numbers, ascending (the bytes of an `array("I")`: quicker to load than
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
    the briefings whose number now holds another body (edited, or moved by one added or
    removed before it) are encoded again, and only their shards made again, while those are
    few; else the index is made afresh. The facets and documents are made again only for a
    model of another `shape` (none: always). The files are the same either way.
    """
    count = len(archive.entries)
    docs = tuple(map(_body_digest_of, reversed(archive.entries)))  # by number: oldest first
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


_body_digest_of = attrgetter("body_digest")  # read without making the body (`Entry.body_digest`)


def _listing(archive: Archive) -> tuple[dict[str, bytes], dict[str, list[list[object]]]]:
    """Return the files of the facets and of the documents, and what the summary says of the facets."""
    oldest_first = archive.entries[::-1]
    files = {}
    facets = _facets(archive)
    for facet, values in facets.items():
        files[f"{FOLDER}/f/{facet}.json"] = _json({name: encode_postings(n) for name, n in values.items()})
    for start in range(0, len(oldest_first), DOCS_PER_CHUNK):
        chunk = [_document(entry) for entry in oldest_first[start : start + DOCS_PER_CHUNK]]
        files[f"{FOLDER}/d/{start // DOCS_PER_CHUNK}.json"] = _json(chunk)
    counts = {facet: [[name, len(n)] for name, n in values.items()] for facet, values in facets.items()}
    return files, counts


def _postings(docs: tuple[str, ...], words: Words) -> Postings:
    """Return the postings of every term, from the words of every body."""
    numbers: dict[str, list[int]] = defaultdict(list)
    for number, digest in enumerate(docs):
        numbers[digest].append(number)
    found: dict[str, array[int]] = defaultdict(lambda: array("I"))
    for digest, text in words.words():
        for number in numbers.get(digest, ()):
            for term in text.split():
                found[term].append(number)
    packed, encoded = {}, {}
    shards: dict[str, list[str]] = defaultdict(list)
    for term in sorted(found):
        ordered = array("I", sorted(found.pop(term)))  # one term at a time: memory stays flat
        packed[term] = ordered.tobytes()
        encoded[term] = encode_postings(ordered)
        shards[term_key(term)].append(term)
    files = {key: _json({term: encoded[term] for term in shard}) for key, shard in shards.items()}
    return Postings(words.stamp, docs, packed, encoded, dict(shards), files)


def _updated(previous: Postings, docs: tuple[str, ...], words: Words) -> Postings | None:
    """Return the previous postings updated for the numbers that hold another body (or none,
    or one where there was none), or None when those are many (or the words of one of their
    bodies are not at hand): made afresh sooner.

    A briefing added as the newest is one number more; one removed or moved moves the numbers
    of every briefing newer than it, each of which is then a body changed, unless the others
    are as they were: then they are renumbered (`_renumbered`)."""
    if previous.stamp != words.stamp:
        return None
    old, new = previous.docs, docs
    span = _differing(old, new)
    start, old_end, new_end = span
    if old_end < len(old) and old_end != new_end:  # the newer ones as they were, at other numbers
        return _renumbered(previous, docs, words, span)
    changed = list(compress(count(start), map(ne, old[start:], new[start:])))  # none before `start`
    changed += range(min(len(old), len(new)), max(len(old), len(new)))  # numbers only one of them has
    if len(changed) > len(new) // 4:
        return None
    wanted = {old[n] for n in changed if n < len(old)} | {new[n] for n in changed if n < len(new)}
    known = dict(words.words(wanted))
    if not wanted <= known.keys():
        return None
    terms: dict[str, array[int]] = {}  # the terms touched

    def numbers_of(term: str) -> array[int]:
        if term not in terms:
            terms[term] = _numbers(previous.terms.get(term, b""))
        return terms[term]

    for number in changed:
        # Only the terms it gained or lost: most words of an edited briefing are still there, and
        # encoding their postings again (a common word's is a bitmap of every briefing) changed nothing.
        was = set(known[old[number]].split()) if number < len(old) else set()
        now = set(known[new[number]].split()) if number < len(new) else set()
        for term in was - now:
            numbers = numbers_of(term)
            at = bisect.bisect_left(numbers, number)
            if at == len(numbers) or numbers[at] != number:
                return None  # not the postings those words made
            del numbers[at]
        for term in now - was:
            bisect.insort(numbers_of(term), number)
    return _applied(previous, terms, docs)


def _differing(old: tuple[str, ...], new: tuple[str, ...]) -> tuple[int, int, int]:
    """Return where two numberings differ: the first number that holds another body, and the
    ends of the differing runs in each (every number from them on holds the same body as the
    number as far from the end of the other), found in passes that run in C."""
    shorter = min(len(old), len(new))
    start = next(compress(count(), map(ne, old, new)), shorter)
    after = next(compress(count(), map(ne, reversed(old[start:]), reversed(new[start:]))), shorter - start)
    return start, len(old) - after, len(new) - after


def _renumbered(previous: Postings, docs: tuple[str, ...], words: Words, span: tuple[int, int, int]) -> Postings | None:
    """Return the previous postings for numbers that differ in one run alone (`_differing`): the
    briefings of the old run gone, those of the new one added, and every number after them moved
    by the difference in length (a briefing added, removed or moved in the middle of the archive);
    None when those runs are long, or the words of a body added are not at hand.

    Every term with a number from the run on is written again, but only the added bodies'
    words are read, where the postings were made afresh from every body's (docs/performance.md,
    "Search postings renumbered for a briefing added mid-archive")."""
    start, old_end, new_end = span
    if (old_end - start) + (new_end - start) > len(docs) // 4:
        return None
    added = docs[start:new_end]
    known = dict(words.words(set(added)))
    if not set(added) <= known.keys():
        return None
    gained: dict[str, list[int]] = defaultdict(list)
    for number, digest in enumerate(added, start=start):
        for term in set(known[digest].split()):
            gained[term].append(number)
    moved = new_end - old_end
    terms: dict[str, array[int]] = {}  # the terms touched
    spliced: dict[str, str] = {}  # encodings worked out from the last ones (`_spliced_encoding`)
    for term in previous.terms.keys() | gained.keys():
        packed = previous.terms.get(term, b"")
        numbers = _numbers(packed)
        low = bisect.bisect_left(numbers, start)
        if low == len(numbers) and term not in gained:
            continue  # every number older than the run: as it was
        high = bisect.bisect_left(numbers, old_end, low)
        renumbered = numbers[:low]
        renumbered.extend(gained.get(term, ()))
        renumbered.frombytes(_moved(packed[high * numbers.itemsize :], moved))
        terms[term] = renumbered
        if len(numbers) >= SPLICED_FROM:
            change = Splice(low, high, gained.get(term, []), moved)
            if (encoded := _spliced_encoding(previous.encoded[term], numbers, change)) is not None:
                spliced[term] = encoded
    return _applied(previous, terms, docs, spliced)


_ONE = array("I", (1,)).tobytes()  # a number 1, packed as `Postings.terms` packs numbers


def _moved(packed: bytes, by: int) -> bytes:
    """Return numbers packed as `Postings.terms` keeps them, each moved by `by`, in C: read as one
    integer whose digits in base 2**32 are the numbers, the whole is moved by `by` times the
    integer whose every digit is 1. No number leaves 0 to 2**32 - 1 (none is below -`by`, and all
    are far under the top), so no digit carries into the next, or borrows from it."""
    if not by or not packed:
        return packed
    order = sys.byteorder
    whole = int.from_bytes(packed, order) + by * int.from_bytes(_ONE * (len(packed) // len(_ONE)), order)
    return whole.to_bytes(len(packed), order)


# Numbers in a term's postings from which a renumbering is spliced into its last encoding
# (`_spliced_encoding`): a rarer word's gaps are mostly wider than a byte, which the splice gives
# up on after decoding them, and encoding its few numbers afresh takes microseconds anyway.
SPLICED_FROM = 64


class Splice(NamedTuple):
    """How a term's numbers change when one run of briefings is renumbered (`_renumbered`): those
    from place `low` to `high` (not included) give way to `gained`, and those after move by `moved`."""

    low: int
    high: int
    gained: list[int]
    moved: int


def _spliced_encoding(encoded: str, numbers: array[int], change: Splice) -> str | None:
    """Return `encode_postings` of `numbers` so changed, given `encoded`, theirs before; or None
    where it is not worked out so (encode them afresh). The gaps change only around the run, and
    a bitmap's bits from the run on only move: both are spliced in C, where encoding afresh goes
    through every number (about 40,000 for a common word at 100,000 briefings)."""
    low, high, gained, moved = change
    tail = len(numbers) - high  # the numbers that move
    before = numbers[low - 1] if low else -1  # the last number before the run (-1: none)
    total, top = low + len(gained) + tail, numbers[-1] + moved if tail else (gained or [before])[-1]
    size = top // 8 + 1  # `encode_postings`' figures, after the change
    bitmap = encoded[0] == "b"
    if bitmap != (total > size):
        return None  # a bitmap no longer, or not known to be one: which is smaller depends on the gaps now
    data = base64.b64decode(encoded[1:])
    if bitmap:
        bits = int.from_bytes(data, "little")
        spliced = bits & ((1 << (before + 1)) - 1)  # the numbers before the run
        if tail:  # those after it, moved
            spliced |= (bits >> numbers[high]) << (numbers[high] + moved)
        for number in gained:
            spliced |= 1 << number
        return "b" + base64.b64encode(spliced.to_bytes(size, "little")).decode()
    middle = [*gained, numbers[high] + moved] if tail else gained  # the run's numbers now, and the first moved
    gaps = list(map(sub, middle, [before, *middle]))
    if max(gaps, default=0) >= 0x80 or max(data) >= 0x80:
        return None  # a gap of more than one byte: a gap's place is not its number's
    return "v" + base64.b64encode(data[:low] + bytes(gaps) + data[high + 1 :]).decode()


def _numbers(packed: bytes) -> array[int]:
    """Return a term's numbers as `Postings.terms` keeps them (the bytes of an `array("I")`)."""
    numbers = array("I")
    numbers.frombytes(packed)
    return numbers


def _applied(
    previous: Postings, terms: dict[str, array[int]], docs: tuple[str, ...], encoded: dict[str, str] | None = None
) -> Postings:
    """Return the previous postings with the terms touched (`terms`: their numbers now, none for
    a term gone) encoded again (but those `encoded` gives), and their shards' files made again;
    the other terms as they were."""
    known = encoded or {}
    shards: dict[str, list[str]] = {}  # the shards touched: new lists, the kept ones unchanged
    for term, numbers in terms.items():
        key = term_key(term)
        shard = shards.get(key)
        if shard is None:
            shard = shards[key] = list(previous.shards.get(key, ()))
        if not numbers:
            del previous.terms[term], previous.encoded[term]
            shard.remove(term)
        else:
            if term not in previous.encoded:
                bisect.insort(shard, term)
            previous.terms[term] = numbers.tobytes()
            previous.encoded[term] = known.get(term) or encode_postings(numbers)
    for key, shard in shards.items():
        if shard:
            previous.shards[key] = shard
            previous.files[key] = _json({term: previous.encoded[term] for term in shard})
        else:
            previous.shards.pop(key, None)
            previous.files.pop(key, None)
    previous.docs = docs
    return previous


def _facets(archive: Archive) -> dict[str, dict[str, list[int]]]:
    """Return each facet's values (in the order the filters list them) with their numbers, ascending."""
    # A term's entries are the archive's own objects (as `archive.with_edits` swaps them): each is
    # numbered by identity, which reads no path (one lookup for each term of each briefing).
    last = len(archive.entries) - 1
    number = dict(zip(map(id, archive.entries), range(last, -1, -1), strict=True)).__getitem__
    facets = {
        kind.facet: {
            term.name: list(map(number, map(id, reversed(term.entries))))  # they are newest first
            for term in archive.terms[kind.name]
            if term.entries
        }
        for kind in KINDS
        if kind.facet
    }
    years: dict[str, list[int]] = {}
    for n, entry in enumerate(reversed(archive.entries)):
        years.setdefault(str(entry.date.year), []).append(n)  # held by the entry: no briefing made
    return {**facets, YEAR: dict(sorted(years.items(), reverse=True))}


def _document(entry: Entry) -> str:
    """Return where a briefing is: `YYYY-MM-DD/slug`, from its path (`YYYY/MM/slug/`:
    `urls.briefing_path`, the year in four digits, as the client reads it) and the day of its
    date as written (held by the entry: no briefing made)."""
    path = entry.path
    return f"{path[:4]}-{path[5:7]}-{entry.date.day:02d}/{briefing_slug(path)}"


def _json(data: object) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
