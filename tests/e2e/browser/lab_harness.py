"""A real JupyterLab with orange_nb's server extension, for the browser tests.

``running_lab(tmp, base_url)`` starts one in its own process with its own Jupyter and
IPython directories (nothing of the developer's leaks in, and the file token store lands in
the test's data directory), serving a copy of ``notebooks/``; it kills it by PID at the end,
kernels first. ``leaks(text)`` names the secrets found in a saved notebook or a page.
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parents[3]
NOTEBOOKS = REPO / "notebooks"
ARTIFACTS = REPO / "tests" / "artifacts"
START_TIMEOUT = 90.0
TOKEN = "orange-nb-browser-test"

# Lab settings for the test profile. Windowing off: every cell stays rendered, so outputs
# above the viewport can be read. No news popup. Widget state saved with the notebook, so
# the leak scan of the saved file covers what the widgets synced.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyter-widgets/jupyterlab-manager/plugin": {"saveState": True},
}

# Secrets and one-time values that must never reach a saved notebook or the page.
LEAK_PATTERNS = {
    "sandbox access token": re.compile(r"sbx_at_"),
    "sandbox refresh token": re.compile(r"sbx_rt_"),
    "sandbox authorization code": re.compile(r"sbx_code_"),
    "authorization code in a URL": re.compile(r"[?&]code=[A-Za-z0-9_.~-]{8,}"),
    "PKCE verifier": re.compile(r"code_verifier"),
    "client secret": re.compile(r"orange-nb-sandbox-secret"),
    # Once signed in, the sign-in link (it carries the login's state) must be gone too.
    "authorize URL": re.compile(r"code_challenge=|/orange/login/"),
}


def leaks(text: str) -> list[str]:
    """The names of the leak patterns found in ``text``."""
    return [name for name, pattern in LEAK_PATTERNS.items() if pattern.search(text)]


@dataclass
class Lab:
    """One running JupyterLab (or Notebook 7: ``app == "notebook"``)."""

    url: str  # http://127.0.0.1:PORT{base_url}
    base_url: str
    root: Path  # the directory it serves
    data_dir: Path  # its JUPYTER_DATA_DIR (the file token store lives below)
    process: subprocess.Popen[bytes]
    log: Path
    app: str = "lab"

    def http(self) -> httpx.Client:
        """A client for the server's REST API (token auth)."""
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"token {TOKEN}"}, trust_env=False
        )

    def page_url(self, notebook: str) -> str:
        """Where the browser opens ``notebook`` in JupyterLab (alone: the saved workspace is
        reset), or in Notebook 7's own page."""
        if self.app == "notebook":
            return f"{self.url}notebooks/{notebook}?token={TOKEN}"
        return f"{self.url}lab/tree/{notebook}?reset&token={TOKEN}"

    def log_tail(self, lines: int = 40) -> str:
        """The end of the server's log, for failure messages."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def kernel_of(self, notebook: str) -> str:
        """The id of the kernel of ``notebook``'s session."""
        with self.http() as http:
            for session in http.get("api/sessions").json():
                if session.get("path") == notebook:
                    return str(session["kernel"]["id"])
        raise AssertionError(f"no session for {notebook}")

    def sandbox_stats(self) -> dict[str, Any]:
        """Counters of the sandbox mounted in this server."""
        with self.http() as http:
            answer = http.get("orange/sandbox/_sandbox/stats")
        answer.raise_for_status()
        return answer.json()  # type: ignore[no-any-return]


def _clean_environ(tmp: Path) -> dict[str, str]:
    # Nothing of the developer's Jupyter, IPython or orange_nb set-up, and no headless
    # sign-in: these tests go through the sandbox's pages.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ORANGE_", "JUPYTER", "JPY_", "IPYTHON"))
    }
    env.pop("BROWSER", None)
    for name, sub in (
        ("JUPYTER_DATA_DIR", "data"),
        ("JUPYTER_RUNTIME_DIR", "runtime"),
        ("JUPYTER_CONFIG_DIR", "config"),
        ("IPYTHONDIR", "ipython"),
        ("JUPYTERLAB_SETTINGS_DIR", "lab-settings"),
        ("JUPYTERLAB_WORKSPACES_DIR", "lab-workspaces"),
        ("MPLCONFIGDIR", "matplotlib"),
    ):
        path = tmp / sub
        path.mkdir(parents=True, exist_ok=True)
        env[name] = str(path)
    return env


def _write_lab_settings(settings_dir: Path) -> None:
    for plugin, values in LAB_SETTINGS.items():
        path = settings_dir / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def _wait_until_up(process: subprocess.Popen[bytes], runtime: Path, log: Path, base: str) -> str:
    """The server's URL once ``/api/status`` answers; fails with its log if it dies."""
    info_file = runtime / f"jpserver-{process.pid}.json"
    deadline = time.monotonic() + START_TIMEOUT
    url = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"JupyterLab exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        if url is None and info_file.exists():
            with contextlib.suppress(ValueError):  # written but not complete yet
                port = json.loads(info_file.read_text())["port"]
                url = f"http://127.0.0.1:{port}{base}"
        if url is not None:
            with contextlib.suppress(httpx.HTTPError):
                status = httpx.get(
                    f"{url}api/status",
                    headers={"Authorization": f"token {TOKEN}"},
                    timeout=2,
                    trust_env=False,
                )
                if status.status_code == 200:
                    return url
        time.sleep(0.25)
    pytest.fail(f"JupyterLab did not answer within {START_TIMEOUT:g} s:\n{log.read_text()[-3000:]}")


def _stop(lab: Lab) -> None:
    # Kernels first (the server would too, but not if it has to be killed), then the server.
    with contextlib.suppress(httpx.HTTPError), lab.http() as http:
        for kernel in http.get("api/kernels", timeout=5).json():
            http.delete(f"api/kernels/{kernel['id']}", timeout=10)
    lab.process.terminate()
    try:
        lab.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        lab.process.kill()
        lab.process.wait(timeout=10)


@contextlib.contextmanager
def running_lab(tmp: Path, base_url: str, app: str = "lab") -> Iterator[Lab]:
    """A JupyterLab (``app="notebook"``: Notebook 7) on a free port under ``base_url``,
    serving a copy of ``notebooks/``."""
    env = _clean_environ(tmp)
    _write_lab_settings(Path(env["JUPYTERLAB_SETTINGS_DIR"]))
    root = tmp / "root"
    shutil.copytree(NOTEBOOKS, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    log = tmp / "jupyter.log"
    command = [
        sys.executable,
        "-m",
        "notebook" if app == "notebook" else "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        "--ServerApp.port=0",  # a free port, read back from the runtime file
        f"--ServerApp.token={TOKEN}",
        "--allow-root",
        "--JupyterNotebookApp.expose_app_in_browser=True"
        if app == "notebook"
        else "--LabApp.expose_app_in_browser=True",
        f"--ServerApp.root_dir={root}",
        f"--ServerApp.base_url={base_url}",
        # The editable install may predate the package's jupyter-config file: enable it here.
        "--ServerApp.jpserver_extensions={'orange_nb': True, 'jupyter_lsp': False}",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, cwd=tmp, stdout=out, stderr=subprocess.STDOUT)
    lab = Lab("", base_url, root, Path(env["JUPYTER_DATA_DIR"]), process, log, app)
    try:
        lab.url = _wait_until_up(process, Path(env["JUPYTER_RUNTIME_DIR"]), log, base_url)
        discovery = httpx.get(
            f"{lab.url}orange/sandbox/openidconnect/fr/v1/.well-known/openid-configuration",
            trust_env=False,
        )
        assert discovery.status_code == 200, (
            f"orange_nb's server extension is not loaded:\n{lab.log_tail()}"
        )
        yield lab
    finally:
        _stop(lab)
