"""The canvas's edits (the main window calls these too): add, quick add, copy, cut, paste, duplicate,
delete, select all, auto-layout. Each edit is a command pushed through `view.push`; the scene then
redraws itself from the graph's events."""
from __future__ import annotations

from PySide6.QtCore import QPointF, Qt

from studio.core.graph import Edge
from studio.ui import commands
from studio.ui.commands import LOCKED, AddNode, Connect, Disconnect, Macro, Paste, RemoveNodes

from . import clipboard, style
from .quick_add import QuickAddPopup

__all__ = ["LOCKED", "EditActions"]


class EditActions:
    """Mixed into CanvasView (which provides document, graph, canvas_scene, push, status_message)."""

    def add_node_at(self, type_name: str, scene_pos) -> str | None:
        """Add a node with its top-left corner at `scene_pos` (snapped to 10 px); returns its id."""
        if type_name not in self.canvas_scene.registry:
            self.status_message.emit(f"There is no layer type '{type_name}'")
            return None
        x, y = round(scene_pos.x() / 10) * 10, round(scene_pos.y() / 10) * 10
        command = AddNode(self.graph, type_name, (x, y))
        if not self.push(command):
            return None
        self.canvas_scene.select_only([command.node_id])
        self.status_message.emit(f"Added {type_name} '{command.node_id}'")
        return command.node_id

    def add_node_at_center(self, type_name: str) -> str | None:
        c = self._center_scene_pos()
        x, y = c.x() - style.NODE_WIDTH / 2, c.y() - 50
        taken = {(round(n.pos[0] / 10), round(n.pos[1] / 10)) for n in self.graph.nodes.values()}
        while (round(x / 10), round(y / 10)) in taken:  # repeated adds cascade instead of stacking
            x, y = x + 30, y + 30
        return self.add_node_at(type_name, QPointF(x, y))

    def open_quick_add(self, scene_pos=None, connect=None) -> QuickAddPopup | None:
        """connect: ("from", node, port) or ("into", node, port) for a wire dropped on empty canvas."""
        if self.document.locked:
            self.status_message.emit(LOCKED)
            return None
        if self.quick_add is not None:
            self.quick_add.close_popup()
        if scene_pos is None:
            scene_pos = self._cursor_scene_pos() or self._center_scene_pos()
        need = None if connect is None else ("inputs" if connect[0] == "from" else "outputs")
        popup = QuickAddPopup(self.canvas_scene.registry, self.canvas_scene.theme, self, need,
                              inside_block=not self.document.at_root)
        at = QPointF(scene_pos)
        popup.chosen.connect(lambda name: self._quick_chosen(name, at, connect))
        popup.closed.connect(lambda: self._quick_closed(popup))
        popup.dismissed.connect(lambda: self.setFocus(Qt.PopupFocusReason))
        self.quick_add = popup
        popup.popup_at(self.mapFromScene(scene_pos) + self.viewport().pos())
        return popup

    def _quick_closed(self, popup) -> None:
        if self.quick_add is popup:
            self.quick_add = None

    def _quick_chosen(self, type_name: str, at: QPointF, connect) -> None:
        self.quick_add = None
        self.setFocus()
        if connect is None:
            self.add_node_at(type_name, QPointF(at.x() - style.NODE_WIDTH / 2, at.y() - style.HEADER_H / 2))
            return
        way, node_id, port = connect
        if node_id not in self.graph:
            return
        if way == "from":
            command = AddNode(self.graph, type_name, (round(at.x()), round(at.y() - style.PORT_Y)),
                              connect_from=(node_id, port))
            new_id = command.node_id
        else:
            add = AddNode(self.graph, type_name, (round(at.x() - style.NODE_WIDTH), round(at.y() - style.PORT_Y)))
            new_id = add.node_id
            edge = Edge(new_id, node_id, None, port)
            command = Macro(f"Add {type_name} → {node_id}", [add, Connect(self.graph, edge)])
        if self.push(command):
            self.canvas_scene.select_only([new_id])
            self.status_message.emit(f"Added {type_name} '{new_id}' and wired it")

    def copy(self) -> bool:
        ids = self.canvas_scene.selected_ids()
        if not ids:
            self.status_message.emit("Select some nodes to copy")
            return False
        clipboard.put(self.graph.subgraph_data(ids))
        self._paste_count = 0
        self.status_message.emit(f"Copied {len(ids)} node{'s' * (len(ids) != 1)}")
        return True

    def cut(self) -> None:
        ids = self.canvas_scene.selected_ids()
        if self.document.locked:
            self.status_message.emit(LOCKED)
        elif self.copy():
            command = RemoveNodes(self.graph, ids)
            command.setText(f"Cut {ids[0]}" if len(ids) == 1 else f"Cut {len(ids)} nodes")
            self.push(command)

    def paste(self) -> list[str]:
        data = clipboard.get()
        if data is None:
            self.status_message.emit("The clipboard holds no nodes to paste")
            return []
        x0, y0 = clipboard.bounds_origin(data)
        at = self._cursor_scene_pos()
        if at is not None:
            offset = (round((at.x() - x0) / 10) * 10, round((at.y() - y0) / 10) * 10)
        else:
            self._paste_count += 1
            offset = (40.0 * self._paste_count, 40.0 * self._paste_count)
        return self._insert(data, offset, "Paste")

    def duplicate(self) -> list[str]:
        ids = self.canvas_scene.selected_ids()
        if not ids:
            self.status_message.emit("Select some nodes to duplicate")
            return []
        return self._insert(self.graph.subgraph_data(ids), (40.0, 40.0), "Duplicate")

    def _insert(self, data: dict, offset, text: str) -> list[str]:
        inside = getattr(self.document, "definition", None)  # the block definition shown (None: the model)
        if inside is not None:
            from studio.ui import block_model

            root = self.document.root.graph
            loops = [rec["block"] for rec in data.get("nodes", []) if rec.get("type") == block_model.BLOCK_TYPE
                     and isinstance(rec.get("block"), str) and block_model.reaches(root, rec["block"], inside.name)]
            if loops:  # refused before it is made: the analysis would only report the loop afterwards
                self.status_message.emit(f"Cannot {text.lower()} block {loops[0]} inside {inside.name}: "
                                         "a block cannot contain itself")
                return []
        command = Paste(self.graph, data, offset, text)
        if not self.push(command):
            return []
        self.canvas_scene.select_only(command.new_ids)
        self.status_message.emit(f"{text}: {len(command.new_ids)} node{'s' * (len(command.new_ids) != 1)}")
        return command.new_ids

    def delete_selected(self) -> None:
        ids = self.canvas_scene.selected_ids()
        wires = [w.edge for w in self.canvas_scene.selected_wires()
                 if w.edge.source not in ids and w.edge.target not in ids]
        parts = [Disconnect(self.graph, e) for e in wires]
        if ids:
            parts.append(RemoveNodes(self.graph, ids))
        if not parts:
            return
        if len(parts) == 1:
            self.push(parts[0])
        else:
            self.push(Macro(f"Delete {len(ids)} nodes, {len(wires)} wires" if ids else
                            f"Delete {len(wires)} wires", parts))

    def select_all(self) -> None:
        self.canvas_scene.select_only(list(self.graph.nodes))

    def auto_layout(self) -> None:
        if self.graph.nodes and self.push(commands.auto_layout(self.graph)):
            self.fit_all()
