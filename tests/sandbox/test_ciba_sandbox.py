"""The sandbox as a CIBA provider: backchannel endpoint, private_key_jwt, CAMARA's rules.

Driven with plain httpx and PyJWT (not orange_nb's client), so the sandbox is checked as
the protocol says, not as our client happens to call it.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from orange_nb.sandbox import DEMO_CLIENT_ID, ISSUER, SandboxServer

from .conftest import OIDC, OAuthDriver

CIBA = "urn:openid:params:grant-type:ciba"
ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
NV = "dpv:FraudPreventionAndDetection#number-verification:verify"
PHONE = "tel:+33612345678"
SECRET_AUTH = (DEMO_CLIENT_ID, "orange-nb-sandbox-secret")


class Keyed:
    """The demo client with an EC key registered as its JWK set."""

    def __init__(self, server: SandboxServer) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        public = jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        server.sandbox.configure(jwks={"keys": [{**public, "kid": "k1", "alg": "ES256"}]})
        self.http = httpx.Client(base_url=server.url, timeout=10)

    def assertion(self, **changes: Any) -> str:
        now = int(time.time())
        claims = {
            "iss": DEMO_CLIENT_ID,
            "sub": DEMO_CLIENT_ID,
            "aud": ISSUER,
            "jti": uuid.uuid4().hex,
            "iat": now,
            "exp": now + 60,
            **changes,
        }
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, self.key, algorithm="ES256", headers={"kid": "k1"})

    def post(self, path: str, assertion: str | None = None, **form: str) -> httpx.Response:
        auth = {
            "client_assertion_type": ASSERTION,
            "client_assertion": assertion or self.assertion(),
        }
        return self.http.post(OIDC + path, data={**form, **auth})

    def start(self, scope: str = "openid", **form: str) -> httpx.Response:
        return self.post("bc-authorize", scope=scope, login_hint=PHONE, **form)

    def poll(self, auth_req_id: str) -> httpx.Response:
        return self.post("token", grant_type=CIBA, auth_req_id=auth_req_id)


@pytest.fixture
def keyed(sandbox: SandboxServer) -> Keyed:
    sandbox.sandbox.configure(ciba_interval=0)
    return Keyed(sandbox)


def test_discovery_names_the_backchannel_endpoint(sandbox: SandboxServer) -> None:
    meta = httpx.get(sandbox.url + OIDC + ".well-known/openid-configuration").json()
    assert meta["backchannel_authentication_endpoint"] == sandbox.url + OIDC + "bc-authorize"
    assert meta["backchannel_token_delivery_modes_supported"] == ["poll"]
    assert CIBA in meta["grant_types_supported"]
    assert "private_key_jwt" in meta["token_endpoint_auth_methods_supported"]
    assert set(meta["token_endpoint_auth_signing_alg_values_supported"]) == {
        "RS256",
        "PS256",
        "ES256",
    }


def test_poll_mode_pending_then_approved_through_the_control_api(
    keyed: Keyed, sandbox: SandboxServer
) -> None:
    started = keyed.start(binding_message="Code 42", requested_expiry="60")
    assert started.status_code == 200, started.text
    answer = started.json()
    assert answer["expires_in"] == 60 and answer["interval"] == 0
    pending = keyed.poll(answer["auth_req_id"])
    assert pending.status_code == 400 and pending.json()["error"] == "authorization_pending"
    (listed,) = httpx.get(sandbox.url + "/_sandbox/ciba").json()["requests"]
    assert listed["binding_message"] == "Code 42" and "auth_req_id" not in listed
    decided = httpx.post(
        f"{sandbox.url}/_sandbox/ciba/{answer['auth_req_id']}", json={"decision": "approve"}
    )
    assert decided.status_code == 200
    tokens = keyed.poll(answer["auth_req_id"]).json()
    assert tokens["access_token"].startswith("sbx_at_") and "refresh_token" in tokens
    again = keyed.poll(answer["auth_req_id"])  # an auth_req_id gives tokens once
    assert again.json()["error"] == "invalid_grant"
    unknown = httpx.post(f"{sandbox.url}/_sandbox/ciba/nope", json={"decision": "deny"})
    assert unknown.status_code == 404


def test_denied_expired_and_too_fast(keyed: Keyed, sandbox: SandboxServer) -> None:
    denied = keyed.start().json()["auth_req_id"]
    (listed,) = httpx.get(sandbox.url + "/_sandbox/ciba").json()["requests"]
    httpx.post(f"{sandbox.url}/_sandbox/ciba/{listed['id']}", json={"decision": "deny"})
    assert keyed.poll(denied).json()["error"] == "access_denied"
    short = keyed.start(requested_expiry="1").json()["auth_req_id"]
    time.sleep(1.1)
    assert keyed.poll(short).json()["error"] == "expired_token"
    sandbox.sandbox.configure(ciba_interval=5)
    paced = keyed.start().json()
    assert paced["interval"] == 5
    slowed = keyed.poll(paced["auth_req_id"])  # at once, not 5 s later
    assert slowed.json()["error"] == "slow_down" and "10" in slowed.json()["error_description"]


def test_bad_backchannel_requests(keyed: Keyed) -> None:
    for hint in ("0612345678", "tel:0612345678", "+33612345678", "sub:alice"):
        answer = keyed.post("bc-authorize", scope="openid", login_hint=hint)
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_request", hint
    assert keyed.start(binding_message="x" * 65).json()["error"] == "invalid_binding_message"
    assert keyed.start(requested_expiry="9999").json()["error"] == "invalid_request"
    two = keyed.start(scope=f"openid dpv:FraudPreventionAndDetection {NV}")
    assert (
        two.json()["error"] == "invalid_scope" and "exactly one" in two.json()["error_description"]
    )
    # Client secrets work on the backchannel endpoint too (it authenticates like the token one).
    with_secret = keyed.http.post(
        OIDC + "bc-authorize", data={"scope": "openid", "login_hint": PHONE}, auth=SECRET_AUTH
    )
    assert with_secret.status_code == 200


def test_private_key_jwt_refusals(keyed: Keyed, sandbox: SandboxServer) -> None:
    def refusal(assertion: str) -> str:
        answer = keyed.start(assertion=assertion) if assertion else keyed.start()
        assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"
        return str(answer.json()["error_description"])

    once = keyed.assertion()
    assert keyed.start(assertion=once).status_code == 200
    assert "used already" in refusal(once)  # jti replay
    assert "aud" in refusal(keyed.assertion(aud="https://elsewhere.example"))
    assert "expired" in refusal(
        keyed.assertion(iat=int(time.time()) - 400, exp=int(time.time()) - 300)
    )
    assert "future" in refusal(keyed.assertion(iat=int(time.time()) + 300))
    assert "too long" in refusal(keyed.assertion(exp=int(time.time()) + 3600))
    assert "jti" in refusal(keyed.assertion(jti=None))
    unsigned = jwt.encode({"sub": DEMO_CLIENT_ID}, key="", algorithm="none")
    assert "signed with" in refusal(unsigned)
    hmac = jwt.encode(
        {"iss": DEMO_CLIENT_ID, "sub": DEMO_CLIENT_ID},
        "orange-nb-sandbox-secret-" * 2,
        algorithm="HS256",
    )
    assert "signed with" in refusal(hmac)
    other = ec.generate_private_key(ec.SECP256R1())
    forged = jwt.encode(
        jwt.decode(keyed.assertion(), options={"verify_signature": False}),
        other,
        algorithm="ES256",
        headers={"kid": "k1"},
    )
    assert "signature" in refusal(forged)
    sandbox.sandbox.configure(jwks={"keys": []})  # nothing registered any more
    assert "No JWK set" in refusal(keyed.assertion())
    both = keyed.http.post(
        OIDC + "bc-authorize",
        data={
            "scope": "openid",
            "login_hint": PHONE,
            "client_assertion_type": ASSERTION,
            "client_assertion": keyed.assertion(),
        },
        auth=SECRET_AUTH,
    )
    assert both.json()["error"] == "invalid_request"


def test_a_public_jwk_set_only(sandbox: SandboxServer) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    private = jwt.algorithms.ECAlgorithm.to_jwk(key, as_dict=True)
    with pytest.raises(ValueError, match="public keys only"):
        sandbox.sandbox.configure(jwks={"keys": [private]})
    refused = httpx.post(sandbox.url + "/_sandbox/settings", json={"jwks": {"keys": [private]}})
    assert refused.status_code == 400


def _approved_tokens(keyed: Keyed, sandbox: SandboxServer, scope: str) -> dict[str, Any]:
    sandbox.sandbox.configure(auto_consent="demo")
    auth_req_id = keyed.start(scope=scope).json()["auth_req_id"]
    answer = keyed.poll(auth_req_id)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_camara_refresh_tokens_only_with_offline_access(
    keyed: Keyed, sandbox: SandboxServer
) -> None:
    purpose = "dpv:FraudPreventionAndDetection"
    assert "refresh_token" not in _approved_tokens(
        keyed, sandbox, f"openid {purpose} sim-swap:check"
    )
    kept = _approved_tokens(keyed, sandbox, f"openid {purpose} sim-swap:check offline_access")
    assert kept["refresh_token"].startswith("sbx_rt_")
    assert "refresh_token" in _approved_tokens(keyed, sandbox, "openid")  # no dpv: plain OAuth


def test_number_verification_tokens_are_single_use(
    keyed: Keyed, sandbox: SandboxServer, oauth: OAuthDriver
) -> None:
    sandbox.sandbox.configure(access_token_lifetime=3600)
    tokens = _approved_tokens(keyed, sandbox, f"openid {NV} offline_access")
    assert "refresh_token" not in tokens and tokens["expires_in"] == 300
    path = "/sandbox/camara/number-verification/v0/verify"
    first = oauth.api(
        "POST",
        path,
        tokens["access_token"],
        json={"phoneNumber": "+33612345678"},
        headers={"x-correlator": "corr-1"},
    )
    assert first.status_code == 200 and first.json() == {"devicePhoneNumberVerified": True}
    assert first.headers["x-correlator"] == "corr-1"
    spent = oauth.api(
        "POST",
        path,
        tokens["access_token"],
        json={"phoneNumber": "+33612345678"},
        headers={"x-correlator": "corr-2"},
    )
    assert spent.status_code == 401 and spent.headers["x-correlator"] == "corr-2"
    body = spent.json()
    assert set(body) == {"status", "code", "message"} and body["code"] == "UNAUTHENTICATED"
    assert "single-use" in body["message"]


def test_authorize_refuses_two_purposes_and_camara_apis_use_their_envelope(
    oauth: OAuthDriver, sandbox: SandboxServer
) -> None:
    landed = oauth.authorize(**oauth.params(scope=f"openid dpv:FraudPreventionAndDetection {NV}"))
    assert landed.status_code == 302 and "error=invalid_scope" in landed.headers["location"]
    token = oauth.login()["access_token"]  # openid profile mobility:read: no sim-swap scope
    refused = oauth.api(
        "POST", "/sandbox/camara/sim-swap/v1/check", token, json={"phoneNumber": "+33612345670"}
    )
    assert refused.status_code == 403 and refused.json()["code"] == "PERMISSION_DENIED"
    assert refused.headers.get("x-correlator") is None  # echoed only when sent
