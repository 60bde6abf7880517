"""An error names the URL as it was typed: a path under ``api_url`` by its path (no
``…/orange/sandbox/sandbox/…`` to read through), any other URL whole; query values never."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from orange_nb import Orange, OrangeAPIError
from orange_nb.sandbox import SandboxServer


def test_a_path_reads_as_typed(make_session: Callable[..., Orange]) -> None:
    orange = make_session()
    with pytest.raises(OrangeAPIError) as info:
        orange.get("/sandbox/mobility/v1/zones/nowhere/presence", {"token": "sbx_at_x"})
    message = str(info.value)
    assert message.startswith(
        "GET /sandbox/mobility/v1/zones/nowhere/presence?token=… failed: HTTP 404"
    )
    assert info.value.url.startswith(orange.endpoints.api_url.rstrip("/") + "/sandbox/")
    assert "sbx_at_x" not in message


def test_a_url_elsewhere_reads_whole(
    make_session: Callable[..., Orange], sandbox: SandboxServer
) -> None:
    elsewhere = sandbox.url.replace("127.0.0.1", "localhost")  # another origin, same server
    orange = make_session(allowed_hosts=[elsewhere])
    other = elsewhere + "/sandbox/nothing-here"
    with pytest.raises(OrangeAPIError) as info:
        orange.get(other)
    assert str(info.value).startswith(f"GET {other} failed: HTTP 404")
