"""The login widget: a "Sign in with Orange" link, a live status line, and the controls that fit.

The link is a plain ``<a target="_blank">``: it works while a cell is busy, when comm
messages (and so kernel-side clicks) wait. The status follows the session's traits, which
change on whatever thread signs in or refreshes; a daemon thread moves the countdown, since
a callback on the kernel's event loop would stall while a cell runs. No synced value ever
holds a token, a code, a verifier or a secret: the widget reads ``orange.token`` but shows
only its scopes and expiry, and clears a pasted URL at once.
"""

from __future__ import annotations

import html
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

import ipywidgets
from traitlets import Unicode

from .._ipython import running_shell
from ..errors import OrangeNBError
from .words import Snapshot, View, one_line, view

if TYPE_CHECKING:
    from ..session.orange import Orange

_OBSERVED = ["status", "token", "user", "last_error", "login_url"]
_STYLE = """<style>
.orange-nb-login a.orange-nb-signin {
  display: inline-block; box-sizing: border-box; height: 28px; line-height: 28px;
  padding: 0 14px; margin-right: 6px; border-radius: 2px;
  background: #ff7900; color: #fff !important; text-decoration: none !important;
  font-family: var(--jp-ui-font-family, inherit); font-size: var(--jp-ui-font-size1, 13px);
  font-weight: 700; white-space: nowrap;
}
.orange-nb-login a.orange-nb-signin:hover { background: #e66d00; }
.orange-nb-login a.orange-nb-signin:focus-visible { outline: 2px solid #ff7900; outline-offset: 2px; }
.orange-nb-login .orange-nb-status {
  display: inline-block; line-height: 1.4; padding: 4px 0;
  color: var(--jp-ui-font-color1, inherit); font-family: var(--jp-ui-font-family, inherit);
  font-size: var(--jp-ui-font-size1, 13px);
}
.orange-nb-login .orange-nb-status.orange-nb-ok::before {
  content: "\\25CF\\00A0"; color: var(--jp-success-color1, #32c832);
}
.orange-nb-login .orange-nb-status.orange-nb-warn { color: var(--jp-warn-color1, #f57c00); }
.orange-nb-login .orange-nb-status.orange-nb-error { color: var(--jp-error-color1, #e53935); }
.orange-nb-login .orange-nb-status.orange-nb-busy,
.orange-nb-login .orange-nb-status.orange-nb-waiting { color: var(--jp-ui-font-color2, inherit); }
</style>"""


class _PasteBox(ipywidgets.Text):
    """A text box whose value is never echoed back to the browser: it may hold a code."""

    value = Unicode("", help="The pasted URL, cleared as soon as it arrives.").tag(
        sync=True, echo_update=False
    )


class LoginWidget(ipywidgets.VBox):
    """Sign-in link, live status and controls for one :class:`~orange_nb.session.orange.Orange` session.

    Attributes for tests and scripts: ``link`` and ``status_line`` (``HTML``), ``sign_out_button``,
    ``refresh_button``, ``sign_in_again_button``, ``complete_button`` (``Button``) and
    ``paste_box`` (``Text``); :attr:`status_text` is the status line as plain text and
    :attr:`view` what is shown now.
    """

    def __init__(self, orange: Orange, **kwargs: Any) -> None:
        self.orange = orange
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._ticker: threading.Thread | None = None
        self._notice = ""
        self._closed = False
        self._view: View | None = None
        self._style = ipywidgets.HTML(_STYLE, layout=ipywidgets.Layout(display="none"))
        self.link = ipywidgets.HTML("")
        self.status_line = ipywidgets.HTML("")
        self.sign_out_button = self._button("Sign out", "sign-out", self._sign_out)
        self.refresh_button = self._button("Refresh now", "refresh", self._refresh)
        self.sign_in_again_button = self._button("Sign in again", "sign-in", self._sign_in_again)
        self.complete_button = self._button("Complete sign-in", "check", self._complete)
        self.paste_box = _PasteBox(
            placeholder="Paste the address your browser shows after signing in",
            continuous_update=False,
            layout=ipywidgets.Layout(width="min(36em, 100%)"),
        )
        self.paste_box.add_class("orange-nb-paste")
        self.paste_box.observe(self._complete, names="value")
        self._row = ipywidgets.HBox(layout=ipywidgets.Layout(align_items="center"))
        self._paste_row = ipywidgets.HBox([self.paste_box, self.complete_button])
        super().__init__(**kwargs)
        self.add_class("orange-nb-login")
        orange.observe(self._on_session_change, names=_OBSERVED)
        self._render()

    @staticmethod
    def _button(label: str, icon: str, handler: Callable[[Any], None]) -> ipywidgets.Button:
        button = ipywidgets.Button(description=label, icon=icon, tooltip=label)
        button.on_click(handler)
        return button

    # --- what is shown -----------------------------------------------------------------
    @property
    def view(self) -> View:
        """What the widget shows now."""
        with self._lock:
            assert self._view is not None
            return self._view

    @property
    def status_text(self) -> str:
        """The status line as plain text."""
        return self.view.text

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return self._closed

    def _snapshot(self) -> Snapshot:
        return Snapshot.of(self.orange, self._notice)

    def _render(self) -> View:
        with self._lock:
            if self._closed:
                assert self._view is not None
                return self._view
            shown = view(self._snapshot(), time.time())
            self._view = shown
            self.status_line.value = (
                f'<span class="orange-nb-status orange-nb-{shown.tone}" role="status">'
                f"{html.escape(shown.text)}</span>"
            )
            self.link.value = (
                f'<a class="orange-nb-signin" href="{html.escape(shown.link, quote=True)}" '
                'target="_blank" rel="noopener">Sign in with Orange</a>'
                if shown.link
                else ""  # once the status leaves "waiting" the link leaves the saved state too
            )
            controls = [
                (shown.link != "", self.link),
                (shown.sign_out, self.sign_out_button),
                (shown.refresh, self.refresh_button),
                (shown.sign_in_again, self.sign_in_again_button),
            ]
            self._row.children = tuple(w for on, w in controls if on)
            rows = [self._style, self._row, self.status_line]
            if shown.paste:
                rows.append(self._paste_row)
            self.children = tuple(rows)
            return shown

    def plain_text(self) -> str:
        """The widget as text, for a console without widgets: the link to open, or the status."""
        shown = self._render()
        if shown.link:
            return f"Open this link to sign in with Orange: {shown.link}"
        return f"Orange: {shown.text}"

    def __repr__(self) -> str:
        # The default repr would list children, and so the authorize URL in the link.
        return f"<LoginWidget: {self.status_text}>"

    # --- session events and the countdown ---------------------------------------------
    def _on_session_change(self, change: Mapping[str, Any]) -> None:
        with self._lock:
            self._notice = ""  # a new event makes an old error beside the status stale
        self._render()
        self._tick_soon()

    def _tick_soon(self) -> None:
        """Start the countdown thread when the text moves by itself; else let it reconsider."""
        with self._lock:
            if self._ticker is not None:
                self._wake.set()  # sooner, later, or stop: it recomputes when to wake
            elif not self._closed and self.view.next_change is not None:
                self._ticker = threading.Thread(
                    target=self._tick, name="orange-login-widget", daemon=True
                )
                self._ticker.start()

    def _tick(self) -> None:
        while True:
            with self._lock:
                delay = None if self._closed else self.view.next_change
                if delay is None:  # signed out, expired, closed: nothing moves any more
                    self._ticker = None
                    return
            self._wake.wait(delay)
            self._wake.clear()
            self._render()

    # --- controls ----------------------------------------------------------------------
    def _act(self, action: Callable[[], object], what: str) -> None:
        """Run a control's action; its error goes to the status line, never into the void."""
        try:
            action()
        except Exception as exc:
            # "expired" and "error" already say it, from the session's own last_error.
            if self.orange.status not in ("expired", "error"):
                known = isinstance(exc, OrangeNBError | TimeoutError)
                with self._lock:
                    self._notice = (
                        one_line(str(exc)) if known else f"{what} failed ({type(exc).__name__})."
                    )
        self._render()
        self._tick_soon()

    def _sign_out(self, _button: Any) -> None:
        self._act(self.orange.logout, "Sign-out")

    def _refresh(self, _button: Any) -> None:
        self._act(self.orange.refresh, "Refresh")

    def _sign_in_again(self, _button: Any) -> None:
        self._act(self.orange.begin_login, "Sign-in")

    def _complete(self, _event: Any) -> None:
        url = self.paste_box.value.strip()
        if not url:
            return
        # The pasted URL carries the code: out of the synced state before anything else.
        self.paste_box.value = ""
        self._act(lambda: self.orange.complete_login(url), "Sign-in")

    # --- life cycle ------------------------------------------------------------------
    def close(self) -> None:
        """Stop following the session, stop the countdown, and close every owned widget."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._wake.set()
        self.orange.unobserve(self._on_session_change, names=_OBSERVED)
        owned = [
            self._style,
            self.link,
            self.status_line,
            self.sign_out_button,
            self.refresh_button,
            self.sign_in_again_button,
            self.complete_button,
            self.paste_box,
            self._row,
            self._paste_row,
        ]
        for widget in owned:
            widget.close()
        super().close()


# Weak both ways: a session and its closed widget can go once nobody else holds them.
_shown: weakref.WeakKeyDictionary[Any, weakref.ref[LoginWidget]] = weakref.WeakKeyDictionary()
_shown_lock = threading.Lock()


def show_login(orange: Orange) -> LoginWidget:
    """Display the login widget of ``orange`` (one per session, shown again when called again).

    Without a kernel to display widgets (plain Python, a terminal), print the link or the
    status instead. Returns the widget.
    """
    with _shown_lock:
        known = _shown.get(orange)
        widget = known() if known is not None else None
        if widget is None or widget.closed:
            widget = LoginWidget(orange)
            _shown[orange] = weakref.ref(widget)
    shell = running_shell()
    if shell is not None and getattr(shell, "kernel", None) is not None:
        from IPython.display import display

        cast("Callable[[object], None]", display)(widget)  # IPython's display is untyped
    else:
        print(widget.plain_text())
    return widget
