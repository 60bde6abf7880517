"""JavaScript in the browser (fetch, jQuery, XMLHttpRequest) and in Node.js (node-fetch, https)."""

from __future__ import annotations

from collections.abc import Sequence

from . import literals as q
from .request import Prepared


def _object(entries: Sequence[tuple[str, str]], indent: str) -> list[str]:
    """``{ "key": value, … }`` over several lines; values are already JavaScript."""
    inner = indent + "  "
    return ["{", *(f"{inner}{q.javascript(k)}: {v}," for k, v in entries), f"{indent}}}"]


def _fetch_options(p: Prepared) -> list[str]:
    lines = ["{", f"  method: {q.javascript(p.method)},"]
    if p.headers:
        headers = _object([(n, q.javascript(v)) for n, v in p.headers], "  ")
        lines += [f"  headers: {headers[0]}", *headers[1:-1], headers[-1] + ","]
    if p.body is not None:
        lines.append(f"  body: {q.javascript(p.body)},")
    return [*lines, "}"]


def fetch(p: Prepared) -> str:
    """The browser's ``fetch``."""
    options = _fetch_options(p)
    return "\n".join(
        [
            f"fetch({q.javascript(p.url)}, {options[0]}",
            *options[1:-1],
            options[-1] + ")",
            "  .then((response) => {",
            "    console.log(response.status);",
            "    return response.text();",
            "  })",
            "  .then((text) => console.log(text))",
            "  .catch((error) => console.error(error));",
        ]
    )


def node_fetch(p: Prepared) -> str:
    """``node-fetch`` in an ES module (top-level await: save as ``.mjs``)."""
    options = _fetch_options(p)
    return "\n".join(
        [
            'import fetch from "node-fetch";',
            "",
            f"const response = await fetch({q.javascript(p.url)}, {options[0]}",
            *options[1:-1],
            options[-1] + ");",
            "console.log(response.status);",
            "console.log(await response.text());",
        ]
    )


def node_https(p: Prepared) -> str:
    """Node's own ``https`` module (``http`` for an ``http://`` URL)."""
    module = "https" if p.scheme == "https" else "http"
    entries = [(n, q.javascript(v)) for n, v in p.headers]
    lines = [f"const {module} = require({q.javascript(module)});", ""]
    if p.body is not None:
        lines.append(f"const body = {q.javascript(p.body)};")
        entries.append(("Content-Length", "Buffer.byteLength(body)"))  # else chunked
    headers = _object(entries, "  ")
    lines += [
        "const options = {",
        f"  method: {q.javascript(p.method)},",
        f"  headers: {headers[0]}",
        *headers[1:-1],
        headers[-1] + ",",
        "};",
        "",
        f"const request = {module}.request({q.javascript(p.url)}, options, (response) => {{",
        '  let data = "";',
        '  response.setEncoding("utf8");',
        '  response.on("data", (chunk) => {',
        "    data += chunk;",
        "  });",
        '  response.on("end", () => {',
        "    console.log(response.statusCode);",
        "    console.log(data);",
        "  });",
        "});",
        'request.on("error", (error) => console.error(error));',
    ]
    if p.body is not None:
        lines.append("request.write(body);")
    lines.append("request.end();")
    return "\n".join(lines)


def jquery(p: Prepared) -> str:
    """``$.ajax``; the Content-Type goes in ``contentType``, the body is not reprocessed."""
    lines = ["$.ajax({", f"  url: {q.javascript(p.url)},", f"  method: {q.javascript(p.method)},"]
    others = p.headers_except("Content-Type")
    if others:
        headers = _object([(n, q.javascript(v)) for n, v in others], "  ")
        lines += [f"  headers: {headers[0]}", *headers[1:-1], headers[-1] + ","]
    if p.content_type is not None:
        lines.append(f"  contentType: {q.javascript(p.content_type)},")
    if p.body is not None:
        lines += [f"  data: {q.javascript(p.body)},", "  processData: false,"]
    lines += [
        "})",
        "  .done((data, status, xhr) => console.log(xhr.status, data))",
        "  .fail((xhr) => console.error(xhr.status, xhr.responseText));",
    ]
    return "\n".join(lines)


def xhr(p: Prepared) -> str:
    """``XMLHttpRequest``."""
    lines = [
        "const xhr = new XMLHttpRequest();",
        f"xhr.open({q.javascript(p.method)}, {q.javascript(p.url)});",
        *(f"xhr.setRequestHeader({q.javascript(n)}, {q.javascript(v)});" for n, v in p.headers),
        "xhr.onload = () => {",
        "  console.log(xhr.status);",
        "  console.log(xhr.responseText);",
        "};",
        'xhr.onerror = () => console.error("The request failed.");',
        f"xhr.send({q.javascript(p.body) if p.body is not None else ''});",
    ]
    return "\n".join(lines)
