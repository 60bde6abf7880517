"""The paste handoff: the authorize link, the refusal to wait, and reading a pasted URL."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from orange_nb.errors import ConfigError, LoginError
from orange_nb.handoff import PasteHandoff
from orange_nb.oauth.flow import LoginFlow

LANDED = "https://orange-nb.invalid/landed"


@pytest.fixture
def flow() -> LoginFlow:
    flow = LoginFlow("https://auth.example/authorize", "client", ("openid",))
    PasteHandoff(LANDED).start(flow)
    return flow


def test_start_gives_the_full_authorize_url_with_the_redirect_uri(flow: LoginFlow) -> None:
    query = parse_qs(urlsplit(flow.url).query)
    assert flow.url.startswith("https://auth.example/authorize?")
    assert query["redirect_uri"] == [LANDED]
    assert query["state"] == [flow.state]
    assert flow.redirect_uri == LANDED


def test_wait_never_blocks_and_says_how_to_finish(flow: LoginFlow) -> None:
    with pytest.raises(LoginError, match=r"complete_login\(url\)"):
        PasteHandoff(LANDED).wait(flow, timeout=60)


def test_landed_url_gives_the_callback(flow: LoginFlow) -> None:
    callback = PasteHandoff.callback_from_url(
        flow, f"  {LANDED}?code=abc&state={flow.state}&iss=x \n"
    )
    assert dict(callback.params) == {"code": "abc", "state": flow.state, "iss": "x"}
    assert callback.redirect_uri == LANDED
    assert flow.code_from(callback.params) == "abc"


@pytest.mark.parametrize(
    "landed",
    [
        "HTTPS://Orange-NB.invalid/landed?code=abc&state=S",
        "https://orange-nb.invalid:443/landed?code=abc&state=S",
        "https://orange-nb.invalid/landed#code=abc&state=S",  # a fragment response
    ],
)
def test_equivalent_spellings_of_the_redirect_uri_are_accepted(
    flow: LoginFlow, landed: str
) -> None:
    callback = PasteHandoff.callback_from_url(flow, landed)
    assert callback.params["code"] == "abc"


def test_an_error_answer_is_passed_on(flow: LoginFlow) -> None:
    callback = PasteHandoff.callback_from_url(
        flow, f"{LANDED}?error=access_denied&state={flow.state}"
    )
    with pytest.raises(LoginError, match="refused"):
        flow.code_from(callback.params)


@pytest.mark.parametrize(
    ("pasted", "message"),
    [
        ("abc123", "not the address the browser landed on"),
        ("code=abc&state=S", "not the address the browser landed on"),
        ("ftp://orange-nb.invalid/landed?code=abc", "not the address the browser landed on"),
        ("https://evil.example/landed?code=abc&state=S", "another page or application"),
        ("https://orange-nb.invalid/other?code=abc&state=S", "another page or application"),
        ("http://orange-nb.invalid/landed?code=abc&state=S", "another page or application"),
        ("https://orange-nb.invalid:8443/landed?code=abc&state=S", "another page or application"),
        (LANDED, "holds no sign-in answer"),
        (LANDED + "?utm=1", "holds no sign-in answer"),
        (LANDED + "?code=a&code=b&state=S", "twice"),
    ],
)
def test_wrong_pastes_are_explained(flow: LoginFlow, pasted: str, message: str) -> None:
    with pytest.raises(LoginError, match=message) as info:
        PasteHandoff.callback_from_url(flow, pasted)
    assert "code=abc" not in str(info.value)  # the pasted query is never repeated


def test_without_a_known_redirect_uri_the_pasted_one_is_used() -> None:
    flow = LoginFlow("https://auth.example/authorize", "client", ("openid",))
    callback = PasteHandoff.callback_from_url(flow, "https://h.example/cb?code=abc&state=S")
    assert callback.redirect_uri == "https://h.example/cb"


def test_paste_handoff_needs_a_redirect_uri() -> None:
    with pytest.raises(ConfigError, match="ORANGE_REDIRECT_URI"):
        PasteHandoff("")
