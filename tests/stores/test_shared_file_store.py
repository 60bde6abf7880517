"""Kernels sharing one token store: the store's lock, and invalid_grant clearing only what failed."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from orange_nb import Orange
from orange_nb.errors import LoginRequired, TokenStoreBusy
from orange_nb.sandbox import SandboxServer
from orange_nb.stores.base import store_key
from orange_nb.stores.file import FileStore, TokenStoreWarning

KEY = "0123456789abcdef0123456789abcdef"
PING = "/sandbox/echo/v1/ping"


@pytest.fixture
def make(
    sandbox: SandboxServer, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Orange]]:
    """Sandbox sessions keeping their tokens under ``data_dir`` (``token_store`` as asked)."""
    for name in ("ORANGE_NB_SERVER_URL", "ORANGE_NB_SERVER_KEY", "ORANGE_NB_SERVER_SANDBOX"):
        monkeypatch.delenv(name, raising=False)
    sandbox.sandbox.configure(auto_consent="demo")
    made: list[Orange] = []

    def new_session(token_store: str = "file") -> Orange:
        orange = Orange.sandbox(root=sandbox.url, open_browser=False, token_store=token_store)
        made.append(orange)
        return orange

    yield new_session
    for orange in made:
        orange.close()


def sign_in(orange: Orange) -> None:
    flow = orange.begin_login()
    httpx.get(flow.url, follow_redirects=True, timeout=10)
    orange.wait_for_login(timeout=10)
    assert orange.logged_in


def file_store(orange: Orange) -> FileStore:
    return FileStore(
        store_key(orange.client_id or "", orange.scope_list, orange.endpoints.token_url)
    )


def test_invalid_grant_clears_the_store_only_if_it_still_holds_the_refused_token(
    make: Callable[..., Orange], sandbox: SandboxServer
) -> None:
    kernel = make()
    sign_in(kernel)
    store = file_store(kernel)
    other = make("memory")  # another kernel's sign-in, newer than ours
    sign_in(other)
    newer = other.token
    assert newer is not None

    # While our refresh is on the wire, a kernel that does not lock stores its token; then
    # the token endpoint refuses ours.
    def store_meanwhile(change: dict[str, Any]) -> None:
        if change["new"] == "refreshing":
            store.save(newer)

    kernel.observe(store_meanwhile, names="status")
    sandbox.sandbox.add_fault(match="token", status=400, error="invalid_grant")
    got = kernel.refresh()
    kernel.unobserve(store_meanwhile, names="status")
    assert got.access_token == newer.access_token  # adopted, not signed out
    assert kernel.logged_in and kernel.status == "signed_in"
    kept = store.load()
    assert kept is not None and kept.access_token == newer.access_token
    assert kernel.request("GET", PING).status_code == 200

    # Now the store holds the very token refused: that one is forgotten.
    sandbox.sandbox.add_fault(match="token", status=400, error="invalid_grant")
    with pytest.raises(LoginRequired):
        kernel.refresh()
    assert not store.path.exists()
    assert kernel.status == "expired" and not kernel.logged_in


def test_keyring_sessions_refresh_from_each_others_rotated_token(
    make: Callable[..., Orange], sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    keyring = pytest.importorskip("keyring")
    from keyring.backend import KeyringBackend
    from keyring.errors import PasswordDeleteError

    class Memory(KeyringBackend):
        priority = 1

        def __init__(self) -> None:
            super().__init__()  # type: ignore[no-untyped-call]
            self.items: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self.items.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.items[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            if self.items.pop((service, username), None) is None:
                raise PasswordDeleteError("not found")

    previous = keyring.get_keyring()
    keyring.set_keyring(Memory())
    try:
        first = make("keyring")
        sign_in(first)
        second = make("keyring")  # restored from the keyring entry
        assert second.logged_in
        for _ in range(5):
            sandbox.sandbox.expire_access_tokens()
            # The first rotates the refresh token; the second reads the rotated one back.
            for orange in (first, second):
                assert orange.request("GET", PING).status_code == 200
            first, second = second, first
        stats = sandbox.sandbox.stats()
        assert stats["token_errors"] == 0 and stats["refreshes"] == 10
        assert first.logged_in and second.logged_in
    finally:
        keyring.set_keyring(previous)


HOLDER = """
import sys, time
from pathlib import Path
from orange_nb.stores.file import FileStore
with FileStore({key!r}).lock():
    print("held", flush=True)
    time.sleep({hold})
    Path({marker!r}).write_text("released")
"""


def hold_lock(tmp_path: Path, hold: float) -> tuple[subprocess.Popen[str], Path]:
    """A second process holding the store's lock for ``hold`` seconds (once it says "held")."""
    marker = tmp_path / f"released-{time.monotonic_ns()}"
    code = textwrap.dedent(HOLDER.format(key=KEY, hold=hold, marker=str(marker)))
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True
    )  # inherits JUPYTER_DATA_DIR
    assert proc.stdout is not None and proc.stdout.readline() == "held\n"
    return proc, marker


def test_a_second_process_waits_for_the_lock_then_gets_it(data_dir: Path, tmp_path: Path) -> None:
    store = FileStore(KEY)
    proc, marker = hold_lock(tmp_path, 1.0)
    try:
        started = time.monotonic()
        with store.lock():
            waited = time.monotonic() - started
            assert marker.exists()  # we got it only once the other process let go
        assert 0.7 < waited < 10
    finally:
        proc.wait(timeout=10)
    with store.lock():  # free again: taken at once
        pass
    lock_file = store.directory / f"{KEY}.lock"
    assert lock_file.exists() and (lock_file.stat().st_mode & 0o077) == 0


def test_a_lock_held_too_long_is_a_clear_error(data_dir: Path, tmp_path: Path) -> None:
    store = FileStore(KEY)
    store.lock_timeout = 0.3
    proc, _ = hold_lock(tmp_path, 30)
    try:
        started = time.monotonic()
        with pytest.raises(TokenStoreBusy) as caught, store.lock():
            pytest.fail("the lock was taken while another process held it")
        assert 0.3 <= time.monotonic() - started < 5
        message = str(caught.value)
        assert str(store.directory) in message and "Run the cell again" in message
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_a_lock_file_that_is_a_link_is_not_used(data_dir: Path, tmp_path: Path) -> None:
    store = FileStore(KEY)
    store.directory.mkdir(parents=True, mode=0o700)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text("")
    (store.directory / f"{KEY}.lock").symlink_to(elsewhere)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with store.lock():  # goes on unlocked, as kernels did before locks
            pass
    assert [type(w.message) for w in caught] == [TokenStoreWarning]
    assert elsewhere.read_text() == ""
