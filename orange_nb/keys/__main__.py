"""``python -m orange_nb.keys new [--out DIR] [--alg RS256|PS256|ES256]``.

Writes the key pair and prints the public JWK set (JSON, on standard output) to paste into
the application's settings on Orange's developer portal; what to do next goes to standard
error, so ``… > jwks.json`` keeps the JSON alone.
"""

from __future__ import annotations

import argparse
import json
import sys

from ..errors import PrivateKeyError
from ..oauth.assertion import ALGORITHMS
from . import new_key_pair


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m orange_nb.keys",
        description="Key pairs for private_key_jwt (Orange's Network APIs).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    new = commands.add_parser("new", help="write a new key pair; print the public JWK set")
    new.add_argument("--out", default=".", metavar="DIR", help="folder (default: here)")
    new.add_argument("--alg", default="RS256", choices=ALGORITHMS, help="default RS256")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        pair = new_key_pair(args.out, args.alg)
    except (PrivateKeyError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(pair.jwks, indent=2))
    print(
        f"Private key: {pair.private_path} (readable by you only; never share or commit it).\n"
        f"Public JWK set: {pair.public_path} (printed above): paste it into the application's "
        "settings on Orange's developer portal.\n"
        f"Then: ORANGE_PRIVATE_KEY={pair.private_path} (it names its kid, {pair.kid}) and "
        "token_auth_method='private_key_jwt'.",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
