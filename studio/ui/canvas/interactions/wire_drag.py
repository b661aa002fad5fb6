"""Drag a wire from a port: a live curve follows the mouse, only compatible ports light up, and the
end snaps to the nearest one. Pulling on an input port that already has a wire detaches that wire
so it can be plugged in elsewhere (or dropped on empty canvas to remove it).

Release on a compatible port (or a card with one) connects; on an incompatible port it refuses
with the reason in the status bar; on empty canvas it opens quick add, which connects the new node."""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt

from studio.core.graph import Edge
from studio.ui.commands import Connect, Disconnect

from .. import style
from ..node_item import NodeItem
from ..port_item import PortItem
from ..wire_item import WirePreview
from .base import Interaction


class WireDrag(Interaction):
    auto_scroll = True  # near the view's edge the view scrolls and the wire's end comes along
    @classmethod
    def start(cls, view, event):
        if event.button() != Qt.LeftButton:
            return None
        port = view.port_at(event.position())
        if port is None:
            return None
        if view.document.locked:
            view.status_message.emit("The graph cannot be edited while a run is training")
            return None
        return cls(view, port, event)

    def __init__(self, view, port: PortItem, event) -> None:
        super().__init__(view)
        self.detached = None  # the wire pulled off an input port, while it is being re-plugged
        if port.is_input and port.wires:
            order = {e: i for i, e in enumerate(self.document.graph.edges)}
            self.detached = max(port.wires, key=lambda w: order.get(w.edge, -1))
            self.anchor = self.detached.source_port
            self.detached.set_shown(False)
        else:
            self.anchor = port
        self.snapped: PortItem | None = None
        self.compatible: set[PortItem] = set()
        for node in self.scene.nodes.values():
            for p in (node.inputs if not self.anchor.is_input else node.outputs):
                if self.reason(p) is None:
                    self.compatible.add(p)
                    p.set_drag_state(True)
        color = self.scene.theme.wire_color(self.anchor.kind) if self.anchor.kind else self.scene.theme.accent
        self.preview = WirePreview(color)
        self.scene.addItem(self.preview)
        self._draw(self.view.mapToScene(event.position().toPoint()))
        where = "an input" if not self.anchor.is_input else "an output"
        self.view.status_message.emit(f"Drop on {where} port to connect, or on empty canvas to add a node")

    # ---- rules ------------------------------------------------------------------------------
    def reason(self, port: PortItem) -> str | None:
        """None when the dragged wire may end on `port`; else why not, in a person's words. Which
        side of a card a port sits on is the canvas's business; the rest the graph decides."""
        a = self.anchor
        if port.is_input == a.is_input and port.node is not a.node:
            return "A wire runs from an output (right edge) to an input (left edge)"
        out, inp = (a, port) if not a.is_input else (port, a)
        graph = self.document.graph
        return graph.check_connect(out.node_id, inp.node_id, out.edge_name, inp.edge_name,
                                   registry=self.document.analyzer.registry,
                                   replacing=self.detached.edge if self.detached is not None else None)

    # ---- gesture ----------------------------------------------------------------------------
    def _draw(self, free: QPointF) -> None:
        end = self.snapped.scenePos() if self.snapped is not None else free
        start = self.anchor.scenePos()
        if self.anchor.is_input:
            self.preview.set_ends(end, start)
        else:
            self.preview.set_ends(start, end)

    def _nearest(self, pos: QPointF) -> PortItem | None:
        radius = style.SNAP_RADIUS_PX / self.view.zoom()
        box = QRectF(pos.x() - radius, pos.y() - radius, 2 * radius, 2 * radius)
        best, best_d = None, radius * radius
        for item in self.scene.items(box):
            if isinstance(item, PortItem) and item in self.compatible:
                d = item.scenePos() - pos
                dist = d.x() * d.x() + d.y() * d.y()
                if dist <= best_d:
                    best, best_d = item, dist
        return best

    def move(self, event) -> None:
        pos = self.view.mapToScene(event.position().toPoint())
        target = self._nearest(pos)
        if target is not self.snapped:
            if self.snapped is not None:
                self.snapped.set_drag_state(True, False)
            if target is not None:
                target.set_drag_state(True, True)
            self.snapped = target
        self._draw(pos)

    def release(self, event) -> None:
        self.move(event)
        target = self.snapped
        under = self.view.item_at(event.position())
        self._cleanup()
        if target is not None:
            self._connect(target)
        elif isinstance(under, PortItem):
            if under is not self.anchor and not (self.detached and under is self.detached.target_port):
                self.view.status_message.emit("Not connected: " + (self.reason(under) or "incompatible port"))
        elif isinstance(under, NodeItem):
            ports = under.inputs if not self.anchor.is_input else under.outputs
            good = [p for p in ports if self.reason(p) is None]
            if good:
                self._connect(good[0])
            elif ports:
                self.view.status_message.emit("Not connected: " + self.reason(ports[0]))
            else:
                side = "inputs" if not self.anchor.is_input else "outputs"
                self.view.status_message.emit(f"Not connected: '{under.node_id}' has no {side}")
        elif self.detached is not None:
            self.view.push(Disconnect(self.document.graph, self.detached.edge))
            self.view.status_message.emit("Wire removed")
        else:
            a = self.anchor
            pos = self.view.mapToScene(event.position().toPoint())
            self.view.open_quick_add(pos, connect=("into" if a.is_input else "from", a.node_id, a.edge_name))

    def _connect(self, port: PortItem) -> None:
        a = self.anchor
        out, inp = (a, port) if not a.is_input else (port, a)
        edge = Edge(out.node_id, inp.node_id, out.edge_name, inp.edge_name)
        graph = self.document.graph
        if self.detached is not None:
            if edge == self.detached.edge:
                return
            cmd = Connect(graph, edge, replace=self.detached.edge)
            cmd.setText(f"Reconnect {edge.source} → {edge.target}")
        else:
            cmd = Connect(graph, edge)
        if self.view.push(cmd):
            self.view.status_message.emit(f"Connected {edge.source} → {edge.target}")

    def cancel(self) -> None:
        self._cleanup()

    def _cleanup(self) -> None:
        for p in self.compatible:
            p.set_drag_state(False)
        if self.preview.scene() is not None:
            self.scene.removeItem(self.preview)
        if self.detached is not None:
            self.detached.set_shown(True)
