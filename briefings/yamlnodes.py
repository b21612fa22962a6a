"""Safe YAML reading that keeps line numbers and never guesses types.

Owns turning YAML text into a small tree of `Scalar`, `Seq` and `Mapping` nodes, each
with its 1-based line in the file. Scalars keep their text as written, so the YAML 1.1
traps (`NO`, `yes`, `2016`, `1e3`) are decided by the field that reads them, not by the
parser. Aliases, non-core tags, duplicate keys and deep nesting are refused. May not do I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from briefings.errors import Problem

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: about 8x faster

_CORE = "tag:yaml.org,2002:"
_MAX_DEPTH = 16  # front matter needs three levels; deeper input is refused, not recursed into
_CORE_TAGS = {f"{_CORE}{name}" for name in ("str", "int", "float", "bool", "null", "timestamp", "seq", "map")}
_NULLS = {"", "~", "null", "Null", "NULL"}


@dataclass(frozen=True)
class Scalar:
    """A scalar as written; `plain` is False when it was quoted or a block scalar."""

    text: str
    line: int
    plain: bool
    tag: str  # an explicit tag such as "tag:yaml.org,2002:str", or ""

    @property
    def is_null(self) -> bool:
        """Return True for an empty value, `~` or `null` written unquoted and untagged."""
        return self.plain and not self.tag and self.text in _NULLS


@dataclass(frozen=True)
class Seq:
    """A YAML sequence."""

    items: tuple[Node, ...]
    line: int


@dataclass(frozen=True)
class Mapping:
    """A YAML mapping with scalar keys, in the order written."""

    items: tuple[tuple[Scalar, Node], ...]
    line: int


Node = Scalar | Seq | Mapping


class YamlProblem(Problem):
    """The YAML text cannot be read; `line` is 1-based in the file."""


def parse_yaml(text: str, first_line: int = 1) -> Node | None:
    """Parse one YAML document; `first_line` is the file line the text starts on."""
    builder = _TreeBuilder(first_line)
    try:
        # The event stream, not the composer: libyaml's composer recurses and crashes on
        # very deep nesting, and events let aliases be refused before anything expands.
        for event in yaml.parse(text, Loader=_Loader):
            builder.feed(event)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = first_line + (mark.line if mark else 0)
        hint = "; if a value contains : # [ { or starts with a quote, put it in quotes"
        raise YamlProblem(line, f"invalid YAML: {exc.problem or exc.context}{hint}") from None
    except yaml.YAMLError as exc:
        raise YamlProblem(first_line, f"invalid YAML: {exc}") from None
    return builder.root


class _TreeBuilder:
    """Assemble nodes from parser events with an explicit stack (no recursion)."""

    def __init__(self, first_line: int) -> None:
        self.first_line = first_line
        self.root: Node | None = None
        self.documents = 0
        # Open collections: (kind, line, items); a mapping's items alternate key, value.
        self.stack: list[tuple[str, int, list[Node]]] = []

    def feed(self, event: yaml.Event) -> None:
        """Consume one parser event (a scalar, the most frequent, looked for first)."""
        line = self.first_line + (event.start_mark.line if event.start_mark else 0)
        if isinstance(event, yaml.ScalarEvent):
            if event.tag is not None:
                _check_tag(event.tag, line)
            self._add(Scalar(event.value, line, not event.style, event.tag or ""))  # plain: None or ""
        elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            _check_tag(event.tag, line)
            if len(self.stack) >= _MAX_DEPTH:
                raise YamlProblem(line, f"values are nested more than {_MAX_DEPTH} levels deep; flatten them")
            self.stack.append(("seq" if isinstance(event, yaml.SequenceStartEvent) else "map", line, []))
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            kind, start, items = self.stack.pop()
            self._add(Seq(tuple(items), start) if kind == "seq" else Mapping(_pairs(items), start))
        elif isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise YamlProblem(line, "only one YAML document is allowed here; remove the extra '---'")
        elif isinstance(event, yaml.AliasEvent):
            raise YamlProblem(line, "YAML aliases (*name) are not allowed; write the value out")

    def _add(self, node: Node) -> None:
        if not self.stack:
            self.root = node
            return
        kind, _, items = self.stack[-1]
        if kind == "map" and len(items) % 2 == 0 and not isinstance(node, Scalar):
            raise YamlProblem(node.line, "a key must be plain text")
        items.append(node)


def _check_tag(tag: str | None, line: int) -> None:
    """Refuse explicit tags other than YAML's core ones (`!!python/object` and the like)."""
    if tag is not None and tag != "!" and tag not in _CORE_TAGS:
        shown = tag.replace(_CORE, "!!")
        raise YamlProblem(
            line, f"the YAML tag {shown} is not allowed; remove it (values are plain text, lists and mappings)"
        )


def _pairs(items: list[Node]) -> tuple[tuple[Scalar, Node], ...]:
    """Pair a mapping's keys and values, refusing duplicate keys."""
    pairs: list[tuple[Scalar, Node]] = []
    first_seen: dict[str, int] = {}
    for key, value in zip(items[::2], items[1::2], strict=True):
        assert isinstance(key, Scalar)  # _add refuses other keys
        if key.text in first_seen:
            raise YamlProblem(key.line, f"{key.text}: appears twice (first on line {first_seen[key.text]}); keep one")
        first_seen[key.text] = key.line
        pairs.append((key, value))
    return tuple(pairs)


def describe(node: Node) -> str:
    """Name a node's kind for error messages."""
    if isinstance(node, Scalar):
        return "empty" if node.is_null else f'"{node.text}"'
    return "a list" if isinstance(node, Seq) else "a mapping"
