"""CanvasView: the node editor's view. It shows the scene that mirrors the document's graph, routes
mouse gestures to small interaction objects, and turns keys and menu actions into commands pushed
through `document.push` (the view never edits the graph itself)."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QCursor, QKeySequence, QPainter, QTransform
from PySide6.QtWidgets import QFrame, QGraphicsView

from studio.core.graph import Edge
from studio.ui import commands
from studio.ui.commands import AddNode, Connect, Disconnect, Macro, Paste, RemoveNodes

from . import clipboard, style
from .interactions import PRESS_ORDER, PaletteDrop
from .node_item import NodeItem
from .port_item import PortItem
from .quick_add import QuickAddPopup
from .scene import CanvasScene
from .wire_item import WireItem

PAN_LIMIT = 200_000.0
LOCKED = "The graph cannot be edited while a run is training"


class CanvasView(QGraphicsView):
    status_message = Signal(str)
    MIN_ZOOM, MAX_ZOOM = 0.06, 3.0

    def __init__(self, document, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.canvas_scene = CanvasScene(document, self)
        self.setScene(self.canvas_scene)
        self.setSceneRect(QRectF(-PAN_LIMIT, -PAN_LIMIT, 2 * PAN_LIMIT, 2 * PAN_LIMIT))  # pan freely
        self.setRenderHints(QPainter.Antialiasing | QPainter.TextAntialiasing | QPainter.SmoothPixmapTransform)
        self.setViewportUpdateMode(QGraphicsView.SmartViewportUpdate)
        self.setCacheMode(QGraphicsView.CacheBackground)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setTransformationAnchor(QGraphicsView.NoAnchor)
        self.setResizeAnchor(QGraphicsView.AnchorViewCenter)
        self.setDragMode(QGraphicsView.NoDrag)
        self.setFrameShape(QFrame.NoFrame)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.StrongFocus)
        self.setMouseTracking(True)
        self.space_held = False
        self._active = None  # the mouse gesture in progress
        self._drop = PaletteDrop(self)
        self.quick_add: QuickAddPopup | None = None
        self._paste_count = 0
        self.centerOn(0, 0)
        document.graph_changed.connect(self._on_graph_event)

    def _on_graph_event(self, event) -> None:
        if event.kind not in ("node_moved", "param_changed"):
            self.cancel_gesture()  # the graph changed under a drag (undo, a file opened): drop it
        if event.kind == "reset":
            QTimer.singleShot(0, self.fit_all)

    # ---- helpers for interactions -------------------------------------------------------------
    @property
    def graph(self):
        return self.document.graph

    def push(self, command) -> bool:
        if self.document.push(command):
            return True
        self.status_message.emit(LOCKED)
        return False

    def zoom(self) -> float:
        return self.transform().m11()

    def item_at(self, view_pos: QPointF):
        """The card, port or wire under a viewport point (None: empty canvas)."""
        for item in self.items(view_pos.toPoint()):
            if isinstance(item, (NodeItem, PortItem, WireItem)) and item.isVisible():
                return item
        return None

    def port_at(self, view_pos: QPointF) -> PortItem | None:
        if self.zoom() < style.LOD_SIMPLE:
            return None  # ports are not drawn there; a press means the card
        pos = self.mapToScene(view_pos.toPoint())
        radius = max(style.PORT_HIT_R, 6.0 / self.zoom())
        best, best_d = None, radius * radius
        for item in self.canvas_scene.items(QRectF(pos.x() - radius, pos.y() - radius, 2 * radius, 2 * radius)):
            if isinstance(item, PortItem):
                d = item.scenePos() - pos
                dist = d.x() * d.x() + d.y() * d.y()
                if dist <= best_d:
                    best, best_d = item, dist
        return best

    def scroll_by(self, dx: float, dy: float) -> None:
        h, v = self.horizontalScrollBar(), self.verticalScrollBar()
        h.setValue(h.value() + round(dx))
        v.setValue(v.value() + round(dy))

    def zoom_by(self, factor: float, view_pos: QPointF | None = None) -> None:
        """Zoom keeping the scene point under `view_pos` (default: the centre) where it is."""
        target = min(self.MAX_ZOOM, max(self.MIN_ZOOM, self.zoom() * factor))
        if abs(target - self.zoom()) < 1e-9:
            return
        if view_pos is None:
            view_pos = QPointF(self.viewport().rect().center())
        before = self.mapToScene(view_pos.toPoint())
        self._set_zoom(target)
        after = self.mapFromScene(before)
        self.scroll_by(after.x() - view_pos.x(), after.y() - view_pos.y())

    def _set_zoom(self, scale: float) -> None:
        self.setTransform(QTransform.fromScale(scale, scale))
        self.canvas_scene.set_show_ports(scale >= style.LOD_SIMPLE)

    def _cursor_scene_pos(self) -> QPointF | None:
        pos = self.viewport().mapFromGlobal(QCursor.pos())
        return self.mapToScene(pos) if self.viewport().rect().contains(pos) and self.underMouse() else None

    def _center_scene_pos(self) -> QPointF:
        return self.mapToScene(self.viewport().rect().center())

    # ---- public API (the main window calls these) ---------------------------------------------
    def fit_all(self) -> None:
        nodes = self.canvas_scene.nodes.values()
        if not nodes:
            self._set_zoom(1.0)
            self.centerOn(0, 0)
            return
        rect = QRectF()
        for item in nodes:
            rect = rect.united(item.sceneBoundingRect())
        vp = self.viewport().rect()
        margin = 32  # view pixels around the graph
        scale = min(max(1, vp.width() - 2 * margin) / rect.width(), max(1, vp.height() - 2 * margin) / rect.height())
        scale = min(1.0, max(self.MIN_ZOOM, scale))
        self._set_zoom(scale)
        self.centerOn(rect.center())

    def center_on_node(self, node_id: str) -> None:
        item = self.canvas_scene.nodes.get(node_id)
        if item is not None:
            self.centerOn(item.sceneBoundingRect().center())

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
        popup = QuickAddPopup(self.canvas_scene.registry, self.canvas_scene.theme, self, need)
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

    def zoom_in(self) -> None:
        self.zoom_by(1.25)

    def zoom_out(self) -> None:
        self.zoom_by(0.8)

    def reset_zoom(self) -> None:
        self.zoom_by(1.0 / self.zoom())

    def set_theme(self, name: str) -> None:
        self.canvas_scene.set_theme(style.theme(name))
        self.resetCachedContent()
        self.viewport().update()

    # ---- mouse --------------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:
        if self._active is not None:
            event.accept()
            return
        self.setFocus(Qt.MouseFocusReason)
        for kind in PRESS_ORDER:
            gesture = kind.start(self, event)
            if gesture is not None:
                self._active = gesture
                event.accept()
                return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._active is not None:
            self._active.move(event)
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self._active is not None:
            gesture, self._active = self._active, None  # what its release pushes must not cancel it
            gesture.release(event)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event) -> None:
        if event.button() == Qt.LeftButton and self.item_at(event.position()) is None:
            self.open_quick_add(self.mapToScene(event.position().toPoint()))
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def wheelEvent(self, event) -> None:
        delta = event.angleDelta().y() or event.angleDelta().x()
        if delta:
            self.zoom_by(1.0015 ** delta, event.position())
        event.accept()

    def cancel_gesture(self) -> None:
        if self._active is not None:
            self._active.cancel()
            self._active = None

    def contextMenuEvent(self, event) -> None:
        from .context_menu import canvas_menu

        menu = canvas_menu(self, event.pos())
        if menu is not None:
            menu.exec(event.globalPos())
        event.accept()

    # ---- keys ---------------------------------------------------------------------------------
    def event(self, event) -> bool:
        if event.type() == QEvent.KeyPress and event.key() == Qt.Key_Tab and not event.modifiers():
            self.keyPressEvent(event)  # Tab opens quick add instead of moving the focus
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:
        key, mods = event.key(), event.modifiers()
        plain = not (mods & (Qt.ControlModifier | Qt.AltModifier | Qt.MetaModifier))
        actions = {
            QKeySequence.Copy: self.copy, QKeySequence.Cut: self.cut, QKeySequence.Paste: self.paste,
            QKeySequence.SelectAll: self.select_all, QKeySequence.ZoomIn: self.zoom_in,
            QKeySequence.ZoomOut: self.zoom_out,
        }
        for seq, action in actions.items():
            if event.matches(seq):
                action()
                return
        if key == Qt.Key_D and mods & Qt.ControlModifier:
            self.duplicate()
        elif key == Qt.Key_0 and mods & Qt.ControlModifier:
            self.reset_zoom()
        elif key in (Qt.Key_Delete, Qt.Key_Backspace) and plain:
            self.delete_selected()
        elif key == Qt.Key_F and plain:
            self.fit_all()
        elif key == Qt.Key_Tab and plain:
            self.open_quick_add()
        elif key == Qt.Key_Escape:
            if self._active is not None:
                self.cancel_gesture()
            else:
                self.canvas_scene.select_only([])
        elif key == Qt.Key_Space and plain:
            if not event.isAutoRepeat():
                self.space_held = True
                self.viewport().setCursor(Qt.OpenHandCursor)
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def keyReleaseEvent(self, event) -> None:
        if event.key() == Qt.Key_Space and not event.isAutoRepeat():
            self.space_held = False
            self.viewport().unsetCursor()
            event.accept()
            return
        super().keyReleaseEvent(event)

    def focusOutEvent(self, event) -> None:
        if self.space_held:
            self.space_held = False
            self.viewport().unsetCursor()
        super().focusOutEvent(event)

    # ---- palette drops ------------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        if self._drop.accepts(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:
        if self._drop.drop(event) is not None:
            event.acceptProposedAction()
            self.setFocus(Qt.OtherFocusReason)
        else:
            event.ignore()
