"""Rubber-band selection: drag on empty canvas; Ctrl or Shift adds to the selection."""
from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPen
from PySide6.QtWidgets import QGraphicsRectItem

from ..node_item import NodeItem
from .base import Interaction


class RubberBand(Interaction):
    THRESHOLD = 3

    @classmethod
    def start(cls, view, event):
        if event.button() != Qt.LeftButton or view.item_at(event.position()) is not None:
            return None
        return cls(view, event)

    def __init__(self, view, event) -> None:
        super().__init__(view)
        self.origin_view = event.position()
        self.origin = view.mapToScene(event.position().toPoint())
        self.additive = bool(event.modifiers() & (Qt.ControlModifier | Qt.ShiftModifier))
        self.before = set(self.scene.selected_ids()) if self.additive else set()
        self.rect_item: QGraphicsRectItem | None = None
        if not self.additive:
            self.scene.select_only([])

    def move(self, event) -> None:
        if self.rect_item is None:
            if (event.position() - self.origin_view).manhattanLength() < self.THRESHOLD:
                return
            theme = self.scene.theme
            self.rect_item = QGraphicsRectItem()
            pen = QPen(theme.accent, 1.0)
            pen.setCosmetic(True)
            self.rect_item.setPen(pen)
            self.rect_item.setBrush(theme.rubber_band)
            self.rect_item.setZValue(10)
            self.scene.addItem(self.rect_item)
        here = self.view.mapToScene(event.position().toPoint())
        rect = QRectF(self.origin, here).normalized()
        self.rect_item.setRect(rect)
        self._select(rect)

    def _select(self, rect: QRectF) -> None:
        inside = {i.node_id for i in self.scene.items(rect, Qt.IntersectsItemShape) if isinstance(i, NodeItem)}
        self.scene.select_only([n for n in self.scene.graph.nodes if n in inside | self.before])

    def release(self, event) -> None:
        self._remove()

    def cancel(self) -> None:
        self._remove()
        self.scene.select_only(sorted(self.before))

    def _remove(self) -> None:
        if self.rect_item is not None:
            self.scene.removeItem(self.rect_item)
            self.rect_item = None
