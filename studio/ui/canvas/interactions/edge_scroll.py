"""Auto-scroll: while a card or a wire is dragged near the edge of the view, the view scrolls
towards that edge (faster the closer the pointer is), and the gesture follows the scene point under
the pointer as if the mouse had moved, so a card can be carried, or a wire pulled, to a part of the
graph that is out of sight."""
from __future__ import annotations

from PySide6.QtCore import QObject, QPointF, QTimer


class _Moved:
    """A stand-in mouse-move event at a viewport position (what gestures read from an event)."""

    def __init__(self, pos: QPointF) -> None:
        self._pos = QPointF(pos)

    def position(self) -> QPointF:
        return QPointF(self._pos)


class EdgeScroll(QObject):
    EDGE_PX = 36  # the band along each edge of the viewport that scrolls
    MAX_STEP_PX = 22  # view pixels per tick at the very edge
    TICK_MS = 16

    def __init__(self, view) -> None:
        super().__init__(view)
        self.view = view
        self.pos = QPointF()
        self.velocity = (0.0, 0.0)
        self.timer = QTimer(self)
        self.timer.setInterval(self.TICK_MS)
        self.timer.timeout.connect(self._tick)

    def _speed(self, offset: float, extent: float) -> float:
        """Signed pixels per tick for a pointer `offset` px into a viewport `extent` px long."""
        edge = min(self.EDGE_PX, extent / 4)
        if offset < edge:
            depth = min(1.0, (edge - offset) / edge)
            return -max(2.0, self.MAX_STEP_PX * depth * depth)
        if offset > extent - edge:
            depth = min(1.0, (offset - (extent - edge)) / edge)
            return max(2.0, self.MAX_STEP_PX * depth * depth)
        return 0.0

    def track(self, pos: QPointF) -> None:
        """The pointer is at viewport `pos` during a drag that auto-scrolls."""
        self.pos = QPointF(pos)
        rect = self.view.viewport().rect()
        self.velocity = (self._speed(pos.x(), rect.width()), self._speed(pos.y(), rect.height()))
        if self.velocity != (0.0, 0.0):
            if not self.timer.isActive():
                self.timer.start()
        else:
            self.timer.stop()

    def stop(self) -> None:
        self.timer.stop()
        self.velocity = (0.0, 0.0)

    def _tick(self) -> None:
        gesture = self.view.active_gesture()
        if gesture is None or not getattr(gesture, "auto_scroll", False):
            self.stop()
            return
        self.view.scroll_by(*self.velocity)
        gesture.move(_Moved(self.pos))  # the pointer stayed; the scene moved under it
