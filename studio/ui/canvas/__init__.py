"""The node canvas: a QGraphicsView/Scene that mirrors the document's graph (see view.py)."""
from .interactions.palette_drop import NODE_MIME
from .view import CanvasView

__all__ = ["CanvasView", "NODE_MIME"]
