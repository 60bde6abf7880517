"""What the login widget shows for a session's state: pure functions, no widgets, no clock.

The widget takes a :class:`Snapshot` of the session's observed traits and renders the
:class:`View` that :func:`view` returns; keeping this apart lets every state be tested
without a kernel and keeps the widget itself to wiring.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from ..oauth.token import Token

NOT_SIGNED_IN = "Not signed in"
WAITING = "Waiting for sign-in…"
REFRESHING = "Refreshing…"
EXPIRED = "Session expired — sign in again"
PHONE = "Open the sandbox's phone"
SIGN_IN = "Sign in with Orange"
SIGN_IN_FAILED = "Sign-in failed — sign in again"
ERROR_BELOW = "Sign-in failed — see the error below"
SHOWN_ELSEWHERE = "the sign-in link is in the newest login output"
_MAX_MESSAGE = 300
_PAST_EDGE = 0.02  # wake just after the displayed number changes, not just before


@dataclass(frozen=True)
class Snapshot:
    """The session's state as the widget sees it.

    ``notice``: the widget's own last error. ``refreshed_at``: when the token in force was
    obtained by a refresh (``None``: it came from the sign-in). ``offers_sign_in``: this
    widget is the session's newest, the one that shows the link and "Sign in again" (the
    others say where it is). ``error_below``: a cell already showed the sign-in's error.
    ``phone`` (masked) and ``approve_by`` (Unix time): a sign-in by phone (CIBA) under way.
    ``redirect_uri`` and ``redirect_note``: the redirect URI the next code sign-in sends (it
    may hold ``{origin}``) and its rule, from ``Orange.redirect_rule()``.
    """

    status: str
    token: Token | None
    user: str | None
    last_error: str
    login_url: str
    handoff: str | None
    notice: str = ""
    waits_for_paste: bool = False
    refreshed_at: float | None = None
    offers_sign_in: bool = True
    error_below: bool = False
    phone: str = ""
    phone_page: str = ""
    approve_by: float | None = None
    redirect_uri: str = ""
    redirect_note: str = ""

    @classmethod
    def of(cls, orange: Any, notice: str = "", **widget: Any) -> Snapshot:
        """The state of session ``orange`` now (``widget``: the widget's own fields)."""
        attempt = orange.signin.attempt if getattr(orange, "signin", None) else None
        phone = str(getattr(attempt, "phone", "") or "")  # a CibaAttempt's masked number
        rule = orange.redirect_rule() if hasattr(orange, "redirect_rule") else None
        return cls(
            status=orange.status,
            token=orange.token,
            user=orange.user,
            last_error=orange.last_error,
            login_url=orange.login_url,
            handoff=orange.handoff_name,
            waits_for_paste=orange.waits_for_paste,
            notice=notice,
            phone=phone,
            phone_page=str(getattr(attempt, "phone_page", "") or "") if phone else "",
            approve_by=getattr(attempt, "expires_at", None) if phone else None,
            redirect_uri=rule.uri if rule is not None else "",
            redirect_note=rule.note if rule is not None else "",
            **widget,
        )


@dataclass(frozen=True)
class View:
    """What to show: the status line, its tone, the link (``""``: none) and which controls.

    ``next_change`` is how many seconds until the text changes by itself (the countdown),
    or ``None`` when it does not. ``expires_at`` (Unix time) and ``countdown`` (the
    ``mm:ss`` inside ``text``) let a front end tick the countdown itself, each second.
    """

    text: str
    tone: str
    link: str
    sign_out: bool
    refresh: bool
    sign_in_again: bool
    paste: bool
    next_change: float | None
    expires_at: float | None = None
    countdown: str = ""
    cancel: bool = False
    redirect: str = ""  # the redirect URI to register, shown while a code sign-in is not done
    link_text: str = SIGN_IN  # what the link says (the sandbox's phone: its page)


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
    """Seconds until the countdown shown for ``seconds_left`` moves next: it moves each
    second (a frozen-looking countdown reads as a hung kernel); ``None`` once expired.
    """
    if seconds_left <= 0:
        return None
    return seconds_left % 1.0 + _PAST_EDGE


def wall_clock(when: float) -> str:
    """``when`` (Unix time) as the local ``HH:MM:SS`` a person reads on their clock."""
    return time.strftime("%H:%M:%S", time.localtime(when))


def resolved(when: float) -> str:
    """What a sign-in error's output says once a sign-in at ``when`` (Unix time) succeeded."""
    return f"Resolved: signed in at {wall_clock(when)}"


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
    if snap.refreshed_at is not None:  # "Refresh now" (or a refresh on its own) confirms
        parts.append(f"refreshed {wall_clock(snap.refreshed_at)}")
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
    if left is None or left <= 0:
        return View(text, tone, "", True, refreshable, False, False, None)
    return View(
        text, tone, "", True, refreshable, False, False, next_change(left), now + left, clock(left)
    )


def _approve_on_phone(snap: Snapshot, now: float) -> View:
    # CIBA: nothing to open; the person approves on the phone before the request expires.
    # The sandbox's stand-in phone is a page: its link is the one to open (workshops).
    text = f"Approve on your phone {snap.phone}"
    link = safe_href(snap.phone_page) if snap.offers_sign_in else ""  # one widget links
    left = snap.approve_by - now if snap.approve_by is not None else None
    if left is None or left <= 0:
        return View(
            text, "waiting", link, False, False, False, False, None, cancel=True, link_text=PHONE
        )
    countdown = clock(left)
    return View(
        f"{text} · expires in {countdown}",
        "waiting",
        link,
        False,
        False,
        False,
        False,
        next_change(left),
        now + left,
        countdown,
        cancel=True,
        link_text=PHONE,
    )


def view(snap: Snapshot, now: float) -> View:
    """The view of ``snap`` at Unix time ``now``."""
    token = snap.token
    if snap.status == "signed_in" and token is not None:
        return _signed_in(snap, token, now)
    held = token is not None
    if snap.status == "waiting" and snap.phone:
        base = _approve_on_phone(snap, now)
    elif snap.status == "waiting":
        link = safe_href(snap.login_url)
        text = (
            WAITING if link or not snap.login_url else f"{WAITING} (the sign-in link is unusable)"
        )
        paste = snap.waits_for_paste
        if not snap.offers_sign_in:  # one widget offers the link; the others say where
            link, paste, text = "", False, f"{WAITING} — {SHOWN_ELSEWHERE}"
        base = View(text, "waiting", link, held, False, False, paste, None)
    elif snap.status == "refreshing":
        base = View(REFRESHING, "busy", "", held, False, False, False, None)
    elif snap.status == "expired":
        # The session says which end it was (expired, or a single-use token spent).
        said = one_line(snap.last_error).rstrip(".") if snap.last_error.strip() else EXPIRED
        base = View(said, "warn", "", held, False, True, False, None)
    elif snap.status == "error":
        if snap.error_below:  # the failed cell shows the reason: once is enough
            message = ERROR_BELOW
        else:
            message = one_line(snap.last_error) if snap.last_error.strip() else SIGN_IN_FAILED
        base = View(message, "error", "", held, False, True, False, None)
    else:
        base = View(NOT_SIGNED_IN, "idle", "", held, False, True, False, None)
    if not snap.offers_sign_in and base.sign_in_again:
        base = replace(base, sign_in_again=False)
    if snap.redirect_uri and not snap.phone and snap.status in ("waiting", "error", "signed_out"):
        base = replace(base, redirect=snap.redirect_uri)
    if not snap.notice:
        return base
    return replace(base, text=f"{base.text} — {snap.notice}", tone="error")
