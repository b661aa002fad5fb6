"""numpy arrays -> QImages: greyscale or RGB samples, colour-mapped activations, channel grids."""
from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor, QImage

# A perceptual dark-to-bright map (viridis-like), 5 stops interpolated to 256 entries.
_STOPS = np.array([[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], dtype=np.float32)
LUT = np.stack([np.interp(np.linspace(0, 4, 256), np.arange(5), _STOPS[:, c]) for c in range(3)], 1).astype(np.uint8)
# Diverging map for signed values (blue - dark - orange), like TensorFlow Playground.
_DIV = np.array([[63, 138, 230], [30, 34, 40], [240, 150, 50]], dtype=np.float32)
DIVERGING = np.stack([np.interp(np.linspace(0, 2, 256), np.arange(3), _DIV[:, c]) for c in range(3)], 1).astype(np.uint8)


def _rgb_image(rgb: np.ndarray) -> QImage:
    """An [H, W, 3] uint8 array as a QImage (copied, so the array may go)."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def normalize(a: np.ndarray, lo: float | None = None, hi: float | None = None) -> np.ndarray:
    a = np.nan_to_num(np.asarray(a, dtype=np.float32))
    lo = float(a.min()) if lo is None else lo
    hi = float(a.max()) if hi is None else hi
    if hi - lo < 1e-12:
        return np.zeros_like(a) + (0.5 if hi != 0 else 0.0)
    return np.clip((a - lo) / (hi - lo), 0.0, 1.0)


def colormap(a: np.ndarray, lut: np.ndarray = LUT, lo=None, hi=None) -> QImage:
    """A 2-D array as a colour-mapped image."""
    idx = (normalize(a, lo, hi) * 255).astype(np.uint8)
    return _rgb_image(lut[idx])


def sample_image(x: np.ndarray) -> QImage | None:
    """A dataset sample as a picture: [1, H, W] / [H, W] greyscale, [3, H, W] colour (min-max scaled).
    None when the sample is not image-like (a feature vector, a sequence)."""
    x = np.asarray(x)
    if x.ndim == 3 and x.shape[0] in (1, 3) and min(x.shape[1:]) >= 4:
        if x.shape[0] == 1:
            g = (normalize(x[0]) * 255).astype(np.uint8)
            return _rgb_image(np.repeat(g[:, :, None], 3, 2))
        return _rgb_image((normalize(np.transpose(x, (1, 2, 0))) * 255).astype(np.uint8))
    if x.ndim == 2 and min(x.shape) >= 4:
        return colormap(x)
    return None


def grid_shape(n: int, aspect: float = 1.0) -> tuple[int, int]:
    """Rows and columns for n tiles in a box of width/height ratio `aspect`."""
    cols = max(1, int(np.ceil(np.sqrt(n * aspect))))
    cols = min(cols, n)
    rows = int(np.ceil(n / cols))
    return rows, cols


def channel_grid(a: np.ndarray, cols: int, gap: int = 1, shared_scale: bool = False) -> QImage:
    """[C, H, W] as one image: C colour-mapped tiles (each scaled to its own range unless shared)."""
    c, h, w = a.shape
    rows = int(np.ceil(c / cols))
    out = np.zeros((rows * (h + gap) - gap, cols * (w + gap) - gap, 3), dtype=np.uint8)
    out[:] = (24, 27, 32)
    lo, hi = (float(a.min()), float(a.max())) if shared_scale else (None, None)
    for i in range(c):
        r, k = divmod(i, cols)
        idx = (normalize(a[i], lo, hi) * 255).astype(np.uint8)
        out[r * (h + gap):r * (h + gap) + h, k * (w + gap):k * (w + gap) + w] = LUT[idx]
    return _rgb_image(out)


def lut_color(t: float, lut: np.ndarray = LUT) -> QColor:
    r, g, b = lut[int(np.clip(t, 0, 1) * 255)]
    return QColor(int(r), int(g), int(b))
