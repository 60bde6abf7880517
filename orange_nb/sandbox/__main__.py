"""``python -m orange_nb.sandbox [--port 8765] [--host 127.0.0.1]``: serve the sandbox alone."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from .clients import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, Client, demo_client
from .oauth_handlers import OIDC_PATH
from .server import MAX_BODY_SIZE, make_app, normalize_prefix
from .state import Sandbox


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m orange_nb.sandbox",
        description="Serve the orange_nb sandbox (synthetic data, not Orange).",
    )
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765; 0: any free)")
    parser.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    parser.add_argument("--prefix", default="/", help="path prefix (default /)")
    parser.add_argument("--auto-consent", metavar="USER", help="approve every sign-in as USER")
    parser.add_argument(
        "--redirect-uri",
        action="append",
        metavar="URL",
        help="the demo client accepts exactly this redirect URI (repeatable), as Orange does "
        "for a registered application; default: any loopback or …/orange/callback URI",
    )
    return parser


def describe(base: str) -> str:
    """What to tell a person about a sandbox served at ``base`` (ending in ``/``)."""
    oidc = base + OIDC_PATH
    return "\n".join(
        [
            "orange_nb sandbox — synthetic data, not Orange",
            f"  discovery      {oidc}.well-known/openid-configuration",
            f"  authorize      {oidc}authorize",
            f"  token          {oidc}token",
            f"  userinfo       {oidc}userinfo",
            f"  API base       {base}sandbox/",
            f"  control        {base}_sandbox/  (settings, faults, stats, reset; no auth)",
            f"  demo client    client_id={DEMO_CLIENT_ID} client_secret={DEMO_CLIENT_SECRET}",
            "  demo user      any user name and password (e.g. demo)",
        ]
    )


async def _serve(args: argparse.Namespace, demo: Client) -> None:
    sandbox = Sandbox(demo=demo)
    if args.auto_consent:
        sandbox.configure(auto_consent=args.auto_consent)
    prefix = normalize_prefix(args.prefix)
    sockets = bind_sockets(args.port, args.host)
    server = HTTPServer(make_app(sandbox, prefix=prefix), max_body_size=MAX_BODY_SIZE)
    server.add_sockets(sockets)
    port = sockets[0].getsockname()[1]
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(describe(f"http://{host}:{port}{prefix}"), flush=True)
    if args.redirect_uri:
        print(f"  redirect URIs  only {', '.join(demo.redirect_uris)}", flush=True)
    await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> int:
    """Run until interrupted."""
    args = _parser().parse_args(argv)
    try:
        demo = demo_client(args.redirect_uri)
    except ValueError as exc:
        print(f"--redirect-uri: {exc}.", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        asyncio.run(_serve(args, demo))
    except KeyboardInterrupt:
        return 0
    except OSError as exc:
        print(
            f"Cannot serve on {args.host}:{args.port}: {exc.strerror}. Try another --port.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
