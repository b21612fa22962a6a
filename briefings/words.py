"""The words a briefing is found by: tokenising as `static/search.js` does.

Owns the rules search compares text by (case, accents and punctuation do not count) and
the distinct words of a briefing (its title, summary, body and year), computed when a
file is parsed and kept with its body. Pure. May not do I/O, or know the archive.
"""

from __future__ import annotations

import re
import unicodedata
from html import unescape

_WORD_RE = re.compile(r"[^\W_]+")  # letters and digits; JavaScript: /[\p{L}\p{N}]+/gu
_TAG_RE = re.compile(r"<[^>]*>")
# ASCII punctuation to spaces, over UTF-8 bytes (every byte of a non-ASCII character is >= 0x80):
# what remains between spaces is a run without whitespace or ASCII punctuation, never part of a word.
_PUNCTUATION = bytes(c for c in range(0x21, 0x7F) if not chr(c).isalnum())
_PUNCTUATION_TO_SPACE = bytes.maketrans(_PUNCTUATION, b" " * len(_PUNCTUATION))
MAX_WORD = 40  # longer "words" (hashes, long numbers) are not worth indexing


def fold(text: str) -> str:
    """Return text as search compares it: casefolded, accents removed (NFKD, then no marks)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.category(c).startswith("M"))  # JS: \p{M}


def tokens(text: str) -> list[str]:
    """Return the words of a text as search compares them."""
    return [word for word in _WORD_RE.findall(fold(text)) if len(word) <= MAX_WORD]


def stem(word: str) -> str:
    """Return the stem of a folded English word, so that singular and plural meet: Harman's
    "S" stemmer (`ceasefires` and `ceasefire`, `countries` and `country`, not `crisis`), on
    words of four letters or more. static/search.js has the same function for queries."""
    if len(word) < 4 or not word.endswith("s"):
        return word
    if word.endswith("ies") and not word.endswith(("aies", "eies")):
        return word[:-3] + "y"
    if word.endswith("es") and not word.endswith(("aes", "ees", "oes")):
        return word[:-1]
    return word if word.endswith(("us", "ss")) else word[:-1]


def words_of(
    title: str, summary: str, body_html: str, year: int, names: tuple[str, ...] = (), stemmed: bool = False
) -> str:
    """Return the distinct words a briefing is found by, space-separated: for the body store.

    `names` are its tags and countries, so a word that is a tag finds the tag's briefings;
    with `stemmed` (a site in English), each word is its `stem`. Equal to `set(tokens(text))`
    (stemmed), but faster: the text is cut at spaces and ASCII punctuation (never part of a
    word; over bytes, twice as fast as a regular expression), and only the distinct pieces
    that are not plain ASCII letters and digits go through `tokens`: a body has a few
    hundred distinct words among thousands.
    """
    parts = (title, summary, unescape(_TAG_RE.sub(" ", body_html)), str(year), *names)
    text = " ".join(parts).casefold()
    spaced = text.encode("utf-8", "surrogatepass").translate(_PUNCTUATION_TO_SPACE).decode("utf-8", "surrogatepass")
    found: set[str] = set()
    for piece in set(spaced.split()):
        if piece.isascii() and piece.isalnum():
            found.add(piece)
        else:
            found.update(tokens(piece))
    if stemmed:
        found = {stem(word) for word in found}
    return " ".join(sorted(word for word in found if len(word) <= MAX_WORD))
