"""orange_nb's Jupyter server extension: the kernels' login API, the callback, the sandbox.

This module stays light: ``orange_nb`` re-exports ``_jupyter_server_extension_points`` and
is imported in every kernel, which must not load Jupyter server code for it.
"""

from __future__ import annotations

from typing import Any


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """Where Jupyter finds the extension's load and start hooks."""
    return [{"module": "orange_nb.serverext"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    """Jupyter hook: add the routes and publish the kernels' environment."""
    from .extension import load  # here, not at import: see the module docstring

    load(serverapp)


async def _start_jupyter_server_extension(serverapp: Any) -> None:
    """Jupyter hook, once the server listens: publish the final port."""
    from .extension import publish_environ

    publish_environ(serverapp)
