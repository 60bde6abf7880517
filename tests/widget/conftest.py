"""Fixtures of the login widget's tests: sandbox sessions, a headless sign-in, a leak scan.

Every widget message is recorded (``comms``): what a front-end would receive is scanned as
well as every live widget's ``get_state()``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

import comm
import httpx
import pytest
from comm.base_comm import BaseComm
from ipywidgets.widgets.widget import _instances
from jupyter_client.manager import KernelManager

from orange_nb import Orange
from orange_nb.oauth.flow import LoginFlow
from orange_nb.sandbox import DEMO_CLIENT_SECRET, SandboxServer
from orange_nb.widget.login import LoginWidget

PASTE_REDIRECT = "https://orange-nb.invalid/landed"


class RecordingComm(BaseComm):
    """A comm without a kernel that keeps, as JSON text, every message a front-end would get."""

    sent: ClassVar[list[str]] = []

    def publish_msg(
        self,
        msg_type: str,
        data: Any = None,
        metadata: Any = None,
        buffers: Any = None,
        **keys: Any,
    ) -> None:
        RecordingComm.sent.append(json.dumps({"type": msg_type, "data": data}, default=str))


@pytest.fixture
def kernel() -> Iterator[Any]:
    """A real kernel of this environment (no ORANGE_ or JPY_ variables), through jupyter_client."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ORANGE_", "JPY_"))}
    manager = KernelManager(kernel_name="python3")
    spec = manager.kernel_spec
    assert spec is not None
    spec.argv[0] = sys.executable  # this virtual environment's Python
    manager.start_kernel(env=env)
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    yield client
    client.stop_channels()
    manager.shutdown_kernel(now=True)


@pytest.fixture
def comms(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every widget message sent during the test, as JSON text."""
    RecordingComm.sent = []
    monkeypatch.setattr(comm, "create_comm", RecordingComm)
    return RecordingComm.sent


@pytest.fixture
def make_session(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Orange]]:
    """Build signed-out sessions on a fresh sandbox that approves sign-ins as "demo" at once."""
    for name in ("ORANGE_NB_SERVER_URL", "ORANGE_NB_SERVER_KEY", "ORANGE_NB_SERVER_SANDBOX"):
        monkeypatch.delenv(name, raising=False)
    sandbox.sandbox.configure(auto_consent="demo")
    made: list[Orange] = []

    def make(**settings: Any) -> Orange:
        settings.setdefault("open_browser", False)
        orange = Orange.sandbox(root=sandbox.url, **settings)
        made.append(orange)
        return orange

    yield make
    for orange in made:
        orange.logout()
        orange.close()


@pytest.fixture
def orange(make_session: Callable[..., Orange]) -> Orange:
    """A signed-out sandbox session (loopback handoff)."""
    return make_session()


@pytest.fixture
def widget(orange: Orange, comms: list[str]) -> Iterator[LoginWidget]:
    """The login widget of ``orange``, closed after the test."""
    shown = LoginWidget(orange)
    yield shown
    shown.close()


@dataclass
class Landing:
    """What a headless browser saw: the flow (with its secrets) and where the sandbox sent it."""

    flow: LoginFlow
    location: str

    @property
    def code(self) -> str:
        return dict(parse_qsl(urlsplit(self.location).query))["code"]


def _authorize(orange: Orange) -> Landing:
    flow = orange.begin_login()
    answer = httpx.get(flow.url, follow_redirects=False, timeout=10)
    assert answer.status_code in (302, 303), answer.text
    return Landing(flow, answer.headers["location"])


@pytest.fixture
def authorize() -> Callable[[Orange], Landing]:
    """Start a sign-in and get the sandbox's redirect (approved at once), without following it."""
    return _authorize


@pytest.fixture
def sign_in() -> Callable[[Orange], Landing]:
    """A whole loopback sign-in: authorize, land on the kernel's listener, wait for the tokens."""

    def run(orange: Orange) -> Landing:
        landing = _authorize(orange)
        assert httpx.get(landing.location, timeout=10).status_code == 200
        orange.wait_for_login(timeout=10)
        return landing

    return run


@pytest.fixture
def assert_no_secret(comms: list[str]) -> Callable[..., None]:
    """Check that no live widget's state and no widget message sent so far holds a secret.

    Secrets: the sandbox's token and code prefixes, the client secret, the tokens the session
    holds, and each given landing's code and PKCE verifier.
    """

    def check(orange: Orange, *landings: Landing) -> None:
        secrets = ["sbx_at_", "sbx_rt_", "sbx_code_", DEMO_CLIENT_SECRET]
        token = orange.token
        if token is not None:
            secrets += [
                token.access_token.reveal(),
                (token.refresh_token or token.access_token).reveal(),
            ]
        for landing in landings:
            secrets += [landing.code, landing.flow.code_verifier.reveal()]
        states = [json.dumps(w.get_state(), default=str) for w in list(_instances.values())]
        for text in states + comms:
            for secret in secrets:
                if secret in text:  # not an assert: its report would print the secret
                    pytest.fail(f"a widget holds a secret ({secret[:7]}…)", pytrace=False)

    return check


@pytest.fixture
def controls() -> Callable[[LoginWidget], list[str]]:
    """What a widget shows: button descriptions, "link" for the sign-in link, "paste" for the box."""

    def shown(widget: LoginWidget) -> list[str]:
        names: list[str] = []
        for row in widget.children:
            for child in getattr(row, "children", ()):
                if child is widget.link:
                    names.append("link")
                elif child is widget.paste_box:
                    names.append("paste")
                else:
                    names.append(child.description)
        return names

    return shown
