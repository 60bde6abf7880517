"""Load held: 20 kernels sign in and call at once against one Jupyter server with orange_nb.

The kernels start together through the server's REST API; each registers its login with a
marker of its own (``login_hint=load-NN``, which the sandbox's sign-in page pre-fills and
the ID token carries back as the user's name), 20 "browsers" sign in at once, each kernel
waits, then calls the API three times. Every kernel must end signed in as its own marker:
a code handed to the wrong kernel would fail its state or PKCE check, or name another user.
The server's memory (VmRSS) and open descriptors are read before the kernels start and
after they are shut down.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from reliability_harness import TALLY, Browser, JupyterServer, Kernel, in_threads

pytestmark = pytest.mark.slow

KERNELS = 20
RSS_BOUND_MIB = 24  # growth allowed across the whole run: module caches, allocator slack
FD_SLACK = 4

BEGIN = """
import json
from orange_nb import Orange
orange = Orange.sandbox(open_browser=False, authorize_params={{"login_hint": "load-{i:02d}"}})
print(json.dumps(orange.begin_login().url))
"""
# orange.request, not orange.get: 20 pandas imports at once would only measure the CPU.
FINISH = """
orange.wait_for_login(90)
rows = [len(orange.request("GET", "/sandbox/mobility/v1/zones").json()["items"]) for _ in range(3)]
print(json.dumps({"user": orange.user, "rows": rows, "status": orange.status}))
"""


def test_twenty_kernels_sign_in_and_call_at_once(
    rel_server: JupyterServer, rel_browser: Browser, signed_in: Kernel
) -> None:
    # signed_in: one kernel has already signed in here, so first-use costs are paid.
    rss_before, fds_before = rel_server.rss_kib(), rel_server.open_fds()
    throttled = rel_server.sandbox("GET", "stats")["rate_limited"]
    started = time.monotonic()
    kernels = rel_server.start_kernels(KERNELS)
    up = time.monotonic() - started

    def one(i: int) -> dict[str, Any]:
        kernel = kernels[i]
        link = kernel.run(BEGIN.format(i=i)).json()
        with ThreadPoolExecutor(1) as pool:
            finishing = pool.submit(kernel.run, FINISH, 120)
            rel_browser.sign_in(link)
            return finishing.result(timeout=150).json()  # type: ignore[no-any-return]

    try:
        results = in_threads(one, range(KERNELS))
        signed = time.monotonic() - started - up
    finally:
        stopping = time.monotonic()
        in_threads(rel_server.shutdown_kernel, list(kernels))
        stopped = time.monotonic() - stopping
    for _ in range(100):  # the server lets go of the kernels' sockets (bounded wait)
        if rel_server.open_fds() <= fds_before + FD_SLACK:
            break
        time.sleep(0.1)
    rss_after, fds_after = rel_server.rss_kib(), rel_server.open_fds()
    growth = (rss_after - rss_before) / 1024
    TALLY.load.update(
        kernels=KERNELS,
        signed_in=sum(r["status"] == "signed_in" for r in results),
        cross_deliveries=sum(r["user"] != f"load-{i:02d}" for i, r in enumerate(results)),
        calls=sum(len(r["rows"]) for r in results),
        throttled_and_retried=rel_server.sandbox("GET", "stats")["rate_limited"] - throttled,
        kernels_up_s=round(up, 1),
        sign_in_and_calls_s=round(signed, 1),
        shutdown_s=round(stopped, 1),
        server_rss_mib=f"{rss_before / 1024:.1f} -> {rss_after / 1024:.1f} (bound +{RSS_BOUND_MIB})",
        server_fds=f"{fds_before} -> {fds_after}",
    )

    assert [r["user"] for r in results] == [f"load-{i:02d}" for i in range(KERNELS)]
    assert all(r["status"] == "signed_in" and r["rows"] == [12, 12, 12] for r in results)
    assert fds_after <= fds_before + FD_SLACK
    assert growth <= RSS_BOUND_MIB, TALLY.load
    assert "Traceback" not in rel_server.logs()
