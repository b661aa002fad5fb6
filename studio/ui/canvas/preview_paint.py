"""The live preview's strip on a node card: a thumbnail of the node's output for the chosen sample
(a channel grid, a heatmap, bars or the value) and its range under it, or a short note when the
node has none. Kept apart from the card's own painting (node_item.py calls `paint_preview`).

`PreviewFace` is made on the preview's worker thread (a QImage may be built off the GUI thread)
and is only drawn on the GUI thread."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QImage, QPainter, QPen

from . import style

PREVIEW_H = 52.0  # the strip: image box, then the range line (kept low: templates space rows ~170 apart)
RANGE_H = 14.0
_POS, _NEG = QColor(90, 170, 255), QColor(229, 145, 90)


def _lut() -> np.ndarray:
    from ..training.images import LUT

    return LUT


class PreviewFace:
    """What one card shows of its node's output: `thumb` (studio.training.preview_thumbs.Thumb) with
    its image made, or only a note ("no preview")."""

    __slots__ = ("thumb", "image", "note")

    def __init__(self, thumb=None, note: str = "") -> None:
        self.thumb, self.note, self.image = thumb, note, None
        if thumb is not None and thumb.kind in ("grid", "heat"):
            self.image = _image(thumb.values)

    @property
    def range_text(self) -> str:
        return self.thumb.range_text if self.thumb is not None else self.note


def _image(values: np.ndarray) -> QImage:
    """0..1 values (NaN: the gap between tiles, left transparent) through the colour map, as ARGB."""
    v = np.asarray(values, dtype=np.float32)
    gap = np.isnan(v)
    idx = (np.nan_to_num(v, nan=0.0) * 255).astype(np.uint8)
    rgb = _lut()[idx]
    argb = np.empty(v.shape + (4,), dtype=np.uint8)
    argb[..., 0], argb[..., 1], argb[..., 2] = rgb[..., 2], rgb[..., 1], rgb[..., 0]  # BGRA in memory
    argb[..., 3] = np.where(gap, 0, 255)
    h, w = v.shape
    return QImage(np.ascontiguousarray(argb).data, w, h, 4 * w, QImage.Format.Format_ARGB32).copy()


def strip_rect(card: QRectF, footer: bool) -> QRectF:
    bottom = card.bottom() - (style.FOOTER_H + 2 if footer else 2)
    return QRectF(style.PAD_X, bottom - PREVIEW_H, card.width() - 2 * style.PAD_X, PREVIEW_H)


def paint_preview(painter: QPainter, theme, area: QRectF, face: PreviewFace) -> None:
    painter.setPen(QPen(theme.card_border, 1.0))
    painter.drawLine(QPointF(area.left() - style.PAD_X + 1, area.top()), QPointF(area.right() + style.PAD_X - 1,
                                                                                  area.top()))
    lines = strip_lines(face)
    thumb = face.thumb
    if thumb is None:  # a note only ("preparing…", "no preview"): in the middle of the strip
        painter.setFont(style.Fonts.get("shape"))
        painter.setPen(theme.text_muted)
        painter.drawText(area, style.CENTER, style.elide("shape", lines[0][0], area.width()))
        return
    box = QRectF(area.left(), area.top() + 3, area.width(), area.height() - len(lines) * RANGE_H - 4)
    if face.image is not None:
        _paint_image(painter, box, face.image)
    elif thumb.kind == "bars":
        _paint_bars(painter, theme, box, thumb.values)
    else:
        painter.setPen(theme.text)
        painter.setFont(style.Fonts.get("title"))
        painter.drawText(box, style.CENTER, f"{thumb.lo:.4g}")
    painter.setFont(style.Fonts.get("shape"))
    for i, (text, warn) in enumerate(reversed(lines)):
        line = QRectF(area.left(), area.bottom() - (i + 1) * RANGE_H - 1, area.width(), RANGE_H)
        painter.setPen(theme.warning if warn else theme.text_muted)
        painter.drawText(line, style.CENTER, style.elide("shape", text, line.width()))


def strip_lines(face: PreviewFace) -> list[tuple[str, bool]]:
    """The lines under the thumbnail, each (text, a warning?): its range, and above it how many
    values are not finite (a line of its own: with the range it would not fit a card), or the
    note of a card without a thumbnail."""
    thumb = face.thumb
    if thumb is None:
        return [(face.note, False)]
    bad = [part.strip() for part in thumb.note.split(";") if "finite" in part]
    return [(bad[0], True), (face.range_text, False)] if bad else [(face.range_text, False)]


def _paint_image(painter: QPainter, box: QRectF, image: QImage) -> None:
    iw, ih = image.width(), image.height()
    scale = min(box.width() / iw, box.height() / ih)
    if scale >= 2:
        scale = float(int(scale))  # whole multiples: an 8x8 map stays 8x8 sharp blocks
    w, h = iw * scale, ih * scale
    target = QRectF(box.center().x() - w / 2, box.center().y() - h / 2, w, h)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)  # each value a block
    painter.drawImage(target, image)


def _paint_bars(painter: QPainter, theme, box: QRectF, values: np.ndarray) -> None:
    v = np.asarray(values, dtype=np.float64)
    lo, hi = min(0.0, float(v.min())), max(0.0, float(v.max()))
    span = (hi - lo) or 1.0
    bw = box.width() / len(v)
    zero = box.top() + box.height() * hi / span
    painter.setPen(style.NO_PEN)
    for i, x in enumerate(v):
        h = box.height() * abs(float(x)) / span
        painter.setBrush(_POS if x >= 0 else _NEG)
        painter.drawRect(QRectF(box.left() + i * bw + bw * 0.12, zero - h if x >= 0 else zero, max(bw * 0.76, 1.0),
                                max(h, 0.5)))
    painter.setPen(QPen(theme.text_muted, 1.0))
    painter.drawLine(QPointF(box.left(), zero), QPointF(box.right(), zero))
