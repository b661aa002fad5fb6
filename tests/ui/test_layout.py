"""The main window's panel layout at the screen sizes people have (issue 13): the canvas keeps the
largest share, nothing in a dock is clipped, Reset Panel Layout brings back the first-run layout
(toolbar included), sizes dragged by hand come back after a restart, the window fits its screen.
Fresh settings each time (a temporary config folder)."""
from __future__ import annotations

import pyqtgraph as pg
import pytest
from PySide6.QtCore import QByteArray, QRect, Qt
from PySide6.QtWidgets import (QAbstractButton, QApplication, QComboBox, QDockWidget, QLabel, QLineEdit, QStyle,
                               QStyleOptionComboBox, QTabBar)

from studio.core.project import load_project
from studio.ui.document import Document
from studio.ui.main_window import MainWindow
from studio.ui.settings import app_settings

from .window_helpers import TEMPLATES, dialog_log, isolated  # noqa: F401

SIZES = [(1024, 700), (1280, 800), (1440, 900), (1920, 1080)]
SIDE_WIDTHS = range(260, 321)  # px, the palette's and the inspector's first width


def _min_share(w: int, h: int) -> tuple[float, int]:
    return (0.40, 400) if (w, h) == (1024, 700) else (0.45, 500)


def start(qtbot, size, restore: bool = True) -> MainWindow:
    """As `python -m studio` starts: the frame, the views, the saved layout (if any)."""
    window = MainWindow()
    qtbot.addWidget(window)
    window.resize(*size)
    window.attach(Document(load_project(TEMPLATES / "cnn_digits.json")))
    window.show()
    qtbot.waitExposed(window)
    if restore:
        window.restore_state()
    settle()
    return window


def settle() -> None:
    for _ in range(3):  # the dock layout, then the widgets' own layouts
        QApplication.processEvents()


def close(window: MainWindow) -> None:
    window.document.undo_stack.setClean()
    window.close()


def dock_rects(window: MainWindow) -> dict:
    """Per dock: its area, its tab group, and where it is on screen (None behind another tab)."""
    def shown(d):
        return d.isVisible() and not d.visibleRegion().isEmpty()

    return {name: (window.dockWidgetArea(d), d.isFloating(), sorted(t.objectName() for t in window.tabifiedDockWidgets(d)),
                   d.geometry() if shown(d) else None) for name, d in window.docks.items()}


def canvas_share(window: MainWindow) -> tuple[float, int]:
    vp = window.canvas.viewport()
    return vp.width() * vp.height() / (window.width() * window.height()), vp.width()


def clipped(window: MainWindow) -> list[str]:
    """What a person would see cut off in the docks, bringing every tab to the front in turn."""
    out = []
    for name, dock in window.docks.items():
        dock.raise_()
        settle()
        if not dock.isVisible():
            out.append(f"{name}: not visible")
            continue
        title = dock.fontMetrics().horizontalAdvance(dock.windowTitle())
        if dock.titleBarWidget() is None and title + 40 > dock.width():  # the float/close buttons
            out.append(f"{name}: title {dock.windowTitle()!r} wider than the dock ({dock.width()} px)")
        body = dock.widget()
        inner = body.widget() if hasattr(body, "takeWidget") else body  # a scroll dock's contents
        hint = inner.minimumSizeHint()
        if inner.width() < hint.width() or inner.height() < hint.height():
            out.append(f"{name}: {inner.width()}x{inner.height()} below its minimum {hint.width()}x{hint.height()}")
        if inner is not body and body.viewport().width() < hint.width():  # a scroll dock cuts off its right side
            out.append(f"{name}: contents need {hint.width()} px, the dock shows {body.viewport().width()} px")
        for widget in inner.findChildren(QAbstractButton) + inner.findChildren(QLabel):
            if (not widget.isVisible() or (isinstance(widget, QLabel) and widget.wordWrap())
                    or isinstance(widget.parent(), QLineEdit)):  # a line edit's own clear button
                continue
            need = widget.minimumSizeHint().width()
            if widget.width() < need:
                text = widget.text() if hasattr(widget, "text") else ""
                out.append(f"{name}: {type(widget).__name__} {text!r} {widget.width()} px < {need} px")
        for combo in inner.findChildren(QComboBox):  # its shown choice whole ("CrossEntropyl" was cut)
            if combo.isVisible() and not combo.isEditable() and combo.currentText():
                field, need = combo_room(combo)
                if field < need:
                    out.append(f"{name}: combo box {combo.currentText()!r} shows {field} px of the {need} px it needs")
        for view in inner.findChildren(pg.GraphicsView):
            if not view.isVisible():
                continue
            for item in view.scene().items():
                if isinstance(item, pg.PlotItem) and item.titleLabel.isVisible() and item.titleLabel.text:
                    text_w = item.titleLabel.item.boundingRect().width()
                    if text_w > item.size().width() + 1:
                        out.append(f"{name}: plot title {item.titleLabel.text[:40]!r} {text_w:.0f} px in a "
                                   f"{item.size().width():.0f} px plot")
    for bar in window.findChildren(QTabBar):
        if not bar.isVisible():
            continue
        if sum(bar.tabRect(i).width() for i in range(bar.count())) > bar.width() and not bar.usesScrollButtons():
            out.append(f"tab bar {[bar.tabText(i) for i in range(bar.count())]}: tabs wider than the bar")
        for i in range(bar.count()):  # a tab is as wide as its name needs (a bar out of room scrolls):
            # squeezed, Qt cuts the name ("Cu…" for Curves in a real 1024 px window)
            if bar.tabRect(i).width() < bar.tabSizeHint(i).width():
                out.append(f"tab {bar.tabText(i)!r}: {bar.tabRect(i).width()} px of the "
                           f"{bar.tabSizeHint(i).width()} its name needs")
    return out


def combo_room(combo) -> tuple[int, int]:
    """(px of a combo box's text field, px its current text needs)."""
    opt = QStyleOptionComboBox()
    combo.initStyleOption(opt)
    field = combo.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, opt,
                                         QStyle.SubControl.SC_ComboBoxEditField, combo)
    icon = combo.iconSize().width() + 4 if not combo.itemIcon(combo.currentIndex()).isNull() else 0
    return field.width() - icon, combo.fontMetrics().horizontalAdvance(combo.currentText())


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_the_canvas_gets_the_room(qtbot, isolated, dialog_log, size):
    window = start(qtbot, size)
    share, width = canvas_share(window)
    least_share, least_width = _min_share(*size)
    assert share >= least_share and width >= least_width, f"canvas {width} px wide, {share:.0%} of the window"
    sides = [d for d in (window.docks["palette"], window.docks["inspector"]) if d.isVisible()]
    assert sides and all(d.width() in SIDE_WIDTHS for d in sides), \
        [d.width() for d in sides]
    bottom = window.docks["problems"]
    assert bottom.isVisible() and bottom.height() <= 0.34 * window.height(), bottom.height()
    assert window.toolbar.isVisible()
    front = dock_rects(window)
    assert front["palette"][3] is not None and front["problems"][3] is not None  # the layers, the problems
    problems = clipped(window)
    assert not problems, "\n".join(problems)
    close(window)


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_reset_panel_layout_is_the_first_run_layout(qtbot, isolated, dialog_log, size):
    window = start(qtbot, size)
    first = dock_rects(window)
    window.docks["inspector"].hide()
    window.docks["summary"].setFloating(True)
    window.toolbar.hide()
    window.resizeDocks([window.docks["palette"]], [420], Qt.Orientation.Horizontal)
    window.resizeDocks([window.docks["problems"]], [window.height() // 2], Qt.Orientation.Vertical)
    settle()
    assert dock_rects(window) != first
    window.actions_.reset_layout.trigger()
    settle()
    assert window.toolbar.isVisible()
    assert dock_rects(window) == first
    assert canvas_share(window)[0] >= _min_share(*size)[0]
    problems = clipped(window)
    assert not problems, "\n".join(problems)
    close(window)


def test_sizes_dragged_by_hand_come_back_after_a_restart(qtbot, isolated, dialog_log):
    first = start(qtbot, (1440, 900))
    palette, problems = first.docks["palette"], first.docks["problems"]
    fresh = dock_rects(first)
    width, height = palette.width(), problems.height()
    first.resizeDocks([palette], [width + 40], Qt.Orientation.Horizontal)
    first.resizeDocks([problems], [height + 60], Qt.Orientation.Vertical)
    first.docks["summary"].raise_()
    settle()
    dragged = dock_rects(first)
    assert palette.width() == width + 40 and first.docks["summary"].height() > height
    assert dragged != fresh
    close(first)
    second = MainWindow()
    qtbot.addWidget(second)
    second.restore_geometry()  # as the app starts: geometry, the views, show, the saved layout
    second.resize(1440, 900)  # (the offscreen screen is 800x600: restoreGeometry fits the window into it)
    second.attach(Document(load_project(TEMPLATES / "cnn_digits.json")))
    second.show()
    qtbot.waitExposed(second)
    second.restore_state()
    settle()
    assert dock_rects(second) == dragged
    assert dragged["summary"][3] is not None and dragged["problems"][3] is None  # the tab in front too
    close(second)


def test_starting_training_does_not_move_the_docks(qtbot, isolated, dialog_log):
    window = start(qtbot, (1440, 900))
    before = dock_rects(window)
    share = canvas_share(window)
    window.training.show_training_layout()  # what Train does to the panels
    settle()
    after = dock_rects(window)
    assert after["curves"][3] is not None and after["training"][3] is not None  # in front
    assert canvas_share(window) == share
    moved = {n for n in before if before[n][3] is not None and after[n][3] is not None and before[n] != after[n]}
    assert not moved, moved
    swapped = {n for n in before if (before[n][3] is None) != (after[n][3] is None)}  # tabs brought forward
    assert swapped <= {"inspector", "training", "problems", "curves"}, swapped
    close(window)


@pytest.mark.parametrize("screen", [QRect(0, 0, 1024, 700), QRect(0, 0, 1440, 900), QRect(0, 24, 1920, 1056),
                                    QRect(1920, 0, 2560, 1440)],
                         ids=lambda r: f"{r.width()}x{r.height()}")
def test_the_first_window_fits_its_screen(screen):
    from studio.ui import layout

    rect = layout.first_geometry(screen)
    assert screen.contains(rect) and rect.center() == screen.center()
    assert rect.width() == min(1440, screen.width() - 16)  # the default size, or the screen's less a frame


@pytest.mark.fault("GUI", "the saved panel layout is unreadable, or from an older layout version",
                   "the first-run layout; nothing fails")
@pytest.mark.parametrize("state", [QByteArray(b"\x00garbage\xff" * 8), "not bytes"], ids=["garbage", "wrong type"])
def test_an_unreadable_saved_layout_gives_the_first_run_layout(qtbot, isolated, dialog_log, state):
    fresh = start(qtbot, (1440, 900))
    expected = dock_rects(fresh)
    close(fresh)
    settings = app_settings()
    settings.setValue("window/state", state)
    settings.sync()
    window = start(qtbot, (1440, 900))
    assert dock_rects(window) == expected
    close(window)


def test_every_dock_is_in_the_panels_menu_once(qtbot, isolated, dialog_log):
    window = start(qtbot, (1440, 900), restore=False)
    titles = [a.text() for a in window.panels_menu.actions()]
    assert sorted(titles) == sorted(d.windowTitle() for d in window.docks.values())
    assert len(window.docks) == len(window.findChildren(QDockWidget))
    close(window)
