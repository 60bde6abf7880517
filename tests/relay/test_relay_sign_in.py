"""Sign-ins through the relay, in Chromium, against real peers.

The relay on its own origin (``conftest.relay``); two Jupyter server processes with base URLs
``/user/alice/`` and ``/user/bob/`` (reached as ``localhost``), each with a real kernel; a
session in this process with no server at all (the loopback listener); all sign in to a
sandbox whose demo client has only the relay's URL registered. Then every bad input of
issue #15, in the browser.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from reliability_harness import JupyterServer, Kernel

from orange_nb import Orange
from orange_nb.sandbox import SandboxServer

pytestmark = pytest.mark.slow


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def local(server: JupyterServer) -> str:
    """The server as the browser reaches it: ``localhost``, an allowed host of the relay."""
    return f"http://localhost:{server.port}{server.base_url}"


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, JupyterServer]]:
    started: dict[str, JupyterServer] = {}
    try:
        for name in ("alice", "bob"):
            server = JupyterServer(tmp_path_factory.mktemp(name), base_url=f"/user/{name}/")
            server.launch()
            started[name] = server
        yield started
    finally:
        for server in started.values():
            server.stop()
    for server in started.values():
        assert "Traceback" not in server.logs(), server.logs()[-3000:]


@pytest.fixture(scope="module")
def kernels(
    servers: dict[str, JupyterServer], relay: Any, relay_sandbox: SandboxServer
) -> dict[str, Kernel]:
    found = {}
    for name, server in servers.items():
        (kernel,) = server.start_kernels(1)
        kernel.run(
            f"""
            from orange_nb import Orange
            orange = Orange.sandbox({relay_sandbox.url!r}, relay_url={relay.url!r},
                                    redirect_uri=None, open_browser=False)
            """
        )
        found[name] = kernel
    return found


def begin(kernel: Kernel) -> str:
    return str(kernel.run("flow = orange.begin_login(); print(flow.url)").stdout.strip())


def signed_in_as(kernel: Kernel) -> str:
    cell = kernel.run("orange.wait_for_login(30); print(orange.status, orange.user)")
    return str(cell.stdout.strip())


def jupyter_login(page: Any, server: JupyterServer) -> None:
    page.goto(f"{local(server)}api/status?token={server.token}")


def view(page: Any) -> str:
    page.wait_for_function("document.body && document.body.dataset.view !== 'loading'")
    return str(page.evaluate("document.body.dataset.view"))


class Capture:
    """Stops the browser at the sandbox's authorize step (auto-consent: one redirect), and
    keeps the URL the sandbox answers the relay with: a redirect's target cannot be routed."""

    def __init__(self, context: Any, sandbox: SandboxServer) -> None:
        self.urls: list[str] = []
        self.pattern = re.compile(re.escape(sandbox.url) + r"/openidconnect/fr/v1/authorize\?")
        self.context = context
        context.route(self.pattern, self._stop)

    def _stop(self, route: Any) -> None:
        with httpx.Client(trust_env=False) as http:
            answer = http.get(route.request.url)
        self.urls.append(answer.headers["location"])
        route.abort()

    def wait(self, page: Any) -> str:
        while not self.urls:
            page.wait_for_timeout(50)
        self.context.unroute(self.pattern)
        return self.urls[0]


def test_the_sandbox_accepts_only_the_relay(
    relay: Any, relay_sandbox: SandboxServer, servers: dict[str, JupyterServer]
) -> None:
    authorize = f"{relay_sandbox.url}/openidconnect/fr/v1/authorize"
    base = {"response_type": "code", "client_id": "orange-nb-sandbox", "scope": "openid"}
    with httpx.Client(trust_env=False) as http:
        for uri in (f"{local(servers['alice'])}orange/callback", "http://127.0.0.1:9/callback"):
            refused = http.get(authorize, params={**base, "state": "s", "redirect_uri": uri})
            assert refused.status_code == 400, uri
        ok = http.get(authorize, params={**base, "state": "s", "redirect_uri": relay.url})
        assert ok.status_code in (302, 303) and ok.headers["location"].startswith(relay.url)


def test_two_servers_sign_in_through_one_relay(
    browser_context: Any,
    servers: dict[str, JupyterServer],
    kernels: dict[str, Kernel],
    relay: Any,
) -> None:
    page = browser_context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    for name in ("alice", "bob"):
        server = servers[name]
        jupyter_login(page, server)
        link = begin(kernels[name])
        assert link.startswith(f"/user/{name}/orange/login/")
        seen: list[str] = []
        page.on("framenavigated", lambda frame, seen=seen: seen.append(frame.url))
        page.goto(f"http://localhost:{server.port}{link}")
        page.wait_for_url(re.compile(rf"/user/{name}/orange/callback\?"))
        assert "Signed in" in page.content()
        assert signed_in_as(kernels[name]) == "signed_in Alice Martin"
        # The way: the relay (go), the sandbox, the relay (answer), this server's callback.
        via = [u for u in seen if u.startswith(relay.url)]
        assert via[0].startswith(relay.url + "#go=") and "?code=" in via[-1]
        state = parse_qs(urlsplit(via[-1]).query)["state"][0]
        assert state.endswith("." + _b64(f"{local(server)}orange/callback"))
    assert not problems, problems  # no CSP violation: the hashes fit the inline script and style


def test_a_kernel_without_a_server_signs_in_through_the_relay(
    browser_context: Any, relay: Any, relay_sandbox: SandboxServer
) -> None:
    orange = Orange.sandbox(
        relay_sandbox.url,
        relay_url=relay.url,
        redirect_uri="http://localhost:0/callback",
        open_browser=False,
    )
    try:
        flow = orange.begin_login()
        assert orange.signin.handoff_name == "loopback" and flow.url.startswith(relay.url + "#go=")
        page = browser_context.new_page()
        page.goto(flow.url)
        page.wait_for_url(re.compile(r"^http://localhost:\d+/callback\?"))
        assert "Signed in" in page.content()
        orange.wait_for_login(30)
        assert orange.status == "signed_in" and orange.user == "Alice Martin"
    finally:
        orange.logout()


def test_paste_through_the_relay(
    browser_context: Any, relay: Any, relay_sandbox: SandboxServer
) -> None:
    orange = Orange.sandbox(
        relay_sandbox.url, relay_url=relay.url, handoff="paste", open_browser=False
    )
    try:
        flow = orange.begin_login()
        page = browser_context.new_page()
        page.goto(flow.url)
        page.wait_for_url(re.compile(re.escape(relay.url) + r"\?"))
        assert view(page) == "paste"
        landed = page.input_value("#address")
        assert landed == page.url
        orange.complete_login(landed)
        assert orange.status == "signed_in"
    finally:
        orange.logout()


def test_another_browser_gets_an_interstitial_and_an_edited_target_fails(
    chromium: Any,
    browser_context: Any,
    servers: dict[str, JupyterServer],
    kernels: dict[str, Kernel],
    relay: Any,
    relay_sandbox: SandboxServer,
) -> None:
    alice, bob = servers["alice"], servers["bob"]
    page = browser_context.new_page()
    jupyter_login(page, alice)
    jupyter_login(page, bob)
    capture = Capture(browser_context, relay_sandbox)
    try:
        page.goto(f"http://localhost:{alice.port}{begin(kernels['alice'])}")
    except Exception:  # the aborted navigation
        pass
    landing = capture.wait(page)
    assert landing.startswith(relay.url + "?")
    query = parse_qs(urlsplit(landing).query)
    state, code = query["state"][0], query["code"][0]
    random_part = state.split(".")[0]

    # The target edited to bob's server (an allowed host): no mark for that state, so the
    # relay asks; bob's server knows no such login.
    edited = (
        relay.url
        + "?"
        + urlencode(
            {"code": code, "state": random_part + "." + _b64(f"{local(bob)}orange/callback")}
        )
    )
    page.goto(edited)
    assert view(page) == "interstitial"
    assert page.text_content("#continue") == f"Continue to localhost:{bob.port}"
    page.click("#continue")
    page.wait_for_url(re.compile(r"/user/bob/orange/callback\?"))
    assert "This sign-in link is stale" in page.content()

    # Edited so that it still lands on alice's server, with a target that is not its callback.
    spelled = (
        relay.url
        + "?"
        + urlencode(
            {"code": code, "state": random_part + "." + _b64(f"{local(alice)}orange/callback?x=1")}
        )
    )
    page.goto(spelled)
    assert view(page) == "refused"  # a target with a query is no callback
    direct = f"{local(alice)}orange/callback?" + urlencode(
        {
            "code": code,
            "state": random_part
            + "."
            + _b64(f"http://LOCALHOST:{alice.port}/user/alice/orange/callback"),
        }
    )
    answer = page.goto(direct)
    assert answer is not None and answer.status == 400  # the target is not this callback

    # The same answer in another browser (no mark): the interstitial names alice's server;
    # continuing there finishes the sign-in.
    other = chromium.new_context()
    try:
        second = other.new_page()
        jupyter_login(second, alice)
        second.goto(landing)
        assert view(second) == "interstitial"
        assert f"localhost:{alice.port}/user/alice/orange/callback" in second.text_content(
            "#detail"
        )
        assert second.url == landing  # nothing happened on its own
        second.click("#continue")
        second.wait_for_url(re.compile(r"/user/alice/orange/callback\?"))
        assert "Signed in" in second.content()
    finally:
        other.close()
    assert signed_in_as(kernels["alice"]) == "signed_in Alice Martin"

    # The code replayed through the relay in the first browser: its mark was never used, but
    # the login is over, so alice's server refuses it and the kernel stays as it was.
    page.goto(landing)
    page.wait_for_url(re.compile(r"/user/alice/orange/callback\?"))
    assert "This sign-in link is stale" in page.content()
    page.goto(landing)  # once more: the mark is used up now
    assert view(page) == "interstitial"
    assert signed_in_as(kernels["alice"]) == "signed_in Alice Martin"
