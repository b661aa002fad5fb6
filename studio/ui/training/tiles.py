"""Small painted widgets: an image scaled to fit with crisp pixels (and a caption), and bars for a
vector of values (positive and negative)."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
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
    """A vector as bars around a zero line (positive in the accent colour, negative in orange), with
    its scale in a gutter on the left (top, 0, bottom values) so no label sits on a bar.

    One value is shown as a number (a lone bar says nothing about its size); two to four values as
    labelled horizontal rows with their numbers; more as vertical bars, each labelled with its index
    (and its value when there is room), at most MAX_BAR_W wide so a short vector stays compact."""

    MAX_BAR_W = 40.0
    ROWS_UP_TO = 4

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.values = np.zeros(0)
        self.labels: list[str] = []
        self.setMinimumHeight(60)

    def set_values(self, values, labels=None) -> None:
        self.values = np.nan_to_num(np.asarray(values, dtype=np.float64).reshape(-1))
        self.labels = list(labels or [])
        self.update()

    def _label(self, i: int) -> str:
        return self.labels[i] if len(self.labels) == len(self.values) else str(i)

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        n = len(self.values)
        if n == 0:
            p.end()
            return
        if n == 1:
            self._paint_number(p)
        elif n <= self.ROWS_UP_TO:
            self._paint_rows(p)
        else:
            self._paint_bars(p)
        p.end()

    def _font(self, p: QPainter, size: float, bold: bool = False) -> None:
        f = p.font()
        f.setPointSizeF(size)
        f.setBold(bold)
        p.setFont(f)

    def _paint_number(self, p: QPainter) -> None:
        v = float(self.values[0])
        r = QRectF(self.rect()).adjusted(4, 4, -4, -4)
        p.setPen(QColor(color("accent") if v >= 0 else "#e5915a"))
        self._font(p, max(9.0, min(20.0, r.width() / 7)), bold=True)
        room = r.height() >= 56  # a caption under the number, when it fits below it
        p.drawText(r.adjusted(0, 0, 0, -r.height() * 0.15) if room else r, Qt.AlignmentFlag.AlignCenter, f"{v:.4g}")
        if room:
            p.setPen(QColor(color("dim")))
            self._font(p, 8)
            p.drawText(r.adjusted(0, r.height() * 0.35, 0, 0), Qt.AlignmentFlag.AlignCenter, "one value")

    def _paint_rows(self, p: QPainter) -> None:
        """2-4 values: one row each, "i  [bar]  value", bars scaled to the largest magnitude."""
        n = len(self.values)
        r = QRectF(self.rect()).adjusted(4, 4, -4, -4)
        self._font(p, 8.5)
        fm = p.fontMetrics()
        name_w = max(fm.horizontalAdvance(self._label(i)) for i in range(n)) + 8
        texts = [f"{float(v):.3g}" for v in self.values]
        value_w = max(fm.horizontalAdvance(t) for t in texts) + 8
        bar = QRectF(r.left() + name_w, r.top(), max(r.width() - name_w - value_w, 10.0), r.height())
        row_h = min(bar.height() / n, 28.0)
        top = r.top() + (r.height() - row_h * n) / 2
        lo, hi = min(0.0, float(self.values.min())), max(0.0, float(self.values.max()))
        span = (hi - lo) or 1.0
        zero_x = bar.left() + bar.width() * (-lo) / span
        pos, neg = QColor(color("accent")), QColor("#e5915a")
        for i, v in enumerate(self.values):
            y = top + i * row_h
            w = bar.width() * abs(float(v)) / span
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(pos if v >= 0 else neg)
            p.drawRect(QRectF(zero_x if v >= 0 else zero_x - w, y + row_h * 0.2, max(w, 1.0), row_h * 0.6))
            p.setPen(QColor(color("dim")))
            p.drawText(QRectF(r.left(), y, name_w - 6, row_h),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, self._label(i))
            p.setPen(QColor(color("text")))
            p.drawText(QRectF(bar.right() + 6, y, value_w, row_h),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, texts[i])
        p.setPen(QPen(QColor(color("dim")), 1))
        p.drawLine(QPointF(zero_x, top), QPointF(zero_x, top + row_h * n))

    def _paint_bars(self, p: QPainter) -> None:
        n = len(self.values)
        self._font(p, 7.5)
        fm = p.fontMetrics()
        lo, hi = min(0.0, float(self.values.min())), max(0.0, float(self.values.max()))
        ticks = [f"{hi:.3g}", "0"] + ([f"{lo:.3g}"] if lo < 0 else [])
        gutter = max(fm.horizontalAdvance(t) for t in ticks) + 6
        show_index = n <= 32
        full = QRectF(self.rect()).adjusted(4, 6, -4, -(16 if show_index else 6))
        plot = QRectF(full.left() + gutter, full.top(), full.width() - gutter, full.height())
        bw = min(plot.width() / n, self.MAX_BAR_W)
        plot.setLeft(plot.left() + (plot.width() - bw * n) / 2)  # a short vector is centred, not stretched
        plot.setWidth(bw * n)
        span = (hi - lo) or 1.0
        zero_y = plot.top() + plot.height() * hi / span
        pos, neg = QColor(color("accent")), QColor("#e5915a")
        p.setPen(Qt.PenStyle.NoPen)
        for i, v in enumerate(self.values):
            h = plot.height() * abs(v) / span
            x = plot.left() + i * bw
            p.setBrush(pos if v >= 0 else neg)
            p.drawRect(QRectF(x + bw * 0.1, zero_y - h if v >= 0 else zero_y, max(bw * 0.8, 1.0), h))
        p.setPen(QPen(QColor(color("dim")), 1))
        p.drawLine(QPointF(plot.left(), zero_y), QPointF(plot.right(), zero_y))
        # the scale, in the gutter: top, zero and bottom values
        p.setPen(QColor(color("dim")))
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        g = QRectF(full.left(), 0, gutter - 4, 12)
        p.drawText(g.translated(0, plot.top() - 6), right, ticks[0])
        if plot.bottom() - zero_y > 12 and zero_y - plot.top() > 12:
            p.drawText(g.translated(0, zero_y - 6), right, "0")
        if lo < 0:
            p.drawText(g.translated(0, plot.bottom() - 6), right, ticks[2])
        if show_index:
            every = max(1, int(np.ceil((fm.horizontalAdvance(str(n - 1)) + 4) / bw)))
            for i in range(0, n, every):
                p.drawText(QRectF(plot.left() + i * bw - bw * (every - 1) / 2, plot.bottom() + 2, bw * every, 14),
                           Qt.AlignmentFlag.AlignCenter, self._label(i))


class TokenGrid(QWidget):
    """A sequence of token ids as a grid of cells, read left to right and top to bottom: each id in
    its cell, the cells tinted by id so repeated tokens stand out (a model input that is not a
    picture)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.ids = np.zeros(0, dtype=np.int64)
        self.caption = ""
        self.setMinimumSize(96, 64)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_ids(self, ids, caption: str = "") -> None:
        self.ids = np.asarray(ids).reshape(-1).astype(np.int64)
        self.caption = caption
        self.update()

    def paintEvent(self, _event) -> None:
        from .images import LUT

        p = QPainter(self)
        n = len(self.ids)
        r = QRectF(self.rect()).adjusted(2, 2, -2, -30)
        if n:
            cols = max(1, int(np.ceil(np.sqrt(n * r.width() / max(r.height(), 1.0)))))
            cols = min(cols, n)
            rows = int(np.ceil(n / cols))
            cell = min(r.width() / cols, r.height() / rows, 28.0)
            left = r.left() + (r.width() - cell * cols) / 2
            top = r.top() + (r.height() - cell * rows) / 2
            hi = max(int(self.ids.max()), 1)
            f = p.font()
            f.setPointSizeF(max(6.0, min(9.0, cell * 0.38)))
            p.setFont(f)
            for i, t in enumerate(self.ids):
                row, col = divmod(i, cols)
                cr = QRectF(left + col * cell, top + row * cell, cell - 1, cell - 1)
                rgb = LUT[int(40 + 200 * int(t) / hi)]
                fill = QColor(int(rgb[0]), int(rgb[1]), int(rgb[2]))
                p.fillRect(cr, fill)
                if cell >= 14:
                    p.setPen(QColor("#101214") if fill.lightness() > 120 else QColor("#ffffff"))
                    p.drawText(cr, Qt.AlignmentFlag.AlignCenter, str(int(t)))
        if self.caption:
            p.setPen(QColor(color("text")))
            f = p.font()
            f.setPointSizeF(8.5)
            p.setFont(f)
            p.drawText(QRectF(0, self.height() - 28, self.width(), 28),
                       Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.caption)
        p.end()
