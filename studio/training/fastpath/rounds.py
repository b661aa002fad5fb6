"""The CPU selection's second phase: candidates still close after one trial each take turns in
short blocks of steps, round after round, and each is scored against a reference candidate by the
median over rounds of their block times' ratio (fastpath/select.py drives it).

One trial after another reads the machine's drift as a difference between candidates: this 2-core
machine's speed moves by 15-30% over a few seconds, and a trial of 0.25 s in a slow spell put
LeNet's bf16 step 25% behind channels-last, which it runs 16% ahead of (docs/performance.md,
"session 15"). Blocks of about 50 ms in turn see the same spell, so a round's ratio keeps the
difference between the candidates and loses the drift, as the bench compares its loops. The order is
reversed every round (A B C, C B A, ...), so no candidate always follows the same one. The first call
of each block is not timed: it follows a change of layout or precision.
"""
from __future__ import annotations

import math
import statistics

ROUNDS = 6  # rounds when the run can afford them
MIN_ROUNDS = 3  # fewer than this, and the first trials decide alone
BLOCK_S = 0.05  # a block lasts about this long (at least BLOCK_MIN steps)
BLOCK_MIN, BLOCK_MAX = 4, 50
SETTLE = 1  # untimed calls at the start of each block


class PairedRounds:
    """`names` in the first round's order; `reference` is one of them (what the others are scored
    against); `per_step_s` its time per step from the first trial, which sizes the blocks."""

    def __init__(self, names: list, reference: str, block: int, rounds: int) -> None:
        self.order, self.reference = list(names), reference
        self.block, self.rounds = block, rounds
        self.times: dict = {name: [] for name in names}  # per round: the block's median step time
        self.round, self.index = 0, 0
        self._calls, self._block_times = 0, []

    @classmethod
    def plan(cls, names: list, reference: str, per_step_s: float, budget: int | None):
        """The rounds for `names`, or None where the run cannot afford MIN_ROUNDS of them
        (`budget`: the most steps they may take; None: no limit)."""
        if len(names) < 2 or reference not in names:
            return None
        block = min(BLOCK_MAX, max(BLOCK_MIN, math.ceil(BLOCK_S / max(per_step_s, 1e-9))))
        rounds = ROUNDS
        if budget is not None:
            for size in (block, BLOCK_MIN):
                rounds = min(ROUNDS, budget // (len(names) * (SETTLE + size)))
                if rounds >= MIN_ROUNDS:
                    block = size
                    break
            else:
                return None
        return cls(names, reference, block, rounds)

    @staticmethod
    def most_steps(candidates: int) -> int:
        """An upper bound on the steps of any plan for this many candidates."""
        return ROUNDS * candidates * (SETTLE + BLOCK_MAX)

    def steps_left(self) -> int:
        per_round = len(self.order) * (SETTLE + self.block)
        return (self.rounds - self.round) * per_round - self.index * (SETTLE + self.block) - self._calls

    @property
    def done(self) -> bool:
        return self.round >= self.rounds

    @property
    def current(self) -> str:
        return self.order[self.index]

    def record(self, seconds: float) -> bool:
        """One call of the current block took `seconds`. True when that call ended the block."""
        self._calls += 1
        if self._calls > SETTLE:
            self._block_times.append(seconds)
        if self._calls < SETTLE + self.block:
            return False
        self.times[self.current].append(statistics.median(self._block_times))
        self._calls, self._block_times = 0, []
        self._next()
        return True

    def drop(self, name: str) -> None:
        """Take `name` out (its step failed): the block under way ends, its rounds are not scored."""
        i = self.order.index(name)
        self.order.pop(i)
        self.times.pop(name, None)
        self._calls, self._block_times = 0, []
        if i < self.index:
            self.index -= 1
        if self.index >= len(self.order):
            self._end_round()
        if len(self.order) < 2 or name == self.reference:
            self.round = self.rounds  # nothing left to compare

    def _next(self) -> None:
        self.index += 1
        if self.index >= len(self.order):
            self._end_round()

    def _end_round(self) -> None:
        self.round += 1
        self.index = 0
        self.order.reverse()

    def estimates(self) -> dict:
        """Seconds per step of each candidate on the reference's median time: its median ratio to
        the reference over the rounds both completed."""
        ref = self.times.get(self.reference, [])
        if not ref:
            return {}
        ref_s = statistics.median(ref)
        out = {}
        for name, times in self.times.items():
            pairs = [t / r for t, r in zip(times, ref) if r > 0]
            if pairs:
                out[name] = ref_s * statistics.median(pairs)
        return out
