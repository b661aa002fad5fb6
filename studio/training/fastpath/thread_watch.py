"""Watching a CPU run's thread count once its step is chosen: lowered when the steps collapse (a
neighbour took a core), raised again when cores come free and the steps gain from them.

Only the step's own time is watched (the clock: a CPU step is synchronous), in windows of WATCH_S
seconds of step time. A window slower than COLLAPSE x the best one counts the idle cores again
(fastpath/threads.py) and lowers the threads to match. Below the core count, every RECHECK_S of
step time the idle cores are counted too (0.1 s, between two steps); where more are free, the next
window runs at the higher count, and it stays only where that window's steps are at least GAIN
faster than the window before it. A try that did not gain waits twice as long for the next, up to
MAX_RECHECK_S: a core that looks idle between steps may still be a neighbour's.
"""
from __future__ import annotations

import torch

from . import threads as thread_count

COLLAPSE = 3.0  # a window this many times slower than the best means the cores got busy
WATCH_S = 2.0  # seconds of step time per window
RECHECK_S = 30.0  # seconds of step time between looks for freed cores, below the core count
MAX_RECHECK_S = 480.0
# two threads gain 1.35-1.84x over one on an idle 2-core machine (issue 19); a window drifts by up to
# ~15% from the one before on the same count, which this keeps from reading as a gain
GAIN = 0.15


class ThreadWatch:
    """Per-step times in, thread changes out (`notify` says each one to the person)."""

    def __init__(self, threads: int, *, notify, choose=None, cores: int | None = None) -> None:
        self.threads = threads
        self.notify = notify
        self.choose = choose  # (limit=None) -> (threads, why); default: threads.choose_threads
        self.cores = cores or len(thread_count.usable_cores())
        self._steps, self._seconds = 0, 0.0  # the window so far
        self.best: float | None = None  # the fastest window at this count, seconds per step
        self._since_look = 0.0  # step seconds since the idle cores were last counted for a raise
        self.recheck_s = RECHECK_S
        self._trying: tuple[int, float] | None = None  # (the count before, its seconds per step)
        self._why = ""  # what the last count of idle cores found

    def step(self, seconds: float) -> None:
        self._steps += 1
        self._seconds += seconds
        if self._seconds < WATCH_S or self._steps < 5:
            return
        per = self._seconds / self._steps
        self._since_look += self._seconds
        self._steps, self._seconds = 0, 0.0
        if self._trying is not None:
            self._judge_try(per)
            return
        if self.best is not None and per >= COLLAPSE * self.best and self.threads > 1:
            self._lower(per)
            return
        self.best = per if self.best is None else min(self.best, per)
        if self.threads < self.cores and self._since_look >= self.recheck_s:
            self._look_for_free_cores(per)

    def _count(self, limit: int | None = None) -> tuple[int, str]:
        return (self.choose or thread_count.choose_threads)(limit=limit)

    def _set(self, n: int) -> None:
        self.threads = n
        torch.set_num_threads(n)
        self.best = None  # a new best at the new count

    def _lower(self, per: float) -> None:
        n, why = self._count(limit=self.threads)
        if n < self.threads:
            self.notify(f"fast path: steps became {per / self.best:.1f}x slower ({why}); {n} thread"
                        f"{'s' if n > 1 else ''} instead of {self.threads}")
            self._set(n)
            self._since_look, self.recheck_s = 0.0, RECHECK_S
        else:  # not the cores (the batches got harder, the CPU clocked down): the new pace is the best
            self.best = per

    def _look_for_free_cores(self, per: float) -> None:
        self._since_look = 0.0
        n, self._why = self._count()
        if n > self.threads:
            self._trying = (self.threads, per)
            self._set(n)

    def _judge_try(self, per: float) -> None:
        before, before_per = self._trying
        self._trying = None
        if per <= before_per * (1 - GAIN):
            self.notify(f"fast path: cores came free ({self._why}); {self.threads} threads instead of "
                        f"{before}, steps {before_per / per:.2f}x faster")
            self.recheck_s = RECHECK_S
            self.best = per
        else:
            self._set(before)
            self.best = before_per
            self.recheck_s = min(2 * self.recheck_s, MAX_RECHECK_S)
