"""Issue 13, around the training panel: the plots follow a live theme switch, the canvas starts in
the remembered theme, plot titles and legends are laid out whole at the default size, and the
shortcuts dialog is a table of action names and keys. Clicks on the toolbar and the menus."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QKeySequence
from PySide6.QtWidgets import QTableWidget

from studio.ui.canvas import style
from studio.ui.theme import apply_theme, colors

from .window_helpers import dialog_log, isolated, open_window, template_window  # noqa: F401


def toolbar_click(qtbot, win, action) -> None:
    qtbot.mouseClick(win.toolbar.widgetForAction(action), Qt.MouseButton.LeftButton)


def plot_colours(ui) -> dict:
    curves = ui.curves
    axis = curves.loss_plot.getAxis("bottom")
    return {"curves": curves.plots.backgroundBrush().color().name(),
            "norms": ui.norms.plots.backgroundBrush().color().name(),
            "axis": axis.pen().color().name(), "ticks": axis.textPen().color().name(),
            "smooth": curves.smooth_item.opts["pen"].color().name()}


def test_switching_theme_restyles_the_plots_at_once(qtbot, isolated, dialog_log):
    win = template_window(qtbot, size=(1440, 900))
    ui = win.training
    dark, light = colors("dark"), colors("light")
    assert plot_colours(ui) == {"curves": dark["base"], "norms": dark["base"], "axis": dark["border"],
                                "ticks": dark["dim"], "smooth": QColor(dark["accent"]).name()}
    toolbar_click(qtbot, win, win.actions_.toggle_theme)
    assert plot_colours(ui) == {"curves": light["base"], "norms": light["base"], "axis": light["border"],
                                "ticks": light["dim"], "smooth": QColor(light["accent"]).name()}
    assert light["text"] in ui.curves.loss_plot.titleLabel.text  # the legend line, re-coloured
    assert win.canvas.canvas_scene.theme is style.LIGHT


def test_the_canvas_starts_in_the_remembered_theme(qtbot, isolated, dialog_log):
    apply_theme("light")  # what app.py does with the theme saved at the last exit, before the window
    win = template_window(qtbot)
    assert win.canvas.canvas_scene.theme is style.LIGHT
    assert plot_colours(win.training)["curves"] == colors("light")["base"]


def test_plot_titles_and_legends_are_laid_out_whole(qtbot, isolated, dialog_log):
    win = template_window(qtbot, size=(1440, 900))
    ui = win.training
    # a narrow Curves panel: the Problems dock beside it in the bottom row takes the rest
    win.resizeDocks([win.docks["problems"], ui.docks["curves"]], [2000, 330], Qt.Orientation.Horizontal)
    qtbot.waitUntil(lambda: ui.curves.plots.width() < 360, timeout=5000)
    for dock, plot in (("curves", ui.curves.loss_plot), ("curves", ui.curves.metric_plot),
                       ("curves", ui.curves.lr_plot), ("norms", ui.norms.grad_plot)):
        ui.docks[dock].raise_()  # the plot docks share one tab group: a hidden tab is not laid out
        label = plot.titleLabel

        def laid_out(lb=label) -> list:
            """What is cut off of the title (nothing once its width and then its height settled)."""
            shown, room, text_width = lb.itemRect(), lb.rect(), lb.item.document().idealWidth()
            return [why for why, bad in (
                ("wrap width", lb.item.textWidth() != room.width()),
                ("wider than its room", text_width > room.width() + 0.5),
                ("sticks out", shown.left() < room.left() - 0.5 or shown.right() > room.right() + 0.5),
                ("lines cut off", shown.height() > room.height() + 0.5)) if bad]

        # the height follows the wrap one layout pass later: wait for both, then nothing may be cut
        qtbot.waitUntil(lambda: not laid_out(), timeout=5000)
        assert not laid_out(), (label.text, laid_out(), label.itemRect(), label.rect())


def test_shortcuts_dialog_is_a_table_of_names_and_keys(qtbot, isolated, dialog_log):
    win = template_window(qtbot)
    form = win.training.panel.form
    qtbot.mouseClick(form.epochs.lineEdit(), Qt.MouseButton.LeftButton)
    form.epochs.selectAll()
    qtbot.keyClicks(form.epochs, "12")
    qtbot.keyClick(form.epochs, Qt.Key.Key_Return)
    assert "Set epochs" in win.actions_.undo.text()  # the undo action's own text names the step
    win.actions_.shortcuts.trigger()  # Help > Keyboard Shortcuts
    qtbot.waitUntil(lambda: win.findChild(QTableWidget) is not None, timeout=5000)
    table = win.findChild(QTableWidget)
    assert table.window().isVisible()
    assert table.columnCount() == 2
    assert [table.horizontalHeaderItem(c).text() for c in range(2)] == ["Action", "Shortcut"]
    rows = {table.item(r, 0).text(): table.item(r, 1).text() for r in range(table.rowCount())}
    assert rows["Undo"] == QKeySequence(QKeySequence.StandardKey.Undo).toString(QKeySequence.SequenceFormat.NativeText)
    assert "Redo" in rows and not any("Set epochs" in name for name in rows), rows
    assert rows["Save"] and rows["Quick add a layer (on the canvas)"] == "Tab"
    # both columns are shown whole: the names column is at least as wide as its longest name
    metrics = table.fontMetrics()
    longest = max(metrics.horizontalAdvance(n) for n in rows)
    assert table.columnWidth(0) >= longest
    table.window().close()
    win.document.undo_stack.setClean()


def title_pixels(curves, plot) -> int:
    """Light pixels (text, in the dark theme) drawn where the plot's title is."""
    view = curves.plots
    rect = view.mapFromScene(plot.titleLabel.sceneBoundingRect()).boundingRect()
    image = view.grab(rect).toImage()
    return sum(1 for x in range(image.width()) for y in range(image.height())
               if image.pixelColor(x, y).lightness() > 150)


def test_plot_titles_are_drawn_after_a_run_starts(qtbot, isolated, dialog_log):
    win = template_window(qtbot, size=(1440, 900))
    ui = win.training
    ui.docks["curves"].raise_()
    qtbot.waitUntil(lambda: ui.panel.train_button.isEnabled(), timeout=60_000)
    assert title_pixels(ui.curves, ui.curves.loss_plot) > 20
    with qtbot.waitSignal(ui.session.ended, timeout=60_000):
        qtbot.mouseClick(ui.panel.train_button, Qt.MouseButton.LeftButton)
    for plot in (ui.curves.loss_plot, ui.curves.metric_plot, ui.curves.lr_plot):
        assert title_pixels(ui.curves, plot) > 20, plot.titleLabel.text  # the new text, not an empty cache


def test_applying_the_theme_in_use_restyles_nothing(qtbot, isolated):
    """Re-styling the application re-polishes every live widget: the same theme again is a no-op,
    another theme restyles them."""
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QLabel

    class StyleChanges(QObject):
        count = 0

        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.StyleChange:
                self.count += 1
            return False

    label = QLabel("x")
    qtbot.addWidget(label)
    label.show()
    seen = StyleChanges()
    label.installEventFilter(seen)
    apply_theme("dark")
    assert seen.count == 0
    apply_theme("light")
    assert seen.count > 0
    before = seen.count
    apply_theme("light")
    assert seen.count == before
    apply_theme("dark")
    assert seen.count > before
