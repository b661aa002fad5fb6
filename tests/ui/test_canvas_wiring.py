"""Building a network with the mouse: palette drops, wires dragged between ports, refusals, shape
labels, detaching wires, quick add from a dropped wire, and undo/redo of every step."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from studio.core.graph import Edge
from studio.ui.commands import SetParam

from .canvas_helpers import (canvas, drag, drop_node, edges, empty_pos, port_item, port_pos,  # noqa: F401
                             snapshot, wire)


def header_at(view, x, y):
    """The viewport point where a dropped card gets its top-left corner at scene (x, y)."""
    return view.mapFromScene(QPointF(x + 80, y + 13))


def build_chain(view):
    for type_name, x in (("Input", 0), ("Conv2d", 230), ("ReLU", 460)):
        assert drop_node(view, type_name, header_at(view, x, 0))
    wire(view, "input1", "conv2d1")
    wire(view, "conv2d1", "relu1")


def test_palette_drop_adds_the_node_where_it_lands(canvas):
    view = canvas
    assert drop_node(view, "Conv2d", header_at(view, 230, 40))
    node = view.document.graph.node("conv2d1")
    assert node.type == "Conv2d" and node.pos == (230.0, 40.0)
    assert set(view.canvas_scene.nodes) == {"conv2d1"}
    assert view.document.selection == ["conv2d1"]
    assert not drop_node(view, "", header_at(view, 0, 0)) or len(view.document.graph) == 1


def test_wire_input_conv_relu_by_dragging_between_ports(canvas):
    view = canvas
    build_chain(view)
    assert edges(view) == {("input1", "conv2d1", None, None), ("conv2d1", "relu1", None, None)}
    scene = view.canvas_scene
    assert len(scene.wires) == 2
    w = scene.wires[Edge("input1", "conv2d1")]
    # the wire meets its ports exactly
    assert w.curve().pointAtPercent(0) == port_item(view, "input1").scenePos()
    assert w.curve().pointAtPercent(1) == port_item(view, "conv2d1", output=False).scenePos()
    assert w.label == "1×28×28"
    assert scene.wires[Edge("conv2d1", "relu1")].label == "16×26×26"
    assert scene.nodes["relu1"].data.footer == "[16, 26, 26]"


def test_a_wire_snaps_to_a_port_it_was_dropped_near(canvas):
    view = canvas
    for type_name, x in (("Input", 0), ("ReLU", 230)):
        drop_node(view, type_name, header_at(view, x, 0))
    target = port_pos(view, "relu1", output=False)
    drag(view, port_pos(view, "input1"), QPoint(target.x() + 14, target.y() + 16))  # near, not on it
    assert edges(view) == {("input1", "relu1", None, None)}


def test_only_compatible_ports_light_up_while_dragging(canvas):
    view = canvas
    build_chain(view)
    drop_node(view, "ReLU", header_at(view, 460, 200))
    vp = view.viewport()
    start = port_pos(view, "conv2d1")
    QTest.mouseMove(vp, start)
    QTest.mousePress(vp, Qt.LeftButton, Qt.NoModifier, start)
    QTest.mouseMove(vp, QPoint(start.x() + 40, start.y() + 60))
    lit = {(p.node_id, p.direction) for n in view.canvas_scene.nodes.values() for p in n.ports() if p.highlight}
    # relu2 is free; relu1 already has a wire; input1 and conv2d1 itself would make a cycle
    assert lit == {("relu2", "in")}
    QTest.mouseRelease(vp, Qt.LeftButton, Qt.NoModifier, QPoint(start.x() + 40, start.y() + 60))
    assert view.quick_add is not None  # released on empty canvas
    view.quick_add.close_popup()
    assert not any(p.highlight for n in view.canvas_scene.nodes.values() for p in n.ports())


@pytest.mark.fault('editing', 'a wire that would make a cycle, or joins two outputs',
                   'refused with the reason in the status bar; the graph unchanged')
def test_wrong_wires_are_refused_with_a_reason(canvas):
    view = canvas
    build_chain(view)
    messages = []
    view.status_message.connect(messages.append)
    before = edges(view)
    depth = view.document.undo_stack.count()
    wire(view, "relu1", "conv2d1")  # back into its own upstream: a cycle
    assert edges(view) == before
    assert "cycle" in messages[-1]
    drag(view, port_pos(view, "input1"), port_pos(view, "relu1"))  # output to output
    assert edges(view) == before
    assert "from an output" in messages[-1]
    drag(view, port_pos(view, "relu1"), port_pos(view, "relu1", output=False))  # into itself
    assert edges(view) == before
    assert "itself" in messages[-1]
    assert view.document.undo_stack.count() == depth


def test_the_shape_label_follows_a_param_change(canvas, qtbot):
    view = canvas
    build_chain(view)
    relu_wire = view.canvas_scene.wires[Edge("conv2d1", "relu1")]
    assert relu_wire.label == "16×26×26"
    view.document.push(SetParam(view.document.graph, "conv2d1", "out_channels", 8))
    assert relu_wire.label == "8×26×26"
    assert view.canvas_scene.nodes["conv2d1"].data.params[0] == ("out_channels", "8")
    view.document.undo_stack.undo()
    assert relu_wire.label == "16×26×26"


def test_undo_and_redo_every_step(canvas):
    view = canvas
    stack = view.document.undo_stack
    states = [snapshot(view)]
    for type_name, x in (("Input", 0), ("Conv2d", 230), ("ReLU", 460)):
        drop_node(view, type_name, header_at(view, x, 0))
        states.append(snapshot(view))
    wire(view, "input1", "conv2d1")
    states.append(snapshot(view))
    wire(view, "conv2d1", "relu1")
    states.append(snapshot(view))
    view.document.push(SetParam(view.document.graph, "conv2d1", "kernel_size", 5))
    states.append(snapshot(view))
    assert stack.count() == len(states) - 1
    for expected in reversed(states[:-1]):
        stack.undo()
        assert snapshot(view) == expected
        assert set(view.canvas_scene.nodes) == set(view.document.graph.nodes)
        assert set(view.canvas_scene.wires) == set(view.document.graph.edges)
    assert not view.canvas_scene.nodes and not view.canvas_scene.wires
    for expected in states[1:]:
        stack.redo()
        assert snapshot(view) == expected
        assert set(view.canvas_scene.wires) == set(view.document.graph.edges)
    assert view.canvas_scene.wires[Edge("conv2d1", "relu1")].label == "16×24×24"


def test_dragging_a_wire_off_an_input_detaches_it_and_can_replug_it(canvas):
    view = canvas
    build_chain(view)
    drop_node(view, "ReLU", header_at(view, 460, 200))
    stack = view.document.undo_stack
    # pull the wire out of relu1 and plug it into relu2: one undoable step
    drag(view, port_pos(view, "relu1", output=False), port_pos(view, "relu2", output=False))
    assert edges(view) == {("input1", "conv2d1", None, None), ("conv2d1", "relu2", None, None)}
    assert stack.undoText().startswith("Reconnect")
    stack.undo()
    assert ("conv2d1", "relu1", None, None) in edges(view) and len(edges(view)) == 2
    # pull it out and drop it on empty canvas: it is removed
    start = port_pos(view, "relu1", output=False)
    drag(view, start, empty_pos(view, start, dx=-20, dy=150))
    assert edges(view) == {("input1", "conv2d1", None, None)}
    assert not port_item(view, "relu1", output=False).wires
    stack.undo()
    assert ("conv2d1", "relu1", None, None) in edges(view)


def test_a_wire_dropped_on_empty_canvas_opens_quick_add_and_connects(canvas, qtbot):
    view = canvas
    build_chain(view)
    start = port_pos(view, "relu1")
    drop_at = empty_pos(view, start, dx=120, dy=0)
    drag(view, start, drop_at)
    popup = view.quick_add
    assert popup is not None and popup.isVisible()
    assert "Input" not in popup.types()  # it has no input to connect
    QTest.keyClicks(popup.search, "flatten")
    assert popup.types()[0] == "Flatten"
    QTest.keyClick(popup.search, Qt.Key_Return)
    qtbot.waitUntil(lambda: "flatten1" in view.document.graph)
    assert ("relu1", "flatten1", None, None) in edges(view)
    assert view.canvas_scene.wires[Edge("relu1", "flatten1")].label == "16×26×26"
    assert view.document.selection == ["flatten1"]
    # the new card's input port sits where the wire was dropped
    assert (port_pos(view, "flatten1", output=False) - drop_at).manhattanLength() <= 12
    view.document.undo_stack.undo()
    assert "flatten1" not in view.document.graph and len(edges(view)) == 2


def test_a_wire_pulled_from_a_free_input_connects_a_new_upstream_node(canvas, qtbot):
    view = canvas
    drop_node(view, "ReLU", header_at(view, 460, 0))
    start = port_pos(view, "relu1", output=False)
    drag(view, start, empty_pos(view, start, dx=-120, dy=0))
    popup = view.quick_add
    assert popup is not None and "Output" not in popup.types()
    QTest.keyClicks(popup.search, "Linear")
    QTest.keyClick(popup.search, Qt.Key_Return)
    qtbot.waitUntil(lambda: "linear1" in view.document.graph)
    assert edges(view) == {("linear1", "relu1", None, None)}
    view.document.undo_stack.undo()
    assert list(view.document.graph.nodes) == ["relu1"] and not edges(view)


@pytest.mark.fault('editing', 'wiring while a run holds the graph',
                   'refused: says a run is training; the graph unchanged')
def test_locked_document_refuses_wires(canvas):
    view = canvas
    build_chain(view)
    drop_node(view, "ReLU", header_at(view, 460, 200))
    view.document.set_locked(True)
    messages = []
    view.status_message.connect(messages.append)
    wire(view, "conv2d1", "relu2")
    assert ("conv2d1", "relu2", None, None) not in edges(view)
    assert any("training" in m for m in messages)


def test_an_undo_during_a_wire_drag_cancels_the_drag(canvas):
    view = canvas
    build_chain(view)
    vp = view.viewport()
    start = port_pos(view, "relu1")
    QTest.mouseMove(vp, start)
    QTest.mousePress(vp, Qt.LeftButton, Qt.NoModifier, start)
    QTest.mouseMove(vp, QPoint(start.x() + 60, start.y() + 40))
    view.document.undo_stack.undo()  # removes the wire conv2d1 -> relu1 under the drag
    QTest.mouseMove(vp, QPoint(start.x() + 90, start.y() + 40))
    QTest.mouseRelease(vp, Qt.LeftButton, Qt.NoModifier, QPoint(start.x() + 90, start.y() + 40))
    assert view.quick_add is None  # the drag was dropped, not finished
    assert edges(view) == {("input1", "conv2d1", None, None)}
    assert not any(p.highlight for n in view.canvas_scene.nodes.values() for p in n.ports())
    assert not any(type(i).__name__ == "WirePreview" for i in view.canvas_scene.items())
