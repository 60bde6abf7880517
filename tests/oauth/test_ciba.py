"""CIBA poll mode against the real sandbox over loopback; an injected clock for the timing."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from orange_nb.errors import (
    ConfigError,
    LoginCancelled,
    LoginDenied,
    LoginError,
    LoginExpired,
    NetworkError,
)
from orange_nb.keys import new_key_pair
from orange_nb.oauth import presets
from orange_nb.oauth.assertion import ClientAssertion, load_signing_key
from orange_nb.oauth.ciba import Backchannel, check_login_hint, mask_phone
from orange_nb.oauth.endpoint import TokenEndpoint
from orange_nb.oauth.secret import Secret
from orange_nb.sandbox import DEMO_CLIENT_ID, SandboxServer

PHONE = "tel:+33612345678"
NV = "dpv:FraudPreventionAndDetection#number-verification:verify"


class FakeTime:
    """A clock that moves only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = time.time()
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.now += seconds


@pytest.fixture
def backchannel(sandbox: SandboxServer, tmp_path: Path) -> Iterator[Backchannel]:
    pair = new_key_pair(tmp_path, "ES256")
    sandbox.sandbox.configure(jwks=pair.jwks, ciba_interval=0.05)
    ends = presets.sandbox(sandbox.url)
    http = httpx.Client(timeout=5)
    assertion = ClientAssertion(
        DEMO_CLIENT_ID, load_signing_key(str(pair.private_path)), audience=ends.issuer
    )
    endpoint = TokenEndpoint(
        ends.token_url,
        DEMO_CLIENT_ID,
        None,
        http=http,
        auth_method="private_key_jwt",
        issuer=ends.issuer,
        assertion=assertion,
    )
    yield Backchannel(endpoint, ends.backchannel_url or "")
    http.close()


def _decide_soon(sandbox: SandboxServer, decision: str, after: float = 0.3) -> threading.Thread:
    def decide() -> None:
        time.sleep(after)
        (pending,) = sandbox.sandbox.backchannel_requests()
        httpx.post(f"{sandbox.url}/_sandbox/ciba/{pending['id']}", json={"decision": decision})

    thread = threading.Thread(target=decide)
    thread.start()
    return thread


def test_approved_on_the_phone_gives_the_same_token_as_the_code_flow(
    backchannel: Backchannel, sandbox: SandboxServer
) -> None:
    request = backchannel.start(PHONE, ["openid", NV], binding_message="Code 42")
    assert isinstance(request.auth_req_id, Secret) and "336" not in repr(request)
    thread = _decide_soon(sandbox, "approve")
    token = backchannel.wait(request, timeout=10)
    thread.join()
    assert request.polls >= 2  # pending at least once, then the token
    assert token.scopes == ("openid", NV) and token.refresh_token is None  # single-use NV
    assert token.lifetime is not None and token.lifetime <= 300
    assert token.id_claims and token.id_claims["name"] == "Subscriber ••78"
    assert backchannel.wait(request) is token  # single flight: the outcome is kept
    assert sandbox.sandbox.stats()["backchannel"] == {
        "requested": 1,
        "refused": 0,
        "approved": 1,
        "denied": 0,
        "issued": 1,
    }


def test_denied_on_the_phone(backchannel: Backchannel, sandbox: SandboxServer) -> None:
    request = backchannel.start(PHONE, ["openid"])
    thread = _decide_soon(sandbox, "deny", after=0.1)
    with pytest.raises(LoginDenied, match=r"refused on the phone \+33 6 •• •• •• 78"):
        backchannel.wait(request, timeout=10)
    thread.join()


def test_a_request_nobody_approves_expires(backchannel: Backchannel) -> None:
    request = backchannel.start(PHONE, ["openid"], requested_expiry=1)
    started = time.monotonic()
    with pytest.raises(LoginExpired, match="expired before it was approved"):
        backchannel.wait(request, timeout=10)
    assert time.monotonic() - started < 3


def test_the_providers_expired_token_is_login_expired(
    backchannel: Backchannel, sandbox: SandboxServer
) -> None:
    request = backchannel.start(PHONE, ["openid"])
    sandbox.sandbox.add_fault(match="token", status=400, error="expired_token")
    with pytest.raises(LoginExpired):
        backchannel.wait(request, timeout=10)


def test_an_unknown_auth_req_id(backchannel: Backchannel) -> None:
    request = backchannel.start(PHONE, ["openid"])
    request.auth_req_id = Secret("sbx_ar_made_up")
    with pytest.raises(LoginError, match="does not know this sign-in request") as caught:
        backchannel.wait(request, timeout=10)
    assert caught.value.error == "invalid_grant" and caught.value.request_id


def test_a_slow_down_storm_adds_5_s_each_time_and_pending_keeps_the_interval(
    backchannel: Backchannel, sandbox: SandboxServer
) -> None:
    fake = FakeTime()
    timed = Backchannel(backchannel.endpoint, backchannel.url, clock=fake.clock, sleep=fake.sleep)
    # The sandbox paces real time; the fake clock's polls come at once, so its own check is
    # off (interval 0, which the client reads as its 0.05 s floor) and faults play the answers.
    sandbox.sandbox.configure(ciba_interval=0, auto_consent="demo")
    request = timed.start(PHONE, ["openid"])
    assert request.interval == 0.05
    sandbox.sandbox.add_fault(match="token", status=400, error="authorization_pending", count=2)
    sandbox.sandbox.add_fault(match="token", status=400, error="slow_down", count=3)
    token = timed.wait(request, timeout=600)
    assert token.access_token
    assert fake.sleeps == [0.05, 0.05, 0.05, 5.05, 10.05, 15.05]
    assert request.interval == 15.05 and request.polls == 6


def test_a_timeout_leaves_the_request_valid(
    backchannel: Backchannel, sandbox: SandboxServer
) -> None:
    fake = FakeTime()
    sandbox.sandbox.configure(ciba_interval=3)
    timed = Backchannel(backchannel.endpoint, backchannel.url, clock=fake.clock, sleep=fake.sleep)
    request = timed.start(PHONE, ["openid"])
    with pytest.raises(TimeoutError, match="within 2 s"):
        timed.wait(request, timeout=2)  # the first poll is due after 3 s: none is sent
    assert request.polls == 0 and fake.sleeps == [2]
    (pending,) = sandbox.sandbox.backchannel_requests()
    sandbox.sandbox.decide_backchannel(str(pending["id"]), approve=True)
    time.sleep(2.7)  # the sandbox paces in real time and lets a poll come 0.5 s early
    assert timed.wait(request, timeout=10).access_token  # the same request, waited again
    assert fake.sleeps == [2, 1] and request.polls == 1


def test_a_cancelled_wait_stops_at_once(backchannel: Backchannel, sandbox: SandboxServer) -> None:
    sandbox.sandbox.configure(ciba_interval=30)
    request = backchannel.start(PHONE, ["openid"])
    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()
    started = time.monotonic()
    with pytest.raises(LoginCancelled):
        backchannel.wait(request, timeout=60, cancel=cancel)
    assert time.monotonic() - started < 2 and request.polls == 0


def test_bad_requests_are_refused_before_anything_is_sent(
    backchannel: Backchannel, sandbox: SandboxServer
) -> None:
    for hint in ("0612345678", "tel:33612345678", "tel:+0123456", "mailto:a@b"):
        with pytest.raises(ConfigError, match="international form"):
            backchannel.start(hint, ["openid"])
    with pytest.raises(ConfigError, match="exactly one dpv"):
        backchannel.start(PHONE, ["openid dpv:FraudPreventionAndDetection", NV])
    with pytest.raises(ConfigError, match="binding message"):
        backchannel.start(PHONE, ["openid"], binding_message="x" * 65)
    assert sandbox.sandbox.stats()["backchannel"]["requested"] == 0  # type: ignore[index]
    assert check_login_hint("+33 6 12 34 56 78") == PHONE
    assert mask_phone(PHONE) == "+33 6 •• •• •• 78"


@pytest.mark.parametrize(
    ("hint", "shown"),
    [
        ("tel:+990123456780", "+990 1 •• •• •• 80"),  # the CAMARA playground's 3-digit code
        ("tel:+14155550123", "+1 4 •• •• •• • 23"),
        ("tel:+351912345678", "+351 9 •• •• •• 78"),
        ("tel:+34612345678", "+34 6 •• •• •• 78"),
        ("ipport:198.51.100.7:443", "•••"),
    ],
)
def test_numbers_are_masked_after_their_country_code(hint: str, shown: str) -> None:
    assert mask_phone(hint) == shown


def test_the_provider_refusing_the_request_reads_plainly(
    backchannel: Backchannel, sandbox: SandboxServer
) -> None:
    sandbox.sandbox.add_fault(
        match="backchannel", status=400, error="unknown_user_id", description="No such number."
    )
    with pytest.raises(LoginError, match="knows no subscriber") as caught:
        backchannel.start("tel:+990123456789", ["openid"])
    assert caught.value.error == "unknown_user_id" and caught.value.request_id


def test_a_provider_that_never_answers(backchannel: Backchannel) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    url = f"http://127.0.0.1:{silent.getsockname()[1]}/bc-authorize"
    backchannel.endpoint._http = httpx.Client(timeout=0.3)
    try:
        with pytest.raises(NetworkError, match="did not answer in time"):
            Backchannel(backchannel.endpoint, url).start(PHONE, ["openid"])
    finally:
        silent.close()


def test_polls_that_fail_on_the_network_give_up_after_three(
    backchannel: Backchannel, sandbox: SandboxServer
) -> None:
    fake = FakeTime()
    timed = Backchannel(backchannel.endpoint, backchannel.url, clock=fake.clock, sleep=fake.sleep)
    request = timed.start(PHONE, ["openid"])
    sandbox.sandbox.add_fault(match="token", drop=True, count=3)
    with pytest.raises(NetworkError):
        timed.wait(request, timeout=60)
    assert request.polls == 3
