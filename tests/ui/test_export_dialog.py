"""Issue 13, the export dialog: each format suggests its own file (TorchScript and the checkpoint no
longer both default to model.pt), and an existing file is replaced only after the person answers
Yes in the question box (driven here with real clicks on the real QMessageBox)."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from studio.core.project import load_project

from .window_helpers import TEMPLATES, dialog_log, isolated, copied_template, open_window  # noqa: F401

TIMEOUT = 60_000


@pytest.fixture
def dialog(qtbot, isolated, dialog_log, tmp_path):
    win = open_window(qtbot, load_project(copied_template(tmp_path, "mlp_digits")), size=(1200, 800))
    qtbot.waitUntil(lambda: win.training.preflight is not None, timeout=TIMEOUT)
    d = win.training.open_export()
    qtbot.addWidget(d)
    yield d
    win.document.undo_stack.setClean()


def choose(dialog, fmt: str) -> Path:
    dialog.format.setCurrentIndex(dialog.format.findData(fmt))
    return Path(dialog.path.text())


def test_each_format_suggests_its_own_file(dialog):
    names = {fmt: choose(dialog, fmt).name for fmt in ("torchscript", "checkpoint", "onnx", "pt2", "state_dict", "code")}
    assert names == {"torchscript": "mlp_digits.torchscript.pt", "checkpoint": "mlp_digits.ckpt.pt",
                     "onnx": "mlp_digits.onnx", "pt2": "mlp_digits.pt2", "state_dict": "mlp_digits.state_dict.pt",
                     "code": "mlp_digits.py"}
    dialog.path.setText(str(Path(dialog.path.text()).with_name("mine.py")))
    assert choose(dialog, "torchscript").name == "mine.torchscript.pt"  # the person's name stays
    assert choose(dialog, "onnx").name == "mine.onnx"


def answer_question(qtbot, button, seen: list) -> None:
    """When the question box is up, note its text and click `button` on it (as a person would)."""
    def poll():
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            seen.append(box.text())
            qtbot.mouseClick(box.button(button), Qt.MouseButton.LeftButton)
        else:
            QTimer.singleShot(20, poll)

    QTimer.singleShot(0, poll)


@pytest.mark.fault('export', 'the export dialog is pointed at a file that exists (issue 13: replaced without asking)',
                   'a question box asks first; No keeps the file byte-identical, Yes replaces it with the export')
def test_an_existing_file_is_replaced_only_after_yes(dialog, qtbot):
    out = choose(dialog, "state_dict")
    out.write_bytes(b"the person's own file")
    seen: list[str] = []
    exported: list = []
    dialog.finished_export.connect(exported.append)

    answer_question(qtbot, QMessageBox.StandardButton.No, seen)
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "kept" in dialog.verdict.text(), timeout=TIMEOUT)
    assert seen and out.name in seen[0]
    assert out.read_bytes() == b"the person's own file" and not exported and not dialog.busy

    answer_question(qtbot, QMessageBox.StandardButton.Yes, seen)
    with qtbot.waitSignal(dialog.finished_export, timeout=TIMEOUT) as done:
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert len(seen) == 2 and done.args[0] is not None, dialog.error
    assert done.args[0].check.passed and out.read_bytes() != b"the person's own file"
    assert sorted(p.name for p in out.parent.iterdir()) == sorted(["mlp_digits.json", out.name])


def test_a_new_file_needs_no_question(dialog, qtbot):
    out = choose(dialog, "onnx").with_name("fresh.onnx")
    dialog.path.setText(str(out))
    with qtbot.waitSignal(dialog.finished_export, timeout=TIMEOUT) as done:
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert done.args[0] is not None and out.is_file(), dialog.error
