"""Answers parked while the browser signs in to Jupyter: bounded, expiring, taken once."""

from __future__ import annotations

from orange_nb.serverext.parked import ParkedAnswers


def test_an_answer_is_taken_once() -> None:
    parked = ParkedAnswers()
    key = parked.park({"code": "c", "state": "s"})
    assert len(key) >= 32
    assert parked.take(key) == {"code": "c", "state": "s"}
    assert parked.take(key) is None
    assert parked.take("unknown") is None


def test_answers_expire() -> None:
    now = [0.0]
    parked = ParkedAnswers(ttl=300, clock=lambda: now[0])
    key = parked.park({"state": "s"})
    now[0] = 299.0
    assert len(parked) == 1
    now[0] = 300.0
    assert parked.take(key) is None and len(parked) == 0


def test_a_flood_keeps_the_newest_within_the_bound() -> None:
    parked = ParkedAnswers(max_answers=200)
    keys = [parked.park({"state": str(i)}) for i in range(10_000)]
    assert len(parked) == 200
    assert parked.take(keys[0]) is None
    assert parked.take(keys[-1]) == {"state": "9999"}
    assert "9999" not in repr(parked)
