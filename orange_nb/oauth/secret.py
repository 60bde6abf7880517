"""``Secret``: a token, code, PKCE verifier or client secret that never prints itself.

Objects that *hold* such values keep them as ``Secret``, so a repr, a log line, a widget
state or a verbose traceback (``%xmode Verbose`` shows every local's repr) cannot show
one. The raw text comes out only through :meth:`Secret.reveal`, at the place it is sent.
"""

from __future__ import annotations

import hmac
from typing import Any, NoReturn

from ..errors import SecretNotPicklable

REDACTED = "********"


class Secret:
    """A secret string: ``repr`` is ``Secret('…')``, ``str`` and formatting give ``********``.

    Equal to another ``Secret`` or ``str`` of the same text (compared with
    ``hmac.compare_digest``, so timing says nothing of where they differ); hashes like
    that text, so it works as a set member or dict key. Pickling is refused: a pickle is a
    file, and secrets are written only by a token store, on purpose.
    """

    __slots__ = ("_value",)
    _value: str

    def __init__(self, value: str | Secret) -> None:
        if isinstance(value, Secret):
            value = value._value
        if not isinstance(value, str):
            raise TypeError(f"a Secret holds text, not {type(value).__name__}")
        object.__setattr__(self, "_value", value)

    @classmethod
    def of(cls, value: str | Secret) -> Secret:
        """``value`` as a ``Secret`` (the same object when it already is one)."""
        return value if isinstance(value, Secret) else cls(value)

    def reveal(self) -> str:
        """The raw text. Call it only where the value is sent (a header, a form field)."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('…')"

    def __str__(self) -> str:
        return REDACTED

    def __format__(self, spec: str) -> str:
        return format(REDACTED, spec)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            other = other._value
        if not isinstance(other, str):
            return NotImplemented
        return hmac.compare_digest(self._value.encode("utf-8"), other.encode("utf-8"))

    def __hash__(self) -> int:
        return hash(self._value)  # the same as the text's, as __eq__ accepts text

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError("a Secret cannot be changed")

    def __copy__(self) -> Secret:
        return self  # immutable: copies (dataclasses.replace, copy.deepcopy) share it

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        return self

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        raise SecretNotPicklable(
            "A secret (token, code or client secret) cannot be pickled: it would end up in a "
            "file or another process. Keep the session object instead, or save the token with "
            "a token store."
        )


def reveal(value: str | Secret | None) -> str | None:
    """The raw text of ``value``, whether a ``Secret`` or already text (``None`` stays ``None``)."""
    return value.reveal() if isinstance(value, Secret) else value
