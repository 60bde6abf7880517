"""The login widget: a "Sign in with Orange" link, a live status line, and the controls that fit.

The link is a plain ``<a target="_blank">``: it works while a cell is busy, when comm
messages (and so kernel-side clicks) wait. The status follows the session's traits, which
change on whatever thread signs in or refreshes.

Two tiny front-end scripts ride in the widget's HTML (an ``<img onerror>``, the one way an
``ipywidgets.HTML`` runs code; where a front end forbids it, nothing happens): the waiting
widget brings itself into view once per sign-in ("Run All" scrolled to the last cell), and
the countdown ticks each second in the browser, only where a view exists and the page is
visible. The kernel wakes only when the text changes in kind (at expiry), never per second.

Each ``show_login`` shows a new widget, displayed with a ``display_id``: its ``text/plain``
and ``text/html`` (for front ends without widgets, and the saved notebook) carry the link
and the status, and are updated in place when the state changes. Of a session's widgets the
newest offers the sign-in; the others follow the same state and say where the link is.

No synced value ever holds a token, a code, a verifier or a secret: the widget reads
``orange.token`` but shows only its scopes and expiry, and clears a pasted URL at once.
"""

from __future__ import annotations

import html
import secrets
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

import ipywidgets
from traitlets import Unicode

from .._ipython import resolve_sign_in_errors, running_shell, take_sign_in_errors
from ..errors import OrangeNBError
from ..handoff.redirect import ORIGIN
from .words import SIGN_IN, Snapshot, View, one_line, resolved, view

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
.orange-nb-login img.orange-nb-script { display: none; }
</style>"""

# Run by an <img onerror> (``this`` is the image). Brings the widget into view once per
# sign-in attempt, as soon as it is laid out ("nearest": no jump when it is already visible).
_SCROLL_JS = (
    "(function(img,key){if(window[key])return;var n=0;(function go(){"
    "var box=img.closest('.orange-nb-login');"
    "if(box&&box.isConnected&&box.offsetParent){window[key]=1;"
    "box.scrollIntoView({block:'nearest'});return}"
    "if(++n<150)setTimeout(go,100)})()})(this,'orangeNbShown_%s')"
)
# Ticks the countdown in ``.orange-nb-clock`` each second from its ``data-expires`` (Unix
# time, so a view restored later counts right); idle while the page is hidden, gone with
# the view. Same format as ``words.clock``.
_CLOCK_JS = (
    "(function(img){var c=img.parentNode&&img.parentNode.querySelector('.orange-nb-clock');"
    "if(!c)return;var end=parseFloat(c.getAttribute('data-expires'))*1000,away=0,t;"
    "function p(n){return(n<10?'0':'')+n}"
    "function tick(){if(!c.isConnected){if(++away>30)clearInterval(t);return}away=0;"
    "if(document.hidden)return;var s=Math.max(0,Math.floor((end-Date.now())/1000)),"
    "h=Math.floor(s/3600),m=Math.floor(s%3600/60);"
    "c.textContent=(h?h+':'+p(m):p(m))+':'+p(s%60)}"
    "t=setInterval(tick,1000);tick()})(this)"
)


# Puts the page's own origin where the redirect URI says ``{origin}``.
_ORIGIN_JS = (
    "(function(img){var box=img.parentNode;if(!box)return;"
    "box.querySelectorAll('.orange-nb-origin').forEach(function(s){"
    "s.textContent=window.location.origin})})(this)"
)


def _script(code: str) -> str:
    return (
        '<img class="orange-nb-script" alt="" src="data:," '
        f'onerror="{html.escape(code, quote=True)}">'
    )


class _PasteBox(ipywidgets.Text):
    """A text box whose value is never echoed back to the browser: it may hold a code."""

    value = Unicode("", help="The pasted URL, cleared as soon as it arrives.").tag(
        sync=True, echo_update=False
    )


def _open(shown: View) -> str:
    """The words before a link in text: what opening it does."""
    if shown.link_text == SIGN_IN:
        return "Open this link to sign in with Orange"
    return "Open the sandbox's phone to approve"


class LoginWidget(ipywidgets.VBox):
    """Sign-in link, live status and controls for one :class:`~orange_nb.session.orange.Orange` session.

    Attributes for tests and scripts: ``link`` and ``status_line`` (``HTML``), ``sign_out_button``,
    ``refresh_button``, ``sign_in_again_button``, ``complete_button``, ``cancel_button`` (``Button``) and
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
        self._refreshed_at: float | None = None  # the token in force came from a refresh
        self._error_below = False  # the failed cell shows the sign-in's error
        self._attempt_key = ""  # changes with each sign-in link: scroll into view once each
        self._seen_url = ""
        self._handle: Any = None  # the DisplayHandle, once shown with a display_id
        self._sent_text = ""  # the text/plain last sent through it
        self._style = ipywidgets.HTML(_STYLE, layout=ipywidgets.Layout(display="none"))
        self.link = ipywidgets.HTML("")
        self.status_line = ipywidgets.HTML("")
        self.redirect_line = ipywidgets.HTML("")
        self.sign_out_button = self._button("Sign out", "sign-out", self._sign_out)
        self.refresh_button = self._button("Refresh now", "refresh", self._refresh)
        self.sign_in_again_button = self._button("Sign in again", "sign-in", self._sign_in_again)
        self.complete_button = self._button("Complete sign-in", "check", self._complete)
        self.cancel_button = self._button("Cancel", "times", self._cancel)
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
        """What the widget shows now (the countdown as the front end ticks it; frozen once closed)."""
        with self._lock:
            if self._closed:
                assert self._view is not None
                return self._view
            return view(self._snapshot(), time.time())

    @property
    def status_text(self) -> str:
        """The status line as plain text."""
        return self.view.text

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return self._closed

    @property
    def offers_sign_in(self) -> bool:
        """Whether this widget shows the link and "Sign in again" (its session's newest does)."""
        return _newest(self.orange) in (self, None)

    def _snapshot(self) -> Snapshot:
        return Snapshot.of(
            self.orange,
            self._notice,
            refreshed_at=self._refreshed_at,
            offers_sign_in=self.offers_sign_in,
            error_below=self._error_below,
        )

    def _status_html(self, shown: View) -> str:
        text = html.escape(shown.text)
        if shown.countdown and shown.expires_at is not None:
            clock = html.escape(shown.countdown)
            head, sep, tail = text.rpartition(f"expires in {clock}")
            if sep:
                text = (
                    f'{head}expires in <span class="orange-nb-clock" '
                    f'data-expires="{shown.expires_at:.3f}">{clock}</span>{tail}'
                )
        html_text = (
            f'<span class="orange-nb-status orange-nb-{shown.tone}" role="status">{text}</span>'
        )
        if 'class="orange-nb-clock"' in html_text:
            html_text += _script(_CLOCK_JS)
        return html_text

    def _render(self) -> View:
        with self._lock:
            if self._closed:
                assert self._view is not None
                return self._view
            snap = self._snapshot()
            if snap.login_url != self._seen_url:
                self._seen_url, self._attempt_key = snap.login_url, secrets.token_hex(6)
            shown = view(snap, time.time())
            self._view = shown
            self.status_line.value = self._status_html(shown)
            kind = "orange-nb-signin" if shown.link_text == SIGN_IN else "orange-nb-phone"
            self.link.value = (
                f'<a class="{kind}" href="{html.escape(shown.link, quote=True)}" '
                f'target="_blank" rel="noopener">{html.escape(shown.link_text)}</a>'
                + _script(_SCROLL_JS % self._attempt_key)
                if shown.link
                else ""  # once the status leaves "waiting" the link leaves the saved state too
            )
            controls = [
                (shown.link != "", self.link),
                (shown.sign_out, self.sign_out_button),
                (shown.refresh, self.refresh_button),
                (shown.sign_in_again, self.sign_in_again_button),
                (shown.cancel, self.cancel_button),
            ]
            self._row.children = tuple(w for on, w in controls if on)
            self.redirect_line.value = self._redirect_html(shown, snap.redirect_note)
            rows = [self._style, self._row, self.status_line]
            if shown.redirect:
                rows.append(self.redirect_line)
            if shown.paste:
                rows.append(self._paste_row)
            self.children = tuple(rows)
        self._update_display()
        return shown

    @staticmethod
    def _redirect_html(shown: View, note: str) -> str:
        # Folded away: only someone registering an application at Orange needs it. The
        # browser fills in its own origin, which the kernel cannot know.
        if not shown.redirect:
            return ""
        head, marker, tail = shown.redirect.partition(ORIGIN)
        uri = html.escape(head)
        if marker:
            uri += f'<span class="orange-nb-origin">{html.escape(ORIGIN)}</span>'
            uri += html.escape(tail)
        return (
            '<details class="orange-nb-redirect"><summary>Redirect URI to register at '
            f"Orange</summary><code>{uri}</code><div>{html.escape(note)}</div></details>"
            + (_script(_ORIGIN_JS) if marker else "")
        )

    @staticmethod
    def _text_of(shown: View) -> str:
        if shown.link:
            return f"{_open(shown)}: {shown.link}\n{shown.text}"
        return f"Orange: {shown.text}"

    @staticmethod
    def _html_of(shown: View) -> str:
        # For front ends that render HTML but not widgets: the link and the status, escaped.
        link = (
            f'<a href="{html.escape(shown.link, quote=True)}" target="_blank" '
            f'rel="noopener">{html.escape(shown.link_text)}</a> · '
            if shown.link
            else ""
        )
        return f'<div class="orange-nb-login-text">{link}{html.escape(shown.text)}</div>'

    def plain_text(self) -> str:
        """One line for a terminal: the link to open, or the status."""
        shown = self._render()
        if shown.link:
            return f"{_open(shown)}: {shown.link}"
        return f"Orange: {shown.text}"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        """The widget view, with ``text/plain`` and ``text/html`` saying the link and status
        for front ends without widgets (and for the saved notebook)."""
        bundle: dict[str, Any] = dict(super()._repr_mimebundle_(**kwargs) or {})
        shown = self.view
        bundle["text/plain"] = self._text_of(shown)
        bundle["text/html"] = self._html_of(shown)
        return bundle

    def _update_display(self) -> None:
        """Re-send this widget's output by its display id when its text changed (so what a
        front end without widgets shows, and what is saved, is the state now)."""
        with self._lock:
            handle, shown = self._handle, self._view
            if handle is None or shown is None or self._text_of(shown) == self._sent_text:
                return
            self._sent_text = self._text_of(shown)
        try:
            handle.update(self)
        except Exception:  # a display that cannot be updated any more must not break a sign-in
            with self._lock:
                self._handle = None

    def _shown_with(self, handle: Any) -> None:
        with self._lock:
            self._handle = handle
            if self._view is not None:
                self._sent_text = self._text_of(self._view)

    def __repr__(self) -> str:
        # The default repr would list children, and so the authorize URL in the link.
        return f"<LoginWidget: {self.status_text}>"

    # --- session events and the countdown ---------------------------------------------
    def _on_session_change(self, change: Mapping[str, Any]) -> None:
        with self._lock:
            self._notice = ""  # a new event makes an old error beside the status stale
            self._error_below = False
            if change["name"] == "token":
                old, new = change["old"], change["new"]
                # A token replacing a token is a refresh; a first one comes from a sign-in.
                self._refreshed_at = new.issued_at if old is not None and new is not None else None
        self._render()
        self._tick_soon()
        if change["name"] == "status" and change["new"] == "signed_in":
            _resolve_errors(self.orange)

    def _error_shown_by_cell(self) -> None:
        """The failed cell showed the sign-in's error: the status line points at it."""
        with self._lock:
            self._error_below = True
        self._render()

    def _defer(self) -> None:
        """A newer widget of the session now offers the sign-in."""
        self._render()

    def _changes_in(self) -> float | None:
        # The front end ticks the seconds; the kernel re-renders only at expiry, where the
        # text changes in kind ("expired", "Sign in again").
        expires_at = None if self._closed else self.view.expires_at
        return None if expires_at is None else max(0.0, expires_at - time.time()) + 0.02

    def _tick_soon(self) -> None:
        """Start the expiry thread when the view will change by itself; else let it reconsider."""
        with self._lock:
            if self._ticker is not None:
                self._wake.set()  # sooner, later, or stop: it recomputes when to wake
            elif self._changes_in() is not None:
                self._ticker = threading.Thread(
                    target=self._tick, name="orange-login-widget", daemon=True
                )
                self._ticker.start()

    def _tick(self) -> None:
        while True:
            with self._lock:
                delay = self._changes_in()
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

    def _cancel(self, _button: Any) -> None:
        self._act(self.orange.cancel_login, "Cancel")

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


# Each session's widgets, oldest first; weak both ways, so a session and its widgets can go
# once nobody else holds them.
_shown: weakref.WeakKeyDictionary[Any, list[weakref.ref[LoginWidget]]] = weakref.WeakKeyDictionary()
_shown_lock = threading.Lock()
_hooked: weakref.WeakSet[Any] = weakref.WeakSet()  # shells with the post-run hook
# The displays of sign-in errors (see ``_ipython``) each session's sign-in will resolve,
# and those shown while no session had a widget, which the next sign-in of any resolves.
_errors: weakref.WeakKeyDictionary[Any, list[Any]] = weakref.WeakKeyDictionary()
_unowned: list[Any] = []
_errors_lock = threading.Lock()


def _widgets_of(orange: Any) -> list[LoginWidget]:
    """The session's open widgets, oldest first."""
    with _shown_lock:
        refs = _shown.get(orange, [])
        alive = [w for w in (ref() for ref in refs) if w is not None and not w.closed]
        if len(alive) != len(refs):
            _shown[orange] = [weakref.ref(w) for w in alive]
        return alive


def _newest(orange: Any) -> LoginWidget | None:
    alive = _widgets_of(orange)
    return alive[-1] if alive else None


def _after_cell(result: Any) -> None:
    """IPython's ``post_run_cell``: a cell that failed with a session's sign-in error showed
    it, so that session's widgets stop repeating it."""
    shown = take_sign_in_errors()
    error = getattr(result, "error_in_exec", None)
    if error is None and not shown:
        return
    message = str(error or "")
    with _shown_lock:
        sessions = list(_shown.keys())
    owners = [o for o in sessions if o.status == "error" and message and message == o.last_error]
    for orange in owners:
        for widget in _widgets_of(orange):
            widget._error_shown_by_cell()
    if shown:
        # Whose error it was: the session that failed with it, else (a login wait's
        # timeout, a call that needs a sign-in) every session not signed in.
        targets = owners or [o for o in sessions if o.status != "signed_in"]
        if not targets and sessions:  # every session signed in since: resolved already
            resolve_sign_in_errors(shown, resolved(time.time()))
            return
        with _errors_lock:
            for orange in targets:
                _errors.setdefault(orange, []).extend(shown)
            if not targets:
                _unowned.extend(shown)


def _resolve_errors(orange: Any) -> None:
    """``orange`` signed in: the sign-in errors shown for it turn into a quiet line."""
    with _errors_lock:
        handles = _errors.pop(orange, []) + _unowned
        _unowned.clear()
    if handles:
        resolve_sign_in_errors(handles, resolved(time.time()))


def show_login(orange: Orange) -> LoginWidget:
    """Display a login widget for ``orange``; it becomes the one that offers the sign-in.

    The session's older widgets keep following its state and say where the link is. Without
    a kernel to display widgets (plain Python, a terminal), print the link or the status
    instead. Returns the widget.
    """
    older = _widgets_of(orange)
    widget = LoginWidget(orange)
    with _shown_lock:
        _shown.setdefault(orange, []).append(weakref.ref(widget))
    for other in older:
        other._defer()
    shell = running_shell()
    if shell is not None and shell not in _hooked:
        shell.events.register("post_run_cell", _after_cell)
        _hooked.add(shell)
    if shell is not None and getattr(shell, "kernel", None) is not None:
        from IPython.display import display

        show = cast("Callable[..., object]", display)  # IPython's display is untyped
        widget._render()
        widget._shown_with(show(widget, display_id=True))
    else:
        print(widget.plain_text())
    return widget
