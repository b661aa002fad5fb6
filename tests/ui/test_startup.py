"""Start-up (issue 13): the window paints the graph before the costly work (torch, the training UI's
plots), and the app reports that moment to `bench startup`."""
from __future__ import annotations

import os
import subprocess
import sys

from PySide6.QtWidgets import QApplication

from studio.core.project import Project, load_project
from studio.ui.canvas_host import when_nodes_painted
from studio.ui.document import Document
from studio.ui.main_window import MainWindow
from studio.ui.training.docks import LOADING, TRAINING_DOCKS

from .window_helpers import TEMPLATES, dialog_log, isolated  # noqa: F401


def test_the_app_paints_the_graph_before_it_imports_torch(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", NETSTUDIO_STARTUP_PROBE="1",
               NETSTUDIO_CONFIG_DIR=str(tmp_path), NETSTUDIO_DATA_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-m", "studio"], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    marks = {line.split()[0]: line.split()[1:] for line in out.stdout.splitlines() if line.strip()}
    assert list(marks) == ["shown", "painted", "ready", "counted"], out.stdout
    assert marks["painted"][1] == "torch=no"  # the layer specs, the canvas and the analysis need no torch
    times = [float(marks[m][0]) for m in marks]
    assert times == sorted(times)
    notes = dict(note.split("=") for note in marks["ready"][1:])
    # torch loads on a helper thread: while it does, the window is never frozen for as long as it
    # takes (on the GUI thread it was: about 3 s with the graph on screen, clicks unanswered)
    assert float(notes["stall_importing"]) < float(notes["imports"]), notes


def _window(qtbot, document) -> MainWindow:
    window = MainWindow(use_settings=False)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.attach(document, later=True)
    return window


def _loading(window) -> set[str]:
    """The docks that still show the loading placeholder."""
    from PySide6.QtWidgets import QLabel

    return {name for name, dock in window.docks.items()
            if any(label.text() == LOADING for label in dock.findChildren(QLabel))}


def test_the_training_ui_comes_after_the_canvas_painted_its_nodes(qtbot, isolated, dialog_log):
    window = _window(qtbot, Document(load_project(TEMPLATES / "cnn_digits.json")))
    painted = []

    def first_frame():
        painted.append(window.canvas.viewport().isVisible())
        window.attach_rest()

    when_nodes_painted(window.canvas, first_frame, fallback_ms=60_000)
    assert window.training is None and window.docks["curves"].isVisibleTo(window)  # laid out, not filled yet
    assert _loading(window) == {name for name, _title, _place in TRAINING_DOCKS}  # each says it is loading
    window.fit_to_graph()
    window.show()
    qtbot.waitUntil(lambda: window.training is not None, timeout=30_000)
    assert painted == [True]
    assert window.training.panel.isVisibleTo(window)
    qtbot.waitUntil(lambda: _loading(window) == set(), timeout=5000)  # every one filled (the labels deleted later)
    window.attach_rest()  # once only
    assert len(window.findChildren(type(window.training))) == 1
    window.close()


def test_an_empty_graph_does_not_hold_up_the_rest(qtbot, isolated, dialog_log):
    window = _window(qtbot, Document(Project()))
    when_nodes_painted(window.canvas, window.attach_rest, fallback_ms=60_000)
    window.show()
    qtbot.waitUntil(lambda: window.training is not None, timeout=30_000)
    QApplication.processEvents()
    window.close()


def test_training_tools_that_cannot_load_say_so_instead_of_loading_forever(qtbot, isolated, dialog_log, monkeypatch):
    from PySide6.QtWidgets import QLabel

    from studio.ui import app

    def broken_install():
        raise ImportError("no module named torch")

    window = _window(qtbot, Document(load_project(TEMPLATES / "cnn_digits.json")))
    monkeypatch.setattr(window, "attach_rest", broken_install)
    monkeypatch.setattr("studio.ui.startup_imports.import_then", lambda w, callback: callback(0.0))
    try:
        app._after_first_frame(window, probe=False)
    except ImportError:
        pass
    assert _loading(window) == set()
    texts = {label.text() for dock in window.docks.values() for label in dock.findChildren(QLabel)}
    assert "The training tools could not be loaded: ImportError: no module named torch" in texts
    window.close()


def test_an_error_shown_in_the_training_docks_is_plain_text(qtbot, isolated, dialog_log):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QLabel

    from studio.ui.training.docks import say_not_loaded

    window = _window(qtbot, Document(Project()))
    say_not_loaded(window, ImportError("<img src='x' onerror=alert(1)> \\\\share\\\"torch\""))
    shown = [label for dock in window.docks.values() for label in dock.findChildren(QLabel)
             if label.text().startswith("The training tools could not be loaded")]
    assert len(shown) == len(TRAINING_DOCKS)
    assert all(label.textFormat() == Qt.TextFormat.PlainText for label in shown)
    assert "<img src='x'" in shown[0].text()  # shown as written, not rendered
    window.close()
