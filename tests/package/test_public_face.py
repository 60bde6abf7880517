"""The package's public face: every error exported, nothing done to IPython at import time."""

from __future__ import annotations

import subprocess
import sys

import orange_nb
from orange_nb import errors


def test_every_error_is_exported_and_documented() -> None:
    classes = {
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, errors.OrangeNBError)
    }
    assert classes <= set(orange_nb.__all__)
    assert all(getattr(orange_nb, name) is getattr(errors, name) for name in classes)
    for name in classes:
        assert name in (errors.__doc__ or ""), f"{name} missing from the hierarchy drawing"


def test_all_is_pinned() -> None:
    assert sorted(orange_nb.__all__) == [
        "ConfigError",
        "ForeignPageError",
        "LoginCancelled",
        "LoginDenied",
        "LoginError",
        "LoginExpired",
        "LoginRequired",
        "NestingError",
        "NetworkError",
        "Orange",
        "OrangeAPIError",
        "OrangeNBError",
        "PrivateKeyError",
        "RecordsPathError",
        "SecretNotPicklable",
        "TokenSentElsewhere",
        "TokenStoreBusy",
        "UsageError",
        "current",
        "load_ipython_extension",
    ]
    for name in orange_nb.__all__:
        assert getattr(orange_nb, name) is not None


def test_importing_the_package_leaves_ipython_alone() -> None:
    code = (
        "from IPython.testing.globalipapp import start_ipython\n"
        "shell = start_ipython()\n"
        "import orange_nb\n"
        "print(shell.custom_exceptions == (), 'httpx' in __import__('sys').modules)\n"
        "orange_nb.Orange.sandbox()\n"
        "print(shell.custom_exceptions)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    ).stdout.split("\n")
    assert out[0] == "True False"  # import: no error display installed, httpx not loaded
    assert "OrangeNBError" in out[1]  # a session made in IPython installs it, explicitly


def test_a_session_from_the_session_package_shows_the_widget() -> None:
    from orange_nb.session import Orange

    assert Orange.class_traits()["login_ui"].default_value == "orange_nb.widget.show_login"
