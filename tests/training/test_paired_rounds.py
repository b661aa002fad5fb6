"""The CPU selection's paired rounds (fastpath/rounds.py): blocks sized from the step time and the
run's budget, the order reversed each round, a failed candidate dropped, and estimates on the
reference's time from the median ratio per round, so a speed change that slows a whole round
cancels."""
from __future__ import annotations

import pytest

from studio.training.fastpath.rounds import BLOCK_MAX, BLOCK_MIN, MIN_ROUNDS, ROUNDS, SETTLE, PairedRounds


def run(rounds, cost, factor=lambda r: 1.0):
    """Drive `rounds` to the end: each call costs cost[name] x factor(round). Returns the names in call order."""
    seen = []
    while not rounds.done:
        name = rounds.current
        seen.append(name)
        rounds.record(cost[name] * factor(rounds.round))
    return seen


def test_blocks_last_about_50_ms_within_their_bounds_and_fit_the_budget():
    assert PairedRounds.plan(["a", "b"], "a", 0.013, None).block == 4  # LeNet's 13 ms steps
    assert PairedRounds.plan(["a", "b"], "a", 0.0013, None).block == 39  # the MLP's 1.3 ms
    assert PairedRounds.plan(["a", "b"], "a", 1e-6, None).block == BLOCK_MAX
    plan = PairedRounds.plan(["a", "b", "c"], "a", 0.001, None)
    assert plan.rounds == ROUNDS and plan.steps_left() == ROUNDS * 3 * (SETTLE + 50)
    # a run that cannot afford full blocks takes the shortest, and fewer rounds
    plan = PairedRounds.plan(["a", "b"], "a", 0.001, 2 * (SETTLE + BLOCK_MIN) * MIN_ROUNDS)
    assert plan.block == BLOCK_MIN and plan.rounds == MIN_ROUNDS
    assert PairedRounds.plan(["a", "b"], "a", 0.001, 2 * (SETTLE + BLOCK_MIN) * MIN_ROUNDS - 1) is None
    assert PairedRounds.plan(["a"], "a", 0.001, None) is None
    assert PairedRounds.plan(["a", "b"], "c", 0.001, None) is None


def test_each_round_reverses_the_order_and_the_first_call_of_a_block_is_not_timed():
    rounds = PairedRounds(["a", "b", "c"], "a", block=2, rounds=2)
    seen, first = [], True
    while not rounds.done:
        name = rounds.current
        seen.append(name)
        # the settling call is slow (it follows a layout change): it must not count
        first = rounds.record(100.0 if first else {"a": 1.0, "b": 2.0, "c": 3.0}[name])
    assert seen == ["a"] * 3 + ["b"] * 3 + ["c"] * 6 + ["b"] * 3 + ["a"] * 3
    assert rounds.estimates() == pytest.approx({"a": 1.0, "b": 2.0, "c": 3.0})
    assert rounds.steps_left() == 0


def test_a_slow_round_cancels_in_the_ratios():
    cost = {"eager": 1.0, "channels_last": 0.8, "bf16": 0.7}
    rounds = PairedRounds(list(cost), "eager", block=4, rounds=6)
    # the machine at half speed for rounds 1-3: the blocks' own medians would be off, the ratios are not
    run(rounds, cost, factor=lambda r: 2.0 if 1 <= r <= 3 else 1.0)
    est = rounds.estimates()
    assert est["bf16"] / est["eager"] == pytest.approx(0.7) and est["channels_last"] / est["eager"] == pytest.approx(0.8)


def test_a_dropped_candidate_leaves_the_others_paired():
    rounds = PairedRounds(["eager", "a", "b"], "eager", block=2, rounds=3)
    for _ in range(3):  # eager's first block
        rounds.record(1.0)
    assert rounds.current == "a"
    rounds.drop("a")
    assert rounds.current == "b" and "a" not in rounds.order
    run(rounds, {"eager": 1.0, "b": 0.5})
    assert rounds.estimates() == pytest.approx({"eager": 1.0, "b": 0.5})
    # the reference fails: nothing left to compare against
    rounds = PairedRounds(["eager", "a"], "eager", block=2, rounds=3)
    rounds.drop("eager")
    assert rounds.done and rounds.estimates() == {}
