"""The sandbox mounted in a Jupyter server is harmless: attacks against a real server process.

The server runs under ``/user/alice/`` like a hub's single-user server. Each attack is sent
as an outsider would: no Jupyter credentials, a foreign ``Host`` (DNS rebinding), a page
on another origin (Chromium), hostile bodies. Before this hardening one anonymous POST to
``_sandbox/settings`` could switch ``auto_consent`` on and one to ``_sandbox/faults`` could
plant an HTML page that ran with the person's Jupyter session.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from reliability_harness import JupyterServer, free_port

from orange_nb.sandbox.clients import DEMO_CLIENT_ID

CONTROL = ("settings", "faults", "stats", "reset", "revoke-all", "expire-access-tokens")
AUTHORIZE = "openidconnect/fr/v1/authorize"


@pytest.fixture(scope="module")
def alice(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    """A Jupyter server process under /user/alice/ with orange_nb and its sandbox."""
    server = JupyterServer(tmp_path_factory.mktemp("alice"), base_url="/user/alice/")
    try:
        server.launch()
        yield server
    finally:
        server.stop()


@pytest.fixture
def anon() -> Iterator[httpx.Client]:
    """An outsider: no Jupyter token, no cookie."""
    with httpx.Client(trust_env=False, timeout=30) as client:
        yield client


def _control(server: JupyterServer, what: str) -> str:
    return f"{server.sandbox_root}/_sandbox/{what}"


def _settings(server: JupyterServer) -> dict[str, Any]:
    return server.sandbox("GET", "settings")  # type: ignore[no-any-return]


@pytest.mark.parametrize("what", CONTROL)
@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_the_control_api_refuses_anyone_without_credentials(
    alice: JupyterServer, anon: httpx.Client, what: str, method: str
) -> None:
    body = {"auto_consent": "mallory"} if what == "settings" else {"status": 503}
    reply = anon.request(method, _control(alice, what), json=body if method != "GET" else None)
    assert reply.status_code in (403, 405), reply.text
    if reply.status_code == 403:
        assert "Jupyter's login" in reply.json()["error"]
    assert _settings(alice)["auto_consent"] is None
    assert alice.sandbox("GET", "faults") == {"faults": []}


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "token wrong"},
        {"Authorization": "Bearer x"},
        {"X-Orange-NB-Key": "wrong"},
        {"X-Orange-NB-Key": ""},
        {"Cookie": "username-127-0-0-1=forged"},
    ],
)
def test_forged_credentials_are_refused(
    alice: JupyterServer, anon: httpx.Client, headers: dict[str, str]
) -> None:
    reply = anon.post(_control(alice, "faults"), json={"status": 503}, headers=headers)
    assert reply.status_code == 403
    assert alice.sandbox("GET", "faults") == {"faults": []}


def test_auto_consent_cannot_be_switched_on_over_http_even_by_the_user(
    alice: JupyterServer,
) -> None:
    with alice.http() as http:
        reply = http.post(_control(alice, "settings"), json={"auto_consent": "mallory"})
    assert reply.status_code == 403
    assert "environment" in reply.json()["error"]
    assert _settings(alice)["auto_consent"] is None
    # Other settings still work for the signed-in user.
    changed = alice.sandbox("POST", "settings", {"access_token_lifetime": 120})
    assert changed["access_token_lifetime"] == 120
    alice.sandbox("POST", "reset", {})


def test_the_kernel_key_drives_the_control_api(alice: JupyterServer, anon: httpx.Client) -> None:
    kernel = alice.start_kernels(1)[0]
    try:
        key = kernel.run('import os; print(repr(os.environ["ORANGE_NB_SERVER_KEY"]))').stdout
        reply = anon.get(
            _control(alice, "stats"), headers={"X-Orange-NB-Key": key.strip().strip("'")}
        )
        assert reply.status_code == 200
        # Orange.sandbox().configure_sandbox() in a kernel of the server sends that key.
        cell = kernel.run(
            """
            from orange_nb import Orange
            print(Orange.sandbox().configure_sandbox(code_lifetime=30)["code_lifetime"])
            """
        )
        assert cell.stdout.strip() == "30"
    finally:
        alice.sandbox("POST", "reset", {})
        alice.shutdown_kernel(kernel)


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:80", "attacker.test:8888", "10.0.0.1", "[fe80::1]"]
)
@pytest.mark.parametrize("path", ["_sandbox/stats", AUTHORIZE, "sandbox/mobility/v1/zones"])
def test_a_foreign_host_gets_jupyters_403(
    alice: JupyterServer, anon: httpx.Client, host: str, path: str
) -> None:
    """DNS rebinding: the page's origin resolves to 127.0.0.1 but says its own name."""
    reply = anon.get(f"{alice.sandbox_root}/{path}", headers={"Host": host})
    assert reply.status_code == 403
    with alice.http() as http:  # Jupyter's own API answers the same way
        assert http.get(alice.url + "api/status", headers={"Host": host}).status_code == 403


def test_every_sandbox_answer_is_inert(alice: JupyterServer, anon: httpx.Client) -> None:
    for path in ("", "sandbox/echo/v1/x?y=<script>", AUTHORIZE, "_sandbox/stats", "nowhere"):
        reply = anon.get(f"{alice.sandbox_root}/{path}")
        csp = reply.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp, path
        assert reply.headers["X-Content-Type-Options"] == "nosniff", path
        assert "script-src" not in csp


@pytest.mark.parametrize(
    "content_type",
    ["text/html", "TEXT/HTML; charset=utf-8", "image/svg+xml", "application/xhtml+xml", "text/xml"],
)
def test_fault_bodies_are_never_pages(alice: JupyterServer, content_type: str) -> None:
    fault = {"status": 200, "body": "<script>alert(1)</script>", "content_type": content_type}
    with alice.http() as http:
        reply = http.post(_control(alice, "faults"), json=fault)
    assert reply.status_code == 400 and "never a page" in reply.json()["error"]
    assert alice.sandbox("GET", "faults") == {"faults": []}


def test_the_fault_queue_is_bounded(alice: JupyterServer) -> None:
    try:
        with alice.http() as http:
            accepted = http.post(_control(alice, "faults"), json=[{"status": 503}] * 1000)
            assert accepted.status_code == 201
            refused = http.post(_control(alice, "faults"), json={"status": 503})
        assert refused.status_code == 400 and "At most 1000" in refused.json()["error"]
    finally:
        alice.sandbox("DELETE", "faults")


def _authorize(server: JupyterServer, redirect_uri: str) -> httpx.Response:
    params = {
        "response_type": "code",
        "client_id": DEMO_CLIENT_ID,
        "redirect_uri": redirect_uri,
        "scope": "openid",
        "state": "s" * 43,
    }
    with httpx.Client(trust_env=False, timeout=30) as client:
        return client.get(f"{server.sandbox_root}/{AUTHORIZE}?{urlencode(params)}")


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example/user/alice/orange/callback",
        "http://evil.example/orange/callback",
        "http://127.0.0.1.evil.example/user/alice/orange/callback",
        "http://user@127.0.0.1/user/alice/orange/callback",
        "https://evil.example/user/alice/orange/callback?x=1",
    ],
)
def test_no_open_redirect_to_another_hosts_callback(
    alice: JupyterServer, redirect_uri: str
) -> None:
    reply = _authorize(alice, redirect_uri)
    assert reply.status_code == 400 and "Location" not in reply.headers
    assert "Unregistered redirect URI" in reply.text


def test_own_callback_and_loopback_are_accepted(alice: JupyterServer) -> None:
    own = f"http://127.0.0.1:{alice.port}/user/alice/orange/callback"
    for uri in (own, "http://127.0.0.1:43210/callback", "http://localhost:5000/cb"):
        reply = _authorize(alice, uri)
        assert reply.status_code == 200 and "Sign in" in reply.text, uri


def test_the_sandbox_can_be_turned_off(tmp_path: Path) -> None:
    server = JupyterServer(tmp_path, base_url="/user/carol/")
    config = tmp_path / "extra"
    config.mkdir()
    (config / "jupyter_server_config.json").write_text('{"OrangeNB": {"mount_sandbox": false}}')
    server.env["JUPYTER_CONFIG_DIR"] = str(config)
    try:
        server.launch()
        with server.http() as http:
            assert http.get(f"{server.sandbox_root}/_sandbox/stats").status_code == 404
            assert http.get(f"{server.sandbox_root}/{AUTHORIZE}").status_code == 404
            # The rest of orange_nb is still there (the kernel API answers, with its key only).
            assert http.post(server.url + "orange/api/flows").status_code == 403
        kernel = server.start_kernels(1)[0]
        cell = kernel.run(
            """
            import os
            from orange_nb import Orange
            o = Orange.sandbox()
            print(os.environ.get("ORANGE_NB_SERVER_SANDBOX"), o.endpoints.api_url.startswith(
                os.environ["ORANGE_NB_SERVER_URL"]))
            """
        )
        assert cell.stdout.split() == ["None", "False"]  # an embedded sandbox instead
    finally:
        server.stop()
    assert "the sandbox is not mounted" in server.logs()


# ---- secrets out of the server log ----------------------------------------------------


def test_a_callback_without_a_jupyter_session_logs_no_code(alice: JupyterServer) -> None:
    code, state = "sbx_code_" + "c" * 30, "state_" + "s" * 40
    with httpx.Client(trust_env=False, timeout=30, follow_redirects=False) as browser:
        reply = browser.get(alice.url + "orange/callback", params={"code": code, "state": state})
        assert reply.status_code == 302
        location = reply.headers["Location"]
        assert code not in location and state not in location
        assert "resume_key" in parse_qs(urlsplit(location).query)["next"][0]
        # The person signs in to Jupyter (its login form posts the token), and is sent back.
        login = browser.get(urljoin_location(alice, location))
        xsrf = browser.cookies.get("_xsrf")
        assert login.status_code == 200 and xsrf
        back = browser.post(
            str(login.url),
            data={"password": alice.token, "_xsrf": xsrf},
        )
        assert back.status_code == 302
        resumed = browser.get(urljoin_location(alice, back.headers["Location"]))
        # No login matches this state (the kernel never registered it): a stale page, reached
        # with the parked answer, the code never in a URL.
        assert resumed.status_code == 400 and "stale" in resumed.text
    logs = alice.logs()
    assert "/orange/callback" in logs
    assert code not in logs and state not in logs


def urljoin_location(server: JupyterServer, location: str) -> str:
    """An absolute URL for a Location that may be path-only."""
    return location if "://" in location else f"http://127.0.0.1:{server.port}{location}"


def test_a_parked_answer_reaches_the_kernel_after_jupyters_login(alice: JupyterServer) -> None:
    """The whole path: a kernel signs in while the browser had no Jupyter session yet."""
    kernel = alice.start_kernels(1)[0]
    try:
        link = kernel.run(
            """
            from orange_nb import Orange
            o = Orange.sandbox()
            print(o.begin_login().url)
            """
        ).stdout.strip()
        with httpx.Client(trust_env=False, timeout=30, follow_redirects=False) as browser:
            # The widget's link needs Jupyter's login: the person clicked it while signed in...
            start = browser.get(urljoin_location(alice, link), headers=_token(alice))
            sign_in = browser.get(start.headers["Location"])  # the sandbox's sign-in page
            assert sign_in.status_code == 200, sign_in.text
            form_url = str(sign_in.url).split("?")[0]
            consent = browser.post(
                form_url,
                data={
                    "pending": _form_field(sign_in.text, "pending"),
                    "step": "sign-in",
                    "username": "alice",
                },
            )
            callback = browser.post(
                form_url,
                data={
                    "pending": _form_field(consent.text, "pending"),
                    "step": "consent",
                    "decision": "approve",
                },
            )
            assert callback.status_code == 303
            # ...but the callback finds no Jupyter session (it expired meanwhile): the answer
            # is parked, and the browser goes to Jupyter's login with the parking key only.
            browser.cookies.clear()
            to_login = browser.get(callback.headers["Location"])
            assert to_login.status_code == 302 and "resume_key" in to_login.headers["Location"]
            login = browser.get(urljoin_location(alice, to_login.headers["Location"]))
            back = browser.post(
                str(login.url), data={"password": alice.token, "_xsrf": browser.cookies["_xsrf"]}
            )
            done = browser.get(urljoin_location(alice, back.headers["Location"]))
            assert done.status_code == 200 and "Signed in" in done.text
        cell = kernel.run("o.wait_for_login(timeout=30); print(o.logged_in, o.user)")
        assert cell.stdout.split()[0] == "True"
    finally:
        alice.shutdown_kernel(kernel)


def _token(server: JupyterServer) -> dict[str, str]:
    return {"Authorization": f"token {server.token}"}


def _form_field(page: str, name: str) -> str:
    marker = f'name="{name}" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


# ---- pages in Chromium: another origin, and DNS rebinding ------------------------------


# Chromium resolves ``rebind.test`` to 127.0.0.1: a DNS-rebound attacker's name.
# Chromium blocks a public page's requests to loopback by itself (Private/Local Network
# Access); other browsers do not, so that protection is switched off to test our own.
CHROMIUM_EXTRA_ARGS = [
    "--host-resolver-rules=MAP rebind.test 127.0.0.1",
    "--disable-features=BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessSendPreflights,"
    "LocalNetworkAccessChecks,PrivateNetworkAccessRespectPreflightResults",
]


@pytest.fixture
def page_in(browser_context: Any) -> Any:
    """A new page in a fresh browser context (no cookies)."""
    return browser_context.new_page()


ATTACK_JS = """async (target) => {
  const out = [];
  for (const [what, body] of [["settings", {auto_consent: "mallory"}],
      ["faults", {match: "/sandbox/", status: 200, content_type: "text/html",
                  body: "<script>steal()</script>"}]]) {
    try {
      const r = await fetch(target + "/_sandbox/" + what, {method: "POST", credentials: "include",
        headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
      out.push(what + ":" + r.status);
    } catch (e) { out.push(what + ":" + e.name); }
  }
  return out;
}"""


def test_a_dns_rebound_page_cannot_drive_the_sandbox(alice: JupyterServer, page_in: Any) -> None:
    """The attacker's name now resolves to 127.0.0.1: its script is same-origin with the
    server's port, so only Jupyter's Host check stands between it and the control API."""
    rebound = f"http://rebind.test:{alice.port}{alice.base_url}orange/sandbox"
    # The attacker's own server answered the first load (before the name was rebound).
    attack_page = f"http://rebind.test:{alice.port}/attack.html"
    page_in.route(attack_page, lambda route: route.fulfill(body="<p>hello</p>"))
    page_in.goto(attack_page)
    results = page_in.evaluate(ATTACK_JS, rebound)
    assert results == ["settings:403", "faults:403"]
    assert _settings(alice)["auto_consent"] is None
    assert alice.sandbox("GET", "faults") == {"faults": []}


def test_a_page_on_another_origin_cannot_drive_the_sandbox(
    alice: JupyterServer, page_in: Any, tmp_path: Path
) -> None:
    """A cross-site page of a person signed in to Jupyter: no preflight is granted, and a
    form (which needs none) cannot send JSON."""
    page_in.goto(f"{alice.url}tree?token={alice.token}")  # signed in to Jupyter (cookie)
    (tmp_path / "index.html").write_text(
        f"""<!doctype html><form id="f" method="post" enctype="text/plain"
        action="{alice.sandbox_root}/_sandbox/settings"><input name='{{"auto_consent":"m","x":"'
        value='"}}'></form>"""
    )
    with _static_site(tmp_path) as site:
        page_in.goto(site + "/index.html")
        results = page_in.evaluate(ATTACK_JS, alice.sandbox_root)
        assert results == ["settings:TypeError", "faults:TypeError"]  # CORS: no answer read
        page_in.evaluate("() => document.getElementById('f').submit()")
        page_in.wait_for_load_state()
    assert _settings(alice)["auto_consent"] is None
    assert alice.sandbox("GET", "faults") == {"faults": []}


def test_a_json_fault_with_markup_does_not_run_in_the_browser(
    alice: JupyterServer, page_in: Any
) -> None:
    """Even a fault the signed-in user planted on purpose stays data in the browser."""
    alice.sandbox(
        "POST",
        "faults",
        {"match": "/sandbox/echo/", "status": 200, "body": "<script>window.ran=1</script>"},
    )
    page_in.goto(f"{alice.sandbox_root}/sandbox/echo/v1/x")
    assert "<script>" in page_in.inner_text("body")  # shown as text
    assert page_in.evaluate("() => window.ran") is None


@contextlib.contextmanager
def _static_site(folder: Path) -> Iterator[str]:
    """A static site on another loopback port (another origin)."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(folder), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# --- the "phone" page (CIBA approvals in a browser) ----------------------------------------
FORM_TYPE = "application/x-www-form-urlencoded"


def _phone_request(server: JupyterServer) -> str:
    """A pending sign-in by phone on the mounted sandbox; its phone page's URL."""
    with httpx.Client(trust_env=False, timeout=30) as client:
        reply = client.post(
            f"{server.sandbox_root}/openidconnect/fr/v1/bc-authorize",
            data={"scope": "openid", "login_hint": "tel:+33612345678"},
            auth=(DEMO_CLIENT_ID, "orange-nb-sandbox-secret"),
        )
    assert reply.status_code == 200, reply.text
    handle = hashlib.sha256(reply.json()["auth_req_id"].encode()).hexdigest()[:16]
    return f"{server.sandbox_root}/_sandbox/phone/{handle}"


def _decision(server: JupyterServer) -> str:
    return str(server.sandbox("GET", "ciba")["requests"][-1]["decision"])


def test_the_phone_page_needs_jupyters_login_and_its_xsrf(
    alice: JupyterServer, anon: httpx.Client
) -> None:
    page = _phone_request(alice)
    handle = page.rsplit("/", 1)[1]
    form = f"request={handle}&decision=approve"
    assert anon.get(page).status_code == 403
    refused = anon.post(page, content=form, headers={"Content-Type": FORM_TYPE})
    assert refused.status_code == 403 and _decision(alice) == "pending"
    with httpx.Client(trust_env=False, timeout=30) as browser:  # signed in by cookie
        browser.get(f"{alice.url}tree?token={alice.token}")
        assert browser.get(page).status_code == 200
        no_xsrf = browser.post(page, content=form, headers={"Content-Type": FORM_TYPE})
        assert no_xsrf.status_code == 403 and _decision(alice) == "pending"
    with alice.http() as http:
        shown = http.get(page)
    assert shown.status_code == 200 and 'name="_xsrf"' in shown.text
    alice.sandbox("POST", "reset", {})


def test_a_person_approves_on_the_phone_page_and_another_site_cannot(
    alice: JupyterServer, page_in: Any, tmp_path: Path
) -> None:
    page_in.goto(f"{alice.url}tree?token={alice.token}")  # signed in to Jupyter (cookie)
    first = _phone_request(alice)
    handle = first.rsplit("/", 1)[1]
    (tmp_path / "index.html").write_text(
        f"""<!doctype html><form id="f" method="post" action="{first}">
        <input name="request" value="{handle}"><input name="decision" value="approve"></form>"""
    )
    with _static_site(tmp_path) as site:  # a form on another origin: no XSRF token to send
        page_in.goto(site + "/index.html")
        page_in.evaluate("() => document.getElementById('f').submit()")
        page_in.wait_for_load_state()
    assert _decision(alice) == "pending"
    page_in.goto(first)
    page_in.click(f"#approve-{handle}")
    page_in.wait_for_selector("p.notice:has-text('Approved')")
    assert _decision(alice) == "approved"
    alice.sandbox("POST", "reset", {})
