"""Regenerate the README's screenshots, light and dark JupyterLab theme, from a real sign-in.

Run from the repository root (Chromium at /usr/bin/chromium, the ``test`` extra installed)::

    .venv/bin/python tests/e2e/browser/screenshots.py

It starts a JupyterLab with orange_nb's server extension in a temporary directory, runs the
quickstart down to the sign-out, signs in through the mounted sandbox's pages, and writes
``docs/images/quickstart-signed-in.png`` (light) and ``quickstart-signed-in-dark.png`` (dark).
Takes about 30 s; stops the server it started.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from front_ends import command, open_notebook, sign_in_in_popup
from lab_harness import REPO, running_lab
from playwright.sync_api import Page, sync_playwright

IMAGES = REPO / "docs" / "images"
QUICKSTART = "01-quickstart.ipynb"
THEMES = {
    "JupyterLab Light": "quickstart-signed-in.png",
    "JupyterLab Dark": "quickstart-signed-in-dark.png",
}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def photograph(page: Page, path: Path) -> None:
    """The notebook from the login cell down: widget, tables, plot."""
    page.evaluate("() => window.jupyterapp.shell.collapseLeft()")
    page.set_viewport_size({"width": 1180, "height": 2260})
    page.locator(".jp-CodeCell", has_text="%orange login").evaluate(
        "cell => cell.scrollIntoView({block: 'start'})"
    )
    page.wait_for_timeout(500)  # let the layout (and a theme change) settle
    page.screenshot(path=str(path))


def main() -> None:
    """Sign in once, photograph the notebook in each theme."""
    IMAGES.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_lab(Path(tmp), "/") as lab,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        context = browser.new_context()
        page = open_notebook(context, lab, QUICKSTART)
        sources: list[str] = page.evaluate(
            "() => window.jupyterapp.shell.currentWidget.content.widgets"
            ".map(c => c.model.sharedModel.getSource())"
        )
        page.evaluate(
            "(i) => { window.jupyterapp.shell.currentWidget.content.activeCellIndex = i; }",
            sources.index("%orange logout"),
        )
        command(page, "notebook:run-all-above")
        sign_in_in_popup(page, lab)
        page.wait_for_selector('.orange-nb-status:has-text("Signed in as Demo User")')
        page.wait_for_selector(".jp-OutputArea-output img:not(.orange-nb-script)")
        page.wait_for_selector('.jp-Notebook-ExecutionIndicator[data-status="idle"]')
        for theme, name in THEMES.items():
            command(page, "apputils:change-theme", {"theme": theme})
            page.wait_for_function(
                "(dark) => document.body.dataset.jpThemeLight === String(!dark)",
                arg="Dark" in theme,
            )
            photograph(page, IMAGES / name)
            print(f"wrote {IMAGES / name}")
        browser.close()


if __name__ == "__main__":
    main()
