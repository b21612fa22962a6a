"""Reading typed fields out of YAML nodes, collecting every problem.

Owns the checks shared by `site.yaml` and front matter: mappings with known keys only,
text, integers, booleans, lists and http(s) URLs, each problem kept as a `SourceError`
naming the field. May not know what a briefing or a site is.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from typing import TypeVar
from urllib.parse import urlsplit

from briefings.errors import SourceError
from briefings.yamlnodes import Mapping, Node, Scalar, Seq, describe

_TRUE, _FALSE = "true", "false"
PLACEHOLDER = "TODO:"  # how `new` marks what is left to write; a value or body line starting with it is an error
T = TypeVar("T")


# What XML 1.0 forbids: C0 controls but tab, newline and carriage return; surrogates; U+FFFE, U+FFFF.
_FORBIDDEN_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def forbidden_character(text: str) -> str | None:
    """Return the first character XML 1.0 forbids, as "U+0001", or None."""
    found = _FORBIDDEN_RE.search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def optional(found: dict[str, Node], key: str, read: Callable[[Node], T | None]) -> T | None:
    """Read a field with `read` when it was written; None when it was not."""
    node = found.get(key)
    return read(node) if node is not None else None


class FieldReader:
    """Reads fields from one file's YAML, keeping the problems it finds."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.errors: list[SourceError] = []

    def error(self, line: int, message: str) -> None:
        """Record one problem at `line`."""
        self.errors.append(SourceError(self.path, line, message))

    def fields(self, node: Node, where: str, allowed: Iterable[str], required: Iterable[str] = ()) -> dict[str, Node]:
        """Return a mapping's values by key; unknown and missing keys are errors."""
        if not isinstance(node, Mapping):
            self.error(node.line, f"{where} must be a mapping of `key: value` lines, not {describe(node)}")
            return {}
        allowed = tuple(allowed)
        found: dict[str, Node] = {}
        for key, value in node.items:
            if key.text in allowed:
                found[key.text] = value
                continue
            hint = difflib.get_close_matches(key.text, allowed, n=1)
            fix = f'did you mean "{hint[0]}"?' if hint else "allowed keys: " + ", ".join(allowed)
            self.error(key.line, f"{key.text}: unknown key in {where}; {fix}")
        for name in required:
            if name not in found:
                self.error(node.line, f"{name}: missing from {where}; add `{name}: ...`")
        return found

    def text(self, node: Node, field: str, max_len: int | None = None) -> str | None:
        """Return non-empty single-line text as written (YAML 1.1 types are not applied)."""
        if isinstance(node, Scalar) and node.is_null:
            self.error(node.line, f"{field}: is empty; write the {field} after the colon")
            return None
        if not isinstance(node, Scalar):
            self.error(node.line, f"{field}: expected text, found {describe(node)}")
            return None
        value = " ".join(node.text.split())
        if not value:
            self.error(node.line, f"{field}: is empty; write some text")
            return None
        if (bad := forbidden_character(value)) is not None:
            self.error(node.line, f"{field}: contains {bad}, which pages and feeds cannot carry; delete it")
            return None
        if value.startswith(PLACEHOLDER):
            self.error(node.line, f'{field}: is still the placeholder "{value}"; replace it')
            return None
        if max_len is not None and len(value) > max_len:
            self.error(node.line, f"{field}: is {len(value)} characters long; at most {max_len} are allowed")
            return None
        return value

    def text_list(self, node: Node, field: str, max_items: int | None = None) -> tuple[str, ...] | None:
        """Return a list of text items; a single text item is not accepted as a list."""
        if not isinstance(node, Seq):
            self.error(node.line, f"{field}: expected a list such as [a, b], found {describe(node)}")
            return None
        if max_items is not None and len(node.items) > max_items:
            self.error(node.line, f"{field}: has {len(node.items)} items; at most {max_items} are allowed")
            return None
        values = [self.text(item, f"{field} item") for item in node.items]
        return None if None in values else tuple(v for v in values if v is not None)

    def boolean(self, node: Node, field: str) -> bool | None:
        """Return true or false; yes/no/on/off are refused because they read ambiguously."""
        if isinstance(node, Scalar) and node.plain and node.text in (_TRUE, _FALSE):
            return node.text == _TRUE
        self.error(node.line, f"{field}: expected true or false, found {describe(node)}")
        return None

    def integer(self, node: Node, field: str, low: int, high: int) -> int | None:
        """Return a whole number between `low` and `high`."""
        if isinstance(node, Scalar) and node.plain and node.text.isascii() and node.text.isdigit():
            value = int(node.text)
            if low <= value <= high:
                return value
        self.error(node.line, f"{field}: expected a whole number from {low} to {high}, found {describe(node)}")
        return None

    def url(self, node: Node, field: str) -> str | None:
        """Return an absolute http(s) URL."""
        value = self.text(node, field)
        if value is None:
            return None
        try:
            parts = urlsplit(value)
            valid = parts.scheme in ("http", "https") and bool(parts.hostname) and " " not in value
        except ValueError:  # e.g. "https://example.org]": an unbalanced IPv6 bracket
            valid = False
        if not valid:
            self.error(node.line, f'{field}: "{value}" is not an http(s) URL; write it like https://example.org/page')
            return None
        return value

    def choice(self, node: Node, field: str, options: Iterable[str]) -> str | None:
        """Return text that is one of `options`, suggesting the nearest on a miss."""
        value = self.text(node, field)
        if value is None:
            return None
        options = tuple(options)
        if value in options:
            return value
        folded = {option.casefold(): option for option in options}
        hint = folded.get(value.casefold()) or next(iter(difflib.get_close_matches(value, options, n=1)), None)
        fix = f'did you mean "{hint}"?' if hint else "use one of: " + ", ".join(options)
        self.error(node.line, f'{field}: "{value}" is not a known {field}; {fix}')
        return None
