"""Growable numpy series for live plots (amortised appends, views without copies) and the EMA."""
from __future__ import annotations

import numpy as np


class Series:
    def __init__(self, capacity: int = 1024) -> None:
        self._x = np.empty(capacity, dtype=np.float64)
        self._y = np.empty(capacity, dtype=np.float64)
        self.n = 0

    def clear(self) -> None:
        self.n = 0

    def extend(self, xs, ys) -> None:
        k = len(xs)
        if self.n + k > len(self._x):
            cap = max(2 * len(self._x), self.n + k)
            self._x = np.resize(self._x, cap)
            self._y = np.resize(self._y, cap)
        self._x[self.n:self.n + k] = xs
        self._y[self.n:self.n + k] = ys
        self.n += k

    def append(self, x: float, y: float) -> None:
        self.extend((x,), (y,))

    @property
    def x(self) -> np.ndarray:
        return self._x[:self.n]

    @property
    def y(self) -> np.ndarray:
        return self._y[:self.n]

    def __len__(self) -> int:
        return self.n

    def nearest(self, x: float) -> int | None:
        if not self.n:
            return None
        i = int(np.searchsorted(self.x, x))
        if i >= self.n:
            return self.n - 1
        if i > 0 and abs(self.x[i - 1] - x) < abs(self.x[i] - x):
            return i - 1
        return i


def smoothing_halflife(planned_steps: float) -> float:
    """The smoothed loss follows the last ~2% of the planned run: a fixed share of the step axis, so
    the line looks the same whether the trainer reported every step or every fifty."""
    return max(1.0, 0.02 * float(planned_steps))


class EmaState:
    """Bias-corrected EMA over (step, value) points whose weight halves every `halflife` steps.

    An EMA per report lags by a fixed number of reports: with coarse reports (a short run, a slow
    model) the smoothed line trails the loss by a large part of the run. Decaying by step distance
    keeps the lag to about `halflife` steps. The first points are not pulled towards 0."""

    def __init__(self, halflife: float = 10.0) -> None:
        self.halflife = halflife
        self.reset()

    def reset(self) -> None:
        self.m = self.w = 0.0
        self.last_x: float | None = None

    def update(self, xs, ys) -> list[float]:
        out = []
        for x, v in zip(xs, ys):
            if v == v:  # NaN: keep the average
                dx = 1.0 if self.last_x is None else max(float(x) - self.last_x, 0.0)
                keep = 0.5 ** (dx / self.halflife)
                self.m = keep * self.m + (1 - keep) * v
                self.w = keep * self.w + (1 - keep)
                self.last_x = float(x)
            out.append(self.m / self.w if self.w else float("nan"))
        return out


def ema(xs, ys, halflife: float) -> np.ndarray:
    """The smoothed series of a whole run at once (same result as EmaState point by point)."""
    return np.asarray(EmaState(halflife).update(xs, ys), dtype=np.float64)
