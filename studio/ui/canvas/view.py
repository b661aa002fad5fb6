"""CanvasView: the node editor's view. It shows the scene that mirrors the document's graph, routes
mouse gestures to small interaction objects, and turns keys and menu actions into commands pushed
through `document.push` (the view never edits the graph itself)."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QCursor, QKeySequence, QPainter, QTransform
from PySide6.QtWidgets import QFrame, QGraphicsView

from studio.core.graph import GraphEventKind

from . import style
from ..canvas_document import canvas_document
from ..palette_blocks import read_block_mime
from .block_actions import BlockActions
from .breadcrumb import Breadcrumb
from .editing import LOCKED, EditActions
from .interactions import PRESS_ORDER, PaletteDrop
from .interactions.edge_scroll import EdgeScroll
from .node_item import NodeItem
from .port_item import PortItem
from .quick_add import QuickAddPopup
from .scene import CanvasScene
from .wire_item import WireItem

PAN_LIMIT = 200_000.0


class CanvasView(BlockActions, EditActions, QGraphicsView):
    status_message = Signal(str)
    library_changed = Signal()  # a block was saved to the user library (the palette re-reads it)
    MIN_ZOOM, MAX_ZOOM = 0.06, 3.0

    def __init__(self, document, parent=None) -> None:
        super().__init__(parent)
        self.document = document = canvas_document(document)  # the level shown (the root, or a block)
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
        self.edge_scroll = EdgeScroll(self)  # dragging a card or a wire near an edge scrolls
        self.quick_add: QuickAddPopup | None = None
        self._paste_count = 0
        self.centerOn(0, 0)
        document.graph_changed.connect(self._on_graph_event)
        self.breadcrumb = Breadcrumb(self)
        document.level_changed.connect(self._on_level)

    def _on_graph_event(self, event) -> None:
        if event.kind.changes_wiring:
            self.cancel_gesture()  # the graph changed under a drag (undo, a file opened): drop it
        if event.kind == GraphEventKind.RESET:
            QTimer.singleShot(0, self.fit_all)

    def _on_level(self) -> None:
        crumbs = self.document.crumbs()
        where = " › ".join(f"{iid} ({name})" for iid, name in crumbs)
        self.status_message.emit(f"Inside {where}: Esc goes back up" if crumbs else "Back at the model")

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
        for wire in self.canvas_scene.wires.values():  # wires looping back between rows reach further
            rect = rect.united(wire.sceneBoundingRect())
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

    # ---- painting -----------------------------------------------------------------------------
    def visible_scene_rect(self) -> QRectF:
        return self.mapToScene(self.viewport().rect()).boundingRect()

    def paintEvent(self, event) -> None:
        scene = self.canvas_scene
        scene.reroute_resized()  # (a card resized outside an analysis or a preview: nothing, usually)
        if scene.stale_pills and scene.show_ports:  # place the pills about to be seen (see scene.py)
            scene.place_stale_pills(self.visible_scene_rect())
        super().paintEvent(event)

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

    def active_gesture(self):
        return self._active

    def mouseMoveEvent(self, event) -> None:
        if self._active is not None:
            self._active.move(event)
            if getattr(self._active, "auto_scroll", False):
                self.edge_scroll.track(event.position())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self._active is not None:
            self.edge_scroll.stop()
            gesture, self._active = self._active, None  # what its release pushes must not cancel it
            gesture.release(event)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event) -> None:
        if event.button() == Qt.LeftButton:
            item = self.item_at(event.position())
            if item is None:
                self.open_quick_add(self.mapToScene(event.position().toPoint()))
                event.accept()
                return
            if isinstance(item, NodeItem) and self.document.open_block(item.node_id):
                event.accept()
                return
        super().mouseDoubleClickEvent(event)

    def wheelEvent(self, event) -> None:
        delta = event.angleDelta().y() or event.angleDelta().x()
        if delta:
            self.zoom_by(1.0015 ** delta, event.position())
        event.accept()

    def cancel_gesture(self) -> None:
        self.edge_scroll.stop()
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
        elif key == Qt.Key_G and mods & Qt.ControlModifier:
            (self.ungroup_selected if mods & Qt.ShiftModifier else self.group_selected)()
        elif key == Qt.Key_Escape:
            if self._active is not None:
                self.cancel_gesture()
            elif not self.document.go_up():
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
        if read_block_mime(event.mimeData()) is not None and not self.document.locked:
            event.acceptProposedAction()  # a block from the palette (no wire splicing for blocks)
        elif self._drop.accepts(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        self.dragEnterEvent(event)
        if event.isAccepted() and read_block_mime(event.mimeData()) is None:
            self._drop.hover(event)

    def dragLeaveEvent(self, event) -> None:
        self._drop.leave()
        super().dragLeaveEvent(event)

    def dropEvent(self, event) -> None:
        ref = read_block_mime(event.mimeData())
        if ref is not None:
            at = self.mapToScene(event.position().toPoint())
            corner = QPointF(at.x() - style.NODE_WIDTH / 2, at.y() - style.HEADER_H / 2)
            if self.add_block_at(ref, corner) is not None:
                event.acceptProposedAction()
                self.setFocus(Qt.OtherFocusReason)
            else:
                event.ignore()
        elif self._drop.drop(event) is not None:
            event.acceptProposedAction()
            self.setFocus(Qt.OtherFocusReason)
        else:
            event.ignore()
