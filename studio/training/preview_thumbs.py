"""One node's output as a thumbnail a card can draw (Qt-free: plain numpy, so the preview engine
stays headless and testable): a grid of channels for [C, H, W], a heatmap for 2-D, bars for a short
vector (a long one wraps into a heatmap), the number for a scalar; with its range (min..max) over
the finite values."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

GRID = "grid"
HEAT = "heat"
BARS = "bars"
VALUE = "value"

MAX_CHANNELS = 16  # a card is 160 px wide: more channels than this would be a few pixels each
MAX_BARS = 48
AREA_ASPECT = 4.0  # width / height of the thumbnail area on a card (140 x 34 px)


@dataclass(frozen=True, eq=False)
class Thumb:
    """kind: GRID / HEAT (`values` a 2-D float32 image scaled to 0..1, NaN between tiles), BARS (the
    raw 1-D values), VALUE (one number); shape: the sample's output shape; lo, hi: its finite range;
    note: what the image leaves out ("16 of 64 channels"), or non-finite values."""

    kind: str
    values: np.ndarray
    shape: tuple[int, ...]
    lo: float
    hi: float
    note: str = ""
    key: tuple = field(default=(), compare=False)

    @property
    def range_text(self) -> str:
        if self.kind == VALUE:
            return f"= {self.lo:.4g}"
        return f"{self.lo:.3g} .. {self.hi:.3g}"


def _finite_range(a: np.ndarray) -> tuple[float, float, str]:
    finite = np.isfinite(a)
    if finite.all():
        return float(a.min()), float(a.max()), ""
    bad = int((~finite).sum())
    note = f"{bad} not finite"
    if not finite.any():
        return 0.0, 0.0, note
    good = a[finite]
    return float(good.min()), float(good.max()), note


def _scaled(a: np.ndarray, lo: float, hi: float) -> np.ndarray:
    span = hi - lo
    out = (a - lo) / span if span > 0 else np.full_like(a, 0.5)
    return np.clip(np.nan_to_num(out, nan=0.5, posinf=1.0, neginf=0.0), 0.0, 1.0).astype(np.float32)


def _mosaic(maps: np.ndarray) -> np.ndarray:
    """[C, H, W] (already 0..1) tiled into rows and columns that fill a wide card area best, with a
    one-pixel NaN gap between tiles."""
    c, h, w = maps.shape
    best = None
    for cols in range(1, c + 1):
        rows = math.ceil(c / cols)
        width, height = cols * (w + 1) - 1, rows * (h + 1) - 1
        scale = min(AREA_ASPECT / width, 1.0 / height)  # the tile size when fitted to the area
        if best is None or scale > best[0]:
            best = (scale, cols, rows)
    _, cols, rows = best
    out = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1), np.nan, dtype=np.float32)
    for i in range(c):
        r, k = divmod(i, cols)
        out[r * (h + 1):r * (h + 1) + h, k * (w + 1):k * (w + 1) + w] = maps[i]
    return out


def _wrap(v: np.ndarray) -> np.ndarray:
    """A long vector as rows of a near-AREA_ASPECT image (the tail padded with NaN)."""
    n = v.size
    cols = max(1, math.ceil(math.sqrt(n * AREA_ASPECT)))
    rows = math.ceil(n / cols)
    out = np.full(rows * cols, np.nan, dtype=np.float32)
    out[:n] = v
    return out.reshape(rows, cols)


def make_thumb(value: np.ndarray) -> Thumb:
    """The thumbnail of one sample's output (without the batch dimension)."""
    a = np.asarray(value, dtype=np.float32)
    shape = tuple(int(d) for d in a.shape)
    lo, hi, note = _finite_range(a) if a.size else (0.0, 0.0, "empty")
    if a.size <= 1:
        v = float(a.reshape(-1)[0]) if a.size else float("nan")
        return Thumb(VALUE, np.asarray(v, dtype=np.float32), shape, v, v, note)
    squeezed = a.reshape([d for d in a.shape if d != 1]) if a.ndim > 1 else a
    if squeezed.ndim == 1:
        if squeezed.size <= MAX_BARS:
            return Thumb(BARS, np.nan_to_num(squeezed, nan=0.0, posinf=hi, neginf=lo), shape, lo, hi, note)
        return Thumb(HEAT, _wrap(_scaled(squeezed, lo, hi)), shape, lo, hi,
                     _join(note, f"{squeezed.size} values in rows"))
    if squeezed.ndim == 2:
        return Thumb(HEAT, _scaled(squeezed, lo, hi), shape, lo, hi, note)
    maps = squeezed.reshape(-1, squeezed.shape[-2], squeezed.shape[-1])  # [C, H, W] (and more: flattened)
    total = maps.shape[0]
    if total > MAX_CHANNELS:
        maps = maps[:MAX_CHANNELS]
        note = _join(note, f"{MAX_CHANNELS} of {total} channels")
    return Thumb(GRID, _mosaic(_scaled(maps, lo, hi)), shape, lo, hi, note)


def _join(a: str, b: str) -> str:
    return f"{a}; {b}" if a else b
