"""A tiny headless user agent for sign-ins in CI: ``python -m orange_nb.sandbox.agent URL``.

It GETs ``URL`` and follows redirects (up to the application's loopback redirect URI)
like a browser would; with ``ORANGE_SANDBOX_AUTO_CONSENT`` set in the sandbox's process
the sandbox approves at once, so the sign-in completes with no person involved.

Use it as ``BROWSER``; Python's ``webbrowser`` then runs it for ``webbrowser.open(url)``::

    BROWSER="/path/to/python -m orange_nb.sandbox.agent %s"

The ``%s`` is required: without it ``webbrowser`` takes the whole value as the name of
one program. Do not append ``&``: ``webbrowser`` would then report failure whenever the
agent exits quickly, and try the next browser.

``webbrowser`` waits for the command to exit. By default the agent therefore detaches:
it hands the URL to a background copy of itself (in a new session, through a pipe, so
the URL is not shown in process listings twice) and exits 0 at once. The kernel calling
``webbrowser.open`` gets control back before its loopback listener must answer, so
there is no deadlock whether the listener serves from another thread or only after
``open`` returns; the background copy retries a refused connection until ``--timeout``.
``--wait`` does the work in the foreground instead (exit status: 0 on reaching a page
that is not a redirect, 1 on failure).

It prints nothing on success and one line on failure; never a URL's query (which holds
the code and the state).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

if TYPE_CHECKING:
    import httpx

MAX_HOPS = 20
DEFAULT_TIMEOUT = 60.0
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


def _where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _say(message: str) -> None:
    print(f"orange_nb sandbox agent: {message}", file=sys.stderr, flush=True)


def visit(url: str, timeout: float = DEFAULT_TIMEOUT) -> int:
    """Follow ``url`` through its redirects; 0 once a page that is not a redirect answers < 400."""
    import httpx  # imported here: the detaching parent stays quick to start

    deadline = time.monotonic() + timeout
    headers = {"User-Agent": "orange_nb-sandbox-agent", "Accept": "text/html,*/*;q=0.8"}
    with httpx.Client(follow_redirects=False, timeout=10.0, headers=headers) as client:
        for _ in range(MAX_HOPS):
            if urlsplit(url).scheme not in ("http", "https"):
                _say(f"cannot follow a redirect to a {urlsplit(url).scheme or 'relative'}: URL.")
                return 1
            try:
                response = _get(client, url, deadline)
            except httpx.HTTPError as exc:
                _say(f"could not reach {_where(url)} ({type(exc).__name__}).")
                return 1
            location = response.headers.get("location")
            if response.status_code in _REDIRECTS and location:
                url = urljoin(url, location)
                continue
            if response.status_code >= 400:
                _say(f"{_where(url)} answered {response.status_code}.")
                return 1
            if 'id="sign-in"' in response.text:
                _say(
                    "stopped at the sandbox's sign-in page: set ORANGE_SANDBOX_AUTO_CONSENT=<user> "
                    "in the sandbox's environment for headless sign-ins."
                )
            return 0
    _say(f"more than {MAX_HOPS} redirects.")
    return 1


def _get(client: httpx.Client, url: str, deadline: float) -> httpx.Response:
    import httpx

    pause = 0.05
    while True:
        try:
            return client.get(url)
        except httpx.ConnectError:
            # The loopback listener may not be listening yet: retry until the deadline.
            if time.monotonic() + pause > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.5)


def detach(url: str, timeout: float) -> int:
    """Hand ``url`` to a background copy of the agent; 0 once it is started."""
    command = [sys.executable, "-m", __spec__.name if __spec__ else "orange_nb.sandbox.agent"]
    command += ["--wait", "--stdin", "--timeout", str(timeout)]
    options: dict[str, object] = {"stdin": subprocess.PIPE, "stdout": subprocess.DEVNULL}
    if os.name == "nt":
        options["creationflags"] = getattr(subprocess, "DETACHED_PROCESS", 0) | getattr(
            subprocess, "CREATE_NEW_PROCESS_GROUP", 0
        )
    else:
        options["start_new_session"] = True  # not killed with the caller's process group
    try:
        # The command is this interpreter running this module: no outside input.
        child = subprocess.Popen(command, **options)  # type: ignore[call-overload]  # noqa: S603
        assert child.stdin is not None
        child.stdin.write(url.encode("utf-8"))
        child.stdin.close()
    except OSError as exc:
        _say(f"could not start in the background ({exc.strerror or exc}).")
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m orange_nb.sandbox.agent",
        description="Open a sign-in URL headlessly, following redirects (for CI).",
    )
    parser.add_argument("url", nargs="?", help="the URL to open")
    parser.add_argument("--wait", action="store_true", help="work in the foreground")
    parser.add_argument("--stdin", action="store_true", help="read the URL from stdin")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds (60)")
    args = parser.parse_args(argv)
    url = sys.stdin.read().strip() if args.stdin else (args.url or "").strip()
    if not url:
        parser.error("give a URL")
    return visit(url, args.timeout) if args.wait else detach(url, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
