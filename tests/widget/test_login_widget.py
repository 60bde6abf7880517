"""The login widget against a real sandbox: states, controls, countdown, and no secret synced."""

from __future__ import annotations

import html
import math
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from orange_nb import LoginError, Orange
from orange_nb.sandbox import SandboxServer
from orange_nb.widget.login import LoginWidget, show_login

PASTE_REDIRECT = "https://orange-nb.invalid/landed"
SIGNED_IN = re.compile(
    r"Signed in as Demo User · scopes openid profile mobility:read"
    r"(?: · refreshed \d\d:\d\d:\d\d)? · expires in (\d\d):(\d\d)"
)
Helper = Callable[..., Any]


def left(widget: LoginWidget) -> int:
    """Seconds of the countdown shown."""
    found = SIGNED_IN.fullmatch(widget.status_text)
    assert found, widget.status_text
    return int(found.group(1)) * 60 + int(found.group(2))


def href(widget: LoginWidget) -> str:
    found = re.search(r'<a class="orange-nb-signin" href="([^"]*)"', widget.link.value)
    assert found, widget.link.value
    return html.unescape(found.group(1))


def test_a_whole_session_moves_through_every_state_without_leaking(
    orange: Orange,
    widget: LoginWidget,
    sandbox: SandboxServer,
    sign_in: Helper,
    controls: Helper,
    assert_no_secret: Helper,
) -> None:
    sandbox.sandbox.configure(access_token_lifetime=90)
    assert widget.status_text == "Not signed in"
    assert controls(widget) == ["Sign in again"]
    assert widget.link.value == ""

    widget.sign_in_again_button.click()
    assert widget.status_text == "Waiting for sign-in…"
    assert controls(widget) == ["link"]
    assert href(widget) == orange.login_url
    assert 'target="_blank"' in widget.link.value and 'rel="noopener"' in widget.link.value

    first = sign_in(orange)
    assert 85 <= left(widget) <= 90
    assert controls(widget) == ["Sign out", "Refresh now"]
    assert widget.link.value == ""  # the authorize URL leaves the state once signed in
    assert_no_secret(orange, first)

    seen: list[str] = []
    widget.status_line.observe(lambda change: seen.append(change["new"]), names="value")
    time.sleep(2.1)
    held = orange.token
    assert held is not None
    before = math.floor(held.expires_in() or 0)  # at most 87
    widget.refresh_button.click()
    texts = [re.sub(r"<[^>]+>", "", value) for value in seen]
    assert "Refreshing…" in texts
    assert SIGNED_IN.fullmatch(texts[-1])
    assert left(widget) > before  # the countdown restarted from the new token
    assert_no_secret(orange, first)

    sandbox.sandbox.add_fault(match="token", status=400, error="invalid_grant")
    widget.refresh_button.click()  # the error shows in the status line, never raised
    assert widget.status_text == "Session expired — sign in again"
    assert controls(widget) == ["Sign in again"]

    widget.sign_in_again_button.click()
    second = sign_in(orange)
    assert SIGNED_IN.fullmatch(widget.status_text)
    assert_no_secret(orange, first, second)
    widget.sign_out_button.click()
    assert orange.token is None
    assert widget.status_text == "Not signed in"
    assert controls(widget) == ["Sign in again"]
    assert widget.link.value == ""
    assert_no_secret(orange, first, second)


def test_a_refused_sign_in_is_one_sentence(
    orange: Orange, widget: LoginWidget, controls: Helper
) -> None:
    flow = orange.begin_login()
    assert flow.redirect_uri is not None
    httpx.get(flow.redirect_uri, params={"error": "access_denied", "state": flow.state}, timeout=10)
    with pytest.raises(LoginError, match="access_denied"):
        orange.wait_for_login(timeout=10)
    assert widget.status_text == " ".join(orange.last_error.split())
    assert "access_denied" in widget.status_text and "\n" not in widget.status_text
    assert controls(widget) == ["Sign in again"]
    assert widget.link.value == ""


def test_the_countdown_moves_by_itself_and_stops_when_signed_out(
    orange: Orange, widget: LoginWidget, sandbox: SandboxServer, sign_in: Helper
) -> None:
    sandbox.sandbox.configure(access_token_lifetime=100)
    sign_in(orange)
    first = left(widget)
    time.sleep(2.5)  # the last step before the check is then at least 0.4 s old
    assert first - 3 <= left(widget) <= first - 2  # moved without any call
    ticker = widget._ticker
    assert ticker is not None and ticker.is_alive()
    orange.logout()
    ticker.join(0.5)
    assert not ticker.is_alive()  # nothing left to count down


def test_closing_stops_the_countdown_and_the_observers(
    orange: Orange, widget: LoginWidget, sandbox: SandboxServer, sign_in: Helper
) -> None:
    sandbox.sandbox.configure(access_token_lifetime=100)
    sign_in(orange)
    ticker = widget._ticker
    assert ticker is not None
    widget.close()
    ticker.join(0.5)
    assert not ticker.is_alive()
    text = widget.status_text
    orange.logout()
    assert widget.status_text == text


def test_it_follows_refreshes_made_by_api_calls(
    orange: Orange, widget: LoginWidget, sandbox: SandboxServer, sign_in: Helper
) -> None:
    sandbox.sandbox.configure(access_token_lifetime=4)
    sign_in(orange)
    old = orange.token
    time.sleep(2.1)  # now due: 2 s left of 4
    worker = threading.Thread(target=orange.request, args=("GET", "/sandbox/echo/v1/ping"))
    worker.start()  # as a %orange call would, on any thread
    worker.join(10)
    assert orange.token is not old
    assert 3 <= left(widget) <= 4


def test_paste_sign_in_clears_the_box_and_never_echoes_the_code(
    make_session: Helper,
    comms: list[str],
    authorize: Helper,
    controls: Helper,
    assert_no_secret: Helper,
) -> None:
    orange = make_session(redirect_uri=PASTE_REDIRECT)
    widget = LoginWidget(orange)
    try:
        landing = authorize(orange)
        assert controls(widget) == ["link", "paste", "Complete sign-in"]

        widget.paste_box.set_state({"value": "not the address"})  # as the browser sends it
        assert widget.paste_box.value == ""
        assert widget.status_text.startswith("Waiting for sign-in… — ")
        assert orange.status == "waiting"

        widget.paste_box.set_state({"value": landing.location})
        assert widget.paste_box.value == ""
        assert SIGNED_IN.fullmatch(widget.status_text)
        assert "paste" not in controls(widget)
        assert_no_secret(orange, landing)
    finally:
        widget.close()


def test_a_refused_pasted_code_ends_in_error_with_the_box_cleared(
    make_session: Helper,
    comms: list[str],
    authorize: Helper,
    controls: Helper,
    assert_no_secret: Helper,
) -> None:
    orange = make_session(redirect_uri=PASTE_REDIRECT)
    widget = LoginWidget(orange)
    try:
        landing = authorize(orange)
        widget.paste_box.set_state({"value": landing.location.replace("code=", "code=x")})
        assert widget.paste_box.value == ""
        assert orange.status == "error"
        assert widget.status_text == " ".join(orange.last_error.split())
        assert controls(widget) == ["Sign in again"]
        assert_no_secret(orange, landing)
    finally:
        widget.close()


def test_show_login_without_a_kernel_prints_the_link(
    orange: Orange, comms: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    flow = orange.begin_login()
    shown = show_login(orange)
    try:
        assert capsys.readouterr().out == f"Open this link to sign in with Orange: {flow.url}\n"
        assert flow.state not in repr(shown)
        newer = show_login(orange)  # a new widget each time: it offers the sign-in now
        assert newer is not shown and newer.offers_sign_in and not shown.offers_sign_in
        newer.close()
        assert shown.offers_sign_in  # the newest open one offers it
    finally:
        shown.close()
