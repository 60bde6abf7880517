"""What the login widget shows for a session's state: pure functions, no widgets, no clock.

The widget takes a :class:`Snapshot` of the session's observed traits and renders the
:class:`View` that :func:`view` returns; keeping this apart lets every state be tested
without a kernel and keeps the widget itself to wiring.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from ..oauth.token import Token

NOT_SIGNED_IN = "Not signed in"
WAITING = "Waiting for sign-in…"
REFRESHING = "Refreshing…"
EXPIRED = "Session expired — sign in again"
SIGN_IN_FAILED = "Sign-in failed — sign in again"
_MAX_MESSAGE = 300
_FAST_BELOW = 120.0  # seconds left under which the countdown moves every second
_SLOW_STEP = 15.0  # otherwise it moves in steps of this many seconds
_PAST_EDGE = 0.02  # wake just after the displayed number changes, not just before


@dataclass(frozen=True)
class Snapshot:
    """The session's state as the widget sees it (``notice``: the widget's own last error)."""

    status: str
    token: Token | None
    user: str | None
    last_error: str
    login_url: str
    handoff: str | None
    notice: str = ""
    waits_for_paste: bool = False

    @classmethod
    def of(cls, orange: Any, notice: str = "") -> Snapshot:
        """The state of session ``orange`` now."""
        return cls(
            status=orange.status,
            token=orange.token,
            user=orange.user,
            last_error=orange.last_error,
            login_url=orange.login_url,
            handoff=orange.handoff_name,
            waits_for_paste=orange.waits_for_paste,
            notice=notice,
        )


@dataclass(frozen=True)
class View:
    """What to show: the status line, its tone, the link (``""``: none) and which controls.

    ``next_change`` is how many seconds until the text changes by itself (the countdown),
    or ``None`` when it does not.
    """

    text: str
    tone: str
    link: str
    sign_out: bool
    refresh: bool
    sign_in_again: bool
    paste: bool
    next_change: float | None


def one_line(message: str, limit: int = _MAX_MESSAGE) -> str:
    """``message`` on one line, at most ``limit`` characters."""
    flat = " ".join(message.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def clock(seconds: float) -> str:
    """Whole seconds left as ``mm:ss`` (``h:mm:ss`` from one hour on); never negative."""
    whole = max(0, math.floor(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def next_change(seconds_left: float) -> float | None:
    """Seconds until the countdown shown for ``seconds_left`` should move next.

    Every second below two minutes, else on the next multiple of 15 s (the shown time is
    then exact at each step); ``None`` once expired: nothing moves any more.
    """
    if seconds_left <= 0:
        return None
    step = 1.0 if seconds_left <= _FAST_BELOW else _SLOW_STEP
    return seconds_left % step + _PAST_EDGE


def safe_href(url: str) -> str:
    """``url`` when it is an http(s) URL or a path on this host; else ``""`` (never ``javascript:``)."""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return url
    if not parts.scheme and not parts.netloc and url.startswith("/") and not url.startswith("//"):
        return url
    return ""


def _signed_in(snap: Snapshot, token: Token, now: float) -> View:
    who = f"Signed in as {snap.user}" if snap.user else "Signed in"
    parts = [who]
    if token.scopes:
        parts.append("scopes " + " ".join(token.scopes))
    left = token.expires_in(now)
    refreshable = token.refresh_token is not None
    if left is not None and left <= 0 and not refreshable:
        return View(EXPIRED, "warn", "", True, False, True, False, None)
    if left is None:
        parts.append("no expiry given")
    elif left <= 0:
        parts.append("expired, renews on the next call")
    else:
        parts.append(f"expires in {clock(left)}")
    text = " · ".join(parts)
    if snap.notice:
        text += f" — {snap.notice}"
    tone = "warn" if snap.notice else "ok"
    moves = next_change(left) if left is not None else None
    return View(text, tone, "", True, refreshable, False, False, moves)


def view(snap: Snapshot, now: float) -> View:
    """The view of ``snap`` at Unix time ``now``."""
    token = snap.token
    if snap.status == "signed_in" and token is not None:
        return _signed_in(snap, token, now)
    held = token is not None
    if snap.status == "waiting":
        link = safe_href(snap.login_url)
        text = (
            WAITING if link or not snap.login_url else f"{WAITING} (the sign-in link is unusable)"
        )
        paste = snap.waits_for_paste
        base = View(text, "waiting", link, held, False, False, paste, None)
    elif snap.status == "refreshing":
        base = View(REFRESHING, "busy", "", held, False, False, False, None)
    elif snap.status == "expired":
        base = View(EXPIRED, "warn", "", held, False, True, False, None)
    elif snap.status == "error":
        message = one_line(snap.last_error) if snap.last_error.strip() else SIGN_IN_FAILED
        base = View(message, "error", "", held, False, True, False, None)
    else:
        base = View(NOT_SIGNED_IN, "idle", "", held, False, True, False, None)
    if not snap.notice:
        return base
    return replace(base, text=f"{base.text} — {snap.notice}", tone="error")
