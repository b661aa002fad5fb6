"""Crash recovery: the app, in a child process, edits a project, autosaves and is killed (SIGKILL:
no closeEvent, no cleanup). The next start offers the unsaved work (the patched dialog is asked) and
restores it, for a saved project and for an untitled one. A side file that cannot be read is shown
as an error once, kept aside, and the project opens as saved."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from studio.ui.app import _finish_startup
from studio.ui.files import autosave_path
from studio.ui.main_window import MainWindow

from reliability_helpers import TEMPLATES

HERE = Path(__file__).resolve().parent


def crash_after_autosave(file: Path | None) -> Path:
    """Run the app in a child, wait for its autosave, kill it. Returns the side file."""
    args = [sys.executable, str(HERE / "gui_crash_child.py")] + ([str(file)] if file else [])
    child = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline().strip()
        assert line.startswith("autosaved "), line
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(30)
    return Path(line.split(" ", 1)[1])


def start_app(qtbot, file: Path | None) -> MainWindow:
    """What `python -m studio [FILE]` does after the window appears."""
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    _finish_startup(window, str(file) if file else None)
    return window


@pytest.mark.fault("crash", "the app is killed (SIGKILL) with unsaved edits to a saved project, after an autosave",
                   "the next start offers the unsaved work and restores it (marked unsaved); the file is unchanged")
def test_killed_app_offers_its_unsaved_work(qtbot, isolated, dialog_log):
    project = isolated / "work" / "digits.json"
    project.parent.mkdir()
    shutil.copyfile(TEMPLATES / "cnn_digits.json", project)
    old = time.time() - 60
    os.utime(project, (old, old))
    saved = project.read_bytes()
    side = crash_after_autosave(project)
    assert side == autosave_path(project) and side.exists()
    assert project.read_bytes() == saved
    w = start_app(qtbot, project)
    assert dialog_log.restore_prompts == ["CNN on digits"]
    doc = w.document
    assert doc.path == project and doc.graph.node("conv1").params["out_channels"] == 24
    assert doc.modified and w.isWindowModified()
    assert not side.exists() and project.read_bytes() == saved
    assert w.files.save() and json.loads(project.read_text())["nodes"][1]["params"]["out_channels"] == 24
    assert not dialog_log.errors


@pytest.mark.fault("crash", "the app is killed (SIGKILL) with unsaved edits to an untitled project",
                   "the next start (no file given) offers the work and restores it as untitled")
def test_killed_app_offers_its_untitled_work(qtbot, isolated, dialog_log):
    side = crash_after_autosave(None)
    assert side == autosave_path(None) and side.exists()
    w = start_app(qtbot, None)
    assert dialog_log.restore_prompts == ["Untitled"]
    doc = w.document
    assert doc.path is None and doc.graph.node("conv1").params["out_channels"] == 24 and doc.modified
    assert not side.exists()
    doc.undo_stack.setClean()


@pytest.mark.fault("crash", "an autosave side file that cannot be read (garbled after a crash or by hand)",
                   "one error naming the file; it is kept aside as .unreadable, not offered again; the project opens")
def test_unreadable_side_file_is_kept_aside_once(qtbot, isolated, dialog_log):
    project = isolated / "digits.json"
    shutil.copyfile(TEMPLATES / "cnn_digits.json", project)
    old = time.time() - 60
    os.utime(project, (old, old))
    side = autosave_path(project)
    side.write_text('{"format": "netstudio", "version": 1, "nodes": [')
    w = start_app(qtbot, project)
    assert dialog_log.restore_prompts == ["CNN on digits"]
    assert len(dialog_log.errors) == 1 and dialog_log.errors[0][0] == "Cannot restore unsaved work"
    assert str(side) in dialog_log.errors[0][1] or side.name in dialog_log.errors[0][1]
    assert w.document.path == project and not w.document.modified
    kept = side.with_name(side.name + ".unreadable")
    assert not side.exists() and kept.exists()
    assert kept.name in dialog_log.errors[0][1]
    again = start_app(qtbot, project)  # not offered a second time
    assert dialog_log.restore_prompts == ["CNN on digits"] and len(dialog_log.errors) == 1
    again.document.undo_stack.setClean()
