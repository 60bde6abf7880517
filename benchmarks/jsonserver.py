"""The benchmarks' own loopback JSON server, run in a separate process.

A minimal HTTP/1.1 server on asyncio (keep-alive, no pipelining, 127.0.0.1 only): its CPU
and GIL stay out of the measured client, and it does far less per request than a web
framework, so the figures show the client's cost. ``python -m benchmarks.jsonserver``
prints ``PORT <n>`` once listening and serves until stdin closes or SIGTERM.

Routes (``delay`` is milliseconds the answer waits, on the event loop, not a thread):

- ``GET /small``: a small JSON object; 401 ``invalid_token`` without a bearer header.
- ``GET /records?n=N``: a JSON list of ``N`` flat records (~100 bytes each), cached.
- ``GET /pages?page=P&pages=N&size=S&delay=D``: ``{"items": [...], "next": "/pages?…"}``.
- ``GET /offset?offset=O&limit=L&total=T&delay=D``: ``{"items", "total", "next"}``.
- ``POST /token``: a token answer (1 h access token, refresh token); counted; waits
  ``token_delay`` ms (set by ``POST /_config?token_delay=D``).
- ``GET /_stats``: request counts; ``POST /_reset``: counts to zero.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import threading
from collections import Counter
from typing import Any
from urllib.parse import parse_qsl, urlsplit

_CITIES = ("Paris", "Lyon", "Marseille", "Toulouse", "Nantes", "Lille", "Rennes", "Nice")


def record(i: int) -> dict[str, Any]:
    """One flat record; about 100 bytes of JSON."""
    return {
        "id": i,
        "zone": f"zone-{i % 10000:05d}",
        "city": _CITIES[i % len(_CITIES)],
        "count": (i * 7919) % 1000,
        "score": round(((i * 104729) % 10007) / 10007, 6),
        "active": i % 3 != 0,
    }


def records_body(n: int, start: int = 0) -> bytes:
    """``n`` records from id ``start``, as a JSON list."""
    return json.dumps([record(i) for i in range(start, start + n)]).encode()


def _int(query: dict[str, str], name: str, default: int) -> int:
    try:
        return max(0, int(query.get(name, default)))
    except ValueError:
        return default


class App:
    """Routing, canned bodies and counters (one per server process)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.token_delay = 0.0
        self._records: dict[int, bytes] = {}
        self._pages: dict[tuple[int, int], bytes] = {}
        self._issued = 0

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, bytes, float, dict[str, str]]:
        """(status, body, delay in seconds, extra headers) for one request."""
        parts = urlsplit(target)
        path, query = parts.path, dict(parse_qsl(parts.query))
        self.counts[path] += 1
        delay = _int(query, "delay", 0) / 1000
        if path == "/small":
            if not headers.get("authorization", "").startswith("Bearer "):
                extra = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
                return 401, b'{"code": 42, "message": "Expired credentials"}', 0.0, extra
            return 200, b'{"id": 1, "name": "small", "ok": true, "items_left": 3}', delay, {}
        if path == "/records":
            n = _int(query, "n", 1000)
            if n not in self._records:
                self._records[n] = records_body(n)
            return 200, self._records[n], delay, {}
        if path == "/pages":
            page, pages, size = (
                _int(query, "page", 0),
                _int(query, "pages", 10),
                _int(query, "size", 100),
            )
            nxt = (
                f"/pages?page={page + 1}&pages={pages}&size={size}&delay={_int(query, 'delay', 0)}"
            )
            return 200, self._page(page * size, size, nxt if page + 1 < pages else None), delay, {}
        if path == "/offset":
            offset, limit = _int(query, "offset", 0), max(1, _int(query, "limit", 100))
            total = _int(query, "total", 1000)
            size = max(0, min(limit, total - offset))
            nxt = f"/offset?offset={offset + limit}&limit={limit}&total={total}&delay={_int(query, 'delay', 0)}"
            answer = self._page(offset, size, nxt if offset + limit < total else None, total)
            return 200, answer, delay, {}
        if path == "/token" and method == "POST":
            self._issued += 1
            token = {
                "access_token": f"at-{self._issued}",
                "refresh_token": f"rt-{self._issued}",
                "token_type": "Bearer",
                "expires_in": 3600,
                "scope": "openid",
            }
            return 200, json.dumps(token).encode(), self.token_delay, {"Cache-Control": "no-store"}
        if path == "/_stats":
            return 200, json.dumps(dict(self.counts)).encode(), 0.0, {}
        if path == "/_reset" and method == "POST":
            self.counts.clear()
            return 200, b"{}", 0.0, {}
        if path == "/_config" and method == "POST":
            self.token_delay = _int(query, "token_delay", 0) / 1000
            return 200, b"{}", 0.0, {}
        return 404, b'{"code": 60, "message": "Resource not found"}', 0.0, {}

    def _page(self, start: int, size: int, nxt: str | None, total: int | None = None) -> bytes:
        key = (start, size)
        if key not in self._pages:
            self._pages[key] = records_body(size, start)
        head: dict[str, Any] = {"next": nxt}
        if total is not None:
            head["total"] = total
        # Splice the cached items in rather than re-encoding them for every answer.
        return b'{"items": ' + self._pages[key] + b", " + json.dumps(head).encode()[1:]


_REASONS = {200: b"OK", 401: b"Unauthorized", 404: b"Not Found", 400: b"Bad Request"}


class _Connection(asyncio.Protocol):
    """One keep-alive connection: parse requests, answer in order (clients do not pipeline)."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
            try:
                method, target, _ = lines[0].split(" ", 2)
            except ValueError:
                self._close()
                return
            headers: dict[str, str] = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0") or 0)
            if len(self.buffer) < end + 4 + length:
                return
            body = bytes(self.buffer[end + 4 : end + 4 + length])
            del self.buffer[: end + 4 + length]
            status, payload, delay, extra = self.app.handle(method, target, headers, body)
            close = headers.get("connection", "").lower() == "close"
            if delay > 0:
                asyncio.get_running_loop().call_later(
                    delay, self._send, status, payload, extra, close
                )
            else:
                self._send(status, payload, extra, close)

    def _send(self, status: int, payload: bytes, extra: dict[str, str], close: bool) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        head = [
            b"HTTP/1.1 %d %s" % (status, _REASONS.get(status, b"Error")),
            b"Content-Type: application/json",
            b"Content-Length: %d" % len(payload),
        ]
        head += [f"{k}: {v}".encode("latin-1") for k, v in extra.items()]
        if close:
            head.append(b"Connection: close")
        transport.write(b"\r\n".join(head) + b"\r\n\r\n")
        transport.write(payload)  # separately: no copy of a large body
        if close:
            transport.close()

    def _close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


async def serve(port: int = 0) -> None:
    """Serve on 127.0.0.1:``port`` until stdin closes (the parent died or let go) or SIGTERM."""
    loop = asyncio.get_running_loop()
    app = App()
    server = await loop.create_server(lambda: _Connection(app), "127.0.0.1", port, backlog=512)
    sock = server.sockets[0]
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    done = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, done.set)
    # Reading stdin in a thread: EOF means the parent is gone, so this process never lingers.
    threading.Thread(
        target=lambda: (sys.stdin.read(), loop.call_soon_threadsafe(done.set)), daemon=True
    ).start()
    await done.wait()
    server.close()


def main() -> None:
    """Entry point of ``python -m benchmarks.jsonserver [PORT]``."""
    asyncio.run(serve(int(sys.argv[1]) if len(sys.argv) > 1 else 0))


if __name__ == "__main__":
    main()
