"""The sandbox's "phone": a page per sign-in request (and per number) with Approve / Deny.

A workshop approves a sign-in by phone (CIBA) in a browser tab: the widget links to the
request's page, which holds neither the number nor the auth_req_id. Attacks: a form on
another site, a request id of another phone, hostile binding messages, the wrong body.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
import peers
import pytest

from orange_nb import LoginDenied, Orange
from orange_nb.sandbox import SandboxServer
from orange_nb.session.ciba import CibaAttempt

PHONE = "tel:+33612345678"
FORM = {"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin"}


@pytest.fixture
def phone_session(
    sandbox: SandboxServer, make_session: Callable[..., Orange], tmp_path: Path
) -> Orange:
    return peers.phone_session(sandbox, make_session, tmp_path, signed_in=False)


@pytest.fixture
def http() -> httpx.Client:
    return httpx.Client(timeout=10, follow_redirects=False)


def _begin(session: Orange, message: str | None = None) -> tuple[CibaAttempt, str]:
    attempt = session.begin_ciba(PHONE, binding_message=message)
    assert isinstance(attempt, CibaAttempt) and attempt.phone_page
    handle = attempt.phone_page.rsplit("/", 1)[1]
    return attempt, handle


def test_the_request_page_approves_and_the_notebook_signs_in(
    phone_session: Orange, sandbox: SandboxServer, http: httpx.Client
) -> None:
    attempt, handle = _begin(phone_session, "<b>Workshop 7</b>")
    assert attempt.phone_page == f"{sandbox.url}/_sandbox/phone/{handle}"
    assert re.fullmatch(r"[0-9a-f]{16}", handle)
    assert "612345" not in attempt.phone_page  # the link may sit in a saved notebook
    page = http.get(attempt.phone_page)
    assert page.status_code == 200 and "sbx_ar_" not in page.text
    assert "&lt;b&gt;Workshop 7&lt;/b&gt;" in page.text and "<b>Workshop" not in page.text
    assert f'id="approve-{handle}"' in page.text and "Phone +33612345678" in page.text
    csp = page.headers["Content-Security-Policy"]
    assert (
        "frame-ancestors 'none'" in csp and "script-src" not in csp and "default-src 'none'" in csp
    )
    answer = http.post(
        attempt.phone_page, content=f"request={handle}&decision=approve", headers=FORM
    )
    assert answer.status_code == 303 and answer.headers["location"].endswith("?done=approved")
    phone_session.wait_for_login(timeout=10)
    assert phone_session.status == "signed_in"
    after = http.get(attempt.phone_page + "?done=approved")
    assert "Approved" in after.text and f"approve-{handle}" not in after.text


def test_deny_on_the_page_is_a_refused_sign_in(phone_session: Orange, http: httpx.Client) -> None:
    attempt, handle = _begin(phone_session)
    http.post(attempt.phone_page, content=f"request={handle}&decision=deny", headers=FORM)
    with pytest.raises(LoginDenied):
        phone_session.wait_for_login(timeout=10)


def test_the_number_page_lists_what_was_sent_to_it_only(
    phone_session: Orange, sandbox: SandboxServer, http: httpx.Client
) -> None:
    _, handle = _begin(phone_session)
    mine = http.get(f"{sandbox.url}/_sandbox/phone/+33612345678")
    other = http.get(f"{sandbox.url}/_sandbox/phone/tel:+99012345678")
    assert f"approve-{handle}" in mine.text
    assert f"approve-{handle}" not in other.text and 'id="nothing"' in other.text
    # Another phone's page cannot answer this request.
    wrong = http.post(
        f"{sandbox.url}/_sandbox/phone/+99012345678",
        content=f"request={handle}&decision=approve",
        headers=FORM,
    )
    assert wrong.headers["location"].endswith("?done=gone")
    assert sandbox.sandbox.backchannel_requests()[0]["decision"] == "pending"


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ({**FORM, "Sec-Fetch-Site": "cross-site"}, "decision=approve", 403),
        ({**FORM, "Sec-Fetch-Site": "same-site"}, "decision=approve", 403),
        (
            {"Content-Type": FORM["Content-Type"], "Origin": "http://evil.example"},
            "decision=approve",
            403,
        ),
        ({**FORM, "Content-Type": "text/plain"}, "decision=approve", 415),
        (FORM, "decision=maybe", 400),
        (FORM, "decision=approve&decision=deny", 400),
        (FORM, "decision=approve&request=../../x", 400),
    ],
)
def test_hostile_answers_change_nothing(
    phone_session: Orange,
    sandbox: SandboxServer,
    http: httpx.Client,
    headers: dict[str, str],
    body: str,
    status: int,
) -> None:
    attempt, handle = _begin(phone_session)
    body = body if "request=" in body else f"{body}&request={handle}"
    answer = http.post(attempt.phone_page, content=body, headers=headers)
    assert answer.status_code == status, answer.text
    assert sandbox.sandbox.backchannel_requests()[0]["decision"] == "pending"


@pytest.mark.parametrize("path", ["abc", "+12", "tel:33612345678x", "0123456789abcdeg"])
def test_no_such_phone(sandbox: SandboxServer, http: httpx.Client, path: str) -> None:
    page = http.get(f"{sandbox.url}/_sandbox/phone/{path}")
    assert page.status_code == 404 and "No such phone" in page.text
