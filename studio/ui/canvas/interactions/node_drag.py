"""Click a card to select it (Ctrl/Shift toggles), drag to move the selection: the cards follow the
mouse and one MoveNodes command is pushed on release, so a drag is one undo step. A single card
with no wires, released over a wire it fits, is inserted into that wire (splice.py), moved and
wired in that same one step."""
from __future__ import annotations

from PySide6.QtCore import QPointF, Qt

from studio.ui.commands import MoveNodes

from ..node_item import NodeItem
from ..splice import SpliceHover
from .base import Interaction

SNAP = 10.0  # the grabbed card's corner lands on a 10 px grid


class NodeDrag(Interaction):
    THRESHOLD = 3

    @property
    def auto_scroll(self) -> bool:
        return self.dragging  # once moving, near the view's edge the view scrolls and the cards come along

    @classmethod
    def start(cls, view, event):
        if event.button() != Qt.LeftButton:
            return None
        item = view.item_at(event.position())
        if not isinstance(item, NodeItem):
            return None
        return cls(view, item, event)

    def __init__(self, view, item: NodeItem, event) -> None:
        super().__init__(view)
        self.item = item
        self.origin_view = event.position()
        self.origin = view.mapToScene(event.position().toPoint())
        toggle = bool(event.modifiers() & (Qt.ControlModifier | Qt.ShiftModifier))
        selected = self.scene.selected_ids()
        self.toggle_off = False
        if toggle:
            if item.node_id in selected:
                self.toggle_off = True  # deselect on release, unless this becomes a drag
            else:
                self.scene.select_only(selected + [item.node_id])
        elif item.node_id not in selected:
            self.scene.select_only([item.node_id])
        self.moving = [self.scene.nodes[n] for n in self.scene.selected_ids() if n in self.scene.nodes]
        if item not in self.moving:
            self.moving.append(item)
        self.start_pos = {i.node_id: QPointF(i.pos()) for i in self.moving}
        self.dragging = False
        graph = self.document.graph
        # only a lone card with no wires can go into a wire: a wired one would have to be cut out first
        self.splice = SpliceHover(view) if len(self.moving) == 1 and not any(
            e.touches(item.node_id) for e in graph.edges) else None

    def move(self, event) -> None:
        if not self.dragging:
            if (event.position() - self.origin_view).manhattanLength() < self.THRESHOLD:
                return
            if self.document.locked:
                self.view.status_message.emit("The graph cannot be edited while a run is training")
                return
            self.dragging = True
            self.view.viewport().setCursor(Qt.SizeAllCursor)
        here = self.view.mapToScene(event.position().toPoint())
        delta = here - self.origin
        anchor = self.start_pos[self.item.node_id] + delta
        snapped = QPointF(round(anchor.x() / SNAP) * SNAP, round(anchor.y() / SNAP) * SNAP)
        delta += snapped - anchor
        for item in self.moving:
            item.move_to(self.start_pos[item.node_id] + delta)
        if self.splice is not None:
            node = self.document.graph.node(self.item.node_id)
            self.splice.update(self.item.sceneBoundingRect(), here, node.type, node.params,
                               (node.type, repr(node.params)), node.id)

    def release(self, event) -> None:
        self.view.viewport().unsetCursor()
        if not self.dragging:
            if self.toggle_off:
                self.scene.select_only([n for n in self.scene.selected_ids() if n != self.item.node_id])
            return
        old = {n: (p.x(), p.y()) for n, p in self.start_pos.items()}
        new = {i.node_id: (i.pos().x(), i.pos().y()) for i in self.moving}
        plan = self.splice.take() if self.splice is not None else None
        if old != new:
            graph = self.document.graph
            move = MoveNodes(graph, old, {n: new[n] for n in old})
            node_id = self.item.node_id
            if plan is not None and plan.ok:
                if self.view.push(self.splice.command(plan, move, node_id)):
                    self.view.status_message.emit(f"Inserted '{node_id}' into {plan.edge.source} → {plan.edge.target}")
                else:
                    self.cancel()
            elif not self.view.push(move):
                self.cancel()
            elif plan is not None:
                self.view.status_message.emit(SpliceHover.refused_message(plan))

    def cancel(self) -> None:
        self.view.viewport().unsetCursor()
        if self.splice is not None:
            self.splice.clear()
        for item in self.moving:
            item.move_to(self.start_pos[item.node_id])
