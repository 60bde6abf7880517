"""The pending-flow store on its own, with a fake clock."""

from __future__ import annotations

import secrets

import pytest

from orange_nb.serverext.store import DuplicateState, PendingStore


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _state() -> str:
    return secrets.token_urlsafe(32)


def test_answer_is_delivered_once_then_forgotten(clock: Clock) -> None:
    store = PendingStore(clock=clock)
    state = _state()
    flow = store.add(state, "https://p.example/a", None)
    assert store.pending_by_state(state) is flow
    store.answer(flow, {"code": "c", "state": state}, "https://h/orange/callback")
    assert store.pending_by_state(state) is None  # a replayed callback finds nothing
    answer = store.take(flow.id)
    assert answer is not None and answer.params["code"] == "c"
    assert answer.redirect_uri == "https://h/orange/callback"
    assert store.take(flow.id) is None
    assert store.get(flow.id) is None
    assert len(store) == 0


def test_unanswered_flow_gives_nothing_to_take(clock: Clock) -> None:
    store = PendingStore(clock=clock)
    flow = store.add(_state(), "https://p.example/a", None)
    assert store.take(flow.id) is None
    assert store.get(flow.id) is flow


def test_flows_expire_after_ttl(clock: Clock) -> None:
    store = PendingStore(clock=clock, ttl=600)
    state = _state()
    first = store.add(state, "https://p.example/a", None)
    clock.now += 300
    second = store.add(_state(), "https://p.example/a", None)
    clock.now += 299.9
    assert store.get(first.id) is first
    clock.now += 0.2
    assert store.get(first.id) is None
    assert store.pending_by_state(state) is None
    assert store.get(second.id) is second
    clock.now += 300
    assert len(store) == 0


def test_answered_flow_still_expires(clock: Clock) -> None:
    store = PendingStore(clock=clock, ttl=600)
    flow = store.add(_state(), "https://p.example/a", None)
    store.answer(flow, {"code": "c"}, "https://h/cb")
    clock.now += 601
    assert store.take(flow.id) is None


def test_wrong_or_near_state_matches_nothing(clock: Clock) -> None:
    store = PendingStore(clock=clock)
    state = _state()
    store.add(state, "https://p.example/a", None)
    assert store.pending_by_state(state[:-1]) is None
    assert store.pending_by_state(state + "x") is None
    assert store.pending_by_state("") is None


def test_duplicate_state_is_refused(clock: Clock) -> None:
    store = PendingStore(clock=clock)
    state = _state()
    store.add(state, "https://p.example/a", None)
    with pytest.raises(DuplicateState):
        store.add(state, "https://p.example/b", None)


def test_full_store_evicts_the_oldest_and_wakes_its_waiter(clock: Clock) -> None:
    store = PendingStore(clock=clock, max_flows=3)
    flows = [store.add(_state(), "https://p.example/a", None) for _ in range(3)]
    woken: list[str] = []
    store.subscribe(flows[0].id, lambda: woken.append("first"))
    newest = store.add(_state(), "https://p.example/a", None)
    assert woken == ["first"]
    assert store.get(flows[0].id) is None
    assert store.pending_by_state(flows[0].state) is None
    assert [store.get(f.id) for f in (*flows[1:], newest)] == [*flows[1:], newest]
    assert len(store) == 3


def test_store_stays_bounded_under_a_flood(clock: Clock) -> None:
    store = PendingStore(clock=clock, max_flows=50)
    for _ in range(2000):
        store.add(_state(), "https://p.example/a", None)
    assert len(store) == 50
    assert len(store._by_state) == 50
    for _ in range(2000):  # bogus callbacks store nothing
        assert store.pending_by_state(_state()) is None
    assert len(store) == 50 and len(store._by_state) == 50


def test_listeners_fire_on_answer_and_cancel_and_can_unsubscribe(clock: Clock) -> None:
    store = PendingStore(clock=clock)
    fired: list[str] = []
    a = store.add(_state(), "https://p.example/a", None)
    b = store.add(_state(), "https://p.example/a", None)
    c = store.add(_state(), "https://p.example/a", None)
    store.subscribe(a.id, lambda: fired.append("a"))
    store.subscribe(b.id, lambda: fired.append("b"))
    unsubscribe = store.subscribe(c.id, lambda: fired.append("c"))
    assert unsubscribe is not None
    unsubscribe()
    store.answer(a, {"code": "x"}, "https://h/cb")
    store.cancel(b.id)
    store.cancel(c.id)
    store.cancel("no-such-flow")
    assert fired == ["a", "b"]
    assert store.subscribe("no-such-flow", lambda: None) is None


def test_repr_hides_state_and_url(clock: Clock) -> None:
    store = PendingStore(clock=clock)
    state = _state()
    flow = store.add(state, f"https://p.example/a?state={state}", None)
    store.answer(flow, {"code": "secret-code", "state": state}, "https://h/cb")
    text = repr(flow) + repr(flow.answer)
    assert state not in text and "secret-code" not in text
