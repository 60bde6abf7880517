"""A refused sign-in in a kernel: the cell fails, its error is an updatable display, and a
later sign-in turns that display into a quiet "resolved" line (nothing stale stays red).

Driven through plain ``jupyter_client``: the refusal goes to the kernel's own loopback
listener, the sign-in again through the sandbox (which approves at once).
"""

from __future__ import annotations

import re
from queue import Empty
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from orange_nb._ipython import QUIET_TRACEBACK
from orange_nb.sandbox import SandboxServer

LINK = re.compile(r"Open this link to sign in with Orange: (\S+)")
WIDGET = "application/vnd.jupyter.widget-view+json"
RESOLVED = re.compile(r"Resolved: signed in at \d\d:\d\d:\d\d")


def run(
    kernel: Any, code: str, on_message: Any = None, then: str | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any] | None]:
    """Execute ``code`` (and queue ``then`` right behind it, as Run All does): the reply,
    the iopub messages until idle (display updates of any cell included), ``then``'s reply."""
    msg_id = kernel.execute(code)
    then_id = kernel.execute(then) if then is not None else None
    seen: list[dict[str, Any]] = []
    while True:
        try:
            msg = kernel.get_iopub_msg(timeout=30)
        except Empty:
            pytest.fail(f"the kernel went quiet; so far: {seen}")
        mine = msg["parent_header"].get("msg_id") == msg_id
        if not mine and msg["msg_type"] != "update_display_data":
            continue
        seen.append(msg)
        if on_message is not None:
            on_message(msg)
        if mine and msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    replies: dict[str, dict[str, Any]] = {}
    while len(replies) < (2 if then_id else 1):
        reply = kernel.get_shell_msg(timeout=30)
        replies[reply["parent_header"]["msg_id"]] = reply["content"]
    return replies[msg_id], seen, replies.get(then_id) if then_id else None


def refuse(msg: dict[str, Any]) -> None:
    """On the login output: answer the kernel's loopback redirect URI with a refusal."""
    if msg["msg_type"] != "display_data" or WIDGET not in msg["content"]["data"]:
        return
    found = LINK.search(msg["content"]["data"]["text/plain"])
    assert found, msg["content"]["data"]["text/plain"]
    query = parse_qs(urlsplit(found.group(1)).query)
    httpx.get(
        query["redirect_uri"][0],
        params={"error": "access_denied", "state": query["state"][0]},
        timeout=10,
        trust_env=False,
    )


def test_a_refusal_fails_the_cell_and_a_later_sign_in_clears_its_error(
    kernel: Any, sandbox: SandboxServer
) -> None:
    sandbox.sandbox.configure(auto_consent="demo")
    reply, seen, after = run(
        kernel,
        "from orange_nb import Orange\n"
        f"orange = Orange.sandbox(root={sandbox.url!r}, open_browser=False)\n"
        "orange.login(wait=True, timeout=20)\n",
        refuse,
        then='print("after")',
    )
    # The cell failed, and what was queued behind it did not run (Run All stops there).
    assert reply["status"] == "error" and reply["ename"] == "LoginError", reply
    assert after is not None and after["status"] == "aborted", after
    # One error output (nbval fails the cell on it), whose traceback renders as nothing...
    errors = [m["content"] for m in seen if m["msg_type"] == "error"]
    assert len(errors) == 1 and errors[0]["ename"] == "LoginError"
    assert errors[0]["traceback"] == [QUIET_TRACEBACK]
    # ... and the reason, once, in a display that can be updated.
    said = [
        m["content"]
        for m in seen
        if m["msg_type"] == "display_data" and WIDGET not in m["content"]["data"]
    ]
    assert len(said) == 1, said
    line = said[0]["data"]["text/plain"]
    assert line.startswith("LoginError: ") and "refused" in line, line
    assert "LoginError: " in said[0]["data"]["text/html"]
    error_id = said[0]["transient"]["display_id"]

    def sign_in(msg: dict[str, Any]) -> None:
        if msg["msg_type"] == "display_data" and WIDGET in msg["content"]["data"]:
            found = LINK.search(msg["content"]["data"]["text/plain"])
            assert found
            assert httpx.get(found.group(1), follow_redirects=True, timeout=10).status_code == 200

    reply, later, _ = run(kernel, "orange.login(wait=True, timeout=20)\n", sign_in)
    assert reply["status"] == "ok", reply
    cleared = [
        m["content"]["data"]
        for m in later
        if m["msg_type"] == "update_display_data"
        and m["content"]["transient"]["display_id"] == error_id
    ]
    assert cleared, "the error's display was never updated"
    assert RESOLVED.fullmatch(cleared[-1]["text/plain"]), cleared[-1]
    assert "LoginError" not in cleared[-1]["text/html"]
    assert "refused" not in cleared[-1]["text/html"]
