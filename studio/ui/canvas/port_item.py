"""A port: a small circle on a card's edge (inputs left, outputs right), the end of wires.

Ports are child items of their node card. They only paint and report where they are; dragging
from a port is the wire-drag interaction's job (interactions/wire_drag.py)."""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem

from . import style
from .hover import HoverTooltip

IN, OUT = "in", "out"


class PortItem(HoverTooltip, QGraphicsItem):
    """`name` is the spec's port name; `edge_name` is what an Edge stores for it (None when the node
    has a single port on that side, as project files write it). Its cursor and tooltip are set when
    the mouse first comes (hover.py): a 5,000-node graph has 10,000 ports."""

    hover_cursor = Qt.CrossCursor
    kind: str | None = None  # what flows out of (or into) it, for its colour
    type_text = ""  # what flows ("[16, 8, 8]", or the TensorType itself) for the tooltip
    highlight = False  # a compatible target of the wire being dragged
    snapped = False  # the wire being dragged would land here

    def __init__(self, node, direction: str, index: int, name: str, multi: bool, single: bool) -> None:
        super().__init__(node)
        self.node = node
        self.direction = direction
        self.index = index
        self.name = name
        self.multi = multi
        self.edge_name = None if single else name
        self.wires: set = set()
        self.setAcceptHoverEvents(True)  # (no z value: a child is drawn above its card anyway)

    # ---- identity -------------------------------------------------------------------------------
    @property
    def node_id(self) -> str:
        return self.node.node_id

    @property
    def is_input(self) -> bool:
        return self.direction == IN

    def matches(self, port_name: str | None) -> bool:
        """Whether an Edge's port field (None = the first port) names this port."""
        return port_name == self.name or (port_name is None and self.index == 0)

    def scene_anchor(self) -> QPointF:
        return self.scenePos()

    # ---- state ----------------------------------------------------------------------------------
    def set_drag_state(self, highlight: bool, snapped: bool = False) -> None:
        if (highlight, snapped) != (self.highlight, self.snapped):
            self.highlight, self.snapped = highlight, snapped
            self.update()

    def set_type(self, kind: str | None, type_text) -> None:
        """What flows through this port: its colour now, its tooltip text when next hovered (an
        edit upstream can change a thousand ports; only the one under the mouse needs its text)."""
        if kind != self.kind:
            self.kind = kind
            self.update()
        if type_text is not self.type_text and type_text != self.type_text:
            self.type_text = type_text
            self.tooltip_changed()

    def refresh_tooltip(self) -> None:
        self._tip_stale = False
        label = f"{self.name}" + (" (takes several wires)" if self.multi else "")
        self.setToolTip(f"{label}: {self.type_text}" if self.type_text else label)

    # ---- painting -------------------------------------------------------------------------------
    def boundingRect(self) -> QRectF:
        r = style.PORT_HIT_R + 2
        return QRectF(-r, -r - (4 if self.multi else 0), 2 * r, 2 * r + (8 if self.multi else 0))

    def _body(self, grow: float = 0.0) -> QPainterPath:
        path = QPainterPath()
        r = style.PORT_R + grow
        if self.multi:  # a capsule: this port takes several wires
            path.addRoundedRect(QRectF(-r, -r - 4, 2 * r, 2 * r + 8), r, r)
        else:
            path.addEllipse(QPointF(0, 0), r, r)
        return path

    def paint(self, painter, option, widget=None) -> None:
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        if lod < style.LOD_SIMPLE and not self.highlight:
            return
        theme = self.node.theme
        painter.setRenderHint(painter.RenderHint.Antialiasing)
        color = theme.wire_color(self.kind) if self.kind else theme.text_muted
        if self.highlight or self.snapped:
            glow = QColor(theme.accent)
            glow.setAlpha(110 if self.snapped else 60)
            painter.setPen(style.NO_PEN)
            painter.setBrush(glow)
            painter.drawPath(self._body(6 if self.snapped else 4))
            color = theme.accent
        grow = 1.5 if (self._hover or self.snapped) else 0.0
        if self.wires or self.snapped:
            painter.setPen(QPen(theme.card, 1.5))
            painter.setBrush(QBrush(color))
        else:
            painter.setPen(QPen(color, 2.0))
            painter.setBrush(QBrush(theme.port_hollow))
        painter.drawPath(self._body(grow))
