"""Soak: start and stop training 200 times in one run of the app, through the Training panel's
Train and Stop buttons and the real worker thread, on a tiny model. Memory (RSS) and the number of
OS threads stay flat; the test prints both (pytest -s shows them)."""
from __future__ import annotations

import gc
import threading

import pytest
from PySide6.QtCore import Qt

from studio.core.project import load_project
from studio.ui.training.worker import TrainingWorker

from reliability_helpers import moons_record, proc_status, write_project
from tests.ui.window_helpers import open_window

CYCLES = 200
WARM_UP = 10
RUN_TIMEOUT = 60_000
MAX_RSS_GROWTH_MB = 150


def live_workers() -> int:
    gc.collect()
    return sum(isinstance(o, TrainingWorker) for o in gc.get_objects())


@pytest.mark.slow
@pytest.mark.fault("soak", "Train then Stop clicked 200 times in one run of the app (real worker thread)",
                   "every run starts and stops; RSS grows < 150 MB after warm-up; threads and workers back to baseline")
def test_start_and_stop_200_times(qtbot, isolated, dialog_log, tmp_path, capsys, record_property):
    record = moons_record(epochs=10_000, dataset={"name": "moons", "samples": 200, "noise": 0.15})
    path = write_project(tmp_path / "proj", record)
    win = open_window(qtbot, load_project(path), size=(1600, 1000))
    ui, panel = win.training, win.training.panel
    qtbot.waitUntil(lambda: ui.preflight is not None and ui.can_train, timeout=RUN_TIMEOUT)

    def cycle() -> str:
        with qtbot.waitSignal(ui.session.ended, timeout=RUN_TIMEOUT) as ended:
            qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: ui.session.state == "running", timeout=RUN_TIMEOUT)
            qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: ui.session.state == "idle" and panel.train_button.isEnabled(), timeout=RUN_TIMEOUT)
        return ended.args[0].status

    statuses = [cycle() for _ in range(WARM_UP)]
    gc.collect()
    rss0, threads0 = proc_status()
    py_threads0 = threading.active_count()
    statuses += [cycle() for _ in range(CYCLES)]
    qtbot.waitUntil(lambda: proc_status()[1] <= threads0 and threading.active_count() <= py_threads0,
                    timeout=10_000)
    gc.collect()
    rss1, threads1 = proc_status()
    runs = sorted(ui.runs_root().iterdir())
    report = (f"soak: {CYCLES} start/stop cycles after {WARM_UP} warm-up: RSS {rss0:.0f} -> {rss1:.0f} MB "
              f"(+{rss1 - rss0:.0f}), OS threads {threads0} -> {threads1}, python threads "
              f"{py_threads0} -> {threading.active_count()}, live workers {live_workers()}")
    with capsys.disabled():  # shown in every run, not only with -s
        print(f"\n{report}")
    record_property("soak", report)
    assert statuses.count("stopped") == len(statuses), {s: statuses.count(s) for s in set(statuses)}
    assert len(runs) == WARM_UP + CYCLES
    assert rss1 - rss0 < MAX_RSS_GROWTH_MB
    assert threads1 <= threads0
    assert live_workers() <= 1  # the last one may wait for its deleteLater
    win.document.undo_stack.setClean()
