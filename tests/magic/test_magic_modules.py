"""The parser's module map: one job a module, imports pointing down, one body encoder."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from orange_nb import Orange
from orange_nb.magic import bodies
from orange_nb.magic.syntax import CallSpec, parse

Run = Callable[[str], tuple[Any, str]]
PACKAGE = Path(__file__).resolve().parents[2] / "orange_nb"
# The parser proper: what `syntax.parse` and `completions` are built from.
PARSER = (
    *("words", "options", "items", "cells", "paths", "bodies", "checks", "builder"),
    *("completion", "specs", "interpolate", "syntax"),
)


def _imports(path: Path) -> set[str]:
    """The orange_nb modules ``path`` imports, as absolute dotted names (at any depth)."""
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    if path.name == "__init__.py":
        package = ".".join(path.relative_to(PACKAGE.parent).parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")
            base = base[: len(base) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.split(".")[0] == "orange_nb"}


def test_parser_modules_import_down_and_nothing_below_imports_the_magic() -> None:
    for name in PARSER:
        imported = _imports(PACKAGE / "magic" / f"{name}.py")
        upward = {
            m for m in imported if m.startswith(("orange_nb.magic.magics", "orange_nb.session"))
        }
        assert not upward, f"{name}.py imports {upward}"
        outside = {m for m in imported if not m.startswith(("orange_nb.magic", "orange_nb.errors"))}
        assert not outside, f"{name}.py imports {outside}"
        if name != "syntax":  # the entry re-exports them; no job reaches back up to it
            assert not any(m.startswith("orange_nb.magic.syntax") for m in imported), name
    for path in PACKAGE.rglob("*.py"):
        if "magic" in path.relative_to(PACKAGE).parts or path == PACKAGE / "__init__.py":
            continue  # the package root registers the magic in load_ipython_extension
        magic = {m for m in _imports(path) if m.startswith("orange_nb.magic")}
        assert not magic, f"{path.relative_to(PACKAGE)} imports {magic}"


def test_each_parser_module_stays_one_job() -> None:
    # syntax.py was one 846-line module doing seven jobs; the entry now only dispatches.
    sizes = {
        name: len((PACKAGE / "magic" / f"{name}.py").read_text().splitlines()) for name in PARSER
    }
    assert sizes["syntax"] <= 150, sizes
    assert max(size for name, size in sizes.items() if name != "interpolate") <= 200, sizes


@pytest.mark.parametrize(
    ("line", "cell"),
    [
        ("POST /sandbox/echo/v1/j name=é n:=[1,null]", None),
        ("POST /sandbox/echo/v1/f --form a=1 a=2 'b c=d&é'", None),
        ("PUT /sandbox/echo/v1/t", "Content-Type: text/csv\n\nzone;é\nz1;2"),
        ("", 'PATCH /sandbox/echo/v1/c\n\n{"k": "ü", "v": [1.5, true]}'),
    ],
)
def test_the_request_sent_and_exported_carries_the_one_encoders_bytes(
    orange: Orange, run: Run, line: str, cell: str | None
) -> None:
    spec = parse(line, cell)
    assert isinstance(spec, CallSpec) and spec.body is not None
    expected = bodies.encode(spec.body)
    source = f"%%orange {line} --json\n{cell}" if cell is not None else f"%orange {line} --json"
    result, _ = run(source)
    assert result.error_in_exec is None
    echo = result.result
    assert echo["body"].encode("utf-8") == expected
    assert ["Content-Type", spec.body.content_type] in echo["headers"]
    # --dry-run writes its snippet from the request the magic builds: the same bytes.
    dry = (
        f"%%orange {line} --dry-run --export python-requests\n{cell}"
        if cell is not None
        else (f"%orange {line} --dry-run --export python-requests")
    )
    result, out = run(dry)
    assert result.error_in_exec is None
    payload = next(line for line in out.splitlines() if line.startswith("payload = "))
    assert ast.literal_eval(payload.removeprefix("payload = ")).encode("utf-8") == expected
