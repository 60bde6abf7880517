"""Strays on the kernel's loopback listener cannot end or spoil a sign-in under way.

Any web page may point an ``<img>`` at ``http://127.0.0.1:PORT/callback?error=…``: only an
answer that carries the flow's ``state`` may end the wait. Real sockets throughout: the
session's listener, the sandbox, and httpx playing the stray requests and the browser.
"""

from __future__ import annotations

import httpx

from orange_nb import Orange
from orange_nb.sandbox import SandboxServer

STRAYS = (
    "error=access_denied",  # no state: the <img> of any page
    "error=access_denied&error_description=gotcha",
    "error=access_denied&state=",
    "error=access_denied&state=not-the-state",
    "code=forged&state=not-the-state",
)


def test_stray_answers_are_refused_and_the_real_sign_in_lands(sandbox: SandboxServer) -> None:
    sandbox.sandbox.configure(auto_consent="demo")
    orange = Orange.sandbox(root=sandbox.url, open_browser=False)
    try:
        flow = orange.begin_login()
        assert orange.handoff_name == "loopback" and flow.redirect_uri is not None
        for stray in STRAYS * 2:  # a page may fire them again and again
            answer = httpx.get(f"{flow.redirect_uri}?{stray}", timeout=5)
            assert answer.status_code == 400 and "stale" in answer.text, stray
        assert orange.status == "waiting" and orange.last_error == ""
        landing = httpx.get(flow.url, follow_redirects=True, timeout=10)  # the real browser
        assert landing.status_code == 200 and "Signed in" in landing.text
        token = orange.wait_for_login(10)
        assert orange.status == "signed_in" and token.access_token.reveal().startswith("sbx_at_")
    finally:
        orange.close()
