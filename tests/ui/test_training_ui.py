"""Issue 6: click Train in the window and watch the model learn; pause, resume, stop; runs listed
and overlaid; export from the dialog; Train refused with a reason; the document locked during a run;
closing mid-run. Driven with real clicks; waits on signals and conditions, never sleeps."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDockWidget

from studio.core.project import load_project
from studio.ui.commands import RenameNode, SetParam
from studio.ui.training import file_dialogs

from .window_helpers import TEMPLATES, dialog_log, isolated, copied_template, open_window  # noqa: F401

RUN_TIMEOUT = 60_000


@pytest.fixture
def project_file(tmp_path) -> Path:
    """cnn_digits copied to a temporary folder (its runs folder is created beside it)."""
    return copied_template(tmp_path)


@pytest.fixture
def win(qtbot, isolated, dialog_log, project_file):
    w = open_window(qtbot, load_project(project_file), size=(1600, 1000))
    ui = w.training
    qtbot.waitUntil(lambda: ui.preflight is not None, timeout=RUN_TIMEOUT)
    yield w
    if ui.session.running:
        ui.session.shutdown(5000)
    w.document.undo_stack.setClean()


def click(qtbot, button) -> None:
    assert button.isEnabled(), button.toolTip()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def set_epochs(qtbot, panel, n: int) -> None:
    box = panel.form.epochs
    box.setFocus()
    box.selectAll()
    qtbot.keyClicks(box, str(n))
    QTest.keyClick(box, Qt.Key.Key_Return)
    assert box.value() == n


def test_click_train_watch_pause_resume_stop_overlay(win, qtbot, project_file):
    ui, panel, doc = win.training, win.training.panel, win.document
    set_epochs(qtbot, panel, 300)  # long enough to pause and stop it
    assert doc.project.training["epochs"] == 300
    doc.set_selection(["conv1"])
    assert ui.features.node_id == "conv1"
    click(qtbot, panel.train_button)
    win.docks["features"].raise_()  # its tab (beside Curves) in front: a layer is watched while in view
    assert doc.locked and not panel.form.isEnabled() and not panel.train_button.isEnabled()
    qtbot.waitUntil(lambda: ui.curves.has_points() and ui.features.has_image(), timeout=RUN_TIMEOUT)
    assert ui.features.last_event.value.shape == (16, 8, 8)
    assert ui.features.input_tile.has_image()
    assert doc.push(SetParam(doc.graph, "conv1", "out_channels", 8)) is False  # the run holds the graph

    click(qtbot, panel.pause_button)
    qtbot.waitUntil(lambda: ui.session.state == "paused", timeout=RUN_TIMEOUT)
    assert panel.resume_button.isEnabled() and not panel.pause_button.isEnabled()
    n = len(ui.curves.raw)
    click(qtbot, panel.resume_button)
    qtbot.waitUntil(lambda: ui.session.state == "running" and len(ui.curves.raw) > n, timeout=RUN_TIMEOUT)
    qtbot.waitUntil(lambda: ui.report.last is not None, timeout=RUN_TIMEOUT)  # an epoch's report
    assert ui.report.confusion.matrix.shape == (10, 10)
    assert ui.norms.has_points()
    with qtbot.waitSignal(ui.session.ended, timeout=RUN_TIMEOUT) as ended:
        click(qtbot, panel.stop_button)
    assert ended.args[0].status == "stopped"
    assert not doc.locked and panel.train_button.isEnabled()

    runs_dir = project_file.parent / "cnn_digits.runs"
    run_dirs = [p for p in runs_dir.iterdir() if p.is_dir()]
    assert len(run_dirs) == 1
    assert (run_dirs[0] / "metrics.jsonl").read_text().strip()
    assert (run_dirs[0] / "steps.jsonl").read_text().strip()
    assert panel.runs.count() == 1
    item = panel.runs.item(0)
    assert "stopped" in item.text()
    item.setCheckState(Qt.CheckState.Checked)  # what a click on the checkbox does
    assert ui.curves.overlay_names() == [run_dirs[0].name]

    # export ONNX from the dialog, from the run's weights; the onnxruntime check passes
    dialog = ui.open_export()
    qtbot.addWidget(dialog)
    assert "Trained" in dialog.weights.currentText()
    dialog.format.setCurrentIndex(dialog.format.findData("onnx"))
    out = project_file.parent / "model.onnx"
    dialog.path.setText(str(out))
    with qtbot.waitSignal(dialog.finished_export, timeout=RUN_TIMEOUT) as done:
        click(qtbot, dialog.export_button)
    report = done.args[0]
    assert report is not None, dialog.error
    assert report.check.passed and out.is_file()
    assert "passed" in dialog.verdict.text() and "max abs diff" in dialog.verdict.text()


def test_panels_hold_still_while_a_run_reports(win, qtbot):
    """Live text (a layer's step count, a legend, tick labels) must not resize the docks or move the
    plots: a resize repaints every plot in the window (30-50 ms a time in bench ui), and looks jumpy."""
    ui, panel = win.training, win.training.panel
    set_epochs(qtbot, panel, 16)  # long enough for 20+ frames on a fast machine
    win.document.set_selection(["conv1"])
    ui.show_training_layout()
    docks = [w for w in win.findChildren(QDockWidget) if w.isVisible()]
    plots = [ui.curves.loss_plot, ui.curves.metric_plot, ui.curves.lr_plot]
    layouts: list[tuple] = []
    ui.session.frame.connect(lambda: layouts.append(tuple((d.width(), d.height()) for d in docks)
                                                   + tuple(round(p.size().width()) for p in plots)))
    with qtbot.waitSignal(ui.session.ended, timeout=RUN_TIMEOUT):
        click(qtbot, panel.train_button)
    changes = sum(a != b for a, b in zip(layouts, layouts[1:]))
    assert len(layouts) > 20 and changes <= 2, f"{changes} layout changes in {len(layouts)} frames"


def test_feature_maps_panel_hidden_means_no_watch(win, qtbot):
    ui = win.training
    ui.docks["features"].raise_()  # its tab in front (it shares a tab group with Curves)
    qtbot.waitUntil(lambda: not ui.docks["features"].visibleRegion().isEmpty(), timeout=5000)
    win.document.set_selection(["conv1"])
    assert ui.session.watch_target == ("conv1", 0)
    ui.docks["features"].hide()
    assert ui.session.watch_target is None
    ui.docks["features"].show()
    ui.docks["features"].raise_()
    qtbot.waitUntil(lambda: ui.session.watch_target == ("conv1", 0), timeout=5000)


@pytest.mark.fault('training UI', 'Train with a graph that has an error (9x9 kernel on a 4x4 map)',
                   'Train is off; its tooltip names the node; undo turns it back on')
def test_train_disabled_with_reason_for_a_broken_graph(win, qtbot):
    ui, doc = win.training, win.document
    assert ui.panel.train_button.isEnabled()
    doc.push(SetParam(doc.graph, "conv2", "kernel_size", 9))  # 9x9 kernel on a 4x4 map
    qtbot.waitUntil(lambda: not ui.panel.train_button.isEnabled(), timeout=10_000)
    assert "conv2" in ui.panel.train_button.toolTip()
    doc.undo_stack.undo()
    qtbot.waitUntil(ui.panel.train_button.isEnabled, timeout=10_000)


@pytest.mark.fault('training UI', 'Train with an Input shape the dataset does not give',
                   'Train is off; the reason names the dataset and both shapes')
def test_train_disabled_when_the_dataset_does_not_fit(win, qtbot):
    ui, doc = win.training, win.document
    doc.push(SetParam(doc.graph, "input", "shape", [1, 28, 28]))
    qtbot.waitUntil(lambda: not ui.panel.train_button.isEnabled(), timeout=20_000)
    tip = ui.panel.train_button.toolTip()
    assert "digits" in tip and "[1, 8, 8]" in tip
    assert ui.panel.problems.isVisible()


def test_settings_are_undoable_commands(win, qtbot):
    panel, doc = win.training.panel, win.document
    lr = panel.form.lr
    lr.setFocus()
    lr.selectAll()
    qtbot.keyClicks(lr, "0.05")
    QTest.keyClick(lr, Qt.Key.Key_Return)
    assert doc.project.training["optimizer"]["lr"] == 0.05
    assert win.isWindowModified()
    doc.undo_stack.undo()
    assert doc.project.training["optimizer"]["lr"] == 0.002
    assert lr.text() == "0.002"
    panel.form.optimizer.setCurrentText("SGD")
    assert doc.project.training["optimizer"] == {"type": "SGD", "lr": 0.002}


def test_a_training_change_from_outside_the_form_reaches_the_form_and_the_preflight(win, qtbot):
    """The section changes through the model (Project.set_training), so a command pushed by anyone
    (a script, another view) is heard by everything that reads it, undo included."""
    from studio.ui.training.commands import SetTraining, with_value

    ui, doc = win.training, win.document
    heard = []
    doc.training_changed.connect(heard.append)
    training = doc.project.training
    doc.push(SetTraining(doc.project, with_value(training, ("dataset",), {"name": "moons"})))
    assert heard and heard[-1]["dataset"] == {"name": "moons"}
    assert ui.panel.form.dataset.currentData() == "moons"
    qtbot.waitUntil(lambda: not ui.panel.train_button.isEnabled(), timeout=20_000)  # [1, 8, 8] vs moons
    doc.push(SetTraining(doc.project, with_value(doc.project.training, ("epochs",), 7), field="epochs"))
    assert ui.panel.form.epochs.value() == 7
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert ui.panel.form.dataset.currentData() == "digits" and ui.panel.form.epochs.value() != 7
    qtbot.waitUntil(ui.panel.train_button.isEnabled, timeout=20_000)


@pytest.mark.fault('window', 'closing the window mid-run, answering No then Yes',
                   'No keeps the window and the run; Yes stops it within 1.5 s and the thread has ended')
def test_closing_mid_run_asks_and_stops_cleanly(win, qtbot, monkeypatch):
    ui = win.training
    asked = []
    monkeypatch.setattr(file_dialogs, "ask_stop_run", lambda parent, **kw: asked.append(1) or False)
    set_epochs(qtbot, ui.panel, 300)
    click(qtbot, ui.panel.train_button)
    qtbot.waitUntil(lambda: ui.session.state == "running", timeout=RUN_TIMEOUT)
    assert not win.close()  # "no": the window stays and the run goes on
    assert asked and ui.session.running
    monkeypatch.setattr(file_dialogs, "ask_stop_run", lambda parent, **kw: True)
    worker = ui.session.worker
    t0 = time.perf_counter()
    win.document.undo_stack.setClean()
    assert win.close()
    assert time.perf_counter() - t0 < 1.5
    assert worker.isFinished() and not ui.session.running
    assert ui.session.last_end.status == "stopped"


def test_a_run_that_ends_while_the_close_question_is_open_lets_the_close_go_on(qtbot):
    from PySide6.QtCore import QObject, QTimer, Signal
    from PySide6.QtWidgets import QApplication

    class Run(QObject):
        ended = Signal(object)

    run = Run()
    QTimer.singleShot(0, lambda: run.ended.emit(None))  # fires inside the question's own event loop
    assert file_dialogs.ask_stop_run(None, ended=run.ended)  # nothing is left to stop: the close goes on
    run.ended.emit(None)  # disconnected: a later end reaches no deleted box
    # while the run goes on, Cancel (Escape) keeps the window
    QTimer.singleShot(0, lambda: QTest.keyClick(QApplication.activeModalWidget(), Qt.Key.Key_Escape))
    assert not file_dialogs.ask_stop_run(None, ended=run.ended)


def test_device_selector_lists_cuda_and_mps(monkeypatch):
    import torch
    from types import SimpleNamespace

    from studio.ui.training.devices import list_devices

    props = [SimpleNamespace(name="NVIDIA H100 80GB HBM3", total_memory=80 * 2**30, major=9, minor=0),
             SimpleNamespace(name="NVIDIA GeForce RTX 3060", total_memory=12 * 2**30, major=8, minor=6)]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda i: props[i])
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    labels = {d.value: d.label for d in list_devices()}
    assert labels["auto"] == "Auto (cuda:0)"
    assert labels["cuda:0"] == "cuda:0 · NVIDIA H100 80GB HBM3 · 80 GiB"
    assert labels["cuda:1"] == "cuda:1 · NVIDIA GeForce RTX 3060 · 12 GiB"
    assert "mps" in labels and "cpu" in labels


def test_event_queue_keeps_every_step_and_the_newest_activation():
    from studio.training.events import ActivationEvent, PausedEvent, StepEvent
    from studio.ui.training.events_queue import EventQueue

    q = EventQueue()
    for i in range(5):
        q.put(StepEvent(1, i, 10, i, 1.0 / (i + 1), 0.1, 100.0, 1.0, 0.1))
        q.put(ActivationEvent("conv1", 1, i, 0, i))
    q.put(PausedEvent(1, 5))
    b = q.take()
    assert [e.global_step for e in b.steps] == [0, 1, 2, 3, 4]
    assert b.activation.value == 4 and q.dropped == 4
    assert [e.kind for e in b.other] == ["paused"]
    assert not q.take()


def test_feature_maps_show_the_first_convolution_until_a_layer_is_selected(win, qtbot):
    """After a run with nothing selected, the panel shows conv1's maps (not an empty box); a selected
    layer replaces it, and clearing the selection brings the first convolution back."""
    ui, doc = win.training, win.document
    set_epochs(qtbot, ui.panel, 1)
    assert doc.selection == [] and ui.features.node_id == "conv1"
    assert "the first convolution" in ui.features.title.text()
    with qtbot.waitSignal(ui.session.ended, timeout=RUN_TIMEOUT):
        click(qtbot, ui.panel.train_button)
    win.docks["features"].raise_()
    qtbot.waitUntil(ui.features.has_image, timeout=RUN_TIMEOUT)
    assert ui.features.last_event.node_id == "conv1" and ui.features.last_event.value.shape == (16, 8, 8)
    doc.set_selection(["conv2"])
    qtbot.waitUntil(lambda: ui.features.last_event is not None and ui.features.last_event.node_id == "conv2",
                    timeout=RUN_TIMEOUT)
    doc.set_selection([])
    assert ui.features.node_id == "conv1"
    qtbot.waitUntil(lambda: ui.features.last_event is not None and ui.features.last_event.node_id == "conv1",
                    timeout=RUN_TIMEOUT)
    doc.push(RenameNode(doc.graph, "conv1", "stem"))  # an edit that changes which layer is first
    assert ui.features.node_id == "stem" and ui.features.title.text().startswith("stem · Conv2d")
    doc.undo_stack.undo()
    assert ui.features.node_id == "conv1"


@pytest.fixture
def held_check(monkeypatch):
    """The pre-flight check waits until the test lets it go (the first check takes seconds: torch's
    import, the data); returns the release."""
    import threading

    from studio.ui.training import preflight

    gate, real = threading.Event(), preflight.check
    monkeypatch.setattr(preflight, "check", lambda *a, **kw: gate.wait(60) and real(*a, **kw))
    yield gate.set
    gate.set()


def test_train_pressed_while_the_dataset_is_checked_starts_when_the_check_passes(qtbot, isolated, dialog_log,
                                                                                  project_file, held_check):
    w = open_window(qtbot, load_project(project_file), size=(1600, 1000))
    ui, panel = w.training, w.training.panel
    assert panel.status.text() == "Checking the dataset…" and ui.preflight is None
    click(qtbot, panel.train_button)  # the first click of a fresh window is not lost
    assert not ui.session.running and "as soon as the dataset is checked" in panel.status.text()
    assert not panel.train_button.isEnabled() and panel.stop_button.isEnabled()
    with qtbot.waitSignal(ui.session.started, timeout=RUN_TIMEOUT):
        held_check()
    assert ui.preflight.ok
    with qtbot.waitSignal(ui.session.ended, timeout=RUN_TIMEOUT):
        ui.session.stop()


def test_stop_takes_back_a_train_press_made_while_checking(qtbot, isolated, dialog_log, project_file, held_check):
    w = open_window(qtbot, load_project(project_file), size=(1600, 1000))
    ui, panel = w.training, w.training.panel
    click(qtbot, panel.train_button)
    assert ui.train_pending and panel.stop_button.isEnabled()
    click(qtbot, panel.stop_button)
    assert not ui.train_pending
    assert panel.status.text() == "Checking the dataset…" and panel.train_button.isEnabled()
    with qtbot.waitSignal(ui.preflight_ready, timeout=RUN_TIMEOUT):
        held_check()
    assert ui.can_train and not ui.session.running and panel.status.text() == "Ready to train"


def test_a_train_press_made_while_checking_does_not_start_a_run_the_check_refuses(qtbot, isolated, dialog_log,
                                                                                   tmp_path, held_check):
    import json

    path = copied_template(tmp_path)
    project = json.loads(path.read_text())
    project["training"]["dataset"] = {"name": "csv", "options": {"path": "missing.csv"}}
    path.write_text(json.dumps(project))
    w = open_window(qtbot, load_project(path), size=(1600, 1000))
    ui, panel = w.training, w.training.panel
    click(qtbot, panel.train_button)
    assert ui.train_pending
    with qtbot.waitSignal(ui.preflight_ready, timeout=RUN_TIMEOUT):
        held_check()
    assert not ui.can_train and not ui.session.running and not ui.train_pending
    assert panel.status.text() == "Not ready to train: see above" and not panel.train_button.isEnabled()


def test_a_train_press_made_while_checking_is_dropped_when_the_graph_breaks(qtbot, isolated, dialog_log,
                                                                             project_file, held_check):
    """"Not ready" said while the press waited: fixing the graph again must not start a run by itself."""
    w = open_window(qtbot, load_project(project_file), size=(1600, 1000))
    ui, panel, doc = w.training, w.training.panel, w.document
    click(qtbot, panel.train_button)
    doc.push(SetParam(doc.graph, "conv2", "kernel_size", 9))  # larger than its 4x4 input: the graph has errors
    assert not doc.analysis.ok
    qtbot.waitUntil(lambda: panel.status.text() == "Not ready to train: see above", timeout=RUN_TIMEOUT)
    assert not ui.train_pending and not panel.stop_button.isEnabled()
    doc.undo_stack.undo()
    with qtbot.waitSignal(ui.preflight_ready, timeout=RUN_TIMEOUT):
        held_check()
    qtbot.waitUntil(lambda: ui.can_train, timeout=RUN_TIMEOUT)
    assert not ui.session.running and panel.status.text() == "Ready to train"
