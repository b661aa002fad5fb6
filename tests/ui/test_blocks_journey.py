"""The blocks journey (issue 15's acceptance), driven by real mouse and key events: select nodes,
Ctrl+G, double-click the block to open it, change an inner param in the inspector, go back up, undo
to the start (the original to_json) and redo to the end; and group, save, reopen, ungroup: the
original graph."""
from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from studio.core.project import load_project
from studio.ui.block_model import to_record

from .blocks_helpers import settled_window
from .canvas_helpers import card_pos, double_click, drag
from .window_helpers import copied_template, dialog_log, isolated  # noqa: F401  (fixtures)

STAGE = ["conv1", "relu1", "pool1"]


def _json(project) -> dict:
    """The project's file record, copied (to_json hands out the live params dicts)."""
    return json.loads(json.dumps(project.to_json()))


def _window(qtbot, tmp_path):
    path = copied_template(tmp_path, "cnn_digits")
    w = settled_window(qtbot, load_project(path))
    canvas = w.canvas
    canvas.fit_all()
    qtbot.waitUntil(lambda: all(n in canvas.canvas_scene.nodes for n in STAGE), timeout=3000)
    return w, path


def _unordered_nodes(record: dict) -> dict:
    """A file record with its nodes by id: the core's ungroup puts the layers back after the other
    nodes (their order in the file, nothing else, differs from before the group)."""
    return {**record, "nodes": {n["id"]: n for n in record["nodes"]}}


def _ctrl_click_select(qtbot, canvas, ids):
    QTest.mouseClick(canvas.viewport(), Qt.LeftButton, Qt.NoModifier, card_pos(canvas, ids[0]))
    for node_id in ids[1:]:
        QTest.mouseClick(canvas.viewport(), Qt.LeftButton, Qt.ControlModifier, card_pos(canvas, node_id))
    qtbot.waitUntil(lambda: canvas.document.selection == ids, timeout=3000)


def _rubber_band_select(qtbot, canvas, ids):
    rects = [canvas.canvas_scene.nodes[n].sceneBoundingRect() for n in ids]
    top_left = canvas.mapFromScene(min(r.left() for r in rects) - 12, min(r.top() for r in rects) - 12)
    bottom_right = canvas.mapFromScene(max(r.right() for r in rects) + 12, max(r.bottom() for r in rects) + 12)
    assert canvas.item_at(top_left.toPointF()) is None
    drag(canvas, top_left, bottom_right)
    qtbot.waitUntil(lambda: canvas.document.selection == ids, timeout=3000)


def _group(qtbot, w):
    canvas = w.canvas
    canvas.setFocus()
    QTest.keyClick(canvas, Qt.Key_G, Qt.ControlModifier)
    qtbot.waitUntil(lambda: any(n.type == "Block" for n in w.document.graph.nodes.values()), timeout=3000)
    [block] = [n.id for n in w.document.graph.nodes.values() if n.type == "Block"]
    assert canvas.document.selection == [block]
    return block


def test_group_open_edit_inside_undo_all_redo_all(qtbot, isolated, dialog_log, tmp_path):
    w, _ = _window(qtbot, tmp_path)
    canvas, doc = w.canvas, w.document
    start = _json(doc.project)
    _ctrl_click_select(qtbot, canvas, STAGE)
    block = _group(qtbot, w)
    assert not any(n in doc.graph for n in STAGE)
    assert str(doc.analysis.nodes[block].output) == "[16, 4, 4]"  # the shapes go through the block
    # double-click the block: the canvas shows its inside, with a breadcrumb
    pos = card_pos(canvas, block)
    double_click(canvas.viewport(), pos)
    qtbot.waitUntil(lambda: canvas.document.trail == [block], timeout=3000)
    assert canvas.breadcrumb.isVisible() and canvas.breadcrumb.texts()[0] == "Model"
    assert set(STAGE) <= set(canvas.canvas_scene.nodes)
    # select conv1 inside and change out_channels in the inspector
    canvas.fit_all()
    QTest.mouseClick(canvas.viewport(), Qt.LeftButton, Qt.NoModifier, card_pos(canvas, "conv1"))
    qtbot.waitUntil(lambda: w.inspector.node_id == "conv1", timeout=3000)
    spin = w.inspector.rows["out_channels"].editor.spin
    spin.setFocus()
    spin.selectAll()
    QTest.keyClicks(spin, "8")
    QTest.keyClick(spin, Qt.Key_Return)
    qtbot.waitUntil(lambda: str(doc.analysis.nodes[block].output) == "[8, 4, 4]", timeout=3000)
    assert canvas.canvas_scene.nodes["conv1"].data.footer == "[8, 8, 8]"
    # back up with Escape
    canvas.setFocus()
    QTest.keyClick(canvas, Qt.Key_Escape)
    qtbot.waitUntil(lambda: canvas.document.at_root, timeout=3000)
    assert canvas.canvas_scene.nodes[block].data.footer == "[8, 4, 4]"
    end = _json(doc.project)
    stack = doc.undo_stack
    steps = stack.count()
    assert steps == 2  # the group, the param: one step each
    for _ in range(steps):
        stack.undo()
    assert _json(doc.project) == start
    assert set(STAGE) <= set(canvas.canvas_scene.nodes) and block not in canvas.canvas_scene.nodes
    for _ in range(steps):
        stack.redo()
    assert _json(doc.project) == end
    assert canvas.canvas_scene.nodes[block].data.footer == "[8, 4, 4]"
    stack.setClean()


def test_group_save_reopen_ungroup_is_the_original_graph(qtbot, isolated, dialog_log, tmp_path):
    w, path = _window(qtbot, tmp_path)
    canvas, doc = w.canvas, w.document
    original = _json(load_project(path))
    _rubber_band_select(qtbot, canvas, STAGE)
    block = _group(qtbot, w)
    canvas.setFocus()
    QTest.keyClick(canvas, Qt.Key_S, Qt.ControlModifier)
    qtbot.waitUntil(lambda: not doc.modified, timeout=5000)
    assert "blocks" in _json(load_project(path))
    assert w.files.open_path(str(path), ask=False)
    qtbot.waitUntil(lambda: block in w.canvas.canvas_scene.nodes, timeout=5000)
    canvas = w.canvas
    canvas.fit_all()
    QTest.mouseClick(canvas.viewport(), Qt.LeftButton, Qt.NoModifier, card_pos(canvas, block))
    qtbot.waitUntil(lambda: canvas.document.selection == [block], timeout=3000)
    canvas.setFocus()
    QTest.keyClick(canvas, Qt.Key_G, Qt.ControlModifier | Qt.ShiftModifier)
    qtbot.waitUntil(lambda: block not in w.document.graph, timeout=3000)
    assert _unordered_nodes(_json(w.document.project)) == _unordered_nodes(original)
    assert "blocks" not in _json(w.document.project)  # the definition went with its last instance
    assert canvas.document.selection == STAGE
    w.document.undo_stack.undo()  # the ungroup, undone: the block as it was saved
    assert _json(w.document.project) == _json(load_project(path))
    w.document.undo_stack.setClean()


def test_group_and_ungroup_from_the_context_menu(qtbot, isolated, dialog_log, tmp_path, monkeypatch):
    w, _ = _window(qtbot, tmp_path)
    canvas, doc = w.canvas, w.document
    start = _json(doc.project)
    _ctrl_click_select(qtbot, canvas, STAGE)
    from studio.ui.canvas.context_menu import canvas_menu

    menu = canvas_menu(canvas, card_pos(canvas, "relu1"))
    group = next(a for a in menu.actions() if a.text().startswith("Group 3 nodes"))
    group.trigger()
    [block] = [n.id for n in doc.graph.nodes.values() if n.type == "Block"]
    menu = canvas_menu(canvas, card_pos(canvas, block))
    texts = [a.text() for a in menu.actions()]
    assert f"Open block '{block}'" in texts and f"Ungroup '{block}'" in texts
    assert any(t.startswith("Save block") for t in texts) and any(t.startswith("Expand") for t in texts)
    next(a for a in menu.actions() if a.text() == f"Ungroup '{block}'").trigger()
    assert _unordered_nodes(_json(doc.project)) == _unordered_nodes(start) and doc.undo_stack.count() == 2
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert _json(doc.project) == start
    doc.undo_stack.setClean()


def test_make_unique_splits_one_instance_off(qtbot, isolated, dialog_log):
    from .blocks_helpers import staged_project

    w = settled_window(qtbot, staged_project())
    canvas, doc = w.canvas, w.document
    start = _json(doc.project)
    canvas.fit_all()
    QTest.mouseClick(canvas.viewport(), Qt.LeftButton, Qt.NoModifier, card_pos(canvas, "stage2"))
    qtbot.waitUntil(lambda: canvas.document.selection == ["stage2"], timeout=3000)
    new = canvas.make_unique_selected()
    graph = doc.graph
    assert graph.node("stage2").block == new and graph.node("stage1").block == "ConvStage"
    assert to_record(graph.blocks[new]) == to_record(graph.blocks["ConvStage"])
    assert canvas.document.open_block("stage2")
    from studio.ui.commands import SetParam

    assert canvas.document.push(SetParam(canvas.document.graph, "pool", "kernel_size", 1))
    assert graph.blocks["ConvStage"].graph.node("pool").params["kernel_size"] == 2  # the other, untouched
    canvas.document.go_up()
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert _json(doc.project) == start
    doc.undo_stack.setClean()


def test_group_refuses_with_a_message_when_nothing_is_selected(qtbot, isolated, dialog_log, tmp_path):
    w, _ = _window(qtbot, tmp_path)
    messages = []
    w.canvas.status_message.connect(messages.append)
    w.canvas.canvas_scene.select_only([])
    w.canvas.setFocus()
    QTest.keyClick(w.canvas, Qt.Key_G, Qt.ControlModifier)
    assert w.document.undo_stack.count() == 0 and "Select the nodes to group" in messages[-1]


@pytest.mark.fault("blocks", "ungroup a repeated block, group the model's Input, group while a run holds the graph",
                   "refused with the reason in the status bar; nothing changes and no undo step is added")
def test_refused_block_edits_change_nothing_and_add_no_undo_step(qtbot, isolated, dialog_log):
    from studio.core.project import load_project as load

    from .canvas_helpers import TEMPLATES

    w = settled_window(qtbot, load(TEMPLATES / "resnet18.json"))
    canvas, doc = w.canvas, w.document
    start = _json(doc.project)
    messages = []
    canvas.status_message.connect(messages.append)
    canvas.canvas_scene.select_only(["layer2"])
    canvas.setFocus()
    QTest.keyClick(canvas, Qt.Key_G, Qt.ControlModifier | Qt.ShiftModifier)
    assert "repeats 2 times" in messages[-1] and doc.undo_stack.count() == 0
    canvas.canvas_scene.select_only(["input", "conv1"])
    QTest.keyClick(canvas, Qt.Key_G, Qt.ControlModifier)
    assert "Input 'input'" in messages[-1] and doc.undo_stack.count() == 0
    doc.set_locked(True)
    canvas.canvas_scene.select_only(["conv1", "bn1"])
    QTest.keyClick(canvas, Qt.Key_G, Qt.ControlModifier)
    assert "while a run is training" in messages[-1] and doc.undo_stack.count() == 0
    doc.set_locked(False)
    assert _json(doc.project) == start
