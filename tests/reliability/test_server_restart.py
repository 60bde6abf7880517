"""The Jupyter server dies and comes back on the same port while a kernel waits for a sign-in.

The server is killed (SIGKILL: no clean shutdown, as after a crash or an OOM kill) in the
middle of the kernel's long-poll, then started again on its port with a new key. A local
ipykernel exits with its server, so the kernel here is one that outlives it, as remote or
provisioned kernels do (a kernelspec without ipykernel's parent polling). The kernel's
``wait_for_login`` must end at once with a clear ``LoginError``, and what comes next must
say what to do: never a hang.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from reliability_harness import OUTLIVES_SERVER, TALLY, Browser, JupyterServer, free_port

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    server = JupyterServer(tmp_path_factory.mktemp("restarted-server"), port=free_port())
    try:
        server.launch()
        yield server
    finally:
        server.stop()


def test_restart_during_a_pending_login_ends_the_wait_with_a_clear_error(
    server: JupyterServer,
) -> None:
    kernel = server.start_kernels(1, OUTLIVES_SERVER)[0]
    link = kernel.run(
        """
        import json
        from orange_nb import Orange
        orange = Orange.sandbox(open_browser=False)
        print(json.dumps(orange.begin_login().url))
        """
    ).json()
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(kernel.run, "orange.wait_for_login(120)", 150, check=False)
        time.sleep(1.0)  # the kernel is in its long-poll by now
        assert not waiting.done()
        port = server.port
        server.kill()
        killed = time.monotonic()
        server.launch()  # same port, new key, empty pending store
        assert server.port == port
        cell = waiting.result(timeout=30)
    ended = time.monotonic() - killed
    error = cell.error or {}
    assert error.get("ename") == "LoginError", error
    assert "cannot reach its Jupyter server" in error["evalue"]
    assert "Run the login cell again" in error["evalue"]
    assert ended < 10  # it ended with the connection, not at the 120 s timeout

    # The old link on the new server: a stale page, not an error inside the server.
    page = Browser(server).land(f"http://127.0.0.1:{server.port}{link}")
    assert page.status_code == 404 and "Run the login cell in your notebook again" in page.text

    # Signing in again from the same kernel: its key belongs to the dead server.
    again = kernel.run("orange.begin_login()", check=False).error or {}
    assert again.get("ename") == "LoginError", again
    assert "Restart the kernel" in again["evalue"]
    state = kernel.run("print(json.dumps([orange.status, orange.logged_in]))").json()
    assert state == ["error", False]
    assert "Traceback" not in server.logs()
    TALLY.fault("Jupyter server killed and restarted mid-login", 1, survived=True)
