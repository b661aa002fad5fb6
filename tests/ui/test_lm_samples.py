"""Issue 16, items 5 and 7 in the window: the inspector's "Shares weights of" choice (an undoable
command), and a language model's samples shown after each epoch of a run started with Train."""
from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt

from studio.core.graph import Graph
from studio.core.project import Project, load_project
from studio.ui.commands import Paste

from .window_helpers import TEMPLATES, dialog_log, isolated, open_window  # noqa: F401

RUN_TIMEOUT = 120_000


def two_encoders() -> Project:
    g = Graph()
    g.add_node("Input", {"shape": [8]}, (0, 0), node_id="left")
    g.add_node("Input", {"shape": [8]}, (0, 200), node_id="right")
    g.add_node("Linear", {"out_features": 16}, (240, 0), node_id="enc1")
    g.add_node("Linear", {"out_features": 16}, (240, 200), node_id="enc2")
    g.add_node("Concat", {"dim": 1}, (480, 100), node_id="both")
    g.add_node("Linear", {"out_features": 1}, (720, 100), node_id="head")
    g.add_node("Output", None, (960, 100), node_id="out")
    for a, b in (("left", "enc1"), ("right", "enc2"), ("enc1", "both"), ("enc2", "both"), ("both", "head"),
                 ("head", "out")):
        g.connect(a, b)
    return Project("siamese", g)


def test_the_inspector_offers_compatible_nodes_and_the_choice_is_undoable(qtbot, isolated, dialog_log):
    win = open_window(qtbot, two_encoders())
    doc, insp = win.document, win.inspector
    doc.set_selection(["head"])
    assert insp.shares.isHidden()  # no other Linear of its params and input shape
    doc.set_selection(["enc2"])
    combo = insp.shares.combo
    assert insp.shares.isVisible()
    assert [combo.itemText(i) for i in range(combo.count())] == ["its own weights", "enc1"]
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Down)
    assert doc.graph.node("enc2").shares == "enc1"
    qtbot.waitUntil(lambda: insp.shape_text().get("Parameters") == "0", timeout=60_000)
    card = win.canvas.canvas_scene.nodes["enc2"].data
    assert ("shares", "enc1") in card.params
    assert doc.project.to_json()["nodes"][3]["shares"] == "enc1"
    doc.undo_stack.undo()
    assert doc.graph.node("enc2").shares is None and combo.currentIndex() == 0
    doc.undo_stack.redo()
    assert doc.graph.node("enc2").shares == "enc1" and combo.currentText() == "enc1"
    paste = Paste(doc.graph, doc.graph.subgraph_data(["enc1", "enc2"]))
    doc.push(paste)
    copy1, copy2 = paste.new_ids
    assert doc.graph.node(copy2).shares == copy1  # the copies share with each other
    paste = Paste(doc.graph, doc.graph.subgraph_data(["enc2"]))
    doc.push(paste)
    assert doc.graph.node(paste.new_ids[0]).shares == "enc1"  # a copy alone shares what the original did
    doc.undo_stack.setClean()


@pytest.fixture
def lm_file(tmp_path):
    """The character Transformer template on a short text, one epoch: a run of a few seconds."""
    record = json.loads((TEMPLATES / "char_transformer_lm.json").read_text())
    record["training"]["dataset"].update(max_chars=6000, sample_length=60, prompt="The ")
    record["training"].update(epochs=2, device="cpu")
    path = tmp_path / "proj" / "lm.json"
    path.parent.mkdir()
    path.write_text(json.dumps(record))
    return path


def test_train_shows_the_models_sample_after_each_epoch(qtbot, isolated, dialog_log, lm_file):
    win = open_window(qtbot, load_project(lm_file), size=(1600, 1000))
    ui = win.training
    qtbot.waitUntil(lambda: ui.preflight is not None and ui.can_train, timeout=RUN_TIMEOUT)
    view = ui.text_samples
    samples = []
    ui.session.text_sample.connect(samples.append)
    with qtbot.waitSignal(ui.session.text_sample, timeout=RUN_TIMEOUT):
        qtbot.mouseClick(ui.panel.train_button, Qt.MouseButton.LeftButton)
    first = samples[0]
    assert first.epoch == 1 and len(first.text) == 60 and first.prompt == "The "
    assert first.prompt + first.text in view.shown_text()
    assert "Epoch 1" in view.caption.text() and "'The '" in view.caption.text()
    qtbot.waitUntil(lambda: ui.docks["samples"].isVisible(), timeout=5000)  # brought to the front
    qtbot.waitUntil(lambda: not ui.session.running, timeout=RUN_TIMEOUT)
    assert [s.epoch for s in samples] == [1, 2]
    shown = view.shown_text()
    assert shown.index("epoch 2") < shown.index("epoch 1")  # newest first
    win.document.undo_stack.setClean()
