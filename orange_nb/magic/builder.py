"""Build one ``CallSpec`` from a request's words and a ``%%orange`` cell."""

from __future__ import annotations

import difflib
import re

from ..errors import UsageError
from .bodies import cell_body, fields_body
from .cells import cell_layout
from .checks import TOKEN, check_unicode, header, header_value
from .interpolate import Interpolator, Template, literal, partition_at, show, split_template
from .items import Item, read_item
from .options import REQUEST_OPTIONS, check_options, read_options
from .paths import path_template, query_pairs, render_path
from .specs import METHODS, CallOptions, CallSpec
from .words import split_words

_HTTP_VERSION = re.compile(r"HTTP/\d(\.\d)?")


class RequestBuilder:
    """Builds one ``CallSpec``: structure first, then undefined names, then values."""

    def __init__(self, interpolator: Interpolator) -> None:
        self.values = interpolator

    def build(self, words: list[Template], cell: str | None) -> CallSpec:
        """The call that ``words`` (the line's) and ``cell`` (or ``None``) describe."""
        where = "a request"
        options, positional = read_options(words, REQUEST_OPTIONS, where)
        layout = None
        if cell is not None:
            layout = cell_layout(cell, need_request_line=_parts(positional)[1] is None)
            if layout.request_line is not None:
                extra = split_words(layout.request_line)
                if extra and _HTTP_VERSION.fullmatch(literal(extra[-1]) or ""):
                    extra.pop()  # "POST /x HTTP/1.1", as in a raw request line
                more, extra_positional = read_options(extra, REQUEST_OPTIONS, where)
                options.update(more)
                positional += extra_positional
        method, path_word, item_words = _parts(positional)
        if path_word is None:
            raise UsageError(_missing_path(method))
        path = path_template(path_word)
        path_part, query_part = partition_at(path, "?")
        items = [read_item(word) for word in item_words]
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

        path_text, embedded = render_path(self.values, path_part)
        query = embedded + query_pairs(self.values, query_part)
        headers: list[tuple[str, str]] = []
        fields: list[tuple[Item, str]] = []
        for item in items:
            name = self.values.render(item.name, "raw")
            if item.separator == "==":
                if not name:
                    raise UsageError(f"Query item {show(item.source)!r} has no name.")
                query.append((name, self.values.render(item.value, "raw")))
            elif item.separator == ":":
                headers.append(header(name, self.values.render(item.value, "raw"), item.source))
            else:
                if not name:
                    raise UsageError(f"Body item {show(item.source)!r} has no field name.")
                fields.append((item, name))
        for name, value in cell_headers:
            headers.append((name, header_value(name, self.values.render(value, "raw"))))

        content_type = next(
            (value for name, value in reversed(headers) if name.lower() == "content-type"), None
        )
        body = fields_body(self.values, fields, bool(options.pop("form", False)), content_type)
        if body_template is not None:
            if body is not None:
                raise UsageError(
                    "The request has body items on the %%orange line and a body in the cell: "
                    "give the body in one place."
                )
            body = cell_body(self.values, body_template, content_type)

        call_options = CallOptions(**options)
        check_options(call_options)
        spec = CallSpec(
            method=method or ("POST" if body is not None else "GET"),
            path=path_text,
            query=tuple(query),
            headers=tuple(headers),
            body=body,
            options=call_options,
        )
        check_unicode(spec)
        return spec


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


def _is_method(word: str, followed: bool) -> bool:
    if word.upper() in METHODS:
        return True
    return followed and TOKEN.fullmatch(word) is not None and word.isupper()


def _missing_path(method: str | None) -> str:
    if method:
        return f"{method} needs a path: `%orange {method} /sandbox/mobility/v1/zones`."
    return (
        "Nothing to request: write `%orange GET /path`, `%orange login` or `%orange status`; "
        "in a %%orange cell, put METHOD PATH on the first line."
    )
