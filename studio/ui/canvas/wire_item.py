"""Wires: smooth cubic curves from an output port to an input port, coloured by what flows, with
the tensor shape in a small pill at the middle; red when they lead into a node with an error."""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem

from . import style
from .node_item import NodeItem


def wire_path(p1: QPointF, p2: QPointF) -> QPainterPath:
    """From p1 (an output, leaving rightwards) to p2 (an input, entered from the left).

    Forwards: one horizontal-tangent cubic. Backwards (the input lies left of the output, as from
    the end of one row of cards to the start of the next): bend out to the right, run back along
    the gap between the rows, and bend in from the left, so the wire never cuts across the cards."""
    dx, dy = p2.x() - p1.x(), p2.y() - p1.y()
    path = QPainterPath(p1)
    if dx >= -10:
        reach = max(dx * 0.5, 40.0)
        path.cubicTo(QPointF(p1.x() + reach, p1.y()), QPointF(p2.x() - reach, p2.y()), p2)
        return path
    if abs(dy) >= BACK_BEND * 2:
        run_y = (p1.y() + p2.y()) / 2
    else:  # the same row: loop under the cards
        run_y = max(p1.y(), p2.y()) + BACK_DROP
    bend = min(BACK_BEND, abs(run_y - p1.y()) / 2 + 10)
    path.cubicTo(QPointF(p1.x() + 2 * bend, p1.y()), QPointF(p1.x() + 2 * bend, run_y), QPointF(p1.x(), run_y))
    path.lineTo(QPointF(p2.x(), run_y))
    path.cubicTo(QPointF(p2.x() - 2 * bend, run_y), QPointF(p2.x() - 2 * bend, p2.y()), p2)
    return path


BACK_BEND = 40.0
BACK_DROP = 110.0


class WireItem(QGraphicsPathItem):
    """The item's own path (what Qt hit-tests and bounds) is the wire's outline, 10 px wide, plus
    its pill; the curve itself is painted by `paint`. (Overriding shape() instead would be simpler,
    but PySide 6.12 miscounts references to None on every such virtual call.)"""

    PILL_TRIES = (0.5, 0.38, 0.62, 0.26, 0.74, 0.15, 0.85)

    def __init__(self, edge, source_port, target_port) -> None:
        super().__init__()
        self.edge = edge
        self.source_port, self.target_port = source_port, target_port
        self.kind: str | None = None
        self.label = ""
        self.error = False
        self._type = None
        self._curve = QPainterPath()
        self._pill = QRectF()
        self._hover = False
        self.pill = PillItem(self)  # a separate item, so that no other wire is drawn across it
        self.setPen(QPen(Qt.NoPen))
        self.setCacheMode(QGraphicsItem.DeviceCoordinateCache)  # panning blits instead of re-stroking
        self.setFlag(QGraphicsItem.ItemIsSelectable)
        self.setAcceptHoverEvents(True)
        self.setZValue(-1)
        source_port.wires.add(self)
        target_port.wires.add(self)

    def detach(self) -> None:
        for port in (self.source_port, self.target_port):
            port.wires.discard(self)
            port.update()

    # ---- state ------------------------------------------------------------------------------
    def set_type(self, tensor_type, error: bool, reroute: bool = True) -> bool:
        if tensor_type is self._type and error == self.error and tensor_type is not None:
            return False  # the same object from the analyzer's cache: nothing changed
        self._type = tensor_type
        kind = tensor_type.kind if tensor_type is not None else None
        label = style.pill_text(tensor_type) if tensor_type is not None else ""
        if (kind, label, error) == (self.kind, self.label, self.error):
            return False
        relabel = label != self.label
        self.kind, self.label, self.error = kind, label, error
        self.target_port.kind = kind
        self.target_port.type_text = str(tensor_type) if tensor_type is not None else ""
        self.target_port.refresh_tooltip()
        self.target_port.update()
        self.setToolTip(f"{self.edge.source} → {self.edge.target}" + (f": {tensor_type}" if tensor_type else ""))
        self.pill.setToolTip(self.toolTip())
        if relabel and reroute:
            self.update_path()
        else:
            self.update()
        return True

    def update_path(self) -> None:
        # work out the new geometry first: placing the pill queries the scene's index, which must
        # not see this item half-changed
        curve = wire_path(self.source_port.scenePos(), self.target_port.scenePos())
        pill = self._place_pill(curve) if self.label else QRectF()
        stroker = QPainterPathStroker()
        stroker.setWidth(10)
        outline = stroker.createStroke(curve)
        if not pill.isEmpty():
            outline.addRect(pill)
        outline.setFillRule(Qt.WindingFill)
        self._curve, self._pill = curve, pill
        self.setPath(outline)
        self.pill.set_rect(pill)

    def _place_pill(self, curve: QPainterPath) -> QRectF:
        fm = QFontMetricsF(style.Fonts.get("pill"))
        w, h = fm.horizontalAdvance(self.label) + 12, fm.height() + 4
        scene = self.scene()
        best = None
        for t in self.PILL_TRIES:
            c = curve.pointAtPercent(t)
            rect = QRectF(c.x() - w / 2, c.y() - h / 2, w, h)
            if best is None:
                best = rect
            if scene is None or not any(isinstance(i, NodeItem) for i in scene.items(
                    rect.adjusted(-3, -3, 3, 3), Qt.IntersectsItemBoundingRect)):
                return rect
        return best

    # ---- geometry ---------------------------------------------------------------------------
    def curve(self) -> QPainterPath:
        return QPainterPath(self._curve)

    def pill_rect(self) -> QRectF:
        return QRectF(self._pill)

    # ---- painting ---------------------------------------------------------------------------
    def color(self) -> QColor:
        theme = self.scene().theme if self.scene() else style.DARK
        if self.isSelected():
            return theme.accent
        if self.error:
            return theme.error
        return theme.wire_color(self.kind) if self.kind else theme.text_muted

    def paint(self, painter, option, widget=None) -> None:
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        painter.setRenderHint(painter.RenderHint.Antialiasing)
        color = self.color()
        width = 2.0 + (1.0 if (self._hover or self.isSelected()) else 0.0)
        pen = QPen(color, width if lod >= style.LOD_SIMPLE else 1.5 / max(lod, 0.05))
        if not self.kind and not self.error:
            pen.setStyle(Qt.DashLine)
        painter.setPen(pen)
        painter.setBrush(Qt.NoBrush)
        painter.drawPath(self._curve)

    def set_shown(self, shown: bool) -> None:
        self.setVisible(shown)
        self.pill.setVisible(shown and self.scene() is not None and self.scene().show_ports)

    def update(self, *args) -> None:
        super().update(*args)
        self.pill.update()

    def hoverEnterEvent(self, event) -> None:
        self._hover = True
        self.update()

    def hoverLeaveEvent(self, event) -> None:
        self._hover = False
        self.update()


class PillItem(QGraphicsItem):
    """The tensor shape in a small pill on a wire. Above every wire, below every card."""

    def __init__(self, wire: WireItem) -> None:
        super().__init__()
        self.wire = wire
        self._rect = QRectF()
        self.setZValue(-0.5)
        self.setCacheMode(QGraphicsItem.DeviceCoordinateCache)
        self.setAcceptedMouseButtons(Qt.NoButton)  # a click goes to the wire underneath

    def set_rect(self, rect: QRectF) -> None:
        if rect != self._rect:
            self.prepareGeometryChange()
            self._rect = QRectF(rect)

    def boundingRect(self) -> QRectF:
        return self._rect.adjusted(-1, -1, 1, 1)

    def paint(self, painter, option, widget=None) -> None:
        if self._rect.isEmpty() or not self.wire.label:
            return
        theme = self.scene().theme
        painter.setRenderHint(painter.RenderHint.Antialiasing)
        painter.setPen(QPen(self.wire.color(), 1.2))
        painter.setBrush(theme.pill_bg)
        r = self._rect.height() / 2
        painter.drawRoundedRect(self._rect, r, r)
        painter.setFont(style.Fonts.get("pill"))
        painter.setPen(theme.text)
        painter.drawText(self._rect, Qt.AlignCenter, self.wire.label)


class WirePreview(QGraphicsItem):
    """The live curve while a wire is dragged; `reverse` when it was pulled out of an input."""

    def __init__(self, color: QColor) -> None:
        super().__init__()
        self._path = QPainterPath()
        self.color = color
        self.setZValue(5)
        self.setAcceptedMouseButtons(Qt.NoButton)

    def set_ends(self, output_end: QPointF, input_end: QPointF) -> None:
        self.prepareGeometryChange()
        self._path = wire_path(output_end, input_end)

    def boundingRect(self) -> QRectF:
        return self._path.controlPointRect().adjusted(-4, -4, 4, 4)

    def paint(self, painter, option, widget=None) -> None:
        painter.setRenderHint(painter.RenderHint.Antialiasing)
        pen = QPen(self.color, 2.5)
        pen.setCosmetic(False)
        painter.setPen(pen)
        painter.drawPath(self._path)
