"""The window's runs take the same run-folder lock as `python -m studio train`: a GUI run into a
folder another run is writing to ends as failed, naming that run's pid, and writes nothing there;
a GUI run holds the lock while it trains and lets it go when its thread ends."""
from __future__ import annotations

import json
import os

import pytest

from studio.core.project import loads_project
from studio.training.runlock import LOCK_NAME, RunLock
from studio.ui.training.worker import TrainingWorker

from .window_helpers import TEMPLATES  # noqa: F401


def small_project():
    record = json.loads((TEMPLATES / "moons_mlp.json").read_text())
    record["training"].update({"dataset": {"name": "moons", "samples": 200}, "epochs": 1, "batch_size": 50,
                               "device": "cpu"})
    return loads_project(json.dumps(record))


@pytest.mark.fault('training', 'a GUI run started into a folder another run is writing to (its lock held)',
                   'the run ends as failed naming the other pid; nothing written in the folder')
def test_a_gui_run_respects_the_lock(qtbot, tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    with RunLock(folder):
        worker = TrainingWorker(small_project(), folder)
        worker.run()  # the thread's body, here: the end is what the window shows
        assert worker.end.status == "failed" and f"pid {os.getpid()}" in worker.end.message, worker.end.message
        assert sorted(p.name for p in folder.iterdir()) == [LOCK_NAME]


def test_a_gui_run_holds_then_releases_the_lock(qtbot, tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    seen = []
    worker = TrainingWorker(small_project(), folder)
    real = worker.queue.on_event

    def probe(event):  # on the training thread, after the run writer wrote the epoch
        if event.kind == "epoch":
            seen.append((folder / LOCK_NAME).exists())
        real(event)

    worker.queue.on_event = probe
    worker.run()
    assert worker.end.status == "finished", worker.end.message
    assert seen == [True] and not (folder / LOCK_NAME).exists()
    assert (folder / "checkpoint.pt").is_file()
