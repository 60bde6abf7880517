"""Fixtures of the relay suite: the relay page on its own origin, and a sandbox that knows only it.

- ``relay`` (module): ``index.html`` built by ``python -m orange_nb.relay build`` and served by
  a static ``http.server`` on another loopback port (it stands for GitHub Pages: no headers of
  ours, so the page's own framing check is what is tested). It returns sign-ins to
  ``http://localhost:*`` and ``https://*.mybinder.org`` only (``--no-loopback``): the Jupyter
  servers are reached as ``localhost``, so ``127.0.0.1`` plays a host that is *not* allowed.
- ``relay_sandbox`` (module): a sandbox whose demo client has only the relay's URL registered.
"""

from __future__ import annotations

import functools
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from orange_nb.relay.__main__ import main as relay_main
from orange_nb.sandbox import Sandbox, SandboxServer, serve_in_thread
from orange_nb.sandbox.clients import demo_client

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reliability"))

ALLOW = ("http://localhost:*", "https://*.mybinder.org")


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Silent: request lines carry codes."""


@dataclass
class Relay:
    url: str  # http://127.0.0.1:PORT/
    site: Path
    server: ThreadingHTTPServer
    allow: tuple[str, ...] = ALLOW


@pytest.fixture(scope="module")
def relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Relay]:
    site = tmp_path_factory.mktemp("relay-site")
    argv = [
        "build",
        "--no-loopback",
        "--authorize-origin",
        "http://127.0.0.1:*",
        "--out",
        str(site),
    ]
    for pattern in ALLOW:
        argv += ["--allow", pattern]
    assert relay_main(argv) == 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Relay(f"http://127.0.0.1:{server.server_address[1]}/", site, server)
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(scope="module")
def relay_sandbox(relay: Relay) -> Iterator[SandboxServer]:
    sandbox = Sandbox(demo=demo_client([relay.url]))
    sandbox.configure(auto_consent="alice")
    server = serve_in_thread(sandbox=sandbox)
    yield server
    server.stop()
