"""The widget shows the redirect URI to register at Orange while a code sign-in is not done,
from the same rule as ``%orange status``; for the server handoff the browser fills in its own
origin, which the kernel cannot know."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from orange_nb import Orange
from orange_nb.widget.login import LoginWidget

SERVER = {"ORANGE_NB_SERVER_URL": "http://127.0.0.1:8888/user/alice/", "ORANGE_NB_SERVER_KEY": "k"}


def test_loopback_rule_shown_until_signed_in(
    make_session: Callable[..., Orange], comms: list[str], sign_in: Callable[[Orange], Any]
) -> None:
    orange = make_session()
    widget = LoginWidget(orange)
    try:
        assert widget.redirect_line in widget.children
        assert "http://127.0.0.1:PORT/callback" in widget.redirect_line.value
        assert "<details" in widget.redirect_line.value
        sign_in(orange)
        assert widget.redirect_line not in widget.children  # nothing to register any more
    finally:
        widget.close()


@pytest.fixture
def on_a_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Orange]:
    for name, value in SERVER.items():
        monkeypatch.setenv(name, value)
    orange = Orange(client_id="app", client_secret="s", login_ui="")
    yield orange
    orange.close()


def test_server_rule_takes_the_browsers_origin(
    on_a_server: Orange, comms: list[str], browser_context: Any
) -> None:
    widget = LoginWidget(on_a_server)
    try:
        shown = widget.redirect_line.value
        assert "{origin}</span>/user/alice/orange/callback" in shown
        assert on_a_server.redirect_rule().uri == "{origin}/user/alice/orange/callback"

        class Page(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = f"<!doctype html><div>{shown}</div>".encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            page = browser_context.new_page()
            origin = f"http://127.0.0.1:{server.server_address[1]}"
            page.goto(origin + "/")
            page.wait_for_function(
                "document.querySelector('.orange-nb-origin').textContent !== '{origin}'"
            )
            text = page.text_content("code")  # folded away: not rendered, but there
            assert text == f"{origin}/user/alice/orange/callback"
        finally:
            server.shutdown()
            server.server_close()
    finally:
        widget.close()
