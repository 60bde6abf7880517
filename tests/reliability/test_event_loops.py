"""Async calls work on any event loop: ``asyncio.run`` twice, on a worker thread, at once.

Against the sandbox on 127.0.0.1: each loop gets its own ``AsyncClient``, and the token is
still refreshed once for everyone (the sandbox's ``_sandbox/stats`` counts refreshes).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from orange_nb import Orange
from orange_nb.sandbox import SandboxServer

ZONES = "/sandbox/mobility/v1/zones"


@pytest.fixture
def orange(sandbox: SandboxServer) -> Iterator[Orange]:
    """A signed-in sandbox session whose access tokens live 3 s (due after 1.5 s)."""
    sandbox.sandbox.configure(auto_consent="demo", access_token_lifetime=3)
    session = Orange.sandbox(root=sandbox.url, open_browser=False, retry_backoff=0.01)
    flow = session.begin_login()
    httpx.get(flow.url, follow_redirects=True, timeout=10)
    session.wait_for_login(10)
    yield session
    session.close()


def _stats(sandbox: SandboxServer) -> dict[str, Any]:
    answer = httpx.get(sandbox.url + "/_sandbox/stats", timeout=5)
    assert answer.status_code == 200
    stats: dict[str, Any] = answer.json()
    return stats


def _on_a_thread(orange: Orange, results: list[Any]) -> threading.Thread:
    thread = threading.Thread(target=lambda: results.append(asyncio.run(orange.aget(ZONES))))
    thread.start()
    return thread


def test_asyncio_run_twice_and_from_a_thread(orange: Orange, sandbox: SandboxServer) -> None:
    first = asyncio.run(orange.aget(ZONES))
    second = asyncio.run(orange.aget(ZONES))  # the first loop is closed by now
    results: list[Any] = []
    _on_a_thread(orange, results).join(20)
    assert len(first) > 0 and second.equals(first) and len(results) == 1
    assert results[0].equals(first)
    assert _stats(sandbox)["api_calls"] == 3
    orange.close()  # clients of closed loops are dropped without error
    assert len(asyncio.run(orange.aget(ZONES))) == len(first)


def test_concurrent_tasks_on_two_loops_at_expiry_refresh_once(
    orange: Orange, sandbox: SandboxServer
) -> None:
    asyncio.run(orange.aget(ZONES))  # a loop that ends before the others start
    before = _stats(sandbox)["refreshes"]
    token = orange.token
    assert token is not None
    time.sleep(max(0.0, (token.expires_at or 0) - time.time() - 1.4))  # due: under half left
    assert token.refresh_due(orange.leeway)
    start = threading.Barrier(2)

    async def many(n: int) -> list[Any]:
        start.wait(10)  # both loops fire their tasks together
        return list(await asyncio.gather(*(orange.aget(ZONES) for _ in range(n))))

    on_thread: list[Any] = []
    thread = threading.Thread(target=lambda: on_thread.append(asyncio.run(many(12))))
    thread.start()
    here = asyncio.run(many(12))
    thread.join(20)
    assert len(here) == 12 and len(on_thread) == 1 and len(on_thread[0]) == 12
    assert all(len(frame) > 0 for frame in here + on_thread[0])
    assert _stats(sandbox)["refreshes"] - before == 1
    assert orange.token is not token and orange.status == "signed_in"
