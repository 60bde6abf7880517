"""Python: requests and the standard library's http.client."""

from __future__ import annotations

from . import literals as q
from .request import Prepared


def _headers_dict(p: Prepared) -> list[str]:
    if not p.headers:
        return []
    return ["headers = {", *(f"    {q.python(n)}: {q.python(v)}," for n, v in p.headers), "}"]


def requests(p: Prepared) -> str:
    """``requests.request``; the body is sent as UTF-8 bytes, as it was."""
    lines = ["import requests", "", f"url = {q.python(p.url)}", *_headers_dict(p)]
    arguments = [q.python(p.method), "url"]
    if p.headers:
        arguments.append("headers=headers")
    if p.body is not None:
        lines.append(f"payload = {q.python(p.body)}")
        arguments.append('data=payload.encode("utf-8")')
    lines += [
        "",
        f"response = requests.request({', '.join(arguments)})",
        "print(response.status_code)",
        "print(response.text)",
    ]
    return "\n".join(lines)


def http_client(p: Prepared) -> str:
    """``http.client``: nothing to install."""
    kind = "HTTPSConnection" if p.scheme == "https" else "HTTPConnection"
    lines = [
        "import http.client",
        "",
        f"connection = http.client.{kind}({q.python(p.host)})",
        *_headers_dict(p),
    ]
    arguments = [q.python(p.method), q.python(p.target)]
    if p.body is not None:
        lines.append(f"payload = {q.python(p.body)}")
        arguments.append('body=payload.encode("utf-8")')
    if p.headers:
        arguments.append("headers=headers")
    lines += [
        "",
        f"connection.request({', '.join(arguments)})",
        "response = connection.getresponse()",
        "print(response.status, response.reason)",
        'print(response.read().decode("utf-8", "replace"))',
        "connection.close()",
    ]
    return "\n".join(lines)
