"""private_key_jwt: the client assertion, the key files, and the token endpoint using them."""

from __future__ import annotations

import json
import os
import pickle
import time
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from orange_nb.errors import LoginError, PrivateKeyError, SecretNotPicklable
from orange_nb.keys import new_key_pair
from orange_nb.oauth import presets
from orange_nb.oauth.assertion import ASSERTION_TYPE, ClientAssertion, load_signing_key
from orange_nb.oauth.endpoint import TokenEndpoint
from orange_nb.oauth.token import Token
from orange_nb.sandbox import DEMO_CLIENT_ID, SandboxServer

CLIENT = DEMO_CLIENT_ID


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256"])
def test_the_assertion_is_rfc_7523_and_verifies_with_the_public_jwk(
    tmp_path: Path, alg: str
) -> None:
    pair = new_key_pair(tmp_path, alg)
    key = load_signing_key(str(pair.private_path))  # the JWK file names its alg and kid
    assert (key.alg, key.kid) == (alg, pair.kid)
    assertion = ClientAssertion(CLIENT, key, audience="https://op.example")
    first, second = assertion.make("https://op.example/token"), assertion.make("x")
    public = jwt.PyJWK(pair.jwks["keys"][0]).key
    claims = jwt.decode(first.reveal(), public, algorithms=[alg], audience="https://op.example")
    assert claims["iss"] == claims["sub"] == CLIENT
    assert claims["exp"] - claims["iat"] == 120 and abs(claims["iat"] - time.time()) < 5
    assert jwt.get_unverified_header(first.reveal())["kid"] == pair.kid
    other = jwt.decode(second.reveal(), public, algorithms=[alg], audience="https://op.example")
    assert other["jti"] != claims["jti"]  # one-time ids
    # Without an audience, the endpoint's own URL is the audience (RFC 7523 §3).
    bare = ClientAssertion(CLIENT, key).claims("https://op.example/token")
    assert bare["aud"] == "https://op.example/token"
    assert assertion.form("u")["client_assertion_type"] == ASSERTION_TYPE


def _pem(key: object) -> str:
    return key.private_bytes(  # type: ignore[attr-defined, no-any-return]
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def test_a_pem_file_and_key_text_load_too(tmp_path: Path) -> None:
    pair = new_key_pair(tmp_path, "ES256")
    from_jwk = load_signing_key(pair.private_path.read_text())  # ORANGE_PRIVATE_KEY: the key
    pem_file = tmp_path / "key.pem"
    pem_file.write_text(_pem(from_jwk._key))
    pem_file.chmod(0o600)
    loaded = load_signing_key(str(pem_file), kid="k1")  # a PEM names no kid: key_id does
    assert (loaded.alg, loaded.kid) == ("ES256", "k1")
    assert loaded.public_jwk()["x"] == pair.jwks["keys"][0]["x"]
    rsa_pem = _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    assert load_signing_key(rsa_pem, alg="PS256").alg == "PS256"


def test_bad_key_files_say_what_to_do(tmp_path: Path) -> None:
    pair = new_key_pair(tmp_path, "RS256")
    with pytest.raises(PrivateKeyError, match="does not exist"):
        load_signing_key(str(tmp_path / "missing.pem"))
    pair.private_path.chmod(0o644)
    with pytest.raises(PrivateKeyError, match="chmod 600"):
        load_signing_key(str(pair.private_path))
    pair.private_path.chmod(0o600)
    with pytest.raises(PrivateKeyError, match="public key"):  # the public JWK set, not the key
        load_signing_key(json.dumps(pair.jwks["keys"][0]))
    public_pem = (
        load_signing_key(str(pair.private_path))
        ._key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    with pytest.raises(PrivateKeyError, match="no private key"):
        load_signing_key(public_pem)
    with pytest.raises(PrivateKeyError, match="1024 bits"):
        load_signing_key(_pem(rsa.generate_private_key(public_exponent=65537, key_size=1024)))
    with pytest.raises(PrivateKeyError, match="ES256"):
        load_signing_key(str(pair.private_path), alg="ES256")
    with pytest.raises(PrivateKeyError, match="neither a PEM") as caught:
        load_signing_key("MIIE" + "A" * 2000)  # key material in no known form: never echoed
    assert "AAAA" not in str(caught.value)


def test_the_key_never_prints_or_pickles(tmp_path: Path) -> None:
    pair = new_key_pair(tmp_path, "RS256")
    private = json.loads(pair.private_path.read_text())
    key = load_signing_key(pair.private_path.read_text())
    for shown in (repr(key), str(key), repr(ClientAssertion(CLIENT, key))):
        assert private["d"] not in shown and private["p"] not in shown
    with pytest.raises(SecretNotPicklable):
        pickle.dumps(key)


@pytest.fixture
def registered(sandbox: SandboxServer, tmp_path: Path) -> tuple[str, str]:
    pair = new_key_pair(tmp_path, "ES256")
    sandbox.sandbox.configure(jwks=pair.jwks, auto_consent="demo", ciba_interval=0)
    return str(pair.private_path), pair.kid


def _endpoint(sandbox: SandboxServer, key_file: str, kid: str, **kwargs: object) -> TokenEndpoint:
    ends = presets.sandbox(sandbox.url)
    key = load_signing_key(key_file)
    assert key.kid == kid
    return TokenEndpoint(
        ends.token_url,
        CLIENT,
        None,
        http=httpx.Client(),
        auth_method="private_key_jwt",
        issuer=ends.issuer,
        revocation_url=ends.revocation_url,
        assertion=ClientAssertion(CLIENT, key, audience=ends.issuer, **kwargs),  # type: ignore[arg-type]
    )


def test_every_token_endpoint_call_carries_an_assertion_and_no_secret(
    sandbox: SandboxServer, registered: tuple[str, str]
) -> None:
    sent: list[httpx.Request] = []
    endpoint = _endpoint(sandbox, *registered)
    endpoint._http = httpx.Client(event_hooks={"request": [sent.append]})
    from orange_nb.oauth.ciba import Backchannel

    backchannel = Backchannel(endpoint, presets.sandbox(sandbox.url).backchannel_url or "")
    token = backchannel.wait(backchannel.start("+33612345678", ["openid"]), timeout=10)
    refreshed = endpoint.refresh(token)
    assert endpoint.revoke(refreshed) is True
    assert len(sent) >= 4  # backchannel, poll(s), refresh, revocations
    for request in sent:
        form = dict(httpx.QueryParams(request.content.decode()))
        assert form["client_assertion_type"] == ASSERTION_TYPE
        assert "client_secret" not in form and "authorization" not in request.headers
    jtis = {
        jwt.decode(
            dict(httpx.QueryParams(r.content.decode()))["client_assertion"],
            options={"verify_signature": False},
        )["jti"]
        for r in sent
    }
    assert len(jtis) == len(sent)


def test_an_assertion_the_provider_rejects_reads_as_one_paragraph(
    sandbox: SandboxServer, registered: tuple[str, str], tmp_path: Path
) -> None:
    other = new_key_pair(tmp_path / "other", "ES256")  # not the registered key
    endpoint = _endpoint(sandbox, str(other.private_path), other.kid)
    with pytest.raises(LoginError) as caught:
        endpoint.refresh(Token("sbx_at_x", refresh_token="sbx_rt_unknown"))
    assert caught.value.error == "invalid_client"
    assert "JWK set registered" in str(caught.value) and "clock" in str(caught.value)


def test_clock_skew_of_a_few_minutes(sandbox: SandboxServer, registered: tuple[str, str]) -> None:
    behind = _endpoint(sandbox, *registered, clock=lambda: time.time() - 30)
    with pytest.raises(LoginError) as caught:  # the assertion is fine: the refresh token is not
        behind.refresh(Token("a", refresh_token="sbx_rt_unknown"))
    assert caught.value.error == "invalid_grant"
    sandbox.sandbox.configure(clock_offset=240)  # the provider's clock 4 minutes ahead
    with pytest.raises(LoginError) as caught:
        _endpoint(sandbox, *registered).refresh(Token("a", refresh_token="sbx_rt_unknown"))
    assert caught.value.error == "invalid_client" and "expired" in (caught.value.description or "")
    sandbox.sandbox.configure(clock_offset=-240)  # 4 minutes behind: iat is in its future
    with pytest.raises(LoginError) as caught:
        _endpoint(sandbox, *registered).refresh(Token("a", refresh_token="sbx_rt_unknown"))
    assert caught.value.error == "invalid_client" and "future" in (caught.value.description or "")


def test_the_key_file_permissions_are_the_ones_written(tmp_path: Path) -> None:
    pair = new_key_pair(tmp_path / "new", "RS256")
    assert os.stat(pair.private_path).st_mode & 0o777 == 0o600
