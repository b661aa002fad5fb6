"""Value widgets in scrollable forms (spin boxes, combo boxes, sliders) ignore the mouse wheel unless
they have the keyboard focus: a wheel over a form scrolls it instead of changing the value under
the pointer (batch size 32 -> 47 while reading down the Training panel).

    guard_wheel(form)   # once the form's widgets exist; again after a form rebuilds its editors

The widgets take focus by click or Tab only (Qt.StrongFocus, not WheelFocus). An unfocused one's
wheel event goes to the enclosing scroll area's viewport instead (QApplication would pass an ignored
event on to the parents only when it came from the window system, not when it was sent)."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import (QAbstractScrollArea, QAbstractSlider, QAbstractSpinBox, QApplication, QComboBox,
                               QScrollBar, QWidget)

VALUE_WIDGETS = (QAbstractSpinBox, QComboBox, QAbstractSlider)


class _WheelGuard(QObject):
    def eventFilter(self, obj, event) -> bool:
        if event.type() != QEvent.Type.Wheel or not isinstance(obj, QWidget) or obj.hasFocus():
            return False
        area = obj.parentWidget()
        while area is not None and not isinstance(area, QAbstractScrollArea):
            area = area.parentWidget()
        if area is None:
            event.ignore()  # nothing to scroll: a window-system event goes on to the parents
            return True
        viewport = area.viewport()
        pos = QPointF(viewport.mapFromGlobal(event.globalPosition().toPoint()))
        QApplication.sendEvent(viewport, QWheelEvent(
            pos, event.globalPosition(), event.pixelDelta(), event.angleDelta(), event.buttons(),
            event.modifiers(), event.phase(), event.inverted(), event.source()))
        return True


_guard: _WheelGuard | None = None


def _the_guard() -> _WheelGuard:
    global _guard
    if _guard is None:
        _guard = _WheelGuard(QApplication.instance())  # one filter for every form, owned by the app
    return _guard


def guard_wheel(root: QWidget) -> None:
    guard = _the_guard()
    widgets = [root] + root.findChildren(QWidget)
    for w in widgets:
        if isinstance(w, VALUE_WIDGETS) and not isinstance(w, QScrollBar):
            w.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            w.removeEventFilter(guard)  # installing twice would call it twice
            w.installEventFilter(guard)
