"""The layer palette: the node library by category, with icons, one-line descriptions and a search
box. Drag a layer onto the canvas (MIME type NODE_MIME), or double-click it to add it at the centre."""
from __future__ import annotations

from PySide6.QtCore import QMimeData, QRect, QSize, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics, QPalette
from PySide6.QtWidgets import (QLineEdit, QStyle, QStyledItemDelegate, QStyleOptionViewItem,
                               QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget, QAbstractItemView)

from . import icons
from .block_model import BLOCK_PORT_TYPES
from .palette_blocks import BLOCK_MIME, BLOCK_ROLE, BlocksCategory, block_mime_data
from .theme import CATEGORY_LABELS

NODE_MIME = "application/x-netstudio-node"
TYPE_ROLE = Qt.ItemDataRole.UserRole + 1
DOC_ROLE = Qt.ItemDataRole.UserRole + 2


def node_mime_data(type_name: str) -> QMimeData:
    mime = QMimeData()
    mime.setData(NODE_MIME, type_name.encode("utf-8"))
    mime.setText(type_name)
    return mime


def first_sentence(doc: str) -> str:
    doc = " ".join(doc.split())
    for stop in (". ", "; "):
        if stop in doc:
            return doc[: doc.index(stop) + (1 if stop == ". " else 0)]
    return doc


class _TwoLineDelegate(QStyledItemDelegate):
    """Layer rows: the type name, and its one-line description underneath in a dimmer colour."""

    def sizeHint(self, option, index) -> QSize:
        size = super().sizeHint(option, index)
        if index.data(TYPE_ROLE):
            fm = QFontMetrics(option.font)
            return QSize(size.width(), fm.height() * 2 + 10)
        return QSize(size.width(), max(size.height(), QFontMetrics(option.font).height() + 12))

    def paint(self, painter, option, index) -> None:
        doc = index.data(DOC_ROLE)
        if not index.data(TYPE_ROLE):
            opt = QStyleOptionViewItem(option)
            opt.font.setBold(True)
            super().paint(painter, opt, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        text = opt.text
        opt.text = ""
        style = opt.widget.style() if opt.widget else None
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        fm = QFontMetrics(opt.font)
        r = opt.rect.adjusted(6, 4, -4, -4)
        icon_size = 20
        opt.icon.paint(painter, QRect(r.left(), r.top() + (r.height() - icon_size) // 2, icon_size, icon_size))
        text_left = r.left() + icon_size + 8
        width = r.right() - text_left
        painter.save()
        bold = QFont(opt.font)
        bold.setWeight(QFont.Weight.DemiBold)
        painter.setFont(bold)
        painter.setPen(opt.palette.color(QPalette.ColorRole.Text))
        painter.drawText(QRect(text_left, r.top(), width, fm.height()), Qt.AlignmentFlag.AlignLeft, text)
        small = QFont(opt.font)
        small.setPointSizeF(max(7.5, opt.font.pointSizeF() - 1.2))
        painter.setFont(small)
        painter.setPen(opt.palette.color(QPalette.ColorRole.PlaceholderText))
        sfm = QFontMetrics(small)
        painter.drawText(QRect(text_left, r.top() + fm.height() + 1, width, sfm.height()),
                         Qt.AlignmentFlag.AlignLeft, sfm.elidedText(first_sentence(doc or ""),
                                                                   Qt.TextElideMode.ElideRight, width))
        painter.restore()


class _LibraryTree(QTreeWidget):
    def mimeTypes(self) -> list[str]:
        return [NODE_MIME, BLOCK_MIME]

    def mimeData(self, items) -> QMimeData:
        blocks = [it.data(0, BLOCK_ROLE) for it in items if it.data(0, BLOCK_ROLE)]
        if blocks:
            return block_mime_data(blocks[0])
        types = [it.data(0, TYPE_ROLE) for it in items if it.data(0, TYPE_ROLE)]
        return node_mime_data(types[0]) if types else QMimeData()


class PaletteWidget(QWidget):
    add_requested = Signal(str)  # a node type, to add at the view's centre
    block_requested = Signal(dict)  # a block definition (palette_blocks reference), to add likewise
    status_message = Signal(str)

    def __init__(self, registry, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("palette")
        self.search = QLineEdit(self)
        self.search.setObjectName("search")
        self.search.setPlaceholderText("Search layers…")
        self.search.setClearButtonEnabled(True)
        self.search.addAction(icons.icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.tree = _LibraryTree(self)
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(True)
        self.tree.setIndentation(12)
        self.tree.setUniformRowHeights(False)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setMouseTracking(True)
        self.tree.setItemDelegate(_TwoLineDelegate(self.tree))
        self.tree.setIconSize(QSize(20, 20))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 4)
        layout.setSpacing(6)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self._items: dict[str, QTreeWidgetItem] = {}
        self._inside_block = False
        self._level_source = None
        self._populate(registry)
        self.set_filter("")  # (the block ports stay hidden until a block is opened)
        self.blocks = BlocksCategory(self.tree, TYPE_ROLE, DOC_ROLE)
        self.search.textChanged.connect(self.set_filter)
        self.tree.itemDoubleClicked.connect(self._on_double_click)
        self.tree.itemEntered.connect(self._on_hover)
        self.tree.currentItemChanged.connect(lambda cur, _prev: self._on_hover(cur))
        self.search.returnPressed.connect(self._add_first_match)

    def _populate(self, registry) -> None:
        for category, specs in registry.by_category().items():
            if category == "unmapped":
                continue  # made by a partial import, never added by hand
            top = QTreeWidgetItem([CATEGORY_LABELS.get(category, category.title())])
            top.setIcon(0, icons.category_icon(category))
            top.setFlags(Qt.ItemFlag.ItemIsEnabled)
            top.setData(0, Qt.ItemDataRole.ToolTipRole, f"{len(specs)} layers")
            self.tree.addTopLevelItem(top)
            for spec in specs:
                item = QTreeWidgetItem([spec.type])
                item.setIcon(0, icons.category_icon(category))
                item.setData(0, TYPE_ROLE, spec.type)
                item.setData(0, DOC_ROLE, spec.doc)
                item.setData(0, Qt.ItemDataRole.ToolTipRole,
                             f"<b>{spec.type}</b> <span style='opacity:0.7'>({category})</span><br>{spec.doc}"
                             "<br><i>Drag onto the canvas, or double-click to add.</i>")
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                              | Qt.ItemFlag.ItemIsDragEnabled)
                top.addChild(item)
                self._items[spec.type] = item
            top.setExpanded(True)

    # ---- queries (also used by tests) ----------------------------------------------------------
    def item_for(self, type_name: str) -> QTreeWidgetItem | None:
        return self._items.get(type_name)

    def visible_types(self) -> list[str]:
        return [t for t, it in self._items.items() if not it.isHidden() and not it.parent().isHidden()]

    def mime_data_for(self, type_name: str) -> QMimeData:
        return self.tree.mimeData([self._items[type_name]])

    # ---- behaviour ----------------------------------------------------------------------------
    def follow_level(self, canvas_document) -> None:
        """Offer BlockInput / BlockOutput only while `canvas_document` (the canvas's CanvasDocument)
        shows the inside of a block: anywhere else they are an error waiting to happen."""
        self._level_source = canvas_document
        canvas_document.level_changed.connect(self._on_level)
        self._on_level()

    def _on_level(self) -> None:
        self.set_inside_block(not self._level_source.at_root)

    def set_inside_block(self, inside: bool) -> None:
        if inside != self._inside_block:
            self._inside_block = inside
            self.set_filter(self.search.text(), announce=False)

    def set_filter(self, text: str, announce: bool = True) -> None:
        words = text.lower().split()
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            category_text = top.text(0).lower()
            any_visible = False
            for j in range(top.childCount()):
                item = top.child(j)
                hay = f"{item.text(0)} {item.data(0, DOC_ROLE)} {category_text}".lower()
                show = all(w in hay for w in words) and (
                    self._inside_block or item.data(0, TYPE_ROLE) not in BLOCK_PORT_TYPES)
                item.setHidden(not show)
                any_visible |= show
            top.setHidden(not any_visible)
            if words and any_visible:
                top.setExpanded(True)
        if words and announce:
            n = len(self.visible_types())
            self.status_message.emit(f"{n} layer{'s' if n != 1 else ''} match “{text}”")

    def _add_first_match(self) -> None:
        visible = self.visible_types()
        if self.search.text().strip() and visible:
            self.add_requested.emit(visible[0])

    def refresh_blocks(self, root_graph, reload_library: bool = False) -> list[str]:
        """Refill the Blocks category; returns the block library files skipped, with why."""
        problems = self.blocks.refresh(root_graph, reload_library)
        if self.search.text():
            self.set_filter(self.search.text())
        return problems

    def _on_double_click(self, item: QTreeWidgetItem, _column: int) -> None:
        ref = item.data(0, BLOCK_ROLE)
        if ref:
            self.block_requested.emit(dict(ref))
            return
        type_name = item.data(0, TYPE_ROLE)
        if type_name:
            self.add_requested.emit(type_name)

    def _on_hover(self, item) -> None:
        if item is not None and item.data(0, BLOCK_ROLE):
            self.status_message.emit(f"Block {item.text(0)}: {first_sentence(item.data(0, DOC_ROLE) or '')}")
        elif item is not None and item.data(0, TYPE_ROLE):
            self.status_message.emit(f"{item.data(0, TYPE_ROLE)}: {first_sentence(item.data(0, DOC_ROLE))}")
