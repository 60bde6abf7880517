"""Deny, then sign in again, in JupyterLab 4 and Notebook 7: one error shown once, one
instruction everywhere, nothing stale once signed in.

The refusal's reason appears once (in the failed cell, which still fails and stops Run All);
the widget points at it; the browser tab gives the same instruction. Signing in again from
the widget clears the widget's error and the cell's red line (on screen and in the saved
notebook), and the "Signed in" tab closes itself or says why not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from front_ends import cell_output, command, open_notebook, sign_in_in_popup, write_notebook
from lab_harness import Lab, running_lab

from orange_nb._ipython import QUIET_TRACEBACK
from orange_nb.serverext.pages import CANNOT_CLOSE, REFUSED
from orange_nb.widget.words import ERROR_BELOW

pytestmark = pytest.mark.browser

CELLS = [
    "from orange_nb import Orange\n\norange = Orange.sandbox()",
    "orange.login(wait=True)",
    'print("after:", orange.status)',
]


# The visible boxes of the login cell's stderr outputs (an error output renders as one).
RED_BOXES = """() => [...[...document.querySelectorAll('.jp-Notebook .jp-Cell')][1]
    .querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
    .map(e => e.getBoundingClientRect().height).filter(h => h > 0)"""


@pytest.fixture(scope="module", params=["lab", "notebook"])
def front_end(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Lab]:
    """JupyterLab 4, then Notebook 7, each with orange_nb's server extension."""
    with running_lab(tmp_path_factory.mktemp(request.param), "/", app=request.param) as server:
        yield server


def test_deny_then_sign_in_again(front_end: Lab, browser_context: Any) -> None:
    lab = front_end
    write_notebook(lab, "deny-retry.ipynb", CELLS)
    page = open_notebook(browser_context, lab, "deny-retry.ipynb")
    command(page, "notebook:run-all-cells")
    page.locator("a.orange-nb-signin").wait_for()

    tab = sign_in_in_popup(page, lab, decision="deny")
    said_in_tab = tab.locator("main p").first.inner_text().strip()
    assert said_in_tab == REFUSED
    tab.close()

    status = page.locator(".orange-nb-status.orange-nb-error")
    page.wait_for_function(
        "(text) => document.querySelector('.orange-nb-status.orange-nb-error')"
        "?.textContent === text",
        arg=ERROR_BELOW,
    )
    login_output = cell_output(page, 1)
    # Once: the failed cell says it (same instruction as the tab); the widget points at it.
    assert login_output.count("The sign-in was refused") == 1, login_output
    assert REFUSED in login_output
    assert status.inner_text().strip() == ERROR_BELOW
    assert "after:" not in cell_output(page, 2)  # the cell failed: Run All stopped there
    assert page.evaluate(RED_BOXES) == []  # the error output itself shows no (empty) red box

    page.locator('.jupyter-widgets.widget-button:has-text("Sign in again")').click()
    page.locator("a.orange-nb-signin").wait_for()
    tab = sign_in_in_popup(page, lab)
    page.wait_for_selector('.orange-nb-status.orange-nb-ok:has-text("Signed in as Demo User")')
    assert page.locator(".orange-nb-status.orange-nb-error").count() == 0  # no stale error
    # Nor in the cell: its red line became a quiet note, and no empty red box is left.
    page.wait_for_function(
        "() => /Resolved: signed in at/.test("
        "[...document.querySelectorAll('.jp-Notebook .jp-Cell')][1].innerText)"
    )
    login_output = cell_output(page, 1)
    assert "LoginError" not in login_output and "refused" not in login_output, login_output
    assert re.search(r"Resolved: signed in at \d\d:\d\d:\d\d", login_output), login_output
    assert page.evaluate(RED_BOXES) == []
    # What is saved says the same: no red text left (the error output's traceback renders
    # as nothing), and the cell still counts as failed.
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    path = lab.root / "deny-retry.ipynb"
    for _ in range(100):
        if "Resolved: signed in at" in path.read_text():
            break
        page.wait_for_timeout(100)
    saved = json.loads(path.read_text())["cells"][1]["outputs"]
    assert [o["traceback"] for o in saved if o["output_type"] == "error"] == [[QUIET_TRACEBACK]]
    shown = [o["data"] for o in saved if o["output_type"] == "display_data"]
    assert not any("LoginError" in json.dumps(data) for data in shown), shown
    # The tab closed itself (the browser allowed it), or says plainly that it could not.
    for _ in range(30):
        if tab.is_closed():
            break
        page.wait_for_timeout(100)
    else:
        assert tab.locator("#orange-nb-next").inner_text().strip() == CANNOT_CLOSE
