"""The sample APIs: Orange's error envelope, CAMARA's, pagination, reports, echo."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

ZONES = "/sandbox/mobility/v1/zones"
PRESENCE = ZONES + "/zone-03/presence"
KYC = "/sandbox/kyc-match/v0.3/match"


def envelope(answer: httpx.Response) -> tuple[int, int, str]:
    body = answer.json()
    assert set(body) == {"code", "message", "description"}, body
    return answer.status_code, body["code"], body["message"]


# ---- errors ---------------------------------------------------------------------------------------


def test_missing_credentials_40(oauth) -> None:
    answer = oauth.api("GET", ZONES, None)
    assert envelope(answer) == (401, 40, "Missing credentials")
    assert "error=" not in answer.headers["www-authenticate"]
    assert answer.headers["x-oapi-request-id"]


@pytest.mark.parametrize("header", ["Basic abc", "Bearer", "Token sbx_at_x"])
def test_malformed_authorization_is_40(oauth, header) -> None:
    answer = oauth.api("GET", ZONES, None, headers={"Authorization": header})
    assert envelope(answer)[:2] == (401, 40)


def test_unknown_token_41_with_invalid_token_challenge(oauth) -> None:
    answer = oauth.api("GET", ZONES, "sbx_at_unknown")
    assert envelope(answer) == (401, 41, "Invalid credentials")
    assert answer.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


def test_expired_token_42(oauth, login) -> None:
    assert oauth.server.sandbox.expire_access_tokens() == 1
    answer = oauth.api("GET", ZONES, login["access_token"])
    assert envelope(answer) == (401, 42, "Expired credentials")
    assert 'error="invalid_token"' in answer.headers["www-authenticate"]
    # Refreshing is the way out.
    fresh = oauth.refresh(login["refresh_token"]).json()["access_token"]
    assert oauth.api("GET", ZONES, fresh).status_code == 200


def test_short_access_token_lifetime_expires(oauth) -> None:
    oauth.server.sandbox.configure(access_token_lifetime=0)
    tokens = oauth.login()
    assert tokens["expires_in"] == 0
    assert envelope(oauth.api("GET", ZONES, tokens["access_token"]))[1] == 42


def test_revoke_all_gives_41(oauth, login) -> None:
    assert oauth.server.sandbox.revoke_all() == 2
    assert envelope(oauth.api("GET", ZONES, login["access_token"]))[1] == 41
    assert oauth.refresh(login["refresh_token"]).json()["error"] == "invalid_grant"


def test_missing_scope_50(oauth) -> None:
    tokens = oauth.login(scope="openid")
    answer = oauth.api("GET", ZONES, tokens["access_token"])
    assert envelope(answer) == (403, 50, "Access denied")
    assert "mobility:read" in answer.json()["description"]


def test_rate_limit_53_per_client(oauth, login, make_driver) -> None:
    oauth.server.sandbox.configure(rate_limit_per_second=3)
    answers = [oauth.api("GET", ZONES, login["access_token"]) for _ in range(5)]
    assert [a.status_code for a in answers] == [200, 200, 200, 403, 403]
    assert envelope(answers[-1]) == (403, 53, "Too many requests")
    # Another application has its own budget.
    oauth.server.sandbox.add_client("second-app", "second-secret")
    other = make_driver(client_id="second-app", client_secret="second-secret").login()
    assert oauth.api("GET", ZONES, other["access_token"]).status_code == 200
    assert oauth.server.sandbox.stats()["rate_limited"] == 2


def test_rate_limit_off(oauth, login) -> None:
    oauth.server.sandbox.configure(rate_limit_per_second=None)
    assert all(oauth.api("GET", ZONES, login["access_token"]).status_code == 200 for _ in range(60))


def test_unknown_zone_60(oauth, login) -> None:
    assert envelope(oauth.api("GET", ZONES + "/zone-99", login["access_token"])) == (
        404,
        60,
        "Resource not found",
    )


def test_unknown_path_60_and_wrong_method_61(oauth, login) -> None:
    assert envelope(oauth.api("GET", "/sandbox/nothing/here", None))[:2] == (404, 60)
    assert envelope(oauth.api("DELETE", ZONES, login["access_token"]))[:2] == (405, 61)


# ---- CAMARA-style API -----------------------------------------------------------------------------


def camara(answer: httpx.Response) -> tuple[int, int, str]:
    body = answer.json()
    assert set(body) == {"status", "code", "message"}, body
    assert body["status"] == answer.status_code
    return answer.status_code, body["status"], body["code"]


def test_kyc_match_envelopes(oauth) -> None:
    assert camara(oauth.api("POST", KYC, None, json={"givenName": "Demo"})) == (
        401,
        401,
        "UNAUTHENTICATED",
    )
    assert camara(oauth.api("POST", KYC, "sbx_at_x", json={}))[2] == "UNAUTHENTICATED"
    no_scope = oauth.login()
    assert camara(oauth.api("POST", KYC, no_scope["access_token"], json={})) == (
        403,
        403,
        "PERMISSION_DENIED",
    )


def test_kyc_match_answers_and_rate_limit_429(oauth) -> None:
    token = oauth.login(scope="openid kyc-match:match")["access_token"]
    body = {"givenName": "demo", "familyName": "Wrong", "birthdate": "1990-01-01"}
    answer = oauth.api("POST", KYC, token, json=body, headers={"x-correlator": "abc-123"})
    assert answer.status_code == 200
    assert answer.json() == {
        "givenNameMatch": "true",
        "familyNameMatch": "false",
        "birthdateMatch": "true",
    }
    assert answer.headers["x-correlator"] == "abc-123"
    assert camara(oauth.api("POST", KYC, token, content=b"{nope"))[2] == "INVALID_ARGUMENT"
    assert camara(oauth.api("POST", KYC, token, json={"other": 1}))[2] == "INVALID_ARGUMENT"
    oauth.server.sandbox.configure(rate_limit_per_second=1)
    oauth.api("POST", KYC, token, json=body)
    assert camara(oauth.api("POST", KYC, token, json=body)) == (429, 429, "TOO_MANY_REQUESTS")


# ---- zones and presence ------------------------------------------------------------------------------


def test_zones_are_synthetic_and_deterministic(oauth, login) -> None:
    items = oauth.api("GET", ZONES, login["access_token"]).json()["items"]
    assert len(items) >= 10
    assert all(re.fullmatch(r"zone-\d\d", z["id"]) for z in items)
    assert {"id", "name", "lat", "lon", "kind"} <= set(items[0])
    one = oauth.api("GET", ZONES + "/zone-01", login["access_token"]).json()
    assert one == items[0]


def _all_pages(oauth, token: str, params: dict[str, Any]) -> list[httpx.Response]:
    pages = [oauth.api("GET", PRESENCE, token, params=params)]
    while pages[-1].json()["next"]:
        pages.append(oauth.api("GET", pages[-1].json()["next"], token))
        assert len(pages) < 50
    return pages


def test_presence_seven_days_is_168_records_across_pages(oauth, login) -> None:
    token = login["access_token"]
    pages = _all_pages(oauth, token, {"start": "2024-07-01", "end": "2024-07-07", "limit": 50})
    assert [len(p.json()["items"]) for p in pages] == [50, 50, 50, 18]
    records = [r for p in pages for r in p.json()["items"]]
    assert len(records) == 168 == pages[0].json()["total"]
    assert records[0]["timestamp"] == "2024-07-01T00:00:00Z"
    assert records[-1]["timestamp"] == "2024-07-07T23:00:00Z"
    assert len({r["timestamp"] for r in records}) == 168
    assert {"zone_id", "visitors", "residents", "tourists"} <= set(records[0])
    for page in pages[:-1]:
        link = page.headers["link"]
        assert link == f'<{page.json()["next"]}>; rel="next"'
        assert page.json()["next"].startswith(oauth.server.url + PRESENCE + "?")
    assert "link" not in pages[-1].headers and pages[-1].json()["next"] is None
    # Deterministic: the same request gives the same figures.
    again = oauth.api(
        "GET", PRESENCE, token, params={"start": "2024-07-01", "end": "2024-07-07", "limit": 50}
    )
    assert again.json()["items"] == pages[0].json()["items"]


def test_presence_default_limit_and_offset_addressing(oauth, login) -> None:
    token = login["access_token"]
    first = oauth.api(
        "GET", PRESENCE, token, params={"start": "2024-07-01", "end": "2024-07-07"}
    ).json()
    assert len(first["items"]) == 24 and first["total"] == 168
    second = oauth.api("GET", first["next"], token).json()
    ahead = oauth.api(
        "GET", PRESENCE, token, params={"start": "2024-07-01", "end": "2024-07-07", "offset": 24}
    ).json()
    assert ahead["items"] == second["items"]
    last = oauth.api(
        "GET", PRESENCE, token, params={"start": "2024-07-01", "end": "2024-07-07", "offset": 160}
    ).json()
    assert len(last["items"]) == 8 and last["next"] is None
    one_day = oauth.api("GET", PRESENCE, token, params={"start": "2024-07-01"}).json()
    assert one_day["total"] == 24 and one_day["next"] is None


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({}, 27),
        ({"end": "2024-07-07"}, 27),
        ({"start": "2024-13-01"}, 28),
        ({"start": "01/07/2024"}, 28),
        ({"start": "2024-07-08", "end": "2024-07-01"}, 28),
        ({"start": "2024-01-01", "end": "2025-01-02"}, 28),
        ({"start": "2024-07-01", "limit": "ten"}, 28),
        ({"start": "2024-07-01", "limit": "0"}, 28),
        ({"start": "2024-07-01", "limit": "501"}, 28),
        ({"start": "2024-07-01", "limit": "-1"}, 28),
        ({"start": "2024-07-01", "offset": "x"}, 28),
        ({"start": "2024-07-01", "cursor": "garbage!"}, 28),
        ({"start": "2024-07-01", "cursor": "bzoyNA", "offset": "3"}, 28),
    ],
)
def test_presence_bad_query_400(oauth, login, params, code) -> None:
    answer = oauth.api("GET", PRESENCE, login["access_token"], params=params)
    assert envelope(answer)[:2] == (400, code)
    assert answer.json()["description"]


def test_presence_repeated_parameter_is_28(oauth, login) -> None:
    answer = oauth.api(
        "GET", PRESENCE + "?start=2024-07-01&start=2024-07-02", login["access_token"]
    )
    assert envelope(answer)[:2] == (400, 28)


def test_presence_366_days_allowed(oauth, login) -> None:
    params = {"start": "2024-01-01", "end": "2024-12-31", "limit": 500}
    assert (
        oauth.api("GET", PRESENCE, login["access_token"], params=params).json()["total"] == 366 * 24
    )


# ---- reports and echo ---------------------------------------------------------------------------------


def test_reports(oauth, login) -> None:
    token = login["access_token"]
    created = oauth.api(
        "POST",
        "/sandbox/mobility/v1/reports",
        token,
        json={"zone_id": "zone-02", "note": "crowded"},
    )
    assert created.status_code == 201
    body = created.json()
    assert (
        body["id"] == "report-000001" and body["zone_id"] == "zone-02" and body["note"] == "crowded"
    )
    reports = "/sandbox/mobility/v1/reports"
    assert envelope(oauth.api("POST", reports, token))[:2] == (400, 21)
    assert envelope(oauth.api("POST", reports, token, content=b"not json"))[:2] == (400, 22)
    assert envelope(oauth.api("POST", reports, token, json=[1, 2]))[:2] == (400, 22)
    assert envelope(oauth.api("POST", reports, token, json={"note": "x"}))[:2] == (400, 23)
    assert envelope(oauth.api("POST", reports, token, json={"zone_id": "zone-99"}))[:2] == (400, 24)
    assert envelope(oauth.api("POST", reports, token, content=b"{" * 100_000))[:2] == (400, 22)
    assert envelope(oauth.api("POST", reports, token, content=b" " * (1024 * 1024 + 1)))[:2] == (
        413,
        66,
    )


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
def test_echo(oauth, method) -> None:
    token = oauth.login(scope="openid")["access_token"]  # any valid token, no particular scope
    answer = oauth.api(
        method,
        "/sandbox/echo/v1/some/path?a=1&a=2&b=",
        token,
        content=b"hello" if method != "GET" else None,
        headers={"Cookie": "secret=1", "X-Custom": "yes"},
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["method"] == method and body["path"] == "/sandbox/echo/v1/some/path"
    assert body["query"] == [["a", "1"], ["a", "2"], ["b", ""]]
    names = {name.lower() for name, _ in body["headers"]}
    assert "x-custom" in names and "authorization" not in names and "cookie" not in names
    assert token not in answer.text
    assert body["body"] == ("hello" if method != "GET" else "")


def test_echo_needs_a_valid_token(oauth) -> None:
    assert envelope(oauth.api("GET", "/sandbox/echo/v1/x", "sbx_at_nope"))[:2] == (401, 41)


# ---- request ids -----------------------------------------------------------------------------------


def test_request_id_on_every_answer(oauth, login) -> None:
    token = login["access_token"]
    answers = [
        oauth.http.get("/openidconnect/fr/v1/.well-known/openid-configuration"),
        oauth.authorize(),
        oauth.authorize(client_id="nope"),
        oauth.token(grant_type="nope"),
        oauth.token(auth=None),
        oauth.http.get("/openidconnect/fr/v1/token"),
        oauth.api("GET", "/openidconnect/fr/v1/userinfo", token),
        oauth.api("GET", ZONES, token),
        oauth.api("GET", ZONES, None),
        oauth.api("GET", "/nowhere", None),
        oauth.api("POST", KYC, None),
        oauth.http.get("/_sandbox/stats"),
        oauth.http.request("BREW", ZONES),
    ]
    ids = [a.headers.get("x-oapi-request-id") for a in answers]
    assert all(ids), [a.request.url for a, i in zip(answers, ids, strict=True) if not i]
    assert len(set(ids)) == len(ids)
