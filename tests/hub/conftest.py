"""A real JupyterHub on loopback with orange_nb's service, and the sandbox as Orange.

One hub per test module (``hub`` fixture): JupyterHub from PyPI, configurable-http-proxy
from npm (``make`` installs it into ``.ci/node``), ``DummyAuthenticator``,
``SimpleLocalProcessSpawner``, every port on 127.0.0.1. The orange service runs as the
hub's service ``orange``; the test starts its process (with the environment the hub gives a
service) so that it can restart it. The sandbox registers one application whose only
redirect URI is the service's callback, with a secret made for this run: a scan can then
look for it anywhere it must not be.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import websocket
from cryptography.fernet import Fernet

from orange_nb.sandbox import Sandbox, SandboxServer, serve_in_thread
from orange_nb.sandbox.clients import demo_client

ROOT = Path(__file__).resolve().parents[2]
NODE_BIN = ROOT / ".ci" / "node" / "node_modules" / ".bin"
CHP = NODE_BIN / "configurable-http-proxy"
BIN = Path(sys.executable).parent
PASSWORD = "hub-password"
APP_ID = "orange-hub-app"
SCOPES = "openid profile mobility:read"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
        except (httpx.HTTPError, OSError):
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def proc_environ(pid: int) -> bytes:
    return Path(f"/proc/{pid}/environ").read_bytes()


def pids_where(needle: bytes, *, in_cmdline: bytes) -> list[int]:
    """Processes whose command line holds ``in_cmdline`` and environment holds ``needle``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            if in_cmdline in cmdline and needle in proc_environ(int(entry.name)):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@dataclass
class Kernel:
    """A kernel of a user's server, driven over the server's websocket."""

    hub: Hub
    user: str
    id: str
    ws: Any = None
    session: str = field(default_factory=lambda: uuid.uuid4().hex)

    def connect(self) -> None:
        url = f"ws://127.0.0.1:{self.hub.port}/user/{self.user}/api/kernels/{self.id}/channels"
        self.ws = websocket.create_connection(
            url, header=[f"Authorization: token {self.hub.admin_token}"], timeout=120
        )

    def run(self, code: str, timeout: float = 90) -> str:
        """Run ``code``; its stdout (an error in the cell fails the test with its text)."""
        msg_id = uuid.uuid4().hex
        self.ws.send(
            json.dumps(
                {
                    "header": {
                        "msg_id": msg_id,
                        "username": self.user,
                        "session": self.session,
                        "msg_type": "execute_request",
                        "version": "5.3",
                        "date": "",
                    },
                    "parent_header": {},
                    "metadata": {},
                    "content": {
                        "code": code,
                        "silent": False,
                        "store_history": False,
                        "user_expressions": {},
                        "allow_stdin": False,
                        "stop_on_error": True,
                    },
                    "channel": "shell",
                    "buffers": [],
                }
            )
        )
        out: list[str] = []
        error = None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.ws.settimeout(max(deadline - time.monotonic(), 0.1))
            msg = json.loads(self.ws.recv())
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                out.append(content["text"])
            elif kind == "error":
                error = f"{content['ename']}: {content['evalue']}"
            elif kind == "status" and content["execution_state"] == "idle":
                if error:
                    raise AssertionError(f"kernel error: {error}\n{''.join(out)}")
                return "".join(out)
        raise AssertionError(f"kernel did not finish in {timeout} s: {''.join(out)}")

    @property
    def pid(self) -> int:
        pid = int(self.run("import os; print(os.getpid())"))
        assert b"ipykernel" in Path(f"/proc/{pid}/cmdline").read_bytes()
        return pid

    def close(self) -> None:
        if self.ws is not None:
            self.ws.close()
        self.hub.user_api(self.user, "DELETE", f"api/kernels/{self.id}")


class Hub:
    """The hub, its service and the sandbox, all on 127.0.0.1."""

    def __init__(self, tmp: Path) -> None:
        if not CHP.exists():
            pytest.fail(
                f"configurable-http-proxy is not installed at {CHP}: run `make test` (its "
                "stamp installs it from npm into .ci/node).",
                pytrace=False,
            )
        self.tmp = tmp
        self.port, self.api_port, self.proxy_port, self.service_port = (
            free_port() for _ in range(4)
        )
        self.url = f"http://127.0.0.1:{self.port}"
        self.callback = f"{self.url}/services/orange/callback"
        self.service_url = f"http://127.0.0.1:{self.service_port}/services/orange/"
        self.app_secret = "app-secret-" + secrets.token_urlsafe(24)
        self.admin_token = secrets.token_hex(32)
        self.service_token = secrets.token_hex(32)
        self.key = Fernet.generate_key().decode()
        self.db = tmp / "orange-hub.sqlite"
        # The sandbox as Orange: its demo client and our application accept only the callback.
        self.sandbox: Sandbox = Sandbox(demo=demo_client([self.callback]))
        self.sandbox.add_client(
            APP_ID, self.app_secret, redirect_uris=[self.callback], redirect_rules=()
        )
        self.sandbox.configure(rate_limit_per_second=None)
        self.sandbox_server: SandboxServer = serve_in_thread(sandbox=self.sandbox)
        self.hub_proc: subprocess.Popen[bytes] | None = None
        self.service_proc: subprocess.Popen[bytes] | None = None
        self.http = httpx.Client(timeout=60)
        self.kernels: list[Kernel] = []

    # --- start and stop ----------------------------------------------------------------
    def config(self) -> str:
        spawner_env = {
            "ORANGE_HUB_SERVICE_URL": self.service_url,
            "ORANGE_API_URL": self.sandbox_server.url,
        }
        services = [
            {
                "name": "orange",
                "url": f"http://127.0.0.1:{self.service_port}",
                "api_token": self.service_token,
                "oauth_client_id": "service-orange",
                "oauth_redirect_uri": "/services/orange/oauth_callback",
                "oauth_no_confirm": True,
            },
            {"name": "tester", "api_token": self.admin_token},
        ]
        roles = [
            {"name": "user", "scopes": ["self", "access:services!service=orange"]},
            {
                "name": "server",
                "scopes": [
                    "users:activity!user",
                    "access:servers!server",
                    "access:services!service=orange",
                ],
            },
            {
                "name": "tester",
                "scopes": ["admin:users", "admin:servers", "access:servers", "tokens"],
                "services": ["tester"],
            },
        ]
        args = ["--allow-root"] if os.getuid() == 0 else []
        return "\n".join(
            [
                f"c.JupyterHub.ip = '127.0.0.1'; c.JupyterHub.port = {self.port}",
                f"c.JupyterHub.hub_ip = '127.0.0.1'; c.JupyterHub.hub_port = {self.api_port}",
                f"c.ConfigurableHTTPProxy.api_url = 'http://127.0.0.1:{self.proxy_port}'",
                f"c.ConfigurableHTTPProxy.command = [{str(CHP)!r}]",
                f"c.JupyterHub.db_url = 'sqlite:///{self.tmp}/jupyterhub.sqlite'",
                f"c.JupyterHub.cookie_secret_file = '{self.tmp}/cookie_secret'",
                f"c.JupyterHub.pid_file = '{self.tmp}/jupyterhub.pid'",
                "c.JupyterHub.authenticator_class = 'dummy'",
                f"c.DummyAuthenticator.password = {PASSWORD!r}",
                "c.Authenticator.allow_all = True",
                "c.JupyterHub.spawner_class = 'simple'",
                f"c.Spawner.cmd = [{str(BIN / 'jupyterhub-singleuser')!r}]",
                f"c.Spawner.args = {args!r}",
                f"c.Spawner.environment = {spawner_env!r}",
                "c.Spawner.default_url = '/lab'",
                f"c.Spawner.notebook_dir = {str(self.tmp / 'home')!r}",
                f"c.JupyterHub.services = {services!r}",
                f"c.JupyterHub.load_roles = {roles!r}",
            ]
        )

    def start(self) -> None:
        (self.tmp / "home").mkdir()
        config = self.tmp / "jupyterhub_config.py"
        config.write_text(self.config())
        env = {**os.environ, "PATH": f"{NODE_BIN}:{BIN}:{os.environ['PATH']}"}
        env.pop("ORANGE_HUB_SERVICE_URL", None)
        self.hub_log = open(self.tmp / "hub.log", "wb")  # noqa: SIM115
        self.hub_proc = subprocess.Popen(
            [str(BIN / "jupyterhub"), "-f", str(config)],
            cwd=self.tmp,
            env=env,
            stdout=self.hub_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.start_service()
        wait_until(lambda: self.hub_api("GET", "").status_code == 200, 60, "the hub")
        wait_until(lambda: self.http.get(self.url + "/services/orange/").status_code, 30, "proxy")
        for user in ("alice", "bob"):
            self.hub_api("POST", f"users/{user}")

    def service_env(self) -> dict[str, str]:
        """What the hub gives a service, plus the service's own settings."""
        return {
            "PATH": os.environ["PATH"],
            "HOME": str(self.tmp),
            "JUPYTERHUB_API_TOKEN": self.service_token,
            "JUPYTERHUB_API_URL": f"http://127.0.0.1:{self.api_port}/hub/api",
            "JUPYTERHUB_BASE_URL": "/",
            "JUPYTERHUB_CLIENT_ID": "service-orange",
            "JUPYTERHUB_OAUTH_CALLBACK_URL": "/services/orange/oauth_callback",
            "JUPYTERHUB_OAUTH_ACCESS_SCOPES": json.dumps(["access:services!service=orange"]),
            "JUPYTERHUB_SERVICE_NAME": "orange",
            "JUPYTERHUB_SERVICE_PREFIX": "/services/orange/",
            "JUPYTERHUB_SERVICE_URL": f"http://127.0.0.1:{self.service_port}",
            "ORANGE_CLIENT_ID": APP_ID,
            "ORANGE_CLIENT_SECRET": self.app_secret,
            "ORANGE_PRESET": "sandbox",
            "ORANGE_SANDBOX_ROOT": self.sandbox_server.url,
            "ORANGE_SCOPES": SCOPES,
            "ORANGE_HUB_KEY": self.key,
            "ORANGE_HUB_DB": str(self.db),
            "ORANGE_HUB_REDIRECT_URI": self.callback,
            "ORANGE_HUB_PUBLIC_URL": self.url,
        }

    def start_service(self) -> None:
        self.service_log = open(self.tmp / "service.log", "ab")  # noqa: SIM115
        self.service_proc = subprocess.Popen(
            [sys.executable, "-m", "orange_nb.hub"],
            cwd=self.tmp,
            env=self.service_env(),
            stdout=self.service_log,
            stderr=subprocess.STDOUT,
        )
        wait_until(
            lambda: self.http.get(self.service_url + "api/token").status_code == 403,
            30,
            "the orange service",
        )

    def stop_service(self) -> None:
        if self.service_proc is not None:
            self.service_proc.terminate()
            self.service_proc.wait(10)
            self.service_proc = None

    def restart_service(self) -> None:
        self.stop_service()
        self.start_service()

    def stop(self) -> None:
        for kernel in self.kernels:
            try:
                kernel.ws.close()
            except Exception:
                pass
        self.stop_service()
        if self.hub_proc is not None:
            self.hub_proc.send_signal(signal.SIGTERM)
            try:
                self.hub_proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.hub_proc.pid, signal.SIGKILL)  # the group we started
                self.hub_proc.wait(10)
        self.sandbox_server.stop()
        self.http.close()

    # --- the hub's API and users' servers ------------------------------------------------
    def hub_api(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return self.http.request(
            method,
            f"http://127.0.0.1:{self.api_port}/hub/api/{path}",
            headers={"Authorization": f"token {self.admin_token}"},
            **kw,
        )

    def user_api(self, user: str, method: str, path: str, **kw: Any) -> httpx.Response:
        return self.http.request(
            method,
            f"{self.url}/user/{user}/{path}",
            headers={"Authorization": f"token {self.admin_token}"},
            **kw,
        )

    def start_server(self, user: str) -> None:
        self.hub_api("POST", f"users/{user}/server")
        wait_until(
            lambda: self.hub_api("GET", f"users/{user}").json()["servers"].get("", {}).get("ready"),
            90,
            f"{user}'s server",
        )

    def server_pid(self, user: str) -> int:
        (pid,) = pids_where(
            f"JUPYTERHUB_USER={user}\0".encode(), in_cmdline=b"jupyterhub-singleuser"
        )
        return pid

    def kernel(self, user: str) -> Kernel:
        response = self.user_api(user, "POST", "api/kernels", json={"name": "python3"})
        assert response.status_code == 201, response.text
        kernel = Kernel(self, user, response.json()["id"])
        kernel.connect()
        self.kernels.append(kernel)
        return kernel

    def user_token(self, user: str) -> str:
        """A token of ``user`` with the scopes of a server's token (like a kernel's)."""
        response = self.hub_api(
            "POST",
            f"users/{user}/tokens",
            json={"scopes": ["access:services!service=orange"], "expires_in": 3600},
        )
        assert response.status_code == 201, response.text
        return str(response.json()["token"])

    # --- a person in a browser ---------------------------------------------------------
    def sign_in(self, context: Any, user: str, orange_user: str) -> Any:
        """Through Chromium: the hub's login, then the service's sign-in at Orange."""
        page = context.new_page()
        page.goto(f"{self.url}/services/orange/login")
        page.wait_for_selector("#username_input")
        page.fill("#username_input", user)
        page.fill("#password_input", PASSWORD)
        page.click("#login_submit")
        self.sign_in_at_orange(page, orange_user)
        return page

    def sign_in_at_orange(self, page: Any, orange_user: str) -> None:
        page.wait_for_selector("button#sign-in", timeout=30000)
        page.fill("#username", orange_user)
        page.fill("#password", "anything")
        page.click("button#sign-in")
        page.wait_for_selector("button#approve")
        page.click("button#approve")
        page.wait_for_url(f"{self.callback}?*")
        assert "Signed in to Orange" in page.inner_text("body"), page.inner_text("body")


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """One hub (with service and sandbox) for the module."""
    hub = Hub(tmp_path_factory.mktemp("hub"))
    try:
        hub.start()
        yield hub
    finally:
        hub.stop()
