"""A one-line label for text that changes while a run trains (a layer's shape and step, a read-out).

A plain QLabel asks its layout for the width of its text, so a longer text ("step 999" becoming
"step 1,000") widens the dock it sits in, the dock beside it shrinks, and every plot in both is
resized and redrawn from scratch: a visible jump and 20-50 ms of painting (bench ui). This label
takes the width its layout gives it and elides the text to fit, with the whole text in its tooltip."""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QLabel, QSizePolicy, QStyleOption


class LiveLabel(QLabel):
    def __init__(self, text: str = "", parent=None) -> None:
        super().__init__(text, parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        return QSize(120, self.fontMetrics().height() + 2)

    def minimumSizeHint(self) -> QSize:
        return QSize(0, self.fontMetrics().height() + 2)

    def setText(self, text: str) -> None:
        super().setText(text)
        self._sync_tooltip()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._sync_tooltip()

    def _sync_tooltip(self) -> None:
        text = self.text()
        self.setToolTip(text if self.fontMetrics().horizontalAdvance(text) > self.contentsRect().width() else "")

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        opt = QStyleOption()
        opt.initFrom(self)
        rect = self.contentsRect()
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, rect.width())
        self.style().drawItemText(p, rect, int(self.alignment() | Qt.AlignmentFlag.AlignVCenter), opt.palette,
                                  self.isEnabled(), text, self.foregroundRole())
        p.end()
