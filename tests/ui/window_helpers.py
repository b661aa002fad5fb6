"""Helpers for the main-window tests: isolated settings and data folders, a window on a template,
and patched dialogs (every message box goes through studio.ui.dialogs)."""
from __future__ import annotations

import shutil

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from studio.core.project import load_project
from studio.ui import dialogs
from studio.ui.document import Document
from studio.ui.main_window import MainWindow
from studio.ui.theme import apply_theme

from .canvas_helpers import double_click

TEMPLATES = Path(__file__).resolve().parents[2] / "resources" / "templates"


class DialogLog:
    """Records what the patched dialogs were asked, and answers as told."""

    def __init__(self) -> None:
        self.errors: list[tuple[str, str]] = []
        self.infos: list[tuple[str, str]] = []
        self.save_prompts: list[str] = []
        self.restore_prompts: list[str] = []
        self.save_answer = "discard"
        self.restore_answer = True
        self.save_path = ""
        self.open_path = ""
        self.template = (False, None)


@pytest.fixture
def dialog_log(monkeypatch) -> DialogLog:
    log = DialogLog()
    monkeypatch.setattr(dialogs, "show_error", lambda parent, title, msg: log.errors.append((title, msg)))
    monkeypatch.setattr(dialogs, "show_info", lambda parent, title, msg: log.infos.append((title, msg)))

    def ask_save(parent, name):
        log.save_prompts.append(name)
        return log.save_answer

    def ask_restore(parent, name, when):
        log.restore_prompts.append(name)
        return log.restore_answer

    monkeypatch.setattr(dialogs, "ask_save_changes", ask_save)
    monkeypatch.setattr(dialogs, "ask_restore_autosave", ask_restore)
    monkeypatch.setattr(dialogs, "save_file_name", lambda parent, suggested="": log.save_path)
    monkeypatch.setattr(dialogs, "open_file_name", lambda parent, folder="": log.open_path)
    monkeypatch.setattr(dialogs, "choose_template", lambda parent: log.template)
    return log


@pytest.fixture
def isolated(tmp_path, monkeypatch) -> Path:
    """Settings and autosaves in a temporary folder; the dark theme before and after."""
    monkeypatch.setenv("NETSTUDIO_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("NETSTUDIO_DATA_DIR", str(tmp_path / "data"))
    apply_theme("dark")
    yield tmp_path
    apply_theme("dark")


def open_window(qtbot, project=None, use_settings: bool = True, size=(1400, 900)) -> MainWindow:
    window = MainWindow(use_settings=use_settings)
    qtbot.addWidget(window)
    window.resize(*size)
    window.attach(Document(project) if project is not None else Document())
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()  # shortcuts go to the active window
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    return window


def copied_template(tmp_path: Path, name: str = "cnn_digits") -> Path:
    """A template copied to tmp/proj (a saved project of its own: its runs folder goes beside it)."""
    path = tmp_path / "proj" / f"{name}.json"
    path.parent.mkdir(exist_ok=True)
    shutil.copyfile(TEMPLATES / f"{name}.json", path)
    return path


def template_window(qtbot, name: str = "cnn_digits", **kw) -> MainWindow:
    return open_window(qtbot, load_project(TEMPLATES / f"{name}.json"), **kw)


@pytest.fixture
def window(qtbot, isolated, dialog_log) -> MainWindow:
    """The main window on the cnn_digits template (opened from its file)."""
    w = template_window(qtbot)
    yield w
    w.document.undo_stack.setClean()  # teardown closes the window: no prompt


def click_item(view, rect_center: QPoint, double: bool = False) -> None:
    if double:
        double_click(view.viewport(), rect_center)
    else:
        QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect_center)


def output_of(document, node_id: str) -> str:
    return str(document.analysis.nodes[node_id].output)


@pytest.fixture(autouse=True, scope="session")
def gc_on_gui_thread(qapp):
    """As the app does (studio.ui.gc_thread): a cycle holding Qt objects is never freed on a worker.
    Autouse in the Qt suites through their conftest files."""
    from studio.ui.gc_thread import collect_on_gui_thread

    collect_on_gui_thread()
