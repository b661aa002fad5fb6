"""Small painted widgets: an image scaled to fit with crisp pixels (and a caption), and bars for a
vector of values (positive and negative)."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from ..theme import color


class ImageTile(QWidget):
    """A QImage drawn as large as fits (nearest-neighbour, so an 8x8 map stays 8x8 blocks)."""

    def __init__(self, parent=None, caption: str = "", min_side: int = 48) -> None:
        super().__init__(parent)
        self.image: QImage | None = None
        self.caption = caption
        self.caption_color: str | None = None
        self.border: str | None = None
        self.placeholder = ""
        self.setMinimumSize(min_side, min_side + (16 if caption is not None else 0))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_image(self, image: QImage | None, caption: str | None = None, border: str | None = None,
                  caption_color: str | None = None) -> None:
        self.image = image
        if caption is not None:
            self.caption = caption
        self.border, self.caption_color = border, caption_color
        self.update()

    def has_image(self) -> bool:
        return self.image is not None and not self.image.isNull()

    def sizeHint(self) -> QSize:
        return QSize(96, 112)

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        r = QRectF(self.rect()).adjusted(2, 2, -2, -2)
        text_h = 16.0 if self.caption else 0.0
        box = QRectF(r.left(), r.top(), r.width(), r.height() - text_h)
        if self.has_image():
            iw, ih = self.image.width(), self.image.height()
            scale = min(box.width() / iw, box.height() / ih)
            if scale >= 1:
                scale = max(1.0, float(int(scale)))  # whole multiples keep pixels square and sharp
            w, h = iw * scale, ih * scale
            target = QRectF(box.center().x() - w / 2, box.top() + (box.height() - h) / 2, w, h)
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, scale < 1)
            p.drawImage(target, self.image)
            if self.border:
                p.setPen(QPen(QColor(self.border), 2.5))
                p.drawRect(target.adjusted(-1.5, -1.5, 1.5, 1.5))
        elif self.placeholder:
            p.setPen(QColor(color("dim")))
            p.drawText(box, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.placeholder)
        if self.caption:
            p.setPen(QColor(self.caption_color or color("text")))
            f = p.font()
            f.setPointSizeF(8.5)
            p.setFont(f)
            p.drawText(QRectF(r.left(), r.bottom() - text_h, r.width(), text_h),
                       Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter, self.caption)
        p.end()


class BarsWidget(QWidget):
    """A vector as bars around a zero line (positive in the accent colour, negative in orange)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.values = np.zeros(0)
        self.labels: list[str] = []
        self.setMinimumHeight(60)

    def set_values(self, values, labels=None) -> None:
        self.values = np.nan_to_num(np.asarray(values, dtype=np.float64).reshape(-1))
        self.labels = list(labels or [])
        self.update()

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        n = len(self.values)
        r = QRectF(self.rect()).adjusted(6, 6, -6, -(18 if self.labels else 6))
        if n == 0:
            p.end()
            return
        lo, hi = min(0.0, float(self.values.min())), max(0.0, float(self.values.max()))
        span = (hi - lo) or 1.0
        zero_y = r.top() + r.height() * hi / span
        bw = r.width() / n
        pos, neg = QColor(color("accent")), QColor("#e5915a")
        p.setPen(Qt.PenStyle.NoPen)
        for i, v in enumerate(self.values):
            h = r.height() * abs(v) / span
            x = r.left() + i * bw
            p.setBrush(pos if v >= 0 else neg)
            p.drawRect(QRectF(x + bw * 0.1, zero_y - h if v >= 0 else zero_y, max(bw * 0.8, 1.0), h))
        p.setPen(QPen(QColor(color("dim")), 1))
        p.drawLine(int(r.left()), int(zero_y), int(r.right()), int(zero_y))
        if self.labels and len(self.labels) == n and bw >= 12:
            f = p.font()
            f.setPointSizeF(8)
            p.setFont(f)
            for i, label in enumerate(self.labels):
                p.drawText(QRectF(r.left() + i * bw, r.bottom() + 2, bw, 14), Qt.AlignmentFlag.AlignCenter, label)
        p.setPen(QColor(color("dim")))
        f = p.font()
        f.setPointSizeF(7.5)
        p.setFont(f)
        p.drawText(QRectF(r.left(), r.top() - 4, r.width(), 12), Qt.AlignmentFlag.AlignRight, f"max {hi:.3g}")
        if lo < 0:
            p.drawText(QRectF(r.left(), r.bottom() - 10, r.width(), 12), Qt.AlignmentFlag.AlignRight, f"min {lo:.3g}")
        p.end()
