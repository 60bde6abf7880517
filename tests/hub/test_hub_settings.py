"""The hub service's settings and the kernel's choice of it, without a hub."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet

from orange_nb import ConfigError, Orange
from orange_nb.hub.__main__ import _bind_address
from orange_nb.hub.config import from_env
from orange_nb.hub.kernel import HubEndpoint, HubService
from orange_nb.hub.store import GrantStore
from orange_nb.oauth.secret import Secret
from orange_nb.oauth.token import Token

SERVICE = {
    "ORANGE_CLIENT_ID": "app",
    "ORANGE_CLIENT_SECRET": "app-secret-unit",
    "ORANGE_HUB_KEY": Fernet.generate_key().decode(),
}


def test_the_service_names_what_is_missing_in_one_paragraph_and_exits_2() -> None:
    with pytest.raises(ConfigError, match="ORANGE_CLIENT_SECRET, ORANGE_HUB_KEY"):
        from_env({"ORANGE_CLIENT_ID": "app"})
    env = {"PATH": os.environ["PATH"], "ORANGE_CLIENT_ID": "app", "ORANGE_CLIENT_SECRET": "s"}
    done = subprocess.run(
        [sys.executable, "-m", "orange_nb.hub"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.startswith("orange_nb hub: ") and "Traceback" not in done.stderr
    assert "--new-key" in done.stderr


def test_a_key_that_is_no_fernet_key_is_refused(tmp_path) -> None:
    with pytest.raises(ConfigError, match="not a Fernet key"):
        GrantStore(str(tmp_path / "db"), [Secret("not-a-key")])


def test_the_secret_never_shows_in_the_settings_repr() -> None:
    settings = from_env(SERVICE)
    assert "app-secret-unit" not in repr(settings) and SERVICE["ORANGE_HUB_KEY"] not in repr(
        settings
    )
    assert settings.prefix == "/services/orange/" and settings.scopes == ("openid",)


def test_rotated_keys_open_old_rows_and_seal_with_the_first(tmp_path) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    path = str(tmp_path / "db")
    GrantStore(path, [Secret(old)]).save("alice", Token("sbx_at_x", "sbx_rt_y", scopes=("openid",)))
    both = GrantStore(path, [Secret(new), Secret(old)])
    token = both.load("alice")
    assert token is not None and token.refresh_token is not None
    both.save("alice", token)
    assert GrantStore(path, [Secret(new)]).load("alice") is not None


def test_a_dns_name_binds_every_interface_an_address_binds_itself() -> None:
    assert _bind_address("127.0.0.1") == "127.0.0.1"
    assert _bind_address("localhost") == "localhost"
    assert _bind_address("hub") == ""


def test_kernels_use_the_service_only_without_a_secret_of_their_own(monkeypatch) -> None:
    monkeypatch.setenv("ORANGE_HUB_SERVICE_URL", "http://127.0.0.1:9/services/orange/")
    monkeypatch.delenv("ORANGE_CLIENT_SECRET", raising=False)
    monkeypatch.delenv("JUPYTERHUB_API_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="JUPYTERHUB_API_TOKEN is not"):
        Orange()
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "kernel-token")
    session = Orange()
    assert isinstance(session.wiring.hub, HubService)
    assert isinstance(session.wiring.token_endpoint(), HubEndpoint)
    assert "kernel-token" not in repr(session.wiring.hub)
    session.close()
    own = Orange(client_id="mine", client_secret="own-secret")
    assert own.wiring.hub is None
    own.close()
