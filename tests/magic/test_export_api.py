"""Export: language list, placeholders for secrets, header clean-up, refusals."""

from __future__ import annotations

import httpx
import pytest

from orange_nb.errors import UsageError
from orange_nb.magic.export import LANGUAGES, ExportRequest, check_language, export, export_list
from orange_nb.magic.export.request import prepare

URL = "https://api.orange.com/sandbox/mobility/v1/zones"
BRIEF_LANGUAGES = [
    "curl", "php", "csharp", "kotlin", "rust", "fetch", "jquery", "xhr", "java-httpclient",
    "java-httpurlconnection", "java-jsoup", "java-okhttp", "node-fetch", "node-https",
    "python-requests", "python-http.client",
]  # fmt: skip


def test_every_language_is_listed_in_order() -> None:
    assert list(LANGUAGES) == BRIEF_LANGUAGES
    listing = export_list()
    assert [line.split()[0] for line in listing.splitlines()[1:]] == BRIEF_LANGUAGES
    assert "Python (requests)" in listing


def test_unknown_language_lists_them_all() -> None:
    with pytest.raises(UsageError) as caught:
        export(ExportRequest("GET", URL), "cobol")
    message = str(caught.value)
    assert message.startswith("Unknown export language 'cobol'.")
    assert all(key in message for key in LANGUAGES)
    with pytest.raises(UsageError, match=r"Did you mean python-requests\?"):
        check_language("python-request")
    assert check_language(" Java-OkHttp ") == "java-okhttp"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("Authorization", "Bearer sbx_at_abc", "Bearer YOUR_ACCESS_TOKEN"),
        ("authorization", "bearer sbx_at_abc", "Bearer YOUR_ACCESS_TOKEN"),
        ("AUTHORIZATION", "BEARER sbx_at_abc", "Bearer YOUR_ACCESS_TOKEN"),
        (
            "Authorization",
            "Basic b3JhbmdlOnNlY3JldA==",
            "Basic base64(YOUR_CLIENT_ID:YOUR_CLIENT_SECRET)",
        ),
        ("Authorization", "MAC id=1,sig=2", "MAC YOUR_ACCESS_TOKEN"),
        ("Authorization", "sbx_at_abc", "YOUR_ACCESS_TOKEN"),
        ("Proxy-Authorization", "Basic eDp5", "Basic base64(YOUR_CLIENT_ID:YOUR_CLIENT_SECRET)"),
    ],
)
def test_credentials_become_placeholders_in_every_language(
    name: str, value: str, expected: str
) -> None:
    request = ExportRequest("GET", URL, [(name, value)])
    assert prepare(request).headers == ((name, expected),)
    secret = value.split()[-1]
    for language in LANGUAGES:
        snippet = export(request, language)
        assert secret not in snippet, language
        assert "YOUR_" in snippet, language


def test_secret_query_and_form_parameters_become_placeholders() -> None:
    request = ExportRequest(
        "POST",
        URL + "?a=1&access_token=sbx_at_q&Client_Secret=s3",
        [("Content-Type", "application/x-www-form-urlencoded")],
        b"grant_type=refresh_token&refresh_token=sbx_rt_x&b=2",
    )
    prepared = prepare(request)
    assert (
        prepared.url == URL + "?a=1&access_token=YOUR_ACCESS_TOKEN&Client_Secret=YOUR_CLIENT_SECRET"
    )
    assert prepared.body == "grant_type=refresh_token&refresh_token=YOUR_REFRESH_TOKEN&b=2"


def test_credentials_in_the_url_are_dropped() -> None:
    assert prepare(ExportRequest("GET", "https://me:pw@h.example/x")).url == "https://h.example/x"


def test_headers_clients_set_themselves_are_left_out_and_repeats_joined() -> None:
    request = ExportRequest(
        "GET",
        URL,
        [
            ("Host", "api.orange.com"),
            ("Accept-Encoding", "gzip"),
            ("Connection", "keep-alive"),
            ("Content-Length", "0"),
            ("User-Agent", "python-httpx/0.28.1"),
            ("Accept", "application/json"),
            ("X-Tag", "a"),
            ("x-tag", "b"),
        ],
    )
    assert prepare(request).headers == (("Accept", "application/json"), ("X-Tag", "a, b"))
    custom = ExportRequest("GET", URL, [("User-Agent", "my-app/1")])
    assert prepare(custom).headers == (("User-Agent", "my-app/1"),)


def test_content_type_is_added_once() -> None:
    body = ExportRequest("POST", URL, (), b"{}", "application/json")
    assert prepare(body).headers == (("Content-Type", "application/json"),)
    given = ExportRequest("POST", URL, [("content-type", "text/plain")], "x", "application/json")
    assert prepare(given).headers == (("content-type", "text/plain"),)
    assert prepare(ExportRequest("POST", URL, (), b"")).body is None


def test_from_an_httpx_request() -> None:
    sent = httpx.Request(
        "POST",
        URL,
        params={"q": "a&b"},
        headers={"X-Case": "1", "Authorization": "Bearer sbx_at_zzz"},
        json={"a": "é"},
    )
    request = ExportRequest.from_request(sent)
    assert request.url == URL + "?q=a%26b"
    assert ("X-Case", "1") in request.headers
    prepared = prepare(request)
    assert prepared.body == '{"a":"é"}'
    assert ("Authorization", "Bearer YOUR_ACCESS_TOKEN") in prepared.headers
    assert prepared.content_type == "application/json"


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (ExportRequest("GE T", URL), "it is not an HTTP method"),
        (ExportRequest("GET", "/relative"), r"only absolute http\(s\) URLs"),
        (ExportRequest("GET", "ftp://h/x"), r"only absolute http\(s\) URLs"),
        (ExportRequest("GET", URL + "/a b"), "spaces or control characters"),
        (ExportRequest("GET", URL, [("X-A", "a\r\nB: c")]), "malformed"),
        (ExportRequest("GET", URL, [("Bad Name", "x")]), "malformed"),
        (ExportRequest("POST", URL, (), b"\xff\xfe"), "binary"),
    ],
)
def test_requests_that_cannot_be_exported(request_: ExportRequest, expected: str) -> None:
    with pytest.raises(UsageError, match=expected):
        export(request_, "curl")


@pytest.mark.parametrize(
    ("language", "request_", "expected"),
    [
        ("java-httpurlconnection", ExportRequest("PATCH", URL, (), "{}"), "cannot send PATCH"),
        ("java-jsoup", ExportRequest("PROPFIND", URL), "cannot send PROPFIND"),
        ("fetch", ExportRequest("GET", URL, (), "x"), "cannot send a body with GET"),
        ("java-okhttp", ExportRequest("HEAD", URL, (), "x"), "cannot send a body with HEAD"),
    ],
)
def test_what_a_library_cannot_send_is_refused(
    language: str, request_: ExportRequest, expected: str
) -> None:
    with pytest.raises(UsageError, match=expected):
        export(request_, language)
    assert export(request_, "curl")


def test_methods_that_need_care() -> None:
    assert export(ExportRequest("HEAD", URL), "curl").startswith("curl --head ")
    assert export(ExportRequest("GET", URL), "curl") == f"curl {URL}"
    assert "CURLOPT_NOBODY => true" in export(ExportRequest("HEAD", URL), "php")
    assert 'from_bytes(b"PROPFIND")?' in export(ExportRequest("PROPFIND", URL), "rust")
    okhttp = export(ExportRequest("POST", URL), "java-okhttp")
    assert 'RequestBody body = RequestBody.create("", null);' in okhttp
    assert "RequestBody body = null;" in export(ExportRequest("DELETE", URL), "java-okhttp")
    assert 'val body = "".toRequestBody(null)' in export(ExportRequest("PUT", URL), "kotlin")
    assert "val body: RequestBody? = null" in export(ExportRequest("GET", URL), "kotlin")


def test_http_module_follows_the_scheme() -> None:
    plain = ExportRequest("GET", "http://127.0.0.1:8000/x?y=1")
    assert 'const http = require("http");' in export(plain, "node-https")
    assert 'const https = require("https");' in export(ExportRequest("GET", URL), "node-https")
    snippet = export(plain, "python-http.client")
    assert "http.client.HTTPConnection('127.0.0.1:8000')" in snippet
    assert "connection.request('GET', '/x?y=1', headers" not in snippet  # no headers given
    assert "connection.request('GET', '/x?y=1')" in snippet


def test_an_empty_header_value_survives_libcurl() -> None:
    request = ExportRequest("GET", URL, [("X-Empty", ""), ("X-Full", "1")])
    assert "-H 'X-Empty;' \\\n  -H 'X-Full: 1'" in export(request, "curl")
    assert "'X-Empty;'," in export(request, "php")


def test_common_names_are_aliases_and_listed() -> None:
    from orange_nb.magic.export import ALIASES, LANGUAGES, check_language, export_list
    from orange_nb.magic.syntax import parse

    for alias, key in {
        "python": "python-requests",
        "java": "java-httpclient",
        "node": "node-fetch",
        "js": "fetch",
        "cs": "csharp",
        "kotlin": "kotlin",
        "PY": "python-requests",
    }.items():
        assert check_language(alias) == key
    assert set(ALIASES.values()) <= set(LANGUAGES)
    spec = parse("GET /x --export python", namespace={})
    assert spec.options.export == "python-requests"  # type: ignore[union-attr]
    listing = export_list()
    assert "python-requests" in listing and "also: python, py, requests" in listing
