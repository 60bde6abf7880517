"""Malformed answers from Orange (or a gateway, or anything on the way) end as documented errors.

Property tests drive the decoders with any JSON value or any text: the token-response
decoder (``TokenEndpoint.token_from``), the error envelopes (Orange's, CAMARA's, RFC
6749's, via ``OrangeAPIError.from_response``), ``Retry-After`` and the ID-token checks.
Each returns a value or raises its documented ``OrangeNBError``, whose text is one short
paragraph; nothing else may come out. Example tests then serve each malformed answer
from a real loopback HTTP server, through ``TokenEndpoint`` and ``Orange.request``, so the
whole path (socket → httpx → decoder → error) runs.
"""

from __future__ import annotations

import base64
import gzip
import json
import math
import os
import re
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from peers import serving

from orange_nb import Orange
from orange_nb.errors import (
    LoginError,
    NetworkError,
    OrangeAPIError,
    OrangeNBError,
    error_code,
    error_envelope,
    parse_json,
)
from orange_nb.oauth.endpoint import TokenEndpoint, id_token_claims
from orange_nb.oauth.secret import Secret
from orange_nb.oauth.token import Token, parse_expires_in
from orange_nb.session.retry import retry_after_seconds

EXAMPLES = int(os.environ.get("ORANGE_MALFORMED_EXAMPLES", "400"))
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # nothing written into the work tree
    suppress_health_check=list(HealthCheck),
)
DEEP = b"[" * 200_000 + b"]" * 200_000  # valid JSON, nested past any recursion limit
MAX_MESSAGE = 1500  # "one short paragraph"
CAMARA_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_.:-]{0,99}")

# Values picked to hurt: huge and non-finite numbers, Unicode digits ("٣" is Arabic-Indic
# three, "３" fullwidth: int() reads both), line breaks, controls.
NASTY = st.sampled_from(
    [
        10**400,
        -(10**400),
        -5,
        1e308,
        float("inf"),
        float("nan"),
        "1e309",
        "NaN",
        "-5",
        "٣",
        "３",
        "٥٣",
        "53\n",
        "x\ny",
        "\u2028",
        "\x00",
        True,
        False,
        0.5,
        [],
        {},
        [53],
        {"code": 53},
        "",
        "bearer",
        "MAC",
    ]
)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30) | NASTY
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
TOKEN_KEYS = (
    "access_token",
    "refresh_token",
    "token_type",
    "scope",
    "expires_in",
    "id_token",
    "error",
    "error_description",
)
TOKEN_BODY = st.fixed_dictionaries({}, optional={k: JSON | NASTY for k in TOKEN_KEYS})
ENVELOPE = st.fixed_dictionaries(
    {},
    optional={
        k: JSON | NASTY
        for k in ("code", "status", "message", "description", "error", "error_description")
    },
)
ENDPOINT = TokenEndpoint(
    "https://auth.example/token",
    "app",
    "client-secret",
    http=httpx.Client(),
    issuer="https://auth.example",
)


def one_paragraph(exc: BaseException) -> str:
    text = str(exc)
    assert text.strip() and "\n" not in text and "\r" not in text and "\u2028" not in text
    assert len(text) <= MAX_MESSAGE
    return text


def as_bytes(value: Any) -> bytes:
    return json.dumps(value).encode()


def jwt(claims: Any) -> str:
    def part(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part(b'{}')}.{part(as_bytes(claims))}.sig"


# --- properties --------------------------------------------------------------------------


@PROPERTY
@given(value=JSON | NASTY)
@example(value=10**400)  # float(10**400): OverflowError in the old parse_expires_in
def test_expires_in_is_a_sane_lifetime_or_none(value: Any) -> None:
    seconds = parse_expires_in(value)
    assert seconds is None or (math.isfinite(seconds) and 0 <= seconds < 10**9)


@PROPERTY
@given(
    status=st.sampled_from([200, 201, 204, 400, 401, 403, 500, 502]),
    body=TOKEN_BODY | JSON,
    refreshing=st.booleans(),
    raw=st.none() | st.binary(max_size=40),
)
@example(status=200, body={"access_token": "a", "expires_in": 10**400}, refreshing=False, raw=None)
@example(status=200, body={"access_token": "a"}, refreshing=False, raw=DEEP)
def test_token_answers_give_a_token_or_a_login_error(
    status: int, body: Any, refreshing: bool, raw: bytes | None
) -> None:
    content = raw if raw is not None else as_bytes(body)
    previous = Token("old-at", refresh_token="old-rt", scopes=("openid",))
    try:
        token = ENDPOINT.token_from(
            status,
            content,
            {"x-correlator": "corr-1"},
            refreshing=refreshing,
            nonce="n-1" if not refreshing else None,
            requested_at=1000.0,
            previous=previous if refreshing else None,
        )
    except LoginError as exc:
        assert "corr-1" in one_paragraph(exc) and exc.request_id == "corr-1"
        return
    assert 200 <= status < 300 and isinstance(body, dict) and raw is None
    assert isinstance(token.access_token, Secret) and token.access_token == body["access_token"]
    assert token.token_type == "Bearer"
    assert str(body.get("token_type", "Bearer")).lower() == "bearer"
    assert all(isinstance(s, str) and s for s in token.scopes)
    assert token.expires_at is None or math.isfinite(token.expires_at)
    assert token.refresh_token is None or isinstance(token.refresh_token, Secret)


@PROPERTY
@given(
    status=st.sampled_from([400, 401, 403, 404, 429, 500, 503]),
    body=ENVELOPE | JSON,
    raw=st.none() | st.binary(max_size=40),
    ctype=st.sampled_from(["application/json", "text/html", ""]),
)
@example(status=403, body={"code": "٥٣", "message": "x"}, raw=None, ctype="application/json")
@example(status=400, body={"code": "x\ny"}, raw=None, ctype="application/json")
@example(status=500, body=None, raw=DEEP, ctype="application/json")
def test_error_envelopes_give_one_paragraph(
    status: int, body: Any, raw: bytes | None, ctype: str
) -> None:
    request = httpx.Request("GET", "https://api.example/v1/x?token=sbx_at_q")
    headers = {"content-type": ctype, "x-oapi-request-id": "req-9"} if ctype else {}
    content = raw if raw is not None else as_bytes(body)
    err = OrangeAPIError.from_response(
        httpx.Response(status, content=content, headers=headers, request=request)
    )
    text = one_paragraph(err)
    assert "sbx_at_q" not in text and err.status == status
    code = err.code
    assert code is None or (
        (isinstance(code, int) and not isinstance(code, bool) and 0 <= code < 10**6)
        or (isinstance(code, str) and CAMARA_WORD.fullmatch(code) is not None)
    )
    assert error_envelope(body) == error_envelope(body)  # pure, any JSON value
    if ctype:
        assert err.request_id == "req-9" and "req-9" in text


@PROPERTY
@given(raw=JSON | NASTY)
def test_error_codes_are_ascii_numbers_or_words(raw: Any) -> None:
    code = error_code(raw)
    if isinstance(raw, str) and any(c.isdigit() and not c.isascii() for c in raw):
        assert code is None  # old: "٥٣".isdigit() → int("٥٣") == 53, Orange's rate limit
    assert code is None or isinstance(code, int | str)


@PROPERTY
@given(text=st.text(max_size=40) | st.from_regex(r"\A[0-9٠-٩０-９]{1,4}\Z"))
@example(text="٣")
@example(text="３")
@example(text="9" * 500)
@example(text="Fri, 31 Dec 99999 23:59:59 GMT")
def test_retry_after_is_ascii_seconds_a_date_or_nothing(text: str) -> None:
    seconds = retry_after_seconds(text, now=1_700_000_000.0)
    assert seconds is None or seconds >= 0
    stripped = text.strip(" \t")
    if stripped and all(c.isdigit() for c in stripped) and not stripped.isascii():
        assert seconds is None  # old: "٣".isdigit() → float("٣") == 3.0


@PROPERTY
@given(
    claims=st.fixed_dictionaries(
        {}, optional={"nonce": JSON | NASTY, "aud": JSON | NASTY, "iss": JSON | NASTY}
    )
    | JSON,
    nonce=st.none() | st.text(max_size=12),
    raw=st.none() | st.text(max_size=40),
)
@example(claims={"nonce": "nonce-é"}, nonce="nonce-e", raw=None)  # old: compare_digest TypeError
@example(claims={"nonce": "n"}, nonce="é", raw=None)
def test_id_token_checks_give_claims_or_a_login_error(
    claims: Any, nonce: str | None, raw: str | None
) -> None:
    id_token = raw if raw is not None else jwt(claims)
    try:
        checked = ENDPOINT.check_id_token(Secret(id_token), nonce)
    except LoginError as exc:
        one_paragraph(exc)
        return
    assert checked is None or isinstance(checked, dict)
    if checked is not None and nonce is not None:
        assert checked.get("nonce") == nonce


def test_deep_id_token_payload_is_a_login_error() -> None:
    payload = base64.urlsafe_b64encode(DEEP).decode()
    with pytest.raises(LoginError, match="malformed ID token"):  # old: RecursionError
        id_token_claims(f"e30.{payload}.sig")
    with pytest.raises(ValueError):
        parse_json(DEEP)


# --- real sockets ------------------------------------------------------------------------


class Answers:
    """What the loopback server answers, by path: status, headers, body; and the hit counts."""

    def __init__(self) -> None:
        self.by_path: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.hits: dict[str, int] = {}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    answers: Answers

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        path = self.path.split("?")[0]
        self.answers.hits[path] = self.answers.hits.get(path, 0) + 1
        status, headers, body = self.answers.by_path.get(path, (404, {}, b"{}"))
        self.send_response(status)
        headers = {"Content-Type": "application/json", **headers}
        for name, value in headers.items():  # as UTF-8 bytes: send_header would refuse "٣"
            self._headers_buffer.append(f"{name}: {value}\r\n".encode())  # type: ignore[attr-defined]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet


@pytest.fixture(scope="module")
def peer() -> Iterator[tuple[str, Answers]]:
    """A loopback HTTP server answering whatever the test sets in ``Answers``."""
    answers = Answers()
    handler = type("Handler", (_Handler,), {"answers": answers})
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), handler)) as url:
        yield url, answers


@pytest.fixture
def answers(peer: tuple[str, Answers]) -> Answers:
    peer[1].by_path.clear()
    peer[1].hits.clear()
    return peer[1]


@pytest.fixture
def endpoint(peer: tuple[str, Answers]) -> Iterator[TokenEndpoint]:
    with httpx.Client(trust_env=False) as http:
        yield TokenEndpoint(peer[0] + "/token", "app", "s3cret", http=http)


@pytest.fixture
def orange(peer: tuple[str, Answers]) -> Iterator[Orange]:
    session = Orange(
        api_url=peer[0],
        token_url=peer[0] + "/token",
        authorize_url=peer[0] + "/authorize",
        client_id="app",
        client_secret="s3cret",
        retry_backoff=0.01,
        open_browser=False,
    )
    session.keeper.set(Token("sbx_at_held", expires_at=time.time() + 3600))
    yield session
    session.close()


ID = {"X-OAPI-Request-Id": "req-42"}
GZIP = {"Content-Encoding": "gzip", **ID}


def _huge_int_json(key: str) -> bytes:
    return b'{"access_token": "sbx_at_x", "' + key.encode() + b'": 1' + b"0" * 400 + b"}"


@pytest.mark.parametrize(
    ("status", "headers", "body", "match"),
    [
        (200, ID, DEEP, "no token"),  # old: RecursionError out of _token_body's response.json()
        (200, ID, b"[1, 2]", "no token"),
        (200, ID, b'"sbx_at_x"', "no token"),
        (200, ID, b'{"token_type": "Bearer"}', "no token"),
        (200, ID, b'{"access_token": 5}', "no token"),
        (200, ID, b'{"access_token": "sbx_at_x", "token_type": "mac"}', "not Bearer"),
        (200, ID, b'{"access_token": "sbx_at_x", "scope": 5}', "scope"),
        (200, ID, b'{"access_token": "sbx_at_x", "refresh_token": 7}', "refresh_token"),
        (400, ID, b'{"error": ["invalid_grant"]}', "no OAuth error"),
        (400, ID, b'{"error": "invalid_grant", "error_description": "a\\nb"}', "invalid_grant"),
        (
            200,
            ID,
            b'{"access_token": "a", "id_token": "' + jwt({"nonce": "é"}).encode() + b'"}',
            "nonce",
        ),
        (200, ID, b'{"access_token": "a", "id_token": 5}', "malformed ID token"),
        (
            200,
            ID,
            b'{"access_token": "a", "id_token": "e30.' + base64.urlsafe_b64encode(DEEP) + b'.s"}',
            "malformed ID token",  # old: RecursionError out of id_token_claims
        ),
        (200, {"x-correlator": "corr-7"}, b"<html>", "no token"),
    ],
)
def test_token_endpoint_malformed_answers_are_login_errors(
    endpoint: TokenEndpoint,
    answers: Answers,
    status: int,
    headers: dict[str, str],
    body: bytes,
    match: str,
) -> None:
    answers.by_path["/token"] = (status, headers, body)
    with pytest.raises(LoginError, match=match) as info:
        endpoint.exchange_code(
            "sbx_code_c", redirect_uri="http://127.0.0.1:9/cb", code_verifier="v" * 43, nonce="n-1"
        )
    text = one_paragraph(info.value)
    rid = headers.get("X-OAPI-Request-Id") or headers.get("x-correlator")
    assert (
        rid is not None and rid in text and info.value.request_id == rid
    )  # old: no request id at all


@pytest.mark.parametrize("lifetime", [b"1" + b"0" * 400, b'"1e309"', b"-5", b"NaN", b'"soon"'])
def test_absurd_expires_in_means_no_known_expiry(
    endpoint: TokenEndpoint, answers: Answers, lifetime: bytes
) -> None:
    answers.by_path["/token"] = (
        200,
        {},
        b'{"access_token": "sbx_at_x", "expires_in": ' + lifetime + b"}",
    )
    token = endpoint.exchange_code(
        "c", redirect_uri="http://127.0.0.1:9/cb", code_verifier="v" * 43
    )
    assert token.expires_at is None and token.access_token == "sbx_at_x"  # old: OverflowError


def test_token_endpoint_gzip_that_is_not_gzip_is_a_network_error(
    endpoint: TokenEndpoint, answers: Answers
) -> None:
    answers.by_path["/token"] = (200, GZIP, b'{"access_token": "sbx_at_x"}')
    with pytest.raises(NetworkError, match="Content-Encoding") as info:  # old: httpx.DecodingError
        endpoint.exchange_code("c", redirect_uri="http://127.0.0.1:9/cb", code_verifier="v" * 43)
    assert "req-42" in one_paragraph(info.value)
    answers.by_path["/token"] = (200, GZIP, gzip.compress(b'{"access_token": "sbx_at_ok"}'))
    ok = endpoint.exchange_code("c", redirect_uri="http://127.0.0.1:9/cb", code_verifier="v" * 43)
    assert ok.access_token == "sbx_at_ok"  # a real gzip body still decodes


@pytest.mark.parametrize(
    ("status", "headers", "body", "error", "code"),
    [
        (200, ID, DEEP, OrangeAPIError, None),  # old: RecursionError out of calls.decode
        (401, ID, DEEP, OrangeAPIError, None),  # old: RecursionError in is_invalid_token
        (403, ID, DEEP, OrangeAPIError, None),  # old: RecursionError in retry's _orange_code
        (200, GZIP, b"not gzip at all", NetworkError, None),  # old: httpx.DecodingError
        (403, ID, '{"code": "٥٣", "message": "x"}'.encode(), OrangeAPIError, None),  # old: 53
        (400, ID, b'{"code": [60], "message": "x"}', OrangeAPIError, None),
        (400, ID, b'{"code": {"n": 60}}', OrangeAPIError, None),
        (400, ID, b'{"code": true}', OrangeAPIError, None),
        (400, ID, b'{"code": 60.0}', OrangeAPIError, None),
        (400, ID, b'{"code": 1' + b"0" * 4000 + b"}", OrangeAPIError, None),  # old: 4001 digits
        (400, ID, b'{"code": "60", "message": "a\\n\\nb"}', OrangeAPIError, 60),
        (
            403,
            {"x-correlator": "corr-9"},
            b'{"status": 403, "code": "PERMISSION_DENIED", "message": "no"}',
            OrangeAPIError,
            "PERMISSION_DENIED",
        ),
    ],
)
def test_api_malformed_answers_are_documented_errors(
    orange: Orange,
    answers: Answers,
    status: int,
    headers: dict[str, str],
    body: bytes,
    error: type[OrangeNBError],
    code: int | str | None,
) -> None:
    answers.by_path["/v1/things"] = (status, headers, body)
    with pytest.raises(error) as info:
        orange.get("/v1/things")
    text = one_paragraph(info.value)
    rid = headers.get("X-OAPI-Request-Id") or headers.get("x-correlator") or ""
    assert rid in text  # old: CAMARA's x-correlator was dropped
    if isinstance(info.value, OrangeAPIError):
        assert info.value.code == code and info.value.request_id == rid
    assert answers.hits["/v1/things"] == 1  # none of these is retried


def test_retry_after_in_unicode_digits_is_ignored(orange: Orange, answers: Answers) -> None:
    answers.by_path["/v1/slow"] = (429, {"Retry-After": "٣", **ID}, b'{"code": 53}')
    started = time.monotonic()
    with pytest.raises(OrangeAPIError) as info:
        orange.get("/v1/slow")
    # Old: "٣" read as 3 s before each retry (12 s); now the short backoff applies.
    assert time.monotonic() - started < 2.5
    assert answers.hits["/v1/slow"] == 5 and info.value.code == 53
    one_paragraph(info.value)
