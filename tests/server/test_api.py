"""The kernel API: POST/GET/DELETE orange/api/flows, against a real Jupyter server."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from tornado.simple_httpclient import HTTPTimeoutError

from orange_nb.serverext.api import MAX_WAIT, parse_wait
from orange_nb.serverext.context import ServerContext
from orange_nb.serverext.store import PendingStore

STATE = "S" * 43
AUTH = f"https://auth.example/authorize?client_id=c&state={STATE}"


@pytest.mark.parametrize("key", [None, "", "wrong-key"])
async def test_without_the_right_key_nothing_is_done(
    api: Any, context: ServerContext, key: str | None
) -> None:
    body = {"state": STATE, "authorize_url": AUTH, "redirect_uri": None}
    wrong = "" if key is None else key
    status, reply = await api("POST", body=body, key=wrong)
    assert status == 403 and "X-Orange-NB-Key" in reply["message"]
    assert len(context.store) == 0
    flow = context.store.add("other-state", "https://auth.example/a?state=other-state", None)
    for method in ("GET", "DELETE"):
        status, reply = await api(method, flow.id, key=wrong)
        assert status == 403
    assert context.store.get(flow.id) is flow


async def test_register_answers_a_path_only_login_link(
    api: Any, context: ServerContext, jp_base_url: str
) -> None:
    status, reply = await api(
        "POST", body={"state": STATE, "authorize_url": AUTH, "redirect_uri": None}
    )
    assert status == 201
    assert reply["login_path"] == f"{jp_base_url}orange/login/{reply['id']}"
    assert reply["expires_in"] == 600
    flow = context.store.get(reply["id"])
    assert flow is not None and flow.authorize_url == AUTH and flow.redirect_uri is None


def _body(**changes: Any) -> bytes:
    body: dict[str, Any] = {"state": STATE, "authorize_url": AUTH, "redirect_uri": None}
    body.update(changes)
    return json.dumps({k: v for k, v in body.items() if v is not ...}).encode()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (_body(extra=1), "Unknown fields: extra"),
        (_body(state=...), "`state` must be a non-empty string"),
        (_body(state=""), "`state` must be a non-empty string"),
        (_body(state=12), "`state` must be a non-empty string"),
        (_body(state="x" * 8193), "`state` is longer than 8192 bytes"),
        (_body(authorize_url=...), "`authorize_url` must be a non-empty string"),
        (_body(authorize_url="ftp://auth.example/a?state=" + STATE), "absolute http(s) URL"),
        (_body(authorize_url="/authorize?state=" + STATE), "absolute http(s) URL"),
        (_body(authorize_url="javascript:alert(1)//?state=" + STATE), "absolute http(s) URL"),
        (
            _body(authorize_url="https://auth.example/a?client_id=c"),
            "registered `state` exactly once",
        ),
        (
            _body(authorize_url="https://auth.example/a?state=other"),
            "registered `state` exactly once",
        ),
        (_body(authorize_url=f"{AUTH}&state={STATE}"), "registered `state` exactly once"),
        (
            _body(authorize_url=f"{AUTH}&redirect_uri=https%3A%2F%2Fe.example%2F"),
            "`redirect_uri` is null",
        ),
        (_body(redirect_uri=5), "`redirect_uri` must be a non-empty string"),
        (_body(redirect_uri="myapp:/callback"), "`redirect_uri` must be an absolute http(s) URL"),
        (_body(redirect_uri="https://h/" + "x" * 8200), "`redirect_uri` is longer than"),
        (b" " * 40000, "too large"),
    ],
)
async def test_bad_registrations_are_refused(
    api: Any, context: ServerContext, body: bytes, message: str
) -> None:
    status, reply = await api("POST", body=body)
    assert status == 400
    assert message in reply["message"]
    assert STATE not in reply["message"]  # values are never echoed
    assert len(context.store) == 0


async def test_a_state_already_pending_is_refused(api: Any) -> None:
    body = {"state": STATE, "authorize_url": AUTH, "redirect_uri": None}
    assert (await api("POST", body=body))[0] == 201
    status, reply = await api("POST", body=body)
    assert status == 409 and "already registered" in reply["message"]


async def test_unknown_flow_is_404(api: Any) -> None:
    assert await api("GET", "no-such-flow", params={"timeout": "0"}) == (404, {"status": "unknown"})


async def test_long_poll_waits_then_says_pending(api: Any, register: Any, make_flow: Any) -> None:
    flow_id = await register(make_flow())
    began = time.monotonic()
    assert await api("GET", flow_id, params={"timeout": "0.3"}) == (200, {"status": "pending"})
    assert 0.25 <= time.monotonic() - began < 2


async def test_bad_timeout_is_400(api: Any, register: Any, make_flow: Any) -> None:
    flow_id = await register(make_flow())
    status, reply = await api("GET", flow_id, params={"timeout": "soon"})
    assert status == 400 and "timeout" in reply["message"]


@pytest.mark.parametrize(
    ("raw", "seconds"), [(None, MAX_WAIT), ("0", 0.0), ("2.5", 2.5), ("-3", 0.0), ("1e9", MAX_WAIT)]
)
def test_wait_is_clamped(raw: str | None, seconds: float) -> None:
    assert parse_wait(raw) == seconds


@pytest.mark.parametrize("raw", ["nan", "inf", "", "ten"])
def test_wait_must_be_a_finite_number(raw: str) -> None:
    with pytest.raises(ValueError, match="timeout"):
        parse_wait(raw)


async def test_delete_cancels_and_wakes_a_waiting_poll(
    api: Any, register: Any, make_flow: Any
) -> None:
    flow_id = await register(make_flow())
    poll = asyncio.ensure_future(api("GET", flow_id, params={"timeout": "10"}))
    await asyncio.sleep(0.2)
    began = time.monotonic()
    assert await api("DELETE", flow_id) == (204, None)
    assert await poll == (404, {"status": "unknown"})
    assert time.monotonic() - began < 1
    assert await api("DELETE", flow_id) == (204, None)  # twice is fine


async def test_expired_flows_are_gone(
    api: Any, fetch: Any, context: ServerContext, register: Any, make_flow: Any
) -> None:
    now = [1000.0]
    context.store = PendingStore(clock=lambda: now[0])
    flow = make_flow()
    flow_id = await register(flow)
    now[0] += 599
    assert await api("GET", flow_id, params={"timeout": "0"}) == (200, {"status": "pending"})
    now[0] += 2
    assert await api("GET", flow_id, params={"timeout": "0"}) == (404, {"status": "unknown"})
    login = await fetch("orange", "login", flow_id)
    assert login.code == 404
    callback = await fetch("orange", "callback", params={"code": "c", "state": flow.state})
    assert callback.code == 400 and b"stale" in callback.body


async def test_full_store_evicts_the_oldest(
    api: Any, context: ServerContext, register: Any, make_flow: Any
) -> None:
    context.store = PendingStore(max_flows=5)
    ids = [await register(make_flow()) for _ in range(20)]
    assert len(context.store) == 5
    assert (await api("GET", ids[0], params={"timeout": "0"}))[0] == 404
    assert (await api("GET", ids[-1], params={"timeout": "0"}))[0] == 200


async def test_a_kernel_that_hung_up_loses_no_answer(
    api: Any, fetch: Any, register: Any, make_flow: Any
) -> None:
    flow = make_flow()
    flow_id = await register(flow)
    with pytest.raises(HTTPTimeoutError):  # the client gives up while the server still waits
        await api("GET", flow_id, params={"timeout": "10"}, request_timeout=0.3)
    await asyncio.sleep(0.1)
    await fetch("orange", "callback", params={"code": "kept", "state": flow.state})
    status, reply = await api("GET", flow_id, params={"timeout": "0"})
    assert status == 200 and reply["params"]["code"] == "kept"
