"""Token: expiry from the local clock, scopes granted, the refresh rule, secrets kept out of reprs."""

from __future__ import annotations

import pytest

from orange_nb.oauth.token import Token, parse_expires_in

SECRET_AT = "sbx_at_" + "a" * 40
SECRET_RT = "sbx_rt_" + "b" * 40


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (3600, 3600.0),
        ("3600", 3600.0),
        (" 60 ", 60.0),
        (None, None),
        ("soon", None),
        (True, None),
        (float("nan"), None),
    ],
)
def test_expires_in_number_or_string(value: object, expected: float | None) -> None:
    assert parse_expires_in(value) == expected


def test_from_response_uses_request_time_and_granted_scope() -> None:
    t = Token.from_response(
        {
            "access_token": SECRET_AT,
            "expires_in": "3600",
            "scope": "openid mobility:read",
            "refresh_token": SECRET_RT,
        },
        requested_at=1000.0,
        requested_scopes=("openid", "profile", "mobility:read"),
    )
    assert t.expires_at == 4600.0
    assert t.scopes == ("openid", "mobility:read")
    assert t.lifetime == 3600.0


def test_refresh_answer_without_refresh_token_keeps_the_old_one() -> None:
    old = Token(
        access_token="x", refresh_token=SECRET_RT, scopes=("openid",), issued_at=0, expires_at=10
    )
    new = Token.from_response(
        {"access_token": SECRET_AT, "expires_in": 60}, requested_at=5, previous=old
    )
    assert new.refresh_token == SECRET_RT
    assert new.scopes == ("openid",)
    rotated = Token.from_response(
        {"access_token": SECRET_AT, "refresh_token": "sbx_rt_new"}, requested_at=5, previous=old
    )
    assert rotated.refresh_token == "sbx_rt_new"


@pytest.mark.parametrize(
    ("lifetime", "left", "leeway", "due"),
    [
        (3600, 3600, 60, False),
        (3600, 61, 60, False),
        (3600, 60, 60, True),
        (3600, -1, 60, True),
        (30, 16, 60, False),  # leeway capped at half the lifetime (15 s)
        (30, 15, 60, True),
    ],
)
def test_refresh_rule(lifetime: float, left: float, leeway: float, due: bool) -> None:
    now = 10_000.0
    t = Token(access_token="x", issued_at=now + left - lifetime, expires_at=now + left)
    assert t.refresh_due(leeway, now=now) is due


def test_no_expiry_never_due() -> None:
    assert Token(access_token="x").refresh_due(now=1e12) is False


def test_repr_and_str_hide_tokens() -> None:
    t = Token(access_token=SECRET_AT, refresh_token=SECRET_RT, expires_at=2e9, scopes=("openid",))
    for text in (repr(t), str(t), f"{t}", repr([t])):
        assert "sbx_at_" not in text and "sbx_rt_" not in text
    assert "openid" in repr(t)


def test_json_roundtrip_and_refusals() -> None:
    t = Token(
        access_token=SECRET_AT,
        refresh_token=SECRET_RT,
        expires_at=2e9,
        scopes=("openid",),
        id_claims={"sub": "u"},
    )
    back = Token.from_json(t.to_json())
    assert (back.access_token, back.refresh_token, back.expires_at, back.scopes) == (
        SECRET_AT,
        SECRET_RT,
        2e9,
        ("openid",),
    )
    for bad in (
        "[]",
        '{"access_token": 1}',
        '{"access_token": "a", "scopes": "x"}',
        "{",
        '{"access_token": "a", "expires_at": "soon"}',
    ):
        with pytest.raises(ValueError):
            Token.from_json(bad)
