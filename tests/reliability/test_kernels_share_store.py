"""Two real kernels on one file token store, with refresh-token rotation: neither signs the other out."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from queue import Empty
from typing import Any

import httpx
import pytest
from jupyter_client.manager import KernelManager

from orange_nb.sandbox import DEMO_CLIENT_SECRET, SandboxServer

ROUNDS = 20
SECRETS = ("sbx_at_", "sbx_rt_", "sbx_code_", DEMO_CLIENT_SECRET)

SETUP = """
import json, time
import httpx
from orange_nb import Orange
orange = Orange.sandbox(root={root!r}, open_browser=False, token_store="file")

def call():
    try:
        status = orange.request("GET", "/sandbox/echo/v1/ping").status_code
    except Exception as exc:
        status = type(exc).__name__ + ": " + str(exc)
    return [status, orange.status]
"""

SIGN_IN = """
flow = orange.begin_login()
httpx.get(flow.url, follow_redirects=True, timeout=10)
orange.wait_for_login(timeout=10)
"""


class Kernel:
    """A python3 kernel of this virtualenv; ``run`` executes a cell and returns its stdout."""

    def __init__(self, env: dict[str, str]) -> None:
        self.manager = KernelManager(kernel_name="python3")
        spec = self.manager.kernel_spec
        assert spec is not None
        spec.argv[0] = sys.executable
        self.manager.start_kernel(env=env)
        self.client = self.manager.client()
        self.client.start_channels()
        self.seen: list[dict[str, Any]] = []

    def submit(self, code: str) -> str:
        msg_id: str = self.client.execute(code)
        return msg_id

    def collect(self, msg_id: str, timeout: float = 60) -> str:
        """The stdout of cell ``msg_id``, once it finished without error."""
        out: list[str] = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                msg = self.client.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
            except Empty:
                pytest.fail(f"the kernel went quiet; stdout so far: {''.join(out)[-2000:]}")
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            self.seen.append(msg["content"])
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream" and content["name"] == "stdout":
                out.append(content["text"])
            if kind == "error":
                pytest.fail("\n".join(content["traceback"])[-3000:])
            if kind == "status" and content["execution_state"] == "idle":
                return "".join(out)

    def run(self, code: str, timeout: float = 60) -> str:
        return self.collect(self.submit(code), timeout)

    def stop(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


@pytest.fixture
def kernels(tmp_path: Path, sandbox: SandboxServer) -> Iterator[tuple[Kernel, Kernel]]:
    """Kernels A and B, one ``orange`` each on the same file store; A signed in, B restored."""
    sandbox.sandbox.configure(auto_consent="demo")  # rotate_refresh_tokens is on by default
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORANGE_")}
    env["JUPYTER_DATA_DIR"] = str(tmp_path / "data")
    started: list[Kernel] = []
    try:
        for _ in range(2):
            started.append(Kernel(env))
        for kernel in started:
            kernel.client.wait_for_ready(timeout=60)
        a, b = started
        setup = SETUP.format(root=sandbox.url)
        a.run(setup + SIGN_IN + "print(orange.status)\n")
        assert b.run(setup + "print(orange.status)\n") == "signed_in\n"  # no second sign-in
        yield a, b
        for kernel in started:
            assert not any(s in json.dumps(kernel.seen) for s in SECRETS)
    finally:
        for kernel in started:
            kernel.stop()


def control(sandbox: SandboxServer, path: str, body: dict[str, Any] | None = None) -> Any:
    response = httpx.post(f"{sandbox.url}/_sandbox/{path}", json=body or {}, timeout=10)
    assert response.is_success, response.text
    return response.json()


def stats(sandbox: SandboxServer) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{sandbox.url}/_sandbox/stats", timeout=10).json()
    return body


CALL = "print(json.dumps(call()))\n"
LOOP = """
results = []
for i in range({rounds}):
    {step}
    results.append(call())
    time.sleep({pause})
print(json.dumps(results))
"""


def _together(a: Any, b: Any, loop: str) -> None:
    """Run ``loop`` in both kernels at once; every round of each must be 200, signed in."""
    with ThreadPoolExecutor(2) as pool:
        ids = [kernel.submit(loop) for kernel in (a, b)]
        outs = list(
            pool.map(lambda pair: pair[0].collect(pair[1], 120), zip((a, b), ids, strict=True))
        )
    for out in outs:
        assert json.loads(out) == [[200, "signed_in"]] * ROUNDS


def test_two_kernels_refresh_in_turn_and_together_without_signing_out(
    kernels: tuple[Kernel, Kernel], sandbox: SandboxServer
) -> None:
    a, b = kernels
    # In turn: every access token expired, then each kernel refreshes from the newest token.
    for i in range(ROUNDS):
        assert control(sandbox, "expire-access-tokens")["expired"] >= 1
        for kernel in (a, b) if i % 2 == 0 else (b, a):
            assert json.loads(kernel.run(CALL)) == [200, "signed_in"], f"round {i}"
    assert stats(sandbox)["refreshes"] == 2 * ROUNDS

    # Together: both force a refresh on every step, at the same time.
    _together(a, b, LOOP.format(rounds=ROUNDS, step="orange.refresh()", pause=0))

    # Together again, with tokens that fall due every second: refreshes ahead of expiry.
    control(sandbox, "settings", {"access_token_lifetime": 2})
    control(sandbox, "expire-access-tokens")  # the hour-long ones go; 2 s ones come
    _together(a, b, LOOP.format(rounds=ROUNDS, step="pass", pause=0.15))

    figures = stats(sandbox)
    assert figures["token_errors"] == 0  # no invalid_grant, ever
    assert figures["refreshes"] > 3 * ROUNDS + 2
    for kernel in (a, b):
        assert kernel.run("print(orange.logged_in, orange.status)") == "True signed_in\n"


def test_the_second_kernel_waits_for_the_first_refresh_and_adopts_it(
    kernels: tuple[Kernel, Kernel], sandbox: SandboxServer
) -> None:
    a, b = kernels
    before = stats(sandbox)["refreshes"]
    # The first refresh request waits 1 s at the token endpoint, holding the store's lock.
    sandbox.sandbox.add_fault(match="token", status=None, latency=1.0)
    timed = "t = time.monotonic(); orange.refresh(); print(json.dumps(time.monotonic() - t))\n"
    first = a.submit(timed)
    deadline = time.monotonic() + 30
    while sandbox.sandbox.faults() and time.monotonic() < deadline:
        time.sleep(0.01)  # until A's request is at the token endpoint
    assert not sandbox.sandbox.faults()
    waited = json.loads(b.run(timed))
    assert json.loads(a.collect(first)) >= 1.0
    assert 0.5 < waited < 10  # B waited for A's refresh …
    assert stats(sandbox)["refreshes"] == before + 1  # … and adopted it instead of refreshing
    same = "print(json.dumps([orange.token.issued_at, call()]))\n"
    assert json.loads(a.run(same)) == json.loads(b.run(same))
    assert stats(sandbox)["token_errors"] == 0
