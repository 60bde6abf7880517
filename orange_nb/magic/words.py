"""Split a ``%orange`` line into words as a POSIX shell would, ``{{ expr }}`` kept whole."""

from __future__ import annotations

import re
import shlex

from ..errors import UsageError
from .interpolate import Expr, Piece, Template, Verbatim, join, split_template

_SLOT = re.compile("\ue000(\\d+)\ue001")  # private-use marks hold expressions through shlex


def split_words(line: str) -> list[Template]:
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
