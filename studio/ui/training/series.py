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


def ema(values, alpha: float = 0.1, start: float | None = None) -> np.ndarray:
    """Exponential moving average with bias correction (the first points are not pulled to 0)."""
    out = np.empty(len(values), dtype=np.float64)
    m, w = 0.0, 0.0
    if start is not None:
        m, w = start, 1.0
    for i, v in enumerate(values):
        if v != v:  # NaN: keep the average
            out[i] = m / w if w else np.nan
            continue
        m = (1 - alpha) * m + alpha * v
        w = (1 - alpha) * w + alpha
        out[i] = m / w
    return out


class EmaState:
    """Incremental EMA (same result as `ema` over the whole series)."""

    def __init__(self, alpha: float = 0.1) -> None:
        self.alpha, self.m, self.w = alpha, 0.0, 0.0

    def reset(self) -> None:
        self.m = self.w = 0.0

    def update(self, values) -> list[float]:
        a, out = self.alpha, []
        for v in values:
            if v == v:
                self.m = (1 - a) * self.m + a * v
                self.w = (1 - a) * self.w + a
            out.append(self.m / self.w if self.w else float("nan"))
        return out
