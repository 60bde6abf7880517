"""The layout of a ``%%orange`` cell: request line, ``Name: value`` header lines, body."""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEADER_LINE = re.compile(r"([!#$%&'*+.^_`|~0-9A-Za-z-]+):(.*)")


@dataclass(frozen=True)
class CellLayout:
    """A cell's parts as text, before any value is read."""

    request_line: str | None
    headers: tuple[tuple[str, str], ...]
    body: str | None


def cell_layout(cell: str, need_request_line: bool) -> CellLayout:
    """Split ``cell``; its first line is ``[METHOD] PATH …`` when ``need_request_line``."""
    lines = [line.rstrip("\r") for line in cell.split("\n")]
    index = 0
    while index < len(lines) and not lines[index].strip():
        index += 1
    request_line = None
    if need_request_line and index < len(lines):
        request_line = lines[index]
        index += 1
    headers: list[tuple[str, str]] = []
    while index < len(lines):
        if not lines[index].strip():
            index += 1
            break
        match = _HEADER_LINE.fullmatch(lines[index])
        if match is None:
            break  # a line that is no header starts the body
        headers.append((match.group(1), match.group(2).strip()))
        index += 1
    rest = lines[index:]
    while rest and not rest[-1].strip():
        rest.pop()
    while rest and not rest[0].strip():
        rest.pop(0)
    return CellLayout(request_line, tuple(headers), "\n".join(rest) if rest else None)
