"""orange_nb's JupyterHub service with a real hub, real kernels, Chromium and the sandbox.

Each test brings the users it needs to the state it needs (signed in or out), so the order
does not matter; one hub serves the module (see conftest.py).
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from orange_nb.hub import fingerprint
from orange_nb.hub.store import GrantStore
from orange_nb.oauth.secret import Secret

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ZONES = "/sandbox/mobility/v1/zones"
NEW_SESSION = "from orange_nb import Orange; o = Orange()"


def api(
    hub: Any, token: str | None, method: str = "GET", route: str = "api/token", **kw: Any
) -> httpx.Response:
    headers = {"Authorization": f"token {token}"} if token else {}
    return hub.http.request(method, hub.service_url + route, headers=headers, **kw)


def ensure_signed_in(hub: Any, chromium: Any, user: str) -> str:
    """``user`` signed in to Orange at the service (through Chromium when not yet); their token."""
    token = hub.user_token(user)
    if api(hub, token).status_code != 200:
        context = chromium.new_context()  # a browser of their own: no other user's cookies
        try:
            hub.sign_in(context, user, user)
        finally:
            context.close()
    answer = api(hub, token)
    assert answer.status_code == 200, answer.text
    return token


def sign_out(hub: Any, user: str) -> None:
    assert api(hub, hub.user_token(user), "POST", "api/logout").status_code == 200


def memory_holds(pid: int, needles: list[bytes]) -> list[bytes]:
    """Which of ``needles`` are anywhere in the readable memory of process ``pid``."""
    found: set[bytes] = set()
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            span, perms = line.split()[:2]
            if not perms.startswith("r") or "[vvar]" in line or "[vsyscall]" in line:
                continue
            start, end = (int(x, 16) for x in span.split("-"))
            try:
                mem.seek(start)
                chunk = mem.read(end - start)
            except OSError:
                continue
            found.update(n for n in needles if n in chunk)
    return sorted(found)


@pytest.fixture(scope="module")
def servers(hub: Any) -> Any:
    for user in ("alice", "bob"):
        hub.start_server(user)
    return hub


def test_two_users_sign_in_through_chromium_and_each_gets_only_their_own(
    servers: Any, chromium: Any
) -> None:
    hub = servers
    for user in ("alice", "bob"):
        sign_out(hub, user)
        context = chromium.new_context()
        try:
            hub.sign_in(context, user, user)
            status = context.new_page()
            status.goto(f"{hub.url}/services/orange/")
            text = status.inner_text("body")
            assert f"Hub user\n{user}" in text and "mobility:read" in text, text
        finally:
            context.close()
    alice, bob = api(hub, hub.user_token("alice")).json(), api(hub, hub.user_token("bob")).json()
    assert (alice["user"], bob["user"]) == ("Alice Martin", "Bob Durand")
    assert alice["access_token"] != bob["access_token"]
    assert "refresh_token" not in alice and alice["expires_in"] > 3000
    # Alice's token names no one else: there is no route or parameter that takes a user.
    alice_token = hub.user_token("alice")
    for route in ("api/token?user=bob", "api/users/bob/token", "api/token/../../users/bob"):
        answer = api(hub, alice_token, route=route)
        assert answer.status_code in (200, 404)
        assert "Bob" not in answer.text and bob["access_token"] not in answer.text
    assert (
        api(
            hub, alice_token, "POST", "api/refresh", json={"seen": fingerprint(bob["access_token"])}
        ).json()["user"]
        == "Alice Martin"
    )


def test_a_kernel_without_sign_in_gets_the_link_and_waits_for_the_browser(
    servers: Any, chromium: Any
) -> None:
    hub = servers
    sign_out(hub, "bob")
    kernel = hub.kernel("bob")
    out = kernel.run(
        NEW_SESSION + "\nprint(o.status)\ntry:\n    o.get('" + ZONES + "')\n"
        "except Exception as e:\n    print(type(e).__name__, e)\n"
        "a = o.begin_login()\nprint(a.name, a.url)"
    )
    assert out.splitlines()[0] == "signed_out"
    assert out.splitlines()[1].startswith("LoginRequired") and "/services/orange/login" in out
    assert f"hub {hub.url}/services/orange/login" in out
    # The kernel long-polls the service while a person signs in in the browser.
    outs: list[str] = []
    waiter = threading.Thread(  # Playwright stays on the main thread; the kernel waits
        target=lambda: outs.append(
            kernel.run(
                "t = o.wait_for_login(timeout=60)\n"
                "print(o.status, o.user, len(o.get('" + ZONES + "')))"
            )
        )
    )
    waiter.start()
    context = chromium.new_context()
    try:
        time.sleep(0.5)  # the kernel is waiting before anyone signs in
        hub.sign_in(context, "bob", "bob")
    finally:
        context.close()
    waiter.join(60)
    assert outs and outs[0].split() == ["signed_in", "Bob", "Durand", "12"]


def test_two_kernels_share_the_sign_in_and_signing_out_in_one_signs_out_both(
    servers: Any, chromium: Any
) -> None:
    hub = servers
    ensure_signed_in(hub, chromium, "alice")
    one, two = hub.kernel("alice"), hub.kernel("alice")
    probe = "\nprint(o.status, o.user, len(o.get('" + ZONES + "')))"
    assert one.run(NEW_SESSION + probe).split() == ["signed_in", "Alice", "Martin", "12"]
    assert two.run(NEW_SESSION + probe).split() == ["signed_in", "Alice", "Martin", "12"]
    shared = (
        "from orange_nb.hub import fingerprint; print(fingerprint(o.keeper.token.access_token))"
    )
    assert one.run(shared) == two.run(shared)
    one.run("o.logout(); print(o.status)")
    out = two.run(
        "try:\n    o.get('"
        + ZONES
        + "')\nexcept Exception as e:\n    print(type(e).__name__, e)\nprint(o.status)"
    )
    assert out.startswith("LoginRequired") and "sign in" in out.lower(), out
    assert out.split()[-1] == "expired"
    assert api(hub, hub.user_token("alice")).status_code == 401
    assert hub.sandbox.stats()["revocations"] >= 1


def test_expired_tokens_refresh_once_for_many_threads_of_many_kernels(
    servers: Any, chromium: Any
) -> None:
    hub = servers
    ensure_signed_in(hub, chromium, "alice")
    kernels = [hub.kernel("alice"), hub.kernel("alice")]
    for kernel in kernels:
        kernel.run(NEW_SESSION + "\nprint(o.status)")
    before = hub.sandbox.stats()["refreshes"]
    hub.sandbox.expire_access_tokens()  # every kernel's token is refused from now on
    many = (
        "import concurrent.futures as cf\n"
        "with cf.ThreadPoolExecutor(10) as pool:\n"
        "    sizes = list(pool.map(lambda _: len(o.get('" + ZONES + "')), range(10)))\n"
        "print(set(sizes))"
    )
    results: list[str] = []
    threads = [threading.Thread(target=lambda k=k: results.append(k.run(many))) for k in kernels]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["{12}\n", "{12}\n"]
    assert hub.sandbox.stats()["refreshes"] - before == 1
    # Orange does not rotate: the service keeps the refresh token it had, twice over.
    hub.sandbox.configure(rotate_refresh_tokens=False)
    try:
        for _ in range(2):
            out = kernels[0].run("print(len(o.refresh().access_token.reveal()) > 0, o.status)")
            assert out.split() == ["True", "signed_in"]
    finally:
        hub.sandbox.configure(rotate_refresh_tokens=True)
    assert hub.sandbox.stats()["refreshes"] - before == 3


def test_orange_revoking_the_grant_tells_every_kernel_to_sign_in_again(
    servers: Any, chromium: Any
) -> None:
    hub = servers
    ensure_signed_in(hub, chromium, "bob")
    kernels = [hub.kernel("bob"), hub.kernel("bob")]
    for kernel in kernels:
        kernel.run(NEW_SESSION + "\nprint(o.status)")
    hub.sandbox.revoke_all()
    for kernel in kernels:
        out = kernel.run(
            "try:\n    o.get('"
            + ZONES
            + "')\nexcept Exception as e:\n    print(type(e).__name__, '|', e)"
        )
        name, message = out.split("|", 1)
        assert name.strip() == "LoginRequired"
        assert "refused to renew it" in message and f"{hub.url}/services/orange/login" in message


def test_requests_without_a_valid_hub_token_are_refused(servers: Any) -> None:
    hub = servers
    forged = "0" * 32
    assert api(hub, None).status_code == 403
    assert api(hub, forged).status_code == 403
    assert api(hub, forged, "POST", "api/refresh", json={"seen": "x"}).status_code == 403
    assert api(hub, forged, "POST", "api/logout").status_code == 403
    assert api(hub, hub.admin_token).status_code == 403  # a service, not a user
    # A user's token without the service's access scope.
    narrow = hub.hub_api("POST", "users/alice/tokens", json={"scopes": ["read:users:name!user"]})
    assert api(hub, narrow.json()["token"]).status_code == 403
    # A query token is not taken (it would end up in logs).
    answer = hub.http.get(hub.service_url + "api/token", params={"token": hub.user_token("alice")})
    assert answer.status_code == 403


def test_callbacks_of_another_user_replayed_or_without_a_hub_session_are_refused(
    servers: Any, chromium: Any
) -> None:
    hub = servers
    sign_out(hub, "alice")
    alice, bob = chromium.new_context(), chromium.new_context()
    try:
        hub.sign_in(bob, "bob", "bob") if api(
            hub, hub.user_token("bob")
        ).status_code != 200 else None
        page = alice.new_page()
        page.goto(f"{hub.url}/services/orange/login")
        page.fill("#username_input", "alice")
        page.fill("#password_input", "hub-password")
        page.click("#login_submit")
        page.wait_for_selector("button#sign-in")
        state = parse_qs(urlsplit(page.url).query)["state"][0]
        # Bob brings Alice's sign-in back: refused, and Alice's sign-in still works.
        stolen = bob.new_page()
        stolen.goto(f"{hub.callback}?code=forged&state={state}")
        assert "begun by another hub user" in stolen.inner_text("body")
        # No hub session at all: a page saying so, not a redirect carrying the code.
        anonymous = hub.http.get(
            f"{hub.callback}?code=forged&state={state}", follow_redirects=False
        )
        assert anonymous.status_code == 403 and "location" not in anonymous.headers
        hub.sign_in_at_orange(page, "alice")
        landed = page.url
        assert api(hub, hub.user_token("alice")).json()["user"] == "Alice Martin"
        # The same answer again: used up.
        page.goto(landed)
        assert "matches no sign-in" in page.inner_text("body")
        # A state nobody issued.
        page.goto(f"{hub.callback}?code=forged&state=made-up")
        assert "matches no sign-in" in page.inner_text("body")
    finally:
        alice.close()
        bob.close()
    # Neither code nor state reached the service's log.
    log = (hub.tmp / "service.log").read_text()
    assert "GET /services/orange/callback" in log  # the access log is on, without queries
    assert state not in log and "code=" not in log


def test_the_database_copied_without_its_key_yields_nothing(
    servers: Any, chromium: Any, tmp_path: Path
) -> None:
    hub = servers
    ensure_signed_in(hub, chromium, "alice")
    copy = tmp_path / "copy.sqlite"
    shutil.copy(hub.db, copy)
    for suffix in ("-wal", "-shm"):
        if Path(str(hub.db) + suffix).exists():
            shutil.copy(str(hub.db) + suffix, str(copy) + suffix)
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert b"sbx_rt_" not in raw and b"sbx_at_" not in raw and b"alice" in raw
    from cryptography.fernet import Fernet

    stranger = GrantStore(str(copy), [Secret(Fernet.generate_key().decode())])
    assert stranger.load("alice") is None and stranger.unreadable == 1
    owner = GrantStore(str(copy), [Secret(hub.key)])
    token = owner.load("alice")
    assert token is not None and token.refresh_token is not None
    assert token.refresh_token.reveal().startswith("sbx_rt_")


def test_the_service_restarted_mid_sign_in_finishes_it_and_keeps_every_session(
    servers: Any, chromium: Any
) -> None:
    hub = servers
    sign_out(hub, "bob")
    context = chromium.new_context()
    try:
        page = context.new_page()
        page.goto(f"{hub.url}/services/orange/login")
        page.fill("#username_input", "bob")
        page.fill("#password_input", "hub-password")
        page.click("#login_submit")
        page.wait_for_selector("button#sign-in")
        hub.restart_service()
        hub.sign_in_at_orange(page, "bob")
    finally:
        context.close()
    token = hub.user_token("bob")
    before = api(hub, token).json()
    hub.restart_service()
    after = api(hub, token).json()
    assert after["user"] == "Bob Durand" and after["access_token"] == before["access_token"]


def test_no_secret_or_refresh_token_in_users_servers_kernels_or_files(
    servers: Any, chromium: Any
) -> None:
    hub = servers
    for user in ("alice", "bob"):
        ensure_signed_in(hub, chromium, user)
    # The refresh tokens themselves ("sbx_rt_" alone is in the sandbox's code, which a
    # user's server loads to mount it), the client secret, the service's key and token.
    owner = GrantStore(str(hub.db), [Secret(hub.key)])
    refresh_tokens = [owner.load(u).refresh_token.reveal().encode() for u in ("alice", "bob")]  # type: ignore[union-attr]
    owner.close()
    needles = [
        hub.app_secret.encode(),
        hub.key.encode(),
        hub.service_token.encode(),
        *refresh_tokens,
    ]
    for user in ("alice", "bob"):
        kernel = hub.kernel(user)
        out = kernel.run(
            NEW_SESSION + "\nimport pickle\nprint(o.status, o.keeper.token.refresh_token, "
            "o.wiring.settings.client_secret, len(o.get('" + ZONES + "')))\n"
            "print(repr(o.keeper.token), repr(o.wiring.hub))"
        )
        assert out.split()[:4] == ["signed_in", "None", "None", "12"], out
        kernel.run("import json; json.dump({'cells': []}, open('saved.ipynb', 'w'))")
        for pid in (hub.server_pid(user), kernel.pid):
            environ = Path(f"/proc/{pid}/environ").read_bytes()
            assert b"ORANGE_HUB_SERVICE_URL=" in environ  # the one variable they get
            assert [n for n in [*needles, b"sbx_rt_", b"sbx_at_"] if n in environ] == []
            assert b"ORANGE_CLIENT_SECRET" not in environ and b"ORANGE_HUB_KEY" not in environ
            assert memory_holds(pid, needles) == []
    # Positive control: the service's own memory does hold them.
    assert hub.service_proc is not None
    assert memory_holds(hub.service_proc.pid, refresh_tokens) == sorted(refresh_tokens)
    for path in (hub.tmp / "home").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert [n for n in needles if n in data] == [], path
    for log in ("hub.log", "service.log"):
        assert [n for n in needles if n in (hub.tmp / log).read_bytes()] == []
