"""``python -m orange_nb.keys new``: a key pair on disk, the public JWK set on standard output."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import jwt
import pytest

from orange_nb.oauth.assertion import ClientAssertion, load_signing_key


def _new(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orange_nb.keys", "new", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256"])
def test_new_writes_a_private_key_for_its_owner_only_and_prints_the_public_set(
    tmp_path: Path, alg: str
) -> None:
    out = tmp_path / "keys"
    done = _new("--out", str(out), "--alg", alg)
    assert done.returncode == 0, done.stderr
    jwks = json.loads(done.stdout)  # standard output is the JSON alone
    (public,) = jwks["keys"]
    assert public["alg"] == alg and public["use"] == "sig" and public["kid"]
    assert "d" not in public and "p" not in public  # nothing private is printed
    private_file = out / "orange-private-key.jwk"
    assert stat.S_IMODE(private_file.stat().st_mode) == 0o600
    assert json.loads((out / "orange-public-jwks.json").read_text()) == jwks
    assert str(private_file) in done.stderr and "developer portal" in done.stderr
    # The key signs assertions that verify with the printed public key, and nothing else.
    key = load_signing_key(str(private_file))
    assert (key.alg, key.kid) == (alg, public["kid"])
    signed = ClientAssertion("app", key, audience="https://op").make("u").reveal()
    claims = jwt.decode(signed, jwt.PyJWK(public).key, algorithms=[alg], audience="https://op")
    assert claims["sub"] == "app"


def test_new_never_overwrites_a_key(tmp_path: Path) -> None:
    assert _new("--out", str(tmp_path)).returncode == 0
    before = (tmp_path / "orange-private-key.jwk").read_text()
    again = _new("--out", str(tmp_path))
    assert again.returncode == 1 and "not overwritten" in again.stderr and not again.stdout
    assert (tmp_path / "orange-private-key.jwk").read_text() == before
    assert "Traceback" not in again.stderr
