"""The holder of a scroll dock (MainWindow.add_dock(..., scroll=True)): its widget as large as the dock
shows, scrolling only where the dock is smaller than the widget's *minimum* for its width.

QScrollArea (widgetResizable) makes a widget whose layout has height-for-width (one word-wrapped label
anywhere in it) as tall as its *preferred* height for the width: in the ~180 px bottom row of a
1024x700 window that scrolled views that fit (the curves' second row of plots, the samples, Try it's
canvas below the fold)."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QSize
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget


class DockScroll(QScrollArea):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(False)  # sized here (_fit)
        self.setFrameShape(QFrame.Shape.NoFrame)

    def setWidget(self, widget: QWidget) -> None:
        super().setWidget(widget)
        widget.installEventFilter(self)
        self._fit()

    def takeWidget(self) -> QWidget | None:
        widget = super().takeWidget()
        if widget is not None:
            widget.removeEventFilter(self)
        return widget

    def eventFilter(self, obj, event) -> bool:
        if obj is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self._fit()  # its contents changed: so may its minimum
        return super().eventFilter(obj, event)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        widget = self.widget()
        if widget is None:
            return
        room = self.maximumViewportSize()  # without scroll bars
        least_w = max(widget.minimumSizeHint().width(), widget.minimumWidth())
        if least_w > room.width():  # a sideways scroll bar takes some height
            room -= QSize(0, self.horizontalScrollBar().sizeHint().height())
        width = max(room.width(), least_w)
        height = max(room.height(), self.least_height(widget, width))
        if height > room.height():  # and a vertical one some width: the minimum for that width
            width = max(room.width() - self.verticalScrollBar().sizeHint().width(), least_w)
            height = max(room.height(), self.least_height(widget, width))
        if widget.size() != QSize(width, height):
            widget.resize(width, height)

    @staticmethod
    def least_height(widget: QWidget, width: int) -> int:
        """The least height `widget` lays out whole in at `width` (its wrapped labels at their height
        for the width, everything else at its minimum)."""
        layout = widget.layout()
        if layout is not None and layout.hasHeightForWidth():
            least = layout.totalMinimumHeightForWidth(width)  # (with the widget's own margins)
        else:
            least = widget.minimumSizeHint().height()
        return max(least, widget.minimumHeight())
