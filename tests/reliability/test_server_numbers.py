"""No number from a server sizes unbounded work: absurd totals, lying totals, next-link cycles.

A loopback API answers offset pages whose ``total`` is 10**9, or whose rows end long
before the ``total`` it claims, and pages whose next links go round in a circle; it counts
the requests it gets. Pulls go through a signed-in sandbox session (and the magic, in a
real IPython shell, for the cycle).
"""

from __future__ import annotations

import json
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from IPython.core.interactiveshell import InteractiveShell
from peers import LoopbackApi, loopback_api, signed_in_sandbox_session

from orange_nb import Orange
from orange_nb.sandbox import SandboxServer

PAGE = 1000  # rows a page holds unless the request's limit says otherwise
REAL_ROWS = 3 * PAGE  # for /lying: rows that exist, whatever the total says


def _body(path: str) -> dict[str, Any]:
    parts = urlsplit(path)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    offset, limit = int(query.get("offset", 0)), int(query.get("limit", PAGE))
    following = f"{parts.path}?offset={offset + limit}&limit={limit}"
    if parts.path == "/absurd":
        rows = range(offset, offset + limit)
        return {"items": [{"i": n} for n in rows], "total": 10**9, "next": following}
    if parts.path == "/lying":
        rows = range(offset, min(offset + limit, REAL_ROWS))
        return {"items": [{"i": n} for n in rows], "total": 10**9, "next": following}
    if parts.path in ("/cycle/a", "/cycle/b"):
        other = "/cycle/b" if parts.path == "/cycle/a" else "/cycle/a"
        return {"items": [{"page": parts.path}], "next": other}
    return {"code": 60, "message": "Resource not found"}


def _answer(method: str, path: str) -> tuple[int, str, bytes]:
    return 200, "application/json", json.dumps(_body(path)).encode()


@pytest.fixture(scope="module")
def api_server() -> Iterator[LoopbackApi]:
    with loopback_api(_answer) as server:
        yield server


@pytest.fixture
def api(api_server: LoopbackApi) -> LoopbackApi:
    api_server.clear()
    return api_server


def url_of(server: LoopbackApi, path: str) -> str:
    return server.url + path


@pytest.fixture
def shell(ipython: InteractiveShell) -> InteractiveShell:
    return ipython


@pytest.fixture
def orange(
    sandbox: SandboxServer, shell: InteractiveShell, api_server: LoopbackApi
) -> Iterator[Orange]:
    """A signed-in sandbox session, current in the shell; the loopback API may get the token."""
    with signed_in_sandbox_session(sandbox, allowed_hosts=[api_server.url]) as session:
        yield session


def test_absurd_total_with_concurrency_stays_within_max_pages(
    orange: Orange, api: LoopbackApi
) -> None:
    tracemalloc.start()
    started = time.monotonic()
    try:
        fetched = orange.fetch(
            url_of(api, "/absurd"), paginate=True, max_pages=3, concurrency=4, progress=False
        )
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(api.paths) == 3 and fetched.pages == 3 and fetched.truncated
    assert fetched.rows == 3 * PAGE
    assert elapsed < 20
    # Building the million page URLs the total asks for took some 150 MB.
    assert peak < 40 * 2**20, f"peak {peak / 2**20:.1f} MiB"


def test_total_that_lies_ends_at_the_first_empty_page(orange: Orange, api: LoopbackApi) -> None:
    started = time.monotonic()
    fetched = orange.fetch(
        url_of(api, "/lying"), paginate=True, max_pages=2000, concurrency=4, progress=False
    )
    assert fetched.rows == REAL_ROWS and not fetched.truncated
    # The first page, a window of 2 x 4 pages in flight, and one per page with rows.
    assert len(api.paths) <= 1 + 2 * 4 + 3, len(api.paths)
    assert time.monotonic() - started < 20


def test_next_links_in_a_cycle_stop_the_pull(
    orange: Orange, api: LoopbackApi, shell: InteractiveShell
) -> None:
    start = url_of(api, "/cycle/a")
    result = shell.run_cell(  # type: ignore[no-untyped-call]
        f"%orange GET {start} --paginate --max-pages 500 -o pages -q"
    )
    assert result.success, result.error_in_exec
    assert [urlsplit(p).path for p in api.paths] == ["/cycle/a", "/cycle/b"]
    assert list(shell.user_ns["pages"]["page"]) == ["/cycle/a", "/cycle/b"]
    api.clear()
    fetched = orange.fetch(start, paginate=True, max_pages=500)  # the API, as the magic
    assert fetched.pages == 2 and fetched.rows == 2 and not fetched.truncated
