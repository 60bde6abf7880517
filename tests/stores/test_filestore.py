"""The file token store: private modes, atomic writes, and nothing trusted that is not ours."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from orange_nb.oauth.token import Token
from orange_nb.stores.file import FileStore, TokenStoreWarning

ROOT = os.geteuid() == 0
KEY = "0123456789abcdef0123456789abcdef"


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def same(a: Token | None, b: Token) -> bool:
    return a is not None and a.to_json() == b.to_json()


@pytest.fixture
def store(data_dir: Path) -> FileStore:
    return FileStore(KEY)


@pytest.fixture
def umask_zero() -> Iterator[None]:
    old = os.umask(0)  # the modes must not rely on a kind umask
    yield
    os.umask(old)


def load_warned(store: FileStore) -> tuple[Token | None, str]:
    """``load()``, which must warn exactly once; the warning's text."""
    with pytest.warns(TokenStoreWarning) as caught:
        loaded = store.load()
    assert len(caught) == 1
    return loaded, str(caught[0].message)


def test_round_trip_and_clear(store: FileStore, data_dir: Path, token: Token) -> None:
    assert store.path == data_dir / "orange_nb" / "tokens" / f"{KEY}.json"
    assert store.load() is None  # nothing yet, and no directory either: no warning
    store.save(token)
    assert same(store.load(), token)
    store.clear()
    assert not store.path.exists()
    assert store.load() is None
    store.clear()  # twice is fine


def test_modes_are_private_whatever_the_umask(
    store: FileStore, token: Token, umask_zero: None
) -> None:
    store.save(token)
    assert mode(store.path) == 0o600
    assert mode(store.directory) == 0o700
    assert [p.name for p in store.directory.iterdir()] == [store.path.name]  # no temp left


def test_a_loose_directory_of_ours_is_tightened(store: FileStore, token: Token) -> None:
    store.directory.mkdir(parents=True, mode=0o777)
    os.chmod(store.directory, 0o755)
    store.save(token)
    assert mode(store.directory) == 0o700
    assert same(store.load(), token)


@pytest.mark.parametrize(
    "content",
    [b"garbage", b'{"refresh_token": "sbx_rt_x"}', b"\xff\xfe\x00sbx_rt_", b" " * (2 << 20)],
    ids=["text", "json-not-a-token", "not-utf8", "too-big"],
)
def test_a_corrupt_file_is_ignored_with_one_warning(store: FileStore, content: bytes) -> None:
    store.directory.mkdir(parents=True, mode=0o700)
    store.path.write_bytes(content)
    os.chmod(store.path, 0o600)
    loaded, message = load_warned(store)
    assert loaded is None
    assert "sbx_" not in message and str(store.path) in message


def test_a_file_others_may_read_is_not_trusted_then_replaced(
    store: FileStore, token: Token
) -> None:
    store.save(token)
    os.chmod(store.path, 0o644)
    loaded, message = load_warned(store)
    assert loaded is None and "644" in message
    store.save(token)  # ours, merely too open: replaced by a private file
    assert mode(store.path) == 0o600
    assert same(store.load(), token)


@pytest.mark.skipif(not ROOT, reason="giving a file to another user needs root")
def test_a_file_of_another_user_is_ignored_and_never_touched(
    store: FileStore, token: Token
) -> None:
    store.save(token)
    os.chown(store.path, 65534, 65534)
    before = store.path.read_bytes()
    loaded, message = load_warned(store)
    assert loaded is None and "another user" in message
    with pytest.warns(TokenStoreWarning):
        store.save(token.with_(access_token="sbx_at_new"))
    with pytest.warns(TokenStoreWarning):
        store.clear()
    assert store.path.read_bytes() == before
    assert os.lstat(store.path).st_uid == 65534


@pytest.mark.skipif(not ROOT, reason="giving a directory to another user needs root")
def test_a_token_directory_of_another_user_is_ignored(store: FileStore, token: Token) -> None:
    store.save(token)
    os.chown(store.directory, 65534, 65534)
    loaded, _ = load_warned(store)
    assert loaded is None


def test_a_symbolic_link_is_never_followed(store: FileStore, token: Token, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text(token.to_json())
    os.chmod(elsewhere, 0o600)
    store.directory.mkdir(parents=True, mode=0o700)
    store.path.symlink_to(elsewhere)
    loaded, message = load_warned(store)
    assert loaded is None and "symbolic link" in message
    store.save(token.with_(access_token="sbx_at_new"))  # replaces the link, not its target
    assert not store.path.is_symlink()
    assert elsewhere.read_text() == token.to_json()
    stored = store.load()
    assert stored is not None and stored.access_token == "sbx_at_new"


def test_a_linked_token_directory_is_ignored(data_dir: Path, token: Token, tmp_path: Path) -> None:
    real = tmp_path / "real-tokens"
    real.mkdir(mode=0o700)
    (data_dir / "orange_nb").mkdir(parents=True)
    (data_dir / "orange_nb" / "tokens").symlink_to(real)
    store = FileStore(KEY)
    with pytest.warns(TokenStoreWarning):
        store.save(token)
    assert list(real.iterdir()) == []
    loaded, _ = load_warned(store)
    assert loaded is None


def test_a_fifo_does_not_block_loading(store: FileStore) -> None:
    store.directory.mkdir(parents=True, mode=0o700)
    os.mkfifo(store.path, 0o600)
    loaded, message = load_warned(store)
    assert loaded is None and "not a regular file" in message


@pytest.mark.parametrize("key", ["../escape", "a/b", "", "x" * 129, "key.json"])
def test_keys_cannot_leave_the_directory(data_dir: Path, key: str) -> None:
    with pytest.raises(ValueError):
        FileStore(key)


def test_repr_names_the_place_not_the_content(store: FileStore, token: Token) -> None:
    store.save(token)
    assert "sbx_" not in repr(store) and KEY in repr(store)


WRITER = """
import sys, time
from orange_nb.stores.file import FileStore
from orange_nb.oauth.token import Token
name, seconds = sys.argv[1], float(sys.argv[2])
store = FileStore(sys.argv[3])
small = Token(access_token="sbx_at_" + name + "-small", refresh_token="sbx_rt_s", expires_at=1e10)
big = Token(access_token="sbx_at_" + name + "-big", refresh_token="sbx_rt_b", expires_at=1e10,
            id_claims={"pad": "x" * 200_000})
print("ready", flush=True)
end = time.monotonic() + seconds
n = 0
while time.monotonic() < end:
    store.save(big if n % 2 else small)
    n += 1
print(n, flush=True)
"""


def test_concurrent_writers_never_show_a_partial_file(
    store: FileStore, token: Token, data_dir: Path
) -> None:
    store.save(token)
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, name, "1.5", KEY],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "JUPYTER_DATA_DIR": str(data_dir)},
        )
        for name in ("one", "two")
    ]
    seen: set[str] = set()
    try:
        for writer in writers:
            assert writer.stdout is not None and writer.stdout.readline() == "ready\n"
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            deadline = time.monotonic() + 1.2
            while time.monotonic() < deadline:
                loaded = store.load()
                assert loaded is not None  # replaced, never missing nor half-written
                seen.add(loaded.access_token)
                if loaded.access_token.reveal().endswith("-big"):
                    assert loaded.id_claims == {"pad": "x" * 200_000}
        saves = [int(writer.communicate(timeout=20)[0]) for writer in writers]
    finally:
        for writer in writers:
            writer.kill()
            writer.communicate()
    assert [w.returncode for w in writers] == [0, 0]
    assert not [w for w in caught if issubclass(w.category, TokenStoreWarning)]
    assert min(saves) > 10
    assert len(seen - {token.access_token}) >= 2  # the reader really raced the writers
    assert [p.name for p in store.directory.iterdir()] == [store.path.name]
    assert json.loads(store.path.read_text())["access_token"].startswith("sbx_at_")
