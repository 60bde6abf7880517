"""What every figure shares: result rows, interleaved timing, and the servers it runs against.

Servers always run in their own processes (the benchmarks' JSON server, a Jupyter server
with orange_nb's extension), so their CPU and GIL stay out of the measured client.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import secrets
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


@dataclass
class Row:
    """One line of the table: a figure's candidate against its baseline, and its target.

    Times are in seconds. ``ratio`` is candidate / baseline (a paired median where the
    figure interleaves); ``above_ms`` is candidate - baseline in milliseconds where the
    target is stated that way. ``met`` is ``None`` when a row only reports.
    """

    name: str
    title: str
    baseline: float | None
    candidate: float | None
    ratio: float | None
    target: str
    met: bool | None
    above_ms: float | None = None
    note: str = ""
    data: dict[str, Any] = field(default_factory=dict)


def median(values: Sequence[float]) -> float:
    """The median (raises on an empty sequence)."""
    return float(statistics.median(values))


def paired_ratio(baseline: Sequence[float], candidate: Sequence[float]) -> float:
    """Median of per-round candidate / baseline: drift in machine load hits both sides alike."""
    return median([c / b for b, c in zip(baseline, candidate, strict=True)])


@dataclass
class Samples:
    """Per-run wall times and this process's CPU times (all threads), in seconds."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)


def alternate(rounds: int, *runs: Callable[[], object]) -> list[Samples]:
    """Run each ``run`` once per round, in forward then reverse order (ABBA…), ``rounds`` times.

    Each run is timed alone, wall clock and process CPU. Garbage is collected before each
    run so a collection started by one side does not land on the other.
    """
    samples = [Samples() for _ in runs]
    for index in range(rounds):
        order = range(len(runs)) if index % 2 == 0 else reversed(range(len(runs)))
        for which in order:
            gc.collect()
            start, start_cpu = time.perf_counter(), time.process_time()
            runs[which]()
            samples[which].cpu.append(time.process_time() - start_cpu)
            samples[which].wall.append(time.perf_counter() - start)
    return samples


def cpu_note(base: Samples, cand: Samples) -> str:
    """The client's CPU time, baseline → candidate: steadier than wall time on a busy machine."""
    b, c = median(base.cpu), median(cand.cpu)
    return (
        f"client CPU {b * 1000:.3g} → {c * 1000:.3g} ms (×{paired_ratio(base.cpu, cand.cpu):.3f})"
    )


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` percentile (0-100), nearest rank."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def machine() -> dict[str, Any]:
    """Where the figures were measured."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": model or platform.processor(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` in MB (``VmRSS`` from ``/proc``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without orange_nb's or Jupyter's variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ORANGE_", "JUPYTER_", "JPY_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def _stop(process: subprocess.Popen[Any], timeout: float = 10) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class JsonServer:
    """``benchmarks.jsonserver`` in a child process on 127.0.0.1."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [PYTHON, "-m", "benchmarks.jsonserver"],
            cwd=REPO,
            env=clean_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], 30)
        line = self.process.stdout.readline().decode() if ready else ""
        if not line.startswith("PORT "):
            _stop(self.process)
            raise RuntimeError("the benchmark JSON server did not start")
        self.url = f"http://127.0.0.1:{int(line.split()[1])}"
        self._control = httpx.Client(base_url=self.url, trust_env=False, timeout=30)

    def stats(self) -> dict[str, int]:
        """Requests served so far, by path."""
        counts: dict[str, int] = self._control.get("/_stats").json()
        return counts

    def reset(self) -> None:
        """Counters to zero."""
        self._control.post("/_reset")

    def configure(self, *, token_delay_ms: int) -> None:
        """How long the token endpoint takes to answer."""
        self._control.post("/_config", params={"token_delay": token_delay_ms})

    def close(self) -> None:
        """Stop the server process."""
        self._control.close()
        if self.process.stdin is not None:
            self.process.stdin.close()
        _stop(self.process)


# Only orange_nb: other installed extensions would slow the start and add their own routes.
_SERVER_CONFIG = {
    "ServerApp": {
        "jpserver_extensions": {
            "orange_nb": True,
            "jupyterlab": False,
            "jupyter_lsp": False,
            "notebook_shim": False,
            "jupyter_server_terminals": False,
        }
    }
}


class JupyterServer:
    """A real Jupyter server with orange_nb's extension, in a child process.

    ``benchmarks.jupyterlaunch`` starts it and writes the kernel key the extension made
    (a kernel would inherit it); the port comes from the server's runtime file.
    """

    def __init__(self, tmp: Path, *, auto_consent: str = "alice") -> None:
        self.dir = tmp / f"jupyter-{secrets.token_hex(4)}"
        for sub in ("root", "config", "runtime"):
            (self.dir / sub).mkdir(parents=True)
        (self.dir / "config" / "jupyter_server_config.json").write_text(json.dumps(_SERVER_CONFIG))
        self.token = secrets.token_hex(16)
        key_file = self.dir / "key.json"
        env = clean_env(
            JUPYTER_RUNTIME_DIR=str(self.dir / "runtime"),
            JUPYTER_CONFIG_DIR=str(self.dir / "config"),
            JUPYTER_CONFIG_PATH=str(self.dir / "config"),
            JUPYTER_DATA_DIR=str(self.dir / "data"),
            ORANGE_SANDBOX_AUTO_CONSENT=auto_consent,
        )
        command = [
            PYTHON,
            "-m",
            "benchmarks.jupyterlaunch",
            str(key_file),
            "--no-browser",
            "--allow-root",
            "--ip=127.0.0.1",
            "--port=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.dir / 'root'}",
        ]
        self.log_path = self.dir / "server.log"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=REPO,
                env=env,
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            self.url, self.key = self._wait_until_ready(key_file)
        except BaseException:
            _stop(self.process)
            raise

    def _wait_until_ready(self, key_file: Path) -> tuple[str, str]:
        info = self.dir / "runtime" / f"jpserver-{self.process.pid}.json"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("the Jupyter server exited:\n" + self.log()[-2000:])
            if info.exists() and key_file.exists():
                try:
                    port = int(json.loads(info.read_text())["port"])
                    key = str(json.loads(key_file.read_text())["key"])
                except (ValueError, KeyError):
                    port, key = 0, ""  # written but not flushed yet
                if port:
                    url = f"http://127.0.0.1:{port}/"
                    try:
                        with self.http() as http:
                            if http.get(url + "api/status").status_code == 200:
                                return url, key
                    except httpx.TransportError:
                        pass
            time.sleep(0.1)
        raise RuntimeError("the Jupyter server did not answer within 90 s:\n" + self.log()[-2000:])

    def http(self, **kwargs: Any) -> httpx.Client:
        """A client signed in to Jupyter with the server's token (as a browser would be)."""
        return httpx.Client(
            headers={"Authorization": f"token {self.token}"}, timeout=30, trust_env=False, **kwargs
        )

    def log(self) -> str:
        """The server's output so far."""
        return self.log_path.read_text(errors="replace")

    def close(self) -> None:
        """Stop the server process."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        _stop(self.process)


class Bench:
    """One run's settings and lazily started servers; ``close`` stops what was started."""

    def __init__(self, *, quick: bool = False) -> None:
        self.quick = quick
        self.tmp = Path(tempfile.mkdtemp(prefix="orange-nb-bench-"))
        self._json: JsonServer | None = None
        self._jupyter: JupyterServer | None = None

    def json_server(self) -> JsonServer:
        """The benchmarks' JSON server (started on first use)."""
        if self._json is None:
            self._json = JsonServer()
        return self._json

    def jupyter(self) -> JupyterServer:
        """A Jupyter server with orange_nb (started on first use)."""
        if self._jupyter is None:
            self._jupyter = JupyterServer(self.tmp)
        return self._jupyter

    def close(self) -> None:
        """Stop the servers and remove the temporary directory."""
        for server in (self._json, self._jupyter):
            if server is not None:
                server.close()
        self._json = self._jupyter = None
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> Bench:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def to_json(rows: Sequence[Row], **meta: Any) -> str:
    """The rows and the machine as JSON text."""
    return json.dumps({**meta, "machine": machine(), "rows": [asdict(r) for r in rows]}, indent=2)


def _ms(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    ms = seconds * 1000
    return f"{ms:.3g} ms" if ms < 100 else f"{ms:,.0f} ms"


def table(rows: Sequence[Row]) -> str:
    """The rows as a fixed-width text table."""
    header = ("figure", "baseline", "candidate", "ratio", "above", "target", "met")
    lines = [header]
    for row in rows:
        lines.append(
            (
                row.title,
                _ms(row.baseline),
                _ms(row.candidate),
                "—" if row.ratio is None else f"{row.ratio:.3f}",
                "—" if row.above_ms is None else f"{row.above_ms:+.1f} ms",
                row.target,
                {True: "yes", False: "NO", None: "—"}[row.met],
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)) for line in lines]
    out.insert(1, "  ".join("-" * w for w in widths))
    notes = [f"- {row.title}: {row.note}" for row in rows if row.note]
    return "\n".join(out + (["", *notes] if notes else []))
