"""ServerHandoff when its Jupyter server is gone: a LoginError at once, never a hang."""

from __future__ import annotations

import socket
import time

import pytest

from orange_nb.errors import ConfigError, LoginError
from orange_nb.handoff import ServerHandoff
from orange_nb.oauth.flow import LoginFlow


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_refused_connection_is_a_login_error() -> None:
    handoff = ServerHandoff(f"http://127.0.0.1:{_closed_port()}/user/alice/", "secret-key")
    flow = LoginFlow("https://auth.example/authorize", "client", ("openid",))
    began = time.monotonic()
    with pytest.raises(
        LoginError, match=r"cannot reach its Jupyter server.*Run the login cell again"
    ) as info:
        handoff.start(flow)
    assert time.monotonic() - began < 5
    assert "secret-key" not in str(info.value) and flow.state not in str(info.value)
    handoff.close()


def test_wait_without_start_is_a_login_error() -> None:
    handoff = ServerHandoff("http://127.0.0.1:1/", "k")
    with pytest.raises(LoginError, match="not started here"):
        handoff.wait(LoginFlow("https://a.example/", "c", ()), 1)


def test_from_environ_needs_both_variables() -> None:
    assert ServerHandoff.from_environ({}) is None
    assert ServerHandoff.from_environ({"ORANGE_NB_SERVER_URL": "http://127.0.0.1:1/"}) is None
    handoff = ServerHandoff.from_environ(
        {"ORANGE_NB_SERVER_URL": "http://127.0.0.1:1/x", "ORANGE_NB_SERVER_KEY": "k"}
    )
    assert handoff is not None and handoff.server_url == "http://127.0.0.1:1/x/"
    assert "k" not in repr(handoff).replace("ServerHandoff", "")


def test_a_bad_server_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="ORANGE_NB_SERVER_URL"):
        ServerHandoff("unix:/tmp/sock", "k")
