"""Issue 13, the training panel as a new user meets it: a blank project's dataset picked the obvious
way, forms that scroll under the wheel instead of changing values, Run buttons that stay in view,
status lines in plain words that do not go stale. Real clicks, keys and wheel events; waits on
signals and conditions."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from studio.core.project import load_project

from window_helpers import TEMPLATES, dialog_log, isolated, open_window  # noqa: F401

RUN_TIMEOUT = 60_000


def wait_preflight(qtbot, ui) -> None:
    ui.preflight = None
    qtbot.waitUntil(lambda: ui.preflight is not None, timeout=RUN_TIMEOUT)


def pick(qtbot, combo, data) -> None:
    """Open the combo's list and click the entry whose data is `data`, as a person does."""
    combo.showPopup()
    view = combo.view()
    qtbot.waitUntil(view.isVisible, timeout=5000)
    index = view.model().index(combo.findData(data), 0)
    view.scrollTo(index)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(index).center())
    qtbot.waitUntil(lambda: not view.isVisible(), timeout=5000)


def problem_lines(win) -> list[str]:
    model = win.problems.model
    return [model.data(model.index(r, 0)) for r in range(model.rowCount())]


@pytest.mark.fault('training UI', 'a blank project (no dataset) in the Training panel',
                   'the combo shows "Choose a dataset…", Train is off and the Problems list says why; '
                   'picking an entry sets it (undoably) and both clear')
def test_blank_project_dataset_is_picked_from_the_combo(qtbot, isolated, dialog_log):
    win = open_window(qtbot)  # File > New > blank
    ui, form = win.training, win.training.panel.form
    qtbot.waitUntil(lambda: ui.preflight is not None, timeout=RUN_TIMEOUT)
    assert form.dataset.currentIndex() == -1 and form.dataset.currentText() == ""
    assert form.dataset.placeholderText() == "Choose a dataset…"
    assert "None" not in form.description.text()
    assert not ui.panel.train_button.isEnabled()
    lines = problem_lines(win)
    assert any("No dataset chosen" in line for line in lines), lines
    assert not any("ready to train" in line for line in lines), lines
    assert "No dataset chosen" in ui.panel.problems.text()

    ui.preflight = None
    pick(qtbot, form.dataset, "digits")
    assert win.document.project.training["dataset"] == {"name": "digits"}
    assert win.document.undo_stack.undoText() == "Set dataset"
    qtbot.waitUntil(lambda: ui.preflight is not None, timeout=RUN_TIMEOUT)
    assert not any("dataset" in line.lower() for line in problem_lines(win))
    assert form.description.text() == form.entries["digits"].description

    win.document.undo_stack.undo()  # back to no dataset: the placeholder again
    assert form.dataset.currentIndex() == -1
    wait_preflight(qtbot, ui)
    assert any("No dataset chosen" in line for line in problem_lines(win))
    win.document.undo_stack.setClean()


@pytest.mark.fault('training UI', 'a project naming a dataset this install does not have',
                   'the combo shows the name as "not available", the panel says to choose one, Train is off')
def test_unknown_dataset_is_named_not_none(qtbot, isolated, dialog_log, tmp_path):
    project = load_project(TEMPLATES / "cnn_digits.json")
    project.training["dataset"] = {"name": "no_such_data"}
    win = open_window(qtbot, project)
    ui, form = win.training, win.training.panel.form
    qtbot.waitUntil(lambda: ui.preflight is not None, timeout=RUN_TIMEOUT)
    assert form.dataset.currentData() == "no_such_data"
    assert "not available" in form.dataset.currentText()
    assert "no_such_data" in form.description.text()
    assert not ui.panel.train_button.isEnabled()
    assert any("no_such_data" in line for line in problem_lines(win))
