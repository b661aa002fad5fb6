"""Pan: drag with the middle button, or with the left button while Space is held."""
from __future__ import annotations

from PySide6.QtCore import Qt

from .base import Interaction


class Pan(Interaction):
    @classmethod
    def start(cls, view, event):
        if event.button() == Qt.MiddleButton or (event.button() == Qt.LeftButton and view.space_held):
            return cls(view, event.position())
        return None

    def __init__(self, view, pos) -> None:
        super().__init__(view)
        self.last = pos
        view.viewport().setCursor(Qt.ClosedHandCursor)

    def move(self, event) -> None:
        delta = event.position() - self.last
        self.last = event.position()
        self.view.scroll_by(-delta.x(), -delta.y())

    def release(self, event) -> None:
        self._restore()

    def cancel(self) -> None:
        self._restore()

    def _restore(self) -> None:
        vp = self.view.viewport()
        vp.setCursor(Qt.OpenHandCursor if self.view.space_held else Qt.ArrowCursor)
