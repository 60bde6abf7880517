"""Signing in against the sandbox: code exchange, PKCE, iss, replay, client authentication."""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from orange_nb import LoginError, LoginRequired, Orange
from orange_nb.errors import ConfigError
from orange_nb.oauth.secret import Secret
from orange_nb.sandbox import SandboxServer
from orange_nb.session.signin import CodeAttempt


def landed_url(orange: Orange) -> tuple[str, str]:
    """Start a login and return (authorize URL, the URL the browser lands on), not delivered."""
    flow = orange.begin_login()
    answer = httpx.get(flow.url, follow_redirects=False)
    assert answer.status_code in (302, 303)
    return flow.url, answer.headers["location"]


def test_sign_in_gives_tokens_user_and_granted_scopes(make_session: Callable[..., Orange]) -> None:
    orange = make_session()
    assert orange.logged_in and orange.status == "signed_in"
    assert orange.token is not None
    assert orange.token.access_token.reveal().startswith("sbx_at_")
    assert orange.token.refresh_token and orange.token.refresh_token.reveal().startswith("sbx_rt_")
    assert set(orange.token.scopes) == {"openid", "profile", "mobility:read"}
    assert orange.user  # from the ID token's claims
    assert 3590 < (orange.token.expires_in() or 0) <= 3600


def test_authorize_request_uses_pkce_state_nonce(make_session: Callable[..., Orange]) -> None:
    orange = make_session(signed_in=False)
    flow = orange.begin_login()
    query = parse_qs(urlsplit(flow.url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["state"] == [flow.state] and len(flow.state) >= 43
    assert query["nonce"] == [flow.nonce]
    assert urlsplit(query["redirect_uri"][0]).hostname == "127.0.0.1"


def test_paste_of_landed_url_completes(make_session: Callable[..., Orange]) -> None:
    orange = make_session(signed_in=False)
    _, landed = landed_url(orange)
    token = orange.complete_login(landed)
    assert token.access_token.reveal().startswith("sbx_at_") and orange.logged_in


def test_wrong_state_refused_and_nothing_exchanged(
    make_session: Callable[..., Orange], sandbox: SandboxServer
) -> None:
    orange = make_session(signed_in=False)
    _, landed = landed_url(orange)
    forged = landed.replace("state=", "state=x")
    with pytest.raises(LoginError, match="another login attempt"):
        orange.complete_login(forged)
    assert sandbox.sandbox.stats()["token_requests"]["authorization_code"] == 0  # type: ignore[index]
    assert not orange.logged_in


def test_iss_mix_up_refused(make_session: Callable[..., Orange]) -> None:
    orange = make_session(signed_in=False)
    _, landed = landed_url(orange)
    assert "iss=" in landed
    with pytest.raises(LoginError, match="another issuer"):
        orange.complete_login(landed.replace("iss=", "iss=https%3A%2F%2Fevil.example&x="))


def test_code_replay_refused(make_session: Callable[..., Orange]) -> None:
    orange = make_session(signed_in=False)
    _, landed = landed_url(orange)
    orange.complete_login(landed)
    other = make_session(signed_in=False)
    flow = other.begin_login()
    # Same code, presented by another login with its own (different) verifier and state.
    params = parse_qs(urlsplit(landed).query)
    replay = f"{flow.redirect_uri}?code={params['code'][0]}&state={flow.state}"
    with pytest.raises(LoginError, match="invalid_grant"):
        other.complete_login(replay)


def test_pkce_mismatch_refused(make_session: Callable[..., Orange]) -> None:
    orange = make_session(signed_in=False)
    _, landed = landed_url(orange)
    attempt = orange.signin.attempt
    assert isinstance(attempt, CodeAttempt)
    attempt.flow.code_verifier = Secret("x" * 64)  # not the verifier behind the challenge
    with pytest.raises(LoginError, match="invalid_grant"):
        orange.complete_login(landed)


def test_access_denied_is_one_sentence(
    make_session: Callable[..., Orange], sandbox: SandboxServer
) -> None:
    orange = make_session(signed_in=False)
    flow = orange.begin_login()
    landed = f"{flow.redirect_uri}?error=access_denied&state={flow.state}"
    with pytest.raises(LoginError) as info:
        orange.complete_login(landed)
    assert "refused" in str(info.value) and "\n" not in str(info.value)
    assert orange.status == "error" and orange.last_error


def test_tricky_secret_with_basic_and_post(
    make_session: Callable[..., Orange], sandbox: SandboxServer
) -> None:
    secret = "s:e%c+r et/é€"
    sandbox.sandbox.add_client("tricky app", secret)
    for method in ("client_secret_basic", "client_secret_post"):
        orange = make_session(
            client_id="tricky app", client_secret=secret, token_auth_method=method
        )
        assert orange.logged_in, method


def test_wrong_secret_says_what_to_check(
    make_session: Callable[..., Orange], sign_in: Callable[..., None]
) -> None:
    orange = make_session(signed_in=False, client_secret="nope")
    with pytest.raises(LoginError, match="ORANGE_CLIENT_SECRET"):
        sign_in(orange)


def test_expires_in_as_string(make_session: Callable[..., Orange], sandbox: SandboxServer) -> None:
    sandbox.sandbox.configure(expires_in_as_string=True, access_token_lifetime=1234)
    orange = make_session()
    assert orange.token is not None and 1200 < (orange.token.expires_in() or 0) <= 1234


def test_new_login_supersedes_the_old_link(make_session: Callable[..., Orange]) -> None:
    orange = make_session(signed_in=False)
    _, first = landed_url(orange)
    orange.begin_login()
    with pytest.raises(LoginError):
        orange.complete_login(first)  # the old state belongs to a cancelled attempt


def test_wait_for_login_times_out_without_hanging(make_session: Callable[..., Orange]) -> None:
    orange = make_session(signed_in=False)
    orange.begin_login()
    with pytest.raises(TimeoutError, match="stays valid"):
        orange.wait_for_login(timeout=0.3)


def test_logout_revokes_and_forgets(
    make_session: Callable[..., Orange], sandbox: SandboxServer
) -> None:
    orange = make_session()
    token = orange.token
    assert token is not None
    orange.logout()
    assert not orange.logged_in and orange.status == "signed_out"
    assert sandbox.sandbox.stats()["revocations"] >= 1  # type: ignore[operator]
    answer = httpx.get(
        f"{sandbox.url}/sandbox/mobility/v1/zones",
        headers={"Authorization": f"Bearer {token.access_token.reveal()}"},
    )
    assert answer.status_code == 401
    with pytest.raises(LoginRequired, match="login"):
        orange.get("/sandbox/mobility/v1/zones")


def test_missing_credentials_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ORANGE_CLIENT_ID", raising=False)
    monkeypatch.delenv("ORANGE_CLIENT_SECRET", raising=False)
    with pytest.raises(ConfigError, match="ORANGE_CLIENT_ID"):
        Orange().begin_login()
    with pytest.raises(ConfigError, match="ORANGE_CLIENT_SECRET"):
        Orange(client_id="x").begin_login()


def test_settings_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    from traitlets.config import Config

    monkeypatch.setenv("ORANGE_CLIENT_ID", "from-env")
    monkeypatch.setenv("ORANGE_SCOPES", "openid env:scope")
    monkeypatch.setenv("ORANGE_API_URL", "https://env.example")
    assert Orange().client_id == "from-env"
    assert Orange().scope_list == ("openid", "env:scope")
    config = Config()
    config.Orange.client_id = "from-config"
    assert Orange(config=config).client_id == "from-config"
    assert Orange(client_id="from-kwarg", config=config).client_id == "from-kwarg"
    assert Orange(scopes=["a", "b c"]).scope_list == ("a", "b", "c")
    assert Orange().endpoints.api_url == "https://env.example"
    assert Orange().endpoints.token_url.endswith("/openidconnect/fr/v1/token")  # preset


def test_no_secret_in_repr_pickle_or_json(session: Orange) -> None:
    token = session.token
    assert token is not None
    secret = session.client_secret.reveal() if session.client_secret else ""  # held as a Secret
    dumped = [repr(session), str(session), repr(token), json.dumps({"o": session}, default=str)]
    blob = pickle.dumps(session)
    for text in dumped:
        assert secret not in text and token.access_token.reveal() not in text
    assert secret.encode() not in blob and token.access_token.reveal().encode() not in blob
    clone = pickle.loads(blob)
    assert (
        clone.client_secret is None and not clone.logged_in and clone.client_id == session.client_id
    )
