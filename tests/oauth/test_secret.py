"""Secret: redacted text, explicit reveal, constant-time equality, no pickles; held by the OAuth objects.

The last tests raise an unexpected error in the middle of a real code exchange and a real
refresh against the sandbox, and render it as ``%xmode Verbose`` would (IPython's
``VerboseTB``, which prints every frame's arguments): no secret may show.
"""

from __future__ import annotations

import base64
import copy
import hmac
import json
import logging
import pickle
from collections.abc import Callable, Iterator
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from IPython.core.ultratb import VerboseTB

from orange_nb.errors import OrangeNBError, SecretNotPicklable
from orange_nb.oauth import presets
from orange_nb.oauth.endpoint import TokenEndpoint
from orange_nb.oauth.flow import LoginFlow
from orange_nb.oauth.secret import REDACTED, Secret
from orange_nb.oauth.token import Token
from orange_nb.sandbox import SandboxServer

RAW = "sbx_at_" + "s3cr3t" * 8
REDIRECT = "http://127.0.0.1:9/callback"  # a registered loopback URI, never visited


def test_every_rendering_is_redacted_and_reveal_is_explicit(
    caplog: pytest.LogCaptureFixture,
) -> None:
    s = Secret(RAW)
    logging.getLogger("test_secret").warning("token %s %r", s, s)
    shown = [
        repr(s),
        str(s),
        f"{s}",
        f"{s!r}",
        f"{s:>20}",
        format(s, ""),
        repr([s]),
        repr({"t": s}),
    ]
    shown += [json.dumps({"t": s}, default=str), caplog.text]
    for text in shown:
        assert RAW not in text
    assert repr(s) == "Secret('…')" and str(s) == REDACTED
    assert s.reveal() == RAW and Secret(s).reveal() == RAW and Secret.of(s) is s
    with pytest.raises(TypeError):
        Secret(42)  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        s._value = "changed"


def test_equality_is_constant_time_and_hash_follows_text(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return bool(real(a, b))

    monkeypatch.setattr(hmac, "compare_digest", spy)  # what secret.py calls, looked up per call
    assert Secret("é-token") == Secret("é-token") and Secret("é-token") == "é-token"
    assert Secret("a") != Secret("b") and Secret("a") != "b" and Secret("a") != 1
    assert len(calls) == 4  # every comparison with text went through compare_digest
    assert hash(Secret("x")) == hash("x") and {Secret("x"), "x"} == {"x"}
    assert bool(Secret("")) is False and bool(Secret("x")) is True


def test_pickling_refused_copies_shared() -> None:
    token = Token(access_token=RAW, refresh_token="sbx_rt_" + "r" * 40, expires_at=2e9)
    for value in (Secret(RAW), token):
        with pytest.raises(SecretNotPicklable) as info:
            pickle.dumps(value)  # old Token pickled with both tokens in the blob
        assert isinstance(info.value, OrangeNBError) and "\n" not in str(info.value)
    clone = copy.deepcopy(token)
    assert clone.access_token is token.access_token and clone == token
    assert token.with_(scopes=("openid",)).refresh_token == token.refresh_token
    assert Token.from_json(token.to_json()).access_token == RAW  # the store still gets text


def test_objects_hold_secrets_not_text() -> None:
    token = Token(access_token=RAW, refresh_token="sbx_rt_" + "r" * 40)
    flow = LoginFlow("https://auth.example/authorize", "app", ("openid",))
    endpoint = TokenEndpoint(
        "https://auth.example/token", "app", "client-secret-xyz", http=httpx.Client()
    )
    assert isinstance(token.access_token, Secret) and isinstance(token.refresh_token, Secret)
    assert isinstance(flow.code_verifier, Secret)
    assert isinstance(flow.code_from({"code": "sbx_code_abc", "state": flow.state}), Secret)
    held = [vars(token), vars(flow), vars(endpoint), repr(token.access_token)]
    for text in map(repr, held):
        assert RAW not in text and "client-secret-xyz" not in text
        assert flow.code_verifier.reveal() not in text
    given = LoginFlow("https://a/x", "app", (), code_verifier="v" * 43)  # type: ignore[arg-type]
    assert isinstance(given.code_verifier, Secret) and given.code_verifier == "v" * 43


# --- a verbose traceback through a real exchange and refresh ----------------------------


class Unexpected(RuntimeError):
    """A bug somewhere below our code, raised while the secrets are in flight."""


def _boom(response: httpx.Response) -> None:
    raise Unexpected("a bug after the answer's headers arrived")


@pytest.fixture
def consenting(sandbox: SandboxServer) -> SandboxServer:
    sandbox.sandbox.configure(auto_consent="demo")
    return sandbox


def _verbose(tb: TracebackType | None, exc: BaseException) -> str:
    return str(VerboseTB(theme_name="nocolor").text(type(exc), exc, tb))


def _code_for(flow: LoginFlow) -> Secret:
    landed = httpx.get(flow.authorization_url(REDIRECT)).headers["location"]
    return flow.code_from({k: v[0] for k, v in parse_qs(urlsplit(landed).query).items()})


@pytest.fixture
def endpoints(consenting: SandboxServer) -> Iterator[Callable[[bool], TokenEndpoint]]:
    clients: list[httpx.Client] = []

    def make(broken: bool) -> TokenEndpoint:
        hooks = {"response": [_boom]} if broken else {}
        clients.append(httpx.Client(event_hooks=hooks, trust_env=False))
        ends = presets.sandbox(consenting.url)
        return TokenEndpoint(
            ends.token_url,
            presets.SANDBOX_CLIENT_ID,
            presets.SANDBOX_CLIENT_SECRET,
            http=clients[-1],
            issuer=ends.issuer,
        )

    yield make
    for client in clients:
        client.close()


def _exchange(flow: LoginFlow, endpoint: TokenEndpoint, code: Secret) -> Token:
    # Only objects here: every secret this frame (and those below) sees is held by one.
    return endpoint.exchange_code(
        code, redirect_uri=REDIRECT, code_verifier=flow.code_verifier, nonce=flow.nonce
    )


def _refresh(endpoint: TokenEndpoint, token: Token) -> Token:
    return endpoint.refresh(token)


def test_verbose_traceback_of_an_unexpected_error_shows_no_secret(
    consenting: SandboxServer, endpoints: Callable[[bool], TokenEndpoint]
) -> None:
    ends = presets.sandbox(consenting.url)
    flows = [
        LoginFlow(ends.authorize_url, presets.SANDBOX_CLIENT_ID, presets.SANDBOX_SCOPES)
        for _ in range(2)
    ]
    codes = [_code_for(flow) for flow in flows]
    with pytest.raises(Unexpected) as failed_exchange:
        _exchange(flows[0], endpoints(True), codes[0])
    token = _exchange(flows[1], endpoints(False), codes[1])
    with pytest.raises(Unexpected) as failed_refresh:
        _refresh(endpoints(True), token)

    assert token.refresh_token is not None
    basic = base64.b64encode(
        f"{presets.SANDBOX_CLIENT_ID}:{presets.SANDBOX_CLIENT_SECRET}".encode()
    ).decode()
    secrets = [
        *(code.reveal() for code in codes),
        *(flow.code_verifier.reveal() for flow in flows),
        presets.SANDBOX_CLIENT_SECRET,
        basic,
        token.access_token.reveal(),
        token.refresh_token.reveal(),
    ]
    for info in (failed_exchange, failed_refresh):
        text = _verbose(info.tb.tb_next, info.value)  # from _exchange down: not this frame
        assert "exchange_code(" in text or "refresh(" in text  # frames and arguments shown
        assert "Secret('…')" in text
        leaked = [i for i, s in enumerate(secrets) if s in text]
        assert not leaked, f"secrets #{leaked} in the verbose traceback"  # indexes, not values
        assert "sbx_code_" not in text and "sbx_at_" not in text and "sbx_rt_" not in text
