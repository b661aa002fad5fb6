"""Creates the canvas (studio.ui.canvas.CanvasView) and tells when it first painted the graph's nodes
(the moment the app waits for before its costly start-up work)."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer


def create_canvas(document, parent=None):
    from .canvas import CanvasView

    return CanvasView(document, parent)


class _NodesPainted(QObject):
    """Calls back once, after the first paint of `view` that shows a node card (or any paint, when
    the graph has no nodes), or after `fallback_ms` if the view is never painted (a hidden window)."""

    def __init__(self, view, callback, fallback_ms: int) -> None:
        super().__init__(view)
        self.view, self.callback, self.done = view, callback, False
        view.viewport().installEventFilter(self)
        QTimer.singleShot(fallback_ms, self, self._fire)

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Type.Paint and not self.done and self._shows_a_node(event.region().boundingRect()):
            # the filter sees the paint before the view draws it: call back once this paint is done
            QTimer.singleShot(0, self, self._fire)
        return False

    def _fire(self) -> None:
        if not self.done:
            self.done = True
            self.view.viewport().removeEventFilter(self)
            self.callback()

    def _shows_a_node(self, rect) -> bool:
        nodes = getattr(getattr(self.view, "canvas_scene", None), "nodes", None)
        if not nodes:
            return True  # nothing to wait for
        area = self.view.mapToScene(rect).boundingRect()
        return any(item.isVisible() and item.sceneBoundingRect().intersects(area) for item in nodes.values())


def when_nodes_painted(view, callback, fallback_ms: int = 5000) -> None:
    """Run `callback` (on the GUI thread) right after `view` first paints a node card on screen: the
    moment a person sees the graph, which the app waits for before its costly start-up work."""
    _NodesPainted(view, callback, fallback_ms)
