"""``python -m benchmarks.memory URL N``: the peak memory of one ``orange.get`` of N records.

Run in a fresh process so nothing else's memory counts: RSS is read before the call and its
peak (``VmHWM``, reset first through ``/proc/self/clear_refs`` where allowed) after; the
answer is one JSON line: ``peak_growth``, ``frame_bytes`` (``memory_usage(deep=True)``),
``body_bytes``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def main() -> None:
    """Measure and print the JSON line."""
    import pandas  # noqa: F401  # imported before the baseline: its memory is not the call's

    from .calls import session
    from .core import JsonServer  # noqa: F401
    from .jsonserver import records_body

    url, n = sys.argv[1], int(sys.argv[2])
    orange = session(type("S", (), {"url": url})())
    orange.get("/small")  # connections, imports and caches warmed
    body_bytes = len(records_body(1)) * n
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    except OSError:
        pass
    before = _status("VmRSS")
    frame = orange.get(f"/records?n={n}")
    peak = _status("VmHWM")
    print(
        json.dumps(
            {
                "records": n,
                "peak_growth": peak - before,
                "frame_bytes": int(frame.memory_usage(deep=True).sum()),
                "body_bytes": body_bytes,
                "rss_before": before,
            }
        )
    )


if __name__ == "__main__":
    main()
