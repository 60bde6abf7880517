"""The headless user agent used as BROWSER for CI sign-ins."""

from __future__ import annotations

import os
import subprocess
import sys
import time

AGENT = [sys.executable, "-m", "orange_nb.sandbox.agent"]


def authorize_url(oauth) -> str:
    request = oauth.http.build_request(
        "GET", "/openidconnect/fr/v1/authorize", params=oauth.params()
    )
    return str(request.url)


def test_agent_completes_a_loopback_sign_in_with_auto_consent(oauth, listener, monkeypatch) -> None:
    monkeypatch.setenv("ORANGE_SANDBOX_AUTO_CONSENT", "demo")  # read by the sandbox per request
    oauth.redirect_uri = listener.redirect_uri
    done = subprocess.run(
        [*AGENT, "--wait", authorize_url(oauth)], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    params = listener.wait()
    assert params["state"] == oauth.state
    assert (
        params["code"] not in done.stdout + done.stderr
        and oauth.state not in done.stdout + done.stderr
    )
    assert oauth.exchange(params["code"]).status_code == 200


def test_webbrowser_open_returns_at_once_even_before_the_listener_listens(
    oauth, late_listener, tmp_path
) -> None:
    """The kernel's case: webbrowser.open must not wait for a listener it has not started."""
    oauth.server.sandbox.configure(auto_consent="demo")
    oauth.redirect_uri = late_listener.redirect_uri
    env = {**os.environ, "BROWSER": f"{sys.executable} -m orange_nb.sandbox.agent %s"}
    log = tmp_path / "agent.log"
    started = time.monotonic()
    with log.open("w") as out:  # a file: the background agent keeps its stderr open
        opened = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys, webbrowser; sys.exit(0 if webbrowser.open(sys.argv[1]) else 3)",
                authorize_url(oauth),
            ],
            env=env,
            stdout=out,
            stderr=out,
            timeout=30,
        )
    assert opened.returncode == 0 and time.monotonic() - started < 10
    assert not late_listener.arrived.is_set()
    late_listener.listen()
    params = late_listener.wait(20)
    assert params["state"] == oauth.state
    assert oauth.exchange(params["code"]).status_code == 200
    assert params["code"] not in log.read_text()


def test_agent_without_auto_consent_stops_at_the_sign_in_page(oauth) -> None:
    done = subprocess.run(
        [*AGENT, "--wait", authorize_url(oauth)], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0
    assert "ORANGE_SANDBOX_AUTO_CONSENT" in done.stderr
    assert oauth.state not in done.stderr


def test_agent_failures_exit_1_without_the_query(oauth) -> None:
    bad = oauth.server.url + "/openidconnect/fr/v1/authorize?client_id=nope&state=s3cr3t-state"
    done = subprocess.run([*AGENT, "--wait", bad], capture_output=True, text=True, timeout=30)
    assert done.returncode == 1 and "answered 400" in done.stderr and "s3cr3t" not in done.stderr
    closed = subprocess.run(
        [*AGENT, "--wait", "--timeout", "0.3", "http://127.0.0.1:9/x?code=abc"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert closed.returncode == 1 and "could not reach http://127.0.0.1:9/x" in closed.stderr
    assert "abc" not in closed.stderr
