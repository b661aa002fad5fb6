"""Expand in place: a read-only picture of a block's inside, in a frame under its card on the
canvas it sits on. A view choice, never an edit: nothing here touches the graph, the frame is not
selectable, and it follows the definition as it changes (the scene redraws it on BLOCKS_CHANGED).

The inner nodes are drawn at their own positions, scaled to fit the frame's width, as small cards
(category colour, id, output shape) joined by their wires."""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem

from .. import block_model
from . import style

MINI_W, MINI_H = 150.0, 40.0  # an inner card, before scaling
FRAME_PAD = 12.0
MAX_W = 3 * style.NODE_WIDTH


class ExpandedBlock(QGraphicsItem):
    def __init__(self, card, graph, prefix: str, analysis) -> None:
        super().__init__(card)
        self.card, self.graph, self.prefix = card, graph, prefix
        self.setZValue(0)
        self.setAcceptedMouseButtons(self.acceptedMouseButtons().NoButton)
        self._layout: tuple = ((), (), 1.0, QRectF())
        self.update_from(analysis)

    def update_from(self, analysis) -> None:
        node = self.graph.nodes.get(self.card.node_id)
        bdef = block_model.definition_of(self.graph, node) if node is not None else None
        self.prepareGeometryChange()
        if bdef is None or not bdef.graph.nodes:
            self._layout = ((), (), 1.0, QRectF())
            return
        inner = bdef.graph
        xs = [n.pos[0] for n in inner.nodes.values()]
        ys = [n.pos[1] for n in inner.nodes.values()]
        x0, y0 = min(xs), min(ys)
        span = max(xs) - x0 + MINI_W
        scale = min(1.0, (MAX_W - 2 * FRAME_PAD) / span)
        infos = analysis.nodes if analysis is not None else {}
        cards = []
        for n in inner.nodes.values():
            r = QRectF((n.pos[0] - x0) * scale + FRAME_PAD, (n.pos[1] - y0) * scale + FRAME_PAD,
                       MINI_W * scale, MINI_H * scale)
            info = infos.get(self.prefix + n.id)
            spec = info.spec if info is not None else None
            shape = str(info.outputs[0]) if info is not None and info.outputs else ""
            category = "block" if n.type == block_model.BLOCK_TYPE else (spec.category if spec else "io")
            cards.append((n.id, r, category, shape, bool(info is not None and info.error)))
        where = {c[0]: c[1] for c in cards}
        wires = [(where[e.source], where[e.target]) for e in inner.edges if e.source in where and e.target in where]
        frame = QRectF(0, 0, max(r.right() for _, r, *_ in cards) + FRAME_PAD,
                       max(r.bottom() for _, r, *_ in cards) + FRAME_PAD)
        self._layout = (cards, wires, scale, frame)
        self.setPos(0, self.card.height + 10)

    def boundingRect(self) -> QRectF:
        return self._layout[3].adjusted(-2, -2, 2, 2)

    def paint(self, painter, option, widget=None) -> None:
        cards, wires, scale, frame = self._layout
        if frame.isEmpty():
            return
        theme = self.card.theme
        painter.setRenderHint(painter.RenderHint.Antialiasing)
        pen = QPen(theme.text_muted, 1.0)
        pen.setDashPattern([4, 3])
        painter.setPen(pen)
        painter.setBrush(QBrush(theme.background.lighter(115)))
        painter.drawRoundedRect(frame, style.CORNER, style.CORNER)
        painter.setPen(QPen(theme.text_muted, 1.2))
        painter.setBrush(style.NO_BRUSH)
        for a, b in wires:
            start, end = QPointF(a.right(), a.center().y()), QPointF(b.left(), b.center().y())
            path = QPainterPath(start)
            dx = max(20.0, (end.x() - start.x()) / 2)
            path.cubicTo(start + QPointF(dx, 0), end - QPointF(dx, 0), end)
            painter.drawPath(path)
        font = style.Fonts.get("shape")
        painter.setFont(font)
        for node_id, r, category, shape, error in cards:
            painter.setPen(QPen(theme.error, 1.5) if error else style.NO_PEN)
            painter.setBrush(theme.category_color(category))
            painter.drawRoundedRect(r, 4, 4)
            painter.setPen(theme.header_text)
            text = f"{node_id}  {shape}" if shape and r.width() > 110 else node_id
            painter.drawText(r.adjusted(4, 0, -4, 0), style.CENTER,
                             painter.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, int(r.width() - 8)))


def sync_expanded(scene) -> None:
    """Give each card in `scene.expanded` its frame (made, or updated from the root analysis), and
    drop the frames of cards that are gone or no longer blocks."""
    doc = scene.document
    analysis = doc.root.analysis
    for node_id in list(scene.expanded):
        card = scene.nodes.get(node_id)
        if card is None or not block_model.is_block(scene.graph.nodes.get(node_id)):
            scene.expanded.discard(node_id)
            continue
        frame = next((c for c in card.childItems() if isinstance(c, ExpandedBlock)), None)
        prefix = block_model.path_prefix(doc.root.graph, list(doc.trail) + [node_id])
        if frame is None:
            ExpandedBlock(card, scene.graph, prefix, analysis)
        else:
            frame.prefix = prefix
            frame.update_from(analysis)
    for card in scene.nodes.values():
        if card.node_id not in scene.expanded:
            for child in card.childItems():
                if isinstance(child, ExpandedBlock):
                    scene.removeItem(child)
