"""Fixtures of the token store tests: a private Jupyter data directory and a token to store."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from orange_nb.oauth.token import Token


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``JUPYTER_DATA_DIR`` for this test (not created yet)."""
    path = tmp_path / "data"
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(path))
    return path


@pytest.fixture
def token() -> Token:
    """A token set like the sandbox's, with ID-token claims."""
    now = time.time()
    return Token(
        access_token="sbx_at_" + "A" * 43,
        refresh_token="sbx_rt_" + "B" * 43,
        expires_at=now + 3600,
        scopes=("openid", "profile"),
        issued_at=now,
        id_claims={"sub": "sbx-1", "name": "Demo User"},
    )
