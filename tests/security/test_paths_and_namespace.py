"""Values stay in their path segment; what %orange leaves in the namespace holds no secret.

The magic runs in a real IPython shell, signed in to the sandbox; a loopback server records
every request it gets, so a request that must not be sent is seen not to be.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote, unquote

import pytest
from IPython.core.interactiveshell import InteractiveShell
from peers import LoopbackApi, loopback_api, signed_in_sandbox_session

from orange_nb import Orange
from orange_nb.errors import UsageError
from orange_nb.sandbox import SandboxServer

SECRETS = (b"sbx_at_", b"sbx_rt_", b"Bearer")


@pytest.fixture(scope="module")
def recorder() -> Iterator[LoopbackApi]:
    """A loopback API that records the method and raw path of every request."""
    with loopback_api(lambda method, path: (200, "application/json", b'{"ok": true}')) as server:
        yield server


def url_of(server: LoopbackApi) -> str:
    return server.url


@pytest.fixture
def shell(ipython: InteractiveShell) -> InteractiveShell:
    return ipython


@pytest.fixture
def orange(
    sandbox: SandboxServer, shell: InteractiveShell, recorder: LoopbackApi
) -> Iterator[Orange]:
    """The shell's current session, signed in; the recorder is an allowed host for the token."""
    with signed_in_sandbox_session(sandbox, allowed_hosts=[recorder.url]) as session:
        yield session


@pytest.fixture
def run(run_in_shell: Callable[[str], tuple[Any, str]]) -> Callable[[str], tuple[Any, str]]:
    return run_in_shell


Run = Callable[[str], tuple[Any, str]]


def test_values_stay_inside_their_path_segment(
    orange: Orange, run: Run, shell: InteractiveShell, recorder: LoopbackApi
) -> None:
    api = url_of(recorder)
    for template in ("{uid}", "{{ uid }}", "{{ uid }}{uid}", "%2e{uid}"):
        for value in (".", "..", ""):
            segment = unquote(template.replace("{{ uid }}", value).replace("{uid}", value))
            if segment not in ("", ".", ".."):
                continue  # "...." is an ordinary name
            recorder.seen.clear()
            shell.user_ns["uid"] = value
            result, out = run(f"%orange DELETE {api}/v1/users/{template}/reports")
            assert not result.success and isinstance(result.error_in_exec, UsageError), (
                template,
                value,
                recorder.seen,
            )
            assert "uid" in out and "Traceback" not in out
            assert recorder.seen == [], (template, value)  # nothing sent, no token either
    # Reserved characters are encoded into the segment, which stays one segment.
    for value in ("a/b", "?x=1", "#frag", "back\\slash", "%2e%2e", "...", "../.."):
        recorder.seen.clear()
        shell.user_ns["uid"] = value
        result, _ = run(f"%orange DELETE {api}/v1/users/{{uid}}/reports")
        assert result.success, (value, result.error_in_exec)
        assert recorder.seen == [("DELETE", f"/v1/users/{quote(value, safe='')}/reports")]


def _scan(name: str, value: Any, token: str) -> None:
    data = pickle.dumps(value)
    for secret in (*SECRETS, token.encode()):
        assert secret not in data, f"{name} pickles with {secret[:8]!r}"
    shown = repr(value)
    for secret in (*SECRETS, token.encode()):
        assert secret.decode() not in shown, f"repr({name}) shows {secret[:8]!r}"


def test_namespace_values_pickle_without_credentials(
    orange: Orange, run: Run, shell: InteractiveShell
) -> None:
    token = orange.token
    assert token is not None
    access = getattr(token.access_token, "reveal", lambda: token.access_token)()
    assert isinstance(access, str) and access.startswith("sbx_at_")
    names = {"zones", "named", "raw", "echoed", "as_json", "week", "_orange_last"}
    for name in names:  # the shell is shared with other test modules
        shell.user_ns.pop(name, None)
    before = set(shell.user_ns)
    cells = [
        "zones = %orange GET /sandbox/mobility/v1/zones",
        "%orange GET /sandbox/mobility/v1/zones -o named -q",
        "raw = %orange GET /sandbox/mobility/v1/zones --raw",
        "echoed = %orange POST /sandbox/echo/v1/x a=1 --raw -v",
        "as_json = %orange GET /sandbox/mobility/v1/zones/zone-01 --json",  # (--export sends nothing)
        "%orange GET /sandbox/mobility/v1/zones/zone-01/presence start==2026-01-01"
        " end==2026-01-02 --paginate -o week -q",
    ]
    for cell in cells:
        result, out = run(cell)
        assert result.success, (cell, result.error_in_exec)
        assert access not in out
    made = {name: shell.user_ns[name] for name in set(shell.user_ns) - before | {"_orange_last"}}
    assert names <= set(made)
    assert len(shell.user_ns["_orange_last"].responses) > 1  # the paginated pull's pages
    for name, value in made.items():
        _scan(name, value, access)
    # A failed call keeps its error in _orange_last: that pickles clean too.
    result, _ = run("%orange GET /sandbox/mobility/v1/zones/nowhere")
    assert not result.success
    last = shell.user_ns["_orange_last"]
    assert last.error is not None
    _scan("_orange_last", last, access)
    # The output cache holds the same results.
    for number, value in dict(shell.user_ns.get("Out", {})).items():
        _scan(f"Out[{number}]", value, access)
