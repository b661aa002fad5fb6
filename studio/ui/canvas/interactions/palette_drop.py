"""A layer dragged from the palette (MIME `application/x-netstudio-node`, the type name in UTF-8)
and dropped on the canvas becomes a node at the drop point."""
from __future__ import annotations

from PySide6.QtCore import QPointF

from .. import style
from .base import Interaction

NODE_MIME = "application/x-netstudio-node"


class PaletteDrop(Interaction):
    """Not a mouse press gesture: the view hands it its drag-and-drop events."""

    @staticmethod
    def type_name(mime) -> str | None:
        if not mime.hasFormat(NODE_MIME):
            return None
        name = bytes(mime.data(NODE_MIME)).decode("utf-8", "replace").strip()
        return name or None

    def accepts(self, event) -> bool:
        name = self.type_name(event.mimeData())
        return name is not None and not self.document.locked

    def drop(self, event) -> str | None:
        """Add the node where it was dropped; returns its id (None if refused)."""
        name = self.type_name(event.mimeData())
        if name is None:
            return None
        at = self.view.mapToScene(event.position().toPoint())
        # the cursor lands on the middle of the card's header, where a person "holds" it
        corner = QPointF(at.x() - style.NODE_WIDTH / 2, at.y() - style.HEADER_H / 2)
        return self.view.add_node_at(name, corner)
