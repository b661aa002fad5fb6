"""A template that trains on the person's own data (resnet18: a folder of images) opens clean: no
Problems row for data not supplied yet; the training panel says what to put where, and Train waits."""
from __future__ import annotations

from studio.core.project import load_project

from .window_helpers import copied_template, dialog_log, isolated, open_window  # noqa: F401

RUN_TIMEOUT = 60_000


def test_resnet18_opens_clean_and_the_panel_asks_for_the_images(qtbot, isolated, dialog_log, tmp_path):  # noqa: F811
    path = copied_template(tmp_path, "resnet18")
    w = open_window(qtbot, load_project(path))
    ui = w.training
    qtbot.waitUntil(lambda: ui.preflight is not None, timeout=RUN_TIMEOUT)
    assert w.problems.model.problems == [], [p.message for p in w.problems.model.problems]
    assert w.status_problems.text() == "No problems"
    note = ui.panel.problems.text()
    assert ui.panel.problems.isVisibleTo(w) and "Cannot train yet" not in note
    assert note.startswith("Train waits for your data.") and str(path.parent / "images") in note, note
    assert not ui.can_train and not ui.panel.train_button.isEnabled()
    assert "images" in ui.panel.train_button.toolTip()
    w.document.undo_stack.setClean()
