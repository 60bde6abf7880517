"""Python values in a %orange request: ``{{ expr }}`` anywhere, ``{name}`` in a path.

A request's text is split into a *template*: literal text, ``Expr`` pieces to evaluate in
the person's namespace, and ``Verbatim`` pieces (an escaped ``\\{{``) that no later step may
reinterpret. Each value is then encoded for where it stands:

=================  ==============================================================
where              encoding
=================  ==============================================================
path segment       ``quote(str(value), safe="")``: ``a/b&c`` → ``a%2Fb%26c``
query, header,     ``str(value)`` as is (the HTTP client encodes query values;
field, text body   the parser refuses line breaks in header values)
form body          ``quote_plus(str(value))``
JSON               ``json.dumps(value)``: strings get quotes, lists become arrays,
                   ``None`` → ``null``; inside a JSON string, the escaped text alone
=================  ==============================================================

``\\{{`` stands for a literal ``{{``; a ``}}`` that closes no expression is literal.
"""

from __future__ import annotations

import ast
import builtins
import json
import keyword
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import CodeType
from typing import Any, Literal, Union
from urllib.parse import quote, quote_plus

from ..errors import UsageError


@dataclass(frozen=True)
class Expr:
    """A ``{{ expr }}`` (or, with ``single``, a path's ``{name}``) to evaluate."""

    source: str
    code: CodeType
    names: tuple[str, ...]  # free names, in order of appearance
    single: bool = False

    def __str__(self) -> str:
        return f"{{{self.source}}}" if self.single else f"{{{{ {self.source} }}}}"


@dataclass(frozen=True)
class Verbatim:
    """Literal text that later steps must not split or reinterpret."""

    text: str

    def __str__(self) -> str:
        return "\\{{" if self.text == "{{" else self.text


Piece = Union[str, Expr, Verbatim]
Template = tuple[Piece, ...]
Context = Literal["segment", "raw", "form"]

_OPEN = re.compile(r"\\\{\{|\{\{")


def show(template: Template) -> str:
    """The template as the person wrote it, for error messages."""
    return "".join(str(piece) for piece in template)


def literal(template: Template) -> str | None:
    """The text of a template that holds no expression, else ``None``."""
    parts = []
    for piece in template:
        if isinstance(piece, Expr):
            return None
        parts.append(piece if isinstance(piece, str) else piece.text)
    return "".join(parts)


def join(pieces: Iterable[Piece]) -> Template:
    """Pieces as a template, adjacent plain strings merged and empty ones dropped."""
    out: list[Piece] = []
    for piece in pieces:
        if isinstance(piece, str):
            if not piece:
                continue
            if out and isinstance(out[-1], str):
                out[-1] += piece
                continue
        out.append(piece)
    return tuple(out)


def split_at(template: Template, separator: str) -> list[Template]:
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


def partition_at(template: Template, separator: str) -> tuple[Template, Template]:
    """Split at the first ``separator`` in literal text; the second part may be empty."""
    head, *tail = split_at(template, separator)
    rest: list[Piece] = []
    for index, part in enumerate(tail):
        if index:
            rest.append(separator)
        rest.extend(part)
    return head, join(rest)


def compile_expression(source: str, *, single: bool = False) -> Expr:
    """Compile a Python expression; ``UsageError`` when it is not one."""
    try:
        tree = ast.parse(source.strip(), mode="eval")
        code = compile(tree, "<%orange>", "eval")
    except Exception as exc:  # SyntaxError, ValueError (NUL), RecursionError…
        reason = getattr(exc, "msg", None) or type(exc).__name__
        shown = " ".join(source.split())
        raise UsageError(
            f"`{{{{ {shown} }}}}` is not a Python expression ({reason}). Write an "
            "expression between {{ and }}, or \\{{ for a literal {{."
        ) from None
    return Expr(source.strip(), code, _free_names(tree), single)


def _free_names(tree: ast.AST) -> tuple[str, ...]:
    loaded: dict[str, None] = {}
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                loaded[node.id] = None
            else:
                bound.add(node.id)
        elif isinstance(node, ast.arg):  # lambda parameters
            bound.add(node.arg)
    return tuple(name for name in loaded if name not in bound)


def split_template(text: str) -> Template:
    """Split ``text`` into literal text, ``{{ expr }}`` pieces and escaped ``\\{{``.

    An expression ends at the first ``}}`` that closes a valid Python expression, so
    ``{{ {"a": {"b": 1}} }}`` reads as one dict.
    """
    pieces: list[Piece] = []
    start = 0
    while (match := _OPEN.search(text, start)) is not None:
        pieces.append(text[start : match.start()])
        if match.group() != "{{":
            pieces.append(Verbatim("{{"))
            start = match.end()
            continue
        expr, start = _expression_at(text, match.end())
        pieces.append(expr)
    pieces.append(text[start:])
    return join(pieces)


def _expression_at(text: str, begin: int) -> tuple[Expr, int]:
    """The expression that starts at ``begin`` (just after ``{{``) and the index after its ``}}``."""
    error: UsageError | None = None
    close = text.find("}}", begin)
    while close != -1:
        try:
            return compile_expression(text[begin:close]), close + 2
        except UsageError as exc:
            error = error or exc
        close = text.find("}}", close + 1)
    if error is not None:
        raise error
    opened = " ".join(text[begin : begin + 30].split())
    raise UsageError(
        f"`{{{{ {opened}` is never closed by }}}}. Close the expression, or write "
        "\\{{ for a literal {{."
    )


def split_path_variables(template: Template) -> Template:
    """Turn each ``{name}`` in the literal text of a path into an ``Expr``."""
    pieces: list[Piece] = []
    for piece in template:
        if not isinstance(piece, str):
            pieces.append(piece)
            continue
        start = 0
        for match in re.finditer(r"\{([^{}]*)\}|[{}]", piece):
            pieces.append(piece[start : match.start()])
            name = match.group(1)
            if name is None or not name.isidentifier() or keyword.iskeyword(name):
                raise UsageError(
                    f"`{match.group()}` in the path {show(template)!r}: single braces take a "
                    "variable name such as {zone}; write {{ expr }} for an expression and "
                    "%7B or %7D for a literal brace."
                )
            pieces.append(compile_expression(name, single=True))
            start = match.end()
        pieces.append(piece[start:])
    return join(pieces)


def expressions(templates: Iterable[Template]) -> list[Expr]:
    """Every ``Expr`` in ``templates``, in order."""
    return [piece for template in templates for piece in template if isinstance(piece, Expr)]


class Interpolator:
    """Evaluates a request's expressions in the person's namespace and encodes the results.

    ``evaluate`` receives an expression's source (IPython's ``shell.ev`` fits); without it,
    expressions run with ``eval`` and the namespace as globals, as a cell would.
    """

    def __init__(
        self,
        namespace: Mapping[str, Any] | None = None,
        evaluate: Callable[[str], object] | None = None,
    ) -> None:
        self.namespace: Mapping[str, Any] = {} if namespace is None else namespace
        self._evaluate = evaluate

    def check_defined(self, templates: Iterable[Template]) -> None:
        """Raise one ``UsageError`` listing every undefined name the templates use."""
        known = self._builtin_names()
        missing: dict[str, None] = {}
        for expr in expressions(templates):
            for name in expr.names:
                if name not in self.namespace and name not in known:
                    missing[name] = None
        if missing:
            raise _undefined(missing)

    def _builtin_names(self) -> Mapping[str, Any] | frozenset[str]:
        found = self.namespace.get("__builtins__", builtins)
        if isinstance(found, Mapping):
            return found
        return frozenset(dir(found))

    def value(self, expr: Expr) -> object:
        """The value of ``expr``; any failure becomes a ``UsageError`` naming the expression."""
        if expr.single:
            if expr.source not in self.namespace:
                raise _undefined([expr.source])
            return self.namespace[expr.source]
        try:
            if self._evaluate is not None:
                return self._evaluate(expr.source)
            globals_ = self.namespace if isinstance(self.namespace, dict) else {**self.namespace}
            return eval(expr.code, globals_)  # noqa: S307 - the person's own code, in their kernel
        except NameError as exc:
            raise _undefined([getattr(exc, "name", None) or str(exc)]) from None
        except Exception as exc:
            raise UsageError(f"`{expr}` failed: {_describe(exc)}") from None

    def text(self, expr: Expr) -> str:
        """``str()`` of the value, with a failing ``__str__`` reported as a usage error."""
        value = self.value(expr)
        try:
            return str(value)
        except Exception as exc:
            raise UsageError(f"`{expr}` cannot be shown as text: {_describe(exc)}") from None

    def render(self, template: Template, context: Context) -> str:
        """The template's text with each value encoded for ``context``."""
        out: list[str] = []
        for piece in template:
            if isinstance(piece, str):
                out.append(piece)
            elif isinstance(piece, Verbatim):
                out.append(piece.text)
            elif context == "segment":
                out.append(_encoded(quote, self.text(piece), piece))
            elif context == "form":
                out.append(_encoded(quote_plus, self.text(piece), piece))
            else:
                out.append(self.text(piece))
        return "".join(out)

    def render_json(self, template: Template) -> str:
        """JSON text: values become JSON, or escaped string content inside a JSON string."""
        out: list[str] = []
        in_string = escaped = False
        for piece in template:
            if isinstance(piece, Expr):
                if in_string:  # the escaped text alone, without its own quotes
                    out.append(json.dumps(self.text(piece), ensure_ascii=False)[1:-1])
                else:
                    out.append(self._json(piece))
                continue
            text = piece if isinstance(piece, str) else piece.text
            for char in text:  # track whether the next value lands inside a "string"
                if escaped:
                    escaped = False
                elif char == "\\":
                    escaped = in_string
                elif char == '"':
                    in_string = not in_string
            out.append(text)
        return "".join(out)

    def _json(self, expr: Expr) -> str:
        value = self.value(expr)
        try:
            return json.dumps(value, ensure_ascii=False, allow_nan=False, default=_jsonable)
        except Exception as exc:
            raise UsageError(
                f"`{expr}` gives a {type(value).__name__}, which JSON cannot hold: {_describe(exc)}"
            ) from None


def _encoded(encode: Callable[..., str], text: str, expr: Expr) -> str:
    try:
        return encode(text, safe="")
    except UnicodeEncodeError:
        raise UsageError(f"`{expr}` gives text that is not valid Unicode: {text!r}.") from None


def _jsonable(value: Any) -> Any:
    """Arrays, series and numpy scalars as lists or numbers; dates and times as ISO text."""
    if callable(getattr(value, "tolist", None)):
        return value.tolist()
    if callable(getattr(value, "isoformat", None)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _undefined(names: Iterable[str]) -> UsageError:
    listed = ", ".join(names)
    return UsageError(
        f"Undefined in the request: {listed}. Define it in a cell first, or check the spelling."
    )


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
