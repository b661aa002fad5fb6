"""Issue 14: events are the only road from the trainer to the screen. A real run from the Train button,
with the trainer, its model and its datasets watched: any read of them from a thread other than the
one that trains, while the run goes, is recorded. The run exercises every view that used to reach
around the events (the sample count and input picture at the start, the watched layer, a sample
picked while running and while paused, the worded notices), then stops; every wait has a timeout
and the run is shut down whatever happens."""
from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

import studio.training
from studio.core.project import load_project
from studio.training import Trainer

from .test_training_ui import set_epochs
from .window_helpers import copied_template, dialog_log, isolated, open_window  # noqa: F401

WAIT_MS = 60_000
# the trainer's model and datasets, and what holds them (the step, the optimizer, the metrics)
GUARDED = frozenset({"model", "train_model", "dataset", "splits", "info", "train_data", "val_data", "test_data",
                     "step_fn", "optimizer", "loss_fn", "metric_set"})


class Touches:
    """Who read what: (thread name, what, whether the run was going) for every read off the training
    thread. `running` is read on the thread that touches."""

    def __init__(self) -> None:
        self.owner: int | None = None
        self.running = lambda: False
        self.seen: list[tuple[str, str, bool]] = []

    def note(self, what: str) -> None:
        if self.owner is not None and threading.get_ident() != self.owner:
            self.seen.append((threading.current_thread().name, what, self.running()))

    def during_run(self) -> list:
        return [t for t in self.seen if t[2]]


TOUCHES = Touches()


class WatchedTrainer(Trainer):
    """The real trainer, built on the training thread; its model's forward passes, its dataset's
    transform and its guarded attributes report who reads them."""

    def __init__(self, model, dataset, *args, **kw) -> None:
        TOUCHES.owner = threading.get_ident()
        super().__init__(model, dataset, *args, **kw)
        model.register_forward_pre_hook(lambda _m, _i: TOUCHES.note("model forward"))
        transform = dataset.transform
        if transform is not None:
            def watched(x):
                TOUCHES.note("dataset transform")
                return transform(x)
            dataset.transform = watched

    def __getattribute__(self, name):
        if name in GUARDED:
            TOUCHES.note(f"trainer.{name}")
        return object.__getattribute__(self, name)


@pytest.fixture
def watched(monkeypatch):
    monkeypatch.setattr(studio.training, "Trainer", WatchedTrainer)  # what the worker builds
    TOUCHES.__init__()
    yield TOUCHES
    TOUCHES.__init__()


def step_sample(qtbot, ui, key) -> None:
    """Pick the next sample with the keyboard, as a person does; wait for its input to arrive."""
    box = ui.features.sample
    want = box.value() + 1
    with qtbot.waitSignal(ui.session.sample, timeout=WAIT_MS, check_params_cb=lambda e: e.index == want):
        box.setFocus()
        QTest.keyClick(box, key)
    assert box.value() == want and ui.session.watch_target == ("conv1", want)  # the layer stays watched


def test_no_gui_code_reads_the_trainer_its_model_or_datasets_during_a_run(qtbot, isolated, dialog_log, tmp_path,
                                                                         watched):
    win = open_window(qtbot, load_project(copied_template(tmp_path)), size=(1600, 1000))
    ui, panel, session = win.training, win.training.panel, win.training.session
    watched.running = lambda: session.running
    try:
        qtbot.waitUntil(lambda: panel.train_button.isEnabled(), timeout=WAIT_MS)
        set_epochs(qtbot, panel, 300)  # long enough to pause and stop it
        win.document.set_selection(["conv1"])
        with qtbot.waitSignal(session.started, timeout=WAIT_MS) as started:
            qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
        win.docks["features"].raise_()  # the watched layer's tab in front
        qtbot.waitUntil(lambda: ui.features.has_image() and ui.features.input_tile.has_image(), timeout=WAIT_MS)
        assert watched.owner is not None and not watched.during_run(), watched.during_run()
        assert ui.features.last_event.node_id == "conv1"
        e = started.args[0]
        assert e.shown_split == "val" and ui.features.sample.maximum() == e.shown_size - 1
        step_sample(qtbot, ui, Qt.Key.Key_Up)  # while training

        qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: session.state == "paused", timeout=WAIT_MS)
        step_sample(qtbot, ui, Qt.Key.Key_Up)  # while paused: the training thread still answers

        with qtbot.waitSignal(session.ended, timeout=WAIT_MS) as ended:
            qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
        assert ended.args[0].status == "stopped"
    finally:
        if session.running:
            session.shutdown(10_000)
        win.document.undo_stack.setClean()
    assert not watched.during_run(), watched.during_run()

    # once the run is over the trained model is the window's (the Probe): the guard sees it used
    box = ui.features.sample
    box.setFocus()
    QTest.keyClick(box, Qt.Key.Key_Up)
    assert ("MainThread", "model forward", False) in watched.seen
    assert ui.features.last_event.node_id == "conv1" and ui.features.last_event.sample_index == box.value()
