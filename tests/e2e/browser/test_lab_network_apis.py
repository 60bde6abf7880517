"""The Network APIs workshop notebook in JupyterLab, approved on the sandbox's phone page.

``notebooks/04-network-apis.ipynb`` runs with "Run All" as a workshop would: each sign-in by
phone shows "Approve on your phone +990 … · expires in mm:ss" with a link to the sandbox's
phone; the person opens it (a tab on the Jupyter server, with its login), taps Approve, and the
cell goes on. Cells tagged ``raises-exception`` fail and Run All carries on. The saved notebook
holds no token, no auth_req_id and no whole phone number.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from front_ends import command, open_notebook
from lab_harness import Lab, leaks

pytestmark = pytest.mark.browser

NOTEBOOK = "04-network-apis.ipynb"
NUMBER = "990123456780"
SIGN_INS = 3  # SIM Swap, Number Verification, Device Location Verification
EVERY_CELL_RAN = """() => {
    const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputArea-prompt')]
        .map(p => p.textContent.trim());
    return prompts.length > 0 && prompts.every(t => /^\\[\\d+\\]:$/.test(t));
}"""


def _approve_on_the_phone(page: Any, lab: Lab) -> str:
    """Open the widget's phone link, tap Approve; the text the widget showed meanwhile."""
    link = page.locator("a.orange-nb-phone")
    link.wait_for(timeout=60_000)
    href = link.get_attribute("href")
    assert href.startswith(f"{lab.base_url}orange/sandbox/_sandbox/phone/"), href
    assert NUMBER not in href  # the link holds no number
    status = page.locator(".orange-nb-status.orange-nb-waiting").last.inner_text()
    with page.expect_popup() as opened:
        link.click()
    phone = opened.value
    phone.locator("button[id^='approve-']").click()
    phone.wait_for_selector("p.notice:has-text('Approved')")
    phone.close()
    # Signed in: this request's link goes (the next cell's sign-in may show a new one at once).
    page.wait_for_function(
        "(href) => ![...document.querySelectorAll('a.orange-nb-phone')]"
        ".some(a => a.getAttribute('href') === href)",
        arg=href,
        timeout=30_000,
    )
    return str(status)


def test_the_workshop_runs_with_approvals_on_the_phone_page(lab: Lab, browser_context: Any) -> None:
    page = open_notebook(browser_context, lab, NOTEBOOK)
    command(page, "notebook:run-all-cells")
    shown = [_approve_on_the_phone(page, lab) for _ in range(SIGN_INS)]
    assert all(s.startswith("Approve on your phone +99") and "expires in" in s for s in shown), (
        shown
    )
    assert all(NUMBER not in s for s in shown)
    page.wait_for_function(EVERY_CELL_RAN, timeout=90_000)
    text = page.locator(".jp-Notebook").inner_text()
    assert "'swapped': True" in text and "'devicePhoneNumberVerified': True" in text
    assert "'Paris, 5 km': 'TRUE'" in text and "exactly one dpv: purpose scope" in text
    assert "invalid_client" in text and "international form" in text

    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_function(
        "() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=30_000
    )
    saved = (lab.root / NOTEBOOK).read_text()
    outputs = json.dumps([c.get("outputs", []) for c in json.loads(saved)["cells"]])
    assert not leaks(saved) and "sbx_ar_" not in saved
    assert NUMBER not in outputs  # in the cells the person typed, never in what they show
