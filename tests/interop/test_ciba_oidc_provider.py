"""Interop: orange_nb signs in by OpenID CIBA (poll mode) with ``private_key_jwt`` at a second,
independent implementation: panva's ``oidc-provider`` (npm), not orange_nb's own sandbox.

What it proves, each against oidc-provider's own checks:

- ``orange.login(ciba="tel:+…", wait=True)`` ends signed in: oidc-provider accepted the
  backchannel request and every token poll (``authorization_pending`` first, then the token),
  verifying each client assertion against the public JWK set that
  ``python -m orange_nb.keys new`` printed; the assertions are RFC 7523 (``iss`` = ``sub`` =
  client id, ``aud`` = issuer, a ``jti``), carry the key's ``alg`` and ``kid``, and the polls keep
  to the interval the provider named. The token's scopes are those asked and granted. For RS256
  and ES256 keys in JWK files, and an RS256 PEM with an explicit ``key_id``.
- A denial on the "phone" is ``LoginDenied``: one paragraph, no chained exception.
- An assertion signed by a key the provider does not hold (under its own ``kid``, or claiming
  the registered one) is refused by oidc-provider (``invalid_client``) and is a ``LoginError``
  saying the client authentication was not accepted.
- No access token, ID token, assertion, ``auth_req_id`` or ``sbx_`` text shows in the ``str`` or
  ``repr`` of the session, its token, attempt and errors, nor in what ``login`` prints.

The provider is ``provider/provider.mjs`` run by node from PATH with oidc-provider from
``.ci/node/node_modules`` (``make`` installs it); on 127.0.0.1, on a free port. Without node or
the package the module is skipped with the reason, and fails instead when ``CI`` is set.
"""

from __future__ import annotations

import json
import os
import re
import selectors
import shutil
import signal
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest
from traitlets.config import Config

from orange_nb import Orange
from orange_nb.errors import LoginDenied, LoginError
from orange_nb.oauth.assertion import public_jwk
from orange_nb.session.ciba import CibaAttempt

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / ".ci" / "node" / "node_modules"
SCRIPT = Path(__file__).resolve().parent / "provider" / "provider.mjs"
CLIENT_ID = "orange-nb-interop"
PHONE = "tel:+33612345678"
MASKED = "+33 6 •• •• •• 78"
SCOPES = ("openid", "phone")
INTERVAL = 1  # seconds between polls, as the provider names it (CIBA §7.3)
DECIDE_AFTER_POLLS = 1  # the "person" decides once the first poll was answered pending
READY_TIMEOUT = 30.0
LOGIN_TIMEOUT = 20.0
PEM_KID = "k1"
JWS = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.")


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@dataclass(frozen=True)
class Key:
    """A private key file for a session and what the provider knows of its public half."""

    path: Path
    alg: str
    kid: str
    key_id: str | None  # what the session is told (None: the JWK file names its own kid)
    public: dict[str, Any]


def _cli_key(folder: Path, alg: str) -> Key:
    """A key pair made as a person makes one: ``python -m orange_nb.keys new``."""
    done = subprocess.run(
        [sys.executable, "-m", "orange_nb.keys", "new", "--out", str(folder), "--alg", alg],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    jwks = json.loads(done.stdout)  # what the person registers at the provider
    (public,) = jwks["keys"]
    return Key(folder / "orange-private-key.jwk", alg, public["kid"], None, public)


def _pem_key(folder: Path, kid: str) -> Key:
    """An RSA key in a PKCS#8 PEM (0600), its ``kid`` given to the session as ``key_id``."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    folder.mkdir(parents=True)
    path = folder / "key.pem"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "wb") as file:
        file.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return Key(path, "RS256", kid, kid, public_jwk(key, alg="RS256", kid=kid))


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Key]:
    """Registered keys (RS256, ES256, an RS256 PEM) and a stranger the provider never sees."""
    root = tmp_path_factory.mktemp("interop-keys")
    return {
        "RS256": _cli_key(root / "rs256", "RS256"),
        "ES256": _cli_key(root / "es256", "ES256"),
        "PEM": _pem_key(root / "pem", PEM_KID),
        "stranger": _cli_key(root / "stranger", "RS256"),
    }


@dataclass
class Provider:
    """The running oidc-provider and its test control routes (the person's phone)."""

    issuer: str
    http: httpx.Client

    def post(self, path: str, body: dict[str, Any]) -> None:
        self.http.post(self.issuer + path, json=body).raise_for_status()

    def decide_each(self, decision: str, after_polls: int = DECIDE_AFTER_POLLS) -> None:
        """Every later request is approved or denied once ``after_polls`` token polls for it
        were answered ``authorization_pending`` (before the next poll comes)."""
        self.post("/_test/policy", {"decision": decision, "after_polls": after_polls})

    def log(self) -> dict[str, list[dict[str, Any]]]:
        answer = self.http.get(self.issuer + "/_test/log")
        answer.raise_for_status()
        log: dict[str, list[dict[str, Any]]] = answer.json()
        return log

    def calls(self, route: str) -> list[dict[str, Any]]:
        return [call for call in self.log()["calls"] if call["route"] == route]


def _ready_line(process: subprocess.Popen[str], timeout: float) -> str:
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if selector.select(timeout):
            return process.stdout.readline()
    return ""


@pytest.fixture(scope="module")
def node() -> str:
    """node from PATH, with oidc-provider installed in .ci/node; else skipped (CI: failed)."""
    found = shutil.which("node")
    if found is None:
        _unavailable("node is not on PATH (the CIBA interop tests run oidc-provider with it).")
    if not (NODE_MODULES / "oidc-provider" / "package.json").is_file():
        _unavailable(
            "oidc-provider is not installed in .ci/node (`make test` installs it from npm)."
        )
    return found


@pytest.fixture(scope="module")
def provider_process(
    node: str, keys: dict[str, Key], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Provider]:
    """oidc-provider on 127.0.0.1 (a free port) for this module; stopped by its PID after."""
    registered = [keys[name].public for name in ("RS256", "ES256", "PEM")]
    options = {"client_id": CLIENT_ID, "jwks": {"keys": registered}, "interval": INTERVAL}
    stderr_path = tmp_path_factory.mktemp("interop-provider") / "stderr.txt"
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            [node, str(SCRIPT), str(NODE_MODULES), json.dumps(options)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            cwd=SCRIPT.parent,
        )
    http = httpx.Client(timeout=10, trust_env=False)
    try:
        line = _ready_line(process, READY_TIMEOUT)
        if not line:
            process.kill()
            process.wait(10)
            pytest.fail(
                f"oidc-provider did not start: {stderr_path.read_text()[-2000:]}", pytrace=False
            )
        ready = json.loads(line)
        issuer = ready["issuer"]
        assert issuer == f"http://127.0.0.1:{ready['port']}"
        yield Provider(issuer, http)
    finally:
        http.close()
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(10)
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture
def provider(provider_process: Provider) -> Provider:
    """The module's provider with an empty log, deciding nothing by itself."""
    provider_process.post("/_test/reset", {})
    return provider_process


@pytest.fixture
def session_for(provider: Provider) -> Iterator[Callable[[Key, str | None], Orange]]:
    """Makes an ``Orange`` session at the provider signing with a key (``key_id`` overridable)."""
    made: list[Orange] = []

    def make(key: Key, key_id: str | None = None) -> Orange:
        issuer = provider.issuer
        orange = Orange(
            config=Config(),  # none of a test shell's %config
            client_id=CLIENT_ID,
            token_url=f"{issuer}/token",
            backchannel_url=f"{issuer}/backchannel",
            issuer=issuer,
            api_url=issuer,
            token_auth_method="private_key_jwt",
            private_key=str(key.path),
            key_id=key_id or key.key_id,
            scopes=list(SCOPES),
            token_store="memory",
            login_ui="",  # print what to do: no widget
        )
        made.append(orange)
        return orange

    yield make
    for orange in made:
        orange.cancel_login()
        orange.close()


def _login(orange: Orange) -> None:
    orange.login(ciba=PHONE, binding_message="orange_nb interop", wait=True, timeout=LOGIN_TIMEOUT)


@pytest.mark.parametrize("name", ["RS256", "ES256", "PEM"])
def test_approved_on_the_phone_signs_in_with_private_key_jwt(
    name: str,
    keys: dict[str, Key],
    provider: Provider,
    session_for: Callable[[Key, str | None], Orange],
) -> None:
    key = keys[name]
    orange = session_for(key, None)
    provider.decide_each("approve")

    _login(orange)

    assert orange.logged_in and orange.status == "signed_in", orange.last_error
    token = orange.token
    assert token is not None and token.scopes == SCOPES
    assert orange.user == PHONE.removeprefix("tel:")  # the ID token's sub, from oidc-provider
    log = provider.log()
    (request,) = log["requests"]
    assert request["loginHint"] == PHONE and request["scope"] == " ".join(SCOPES)
    assert request["bindingMessage"] == "orange_nb interop" and request["decision"] == "approve"

    calls = log["calls"]
    backchannel = [c for c in calls if c["route"] == "backchannel_authentication"]
    polls = [c for c in calls if c["route"] == "token"]
    assert len(backchannel) == 1 and backchannel[0]["status"] == 200
    # The person approves after the first poll: pending, then the token, nothing else.
    assert [(p["status"], p["error"]) for p in polls] == [
        (400, "authorization_pending"),
        (200, None),
    ]
    assert polls[-1]["scope"] == " ".join(SCOPES)  # granted by the provider, not assumed
    assert all(p["grant_type"] == "urn:openid:params:grant-type:ciba" for p in polls)
    gaps = [b["at"] - a["at"] for a, b in zip(backchannel + polls, polls, strict=False)]
    assert len(gaps) == 2
    assert min(gaps) >= INTERVAL * 1000 - 100, gaps  # the provider's interval is kept

    for call in backchannel + polls:  # every call authenticated by a fresh assertion
        assert call["client_auth_method"] == "private_key_jwt"
        assert call["client_id"] == CLIENT_ID
        assert call["assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        assert call["assertion_header"] == {"alg": key.alg, "kid": key.kid, "typ": "JWT"}
        claims = call["assertion_claims"]
        assert claims["iss"] == claims["sub"] == CLIENT_ID
        assert claims["aud"] == provider.issuer and claims["has_jti"]
        assert 0 < claims["exp"] - claims["iat"] <= 300


def test_denied_on_the_phone_is_login_denied(
    keys: dict[str, Key],
    provider: Provider,
    session_for: Callable[[Key, str | None], Orange],
) -> None:
    orange = session_for(keys["RS256"], None)
    provider.decide_each("deny")

    with pytest.raises(LoginDenied) as raised:
        _login(orange)

    error = raised.value
    message = str(error)
    assert error.error == "access_denied"
    assert "refused on the phone" in message and MASKED in message
    assert "\n" not in message and len(message) <= 300  # one paragraph
    assert error.__cause__ is None and error.__context__ is None  # nothing internal chained
    assert not orange.logged_in and orange.status == "error" and orange.last_error == message
    polls = provider.calls("token")
    assert [p["error"] for p in polls] == ["authorization_pending", "access_denied"]
    assert all(p["client_auth_method"] == "private_key_jwt" for p in polls)


@pytest.mark.parametrize("claimed", ["own kid", "registered kid"])
def test_an_assertion_from_an_unregistered_key_is_refused(
    claimed: str,
    keys: dict[str, Key],
    provider: Provider,
    session_for: Callable[[Key, str | None], Orange],
) -> None:
    # "registered kid": the stranger's assertion names the registered key's kid, so only the
    # signature check can refuse it.
    key_id = keys["RS256"].kid if claimed == "registered kid" else None
    orange = session_for(keys["stranger"], key_id)
    provider.decide_each("approve")

    with pytest.raises(LoginError) as raised:
        _login(orange)

    error = raised.value
    message = str(error)
    assert not isinstance(error, LoginDenied)
    assert error.error == "invalid_client" and "invalid_client" in message
    assert "did not accept the client authentication" in message
    assert "\n" not in message
    assert not orange.logged_in
    (call,) = provider.calls("backchannel_authentication")
    assert call["status"] == 401 and call["error"] == "invalid_client"
    expected_kid = keys["RS256"].kid if key_id else keys["stranger"].kid
    assert call["assertion_header"]["kid"] == expected_kid
    assert provider.log()["requests"] == [] and provider.calls("token") == []


def test_no_token_or_assertion_text_in_what_people_see(
    keys: dict[str, Key],
    provider: Provider,
    session_for: Callable[[Key, str | None], Orange],
    capsys: pytest.CaptureFixture[str],
) -> None:
    texts: list[str] = []

    def seen(*objects: object) -> None:
        texts.extend(text for obj in objects for text in (str(obj), repr(obj)))

    orange = session_for(keys["ES256"], None)
    provider.decide_each("approve")
    _login(orange)
    token = orange.token
    attempt = orange.signin.attempt
    assert token is not None and isinstance(attempt, CibaAttempt)
    request = attempt.request
    hidden = [token.access_token.reveal(), request.auth_req_id.reveal()]
    assert token.id_claims  # an ID token came (only its claims are kept): the JWS scan covers it
    seen(orange, token, attempt, request, attempt.backchannel, orange.last_error)

    provider.decide_each("deny")
    denied = session_for(keys["RS256"], None)
    with pytest.raises(LoginDenied) as refused:
        _login(denied)
    seen(denied, refused.value, denied.last_error)

    stranger = session_for(keys["stranger"], None)
    with pytest.raises(LoginError) as rejected:
        _login(stranger)
    seen(stranger, rejected.value, stranger.last_error)

    printed = capsys.readouterr()
    texts += [printed.out, printed.err]
    assert f"Approve the sign-in on your phone {MASKED}." in printed.out
    everything = "\n".join(texts)
    assert all(len(secret) >= 16 for secret in hidden)
    for secret in hidden:
        assert secret not in everything
    assert "sbx_" not in everything
    assert not JWS.search(everything), JWS.search(everything)  # no assertion, no ID token
