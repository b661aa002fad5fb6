"""A layer dragged from the palette (MIME `application/x-netstudio-node`, the type name in UTF-8)
and dropped on the canvas becomes a node at the drop point; dropped on a wire it fits, it is
inserted into that wire (splice.py), in one undo step."""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF

from studio.ui.commands import AddNode

from .. import style
from ..splice import HOVER_RADIUS_PX, SpliceHover
from .base import Interaction

NODE_MIME = "application/x-netstudio-node"


class PaletteDrop(Interaction):
    """Not a mouse press gesture: the view hands it its drag-and-drop events."""

    def __init__(self, view) -> None:
        super().__init__(view)
        self.splice = SpliceHover(view)

    @staticmethod
    def type_name(mime) -> str | None:
        if not mime.hasFormat(NODE_MIME):
            return None
        name = bytes(mime.data(NODE_MIME)).decode("utf-8", "replace").strip()
        return name or None

    def accepts(self, event) -> bool:
        name = self.type_name(event.mimeData())
        return name is not None and not self.document.locked

    def hover(self, event) -> None:
        """The drag moved: show the wire the layer would go into."""
        name = self.type_name(event.mimeData())
        if name is None or self.document.locked:
            self.splice.clear()
            return
        at = self.view.mapToScene(event.position().toPoint())
        r = HOVER_RADIUS_PX / self.view.zoom()
        self.splice.update(QRectF(at.x() - r, at.y() - r, 2 * r, 2 * r), at, name, {}, name)

    def leave(self) -> None:
        self.splice.clear()

    def drop(self, event) -> str | None:
        """Add the node where it was dropped (into the wire there, if it fits); returns its id
        (None if refused)."""
        name = self.type_name(event.mimeData())
        if name is None:
            self.splice.clear()
            return None
        self.hover(event)  # a drop can arrive without a move before it
        plan = self.splice.take()
        at = self.view.mapToScene(event.position().toPoint())
        # the cursor lands on the middle of the card's header, where a person "holds" it
        corner = QPointF(at.x() - style.NODE_WIDTH / 2, at.y() - style.HEADER_H / 2)
        if plan is None or not plan.ok or name not in self.scene.registry:
            node_id = self.view.add_node_at(name, corner)
            if node_id is not None and plan is not None:
                self.view.status_message.emit(f"Added {name} '{node_id}'. " + SpliceHover.refused_message(plan))
            return node_id
        x, y = round(corner.x() / 10) * 10, round(corner.y() / 10) * 10
        add = AddNode(self.document.graph, name, (x, y))
        if not self.view.push(self.splice.command(plan, add, add.node_id)):
            return None
        self.scene.select_only([add.node_id])
        self.view.status_message.emit(f"Inserted {name} '{add.node_id}' into {plan.edge.source} → {plan.edge.target}")
        return add.node_id
