"""``%orange keys new`` and ``%orange login --ciba``: a key pair, then a sign-in by phone, in a
real IPython shell against the sandbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell

from orange_nb import Orange
from orange_nb.errors import UsageError
from orange_nb.sandbox import SandboxServer
from orange_nb.session import orange as sessions


@pytest.fixture
def phone_kernel(
    sandbox: SandboxServer, shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    monkeypatch.setattr(sessions, "_current", None)
    sandbox.sandbox.configure(auto_consent="demo", ciba_interval=0.05)
    yield
    shell.user_ns.pop("phone", None)


def _run(shell: InteractiveShell, capsys: pytest.CaptureFixture[str], source: str) -> str:
    capsys.readouterr()
    result = shell.run_cell(source)
    assert result.success, result.error_in_exec
    return capsys.readouterr().out


def test_keys_then_sign_in_by_phone(
    phone_kernel: None,
    sandbox: SandboxServer,
    shell: InteractiveShell,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    out = _run(shell, capsys, f"%orange keys new --out {tmp_path} --alg ES256")
    head, _, printed = out.partition("\n")
    assert "Private key:" in head and "0600" not in head
    jwks = json.loads(printed)
    assert [key["kty"] for key in jwks["keys"]] == ["EC"] and "d" not in jwks["keys"][0]
    private = tmp_path / "orange-private-key.jwk"
    assert private.stat().st_mode & 0o777 == 0o600
    sandbox.sandbox.configure(jwks=jwks)
    shell.user_ns["phone"] = Orange.sandbox(
        root=sandbox.url,
        client_secret=None,
        token_auth_method="private_key_jwt",
        private_key=str(private),
        login_ui="",
    )
    out = _run(shell, capsys, "%orange login --ciba tel:+33612345678 --message 'Cell 3' --wait")
    lines = out.strip().splitlines()
    assert lines[0] == "Approve the sign-in on your phone +33 6 •• •• •• 78."
    assert lines[1].startswith("Signed in as Subscriber ••78 · scopes ")
    assert len(lines) == 2 and "612345" not in out
    assert shell.user_ns["phone"].status == "signed_in"


@pytest.mark.parametrize(
    "line", ["%orange keys", "%orange keys old", "%orange keys new extra", "%orange keys --out x"]
)
def test_keys_needs_new(shell: InteractiveShell, line: str) -> None:
    result = shell.run_cell(line)
    assert isinstance(result.error_in_exec, UsageError)
    assert "%orange keys new" in str(result.error_in_exec)
