"""The pre-flight check runs on a helper thread; a window closed and deleted before the check ends
must not make the thread fail (PySide: 'Signal source has been deleted') or call into deleted widgets."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

SCRIPT = """
import threading, sys
from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv)
import studio
from studio.ui.document import Document
from studio.ui.main_window import MainWindow
from studio.ui.training import preflight

entered, release = threading.Event(), threading.Event()
real_check = preflight.check
def slow_check(*args):  # the dataset check still running when the window goes
    entered.set()
    release.wait(60)
    return real_check(*args)
preflight.check = slow_check

window = MainWindow(use_settings=False)
window.attach(Document(studio.load_project('resources/templates/moons_mlp.json')))
window.show()
while not entered.is_set():
    app.processEvents()
worker = next(t for t in threading.enumerate() if t.name == 'netstudio-preflight')
window.document.undo_stack.setClean()
window.close()
window.deleteLater()
QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
del window
release.set()
worker.join(60)
assert not worker.is_alive()
for other in threading.enumerate():  # the app's other helper threads (size statistics) end too
    while other is not threading.main_thread() and other.is_alive():
        app.processEvents()
        other.join(0.05)
for _ in range(20):
    app.processEvents()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
print('done')
"""


@pytest.mark.fault("training UI", "the window is closed and deleted while the pre-flight dataset check still runs",
                   "the check's thread ends quietly: no 'Signal source has been deleted', no call into deleted widgets")
def test_preflight_result_after_the_window_is_gone(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", NETSTUDIO_CONFIG_DIR=str(tmp_path / "config"),
               NETSTUDIO_DATA_DIR=str(tmp_path / "data"))
    proc = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip().endswith("done"), proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr and "deleted" not in proc.stderr, proc.stderr[-3000:]
