"""How expected errors look in IPython: one short paragraph, no traceback, and the cell fails.

Expected errors are ``OrangeNBError`` and a ``TimeoutError`` that orange_nb itself raised (a
login wait nobody finished); the same handler runs in a terminal IPython and in a Jupyter
kernel (ipykernel runs cells through the same ``run_code``), so both read alike.

In a kernel, a sign-in error (``LoginError`` and a login wait's ``TimeoutError``) is shown
instead as a display output with a ``display_id`` (text and HTML in the error colour), and
the cell's error output carries a traceback that renders as nothing: the cell still fails
(``Run All`` and nbval stop there), and once someone signs in the widget layer turns the
display into a quiet "resolved" line (:func:`resolve_sign_in_errors`), so no stale red text
stays under "Signed in", on screen or in the saved notebook.
"""

from __future__ import annotations

import contextlib
import html
import threading
from types import TracebackType
from typing import Any

from .errors import LoginError, OrangeNBError

_PACKAGE = __name__.rpartition(".")[0]
# The traceback of a sign-in error's error output in a kernel: JupyterLab and Notebook 7
# show ``ename: evalue`` for an empty traceback, so it holds one reset sequence, which
# renders as an empty stderr box (``_ERROR_STYLE`` folds that box away).
QUIET_TRACEBACK = "\x1b[0m"
# Hides the empty stderr box the quiet traceback leaves (any empty stderr output shows
# nothing anyway); it rides in the error display's HTML, saved notebook included.
_ERROR_STYLE = (
    "<style>.jp-OutputArea-child:has(> .jp-OutputArea-output"
    '[data-mime-type="application/vnd.jupyter.stderr"] > pre:empty) { display: none; }'
    "</style>"
)
_pending: list[Any] = []  # the display handles of sign-in errors nobody resolved yet
_pending_lock = threading.Lock()


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


def error_bundle(line: str) -> dict[str, str]:
    """The display of a sign-in error: ``line`` as text and in the error colour as HTML."""
    return {
        "text/plain": line,
        "text/html": _ERROR_STYLE
        + '<pre class="orange-nb-error" style="color: var(--jp-error-color1, #e53935); '
        f'margin: 0">{html.escape(line)}</pre>',
    }


def resolved_bundle(note: str) -> dict[str, str]:
    """What a resolved sign-in error's display becomes: ``note``, quiet."""
    return {
        "text/plain": note,
        "text/html": _ERROR_STYLE
        + '<div class="orange-nb-error-resolved" style="color: var(--jp-ui-font-color2, '
        f'inherit)">{html.escape(note)}</div>',
    }


def _is_sign_in_error(etype: type) -> bool:
    return issubclass(etype, LoginError | TimeoutError)


def _display_sign_in_error(shell: Any, line: str) -> bool:
    """In a kernel, show ``line`` as an updatable display; whether it was shown."""
    if getattr(shell, "kernel", None) is None:
        return False
    try:
        from IPython.display import display

        handle = display(  # type: ignore[no-untyped-call,unused-ignore]
            error_bundle(line), raw=True, display_id=True
        )
    except Exception:  # no display here after all: the error shows as one line
        return False
    if handle is None:
        return False
    with _pending_lock:
        _pending.append(handle)
    return True


def take_sign_in_errors() -> list[Any]:
    """The display handles of sign-in errors shown since the last call, now the caller's."""
    with _pending_lock:
        taken = list(_pending)
        _pending.clear()
    return taken


def resolve_sign_in_errors(handles: list[Any], note: str) -> None:
    """Turn the sign-in errors shown through ``handles`` into the quiet ``note``."""
    for handle in handles:
        # A display that cannot be updated any more must not break a sign-in.
        with contextlib.suppress(Exception):
            handle.update(resolved_bundle(note), raw=True)


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
    if _is_sign_in_error(etype) and _display_sign_in_error(shell, line):
        stb = [QUIET_TRACEBACK]  # the display above says it, and can be cleared later
        shell._showtraceback(etype, value, stb)
        return stb
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
