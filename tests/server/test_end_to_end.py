"""A whole server handoff with real processes: a Jupyter server, kernels it starts, HTTP "browsers".

The server runs as its own process with the shipped ``jupyter-config`` directory (so the
extension is enabled the way an installed wheel enables it) and port 0 (so the port the
kernels learn is the one published after binding). Kernels are started through the
server's REST API, so they inherit its environment; the test talks to them through their
connection files with jupyter_client.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
from jupyter_client.blocking.client import BlockingKernelClient

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


# Only orange_nb: other installed extensions (lab, language servers) would slow every start.
ONLY_ORANGE_NB = {
    "ServerApp": {
        "jpserver_extensions": {
            "jupyterlab": False,
            "jupyter_lsp": False,
            "notebook_shim": False,
            "jupyter_server_terminals": False,
        }
    }
}


@dataclass
class JupyterServer:
    """A Jupyter server process with orange_nb, and the kernels the tests started in it."""

    base_url: str
    tmp: Path
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    kernels: list[BlockingKernelClient] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.base_url}"

    def http(self) -> httpx.Client:
        return httpx.Client(
            headers={"Authorization": f"token {self.token}"}, timeout=30, trust_env=False
        )

    def launch(self) -> None:
        (self.tmp / "root").mkdir()
        (self.tmp / "config").mkdir()
        (self.tmp / "config" / "jupyter_server_config.json").write_text(json.dumps(ONLY_ORANGE_NB))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ORANGE_NB_", "JUPYTER_"))}
        env.update(
            JUPYTER_RUNTIME_DIR=str(self.tmp / "runtime"),
            # The shipped jupyter-config enables orange_nb, as an installed wheel does.
            JUPYTER_CONFIG_PATH=os.pathsep.join(
                [str(REPO / "jupyter-config"), str(self.tmp / "config")]
            ),
            ORANGE_SANDBOX_AUTO_CONSENT="alice",  # the sandbox signs in at once, without pages
        )
        command = [
            sys.executable,
            "-m",
            "jupyter_server",
            "--no-browser",
            "--allow-root",
            "--ip=127.0.0.1",
            "--port=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.base_url={self.base_url}",
            f"--ServerApp.root_dir={self.tmp / 'root'}",
        ]
        with (self.tmp / "server.log").open("wb") as log:
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)

    def wait_until_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + 60
        info_file = self.tmp / "runtime" / f"jpserver-{self.process.pid}.json"
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log()[-3000:]
            if info_file.exists():
                self.port = int(json.loads(info_file.read_text())["port"])
                try:
                    if self.http().get(self.url + "api/status").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
            time.sleep(0.2)
        raise AssertionError("the Jupyter server did not answer within 60 s")

    def kernel(self, index: int) -> BlockingKernelClient:
        """The test kernel number ``index``, started through the server's REST API if new."""
        while len(self.kernels) <= index:
            with self.http() as http:
                reply = http.post(self.url + "api/kernels", json={"name": "python3"})
            assert reply.status_code == 201, reply.text
            connection_file = self.tmp / "runtime" / f"kernel-{reply.json()['id']}.json"
            client = BlockingKernelClient(connection_file=str(connection_file))
            client.load_connection_file()
            # No heartbeat: wait_for_ready would call a busy machine's slow first beat a dead kernel.
            client.start_channels(hb=False)
            client.wait_for_ready(timeout=60)
            self.kernels.append(client)
        return self.kernels[index]

    def stop(self) -> None:
        """Shut the kernels down through the API, then the server by its PID."""
        if self.process is None:
            return
        for client in self.kernels:
            client.stop_channels()
        if self.port and self.process.poll() is None:
            with self.http() as http:
                for kernel in http.get(self.url + "api/kernels").json():
                    http.delete(self.url + f"api/kernels/{kernel['id']}")
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log(self) -> str:
        return (self.tmp / "server.log").read_text(errors="replace")


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, JupyterServer]]:
    """Two servers, at the root and under a hub-like prefix, started side by side."""
    started = [
        JupyterServer(base, tmp_path_factory.mktemp("jupyter")) for base in ("/", "/user/alice/")
    ]
    try:
        for server in started:
            server.launch()
        for server in started:
            server.wait_until_ready()
        yield {server.base_url: server for server in started}
    finally:
        for server in started:
            server.stop()
    for server in started:
        assert "Traceback" not in server.log(), server.log()[-3000:]


@pytest.fixture(params=["/", "/user/alice/"], ids=["root", "prefixed"])
def jupyter_server(
    request: pytest.FixtureRequest, servers: dict[str, JupyterServer]
) -> JupyterServer:
    return servers[request.param]


def run(client: BlockingKernelClient, code: str, timeout: float = 60) -> str:
    """Run ``code`` in the kernel; its printed output (a failure shows the traceback)."""
    out: list[str] = []

    def hook(msg: dict[str, Any]) -> None:
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            out.append("\n".join(msg["content"]["traceback"]))

    reply = client.execute_interactive(textwrap.dedent(code), output_hook=hook, timeout=timeout)
    assert reply["content"]["status"] == "ok", "".join(out)
    return "".join(out)


BEGIN = """
    import os
    from orange_nb.handoff import choose
    from orange_nb.oauth.flow import LoginFlow
    root = os.environ["ORANGE_NB_SERVER_URL"] + "orange/sandbox/openidconnect/fr/v1/"
    flow = LoginFlow(root + "authorize", "orange-nb-sandbox", ("openid",),
                     issuer="https://sandbox.orange-nb.invalid/openidconnect/fr/v1")
    handoff = choose(None)
    print(os.environ["ORANGE_NB_SERVER_URL"], type(handoff).__name__, handoff.start(flow))
"""

FINISH = """
    import httpx
    callback = handoff.wait(flow, 60)
    reply = httpx.post(
        root + "token",
        data={"grant_type": "authorization_code", "code": flow.code_from(callback.params).reveal(),
              "redirect_uri": callback.redirect_uri, "code_verifier": flow.code_verifier.reveal()},
        auth=("orange-nb-sandbox", "orange-nb-sandbox-secret"), trust_env=False,
    )
    token = reply.json().get("access_token", "")
    print(reply.status_code, token[:7], len(token), callback.redirect_uri)
"""


def begin(server: JupyterServer, client: BlockingKernelClient) -> str:
    """Start a login in the kernel; returns its path-only login link."""
    server_url, handoff, link = run(client, BEGIN).split()
    assert server_url == server.url
    assert handoff == "ServerHandoff"
    assert link.startswith(f"{server.base_url}orange/login/")
    return link


def sign_in(server: JupyterServer, link: str) -> str:
    """Be the person's browser on http://localhost:PORT: login link, sandbox, callback page."""
    origin = f"http://localhost:{server.port}"
    with server.http() as http:

        def visit(url: str) -> httpx.Response:
            # Connect to 127.0.0.1 only, while the request names the host the browser uses.
            parts = urlsplit(url)
            assert parts.netloc == f"localhost:{server.port}", url  # never 127.0.0.1
            return http.get(
                f"http://127.0.0.1:{server.port}{parts.path}?{parts.query}",
                headers={"Host": parts.netloc},
            )

        login = visit(origin + link)
        assert login.status_code == 302
        authorize = login.headers["Location"]
        assert authorize.startswith(
            f"{origin}{server.base_url}orange/sandbox/openidconnect/fr/v1/authorize?"
        )
        redirect_uri = parse_qs(urlsplit(authorize).query)["redirect_uri"][0]
        assert redirect_uri == f"{origin}{server.base_url}orange/callback"
        consent = visit(authorize)
        assert consent.status_code in (302, 303), consent.text[:500]
        landing = urljoin(authorize, consent.headers["Location"])
        assert landing.startswith(redirect_uri + "?")
        page = visit(landing)
        assert page.status_code == 200, page.text[:500]
        assert "Your notebook is signed in" in page.text
        return redirect_uri


def test_a_kernel_signs_in_through_its_server(jupyter_server: JupyterServer) -> None:
    kernel = jupyter_server.kernel(0)
    link = begin(jupyter_server, kernel)
    with ThreadPoolExecutor(1) as pool:
        finishing = pool.submit(run, kernel, FINISH)
        time.sleep(0.5)  # the kernel is long-polling by now
        assert not finishing.done()
        redirect_uri = sign_in(jupyter_server, link)
        status, prefix, length, used = finishing.result(timeout=60).split()
    assert (status, prefix, used) == ("200", "sbx_at_", redirect_uri)
    assert int(length) > 20


def test_two_kernels_sign_in_at_once_without_crossing(servers: dict[str, JupyterServer]) -> None:
    jupyter_server = servers["/user/alice/"]
    kernels = [jupyter_server.kernel(0), jupyter_server.kernel(1)]
    links = [begin(jupyter_server, kernel) for kernel in kernels]
    assert links[0] != links[1]
    with ThreadPoolExecutor(2) as pool:
        finishing = [pool.submit(run, kernel, FINISH) for kernel in kernels]
        time.sleep(0.5)
        sign_in(jupyter_server, links[1])  # the second one first
        assert finishing[1].result(timeout=60).startswith("200 sbx_at_")
        assert not finishing[0].done()
        sign_in(jupyter_server, links[0])
        assert finishing[0].result(timeout=60).startswith("200 sbx_at_")
