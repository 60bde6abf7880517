"""The keyring token store: one entry per session in the system keyring (optional extra)."""

from __future__ import annotations

import contextlib
from typing import Any

from ..errors import ConfigError
from ..oauth.token import Token
from .file import FileStore, _check_key, _warn

KEYRING_SERVICE = "orange_nb"


class KeyringStore:
    """One session's token in the system keyring (service ``orange_nb``, user name ``key``).

    Needs the ``keyring`` package and a usable backend; constructing the store without them
    raises :class:`ConfigError`. :meth:`lock` is the file store's lock on ``{key}.lock`` in
    the tokens directory: keyrings have no locks, and kernels sharing an entry share a machine.
    """

    def __init__(self, key: str) -> None:
        try:
            import keyring
            import keyring.errors
        except ImportError:
            raise ConfigError(
                "The keyring token store needs the keyring package: `pip install keyring` "
                "(or `pip install orange_nb[keyring]`), or use `token_store='file'`."
            ) from None
        from keyring.backends.fail import Keyring as NoBackend

        if isinstance(keyring.get_keyring(), NoBackend):
            raise ConfigError(
                "The keyring package finds no usable keyring on this machine; configure a "
                "keyring backend, or use `token_store='file'`."
            )
        self.key = _check_key(key)
        self._keyring: Any = keyring
        self._errors: Any = keyring.errors
        self._locks = FileStore(self.key)  # its lock only: the token stays in the keyring

    def __repr__(self) -> str:
        return f"KeyringStore(service={KEYRING_SERVICE!r}, username={self.key!r})"

    def lock(self) -> contextlib.AbstractContextManager[None]:
        """Hold this entry's lock across processes (see :meth:`FileStore.lock`)."""
        return self._locks.lock()

    def load(self) -> Token | None:
        """The stored token; ``None`` when there is none or it cannot be read."""
        try:
            text = self._keyring.get_password(KEYRING_SERVICE, self.key)
        except self._errors.KeyringError as exc:
            _warn(f"orange_nb cannot read the keyring ({type(exc).__name__}); sign in again.")
            return None
        if text is None:
            return None
        try:
            return Token.from_json(str(text))
        except ValueError:
            _warn("orange_nb ignores its keyring entry: it is not a valid stored token.")
            return None

    def save(self, token: Token) -> None:
        """Store ``token``; on failure warn and keep the session going."""
        try:
            self._keyring.set_password(KEYRING_SERVICE, self.key, token.to_json())
        except self._errors.KeyringError as exc:
            _warn(f"orange_nb could not store the token in the keyring ({type(exc).__name__}).")

    def clear(self) -> None:
        """Remove the stored token, if any."""
        try:
            self._keyring.delete_password(KEYRING_SERVICE, self.key)
        except self._errors.PasswordDeleteError:
            pass  # nothing stored: already clear
        except self._errors.KeyringError as exc:
            _warn(f"orange_nb could not remove its keyring entry ({type(exc).__name__}).")
