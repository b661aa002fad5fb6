"""Splicing: a layer dropped from the palette onto a wire, or an unwired card dragged onto one, is
inserted into that wire (source -> node -> target) in one undo step; the wire lights up in the
accent colour while the layer hovers over it; a layer that does not fit is dropped plainly, the wire
stays and the status bar says why."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragLeaveEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from studio.core.graph import Edge
from studio.ui.canvas import NODE_MIME

from .canvas_helpers import canvas, card_pos, drag, drop_node, edges, snapshot, to_view, wire  # noqa: F401


def header_at(view, x, y):
    """The viewport point where a dropped card gets its top-left corner at scene (x, y)."""
    return view.mapFromScene(QPointF(x + 80, y + 13))


def chain(view, *types, gap=460):
    """Drop these layers in a row and wire each to the next; returns their ids."""
    ids = []
    for i, type_name in enumerate(types):
        assert drop_node(view, type_name, header_at(view, i * gap, 0))
        ids.append(view.document.selection[0])
    for a, b in zip(ids, ids[1:]):
        wire(view, a, b)
    return ids


def on_wire(view, edge: Edge, t: float = 0.5) -> QPoint:
    """A viewport point on the wire's curve (the middle by default)."""
    return to_view(view, view.canvas_scene.wires[edge].curve().pointAtPercent(t))


def messages(view) -> list[str]:
    out: list[str] = []
    view.status_message.connect(out.append)
    return out


def _event(kind, pos: QPoint, mime):
    try:  # Qt 6.12 takes a QPointF for the enter and move events (the QPoint form is deprecated there)
        return kind(QPointF(pos), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    except TypeError:
        return kind(pos, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)


class PaletteDrag:
    """A drag from the palette over the canvas, as Qt delivers it: enter, moves, then drop or leave."""

    def __init__(self, view, type_name: str) -> None:
        self.view = view
        self.mime = QMimeData()
        self.mime.setData(NODE_MIME, type_name.encode("utf-8"))
        self.entered = False

    def move(self, pos: QPoint) -> bool:
        vp = self.view.viewport()
        if not self.entered:
            enter = _event(QDragEnterEvent, pos, self.mime)
            QApplication.sendEvent(vp, enter)
            self.entered = True
        ev = _event(QDragMoveEvent, pos, self.mime)
        QApplication.sendEvent(vp, ev)
        return ev.isAccepted()

    def drop(self, pos: QPoint) -> bool:
        self.move(pos)
        ev = QDropEvent(QPointF(pos), Qt.CopyAction, self.mime, Qt.LeftButton, Qt.NoModifier)
        QApplication.sendEvent(self.view.viewport(), ev)
        return ev.isAccepted()


def test_a_layer_dropped_on_a_wire_is_spliced_in_as_one_undo_step(canvas):
    view = canvas
    src, dst = chain(view, "Input", "Conv2d")
    before = snapshot(view)
    old = Edge(src, dst)
    said = messages(view)
    assert PaletteDrag(view, "ReLU").drop(on_wire(view, old))
    assert edges(view) == {(src, "relu1", None, None), ("relu1", dst, None, None)}
    assert set(view.canvas_scene.wires) == {Edge(src, "relu1"), Edge("relu1", dst)}
    assert view.document.selection == ["relu1"]
    assert said[-1] == f"Inserted ReLU 'relu1' into {src} → {dst}"
    assert not view.document.analysis.problems_for("relu1")
    spliced = snapshot(view)
    assert view.canvas_scene.wires[Edge("relu1", dst)].label == "1×28×28"
    stack = view.document.undo_stack
    assert stack.undoText() == f"Insert relu1 into {src} → {dst}"
    stack.undo()  # one step takes the node out and puts the wire back exactly
    assert snapshot(view) == before
    assert set(view.canvas_scene.wires) == {old} and "relu1" not in view.canvas_scene.nodes
    stack.redo()
    assert snapshot(view) == spliced


def test_the_wire_lights_up_in_the_accent_colour_while_a_layer_hovers_over_it(canvas):
    view = canvas
    src, dst = chain(view, "Input", "Conv2d")
    w = view.canvas_scene.wires[Edge(src, dst)]
    accent = view.canvas_scene.theme.accent
    assert w.color() != accent
    drag_ = PaletteDrag(view, "BatchNorm2d")
    assert drag_.move(on_wire(view, Edge(src, dst)))
    assert w.splice_hint and w.color() == accent
    far = header_at(view, 230, 300)
    drag_.move(far)  # off the wire: the hint goes
    assert not w.splice_hint and w.color() != accent
    drag_.move(on_wire(view, Edge(src, dst), 0.45))
    assert w.splice_hint
    QApplication.sendEvent(view.viewport(), QDragLeaveEvent())
    assert not w.splice_hint  # the drag left the canvas
    assert snapshot(view)[1] == (Edge(src, dst),)


@pytest.mark.parametrize("type_name, why", [
    ("Linear", "needs a flat feature vector"),  # the shapes do not fit: 1×28×28 into Linear
    ("Input", "has no input"),  # the ports do not fit
    ("Output", "has no output"),
    ("TransformerDecoderLayer", "has 2 inputs (tgt, memory); wire them by hand"),
    # Flatten takes what the Input gives, but the Conv2d after it cannot take a flat vector
    ("Flatten", "Flatten gives [784], but Conv2d 'conv2d1'"),
])
@pytest.mark.fault("editing", "a layer dropped on a wire it, or the layer after it, does not fit (shape or ports)",
                   "a plain drop: the wire stays, the hint never lights, the status bar says why")
def test_a_layer_that_does_not_fit_is_dropped_plainly_and_the_wire_stays(canvas, type_name, why):
    view = canvas
    src, dst = chain(view, "Input", "Conv2d")
    w = view.canvas_scene.wires[Edge(src, dst)]
    said = messages(view)
    drag_ = PaletteDrag(view, type_name)
    drag_.move(on_wire(view, Edge(src, dst)))
    assert not w.splice_hint
    assert why in said[-1]
    assert drag_.drop(on_wire(view, Edge(src, dst)))
    new_id = view.document.selection[0]
    assert new_id not in (src, dst) and view.document.graph.node(new_id).type == type_name
    assert edges(view) == {(src, dst, None, None)}  # the wire is as it was
    assert said[-1].startswith(f"Added {type_name} '{new_id}'. Not inserted into {src} → {dst}: ")
    assert why in said[-1]
    view.document.undo_stack.undo()
    assert set(view.document.graph.nodes) == {src, dst}


@pytest.mark.parametrize("type_name, port", [("LSTM", "in"), ("TransformerEncoderLayer", "src"),
                                             ("MultiheadAttention", "query")])
def test_a_layer_with_optional_inputs_is_spliced_in_through_its_one_required_input(canvas, type_name, port):
    view = canvas
    src, dst = chain(view, "Input", "SequencePool")
    view.document.graph.set_param(src, "shape", [6, 8])  # a sequence flows in the wire
    assert PaletteDrag(view, type_name).drop(on_wire(view, Edge(src, dst)))
    new_id = view.document.selection[0]
    out = None if type_name == "TransformerEncoderLayer" else "out"  # named where a node has several
    assert edges(view) == {(src, new_id, None, port), (new_id, dst, out, None)}
    assert view.document.analysis.ok, [p.message for p in view.document.analysis.problems]


def test_splicing_into_a_concat_input_keeps_the_input_order(canvas):
    view = canvas
    for type_name, x, y in (("Input", 0, 0), ("ReLU", 460, -150), ("Tanh", 460, 150), ("Concat", 920, 0)):
        assert drop_node(view, type_name, header_at(view, x, y))
    wire(view, "input1", "relu1")
    wire(view, "input1", "tanh1")
    wire(view, "relu1", "concat1")
    wire(view, "tanh1", "concat1")
    into_concat = [e for e in view.document.graph.edges if e.target == "concat1"]
    assert [e.source for e in into_concat] == ["relu1", "tanh1"]
    assert PaletteDrag(view, "Sigmoid").drop(on_wire(view, Edge("relu1", "concat1")))
    assert [e.source for e in view.document.graph.edges if e.target == "concat1"] == ["sigmoid1", "tanh1"]
    view.document.undo_stack.undo()
    assert [e for e in view.document.graph.edges if e.target == "concat1"] == into_concat


def test_an_unwired_card_dragged_onto_a_wire_is_spliced_in_and_one_undo_restores_it(canvas):
    view = canvas
    src, dst = chain(view, "Input", "Conv2d")
    assert drop_node(view, "ReLU", header_at(view, 230, 300))
    before = snapshot(view)
    w = view.canvas_scene.wires[Edge(src, dst)]
    mid = on_wire(view, Edge(src, dst))
    start = card_pos(view, "relu1")
    drag(view, start, mid)
    assert edges(view) == {(src, "relu1", None, None), ("relu1", dst, None, None)}
    assert not any(x.splice_hint for x in view.canvas_scene.wires.values())
    assert w.scene() is None  # its item went with the wire
    view.document.undo_stack.undo()
    assert snapshot(view) == before  # the card is back where it was, the wire as it was
    view.document.undo_stack.redo()
    assert edges(view) == {(src, "relu1", None, None), ("relu1", dst, None, None)}


def test_a_wired_card_dragged_over_a_wire_just_moves(canvas):
    view = canvas
    a, b, c = chain(view, "Input", "Conv2d", "ReLU")
    assert drop_node(view, "ReLU", header_at(view, 230, 300))
    wire(view, c, "relu2")
    wired = edges(view)
    drag(view, card_pos(view, "relu2"), on_wire(view, Edge(a, b)))
    assert edges(view) == wired
    assert view.document.graph.node("relu2").pos != (230.0, 300.0)
