"""The keyring token store, on a tiny in-memory keyring backend; or its absence, said clearly."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from typing import Any

import pytest

from orange_nb.errors import ConfigError
from orange_nb.oauth.token import Token
from orange_nb.stores.file import TokenStoreWarning
from orange_nb.stores.keyring import KEYRING_SERVICE, KeyringStore

HAS_KEYRING = importlib.util.find_spec("keyring") is not None
KEY = "fedcba9876543210fedcba9876543210"


def test_without_keyring_the_store_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "keyring", None)  # what a missing package looks like
    with pytest.raises(ConfigError, match="pip install keyring"):
        KeyringStore(KEY)


@pytest.fixture
def memory_keyring() -> Iterator[Any]:
    """An in-memory keyring backend, installed for the test."""
    if not HAS_KEYRING:
        pytest.skip("keyring is not installed")
    import keyring
    from keyring.backend import KeyringBackend
    from keyring.errors import KeyringError, PasswordDeleteError

    class Memory(KeyringBackend):
        priority = 1
        broken = False

        def __init__(self) -> None:
            super().__init__()
            self.items: dict[tuple[str, str], str] = {}

        def _check(self) -> None:
            if self.broken:
                raise KeyringError("locked")

        def get_password(self, service: str, username: str) -> str | None:
            self._check()
            return self.items.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self._check()
            self.items[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            self._check()
            if self.items.pop((service, username), None) is None:
                raise PasswordDeleteError("not found")

    previous = keyring.get_keyring()
    backend = Memory()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def test_round_trip_under_the_service_and_key(memory_keyring: Any, token: Token) -> None:
    store = KeyringStore(KEY)
    assert store.load() is None
    store.save(token)
    assert set(memory_keyring.items) == {(KEYRING_SERVICE, KEY)}
    loaded = store.load()
    assert loaded is not None and loaded.to_json() == token.to_json()
    store.clear()
    assert memory_keyring.items == {}
    store.clear()  # nothing stored: still fine
    assert "sbx_" not in repr(store)


def test_a_corrupt_entry_is_ignored_with_one_warning(memory_keyring: Any) -> None:
    memory_keyring.items[(KEYRING_SERVICE, KEY)] = "sbx_rt_garbage"
    with pytest.warns(TokenStoreWarning) as caught:
        assert KeyringStore(KEY).load() is None
    assert len(caught) == 1 and "sbx_" not in str(caught[0].message)


def test_a_failing_keyring_warns_and_never_breaks_the_session(
    memory_keyring: Any, token: Token
) -> None:
    store = KeyringStore(KEY)
    memory_keyring.broken = True
    for action in (store.load, lambda: store.save(token), store.clear):
        with pytest.warns(TokenStoreWarning):
            action()


def test_no_usable_backend_is_a_config_error(memory_keyring: Any) -> None:
    import keyring
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring())
    with pytest.raises(ConfigError, match="token_store='file'"):
        KeyringStore(KEY)
