"""Full-text search: the words of each briefing, and the static index `/search/` queries.

Owns tokenising (the same rules as `static/search.js`: case, accents and punctuation do
not count), the words kept per briefing (its title, summary and body: never navigation,
listings or related lists), and the index files under `search/`:

- `search/index.json`: the number of briefings, the filter values with their counts, and
  the names of the term shards;
- `search/t/<key>.json`: for the terms that start with the same two characters (the key
  is their UTF-16 code units in hex, as JavaScript sees them), each term's postings;
- `search/f/<facet>.json`: postings of each region, tag, source and year;
- `search/d/<n>.json`: the slug and date (so the path) of briefings n*500 to n*500+499;
  a result's title and excerpt come from its page, which the client fetches anyway.

A briefing is known by its place in the archive, newest first, so results come newest
first. Postings are base64: the gaps between places as LEB128 varints ("v"), or a bitmap
("b") where that is smaller (a word in more than about one briefing in eight). Words are
computed when a file is parsed, in parallel, and cached with its body; building the index
is a single pass over them. May not do I/O.
"""

from __future__ import annotations

import base64
import json
import re
import unicodedata
from array import array
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from html import unescape

from briefings.archive import Archive, Entry

DOCS_PER_CHUNK = 500  # briefings per metadata file: a page of results fetches one or two
FACETS = ("region", "tag", "source", "year")
_WORD_RE = re.compile(r"[^\W_]+")  # letters and digits; JavaScript: /[\p{L}\p{N}]+/gu
_TAG_RE = re.compile(r"<[^>]*>")
_PIECE_RE = re.compile(r"[^\s!-/:-@\[-`{-~]+")  # runs without whitespace or ASCII punctuation
MAX_WORD = 40  # longer "words" (hashes, long numbers) are not worth indexing


def fold(text: str) -> str:
    """Return text as search compares it: casefolded, accents removed (NFKD, then no marks)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.category(c).startswith("M"))  # JS: \p{M}


def tokens(text: str) -> list[str]:
    """Return the words of a text as search compares them."""
    return [word for word in _WORD_RE.findall(fold(text)) if len(word) <= MAX_WORD]


def words_of(title: str, summary: str, body_html: str, year: int) -> str:
    """Return the distinct words a briefing is found by, space-separated: for the body store.

    Equal to `set(tokens(text))`, but faster: the text is cut at spaces and ASCII
    punctuation (never part of a word), and only the distinct pieces that are not plain
    ASCII letters and digits go through `tokens`: a body has a few hundred distinct words
    among thousands.
    """
    text = " ".join((title, summary, unescape(_TAG_RE.sub(" ", body_html)), str(year)))
    found: set[str] = set()
    for piece in set(_PIECE_RE.findall(text.casefold())):
        if piece.isascii() and piece.isalnum():
            found.add(piece)
        else:
            found.update(tokens(piece))
    return " ".join(sorted(word for word in found if len(word) <= MAX_WORD))


def term_key(term: str) -> str:
    """Return the shard of a term: its first two UTF-16 code units, in hex."""
    units = term.encode("utf-16-be")[:4]
    return units.hex()


def encode_postings(places: Iterable[int], count: int) -> str:
    """Return ascending places as a bitmap or as varint gaps, whichever is smaller, in base64."""
    ordered = list(places)
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
    bitmap = bytearray((count + 7) // 8)
    for place in ordered:
        bitmap[place >> 3] |= 1 << (place & 7)
    return "b" + base64.b64encode(bytes(bitmap)).decode()


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


def build_index(archive: Archive, words: Iterable[tuple[str, str]]) -> SearchIndex:
    """Return the index of the archive from (body digest, words) pairs, in any order."""
    entries = archive.entries
    count = len(entries)
    places: dict[str, list[int]] = defaultdict(list)
    for place, entry in enumerate(entries):
        places[entry.body.digest].append(place)
    postings: dict[str, array[int]] = defaultdict(lambda: array("I"))
    for digest, text in words:
        for place in places.get(digest, ()):
            for term in text.split():
                postings[term].append(place)
    shards: dict[str, dict[str, str]] = defaultdict(dict)
    for term in sorted(postings):
        shards[term_key(term)][term] = encode_postings(sorted(postings[term]), count)
    files = {f"search/t/{key}.json": _json(shard) for key, shard in shards.items()}
    facets = _facets(archive)
    for facet, values in facets.items():
        files[f"search/f/{facet}.json"] = _json({name: encode_postings(p, count) for name, p in values.items()})
    for start in range(0, count, DOCS_PER_CHUNK):
        chunk = [_document(entry) for entry in entries[start : start + DOCS_PER_CHUNK]]
        files[f"search/d/{start // DOCS_PER_CHUNK}.json"] = _json(chunk)
    summary = {
        "count": count,
        "chunk": DOCS_PER_CHUNK,
        "shards": sorted(shards),
        "facets": {facet: [[name, len(p)] for name, p in values.items()] for facet, values in facets.items()},
    }
    files["search/index.json"] = _json(summary)
    return SearchIndex(files)


def _facets(archive: Archive) -> dict[str, dict[str, list[int]]]:
    """Return each facet's values (in the order the filters list them) with their places."""
    facets: dict[str, dict[str, list[int]]] = {facet: {} for facet in FACETS}
    for region in archive.config.regions:
        facets["region"][region.name] = []
    for place, entry in enumerate(archive.entries):
        facets["region"][entry.region.name].append(place)
        for tag in entry.tags:
            facets["tag"].setdefault(tag.name, []).append(place)
        facets["source"].setdefault(entry.source.name, []).append(place)
        facets["year"].setdefault(str(entry.briefing.date.year), []).append(place)
    facets["tag"] = dict(sorted(facets["tag"].items(), key=lambda item: fold(item[0])))
    facets["source"] = dict(sorted(facets["source"].items(), key=lambda item: fold(item[0])))
    facets["year"] = dict(sorted(facets["year"].items(), reverse=True))
    facets["region"] = {name: places for name, places in facets["region"].items() if places}
    return facets


def _document(entry: Entry) -> str:
    """Return where a briefing is: `YYYY-MM-DD/slug` (its path is `YYYY/MM/slug/`)."""
    b = entry.briefing  # entry.path is urls.briefing_path(b.date, b.slug): the date as written
    return f"{b.date:%Y-%m-%d}/{b.slug}"


def _json(data: object) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
