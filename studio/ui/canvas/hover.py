"""What cards, ports and wires share under the mouse: they show it (`_hover`, read by their paint)
and build their tooltip only then.

Opening a large graph makes tens of thousands of items, and an edit can change the text of a
thousand tooltips that nobody will read. So an item only says that its text changed
(`tooltip_changed`); the text is built when the mouse enters the item (Qt asks for a tooltip
only after that) or when `toolTip()` is read."""
from __future__ import annotations


class HoverTooltip:
    """A mixin for QGraphicsItem subclasses (put it first among the bases). The subclass writes
    `refresh_tooltip`, which must set the text with `setToolTip` and clear `_tip_stale`.
    `hover_cursor` (a Qt.CursorShape), if the class has one, is set on the item when it is first
    hovered: setting a cursor costs more than all of a port's other settings together, and Qt shows
    an item's cursor only while the mouse is over it anyway."""

    _hover = False  # under the mouse (class defaults: nothing per item until it changes)
    _tip_stale = True  # the tooltip text is not built yet for what the item shows
    hover_cursor = None

    def refresh_tooltip(self) -> None:
        raise NotImplementedError

    def tooltip_changed(self) -> None:
        """What the tooltip would say changed: rebuild it now if it may be on screen, else later."""
        if self._hover:
            self.refresh_tooltip()
        else:
            self._tip_stale = True

    def toolTip(self) -> str:
        """The text, built first if stale (for Python readers: Qt reads it only after a hover)."""
        if self._tip_stale:
            self.refresh_tooltip()
        return super().toolTip()

    def hoverEnterEvent(self, event) -> None:
        if self._tip_stale:
            self.refresh_tooltip()
        if self.hover_cursor is not None and not self.hasCursor():
            self.setCursor(self.hover_cursor)
        self._hover = True
        self.update()

    def hoverLeaveEvent(self, event) -> None:
        self._hover = False
        self.update()
