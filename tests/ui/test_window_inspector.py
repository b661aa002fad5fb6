"""The inspector: typed editors from param specs; valid edits are undoable SetParams that update
shapes at once; invalid values are refused inline with the reason and never pushed."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QSpinBox

from studio.core.registry import default_registry
from studio.ui.inspector.editors import BoolEditor, ChoiceEditor, IntEditor, TextEditor, editor_for, parse_text

from .window_helpers import dialog_log, isolated, output_of, window  # noqa: F401


def select(window, node_id):
    window.document.set_selection([node_id])
    assert window.inspector.node_id == node_id
    return window.inspector


def retype(qtbot, line: QLineEdit, text: str) -> None:
    line.setFocus()
    line.selectAll()
    qtbot.keyClick(line, Qt.Key.Key_Backspace)
    qtbot.keyClicks(line, text)
    qtbot.keyClick(line, Qt.Key.Key_Return)


def test_editor_per_param_kind(qtbot):
    reg = default_registry()
    kinds = {}
    for spec in reg:
        for p in spec.params:
            kinds.setdefault((p.kind, p.optional), editor_for(p))
    assert isinstance(kinds[("int", False)], IntEditor)
    assert isinstance(kinds[("bool", False)], BoolEditor)
    assert isinstance(kinds[("choice", False)], ChoiceEditor)
    for kind in ("float", "size", "shape", "dims"):
        assert isinstance(kinds[(kind, False)], TextEditor)
    assert isinstance(kinds[("int", True)], TextEditor)  # optional: clearable
    spin = kinds[("int", False)].spin
    assert isinstance(spin, QSpinBox)


def test_parse_text_reads_what_people_type():
    conv = default_registry()["Conv2d"]
    k = conv.param("kernel_size")
    assert parse_text(k, "5") == 5
    assert parse_text(k, "5, 3") == [5, 3]
    assert parse_text(k, "(5 3)") == [5, 3]
    shape = default_registry()["Input"].param("shape")
    assert parse_text(shape, "[1, 28, 28]") == [1, 28, 28]


def test_shows_node_id_type_doc_shapes_and_size(window, qtbot):
    insp = select(window, "conv1")
    assert insp.id_edit.text() == "conv1"
    assert "Conv2d" in insp.type_label.text()
    assert "convolution" in insp.doc_label.text().lower()
    qtbot.waitUntil(lambda: insp.shape_text().get("Parameters") not in (None, "…"), timeout=60_000)
    shapes = insp.shape_text()
    assert shapes["Input"] == "[1, 8, 8]"
    assert shapes["Output"] == "[16, 8, 8]"
    assert shapes["Parameters"] == "160"
    assert isinstance(insp.rows["bias"].editor.check, QCheckBox)
    assert insp.rows["out_channels"].editor.spin.value() == 16


def test_spin_box_edit_updates_shapes_and_undo_restores(window, qtbot):
    insp = select(window, "conv1")
    doc = window.document
    spin = insp.rows["out_channels"].editor.spin
    retype(qtbot, spin.lineEdit(), "32")
    assert doc.graph.node("conv1").params["out_channels"] == 32
    assert insp.shape_text()["Output"] == "[32, 8, 8]"
    assert output_of(doc, "relu1") == "[32, 8, 8]"
    assert doc.undo_stack.count() == 1 and window.isWindowModified()
    window.actions_.undo.trigger()
    assert doc.graph.node("conv1").params["out_channels"] == 16
    assert insp.shape_text()["Output"] == "[16, 8, 8]"
    assert spin.value() == 16
    window.actions_.redo.trigger()
    assert spin.value() == 32 and output_of(doc, "relu1") == "[32, 8, 8]"


def test_size_field_accepts_one_or_two_numbers(window, qtbot):
    insp = select(window, "conv1")
    doc = window.document
    line = insp.rows["kernel_size"].editor.line
    retype(qtbot, line, "5")
    assert doc.graph.node("conv1").params["kernel_size"] == 5
    assert insp.shape_text()["Output"] == "[16, 6, 6]"
    retype(qtbot, line, "3, 1")
    assert doc.graph.node("conv1").params["kernel_size"] == [3, 1]
    assert insp.shape_text()["Output"] == "[16, 8, 10]"
    assert doc.undo_stack.count() == 2


@pytest.mark.fault('editing', 'an out-of-range or non-numeric value typed in the inspector',
                   'refused beside the field with the allowed range; the graph and undo stack unchanged')
def test_invalid_value_is_refused_with_the_reason(window, qtbot):
    insp = select(window, "conv1")
    doc = window.document
    row = insp.rows["kernel_size"]
    retype(qtbot, row.editor.line, "0")
    assert row.error.isVisible()
    assert "kernel_size" in row.error.text() and "between 1 and 1024" in row.error.text()
    assert row.editor.line.property("invalid") is True
    assert doc.graph.node("conv1").params["kernel_size"] == 3
    assert doc.undo_stack.count() == 0
    retype(qtbot, row.editor.line, "three")
    assert "whole numbers" in row.error.text()
    assert doc.undo_stack.count() == 0
    retype(qtbot, row.editor.line, "3, 3, 3")
    assert "list of 2" in row.error.text()
    retype(qtbot, row.editor.line, "2")  # fixing it clears the message and applies the value
    assert not row.error.isVisible() and row.error.text() == ""
    assert doc.graph.node("conv1").params["kernel_size"] == 2
    assert doc.undo_stack.count() == 1


def test_float_out_of_range_is_refused(window, qtbot):
    from studio.ui.commands import AddNode

    doc = window.document
    doc.push(AddNode(doc.graph, "Dropout", (0, 400), node_id="drop"))
    insp = select(window, "drop")
    row = insp.rows["p"]
    count = doc.undo_stack.count()
    retype(qtbot, row.editor.line, "1.5")
    assert "between 0 and 1" in row.error.text()
    assert doc.undo_stack.count() == count
    retype(qtbot, row.editor.line, "0.25")
    assert doc.graph.node("drop").params["p"] == 0.25


def test_typed_int_out_of_range_says_why(window, qtbot):
    insp = select(window, "conv1")
    row = insp.rows["out_channels"]
    row.editor.spin.lineEdit().selectAll()
    qtbot.keyClicks(row.editor.spin.lineEdit(), "0")
    assert "out_channels" in row.error.text() and "between 1 and 65536" in row.error.text()
    assert window.document.undo_stack.count() == 0


def test_choice_and_bool_editors_push_set_param(window, qtbot):
    insp = select(window, "conv1")
    doc = window.document
    check = insp.rows["bias"].editor.check
    qtbot.mouseClick(check, Qt.MouseButton.LeftButton, pos=check.rect().center())
    assert doc.graph.node("conv1").params["bias"] is False
    insp = select(window, "input")
    combo: QComboBox = insp.rows["dtype"].editor.combo
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Down)
    assert doc.graph.node("input").params.get("dtype") == "int64"
    assert doc.analysis.nodes["conv1"].error  # int64 into a Conv2d is an error, shown as such
    assert insp.node_error.isVisible() is False  # the Input itself is fine
    select(window, "conv1")
    assert window.inspector.node_error.isVisible()
    assert "floating-point" in window.inspector.node_error.text()


def test_optional_param_can_be_cleared(window, qtbot):
    insp = select(window, "pool1")
    doc = window.document
    line = insp.rows["stride"].editor.line
    assert line.placeholderText().startswith("empty")
    retype(qtbot, line, "1")
    assert doc.graph.node("pool1").params["stride"] == 1
    assert insp.shape_text()["Output"] == "[16, 7, 7]"
    retype(qtbot, line, "")
    assert "stride" not in doc.graph.node("pool1").params
    assert insp.shape_text()["Output"] == "[16, 4, 4]"


def test_rename_node_is_undoable_and_checked(window, qtbot):
    insp = select(window, "conv1")
    doc = window.document
    retype(qtbot, insp.id_edit, "features")
    assert "features" in doc.graph and "conv1" not in doc.graph
    assert insp.node_id == "features"
    retype(qtbot, insp.id_edit, "relu1")  # taken
    assert insp.id_error.isVisible() and "already exists" in insp.id_error.text()
    retype(qtbot, insp.id_edit, "2bad")
    assert "must start with a letter" in insp.id_error.text()
    doc.undo_stack.undo()
    assert "conv1" in doc.graph and insp.node_id == "conv1"


def test_disabled_while_locked(window):
    insp = select(window, "conv1")
    window.document.set_locked(True)
    assert not insp.body.isEnabled()
    assert not window.palette.isEnabled()
    window.document.set_locked(False)
    assert insp.body.isEnabled()


def test_empty_and_multiple_selection(window):
    window.document.set_selection([])
    assert window.inspector.stack.currentIndex() == 0
    window.document.set_selection(["conv1", "relu1"])
    assert "2 nodes selected" in window.inspector.empty.text()


def test_field_left_unfinished_applies_to_its_own_node(window, qtbot):
    insp = select(window, "conv1")
    doc = window.document
    line = insp.rows["kernel_size"].editor.line
    line.setFocus()
    line.selectAll()
    qtbot.keyClicks(line, "5")
    doc.set_selection(["pool1"])  # no Enter: the field finishes as the inspector moves on
    line.editingFinished.emit()
    assert doc.graph.node("conv1").params["kernel_size"] == 5
    assert doc.graph.node("pool1").params["kernel_size"] == 2
    assert window.inspector.node_id == "pool1"
