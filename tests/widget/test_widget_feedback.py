"""Every control answers: Refresh now confirms, the countdown ticks in the front end (the
kernel stays quiet), a session's widgets agree and one offers the sign-in, an error shows once."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from orange_nb import Orange
from orange_nb.sandbox import SandboxServer
from orange_nb.widget.login import LoginWidget, _widgets_of, show_login
from orange_nb.widget.words import ERROR_BELOW, wall_clock

Helper = Callable[..., Any]
CLOCK = re.compile(r'<span class="orange-nb-clock" data-expires="([0-9.]+)">(\d\d):(\d\d)</span>')


def test_refresh_now_confirms_with_the_time_and_the_new_countdown(
    orange: Orange, widget: LoginWidget, sandbox: SandboxServer, sign_in: Helper
) -> None:
    sandbox.sandbox.configure(access_token_lifetime=3600)
    sign_in(orange)
    assert "refreshed" not in widget.status_text  # a fresh sign-in is no refresh
    time.sleep(1.1)
    widget.refresh_button.click()
    token = orange.token
    assert token is not None
    stamp = wall_clock(token.issued_at)
    assert f" · refreshed {stamp} · expires in 59:5" in widget.status_text, widget.status_text
    assert widget.view.tone == "ok"
    # The synced line says it too, not only the kernel-side text.
    assert f"refreshed {stamp}" in widget.status_line.value


def test_the_countdown_ticks_in_the_front_end_and_the_kernel_stays_quiet(
    orange: Orange, widget: LoginWidget, sandbox: SandboxServer, sign_in: Helper, comms: list[str]
) -> None:
    sandbox.sandbox.configure(access_token_lifetime=100)
    sign_in(orange)
    token = orange.token
    assert token is not None and token.expires_at is not None
    found = CLOCK.search(widget.status_line.value)
    assert found, widget.status_line.value
    assert float(found.group(1)) == pytest.approx(token.expires_at, abs=0.01)
    # The front-end script that ticks it each second rides along (escaped in an attribute).
    script = html.unescape(widget.status_line.value)
    assert "setInterval(tick,1000)" in script and "document.hidden" in script
    sent = len(comms)
    time.sleep(2.5)
    assert len(comms) == sent  # no message per second: the browser counts, not the kernel
    ticker = widget._ticker
    assert ticker is not None  # it sleeps until expiry, where the view changes in kind
    assert 95 < (widget._changes_in() or 0) <= 100


def test_widgets_of_one_session_agree_and_only_the_newest_offers_the_sign_in(
    orange: Orange, comms: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    orange.begin_login()
    first, second = show_login(orange), show_login(orange)
    try:
        assert second.offers_sign_in and not first.offers_sign_in
        assert second.link.value and not first.link.value
        assert second.status_text == "Waiting for sign-in…"
        assert first.status_text == (
            "Waiting for sign-in… — the sign-in link is in the newest login output"
        )
        assert first.view.sign_in_again is False and first.view.paste is False
        assert httpx.get(orange.login_url, follow_redirects=True, timeout=10).status_code == 200
        orange.wait_for_login(timeout=10)
        assert first.status_text == second.status_text
        assert first.status_text.startswith("Signed in as Demo User")
        orange.logout()
        assert (first.status_text, second.status_text) == ("Not signed in", "Not signed in")
        assert second.view.sign_in_again and not first.view.sign_in_again
    finally:
        second.close()
        first.close()


def test_a_refused_sign_in_shows_its_reason_once(
    make_session: Helper, ipython: Any, comms: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    orange = make_session()
    ipython.user_ns["orange"] = orange
    # Refuse as the sandbox's Deny button does: its redirect lands on the kernel's listener.
    ipython.user_ns["deny"] = lambda: httpx.get(
        orange.signin.attempt.flow.redirect_uri,
        params={"error": "access_denied", "state": orange.signin.attempt.flow.state},
        timeout=10,
    )
    result = ipython.run_cell(
        "import threading\n"
        "orange.begin_login()\n"
        "threading.Timer(0.3, deny).start()\n"
        "orange.login(wait=True, timeout=10)\n"
    )
    capsys.readouterr()
    assert result.error_in_exec is not None  # the cell still fails, with the reason
    assert "The sign-in was refused" in str(result.error_in_exec)
    widgets = _widgets_of(orange)
    assert widgets
    try:
        for widget in widgets:  # and the widget does not repeat it
            assert widget.status_text == ERROR_BELOW
            assert "refused" not in widget.status_line.value
            assert widget.view.sign_in_again == widget.offers_sign_in
    finally:
        for widget in widgets:
            widget.close()


def test_an_error_nobody_raised_stays_in_the_widget(
    orange: Orange, widget: LoginWidget, authorize: Helper
) -> None:
    landing = authorize(orange)
    flow = landing.flow
    httpx.get(flow.redirect_uri, params={"error": "access_denied", "state": flow.state}, timeout=10)
    deadline = time.monotonic() + 10
    while orange.status != "error" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "The sign-in was refused" in widget.status_text
    # A success after it clears the stale error.
    sign_again = authorize(orange)
    assert httpx.get(sign_again.location, timeout=10).status_code == 200
    orange.wait_for_login(timeout=10)
    assert widget.status_text.startswith("Signed in as Demo User")
    assert orange.last_error == ""
