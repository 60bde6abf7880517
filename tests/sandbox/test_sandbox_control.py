"""Scripted faults and the control API (over HTTP), and the same on the Python object."""

from __future__ import annotations

import json
import socket
import time
from datetime import datetime, timezone
from email.utils import format_datetime
from urllib.parse import urlsplit

import httpx
import pytest

from orange_nb.sandbox import Fault

ZONES = "/sandbox/mobility/v1/zones"


def control(oauth, path: str, body: object = None) -> httpx.Response:
    return oauth.http.post("/_sandbox/" + path, json=body if body is not None else {})


def test_503_twice_then_200(oauth, login) -> None:
    added = control(oauth, "faults", {"match": "/sandbox/", "status": 503, "code": 5, "count": 2})
    assert added.status_code == 201 and added.json()["faults"][0]["remaining"] == 2
    answers = [oauth.api("GET", ZONES, login["access_token"]) for _ in range(3)]
    assert [a.status_code for a in answers] == [503, 503, 200]
    assert answers[0].json() == {
        "code": 5,
        "message": "Service temporarily unavailable",
        "description": "A scripted fault of the sandbox.",
    }
    assert answers[0].headers["x-oapi-request-id"]
    stats = oauth.http.get("/_sandbox/stats").json()
    assert stats["faults_served"] == 2 and stats["faults_pending"] == 0


def test_faults_are_consumed_in_order_by_matching_requests(oauth, login) -> None:
    sandbox = oauth.server.sandbox
    sandbox.add_fault(match="token", status=500)
    sandbox.add_fault(match="/sandbox/mobility/v1/zones", status=429, code=53, message="Slow down")
    sandbox.add_fault(match="/sandbox/", status=502)
    assert (
        oauth.api("GET", "/openidconnect/fr/v1/.well-known/openid-configuration", None).status_code
        == 200
    )
    first = oauth.api("GET", ZONES, login["access_token"])
    assert (
        first.status_code == 429
        and first.json()["code"] == 53
        and first.json()["message"] == "Slow down"
    )
    assert oauth.api("GET", ZONES, login["access_token"]).status_code == 502
    assert oauth.refresh(login["refresh_token"]).status_code == 500
    assert sandbox.faults() == []


def test_retry_after_seconds_and_date(oauth, login) -> None:
    date = format_datetime(datetime(2030, 1, 1, tzinfo=timezone.utc), usegmt=True)
    oauth.server.sandbox.add_fault(retry_after=2)
    oauth.server.sandbox.add_fault(retry_after=date)
    assert oauth.api("GET", ZONES, login["access_token"]).headers["retry-after"] == "2"
    assert oauth.api("GET", ZONES, login["access_token"]).headers["retry-after"] == date


def test_drop_closes_without_an_answer(oauth, login) -> None:
    oauth.server.sandbox.add_fault(drop=True)
    with pytest.raises(httpx.RemoteProtocolError):
        oauth.api("GET", ZONES, login["access_token"])
    assert oauth.api("GET", ZONES, login["access_token"]).status_code == 200


def _raw_get(url: str, path: str, token: str) -> bytes:
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
        )
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_truncate_sends_full_length_then_half_the_body(oauth, login) -> None:
    oauth.server.sandbox.add_fault(status=None, truncate=True)  # the real answer, cut
    raw = _raw_get(oauth.server.url, ZONES, login["access_token"])
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    length = int(
        next(
            line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
        ).split(b":")[1]
    )
    assert len(body) == length // 2 and body.startswith(b'{"items": [')
    oauth.server.sandbox.add_fault(
        status=200, truncate=True
    )  # a success status: the real answer too
    assert (
        _raw_get(oauth.server.url, ZONES, login["access_token"])
        .split(b"\r\n\r\n")[1]
        .startswith(b'{"items": [')
    )
    oauth.server.sandbox.add_fault(status=503, truncate=True)
    with pytest.raises(httpx.RemoteProtocolError):
        oauth.api("GET", ZONES, login["access_token"])


def test_latency_fault_then_real_answer(oauth, login) -> None:
    oauth.server.sandbox.add_fault(status=None, latency=0.3)
    started = time.monotonic()
    assert oauth.api("GET", ZONES, login["access_token"]).status_code == 200
    assert time.monotonic() - started >= 0.3


def test_latency_setting(oauth, login) -> None:
    oauth.server.sandbox.configure(latency=0.2)
    started = time.monotonic()
    oauth.api("GET", ZONES, login["access_token"])
    assert time.monotonic() - started >= 0.2
    started = time.monotonic()
    oauth.http.get("/_sandbox/stats")  # the control API is never slowed down
    assert time.monotonic() - started < 0.2


def test_token_fault_with_oauth_error_and_raw_body(oauth, login) -> None:
    sandbox = oauth.server.sandbox
    sandbox.add_fault(match="token", status=400, error="invalid_grant", description="Scripted")
    sandbox.add_fault(
        match="token", status=200, body="<html>gateway page</html>", content_type="text/plain"
    )
    refused = oauth.refresh(login["refresh_token"])
    assert refused.json() == {"error": "invalid_grant", "error_description": "Scripted"}
    odd = oauth.refresh(login["refresh_token"])
    assert odd.text == "<html>gateway page</html>" and odd.headers["content-type"] == "text/plain"


def test_authorize_fault_is_a_page(oauth) -> None:
    oauth.server.sandbox.add_fault(
        match="authorize", status=503, description="Down for maintenance"
    )
    answer = oauth.authorize()
    assert answer.status_code == 503 and "Down for maintenance" in answer.text
    assert answer.headers["content-type"].startswith("text/html")


def test_camara_fault_envelope(oauth) -> None:
    oauth.server.sandbox.add_fault(match="/sandbox/kyc-match/", status=503)
    answer = oauth.api("POST", "/sandbox/kyc-match/v0.3/match", None, json={})
    assert answer.json()["code"] == "UNAVAILABLE" and answer.json()["status"] == 503


@pytest.mark.parametrize(
    "fault",
    [
        {"status": "503"},
        {"status": 99},
        {"count": 0},
        {"latency": -1},
        {"retry_after": "soon"},
        {"retry_after": -5},
        {"drop": "yes"},
        {"unknown": 1},
        {"content_type": "text/html\r\nX: y"},
        [{"status": 503}, {"count": "two"}],
        "not an object",
    ],
)
def test_bad_faults_are_refused_whole(oauth, fault) -> None:
    answer = control(oauth, "faults", fault)
    assert answer.status_code == 400 and answer.json()["error"]
    assert oauth.http.get("/_sandbox/faults").json() == {"faults": []}


def test_fault_list_and_delete(oauth) -> None:
    control(oauth, "faults", [{"status": 503}, {"match": "token", "status": 500, "count": 3}])
    assert [f["remaining"] for f in oauth.http.get("/_sandbox/faults").json()["faults"]] == [1, 3]
    assert oauth.http.delete("/_sandbox/faults").status_code == 200
    assert oauth.server.sandbox.faults() == []


def test_python_fault_object(oauth, login) -> None:
    oauth.server.sandbox.add_fault(Fault(match="*", status=503, count=1))
    assert oauth.api("GET", ZONES, login["access_token"]).status_code == 503
    with pytest.raises(ValueError):
        oauth.server.sandbox.add_fault(status=1000)


# ---- settings -------------------------------------------------------------------------------------------


def test_settings_get_and_post(oauth) -> None:
    settings = oauth.http.get("/_sandbox/settings").json()
    assert settings["access_token_lifetime"] == 3600 and settings["rotate_refresh_tokens"] is True
    assert settings["code_lifetime"] == 60 and settings["auto_consent"] is None
    assert settings["expires_in_as_string"] is False and settings["latency"] == 0
    assert "rate_limit_per_second" in settings and "refresh_token_lifetime" in settings
    assert "orange-nb-sandbox-secret" not in json.dumps(settings)
    changed = control(oauth, "settings", {"access_token_lifetime": 60, "auto_consent": "demo"})
    assert changed.status_code == 200 and changed.json()["access_token_lifetime"] == 60
    assert oauth.server.sandbox.settings.auto_consent == "demo"


@pytest.mark.parametrize(
    "change",
    [
        {"no_such_setting": 1},
        {"rotate_refresh_tokens": "yes"},
        {"access_token_lifetime": -1},
        {"access_token_lifetime": None},
        {"rate_limit_per_second": 0},
        {"auto_consent": ""},
        {"clients": [{"client_id": "x"}]},
        {"clients": [{"client_id": "x", "client_secret": "y", "scopes": ["nope"]}]},
    ],
)
def test_bad_settings_change_nothing(oauth, change) -> None:
    before = oauth.http.get("/_sandbox/settings").json()
    answer = control(oauth, "settings", change)
    assert answer.status_code == 400 and answer.json()["error"]
    assert oauth.http.get("/_sandbox/settings").json() == before


@pytest.mark.parametrize(
    "raw", [b'{"code_lifetime": Infinity}', b'{"access_token_lifetime": NaN}', b'{"latency": 1e9}']
)
def test_non_finite_or_huge_numbers_are_refused(oauth, raw) -> None:
    answer = oauth.http.post(
        "/_sandbox/settings", content=raw, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 400
    assert oauth.login()["expires_in"] == 3600


def test_register_a_client_through_settings(oauth, make_driver) -> None:
    client = {
        "client_id": "app-2",
        "client_secret": "s2",
        "redirect_uris": ["https://app.example/cb"],
        "redirect_rules": [],
    }
    answer = control(oauth, "settings", {"clients": [client]})
    assert {
        "client_id": "app-2",
        "redirect_uris": ["https://app.example/cb"],
        "redirect_rules": [],
        "scopes": sorted(["openid", "profile", "mobility:read", "kyc-match:match"]),
    } in answer.json()["clients"]
    driver = make_driver(
        client_id="app-2", client_secret="s2", redirect_uri="https://app.example/cb"
    )
    assert driver.exchange(driver.sign_in()["code"]).status_code == 200
    refused = make_driver(
        client_id="app-2", client_secret="s2"
    ).authorize()  # loopback not allowed for it
    assert refused.status_code == 400


def test_control_post_needs_json_content_type(oauth) -> None:
    answer = oauth.http.post("/_sandbox/reset", data={"a": "b"})
    assert answer.status_code == 415
    answer = oauth.http.post(
        "/_sandbox/settings", content=b"{bad", headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 400


def test_reset_forgets_tokens_faults_counters_and_clients(oauth, login) -> None:
    sandbox = oauth.server.sandbox
    sandbox.configure(access_token_lifetime=5)
    sandbox.add_client("temp", "x")
    sandbox.add_fault(status=503, match="token")
    assert control(oauth, "reset").json() == {"reset": True}
    assert oauth.api("GET", ZONES, login["access_token"]).json()["code"] == 41
    assert sandbox.settings.access_token_lifetime == 3600
    assert sandbox.client("temp") is None and sandbox.faults() == []
    assert sandbox.stats()["codes_issued"] == 0


def test_revoke_all_and_expire_over_http(oauth, login) -> None:
    assert control(oauth, "expire-access-tokens").json() == {"expired": 1}
    assert oauth.api("GET", ZONES, login["access_token"]).json()["code"] == 42
    assert control(oauth, "revoke-all").json() == {"revoked": 2}
    assert oauth.api("GET", ZONES, login["access_token"]).json()["code"] == 41


def test_stats_count_what_happened(oauth, login) -> None:
    oauth.api("GET", ZONES, login["access_token"])
    oauth.api("GET", ZONES, None)
    oauth.refresh(login["refresh_token"])
    oauth.token(grant_type="nope")
    stats = oauth.http.get("/_sandbox/stats").json()
    assert stats["token_requests"] == {"authorization_code": 1, "refresh_token": 1, "other": 1}
    assert stats["token_errors"] == 1 and stats["refreshes"] == 1
    assert stats["api_calls"] == 2 and stats["api_errors"] == 1
    assert stats["authorizations"]["requested"] == 1 and stats["authorizations"]["approved"] == 1
    assert stats["codes_issued"] == 1
    assert stats["active_tokens"] == {"access": 2, "refresh": 1}
