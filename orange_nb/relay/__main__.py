"""``python -m orange_nb.relay build --allow PATTERN … --out DIR [--no-loopback]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .page import DEFAULT_AUTHORIZE, build_page, write_site
from .patterns import PatternError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m orange_nb.relay",
        description="Build the sign-in relay page (one static HTML file) to host and register.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="write index.html (and _headers) into --out")
    build.add_argument(
        "--allow",
        action="append",
        default=[],
        metavar="PATTERN",
        help="an origin sign-ins may return to, such as 'https://*.mybinder.org' (repeatable)",
    )
    build.add_argument(
        "--authorize-origin",
        action="append",
        metavar="PATTERN",
        help=f"where a sign-in link may lead (repeatable; default {DEFAULT_AUTHORIZE[0]})",
    )
    build.add_argument(
        "--no-loopback",
        action="store_true",
        help="do not return to http://127.0.0.1:* and http://localhost:* (kernels on this machine)",
    )
    build.add_argument("--out", required=True, type=Path, help="the folder to write")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Build the page; 2 with one line on stderr for a pattern that cannot be read."""
    args = _parser().parse_args(argv)
    try:
        page = build_page(
            args.allow,
            authorize=args.authorize_origin or DEFAULT_AUTHORIZE,
            loopback=not args.no_loopback,
        )
    except PatternError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    paths = write_site(page, args.out)
    print(f"Wrote {', '.join(str(p) for p in paths)}.")
    print(
        "Returns sign-ins to: " + (", ".join(str(p) for p in page.allow) or "nothing (paste only)")
    )
    print("Follows sign-in links to: " + ", ".join(str(p) for p in page.authorize))
    print(
        "Host the folder, register the page's address as the application's redirect URI, and "
        "set Orange.relay_url (or ORANGE_RELAY_URL) to it. Send the headers in _headers too "
        "(frame-ancestors only works as a header)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
