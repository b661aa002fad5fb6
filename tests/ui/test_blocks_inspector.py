"""The inspector for blocks: an instance's exposed params, repeat and first-copy overrides are
fields that edit through commands; inside an open block a param can be exposed as a block param;
the definition can be renamed (one undo step each)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QCheckBox, QLineEdit, QSpinBox

from .blocks_helpers import staged_project, settled_window
from .window_helpers import dialog_log, isolated  # noqa: F401  (fixtures)


def _window(qtbot, project=None):
    w = settled_window(qtbot, project or staged_project())
    return w


def _select(qtbot, w, node_id):
    w.canvas.document.set_selection([node_id])
    qtbot.waitUntil(lambda: w.inspector.node_id == node_id, timeout=3000)


def test_an_instances_exposed_param_is_a_field(qtbot, isolated, dialog_log):
    w = _window(qtbot)
    _select(qtbot, w, "stage2")
    editor = w.inspector.rows["channels"].editor
    assert editor.spin.value() == 32
    editor.spin.setFocus()
    editor.spin.selectAll()
    QTest.keyClicks(editor.spin, "24")
    QTest.keyClick(editor.spin, Qt.Key_Return)
    graph = w.document.graph
    qtbot.waitUntil(lambda: graph.node("stage2").params.get("channels") == 24, timeout=3000)
    assert str(w.document.analysis.nodes["stage2"].output) == "[24, 2, 2]"
    w.document.undo_stack.undo()
    assert graph.node("stage2").params["channels"] == 32
    w.document.undo_stack.setClean()


def test_repeat_and_first_copy_overrides(qtbot, isolated, dialog_log):
    w = _window(qtbot)
    graph = w.document.graph
    _select(qtbot, w, "stage2")
    section = w.inspector.block_section
    assert section.isVisible() and not section.first_host.isVisible()  # repeat 1: no first copy
    repeat = section.findChild(QSpinBox, "blockRepeat")
    repeat.setFocus()
    repeat.selectAll()
    QTest.keyClicks(repeat, "2")
    QTest.keyClick(repeat, Qt.Key_Return)
    qtbot.waitUntil(lambda: graph.node("stage2").repeat == 2, timeout=3000)
    assert w.canvas.canvas_scene.nodes["stage2"].data.badge == "×2"
    qtbot.waitUntil(section.first_host.isVisible, timeout=3000)
    check = section.findChild(QCheckBox, "first_on_channels")
    QTest.mouseClick(check, Qt.LeftButton)
    qtbot.waitUntil(lambda: graph.node("stage2").first == {"channels": 32}, timeout=3000)
    editor = section.first_rows["channels"][1]
    editor.spin.setFocus()
    editor.spin.selectAll()
    QTest.keyClicks(editor.spin, "8")
    QTest.keyClick(editor.spin, Qt.Key_Return)
    qtbot.waitUntil(lambda: graph.node("stage2").first == {"channels": 8}, timeout=3000)
    assert str(w.document.analysis.nodes.get("stage2.0.conv").output) == "[8, 4, 4]"
    assert str(w.document.analysis.nodes.get("stage2.1.conv").output) == "[32, 2, 2]"
    stack = w.document.undo_stack
    assert stack.count() == 3  # repeat, first on, first value: one step each
    for _ in range(3):
        stack.undo()
    assert graph.node("stage2").repeat == 1 and graph.node("stage2").first is None
    stack.setClean()


def test_rename_the_definition(qtbot, isolated, dialog_log):
    w = _window(qtbot)
    graph = w.document.graph
    _select(qtbot, w, "stage1")
    name = w.inspector.block_section.findChild(QLineEdit, "blockName")
    name.setFocus()
    name.selectAll()
    QTest.keyClicks(name, "Stage")
    QTest.keyClick(name, Qt.Key_Return)
    qtbot.waitUntil(lambda: "Stage" in graph.blocks, timeout=3000)
    assert graph.node("stage1").block == graph.node("stage2").block == "Stage"
    assert w.canvas.canvas_scene.nodes["stage2"].data.type == "Stage"
    assert w.palette.blocks.names("project") == ["Stage"]
    w.document.undo_stack.undo()
    assert graph.node("stage2").block == "ConvStage" and w.palette.blocks.names("project") == ["ConvStage"]
    # a name that cannot be a class name is refused in the field, with the reason
    name.setFocus()
    name.selectAll()
    QTest.keyClicks(name, "2bad")
    QTest.keyClick(name, Qt.Key_Return)
    assert "block name" in w.inspector.block_section.name_error.text()
    assert graph.node("stage1").block == "ConvStage"
    w.document.undo_stack.setClean()


def test_expose_an_inner_param_as_a_block_param(qtbot, isolated, dialog_log):
    w = _window(qtbot)
    graph = w.document.graph
    doc = w.canvas.document
    assert doc.open_block("stage1")
    _select(qtbot, w, "pool")
    label = w.inspector.rows["kernel_size"].label
    from studio.ui.inspector.expose import expose_menu

    menu = expose_menu(w.inspector, "pool", "kernel_size", label, None)
    [action] = menu.actions()
    assert action.text() == "Expose as block param"
    action.trigger()
    bdef = graph.blocks["ConvStage"]
    assert [p.name for p in bdef.params] == ["channels", "kernel_size"]
    assert bdef.params[1].default == 2 and bdef.params[1].targets[0].node == "pool"
    doc.go_up()
    _select(qtbot, w, "stage2")
    assert "kernel_size" in w.inspector.rows  # the instance's form has the new field
    line = w.inspector.rows["kernel_size"].editor.line  # (a size: a text field)
    line.setFocus()
    line.selectAll()
    QTest.keyClicks(line, "1")
    QTest.keyClick(line, Qt.Key_Return)
    qtbot.waitUntil(lambda: graph.node("stage2").params.get("kernel_size") == 1, timeout=3000)
    assert str(w.document.analysis.nodes["stage2"].output) == "[32, 4, 4]"
    assert str(w.document.analysis.nodes["stage1"].output) == "[16, 4, 4]"  # its own value: the default
    stack = w.document.undo_stack
    stack.undo()
    stack.undo()
    assert [p.name for p in graph.blocks["ConvStage"].params] == ["channels"]
    stack.setClean()


def test_rename_a_block_port_in_the_inspector(qtbot, isolated, dialog_log):
    from .blocks_helpers import merge_project

    project = merge_project()
    w = _window(qtbot, project)
    graph, doc = w.document.graph, w.canvas.document
    assert w.canvas.canvas_scene.nodes["sum1"].data.inputs == (("a", False), ("b", False))
    assert doc.open_block("sum1")
    _select(qtbot, w, "b")
    w.inspector.id_edit.setFocus()
    w.inspector.id_edit.selectAll()
    QTest.keyClicks(w.inspector.id_edit, "skip")
    QTest.keyClick(w.inspector.id_edit, Qt.Key_Return)
    qtbot.waitUntil(lambda: "skip" in graph.blocks["Merge"].graph, timeout=3000)
    # the instance's wire into that port follows the new name, in its place
    assert [(e.source, e.target_port) for e in graph.edges if e.target == "sum1"] == [("fc_a", "a"), ("fc_b", "skip")]
    assert w.document.analysis.ok, [p.message for p in w.document.analysis.problems]
    doc.go_up()
    qtbot.waitUntil(lambda: w.canvas.canvas_scene.nodes["sum1"].data.inputs == (("a", False), ("skip", False)),
                    timeout=3000)
    wire = next(wi for e, wi in w.canvas.canvas_scene.wires.items() if e.source == "fc_b")
    assert wire.target_port.name == "skip"  # drawn to the renamed port
    w.document.undo_stack.undo()
    assert [(e.source, e.target_port) for e in graph.edges if e.target == "sum1"] == [("fc_a", "a"), ("fc_b", "b")]
    assert "b" in graph.blocks["Merge"].graph and w.document.undo_stack.count() == 1
    w.document.undo_stack.setClean()


def test_going_into_a_block_and_back_keeps_the_inspector_on_the_selection(qtbot, isolated, dialog_log):
    w = _window(qtbot)
    doc = w.canvas.document
    _select(qtbot, w, "stage2")
    assert doc.open_block("stage2")
    qtbot.waitUntil(lambda: w.inspector.node_id is None, timeout=3000)  # nothing selected inside yet
    assert doc.go_up()
    qtbot.waitUntil(lambda: w.inspector.node_id == "stage2", timeout=3000)  # the block came out of
    assert w.inspector.block_section.isVisible()
    w.document.undo_stack.setClean()
