"""The authorization server: pages, codes, tokens, refresh, PKCE, client authentication."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import httpx
import pytest

from orange_nb.sandbox import DEMO_CLIENT_SECRET, ISSUER

OIDC = "/openidconnect/fr/v1/"


def jwt_claims(token: str, key: str) -> dict[str, Any]:
    header, payload, signature = token.split(".")
    expected = hmac.new(key.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64decode(signature + "==") == expected, "bad signature"
    return dict(json.loads(base64.urlsafe_b64decode(payload + "==")))


def test_full_flow_lands_on_loopback_listener_and_tokens_work(make_driver, listener) -> None:
    driver = make_driver(redirect_uri=listener.redirect_uri)
    page = driver.authorize()
    assert page.status_code == 200
    assert "orange_nb sandbox" in page.text and "not Orange" in page.text
    assert 'id="username"' in page.text and 'value="demo"' in page.text
    pending = page.text.split('name="pending" value="')[1].split('"')[0]
    consent = driver.step(pending, step="sign-in", username="demo", password="whatever")
    assert "Read synthetic mobility statistics" in consent.text
    landed = driver.http.post(
        OIDC + "authorize",
        data={"pending": pending, "step": "consent", "decision": "approve"},
        follow_redirects=True,
    )
    assert landed.status_code == 200 and "Signed in." in landed.text
    params = listener.wait()
    assert params["state"] == driver.state and params["iss"] == ISSUER
    assert params["code"].startswith("sbx_code_")

    answer = driver.exchange(params["code"])
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    tokens = answer.json()
    assert tokens["access_token"].startswith("sbx_at_") and len(tokens["access_token"]) >= 7 + 32
    assert tokens["refresh_token"].startswith("sbx_rt_") and len(tokens["refresh_token"]) >= 7 + 32
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600
    assert tokens["scope"] == "openid profile mobility:read"
    claims = jwt_claims(tokens["id_token"], DEMO_CLIENT_SECRET)
    assert claims["iss"] == ISSUER and claims["aud"] == driver.client_id
    assert claims["nonce"] == driver.nonce and claims["name"] == "Demo User"
    assert claims["exp"] > claims["iat"] >= time.time() - 5

    info = driver.api("GET", OIDC + "userinfo", tokens["access_token"]).json()
    assert info["sub"] == claims["sub"] and info["name"] == "Demo User" and "email" in info
    zones = driver.api("GET", "/sandbox/mobility/v1/zones", tokens["access_token"])
    assert zones.status_code == 200 and len(zones.json()["items"]) >= 10


def test_no_id_token_without_openid_and_userinfo_needs_openid(oauth) -> None:
    tokens = oauth.login(scope="mobility:read")
    assert "id_token" not in tokens
    info = oauth.api("GET", OIDC + "userinfo", tokens["access_token"])
    assert info.status_code == 403 and info.json()["code"] == 50


def test_userinfo_without_profile_gives_sub_only(oauth) -> None:
    tokens = oauth.login(scope="openid")
    assert set(oauth.api("GET", OIDC + "userinfo", tokens["access_token"]).json()) == {"sub"}


def test_deny_redirects_access_denied_with_state_and_iss(oauth) -> None:
    params = oauth.sign_in(decision="deny")
    assert params["error"] == "access_denied"
    assert params["state"] == oauth.state and params["iss"] == ISSUER
    assert "code" not in params
    assert oauth.server.sandbox.stats()["authorizations"]["denied"] == 1


def test_pending_id_is_single_use(oauth) -> None:
    page = oauth.authorize()
    pending = page.text.split('name="pending" value="')[1].split('"')[0]
    oauth.step(pending, step="sign-in", username="demo")
    assert oauth.step(pending, step="consent", decision="approve").status_code == 303
    again = oauth.step(pending, step="consent", decision="approve")
    assert again.status_code == 400 and "location" not in again.headers


def test_consent_requires_sign_in_first(oauth) -> None:
    pending = oauth.authorize().text.split('name="pending" value="')[1].split('"')[0]
    answer = oauth.step(pending, step="consent", decision="approve")
    assert answer.status_code == 400 and "location" not in answer.headers


def test_empty_username_shows_the_form_again(oauth) -> None:
    pending = oauth.authorize().text.split('name="pending" value="')[1].split('"')[0]
    answer = oauth.step(pending, step="sign-in", username="  ")
    assert (
        answer.status_code == 400
        and 'id="sign-in"' in answer.text
        and "Enter a user name" in answer.text
    )


def test_auto_consent_setting_and_environment(oauth, monkeypatch) -> None:
    monkeypatch.delenv("ORANGE_SANDBOX_AUTO_CONSENT", raising=False)
    assert oauth.authorize().status_code == 200  # pages by default
    monkeypatch.setenv("ORANGE_SANDBOX_AUTO_CONSENT", "alice")
    answer = oauth.authorize()
    assert answer.status_code == 302
    params = dict(parse_qsl(urlsplit(answer.headers["location"]).query))
    assert params["state"] == oauth.state and params["iss"] == ISSUER
    tokens = oauth.exchange(params["code"]).json()
    assert jwt_claims(tokens["id_token"], DEMO_CLIENT_SECRET)["name"] == "Alice Martin"
    monkeypatch.delenv("ORANGE_SANDBOX_AUTO_CONSENT")
    oauth.server.sandbox.configure(auto_consent="bob")
    assert oauth.authorize().status_code == 302
    # Auto-consent still validates the request.
    refused = oauth.authorize(**oauth.params(scope="openid nope"))
    assert dict(parse_qsl(urlsplit(refused.headers["location"]).query))["error"] == "invalid_scope"


def test_prompt_none_without_auto_consent_is_login_required(oauth) -> None:
    answer = oauth.authorize(**oauth.params(prompt="none"))
    assert answer.status_code == 302
    assert dict(parse_qsl(urlsplit(answer.headers["location"]).query))["error"] == "login_required"


# ---- authorize errors ------------------------------------------------------------------------


def _redirect_params(answer: httpx.Response) -> dict[str, str]:
    assert answer.status_code == 302, answer.text
    return dict(parse_qsl(urlsplit(answer.headers["location"]).query))


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": None}, "invalid_request"),
        ({"scope": "openid unknown:scope"}, "invalid_scope"),
        ({"scope": ""}, "invalid_scope"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"code_challenge": None}, "invalid_request"),
        ({"code_challenge": "short"}, "invalid_request"),
        ({"nonce": "n" * 5000}, "invalid_request"),
    ],
)
def test_authorize_errors_redirect_with_state_and_iss(oauth, change, error) -> None:
    params = _redirect_params(oauth.authorize(**oauth.params(**change)))
    assert params["error"] == error
    assert params["state"] == oauth.state and params["iss"] == ISSUER
    assert params["error_description"]


def test_missing_state_is_refused_without_state(oauth) -> None:
    params = _redirect_params(oauth.authorize(**oauth.params(state=None)))
    assert params["error"] == "invalid_request" and "state" in params["error_description"]
    assert "state" not in params and "code" not in params


def test_repeated_parameters_are_invalid_request(oauth) -> None:
    query = httpx.QueryParams(oauth.params()).add("state", "other")
    params = _redirect_params(oauth.http.get(OIDC + "authorize", params=query))
    assert params["error"] == "invalid_request" and "state" not in params
    query = httpx.QueryParams(oauth.params()).add("scope", "openid")
    params = _redirect_params(oauth.http.get(OIDC + "authorize", params=query))
    assert params["error"] == "invalid_request" and params["state"] == oauth.state


@pytest.mark.parametrize(
    "change",
    [
        {"client_id": "no-such-client"},
        {"client_id": None},
        {"redirect_uri": None},
        {"redirect_uri": "https://evil.example/cb"},
        {"redirect_uri": "https://host.example/orange/callback?x=1"},
        {"redirect_uri": "http://127.0.0.1:9/cb#frag"},
        {"redirect_uri": "http://192.168.0.1:9/cb"},
        {"redirect_uri": "javascript:alert(1)//orange/callback"},
    ],
)
def test_unknown_client_or_redirect_gives_a_page_not_a_redirect(oauth, change) -> None:
    answer = oauth.authorize(**oauth.params(**change))
    assert answer.status_code == 400
    assert "location" not in answer.headers
    assert answer.headers["content-type"].startswith("text/html")
    assert oauth.state not in answer.text


@pytest.mark.parametrize(
    "uri",
    [
        "http://127.0.0.1:8123/any/path",
        "http://localhost:5/cb?x=1",
        "https://hub.example/user/alice/orange/callback",
        "http://localhost:8888/orange/callback",
        "https://orange-nb.invalid/landed",
    ],
)
def test_registered_redirect_uris(oauth, uri) -> None:
    oauth.redirect_uri = uri
    params = oauth.sign_in()
    assert "code" in params


def test_html_pages_escape_what_they_echo(oauth) -> None:
    script = "<script>alert(1)</script>"
    page = oauth.authorize(**oauth.params(client_id=script))
    assert script not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    page = oauth.authorize(**oauth.params(redirect_uri="https://x.example/" + script))
    assert script not in page.text and "&lt;script&gt;" in page.text
    page = oauth.authorize(**oauth.params(login_hint='"><script>alert(1)</script>'))
    assert page.status_code == 200 and "<script>alert" not in page.text
    assert "&quot;&gt;&lt;script&gt;" in page.text
    assert "script-src" not in page.headers["content-security-policy"]  # default-src 'none'
    assert page.headers["x-frame-options"] == "DENY"


def test_forms_post_to_relative_urls(oauth) -> None:
    page = oauth.authorize().text
    assert 'action="authorize"' in page and "http" not in page.split("<form")[1].split(">")[0]


# ---- token endpoint ---------------------------------------------------------------------------


def test_replayed_code_is_refused_and_revokes_its_tokens(oauth) -> None:
    code = oauth.sign_in()["code"]
    tokens = oauth.exchange(code).json()
    assert oauth.api("GET", "/sandbox/mobility/v1/zones", tokens["access_token"]).status_code == 200
    replay = oauth.exchange(code)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    gone = oauth.api("GET", "/sandbox/mobility/v1/zones", tokens["access_token"])
    assert gone.status_code == 401 and gone.json()["code"] == 41
    assert oauth.refresh(tokens["refresh_token"]).json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "change",
    [
        {"code_verifier": "x" * 50},
        {"code_verifier": None},
        {"code_verifier": "bad verifier with spaces that is long enough to pass"},
        {"redirect_uri": "http://127.0.0.1:9/other"},
        {"redirect_uri": None},
    ],
)
def test_code_exchange_mismatches_are_invalid_grant(oauth, change) -> None:
    code = oauth.sign_in()["code"]
    answer = oauth.exchange(code, **change)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"
    assert oauth.exchange(code).status_code == 200  # a refused attempt did not use the code


def test_unknown_code_is_invalid_grant(oauth) -> None:
    answer = oauth.exchange("sbx_code_unknown")
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


def test_verifier_without_challenge_is_refused(oauth) -> None:
    code = oauth.sign_in(**oauth.params(code_challenge=None, code_challenge_method=None))["code"]
    assert oauth.exchange(code).json()["error"] == "invalid_grant"
    assert oauth.exchange(code, code_verifier=None).status_code == 200


def test_code_expires(oauth) -> None:
    oauth.server.sandbox.configure(code_lifetime=0.2)
    code = oauth.sign_in()["code"]
    time.sleep(0.3)
    answer = oauth.exchange(code)
    assert answer.json() == {
        "error": "invalid_grant",
        "error_description": "The authorization code expired.",
    }


def test_code_is_bound_to_its_client(oauth, make_driver) -> None:
    oauth.server.sandbox.add_client("second-app", "second-secret")
    other = make_driver(client_id="second-app", client_secret="second-secret")
    code = oauth.sign_in()["code"]
    other.verifier = oauth.verifier
    answer = other.exchange(code)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"
    assert oauth.exchange(code).status_code == 200


def test_refresh_token_is_bound_to_its_client(oauth, login, make_driver) -> None:
    oauth.server.sandbox.add_client("second-app", "second-secret")
    other = make_driver(client_id="second-app", client_secret="second-secret")
    assert other.refresh(login["refresh_token"]).json()["error"] == "invalid_grant"
    assert oauth.refresh(login["refresh_token"]).status_code == 200


def test_refresh_with_rotation(oauth, login) -> None:
    first = oauth.refresh(login["refresh_token"])
    assert first.status_code == 200 and first.headers["cache-control"] == "no-store"
    body = first.json()
    assert body["refresh_token"] != login["refresh_token"] and body["refresh_token"].startswith(
        "sbx_rt_"
    )
    assert body["access_token"] != login["access_token"]
    assert oauth.refresh(login["refresh_token"]).json()["error"] == "invalid_grant"
    assert oauth.refresh(body["refresh_token"]).status_code == 200
    # The earlier access token still works: rotation retires refresh tokens only.
    assert oauth.api("GET", "/sandbox/mobility/v1/zones", login["access_token"]).status_code == 200
    stats = oauth.server.sandbox.stats()
    assert stats["refreshes"] == 2 and stats["token_requests"]["refresh_token"] == 3


def test_refresh_without_rotation(oauth, login) -> None:
    oauth.server.sandbox.configure(rotate_refresh_tokens=False)
    for _ in range(2):
        answer = oauth.refresh(login["refresh_token"])
        assert answer.status_code == 200 and "refresh_token" not in answer.json()


def test_refresh_scope_narrowing(oauth, login) -> None:
    narrowed = oauth.refresh(login["refresh_token"], scope="mobility:read").json()
    assert narrowed["scope"] == "mobility:read" and "id_token" not in narrowed
    info = oauth.api("GET", OIDC + "userinfo", narrowed["access_token"])
    assert info.status_code == 403
    # The rotated refresh token keeps the original scope (RFC 6749 §6).
    full = oauth.refresh(narrowed["refresh_token"]).json()
    assert full["scope"] == "openid profile mobility:read"
    wider = oauth.refresh(full["refresh_token"], scope="kyc-match:match")
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"


def test_expires_in_as_string(oauth) -> None:
    oauth.server.sandbox.configure(expires_in_as_string=True, access_token_lifetime=120)
    assert oauth.login()["expires_in"] == "120"


def test_basic_auth_secret_with_special_characters(oauth, make_driver) -> None:
    secret = "a:b%c+d e/é€☃=&?"
    oauth.server.sandbox.add_client("odd:client id", secret)
    driver = make_driver(client_id="odd:client id", client_secret=secret)
    code = driver.sign_in()["code"]
    # RFC 6749 §2.3.1: form-url-encode each part, then HTTP Basic.
    user_pass = f"{quote('odd:client id', safe='')}:{quote(secret, safe='')}".replace("%20", "+")
    header = "Basic " + base64.b64encode(user_pass.encode()).decode()
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": driver.redirect_uri,
        "code_verifier": driver.verifier,
    }
    answer = driver.http.post(OIDC + "token", data=form, headers={"Authorization": header})
    assert answer.status_code == 200, answer.text
    # A raw (not form-encoded) secret with '%' and '+' decodes to something else: refused.
    raw = "Basic " + base64.b64encode(f"odd%3Aclient+id:{secret}".encode()).decode()
    refused = driver.http.post(OIDC + "token", data=form, headers={"Authorization": raw})
    assert refused.status_code == 401


def test_client_secret_post(oauth) -> None:
    code = oauth.sign_in()["code"]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": oauth.redirect_uri,
        "code_verifier": oauth.verifier,
        "client_id": oauth.client_id,
        "client_secret": oauth.client_secret,
    }
    assert oauth.http.post(OIDC + "token", data=form).status_code == 200


def test_two_client_auth_methods_are_invalid_request(oauth, login) -> None:
    answer = oauth.token(
        grant_type="refresh_token",
        refresh_token=login["refresh_token"],
        client_id=oauth.client_id,
        client_secret=oauth.client_secret,
    )
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    ("auth", "basic"),
    [
        (("orange-nb-sandbox", "wrong"), True),
        (("nobody", "x"), True),
        (None, False),
    ],
)
def test_invalid_client(oauth, auth, basic) -> None:
    answer = oauth.token(auth=auth, grant_type="refresh_token", refresh_token="sbx_rt_x")
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"
    assert ("www-authenticate" in answer.headers) is basic
    assert "x-oapi-request-id" in answer.headers


def test_malformed_basic_header_is_invalid_client(oauth) -> None:
    for header in ("Basic !!!", "Basic " + base64.b64encode(b"no-colon").decode(), "Bearer abc"):
        answer = oauth.http.post(
            OIDC + "token", data={"grant_type": "x"}, headers={"Authorization": header}
        )
        assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({}, "invalid_request"),
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"grant_type": "client_credentials"}, "unsupported_grant_type"),
        ({"grant_type": "authorization_code"}, "invalid_request"),
        ({"grant_type": "refresh_token"}, "invalid_request"),
        ({"grant_type": "refresh_token", "refresh_token": "sbx_rt_nope"}, "invalid_grant"),
        ({"grant_type": "refresh_token", "refresh_token": "r", "scope": "bogus"}, "invalid_scope"),
    ],
)
def test_token_errors(oauth, form, error) -> None:
    answer = oauth.token(**form)
    assert answer.status_code == 400
    assert answer.json()["error"] == error
    assert answer.headers["cache-control"] == "no-store"


def test_missing_grant_type_says_so(oauth) -> None:
    assert oauth.token().json() == {
        "error": "invalid_request",
        "error_description": "Missing grant_type in body",
    }


def test_token_endpoint_needs_form_post(oauth) -> None:
    auth = (oauth.client_id, oauth.client_secret)
    as_json = oauth.http.post(OIDC + "token", json={"grant_type": "refresh_token"}, auth=auth)
    assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"
    as_get = oauth.http.get(OIDC + "token")
    assert as_get.status_code == 405 and as_get.json()["error"] == "invalid_request"


def test_repeated_token_parameters_are_invalid_request(oauth) -> None:
    code = oauth.sign_in()["code"]
    for body in (
        f"grant_type=authorization_code&grant_type=authorization_code&code={code}",
        f"grant_type=authorization_code&code={code}&code={code}",
    ):
        answer = oauth.http.post(
            OIDC + "token",
            content=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            auth=(oauth.client_id, oauth.client_secret),
        )
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_request"


# ---- revocation ---------------------------------------------------------------------------------


def test_revoke_access_token(oauth, login) -> None:
    answer = oauth.http.post(
        OIDC + "revoke",
        data={"token": login["access_token"]},
        auth=(oauth.client_id, oauth.client_secret),
    )
    assert answer.status_code == 200
    assert (
        oauth.api("GET", "/sandbox/mobility/v1/zones", login["access_token"]).json()["code"] == 41
    )
    assert oauth.refresh(login["refresh_token"]).status_code == 200


def test_revoke_refresh_token_takes_access_tokens_along(oauth, login) -> None:
    auth = (oauth.client_id, oauth.client_secret)
    assert (
        oauth.http.post(
            OIDC + "revoke", data={"token": login["refresh_token"]}, auth=auth
        ).status_code
        == 200
    )
    assert oauth.refresh(login["refresh_token"]).json()["error"] == "invalid_grant"
    assert (
        oauth.api("GET", "/sandbox/mobility/v1/zones", login["access_token"]).json()["code"] == 41
    )


def test_revoke_unknown_token_is_200_and_needs_client_auth(oauth) -> None:
    auth = (oauth.client_id, oauth.client_secret)
    assert (
        oauth.http.post(OIDC + "revoke", data={"token": "sbx_at_nope"}, auth=auth).status_code
        == 200
    )
    assert oauth.http.post(OIDC + "revoke", data={"token": "sbx_at_nope"}).status_code == 401
    assert oauth.http.post(OIDC + "revoke", data={}, auth=auth).json()["error"] == "invalid_request"
