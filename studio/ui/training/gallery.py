"""A grid of sample thumbnails with a two-line caption each, painted in one go into a cached
pixmap (a list widget's 48 items with icons cost 10-25 ms to refill every epoch; this costs a
paint). A click on a cell emits `clicked(i)`. Samples that are not pictures (feature vectors, 2-D
points) show their first values instead."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy

from ..theme import color
from .cached_paint import CachedPaintWidget
from . import images

THUMB = 56  # px: a thumbnail
CELL = QSize(THUMB + 34, THUMB + 36)  # the thumbnail and two lines of caption


class Gallery(CachedPaintWidget):
    clicked = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.captions: list[str] = []
        self.tips: list[str] = []
        self.samples: list = []
        self._pictures: list = []
        self.cell = QSize(CELL)  # widened to the longest caption line ("upper → lower" overran 90 px)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setMinimumHeight(CELL.height())

    def sizeHint(self) -> QSize:
        return QSize(self.cell.width() * 6, self.cell.height() * 2)

    def count(self) -> int:
        return len(self.captions)

    def set_samples(self, samples: list, captions: list[str], tips: list[str]) -> None:
        self.samples, self.captions, self.tips = samples, captions, tips
        self._pictures = [None] * len(samples)  # made when painted
        fm = self.fontMetrics()
        widest = max((fm.horizontalAdvance(line) for c in captions for line in c.split("\n")), default=0)
        self.cell = QSize(max(CELL.width(), widest + 10), CELL.height())
        self._fit_height()
        self.invalidate()

    def has_picture(self, i: int) -> bool:
        return images.sample_image(self.samples[i]["x"]) is not None

    def columns(self) -> int:
        return max(1, self.width() // self.cell.width())

    def cell_rect(self, i: int) -> QRect:
        r, c = divmod(i, self.columns())
        return QRect(c * self.cell.width(), r * self.cell.height(), self.cell.width(), self.cell.height())

    def index_at(self, pos) -> int:
        c, r = pos.x() // self.cell.width(), pos.y() // self.cell.height()
        i = r * self.columns() + c
        return i if 0 <= c < self.columns() and 0 <= i < self.count() else -1

    def _fit_height(self) -> None:
        rows = max(1, -(-self.count() // self.columns()))
        h = rows * self.cell.height()
        if h != self.minimumHeight():  # the same count at the same width: no relayout
            self.setMinimumHeight(h)

    def resizeEvent(self, event) -> None:
        self._fit_height()
        super().resizeEvent(event)  # (and drops the drawn pixmap)

    def mousePressEvent(self, event) -> None:
        i = self.index_at(event.position().toPoint())
        if i >= 0 and event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit(i)
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        i = self.index_at(event.position().toPoint())
        self.setToolTip(self.tips[i] if 0 <= i < len(self.tips) else "")
        self.setCursor(Qt.CursorShape.PointingHandCursor if i >= 0 else Qt.CursorShape.ArrowCursor)
        super().mouseMoveEvent(event)

    def _draw(self, p: QPainter) -> None:
        text, border = self.palette().color(QPalette.ColorRole.WindowText), QColor(color("border"))
        for i, caption in enumerate(self.captions):
            cell = self.cell_rect(i)
            box = QRect(cell.x() + (cell.width() - THUMB) // 2, cell.y() + 2, THUMB, THUMB)
            picture = self._pictures[i]
            if picture is None:
                picture = self._pictures[i] = images.sample_image(self.samples[i]["x"]) or False
            p.setPen(border)
            if picture:
                p.drawImage(box, picture)
            else:  # a feature vector: its first values
                values = np.asarray(self.samples[i]["x"]).reshape(-1)[:3]
                p.setPen(QColor(color("dim")))
                p.drawText(box, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                           "\n".join(f"{v:.3g}" for v in values))
                p.setPen(border)
            p.drawRect(box.adjusted(0, 0, -1, -1))
            p.setPen(text)
            p.drawText(QRect(cell.x(), box.bottom() + 2, cell.width(), cell.height() - THUMB - 4),
                       Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, caption)
