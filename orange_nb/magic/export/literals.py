"""String literals for each language: any text, quotes, backslashes, ``$`` and unicode kept.

Java, Kotlin and C# get ASCII-only literals (``\\uXXXX`` for the rest, UTF-16 units) so a
snippet compiles whatever the source encoding; Java never gets ``\\u`` for a line break,
which its compiler would read as a real one.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Mapping


def python(text: str) -> str:
    """A Python string literal."""
    return repr(text)


def javascript(text: str) -> str:
    """A JavaScript string literal (JSON's, with the two JavaScript-hostile separators escaped)."""
    return (
        json.dumps(text, ensure_ascii=False)
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def shell(text: str) -> str:
    """One POSIX shell word: single-quoted unless plain."""
    return shlex.quote(text)


def php(text: str) -> str:
    """A single-quoted PHP literal: no ``$`` interpolation; only ``'`` and ``\\`` escaped."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _utf16(char: str) -> str:
    data = char.encode("utf-16-be")
    return "".join(
        f"\\u{int.from_bytes(data[i : i + 2], 'big'):04x}" for i in range(0, len(data), 2)
    )


def _quote(text: str, escapes: Mapping[str, str], other: Callable[[str], str]) -> str:
    """Double-quoted: named escapes, printable ASCII as is, anything else through ``other``."""
    out = [
        escapes[char] if char in escapes else char if " " <= char <= "~" else other(char)
        for char in text
    ]
    return '"' + "".join(out) + '"'


_COMMON = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_JAVA = {**_COMMON, "\b": "\\b", "\f": "\\f"}
_KOTLIN = {**_COMMON, "\b": "\\b", "$": "\\$"}
_CSHARP = {**_COMMON, "\0": "\\0", "\a": "\\a", "\b": "\\b", "\f": "\\f", "\v": "\\v"}
_RUST = {**_COMMON, "\0": "\\0"}


def java(text: str) -> str:
    """A Java string literal, ASCII only."""
    return _quote(text, _JAVA, _utf16)


def kotlin(text: str) -> str:
    """A Kotlin string literal, ASCII only, ``$`` escaped (no string templates)."""
    return _quote(text, _KOTLIN, _utf16)


def csharp(text: str) -> str:
    """A C# regular string literal, ASCII only."""
    return _quote(text, _CSHARP, _utf16)


def rust(text: str) -> str:
    """A Rust string literal: printable unicode as is (Rust sources are UTF-8)."""
    return _quote(text, _RUST, lambda char: char if char.isprintable() else f"\\u{{{ord(char):x}}}")
