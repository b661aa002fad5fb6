"""A readable confusion matrix: class labels on both axes (true down the side, predicted along the
top), the count in every cell, cells shaded by the share of their true class, and a colour scale."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QLinearGradient, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy

from ..theme import color
from .cached_paint import CachedPaintWidget


class ConfusionMatrixView(CachedPaintWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.matrix: np.ndarray | None = None
        self.classes: list[str] = []
        self.title = ""
        self.setMinimumSize(200, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:
        return QSize(320, 300)

    def set_matrix(self, matrix, classes, title: str = "") -> None:
        self.matrix = None if matrix is None else np.asarray(matrix, dtype=np.int64)
        k = 0 if self.matrix is None else self.matrix.shape[0]
        self.classes = list(classes)[:k] if classes else [str(i) for i in range(k)]
        while len(self.classes) < k:
            self.classes.append(str(len(self.classes)))
        self.title = title
        self.invalidate()

    @property
    def accuracy(self) -> float:
        m = self.matrix
        return float(np.trace(m) / max(m.sum(), 1)) if m is not None else float("nan")

    def cell_rgb(self, share: np.ndarray) -> np.ndarray:
        """The fill of cells whose true class went this share their way: [..., 3] uint8 RGB, from
        the background (0) to the accent colour (1), all at once (a hundred cells per epoch)."""
        base, accent = (np.array(QColor(color(name)).getRgb()[:3], float) for name in ("base", "accent"))
        t = np.clip(np.asarray(share, dtype=np.float64), 0, 1)[..., None] ** 0.7
        return (base + (accent - base) * t).astype(np.uint8)

    def cell_color(self, share: float) -> QColor:
        return QColor(*self.cell_rgb(share).tolist())

    # The matrix is drawn once into a pixmap (about a hundred cells with their counts: 5-15 ms in
    # software) and the pixmap is what a repaint shows until the matrix, the size or the theme changes
    # (CachedPaintWidget).

    def _draw(self, p: QPainter) -> None:
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        text, dim = QColor(color("text")), QColor(color("dim"))
        m = self.matrix
        r = QRectF(self.rect()).adjusted(4, 4, -4, -4)
        if self.title:  # in the widget's own font, as the captions beside it (8.5 pt read faint in light)
            p.setFont(self.font())
            p.setPen(text)
            h = p.fontMetrics().height()
            p.drawText(QRectF(r.left(), r.top(), r.width(), h), Qt.AlignmentFlag.AlignLeft,
                       p.fontMetrics().elidedText(self.title, Qt.TextElideMode.ElideRight, int(r.width())))
            r.setTop(r.top() + h + 4)
        font = QFont(self.font())
        font.setPointSizeF(8.5)
        p.setFont(font)
        if m is None or m.size == 0:
            p.setPen(dim)
            p.drawText(r, Qt.AlignmentFlag.AlignCenter, "The confusion matrix appears after the first epoch")
            return
        k = m.shape[0]
        fm = p.fontMetrics()
        label_w = min(max(fm.horizontalAdvance(c) for c in self.classes) + 8, 90)
        axis = 16  # room for the "true" / "predicted" captions
        scale_w = 58
        grid = QRectF(r.left() + axis + label_w, r.top() + axis + 16, 0, 0)
        side = min(r.right() - scale_w - grid.left(), r.bottom() - grid.top())
        cell = max(side / k, 2.0)
        grid.setWidth(cell * k)
        grid.setHeight(cell * k)
        rows = m.sum(1, keepdims=True).astype(np.float64)
        rgb = self.cell_rgb(m / np.maximum(rows, 1))
        light = (rgb.max(-1).astype(int) + rgb.min(-1)) / 2  # HSL lightness, as QColor.lightness()
        show_counts = cell >= fm.horizontalAdvance(str(int(m.max()))) + 4 and cell >= 12
        small = QFont(font)
        small.setPointSizeF(max(6.5, min(9.5, cell * 0.32)))
        p.setFont(small)
        mistake = QPen(QColor(color("error")), 1)
        on_dark, on_light = QColor("#ffffff"), QColor("#101214")
        for i in range(k):
            for j in range(k):
                cr = QRectF(grid.left() + j * cell, grid.top() + i * cell, cell, cell)
                p.fillRect(cr.adjusted(0.5, 0.5, -0.5, -0.5), QColor(*rgb[i, j].tolist()))
                count = int(m[i, j])
                if i != j and count > 0:  # mistakes get a thin warm outline so they stand out
                    p.setPen(mistake)
                    p.drawRect(cr.adjusted(1, 1, -1.5, -1.5))
                if show_counts and count > 0:
                    p.setPen(on_dark if light[i, j] < 140 else on_light)
                    p.drawText(cr, Qt.AlignmentFlag.AlignCenter, str(count))
        p.setFont(font)
        p.setPen(text)
        every = max(1, int(np.ceil(fm.height() / cell)))
        for i, name in enumerate(self.classes):
            if i % every:
                continue
            label = fm.elidedText(name, Qt.TextElideMode.ElideRight, int(label_w - 6))
            p.drawText(QRectF(grid.left() - label_w, grid.top() + i * cell, label_w - 6, cell),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, label)
            col = fm.elidedText(name, Qt.TextElideMode.ElideRight, int(max(cell * every, 10)))
            p.drawText(QRectF(grid.left() + i * cell - cell * (every - 1) / 2, grid.top() - 16, cell * every, 14),
                       Qt.AlignmentFlag.AlignCenter, col)
        p.setPen(dim)
        p.drawText(QRectF(grid.left(), grid.top() - 16 - axis, grid.width(), axis), Qt.AlignmentFlag.AlignCenter,
                   "predicted")
        p.save()
        p.translate(r.left() + axis - 4, grid.center().y())
        p.rotate(-90)
        p.drawText(QRectF(-grid.height() / 2, -axis + 2, grid.height(), axis), Qt.AlignmentFlag.AlignCenter, "true")
        p.restore()
        # colour scale: share of the true class
        bar = QRectF(grid.right() + 12, grid.top(), 10, grid.height())
        grad = QLinearGradient(bar.bottomLeft(), bar.topLeft())
        for t in np.linspace(0, 1, 6):
            grad.setColorAt(float(t), self.cell_color(float(t)))
        p.fillRect(bar, grad)
        p.setPen(QPen(QColor(color("border")), 1))
        p.drawRect(bar)
        p.setPen(dim)
        p.drawText(QRectF(bar.right() + 3, bar.top() - 6, 40, 14), Qt.AlignmentFlag.AlignLeft, "100%")
        p.drawText(QRectF(bar.right() + 3, bar.bottom() - 8, 40, 14), Qt.AlignmentFlag.AlignLeft, "0%")
