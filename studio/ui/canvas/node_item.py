"""A node card: header tinted by category, title and type, key params, output shape, ports.

The card paints from a `CardData` value (card.py); `set_data` repaints only when that value
changes. Painting is cached per device transform, and zoomed out the card simplifies to its header
colour and title (level of detail).

An edit that changes every downstream shape need not rebuild a thousand cards at once: the scene
hands a card that only shows new shapes a recipe (`defer`) and the card builds its data when it is
next painted in detail or read (`data`). What changes the card's size or its look when zoomed out
(errors, warnings, titles, params) is always applied at once.

Opening a large graph makes a card per node, most of them only ever seen zoomed out, so what
only a detailed paint or the mouse needs is made then: the elided texts on the first detailed
paint, the tooltip on the first hover (hover.py)."""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFontMetricsF, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem

from . import style
from .card import CardData
from .hover import HoverTooltip
from .port_item import IN, OUT, PortItem
from .preview_paint import PREVIEW_H, paint_preview, strip_rect


class NodeItem(HoverTooltip, QGraphicsItem):
    def __init__(self, node_id: str, data: CardData) -> None:
        super().__init__()
        self.node_id = node_id
        self._data: CardData | None = None
        self._pending = None  # a callable that makes the CardData to show next (see `defer`)
        self.inputs: list[PortItem] = []
        self.outputs: list[PortItem] = []
        self._height = 0.0
        self._texts: dict | None = None  # elided for painting in detail (see `texts`)
        self.shown_outputs = None  # what the scene last showed here (to skip unchanged cards)
        self.shown_key = None
        self.preview = None  # the live preview's face for this card (preview_paint.PreviewFace), or None
        self.setFlags(style.SELECTABLE)  # moves: NodeDrag and the graph's node_moved
        self.setCacheMode(style.DEVICE_CACHE)
        self.setAcceptHoverEvents(True)
        self.setZValue(1)
        self.set_data(data)

    # ---- data -----------------------------------------------------------------------------------
    @property
    def theme(self) -> style.Theme:
        scene = self.scene()
        return scene.theme if scene is not None else style.DARK

    @property
    def data(self) -> CardData | None:
        """What the card shows (built now if a deferred update is waiting)."""
        if self._pending is not None:
            self.refresh()
        return self._data

    @property
    def stale(self) -> bool:
        return self._pending is not None

    def defer(self, make, repaint: bool = True) -> None:
        """Show `make()` (a CardData) from the next detailed paint or read of `data` on. Only for
        changes that keep the card's height and its zoomed-out face (title, category, error).
        `repaint=False` when no view shows this card in detail (its cache is redrawn anyway when
        the zoom changes)."""
        self._pending = make
        self._tip_stale = True  # (built with the data when next hovered or read)
        if repaint:
            self.update()

    def refresh(self, repaint: bool = True) -> bool:
        make, self._pending = self._pending, None
        return self.set_data(make(), repaint) if make is not None else False

    def set_data(self, data: CardData, repaint: bool = True) -> bool:
        """Show new data; returns False (and does nothing) when nothing visible changed."""
        self._pending = None
        if data == self._data:
            return False
        old = self._data
        self._data = data
        if old is None or (old.inputs, old.outputs) != (data.inputs, data.outputs):
            self._build_ports()
        self._resize(self._layout_height())
        self._texts = None
        for port, kind, text in zip(self.outputs, data.out_kinds, data.out_texts):
            port.set_type(kind, text)
        self.tooltip_changed()
        if repaint:
            self.update()
        return True

    def set_preview(self, face) -> None:
        """Show the live preview's face (None: no preview strip). Only the strip's presence changes
        the card's height; a new face of a card that has one only repaints it."""
        if face is self.preview:
            return
        had = self.preview is not None
        self.preview = face
        if had != (face is not None) and self._data is not None:
            self._resize(self._layout_height())
        self.update()

    def _resize(self, height: float) -> None:
        """A new height: the scene re-routes the wires it may now cover (or no longer covers)."""
        if height == self._height:
            return
        old = QRectF(self.pos().x(), self.pos().y(), style.NODE_WIDTH, self._height)
        self.prepareGeometryChange()
        self._height = height
        self._place_ports()
        scene = self.scene()
        if scene is not None and hasattr(scene, "note_resized"):
            scene.note_resized(self, old)

    def set_title(self, node_id: str, data: CardData) -> None:
        self.node_id = node_id
        self.set_data(data)

    def refresh_tooltip(self) -> None:
        d = self.data  # a deferred update is built first
        self._tip_stale = False
        if d.error:
            text = f"<b>{d.title}</b> ({d.type})<br><span style='color:#ff6b6b'>{d.error}</span>"
        else:
            text = f"<b>{d.title}</b> ({d.type})<br>{d.doc}"
            if d.warning:
                text += f"<br><i>{d.warning}</i>"
        if d.tuning:
            text += ("<br>Frozen: its weights are not trained" if d.frozen else
                     f"<br>Learning rate ×{d.lr_mult:g} of the run's")
        self.setToolTip(text)

    def _build_ports(self) -> None:
        for port in self.inputs + self.outputs:
            if port.wires:
                raise RuntimeError("ports of a wired node cannot change")
            port.setParentItem(None)
            if port.scene() is not None:
                port.scene().removeItem(port)
        d = self._data
        self.inputs = [PortItem(self, IN, i, name, multi, len(d.inputs) == 1)
                       for i, (name, multi) in enumerate(d.inputs)]
        self.outputs = [PortItem(self, OUT, i, name, False, len(d.outputs) == 1)
                        for i, name in enumerate(d.outputs)]

    def _layout_height(self) -> float:
        d = self._data
        h = style.HEADER_H + style.TYPE_ROW_H + len(d.params) * style.PARAM_ROW_H
        h += d.port_rows * style.PORT_ROW_H
        if not d.multi_output or d.error:
            h += style.FOOTER_H
        if self.preview is not None:
            h += PREVIEW_H
        return h + 4

    def _rows_top(self) -> float:
        return style.HEADER_H + style.TYPE_ROW_H + len(self._data.params) * style.PARAM_ROW_H + 2

    def _place_ports(self) -> None:
        top = self._rows_top()
        for ports, x in ((self.inputs, 0.0), (self.outputs, style.NODE_WIDTH)):
            for i, port in enumerate(ports):
                y = style.PORT_Y if len(ports) == 1 else top + (i + 0.5) * style.PORT_ROW_H
                port.setPos(x, y)

    @property
    def texts(self) -> dict:
        """The texts a detailed paint draws, cut to fit the card (made on first use)."""
        if self._texts is None:
            self._texts = self._elide_texts()
        return self._texts

    def _elide_texts(self) -> dict:
        d, elide, width = self._data, style.elide, style.text_width
        inner = style.NODE_WIDTH - 2 * style.PAD_X
        badge = sum(width("port", b) + 12 for b in (d.badge, d.tuning) if b)
        t = {"title": elide("title", d.title, inner - (12 if d.warning else 0) - badge),
             "type": elide("type", d.type, inner), "type_font": "type"}
        if t["type"] != d.type:  # a long type name (TransformerEncoderLayer) in a narrower face
            t["type"], t["type_font"] = elide("type_narrow", d.type, inner), "type_narrow"
        params = []
        for name, value in d.params:
            v = elide("param", value, inner * 0.55, left=True)
            params.append((elide("param", name, inner - width("param", v) - 6), v))
        t["params"] = params
        rows = []
        half = inner / 2 - 4
        for i in range(d.port_rows):
            left = d.inputs[i][0] if len(d.inputs) > 1 and i < len(d.inputs) else ""
            right = d.outputs[i] if len(d.outputs) > 1 and i < len(d.outputs) else ""
            shape = d.out_texts[i] if right and i < len(d.out_texts) else ""
            rw = inner - (width("port", left) + 8 if left else 0)
            r_name = elide("port", right, rw * 0.5) if right else ""
            r_shape = elide("shape", shape, rw - width("port", r_name) - 6, left=True)
            room, font = half if right else inner, "port"
            if left and width("port", left) > room:  # (memory_key_padding_mask) a narrower face first
                font = "port_narrow"
            rows.append((elide(font, left, room), r_name, r_shape, font))
        t["rows"] = rows
        t["footer"] = elide("param", d.error, inner) if d.error else elide("shape", d.footer, inner)
        return t

    # ---- geometry ---------------------------------------------------------------------------------
    @property
    def height(self) -> float:
        return self._height

    def card_rect(self) -> QRectF:
        return QRectF(0, 0, style.NODE_WIDTH, self._height)

    def boundingRect(self) -> QRectF:
        m = 4.0  # room for the selection outline
        top = 7.0 if self._data is not None and self._data.category == "block" else m  # a block's stack
        return QRectF(-m, -top, style.NODE_WIDTH + m + top, self._height + m + top)

    def ports(self) -> list[PortItem]:
        return self.inputs + self.outputs

    def input_port(self, name: str | None) -> PortItem | None:
        return next((p for p in self.inputs if p.matches(name)), self.inputs[0] if self.inputs else None)

    def output_port(self, name: str | None) -> PortItem | None:
        return next((p for p in self.outputs if p.matches(name)), self.outputs[0] if self.outputs else None)

    def move_to(self, pos: QPointF) -> None:
        """Move the card and re-route its wires. (Not an itemChange override: besides being slower,
        PySide's itemChange conversion has mis-counted references to None.)"""
        if pos != self.pos():
            self.setPos(pos)
            for port in self.inputs + self.outputs:
                for wire in port.wires:
                    wire.update_path()

    # ---- painting ---------------------------------------------------------------------------------
    def paint(self, painter, option, widget=None) -> None:
        theme = self.theme
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        if lod >= style.LOD_SIMPLE and self._pending is not None:
            self.refresh(repaint=False)  # a deferred update: its height is the same, paint it now
        d = self._data
        painter.setRenderHint(painter.RenderHint.Antialiasing)
        painter.setRenderHint(painter.RenderHint.TextAntialiasing)
        rect = self.card_rect()
        head = theme.category_color(d.category)
        if d.frozen:  # a frozen layer's header is dimmed toward the card: it does not learn
            head = _dimmed(head, theme.card)
        selected = self.isSelected()
        if lod < style.LOD_SIMPLE:
            self._paint_simple(painter, theme, rect, head, lod, selected)
            return
        if d.category == "block":
            self._paint_stack(painter, theme, rect)
        # selection halo, card, header
        if selected:
            painter.setPen(QPen(theme.accent, 2.5))
            painter.setBrush(style.NO_BRUSH)
            painter.drawRoundedRect(rect.adjusted(-2.5, -2.5, 2.5, 2.5), style.CORNER + 2, style.CORNER + 2)
        border = theme.text_muted if self._hover else theme.card_border
        painter.setPen(QPen(theme.error if d.error else border, 2.0 if d.error else 1.0))
        painter.setBrush(QBrush(theme.card))
        painter.drawRoundedRect(rect, style.CORNER, style.CORNER)
        header = QPainterPath()
        header.addRoundedRect(QRectF(0.5, 0.5, rect.width() - 1, style.HEADER_H + style.CORNER), style.CORNER,
                              style.CORNER)
        clip = QPainterPath()
        clip.addRect(QRectF(0, 0, rect.width(), style.HEADER_H))
        painter.setPen(style.NO_PEN)
        painter.setBrush(head)
        painter.drawPath(header.intersected(clip))
        t, px = self.texts, style.PAD_X
        w = rect.width() - 2 * px
        painter.setPen(theme.header_text)
        painter.setFont(style.Fonts.get("title"))
        painter.drawText(QRectF(px, 0, w, style.HEADER_H), style.LEFT, t["title"])
        right = rect.width() - px
        if d.warning:
            painter.setBrush(theme.warning)
            painter.setPen(style.NO_PEN)
            painter.drawEllipse(QPointF(right - 4, style.HEADER_H / 2), 4, 4)
            right -= 12
        if d.badge:
            right = self._paint_badge(painter, theme, d.badge, right) - 4
        if d.tuning:
            self._paint_badge(painter, theme, d.tuning, right)
        y = style.HEADER_H
        painter.setPen(theme.text_muted)
        painter.setFont(style.Fonts.get(t["type_font"]))
        painter.drawText(QRectF(px, y, w, style.TYPE_ROW_H), style.LEFT, t["type"])
        y += style.TYPE_ROW_H
        painter.setFont(style.Fonts.get("param"))
        for name, value in t["params"]:
            r = QRectF(px, y, w, style.PARAM_ROW_H)
            painter.setPen(theme.text_muted)
            painter.drawText(r, style.LEFT, name)
            painter.setPen(theme.text)
            painter.drawText(r, style.RIGHT, value)
            y += style.PARAM_ROW_H
        y += 2
        for left, right, shape, left_font in t["rows"]:
            r = QRectF(px, y, w, style.PORT_ROW_H)
            painter.setPen(theme.text)
            if left:
                painter.setFont(style.Fonts.get(left_font))
                painter.drawText(r, style.LEFT, left)
            painter.setFont(style.Fonts.get("port"))
            if right:
                painter.drawText(r, style.RIGHT, right)
                if shape:
                    adv = style.text_width("port", right) + 6
                    painter.setFont(style.Fonts.get("shape"))
                    painter.setPen(theme.text_muted)
                    painter.drawText(r.adjusted(0, 0, -adv, 0), style.RIGHT, shape)
            y += style.PORT_ROW_H
        footer = not d.multi_output or bool(d.error)
        if footer:
            self._paint_footer(painter, rect, theme, t["footer"], bool(d.error))
        if self.preview is not None:
            paint_preview(painter, theme, strip_rect(rect, footer), self.preview)

    def _paint_stack(self, painter, theme, rect: QRectF) -> None:
        """A block card sits on the edges of two more: it holds layers (and, with ×N, copies)."""
        painter.setBrush(QBrush(theme.card))
        painter.setPen(QPen(theme.card_border, 1.0))
        for step in (6.0, 3.0):
            painter.drawRoundedRect(rect.translated(step, -step), style.CORNER, style.CORNER)

    def _paint_badge(self, painter, theme, text: str, right: float) -> float:
        """A pill ending at `right` in the header; returns its left edge."""
        w = style.text_width("port", text) + 10
        pill = QRectF(right - w, (style.HEADER_H - 16) / 2, w, 16)
        painter.setPen(style.NO_PEN)
        painter.setBrush(QColor(0, 0, 0, 90))
        painter.drawRoundedRect(pill, 8, 8)
        painter.setPen(theme.header_text)
        painter.setFont(style.Fonts.get("port"))
        painter.drawText(pill, style.CENTER, text)
        return pill.left()

    def _paint_footer(self, painter, rect: QRectF, theme, text: str, error: bool) -> None:
        top = rect.bottom() - style.FOOTER_H - 2
        painter.setPen(QPen(theme.card_border, 1.0))
        painter.drawLine(QPointF(1, top), QPointF(rect.width() - 1, top))
        painter.setFont(style.Fonts.get("param" if error else "shape"))
        color = theme.error if error else theme.text
        if not error and self._data.out_kinds and self._data.out_kinds[0]:
            color = theme.wire_color(self._data.out_kinds[0])
        painter.setPen(color)
        painter.drawText(QRectF(style.PAD_X, top, rect.width() - 2 * style.PAD_X, style.FOOTER_H + 2),
                         style.LEFT, text)

    def _paint_simple(self, painter, theme, rect: QRectF, head: QColor, lod: float, selected: bool) -> None:
        d = self._data  # title, category, error: never deferred
        pen = QPen(theme.error, 3.0 / max(lod, 0.05)) if d.error else style.NO_PEN
        if selected:
            pen = QPen(theme.accent, 3.0 / max(lod, 0.05))
        painter.setPen(pen)
        painter.setBrush(head)
        painter.drawRoundedRect(rect, style.CORNER, style.CORNER)
        if lod < style.LOD_MINIMAL:
            return
        font = style.Fonts.get("title")
        font = type(font)(font)
        font.setPixelSize(max(12, int(13 / lod)))
        fm = QFontMetricsF(font)

        def badge_width() -> float:  # a repeated block says so at every zoom, beside the title
            return fm.horizontalAdvance(d.badge) + 6 if d.badge else 0.0

        while font.pixelSize() > 12 and fm.horizontalAdvance(d.title) > rect.width() - 12 - badge_width():
            font.setPixelSize(int(font.pixelSize() * 0.9))
            fm = QFontMetricsF(font)
        painter.setFont(font)
        painter.setPen(theme.header_text)
        room = rect.adjusted(6, 0, -6 - badge_width(), 0)
        painter.drawText(room, style.CENTER, fm.elidedText(d.title, Qt.ElideRight, room.width()))
        if d.badge:
            painter.drawText(rect.adjusted(6, 0, -6, 0), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             d.badge)


def _dimmed(color: QColor, toward: QColor) -> QColor:
    """`color` mixed 55% toward `toward` (a frozen card's header)."""
    return QColor.fromRgbF(*(a + (b - a) * 0.55 for a, b in zip(color.getRgbF()[:3], toward.getRgbF()[:3])))
