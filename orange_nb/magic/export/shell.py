"""curl on a POSIX shell."""

from __future__ import annotations

from . import literals as q
from .request import Prepared


def curl(p: Prepared) -> str:
    """``curl`` with one option a line; the body is sent byte for byte (``--data-raw``)."""
    first = ["curl"]
    if p.method == "HEAD":
        first.append("--head")  # -X HEAD would wait for a body that never comes
    elif p.method != "GET" or p.body is not None:
        first += ["-X", q.shell(p.method)]
    first.append(q.shell(p.url))
    lines = [" ".join(first)]
    lines += [f"  -H {q.shell(line)}" for line in p.header_lines()]
    if p.body is not None:
        lines.append(f"  --data-raw {q.shell(p.body)}")
    return " \\\n".join(lines)
