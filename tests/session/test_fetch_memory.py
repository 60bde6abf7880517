"""``orange.get`` lets each page's body go once it is decoded: none is held while the frame
is built (``fetch`` keeps them, for the magic's ``--raw`` and ``--json``, unless told not to)."""

from __future__ import annotations

import asyncio
import gc
import weakref
from typing import Any

import httpx
import pytest

from orange_nb import Orange
from orange_nb.session import frames

PRESENCE = "/sandbox/mobility/v1/zones/zone-10/presence"
MONTH = {"start": "2024-01-01", "end": "2024-01-31", "limit": 100}


def _alive_at_frame_time(
    session: Orange,
    monkeypatch: pytest.MonkeyPatch,
    call: Any,
    seen: list[weakref.ref[httpx.Response]] | None = None,
) -> int:
    """How many of the call's responses are still alive when its frame is built
    (``seen``: filled by the caller's own hook, else by one on the sync client)."""
    if seen is None:
        seen = []
        hooks = session.wiring.client.event_hooks["response"]
        hooks.append(lambda r: seen.append(weakref.ref(r)))  # type: ignore[union-attr]
    alive: list[int] = []
    build = frames.Collector.frame

    def frame(self: frames.Collector, *args: Any, **kwargs: Any) -> Any:
        alive.append(sum(1 for ref in seen if ref() is not None))
        return build(self, *args, **kwargs)

    monkeypatch.setattr(frames.Collector, "frame", frame)
    # No collection during the call: a body must go when its last reference does, not when
    # the collector happens to find a cycle holding it (httpx's stream points back at its
    # response).
    gc.collect()
    gc.disable()
    try:
        result = call()
    finally:
        gc.enable()
    assert len(seen) >= 3 and len(result) > 200  # several pages came
    return alive[0]


def test_get_holds_no_body_while_the_frame_is_built(
    session: Orange, monkeypatch: pytest.MonkeyPatch
) -> None:
    alive = _alive_at_frame_time(
        session, monkeypatch, lambda: session.get(PRESENCE, MONTH, paginate=True)
    )
    assert alive == 0


def test_aget_holds_no_body_either(session: Orange, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[weakref.ref[httpx.Response]] = []

    async def hook(response: httpx.Response) -> None:
        seen.append(weakref.ref(response))

    async def call() -> Any:
        session.wiring.aclient().event_hooks["response"].append(hook)
        return await session.aget(PRESENCE, MONTH, paginate=True)

    alive = _alive_at_frame_time(session, monkeypatch, lambda: asyncio.run(call()), seen)
    assert alive == 0


def test_fetch_keeps_them_for_the_magic(session: Orange, monkeypatch: pytest.MonkeyPatch) -> None:
    kept = session.fetch(PRESENCE, MONTH, paginate=True)
    assert kept.pages >= 3 and len(kept.responses) == kept.pages
    dropped = session.fetch(PRESENCE, MONTH, paginate=True, keep_responses=False)
    assert dropped.responses == [] and dropped.result.equals(kept.result)


def test_the_probe_sees_bodies_that_are_kept(
    session: Orange, monkeypatch: pytest.MonkeyPatch
) -> None:
    alive = _alive_at_frame_time(
        session, monkeypatch, lambda: session.fetch(PRESENCE, MONTH, paginate=True).result
    )
    assert alive >= 3  # the check above would see a held body
