"""Quick add: a search popup (Tab or double-click on empty canvas, or a wire dropped on empty
canvas) listing node types with their category and one-line doc; Enter adds the chosen one."""
from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QPalette
from PySide6.QtWidgets import (QApplication, QFrame, QLabel, QLineEdit, QListWidget, QListWidgetItem,
                               QStyle, QStyledItemDelegate, QVBoxLayout)

from ..block_model import BLOCK_PORT_TYPES
from . import style

TYPE_ROLE = Qt.UserRole
CATEGORY_ROLE = Qt.UserRole + 1
DOC_ROLE = Qt.UserRole + 2


def first_sentence(doc: str) -> str:
    doc = " ".join(doc.split())
    for stop in (". ", ": "):
        if stop in doc:
            return doc.split(stop, 1)[0] + ("." if stop == ". " else "")
    return doc


def rank(spec, query: str) -> int | None:
    """Lower is better; None: no match."""
    if not query:
        return 10
    name, q = spec.type.lower(), query.lower()
    if name == q:
        return 0
    if name.startswith(q):
        return 1
    if q in name:
        return 2
    it = iter(name)
    if all(ch in it for ch in q):  # the letters in order: "cv2" finds Conv2d
        return 3
    if q in spec.category.lower():
        return 4
    if q in spec.doc.lower():
        return 5
    return None


class _Delegate(QStyledItemDelegate):
    """Two lines per type: the name and its category, then the one-line doc."""

    def __init__(self, popup) -> None:
        super().__init__(popup)
        self.popup = popup

    def sizeHint(self, option, index) -> QSize:
        return QSize(200, 40)

    def paint(self, painter, option, index) -> None:
        theme = self.popup.theme
        painter.save()
        selected = bool(option.state & QStyle.State_Selected)
        if selected:
            bg = QColor(theme.accent)
            bg.setAlpha(70)
            painter.fillRect(option.rect, bg)
        r = option.rect.adjusted(10, 3, -10, -3)
        category = index.data(CATEGORY_ROLE)
        painter.setPen(Qt.NoPen)
        painter.setBrush(theme.category_swatch(category))
        painter.drawRoundedRect(QRect(r.left(), r.top() + 5, 4, 10), 2, 2)
        name_font = style.Fonts.get("title")
        painter.setFont(name_font)
        painter.setPen(theme.text)
        top = QRect(r.left() + 10, r.top(), r.width() - 10, 18)
        painter.drawText(top, Qt.AlignVCenter | Qt.AlignLeft, index.data(TYPE_ROLE))
        painter.setFont(style.Fonts.get("param"))
        painter.setPen(theme.category_swatch(category))
        painter.drawText(top, Qt.AlignVCenter | Qt.AlignRight, category)
        painter.setPen(theme.text_muted)
        bottom = QRect(r.left() + 10, r.top() + 18, r.width() - 10, 16)
        doc = QFontMetrics(style.Fonts.get("param")).elidedText(index.data(DOC_ROLE), Qt.ElideRight, bottom.width())
        painter.drawText(bottom, Qt.AlignVCenter | Qt.AlignLeft, doc)
        painter.restore()


class QuickAddPopup(QFrame):
    chosen = Signal(str)  # a node type name
    dismissed = Signal()  # closed without a choice
    closed = Signal()  # closed either way

    def __init__(self, registry, theme: style.Theme, parent=None, need: str | None = None, *,
                 inside_block: bool = False) -> None:
        """need: "inputs" or "outputs" to list only types that have some (a wire waits to connect).
        inside_block: the canvas shows a block's definition, so its ports (BlockInput, BlockOutput)
        are offered; anywhere else they are hidden, as in the palette."""
        super().__init__(parent)
        self.setObjectName("QuickAdd")
        self.theme = theme
        self.need = need
        self.specs = [s for category, specs in registry.by_category().items() for s in specs
                      if (need is None or getattr(s, need)) and category != "unmapped"  # made by imports only
                      and (inside_block or s.type not in BLOCK_PORT_TYPES)]
        self.setFrameShape(QFrame.StyledPanel)
        self.setAutoFillBackground(True)
        pal = self.palette()
        pal.setColor(QPalette.Window, theme.card)
        pal.setColor(QPalette.Base, theme.card)
        pal.setColor(QPalette.Text, theme.text)
        pal.setColor(QPalette.WindowText, theme.text)
        self.setPalette(pal)
        self.setStyleSheet(f"#QuickAdd {{ border: 1px solid {theme.accent.name()}; border-radius: 6px;"
                           f" background: {theme.card.name()}; }}"
                           f"QLineEdit {{ padding: 5px; border: 1px solid {theme.card_border.name()};"
                           f" border-radius: 4px; background: {theme.background.name()}; color: {theme.text.name()}; }}"
                           f"QListWidget {{ border: none; background: {theme.card.name()}; outline: none; }}"
                           f"QScrollBar:vertical {{ background: {theme.card.name()}; width: 8px; }}"
                           f"QScrollBar::handle:vertical {{ background: {theme.card_border.name()};"
                           " border-radius: 4px; min-height: 24px; }"
                           "QScrollBar::add-line, QScrollBar::sub-line { height: 0; }")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search layers…")
        self.list = QListWidget(self)
        self.list.setItemDelegate(_Delegate(self))
        self.list.setFocusPolicy(Qt.NoFocus)
        self.list.setUniformItemSizes(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        # an empty list says why and what to try, instead of a blank box
        self.empty = QLabel(self)
        self.empty.setWordWrap(True)
        self.empty.setTextFormat(Qt.PlainText)  # it quotes what was typed: "<b>" is shown, not rendered
        self.empty.setStyleSheet(f"color: {theme.text_muted.name()}; padding: 8px 4px;")
        self.empty.hide()
        layout.addWidget(self.search)
        layout.addWidget(self.list)
        layout.addWidget(self.empty)
        self.resize(340, 330)
        self.search.textChanged.connect(self.refilter)
        self.search.installEventFilter(self)
        self.list.itemActivated.connect(lambda item: self._choose(item))
        self.list.itemClicked.connect(lambda item: self._choose(item))
        QApplication.instance().focusChanged.connect(self._focus_changed)
        self._done = False
        self.refilter("")

    # ---- list ---------------------------------------------------------------------------------
    def refilter(self, text: str) -> None:
        ranked = [(r, i, s) for i, s in enumerate(self.specs) if (r := rank(s, text.strip())) is not None]
        ranked.sort(key=lambda t: (t[0], t[1]))
        self.list.clear()
        for _, _, spec in ranked:
            item = QListWidgetItem(spec.type)
            item.setData(TYPE_ROLE, spec.type)
            item.setData(CATEGORY_ROLE, spec.category)
            item.setData(DOC_ROLE, first_sentence(spec.doc))
            item.setToolTip(spec.doc)
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)
        found = bool(self.list.count())
        self.list.setVisible(found)
        self.empty.setVisible(not found)
        if not found:
            what = "layer that can take this wire" if self.need else "layer"
            self.empty.setText(f"No {what} matches \u201c{text.strip()}\u201d. Try part of a name (\u201cconv\u201d), "
                               "its letters in order (\u201ccv2\u201d) or a category (\u201cpooling\u201d); "
                               "Backspace widens the search.")
        rows = min(max(self.list.count(), 1), 8)
        body = rows * 40 if found else self.empty.heightForWidth(self.width() - 12)
        self.resize(self.width(), 6 + 30 + 4 + body + 6 + 2)

    def types(self) -> list[str]:
        return [self.list.item(i).data(TYPE_ROLE) for i in range(self.list.count())]

    # ---- showing ------------------------------------------------------------------------------
    def popup_at(self, pos: QPoint) -> None:
        parent = self.parentWidget()
        x = min(max(4, pos.x()), max(4, parent.width() - self.width() - 4))
        y = min(max(4, pos.y()), max(4, parent.height() - self.height() - 4))
        self.move(x, y)
        self.show()
        self.raise_()
        self.search.setFocus(Qt.PopupFocusReason)

    def _choose(self, item) -> None:
        if item is None or self._done:
            return
        self._done = True
        name = item.data(TYPE_ROLE)
        self.close_popup()
        self.chosen.emit(name)

    def close_popup(self) -> None:
        if not self.isVisible() and self._done:
            return
        try:
            QApplication.instance().focusChanged.disconnect(self._focus_changed)
        except (RuntimeError, TypeError):
            pass
        was_done = self._done
        self._done = True
        self.hide()
        self.deleteLater()
        self.closed.emit()
        if not was_done:
            self.dismissed.emit()

    def _focus_changed(self, old, new) -> None:
        if new is not None and new is not self and not self.isAncestorOf(new):
            self.close_popup()

    def eventFilter(self, obj, event) -> bool:
        if obj is self.search and event.type() == event.Type.KeyPress:
            key = event.key()
            if key in (Qt.Key_Down, Qt.Key_Up, Qt.Key_PageDown, Qt.Key_PageUp):
                step = {Qt.Key_Down: 1, Qt.Key_Up: -1, Qt.Key_PageDown: 8, Qt.Key_PageUp: -8}[key]
                row = min(max(0, self.list.currentRow() + step), self.list.count() - 1)
                self.list.setCurrentRow(row)
                return True
            if key in (Qt.Key_Return, Qt.Key_Enter):
                self._choose(self.list.currentItem())
                return True
            if key == Qt.Key_Escape:
                self.close_popup()
                return True
        return super().eventFilter(obj, event)
