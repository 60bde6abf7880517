"""Figure 6: the cost of ``import orange_nb`` and ``%load_ext orange_nb``, in fresh processes.

``python -c "import orange_nb"`` against ``python -c pass``; an IPython process running
``%load_ext orange_nb`` against one running ``pass`` (IPython's own start is the same on
both sides, so the difference is orange_nb's). Runs alternate (A B B A …); figures are
medians of wall time, from process start to exit. Every run ends by printing which heavy
modules are loaded (pandas, ipywidgets, httpx), the same probe on both sides.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

from .core import PYTHON, Bench, Row, alternate, clean_env, median

# The settings that keep an IPython process from touching files that could slow one side.
_IPYTHON = [PYTHON, "-m", "IPython", "--no-banner", "--HistoryManager.enabled=False", "--quick"]
_PROBE = (
    "import sys, json; print('@@' + json.dumps({m: m in sys.modules for m in "
    "('pandas', 'numpy', 'ipywidgets', 'httpx', 'IPython')}))"
)


def _run(argv: list[str], cwd: Path) -> dict[str, bool]:
    """Run ``argv`` (which ends with the probe); which modules it had loaded."""
    done = subprocess.run(
        argv, cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0 or "@@" not in done.stdout:
        raise RuntimeError(f"{argv[-1]!r} failed:\n{done.stderr[-2000:]}")
    line = next(line for line in done.stdout.splitlines() if "@@" in line)
    found: dict[str, bool] = json.loads(line.split("@@", 1)[1])
    return found


def run(bench: Bench) -> list[Row]:
    """Python then IPython; a neutral working directory so only installed code is found."""
    cwd = bench.tmp
    rounds, ip_rounds = (3, 1) if bench.quick else (21, 9)
    # Both sides end with the same probe (a few ms), so the difference is orange_nb's alone.
    argvs = {
        "plain": [PYTHON, "-c", "pass\n" + _PROBE],
        "import": [PYTHON, "-c", "import orange_nb\n" + _PROBE],
        "ip_plain": [*_IPYTHON, "-c", "pass\n" + _PROBE],
        "load_ext": [*_IPYTHON, "-c", "%load_ext orange_nb\n" + _PROBE],
    }
    found: dict[str, dict[str, bool]] = {}

    def side(name: str) -> Callable[[], None]:
        def once() -> None:
            found[name] = _run(argvs[name], cwd)

        return once

    for name in ("plain", "import") if bench.quick else argvs:
        side(name)()  # warm the file cache
    base, cand = alternate(rounds, side("plain"), side("import"))
    ip_base, ip_cand = alternate(ip_rounds, side("ip_plain"), side("load_ext"))

    def loaded(modules: dict[str, bool]) -> str:
        return ", ".join(m for m in ("pandas", "ipywidgets", "httpx") if modules[m]) or "none"

    rows = []
    for name, title, b, c, baseline in (
        ("import", "import orange_nb", base, cand, "python -c pass"),
        ("load_ext", "%load_ext orange_nb", ip_base, ip_cand, "IPython -c pass"),
    ):
        above = (median(c.wall) - median(b.wall)) * 1000
        modules = found[name]
        rows.append(
            Row(
                name=name,
                title=title,
                baseline=median(b.wall),
                candidate=median(c.wall),
                ratio=median(c.wall) / median(b.wall),
                above_ms=above,
                target="≤ 150 ms above; no pandas",
                met=above <= 150 and not modules["pandas"],
                note=f"baseline `{baseline}`; imported afterwards: {loaded(modules)}",
                data={"modules": modules, "baseline": vars(b), "candidate": vars(c)},
            )
        )
    return rows
