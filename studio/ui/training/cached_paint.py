"""A widget that draws its contents once into a pixmap and repaints from it until its data, its
size or its theme changes: for views of many small items (a confusion matrix's cells, a gallery of
thumbnails) whose drawing costs milliseconds in software while the window repaints often."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter, QPixmap
from PySide6.QtWidgets import QWidget


class CachedPaintWidget(QWidget):
    """Subclasses draw in `_draw(painter)` and call `invalidate()` when what they show changes."""

    _pixmap: QPixmap | None = None

    def invalidate(self) -> None:
        self._pixmap = None
        self.update()

    def resizeEvent(self, event) -> None:
        self._pixmap = None
        super().resizeEvent(event)

    def changeEvent(self, event) -> None:  # the theme (palette, font) changed
        self._pixmap = None
        super().changeEvent(event)

    def _draw(self, painter: QPainter) -> None:
        raise NotImplementedError

    def paintEvent(self, _event) -> None:
        if self.width() <= 0 or self.height() <= 0:
            return  # (a null pixmap: "QPainter::end: Painter not active" on stderr)
        ratio = self.devicePixelRatioF()
        if self._pixmap is None or self._pixmap.size() != self.size() * ratio:
            pixmap = QPixmap(self.size() * ratio)
            pixmap.setDevicePixelRatio(ratio)
            pixmap.fill(Qt.GlobalColor.transparent)
            painter = QPainter(pixmap)
            painter.setFont(self.font())
            self._draw(painter)
            painter.end()
            self._pixmap = pixmap
        p = QPainter(self)
        p.drawPixmap(0, 0, self._pixmap)
        p.end()
