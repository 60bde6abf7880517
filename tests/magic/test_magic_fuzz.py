"""Any %orange line or cell gives a Command, a CallSpec or a UsageError, never another exception."""

from __future__ import annotations

import os
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orange_nb.errors import UsageError
from orange_nb.magic.syntax import CallSpec, Command, parse

EXAMPLES = settings(
    max_examples=int(os.environ.get("ORANGE_FUZZ_EXAMPLES", "2000")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,  # nothing written into the work tree
)
# No builtins: random text must not reach open(), input() or exit().
NAMESPACE = {"__builtins__": {}, "zone": "a/b", "start": "2026-01-01", "tags": ["x", None], "n": 3}

FRAGMENTS = [
    "GET", "post", "PROPFIND", "login", "status", "/sandbox/mobility/v1/zones", "/z/{zone}",
    "https://h.example/x?a=1", "{{ zone }}", "{{ tags }}", "{{", "}}", "{", "}", "\\{{",
    "q==1", "X-A:b", "a=b", "a:=[1,2]", "a:={{ tags }}", "'a b'", "\\", "$x",
    "-o", "df", "--paginate", "--max-pages", "5", "--export", "curl", "--limit=2",
    "--timeout", "--json", "--raw", "-q", "-v", "--form", "--records", "a.b", "#", "?",
    "&", "==", ":=", "\ue000", "\ue0010\ue001", "HTTP/1.1", "Content-Type:text/plain",
    "Content-Type: application/json", '{"a": {{ tags }}}', '["{{ zone }}"]', "X-A: {{ n }}",
]  # fmt: skip


# Letters, separators, quotes, escapes, controls, unicode, the parser's private-use marks.
ALPHABET = "aZ9 _-./:=?&#%{}[]\"'\\$@,;\t\r\n\x00\x7fé€😀\u2028\ue000\ue001"


def from_bytes(data: bytes) -> str:
    """Text built from bytes: mostly grammar fragments (half of them ending a word), some
    single characters.

    Drawing bytes is far cheaper than drawing lists of strings, which matters at thousands
    of runs.
    """
    out = []
    for byte in data:
        kind, pick = byte & 3, byte >> 2
        if kind == 0:
            out.append(ALPHABET[pick % len(ALPHABET)])
        else:
            out.append(FRAGMENTS[pick % len(FRAGMENTS)] + (" " if kind > 1 else ""))
    return "".join(out)


def line_and_cell(data: bytes) -> tuple[str, str | None]:
    """A 0xFF byte ends the line and starts a cell; without one there is no cell.

    A first byte of 0 or 1 opens the line with a request, so items and options get parsed.
    """
    line, cut, cell = data.partition(b"\xff")
    start = "GET /x " if line[:1] in (b"\x00", b"\x01") else ""  # helps reach a full request
    return start + from_bytes(line[1:]), from_bytes(cell) if cut else None


# One draw per example: a second strategy would double the fuzzer's own cost.
REQUESTS = st.binary(max_size=100).map(line_and_cell)


def check(result: Command | CallSpec) -> None:
    """What the magic may rely on in every result."""
    if isinstance(result, Command):
        assert result.name in ("login", "status", "logout", "refresh")
        return
    assert re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", result.method)
    assert result.path.startswith("/") or re.match(r"https?://", result.path, re.IGNORECASE)
    assert "?" not in result.path and "#" not in result.path
    for name, value in result.headers:
        assert name and value.isascii() and not re.search(r"[\r\n\x00]", value)
    if result.body is not None:
        result.body.encode()


@EXAMPLES
@given(request=REQUESTS)
def test_fuzz_any_line_and_cell(request: tuple[str, str | None]) -> None:
    line, cell = request
    try:
        result = parse(line, cell, namespace=NAMESPACE)
    except UsageError as exc:
        assert str(exc).strip()
        return
    check(result)
