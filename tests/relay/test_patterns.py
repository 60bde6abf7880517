"""The relay's allow-list rule (orange_nb.relay.patterns), the state's shape, and the builder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from orange_nb.relay import (
    OriginPattern,
    PatternError,
    allowed,
    build_page,
    parse_all,
    unwrap_state,
    wrap_state,
)
from orange_nb.relay.__main__ import main

MATCHES = [
    ("https://*.mybinder.org", "https://hub.2i2c.mybinder.org/user/x/orange/callback", True),
    ("https://*.mybinder.org", "https://HUB.MyBinder.org/user/x/orange/callback", True),
    ("https://*.mybinder.org", "https://hub.mybinder.org:443/cb", True),
    ("https://*.mybinder.org", "https://mybinder.org/cb", False),  # the wildcard needs a label
    ("https://*.mybinder.org", "https://hub.mybinder.org.evil.com/cb", False),
    ("https://*.mybinder.org", "https://evilmybinder.org/cb", False),
    ("https://*.mybinder.org", "https://hub.mybinder.org./cb", False),  # trailing dot
    ("https://*.mybinder.org", "https://user@hub.mybinder.org/cb", False),  # userinfo
    ("https://*.mybinder.org", "https://hub.mybinder.org@evil.com/cb", False),
    ("https://*.mybinder.org", "http://hub.mybinder.org/cb", False),  # scheme
    ("https://*.mybinder.org", "https://hub.mybinder.org:8443/cb", False),  # default port only
    ("https://*.mybinder.org", "https://hub.mybіnder.org/cb", False),  # Cyrillic і look-alike
    ("https://hub.example.org", "https://hub.example.org/user/bob/orange/callback", True),
    ("https://hub.example.org", "https://x.hub.example.org/cb", False),
    ("https://hub.example.org:8443", "https://hub.example.org:8443/cb", True),
    ("https://hub.example.org:8443", "https://hub.example.org/cb", False),
    ("http://127.0.0.1:*", "http://127.0.0.1:49152/callback", True),
    ("http://127.0.0.1:*", "http://127.0.0.1/callback", True),
    ("http://127.0.0.1:*", "http://127.0.0.2:80/callback", False),
    ("https://bücher.example", "https://xn--bcher-kva.example/cb", True),  # IDNA both sides
    ("https://bücher.example", "https://BÜCHER.example/cb", True),
    ("https://[::1]:*", "https://[0:0::1]:9/cb", True),
    ("https://*.mybinder.org", "javascript:alert(1)//hub.mybinder.org", False),
    ("https://*.mybinder.org", "https://hub.mybinder.org:99999/cb", False),  # unreadable port
]


@pytest.mark.parametrize(("pattern", "url", "expected"), MATCHES)
def test_pattern_matches_what_it_says_and_no_more(pattern: str, url: str, expected: bool) -> None:
    assert OriginPattern.parse(pattern).matches(url) is expected


BAD_PATTERNS = [
    "https://*.org",  # a wildcard over one label: every .org host
    "https://*",
    "https://*.*.mybinder.org",
    "https://hub.*.mybinder.org",
    "https://*mybinder.org",
    "https://user@hub.example.org",
    "https://hub.example.org/path",
    "https://hub.example.org?x=1",
    "https://hub.example.org#x",
    "https://hub.example.org.",  # trailing dot
    "ftp://hub.example.org",
    "hub.example.org",
    "https://hub.example.org:0",
    "https://hub.example.org:70000",
    "https://*.127.0.0.1",
    "https://-bad-.example.org",
]


@pytest.mark.parametrize("pattern", BAD_PATTERNS)
def test_patterns_that_would_match_more_are_refused(pattern: str) -> None:
    with pytest.raises(PatternError):
        OriginPattern.parse(pattern)


def test_patterns_are_canonical() -> None:
    (upper,) = parse_all(["HTTPS://*.MyBinder.ORG:443"])
    assert upper == OriginPattern.parse("https://*.mybinder.org")
    assert str(upper) == "https://*.mybinder.org"
    assert OriginPattern.parse("https://bücher.example").host == "xn--bcher-kva.example"
    assert allowed(parse_all(["https://a.example", "http://localhost:*"]), "http://localhost:1/")


def test_state_carries_its_target_in_one_spelling() -> None:
    state = wrap_state("R4nd0m_-", "https://hub.example.org/user/bob/orange/callback")
    assert unwrap_state(state) == ("R4nd0m_-", "https://hub.example.org/user/bob/orange/callback")
    assert unwrap_state("R4nd0m") == ("R4nd0m", None)
    for edited in (state + "=", state[:-1] + "!", "R.", "R.%%"):
        with pytest.raises(ValueError):
            unwrap_state(edited)
    with pytest.raises(ValueError):
        wrap_state("a.b", "https://x.example/")


def test_page_is_static_with_a_hash_csp_and_no_network(tmp_path: Path) -> None:
    assert main(["build", "--allow", "https://*.mybinder.org", "--out", str(tmp_path)]) == 0
    html = (tmp_path / "index.html").read_text()
    headers = (tmp_path / "_headers").read_text()
    assert "frame-ancestors 'none'" in headers and "X-Frame-Options: DENY" in headers
    page = build_page(["https://*.mybinder.org"])
    assert page.html == html
    assert "unsafe-inline" not in page.csp and "frame-ancestors" not in page.csp
    for word in (
        "fetch(",
        "XMLHttpRequest",
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "eval(",
    ):
        assert word not in html
    assert "connect-src 'none'" in page.csp and "require-trusted-types-for 'script'" in page.csp
    assert len(re.findall(r"<script\b", html)) == 1 and "src=" not in html.split("<script")[1][:10]
    hosts = [
        p["host"]
        for p in __import__("json").loads(html.split("var CONFIG = ")[1].split(";\n")[0])["allow"]
    ]
    assert hosts == ["mybinder.org", "127.0.0.1", "localhost"]
    assert "localhost" not in build_page(["https://*.mybinder.org"], loopback=False).html


def test_builder_refuses_a_bad_pattern(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "--allow", "https://*.org", "--out", str(tmp_path / "site")]) == 2
    assert "two labels" in capsys.readouterr().err
    assert not (tmp_path / "site").exists()
