"""The relay page's own behaviour in Chromium, served from its own origin (``conftest.relay``).

Every answer here is refused or held by the page itself: no Jupyter server is needed. The
page was built with ``--allow http://localhost:* --allow https://*.mybinder.org
--no-loopback --authorize-origin http://127.0.0.1:*``.
"""

from __future__ import annotations

import base64
import functools
import threading
from html import escape
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from orange_nb.relay import allowed, parse_all

RANDOM = "r" * 43


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Silent."""


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def landing(relay: Any, target: str, **extra: str) -> str:
    return str(
        relay.url + "?" + urlencode({"code": "c0de", "state": f"{RANDOM}.{_b64(target)}", **extra})
    )


def view(page: Any) -> str:
    page.wait_for_function("document.body && document.body.dataset.view !== 'loading'")
    return str(page.evaluate("document.body.dataset.view"))


# (return target, what the page does without this tab's mark)
TARGETS = [
    ("https://hub.2i2c.mybinder.org/user/x/orange/callback", "interstitial"),
    ("https://HUB.MyBinder.org/user/x/orange/callback", "interstitial"),
    ("http://LOCALHOST:8888/user/a/orange/callback", "interstitial"),
    ("http://localhost:1/callback", "interstitial"),
    ("https://mybinder.org/user/x/orange/callback", "refused"),
    ("https://hub.mybinder.org.evil.com/user/x/orange/callback", "refused"),
    ("https://evilmybinder.org/orange/callback", "refused"),
    ("https://hub.mybinder.org./user/x/orange/callback", "refused"),
    ("https://hub.mybіnder.org/user/x/orange/callback", "refused"),  # Cyrillic і
    ("https://user:pw@hub.mybinder.org/orange/callback", "refused"),
    ("https://hub.mybinder.org@evil.com/orange/callback", "refused"),
    ("https://hub.mybinder.org:8443/orange/callback", "refused"),
    ("http://hub.mybinder.org/orange/callback", "refused"),
    ("http://127.0.0.1:8888/user/a/orange/callback", "refused"),  # loopback is off here
    ("http://localhost.evil.com:8888/orange/callback", "refused"),
    ("javascript:alert(document.domain)//localhost:1/", "refused"),
    ("http://localhost:1/callback?next=https://evil.com", "refused"),  # not a plain callback
    ("http://localhost:1/callback#x", "refused"),
]


def test_the_page_and_the_python_rule_agree(browser_context: Any, relay: Any) -> None:
    patterns = parse_all(relay.allow)
    page = browser_context.new_page()
    seen = {}
    for target, _ in TARGETS:
        page.goto(landing(relay, target))
        seen[target] = view(page)
        if "?" not in target and "#" not in target:  # the Python rule reads origins only
            assert allowed(patterns, target) is (seen[target] == "interstitial"), target
    assert seen == dict(TARGETS)
    assert page.is_visible("#address")  # a refusal offers the address to paste
    assert page.input_value("#address") == page.url


def test_go_refuses_links_it_does_not_serve(browser_context: Any, relay: Any) -> None:
    page = browser_context.new_page()
    good_state = f"{RANDOM}.{_b64('http://localhost:1/callback')}"
    cases = {
        # not an authorize origin of this relay: no open redirector
        "https://evil.example/authorize": {"state": good_state, "redirect_uri": relay.url},
        # does not come back to this page
        "http://127.0.0.1:9/authorize": {"state": good_state, "redirect_uri": "https://x.example/"},
        # would come back to a host the relay does not serve
        "http://127.0.0.1:8/authorize": {
            "state": f"{RANDOM}.{_b64('https://evil.example/orange/callback')}",
            "redirect_uri": relay.url,
        },
        "http://127.0.0.1:7/authorize": {"redirect_uri": relay.url},  # no state
    }
    for authorize, params in cases.items():
        url = relay.url + "#go=" + quote(authorize + "?" + urlencode(params), safe="")
        page.goto(url)
        assert view(page) == "refused", authorize
        page.wait_for_timeout(200)
        assert page.url == url  # it went nowhere
        assert page.evaluate("sessionStorage.length") == 0  # and marked nothing


def test_errors_are_shown_as_text(browser_context: Any, relay: Any) -> None:
    page = browser_context.new_page()
    markup = '<img src=x onerror="document.title=1"><b>bold</b>'
    for target, expected in (
        ("http://localhost:1/callback", "interstitial"),
        ("https://evil.example/orange/callback", "refused"),
    ):
        page.goto(landing(relay, target, error="access_denied", error_description=markup))
        assert view(page) == expected
        detail = page.text_content("#detail") or ""
        assert "access_denied" in detail and markup in detail
        assert page.evaluate("document.querySelectorAll('img, b').length") == 0
        assert page.title() == "Sign in with Orange"
    page.goto(relay.url + "?" + urlencode({"state": RANDOM, "code": "x"}) + "&state=again")
    assert view(page) == "refused" and "twice" in (page.text_content("#message") or "")
    page.goto(relay.url)
    assert view(page) == "idle"


def test_framed_it_does_nothing(browser_context: Any, relay: Any, tmp_path: Path) -> None:
    answer = landing(relay, "http://localhost:1/callback")
    go = (
        relay.url
        + "#go="
        + quote(
            "http://127.0.0.1:9/authorize?"
            + urlencode(
                {
                    "state": f"{RANDOM}.{_b64('http://localhost:1/callback')}",
                    "redirect_uri": relay.url,
                }
            ),
            safe="",
        )
    )
    # Another site (another loopback origin) frames the page, as a clickjacker would.
    (tmp_path / "index.html").write_text(
        f'<iframe src="{escape(answer)}"></iframe><iframe src="{escape(go)}"></iframe>'
    )
    attacker = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(tmp_path))
    )
    thread = threading.Thread(target=attacker.serve_forever, daemon=True)
    thread.start()
    try:
        page = browser_context.new_page()
        page.goto(f"http://localhost:{attacker.server_address[1]}/")
        page.wait_for_function("document.querySelectorAll('iframe').length == 2")
        page.wait_for_timeout(500)
        frames = [f for f in page.frames if f.url.startswith(relay.url)]
        assert len(frames) == 2
        for frame in frames:
            frame.wait_for_function("document.body && document.body.dataset.view !== 'loading'")
            assert frame.evaluate("document.body.dataset.view") == "framed"
            assert not frame.is_visible("#continue") and not frame.is_visible("#address")
        assert sorted(f.url for f in frames) == sorted([answer, go])  # neither went anywhere
    finally:
        attacker.shutdown()
        attacker.server_close()
        thread.join()


@pytest.mark.parametrize("bad", ["R.!!", "R.", f"{RANDOM}.{_b64('x')}="])
def test_an_unreadable_target_is_refused(browser_context: Any, relay: Any, bad: str) -> None:
    page = browser_context.new_page()
    page.goto(relay.url + "?" + urlencode({"code": "c", "state": bad}))
    assert view(page) == "refused"
    assert not page.is_visible("#continue")
