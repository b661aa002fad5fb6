"""Issue 13's acceptance, as a new user does it: a blank project; drag Input, Flatten, Linear and Output
from the palette, wire them, pick digits, fix the Input's shape the panel asks for, click Train: it
trains; then File > Export as PyTorch code, and the exported script trains on its own."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QLineEdit

from .canvas_helpers import drop_node, wire
from .test_panel_first_hour import RUN_TIMEOUT, pick
from .window_helpers import dialog_log, isolated, open_window  # noqa: F401


def _click(qtbot, widget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def _retype(qtbot, line: QLineEdit, text: str) -> None:
    qtbot.mouseClick(line, Qt.MouseButton.LeftButton)
    line.selectAll()
    qtbot.keyClick(line, Qt.Key.Key_Backspace)
    qtbot.keyClicks(line, text)
    qtbot.keyClick(line, Qt.Key.Key_Return)


@pytest.mark.slow
def test_a_blank_project_built_by_hand_trains_and_its_code_trains_alone(qtbot, isolated, dialog_log, tmp_path):
    win = open_window(qtbot, size=(1440, 900))  # File > New: a blank project
    doc, view, ui = win.document, win.canvas, win.training
    assert not doc.graph.nodes

    # four layers dropped from the palette, left to right, then wired output -> input
    viewport = view.viewport()
    y = viewport.height() // 3
    for i, type_name in enumerate(("Input", "Flatten", "Linear", "Output")):
        assert drop_node(view, type_name, QPoint(120 + i * 230, y)), type_name
    ids = {doc.graph.node(n).type: n for n in doc.graph.nodes}
    assert set(ids) == {"Input", "Flatten", "Linear", "Output"}
    for a, b in (("Input", "Flatten"), ("Flatten", "Linear"), ("Linear", "Output")):
        wire(view, ids[a], ids[b])
    assert len(doc.graph.edges) == 3, doc.graph.edges
    undo_steps = doc.undo_stack.count()

    # the Training panel: pick digits from the combo, as a person does
    form = ui.panel.form
    win.docks["training"].raise_()
    ui.preflight = None
    pick(qtbot, form.dataset, "digits")
    assert doc.project.training["dataset"] == {"name": "digits"}
    qtbot.waitUntil(lambda: ui.preflight is not None, timeout=RUN_TIMEOUT)
    # the Input's default shape is an MNIST image; the panel names the shape the digits have
    assert not ui.panel.train_button.isEnabled()
    assert "[1, 8, 8]" in ui.panel.problems.text() or "1, 8, 8" in ui.panel.train_button.toolTip(), \
        (ui.panel.problems.text(), ui.panel.train_button.toolTip())

    # fix it in the inspector: select the Input, retype its shape
    doc.set_selection([ids["Input"]])
    win.docks["inspector"].raise_()
    line = win.inspector.rows["shape"].editor.findChild(QLineEdit)
    ui.preflight = None
    _retype(qtbot, line, "1, 8, 8")
    assert doc.graph.node(ids["Input"]).params["shape"] == [1, 8, 8]
    qtbot.waitUntil(lambda: ui.preflight is not None and ui.panel.train_button.isEnabled(), timeout=RUN_TIMEOUT)
    assert doc.undo_stack.count() > undo_steps

    # two epochs, then Train
    win.docks["training"].raise_()
    _retype(qtbot, form.epochs.lineEdit(), "2")
    assert doc.project.training["epochs"] == 2
    with qtbot.waitSignal(ui.session.ended, timeout=RUN_TIMEOUT) as ended:
        _click(qtbot, ui.panel.train_button)
    assert ended.args[0].status == "finished", ended.args[0]
    assert ui.curves.has_points()

    # File > Export as PyTorch code, from the trained weights; then the script trains alone
    dialog = ui.open_export()
    qtbot.addWidget(dialog)
    dialog.format.setCurrentIndex(dialog.format.findData("code"))
    out = tmp_path / "exported" / "hand_built.py"
    dialog.path.setText(str(out))
    with qtbot.waitSignal(dialog.finished_export, timeout=RUN_TIMEOUT) as done:
        _click(qtbot, dialog.export_button)
    assert done.args[0] is not None, dialog.error
    assert out.is_file()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # on its own: no NetStudio on the path
    script = subprocess.run([sys.executable, str(out), "--epochs", "3"], capture_output=True, text=True,
                            cwd=out.parent, timeout=600, env=env)
    assert script.returncode == 0, script.stderr[-2000:]
    losses = [float(v) for v in re.findall(r"train loss (\S+)", script.stdout)]
    assert len(losses) == 3 and losses[0] > losses[-1], script.stdout[-2000:]
