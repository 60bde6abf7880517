"""Start a Jupyter server and write the key orange_nb's extension made for its kernels.

``python -m benchmarks.jupyterlaunch KEY_FILE [server options…]``. The extension puts its
key into the server's own environment when it loads (kernels inherit it); the benchmark
process plays a kernel, so it reads the key from ``KEY_FILE`` instead. The server stops
when stdin closes (the parent exited). ``BENCH_SERVER_PROFILE=FILE`` profiles the server
(to diagnose a figure).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from pathlib import Path


def _stop_at_eof() -> None:
    sys.stdin.read()
    os.kill(os.getpid(), signal.SIGTERM)  # the server's own handler shuts it down cleanly


def main() -> None:
    """Initialize the server (the extension loads), write the key, then serve."""
    from jupyter_server.serverapp import ServerApp

    from orange_nb.serverext.environ import SERVER_KEY_VAR

    key_file = Path(sys.argv[1])
    app = ServerApp.instance()
    app.initialize(sys.argv[2:])
    partial = key_file.with_suffix(".tmp")
    partial.write_text(json.dumps({"key": os.environ[SERVER_KEY_VAR]}))
    partial.replace(key_file)  # whole or absent: the parent never reads half a file
    # Stdin closes when the parent exits, however it exits: stop then, never linger.
    threading.Thread(target=_stop_at_eof, daemon=True).start()
    profile = os.environ.get("BENCH_SERVER_PROFILE")
    if not profile:
        app.start()
        return
    # Diagnosis only: profile the whole server run, written when it stops (SIGTERM).
    import cProfile

    profiler = cProfile.Profile()
    profiler.runcall(app.start)
    profiler.dump_stats(profile)


if __name__ == "__main__":
    main()
