"""Tab completion for ``%orange``: commands, methods, options, export languages, paths."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from .export import LANGUAGES
from .options import COMMAND_OPTIONS, REQUEST_OPTIONS, Option
from .specs import COMMANDS, METHODS


def completions(text_before_cursor: str, paths: Sequence[str]) -> list[str]:
    """Candidates for the word being typed: commands, methods, options, languages or paths.

    ``text_before_cursor`` may start with ``%orange``/``%%orange``; in a cell, only its last
    line counts. ``paths`` are the known API paths (the sandbox's, say).
    """
    text = text_before_cursor.rsplit("\n", 1)[-1]
    text = re.sub(r"^\s*%{1,2}orange\b", "", text)
    words = text.split()
    current = "" if not words or text[-1].isspace() else words.pop()

    def starting(candidates: Sequence[str], fold: bool = False) -> list[str]:
        key = current.lower() if fold else current
        found = [c for c in candidates if (c.lower() if fold else c).startswith(key)]
        return list(dict.fromkeys(found))

    previous = words[-1] if words else ""
    if previous == "--export":
        return starting(list(LANGUAGES), fold=True)
    if words and words[0] in COMMANDS:
        options = COMMAND_OPTIONS.get(words[0], ())
        return starting([n for o in options for n in o.names]) if current.startswith("-") else []
    table = {name: option for option in REQUEST_OPTIONS for name in option.names}
    if _takes_value(previous, table):
        return []  # the word being typed is that option's value
    if current.startswith("-"):
        return starting(list(table))
    positional = [
        word
        for index, word in enumerate(words)
        if not word.startswith("-") and not (index and _takes_value(words[index - 1], table))
    ]
    if not positional:
        return starting([*COMMANDS, *METHODS], fold=True) + starting(paths)
    if len(positional) == 1 and positional[0].upper() in METHODS:
        return starting(paths)
    return []


def _takes_value(word: str, table: Mapping[str, Option]) -> bool:
    return word in table and table[word].kind not in ("flag", "export")
