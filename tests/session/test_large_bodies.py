"""Large uncompressed answers are gathered chunk by chunk into one buffer (see
``errors.read_answer``); what a caller gets is the same as httpx's own read gives."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pandas as pd
import pytest
from peers import serving

from orange_nb import NetworkError, Orange, errors
from orange_nb.oauth.token import Token

RECORDS = [{"id": i, "zone": f"zone-{i:05d}", "score": i / 7} for i in range(60_000)]
BODY = json.dumps(RECORDS).encode()  # about 3 MB: above the 1 MiB threshold
# Random text does not compress: the gzip answer is large on the wire too.
NOISE = json.dumps({"blob": os.urandom(1_500_000).hex()}).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    ports: list[int]

    def do_GET(self) -> None:
        self.ports.append(self.client_address[1])
        headers = {"Content-Type": "application/json"}
        body = BODY if not self.path.startswith("/small") else b'{"ok": true}'
        if self.path.startswith("/gzip"):
            body, headers["Content-Encoding"] = gzip.compress(NOISE), "gzip"
        sent = body
        if self.path.startswith("/short"):  # announces the whole body, sends a third
            sent = body[: len(body) // 3]
        self.send_response(200)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(sent)
        if sent is not body:
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def peer() -> Iterator[tuple[str, list[int]]]:
    ports: list[int] = []
    handler = type("Handler", (_Handler,), {"ports": ports})
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), handler)) as url:
        yield url, ports


@pytest.fixture
def gathered(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the bodies gathered by orange_nb's own read (not httpx's join)."""
    sizes: list[int] = []
    gather = errors._gathered

    def counted(response: httpx.Response, body: bytearray) -> None:
        sizes.append(len(body))
        gather(response, body)

    monkeypatch.setattr(errors, "_gathered", counted)
    return sizes


@pytest.fixture
def orange(peer: tuple[str, list[int]]) -> Iterator[Orange]:
    session = Orange(
        api_url=peer[0],
        token_url=peer[0] + "/token",
        authorize_url=peer[0] + "/authorize",
        client_id="app",
        retry_backoff=0.01,
        open_browser=False,
    )
    session.keeper.set(Token("sbx_at_held", expires_at=time.time() + 3600))
    peer[1].clear()
    yield session
    session.close()


def test_a_large_body_reads_as_sent_and_the_connection_is_reused(
    orange: Orange, peer: tuple[str, list[int]], gathered: list[int]
) -> None:
    first = orange.request("GET", "/records")
    second = orange.request("GET", "/records")
    assert first.content == BODY and second.content == BODY
    assert gathered == [len(BODY)] * 2
    orange.request("GET", "/small")
    assert len(gathered) == 2  # a small body: httpx's own read
    assert first.is_closed and first.elapsed.total_seconds() > 0
    assert len(set(peer[1])) == 1  # the connection went back to the pool after each body
    assert list(first.iter_bytes()) == [BODY]  # read once more from what it holds


def test_a_large_body_makes_the_same_frame(orange: Orange) -> None:
    pd.testing.assert_frame_equal(orange.get("/records"), pd.DataFrame(RECORDS))


def test_a_large_body_reads_the_same_in_asyncio(orange: Orange, gathered: list[int]) -> None:
    async def both() -> tuple[bytes, Any]:
        response = await orange.arequest("GET", "/records")
        return response.content, await orange.aget("/records")

    content, frame = asyncio.run(both())
    assert content == BODY and gathered == [len(BODY)] * 2
    pd.testing.assert_frame_equal(frame, pd.DataFrame(RECORDS))


def test_a_large_compressed_body_is_left_to_httpx(orange: Orange, gathered: list[int]) -> None:
    assert orange.request("GET", "/gzip").content == NOISE
    assert gathered == []  # its stream's bytes are not the body


def test_a_large_body_cut_short_is_a_network_error(
    orange: Orange, peer: tuple[str, list[int]]
) -> None:
    with pytest.raises(NetworkError, match="broke before the answer was complete"):
        orange.request("GET", "/short")
    assert len(peer[1]) > 1  # retried, each on a new connection
    assert orange.request("GET", "/records").content == BODY  # the pool is not wedged
