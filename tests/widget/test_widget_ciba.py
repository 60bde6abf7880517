"""The widget during a sign-in by phone (CIBA): no link, the masked number, a countdown to
the request's expiry, and a Cancel that stops the polling and leaves the session as it was."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import peers
import pytest

from orange_nb import Orange
from orange_nb.sandbox import SandboxServer
from orange_nb.session.ciba import CibaAttempt
from orange_nb.widget.login import LoginWidget

PHONE = "tel:+33612345678"
APPROVE = re.compile(r"Approve on your phone \+33 6 •• •• •• 78 · expires in \d\d:\d\d")


@pytest.fixture
def phone_session(
    sandbox: SandboxServer, make_session: Callable[..., Orange], tmp_path: Path
) -> Orange:
    return peers.phone_session(sandbox, make_session, tmp_path)


def test_waiting_for_the_phone_then_signed_in(
    phone_session: Orange, sandbox: SandboxServer, comms: list[str]
) -> None:
    widget = LoginWidget(phone_session)
    try:
        phone_session.begin_ciba(PHONE)
        shown = widget.view
        assert APPROVE.fullmatch(shown.text), shown.text
        assert shown.cancel and shown.expires_at is not None
        # The sandbox's phone is a page: the link opens this request's, holding no number.
        attempt = phone_session.signin.attempt
        assert isinstance(attempt, CibaAttempt) and shown.link == attempt.phone_page
        assert shown.link_text == "Open the sandbox's phone"
        assert 'class="orange-nb-phone"' in widget.link.value
        assert widget.plain_text().startswith("Open the sandbox's phone to approve: http")
        assert widget.cancel_button in widget._row.children
        assert "612345" not in " ".join(comms)  # the whole number never reaches the front end
        peers.decide_next(sandbox, "approve").join()
        phone_session.wait_for_login(timeout=10)
        assert widget.status_text.startswith("Signed in as Subscriber ••78")
        assert widget.cancel_button not in widget._row.children
    finally:
        widget.close()


def test_cancel_stops_the_polling_and_restores_the_state(
    phone_session: Orange, sandbox: SandboxServer, comms: list[str]
) -> None:
    widget = LoginWidget(phone_session)
    try:
        attempt = phone_session.begin_ciba(PHONE)
        assert isinstance(attempt, CibaAttempt)
        widget.cancel_button.click()
        assert attempt._cancel.is_set()  # the polling thread stops at once
        assert phone_session.status == "signed_out" and phone_session.last_error == ""
        assert widget.status_text == "Not signed in"
        peers.decide_next(sandbox, "approve").join()  # an approval after the cancel lands nowhere
        time.sleep(0.3)
        assert phone_session.token is None and phone_session.status == "signed_out"
    finally:
        widget.close()
