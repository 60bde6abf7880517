"""The request items: ``name==value`` query, ``Header:value`` header, ``field=value`` and
``field:=json`` body fields, split at their first separator."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import UsageError
from .interpolate import Template, join, show

_SEPARATORS = (":=", "==", "=", ":")  # longest first: at one position the longest wins
_ESCAPED = re.compile(r"\\([=:\\])")


@dataclass(frozen=True)
class Item:
    """One item: its separator, name (escapes undone), value, and the word as written."""

    separator: str
    name: Template
    value: Template
    source: Template


def read_item(word: Template) -> Item:
    """Split a request item at its first separator outside expressions and escapes."""
    for index, piece in enumerate(word):
        if not isinstance(piece, str):
            continue
        position = 0
        while position < len(piece):
            if piece[position] == "\\" and piece[position + 1 : position + 2] in ("=", ":", "\\"):
                position += 2
                continue
            for separator in _SEPARATORS:
                if piece.startswith(separator, position):
                    name = join([*word[:index], piece[:position]])
                    value = join([piece[position + len(separator) :], *word[index + 1 :]])
                    unescaped = join(
                        _ESCAPED.sub(r"\1", p) if isinstance(p, str) else p for p in name
                    )
                    return Item(separator, unescaped, value, word)
            position += 1
    raise UsageError(
        f"{show(word)!r} is not a request item: write name==value (query), Header:value "
        "(header), field=value or field:=json (body), or an option starting with -."
    )
