"""What a ``%orange`` line or cell reads into: a ``Command`` or a ``CallSpec``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .bodies import Body

CommandName = Literal["login", "status", "logout", "refresh", "use", "keys"]
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
COMMANDS: tuple[CommandName, ...] = ("login", "status", "logout", "refresh", "use", "keys")


@dataclass(frozen=True)
class Command:
    """``%orange login | status | logout | refresh | use VAR | keys new`` and their options.

    ``target``: for ``use``, the variable holding the session to use, or ``-`` for the one
    used before; for ``keys``, ``new``. ``ciba``: sign in by phone (the login hint) with
    ``message`` shown on it; ``out`` and ``alg``: where and which key pair ``keys new`` makes.
    """

    name: CommandName
    target: str | None = None
    sandbox: bool = False
    scopes: str | None = None
    wait: bool = False
    timeout: float | None = None
    ciba: str | None = None
    message: str | None = None
    out: str | None = None
    alg: str | None = None


@dataclass(frozen=True)
class CallOptions:
    """How to make and show one call; ``export`` is ``""`` to list the languages."""

    output: str | None = None
    show: bool = False
    json: bool = False
    raw: bool = False
    records: str | None = None
    paginate: bool = False
    max_pages: int = 20
    limit: int | None = None
    quiet: bool = False
    verbose: bool = False
    dry_run: bool = False
    timeout: float | None = None
    export: str | None = None
    polars: bool = False  # the frame kind for this call; neither: OrangeMagic.dataframe
    pandas: bool = False


@dataclass(frozen=True)
class CallSpec:
    """One API call, every value interpolated and encoded.

    ``path`` starts with ``/`` (relative to the API base) or is an absolute URL, and holds
    no query: query parameters are in ``query``, repeats and order kept, values not yet
    URL-encoded (the HTTP client encodes them).
    """

    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    body: Body | None = None
    options: CallOptions = field(default_factory=CallOptions)
