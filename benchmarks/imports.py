"""Figure 6: the cost of ``import orange_nb`` and ``%load_ext orange_nb``, in fresh processes.

``python -c "import orange_nb"`` against ``python -c pass``; an IPython process running
``%load_ext orange_nb`` against one running ``pass`` (IPython's own start is the same on
both sides, so the difference is orange_nb's). Runs alternate (A B B A …); figures are
medians of wall time, from process start to exit. Every run ends by printing which heavy
modules are loaded (pandas, ipywidgets, httpx), the same probe on both sides.

Row 6c, a fresh kernel's first result: an IPython process running ``%load_ext orange_nb``,
making a signed-in session and ``df = %orange GET /records?n=100`` (a DataFrame: pandas
loads) against ``python -c`` running the raw call (``httpx.get(…).json()``) on the same
server; target ≤ 1.5 s above, IPython's own start included.
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


# A session signed in with a long-lived token, as after a sign-in; the call's bearer is it.
_FIRST_CALL = """\
%load_ext orange_nb
import time
from orange_nb import Orange
from orange_nb.oauth.token import Token
orange = Orange(client_id="bench", api_url="{url}", token_url="{url}/token")
orange.keeper.set(Token(access_token="{token}", expires_at=time.time() + 3600, issued_at=time.time()))
df = %orange GET /records?n=100
assert len(df) == 100, df
"""
_RAW_CALL = """\
import httpx
body = httpx.get("{url}/records?n=100", headers={{"Authorization": "Bearer {token}"}}).json()
assert len(body) == 100
"""


def first_call_row(bench: Bench, rounds: int) -> Row:
    """Row 6c: a fresh kernel's ``%load_ext`` and first ``%orange`` call against the raw call."""
    from .calls import TOKEN

    url = bench.json_server().url
    argvs = {
        "raw": [PYTHON, "-c", _RAW_CALL.format(url=url, token=TOKEN) + _PROBE],
        "kernel": [*_IPYTHON, "-c", _FIRST_CALL.format(url=url, token=TOKEN) + _PROBE],
    }
    found: dict[str, dict[str, bool]] = {}

    def side(name: str) -> Callable[[], None]:
        def once() -> None:
            found[name] = _run(argvs[name], bench.tmp)

        return once

    for name in argvs:
        side(name)()  # warm the file cache
    base, cand = alternate(rounds, side("raw"), side("kernel"))
    above = (median(cand.wall) - median(base.wall)) * 1000
    return Row(
        name="first_call",
        title="fresh kernel: %load_ext + first %orange call",
        baseline=median(base.wall),
        candidate=median(cand.wall),
        ratio=median(cand.wall) / median(base.wall),
        above_ms=above,
        target="≤ 1,500 ms above",
        met=above <= 1500 and found["kernel"]["pandas"],
        note="baseline `python -c` + the raw httpx call; IPython's start and pandas' import included",
        data={"modules": found["kernel"], "baseline": vars(base), "candidate": vars(cand)},
    )


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
    rows.append(first_call_row(bench, 1 if bench.quick else 7))
    return rows
