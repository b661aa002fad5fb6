"""Picking the fastest step by timing it on the real data, during the first steps of the run.

`FastStep` is the step the trainer calls. While it selects, each call trains one batch with the
candidate under trial: `warm` untimed calls (compilation, CUDA-graph warm-up and capture happen
there), then `timed` calls between two device syncs (the only syncs it adds; none once a candidate
is chosen). Every call is a real optimizer step on the batch the loop gave it, so selection costs
no extra steps and changes no numerics; stop and pause act between calls as usual.

Batches of another shape than the first (the last partial batch of an epoch) always run eagerly:
a CUDA graph has static shapes and a compiled step would recompile. They are not padded: padding
would change the loss mean and BatchNorm's batch statistics.

A candidate that fails (capture or compile error) is dropped with its reason and that batch runs
eagerly; a candidate the run is too short to repay (compile warm-up) is skipped with its reason.

On the CPU each call is timed alone, and the candidates still close after their trials take turns
in short blocks, round after round (fastpath/rounds.py): the machine's drift over seconds then
slows every candidate alike instead of the one on trial. A variant whose convolution + pool chains
timed close both ways brings its twin to the rounds, the same variant with those chains the other
way round (variants.EagerVariant.alternative), and trains on as the faster of the two. The run's
thread count (fastpath/threads.py) is set on the first call, in the training thread, so every
candidate is timed at the same count; once a step is chosen, fastpath/thread_watch.py watches its
time per step and lowers the threads when the steps collapse, or raises them when cores come free
and the steps gain from them.
"""
from __future__ import annotations

import statistics
import time

import torch

from .candidates import CandidateFailed
from .rounds import PairedRounds
from .thread_watch import ThreadWatch

# issue 19's bar: the pick's rate (steps/s) is never more than 5% below the fastest float32 candidate
# timed in the same trial; keeping eager when a candidate's time is within `margin` of eager's costs at
# most that (eager's rate >= (1 - margin) x the candidate's)
MAX_BELOW_BEST = 0.05
# on the CPU, candidates within this of the fastest after their trials go on to the paired rounds
# (fastpath/rounds.py), eager too where a candidate would beat it: one pass of 10 steps each picked
# the slower of two candidates 10-15% apart in 1 of 4 LeNet trials on this 2-core machine
# (docs/performance.md, "session 7"), and slow spells put LeNet's bf16 step 19% and 25% behind float32
# channels-last, which it runs 16% ahead of ("sessions 14 and 15")
CLOSE = 0.4
# the trials take 1/SHARE_PARTS of the selection's share of the run (TRIAL_SHARE), the rounds the rest
SHARE_PARTS = 3
# on the CPU a trial times at least `timed` steps and goes on until they add up to MIN_TIMED_S: ten
# 1.5 ms MLP steps (15 ms) let one slow moment decide, and kept eager over a bf16 step 1.3x faster
# (docs/performance.md, "session 9"); but the trials and the rounds after them take at most
# TRIAL_SHARE of the run's steps, so a short run times as many candidates as before, each on `timed`
# steps (and skips the rounds)
MIN_TIMED_S = 0.25
TRIAL_SHARE = 0.2
MAX_TIMED = 200


class FastStep:
    def __init__(self, eager, factories: dict, candidates: list, *, eager_name: str = "eager",
                 reasons: dict | None = None, warm: int = 3, timed: int = 10, margin: float = 0.03,
                 total_steps: int = 0, compile_min_run_s: float = 0.0, timer=time.perf_counter,
                 sync=None, notify=None, threads: int | None = None, threads_why: str = "",
                 describe=None, per_step: bool = False, min_timed_s: float = 0.0) -> None:
        if not 0.0 <= margin < MAX_BELOW_BEST:
            raise ValueError(f"margin {margin} must be in [0, {MAX_BELOW_BEST}): keeping eager within it must "
                             f"stay within {MAX_BELOW_BEST:.0%} of the fastest candidate")
        self.eager = eager
        self._cache: dict = {}
        self.factories = cached(factories, self._cache)  # name -> fn() -> step (built when its trial starts)
        self.queue = list(candidates)
        self.forced = len(self.queue) == 1 and self.queue[0] != "eager"  # the person named a candidate
        self.eager_name = eager_name
        self.reasons = dict(reasons or {})
        self.warm, self.timed, self.margin = warm, timed, margin
        self.total_steps = total_steps
        self.compile_min_run_s = compile_min_run_s
        self.timer, self.sync = timer, sync or (lambda: None)
        self.notify = notify or (lambda message: None)
        self.times: dict[str, float] = {}  # candidate -> seconds per step
        self.steps = 0
        self.shape = None  # the static batch shape (the first batch's)
        self.active = None  # the chosen step
        self.chosen: str | None = None
        self._trial = None  # (name, step, calls done)
        self._t0 = 0.0
        self.threads, self.threads_why = threads, threads_why
        self.describe = describe or (lambda name: name)
        self.per_step = per_step  # time each call (no device sync needed: the CPU)
        self.min_timed_s = min_timed_s if per_step else 0.0  # the clock needs each call timed
        self.max_timed = self._max_timed()
        self._per_step: list[float] = []
        self._rounds: PairedRounds | None = None  # the CPU's second phase, while it runs
        self._paired = False  # it ran (or could not): the next _finish chooses
        # a rounds name -> the candidate it is the twin of: the same variant with its contested
        # chains the other way round (variants.EagerVariant.alternative), timed beside it
        self._twins: dict = {}
        self.twin_times: dict = {}  # candidate -> (what its losing way was, seconds per step)
        self._watch: ThreadWatch | None = None  # the chosen step's thread count (the CPU), from its first call
        if total_steps and total_steps < 3 * (warm + timed) and len(self.queue) > 1:
            # too short to time eager and another candidate and still gain from the pick
            for name in self.queue[1:]:
                self.reasons.setdefault(name, f"not tried: the run has {total_steps} steps, too few to time it")
            self.queue = self.queue[:1]
        if self.queue == ["eager"] or not self.queue:
            self._choose("eager", announce=False)
        self.scaler = eager.scaler

    def _max_timed(self) -> int:
        """The most steps one trial times: the trials of every queued candidate fit in 1/SHARE_PARTS of
        TRIAL_SHARE of the run, the rounds after them in the rest (an open-ended run: MAX_TIMED)."""
        if not self.min_timed_s:
            return self.timed
        if not self.total_steps:
            return MAX_TIMED
        share = int(TRIAL_SHARE * self.total_steps / (SHARE_PARTS * max(len(self.queue), 1))) - self.warm
        return max(self.timed, min(MAX_TIMED, share))

    def most_selection_steps(self) -> int:
        """The most full batches the selection can take from now: every candidate still to time for
        as long as a trial may last, and the rounds (a guard for callers that loop until it ends)."""
        if self.chosen is not None:
            return 0
        if self._rounds is not None:
            return self._rounds.steps_left()
        trial = self.warm + max(self.max_timed, self.timed)
        candidates = len(self.queue) + len(self.times) + (self._trial is not None)
        # each candidate may bring its twin to the rounds
        rounds = PairedRounds.most_steps(2 * candidates) if self.per_step and not self._paired else 0
        return (len(self.queue) + 1) * trial + rounds

    def _trial_done(self, done: int) -> bool:
        timed = done - self.warm
        if timed < self.timed:
            return False
        return timed >= self.max_timed or sum(self._per_step) >= self.min_timed_s

    # ---- the step --------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        if self.chosen is not None:
            return self._display(self.chosen)
        names = self._rounds.order if self._rounds is not None else self.queue
        return "timing " + ", ".join(self._display(c) for c in names)

    def _label(self, name: str) -> str:
        """The chosen variant's own label (conv_pool with nothing fused shows as the strided pool)."""
        if name == self.chosen and self.active is not None and hasattr(self.active, "label"):
            return self.active.label
        return name

    def _display(self, name: str) -> str:
        if name in self._twins:
            return f"{self._display(self._twins[name])} ({self._cache[name].detail() or 'nothing fused'})"
        name = self._label(name)
        if name == "eager":
            return self.eager_name
        if name in ("channels_last", "strided_pool", "conv_pool", "bf16", "bf16_channels_last", "bf16_matmul"):
            return self.eager_name + "+" + name.replace("bf16_matmul", "bf16-matmul").replace("_", "-")
        return name

    def __call__(self, x, target):
        self.steps += 1
        if self.shape is None:
            self.shape = (tuple(x.shape), tuple(target.shape))
            if self.threads:
                torch.set_num_threads(self.threads)
        elif (tuple(x.shape), tuple(target.shape)) != self.shape:
            # the partial last batch: static-shape paths never see it, nor does a trial's clock
            if self._trial is None or self._trial[2] <= self.warm:
                return self.eager(x, target)
            self.sync()
            t = self.timer()
            result = self.eager(x, target)
            self.sync()
            self.exclude(self.timer() - t)
            return result
        if self.active is not None:
            if self._watch is None:
                return self.active(x, target)
            t = self.timer()
            result = self.active(x, target)
            self._watch.step(self.timer() - t)
            self.threads = self._watch.threads
            return result
        return self._select_step(x, target)

    def _select_step(self, x, target):
        if self._rounds is not None:
            return self._round_step(x, target)
        while self._trial is None:
            if not self.queue:
                self._finish()
                if self.active is not None:
                    return self.active(x, target)
                return self._round_step(x, target)  # _finish planned the rounds
            name = self.queue.pop(0)
            gate = self._gate(name)
            if gate:
                self.reasons[name] = gate
                continue
            try:
                step = self.eager if name == "eager" else self.factories[name]()
            except Exception as exc:  # building failed: nothing ran yet
                self.reasons[name] = f"could not be set up ({type(exc).__name__}: {exc})"
                continue
            self._trial = [name, step, 0]
            if name.startswith("compile"):
                # the first call compiles for seconds and cannot be interrupted: say so before it starts
                self.notify(f"fast path: trying {name}; compiling takes a few seconds (up to ~15) once, and "
                            f"Pause or Stop act when it is done")
        name, step, done = self._trial
        if done == self.warm:
            self.sync()
            self._t0 = self.timer()
            self._per_step = []
        t = self.timer()
        try:
            result = step(x, target)
        except CandidateFailed as exc:
            self.reasons[name] = str(exc)
            self._trial = None
            if hasattr(step, "undo"):
                step.undo()
            return self.eager(x, target)
        self._trial[2] = done = done + 1
        if self.per_step and done > self.warm:
            self._per_step.append(self.timer() - t)
        if self._trial_done(done):
            self.sync()
            # the CPU's step is synchronous, so each call is timed alone and the lower quartile
            # taken: a neighbour that preempts a step only ever adds time to it
            t_step = (statistics.quantiles(self._per_step, n=4)[0] if self.per_step
                      else (self.timer() - self._t0) / self.timed)
            self.times[name] = t_step
            self._trial = None
            if hasattr(step, "undo"):  # a layout/precision variant: the next trial starts from eager
                step.undo()
            if not self.queue:
                self._finish()
        return result

    def _round_step(self, x, target):
        """One call of the paired rounds: the current candidate's block, put on at its first call and
        taken off at its last (a layout or precision variant edits the shared eager step)."""
        rounds = self._rounds
        name = rounds.current
        step = self.eager if name == "eager" else self._cache[name]
        if hasattr(step, "apply"):
            step.apply()  # nothing to do while it is on
        t = self.timer()
        try:
            result = step(x, target)
        except CandidateFailed as exc:
            self.reasons[name] = str(exc)
            self.times.pop(name, None)
            if hasattr(step, "undo"):
                step.undo()
            rounds.drop(name)
            result = self.eager(x, target)
        else:
            if rounds.record(self.timer() - t) and hasattr(step, "undo"):
                step.undo()
        if rounds.done:
            self._rounds, self._paired = None, True
            self.times.update(rounds.estimates())
            self._settle_twins()
            self._finish()
        return result

    def _plan_rounds(self, best: str) -> PairedRounds | None:
        """The rounds for the candidates within CLOSE of the fastest, eager first (and eager too where a
        candidate would beat it: a slow spell during eager's trial must not hand the run to another);
        compiled and captured steps keep their trial's time."""
        close = [k for k in self.times if not k.startswith(("compile", "cuda_graph"))
                 and (self.times[k] <= self.times[best] * (1 + CLOSE) or (k == "eager" and best != "eager"))]
        close.sort(key=lambda k: k != "eager")  # eager first, the others in the trials' order
        reference = "eager" if "eager" in close else (best if best in close else None)
        if reference is None:
            return None
        budget = None
        if self.total_steps:
            budget = int(TRIAL_SHARE * self.total_steps) - self.steps
        names = self._with_twins(close)
        plan = PairedRounds.plan(names, reference, self.times[reference], budget) if names != close else None
        if plan is None:  # no twins, or the run cannot afford them
            self._twins = {}
            plan = PairedRounds.plan(close, reference, self.times[reference], budget)
        return plan

    def _with_twins(self, close: list) -> list:
        """`close` with each candidate's twin after it, where it has one."""
        names = []
        for name in close:
            names.append(name)
            alternative = getattr(self._cache.get(name), "alternative", None)
            twin = alternative() if alternative else None
            if twin is not None:
                key = f"{name}~twin"
                self._cache[key], self._twins[key] = twin, name
                names.append(key)
        return names

    def _settle_twins(self) -> None:
        """Each candidate keeps the faster of itself and its twin, by the rounds' estimates."""
        for key, name in self._twins.items():
            twin, seconds = self._cache.pop(key), self.times.pop(key, None)
            if seconds is None or name not in self.times:
                continue  # one of them failed in the rounds
            if seconds < self.times[name]:
                loser, self._cache[name] = self._cache[name], twin
                seconds, self.times[name] = self.times[name], seconds
            else:
                loser = twin
            self.twin_times[name] = (loser.detail() or "nothing fused", seconds)
        self._twins = {}

    def exclude(self, seconds: float) -> None:
        """Leave `seconds` out of the trial being timed (a pause, an eager partial batch)."""
        if self._trial is not None and self._trial[2] >= self.warm:
            self._t0 += seconds

    def _gate(self, name: str) -> str | None:
        """Why not to try `name` now: any candidate when the run ends before its trial could repay
        it, compile candidates on a run too short to repay the warm-up."""
        if self.forced:
            return None
        left = self.total_steps - self.steps
        if self.total_steps and name != "eager" and left < 2 * (self.warm + self.timed):
            return f"not tried: the run has {max(left, 0)} steps left, too few to time it and gain from it"
        if not name.startswith("compile") or not self.compile_min_run_s:
            return None
        per_step = self.times.get("eager")
        if per_step is None:
            return None
        run_s = per_step * max(self.total_steps - self.steps, 0)
        if run_s < self.compile_min_run_s:
            return (f"not tried: the rest of the run is about {run_s:.0f} s eager, too short to repay the "
                    f"compile warm-up (tried from {self.compile_min_run_s:.0f} s; training.fast_path "
                    f"\"thorough\" always tries it)")
        return None

    def _finish(self) -> None:
        if not self.times:
            self._choose("eager")
            return
        best = min(self.times, key=self.times.get)
        if self.per_step and not self._paired:
            self._paired = True  # one phase of rounds at most
            self._rounds = self._plan_rounds(best)  # each trial took its variant off at its end
            if self._rounds is not None:
                return
        eager_t = self.times.get("eager")
        if best != "eager" and eager_t is not None and self.times[best] > eager_t * (1 - self.margin):
            best = "eager"  # within the noise of eager: keep the simpler path
        self._choose(best)

    def _choose(self, name: str, announce: bool = True) -> None:
        self.chosen = name
        if name == "eager":
            self.active = self.eager
        else:
            self.active = self._built(name)
            if hasattr(self.active, "apply"):
                self.active.apply()
        if announce:
            self.notify(self.summary())
        if self.threads:
            self._watch = ThreadWatch(self.threads, notify=self.notify)
        self.factories, self._cache = {}, {}  # the losers' graphs and compiled code can go

    def _built(self, name):
        # the trial's step object (kept by the factory cache) is the one that was timed
        return self._cache[name]

    def summary(self) -> str:
        shown = self._display(self.chosen)
        what = self.describe(self._label(self.chosen))
        detail = getattr(self.active, "detail", lambda: "")()
        what = f"{what}; {detail}" if detail else what
        parts = [f"fast path: {shown}" + (f" ({what})" if what != self.chosen else "")]
        if self.times:
            timing = ", ".join(f"{self._display(k)} {v * 1e3:.2f} ms"
                               for k, v in sorted(self.times.items(), key=lambda kv: kv[1]))
            parts.append(f"per step {timing}")
        if self.twin_times:
            parts.append("also timed: " + ", ".join(f"{self._display(k)} with {what} {v * 1e3:.2f} ms"
                                                     for k, (what, v) in self.twin_times.items()))
        if self.reasons:
            parts.append("not used: " + "; ".join(f"{k} ({v})" for k, v in self.reasons.items()))
        if self.threads:
            parts.append(f"{self.threads} thread{'s' if self.threads > 1 else ''} ({self.threads_why})")
        return "; ".join(parts)

    # ---- the trainer's interface -------------------------------------------------------------------
    def state_dict(self) -> dict:
        return self.eager.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.eager.load_state_dict(state)


def cached(factories: dict, cache: dict) -> dict:
    """Wrap factories so the step built for a trial is the one kept when it wins."""
    def wrap(name, fn):
        def build():
            cache[name] = fn()
            return cache[name]
        return build
    return {name: wrap(name, fn) for name, fn in factories.items()}


def device_sync(device: torch.device):
    if device.type == "cuda":
        return lambda: torch.cuda.synchronize(device)
    return lambda: None
