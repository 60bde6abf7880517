"""How expected errors look in IPython: one short paragraph, no traceback, and the cell fails.

Expected errors are ``OrangeNBError`` and a ``TimeoutError`` that orange_nb itself raised (a
login wait nobody finished); the same handler runs in a terminal IPython and in a Jupyter
kernel (ipykernel runs cells through the same ``run_code``), so both read alike.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from .errors import OrangeNBError

_PACKAGE = __name__.rpartition(".")[0]


def _raised_here(tb: TracebackType | None) -> bool:
    """Whether the innermost frame of ``tb`` is orange_nb's own code (not the user's, not a library's)."""
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    module = str(tb.tb_frame.f_globals.get("__name__", ""))
    return module == _PACKAGE or module.startswith(_PACKAGE + ".")


def _short_text(etype: type, value: BaseException) -> str:
    """The one paragraph an expected error shows: its class and its message."""
    message = str(value)
    return f"{etype.__name__}: {message}" if message else etype.__name__


def _show_short(
    shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None
) -> Any:
    # A TimeoutError raised by user code or a library is no expected error: its traceback
    # shows as IPython would show it.
    if not issubclass(etype, OrangeNBError) and not _raised_here(tb):
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        return None
    # Returning a structured traceback of one line makes IPython print just that; the cell
    # still counts as failed, so "Run All" and nbval stop here.
    line = _short_text(etype, value)
    plain = str(getattr(shell, "colors", "")).lower() == "nocolor"
    stb = [line if plain else f"\x1b[0;31m{line}\x1b[0m"]
    shell._showtraceback(etype, value, stb)
    return stb


def install_error_display(shell: Any) -> None:
    """Show orange_nb's expected errors (and ``TimeoutError`` from a login wait) without internals.

    Leaves the shell alone when something else already handles custom exceptions.
    """
    if shell is None or getattr(shell, "_orange_nb_errors", False):
        return
    if shell.custom_exceptions not in ((), None):
        return
    shell.set_custom_exc((OrangeNBError, TimeoutError), _show_short)
    shell._orange_nb_errors = True


def running_shell() -> Any:
    """The running IPython shell, without importing IPython when it is not loaded."""
    import sys

    if "IPython" not in sys.modules:
        return None
    from IPython import get_ipython

    return get_ipython()
