"""CAMARA's single-use tokens (Number Verification): the first good call spends the token.

The session then says so at the next call, without sending anything and without trying
a refresh (there is no refresh token); a token another kernel spent is named as spent too.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from orange_nb import LoginRequired, Orange
from orange_nb.errors import TOKEN_SPENT
from orange_nb.sandbox import SandboxServer
from orange_nb.widget.words import Snapshot, view

NV = "dpv:FraudPreventionAndDetection#number-verification:verify"
VERIFY = "/sandbox/camara/number-verification/v0/verify"
BODY = {"phoneNumber": "+33612345678"}


@pytest.fixture
def nv_session(make_session: Callable[..., Orange]) -> Orange:
    return make_session(scopes=["openid", NV])


def _calls(sandbox: SandboxServer) -> int:
    return int(sandbox.sandbox.stats()["api_calls"])  # type: ignore[call-overload]


def test_the_first_call_spends_the_token_and_the_next_says_so(
    nv_session: Orange, sandbox: SandboxServer
) -> None:
    token = nv_session.token
    assert token is not None and token.single_use and token.refresh_token is None
    first = nv_session.request("POST", VERIFY, json=BODY).json()
    assert first == {"devicePhoneNumberVerified": False}  # "demo" has no phone number
    assert nv_session.token is None and nv_session.status == "expired"
    assert nv_session.last_error == "Single-use token spent — sign in again."
    sent = _calls(sandbox)
    with pytest.raises(LoginRequired) as spent:
        nv_session.request("POST", VERIFY, json=BODY)
    assert str(spent.value).startswith(TOKEN_SPENT) and "orange.login()" in str(spent.value)
    assert _calls(sandbox) == sent  # nothing was sent with the spent token
    assert sandbox.sandbox.stats()["refreshes"] == 0


def test_a_token_spent_by_another_kernel_is_named_spent(
    nv_session: Orange, make_session: Callable[..., Orange], sandbox: SandboxServer
) -> None:
    other = make_session(signed_in=False, scopes=["openid", NV])
    assert nv_session.token is not None
    other.keeper.set(nv_session.token)  # the same token, as two kernels sharing a store hold it
    other.request("POST", VERIFY, json=BODY)
    with pytest.raises(LoginRequired, match="single-use"):
        nv_session.request("POST", VERIFY, json=BODY)  # the sandbox answers 401: spent
    assert nv_session.status == "expired" and "spent" in nv_session.last_error


def test_a_failed_call_does_not_spend_it(nv_session: Orange) -> None:
    with pytest.raises(Exception, match="phoneNumber"):
        nv_session.request(
            "POST", VERIFY, json={"phoneNumber": "0612"}
        )  # 400: the API did not use it
    assert nv_session.token is not None and nv_session.status == "signed_in"


def test_the_widget_says_spent_not_expired() -> None:
    snap = Snapshot(
        status="expired",
        token=None,
        user=None,
        last_error="Single-use token spent — sign in again.",
        login_url="",
        handoff=None,
    )
    shown = view(snap, 0.0)
    assert shown.text == "Single-use token spent — sign in again" and shown.sign_in_again


def test_a_rejection_after_signing_in_again_uses_the_new_token() -> None:
    from orange_nb.oauth.keeper import TokenKeeper
    from orange_nb.oauth.token import Token

    keeper = TokenKeeper()
    spent, fresh = Token("sbx_at_old", scopes=("openid", NV)), Token("sbx_at_new", scopes=(NV,))
    keeper.set(spent)
    keeper.set(fresh)  # a new sign-in while a call with the old token was under way
    assert keeper.after_rejection(spent) is fresh and keeper.token is fresh
    with pytest.raises(LoginRequired, match="single-use"):
        keeper.after_rejection(fresh)  # the current one refused: spent, nothing to refresh
    assert keeper.token is None
