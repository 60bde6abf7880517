"""LoginFlow: state, PKCE, nonce, and the checks on what the browser brings back."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest

from orange_nb.errors import LoginError
from orange_nb.oauth.flow import LoginFlow, callback_params, pkce_challenge, split_scopes

AUTH = "https://auth.example/authorize"


def flow(**kw: object) -> LoginFlow:
    args: dict[str, object] = dict(
        authorize_endpoint=AUTH, client_id="app", scopes=("openid", "profile")
    )
    args.update(kw)
    return LoginFlow(**args)  # type: ignore[arg-type]


def test_state_is_256_bits_and_unique() -> None:
    states = {flow().state for _ in range(200)}
    assert len(states) == 200
    # token_urlsafe(32): 32 random bytes → 43 base64url characters
    assert all(len(s) == 43 for s in states)


def test_pkce_s256_matches_rfc7636_example() -> None:
    # RFC 7636 appendix B
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert pkce_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_verifier_length_within_rfc_bounds() -> None:
    f = flow()
    assert 43 <= len(f.code_verifier.reveal()) <= 128
    with pytest.raises(ValueError):
        flow(code_verifier="short")


def test_authorization_url_carries_every_parameter() -> None:
    f = flow(
        redirect_uri="http://127.0.0.1:5000/cb", extra_params={"prompt": "login", "state": "evil"}
    )
    q = parse_qs(urlsplit(f.authorization_url()).query)
    assert q["response_type"] == ["code"]
    assert q["client_id"] == ["app"]
    assert q["scope"] == ["openid profile"]
    assert q["state"] == [f.state]  # extra params never override ours
    assert q["code_challenge_method"] == ["S256"]
    digest = hashlib.sha256(f.code_verifier.reveal().encode()).digest()
    assert q["code_challenge"] == [base64.urlsafe_b64encode(digest).rstrip(b"=").decode()]
    assert q["nonce"] == [f.nonce]
    assert q["prompt"] == ["login"]
    assert q["redirect_uri"] == ["http://127.0.0.1:5000/cb"]


def test_no_redirect_uri_left_for_the_server_to_add() -> None:
    assert "redirect_uri" not in flow().authorization_url()


def test_nonce_only_with_openid() -> None:
    assert flow(scopes=("mobility:read",)).nonce is None
    assert "nonce" not in flow(scopes=("mobility:read",)).authorization_url()


def test_repr_hides_secrets() -> None:
    f = flow()
    text = repr(f)
    for secret in (f.state, f.code_verifier.reveal(), f.nonce or "x" * 40):
        assert secret not in text


def test_code_from_good_answer() -> None:
    f = flow()
    assert f.code_from({"code": "abc", "state": f.state}) == "abc"


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"code": "abc"}, "no `state`"),
        ({"code": "abc", "state": "other"}, "another login attempt"),
        ({"state": "{state}"}, "no authorization code"),
        ({"error": "access_denied", "state": "{state}"}, "refused"),
        ({"error": "server_error", "error_description": "boom", "state": "{state}"}, "boom"),
        ({"code": "abc", "state": "{state}", "iss": "https://evil.example"}, "another issuer"),
    ],
)
def test_code_from_refuses(params: dict[str, str], needle: str) -> None:
    f = flow(issuer="https://auth.example")
    filled = {k: v.replace("{state}", f.state) for k, v in params.items()}
    with pytest.raises(LoginError, match=needle):
        f.code_from(filled)


def test_iss_accepted_when_matching_or_issuer_unknown() -> None:
    f = flow(issuer="https://auth.example")
    assert f.code_from({"code": "c", "state": f.state, "iss": "https://auth.example"}) == "c"
    g = flow()
    assert g.code_from({"code": "c", "state": g.state, "iss": "https://whatever"}) == "c"


def test_error_message_is_one_sentence_with_advice_and_no_secret() -> None:
    f = flow()
    with pytest.raises(LoginError) as info:
        f.code_from({"error": "access_denied", "state": f.state})
    assert f.state not in str(info.value)
    assert "Sign in again" in str(info.value)
    assert info.value.error == "access_denied"


def test_callback_params_refuses_repeated_keys() -> None:
    with pytest.raises(LoginError, match="twice"):
        callback_params("http://h/cb?code=a&code=b&state=s")
    assert callback_params("http://h/cb?code=a&state=s") == {"code": "a", "state": "s"}
    assert callback_params("http://h/cb#code=a&state=s") == {"code": "a", "state": "s"}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("openid profile", ("openid", "profile")),
        (["openid", "profile openid"], ("openid", "profile")),
        (None, ()),
        ("  ", ()),
    ],
)
def test_split_scopes(given: object, expected: tuple[str, ...]) -> None:
    assert split_scopes(given) == expected  # type: ignore[arg-type]
