"""Fixtures of the security suite: a Jupyter server process with orange_nb, its kernel key.

The key is the one kernels inherit (``ORANGE_NB_SERVER_KEY``): read from a kernel of the
server, as an attacker inside a kernel would have it, so the tests can register flows and
poll like a kernel (``ServerHandoff``) or play a process *without* the key.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reliability"))

from reliability_harness import Browser, JupyterServer, Kernel, summary


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print faults injected/survived, fuzz examples, leak hits and load figures."""
    summary(terminalreporter)


@pytest.fixture(scope="session")
def sec_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    """A Jupyter server process the attacks and the HTTP fuzzing go against."""
    server = JupyterServer(tmp_path_factory.mktemp("security-server"))
    try:
        server.launch()
        yield server
    finally:
        server.stop()
    logs = server.logs()
    assert "Traceback" not in logs and " 500 " not in logs, logs[-3000:]


@pytest.fixture(scope="session")
def sec_kernel(sec_server: JupyterServer) -> Kernel:
    """A kernel of ``sec_server`` with orange_nb imported."""
    kernel = sec_server.start_kernels(1)[0]
    kernel.run(
        """
        import json, os, time
        from orange_nb import Orange
        """
    )
    return kernel


@pytest.fixture(scope="session")
def server_key(sec_kernel: Kernel) -> str:
    """The per-server kernel key, as every kernel of the server inherits it."""
    return str(sec_kernel.run('print(json.dumps(os.environ["ORANGE_NB_SERVER_KEY"]))').json())


@pytest.fixture(scope="session")
def sec_browser(sec_server: JupyterServer) -> Browser:
    return Browser(sec_server)
