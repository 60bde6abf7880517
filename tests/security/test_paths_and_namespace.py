"""Values stay in their path segment; what %orange leaves in the namespace holds no secret.

The magic runs in a real IPython shell, signed in to the sandbox; a loopback server records
every request it gets, so a request that must not be sent is seen not to be.
"""

from __future__ import annotations

import pickle
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote, unquote

import httpx
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.terminal.interactiveshell import TerminalInteractiveShell
from IPython.testing.globalipapp import start_ipython

from orange_nb import Orange
from orange_nb.errors import UsageError
from orange_nb.sandbox import SandboxServer

SECRETS = (b"sbx_at_", b"sbx_rt_", b"Bearer")


class _Handler(BaseHTTPRequestHandler):
    server: _Recorder

    def _answer(self) -> None:
        self.server.seen.append((self.command, self.path))
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_DELETE = do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Recorder(ThreadingHTTPServer):
    daemon_threads = True
    seen: list[tuple[str, str]]


@pytest.fixture(scope="module")
def recorder() -> Iterator[_Recorder]:
    """A loopback API that records the method and raw path of every request."""
    server = _Recorder(("127.0.0.1", 0), _Handler)
    server.seen = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def url_of(server: _Recorder) -> str:
    return f"http://127.0.0.1:{server.server_port}"


@pytest.fixture(scope="module")
def shell() -> InteractiveShell:
    ip = start_ipython() or TerminalInteractiveShell.instance()  # type: ignore[no-untyped-call]
    ip.run_line_magic("load_ext", "orange_nb")
    return ip


@pytest.fixture
def orange(
    sandbox: SandboxServer, shell: InteractiveShell, recorder: _Recorder
) -> Iterator[Orange]:
    """The shell's current session, signed in; the recorder is an allowed host for the token."""
    sandbox.sandbox.configure(auto_consent="demo")
    session = Orange.sandbox(
        root=sandbox.url, open_browser=False, retry_backoff=0.01, allowed_hosts=[url_of(recorder)]
    )
    flow = session.begin_login()
    httpx.get(flow.url, follow_redirects=True)
    session.wait_for_login(10)
    yield session
    session.close()


@pytest.fixture
def run(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> Callable[[str], tuple[Any, str]]:
    def run_cell(source: str) -> tuple[Any, str]:
        capsys.readouterr()
        result = shell.run_cell(source)  # type: ignore[no-untyped-call]
        captured = capsys.readouterr()
        return result, captured.out + captured.err

    return run_cell


Run = Callable[[str], tuple[Any, str]]


def test_values_stay_inside_their_path_segment(
    orange: Orange, run: Run, shell: InteractiveShell, recorder: _Recorder
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
        "as_json = %orange GET /sandbox/mobility/v1/zones/zone-01 --json --export curl",
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
