"""ServerHandoff (kernel side) against the extension in a real Jupyter server.

The handoff is synchronous, as in a kernel: it runs on a worker thread while the server
serves on the test's event loop.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import ssl
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from orange_nb.errors import LoginError
from orange_nb.handoff import ServerHandoff, choose
from orange_nb.serverext.context import ServerContext


@pytest.fixture
def handoff(http_server: Any) -> Any:
    """The kernel's handoff; ``http_server`` makes the test server listen on its port.

    Tests leave no flow registered at the end: ``close`` would DELETE it from the loop's
    own thread, where the server cannot answer.
    """
    handoff = ServerHandoff.from_environ()  # what the extension put into os.environ
    assert handoff is not None
    yield handoff
    handoff.close()


async def test_start_wait_and_callback(
    handoff: ServerHandoff,
    make_flow: Any,
    fetch: Any,
    context: ServerContext,
    jp_base_url: str,
    jp_http_port: int,
) -> None:
    flow = make_flow()
    link = await asyncio.to_thread(handoff.start, flow)
    assert link == flow.url and link.startswith(f"{jp_base_url}orange/login/")
    waiting = asyncio.ensure_future(asyncio.to_thread(handoff.wait, flow, 10))
    login = await fetch(link.removeprefix(jp_base_url))
    assert login.code == 302 and flow.state in login.headers["Location"]
    await asyncio.sleep(0.2)
    assert not waiting.done()
    await fetch("orange", "callback", params={"code": "c0de", "state": flow.state})
    callback = await waiting
    assert dict(callback.params) == {"code": "c0de", "state": flow.state}
    assert callback.redirect_uri == f"http://127.0.0.1:{jp_http_port}{jp_base_url}orange/callback"
    assert flow.code_from(callback.params) == "c0de"
    assert len(context.store) == 0


async def test_configured_redirect_uri_travels_to_the_server(
    handoff: ServerHandoff, make_flow: Any, fetch: Any, jp_base_url: str
) -> None:
    uri = f"https://hub.example{jp_base_url}orange/callback"
    assert type(choose(uri)) is ServerHandoff  # this server's own callback, seen from the hub
    flow = make_flow(redirect_uri=uri)
    link = await asyncio.to_thread(handoff.start, flow)
    login = await fetch(link.removeprefix(jp_base_url))
    assert login.headers["Location"] == flow.authorization_url(uri)
    waiting = asyncio.ensure_future(asyncio.to_thread(handoff.wait, flow, 10))
    await fetch("orange", "callback", params={"code": "c", "state": flow.state})
    assert (await waiting).redirect_uri == uri


async def test_timeout_is_a_timeout_error(handoff: ServerHandoff, make_flow: Any) -> None:
    flow = make_flow()
    await asyncio.to_thread(handoff.start, flow)
    began = time.monotonic()
    with pytest.raises(TimeoutError, match=r"No sign-in arrived within 0\.4 s"):
        await asyncio.to_thread(handoff.wait, flow, 0.4)
    assert time.monotonic() - began < 2
    await asyncio.to_thread(handoff.close)  # on a thread: the server answers on this loop


async def test_a_flow_the_server_lost_is_a_login_error(
    handoff: ServerHandoff, make_flow: Any, context: ServerContext
) -> None:
    flow = make_flow()
    await asyncio.to_thread(handoff.start, flow)
    waiting = asyncio.ensure_future(asyncio.to_thread(handoff.wait, flow, 10))
    await asyncio.sleep(0.2)
    for flow_id in [f.id for f in context.store._flows.values()]:
        context.store.cancel(flow_id)  # as after expiry or eviction
    with pytest.raises(LoginError, match=r"no longer knows this sign-in.*Run the login cell again"):
        await waiting


async def test_close_on_another_thread_ends_the_wait(
    handoff: ServerHandoff, make_flow: Any, context: ServerContext
) -> None:
    # As when a newer login replaces this one while a background thread waits.
    flow = make_flow()
    await asyncio.to_thread(handoff.start, flow)
    waiting = asyncio.ensure_future(asyncio.to_thread(handoff.wait, flow, 20))
    await asyncio.sleep(0.3)
    began = time.monotonic()
    await asyncio.to_thread(handoff.close)
    with pytest.raises(LoginError, match="cancelled"):
        await waiting
    assert time.monotonic() - began < 2
    assert len(context.store) == 0


async def test_a_wrong_key_says_restart(make_flow: Any, http_server: Any) -> None:
    handoff = ServerHandoff(os.environ["ORANGE_NB_SERVER_URL"], "stale-key")
    try:
        with pytest.raises(LoginError, match="refused this kernel's key") as info:
            await asyncio.to_thread(handoff.start, make_flow())
        assert "stale-key" not in str(info.value)
    finally:
        handoff.close()


async def test_close_cancels_on_the_server(
    handoff: ServerHandoff, make_flow: Any, context: ServerContext
) -> None:
    await asyncio.to_thread(handoff.start, make_flow())
    assert len(context.store) == 1
    await asyncio.to_thread(handoff.close)
    assert len(context.store) == 0
    await asyncio.to_thread(handoff.close)  # twice is fine


async def test_https_on_loopback_trusts_the_servers_own_certificate(
    jp_web_app: Any, make_flow: Any, context: ServerContext, tmp_path: Path, jp_base_url: str
) -> None:
    # A server with ServerApp.certfile publishes https://127.0.0.1:…; its certificate names
    # its public host (here self-signed), which the kernel cannot and need not verify.
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is needed to make a self-signed certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=jupyter.example", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    sockets = bind_sockets(0, "127.0.0.1")
    server = HTTPServer(jp_web_app, ssl_options=tls)  # the same extension, over TLS
    server.add_sockets(sockets)
    handoff = ServerHandoff(
        f"https://127.0.0.1:{sockets[0].getsockname()[1]}{jp_base_url}", context.key
    )
    try:
        link = await asyncio.to_thread(handoff.start, make_flow())
        assert link.startswith(f"{jp_base_url}orange/login/")
        assert len(context.store) == 1
    finally:
        await asyncio.to_thread(handoff.close)
        server.stop()
    assert len(context.store) == 0
