"""The loopback handoff: a one-shot HTTP listener in the kernel receives the callback.

For redirect URIs ``http://127.0.0.1:PORT/path`` or ``http://localhost:PORT/path`` (RFC 8252
§7.3) when no Jupyter server carries the login: plain IPython, nbval, editors' kernels.
The listener binds in ``start`` (so a browser opened at once still lands) and serves from
background threads, on 127.0.0.1 only.
"""

from __future__ import annotations

import errno
import selectors
import socket
import threading
import webbrowser
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from urllib.parse import urlsplit, urlunsplit

from ..errors import ConfigError, LoginError
from ..oauth.flow import Callback, LoginFlow, callback_params
from ..relay.links import go_link, wrap_state
from .base import Handoff

LOOPBACK_HOSTS = ("127.0.0.1", "localhost")

_STALE = (
    "This answer matches no login in progress here: it was already used or comes from an "
    "older link. Run the login cell again."
)
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 36em; margin: 4em auto; }}</style>
</head><body><h1>{title}</h1><p>{message}</p></body></html>
"""


def loopback_port(redirect_uri: str) -> int | None:
    """The port of an ``http://127.0.0.1:PORT/…`` or ``http://localhost:PORT/…`` URI, else ``None``."""
    parts = urlsplit(redirect_uri)
    try:
        port = parts.port
    except ValueError:
        return None
    if parts.scheme != "http" or parts.hostname not in LOOPBACK_HOSTS or port is None:
        return None
    return port


class _Listener(ThreadingHTTPServer):
    daemon_threads = True  # closing waits for no connection, not even a silent one
    timeout = 0  # handle_request() is called once the socket is readable: never block in it

    def __init__(self, port: int, handoff: LoopbackHandoff) -> None:
        self.handoff = handoff
        # Wakes the serving loop at once on stop (serve_forever would finish its poll
        # interval first, and the code exchange would wait for it). Made before binding:
        # a failed bind calls server_close.
        self._wake, self._waker = socket.socketpair()
        super().__init__(("127.0.0.1", port), _LandingHandler)

    def serve_until_stopped(self) -> None:
        """Serve until :meth:`stop` is called from another thread."""
        with selectors.DefaultSelector() as selector:
            selector.register(self.socket, selectors.EVENT_READ)
            selector.register(self._wake, selectors.EVENT_READ)
            while True:
                ready = [key.fileobj for key, _ in selector.select()]
                if self._wake in ready:
                    return
                self.handle_request()

    def stop(self) -> None:
        """End :meth:`serve_until_stopped` now."""
        try:
            self._waker.send(b"\0")
        except OSError:
            pass  # already stopped

    def server_close(self) -> None:
        """Close the listening socket and the wake-up pair."""
        super().server_close()
        self._wake.close()
        self._waker.close()

    def server_bind(self) -> None:
        # HTTPServer.server_bind also resolves the host name (a DNS lookup); nothing needs it.
        TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", self.server_address[1]

    def handle_error(self, request: object, client_address: object) -> None:
        """Silent: a browser that hangs up early is no news for the notebook."""


class _LandingHandler(BaseHTTPRequestHandler):
    server: _Listener
    timeout = 10  # a connection that never speaks (a browser's preconnect) frees its thread

    def do_GET(self) -> None:
        status, title, message, landed = self.server.handoff._land(self.path)
        body = _PAGE.format(title=escape(title), message=escape(message)).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("Referrer-Policy", "no-referrer")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        finally:
            if landed:  # even if the browser left early: the answer is in
                self.server.handoff._delivered()

    def log_message(self, format: str, *args: object) -> None:
        """Silent: the default writes request lines, codes and states included, to stderr."""


class LoopbackHandoff(Handoff):
    """Receive the callback on ``redirect_uri`` itself; port 0 means any free port.

    With ``relay_url``, Orange answers the relay, and the relay hands the answer on to
    ``redirect_uri`` (named in the state); the code is then exchanged with ``relay_url``.
    """

    name = "loopback"

    def __init__(
        self, redirect_uri: str, *, open_browser: bool = False, relay_url: str | None = None
    ) -> None:
        port = loopback_port(redirect_uri)
        if port is None:
            raise ConfigError(
                "The loopback handoff needs a redirect URI like http://127.0.0.1:PORT/callback "
                f"or http://localhost:PORT/callback, not {redirect_uri[:200]!r}."
            )
        self.redirect_uri = redirect_uri
        self.listening_on = redirect_uri
        self.port = port
        self.open_browser = open_browser
        self.relay_url = relay_url
        self._lock = threading.Lock()
        self._landed = threading.Event()
        self._flow: LoginFlow | None = None
        self._callback: Callback | None = None
        self._listener: _Listener | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"LoopbackHandoff({self.redirect_uri!r})"

    def start(self, flow: LoginFlow) -> str:
        """Listen on the redirect URI's port; return the authorize URL (opened when asked)."""
        self.close()
        try:
            listener = _Listener(self.port, self)
        except OSError as e:
            raise self._bind_error(e) from None
        actual = self.redirect_uri
        if self.port == 0:
            parts = urlsplit(self.redirect_uri)
            netloc = f"{parts.hostname}:{listener.server_port}"
            actual = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
        with self._lock:
            self._flow, self._callback = flow, None
            self._landed.clear()
        self.listening_on = actual
        if self.relay_url is None:
            flow.redirect_uri = actual
            flow.url = flow.authorization_url(actual)
        else:
            # The whole state, target included, is what the listener matches: a target
            # edited on the way fails like a forged answer.
            flow.state = wrap_state(flow.state.partition(".")[0], actual)
            flow.redirect_uri = self.relay_url
            flow.url = go_link(self.relay_url, flow.authorization_url(self.relay_url))
        self._listener = listener
        self._thread = threading.Thread(
            target=listener.serve_until_stopped,
            daemon=True,
            name="orange_nb-loopback",
        )
        self._thread.start()
        if self.open_browser:
            # webbrowser waits for a $BROWSER command to exit; that command may be the very
            # agent that lands here, so it must not run on this thread.
            threading.Thread(target=_open, args=(flow.url,), daemon=True).start()
        return flow.url

    def wait(self, flow: LoginFlow, timeout: float) -> Callback:
        """Block until the browser lands on the redirect URI, then stop listening."""
        if self._flow is not flow or self._listener is None:
            raise LoginError("This sign-in was not started here. Run the login cell again.")
        if not self._landed.wait(timeout):
            raise TimeoutError(
                f"No sign-in reached {self.listening_on} within {timeout:g} s. Open the sign-in "
                "link and finish signing in, or run the login cell again (or wait longer)."
            )
        self.close()
        with self._lock:
            callback = self._callback
        if callback is None:  # woken by close() on another thread
            raise LoginError(
                "This sign-in was cancelled: a newer one started, or it was closed. Use the "
                "newest sign-in link, or run the login cell again."
            )
        return callback

    def close(self) -> None:
        """Stop listening; safe to call twice. A ``wait`` on another thread ends at once."""
        self._landed.set()
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.stop()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if listener is not None:
            listener.server_close()  # after the loop ended: it must not select a closed socket

    def _land(self, raw_path: str) -> tuple[int, str, str, bool]:
        """Judge one request: (status, page title, page text, landed). Runs on a listener thread."""
        expected = urlsplit(self.redirect_uri).path or "/"
        parts = urlsplit(raw_path)
        if parts.path != expected:
            return 404, "Not found", "Nothing here.", False
        try:
            params = callback_params("?" + parts.query)
        except LoginError as e:
            return 400, "Sign-in answer refused", str(e), False
        if not {"state", "code", "error"} & set(params):
            return 404, "Not found", "Nothing here.", False
        state = params.get("state")
        with self._lock:
            flow = self._flow
            # Only an answer carrying this flow's state ends the wait (compared in constant
            # time): any page can point an <img> at 127.0.0.1:PORT/callback?error=…, and a
            # stray without the state must not cancel the real sign-in still to come.
            matches = flow is not None and flow.check_state(state)
            if flow is None or flow.redirect_uri is None or not matches or self._callback:
                return 400, "This sign-in link is stale", _STALE, False
            self._callback = Callback(params, flow.redirect_uri)
        error = params.get("error")
        if error or not params.get("code"):
            what = f"Orange answered “{error[:100]}”" if error else "The answer carried no code"
            failed = (
                f"{what}, so the notebook was not signed in. Your notebook says what to do next."
            )
            return 200, "Sign-in failed", failed, True
        return 200, "Signed in", "Signed in — return to your notebook.", True

    def _delivered(self) -> None:
        # Called once the landing page is written: only then may wait() stop the listener.
        self._landed.set()

    def _bind_error(self, e: OSError) -> LoginError:
        where = f"port {self.port} on 127.0.0.1"
        if e.errno == errno.EADDRINUSE:
            return LoginError(
                f"Cannot receive the sign-in: {where} is in use. Free the port, or choose another "
                "port in the redirect URI registered for the application, or use port 0 where "
                "the provider accepts any loopback port."
            )
        if e.errno == errno.EACCES:
            return LoginError(
                f"Cannot receive the sign-in: this process may not listen on {where}. Choose a "
                "port above 1023 in the redirect URI registered for the application."
            )
        return LoginError(f"Cannot receive the sign-in on {where} ({e.strerror}).")


def _open(url: str) -> None:
    try:
        webbrowser.open(url)
    except (webbrowser.Error, OSError):
        pass  # the link is shown in the notebook as well
