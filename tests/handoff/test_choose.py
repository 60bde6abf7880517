"""`choose()`: the one rule for which handoff carries a login."""

from __future__ import annotations

import pytest

from orange_nb.errors import ConfigError
from orange_nb.handoff import LoopbackHandoff, PasteHandoff, ServerHandoff, choose

SERVER = {"ORANGE_NB_SERVER_URL": "http://127.0.0.1:8888/", "ORANGE_NB_SERVER_KEY": "k"}
HUB = {"ORANGE_NB_SERVER_URL": "http://127.0.0.1:41000/user/alice/", "ORANGE_NB_SERVER_KEY": "k"}
NONE: dict[str, str] = {}


@pytest.mark.parametrize(
    ("redirect_uri", "env", "expected"),
    [
        (None, SERVER, ServerHandoff),
        ("http://localhost:8888/orange/callback", SERVER, ServerHandoff),
        ("https://myhub.example/user/alice/orange/callback", HUB, ServerHandoff),
        ("https://myhub.example/user/bob/orange/callback", HUB, PasteHandoff),
        ("https://myhub.example/user/alice/orange/callback/", HUB, PasteHandoff),
        ("http://127.0.0.1:8765/callback", SERVER, LoopbackHandoff),
        ("http://127.0.0.1:8765/callback", NONE, LoopbackHandoff),
        ("http://localhost:0/cb", NONE, LoopbackHandoff),
        ("http://localhost/cb", NONE, PasteHandoff),  # no port: nothing to listen on
        ("https://127.0.0.1:8765/cb", NONE, PasteHandoff),  # https: a listener has no cert
        ("http://192.168.1.2:8765/cb", NONE, PasteHandoff),
        ("https://orange-nb.invalid/landed", NONE, PasteHandoff),
        ("https://orange-nb.invalid/landed", SERVER, PasteHandoff),
        (
            "https://orange-nb.invalid/landed",
            {"ORANGE_NB_SERVER_URL": "http://127.0.0.1:1/"},
            PasteHandoff,
        ),
    ],
)
def test_automatic_choice(redirect_uri: str | None, env: dict[str, str], expected: type) -> None:
    assert type(choose(redirect_uri, env=env)) is expected


def test_server_handoff_reads_the_given_environment() -> None:
    handoff = choose(None, env=HUB)
    assert isinstance(handoff, ServerHandoff)
    assert handoff.server_url == "http://127.0.0.1:41000/user/alice/"


def test_no_redirect_uri_and_no_server_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="ORANGE_REDIRECT_URI"):
        choose(None, env=NONE)


@pytest.mark.parametrize(
    ("forced", "redirect_uri", "env", "expected"),
    [
        ("server", "https://orange-nb.invalid/landed", SERVER, ServerHandoff),
        ("paste", "http://127.0.0.1:8765/cb", SERVER, PasteHandoff),
        ("paste", "https://orange-nb.invalid/landed", NONE, PasteHandoff),
        ("loopback", "http://127.0.0.1:8765/cb", SERVER, LoopbackHandoff),
    ],
)
def test_forced_choice_wins(
    forced: str, redirect_uri: str | None, env: dict[str, str], expected: type
) -> None:
    assert type(choose(redirect_uri, forced=forced, env=env)) is expected


@pytest.mark.parametrize(
    ("forced", "redirect_uri", "env", "message"),
    [
        ("server", None, NONE, "ORANGE_NB_SERVER_URL"),
        ("loopback", "https://orange-nb.invalid/landed", NONE, "http://127.0.0.1:PORT"),
        ("loopback", None, SERVER, "needs a redirect URI"),
        ("paste", None, NONE, "needs a redirect URI"),
        ("carrier-pigeon", None, SERVER, "use one of server, loopback, paste"),
    ],
)
def test_impossible_forced_choice_says_why(
    forced: str, redirect_uri: str | None, env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        choose(redirect_uri, forced=forced, env=env)


def test_loopback_gets_open_browser() -> None:
    handoff = choose("http://127.0.0.1:0/cb", env=NONE, open_browser=True)
    assert isinstance(handoff, LoopbackHandoff) and handoff.open_browser
