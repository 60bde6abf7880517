"""With ``token_store="file"`` a new session (a restarted kernel) is signed in at once."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from orange_nb import Orange
from orange_nb.sandbox import SandboxServer
from orange_nb.stores.base import store_key
from orange_nb.stores.file import FileStore


@pytest.fixture
def make(
    sandbox: SandboxServer, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[], Orange]]:
    """Build sandbox sessions that keep their tokens in files under ``data_dir``."""
    for name in ("ORANGE_NB_SERVER_URL", "ORANGE_NB_SERVER_KEY", "ORANGE_NB_SERVER_SANDBOX"):
        monkeypatch.delenv(name, raising=False)
    sandbox.sandbox.configure(auto_consent="demo")
    made: list[Orange] = []

    def new_session() -> Orange:
        orange = Orange.sandbox(root=sandbox.url, open_browser=False, token_store="file")
        made.append(orange)
        return orange

    yield new_session
    for orange in made:
        orange.close()


def stored(orange: Orange) -> dict[str, object]:
    key = store_key(orange.client_id or "", orange.scope_list, orange.endpoints.token_url)
    path = FileStore(key).path
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    data: dict[str, object] = json.loads(path.read_text())
    return data


def test_a_restarted_kernel_is_signed_in_without_a_new_sign_in(make: Callable[[], Orange]) -> None:
    first = make()
    flow = first.begin_login()
    httpx.get(flow.url, follow_redirects=True, timeout=10)
    first.wait_for_login(timeout=10)
    assert first.token is not None
    assert stored(first)["access_token"] == first.token.access_token

    first.refresh()  # every token change is stored
    assert stored(first)["access_token"] == first.token.access_token
    first.close()

    second = make()  # what a restarted kernel builds
    assert second.logged_in and second.status == "signed_in"
    assert second.login_url == "" and second.handoff_name is None  # no sign-in happened
    assert second.user == "Demo User"
    assert second.token is not None and second.token.access_token == first.token.access_token
    assert second.request("GET", "/sandbox/echo/v1/ping").status_code == 200

    second.logout()
    assert not FileStore(
        store_key(second.client_id or "", second.scope_list, second.endpoints.token_url)
    ).path.exists()
    assert not make().logged_in
