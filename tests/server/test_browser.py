"""The browser's routes: GET orange/login/{id} and GET orange/callback, against a real server."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from orange_nb.serverext.context import ServerContext


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


async def test_login_redirects_with_a_redirect_uri_built_from_the_request(
    fetch: Any, register: Any, make_flow: Any, jp_base_url: str, jp_http_port: int
) -> None:
    flow = make_flow()
    flow_id = await register(flow)
    for host in (f"127.0.0.1:{jp_http_port}", f"localhost:{jp_http_port}"):
        response = await fetch("orange", "login", flow_id, headers={"Host": host})
        assert response.code == 302
        location = response.headers["Location"]
        assert location.startswith(flow.authorization_url() + "&redirect_uri=")
        assert _query(location)["redirect_uri"] == [f"http://{host}{jp_base_url}orange/callback"]
        assert _query(location)["state"] == [flow.state]
        assert response.headers["Cache-Control"] == "no-store"


async def test_a_configured_redirect_uri_is_kept_verbatim(
    fetch: Any, register: Any, make_flow: Any
) -> None:
    flow = make_flow(redirect_uri="https://MyHub.example/user/alice/orange/callback")
    flow_id = await register(flow)
    response = await fetch("orange", "login", flow_id)
    assert response.headers["Location"] == flow.authorization_url(flow.redirect_uri)


async def test_the_mounted_sandbox_is_shown_on_the_browsers_origin(
    fetch: Any,
    register: Any,
    make_flow: Any,
    context: ServerContext,
    jp_base_url: str,
    jp_http_port: int,
) -> None:
    assert context.loopback_origin == f"http://127.0.0.1:{jp_http_port}"
    path = f"{jp_base_url}orange/sandbox/openidconnect/fr/v1/authorize"
    flow = make_flow(f"{context.loopback_origin}{path}")
    flow_id = await register(flow)
    response = await fetch(
        "orange", "login", flow_id, headers={"Host": f"localhost:{jp_http_port}"}
    )
    location = response.headers["Location"]
    assert location.startswith(f"http://localhost:{jp_http_port}{path}?")
    assert "127.0.0.1" not in location
    assert _query(location)["state"] == [flow.state]


async def test_other_origins_are_never_rewritten(
    fetch: Any, register: Any, make_flow: Any, jp_base_url: str, jp_http_port: int
) -> None:
    flow = make_flow(f"http://127.0.0.1:{jp_http_port + 1}{jp_base_url}orange/sandbox/authorize")
    flow_id = await register(flow)
    response = await fetch(
        "orange", "login", flow_id, headers={"Host": f"localhost:{jp_http_port}"}
    )
    assert response.headers["Location"].startswith(flow.authorization_url() + "&")


async def test_login_redirect_ignores_any_parameter(
    fetch: Any, register: Any, make_flow: Any
) -> None:
    flow = make_flow()
    flow_id = await register(flow)
    evil = "https://evil.example/"
    response = await fetch(
        "orange", "login", flow_id, params={"next": evil, "url": evil, "redirect_uri": evil}
    )
    assert response.headers["Location"].startswith(flow.authorization_url() + "&redirect_uri=http")
    assert "evil" not in response.headers["Location"]


async def test_login_needs_jupyters_own_login(fetch: Any, register: Any, make_flow: Any) -> None:
    flow = make_flow()
    flow_id = await register(flow)
    response = await fetch("orange", "login", flow_id, headers={"Authorization": ""})
    assert response.code == 302
    assert "/login?next=" in response.headers["Location"]
    assert "auth.example" not in response.headers["Location"]


async def test_unknown_login_is_a_stale_page(fetch: Any) -> None:
    response = await fetch("orange", "login", "no-such-flow")
    assert response.code == 404
    assert b"Run the login cell in your notebook again" in response.body


def _check_page_headers(response: Any) -> None:
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Content-Type"].startswith("text/html")


async def test_callback_hands_the_code_to_the_long_poll_once(
    fetch: Any,
    api: Any,
    register: Any,
    make_flow: Any,
    context: ServerContext,
    jp_base_url: str,
    jp_http_port: int,
) -> None:
    flow = make_flow()
    flow_id = await register(flow)
    params = {
        "code": "the-code-123",
        "state": flow.state,
        "iss": "https://issuer.example",
        "x": "dropped",
    }
    page = await fetch("orange", "callback", params=params)
    assert page.code == 200
    _check_page_headers(page)
    html = page.body.decode()
    assert "Your notebook is signed in" in html and "Close this tab" in html
    assert "window.close()" in html  # and says so where the browser keeps the tab open
    assert "the-code-123" not in html and flow.state not in html
    status, reply = await api("GET", flow_id, params={"timeout": "0"})
    assert status == 200 and reply == {
        "status": "done",
        "params": {"code": "the-code-123", "state": flow.state, "iss": "https://issuer.example"},
        "redirect_uri": f"http://127.0.0.1:{jp_http_port}{jp_base_url}orange/callback",
    }
    assert await api("GET", flow_id, params={"timeout": "0"}) == (404, {"status": "unknown"})
    replay = await fetch("orange", "callback", params=params)
    assert replay.code == 400 and b"stale" in replay.body
    assert len(context.store) == 0


async def test_callback_keeps_the_configured_redirect_uri(
    fetch: Any, api: Any, register: Any, make_flow: Any
) -> None:
    flow = make_flow(redirect_uri="https://myhub.example/user/alice/orange/callback")
    flow_id = await register(flow)
    await fetch("orange", "callback", params={"code": "c", "state": flow.state})
    _, reply = await api("GET", flow_id, params={"timeout": "0"})
    assert reply["redirect_uri"] == "https://myhub.example/user/alice/orange/callback"


async def test_a_refusal_is_delivered_and_explained(
    fetch: Any, api: Any, register: Any, make_flow: Any
) -> None:
    flow = make_flow()
    flow_id = await register(flow)
    params = {"error": "access_denied", "error_description": "User said no", "state": flow.state}
    page = await fetch("orange", "callback", params=params)
    assert page.code == 200
    _check_page_headers(page)
    assert b"The sign-in was refused" in page.body and b"Sign in again and approve" in page.body
    _, reply = await api("GET", flow_id, params={"timeout": "0"})
    assert reply["params"] == params


async def test_error_text_is_escaped_and_capped(
    fetch: Any, api: Any, register: Any, make_flow: Any
) -> None:
    flow = make_flow()
    flow_id = await register(flow)
    attack = "<script>alert(1)</script>"
    params = {
        "error": "server_error",
        "error_description": attack + "x" * 3000,
        "state": flow.state,
    }
    page = await fetch("orange", "callback", params=params)
    html = page.body.decode()
    assert attack not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html  # not even the popup closer on an error page
    _, reply = await api("GET", flow_id, params={"timeout": "0"})
    assert len(reply["params"]["error_description"]) == 1000


async def test_unknown_state_stores_nothing(
    fetch: Any, api: Any, register: Any, make_flow: Any, context: ServerContext
) -> None:
    flow = make_flow()
    flow_id = await register(flow)
    for state in ("forged", flow.state[:-1], flow.state + "x"):
        page = await fetch("orange", "callback", params={"code": "evil", "state": state})
        assert page.code == 400
        _check_page_headers(page)
        assert b"stale" in page.body and b"Run the login cell" in page.body
    missing = await fetch("orange", "callback", params={"code": "evil"})
    assert missing.code == 400 and b"no state" in missing.body
    assert await api("GET", flow_id, params={"timeout": "0"}) == (200, {"status": "pending"})
    good = await fetch("orange", "callback", params={"code": "good", "state": flow.state})
    assert good.code == 200
    _, reply = await api("GET", flow_id, params={"timeout": "0"})
    assert reply["params"]["code"] == "good"


@pytest.mark.parametrize("twice", ["state", "code"])
async def test_repeated_parameters_are_refused(
    fetch: Any, api: Any, register: Any, make_flow: Any, twice: str
) -> None:
    flow = make_flow()
    flow_id = await register(flow)
    pairs = [("code", "c"), ("state", flow.state), (twice, "again")]
    page = await fetch("orange", "callback", params=pairs)
    assert page.code == 400 and b"twice" in page.body
    assert flow.state.encode() not in page.body
    assert await api("GET", flow_id, params={"timeout": "0"}) == (200, {"status": "pending"})


async def test_callback_needs_jupyters_own_login(
    fetch: Any, api: Any, register: Any, make_flow: Any
) -> None:
    flow = make_flow()
    flow_id = await register(flow)
    page = await fetch(
        "orange",
        "callback",
        params={"code": "c", "state": flow.state},
        headers={"Authorization": ""},
    )
    assert page.code == 302 and "/login?next=" in page.headers["Location"]
    assert await api("GET", flow_id, params={"timeout": "0"}) == (200, {"status": "pending"})


async def test_long_poll_returns_as_soon_as_the_callback_lands(
    fetch: Any, api: Any, register: Any, make_flow: Any
) -> None:
    flow = make_flow()
    flow_id = await register(flow)
    returned_at: list[float] = []

    async def poll() -> tuple[int, Any]:
        result = await api("GET", flow_id, params={"timeout": "20"})
        returned_at.append(time.monotonic())
        return result  # type: ignore[no-any-return]

    waiting = asyncio.ensure_future(poll())
    await asyncio.sleep(0.3)
    assert not waiting.done()
    await fetch("orange", "callback", params={"code": "c", "state": flow.state})
    landed_at = time.monotonic()
    status, reply = await waiting
    assert status == 200 and reply["status"] == "done"
    assert returned_at[0] - landed_at < 0.1


async def test_a_parked_answer_only_resumes_for_jupyters_user_and_once(
    fetch: Any, register: Any, make_flow: Any, context: ServerContext
) -> None:
    flow = make_flow()
    await register(flow)
    anonymous = {"Authorization": ""}
    parked = await fetch(
        "orange", "callback", params={"code": "c0de", "state": flow.state}, headers=anonymous
    )
    assert parked.code == 302
    next_url = _query(parked.headers["Location"])["next"][0]
    key = _query(next_url)["resume_key"][0]
    assert "c0de" not in parked.headers["Location"] and flow.state not in next_url
    # The key alone, without Jupyter's login, resumes nothing and parks nothing new.
    again = await fetch("orange", "callback", params={"resume_key": key}, headers=anonymous)
    assert again.code == 302 and "resume_key" not in again.headers["Location"]
    assert len(context.parked) == 1
    # A guessed key is a stale page; the real one delivers once.
    bogus = await fetch("orange", "callback", params={"resume_key": "x" * 32})
    assert bogus.code == 400 and b"stale" in bogus.body
    done = await fetch("orange", "callback", params={"resume_key": key})
    assert done.code == 200 and b"Signed in" in done.body
    assert context.store.pending_by_state(flow.state) is None  # answered: no longer pending
    replay = await fetch("orange", "callback", params={"resume_key": key})
    assert replay.code == 400
    # Markup in a parked error is escaped on the page the person finally sees.
    flow2 = make_flow()
    await register(flow2)
    hostile = {"error": "<script>x</script>", "state": flow2.state}
    parked = await fetch("orange", "callback", params=hostile, headers=anonymous)
    key2 = _query(_query(parked.headers["Location"])["next"][0])["resume_key"][0]
    page = await fetch("orange", "callback", params={"resume_key": key2})
    assert b"<script>x" not in page.body and page.headers["Content-Security-Policy"]
