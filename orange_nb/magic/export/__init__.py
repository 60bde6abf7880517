"""Export a request as a runnable snippet in many languages, with secrets as placeholders.

``export(ExportRequest(...), "python-requests")`` writes the same method, URL, headers and
body in the chosen language; the access token reads ``YOUR_ACCESS_TOKEN`` and Basic client
credentials ``base64(YOUR_CLIENT_ID:YOUR_CLIENT_SECRET)``. Headers that every client sets
by itself (Host, Content-Length, Connection, Accept-Encoding, httpx's User-Agent) are left
out; repeated headers are joined with ", ".
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from types import MappingProxyType

from ...errors import UsageError
from . import csharp, javascript, jvm, php, python, rust, shell
from .request import ACCESS_TOKEN, CLIENT_SECRET, ExportRequest, Prepared, prepare

__all__ = [
    "ACCESS_TOKEN",
    "ALIASES",
    "CLIENT_SECRET",
    "LANGUAGES",
    "ExportRequest",
    "check_language",
    "export",
    "export_list",
]

_WRITERS: dict[str, tuple[str, Callable[[Prepared], str]]] = {
    "curl": ("curl (shell)", shell.curl),
    "php": ("PHP (cURL extension)", php.curl_extension),
    "csharp": ("C# (HttpClient)", csharp.http_client),
    "kotlin": ("Kotlin (OkHttp)", jvm.kotlin_okhttp),
    "rust": ("Rust (reqwest, blocking)", rust.reqwest_blocking),
    "fetch": ("JavaScript (fetch, browser)", javascript.fetch),
    "jquery": ("JavaScript (jQuery)", javascript.jquery),
    "xhr": ("JavaScript (XMLHttpRequest)", javascript.xhr),
    "java-httpclient": ("Java (java.net.http.HttpClient)", jvm.java_httpclient),
    "java-httpurlconnection": ("Java (HttpURLConnection)", jvm.java_httpurlconnection),
    "java-jsoup": ("Java (jsoup)", jvm.java_jsoup),
    "java-okhttp": ("Java (OkHttp)", jvm.java_okhttp),
    "node-fetch": ("Node.js (node-fetch)", javascript.node_fetch),
    "node-https": ("Node.js (https module)", javascript.node_https),
    "python-requests": ("Python (requests)", python.requests),
    "python-http.client": ("Python (http.client)", python.http_client),
}

LANGUAGES: Mapping[str, str] = MappingProxyType({k: label for k, (label, _) in _WRITERS.items()})
"""Language key → label, in the order ``--export`` lists them."""

ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "shell": "curl",
        "sh": "curl",
        "bash": "curl",
        "python": "python-requests",
        "py": "python-requests",
        "requests": "python-requests",
        "java": "java-httpclient",
        "node": "node-fetch",
        "nodejs": "node-fetch",
        "js": "fetch",
        "javascript": "fetch",
        "cs": "csharp",
        "c#": "csharp",
        "dotnet": "csharp",
        "kt": "kotlin",
        "rs": "rust",
    }
)
"""Common names → language key (``--export python`` is ``--export python-requests``)."""

# What some libraries cannot send at all; better a clear refusal than a snippet that lies.
_METHODS = {
    "java-httpurlconnection": ("GET", "POST", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"),
    "java-jsoup": ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE"),
}
_NO_BODY_WITH_GET = frozenset(
    {"fetch", "node-fetch", "jquery", "xhr", "java-httpurlconnection", "java-okhttp", "kotlin"}
)


def check_language(name: str) -> str:
    """The language key for ``name`` (any case); ``UsageError`` listing them when unknown."""
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    if key in LANGUAGES:
        return key
    close = difflib.get_close_matches(key, [*LANGUAGES, *ALIASES], n=1)
    hint = f" Did you mean {close[0]}?" if close else ""
    raise UsageError(
        f"Unknown export language {name!r}.{hint} Choose one of: {', '.join(LANGUAGES)}."
    )


def export(request: ExportRequest, language: str) -> str:
    """``request`` as a runnable snippet in ``language`` (a key of ``LANGUAGES``)."""
    key = check_language(language)
    prepared = prepare(request)
    label, writer = _WRITERS[key]
    if key in _METHODS and prepared.method not in _METHODS[key]:
        raise UsageError(
            f"{label} cannot send {prepared.method}; choose another language, such as curl."
        )
    if (
        key in _NO_BODY_WITH_GET
        and prepared.body is not None
        and prepared.method in ("GET", "HEAD")
    ):
        raise UsageError(
            f"{label} cannot send a body with {prepared.method}; choose another language, "
            "such as curl."
        )
    return writer(prepared)


def export_list() -> str:
    """The languages ``--export LANG`` accepts, one a line, for ``--export`` alone."""
    width = max(map(len, LANGUAGES))
    lines = []
    for key, label in LANGUAGES.items():
        also = [alias for alias, target in ALIASES.items() if target == key]
        lines.append(f"  {key:<{width}}  {label}" + (f" (also: {', '.join(also)})" if also else ""))
    return "\n".join(["Export the request as code with --export LANG, LANG one of:", *lines])
