"""A bare canvas for `bench editor`: the window's own views with an empty QGraphicsView in place of
the node canvas, to measure what the canvas itself costs per edit. It has the CanvasView methods the
window calls; each does nothing, since there is nothing drawn to fit, zoom or restyle."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGraphicsScene, QGraphicsView


class BareCanvas(QGraphicsView):
    status_message = Signal(str)

    def __init__(self, document, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.setScene(QGraphicsScene(self))

    def fit_all(self) -> None: ...
    def set_theme(self, name: str) -> None: ...
    def add_node_at_center(self, type_name: str) -> None: ...
    def center_on_node(self, node_id: str) -> None: ...
