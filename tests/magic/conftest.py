"""A real IPython shell with ``%load_ext orange_nb``, signed in to the test sandbox."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from IPython.core.interactiveshell import InteractiveShell

from orange_nb import Orange
from orange_nb.sandbox import SandboxServer


@pytest.fixture(scope="session")
def shell(ipython: InteractiveShell) -> InteractiveShell:
    """The real IPython shell, with ``%load_ext orange_nb``."""
    return ipython


@pytest.fixture
def orange(sandbox: SandboxServer, shell: InteractiveShell) -> Iterator[Orange]:
    """The shell's current session: a sandbox session, signed in."""
    sandbox.sandbox.configure(auto_consent="demo")
    session = Orange.sandbox(root=sandbox.url, open_browser=False, retry_backoff=0.01)
    flow = session.begin_login()
    httpx.get(flow.url, follow_redirects=True)
    session.wait_for_login(10)
    shell.user_ns["orange"] = session
    yield session
    session.close()


@pytest.fixture
def run(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> Callable[[str], tuple[Any, str]]:
    """Run a cell; return (its ExecutionResult, what it printed)."""

    def run_cell(source: str) -> tuple[Any, str]:
        capsys.readouterr()
        result = shell.run_cell(source)
        return result, capsys.readouterr().out

    return run_cell
