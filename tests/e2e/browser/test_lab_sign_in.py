"""Signing in from JupyterLab in a real browser: click, sandbox pages, tokens in the kernel.

Each test opens a notebook in a fresh browser context, runs it, completes the sandbox's
sign-in and consent pages in the popup the widget's link opens, and checks what the
person sees and what the saved notebook holds.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest
from front_ends import write_notebook
from lab_harness import ARTIFACTS, REPO, Lab, leaks
from playwright.sync_api import Error as PlaywrightError

pytestmark = pytest.mark.browser

QUICKSTART = "01-quickstart.ipynb"
IDLE = '.jp-Notebook-ExecutionIndicator[data-status="idle"]'
KERNEL_IDLE = """() => {
    const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const kernel = panel && panel.sessionContext && panel.sessionContext.session
        && panel.sessionContext.session.kernel;
    return !!kernel && kernel.status === "idle" && panel.content.widgets.length > 0;
}"""
SIGNED_IN = '.orange-nb-status:has-text("Signed in as Demo User")'
README_IMAGE = REPO / "docs" / "images" / "quickstart-signed-in.png"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


# --- moves in JupyterLab ------------------------------------------------------------------
def open_notebook(context: Any, lab: Lab, name: str) -> Any:
    """A new page with ``name`` open and its kernel idle."""
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(lab.page_url(name))
    # The indicator reads "idle" before a kernel exists; commands sent then are lost.
    page.wait_for_function(KERNEL_IDLE, timeout=90_000)
    return page


def command(page: Any, name: str) -> None:
    """Start a JupyterLab command without awaiting it (a cell may wait on the sign-in)."""
    page.evaluate("(name) => { window.jupyterapp.commands.execute(name); return 1; }", name)


def select_cell(page: Any, index: int) -> None:
    """Make cell ``index`` of the open notebook the active one."""
    page.evaluate(
        "(i) => { window.jupyterapp.shell.currentWidget.content.activeCellIndex = i; }", index
    )


def cell_sources(page: Any) -> list[str]:
    """The sources of the open notebook's cells, in order."""
    return page.evaluate(  # type: ignore[no-any-return]
        "() => window.jupyterapp.shell.currentWidget.content.widgets"
        ".map(c => c.model.sharedModel.getSource())"
    )


def code_cells_before(page: Any, index: int) -> int:
    """How many code cells come before cell ``index``."""
    kinds: list[str] = page.evaluate(
        "() => window.jupyterapp.shell.currentWidget.content.widgets.map(c => c.model.type)"
    )
    return sum(1 for kind in kinds[:index] if kind == "code")


def wait_until_ran(page: Any, code_cells: int | None = None, timeout: float = 90_000) -> None:
    """Wait until the first ``code_cells`` code cells (all by default) show an execution count."""
    page.wait_for_function(
        """(n) => {
            const prompts = [...document.querySelectorAll(
                '.jp-Notebook .jp-CodeCell .jp-InputArea-prompt')].map(p => p.textContent.trim());
            const shown = n === null ? prompts : prompts.slice(0, n);
            return shown.length > 0 && shown.every(t => /^\\[\\d+\\]:$/.test(t));
        }""",
        arg=code_cells,
        timeout=timeout,
    )
    page.wait_for_selector(IDLE, timeout=timeout)


def sign_in(page: Any, lab: Lab, decision: str = "approve") -> list[str]:
    """Click "Sign in with Orange", go through the pages in the popup; the URLs it visited."""
    link = page.locator("a.orange-nb-signin")
    # Path-only: the server extension builds the rest from the address the browser uses.
    assert link.get_attribute("href").startswith(f"{lab.base_url}orange/login/")
    with page.expect_popup() as opened:
        link.click()
    popup = opened.value
    visited: list[str] = [popup.url]
    popup.on("request", lambda request: visited.append(request.url))
    popup.fill("#username", "demo")
    popup.fill("#password", "demo")
    popup.click("button#sign-in")
    with popup.expect_response(lambda r: "/orange/callback?" in r.url) as landed:
        popup.click(f"button#{decision}")
    callback = landed.value
    assert callback.url.startswith(f"{lab.url}orange/callback?"), callback.url
    assert callback.status == 200
    try:
        page_text = callback.text()
    except PlaywrightError:  # the "Signed in" tab closed itself before its body was read
        page_text = "<title>Signed in</title>"
    if decision == "approve":
        assert "<title>Signed in</title>" in page_text
    else:
        assert "refused" in page_text
    assert not leaks(page_text.replace(callback.url, ""))
    if not popup.is_closed():
        popup.close()
    return visited


def save(page: Any, lab: Lab, name: str) -> str:
    """Save the open notebook; its text on disk."""
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    return (lab.root / name).read_text()


def assert_saved_clean(text: str) -> dict[str, Any]:
    """The saved notebook ran without errors and holds no secret, widget state included."""
    assert leaks(text) == [], f"the saved notebook leaks: {leaks(text)}"
    book: dict[str, Any] = json.loads(text)
    code = [cell for cell in book["cells"] if cell["cell_type"] == "code"]
    assert all(isinstance(cell["execution_count"], int) for cell in code)
    errors = [o for cell in code for o in cell["outputs"] if o["output_type"] == "error"]
    assert errors == []
    # Widget state is saved in this profile: the scan above must have covered it.
    state = book["metadata"]["widgets"][WIDGET_STATE]["state"]
    assert any("orange-nb-status" in json.dumps(model) for model in state.values())
    return book


def photograph(page: Any, path: Path) -> None:
    """A screenshot of the notebook from the login cell down: widget, tables, plot."""
    page.evaluate("() => window.jupyterapp.shell.collapseLeft()")
    page.set_viewport_size({"width": 1180, "height": 2260})
    page.locator(".jp-CodeCell", has_text="%orange login").evaluate(
        "cell => cell.scrollIntoView({block: 'start'})"
    )
    page.wait_for_timeout(300)  # let the layout settle after the resize
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))


# --- tests ------------------------------------------------------------------------------
def test_quickstart_run_all_signs_in_through_the_pages(lab: Lab, browser_context: Any) -> None:
    page = open_notebook(browser_context, lab, QUICKSTART)
    command(page, "notebook:run-all-cells")
    sign_in(page, lab)
    page.wait_for_selector(SIGNED_IN)
    page.wait_for_selector(".jp-OutputArea-output table.dataframe")
    wait_until_ran(page)
    # The last cell signs out, and the widget says so.
    page.wait_for_selector('.orange-nb-status:has-text("Not signed in")')
    assert leaks(page.content()) == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "quickstart-run-all.png"), full_page=True)
    book = assert_saved_clean(save(page, lab, QUICKSTART))
    zones = next(c for c in book["cells"] if "zones = %orange GET" in "".join(c["source"]))
    assert "zone-01" in json.dumps(zones["outputs"])


def test_quickstart_under_a_base_url(lab_prefixed: Lab, browser_context: Any) -> None:
    """As on a hub or Binder: every URL the browser sees stays under ``/user/alice/``.

    Runs the cells above the sign-out, photographs the signed-in notebook, then signs out.
    """
    lab = lab_prefixed
    page = open_notebook(browser_context, lab, QUICKSTART)
    sign_out = cell_sources(page).index("%orange logout")
    select_cell(page, sign_out)
    command(page, "notebook:run-all-above")
    visited = sign_in(page, lab)
    assert visited and all(url.startswith(lab.url) for url in visited), visited
    page.wait_for_selector(SIGNED_IN)
    page.wait_for_selector(".jp-OutputArea-output table.dataframe")
    page.wait_for_selector(".jp-OutputArea-output img:not(.orange-nb-script)")  # the plot
    wait_until_ran(page, code_cells=code_cells_before(page, sign_out))
    photograph(page, ARTIFACTS / "quickstart-signed-in.png")
    if os.environ.get("ORANGE_NB_README_SCREENSHOT"):
        shutil.copyfile(ARTIFACTS / "quickstart-signed-in.png", README_IMAGE)
    select_cell(page, sign_out)
    command(page, "notebook:run-all-below")
    wait_until_ran(page)
    page.wait_for_selector('.orange-nb-status:has-text("Not signed in")')
    assert leaks(page.content()) == []
    assert_saved_clean(save(page, lab, QUICKSTART))


def test_deny_ends_the_wait_with_one_line(lab: Lab, browser_context: Any) -> None:
    shutil.copyfile(lab.root / QUICKSTART, lab.root / "deny.ipynb")
    page = open_notebook(browser_context, lab, "deny.ipynb")
    command(page, "notebook:run-all-cells")
    sign_in(page, lab, decision="deny")
    status = page.locator(
        '.orange-nb-status.orange-nb-error:has-text("Sign-in failed — see the error below")'
    )
    status.wait_for()  # the widget points at the reason instead of repeating it
    # The cell fails with the reason, on one line, and no traceback.
    login_cell = page.locator(".jp-CodeCell", has_text="%orange login")
    error = login_cell.locator("pre.orange-nb-error")  # the error's display (_ipython.py)
    error.wait_for()
    lines = [line for line in error.inner_text().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("LoginError: "), lines
    assert "The sign-in was refused" in lines[0]
    page.wait_for_selector(IDLE)
    # "Run All" stopped at the failed cell: no API call was made.
    assert page.locator("table.dataframe").count() == 0
    assert leaks(page.content()) == []
    login_cell.screenshot(path=str(ARTIFACTS / "quickstart-denied.png"))


RESTART_NOTEBOOK = [
    "%load_ext orange_nb",
    'from orange_nb import Orange\n\norange = Orange.sandbox(token_store="file")\n'
    "orange.login(wait=True)",
    'orange.get("/sandbox/mobility/v1/zones")',
]


def test_kernel_restart_with_the_file_store_needs_no_pages(lab: Lab, browser_context: Any) -> None:
    name = "restart.ipynb"
    write_notebook(lab, name, RESTART_NOTEBOOK)
    page = open_notebook(browser_context, lab, name)
    popups: list[Any] = []
    page.on("popup", lambda popup: popups.append(popup))

    command(page, "notebook:run-all-cells")
    sign_in(page, lab)
    page.wait_for_selector(SIGNED_IN)
    wait_until_ran(page)
    stored = list((lab.data_dir / "orange_nb" / "tokens").glob("*.json"))
    assert len(stored) == 1 and stat.S_IMODE(stored[0].stat().st_mode) == 0o600
    authorizations = lab.sandbox_stats()["authorizations"]["requested"]

    before = lab.kernel_of(name)
    # Restarted through the page's own kernel connection, which resolves once it has
    # reconnected: a restart behind its back (the REST API) let the next "run all" send
    # its first cell into the restart, where the reply was lost and the cell stayed [*].
    page.evaluate(
        "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.restart()"
    )
    page.wait_for_function(KERNEL_IDLE, timeout=90_000)
    assert lab.kernel_of(name) == before  # the same kernel id, a new process
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
    popups.clear()
    command(page, "notebook:run-all-cells")
    page.wait_for_selector(SIGNED_IN)
    page.wait_for_selector(".jp-OutputArea-output table.dataframe")
    wait_until_ran(page)
    prompts = page.evaluate(
        "() => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputArea-prompt')]"
        ".map(p => p.textContent.trim())"
    )
    assert prompts[0] == "[1]:", prompts  # counts start again: a new kernel process ran them
    assert popups == []
    assert lab.sandbox_stats()["authorizations"]["requested"] == authorizations
    assert page.locator("a.orange-nb-signin").count() == 0
