"""The sign-in and consent pages in a real browser (Debian's Chromium through Playwright)."""

from __future__ import annotations

from pathlib import Path

import pytest

from orange_nb.sandbox import ISSUER

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def authorize_url(oauth) -> str:
    params = oauth.params(scope="openid profile mobility:read kyc-match:match")
    return str(oauth.http.build_request("GET", "/openidconnect/fr/v1/authorize", params=params).url)


def test_sign_in_and_approve_lands_on_the_redirect_uri(oauth, listener, browser_context) -> None:
    oauth.redirect_uri = listener.redirect_uri
    page = browser_context.new_page()
    page.goto(authorize_url(oauth))
    assert page.input_value("#username") == "demo"
    assert "synthetic data, not Orange" in page.inner_text("body")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "sandbox-sign-in.png"), full_page=True)
    page.fill("#username", "alice")
    page.fill("#password", "anything")
    page.click("button#sign-in")
    page.wait_for_selector("button#approve")
    assert "Alice Martin" in page.inner_text("main")
    assert "Read synthetic mobility statistics" in page.inner_text("main")
    page.screenshot(path=str(ARTIFACTS / "sandbox-consent.png"), full_page=True)
    page.click("button#approve")
    page.wait_for_url(listener.redirect_uri + "?*")
    params = listener.wait()
    assert params["state"] == oauth.state and params["iss"] == ISSUER
    assert oauth.exchange(params["code"]).status_code == 200
    assert "Signed in." in page.inner_text("body")


def test_deny_lands_with_access_denied(oauth, listener, browser_context) -> None:
    oauth.redirect_uri = listener.redirect_uri
    page = browser_context.new_page()
    page.goto(authorize_url(oauth))
    page.click("button#sign-in")
    page.click("button#deny")
    page.wait_for_url(listener.redirect_uri + "?*")
    params = listener.wait()
    assert params["error"] == "access_denied" and params["state"] == oauth.state
    assert "code" not in params
