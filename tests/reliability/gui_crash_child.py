"""The child of test_crash_recovery: starts the app as `python -m studio [FILE]` does (offscreen,
settings and data folders from NETSTUDIO_CONFIG_DIR / NETSTUDIO_DATA_DIR), makes one edit, lets the
autosave timer write the side file, prints 'autosaved PATH' and keeps running until it is killed.

    python gui_crash_child.py [FILE]"""
from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from PySide6.QtCore import QTimer  # noqa: E402

from studio.ui.app import _application, _finish_startup  # noqa: E402
from studio.ui.commands import SetParam  # noqa: E402
from studio.ui.files import autosave_path  # noqa: E402
from studio.ui.main_window import MainWindow  # noqa: E402

app = _application()
window = MainWindow()
window.show()
file = sys.argv[1] if len(sys.argv) > 1 else None
_finish_startup(window, file)
doc = window.document
doc.push(SetParam(doc.graph, "conv1", "out_channels", 24))
side = autosave_path(doc.path)
window.files.timer.setInterval(50)  # the real autosave timer, just sooner
window.files.timer.start()


def poll():
    if side.exists():
        print(f"autosaved {side}", flush=True)
        poller.stop()


poller = QTimer()
poller.timeout.connect(poll)
poller.start(10)
app.exec()
