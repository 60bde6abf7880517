"""A kernel driven by plain ``jupyter_client`` (no widget front end) can sign in from text.

The login output's ``text/plain`` carries the link; following it (the sandbox approves at
once) signs the kernel in, and the same output, by its display id, then says so: what a
notebook saves is the final state, not "Waiting…".
"""

from __future__ import annotations

import json
import re
from queue import Empty
from typing import Any

import httpx
import pytest

from orange_nb.sandbox import DEMO_CLIENT_SECRET, SandboxServer

LINK = re.compile(r"Open this link to sign in with Orange: (\S+)")
WIDGET = "application/vnd.jupyter.widget-view+json"


def run(kernel: Any, code: str, on_message: Any = None) -> list[dict[str, Any]]:
    """Execute ``code``; its iopub messages until idle (``on_message`` sees each as it comes)."""
    msg_id = kernel.execute(code)
    seen: list[dict[str, Any]] = []
    while True:
        try:
            msg = kernel.get_iopub_msg(timeout=30)
        except Empty:
            pytest.fail(f"the kernel went quiet; so far: {seen}")
        if (
            msg["parent_header"].get("msg_id") != msg_id
            and msg["msg_type"] != "update_display_data"
        ):
            continue
        seen.append(msg)
        if on_message is not None:
            on_message(msg)
        idle = msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle"
        if idle and msg["parent_header"].get("msg_id") == msg_id:
            return seen


def test_text_plain_carries_the_link_and_then_the_final_state(
    kernel: Any, sandbox: SandboxServer
) -> None:
    sandbox.sandbox.configure(auto_consent="demo")
    followed: list[str] = []

    def follow(msg: dict[str, Any]) -> None:
        # A person reading the text output opens the link while the cell waits.
        if msg["msg_type"] == "display_data" and not followed:
            found = LINK.search(msg["content"]["data"]["text/plain"])
            assert found, msg["content"]["data"]["text/plain"]
            followed.append(found.group(1))
            assert httpx.get(found.group(1), follow_redirects=True, timeout=10).status_code == 200

    seen = run(
        kernel,
        "from orange_nb import Orange\n"
        f"orange = Orange.sandbox(root={sandbox.url!r}, open_browser=False)\n"
        "orange.login(wait=True, timeout=20)\n",
        follow,
    )
    shown = [m for m in seen if m["msg_type"] == "display_data"]
    assert len(shown) == 1 and followed
    first = shown[0]["content"]
    display_id = first["transient"]["display_id"]
    assert WIDGET in first["data"]  # widget front ends still get the widget
    assert "Waiting for sign-in…" in first["data"]["text/plain"]
    assert 'href="' in first["data"]["text/html"]  # the link for HTML-only front ends too
    updates = [
        m["content"]
        for m in seen
        if m["msg_type"] == "update_display_data"
        and m["content"]["transient"]["display_id"] == display_id
    ]
    assert updates, "the login output was never updated"
    final = updates[-1]["data"]
    assert final["text/plain"].startswith("Orange: Signed in as Demo User · scopes ")
    assert "Open this link" not in final["text/plain"] and "href" not in final["text/html"]
    assert "Signed in as Demo User" in final["text/html"]
    everything = json.dumps([m["content"] for m in seen])
    for secret in ("sbx_at_", "sbx_rt_", "sbx_code_", DEMO_CLIENT_SECRET):
        assert secret not in everything


def test_a_later_sign_out_updates_the_saved_output_too(kernel: Any, sandbox: SandboxServer) -> None:
    """An output shown by an earlier cell follows a state change made by a later one."""
    sandbox.sandbox.configure(auto_consent="demo")
    seen = run(
        kernel,
        "import httpx\nfrom orange_nb import Orange\n"
        f"orange = Orange.sandbox(root={sandbox.url!r}, open_browser=False)\n"
        "orange.login()\n"
        "httpx.get(orange.login_url, follow_redirects=True, timeout=10)\n"
        "orange.wait_for_login(timeout=20)\n",
    )
    display_id = next(m for m in seen if m["msg_type"] == "display_data")["content"]["transient"][
        "display_id"
    ]
    later = run(kernel, "orange.logout()\n")
    texts = [
        m["content"]["data"]["text/plain"]
        for m in later
        if m["msg_type"] == "update_display_data"
        and m["content"]["transient"]["display_id"] == display_id
    ]
    assert texts and texts[-1] == "Orange: Not signed in"
