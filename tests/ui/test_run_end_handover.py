"""The end of a run, when the training thread hands the trained model to the GUI: the GUI takes the
run (its end, its Probe) only once the thread has ended, and a finished run lets go of its trainer
(model, optimizer state, data copies) as soon as the worker goes, not at some later collection of a
cycle on whichever thread runs it."""
from __future__ import annotations

import gc
import threading
import weakref

from PySide6.QtCore import Qt

from studio.ui.document import Document
from studio.ui.training.session import TrainingSession
from studio.ui.training.worker import TrainingWorker

from .test_run_folder_lock import small_project

WAIT_MS = 60_000
HOLD_S = 2.0  # how long the thread, past its `finished`, waits for the GUI to have taken the run


def test_the_gui_takes_the_run_only_once_its_thread_has_ended(qtbot):
    session = TrainingSession(Document(small_project()))
    took = threading.Event()
    seen = []

    def on_ended(end):
        seen.append((end.status, worker.wait(0), end.probe is not None))  # wait(0): has the thread ended?
        took.set()

    session.ended.connect(on_ended)
    session.start(small_project(), None)
    worker = session.worker
    # on the training thread, right after `finished`: the thread is kept from ending until the GUI
    # has taken the run or HOLD_S has passed (Qt emits `finished` before the thread has ended; its
    # isFinished() is already true then, wait(0) is not)
    worker.finished.connect(lambda: took.wait(HOLD_S), Qt.ConnectionType.DirectConnection)
    try:
        qtbot.waitUntil(lambda: bool(seen), timeout=WAIT_MS)
    finally:
        if session.running:
            session.shutdown(10_000)
    assert seen == [("finished", True, True)]


def test_a_finished_run_lets_go_of_its_trainer(qtbot, tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    worker = TrainingWorker(small_project(), folder)  # a run folder: its writer listens too
    worker.run()
    assert worker.end.status == "finished", worker.end.message
    trainer = weakref.ref(worker.trainer)
    enabled = gc.isenabled()
    gc.disable()  # freed by reference counting alone
    try:
        del worker
        assert trainer() is None, [type(r).__name__ for r in gc.get_referrers(trainer())]
    finally:
        if enabled:
            gc.enable()
