"""Sessions on the test sandbox, signed in through the loopback handoff over real HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from orange_nb import Orange
from orange_nb.sandbox import SandboxServer


def sign_in(orange: Orange, timeout: float = 10) -> None:
    """Follow the sign-in link like a browser would, with the sandbox approving at once."""
    flow = orange.begin_login()
    httpx.get(flow.url, follow_redirects=True, timeout=timeout)
    orange.wait_for_login(timeout=timeout)


@pytest.fixture
def make_session(sandbox: SandboxServer) -> Iterator[Callable[..., Orange]]:
    """Build sandbox sessions (fast retries, no browser); signed in unless ``signed_in=False``."""
    sandbox.sandbox.configure(auto_consent="demo")
    made: list[Orange] = []

    def make(signed_in: bool = True, **settings: Any) -> Orange:
        settings.setdefault("open_browser", False)
        settings.setdefault("retry_backoff", 0.01)
        orange = Orange.sandbox(root=sandbox.url, **settings)
        made.append(orange)
        if signed_in:
            sign_in(orange)
        return orange

    yield make
    for orange in made:
        orange.close()


@pytest.fixture(name="sign_in")
def sign_in_fixture() -> Callable[..., None]:
    """:func:`sign_in`, for tests."""
    return sign_in


@pytest.fixture
def session(make_session: Callable[..., Orange]) -> Orange:
    """A signed-in sandbox session."""
    return make_session()
