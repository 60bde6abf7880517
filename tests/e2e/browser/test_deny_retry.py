"""Deny, then sign in again, in JupyterLab: one error shown once, one instruction everywhere.

The refusal's reason appears once (in the failed cell, which still fails and stops Run All);
the widget points at it; the browser tab gives the same instruction. Signing in again from
the widget clears the widget's error, and the "Signed in" tab closes itself or says why not.
"""

from __future__ import annotations

from typing import Any

import pytest
from front_ends import cell_output, command, open_notebook, sign_in_in_popup, write_notebook
from lab_harness import Lab

from orange_nb.serverext.pages import CANNOT_CLOSE, REFUSED
from orange_nb.widget.words import ERROR_BELOW

pytestmark = pytest.mark.browser

CELLS = [
    "from orange_nb import Orange\n\norange = Orange.sandbox()",
    "orange.login(wait=True)",
    'print("after:", orange.status)',
]


def test_deny_then_sign_in_again(lab: Lab, browser_context: Any) -> None:
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

    page.locator('.jupyter-widgets.widget-button:has-text("Sign in again")').click()
    page.locator("a.orange-nb-signin").wait_for()
    tab = sign_in_in_popup(page, lab)
    page.wait_for_selector('.orange-nb-status.orange-nb-ok:has-text("Signed in as Demo User")')
    assert page.locator(".orange-nb-status.orange-nb-error").count() == 0  # no stale error
    # The tab closed itself (the browser allowed it), or says plainly that it could not.
    for _ in range(30):
        if tab.is_closed():
            break
        page.wait_for_timeout(100)
    else:
        assert tab.locator("#orange-nb-next").inner_text().strip() == CANNOT_CLOSE
