"""``--export LANG`` asks for code: it sends nothing, creates nothing, and refuses (as the call
would) a host the token may not go to."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from peers import LoopbackApi, loopback_api

from orange_nb import Orange, TokenSentElsewhere
from orange_nb.oauth.token import Token
from orange_nb.sandbox import SandboxServer

Run = Callable[[str], tuple[Any, str]]


@pytest.fixture
def other_host() -> Iterator[LoopbackApi]:
    """A host that is not the API's: it must never hear from the session."""
    with loopback_api(lambda method, path: (200, "application/json", b"{}")) as server:
        yield server


def test_exporting_a_post_creates_nothing(
    orange: Orange, run: Run, sandbox: SandboxServer, shell: InteractiveShell
) -> None:
    before = sandbox.sandbox.stats()
    shell.user_ns.pop("made", None)
    for language in ("python", "curl", "js"):
        result, out = run(
            f"%orange POST /sandbox/mobility/v1/reports zone_id=zone-01 name=x --export {language} -o made"
        )
        assert result.success, result.error_in_exec
        assert "/sandbox/mobility/v1/reports" in out and "zone-01" in out
        assert "YOUR_ACCESS_TOKEN" in out and "sbx_at_" not in out
    after = sandbox.sandbox.stats()
    assert after["reports_created"] == before["reports_created"]
    assert after["api_calls"] == before["api_calls"]  # not even a GET went out
    assert "made" not in shell.user_ns  # nothing was answered, so nothing is stored


def test_exporting_sends_no_refresh_either(
    orange: Orange, run: Run, sandbox: SandboxServer
) -> None:
    token = orange.token
    assert token is not None
    due = Token(  # the same token, past its expiry: a call would refresh it first
        token.access_token,
        token.refresh_token,
        expires_at=time.time() - 5,
        scopes=token.scopes,
        issued_at=time.time() - 3600,
    )
    orange.keeper.set(due)
    refreshes = sandbox.sandbox.stats()["token_requests"]["refresh_token"]
    result, out = run("%orange GET /sandbox/mobility/v1/zones --export python")
    assert result.success and "import requests" in out
    assert sandbox.sandbox.stats()["token_requests"]["refresh_token"] == refreshes


def test_dry_run_and_export_refuse_a_host_the_token_may_not_reach(
    orange: Orange, run: Run, other_host: LoopbackApi
) -> None:
    for option in ("--export curl", "--export python", "--dry-run"):
        result, out = run(f"%orange POST {other_host.url}/steal a=1 {option}")
        assert not result.success, option
        assert isinstance(result.error_in_exec, TokenSentElsewhere), option
        assert "allowed_hosts" in out and "curl" not in out and "Traceback" not in out
    assert other_host.paths == []  # nothing reached it
    # Allowed, the same request exports (still without sending anything).
    orange.allowed_hosts = [other_host.url]
    result, out = run(f"%orange POST {other_host.url}/steal a=1 --export curl")
    assert result.success and out.startswith("curl") and other_host.paths == []
