"""Fixtures of the browser suite: JupyterLab processes with orange_nb's server extension.

- ``lab`` (module): JupyterLab at ``/``.
- ``lab_prefixed`` (module): the same under ``/user/alice/``, as on a hub or Binder.

The browser side uses the suite's ``chromium`` and ``browser_context`` (a fresh context per
test). The machinery lives in ``lab_harness`` next to this file.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lab_harness import ARTIFACTS, Lab, running_lab


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """On a failure: a screenshot of every open page, and the end of the server's log."""
    outcome: Any = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    funcargs = getattr(item, "funcargs", {})
    context = funcargs.get("browser_context")
    if context is not None:
        ARTIFACTS.mkdir(exist_ok=True)
        for number, page in enumerate(context.pages):
            with contextlib.suppress(Exception):  # a page may be closing: keep the report
                page.screenshot(path=str(ARTIFACTS / f"failed-{item.name}-{number}.png"))
    for name in ("lab", "lab_prefixed"):
        if name in funcargs:
            report.sections.append((f"{name} log", funcargs[name].log_tail()))


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """JupyterLab at the root URL."""
    with running_lab(tmp_path_factory.mktemp("lab"), "/") as server:
        yield server


@pytest.fixture(scope="module")
def lab_prefixed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """JupyterLab under ``/user/alice/``, as a hub or Binder serves it."""
    with running_lab(tmp_path_factory.mktemp("lab-alice"), "/user/alice/") as server:
        yield server
