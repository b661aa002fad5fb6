"""Fine-tuning in the window (issue 17 item 5): the inspector's Frozen checkbox and learning-rate
multiplier are undoable edits shown on the card (a "frozen" / "lr×k" pill); a bad multiplier is
refused beside the field, naming the node and the field, and nothing is pushed."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt

from .test_window_inspector import retype, select
from .window_helpers import dialog_log, isolated, window  # noqa: F401


def test_freeze_is_an_undoable_checkbox_shown_on_the_card(window, qtbot):
    insp = select(window, "fc1")
    doc, card = window.document, window.canvas.canvas_scene.nodes["fc1"]
    box = insp.tuning.frozen
    assert insp.tuning.isVisible() and not box.isChecked()
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))
    assert doc.graph.node("fc1").frozen and doc.undo_stack.count() == 1
    qtbot.waitUntil(lambda: card.data.frozen, timeout=5000)
    assert card.data.tuning == "frozen" and not insp.tuning.lr_mult.isEnabled()
    window.actions_.undo.trigger()
    assert not doc.graph.node("fc1").frozen and not box.isChecked()
    qtbot.waitUntil(lambda: not card.data.frozen, timeout=5000)
    window.actions_.redo.trigger()
    assert doc.graph.node("fc1").frozen and box.isChecked()
    assert '"frozen": true' in doc.project.dumps()


def test_a_layer_without_weights_has_no_fine_tuning_section(window):
    assert not select(window, "relu1").tuning.isVisible()


def test_the_learning_rate_multiplier_is_undoable_and_on_the_card(window, qtbot):
    insp = select(window, "conv1")
    doc, card = window.document, window.canvas.canvas_scene.nodes["conv1"]
    retype(qtbot, insp.tuning.lr_mult, "0.1")
    assert doc.graph.node("conv1").lr_mult == 0.1 and doc.undo_stack.count() == 1
    qtbot.waitUntil(lambda: card.data.tuning == "lr×0.1", timeout=5000)
    window.actions_.undo.trigger()
    assert doc.graph.node("conv1").lr_mult == 1.0 and insp.tuning.lr_mult.text() == "1"


@pytest.mark.fault("editing", "a learning-rate multiplier of 0, -1 or text typed in the inspector",
                   "refused beside the field naming the node and lr_mult; the graph and undo stack unchanged")
def test_a_bad_multiplier_is_refused_beside_the_field(window, qtbot):
    insp = select(window, "conv1")
    for text in ("0", "-1", "fast", "inf"):
        retype(qtbot, insp.tuning.lr_mult, text)
        assert window.document.undo_stack.count() == 0 and window.document.graph.node("conv1").lr_mult == 1.0
        assert insp.tuning.error.isVisible(), text
        assert "node 'conv1'" in insp.tuning.error.text() and "lr_mult" in insp.tuning.error.text()


def _menu_action(window, node_id: str, starts: str):
    from studio.ui.canvas.context_menu import canvas_menu

    from .canvas_helpers import card_pos

    window.canvas.centerOn(window.canvas.canvas_scene.nodes[node_id])
    menu = canvas_menu(window.canvas, card_pos(window.canvas, node_id))
    return next((a for a in menu.actions() if a.text().startswith(starts)), None)


def test_the_canvas_menu_freezes_and_sizes_the_head_without_weights(window, qtbot):
    doc = window.document
    _menu_action(window, "conv1", "Freeze 'conv1'").trigger()
    assert doc.graph.node("conv1").frozen
    assert _menu_action(window, "conv1", "Unfreeze 'conv1'") is not None
    assert _menu_action(window, "fc1", "Replace head") is None  # not the layer the model returns
    doc.graph.set_param("fc2", "out_features", 4)
    _menu_action(window, "fc2", "Replace head 'fc2'").trigger()  # digits: 10 classes, no weights file
    assert doc.graph.node("fc2").params["out_features"] == 10
    doc.undo_stack.undo()
    assert doc.graph.node("fc2").params["out_features"] == 4
    doc.undo_stack.undo()
    assert not doc.graph.node("conv1").frozen


def test_replace_head_with_pretrained_weights_opens_a_new_project(qtbot, isolated, dialog_log, tmp_path):
    from studio.core.project import load_project

    from tests.importing.test_finetune import imported_project

    from .window_helpers import open_window

    source = imported_project(tmp_path)
    before = (source.read_bytes(), source.with_suffix(".safetensors").read_bytes())
    w = open_window(qtbot, load_project(source))
    dialog_log.save_path = str(tmp_path / "tuned.json")
    _menu_action(w, "fc", "Replace head 'fc'").trigger()
    qtbot.waitUntil(lambda: w.document.project.path == tmp_path / "tuned.json", timeout=10_000)
    assert w.document.graph.node("fc").params["out_features"] == 3 and not dialog_log.errors
    assert (source.read_bytes(), source.with_suffix(".safetensors").read_bytes()) == before


def test_the_training_preflight_suggests_replacing_the_head(tmp_path):
    from studio.core.analysis import analyze
    from studio.core.project import load_project
    from studio.ui.training.preflight import check

    from tests.importing.test_finetune import imported_project

    project = load_project(imported_project(tmp_path))
    result = check(project.training, analyze(project.graph), project.graph.edges, tmp_path)
    assert any("right-click 'fc' > Replace head" in p for p in result.problems), result.problems
