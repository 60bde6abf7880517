"""Which session ``%orange`` uses is never a surprise: ``%orange status`` names it and the
redirect URI it will send, a new current session is announced, ``%orange use`` switches."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from IPython.core.interactiveshell import InteractiveShell

from orange_nb import Orange, current
from orange_nb.errors import UsageError
from orange_nb.handoff import ServerHandoff, choose
from orange_nb.handoff.redirect import redirect_rule
from orange_nb.sandbox import SandboxServer
from orange_nb.session import orange as sessions

SERVER = {"ORANGE_NB_SERVER_URL": "http://127.0.0.1:8888/user/alice/", "ORANGE_NB_SERVER_KEY": "k"}


@pytest.fixture
def fresh_kernel(
    sandbox: SandboxServer, shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """A kernel with no session yet, whose `Orange.sandbox()` is this test's sandbox."""
    sandbox.sandbox.configure(auto_consent="demo")
    monkeypatch.setattr(sessions, "_current", None)
    monkeypatch.setattr(sessions, "sandbox_root", lambda: (sandbox.url, False))
    for name in ("ORANGE_CLIENT_ID", "ORANGE_REDIRECT_URI", *SERVER):
        monkeypatch.delenv(name, raising=False)
    shell.user_ns.pop("o", None)
    yield
    shell.user_ns.pop("o", None)


def cell(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str], source: str
) -> tuple[int, str, str]:
    """Run one numbered cell (as a front end does); its number, stdout and stderr."""
    capsys.readouterr()
    result = shell.run_cell(source, store_history=True)
    assert result.success or isinstance(result.error_in_exec, UsageError), result.error_in_exec
    out, err = capsys.readouterr()
    return result.execution_count, out, err


def test_a_new_orange_after_a_sandbox_sign_in_is_announced_and_undone(
    fresh_kernel: None, shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    # The case: sign in to the sandbox, then `o = Orange()`.
    _, out, _ = cell(shell, capsys, "%orange login --sandbox --wait --timeout 20")
    signed_in = current()
    _, out, _ = cell(shell, capsys, "%orange status")
    assert out.startswith("Signed in as Demo User")
    made_in, _, err = cell(shell, capsys, "from orange_nb import Orange\no = Orange()")
    assert err == ""  # Orange() itself prints nothing
    _, out, err = cell(shell, capsys, "%orange status")
    assert err.startswith("Note: %orange now uses o = <Orange france")
    assert f"created in cell {made_in}" in err and "signed in as Demo User" in err
    assert "`%orange use -` goes back" in err
    rows = out.splitlines()
    assert rows[0] == "Not signed in"
    assert any(r.split() == ["preset", "france"] for r in rows)
    assert any(r.strip().startswith("client id") and "not set" in r for r in rows)
    _, out, err = cell(shell, capsys, "%orange status")
    assert err == ""  # announced once
    _, out, _ = cell(shell, capsys, "%orange use -")
    assert current() is signed_in and out.startswith("%orange now uses <Orange sandbox")
    _, out, err = cell(shell, capsys, "%orange status")
    assert err == "" and out.startswith("Signed in as Demo User")
    _, out, _ = cell(shell, capsys, "%orange use o")
    assert current() is shell.user_ns["o"] and out.startswith("%orange now uses o = <Orange france")
    _, out, _ = cell(shell, capsys, "%orange use nothing_here")
    assert "holds no Orange session" in out and current() is shell.user_ns["o"]


def test_status_names_the_session_and_the_loopback_redirect_uri(
    fresh_kernel: None,
    shell: InteractiveShell,
    capsys: pytest.CaptureFixture[str],
    sandbox: SandboxServer,
) -> None:
    cell(shell, capsys, "%orange login --sandbox --wait --timeout 20")
    _, out, _ = cell(shell, capsys, "%orange status")
    rows = {r.strip().split("  ")[0]: r.strip() for r in out.splitlines()[1:]}
    assert rows["preset"].split() == ["preset", "sandbox"]
    assert sandbox.url in rows["API"]
    assert rows["client id"].endswith("orange-nb-sandbox")
    assert rows["signed in as"].endswith("Demo User")
    assert "expires in 59:" in rows["token"] and "refreshable" in rows["token"]
    assert "http://127.0.0.1:PORT/callback (loopback handoff)" in rows["redirect URI"]
    assert "sbx_at_" not in out and "sbx_rt_" not in out


@pytest.mark.parametrize(
    ("redirect_uri", "env", "shown", "exact"),
    [
        (
            "http://localhost:8765/callback",
            {},
            "http://localhost:8765/callback (loopback handoff)",
            True,
        ),
        ("https://example.org/landed", {}, "https://example.org/landed (paste handoff)", True),
        (None, SERVER, "{origin}/user/alice/orange/callback (server handoff)", False),
        (
            "https://hub.example/user/alice/orange/callback",
            SERVER,
            "https://hub.example/user/alice/orange/callback (server handoff)",
            True,
        ),
    ],
)
def test_status_shows_the_redirect_uri_this_kernel_will_send(
    fresh_kernel: None,
    shell: InteractiveShell,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    redirect_uri: str | None,
    env: dict[str, str],
    shown: str,
    exact: bool,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    shell.user_ns["o"] = Orange(client_id="my-app", redirect_uri=redirect_uri)
    _, out, _ = cell(shell, capsys, "%orange status")
    assert f"redirect URI  {shown}" in out
    rule = redirect_rule(redirect_uri, env=env)
    assert rule.exact is exact and shown.startswith(rule.uri)
    if env and not exact:
        assert "localhost:8888 and http://127.0.0.1:8888 are different" in out
        # The rule's URI for a browser's origin is one the server handoff owns: choose()
        # picks the server handoff for it, so the rule and the choice never disagree.
        for origin in ("http://localhost:8888", "https://hub.example"):
            uri = rule.for_origin(origin)
            assert uri == f"{origin}/user/alice/orange/callback"
            assert isinstance(choose(uri, env=env), ServerHandoff)


def test_status_says_when_no_redirect_uri_can_work(
    fresh_kernel: None, shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    shell.user_ns["o"] = Orange(client_id="my-app")
    _, out, _ = cell(shell, capsys, "%orange status")
    assert "client id     my-app" in out
    assert "redirect URI  No redirect URI is configured" in out
