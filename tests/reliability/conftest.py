"""Fixtures of the reliability suite: one Jupyter server process with orange_nb, a kernel in it.

The helpers live in ``reliability_harness`` (next to this file), shared with
``tests/security``; the figures it counts are printed at the end of the run.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reliability_harness import Browser, JupyterServer, Kernel, summary


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print faults injected/survived, fuzz examples, leak hits and load figures."""
    summary(terminalreporter)


@pytest.fixture(scope="session")
def rel_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    """A Jupyter server process for the reliability tests (no auto-consent: forms are filled)."""
    server = JupyterServer(tmp_path_factory.mktemp("reliability-server"))
    try:
        server.launch()
        yield server
    finally:
        server.stop()
    assert "Traceback" not in server.logs(), server.logs()[-3000:]


@pytest.fixture(scope="session")
def rel_browser(rel_server: JupyterServer) -> Browser:
    return Browser(rel_server)


PRELUDE = """
%load_ext orange_nb
import hashlib, json, time
import orange_nb.session.orange
from orange_nb import Orange
ZONES = "/sandbox/mobility/v1/zones"
# timeout 2 s: a token endpoint slower than that must end in a clear error, not a hang.
orange = Orange.sandbox(open_browser=False, retry_backoff=0.05, max_retry_wait=10, timeout=2.0)

def keep_current():
    # A second session made for one case must not become what %orange uses.
    orange_nb.session.orange._current = orange

def digest(result):
    if hasattr(result, "to_json"):
        text = result.to_json(orient="split", date_format="iso")
    elif hasattr(result, "content"):
        text = result.content.decode()
    else:
        text = json.dumps(result, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()

def probe(fn, session=None):
    session = session or orange
    started = time.monotonic()
    try:
        out = {"ok": True, "digest": digest(fn())}
    except BaseException as exc:
        out = {"ok": False, "error": type(exc).__name__, "message": str(exc)}
    out["elapsed"] = time.monotonic() - started
    out["status"] = session.status
    print(json.dumps(out))

def magic(line):
    return get_ipython().run_line_magic("orange", line)
"""


@pytest.fixture(scope="session")
def rel_kernel(rel_server: JupyterServer) -> Kernel:
    """A kernel of ``rel_server`` with a sandbox session ``orange`` (signed out) and helpers."""
    kernel = rel_server.start_kernels(1)[0]
    kernel.run(PRELUDE)
    return kernel


@pytest.fixture
def signed_in(rel_kernel: Kernel, rel_browser: Browser, rel_server: JupyterServer) -> Kernel:
    """``rel_kernel``'s session signed in (a new sign-in when it is not), no fault queued."""
    rel_server.sandbox("DELETE", "faults")
    if not rel_kernel.run(
        "print(json.dumps(orange.logged_in and orange.status == 'signed_in'))"
    ).json():
        link = rel_kernel.run("print(json.dumps(orange.begin_login().url))").json()
        rel_browser.sign_in(link)
        rel_kernel.run("orange.wait_for_login(30); keep_current()")
    return rel_kernel
