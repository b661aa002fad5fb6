"""Editing on the canvas with mouse and keys: quick add, select (click, rubber band, Ctrl+A),
move, delete, copy/cut/paste/duplicate with wires, zoom about the cursor, pan, selection sync."""
from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from studio.core.graph import Edge

from .canvas_helpers import (canvas, card_pos, click, double_click, drag, empty_pos,  # noqa: F401
                             port_pos, snapshot, template_view)


def test_tab_quick_add_typing_and_enter(canvas, qtbot):
    view = canvas
    at = QPoint(500, 300)
    QTest.mouseMove(view.viewport(), at)
    QTest.keyClick(view, Qt.Key_Tab)
    popup = view.quick_add
    assert popup is not None and popup.isVisible() and popup.search.hasFocus()
    QTest.keyClicks(popup.search, "batchnorm")
    assert popup.types()[:2] == ["BatchNorm1d", "BatchNorm2d"]
    QTest.keyClick(popup.search, Qt.Key_Down)
    QTest.keyClick(popup.search, Qt.Key_Return)
    qtbot.waitUntil(lambda: "batchnorm2d1" in view.document.graph)
    assert view.quick_add is None
    assert view.document.selection == ["batchnorm2d1"]
    card = view.canvas_scene.nodes["batchnorm2d1"].sceneBoundingRect()
    assert view.mapToScene(view.viewport().rect()).boundingRect().contains(card)  # it lands in view
    # Escape closes it without adding anything
    QTest.keyClick(view, Qt.Key_Tab)
    QTest.keyClick(view.quick_add.search, Qt.Key_Escape)
    assert view.quick_add is None and len(view.document.graph) == 1


def test_double_click_on_empty_canvas_opens_quick_add_there(canvas, qtbot):
    view = canvas
    at = QPoint(300, 200)
    double_click(view.viewport(), at)
    popup = view.quick_add
    assert popup is not None
    assert (popup.pos() - (at + view.viewport().pos())).manhattanLength() <= 2
    QTest.keyClicks(popup.search, "gelu")
    QTest.keyClick(popup.search, Qt.Key_Enter)
    qtbot.waitUntil(lambda: "gelu1" in view.document.graph)
    node = view.canvas_scene.nodes["gelu1"]
    header = view.mapFromScene(node.scenePos() + QPointF(80, 13))
    assert (header - at).manhattanLength() <= 12  # the card is held by its header at that point


def test_click_ctrl_click_and_ctrl_a_select(qtbot):
    view = template_view(qtbot, "cnn_digits")
    click(view, card_pos(view, "conv1"))
    assert view.document.selection == ["conv1"]
    click(view, card_pos(view, "relu1"), Qt.ControlModifier)
    assert view.document.selection == ["conv1", "relu1"]
    click(view, card_pos(view, "conv1"), Qt.ControlModifier)
    assert view.document.selection == ["relu1"]
    QTest.keyClick(view, Qt.Key_A, Qt.ControlModifier)
    assert view.document.selection == list(view.document.graph.nodes)
    click(view, empty_pos(view, card_pos(view, "conv1"), dy=-120))
    assert view.document.selection == []


def test_rubber_band_selects_the_cards_it_touches(qtbot):
    view = template_view(qtbot, "cnn_digits")
    a, b = card_pos(view, "conv1"), card_pos(view, "relu1")
    start = empty_pos(view, a, dx=-20, dy=-60)
    drag(view, start, QPoint(b.x(), b.y() + 20))
    assert view.document.selection == ["conv1", "relu1"]
    # Shift adds to what is selected
    c = card_pos(view, "pool1")
    drag(view, empty_pos(view, c, dy=-60), QPoint(c.x() + 10, c.y() + 10), modifiers=Qt.ShiftModifier)
    assert view.document.selection == ["conv1", "relu1", "pool1"]


def test_selection_follows_the_document(qtbot):
    view = template_view(qtbot, "cnn_digits")
    view.document.set_selection(["fc1", "relu3"])
    assert {i.node_id for i in view.canvas_scene.selectedItems()} == {"fc1", "relu3"}
    view.center_on_node("fc1")
    centre = view.mapToScene(view.viewport().rect().center())
    assert view.canvas_scene.nodes["fc1"].sceneBoundingRect().contains(centre)


def test_moving_cards_is_one_command_per_drag(qtbot):
    view = template_view(qtbot, "cnn_digits")
    graph, stack = view.document.graph, view.document.undo_stack
    click(view, card_pos(view, "conv1"))
    click(view, card_pos(view, "relu1"), Qt.ControlModifier)
    before = {n: graph.node(n).pos for n in ("conv1", "relu1")}
    start = card_pos(view, "conv1")
    drag(view, start, QPoint(start.x() + 100, start.y() + 60), steps=12)
    assert stack.count() == 1 and stack.undoText().startswith("Move")
    for n, (x, y) in before.items():
        nx, ny = graph.node(n).pos
        assert abs(nx - x - 100) <= 10 and abs(ny - y - 60) <= 10
    wire_in = view.canvas_scene.wires[Edge("input", "conv1")]
    assert wire_in.curve().pointAtPercent(1) == view.canvas_scene.nodes["conv1"].input_port(None).scenePos()
    stack.undo()
    assert {n: graph.node(n).pos for n in before} == before
    assert view.canvas_scene.nodes["conv1"].pos() == QPointF(*before["conv1"])


def test_delete_removes_selected_cards_and_their_wires(qtbot):
    view = template_view(qtbot, "cnn_digits")
    n_edges = len(view.document.graph.edges)
    click(view, card_pos(view, "relu1"))
    QTest.keyClick(view, Qt.Key_Delete)
    assert "relu1" not in view.document.graph and "relu1" not in view.canvas_scene.nodes
    assert len(view.document.graph.edges) == n_edges - 2
    assert all(not e.touches("relu1") for e in view.canvas_scene.wires)
    view.document.undo_stack.undo()
    assert Edge("conv1", "relu1") in view.canvas_scene.wires and Edge("relu1", "pool1") in view.canvas_scene.wires
    # a selected wire alone is deleted with Backspace
    w = view.canvas_scene.wires[Edge("conv1", "relu1")]
    mid = view.mapFromScene(w.curve().pointAtPercent(0.25))
    click(view, mid)
    assert w.isSelected()
    QTest.keyClick(view, Qt.Key_Backspace)
    assert Edge("conv1", "relu1") not in view.document.graph.edges and "relu1" in view.document.graph


def test_copy_paste_duplicate_and_cut_keep_the_wires(qtbot):
    view = template_view(qtbot, "cnn_digits")
    graph = view.document.graph
    click(view, card_pos(view, "conv1"))
    click(view, card_pos(view, "relu1"), Qt.ControlModifier)
    QTest.keyClick(view, Qt.Key_C, Qt.ControlModifier)
    text = QApplication.clipboard().text()
    assert '"conv1"' in text and '"relu1"' in text
    n = len(graph)
    QTest.keyClick(view, Qt.Key_V, Qt.ControlModifier)
    new = view.document.selection
    assert len(graph) == n + 2 and len(new) == 2 and set(new).isdisjoint({"conv1", "relu1"})
    conv, relu = (graph.node(i) for i in new)
    assert (conv.type, relu.type) == ("Conv2d", "ReLU") and conv.params == graph.node("conv1").params
    assert Edge(new[0], new[1]) in graph.edges and Edge(new[0], new[1]) in view.canvas_scene.wires
    assert not any(e.touches(new[0]) and e.source == "input" for e in graph.edges)  # only inner wires
    QTest.keyClick(view, Qt.Key_D, Qt.ControlModifier)
    dup = view.document.selection
    assert len(graph) == n + 4 and Edge(dup[0], dup[1]) in graph.edges
    QTest.keyClick(view, Qt.Key_X, Qt.ControlModifier)
    assert len(graph) == n + 2 and not set(dup) & set(graph.nodes)
    assert view.document.undo_stack.undoText().startswith("Cut")
    QTest.keyClick(view, Qt.Key_V, Qt.ControlModifier)  # what was cut pastes back, wired
    back = view.document.selection
    assert len(graph) == n + 4 and Edge(back[0], back[1]) in graph.edges


def test_wheel_zooms_about_the_cursor(qtbot):
    view = template_view(qtbot, "cnn_digits")
    at = card_pos(view, "pool1")
    under = view.mapToScene(at)
    zoom = view.zoom()
    for _ in range(3):
        event = QWheelEvent(QPointF(at), QPointF(view.viewport().mapToGlobal(at)), QPoint(0, 0), QPoint(0, 120),
                            Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase, False)
        QApplication.sendEvent(view.viewport(), event)
    assert view.zoom() > zoom * 1.5
    after = view.mapToScene(at)
    assert abs(after.x() - under.x()) * view.zoom() <= 1.5 and abs(after.y() - under.y()) * view.zoom() <= 1.5
    view.reset_zoom()
    assert abs(view.zoom() - 1.0) < 1e-9


def test_middle_drag_and_space_drag_pan(qtbot):
    view = template_view(qtbot, "cnn_digits")
    before = view.mapToScene(QPoint(100, 100))
    start = empty_pos(view, card_pos(view, "conv1"), dy=-100)
    drag(view, start, QPoint(start.x() + 80, start.y() + 30), button=Qt.MiddleButton)
    moved = view.mapToScene(QPoint(100, 100))
    assert abs((before.x() - moved.x()) - 80) <= 1 and abs((before.y() - moved.y()) - 30) <= 1
    assert view.document.undo_stack.count() == 0
    QTest.keyPress(view, Qt.Key_Space)
    grab = card_pos(view, "conv1")  # Space+drag pans even when it starts on a card
    drag(view, grab, QPoint(grab.x() - 50, grab.y()))
    QTest.keyRelease(view, Qt.Key_Space)
    again = view.mapToScene(QPoint(100, 100))
    assert abs((again.x() - moved.x()) - 50) <= 1  # the canvas followed the hand leftwards
    assert view.document.undo_stack.count() == 0


def test_fit_all_shows_every_card_and_auto_layout_is_undoable(qtbot):
    view = template_view(qtbot, "resnet_block")
    view.fit_all()
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert all(visible.contains(item.sceneBoundingRect()) for item in view.canvas_scene.nodes.values())
    before = snapshot(view)
    view.auto_layout()
    assert snapshot(view) != before
    assert view.document.undo_stack.undoText() == "Auto-layout"
    view.document.undo_stack.undo()
    assert snapshot(view) == before


def test_context_menu_offers_what_fits_where_it_was_opened(qtbot):
    from studio.ui.canvas.context_menu import canvas_menu

    view = template_view(qtbot, "cnn_digits")
    menu = canvas_menu(view, card_pos(view, "relu1"))
    texts = [a.text() for a in menu.actions() if a.text()]
    assert texts == ["Copy 'relu1'", "Cut 'relu1'", "Duplicate 'relu1'", "Group 'relu1' into a block", "Delete 'relu1'"]
    assert view.document.selection == ["relu1"]
    next(a for a in menu.actions() if a.text() == "Delete 'relu1'").trigger()
    assert "relu1" not in view.document.graph
    empty = canvas_menu(view, empty_pos(view, card_pos(view, "conv1"), dy=-120))
    assert [a.text() for a in empty.actions() if a.text()][:2] == ["Add node here…", "Paste"]
    view.document.set_locked(True)
    locked = canvas_menu(view, card_pos(view, "conv1"))
    assert {a.text(): a.isEnabled() for a in locked.actions() if a.text()}["Delete 'conv1'"] is False


def test_dragging_a_card_or_a_wire_to_the_edge_scrolls_the_view(qtbot):
    from PySide6.QtCore import QPoint
    from PySide6.QtTest import QTest

    view = template_view(qtbot, "cnn_digits")
    vp = view.viewport()
    start = card_pos(view, "conv1")
    before = view.mapToScene(vp.rect().center())
    x0 = view.document.graph.node("conv1").pos[0]
    edge = QPoint(vp.width() - 4, start.y())
    QTest.mouseMove(vp, start)
    QTest.mousePress(vp, Qt.LeftButton, Qt.NoModifier, start)
    for i in range(1, 9):
        QTest.mouseMove(vp, QPoint(start.x() + (edge.x() - start.x()) * i // 8, start.y()))
    qtbot.waitUntil(lambda: view.mapToScene(vp.rect().center()).x() > before.x() + 150, timeout=5000)
    QTest.mouseRelease(vp, Qt.LeftButton, Qt.NoModifier, edge)
    assert not view.edge_scroll.timer.isActive()
    scrolled = view.mapToScene(vp.rect().center()).x() - before.x()
    moved = view.document.graph.node("conv1").pos[0] - x0
    assert moved > (edge.x() - start.x()) / view.zoom() + 100  # the card came along with the view
    assert abs(moved - ((edge.x() - start.x()) / view.zoom() + scrolled)) < 30  # under the pointer
    view.document.undo_stack.undo()  # one undo step
    assert view.document.graph.node("conv1").pos[0] == x0
    # a wire pulled to the left edge scrolls the other way; released on empty canvas it adds nothing
    out = port_pos(view, "conv1", output=True)
    left = QPoint(2, out.y())
    before = view.mapToScene(vp.rect().center())
    QTest.mouseMove(vp, out)
    QTest.mousePress(vp, Qt.LeftButton, Qt.NoModifier, out)
    for i in range(1, 9):
        QTest.mouseMove(vp, QPoint(out.x() + (left.x() - out.x()) * i // 8, out.y()))
    qtbot.waitUntil(lambda: view.mapToScene(vp.rect().center()).x() < before.x() - 100, timeout=5000)
    QTest.keyClick(view, Qt.Key_Escape)
    assert not view.edge_scroll.timer.isActive()
    QTest.mouseRelease(vp, Qt.LeftButton, Qt.NoModifier, left)


def test_a_small_jitter_on_a_card_at_the_edge_does_not_scroll(qtbot):
    from PySide6.QtCore import QPoint
    from PySide6.QtTest import QTest

    view = template_view(qtbot, "cnn_digits")
    vp = view.viewport()
    p = card_pos(view, "conv1")
    view.scroll_by(view.mapFromScene(view.canvas_scene.nodes["conv1"].sceneBoundingRect().center()).x() - 20, 0)
    p = card_pos(view, "conv1")
    QTest.mouseMove(vp, p)
    QTest.mousePress(vp, Qt.LeftButton, Qt.NoModifier, p)
    QTest.mouseMove(vp, QPoint(p.x() + 1, p.y()))
    assert not view.edge_scroll.timer.isActive()
    QTest.mouseRelease(vp, Qt.LeftButton, Qt.NoModifier, QPoint(p.x() + 1, p.y()))


def _quick_add_typing(view, text):
    """Open quick add over the canvas (Tab) and type `text` into its search; the popup."""
    QTest.mouseMove(view.viewport(), QPoint(400, 300))
    QTest.keyClick(view, Qt.Key_Tab)
    popup = view.quick_add
    QTest.keyClicks(popup.search, text)
    return popup


def test_quick_add_with_no_match_says_what_to_try(canvas, qtbot):
    view = canvas
    popup = _quick_add_typing(view, "zzqx")
    assert popup.types() == [] and not popup.list.isVisible()
    assert popup.empty.isVisible() and "zzqx" in popup.empty.text() and "Backspace" in popup.empty.text()
    QTest.keyClick(popup.search, Qt.Key_Return)  # nothing to add: nothing happens
    assert view.quick_add is popup and len(view.document.graph) == 0
    for _ in range(4):
        QTest.keyClick(popup.search, Qt.Key_Backspace)
    assert popup.list.isVisible() and not popup.empty.isVisible() and popup.types()
    QTest.keyClick(popup.search, Qt.Key_Escape)


def test_quick_add_shows_typed_markup_as_text(canvas, qtbot):
    popup = _quick_add_typing(canvas, "<b>x</b>&amp;")
    assert popup.types() == [] and popup.empty.textFormat() == Qt.PlainText
    assert "\u201c<b>x</b>&amp;\u201d" in popup.empty.text()
    QTest.keyClick(popup.search, Qt.Key_Escape)
