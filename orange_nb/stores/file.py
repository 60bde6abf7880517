"""The file token store: a private file per session, in Jupyter's data directory.

It and the keyring store hold ``Token.to_json()`` (secrets included), so neither ever logs, warns with or
shows what it holds: warnings name the place and the reason, never the content.

Several kernels may share one store (same client, scopes and provider). With refresh-token
rotation only one of them may refresh at a time, so both stores offer :meth:`lock`: an
advisory lock on ``{key}.lock`` in the tokens directory, held by the token keeper while it
re-reads the store, refreshes and saves.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import stat
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

from jupyter_core.paths import jupyter_data_dir

from ..errors import TokenStoreBusy
from ..oauth.token import Token

_KEY = re.compile(r"[A-Za-z0-9_-]{1,128}")
_MAX_BYTES = 1 << 20  # a token set is a few kB; anything bigger is not ours
_POSIX = os.name == "posix"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
# A FIFO planted at the path must not block the kernel in open(); regular files ignore it.
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
# A refresh holds the lock for one token request (30 s at most with the default timeout).
LOCK_TIMEOUT = 60.0


class TokenStoreWarning(UserWarning):
    """A stored token was ignored or could not be written; the session goes on without it."""


def _warn(message: str) -> None:
    warnings.warn(message, TokenStoreWarning, stacklevel=3)


def _check_key(key: str) -> str:
    # The key becomes a file name: refuse anything that could leave the tokens directory.
    if not _KEY.fullmatch(key):
        raise ValueError("a token store key is 1 to 128 letters, digits, '-' or '_'")
    return key


def tokens_dir() -> Path:
    """Where file-stored tokens live: ``{jupyter_data_dir()}/orange_nb/tokens``."""
    return Path(jupyter_data_dir()) / "orange_nb" / "tokens"


def _foreign(st: os.stat_result) -> bool:
    return _POSIX and st.st_uid != os.geteuid()


def _try_lock(fd: int) -> bool:
    """Take the exclusive lock on ``fd`` without waiting; ``False`` when someone holds it."""
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        import fcntl
    except ImportError:  # no advisory locks on this platform: go on unlocked, as before
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:  # a file system without locks (some network mounts): go on unlocked
        return True
    return True


def _unlock(fd: int) -> None:
    if sys.platform == "win32":  # Windows wants the region unlocked before close
        import msvcrt

        with contextlib.suppress(OSError):
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    # elsewhere closing the descriptor releases the flock


@contextlib.contextmanager
def _file_lock(directory: Path, key: str, timeout: float) -> Iterator[None]:
    """Hold ``{directory}/{key}.lock`` exclusively, waiting ``timeout`` seconds at most.

    Kernels that cannot lock (no such directory, a lock file that is not ours) go on without
    the lock, which is how every kernel behaved before locks existed.
    """
    path = directory / f"{key}.lock"
    fd = _open_lock(path)
    if fd is None:
        yield
        return
    try:
        deadline = time.monotonic() + timeout
        pause = 0.002
        while not _try_lock(fd):
            if time.monotonic() >= deadline:
                raise TokenStoreBusy(
                    f"Another kernel has been refreshing the shared Orange token for over "
                    f"{timeout:.0f} s (it holds {path}). Run the cell again; if this keeps "
                    "happening, restart the kernel that is stuck."
                )
            time.sleep(pause)
            pause = min(pause * 2, 0.05)
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)


def _open_lock(path: Path) -> int | None:
    """A descriptor on the lock file (created 0600, never through a link), or ``None``."""
    flags = os.O_RDWR | os.O_CREAT | _NOFOLLOW | _CLOEXEC | _NONBLOCK
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as exc:
        _warn(f"orange_nb cannot lock {path} ({exc.strerror}); kernels sharing it may clash.")
        return None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or _foreign(st):
        os.close(fd)
        _warn(f"orange_nb does not use {path} as a lock: it is not a plain file of yours.")
        return None
    return fd


class FileStore:
    """One session's token in ``{jupyter_data_dir()}/orange_nb/tokens/{key}.json``.

    The directory is created with mode 0700 (an existing one of ours that is looser is
    tightened) and the file with mode 0600, written atomically (a temporary file in the same
    directory, fsync, ``os.replace``), so a reader sees the old token or the new one, whole.
    The file is never followed through a symbolic link. A file that is corrupt, owned by
    someone else, or readable or writable by group or others is ignored with one
    :class:`TokenStoreWarning` and never trusted; a file owned by someone else is never
    replaced nor removed either. :meth:`lock` serialises refreshes across kernels.
    """

    def __init__(self, key: str) -> None:
        self.key = _check_key(key)
        self.directory = tokens_dir()
        self.path = self.directory / f"{self.key}.json"
        self.lock_timeout = LOCK_TIMEOUT

    def __repr__(self) -> str:
        return f"FileStore({str(self.path)!r})"

    # --- the directory -------------------------------------------------------------
    def _directory_ok(self, *, create: bool) -> bool:
        """Whether the tokens directory can be trusted (creating it first when asked)."""
        if create:
            self.directory.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):
                os.mkdir(self.directory, 0o700)
        try:
            st = os.lstat(self.directory)
        except FileNotFoundError:
            return False
        if not stat.S_ISDIR(st.st_mode) or _foreign(st):
            _warn(
                f"orange_nb ignores the token directory {self.directory}: it is not a plain "
                "directory of yours. Remove it to store tokens again."
            )
            return False
        if _POSIX and st.st_mode & 0o077:
            os.chmod(self.directory, 0o700)  # ours, merely too open: tighten rather than give up
        return True

    # --- the store interface -------------------------------------------------------
    def lock(self) -> contextlib.AbstractContextManager[None]:
        """Hold this store's lock (``{key}.lock``, next to the token) across processes.

        Waits ``lock_timeout`` seconds at most, then raises :class:`TokenStoreBusy`; without
        a trusted tokens directory there is nothing to share and no lock is taken.
        """
        try:
            usable = self._directory_ok(create=True)
        except OSError:
            usable = False
        if not usable:
            return contextlib.nullcontext()
        return _file_lock(self.directory, self.key, self.lock_timeout)

    def load(self) -> Token | None:
        """The stored token; ``None`` when there is none or it cannot be trusted."""
        if not self._directory_ok(create=False):
            return None
        try:
            fd = os.open(self.path, os.O_RDONLY | _NOFOLLOW | _CLOEXEC | _NONBLOCK)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                _warn(f"orange_nb ignores {self.path}: it is a symbolic link.")
            else:
                _warn(f"orange_nb cannot read {self.path} ({exc.strerror}); sign in again.")
            return None
        with os.fdopen(fd, "rb") as file:
            reason = self._distrust(os.fstat(fd))
            data = b"" if reason else file.read(_MAX_BYTES + 1)
        if reason:
            _warn(f"orange_nb ignores {self.path}: {reason}. Sign in again.")
            return None
        try:
            if len(data) > _MAX_BYTES:
                raise ValueError("too big")
            return Token.from_json(data.decode("utf-8"))
        except ValueError:  # UnicodeDecodeError and JSONDecodeError are ValueErrors too
            _warn(f"orange_nb ignores {self.path}: it is not a valid stored token. Sign in again.")
            return None

    @staticmethod
    def _distrust(st: os.stat_result) -> str:
        """Why a stored file must not be trusted, or ``""``."""
        if not stat.S_ISREG(st.st_mode):
            return "it is not a regular file"
        if _foreign(st):
            return "it belongs to another user"
        if _POSIX and st.st_mode & 0o077:
            return f"its permissions ({stat.S_IMODE(st.st_mode):o}) let others read or change it"
        return ""

    def save(self, token: Token) -> None:
        """Store ``token`` atomically; on failure warn and keep the session going."""
        try:
            if not self._directory_ok(create=True) or self._owned_by_other():
                return
            self._write(token.to_json().encode("utf-8"))
        except OSError as exc:
            _warn(f"orange_nb could not store the token in {self.path} ({exc.strerror}).")

    def _owned_by_other(self) -> bool:
        try:
            st = os.lstat(self.path)
        except FileNotFoundError:
            return False
        if _foreign(st):
            _warn(
                f"orange_nb leaves {self.path} alone: it belongs to another user. "
                "Tokens are not stored until it is removed."
            )
            return True
        return False

    def _write(self, data: bytes) -> None:
        tmp = self.directory / f".{self.key}.{secrets.token_hex(8)}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, 0o600)
        try:
            with os.fdopen(fd, "wb") as file:
                if _POSIX:
                    os.fchmod(file.fileno(), 0o600)  # exactly 0600, whatever the umask
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            # rename() replaces a symbolic link itself, never what it points to.
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        if _POSIX:  # make the rename itself durable
            dir_fd = os.open(self.directory, os.O_RDONLY | _CLOEXEC)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    def clear(self) -> None:
        """Remove the stored token (a file of another user's is left in place)."""
        try:
            st = os.lstat(self.path)
        except FileNotFoundError:
            return
        if _foreign(st):
            _warn(f"orange_nb leaves {self.path} alone: it belongs to another user.")
            return
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
