"""Faults survived, end to end: a real kernel's session against the Jupyter server's sandbox.

Each case scripts faults in the sandbox mounted in a real Jupyter server (over its control
API), makes the call from a real kernel (``%orange`` or ``orange.get``), and checks that
every scripted fault was served, that the call either returned exactly the result of a
fault-free call or failed with the documented error within a bound, and that the session
still works afterwards. Counts go to the run's tally: N scripted faults, N survived,
0 lost results (a call that returned something other than the fault-free result).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from reliability_harness import TALLY, ZONES, Browser, JupyterServer, Kernel, free_port

pytestmark = pytest.mark.slow

ZONES_MAGIC = f'magic("GET {ZONES} -q")'
ONE_ZONE = f'orange.get("{ZONES}/zone-01")'
REPORT = 'orange.request("POST", "/sandbox/mobility/v1/reports", json={"zone_id": "zone-01", "name": "r"})'


def stats(server: JupyterServer) -> dict[str, Any]:
    return server.sandbox("GET", "stats")  # type: ignore[no-any-return]


def probe(kernel: Kernel, call: str, session: str = "orange") -> dict[str, Any]:
    return kernel.run(f"probe(lambda: {call}, {session})").json()  # type: ignore[no-any-return]


_baselines: dict[str, str] = {}


def baseline(kernel: Kernel, call: str) -> str:
    """The digest of ``call``'s result without any fault (the synthetic data are fixed)."""
    if call not in _baselines:
        answer = probe(kernel, call)
        assert answer["ok"], answer
        _baselines[call] = answer["digest"]
    return _baselines[call]


def still_works(kernel: Kernel) -> bool:
    """After the fault: the same session returns the fault-free result again."""
    answer = probe(kernel, ZONES_MAGIC)
    return bool(answer["ok"] and answer["digest"] == baseline(kernel, ZONES_MAGIC))


@dataclass(frozen=True)
class Case:
    """Faults to script, the call, and what must come of it."""

    faults: list[dict[str, Any]]
    call: str = ZONES_MAGIC
    error: str | None = None  # None: the fault-free result is expected
    says: str = ""
    min_s: float = 0.0
    max_s: float = 5.0
    stats: dict[str, int] = field(default_factory=dict)  # counters' expected increase


CASES = {
    "503 twice then 200": Case([{"status": 503, "code": 5, "count": 2}]),
    "403/53 with Retry-After": Case(
        [{"status": 403, "code": 53, "retry_after": 1}], call=ONE_ZONE, min_s=0.95
    ),
    "403/53 without Retry-After": Case([{"status": 403, "code": 53}], call=ONE_ZONE, max_s=0.9),
    "connection dropped before any answer": Case([{"drop": True}]),
    "connection dropped mid-body": Case([{"status": 200, "truncate": True}]),
    "non-JSON body on a JSON API": Case(
        [{"status": 200, "body": "<html>gateway</html>"}],
        error="OrangeAPIError",
        says="Malformed JSON",
    ),
    "JSON body cut short": Case(
        [{"status": 200, "body": '{"zones": [{"id": "zone-01", "na'}],
        error="OrangeAPIError",
        says="Malformed JSON",
    ),
    "503 past the retry budget": Case(
        [{"status": 503, "code": 5, "count": 5}],  # the first try and max_retries=4 more
        error="OrangeAPIError",
        says="HTTP 503, code 5",
    ),
    "POST cut mid-answer is not sent twice": Case(
        [{"status": 200, "truncate": True}],
        call=REPORT,
        error="NetworkError",
        says="broke before the answer was complete",
        stats={"reports_created": 1},
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_scripted_fault_on_an_api_call(
    name: str, signed_in: Kernel, rel_server: JupyterServer
) -> None:
    case = CASES[name]
    kernel = signed_in
    if case.error is None:
        expected = baseline(kernel, case.call)
    before = stats(rel_server)
    rel_server.sandbox("POST", "faults", [{"match": "/sandbox/", **f} for f in case.faults])
    answer = probe(kernel, case.call)
    after = stats(rel_server)
    injected = after["faults_served"] - before["faults_served"]
    lost = int(case.error is None and answer["ok"] and answer["digest"] != expected)

    assert after["faults_pending"] == 0, "a scripted fault was never served"
    assert injected == sum(f.get("count", 1) for f in case.faults)
    if case.error is None:
        assert answer["ok"], answer
        assert not lost, "the call returned something else than the fault-free result"
    else:
        assert (answer.get("error"), case.says in answer.get("message", "")) == (
            case.error,
            True,
        ), answer
    assert case.min_s <= answer["elapsed"] <= case.max_s, answer
    for counter, increase in case.stats.items():
        assert after[counter] - before[counter] == increase, counter
    assert still_works(kernel)
    TALLY.fault(name, injected, survived=True)


def test_expired_mid_session_costs_one_refresh_and_one_retry(
    signed_in: Kernel, rel_server: JupyterServer
) -> None:
    expected = baseline(signed_in, ZONES_MAGIC)
    before = stats(rel_server)
    rel_server.sandbox("POST", "expire-access-tokens", {})  # server side: next call 401 code 42
    answer = probe(signed_in, ZONES_MAGIC)
    after = stats(rel_server)
    assert answer["ok"] and answer["digest"] == expected, answer
    assert after["token_requests"]["refresh_token"] - before["token_requests"]["refresh_token"] == 1
    assert after["api_calls"] - before["api_calls"] == 2  # the 401, then the retry
    assert answer["status"] == "signed_in"
    TALLY.fault("401/42 mid-session", 1, survived=True)


def test_refresh_refused_means_sign_in_again_in_error_and_widget(
    signed_in: Kernel, rel_server: JupyterServer
) -> None:
    signed_in.run("from orange_nb.widget.login import LoginWidget; widget = LoginWidget(orange)")
    rel_server.sandbox("POST", "expire-access-tokens", {})
    rel_server.sandbox(
        "POST", "faults", {"match": "token", "status": 400, "error": "invalid_grant"}
    )
    answer = probe(signed_in, ZONES_MAGIC)
    shown = signed_in.run(
        """
        from orange_nb.widget.words import Snapshot, view
        snap = Snapshot(orange.status, orange.token, orange.user, orange.last_error,
                        orange.login_url, orange.handoff_name)
        print(json.dumps({"widget": widget.status_text, "html": widget.status_line.value,
                          "view": view(snap, time.time()).text, "sign_in_again":
                          widget.sign_in_again_button in widget._row.children}))
        widget.close()
        """
    ).json()
    assert stats(rel_server)["faults_pending"] == 0
    assert answer["error"] == "LoginRequired" and "Sign in again" in answer["message"], answer
    assert answer["status"] == "expired"
    assert shown["widget"] == shown["view"] == "Session expired — sign in again"
    assert "Session expired — sign in again" in shown["html"] and shown["sign_in_again"]
    TALLY.fault("refresh refused (invalid_grant)", 2, survived=True)


def test_token_endpoint_down_at_sign_in_is_a_clear_error(
    rel_kernel: Kernel, rel_browser: Browser, rel_server: JupyterServer
) -> None:
    closed = f"http://127.0.0.1:{free_port()}/token"
    link = rel_kernel.run(
        f"""
        down = Orange.sandbox(open_browser=False, token_url={closed!r}, timeout=2.0)
        keep_current()
        print(json.dumps(down.begin_login().url))
        """
    ).json()
    rel_browser.sign_in(link)
    answer = probe(rel_kernel, "down.wait_for_login(30)", "down")
    assert answer["error"] == "NetworkError", answer
    assert "Could not reach Orange's token endpoint" in answer["message"]
    assert answer["elapsed"] < 5 and answer["status"] == "error"
    TALLY.fault("token endpoint down (closed port)", 1, survived=True)


def test_token_endpoint_slower_than_the_timeout(
    signed_in: Kernel, rel_server: JupyterServer
) -> None:
    slow = {"match": "token", "status": None, "latency": 3}  # past the session's 2 s timeout
    rel_server.sandbox("POST", "settings", {"rotate_refresh_tokens": False})
    try:
        # A forced refresh: a clear error after the timeout, the old token kept.
        rel_server.sandbox("POST", "faults", slow)
        forced = probe(signed_in, "orange.refresh()")
        assert forced["error"] == "NetworkError" and "did not answer in time" in forced["message"]
        assert 1.9 <= forced["elapsed"] < 5 and forced["status"] == "signed_in", forced
        # A refresh falling due during a call: the call goes on with the still valid token.
        rel_server.sandbox("POST", "faults", slow)
        due = probe(
            signed_in,
            f"""(orange.keeper.set(orange.token.with_(issued_at=time.time() - 3590,
                expires_at=time.time() + 30)), {ZONES_MAGIC})[1]""",
        )
        assert due["ok"] and due["digest"] == baseline(signed_in, ZONES_MAGIC), due
        assert 1.9 <= due["elapsed"] < 5
        assert stats(rel_server)["faults_pending"] == 0
        assert still_works(signed_in)
    finally:
        rel_server.sandbox("POST", "settings", {"rotate_refresh_tokens": True})
    TALLY.fault("token endpoint slow (latency past timeout)", 2, survived=True)


def test_a_rotated_refresh_lost_to_a_timeout_ends_in_sign_in_again(
    signed_in: Kernel, rel_server: JupyterServer
) -> None:
    # The sandbox rotates refresh tokens: the refresh the client gave up on still completes
    # there and retires the refresh token the client keeps. Nothing can save that session;
    # what matters is a clear "sign in again", not a hang or a loop.
    refreshes = stats(rel_server)["refreshes"]
    rel_server.sandbox("POST", "faults", {"match": "token", "status": None, "latency": 3})
    first = probe(signed_in, "orange.refresh()")
    assert first["error"] == "NetworkError", first
    for _ in range(50):  # until the sandbox has finished the abandoned refresh (bounded)
        if stats(rel_server)["refreshes"] > refreshes:
            break
        time.sleep(0.1)
    assert still_works(signed_in)  # the access token itself is still good
    second = probe(signed_in, "orange.refresh()")
    assert second["error"] == "LoginRequired" and "Sign in again" in second["message"], second
    assert second["status"] == "expired" and second["elapsed"] < 2
    TALLY.fault("refresh lost to a timeout under rotation", 1, survived=True)
