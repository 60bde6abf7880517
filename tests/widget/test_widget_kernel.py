"""In a real kernel, ``orange.login(wait=True)`` shows the widget first and its link works meanwhile."""

from __future__ import annotations

import html
import json
import re
from queue import Empty
from typing import Any

import httpx
import pytest

from orange_nb.sandbox import DEMO_CLIENT_SECRET, SandboxServer

LINK = re.compile(r'<a class="orange-nb-signin" href="([^"]+)"')


def test_login_wait_shows_a_usable_link_before_blocking(
    kernel: Any, sandbox: SandboxServer
) -> None:
    sandbox.sandbox.configure(auto_consent="demo")
    code = (
        "from orange_nb import Orange\n"
        f"orange = Orange.sandbox(root={sandbox.url!r}, open_browser=False)\n"
        "orange.login(wait=True, timeout=15)\n"
        "print(orange.status)\n"
    )
    msg_id = kernel.execute(code)
    seen: list[dict[str, Any]] = []
    signed_in_at = displayed_at = None
    href = ""
    opened = False
    while True:
        try:
            msg = kernel.get_iopub_msg(timeout=25)
        except Empty:
            pytest.fail("the kernel went quiet before the login cell finished")
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        seen.append(msg)
        kind, content = msg["msg_type"], msg["content"]
        text = json.dumps(content)
        if kind == "display_data" and displayed_at is None:
            assert "application/vnd.jupyter.widget-view+json" in content["data"]
            displayed_at = len(seen)
        link = LINK.search(text.replace('\\"', '"'))
        href = html.unescape(link.group(1)) if link else href
        if href and displayed_at is not None and not opened:
            # A person sees the widget and clicks while the cell is still busy waiting.
            httpx.get(href, follow_redirects=True, timeout=10)
            opened = True
        if kind == "comm_msg" and "Signed in as Demo User" in text and signed_in_at is None:
            signed_in_at = len(seen)
        if kind == "status" and content["execution_state"] == "idle":
            break
    reply = kernel.get_shell_msg(timeout=10)
    assert reply["content"]["status"] == "ok"
    streams = "".join(m["content"].get("text", "") for m in seen if m["msg_type"] == "stream")
    assert streams == "signed_in\n"
    assert opened and displayed_at is not None and signed_in_at is not None
    assert displayed_at < signed_in_at  # the widget was there, then followed the sign-in
    everything = json.dumps([m["content"] for m in seen])
    for secret in ("sbx_at_", "sbx_rt_", "sbx_code_", DEMO_CLIENT_SECRET):
        assert secret not in everything
