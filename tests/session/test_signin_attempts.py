"""SignIn runs any kind of attempt by the same rules: the newest wins, a failure is reported
once, a token is adopted only where the attempt began. The attempt here hands over a token
that a real sandbox sign-in produced, when the test releases it."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from orange_nb import LoginError, Orange
from orange_nb.oauth.token import Token
from orange_nb.sandbox import SandboxServer
from orange_nb.session.signin import Attempt, CodeAttempt


class HandedOver:
    """An attempt whose token arrives when the test says (as a phone approval would)."""

    name = "handed-over"
    url = ""
    waits_for_paste = False

    def __init__(self, token: Token | None = None, error: BaseException | None = None) -> None:
        self.token, self.error = token, error
        self.release = threading.Event()
        self.closed = 0

    def wait(self, timeout: float) -> Token:
        if not self.release.wait(timeout):
            raise TimeoutError("not released")
        if self.error is not None:
            raise self.error
        assert self.token is not None
        return self.token

    def close(self) -> None:
        self.closed += 1


def _real_token(make_session: Callable[..., Orange]) -> Token:
    donor = make_session()
    assert donor.token is not None
    return donor.token


def test_an_attempt_kind_plugs_in_and_its_token_is_used(
    make_session: Callable[..., Orange],
) -> None:
    orange = make_session(signed_in=False)
    attempt = HandedOver(_real_token(make_session))
    checked: Attempt = attempt  # the protocol is all SignIn needs
    orange.signin.start(checked, orange.scope_list)
    assert orange.status == "waiting" and orange.handoff_name == "handed-over"
    attempt.release.set()
    token = orange.wait_for_login(timeout=5)
    assert orange.status == "signed_in" and orange.token is token
    assert orange.user  # who signed in: the same rule as for a code login
    assert orange.request("GET", "/sandbox/echo/v1/ping").status_code == 200
    assert attempt.closed >= 1


def test_the_newest_attempt_wins(make_session: Callable[..., Orange]) -> None:
    orange = make_session(signed_in=False)
    token = _real_token(make_session)
    old, new = HandedOver(token), HandedOver(token)
    orange.signin.start(old, orange.scope_list)
    orange.signin.start(new, orange.scope_list)
    assert old.closed == 1  # cancelled when the new one began
    old.release.set()
    assert orange.status == "waiting" and orange.token is None
    new.release.set()
    orange.wait_for_login(timeout=5)
    assert orange.status == "signed_in"


def test_a_failure_is_reported_once_and_a_retry_clears_it(
    make_session: Callable[..., Orange],
) -> None:
    orange = make_session(signed_in=False)
    failing = HandedOver(error=LoginError("The phone refused the sign-in."))
    orange.signin.start(failing, orange.scope_list)
    failing.release.set()
    with pytest.raises(LoginError, match="phone refused"):
        orange.wait_for_login(timeout=5)
    assert orange.status == "error" and orange.last_error == "The phone refused the sign-in."
    retry = HandedOver(_real_token(make_session))
    orange.signin.start(retry, orange.scope_list)
    assert orange.last_error == ""  # the stale error goes when a new attempt begins
    retry.release.set()
    orange.wait_for_login(timeout=5)
    assert orange.status == "signed_in" and orange.last_error == ""


def test_a_token_is_not_adopted_once_the_session_points_elsewhere(
    make_session: Callable[..., Orange], sandbox: SandboxServer
) -> None:
    orange = make_session(signed_in=False)
    attempt = HandedOver(_real_token(make_session))
    orange.signin.start(attempt, orange.scope_list)
    with pytest.warns(UserWarning):
        orange.api_url = sandbox.url.rstrip("/") + "/elsewhere"
    attempt.release.set()  # cancelled by the change: its token lands nowhere
    assert attempt.closed == 1
    assert orange.token is None and orange.status == "signed_out"


def test_a_code_attempt_is_one_kind(make_session: Callable[..., Orange]) -> None:
    orange = make_session(signed_in=False)
    flow = orange.begin_login()
    attempt = orange.signin.attempt
    assert isinstance(attempt, CodeAttempt) and attempt.flow is flow and attempt.url == flow.url
