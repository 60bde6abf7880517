"""What Binder builds from ``binder/``, rebuilt here as far as one machine can.

Binder copies the repository, runs ``pip install -r binder/requirements.txt`` from its root,
then ``binder/postBuild``, and serves Jupyter under ``/user/<name>/`` behind an https proxy.
This test does the same in a fresh virtual environment (from the machine's package index)
and checks that the server extension is enabled by the install alone and that the mounted
sandbox answers under the prefix, with https URLs when the proxy says https.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[3]
# What the build needs of the repository (a copy: building must not write into the tree).
SHIPPED = ["pyproject.toml", "README.md", "orange_nb", "jupyter-config", "binder", "notebooks"]
BASE = "/user/x/"
TOKEN = "binder-test"
DISCOVERY = "orange/sandbox/openidconnect/fr/v1/.well-known/openid-configuration"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _environ(home: Path, venv: Path) -> dict[str, str]:
    # A user with an empty home, as on Binder; the package index settings stay.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("JUPYTER", "JPY_", "IPYTHON", "ORANGE_", "VIRTUAL_ENV"))
    }
    env.update(HOME=str(home), PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}")
    return env


@pytest.fixture(scope="module")
def binder_env(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    """The repository copy, its fresh venv built from ``binder/``, and the user's environment."""
    tmp = tmp_path_factory.mktemp("binder")
    repo, venv, home = tmp / "repo", tmp / "venv", tmp / "home"
    home.mkdir()
    for name in SHIPPED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            repo.mkdir(exist_ok=True)
            shutil.copy2(source, repo / name)
    env = _environ(home, venv)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True, env=env)
    # This venv's pip installs into the new one (--python): no pip to install there first.
    pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python")]
    subprocess.run(
        [*pip, "install", "--quiet", "--no-compile", "-r", "binder/requirements.txt"],
        check=True,
        cwd=repo,
        env=env,
        timeout=240,
    )
    subprocess.run(["bash", "binder/postBuild"], check=True, cwd=repo, env=env, timeout=60)
    return repo, venv, env


def test_the_install_alone_enables_the_server_extension(
    binder_env: tuple[Path, Path, dict[str, str]],
) -> None:
    repo, venv, env = binder_env
    listed = subprocess.run(
        [venv / "bin" / "jupyter", "server", "extension", "list"],
        capture_output=True,
        text=True,
        cwd=repo,
        env=env,
        check=True,
    )
    text = ANSI.sub("", listed.stdout + listed.stderr)
    assert re.search(r"orange_nb enabled", text), text
    assert re.search(r"orange_nb \S+ OK", text), text


@contextlib.contextmanager
def _server(repo: Path, venv: Path, env: dict[str, str]) -> Iterator[str]:
    runtime = repo.parent / "runtime"
    env = {**env, "JUPYTER_RUNTIME_DIR": str(runtime)}
    log = (repo.parent / "server.log").open("wb")
    process = subprocess.Popen(  # nothing but the venv's own jupyter and fixed arguments
        [
            venv / "bin" / "jupyter",
            "server",
            "--no-browser",
            "--allow-root",  # test machines may run as root; Binder's user is not
            "--ServerApp.ip=127.0.0.1",
            # Binder's server listens on 0.0.0.0, which makes Jupyter accept any Host header
            # (its proxy's); on loopback here, the same switch is set by hand.
            "--ServerApp.allow_remote_access=True",
            "--ServerApp.port=0",
            f"--ServerApp.base_url={BASE}",
            f"--IdentityProvider.token={TOKEN}",
        ],
        cwd=repo,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        info = runtime / f"jpserver-{process.pid}.json"
        deadline = time.monotonic() + 60
        while not info.exists() or not info.read_text().strip().endswith("}"):
            assert process.poll() is None, (repo.parent / "server.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the server did not start within 60 s"
            time.sleep(0.2)
        yield f"http://127.0.0.1:{json.loads(info.read_text())['port']}{BASE}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def test_the_sandbox_answers_under_the_binder_prefix(
    binder_env: tuple[Path, Path, dict[str, str]],
) -> None:
    repo, venv, env = binder_env
    with _server(repo, venv, env) as url, httpx.Client(trust_env=False, timeout=10) as http:
        for _ in range(100):  # the runtime file comes just before the port answers
            with contextlib.suppress(httpx.ConnectError):
                direct = http.get(url + DISCOVERY)
                break
            time.sleep(0.1)
        assert direct.status_code == 200
        oidc = f"{url}orange/sandbox/openidconnect/fr/v1"
        assert direct.json()["authorization_endpoint"] == f"{oidc}/authorize"
        assert direct.json()["token_endpoint"] == f"{oidc}/token"

        # Behind Binder's proxy: the browser's host and https, trusted thanks to postBuild.
        proxied = http.get(
            url + DISCOVERY,
            headers={"Host": "hub.example.org", "X-Forwarded-Proto": "https"},
        )
        assert proxied.json()["authorization_endpoint"] == (
            f"https://hub.example.org{BASE}orange/sandbox/openidconnect/fr/v1/authorize"
        )

        lab = http.get(f"{url}lab", headers={"Authorization": f"token {TOKEN}"})
        assert lab.status_code == 200 and "JupyterLab" in lab.text
