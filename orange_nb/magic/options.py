"""The ``%orange`` options: their table, the parser (options stand anywhere), the checks."""

from __future__ import annotations

import difflib
import keyword
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import UsageError
from .export import check_language
from .interpolate import Template, literal, show
from .specs import METHODS, CallOptions

_LANGUAGE_WORD = re.compile(r"[A-Za-z][A-Za-z0-9.+#-]*")


@dataclass(frozen=True)
class Option:
    """One option: where its value goes, its spellings, what value it takes."""

    dest: str
    names: tuple[str, ...]
    kind: Literal["flag", "count", "seconds", "identifier", "text", "records", "export"]
    metavar: str = ""


REQUEST_OPTIONS = (
    Option("output", ("-o", "--output"), "identifier", "VAR"),
    Option("show", ("--show",), "flag"),
    Option("json", ("--json",), "flag"),
    Option("raw", ("--raw",), "flag"),
    Option("records", ("--records",), "records", "PATH"),
    Option("paginate", ("--paginate",), "flag"),
    Option("max_pages", ("--max-pages",), "count", "N"),
    Option("limit", ("--limit",), "count", "N"),
    Option("quiet", ("-q", "--quiet"), "flag"),
    Option("verbose", ("-v", "--verbose"), "flag"),
    Option("dry_run", ("--dry-run",), "flag"),
    Option("timeout", ("--timeout",), "seconds", "S"),
    Option("export", ("--export",), "export", "[LANG]"),
    Option("form", ("-f", "--form"), "flag"),
    Option("polars", ("--polars",), "flag"),
    Option("pandas", ("--pandas",), "flag"),
)
_LOGIN_OPTIONS = (
    Option("sandbox", ("--sandbox",), "flag"),
    Option("scopes", ("--scopes",), "text", '"openid …"'),
    Option("wait", ("--wait",), "flag"),
    Option("timeout", ("--timeout",), "seconds", "S"),
    Option("ciba", ("--ciba",), "text", "tel:+…"),
    Option("message", ("--message",), "text", '"TEXT"'),
)
_KEYS_OPTIONS = (
    Option("out", ("--out",), "text", "DIR"),
    Option("alg", ("--alg",), "text", "RS256|PS256|ES256"),
)
COMMAND_OPTIONS: dict[str, tuple[Option, ...]] = {"login": _LOGIN_OPTIONS, "keys": _KEYS_OPTIONS}


def usage_hint(name: str) -> str:
    """`` Its options: …`` for the command ``name``, or nothing when it takes none."""
    options = COMMAND_OPTIONS.get(name, ())
    if not options:
        return ""
    return " Its options: " + ", ".join(f"{o.names[-1]} {o.metavar}".strip() for o in options)


def read_options(
    words: list[Template], table: Sequence[Option], where: str
) -> tuple[dict[str, Any], list[Template]]:
    """Options (anywhere among the words) and the other words, in order."""
    by_name = {name: option for option in table for name in option.names}
    values: dict[str, Any] = {}
    positional: list[Template] = []
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if not (word and isinstance(word[0], str) and word[0].startswith("-")):
            positional.append(word)
            continue
        text = literal(word)
        if text is None:
            raise UsageError(f"Options take no {{{{ }}}} expression: {show(word)!r}.")
        name, equals, inline = text.partition("=") if text.startswith("--") else (text, "", "")
        option = by_name.get(name)
        if option is None:
            raise _unknown_option(name, by_name, where)
        if option.kind == "flag":
            if equals:
                raise UsageError(f"{name} takes no value: write {name} alone.")
            values[option.dest] = True
            continue
        if equals:
            raw = inline
        elif option.kind == "export":
            raw = ""
            following = literal(words[index]) if index < len(words) else None
            if following is not None and _looks_like_language(following):
                raw = following
                index += 1
        elif index < len(words):
            following = literal(words[index])
            if following is None:
                raise UsageError(f"{name} takes no {{{{ }}}} expression: {show(words[index])!r}.")
            raw = following
            index += 1
        else:
            raise UsageError(f"{name} needs a value: {name} {option.metavar}.")
        values[option.dest] = _convert(option, name, raw)
    return values, positional


def check_options(options: CallOptions) -> None:
    """Refuse options that exclude each other."""
    if options.json and options.raw:
        raise UsageError("--json and --raw exclude each other: choose one.")
    if options.quiet and options.verbose:
        raise UsageError("-q/--quiet and -v/--verbose exclude each other: choose one.")
    if options.polars and options.pandas:
        raise UsageError("--polars and --pandas exclude each other: choose one.")


def _looks_like_language(word: str) -> bool:
    return (
        _LANGUAGE_WORD.fullmatch(word) is not None
        and not word.isupper()
        and word.upper() not in METHODS
    )


def _unknown_option(name: str, by_name: Mapping[str, Option], where: str) -> UsageError:
    if not by_name:
        return UsageError(f"{where} takes no options, got {name!r}.")
    close = difflib.get_close_matches(name, list(by_name), n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]}?" if close else ""
    return UsageError(f"Unknown option {name!r} for {where}.{hint}")


def _convert(option: Option, name: str, raw: str) -> object:
    if option.kind == "identifier":
        if not raw.isidentifier() or keyword.iskeyword(raw):
            raise UsageError(f"{name} needs a Python variable name, got {raw!r}.")
        return raw
    if option.kind == "count":
        if not re.fullmatch(r"[0-9]{1,9}", raw) or int(raw) < 1:
            raise UsageError(f"{name} needs a whole number of 1 or more, got {raw!r}.")
        return int(raw)
    if option.kind == "seconds":
        try:
            seconds = float(raw)
        except ValueError:
            seconds = math.nan
        if not (math.isfinite(seconds) and seconds > 0):
            raise UsageError(f"{name} needs a number of seconds above 0, got {raw!r}.")
        return seconds
    if option.kind == "records":
        if not re.fullmatch(r"[^.\s]+(\.[^.\s]+)*", raw):
            raise UsageError(f"{name} needs a dotted path such as data.items, got {raw!r}.")
        return raw
    if option.kind == "export":
        return check_language(raw) if raw else ""
    return raw
