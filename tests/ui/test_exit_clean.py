"""The process exits cleanly (no crash in Qt's teardown) after the things that hand Qt objects
created in Python, such as a copy to the clipboard."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

SCRIPT = """
import sys
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv)
import studio
from studio.ui.canvas import CanvasView
from studio.ui.document import Document
view = CanvasView(Document(studio.load_project('resources/templates/cnn_digits.json')))
view.select_all()
view.copy()
assert QApplication.clipboard().text()
"""


@pytest.mark.fault("GUI", "exit after copying nodes to the clipboard",
                   "clean exit (PySide6 would double-free the clipboard's data and crash)")
def test_exit_after_copy_is_clean():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
