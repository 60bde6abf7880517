"""The extension's settings, read from Jupyter's own configuration (``c.OrangeNB.…``)."""

from __future__ import annotations

from traitlets import Bool, List, Unicode
from traitlets.config import Configurable


class OrangeNB(Configurable):
    """orange_nb in a Jupyter server.

    In ``jupyter_server_config.py``: ``c.OrangeNB.mount_sandbox = False``; on the command
    line: ``jupyter lab --OrangeNB.mount_sandbox=False``.
    """

    mount_sandbox = Bool(
        True,
        help="Serve the Orange sandbox under {base_url}orange/sandbox/ (synthetic data, a demo "
        "client). Turn it off on shared servers that only use the real Orange.",
    ).tag(config=True)
    sandbox_redirect_uris = List(
        Unicode(),
        help="Exact redirect URIs the mounted sandbox's demo client accepts besides this "
        "server's own callback and loopback ones (for example a relay page's URL).",
    ).tag(config=True)
    sandbox_exact_redirects = Bool(
        False,
        help="The mounted sandbox's demo client accepts only `sandbox_redirect_uris`, exactly, "
        "as Orange does for a registered application (a workshop rehearsal with a relay).",
    ).tag(config=True)
