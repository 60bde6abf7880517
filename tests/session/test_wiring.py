"""The session's wiring: one object built from the settings, replaced whole when one changes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx

from orange_nb import Orange
from orange_nb.oauth.keeper import TokenKeeper
from orange_nb.session.calls import CallsMixin
from orange_nb.session.wiring import Wiring

ZONES = "/sandbox/mobility/v1/zones"


def test_a_setting_change_closes_the_old_wiring_and_builds_the_next_whole(
    session: Orange,
) -> None:
    async def one_async_call() -> tuple[httpx.AsyncClient, int]:
        response = await session.arequest("GET", ZONES)
        return session.aclient, response.status_code

    assert session.request("GET", ZONES).status_code == 200
    aclient, status = asyncio.run(one_async_call())
    assert status == 200
    old = session.wiring
    used = [old.client, old.plain, old.ahead]
    assert session.keeper.endpoint is not None  # wired for refreshes by the calls above

    session.timeout = 7.0

    new = session.wiring
    assert new is not old and new.settings.timeout == 7.0
    assert all(client.is_closed for client in used)  # nothing of the old wiring stays open
    assert session.keeper.endpoint is None  # it used the old plain client: rebuilt on use
    assert session.client is new.client and session.client.timeout == httpx.Timeout(7.0)
    assert session.retry_policy is new.retry and session.endpoints is new.endpoints
    assert aclient not in (new.aclient(), session.aclient)
    # Not a binding setting: still signed in, and calls go through the new clients.
    assert session.logged_in and session.request("GET", ZONES).status_code == 200
    assert session.keeper.endpoint is not None


def test_a_retry_setting_replaces_the_policy_with_the_wiring(
    make_session: Callable[..., Orange],
) -> None:
    orange = make_session(signed_in=False)
    before, policy = orange.wiring, orange.retry_policy
    orange.max_retries = 1
    assert orange.wiring is not before and orange.retry_policy is not policy
    assert orange.retry_policy.max_retries == 1 and orange.status == "signed_out"


def test_the_calls_need_only_a_wiring(session: Orange) -> None:
    """``CallsMixin`` on a bare host: its one dependency is ``wiring`` (no session around)."""
    keeper = TokenKeeper()
    keeper.set(session.keeper.token)
    settings = session.wiring.settings

    class Host(CallsMixin):
        wiring = Wiring(settings, keeper)

    host = Host()
    try:
        assert host.request("GET", ZONES).status_code == 200
        assert len(host.get(ZONES)) >= 10
        assert host.url_for(ZONES) == session.url_for(ZONES)
    finally:
        host.wiring.close()
