"""How expected errors look in IPython: one short paragraph, no traceback, and the cell fails."""

from __future__ import annotations

from typing import Any

from .errors import OrangeNBError


def _show_short(
    shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None
) -> Any:
    # Returning a structured traceback of one line makes IPython print just that; the cell
    # still counts as failed, so "Run All" and nbval stop here.
    line = f"{etype.__name__}: {value}"
    stb = [f"\x1b[0;31m{line}\x1b[0m"]
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
    shell.set_custom_exc((OrangeNBError,), _show_short)
    shell._orange_nb_errors = True


def running_shell() -> Any:
    """The running IPython shell, without importing IPython when it is not loaded."""
    import sys

    if "IPython" not in sys.modules:
        return None
    from IPython import get_ipython

    return get_ipython()
