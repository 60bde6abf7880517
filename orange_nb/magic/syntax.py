"""Read a ``%orange`` line or ``%%orange`` cell into a ``Command`` or a ``CallSpec``.

::

    %orange login [--sandbox] [--scopes "openid …"] [--wait] [--timeout S]
    %orange status | logout | refresh
    %orange [METHOD] PATH [name==value …] [Header:value …] [field=value …] [field:=json …] [options]

    %%orange [options] [METHOD PATH items…]
    POST /some/api/v1/things?dryRun=true      ← first line: [METHOD] PATH, unless on the magic line
    X-Correlation-Id: {{ run_id }}            ← header lines
                                              ← a blank line
    {"name": {{ name }}}                      ← the body, to the end of the cell

Rules:

- Words split as a POSIX shell would (``shlex``); ``{{ expr }}`` is read before that, so
  its spaces and quotes need no quoting, and ``$`` is always literal.
- METHOD is the first word when it is a known method in any case (``get`` → ``GET``) or,
  followed by another word, an all-uppercase HTTP token (``PROPFIND``) that is no near
  miss of a known one (``GETT`` is an error); any other first word is PATH. METHOD defaults to POST when there is a body (field items or a cell
  body), else GET.
- PATH starts with ``/`` (joined to the session's API base) or ``http(s)://``. Its
  ``?query`` joins ``CallSpec.query``. ``{name}`` takes a variable and ``{{ expr }}`` an
  expression, each quoted as one path segment (``/``, ``?``, ``#``, ``\\`` included); a value
  that leaves its segment empty, ``.`` or ``..`` is refused, as it would change the path.
  An expression that opens PATH is used as it is (a whole URL, such as a next-page link).
  A URL's host and port are checked before any request.
- Items, by their first separator (the longest at one position): ``name==value`` query,
  ``Header:value`` header, ``field=value`` string field, ``field:=json`` JSON field.
  A backslash escapes a separator (or itself) in the name: ``a\\=b=1`` is field ``a=b``.
  Fields build a JSON object; with ``--form`` they are sent form-encoded instead.
- Options may stand anywhere; ``--opt=value`` also works. ``--export`` takes the next word
  as its language when it looks like one.
- A cell's header lines are ``Name: value`` lines; a blank line, or a line that is not a
  header, starts the body. The body is JSON when its Content-Type says so or, with no
  Content-Type, when it starts with ``{``, ``[`` or an expression; otherwise it is text.
- Values are encoded for where they stand (see ``orange_nb.magic.interpolate``); ``\\{{`` is a
  literal ``{{``.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import keyword
import math
import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Union, cast
from urllib.parse import parse_qsl, unquote, unquote_plus, urlencode, urlsplit

from ..errors import UsageError
from .export import LANGUAGES, check_language
from .interpolate import (
    Expr,
    Interpolator,
    Piece,
    Template,
    Verbatim,
    join,
    literal,
    show,
    split_path_variables,
    split_template,
)

__all__ = [
    "COMMANDS",
    "METHODS",
    "USAGE",
    "Body",
    "CallOptions",
    "CallSpec",
    "Command",
    "CommandName",
    "FormBody",
    "JsonBody",
    "TextBody",
    "completions",
    "parse",
]

CommandName = Literal["login", "status", "logout", "refresh"]
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
COMMANDS: tuple[CommandName, ...] = ("login", "status", "logout", "refresh")
USAGE = """\
%orange login [--sandbox] [--scopes "openid …"] [--wait] [--timeout S]
%orange status | logout | refresh
%orange [METHOD] PATH [name==value …] [Header:value …] [field=value …] [field:=json …] [options]
options: -o/--output VAR, --show, --json, --raw, --records PATH, --paginate, --max-pages N,
         --limit N, -q/--quiet, -v/--verbose, --dry-run, --timeout S, --export [LANG], -f/--form"""

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_HEADER_LINE = re.compile(r"([!#$%&'*+.^_`|~0-9A-Za-z-]+):(.*)")
_HTTP_VERSION = re.compile(r"HTTP/\d(\.\d)?")
_URL = re.compile(r"https?://[^/?#\s]+", re.IGNORECASE)
_JSON_TYPE = re.compile(r"[^;]*[/+]json\s*(;.*)?", re.IGNORECASE | re.DOTALL)
_FORM_TYPE = "application/x-www-form-urlencoded"
_TEXT_TYPE = "text/plain; charset=utf-8"
_SEPARATORS = (":=", "==", "=", ":")  # longest first: at one position the longest wins
_ESCAPED = re.compile(r"\\([=:\\])")
_SLOT = re.compile("\ue000(\\d+)\ue001")  # private-use marks hold expressions through shlex
_LANGUAGE_WORD = re.compile(r"[A-Za-z][A-Za-z0-9.+#-]*")
_IPV4_STYLE = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")  # what httpx reads as IPv4
_IPV6_LITERAL = re.compile(r"\[([^\[\]]*)\](?::[0-9]*)?")
_BAD_HOST = re.compile(r"[\x00-\x20\x7f<>\[\]^`{}|\\\"]")


@dataclass(frozen=True)
class Command:
    """``%orange login | status | logout | refresh`` and, for login, its options."""

    name: CommandName
    sandbox: bool = False
    scopes: str | None = None
    wait: bool = False
    timeout: float | None = None


@dataclass(frozen=True)
class JsonBody:
    """A JSON body: ``value`` is the parsed JSON (dict, list, str, number, bool or None)."""

    value: Any
    content_type: str = "application/json"

    def encode(self) -> bytes:
        """The bytes to send."""
        return json.dumps(self.value, ensure_ascii=False).encode("utf-8")


@dataclass(frozen=True)
class FormBody:
    """Form fields (``--form``), repeats kept, sent ``application/x-www-form-urlencoded``."""

    fields: tuple[tuple[str, str], ...]
    content_type: str = _FORM_TYPE

    def encode(self) -> bytes:
        """The bytes to send."""
        return urlencode(self.fields).encode("ascii")


@dataclass(frozen=True)
class TextBody:
    """A body sent as written (after interpolation), with its content type."""

    text: str
    content_type: str = _TEXT_TYPE

    def encode(self) -> bytes:
        """The bytes to send."""
        return self.text.encode("utf-8")


Body = Union[JsonBody, FormBody, TextBody]


@dataclass(frozen=True)
class CallOptions:
    """How to make and show one call; ``export`` is ``""`` to list the languages."""

    output: str | None = None
    show: bool = False
    json: bool = False
    raw: bool = False
    records: str | None = None
    paginate: bool = False
    max_pages: int = 20
    limit: int | None = None
    quiet: bool = False
    verbose: bool = False
    dry_run: bool = False
    timeout: float | None = None
    export: str | None = None


@dataclass(frozen=True)
class CallSpec:
    """One API call, every value interpolated and encoded.

    ``path`` starts with ``/`` (relative to the API base) or is an absolute URL, and holds
    no query: query parameters are in ``query``, repeats and order kept, values not yet
    URL-encoded (the HTTP client encodes them).
    """

    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    body: Body | None = None
    options: CallOptions = field(default_factory=CallOptions)


@dataclass(frozen=True)
class _Option:
    dest: str
    names: tuple[str, ...]
    kind: Literal["flag", "count", "seconds", "identifier", "text", "records", "export"]
    metavar: str = ""


_REQUEST_OPTIONS = (
    _Option("output", ("-o", "--output"), "identifier", "VAR"),
    _Option("show", ("--show",), "flag"),
    _Option("json", ("--json",), "flag"),
    _Option("raw", ("--raw",), "flag"),
    _Option("records", ("--records",), "records", "PATH"),
    _Option("paginate", ("--paginate",), "flag"),
    _Option("max_pages", ("--max-pages",), "count", "N"),
    _Option("limit", ("--limit",), "count", "N"),
    _Option("quiet", ("-q", "--quiet"), "flag"),
    _Option("verbose", ("-v", "--verbose"), "flag"),
    _Option("dry_run", ("--dry-run",), "flag"),
    _Option("timeout", ("--timeout",), "seconds", "S"),
    _Option("export", ("--export",), "export", "[LANG]"),
    _Option("form", ("-f", "--form"), "flag"),
)
_LOGIN_OPTIONS = (
    _Option("sandbox", ("--sandbox",), "flag"),
    _Option("scopes", ("--scopes",), "text", '"openid …"'),
    _Option("wait", ("--wait",), "flag"),
    _Option("timeout", ("--timeout",), "seconds", "S"),
)
_COMMAND_OPTIONS: dict[str, tuple[_Option, ...]] = {"login": _LOGIN_OPTIONS}


def parse(
    line: str,
    cell: str | None = None,
    *,
    namespace: Mapping[str, Any] | None = None,
    evaluate: Callable[[str], object] | None = None,
) -> Command | CallSpec:
    """Read a ``%orange`` line (and a ``%%orange`` cell's body) into what to do.

    ``line`` is the raw text after ``%orange`` (IPython's own ``$``/``{}`` expansion off);
    ``cell`` is the cell's body for ``%%orange``, else ``None``. Expressions are evaluated
    with ``evaluate(source)`` when given (IPython's ``shell.ev``), else with ``eval`` and
    ``namespace`` as globals; ``{name}`` reads ``namespace``. Raises ``UsageError`` (and
    nothing else) when the request cannot be understood or an expression fails.
    """
    words = _words(line)
    first = literal(words[0]) if words else None
    if first in COMMANDS:
        return _command(first, words[1:], cell)
    return _Request(Interpolator(namespace, evaluate)).build(words, cell)


def _words(line: str) -> list[Template]:
    """Split a line like a shell would, keeping each ``{{ expr }}`` whole inside its word."""
    slots: list[Expr | Verbatim] = []

    def slot(piece: Expr | Verbatim) -> str:
        slots.append(piece)
        return f"\ue000{len(slots) - 1}\ue001"

    marked = "".join(
        re.sub("[\ue000\ue001]", lambda m: slot(Verbatim(m.group())), piece)
        if isinstance(piece, str)
        else slot(piece)
        for piece in split_template(line)
    )
    try:
        words = shlex.split(marked)
    except ValueError as exc:
        raise UsageError(
            f"Cannot split the line into words ({exc}): check its quotes and backslashes."
        ) from None
    templates = []
    for word in words:
        parts = _SLOT.split(word)  # text, slot number, text, …
        pieces: list[Piece] = [slots[int(p)] if i % 2 else p for i, p in enumerate(parts)]
        templates.append(join(pieces))
    return templates


def _command(name: str, words: list[Template], cell: str | None) -> Command:
    where = f"`%orange {name}`"
    if cell is not None and cell.strip():
        raise UsageError(f"{where} takes no cell body: run it as a line magic.")
    values, positional = _options(words, _COMMAND_OPTIONS.get(name, ()), where)
    if positional:
        raise UsageError(f"{where} takes no {show(positional[0])!r}.{_usage_hint(name)}")
    return Command(cast(CommandName, name), **values)


def _usage_hint(name: str) -> str:
    options = _COMMAND_OPTIONS.get(name, ())
    if not options:
        return ""
    return " Its options: " + ", ".join(f"{o.names[-1]} {o.metavar}".strip() for o in options)


def _options(
    words: list[Template], table: Sequence[_Option], where: str
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


def _looks_like_language(word: str) -> bool:
    return (
        _LANGUAGE_WORD.fullmatch(word) is not None
        and not word.isupper()
        and word.upper() not in METHODS
    )


def _unknown_option(name: str, by_name: Mapping[str, _Option], where: str) -> UsageError:
    if not by_name:
        return UsageError(f"{where} takes no options, got {name!r}.")
    close = difflib.get_close_matches(name, list(by_name), n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]}?" if close else ""
    return UsageError(f"Unknown option {name!r} for {where}.{hint}")


def _convert(option: _Option, name: str, raw: str) -> object:
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


def _is_method(word: str, followed: bool) -> bool:
    if word.upper() in METHODS:
        return True
    return followed and _TOKEN.fullmatch(word) is not None and word.isupper()


@dataclass(frozen=True)
class _Item:
    separator: str
    name: Template
    value: Template
    source: Template


def _item(word: Template) -> _Item:
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
                    return _Item(separator, unescaped, value, word)
            position += 1
    raise UsageError(
        f"{show(word)!r} is not a request item: write name==value (query), Header:value "
        "(header), field=value or field:=json (body), or an option starting with -."
    )


@dataclass(frozen=True)
class _CellLayout:
    request_line: str | None
    headers: tuple[tuple[str, str], ...]
    body: str | None


def _cell_layout(cell: str, need_request_line: bool) -> _CellLayout:
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
    return _CellLayout(request_line, tuple(headers), "\n".join(rest) if rest else None)


class _Request:
    """Builds one ``CallSpec``: structure first, then undefined names, then values."""

    def __init__(self, interpolator: Interpolator) -> None:
        self.values = interpolator

    def build(self, words: list[Template], cell: str | None) -> CallSpec:
        where = "a request"
        options, positional = _options(words, _REQUEST_OPTIONS, where)
        layout = None
        if cell is not None:
            layout = _cell_layout(cell, need_request_line=_parts(positional)[1] is None)
            if layout.request_line is not None:
                extra = _words(layout.request_line)
                if extra and _HTTP_VERSION.fullmatch(literal(extra[-1]) or ""):
                    extra.pop()  # "POST /x HTTP/1.1", as in a raw request line
                more, extra_positional = _options(extra, _REQUEST_OPTIONS, where)
                options.update(more)
                positional += extra_positional
        method, path_word, item_words = _parts(positional)
        if path_word is None:
            raise UsageError(_missing_path(method))
        path = self._path_template(path_word)
        path_part, query_part = _partition(path, "?")
        items = [_item(word) for word in item_words]
        cell_headers = [
            (name, split_template(value)) for name, value in (layout.headers if layout else ())
        ]
        body_template = split_template(layout.body) if layout and layout.body else None

        self.values.check_defined(
            [path]
            + [part for item in items for part in (item.name, item.value)]
            + [value for _, value in cell_headers]
            + ([body_template] if body_template else [])
        )

        path_text, embedded = self._render_path(path_part)
        query = embedded + self._query(query_part)
        headers: list[tuple[str, str]] = []
        fields: list[tuple[_Item, str]] = []
        for item in items:
            name = self.values.render(item.name, "raw")
            if item.separator == "==":
                if not name:
                    raise UsageError(f"Query item {show(item.source)!r} has no name.")
                query.append((name, self.values.render(item.value, "raw")))
            elif item.separator == ":":
                headers.append(_header(name, self.values.render(item.value, "raw"), item.source))
            else:
                if not name:
                    raise UsageError(f"Body item {show(item.source)!r} has no field name.")
                fields.append((item, name))
        for name, value in cell_headers:
            headers.append((name, _header_value(name, self.values.render(value, "raw"))))

        content_type = next(
            (value for name, value in reversed(headers) if name.lower() == "content-type"), None
        )
        body = self._fields_body(fields, bool(options.pop("form", False)), content_type)
        if body_template is not None:
            if body is not None:
                raise UsageError(
                    "The request has body items on the %%orange line and a body in the cell: "
                    "give the body in one place."
                )
            body = self._cell_body(body_template, content_type)

        call_options = CallOptions(**options)
        _check_options(call_options)
        spec = CallSpec(
            method=method or ("POST" if body is not None else "GET"),
            path=path_text,
            query=tuple(query),
            headers=tuple(headers),
            body=body,
            options=call_options,
        )
        _check_unicode(spec)
        return spec

    @staticmethod
    def _path_template(word: Template) -> Template:
        text = word[0] if word and isinstance(word[0], str) else ""
        if (
            word
            and not isinstance(word[0], Expr)
            and not (text.startswith("/") or _URL.match(text))
        ):
            raise UsageError(_not_a_path(show(word)))
        return split_path_variables(word)

    def _render_path(self, template: Template) -> tuple[str, list[tuple[str, str]]]:
        """The path, and the query an opening expression's URL may bring along."""
        head, rest = "", template
        if template and isinstance(template[0], Expr):
            head, rest = self.values.text(template[0]), template[1:]
        text = head + self._segments(head, rest, template)
        text, _, query = text.partition("?")
        if not (text.startswith("/") or _URL.match(text)):
            raise UsageError(_not_a_path(text))
        if "#" in text or re.search(r"[\x00-\x20\x7f]", text):
            raise UsageError(
                f"The path {text!r} holds a #fragment, a space or a control character: "
                "remove it, or percent-encode it (%23, %20)."
            )
        if _URL.match(text):
            _check_url(text)
        return text, parse_qsl(query, keep_blank_values=True)

    def _segments(self, head: str, template: Template, whole: Template) -> str:
        """The path after ``head``, each value quoted into its own segment.

        A segment a value makes empty, ``.`` or ``..`` is refused: the URL would then reach
        another resource than the one written (``/users/{uid}/reports`` with ``uid = ".."``
        is ``/reports``), and encoding it as ``%2E%2E`` is no cure, as servers and proxies
        decode it.
        """
        out: list[str] = []
        for index, part in enumerate(_split(template, "/")):
            text = self.values.render(part, "segment")
            out.append(text)
            values = [str(piece) for piece in part if isinstance(piece, Expr)]
            if not values or (index == 0 and "?" in head):
                continue
            segment = head.rpartition("/")[2] + text if index == 0 else text
            if unquote(segment) in ("", ".", ".."):
                named = ", ".join(f"`{value}`" for value in values)
                raise UsageError(
                    f"The value of {named} makes the segment {segment!r} in the path "
                    f"{show(whole)!r}: an empty, . or .. segment would send the request to "
                    f"another path than the one written. Check {named}."
                )
        return "/".join(out)

    def _query(self, template: Template) -> list[tuple[str, str]]:
        pairs = []
        for pair in _split(template, "&"):
            if not pair:
                continue
            name, value = _partition(pair, "=")
            pairs.append((self._decoded(name), self._decoded(value)))
        return pairs

    def _decoded(self, template: Template) -> str:
        """Literal query text percent-decoded; values from expressions taken as they are."""
        return self.values.render(
            tuple(unquote_plus(p) if isinstance(p, str) else p for p in template), "raw"
        )

    def _fields_body(
        self, fields: list[tuple[_Item, str]], form: bool, content_type: str | None
    ) -> Body | None:
        if not fields:
            return None
        if form:
            pairs = []
            for item, name in fields:
                if item.separator == ":=":
                    raise UsageError(
                        f"{show(item.source)!r} is a JSON field, but --form sends text fields: "
                        "write field=value."
                    )
                pairs.append((name, self.values.render(item.value, "raw")))
            return FormBody(tuple(pairs), content_type or _FORM_TYPE)
        obj: dict[str, Any] = {}
        for item, name in fields:
            if name in obj:
                raise UsageError(f"Body field {name!r} is given twice; give it once.")
            if item.separator == "=":
                obj[name] = self.values.render(item.value, "raw")
            else:
                obj[name] = _json(
                    self.values.render_json(item.value), f"Item {show(item.source)!r}"
                )
        return JsonBody(obj, content_type or "application/json")

    def _cell_body(self, template: Template, content_type: str | None) -> Body:
        if content_type is not None and _JSON_TYPE.fullmatch(content_type):
            kind = "json"
        elif content_type is not None:
            kind = "form" if content_type.lower().startswith(_FORM_TYPE) else "text"
        else:
            head = template[0]
            starts_json = isinstance(head, Expr) or (
                isinstance(head, str) and head.lstrip()[:1] in ("{", "[")
            )
            kind = "json" if starts_json else "text"
        if kind == "json":
            value = _json(self.values.render_json(template), "The cell body")
            return JsonBody(value, content_type or "application/json")
        if kind == "form":
            return TextBody(self.values.render(template, "form"), content_type or _FORM_TYPE)
        return TextBody(self.values.render(template, "raw"), content_type or _TEXT_TYPE)


def _parts(positional: list[Template]) -> tuple[str | None, Template | None, list[Template]]:
    """METHOD (if any), PATH (if any) and the items."""
    if not positional:
        return None, None, []
    first = literal(positional[0])
    method = None
    if first is not None and _is_method(first, followed=len(positional) > 1):
        method, positional = first.upper(), positional[1:]
        close = difflib.get_close_matches(method, METHODS, n=1, cutoff=0.75)
        if close and method not in METHODS:
            raise UsageError(f"Unknown method {method!r}. Did you mean {close[0]}?")
    if not positional:
        return method, None, []
    return method, positional[0], positional[1:]


def _missing_path(method: str | None) -> str:
    if method:
        return f"{method} needs a path: `%orange {method} /sandbox/mobility/v1/zones`."
    return (
        "Nothing to request: write `%orange GET /path`, `%orange login` or `%orange status`; "
        "in a %%orange cell, put METHOD PATH on the first line."
    )


def _not_a_path(word: str) -> str:
    close = difflib.get_close_matches(word.lower(), [*COMMANDS, *(m.lower() for m in METHODS)])
    hint = (
        f" Did you mean {close[0] if close[0] in COMMANDS else close[0].upper()}?" if close else ""
    )
    return (
        f"{word!r} is not a path: a path starts with / (or is an http(s):// URL), "
        f"as in `%orange GET /sandbox/mobility/v1/zones`.{hint}"
    )


def _check_url(url: str) -> None:
    """Refuse an absolute URL whose host or port no HTTP client can use, before any request."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:  # an unclosed [, a port out of range or not a number
        raise UsageError(_bad_url(url, str(exc))) from None
    host = parts.netloc.rpartition("@")[2]
    literal = _IPV6_LITERAL.fullmatch(host)
    host = literal.group(1) if literal else re.sub(r":[0-9]*\Z", "", host)
    if not host:
        raise UsageError(_bad_url(url, "no host"))
    if port == 0:
        raise UsageError(_bad_url(url, "port 0"))
    try:
        if literal:
            ipaddress.IPv6Address(host)
        elif _IPV4_STYLE.fullmatch(host):
            ipaddress.IPv4Address(host)
    except ValueError:
        raise UsageError(_bad_url(url, f"{host!r} is not an IP address")) from None
    if not literal and _BAD_HOST.search(host):
        raise UsageError(_bad_url(url, f"the host {host!r} holds a character no host name can"))


def _bad_url(url: str, reason: str) -> str:
    url = re.sub(r"//[^/?#@]*@", "//…@", url)  # a password in the URL is not shown
    return (
        f"{url!r} is not a URL that can be requested ({reason}): check its host and port, "
        "as in https://api.example.com:8443/v1/things."
    )


def _header(name: str, value: str, source: Template) -> tuple[str, str]:
    if not _TOKEN.fullmatch(name):
        raise UsageError(
            f"{name!r} in {show(source)!r} is not a header name (letters, digits and -)."
        )
    return name, _header_value(name, value)


def _header_value(name: str, value: str) -> str:
    if re.search(r"[\r\n\x00]", value):
        raise UsageError(
            f"Header {name} would hold a line break or NUL; a header value is one line."
        )
    if not value.isascii():
        raise UsageError(
            f"Header {name} holds non-ASCII text ({value!r}); header values are ASCII: "
            "percent-encode it first (urllib.parse.quote)."
        )
    return value


def _json(text: str, what: str) -> Any:
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except Exception as exc:
        raise UsageError(
            f"{what} is not valid JSON ({exc}). Fix it, or send text with a "
            "`Content-Type: text/plain` header."
        ) from None


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _check_unicode(spec: CallSpec) -> None:
    """Refuse lone surrogates (from a value) before they break the HTTP client."""
    texts = [spec.path, *(text for pair in spec.query + spec.headers for text in pair)]
    try:
        "".join(texts).encode("utf-8")
        if spec.body is not None:
            spec.body.encode()
    except UnicodeEncodeError as exc:
        bad = exc.object[exc.start : exc.end]
        raise UsageError(
            f"The request holds text that is not valid Unicode ({bad!r}); check the values "
            "given with {{ }}."
        ) from None


def _check_options(options: CallOptions) -> None:
    if options.json and options.raw:
        raise UsageError("--json and --raw exclude each other: choose one.")
    if options.quiet and options.verbose:
        raise UsageError("-q/--quiet and -v/--verbose exclude each other: choose one.")


def _split(template: Template, separator: str) -> list[Template]:
    """Split at ``separator`` in literal text only."""
    parts: list[list[Piece]] = [[]]
    for piece in template:
        if isinstance(piece, str):
            first, *more = piece.split(separator)
            parts[-1].append(first)
            parts.extend([text] for text in more)
        else:
            parts[-1].append(piece)
    return [join(part) for part in parts]


def _partition(template: Template, separator: str) -> tuple[Template, Template]:
    """Split at the first ``separator`` in literal text; the second part may be empty."""
    head, *tail = _split(template, separator)
    rest: list[Piece] = []
    for index, part in enumerate(tail):
        if index:
            rest.append(separator)
        rest.extend(part)
    return head, join(rest)


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
        options = _COMMAND_OPTIONS.get(words[0], ())
        return starting([n for o in options for n in o.names]) if current.startswith("-") else []
    table = {name: option for option in _REQUEST_OPTIONS for name in option.names}
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


def _takes_value(word: str, table: Mapping[str, _Option]) -> bool:
    return word in table and table[word].kind not in ("flag", "export")
