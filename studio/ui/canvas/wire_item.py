"""Wires: smooth cubic curves from an output port to an input port, coloured by what flows, with
the tensor shape in a small pill at the middle; red when they lead into a node with an error."""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem

from . import style
from .hover import HoverTooltip
from .node_item import NodeItem
from .routing import lane_y


def wire_path(p1: QPointF, p2: QPointF, scene=None) -> QPainterPath:
    """From p1 (an output, leaving rightwards) to p2 (an input, entered from the left).

    Forwards: one horizontal-tangent cubic. Backwards (the input lies left of the output, as from
    the end of one row of cards to the start of the next): bend out to the right, run back along
    the gap between the rows, and bend in from the left, so the wire never cuts across the cards.
    With `scene`, the run back takes a lane clear of its cards (routing.py), and each bend is as
    tight as its own height allows."""
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
    if scene is not None:
        run_y = lane_y(scene, p1, p2, run_y, BACK_BEND)
    b1 = min(BACK_BEND, abs(run_y - p1.y()) / 2 + 10)
    b2 = min(BACK_BEND, abs(run_y - p2.y()) / 2 + 10)
    path.cubicTo(QPointF(p1.x() + 2 * b1, p1.y()), QPointF(p1.x() + 2 * b1, run_y), QPointF(p1.x(), run_y))
    path.lineTo(QPointF(p2.x(), run_y))
    path.cubicTo(QPointF(p2.x() - 2 * b2, run_y), QPointF(p2.x() - 2 * b2, p2.y()), p2)
    return path


BACK_BEND = 40.0
BACK_DROP = 110.0
_STROKER = QPainterPathStroker()  # every wire's outline: the curve, 10 px wide (what can be grabbed)
_STROKER.setWidth(10)
_NO_PEN = QPen(Qt.NoPen)


class WireItem(HoverTooltip, QGraphicsPathItem):
    """The item's own path (what Qt hit-tests and bounds) is the wire's outline, 10 px wide, plus
    its pill; the curve itself is painted by `paint`. (Overriding shape() instead would be simpler,
    but PySide 6.12 miscounts references to None on every such virtual call.)

    Where the pill sits depends on its width, and finding a place clear of the cards asks the
    scene's index. A new shape of the same width (16×8×8 -> 16×5×5: digits are equally wide) only
    repaints the pill; a wider or narrower one marks the pill's place stale, and the scene places
    stale pills when they are about to be seen (`CanvasScene.place_stale_pills`, from the view's
    paint) or read (`pill_rect`). The pill item itself is made when the pill is first placed: a
    large graph opens zoomed out, where no pill is shown.

    The item keeps the curve and the rect it spans; the outline (the item's path) is made from the
    curve when the wire is routed or its pill placed, and not kept besides."""

    PILL_TRIES = (0.5, 0.38, 0.62, 0.26, 0.74, 0.15, 0.85)
    splice_hint = False  # a card held over it would be inserted into it on release (splice.py)
    _count = 0  # wires made so far: pills overlap in the order of their wires (PillItem)
    _curve = QPainterPath()  # until routed (both are replaced, never changed in place)
    _curve_rect = QRectF()  # where the curve runs (the pill sits on it)
    backward = False  # routed back from the end of a row (wire_path): its lane depends on the cards
    ends: tuple = ()  # the ports' scene positions it was routed between

    def __init__(self, edge, source_port, target_port) -> None:
        super().__init__()
        WireItem._count += 1
        self.number = WireItem._count
        self.edge = edge
        self.source_port, self.target_port = source_port, target_port
        self.kind: str | None = None
        self.label = ""
        self.error = False
        self._type = None
        self._pill_width = 0.0  # the width the label needs
        self.pill_stale = False  # the pill's place is not worked out for the current label
        self._pill_item: PillItem | None = None  # a separate item, so that no other wire is drawn across it
        self.setPen(_NO_PEN)
        self.setCacheMode(style.DEVICE_CACHE)  # panning blits instead of re-stroking
        self.setFlags(style.SELECTABLE)
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
        """Show what flows. Returns False when nothing changed. With `reroute`, a pill whose width
        changed is marked stale for the scene to place (see the class doc); without, the caller
        routes the wire itself."""
        if tensor_type is self._type and error == self.error:
            return False  # the same object from the analyzer's cache: nothing changed
        self._type = tensor_type
        kind = tensor_type.kind if tensor_type is not None else None
        label = style.pill_text(tensor_type) if tensor_type is not None else ""
        if (kind, label, error) == (self.kind, self.label, self.error):
            return False
        recolour = (kind, error) != (self.kind, self.error)
        self.kind, self.label, self.error = kind, label, error
        self.target_port.set_type(kind, tensor_type if tensor_type is not None else "")
        self.tooltip_changed()
        width = style.pill_width(label) if label else 0.0
        if width != self._pill_width:
            self._pill_width = width
            if reroute:
                self.pill_stale = True
                scene = self.scene()
                if scene is not None:
                    scene.stale_pills.add(self)
        if recolour:
            self.update()
        else:
            self.update_pill()  # only the text changed
        return True

    def refresh_tooltip(self) -> None:
        self._tip_stale = False
        t = self._type
        self.setToolTip(f"{self.edge.source} → {self.edge.target}" + (f": {t}" if t is not None else ""))

    def _route(self) -> None:
        p1, p2 = self.source_port.scenePos(), self.target_port.scenePos()
        self.backward = p2.x() - p1.x() < -10  # its run back avoids the cards: routed anew when they grow
        self.ends = (p1, p2)
        curve = wire_path(p1, p2, self.scene())
        self._curve, self._curve_rect = curve, curve.controlPointRect()

    def update_path(self) -> None:
        """Route the wire between its ports (they moved) and place its pill."""
        self._route()
        self._place(force=True)

    def route_later(self) -> None:
        """Route the curve now, place the pill when it is first seen (opening a large graph)."""
        self._route()
        self.setPath(_STROKER.createStroke(self._curve))
        if self.label:
            self.pill_stale = True
            if self.scene() is not None:
                self.scene().stale_pills.add(self)

    def place_pill(self) -> None:
        """Place a stale pill (the curve is where it was)."""
        if self.pill_stale:
            self._place(force=False)

    def _place(self, force: bool) -> None:
        # work out the new geometry first: placing the pill queries the scene's index, which must
        # not see this item half-changed
        self.pill_stale = False
        pill = self._place_pill(self._curve) if self.label else QRectF()
        if not force and pill == self._pill_rect():
            return
        outline = _STROKER.createStroke(self._curve)
        if not pill.isEmpty():
            outline.addRect(pill)
        outline.setFillRule(Qt.WindingFill)
        self.setPath(outline)
        if self._pill_item is not None or not pill.isEmpty():
            self.pill.set_rect(pill)

    def visible_area(self) -> QRectF:
        """Where the wire and any place of its pill lie (for deciding what a view is about to show)."""
        m = self._pill_width / 2 + 12
        return self._curve_rect.adjusted(-m, -m, m, m)

    def _place_pill(self, curve: QPainterPath) -> QRectF:
        w, h = self._pill_width or style.pill_width(self.label), style.pill_height()
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
        self.place_pill()
        return self._pill_rect()

    def _pill_rect(self) -> QRectF:
        return self._pill_item.rect() if self._pill_item is not None else QRectF()

    @property
    def pill(self) -> PillItem:
        """The pill item (made, and put in the wire's scene, on first use)."""
        if self._pill_item is None:
            self._pill_item = PillItem(self)
            scene = self.scene()
            if scene is not None:
                scene.addItem(self._pill_item)
                self._pill_item.setVisible(scene.show_ports and self.isVisible())
        return self._pill_item

    def update_pill(self) -> None:
        """Repaint the pill (it is cached: a new colour or text must be drawn anew)."""
        if self._pill_item is not None:
            self._pill_item.update()

    def set_pill_shown(self, shown: bool) -> None:
        if self._pill_item is not None:
            self._pill_item.setVisible(shown and self.isVisible())

    def remove_pill(self) -> None:
        """Take the pill out of the scene (the wire is being removed)."""
        pill, self._pill_item = self._pill_item, None
        if pill is not None and pill.scene() is not None:
            pill.scene().removeItem(pill)

    # ---- painting ---------------------------------------------------------------------------
    def set_splice_hint(self, on: bool) -> None:
        if on != self.splice_hint:
            self.splice_hint = on
            self.update()

    def color(self, selected: bool | None = None) -> QColor:
        scene = self.scene()
        theme = scene.theme if scene is not None else style.DARK
        if self.splice_hint or (self.isSelected() if selected is None else selected):
            return theme.accent
        if self.error:
            return theme.error
        return theme.wire_color(self.kind) if self.kind else theme.text_muted

    def paint(self, painter, option, widget=None) -> None:
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        painter.setRenderHint(painter.RenderHint.Antialiasing)
        selected = self.isSelected()
        color = self.color(selected)
        width = 4.0 if self.splice_hint else 2.0 + (1.0 if (self._hover or selected) else 0.0)
        pen = QPen(color, width if lod >= style.LOD_SIMPLE else 1.5 / max(lod, 0.05))
        if self.splice_hint:  # a halo as wide as the grab outline (the item's bounds): it shows on a
            # short wire and on one that is blue already
            halo = QColor(color)
            halo.setAlpha(90)
            painter.setPen(QPen(halo, 10.0 if lod >= style.LOD_SIMPLE else 6.0 / max(lod, 0.05)))
            painter.drawPath(self._curve)
        elif not self.kind and not self.error:
            pen.setStyle(style.DASH_LINE)
        painter.setPen(pen)
        painter.setBrush(style.NO_BRUSH)
        painter.drawPath(self._curve)

    def set_shown(self, shown: bool) -> None:
        self.setVisible(shown)
        self.set_pill_shown(self.scene() is not None and self.scene().show_ports)

    def update(self, *args) -> None:
        super().update(*args)
        self.update_pill()


class PillItem(QGraphicsItem):
    """The tensor shape in a small pill on a wire. Above every wire, below every card.

    Pills are made when first placed, in no particular order; where two overlap, the pill of the
    wire made later is on top, as if every pill had been made with its wire (items of the same z
    stack in the order they entered the scene)."""

    Z = -0.5
    Z_STEP = 1e-9  # per wire: pills stay below z 0 (cards are at 1) for 500 million wires

    def __init__(self, wire: WireItem) -> None:
        super().__init__()
        self.wire = wire
        self._rect = QRectF()
        self.setZValue(self.Z + wire.number * self.Z_STEP)
        self.setCacheMode(style.DEVICE_CACHE)
        self.setAcceptedMouseButtons(style.NO_BUTTON)  # a click goes to the wire underneath

    def set_rect(self, rect: QRectF) -> None:
        if rect != self._rect:
            self.prepareGeometryChange()
            self._rect = QRectF(rect)

    def rect(self) -> QRectF:
        return QRectF(self._rect)

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
        painter.drawText(self._rect, style.CENTER, self.wire.label)


class WirePreview(QGraphicsItem):
    """The live curve while a wire is dragged; `reverse` when it was pulled out of an input."""

    def __init__(self, color: QColor) -> None:
        super().__init__()
        self._path = QPainterPath()
        self.color = color
        self.setZValue(5)
        self.setAcceptedMouseButtons(style.NO_BUTTON)

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
