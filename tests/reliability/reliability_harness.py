"""Real peers for the reliability and security suites, and the figures they print at the end.

- ``JupyterServer``: a Jupyter server *process* with orange_nb's extension (the shipped
  ``jupyter-config``), on 127.0.0.1, with its stdout and stderr captured to files (kernels
  it starts inherit them, so their stderr lands there too). Kernels are started through
  its REST API, so they inherit its environment exactly as in JupyterLab.
- ``Kernel``: one of its kernels, driven over its connection file; every iopub message of
  every cell is kept (what a front-end would see and save).
- ``Browser``: the person's browser, as httpx on the server's loopback address: the
  path-only login link, the sandbox's sign-in and consent forms (or its auto-consent),
  then the server's callback page.
- ``TALLY``: faults injected and survived, fuzz examples, leak scans, load figures;
  printed by ``summary`` from a ``pytest_terminal_summary`` hook.

Every process started here is stopped by its PID.
"""

from __future__ import annotations

import json
import os
import queue
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
from jupyter_client.blocking.client import BlockingKernelClient

REPO = Path(__file__).resolve().parents[2]
ZONES = "/sandbox/mobility/v1/zones"
OUTLIVES_SERVER = "python3-outlives-server"
ISSUER = "https://sandbox.orange-nb.invalid/openidconnect/fr/v1"

# Only orange_nb: other installed server extensions would slow every start.
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


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cell:
    """What one executed cell sent on iopub."""

    code: str
    messages: list[dict[str, Any]]
    status: str

    @property
    def stdout(self) -> str:
        return "".join(
            m["content"]["text"]
            for m in self.messages
            if m["msg_type"] == "stream" and m["content"]["name"] == "stdout"
        )

    @property
    def stderr(self) -> str:
        return "".join(
            m["content"]["text"]
            for m in self.messages
            if m["msg_type"] == "stream" and m["content"]["name"] == "stderr"
        )

    @property
    def error(self) -> dict[str, Any] | None:
        for m in self.messages:
            if m["msg_type"] == "error":
                return dict(m["content"])
        return None

    def json(self) -> Any:
        """The last stdout line, as JSON (cells here print one JSON line as their answer)."""
        lines = [line for line in self.stdout.splitlines() if line.strip()]
        assert lines, f"no output; error: {self.error}"
        return json.loads(lines[-1])


class Kernel:
    """A kernel of the server, driven through its connection file."""

    def __init__(self, kernel_id: str, connection_file: Path) -> None:
        self.id = kernel_id
        self.connection_file = connection_file
        self.client = BlockingKernelClient(connection_file=str(connection_file))
        self.client.load_connection_file()
        # No heartbeat: on a busy machine a slow first beat would call the kernel dead.
        self.client.start_channels(hb=False)
        self.cells: list[Cell] = []
        self.pid: int | None = None

    def ready(self, timeout: float = 90) -> None:
        self.client.wait_for_ready(timeout=timeout)
        self.pid = int(self.run("import os; print(os.getpid())", store_history=False).stdout)

    def run(
        self,
        code: str,
        timeout: float = 60,
        *,
        check: bool = True,
        silent: bool = False,
        store_history: bool = True,
    ) -> Cell:
        """Run ``code``; keep every iopub message. ``check``: a failing cell fails the test."""
        code = textwrap.dedent(code).strip("\n")
        messages: list[dict[str, Any]] = []
        reply = self.client.execute_interactive(
            code,
            silent=silent,
            store_history=store_history,
            output_hook=messages.append,
            timeout=timeout,
        )
        cell = Cell(code, messages, reply["content"]["status"])
        if not silent:
            self.cells.append(cell)
        if check and cell.status != "ok":
            error = cell.error or {}
            raise AssertionError(
                f"cell failed: {error.get('ename')}: {error.get('evalue')}\n{code}\n"
                + "\n".join(error.get("traceback", []))[-3000:]
            )
        return cell

    def close(self) -> None:
        self.client.stop_channels()


class IopubTap:
    """Every iopub message of a kernel, whatever cell (or thread) it belongs to.

    ``Kernel.run`` sees only its own cell's messages; widget updates sent from the login
    thread may name another parent. A second subscriber sees them all.
    """

    def __init__(self, connection_file: Path) -> None:
        self.client = BlockingKernelClient(connection_file=str(connection_file))
        self.client.load_connection_file()
        self.client.start_channels(shell=False, iopub=True, stdin=False, hb=False, control=False)
        self.messages: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()
        time.sleep(0.5)  # a new subscriber misses what is published before it is connected

    def _drain(self) -> None:
        while not self._stop.is_set():
            try:
                self.messages.append(self.client.get_iopub_msg(timeout=0.2))
            except queue.Empty:
                continue

    def close(self) -> None:
        time.sleep(0.3)  # what is in flight
        self._stop.set()
        self._thread.join(5)
        self.client.stop_channels()


@dataclass
class JupyterServer:
    """A Jupyter server process with orange_nb; see the module docstring."""

    tmp: Path
    base_url: str = "/"
    log_level: str = "INFO"
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    process: subprocess.Popen[bytes] | None = None
    kernels: list[Kernel] = field(default_factory=list)
    launches: int = 0
    # Kernels' unix sockets live here: a socket path must stay under 108 bytes.
    runtime: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="onb-")))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.base_url}"

    @property
    def sandbox_root(self) -> str:
        return f"{self.url}orange/sandbox"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def http(self, **kwargs: Any) -> httpx.Client:
        """A client signed in to Jupyter (its token), as the person's browser is."""
        kwargs.setdefault("timeout", 30)
        return httpx.Client(
            headers={"Authorization": f"token {self.token}"}, trust_env=False, **kwargs
        )

    def launch(self) -> None:
        """Start the server (again, on the same port after a ``kill``)."""
        self.launches += 1
        root, config = self.tmp / "root", self.tmp / "config"
        root.mkdir(exist_ok=True)
        config.mkdir(exist_ok=True)
        (config / "jupyter_server_config.json").write_text(json.dumps(ONLY_ORANGE_NB))
        # A kernel that outlives its server (as remote or provisioned kernels do): ipykernel
        # otherwise exits as soon as the server process it was started by is gone.
        spec = self.tmp / "data" / "kernels" / OUTLIVES_SERVER
        spec.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        (spec / "kernel.json").write_text(
            json.dumps(
                {
                    "argv": [*argv, "--IPKernelApp.parent_handle=0"],
                    "display_name": "Python 3 (outlives its server)",
                    "language": "python",
                }
            )
        )
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("ORANGE_", "JUPYTER_", "IPYTHONDIR"))
        }
        env.update(
            JUPYTER_RUNTIME_DIR=str(self.runtime),
            JUPYTER_DATA_DIR=str(self.tmp / "data"),
            IPYTHONDIR=str(self.tmp / "ipython"),
            # The shipped jupyter-config enables orange_nb, as an installed wheel does.
            JUPYTER_CONFIG_PATH=os.pathsep.join([str(REPO / "jupyter-config"), str(config)]),
            PYTHONUNBUFFERED="1",
        )
        env.update(self.env)
        command = [
            sys.executable,
            "-m",
            "jupyter_server",
            "--no-browser",
            "--allow-root",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            "--port-retries=0",
            f"--log-level={self.log_level}",
            # Unix sockets between server and kernels: twenty kernels started at once over
            # TCP race for the free ports they pick (and ZMQ over TCP is unencrypted).
            "--KernelManager.transport=ipc",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.base_url={self.base_url}",
            f"--ServerApp.root_dir={root}",
        ]
        suffix = "" if self.launches == 1 else f".{self.launches}"
        with (
            (self.tmp / f"server.stdout{suffix}").open("wb") as out,
            (self.tmp / f"server.stderr{suffix}").open("wb") as err,
        ):
            self.process = subprocess.Popen(command, env=env, stdout=out, stderr=err)
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + 60
        info_file = self.runtime / f"jpserver-{self.process.pid}.json"
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.logs()[-3000:]
            if info_file.exists():
                self.port = int(json.loads(info_file.read_text())["port"])
                try:
                    with self.http(timeout=5) as http:
                        if http.get(self.url + "api/status").status_code == 200:
                            return
                except httpx.TransportError:
                    pass
            time.sleep(0.1)
        raise AssertionError("the Jupyter server did not answer within 60 s")

    def start_kernels(self, count: int, name: str = "python3") -> list[Kernel]:
        """Start ``count`` kernels at once through the REST API; wait until each answers."""

        def start(_: int) -> Kernel:
            with self.http() as http:
                reply = http.post(self.url + "api/kernels", json={"name": name})
            assert reply.status_code == 201, reply.text
            kernel_id = reply.json()["id"]
            kernel = Kernel(kernel_id, self.runtime / f"kernel-{kernel_id}.json")
            kernel.ready()
            return kernel

        started = in_threads(start, range(count))
        self.kernels.extend(started)
        return started

    def shutdown_kernel(self, kernel: Kernel) -> None:
        kernel.close()
        with self.http() as http:
            http.delete(self.url + f"api/kernels/{kernel.id}")
        self.kernels.remove(kernel)

    def sandbox(self, method: str, what: str, body: Any = None) -> Any:
        """Call the mounted sandbox's control API (``faults``, ``stats``, ``settings``…)."""
        with httpx.Client(trust_env=False, timeout=30) as http:
            reply = http.request(
                method,
                f"{self.sandbox_root}/_sandbox/{what}",
                headers={"Authorization": f"token {self.token}"},
                json=body if method != "GET" else None,
            )
        assert reply.status_code < 300, reply.text
        return reply.json()

    def rss_kib(self) -> int:
        """The server process's resident memory (VmRSS), in KiB."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        assert found
        return int(found.group(1))

    def open_fds(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def kill(self) -> None:
        """SIGKILL the server alone: its kernels live on, as after a crash."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=15)

    def stop(self) -> None:
        """Shut the kernels down (by the API, then by PID), then the server by its PID."""
        for kernel in self.kernels:
            kernel.close()
        if self.process is not None and self.process.poll() is None:
            try:
                with self.http(timeout=10) as http:
                    for kernel in http.get(self.url + "api/kernels").json():
                        http.delete(self.url + f"api/kernels/{kernel['id']}")
            except httpx.HTTPError:
                pass
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for kernel in self.kernels:  # orphans of a killed server
            if kernel.pid is not None:
                kill_pid(kernel.pid)
        self.kernels.clear()
        shutil.rmtree(self.runtime, ignore_errors=True)

    def logs(self) -> str:
        """Everything the server (and its kernels) wrote to stdout and stderr, all launches."""
        parts = sorted(self.tmp.glob("server.std*"))
        return "\n".join(p.read_text(errors="replace") for p in parts)


def kill_pid(pid: int) -> None:
    """Kill one process we started, if it is still there."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def in_threads(fn: Any, items: Any) -> list[Any]:
    from concurrent.futures import ThreadPoolExecutor

    items = list(items)
    with ThreadPoolExecutor(max_workers=max(1, len(items))) as pool:
        return list(pool.map(fn, items))


@dataclass
class Landing:
    """What the browser saw of one sign-in: the secrets on the way and the final page."""

    authorize_url: str
    callback_url: str
    page: httpx.Response

    @property
    def state(self) -> str:
        return parse_qs(urlsplit(self.authorize_url).query)["state"][0]

    @property
    def code(self) -> str | None:
        return parse_qs(urlsplit(self.callback_url).query).get("code", [None])[0]


_HIDDEN = re.compile(r'name="pending" value="([^"]*)"')
_USER = re.compile(r'id="username" name="username" value="([^"]*)"')


class Browser:
    """The person's browser, signed in to Jupyter, on the server's loopback address."""

    def __init__(self, server: JupyterServer) -> None:
        self.server = server

    def open_login(self, link: str) -> str:
        """Open the path-only sign-in link; the authorize URL it redirects to."""
        with self.server.http() as http:
            login = http.get(f"http://127.0.0.1:{self.server.port}{link}")
        assert login.status_code == 302, login.text[:300]
        return login.headers["Location"]

    def authorize(self, authorize_url: str, *, username: str | None = None) -> str:
        """Sign in and approve at the sandbox; the callback URL it sends the browser to.

        With ``username`` the sign-in form is filled with it, else with what the page
        pre-filled (the ``login_hint``); under auto-consent there is no page at all.
        """
        with httpx.Client(trust_env=False, timeout=30) as http:
            answer = http.get(authorize_url)
            if answer.status_code == 200:  # the sign-in page
                pending = unescape(_HIDDEN.search(answer.text).group(1))  # type: ignore[union-attr]
                user = username or unescape(_USER.search(answer.text).group(1))  # type: ignore[union-attr]
                form = {"pending": pending, "step": "sign-in", "username": user, "password": "x"}
                consent = http.post(authorize_url.split("?")[0], data=form)
                assert consent.status_code == 200, consent.text[:300]
                decision = {"pending": pending, "step": "consent", "decision": "approve"}
                answer = http.post(authorize_url.split("?")[0], data=decision)
            assert answer.status_code in (302, 303), answer.text[:300]
            return urljoin(authorize_url, answer.headers["Location"])

    def land(self, callback_url: str) -> httpx.Response:
        """Follow the sandbox's redirect to the server's callback."""
        with self.server.http() as http:
            return http.get(callback_url)

    def sign_in(self, link: str, *, username: str | None = None) -> Landing:
        authorize_url = self.open_login(link)
        callback_url = self.authorize(authorize_url, username=username)
        return Landing(authorize_url, callback_url, self.land(callback_url))


# --- the figures ---------------------------------------------------------------------


@dataclass
class Tally:
    """Counted outcomes of the run, printed at its end."""

    faults_injected: int = 0
    faults_survived: int = 0
    lost_results: int = 0
    fault_kinds: dict[str, int] = field(default_factory=dict)
    fuzz_examples: dict[str, int] = field(default_factory=dict)
    fuzz_findings: int = 0
    leak_places: int = 0
    leak_bytes: int = 0
    leak_needles: int = 0
    leak_hits: int = 0
    attacks_refused: int = 0
    load: dict[str, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    printed: bool = False

    def fault(self, kind: str, injected: int, survived: bool, lost: int = 0) -> None:
        """``injected`` scripted faults of ``kind``; ``survived`` when every one was."""
        with self.lock:
            self.faults_injected += injected
            self.faults_survived += injected if survived else 0
            self.lost_results += lost
            self.fault_kinds[kind] = self.fault_kinds.get(kind, 0) + injected

    def example(self, test: str) -> None:
        with self.lock:
            self.fuzz_examples[test] = self.fuzz_examples.get(test, 0) + 1

    def used(self) -> bool:
        return any(
            (
                self.faults_injected,
                self.fuzz_examples,
                self.attacks_refused,
                self.leak_places,
                self.load,
            )
        )

    def lines(self) -> Iterator[str]:
        if self.faults_injected:
            yield (
                f"faults: {self.faults_injected} scripted, {self.faults_survived} survived, "
                f"{self.lost_results} lost results"
            )
            kinds = ", ".join(f"{k} {n}" for k, n in sorted(self.fault_kinds.items()))
            yield f"  by kind: {kinds}"
        if self.fuzz_examples:
            total = sum(self.fuzz_examples.values())
            yield f"fuzz: {total} examples tried, {self.fuzz_findings} findings"
            for name, n in sorted(self.fuzz_examples.items()):
                yield f"  {name}: {n}"
        if self.attacks_refused:
            yield f"attacks: {self.attacks_refused} attempts refused"
        if self.leak_places:
            yield (
                f"leak scan: {self.leak_needles} secrets looked for in {self.leak_places} places "
                f"({self.leak_bytes} bytes), {self.leak_hits} hits"
            )
        if self.load:
            yield "load: " + ", ".join(f"{k} {v}" for k, v in self.load.items())

    def as_json(self) -> dict[str, Any]:
        return {
            "faults_injected": self.faults_injected,
            "faults_survived": self.faults_survived,
            "lost_results": self.lost_results,
            "fault_kinds": self.fault_kinds,
            "fuzz_examples": self.fuzz_examples,
            "fuzz_findings": self.fuzz_findings,
            "attacks_refused": self.attacks_refused,
            "leak": {
                "places": self.leak_places,
                "bytes": self.leak_bytes,
                "needles": self.leak_needles,
                "hits": self.leak_hits,
            },
            "load": self.load,
        }


TALLY = Tally()


def summary(terminalreporter: Any) -> None:
    """Print the tally once (both suites' conftests call this from their summary hook)."""
    if TALLY.printed or not TALLY.used():
        return
    TALLY.printed = True
    # A finding is a fuzz test that failed (its shrunk example is in the report above).
    failed = terminalreporter.stats.get("failed", [])
    TALLY.fuzz_findings = sum("test_fuzz_" in getattr(r, "nodeid", "") for r in failed)
    terminalreporter.write_sep("=", "orange_nb reliability and security figures")
    for line in TALLY.lines():
        terminalreporter.write_line(line)
    out = os.environ.get("ORANGE_RELIABILITY_REPORT")
    if out:  # for docs/reliability.md
        Path(out).write_text(json.dumps(TALLY.as_json(), indent=2) + "\n")


def scan(
    places: dict[str, str | bytes], needles: dict[str, str], *, count: bool = True
) -> list[str]:
    """Which needle (by name) appears in which place; counted into the tally unless told not.

    Returns ``"place: needle-name"`` strings, never the secret itself.
    """
    hits = []
    scanned = 0
    for place, text in places.items():
        data = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        scanned += len(data)
        for name, needle in needles.items():
            assert needle, name
            if needle in data:
                hits.append(f"{place}: {name}")
    if count:
        with TALLY.lock:
            TALLY.leak_places += len(places)
            TALLY.leak_bytes += scanned
            TALLY.leak_needles = max(TALLY.leak_needles, len(needles))
            TALLY.leak_hits += len(hits)
    return hits
