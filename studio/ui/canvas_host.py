"""Creates the canvas. The canvas lives in studio.ui.canvas (CanvasView); while that package is
absent (it is built alongside this window) a plain view stands in, so the window still runs."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPointF, QTimer, Signal
from PySide6.QtWidgets import QGraphicsScene, QGraphicsView

from .commands import AddNode
from .palette import NODE_MIME


class PlaceholderCanvas(QGraphicsView):
    """Stand-in with the CanvasView interface: an empty scene that accepts palette drops."""

    status_message = Signal(str)

    def __init__(self, document, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.setScene(QGraphicsScene(self))
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasFormat(NODE_MIME):
            event.acceptProposedAction()

    dragMoveEvent = dragEnterEvent

    def dropEvent(self, event) -> None:
        if event.mimeData().hasFormat(NODE_MIME):
            type_name = bytes(event.mimeData().data(NODE_MIME)).decode("utf-8")
            pos = self.mapToScene(event.position().toPoint())
            self._add(type_name, pos)
            event.acceptProposedAction()

    def _add(self, type_name: str, pos: QPointF) -> None:
        command = AddNode(self.document.graph, type_name, (pos.x(), pos.y()))
        if self.document.push(command):
            self.document.set_selection([command.node_id])

    def add_node_at_center(self, type_name: str) -> None:
        self._add(type_name, self.mapToScene(self.viewport().rect().center()))

    def __getattr__(self, name):  # fit_all, copy, zoom_in, ...: nothing to do without the canvas
        if name in _CANVAS_METHODS:
            return lambda *a, **k: None
        raise AttributeError(name)


_CANVAS_METHODS = {"fit_all", "center_on_node", "open_quick_add", "copy", "cut", "paste", "duplicate",
                   "delete_selected", "select_all", "auto_layout", "zoom_in", "zoom_out", "reset_zoom",
                   "set_theme"}


def create_canvas(document, parent=None):
    try:
        from .canvas import CanvasView
    except ImportError as exc:  # the canvas package is not there (yet); its own bugs still raise
        missing = isinstance(exc, ModuleNotFoundError) and exc.name == "studio.ui.canvas"
        unfinished = exc.name == "studio.ui.canvas" and "CanvasView" in str(exc)
        if not (missing or unfinished):
            raise
        return PlaceholderCanvas(document, parent)
    return CanvasView(document, parent) if _takes_parent(CanvasView) else CanvasView(document)


def _takes_parent(cls) -> bool:
    import inspect

    try:
        return "parent" in inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        return False


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
