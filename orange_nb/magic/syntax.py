"""Read a ``%orange`` line or ``%%orange`` cell into a ``Command`` or a ``CallSpec``.

This is the public entry; the work is done by one module a job (see the end).

::

    %orange login [--sandbox] [--scopes "openid …"] [--wait] [--timeout S]
    %orange login --ciba tel:+33… [--message TEXT] [--wait]
    %orange status | logout | refresh | use VAR | keys new [--out DIR] [--alg ALG]
    %orange [METHOD] PATH [name==value …] [Header:value …] [field=value …] [field:=json …] [options]

    %%orange [options] [METHOD PATH items…]
    POST /some/api/v1/things?dryRun=true      ← first line: [METHOD] PATH, unless on the magic line
    X-Correlation-Id: {{ run_id }}            ← header lines
                                              ← a blank line
    {"name": {{ name }}}                      ← the body, to the end of the cell

Rules:

- Words split as a POSIX shell would (``shlex``); ``{{ expr }}`` is read before that, so
  its spaces and quotes need no quoting, and ``$`` is always literal.
- METHOD is the first word when it is a known method in any case (``get`` → ``GET``) or,
  followed by another word, an all-uppercase HTTP token (``PROPFIND``) that is no near
  miss of a known one (``GETT`` is an error); any other first word is PATH. METHOD defaults to POST when there is a body (field items or a cell
  body), else GET.
- PATH starts with ``/`` (joined to the session's API base) or ``http(s)://``. Its
  ``?query`` joins ``CallSpec.query``. ``{name}`` takes a variable and ``{{ expr }}`` an
  expression, each quoted as one path segment (``/``, ``?``, ``#``, ``\\`` included); a value
  that leaves its segment empty, ``.`` or ``..`` is refused, as it would change the path.
  An expression that opens PATH is used as it is (a whole URL, such as a next-page link).
  A URL's host and port are checked before any request.
- Items, by their first separator (the longest at one position): ``name==value`` query,
  ``Header:value`` header, ``field=value`` string field, ``field:=json`` JSON field.
  A backslash escapes a separator (or itself) in the name: ``a\\=b=1`` is field ``a=b``.
  Fields build a JSON object; with ``--form`` they are sent form-encoded instead.
- Options may stand anywhere; ``--opt=value`` also works. ``--export`` takes the next word
  as its language when it looks like one.
- A cell's header lines are ``Name: value`` lines; a blank line, or a line that is not a
  header, starts the body. The body is JSON when its Content-Type says so or, with no
  Content-Type, when it starts with ``{``, ``[`` or an expression; otherwise it is text.
- Values are encoded for where they stand (see ``orange_nb.magic.interpolate``); ``\\{{`` is a
  literal ``{{``.

Modules: ``words`` (shell-like splitting), ``options`` (the option table, parser and
checks), ``items`` (the item grammar), ``cells`` (a cell's layout), ``paths`` (PATH, its
query, URL checks), ``bodies`` (body kinds, the one encoder), ``checks`` (headers,
Unicode), ``builder`` (a ``CallSpec`` from all of these), ``completion`` (tab completion),
``specs`` (the dataclasses).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

from ..errors import UsageError
from .bodies import Body, FormBody, JsonBody, TextBody
from .builder import RequestBuilder
from .completion import completions
from .interpolate import Interpolator, Template, literal, show
from .options import COMMAND_OPTIONS, read_options, usage_hint
from .specs import COMMANDS, METHODS, CallOptions, CallSpec, Command, CommandName
from .words import split_words

__all__ = [
    "COMMANDS",
    "METHODS",
    "USAGE",
    "Body",
    "CallOptions",
    "CallSpec",
    "Command",
    "CommandName",
    "FormBody",
    "JsonBody",
    "TextBody",
    "completions",
    "parse",
]

USAGE = """\
%orange login [--sandbox] [--scopes "openid …"] [--wait] [--timeout S]
%orange login --ciba tel:+33… [--message TEXT] [--wait]   (sign in by phone: CIBA)
%orange status | logout | refresh | use VAR | keys new [--out DIR] [--alg ES256]
%orange [METHOD] PATH [name==value …] [Header:value …] [field=value …] [field:=json …] [options]
options: -o/--output VAR, --show, --json, --raw, --records PATH, --paginate, --max-pages N,
         --limit N, -q/--quiet, -v/--verbose, --dry-run, --timeout S, --export [LANG], -f/--form,
         --polars, --pandas (the frame kind; default `%config OrangeMagic.dataframe`, pandas)
--dry-run and --export LANG send nothing: they print the request (curl, or LANG code) with
the token as a placeholder; --export alone lists the languages. `%orange use VAR` makes the
Orange session in VAR the one %orange uses (`-`: the one before)."""


def parse(
    line: str,
    cell: str | None = None,
    *,
    namespace: Mapping[str, Any] | None = None,
    evaluate: Callable[[str], object] | None = None,
) -> Command | CallSpec:
    """Read a ``%orange`` line (and a ``%%orange`` cell's body) into what to do.

    ``line`` is the raw text after ``%orange`` (IPython's own ``$``/``{}`` expansion off);
    ``cell`` is the cell's body for ``%%orange``, else ``None``. Expressions are evaluated
    with ``evaluate(source)`` when given (IPython's ``shell.ev``), else with ``eval`` and
    ``namespace`` as globals; ``{name}`` reads ``namespace``. Raises ``UsageError`` (and
    nothing else) when the request cannot be understood or an expression fails.
    """
    words = split_words(line)
    first = literal(words[0]) if words else None
    if first in COMMANDS:
        return _command(first, words[1:], cell)
    return RequestBuilder(Interpolator(namespace, evaluate)).build(words, cell)


def _command(name: str, words: list[Template], cell: str | None) -> Command:
    where = f"`%orange {name}`"
    if cell is not None and cell.strip():
        raise UsageError(f"{where} takes no cell body: run it as a line magic.")
    if name == "use":  # before the options: `-` is its word, not an option
        target = literal(words[0]) if len(words) == 1 else None
        if target is None or not (target == "-" or target.isidentifier()):
            raise UsageError(
                "`%orange use` takes one variable holding an `Orange` session "
                "(`%orange use orange`), or `-` for the session it used before."
            )
        return Command("use", target=target)
    values, positional = read_options(words, COMMAND_OPTIONS.get(name, ()), where)
    if name == "keys":
        if [literal(word) for word in positional] != ["new"]:
            raise UsageError(
                "`%orange keys new [--out DIR] [--alg RS256|PS256|ES256]` makes a key pair for "
                "`private_key_jwt` and prints the public JWK set to register at Orange."
            )
        return Command("keys", target="new", **values)
    if positional:
        raise UsageError(f"{where} takes no {show(positional[0])!r}.{usage_hint(name)}")
    return Command(cast(CommandName, name), **values)
