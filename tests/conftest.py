"""Fixtures shared by the whole test suite.

- ``sandbox_server`` (session): one sandbox served on 127.0.0.1 in a thread.
- ``sandbox`` (function): that server, reset to defaults before the test (settings,
  clients, tokens, faults, counters); yields the ``SandboxServer`` (``.url``, ``.sandbox``).
- ``chromium`` (module): Debian's Chromium driven by Playwright. Skipped with a
  one-line reason when Chromium or Playwright is missing; a failure instead when the
  ``CI`` environment variable is set. Never downloads a browser.
- ``browser_context`` (function): a fresh context per test (no cookies carried over).
- ``ipython`` (session): the real IPython shell, with ``%load_ext orange_nb``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

from orange_nb.sandbox import SandboxServer, serve_in_thread

# Shared helpers (tests/peers.py) import as a plain module from every folder.
sys.path.insert(0, str(Path(__file__).resolve().parent))

# No test may open a real browser window: `webbrowser.open` (the loopback handoff) runs
# the sandbox's headless user agent instead.
os.environ["BROWSER"] = f"{sys.executable} -m orange_nb.sandbox.agent %s"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    """A sandbox on 127.0.0.1 for the whole session."""
    server = serve_in_thread()
    yield server
    server.stop()


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> SandboxServer:
    """The session's sandbox, reset to defaults for this test."""
    sandbox_server.sandbox.reset()
    return sandbox_server


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A headless Chromium (Playwright's sync API) for one test module; the module's
    ``CHROMIUM_EXTRA_ARGS`` list, if any, is added to its command line.

    Module scope on purpose: while Playwright's sync API is started it keeps an asyncio
    loop running in the main thread, which breaks every later test that runs a loop there
    (pytest-jupyter's server, ``asyncio.run``).
    """
    if not os.path.exists(CHROMIUM):
        _unavailable(f"Chromium is not installed at {CHROMIUM}.")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("The playwright package is not installed.")
    playwright = sync_playwright().start()
    extra = list(getattr(request.module, "CHROMIUM_EXTRA_ARGS", []))
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + extra)
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture
def browser_context(chromium: Any) -> Iterator[Any]:
    """A fresh browser context (its own cookies and storage) for one test."""
    context = chromium.new_context()
    yield context
    context.close()


@pytest.fixture(scope="session")
def ipython() -> Any:
    """The real IPython shell of this test process, with ``%load_ext orange_nb``."""
    from IPython import get_ipython
    from IPython.testing.globalipapp import start_ipython

    shell = start_ipython() or get_ipython()  # the first suite to ask starts it
    assert shell is not None
    shell.run_line_magic("load_ext", "orange_nb")
    return shell


@pytest.fixture
def run_in_shell(ipython: Any, capsys: pytest.CaptureFixture[str]) -> Any:
    """Run a cell in the real shell; returns (its ExecutionResult, stdout + stderr)."""

    def run_cell(source: str) -> tuple[Any, str]:
        capsys.readouterr()
        result = ipython.run_cell(source)
        captured = capsys.readouterr()
        return result, captured.out + captured.err

    return run_cell
