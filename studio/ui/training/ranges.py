"""Steady view ranges for live plots.

pyqtgraph's auto-range moves the view a little on every new point, and every move makes the axes
regenerate their ticks, re-lay out their labels and repaint the grid (most of a plot's paint time
in software rendering). `SteadyRange` sets the range itself and changes it only when the data
leaves the view or shrinks to a small part of it, with head-room along x so a growing curve moves
the view a few times per run, not 30 times a second.

A person who pans or zooms a plot takes it over (the range stays where they put it); a
double-click on the plot hands it back."""
from __future__ import annotations

import math

import numpy as np

X_HEADROOM = 1.5  # a growing x range jumps to 1.5x the data's extent (rounded to a nice number)
Y_PAD = 0.08  # margin above and below the data, as a share of its span
Y_EXIT_PAD = 0.3  # ... and on the side where the data left the view
Y_SHRINK = 0.45  # re-fit y when the data spans less than this share of the view


def nice_ceil(x: float) -> float:
    """The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 x 10^k that is >= x (x > 0)."""
    if x <= 0 or not math.isfinite(x):
        return 1.0
    e = 10.0 ** math.floor(math.log10(x))
    for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * e >= x * (1 - 1e-12):
            return m * e
    return 10 * e


class SteadyRange:
    def __init__(self, plot, *, x_from_zero: bool = True, y_from_zero: bool = False) -> None:
        self.plot = plot
        self.x_from_zero, self.y_from_zero = x_from_zero, y_from_zero
        self.x_cap: float | None = None  # the largest x the data can reach (the run's last step)
        self.x_min_span = 1.0  # the x range is never narrower (e.g. one epoch of steps)
        self.x_margin = 0.0  # room left and right of the data (epochs: half a step)
        self.follow = True
        self.x_grow = True  # False: only y is managed (the caller sets x)
        self.changes = 0  # how many times the range was moved (tests, bench)
        vb = plot.getViewBox()
        vb.disableAutoRange()
        vb.sigRangeChangedManually.connect(self._taken_over)
        self._set_by_us = False
        self._x: tuple[float, float] | None = None
        self._y: tuple[float, float] | None = None

    def _taken_over(self, *_args) -> None:
        self.follow = False

    def reset(self) -> None:
        """A new run: forget the range, follow the data again."""
        self.follow = True
        self._x = self._y = None

    def hand_back(self) -> None:
        self.follow = True
        self._x = self._y = None

    # ---- the rule -----------------------------------------------------------------------------
    def update(self, xs, *ys_arrays, log_y: bool = False) -> bool:
        """Fit the view to the data if it has to move. `xs`: an array of x values or a list of arrays
        (several curves); `ys_arrays`: their y values (None for none). True when the range changed."""
        if not self.follow:
            return False
        xs = [a for a in (xs if isinstance(xs, (list, tuple)) else [xs]) if a is not None and len(a)]
        if not xs:
            return False
        x_lo = 0.0 if self.x_from_zero else min(float(np.min(a)) for a in xs)
        x_hi = max(float(np.max(a)) for a in xs)
        lo, hi = math.inf, -math.inf
        for ys in ys_arrays:
            if ys is None or not len(ys):
                continue
            v = ys[np.isfinite(ys)]
            if log_y:
                v = v[v > 0]
                if not len(v):
                    continue
                v = np.log10(v)
            if len(v):
                lo, hi = min(lo, float(v.min())), max(hi, float(v.max()))
        if not math.isfinite(lo):
            return False
        if self.y_from_zero and not log_y:
            lo = min(lo, 0.0)
        new_x = self._x
        if not self.x_grow:
            new_x = None
        elif new_x is None or x_hi > new_x[1] - self.x_margin or x_lo < new_x[0] + self.x_margin:
            span = max(x_hi - x_lo, 1.0)
            top = x_lo + max(nice_ceil(span * X_HEADROOM), self.x_min_span)
            if self.x_cap is not None and self.x_cap >= x_hi:
                top = min(top, max(self.x_cap, x_lo + 1.0))
            new_x = (x_lo - self.x_margin, top + self.x_margin)
        new_y = self._y
        span = hi - lo
        if span <= 0:
            span = abs(hi) * 0.1 if hi else (0.5 if log_y else 1.0)
        below, above = new_y is not None and lo < new_y[0], new_y is not None and hi > new_y[1]
        if new_y is None or below or above or span < Y_SHRINK * (new_y[1] - new_y[0]):
            # leaving the view on one side (a falling loss): room for more of the same on that side
            y0 = lo - span * (Y_EXIT_PAD if below else Y_PAD)
            y1 = hi + span * (Y_EXIT_PAD if above else Y_PAD)
            if not log_y and lo >= 0 and (self.y_from_zero or y0 < 0):
                y0 = 0.0  # losses, rates and norms are not negative: no axis below zero
            new_y = (y0, y1)
        if new_x == self._x and new_y == self._y:
            return False
        self._x, self._y = new_x, new_y
        self.changes += 1
        if new_x is None:
            self.plot.getViewBox().setYRange(*new_y, padding=0)
        else:
            self.plot.getViewBox().setRange(xRange=new_x, yRange=new_y, padding=0)
        return True
