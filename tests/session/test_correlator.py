"""Every API call carries an ``x-correlator`` (CAMARA); its retries the same one; errors show it.

Support asks for the request id (Orange's ``X-OAPI-Request-Id``) and CAMARA's APIs for the
correlator: a failed call's message ends with both, so the person can quote them as they are.
"""

from __future__ import annotations

import asyncio
import re
import uuid

import httpx
import pytest

from orange_nb import Orange, OrangeAPIError
from orange_nb.errors import ids_text
from orange_nb.sandbox import SandboxServer

ZONES = "/sandbox/mobility/v1/zones"


def _sent_correlators(session: Orange) -> list[str]:
    seen: list[str] = []
    client = session.wiring.client
    client.event_hooks["request"].append(lambda r: seen.append(r.headers.get("x-correlator", "")))
    return seen


def test_each_call_has_its_own_and_its_retries_share_it(
    session: Orange, sandbox: SandboxServer
) -> None:
    seen = _sent_correlators(session)
    session.request("GET", ZONES)
    session.request("GET", ZONES)
    assert len(seen) == 2 and seen[0] != seen[1]
    assert all(uuid.UUID(value).version == 4 for value in seen)
    seen.clear()
    sandbox.sandbox.add_fault(match="/sandbox/", status=503, count=2)
    session.request("GET", ZONES)  # two 503s, then the answer
    assert len(seen) == 3 and len(set(seen)) == 1


def test_a_correlator_the_caller_chose_is_kept(session: Orange) -> None:
    seen = _sent_correlators(session)
    answer = session.request("GET", ZONES, headers={"x-correlator": "workshop-7"})
    assert seen == ["workshop-7"] and answer.headers["x-correlator"] == "workshop-7"


def test_an_error_names_the_request_id_and_the_correlator(
    session: Orange, sandbox: SandboxServer
) -> None:
    sandbox.sandbox.add_fault(match="/sandbox/", status=400, code=25, message="Missing field")
    with pytest.raises(OrangeAPIError) as info:
        session.request("GET", ZONES)
    error = info.value
    assert error.request_id and error.correlator and error.request_id != error.correlator
    text = str(error)
    assert f"Request id {error.request_id}, x-correlator {error.correlator}." in text
    assert "\n" not in text and re.fullmatch(r"[0-9a-f-]{36}", error.correlator)


def test_the_async_path_sends_one_too(session: Orange) -> None:
    seen: list[str] = []

    async def call() -> httpx.Response:
        client = session.wiring.aclient()

        async def record(request: httpx.Request) -> None:
            seen.append(request.headers.get("x-correlator", ""))

        client.event_hooks["request"].append(record)
        return await session.arequest("GET", ZONES)

    assert asyncio.run(call()).status_code == 200
    assert len(seen) == 1 and uuid.UUID(seen[0])


@pytest.mark.parametrize(
    ("request_id", "correlator", "text"),
    [
        ("r-1", "c-1", "Request id r-1, x-correlator c-1."),
        ("c-1", "c-1", "Request id c-1."),  # a CAMARA API's id is the correlator it echoed
        (None, "c-1", "Request x-correlator c-1."),
        ("r-1", None, "Request id r-1."),
        (None, None, ""),
    ],
)
def test_ids_read_as_support_asks(
    request_id: str | None, correlator: str | None, text: str
) -> None:
    assert ids_text(request_id, correlator) == text
