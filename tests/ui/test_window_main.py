"""The main window: docks, palette (search, drag data, drop, double-click), problems and analyzer
panels, title, theme and remembered layout."""
from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from studio.ui.commands import AddNode
from studio.ui.palette import NODE_MIME
from studio.ui.settings import app_settings
from studio.ui.theme import colors, current_theme

from .window_helpers import click_item, dialog_log, isolated, open_window, template_window, window  # noqa: F401


def test_opens_a_template_with_every_panel(window):
    assert window.windowTitle().startswith("CNN on digits — cnn_digits.json")
    assert not window.isWindowModified()
    for name in ("palette", "inspector", "problems", "summary"):
        assert window.docks[name].isVisible() or window.docks[name].isVisibleTo(window)
    assert window.dockWidgetArea(window.docks["palette"]) == Qt.DockWidgetArea.LeftDockWidgetArea
    # below the palette at 1400 px wide (one column keeps the canvas wide; tests/ui/test_layout.py)
    assert window.dockWidgetArea(window.docks["inspector"]) == Qt.DockWidgetArea.LeftDockWidgetArea
    assert window.dockWidgetArea(window.docks["summary"]) == Qt.DockWidgetArea.BottomDockWidgetArea
    assert set(window.palette.visible_types()) >= {"Input", "Conv2d", "Linear", "ReLU", "LSTM"}
    assert window.status_problems.text() == "No problems"
    menus = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert menus == ["File", "Edit", "View", "Graph", "Help"]


def test_title_marks_unsaved_changes(window):
    doc = window.document
    doc.push(AddNode(doc.graph, "ReLU", (0, 400)))
    assert window.isWindowModified()
    assert window.windowTitle().endswith("cnn_digits.json[*]")
    doc.undo_stack.undo()
    assert not window.isWindowModified()


def test_palette_search_filters_by_name_and_doc(window, qtbot):
    palette = window.palette
    qtbot.keyClicks(palette.search, "conv")
    assert set(palette.visible_types()) == {"Conv1d", "Conv2d", "ConvTranspose2d"}
    palette.search.clear()
    qtbot.keyClicks(palette.search, "probabilities")  # only in Softmax's description
    assert palette.visible_types() == ["Softmax"]
    palette.search.clear()
    qtbot.keyClicks(palette.search, "no such layer")
    assert palette.visible_types() == []
    palette.search.clear()
    assert len(palette.visible_types()) == len(palette._items) - 2  # (BlockInput/Output: inside a block)


def test_palette_drag_data_and_drop_on_canvas(window):
    mime = window.palette.mime_data_for("Conv2d")
    assert mime.hasFormat(NODE_MIME)
    assert bytes(mime.data(NODE_MIME)).decode("utf-8") == "Conv2d"
    doc, canvas = window.document, window.canvas
    before = set(doc.graph.nodes)
    pos = QPointF(canvas.viewport().width() / 2, canvas.viewport().height() - 60)
    enter = QDragEnterEvent(pos.toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(canvas.viewport(), enter)
    assert enter.isAccepted()
    drop = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(canvas.viewport(), drop)
    added = set(doc.graph.nodes) - before
    assert len(added) == 1
    node = doc.graph.node(added.pop())
    assert node.type == "Conv2d"
    dropped_at = canvas.mapToScene(pos.toPoint())
    assert abs(node.pos[0] - dropped_at.x()) < 200 and abs(node.pos[1] - dropped_at.y()) < 200
    doc.undo_stack.undo()
    assert set(doc.graph.nodes) == before


def test_palette_double_click_adds_at_view_centre(window, qtbot):
    palette, doc, canvas = window.palette, window.document, window.canvas
    item = palette.item_for("GELU")
    palette.tree.scrollToItem(item)
    rect = palette.tree.visualItemRect(item)
    before = set(doc.graph.nodes)
    click_item(palette.tree, rect.center(), double=True)
    added = set(doc.graph.nodes) - before
    assert len(added) == 1
    node_id = added.pop()
    assert doc.graph.node(node_id).type == "GELU"
    centre = canvas.mapToScene(canvas.viewport().rect().center())
    x, y = doc.graph.node(node_id).pos
    assert abs(x - centre.x()) < 250 and abs(y - centre.y()) < 250
    assert doc.selection == [node_id]


def test_problems_click_selects_and_centres_the_node(window, qtbot):
    doc, canvas = window.document, window.canvas
    doc.push(AddNode(doc.graph, "Linear", (3000, 2000), node_id="stray"))  # nothing wired into it
    panel = window.problems
    row = panel.row_of("stray")
    assert row >= 0
    assert "stray" in panel.model.problems[row].message
    assert "error" in window.status_problems.text()
    canvas.centerOn(-3000, -3000)
    window.show_problems()
    rect = panel.view.visualRect(panel.model.index(row))
    click_item(panel.view, rect.center())
    assert doc.selection == ["stray"]
    centre = canvas.mapToScene(canvas.viewport().rect().center())
    item = canvas.canvas_scene.nodes["stray"].sceneBoundingRect().center()
    assert abs(centre.x() - item.x()) < 5 and abs(centre.y() - item.y()) < 5


def test_analyzer_table_lists_every_node_with_totals(window, qtbot):
    model = window.summary.model
    qtbot.waitUntil(lambda: not model.counting, timeout=60_000)
    doc = window.document
    assert model.rowCount() == len(doc.graph) + 1
    ids = [model.index(r, 0).data() for r in range(len(doc.graph))]
    assert ids == doc.analysis.order
    conv = ids.index("conv1")
    assert model.index(conv, 2).data() == "[16, 8, 8]"
    assert model.index(conv, 3).data() == f"{1 * 16 * 9 + 16:,}"
    total = model.index(len(doc.graph), 3).data()
    assert total == f"{model.total_params:,}" and model.total_params > 0
    from studio.core.summary import summarize

    assert model.total_params == summarize(doc.graph, doc.analysis).total_params
    assert window.status_size.text() == f"{len(doc.graph)} nodes · {model.total_params:,} parameters"


def test_analyzer_table_follows_edits(window, qtbot):
    from studio.ui.commands import SetParam

    model, doc = window.summary.model, window.document
    doc.push(SetParam(doc.graph, "input", "shape", [1, 16, 16]))
    row = [model.index(r, 0).data() for r in range(model.rowCount())].index("conv1")
    assert model.index(row, 2).data() == "[16, 16, 16]"


def test_theme_switch_is_remembered(window):
    window.actions_.theme_light.trigger()
    assert current_theme() == "light"
    assert colors("light")["window"] in QApplication.instance().styleSheet()
    assert app_settings().value("theme") == "light"
    window.actions_.theme_dark.trigger()
    assert current_theme() == "dark" and app_settings().value("theme") == "dark"


def test_dock_layout_is_remembered(qtbot, isolated, dialog_log):
    first = template_window(qtbot)
    first.docks["inspector"].hide()
    first.close()
    assert not first.isVisible()
    second = template_window(qtbot)
    assert second.docks["inspector"].isVisible()  # default layout until restored
    second.restore_state()
    assert not second.docks["inspector"].isVisible()
    second.actions_.reset_layout.trigger()
    assert second.docks["inspector"].isVisible()


def test_shortcuts_reach_the_canvas(window, qtbot):
    doc, canvas = window.document, window.canvas
    canvas.setFocus()
    doc.set_selection(["relu1"])
    canvas.canvas_scene.select_only(["relu1"])
    n = len(doc.graph)
    QTest.keyClick(canvas, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert len(doc.graph) == n + 1
    QTest.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(doc.graph) == n
