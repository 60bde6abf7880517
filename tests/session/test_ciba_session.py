"""``Orange.begin_ciba`` then ``wait_for_login``: a sign-in by phone on the sandbox."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import peers
import pytest

from orange_nb import ConfigError, LoginDenied, Orange
from orange_nb.keys import new_key_pair
from orange_nb.sandbox import SandboxServer
from orange_nb.session.ciba import CibaAttempt

PHONE = "tel:+33612345678"


@pytest.fixture
def phone_session(
    sandbox: SandboxServer, make_session: Callable[..., Orange], tmp_path: Path
) -> Orange:
    return peers.phone_session(sandbox, make_session, tmp_path, "RS256", signed_in=False)


def _decide(sandbox: SandboxServer, decision: str) -> threading.Thread:
    return peers.decide_next(sandbox, decision)


def test_sign_in_by_phone_then_call_the_api(phone_session: Orange, sandbox: SandboxServer) -> None:
    attempt = phone_session.begin_ciba(PHONE, binding_message="Workshop 7")
    assert isinstance(attempt, CibaAttempt) and phone_session.signin.attempt is attempt
    assert phone_session.status == "waiting" and phone_session.handoff_name == "ciba"
    assert attempt.phone == "+33 6 •• •• •• 78" and "612345" not in repr(attempt)
    _decide(sandbox, "approve").join()
    token = phone_session.wait_for_login(timeout=10)
    assert phone_session.status == "signed_in" and phone_session.token is token
    assert phone_session.user == "Subscriber ••78"  # no output shows the whole number
    assert "612345" not in repr(phone_session)
    assert phone_session.request("GET", "/sandbox/mobility/v1/zones").status_code == 200
    refreshed = phone_session.refresh()  # refreshes sign with the key too
    assert refreshed.access_token != token.access_token


def test_denied_on_the_phone_is_reported_once(
    phone_session: Orange, sandbox: SandboxServer
) -> None:
    phone_session.begin_ciba(PHONE)
    _decide(sandbox, "deny").join()
    with pytest.raises(LoginDenied, match=r"\+33 6 •• •• •• 78"):
        phone_session.wait_for_login(timeout=10)
    assert phone_session.status == "error" and "refused on the phone" in phone_session.last_error


def test_a_newer_sign_in_stops_the_polling(phone_session: Orange, sandbox: SandboxServer) -> None:
    sandbox.sandbox.configure(ciba_interval=0.2)
    first = phone_session.begin_ciba(PHONE)
    second = phone_session.begin_ciba("+33 6 00 00 00 99")
    assert first._cancel.is_set() and not second._cancel.is_set()
    time.sleep(0.5)
    assert first.request.polls <= 1  # it stopped when the second began
    phone_session.signin.cancel()


def test_without_a_backchannel_endpoint_or_key(
    make_session: Callable[..., Orange], tmp_path: Path
) -> None:
    at_orange = Orange(client_id="app", token_auth_method="private_key_jwt", private_key="/nope")
    with pytest.raises(ConfigError, match="backchannel_url"):
        at_orange.begin_ciba(PHONE)
    at_orange.backchannel_url = "https://api.orange.com/example/bc-authorize"
    with pytest.raises(ConfigError, match="does not exist"):  # PrivateKeyError, before sending
        at_orange.begin_ciba(PHONE)
    assert at_orange.status == "signed_out"
    no_key = make_session(signed_in=False, token_auth_method="private_key_jwt")
    with pytest.raises(ConfigError, match="no private key is set"):
        no_key.begin_ciba(PHONE)


def test_settings_from_the_environment_and_never_in_a_pickle(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import pickle

    pair = new_key_pair(tmp_path, "ES256")
    monkeypatch.setenv("ORANGE_PRIVATE_KEY", pair.private_path.read_text())
    monkeypatch.setenv("ORANGE_KEY_ID", "kid-from-env")
    monkeypatch.setenv("ORANGE_BACKCHANNEL_URL", "https://op.example/bc")
    orange = Orange(client_id="app", token_auth_method="private_key_jwt")
    assert orange.endpoints.backchannel_url == "https://op.example/bc"
    assert orange.wiring.signing_key().kid == "kid-from-env"
    assert '"d"' not in repr(orange.trait_values())  # Secret('…')
    monkeypatch.delenv("ORANGE_PRIVATE_KEY")
    assert pickle.loads(pickle.dumps(orange)).private_key is None


def test_logout_revokes_with_the_key_too(phone_session: Orange, sandbox: SandboxServer) -> None:
    phone_session.begin_ciba(PHONE)
    _decide(sandbox, "approve").join()
    token = phone_session.wait_for_login(timeout=10)
    phone_session.logout()  # no client secret: the signed assertion authenticates the revoke
    answer = httpx.get(
        f"{sandbox.url}/sandbox/mobility/v1/zones",
        headers={"Authorization": f"Bearer {token.access_token.reveal()}"},
    )
    assert answer.status_code == 401


def test_waiting_again_after_a_refusal_asks_the_phone_again(
    phone_session: Orange, sandbox: SandboxServer
) -> None:
    phone_session.begin_ciba(PHONE, binding_message="Workshop 7")
    _decide(sandbox, "deny").join()
    with pytest.raises(LoginDenied):
        phone_session.wait_for_login(timeout=10)
    approving = _decide(sandbox, "approve")
    phone_session.wait_for_login(timeout=10)  # a new request to the same phone, not a link
    approving.join()
    stats = sandbox.sandbox.stats()
    assert stats["backchannel"]["requested"] == 2  # type: ignore[index]
    assert stats["authorizations"]["requested"] == 0  # type: ignore[index]
    assert phone_session.status == "signed_in" and phone_session.handoff_name == "ciba"
    assert sandbox.sandbox.backchannel_requests()[-1]["binding_message"] == "Workshop 7"
