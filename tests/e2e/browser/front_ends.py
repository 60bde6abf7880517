"""Moves shared by the Run All, Deny-retry and screenshot scripts, in JupyterLab 4 and Notebook 7.

Both front ends expose ``window.jupyterapp`` (``expose_app_in_browser``) with the same
notebook commands, so one set of moves drives either.
"""

from __future__ import annotations

from typing import Any

import nbformat
from lab_harness import Lab, leaks
from playwright.sync_api import Error

VIEWPORT = {"width": 1400, "height": 1000}
KERNEL_IDLE = """() => {
    const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const kernel = panel && panel.sessionContext && panel.sessionContext.session
        && panel.sessionContext.session.kernel;
    return !!kernel && kernel.status === "idle" && !!panel.content
        && panel.content.widgets.length > 0;
}"""
# The sign-in link's box lies wholly inside the viewport (no scrolling needed to click it).
LINK_IN_VIEW = """() => {
    const link = document.querySelector('a.orange-nb-signin');
    if (!link) return false;
    const r = link.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && r.top >= 0 && r.left >= 0
        && r.bottom <= window.innerHeight && r.right <= window.innerWidth;
}"""


def write_notebook(lab: Lab, name: str, sources: list[str]) -> None:
    """A notebook of code cells ``sources`` in the served directory."""
    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    book.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(book, lab.root / name)


def open_notebook(context: Any, lab: Lab, name: str) -> Any:
    """A new 1400×1000 page with ``name`` open and its kernel idle."""
    page = context.new_page()
    page.set_viewport_size(VIEWPORT)
    page.set_default_timeout(30_000)
    page.goto(lab.page_url(name))
    page.wait_for_function(KERNEL_IDLE, timeout=90_000)
    return page


def command(page: Any, name: str, args: dict[str, Any] | None = None) -> None:
    """Start a front-end command without awaiting it (a cell may wait on the sign-in)."""
    page.evaluate(
        "([name, args]) => { window.jupyterapp.commands.execute(name, args); return 1; }",
        [name, args or {}],
    )


def sign_in_in_popup(page: Any, lab: Lab, decision: str = "approve") -> Any:
    """Click "Sign in with Orange"; in the new page of the same context go through the
    sandbox's sign-in and consent pages; the popup (it may have closed itself already)."""
    link = page.locator("a.orange-nb-signin")
    assert link.get_attribute("href").startswith(f"{lab.base_url}orange/login/")
    with page.expect_popup() as opened:
        link.click()
    popup = opened.value
    popup.fill("#username", "demo")
    popup.fill("#password", "demo")
    popup.click("button#sign-in")
    with popup.expect_response(lambda r: "/orange/callback?" in r.url) as landed:
        popup.click(f"button#{decision}")
    callback = landed.value
    assert callback.status == 200, callback.status
    try:
        text = callback.text()
    except Error:  # the "Signed in" tab closed itself before its body was read
        text = ""
    assert not leaks(text.replace(callback.url, ""))
    return popup


def cell_output(page: Any, index: int) -> str:
    """The text of cell ``index``'s outputs."""
    return str(
        page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-OutputArea").inner_text()
    )
