"""Small real peers shared by several suites (importable: the root conftest puts this folder
on ``sys.path``).

- ``LoopbackApi``: an HTTP server on 127.0.0.1 that answers from a function of the request
  and records the method and raw path of every request it gets; ``serving`` runs any
  ``ThreadingHTTPServer`` for a block.
- ``signed_in_sandbox_session``: a sandbox session signed in at once (auto-consent), that
  may send its token to extra allowed hosts.
- ``phone_session``: a sandbox session that signs in by phone (CIBA) with a new key pair
  (``private_key_jwt``, no client secret); requests wait for a decision.
- ``decide_next``: a thread that answers the next pending request on the sandbox's phone.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from orange_nb import Orange
from orange_nb.sandbox import SandboxServer

Answer = tuple[int, str, bytes]
"""(status, content type, body)."""
Answers = Callable[[str, str], Answer]
"""What the API says for (method, path)."""


class LoopbackApi(ThreadingHTTPServer):
    """See the module docstring; ``url`` has no trailing slash."""

    daemon_threads = True

    def __init__(self, answers: Answers) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answers = answers
        self.seen: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.url = f"http://127.0.0.1:{self.server_port}"

    @property
    def paths(self) -> list[str]:
        """The raw paths received, in order."""
        with self.lock:
            return [path for _, path in self.seen]

    def clear(self) -> None:
        """Forget the requests received so far."""
        with self.lock:
            self.seen.clear()


class _Handler(BaseHTTPRequestHandler):
    server: LoopbackApi

    def _answer(self) -> None:
        with self.server.lock:
            self.server.seen.append((self.command, self.path))
        status, ctype, body = self.server.answers(self.command, self.path)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serving(server: ThreadingHTTPServer) -> Iterator[str]:
    """Run ``server`` in a thread until the block ends; yields its URL (no trailing slash)."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextmanager
def loopback_api(answers: Answers) -> Iterator[LoopbackApi]:
    """Serve ``answers`` on 127.0.0.1 in a thread until the block ends."""
    server = LoopbackApi(answers)
    with serving(server):
        yield server


@contextmanager
def signed_in_sandbox_session(
    sandbox: SandboxServer, *, allowed_hosts: list[str] | None = None
) -> Iterator[Orange]:
    """A sandbox session signed in at once; the kernel's current session while it lasts."""
    sandbox.sandbox.configure(auto_consent="demo")
    session = Orange.sandbox(
        root=sandbox.url, open_browser=False, retry_backoff=0.01, allowed_hosts=allowed_hosts or []
    )
    flow = session.begin_login()
    httpx.get(flow.url, follow_redirects=True, timeout=10)
    session.wait_for_login(10)
    try:
        yield session
    finally:
        session.close()


def phone_session(
    sandbox: SandboxServer,
    make_session: Callable[..., Orange],
    folder: Path,
    alg: str = "ES256",
    **settings: Any,
) -> Orange:
    """See the module docstring; ``settings`` go to ``make_session``."""
    from orange_nb.keys import new_key_pair

    pair = new_key_pair(folder, alg)
    sandbox.sandbox.configure(jwks=pair.jwks, ciba_interval=0.05, auto_consent=None)
    return make_session(  # no client secret at all: the key alone authenticates
        client_secret=None,
        token_auth_method="private_key_jwt",
        private_key=str(pair.private_path),
        **settings,
    )


def decide_next(sandbox: SandboxServer, decision: str) -> threading.Thread:
    """Started: answer ``decision`` to the next request still pending (within 10 s)."""

    def decide() -> None:
        for _ in range(200):
            pending = [
                r for r in sandbox.sandbox.backchannel_requests() if r["decision"] == "pending"
            ]
            if pending:
                url = f"{sandbox.url}/_sandbox/ciba/{pending[0]['id']}"
                httpx.post(url, json={"decision": decision})
                return
            time.sleep(0.05)

    thread = threading.Thread(target=decide)
    thread.start()
    return thread
