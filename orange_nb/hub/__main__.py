"""``python -m orange_nb.hub``: run the JupyterHub service (``--new-key`` prints a key)."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import os
import sys
from urllib.parse import urlsplit

from ..errors import OrangeNBError
from .broker import new_key
from .config import from_env


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m orange_nb.hub",
        description="orange_nb's JupyterHub service: one Orange application for the hub.",
    )
    parser.add_argument(
        "--new-key", action="store_true", help="print a new ORANGE_HUB_KEY and exit"
    )
    return parser


async def _serve() -> None:
    settings = from_env()  # before the heavy imports: a configuration error says so at once
    from tornado.httpserver import HTTPServer

    from .service import make_app

    app, _ = make_app(settings)
    # The hub says where to listen (the service's `url`), else 127.0.0.1:10101.
    where = urlsplit(os.environ.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:10101"))
    server = HTTPServer(app, xheaders=True, max_body_size=64 * 1024)
    server.listen(where.port or 80, _bind_address(where.hostname or "127.0.0.1"))
    logging.getLogger("orange_nb.hub").info(
        "orange_nb hub service on %s%s (client %s)",
        where.netloc,
        settings.prefix,
        settings.client_id,
    )
    await asyncio.Event().wait()


def _bind_address(host: str) -> str:
    """An address or ``localhost`` is bound as given; a DNS name (``http://hub:10101`` on
    Kubernetes, which names a Service, not this pod) means every interface of the pod."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host if host == "localhost" else ""
    return host


def main(argv: list[str] | None = None) -> int:
    """Run the service until stopped; 2 with one paragraph for a configuration error."""
    args = _parser().parse_args(argv)
    if args.new_key:
        print(new_key())
        return 0
    logging.basicConfig(level=logging.WARNING, format="[%(name)s %(asctime)s] %(message)s")
    logging.getLogger("orange_nb.hub").setLevel(logging.INFO)  # ours: the access log, sign-ins
    try:
        asyncio.run(_serve())
    except OrangeNBError as exc:
        print(f"orange_nb hub: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
