"""The status line and controls for every session state, and the countdown's schedule."""

from __future__ import annotations

import pytest

from orange_nb.oauth.token import Token
from orange_nb.widget.words import Snapshot, clock, next_change, one_line, safe_href, view

NOW = 1_000_000.0


def token(
    left: float | None, refreshable: bool = True, scopes: tuple[str, ...] = ("openid",)
) -> Token:
    return Token(
        access_token="sbx_at_x",
        refresh_token="sbx_rt_x" if refreshable else None,
        expires_at=None if left is None else NOW + left,
        scopes=scopes,
        issued_at=NOW - 10,
    )


def snap(
    status: str,
    tok: Token | None = None,
    *,
    user: str | None = None,
    last_error: str = "",
    login_url: str = "",
    handoff: str | None = None,
    notice: str = "",
) -> Snapshot:
    return Snapshot(
        status,
        tok,
        user,
        last_error,
        login_url,
        handoff,
        notice,
        waits_for_paste=handoff == "paste",
    )


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (3599.9, "59:59"),
        (3600, "1:00:00"),
        (90.5, "01:30"),
        (59, "00:59"),
        (0.4, "00:00"),
        (-5, "00:00"),
    ],
)
def test_clock(seconds: float, shown: str) -> None:
    assert clock(seconds) == shown


@pytest.mark.parametrize(
    ("seconds", "low", "high"),
    [
        (100.5, 0.5, 0.53),
        (100.0, 0.0, 0.03),
        (119.99, 0.99, 1.02),
        (3000.0, 0.0, 0.03),
        (3010.4, 0.4, 0.43),
        (135.0, 0.0, 0.03),
    ],
)
def test_the_countdown_moves_each_second(seconds: float, low: float, high: float) -> None:
    delay = next_change(seconds)
    assert delay is not None and low < delay <= high
    # Just past the edge the shown time has changed, never before it.
    assert clock(seconds - delay) != clock(seconds)


def test_nothing_moves_once_expired() -> None:
    assert next_change(0) is None
    assert next_change(-1) is None


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("/user/alice/orange/login/abc", True),
        ("https://h/authorize?state=s", True),
        ("http://127.0.0.1:8/authorize", True),
        ("javascript:alert(1)", False),
        ("//evil.example/x", False),
        ("data:text/html,x", False),
        ("login/abc", False),
        ("https:///nohost", False),
    ],
)
def test_only_web_links_become_hrefs(url: str, ok: bool) -> None:
    assert safe_href(url) == (url if ok else "")


def test_one_line() -> None:
    assert one_line("a\n  b\tc ") == "a b c"
    long = one_line("word " * 100, limit=20)
    assert len(long) == 20 and long.endswith("…")


def test_not_signed_in() -> None:
    shown = view(snap("signed_out"), NOW)
    assert (shown.text, shown.link, shown.sign_in_again, shown.sign_out) == (
        "Not signed in",
        "",
        True,
        False,
    )


def test_waiting_shows_the_link_and_the_paste_box_only_for_paste() -> None:
    shown = view(snap("waiting", login_url="/base/orange/login/f1", handoff="server"), NOW)
    assert (shown.text, shown.link, shown.paste, shown.sign_in_again) == (
        "Waiting for sign-in…",
        "/base/orange/login/f1",
        False,
        False,
    )
    assert view(snap("waiting", login_url="https://h/a", handoff="paste"), NOW).paste


def test_an_unusable_link_is_not_rendered() -> None:
    shown = view(snap("waiting", login_url="javascript:alert(1)"), NOW)
    assert shown.link == "" and "unusable" in shown.text


def test_signed_in_with_user_scopes_and_countdown() -> None:
    shown = view(
        snap("signed_in", token(125.7, scopes=("openid", "mobility:read")), user="Ada"), NOW
    )
    assert shown.text == "Signed in as Ada · scopes openid mobility:read · expires in 02:05"
    assert (shown.sign_out, shown.refresh, shown.sign_in_again, shown.link) == (
        True,
        True,
        False,
        "",
    )
    assert shown.next_change == pytest.approx(0.7 + 0.02)  # each second
    assert shown.expires_at == pytest.approx(NOW + 125.7) and shown.countdown == "02:05"


def test_signed_in_without_a_user_or_an_expiry() -> None:
    assert (
        view(snap("signed_in", token(None)), NOW).text
        == "Signed in · scopes openid · no expiry given"
    )


def test_a_token_past_expiry() -> None:
    renewable = view(snap("signed_in", token(-3)), NOW)
    assert renewable.text.endswith("expired, renews on the next call")
    assert renewable.next_change is None
    final = view(snap("signed_in", token(-3, refreshable=False)), NOW)
    assert (final.text, final.sign_in_again, final.refresh) == (
        "Session expired — sign in again",
        True,
        False,
    )


def test_refresh_is_offered_only_for_a_refreshable_token() -> None:
    assert not view(snap("signed_in", token(500, refreshable=False)), NOW).refresh


def test_refreshing_expired_and_error() -> None:
    assert view(snap("refreshing", token(30)), NOW).text == "Refreshing…"
    expired = view(snap("expired", last_error="Session expired — sign in again."), NOW)
    assert (expired.text, expired.sign_in_again) == ("Session expired — sign in again", True)
    error = view(snap("error", last_error="Sign-in failed: access_denied.\nSign in again."), NOW)
    assert (error.text, error.tone, error.sign_in_again) == (
        "Sign-in failed: access_denied. Sign in again.",
        "error",
        True,
    )
    assert view(snap("error"), NOW).text == "Sign-in failed — sign in again"


def test_a_notice_goes_beside_the_status() -> None:
    shown = view(snap("signed_in", token(500), notice="Refresh failed (ConnectError)."), NOW)
    assert shown.text.endswith("expires in 08:20 — Refresh failed (ConnectError).")
    assert shown.tone == "warn"
    out = view(snap("signed_out", notice="No client id."), NOW)
    assert (out.text, out.tone) == ("Not signed in — No client id.", "error")
