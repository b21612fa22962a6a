"""Each module keeps the "May not" line of its docstring: an import that breaks it fails here.

A line is read as clauses ("May not do I/O, or know the archive."); each clause must be one
this file knows, and names what the module may not import (and, for I/O, call `open`).
Imports under `if TYPE_CHECKING:` are for the type checker only and do not count.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "briefings"
IO = frozenset({
    "os", "pathlib.Path", "shutil", "tempfile", "sqlite3", "subprocess", "socket", "io",
    "briefings.bodies", "briefings.cache", "briefings.sources", "briefings.write", "briefings.pipeline",
    "briefings.serve",
})  # fmt: skip
WRITE = frozenset({"shutil", "tempfile", "sqlite3", "briefings.write", "briefings.cache", "briefings.bodies"})
BUILD = frozenset({
    "briefings.plan", "briefings.pages", "briefings.render", "briefings.feeds", "briefings.records",
    "briefings.content", "briefings.markdown", "briefings.write", "briefings.links",
})  # fmt: skip
PAGES = frozenset({"briefings.pages", "briefings.render", "briefings.feeds", "jinja2"})
# What each clause forbids; "briefings" alone forbids the whole package.
CLAUSES: dict[str, frozenset[str]] = {
    "do I/O": IO,
    "touch files": IO,
    "touch disk": IO,
    "write files": WRITE,
    "write the site": frozenset({"briefings.write"}),
    "read content or write output": frozenset({"briefings.content", "briefings.records", "briefings.sources"}) | WRITE,
    "import the rest of the package": frozenset({"briefings"}),
    "hold build logic": BUILD,
    "hold page logic": PAGES,
    "build or check the site": BUILD | {"briefings.pipeline"},
    "render": frozenset({"jinja2", "briefings.render"}),
    "render templates": frozenset({"jinja2", "briefings.render"}),
    "know pages or templates": PAGES,
    "know what a page is": PAGES,
    "know what a briefing is": frozenset({"briefings.content", "briefings.records", "briefings.archive"}) | PAGES,
    "know what a briefing or a site is": frozenset({"briefings.content", "briefings.config", "briefings.archive"}),
    "know other briefings or the base URL": frozenset({"briefings.archive", "briefings.search", "briefings.links"}),
    "know the archive": frozenset({"briefings.archive"}),
    "parse briefings or know the site's pages": frozenset({"briefings.content", "briefings.records"}) | PAGES,
}
IO_CLAUSES = {"do I/O", "touch files", "touch disk"}


def modules() -> list[Path]:
    return sorted(path for path in PACKAGE.glob("*.py") if path.name != "__init__.py")


def clauses(docstring: str) -> list[str]:
    """Return the clauses of a docstring's "May not" sentence."""
    found = re.search(r"\bMay not\s+(.+?)\.(\s|$)", " ".join(docstring.split()))
    assert found, 'the docstring has no "May not ..." sentence'
    sentence = re.sub(r"\s*\([^)]*\)", "", found[1])  # a parenthesis explains; it forbids nothing
    return [part.strip() for part in re.split(r",\s*(?:or\s+)?", sentence)]


def imports(tree: ast.Module) -> set[str]:
    """Return every module the code imports at run time (at any depth, not under TYPE_CHECKING)."""
    found: set[str] = set()
    typing_only = {
        id(node)
        for branch in ast.walk(tree)
        if isinstance(branch, ast.If) and "TYPE_CHECKING" in ast.unparse(branch.test)
        for statement in branch.body
        for node in ast.walk(statement)
    }
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module != "__future__":
            found |= {f"{node.module}.{alias.name}" for alias in node.names}  # `pathlib.PurePosixPath`
    return found


def forbidden(name: str, rule: frozenset[str]) -> bool:
    return any(name == banned or name.startswith(banned + ".") for banned in rule)


@pytest.mark.parametrize("module", modules(), ids=lambda path: path.stem)
def test_a_module_imports_nothing_its_may_not_line_forbids(module: Path) -> None:
    tree = ast.parse(module.read_text(encoding="utf-8"))
    docstring = ast.get_docstring(tree) or ""
    said = clauses(docstring)
    unknown = [clause for clause in said if clause not in CLAUSES]
    assert not unknown, f"{module.name}: no rule for {unknown}; add it to CLAUSES in {Path(__file__).name}"
    used = imports(tree) - {f"briefings.{module.stem}"}
    broken = sorted(
        f"{name} (may not {clause})" for clause in said for name in used if forbidden(name, CLAUSES[clause])
    )
    assert not broken, f"{module.name} imports {', '.join(broken)}"
    if IO_CLAUSES & set(said):
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and ast.unparse(n.func) in ("open", "io.open")]
        assert not calls, f"{module.name} opens files, though it may not do I/O"


def test_the_rules_catch_a_broken_line() -> None:
    tree = ast.parse('"""Example. May not do I/O, or know the archive."""\nimport os\nfrom briefings import archive\n')
    said = clauses(ast.get_docstring(tree) or "")
    assert said == ["do I/O", "know the archive"]
    assert {n for c in said for n in imports(tree) if forbidden(n, CLAUSES[c])} == {"os", "briefings.archive"}
    assert not forbidden("pathlib.PurePosixPath", CLAUSES["do I/O"])  # pure paths are no I/O
