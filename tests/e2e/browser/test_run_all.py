"""Run All in JupyterLab 4 and Notebook 7: the waiting sign-in is on screen, the rest runs after.

A 30-cell notebook whose login cell sits far above the last one: Run All scrolls to the
bottom, the login cell blocks on ``orange.login(wait=True)``, and the sign-in link must be
inside the 1400×1000 viewport without any scrolling by the test. After signing in (the
sandbox's pages in a new page of the same context) every remaining cell runs by itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from front_ends import (
    LINK_IN_VIEW,
    cell_output,
    command,
    open_notebook,
    sign_in_in_popup,
    write_notebook,
)
from lab_harness import Lab, running_lab

pytestmark = pytest.mark.browser

LOGIN_CELL = 4
FILLER = (
    "# a cell of the analysis\n" * 5
    + 'print("\\n".join(f"row {i} of cell {n}" for i in range(10)))'
)
CELLS = [
    "from orange_nb import Orange\n\norange = Orange.sandbox()",
    *[FILLER.replace("{n}", str(n)) for n in range(1, LOGIN_CELL)],
    "orange.login(wait=True)",
    *[FILLER.replace("{n}", str(n)) for n in range(LOGIN_CELL + 1, 29)],
    'print("last cell:", orange.status)',
]
assert len(CELLS) == 30


@pytest.fixture(scope="module", params=["lab", "notebook"])
def front_end(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Lab]:
    """JupyterLab 4, then Notebook 7, each with orange_nb's server extension."""
    with running_lab(tmp_path_factory.mktemp(request.param), "/", app=request.param) as server:
        yield server


def test_run_all_brings_the_sign_in_into_view_then_runs_the_rest(
    front_end: Lab, browser_context: Any
) -> None:
    lab = front_end
    write_notebook(lab, "run-all.ipynb", CELLS)
    page = open_notebook(browser_context, lab, "run-all.ipynb")
    command(page, "notebook:run-all-cells")
    page.locator("a.orange-nb-signin").wait_for(state="attached", timeout=60_000)
    # The notebook is far taller than the window: the link could only be seen by scrolling.
    tall = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('.jp-WindowedPanel-outer, "
        ".jp-Notebook')].map(e => e.scrollHeight))"
    )
    assert tall > 3 * page.viewport_size["height"], tall
    page.wait_for_function(LINK_IN_VIEW, timeout=10_000)
    box = page.locator("a.orange-nb-signin").bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 1000, box
    assert "[*]" in page.locator(".jp-Notebook .jp-Cell").nth(29).inner_text()  # still queued

    popup = sign_in_in_popup(page, lab)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.jp-Notebook .jp-Cell')][29]"
        "?.innerText.includes('last cell: signed_in')",
        timeout=60_000,
    )
    assert "last cell: signed_in" in cell_output(page, 29)
    assert "row 9 of cell 28" in cell_output(page, 28)
    assert "Signed in as Demo User" in cell_output(page, LOGIN_CELL)
    if not popup.is_closed():
        popup.close()
