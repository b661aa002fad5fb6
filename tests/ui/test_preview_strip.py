"""The preview strip on a card: every line of it fits the card (nothing cut), a count of values that
are not finite on a line of its own in the warning colour above the range, and the notes of cards
without a thumbnail whole."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter

from studio.training.preview_thumbs import make_thumb
from studio.ui.canvas import style
from studio.ui.canvas.preview_paint import PREVIEW_H, RANGE_H, PreviewFace, paint_preview, strip_lines
from studio.ui.preview.controller import COMPUTING, NO_PREVIEW, PREPARING

WIDTH = style.NODE_WIDTH - 2 * style.PAD_X


def channels_with_nan(bad: int) -> np.ndarray:
    a = np.random.default_rng(0).normal(size=(64, 8, 8)).astype(np.float32) * 1e4
    a.reshape(-1)[:bad] = np.nan
    return a


@pytest.mark.parametrize("face", [
    PreviewFace(None, PREPARING), PreviewFace(None, COMPUTING), PreviewFace(None, NO_PREVIEW),
    PreviewFace(make_thumb(np.linspace(-0.00232, 0.116, 32))),
    PreviewFace(make_thumb(channels_with_nan(4000))),
    PreviewFace(make_thumb(np.full((16, 4, 4), np.inf, dtype=np.float32))),
], ids=["preparing", "computing", "none", "bars", "nan_grid", "all_inf"])
def test_every_line_of_the_strip_fits_the_card(qapp, face):
    lines = strip_lines(face)
    assert [t for t, _w in lines if style.text_width("shape", t) > WIDTH] == []


@pytest.mark.fault("preview", "a node's output holds NaN values",
                   "the count on a line of its own, in the warning colour, above the whole range")
def test_not_finite_count_is_its_own_warning_line_above_the_range(qapp):
    face = PreviewFace(make_thumb(channels_with_nan(4000)))
    (warning, warn), (range_text, plain) = strip_lines(face)
    assert warn and not plain and warning == "4000 not finite" and " .. " in range_text
    image = QImage(int(WIDTH), int(PREVIEW_H), QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    paint_preview(painter, style.DARK, QRectF(0, 0, WIDTH, PREVIEW_H), face)
    painter.end()
    row = int(PREVIEW_H - 1.5 * RANGE_H - 1)  # the middle of the warning line
    colours = {image.pixelColor(x, y).rgb() for x in range(image.width()) for y in range(row - 3, row + 4)}
    assert style.DARK.warning.rgb() in colours or any(
        _near(c, style.DARK.warning) for c in colours)


def _near(rgb: int, colour) -> bool:
    r, g, b = (rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255
    return abs(r - colour.red()) + abs(g - colour.green()) + abs(b - colour.blue()) < 60
