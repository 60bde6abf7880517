"""Attacks refused, each against real peers: a Jupyter server process, its kernels, listeners.

The attacker plays the browser (forging, replaying or tampering with callbacks), another
kernel (registering and polling with the server key), a process without the key, a
malicious or merely other host on the same machine, or another user planting a token file.
Every attempt refused is counted in the run's figures.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx
import pytest
from reliability_harness import ISSUER, TALLY, ZONES, Browser, JupyterServer, Kernel

from orange_nb import LoginError, LoginRequired, Orange
from orange_nb.handoff.server import ServerHandoff
from orange_nb.oauth.flow import LoginFlow
from orange_nb.sandbox import SandboxServer
from orange_nb.stores.base import store_key
from orange_nb.stores.file import FileStore, TokenStoreWarning

pytestmark = pytest.mark.slow


def refused(count: int = 1) -> None:
    with TALLY.lock:
        TALLY.attacks_refused += count


def token_requests(server: JupyterServer) -> int:
    return int(server.sandbox("GET", "stats")["token_requests"]["authorization_code"])


def callback_url(server: JupyterServer, params: dict[str, str]) -> str:
    return f"http://127.0.0.1:{server.port}/orange/callback?{urlencode(params)}"


@pytest.fixture
def kernel_login(sec_kernel: Kernel, sec_browser: Browser) -> Callable[..., str]:
    """Start a sign-in in the kernel (``orange``, optionally with a widget); its authorize URL."""

    def begin(widget: bool = False) -> str:
        link = sec_kernel.run(
            f"""
            orange = Orange.sandbox(open_browser=False)
            if {widget}:
                from orange_nb.widget.login import LoginWidget
                widget = LoginWidget(orange)
            print(json.dumps(orange.begin_login().url))
            """
        ).json()
        return sec_browser.open_login(link)

    return begin


def wait_while(kernel: Kernel, action: Callable[[], Any]) -> dict[str, Any]:
    """``orange.wait_for_login`` in the kernel, with ``action`` (the browser) done meanwhile."""
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(kernel_outcome, kernel, "orange.wait_for_login(30)")
        time.sleep(0.3)  # the kernel waits by now, as it would behind a sign-in link
        action()
        return waiting.result(timeout=60)


def kernel_outcome(kernel: Kernel, code: str) -> dict[str, Any]:
    """Run ``code`` in the kernel: its error class and message, or ``ok``; the session's status."""
    return kernel.run(  # type: ignore[no-any-return]
        f"""
        try:
            {code}
            outcome = {{"ok": True}}
        except Exception as exc:
            outcome = {{"ok": False, "error": type(exc).__name__, "message": str(exc)}}
        outcome["status"] = orange.status
        print(json.dumps(outcome))
        """
    ).json()


# --- the callback: forged, replayed, mixed up, crossed ----------------------------------


def test_forged_and_replayed_states_are_refused(
    sec_kernel: Kernel, sec_browser: Browser, sec_server: JupyterServer, kernel_login: Any
) -> None:
    authorize = kernel_login()
    state = parse_qs(urlsplit(authorize).query)["state"][0]
    landing = sec_browser.authorize(authorize)  # the real code, not delivered yet
    code = parse_qs(urlsplit(landing).query)["code"][0]
    forged = [
        {"code": code, "state": secrets.token_urlsafe(32)},
        {"code": code, "state": state[:-1]},
        {"code": code, "state": state + "A"},
        {"code": code, "state": state.swapcase()},
        {"code": code, "state": ""},
        {"code": code},
    ]
    for params in forged:
        page = sec_browser.land(callback_url(sec_server, params))
        assert page.status_code == 400, params.keys()
        assert "Run the login cell" in page.text and code not in page.text
    assert kernel_outcome(sec_kernel, "pass")["status"] == "waiting"  # still waiting

    assert sec_browser.land(landing).status_code == 200
    assert kernel_outcome(sec_kernel, "orange.wait_for_login(30)")["status"] == "signed_in"
    first = sec_kernel.run("print(json.dumps(orange.token.issued_at))").json()
    exchanges = token_requests(sec_server)

    replay = sec_browser.land(landing)
    assert replay.status_code == 400 and "stale" in replay.text
    time.sleep(0.3)  # a delivered replay would reach the kernel within this
    assert sec_kernel.run("print(json.dumps(orange.token.issued_at))").json() == first
    assert token_requests(sec_server) == exchanges  # the replayed code went nowhere
    refused(len(forged) + 1)


def test_an_issuer_mix_up_is_refused_before_any_exchange(
    sec_kernel: Kernel, sec_browser: Browser, sec_server: JupyterServer, kernel_login: Any
) -> None:
    authorize = kernel_login()
    landing = sec_browser.authorize(authorize)
    params = {k: v[0] for k, v in parse_qs(urlsplit(landing).query).items()}
    assert params["iss"] == ISSUER
    exchanges = token_requests(sec_server)
    tampered = {**params, "iss": "https://evil.example/openidconnect/fr/v1"}
    pages: list[httpx.Response] = []
    outcome = wait_while(
        sec_kernel, lambda: pages.append(sec_browser.land(callback_url(sec_server, tampered)))
    )
    assert pages[0].status_code == 200  # the server hands it over; the kernel judges it
    assert outcome["error"] == "LoginError" and "another issuer" in outcome["message"], outcome
    assert outcome["status"] == "error"
    assert token_requests(sec_server) == exchanges  # the code was never sent anywhere
    refused()


def test_markup_in_the_error_is_shown_as_text_on_the_page_and_in_the_widget(
    sec_kernel: Kernel, sec_browser: Browser, sec_server: JupyterServer, kernel_login: Any
) -> None:
    authorize = kernel_login(widget=True)
    state = parse_qs(urlsplit(authorize).query)["state"][0]
    attack = {
        "error": "<b>server_error</b>",
        "error_description": '<script>alert(1)</script><img src=x onerror="alert(2)">',
        "state": state,
    }
    pages: list[httpx.Response] = []
    outcome = wait_while(
        sec_kernel, lambda: pages.append(sec_browser.land(callback_url(sec_server, attack)))
    )
    page = pages[0].text
    shown = sec_kernel.run("print(json.dumps(widget.status_line.value)); widget.close()").json()
    assert outcome["error"] == "LoginError" and outcome["status"] == "error"
    for html in (page, shown):
        assert "<script" not in html and "<img" not in html and "<b>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    refused(2)


@pytest.fixture
def handoffs(sec_server: JupyterServer, server_key: str) -> Iterator[Callable[[], ServerHandoff]]:
    """Server handoffs, as kernels of ``sec_server`` have them (its URL and key)."""
    made: list[ServerHandoff] = []

    def make() -> ServerHandoff:
        made.append(ServerHandoff(sec_server.url, server_key))
        return made[-1]

    yield make
    for handoff in made:
        handoff.close()


def sandbox_flow(server: JupyterServer) -> LoginFlow:
    root = f"{server.sandbox_root}/openidconnect/fr/v1/"
    return LoginFlow(root + "authorize", "orange-nb-sandbox", ("openid",), issuer=ISSUER)


def test_a_callback_reaches_only_the_flow_its_state_names(
    sec_server: JupyterServer, sec_browser: Browser, handoffs: Callable[[], ServerHandoff]
) -> None:
    # Three kernels' flows; the answer is for the middle one, so that neither "the first
    # pending flow" nor "the last one" could pass for "the flow of this state".
    kernels = [handoffs() for _ in range(3)]
    flows = [sandbox_flow(sec_server) for _ in range(3)]
    for kernel, flow in zip(kernels, flows, strict=True):
        kernel.start(flow)
    target = flows[1]
    with ThreadPoolExecutor(2) as pool:
        others = [pool.submit(kernels[i].wait, flows[i], 2.0) for i in (0, 2)]
        time.sleep(0.2)
        page = sec_browser.land(callback_url(sec_server, {"code": "code-1", "state": target.state}))
        assert page.status_code == 200
        got = kernels[1].wait(target, 5)
        for other in others:
            with pytest.raises(TimeoutError):  # the other kernels never see this code
                other.result(timeout=10)
    assert dict(got.params) == {"code": "code-1", "state": target.state}
    # Had a server mixed them up anyway, each kernel's own check refuses another's answer.
    for i in (0, 2):
        with pytest.raises(LoginError, match="another login attempt"):
            flows[i].code_from(got.params)
    for i in (0, 2):
        params = {"code": f"code-{i}", "state": flows[i].state}
        sec_browser.land(callback_url(sec_server, params))
        assert kernels[i].wait(flows[i], 5).params["code"] == f"code-{i}"
    refused(4)


def test_a_second_callback_for_an_answered_flow_is_stale_and_stores_nothing(
    sec_server: JupyterServer, sec_browser: Browser, handoffs: Callable[[], ServerHandoff]
) -> None:
    kernel = handoffs()
    flow = sandbox_flow(sec_server)
    kernel.start(flow)
    first = sec_browser.land(callback_url(sec_server, {"code": "first", "state": flow.state}))
    assert first.status_code == 200
    # Before the kernel picks it up: an attacker's answer for the same state changes nothing.
    second = sec_browser.land(callback_url(sec_server, {"code": "attacker", "state": flow.state}))
    assert second.status_code == 400 and "stale" in second.text
    assert kernel.wait(flow, 5).params["code"] == "first"
    third = sec_browser.land(callback_url(sec_server, {"code": "late", "state": flow.state}))
    assert third.status_code == 400 and "stale" in third.text
    refused(2)


# --- the kernel API and the login link -----------------------------------------------------


def test_the_kernel_api_without_the_right_key_does_nothing(
    sec_server: JupyterServer, server_key: str, sec_browser: Browser
) -> None:
    api = f"{sec_server.url}orange/api/flows"
    wrong: list[dict[str, Any]] = [
        {},
        {"headers": {"X-Orange-NB-Key": ""}},
        {"headers": {"X-Orange-NB-Key": secrets.token_urlsafe(32)}},
        {"headers": {"X-Orange-NB-Key": server_key[:-1]}},
        {"headers": {"X-Orange-NB-Key": server_key + "A"}},
        {"headers": {"Authorization": f"token {sec_server.token}"}},  # Jupyter's token
        {"params": {"key": server_key}},  # the key, but not in its header
        {"headers": {"Cookie": f"X-Orange-NB-Key={server_key}"}},
    ]
    with httpx.Client(trust_env=False, timeout=10) as http:
        for how in wrong:
            flow = sandbox_flow(sec_server)
            body = {"state": flow.state, "authorize_url": flow.authorization_url()}
            attempt = http.post(api, json=body, **how)
            assert attempt.status_code == 403 and set(attempt.json()) == {"message"}
            # Nothing registered: its callback is stale, and the key's own POST is not a 409.
            page = sec_browser.land(callback_url(sec_server, {"code": "c", "state": flow.state}))
            assert page.status_code == 400
            keyed = http.post(api, json=body, headers={"X-Orange-NB-Key": server_key})
            assert keyed.status_code == 201, keyed.text
            flow_id = keyed.json()["id"]
            # With the flow answered, a wrong key can neither read nor cancel it.
            sec_browser.land(callback_url(sec_server, {"code": "mine", "state": flow.state}))
            for method in ("GET", "DELETE"):
                params = {"timeout": "0", **how.get("params", {})}
                rest = {k: v for k, v in how.items() if k != "params"}
                other = http.request(method, f"{api}/{flow_id}", params=params, **rest)
                assert other.status_code == 403
            mine = http.get(
                f"{api}/{flow_id}",
                params={"timeout": "0"},
                headers={"X-Orange-NB-Key": server_key},
            )
            assert mine.json()["params"]["code"] == "mine"
            refused(3)


NOT_HTTP = [
    "javascript:alert(1)//?state={s}",
    "JavaScript:alert(1)//?state={s}",
    "data:text/html,<script>x</script>?state={s}",
    "ftp://evil.example/a?state={s}",
    "//evil.example/a?state={s}",
    "http:///evil?state={s}",
    "https:evil.example?state={s}",
    "file:///etc/passwd?state={s}",
    "vbscript:x?state={s}",
]


def test_the_login_link_leads_to_the_registered_authorize_url_and_nowhere_else(
    sec_server: JupyterServer, server_key: str, handoffs: Callable[[], ServerHandoff]
) -> None:
    flow = LoginFlow("https://auth.example/authorize", "c", ("openid",))
    link = handoffs().start(flow)
    callback = f"http://127.0.0.1:{sec_server.port}/orange/callback"
    expected = flow.authorization_url() + "&" + urlencode({"redirect_uri": callback})
    evil = "https://evil.example/"
    extras = [
        {"next": evil},
        {"redirect_uri": evil + "cb"},
        {"url": "//evil.example"},
        {"return_to": evil, "state": "x", "authorize_url": evil},
        {"next": "%2F%2Fevil.example"},
    ]
    with sec_server.http(follow_redirects=False) as http:
        for params in extras:
            answer = http.get(f"http://127.0.0.1:{sec_server.port}{link}", params=params)
            assert answer.status_code == 302 and answer.headers["Location"] == expected
        origin = f"127.0.0.1:{sec_server.port}"
        for path in (f"{link}/..%2F..%2Fevil", f"/{link}", f"{link}%0d%0aLocation:%20{evil}"):
            answer = http.get(f"http://{origin}{path}")
            locations = answer.headers.get_list("Location")
            assert len(locations) <= 1, path  # no header smuggled in
            # At most a path on this same server (Jupyter drops a trailing slash so).
            for location in locations:
                assert urlsplit(urljoin(f"http://{origin}/", location)).netloc == origin, path
        refused(len(extras) + 3)

        # A kernel (it has the key) cannot register anything but an http(s) URL.
        for url in NOT_HTTP:
            state = secrets.token_urlsafe(16)
            body = {"state": state, "authorize_url": url.format(s=state)}
            answer = http.post(
                f"{sec_server.url}orange/api/flows",
                json=body,
                headers={"X-Orange-NB-Key": server_key, "Authorization": ""},
            )
            assert answer.status_code == 400, url
        for redirect in ("javascript:alert(1)", "//evil.example/cb", "data:,x"):
            state = secrets.token_urlsafe(16)
            body = {"state": state, "authorize_url": f"https://a.example/?state={state}",
                    "redirect_uri": redirect}  # fmt: skip
            answer = http.post(
                f"{sec_server.url}orange/api/flows",
                json=body,
                headers={"X-Orange-NB-Key": server_key, "Authorization": ""},
            )
            assert answer.status_code == 400, redirect
        refused(len(NOT_HTTP) + 3)


# --- the bearer token and the token store ----------------------------------------------------


class Listener:
    """An HTTP server on 127.0.0.1 that records every request; ``answer`` says what to send."""

    def __init__(
        self, answer: Callable[[BaseHTTPRequestHandler], tuple[int, dict[str, str], bytes]]
    ):
        self.requests: list[dict[str, Any]] = []
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_any(self) -> None:
                listener.requests.append({"path": self.path, "headers": dict(self.headers)})
                status, headers, body = answer(self)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_any

            def log_message(self, *args: Any) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listeners() -> Iterator[tuple[Listener, Listener]]:
    """``other``: any host the token must never reach; ``api``: an allowed API that lies."""
    other = Listener(lambda h: (200, {"Content-Type": "application/json"}, b'{"items": []}'))

    def lying_api(h: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        json_type = {"Content-Type": "application/json"}
        if h.path.startswith("/moved"):
            return 302, {"Location": f"{other.url}/steal-redirect"}, b""
        if h.path.startswith("/link"):
            return (
                200,
                {**json_type, "Link": f'<{other.url}/steal-link>; rel="next"'},
                b'{"items": [{"id": 1}]}',
            )
        return (
            200,
            json_type,
            json.dumps({"items": [{"id": 1}], "next": f"{other.url}/steal-next"}).encode(),
        )

    api = Listener(lying_api)
    yield other, api
    other.stop()
    api.stop()


def test_the_bearer_token_never_leaves_for_another_host(
    sec_kernel: Kernel,
    sec_browser: Browser,
    kernel_login: Any,
    listeners: tuple[Listener, Listener],
) -> None:
    other, api = listeners
    sec_browser.land(sec_browser.authorize(kernel_login()))
    sec_kernel.run(
        """
        orange.wait_for_login(30)
        import asyncio
        from concurrent.futures import ThreadPoolExecutor
        get_ipython().run_line_magic("load_ext", "orange_nb")
        """
    )
    port = sec_kernel.run(
        "print(json.dumps(orange.endpoints.api_url.split(':')[2].split('/')[0]))"
    ).json()
    attempts = [
        f'orange.get("{other.url}/steal")',
        f'orange.request("POST", "{other.url}/steal", json={{"a": 1}})',
        f'orange.client.get("{other.url}/steal")',
        f'ThreadPoolExecutor(1).submit(asyncio.run, orange.aget("{other.url}/steal")).result()',
        f'orange.get("http://127.0.0.1:{port}@127.0.0.1:{other.port}/steal")',
        f'orange.get("{other.url}#@127.0.0.1:{port}/")',
        f'orange.get("HTTP://127.0.0.1:{other.port}/steal")',
        f'orange.get("http://localhost:{other.port}/steal")',
        f'get_ipython().run_line_magic("orange", "GET {other.url}/steal")',
        # --export sends nothing; it refuses, as the call would, a host the token may not reach.
        f'get_ipython().run_line_magic("orange", "GET {other.url}/steal --export curl")',
        # An allowed API that points elsewhere: next page, Link header, redirect.
        f'orange.allowed_hosts = ["{api.url}"]; orange.get("{api.url}/records", paginate=True)',
        f'orange.get("{api.url}/link", paginate=True)',
        f'orange.get("{api.url}/moved")',
    ]
    outcomes = [kernel_outcome(sec_kernel, code) for code in attempts]
    errors = [o.get("error") for o in outcomes]
    assert errors == ["TokenSentElsewhere"] * 10 + ["ForeignPageError"] * 2 + ["OrangeAPIError"]
    assert other.requests == [], other.requests  # nothing at all reached the other host
    # The lying API itself was allowed, and did get the token: the refusals above are the rule.
    assert api.requests and all(
        r["headers"].get("Authorization", "").startswith("Bearer sbx_at_") for r in api.requests
    )
    assert kernel_outcome(sec_kernel, f'orange.get("{ZONES}")')["ok"]
    sec_kernel.run("orange.allowed_hosts = []")
    refused(len(attempts))


@pytest.fixture
def planted(
    sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Path, Callable[[], Orange], SandboxServer]]:
    """Another user's (mallory's) valid token, and where a file store would look for ours."""
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))
    for name in ("ORANGE_NB_SERVER_URL", "ORANGE_NB_SERVER_KEY", "ORANGE_NB_SERVER_SANDBOX"):
        monkeypatch.delenv(name, raising=False)
    sandbox.sandbox.configure(auto_consent="mallory")
    made: list[Orange] = []

    def session(**settings: Any) -> Orange:
        made.append(Orange.sandbox(root=sandbox.url, open_browser=False, **settings))
        return made[-1]

    mallory = session()
    flow = mallory.begin_login()
    httpx.get(flow.url, follow_redirects=True, timeout=10, trust_env=False)
    token = mallory.wait_for_login(10)
    store = FileStore(
        store_key(mallory.client_id or "", mallory.scope_list, mallory.endpoints.token_url)
    )
    store.directory.mkdir(parents=True, mode=0o700)
    store.path.write_text(token.to_json())
    yield store.path, session, sandbox
    for orange in made:
        orange.close()


@pytest.mark.parametrize(
    ("mode", "owner"), [(0o644, None), (0o640, None), (0o620, None), (0o600, 65534)]
)
def test_a_token_file_others_could_have_written_is_ignored(
    planted: tuple[Path, Callable[..., Orange], SandboxServer], mode: int, owner: int | None
) -> None:
    path, session, sandbox = planted
    if owner is not None and os.geteuid() != 0:
        pytest.skip("giving a file to another user needs root")
    os.chmod(path, mode)
    if owner is not None:
        os.chown(path, owner, owner)
    calls = sandbox.sandbox.stats()["api_calls"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        victim = session(token_store="file")
    assert any(issubclass(w.category, TokenStoreWarning) for w in caught)
    assert not victim.logged_in and victim.user is None
    with pytest.raises(LoginRequired):
        victim.get(ZONES)
    assert sandbox.sandbox.stats()["api_calls"] == calls  # mallory's token was never used
    refused()


def test_a_private_token_file_of_ours_is_used(
    planted: tuple[Path, Callable[..., Orange], SandboxServer],
) -> None:
    """The control: the same planted file, private and ours, is trusted (so the refusals above
    come from the permission and owner checks, not from a broken setup)."""
    path, session, _ = planted
    os.chmod(path, 0o600)
    restored = session(token_store="file")
    assert restored.logged_in and restored.user == "mallory"


# --- what the fuzzing found, pinned ----------------------------------------------------------

NOT_PRINTABLE_ASCII = [
    "http://h.example/a\n?state={s}",
    "\x00http://h.example/?state={s}",
    "http://h.example/\x00?state={s}",
    "http://h\t.example/?state={s}",
    "https://h.example/a b?state={s}",
    "http://h.example/\u2028?state={s}",
    "http://é.example/é?state={s}",
]


@pytest.mark.parametrize(
    ("where", "url"),
    [("authorize_url", url) for url in NOT_PRINTABLE_ASCII]
    + [("redirect_uri", url) for url in NOT_PRINTABLE_ASCII[:1] + NOT_PRINTABLE_ASCII[-1:]],
)
def test_the_kernel_api_refuses_urls_a_browser_cannot_be_sent_to(
    sec_server: JupyterServer, server_key: str, url: str, where: str
) -> None:
    """Found by ``test_fuzz_kernel_api_over_http``: such a URL was registered (201), since
    ``urlsplit`` drops tabs and line breaks and strips leading controls before parsing; the
    login link then answered 500 (tornado refuses a control character in ``Location``) or
    sent raw non-ASCII bytes in ``Location``."""
    state = secrets.token_urlsafe(16)
    body = {"state": state, "authorize_url": f"https://a.example/?state={state}"}
    body[where] = url.format(s=state)
    with httpx.Client(trust_env=False, timeout=10) as http:
        answer = http.post(
            f"{sec_server.url}orange/api/flows", json=body, headers={"X-Orange-NB-Key": server_key}
        )
        if answer.status_code == 201:  # leave nothing behind for the other tests
            http.delete(
                f"{sec_server.url}orange/api/flows/{answer.json()['id']}",
                headers={"X-Orange-NB-Key": server_key},
            )
    assert answer.status_code == 400, answer.text
    refused()


def test_a_refusal_that_lands_before_the_kernel_waits_is_still_reported(
    sec_kernel: Kernel, sec_browser: Browser, sec_server: JupyterServer, kernel_login: Any
) -> None:
    authorize = kernel_login()
    state = parse_qs(urlsplit(authorize).query)["state"][0]
    sec_browser.land(callback_url(sec_server, {"error": "access_denied", "state": state}))
    for _ in range(50):  # the kernel's login thread has taken the answer (bounded wait)
        if kernel_outcome(sec_kernel, "pass")["status"] == "error":
            break
        time.sleep(0.1)
    outcome = kernel_outcome(sec_kernel, "orange.wait_for_login(3)")
    assert outcome["error"] == "LoginError" and "access_denied" in outcome["message"], outcome
