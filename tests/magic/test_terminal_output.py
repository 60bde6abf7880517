"""What a person sees in a real terminal IPython and a real kernel: a ``--wait`` sign-in ends
with one line, every expected error (a login wait that timed out included) is one paragraph
without a traceback, and other errors keep their traceback."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from queue import Empty
from typing import Any

import pytest
from jupyter_client.manager import KernelManager

IPYTHON = [sys.executable, "-m", "IPython", "--no-banner", "--simple-prompt", "--colors=NoColor"]
AGENT = f"{sys.executable} -m orange_nb.sandbox.agent %s"
NO_BROWSER = "true %s"  # "opens" the link and signs nobody in
SIGNED_IN = re.compile(
    r"Signed in as Demo User · scopes openid profile mobility:read · expires in 59:5\d"
)
PROMPT = re.compile(r"^In \[(\d+)\]: ", re.M)


def clean_env(**more: str) -> dict[str, str]:
    """This environment without orange_nb's settings or a Jupyter server's, plus ``more``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ORANGE_", "JPY_", "IPYTHON"))}
    return {**env, **more}


def ipython(lines: list[str], env: dict[str, str], tmp_path: Path) -> dict[int, list[str]]:
    """Feed ``lines`` to a terminal IPython one by one; each cell's output lines, by number."""
    profile = tmp_path / "ipython"  # its own history and profile: nothing of the user's
    profile.mkdir(exist_ok=True)
    script = "\n".join(lines) + "\nexit\n"
    done = subprocess.run(
        [*IPYTHON, f"--ipython-dir={profile}"],
        input=script,
        capture_output=True,
        text=True,
        env={**env, "TERM": "dumb"},
        timeout=120,
        cwd=tmp_path,
    )
    text = done.stdout + done.stderr
    cells: dict[int, list[str]] = {}
    marks = list(PROMPT.finditer(text))
    for mark, after in zip(marks, [*marks[1:], None], strict=False):
        end = after.start() if after is not None else len(text)
        body = text[mark.end() : end]
        cells[int(mark.group(1))] = [line for line in body.splitlines() if line.strip()]
    return cells


def test_login_wait_ends_with_one_line_in_a_terminal(tmp_path: Path) -> None:
    env = clean_env(BROWSER=AGENT, ORANGE_SANDBOX_AUTO_CONSENT="demo")
    cells = ipython(
        [
            "%load_ext orange_nb",
            "%orange login --sandbox --wait --timeout 30",
            "%orange login --wait",
        ],
        env,
        tmp_path,
    )
    assert cells[1] == []
    link, *rest = cells[2]
    assert link.startswith("Open this link to sign in with Orange: http://127.0.0.1:")
    assert len(rest) == 1 and SIGNED_IN.fullmatch(rest[0]), cells[2]
    # Signed in already: the widget's plain line says so, and nothing else is added.
    assert len(cells[3]) == 1 and SIGNED_IN.search(cells[3][0]), cells[3]


def test_expected_errors_are_one_paragraph_in_a_terminal(tmp_path: Path) -> None:
    cells = ipython(
        [
            "%load_ext orange_nb",
            "%orange login --sandbox --wait --timeout 1",
            "%orange GETT /sandbox/mobility/v1/zones",
            "raise TimeoutError('my own')",
            "1/0",
        ],
        clean_env(BROWSER=NO_BROWSER),
        tmp_path,
    )
    link, *error = cells[2]
    assert link.startswith("Open this link to sign in with Orange:")
    assert error == [
        "TimeoutError: Nobody signed in within 1 s. The sign-in link stays valid: open it, "
        "sign in, then run this cell again."
    ]
    assert cells[3] == ["UsageError: Unknown method 'GETT'. Did you mean GET?"]
    # A TimeoutError of the person's own code is not ours to shorten; nor is any other error.
    assert any("Traceback" in line for line in cells[4]) and cells[4][-1] == "TimeoutError: my own"
    assert any("Traceback" in line for line in cells[5])
    assert not any("\x1b[" in line for lines in cells.values() for line in lines)  # NoColor


@pytest.fixture
def kernel(tmp_path: Path) -> Iterator[Any]:
    manager = KernelManager(kernel_name="python3")
    spec = manager.kernel_spec
    assert spec is not None
    spec.argv[0] = sys.executable  # this virtual environment's Python
    manager.start_kernel(env=clean_env(BROWSER=NO_BROWSER), cwd=str(tmp_path))
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    yield client
    client.stop_channels()
    manager.shutdown_kernel(now=True)


def run(kernel: Any, code: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Execute ``code``; its reply and the iopub messages it caused."""
    msg_id = kernel.execute(code)
    seen: list[dict[str, Any]] = []
    while True:
        try:
            msg = kernel.get_iopub_msg(timeout=60)
        except Empty:
            pytest.fail(f"the kernel went quiet running {code!r}")
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        seen.append(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    return kernel.get_shell_msg(timeout=10)["content"], seen


def test_expected_errors_are_one_paragraph_in_a_kernel(kernel: Any) -> None:
    run(kernel, "%load_ext orange_nb")
    reply, seen = run(kernel, "%orange login --sandbox --wait --timeout 1")
    assert reply["status"] == "error" and reply["ename"] == "TimeoutError"
    errors = [m["content"] for m in seen if m["msg_type"] == "error"]
    assert len(errors) == 1 and len(errors[0]["traceback"]) == 1
    # A sign-in error says its one line in a display a later sign-in clears (_ipython.py).
    said = [
        m["content"]["data"]["text/plain"]
        for m in seen
        if m["msg_type"] == "display_data"
        and m["content"]["data"]["text/plain"].startswith("TimeoutError")
    ]
    assert len(said) == 1 and "\n" not in said[0]
    assert said[0].startswith("TimeoutError: Nobody signed in within 1 s.")
    reply, seen = run(kernel, "%orange GETT /x")
    errors = [m["content"] for m in seen if m["msg_type"] == "error"]
    assert reply["ename"] == "UsageError" and len(errors[0]["traceback"]) == 1
    reply, seen = run(kernel, "raise TimeoutError('my own')")
    errors = [m["content"] for m in seen if m["msg_type"] == "error"]
    assert reply["ename"] == "TimeoutError" and len(errors[0]["traceback"]) > 1
