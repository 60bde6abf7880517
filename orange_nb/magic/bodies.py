"""Request bodies: the three kinds, the one encoder to bytes, and how items or a cell make one.

``encode`` is the only place a body becomes the bytes sent: the parser's Unicode check, the
request the magic makes and the ``--export``/``--dry-run`` snippet (built from that request)
all go through it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Union, cast
from urllib.parse import urlencode

from ..errors import UsageError
from .interpolate import Expr, Interpolator, Template, show
from .items import Item

FORM_TYPE = "application/x-www-form-urlencoded"
_TEXT_TYPE = "text/plain; charset=utf-8"
_JSON_TYPE = re.compile(r"[^;]*[/+]json\s*(;.*)?", re.IGNORECASE | re.DOTALL)


class _Encodes:
    def encode(self) -> bytes:
        """The bytes to send."""
        return encode(cast("Body", self))


@dataclass(frozen=True)
class JsonBody(_Encodes):
    """A JSON body: ``value`` is the parsed JSON (dict, list, str, number, bool or None)."""

    value: Any
    content_type: str = "application/json"


@dataclass(frozen=True)
class FormBody(_Encodes):
    """Form fields (``--form``), repeats kept, sent ``application/x-www-form-urlencoded``."""

    fields: tuple[tuple[str, str], ...]
    content_type: str = FORM_TYPE


@dataclass(frozen=True)
class TextBody(_Encodes):
    """A body sent as written (after interpolation), with its content type."""

    text: str
    content_type: str = _TEXT_TYPE


Body = Union[JsonBody, FormBody, TextBody]


def encode(body: Body) -> bytes:
    """The bytes ``body`` is sent as (its Content-Type is ``body.content_type``)."""
    if isinstance(body, JsonBody):
        return json.dumps(body.value, ensure_ascii=False).encode("utf-8")
    if isinstance(body, FormBody):
        return urlencode(body.fields).encode("ascii")
    return body.text.encode("utf-8")


def fields_body(
    values: Interpolator, fields: list[tuple[Item, str]], form: bool, content_type: str | None
) -> Body | None:
    """The body that ``field=value`` / ``field:=json`` items make: JSON, or a form."""
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
            pairs.append((name, values.render(item.value, "raw")))
        return FormBody(tuple(pairs), content_type or FORM_TYPE)
    obj: dict[str, Any] = {}
    for item, name in fields:
        if name in obj:
            raise UsageError(f"Body field {name!r} is given twice; give it once.")
        if item.separator == "=":
            obj[name] = values.render(item.value, "raw")
        else:
            obj[name] = _json(values.render_json(item.value), f"Item {show(item.source)!r}")
    return JsonBody(obj, content_type or "application/json")


def cell_body(values: Interpolator, template: Template, content_type: str | None) -> Body:
    """A cell's body: JSON, form text or text, by its Content-Type or how it starts."""
    if content_type is not None and _JSON_TYPE.fullmatch(content_type):
        kind = "json"
    elif content_type is not None:
        kind = "form" if content_type.lower().startswith(FORM_TYPE) else "text"
    else:
        head = template[0]
        starts_json = isinstance(head, Expr) or (
            isinstance(head, str) and head.lstrip()[:1] in ("{", "[")
        )
        kind = "json" if starts_json else "text"
    if kind == "json":
        value = _json(values.render_json(template), "The cell body")
        return JsonBody(value, content_type or "application/json")
    if kind == "form":
        return TextBody(values.render(template, "form"), content_type or FORM_TYPE)
    return TextBody(values.render(template, "raw"), content_type or _TEXT_TYPE)


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
